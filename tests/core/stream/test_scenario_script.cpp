// Scenario scripts: parsing, the PROTOCOL.md frame rounding of event times, merging, and
// the deterministic gesture generator.
#include "stream/ScenarioScript.h"

#include <QSet>

#include <gtest/gtest.h>

using namespace tinyml;
using namespace tinyml::stream;

namespace {

const QStringList kScenarios = {QStringLiteral("idle"), QStringLiteral("shake"), QStringLiteral("circle"),
                                QStringLiteral("updown"), QStringLiteral("walk")};

io::ImportError refuse(const QByteArray &text)
{
    io::ImportError e;
    EXPECT_FALSE(ScenarioScript::parse(text, QStringLiteral("motion.script"), kScenarios, &e)) << text.toStdString();
    EXPECT_EQ(e.file, QStringLiteral("motion.script"));
    return e;
}

} // namespace

TEST(ScenarioScript, ParsesStepsCommentsAndBlankLines)
{
    const QByteArray text = "# a test\r\n"
                            "idle 5\r\n"
                            "\r\n"
                            "shake\t2   # trailing comment\n"
                            "  circle 0.0015\n"
                            "idle 3.25";
    io::ImportError e;
    auto s = ScenarioScript::parse(text, QStringLiteral("m"), kScenarios, &e);
    ASSERT_TRUE(s) << e.toString().toStdString();
    ASSERT_EQ(s->steps().size(), 4);
    EXPECT_EQ(s->steps()[0].scenario, 0);
    EXPECT_EQ(s->steps()[0].durationMs, 5000u);
    EXPECT_EQ(s->steps()[1].scenario, 1);
    EXPECT_EQ(s->steps()[1].line, 4);
    EXPECT_EQ(s->steps()[2].durationMs, 2u); // 1.5 ms rounds to 2 ms
    EXPECT_EQ(s->steps()[3].durationMs, 3250u);
    EXPECT_EQ(s->totalMs(), 10252);
    const auto wire = s->wireSteps();
    ASSERT_EQ(wire.size(), 4);
    EXPECT_EQ(wire[2].scenario, 2);
    EXPECT_EQ(wire[2].durationMs, 2u);
    // The text form reads back to the same steps.
    auto back = ScenarioScript::parse(s->toText(), QStringLiteral("m"), kScenarios, &e);
    ASSERT_TRUE(back);
    for (int i = 0; i < 4; ++i) {
        EXPECT_EQ(back->steps()[i].scenario, s->steps()[i].scenario);
        EXPECT_EQ(back->steps()[i].durationMs, s->steps()[i].durationMs);
    }
}

TEST(ScenarioScript, ErrorsNameLineAndField)
{
    auto e = refuse("idle 5\nwave 2\n");
    EXPECT_EQ(e.line, 2);
    EXPECT_EQ(e.field, QStringLiteral("scenario"));
    EXPECT_TRUE(e.message.contains(QStringLiteral("wave")));
    EXPECT_TRUE(e.message.contains(QStringLiteral("circle")));
    e = refuse("idle five\n");
    EXPECT_EQ(e.field, QStringLiteral("seconds"));
    EXPECT_EQ(e.line, 1);
    EXPECT_EQ(refuse("idle 0\n").field, QStringLiteral("seconds"));
    EXPECT_EQ(refuse("idle -1\n").field, QStringLiteral("seconds"));
    EXPECT_EQ(refuse("idle inf\n").field, QStringLiteral("seconds"));
    EXPECT_EQ(refuse("idle 0.0004\n").field, QStringLiteral("seconds")); // rounds to 0 ms
    EXPECT_EQ(refuse("idle 5000000\n").field, QStringLiteral("seconds")); // past u32 ms
    EXPECT_EQ(refuse("idle 5 6\n").line, 1);
    EXPECT_EQ(refuse("\n\nidle\n").line, 3);
    EXPECT_TRUE(refuse("# nothing\n\n").message.contains(QStringLiteral("no steps")));
    EXPECT_EQ(refuse("IDLE 1\n").field, QStringLiteral("scenario")); // names are exact
    QByteArray many;
    for (int i = 0; i < 257; ++i)
        many += "idle 1\n";
    EXPECT_EQ(refuse(many).line, 257);
}

TEST(ScenarioScript, EventTimesFollowTheFrameRounding)
{
    // At 30 Hz: idle 1.01 s -> floor(1010*30/1000) = 30 frames; shake 0.55 s -> 16 frames
    // (16.5 floored); shake 0.5 -> 15 (merged with the previous shake); idle 1 -> 30;
    // circle 0.999 -> 29 (29.97 floored).
    io::ImportError e;
    auto s = ScenarioScript::parse("idle 1.01\nshake 0.55\nshake 0.5\nidle 1\ncircle 0.999\n",
                                   QStringLiteral("m"), kScenarios, &e);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->totalFrames(30), 30 + 16 + 15 + 30 + 29);
    EXPECT_DOUBLE_EQ(s->totalSeconds(30), 120.0 / 30.0);
    const GroundTruth t = s->groundTruth(30);
    ASSERT_EQ(t.events().size(), 2);
    EXPECT_EQ(t.events()[0].label, QStringLiteral("shake"));
    EXPECT_DOUBLE_EQ(t.events()[0].startS, 30.0 / 30.0);
    EXPECT_DOUBLE_EQ(t.events()[0].endS, 61.0 / 30.0);
    EXPECT_EQ(t.events()[0].line, 2);
    EXPECT_EQ(t.events()[1].label, QStringLiteral("circle"));
    EXPECT_DOUBLE_EQ(t.events()[1].startS, 91.0 / 30.0);
    EXPECT_DOUBLE_EQ(t.events()[1].endS, 120.0 / 30.0);

    // Another background set: idle counts as an event, shake does not.
    const GroundTruth u = s->groundTruth(30, {QStringLiteral("shake")});
    ASSERT_EQ(u.events().size(), 3);
    EXPECT_EQ(u.events()[0].label, QStringLiteral("idle"));
    EXPECT_DOUBLE_EQ(u.events()[0].endS, 1.0);

    // A step shorter than one frame plays nothing: no event.
    auto tiny = ScenarioScript::parse("idle 1\nshake 0.005\nidle 1\n", QStringLiteral("m"), kScenarios, &e);
    ASSERT_TRUE(tiny);
    EXPECT_TRUE(tiny->groundTruth(100).isEmpty());
    EXPECT_EQ(tiny->groundTruth(1000).events().size(), 1);
}

TEST(ScenarioScript, RandomGesturesIsDeterministicAndExact)
{
    const QStringList gestures = {QStringLiteral("shake"), QStringLiteral("circle"), QStringLiteral("updown")};
    QString error;
    auto a = ScenarioScript::randomGestures(7, 300, 40, gestures, kScenarios, QStringLiteral("idle"), &error);
    ASSERT_TRUE(a) << error.toStdString();
    auto b = ScenarioScript::randomGestures(7, 300, 40, gestures, kScenarios, QStringLiteral("idle"), &error);
    auto c = ScenarioScript::randomGestures(8, 300, 40, gestures, kScenarios, QStringLiteral("idle"), &error);
    ASSERT_TRUE(b && c);
    EXPECT_EQ(a->toText(), b->toText());
    EXPECT_NE(a->toText(), c->toText());
    EXPECT_EQ(a->steps().size(), 81);
    EXPECT_EQ(a->totalMs(), 300000);
    int idleMin = 1 << 30, idleMax = 0;
    QSet<QString> seen;
    for (int i = 0; i < a->steps().size(); ++i) {
        const ScriptStep &s = a->steps()[i];
        if (i % 2 == 0) {
            EXPECT_EQ(s.name, QStringLiteral("idle"));
            idleMin = qMin(idleMin, int(s.durationMs));
            idleMax = qMax(idleMax, int(s.durationMs));
        } else {
            EXPECT_EQ(s.durationMs, 2000u);
            EXPECT_TRUE(gestures.contains(s.name));
            EXPECT_EQ(s.scenario, kScenarios.indexOf(s.name));
            seen.insert(s.name);
        }
    }
    // 220 s of idle over 41 gaps: 5.37 s mean, drawn 0.75..1.25 x.
    EXPECT_GE(idleMin, 3700);
    EXPECT_LE(idleMax, 7100);
    EXPECT_EQ(seen.size(), 3);
    const GroundTruth t = a->groundTruth(100);
    EXPECT_EQ(t.events().size(), 40);
    EXPECT_DOUBLE_EQ(t.eventSeconds(), 80.0);
    // Pinned: the generator must not change under anyone's feet (benchmarks compare runs).
    EXPECT_EQ(a->steps()[0].durationMs, ScenarioScript::randomGestures(7, 300, 40, gestures, kScenarios)->steps()[0].durationMs);
}

TEST(ScenarioScript, RandomGesturesRefusesImpossibleRequests)
{
    QString error;
    EXPECT_FALSE(ScenarioScript::randomGestures(1, 60, 40, {QStringLiteral("shake")}, kScenarios, QStringLiteral("idle"), &error));
    EXPECT_TRUE(error.contains(QStringLiteral("per gap")));
    EXPECT_FALSE(ScenarioScript::randomGestures(1, 60, 2, {QStringLiteral("wave")}, kScenarios, QStringLiteral("idle"), &error));
    EXPECT_TRUE(error.contains(QStringLiteral("wave")));
    EXPECT_FALSE(ScenarioScript::randomGestures(1, 60, 2, {QStringLiteral("shake")}, kScenarios, QStringLiteral("rest"), &error));
    EXPECT_FALSE(ScenarioScript::randomGestures(1, 100000, 200, {QStringLiteral("shake")}, kScenarios, QStringLiteral("idle"), &error));
    EXPECT_TRUE(error.contains(QStringLiteral("256")));
    auto none = ScenarioScript::randomGestures(1, 10, 0, {}, kScenarios, QStringLiteral("idle"), &error);
    ASSERT_TRUE(none);
    EXPECT_EQ(none->steps().size(), 1);
    EXPECT_TRUE(none->groundTruth(100).isEmpty());
}
