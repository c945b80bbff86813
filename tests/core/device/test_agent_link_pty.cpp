// AgentLink over a real pty against a scripted device that speaks the protocol with the
// same tm_frame codec: request/reply, timeouts, streaming with loss, error reporting.

#include "DeviceTestSupport.h"

#include "device/AgentLink.h"

#include "tm_frame.h"
#include "tm_protocol.h"

using namespace tinyml;
using namespace tinyml::test;

namespace {

DeviceInfo scriptedInfo()
{
    DeviceInfo info;
    info.protocolVersion = 1;
    info.boardId = QStringLiteral("scripted");
    info.counterKind = TM_COUNTER_MICROSECONDS;
    info.counterResolution = 1;
    DeviceSensorInfo accel;
    accel.id = 0;
    accel.dtype = TM_DTYPE_INT16;
    accel.channelCount = 3;
    accel.scale = 0.5f;
    accel.minRateHz = 1;
    accel.maxRateHz = 1000;
    accel.defaultRateHz = 100;
    accel.name = QStringLiteral("accel");
    accel.channels = QStringList{QStringLiteral("x"), QStringLiteral("y"), QStringLiteral("z")};
    accel.units = QStringList{QStringLiteral("g"), QStringLiteral("g"), QStringLiteral("g")};
    info.sensors = {accel};
    return info;
}

/// A device brain on the master end of the pty.
class ScriptedAgent
{
public:
    explicit ScriptedAgent(PtyDevice &pty) : m_pty(pty)
    {
        m_parser.setFrameHandler([this](const AgentFrame &f) { handle(f); });
        pty.onReceived = [this](const QByteArray &b) { m_parser.feed(b); };
    }
    bool answerHello = true;
    int helloIgnored = 0;        ///< HELLOs to ignore first (a booting guest)
    QVector<quint32> skipBlocks; ///< first indices of blocks not to send (simulated loss)
    int received = 0;

private:
    void reply(quint8 seq, quint8 op, const QByteArray &payload)
    {
        m_pty.write(encodeAgentFrame(seq, op | TM_OP_REPLY, payload));
    }
    void handle(const AgentFrame &f)
    {
        ++received;
        switch (f.op) {
        case TM_OP_HELLO:
            if (helloIgnored > 0) {
                --helloIgnored;
                return;
            }
            if (answerHello)
                reply(f.seq, f.op, encodeDeviceInfo(scriptedInfo()));
            return;
        case TM_OP_PING:
            reply(f.seq, f.op, f.payload);
            return;
        case TM_OP_SET_SCENARIO: {
            QByteArray e(3, 0);
            e[0] = char(f.op);
            tm_put_u16(reinterpret_cast<uint8_t *>(e.data()) + 1, TM_ERR_NO_SCENARIO);
            m_pty.write(encodeAgentFrame(f.seq, TM_OP_ERROR, e + QByteArrayLiteral("no such scenario")));
            return;
        }
        case TM_OP_STREAM_START: {
            const auto *p = reinterpret_cast<const uint8_t *>(f.payload.constData());
            const quint32 n = tm_get_u32(p + 5);
            QByteArray r(7, 0);
            r[0] = 0;
            tm_put_u32(reinterpret_cast<uint8_t *>(r.data()) + 1, tm_get_u32(p + 1));
            tm_put_u16(reinterpret_cast<uint8_t *>(r.data()) + 5, 10);
            reply(f.seq, f.op, r);
            for (quint32 first = 0; first < n; first += 10) {
                const int frames = int(qMin<quint32>(10, n - first));
                if (skipBlocks.contains(first))
                    continue;
                QByteArray d(7, 0);
                auto *b = reinterpret_cast<uint8_t *>(d.data());
                tm_put_u32(b + 1, first);
                tm_put_u16(b + 5, uint16_t(frames));
                for (int i = 0; i < frames * 3; ++i) {
                    uint8_t t[2];
                    tm_put_u16(t, uint16_t(qint16((first * 3 + i) % 1000)));
                    d.append(reinterpret_cast<char *>(t), 2);
                }
                m_pty.write(encodeAgentFrame(quint8(first), TM_OP_STREAM_DATA, d));
            }
            QByteArray end(6, 0);
            tm_put_u32(reinterpret_cast<uint8_t *>(end.data()) + 1, n);
            end[5] = TM_STREAM_END_COMPLETE;
            m_pty.write(encodeAgentFrame(0, TM_OP_STREAM_END, end));
            return;
        }
        case TM_OP_LINK_TEST: {
            m_pty.write(QByteArray(f.payload.isEmpty() ? 0 : int(quint8(f.payload.at(0))), '\x55'));
            QByteArray bad = encodeAgentFrame(0, TM_OP_LOG, QByteArrayLiteral("bad"));
            bad[4] = char(bad[4] ^ 0x20);
            m_pty.write(bad);
            reply(f.seq, f.op, {});
            return;
        }
        default:
            return;
        }
    }
    PtyDevice &m_pty;
    AgentStreamParser m_parser;
};

} // namespace

TEST(AgentLinkPty, HandshakeRetriesWhileTheDeviceBoots)
{
    PtyDevice pty;
    ASSERT_TRUE(pty.isValid());
    ScriptedAgent agent(pty);
    agent.helloIgnored = 2;
    AgentLink link;
    link.setPortName(pty.slavePath());
    QString error;
    ASSERT_TRUE(link.open(&error)) << error.toStdString();
    ASSERT_TRUE(link.handshake(5, 100, &error)) << error.toStdString();
    EXPECT_EQ(link.info().boardId, QStringLiteral("scripted"));
    EXPECT_EQ(link.deviceId(), QStringLiteral("scripted"));
    EXPECT_GE(link.statistics().timeouts, 2);
    EXPECT_TRUE(link.ping(QByteArrayLiteral("hello pty"), &error)) << error.toStdString();
}

TEST(AgentLinkPty, SilentDeviceTimesOutWithClearError)
{
    PtyDevice pty;
    ScriptedAgent agent(pty);
    agent.answerHello = false;
    AgentLink link;
    link.setPortName(pty.slavePath());
    QString error;
    ASSERT_TRUE(link.open(&error));
    EXPECT_FALSE(link.handshake(2, 50, &error));
    EXPECT_TRUE(error.contains(QStringLiteral("no agent answered HELLO"))) << error.toStdString();
    EXPECT_TRUE(error.contains(QStringLiteral("timed out"))) << error.toStdString();
}

TEST(AgentLinkPty, ErrorReplyCarriesCodeAndMessage)
{
    PtyDevice pty;
    ScriptedAgent agent(pty);
    AgentLink link;
    link.setPortName(pty.slavePath());
    QString error;
    ASSERT_TRUE(link.open(&error) && link.handshake(3, 200, &error)) << error.toStdString();
    EXPECT_FALSE(link.setScenario(QStringLiteral("accel"), QStringLiteral("dance"), &error));
    EXPECT_TRUE(error.contains(QStringLiteral("NO_SCENARIO"))) << error.toStdString();
    ASSERT_TRUE(link.lastAgentError());
    EXPECT_EQ(link.lastAgentError()->code, int(TM_ERR_NO_SCENARIO));
}

TEST(AgentLinkPty, StreamChunksAreScaledAndLossIsCounted)
{
    PtyDevice pty;
    ScriptedAgent agent(pty);
    agent.skipBlocks = {20, 50};
    AgentLink link;
    link.setPortName(pty.slavePath());
    QString error;
    ASSERT_TRUE(link.open(&error) && link.handshake(3, 200, &error)) << error.toStdString();
    QVector<StreamChunk> chunks;
    bool ended = false;
    qint64 sent = 0;
    QObject::connect(&link, &DeviceLink::streamChunk, [&](const StreamChunk &c) { chunks << c; });
    QObject::connect(&link, &DeviceLink::streamEnded, [&](StreamEndReason r, qint64 n) {
        ended = r == StreamEndReason::Complete;
        sent = n;
    });
    ASSERT_TRUE(link.startStream({QStringLiteral("accel"), 100, 100}, &error)) << error.toStdString();
    ASSERT_TRUE(waitUntil([&] { return ended; }, 5000));
    EXPECT_EQ(sent, 100);
    EXPECT_EQ(chunks.size(), 8);
    EXPECT_EQ(link.statistics().samplesReceived, 80);
    EXPECT_EQ(link.statistics().samplesLost, 20);
    qint64 lost = 0;
    for (const StreamChunk &c : chunks)
        lost += c.lostBefore;
    EXPECT_EQ(lost, 20);
    ASSERT_EQ(chunks[0].data.shape, (QVector<qint64>{10, 3}));
    EXPECT_FLOAT_EQ(chunks[0].data.floatData()[3], 1.5f); // raw 3 x scale 0.5
    EXPECT_EQ(chunks[2].firstIndex, 30);
    EXPECT_EQ(chunks[2].lostBefore, 10);
    EXPECT_EQ(link.streamFormat().channels.join(','), QStringLiteral("x,y,z"));
}

TEST(AgentLinkPty, LinkTestGarbageIsCountedAndTheLinkResynchronises)
{
    PtyDevice pty;
    ScriptedAgent agent(pty);
    AgentLink link;
    link.setPortName(pty.slavePath());
    QString error;
    ASSERT_TRUE(link.open(&error) && link.handshake(3, 200, &error)) << error.toStdString();
    int linkErrors = 0;
    QObject::connect(&link, &DeviceLink::linkError, [&](const QString &) { ++linkErrors; });
    ASSERT_TRUE(link.linkTest(40, &error)) << error.toStdString();
    EXPECT_GE(link.statistics().decoderErrors(), 1);
    EXPECT_GE(linkErrors, 1);
    EXPECT_TRUE(link.ping(QByteArrayLiteral("after"), &error)) << error.toStdString();
}

TEST(AgentLinkPty, UnpluggedDeviceReportsConnectionLostAndFailsPendingRequest)
{
    auto pty = std::make_unique<PtyDevice>();
    ScriptedAgent agent(*pty);
    AgentLink link;
    link.setPortName(pty->slavePath());
    QString error;
    ASSERT_TRUE(link.open(&error) && link.handshake(3, 200, &error)) << error.toStdString();
    QString lost;
    QObject::connect(&link, &DeviceLink::connectionLost, [&](const QString &m) { lost = m; });
    pty->closeMaster();
    ASSERT_TRUE(waitUntil([&] { return !lost.isEmpty(); }, 3000));
    EXPECT_TRUE(lost.contains(QStringLiteral("lost"))) << lost.toStdString();
    EXPECT_EQ(link.state(), DeviceLink::State::Failed);
    EXPECT_FALSE(link.ping("x", &error));
}
