// MlperfLink against a tiny scripted EEMBC DUT on a real pty.

#include "DeviceTestSupport.h"

#include "device/MlperfLink.h"

using namespace tinyml;
using namespace tinyml::test;

namespace {

/// Answers the EEMBC DUT text commands the way a DUT firmware does.
class ScriptedDut
{
public:
    explicit ScriptedDut(PtyDevice &pty) : m_pty(pty)
    {
        pty.onReceived = [this](const QByteArray &b) { feed(b); };
    }
    QByteArray loaded;
    int expected = 0;

private:
    void say(const QByteArray &line) { m_pty.write(line + "\r\n"); }
    void feed(const QByteArray &bytes)
    {
        for (char c : bytes) {
            if (c == '\0') {
                m_cmd.clear();
            } else if (c == '%') {
                handle(m_cmd);
                m_cmd.clear();
            } else {
                m_cmd += c;
            }
        }
    }
    void handle(const QByteArray &cmd)
    {
        if (cmd == "name") {
            say("m-name-dut-[scripted-dut]");
        } else if (cmd == "profile") {
            say("m-profile-[tinyml-agent-0.1.0]");
            say("m-model-[kws]");
        } else if (cmd.startsWith("db load ")) {
            expected = cmd.mid(8).toInt();
            loaded.clear();
            say("m-load-done");
        } else if (cmd.startsWith("db ")) {
            loaded += QByteArray::fromHex(cmd.mid(3));
            if (loaded.size() >= expected)
                say("m-load-done");
        } else if (cmd.startsWith("infer ")) {
            const QList<QByteArray> parts = cmd.split(' ');
            for (int i = 0; i < parts.value(1).toInt(); ++i)
                say("m-lap-us-" + QByteArray::number(1000 + i));
            say("m-infer-done");
        } else if (cmd == "results") {
            say("m-results-[0.125,0.875]");
        } else {
            say("e-[unknown command " + cmd + "]");
        }
        say("m-ready");
    }
    PtyDevice &m_pty;
    QByteArray m_cmd;
};

} // namespace

TEST(MlperfLinkParsers, ParseReplyLines)
{
    EXPECT_EQ(MlperfLink::bracketValue(QStringLiteral("m-name-dut-[x y]"), QStringLiteral("m-name-dut")), QStringLiteral("x y"));
    EXPECT_FALSE(MlperfLink::bracketValue(QStringLiteral("m-name-dut-[x"), QStringLiteral("m-name-dut")));
    EXPECT_EQ(MlperfLink::lapMicroseconds(QStringLiteral("m-lap-us-123456")), 123456);
    EXPECT_FALSE(MlperfLink::lapMicroseconds(QStringLiteral("m-lap-us-12a")));
    auto r = MlperfLink::parseResults(QStringLiteral("m-results-[0.5, -1,2e-3]"));
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, (QVector<float>{0.5f, -1.0f, 0.002f}));
    EXPECT_FALSE(MlperfLink::parseResults(QStringLiteral("m-results-[0.5,x]")));
}

TEST(MlperfLinkPty, DrivesAScriptedDut)
{
    PtyDevice pty;
    ASSERT_TRUE(pty.isValid());
    ScriptedDut dut(pty);
    MlperfLink link;
    link.setPortName(pty.slavePath());
    QString error;
    ASSERT_TRUE(link.open(&error)) << error.toStdString();

    auto name = link.name(&error);
    ASSERT_TRUE(name) << error.toStdString();
    EXPECT_EQ(*name, QStringLiteral("scripted-dut"));

    auto profile = link.profile(&error);
    ASSERT_TRUE(profile) << error.toStdString();
    EXPECT_TRUE(profile->contains(QStringLiteral("model=kws")));

    QByteArray input(200, 0);
    for (int i = 0; i < input.size(); ++i)
        input[i] = char(i);
    ASSERT_TRUE(link.loadInput(input, &error)) << error.toStdString();
    EXPECT_EQ(dut.loaded, input);

    auto inference = link.infer(3, 1, 2000, &error);
    ASSERT_TRUE(inference) << error.toStdString();
    EXPECT_EQ(inference->lapsUs, (QVector<qint64>{1000, 1001, 1002}));

    auto results = link.results(&error);
    ASSERT_TRUE(results) << error.toStdString();
    EXPECT_EQ(*results, (QVector<float>{0.125f, 0.875f}));

    EXPECT_FALSE(link.command(QStringLiteral("dance"), 2000, &error));
    EXPECT_TRUE(error.contains(QStringLiteral("unknown command dance"))) << error.toStdString();
}

TEST(MlperfLinkPty, SilentDutTimesOut)
{
    PtyDevice pty;
    MlperfLink link;
    link.setPortName(pty.slavePath());
    QString error;
    ASSERT_TRUE(link.open(&error));
    EXPECT_FALSE(link.name(&error));
    EXPECT_TRUE(error.contains(QStringLiteral("no m-ready"))) << error.toStdString();
}
