// Stream metrics against hand-computed values: matching interval edges, duplicates, false
// activations per non-event hour, nearest-rank delays, the confusion table, and absent
// values staying absent.
#include "stream/StreamMetrics.h"

#include <QJsonArray>

#include <gtest/gtest.h>

using namespace tinyml::stream;

namespace {

TruthEvent ev(double s, double e, const char *label) { return TruthEvent{s, e, QString::fromLatin1(label), 0}; }
Detection det(double t, const char *label) { return Detection{t, QString::fromLatin1(label)}; }

} // namespace

TEST(StreamMetrics, HandComputedScenario)
{
    const QVector<TruthEvent> events = {ev(10, 12, "shake"), ev(20, 22, "circle"), ev(30, 32, "shake")};
    const QVector<Detection> dets = {
        det(25, "walk"),     // no walk event: false (input order does not matter)
        det(10.0, "shake"),  // t == start: holds none of the event -> false
        det(10.5, "shake"),  // detects event 1, delay 500 ms
        det(11.0, "shake"),  // duplicate of event 1
        det(12.5, "circle"), // no circle event around: false
        det(23.0, "circle"), // exactly end + tolerance: detects event 2, delay 3000 ms
        det(31.0, "circle"), // inside event 3 but the wrong class: false; confusion says circle
    };
    const StreamMetricsResult r = computeStreamMetrics(events, dets, 60.0, 1.0);
    EXPECT_EQ(r.events, 3);
    EXPECT_EQ(r.detectedEvents, 2);
    EXPECT_EQ(r.detections, 7);
    EXPECT_EQ(r.duplicates, 1);
    EXPECT_EQ(r.falseActivations, 4);
    ASSERT_TRUE(r.recall);
    EXPECT_DOUBLE_EQ(*r.recall, 2.0 / 3.0);
    EXPECT_DOUBLE_EQ(*r.perClass.value(QStringLiteral("shake")).recall(), 0.5);
    EXPECT_DOUBLE_EQ(*r.perClass.value(QStringLiteral("circle")).recall(), 1.0);
    EXPECT_FALSE(r.perClass.value(QStringLiteral("walk")).recall());
    EXPECT_EQ(r.perClass.value(QStringLiteral("walk")).falseActivations, 1);
    EXPECT_EQ(r.perClass.value(QStringLiteral("circle")).falseActivations, 2);
    EXPECT_DOUBLE_EQ(r.nonEventS, 54.0);
    ASSERT_TRUE(r.falseActivationsPerHour);
    EXPECT_DOUBLE_EQ(*r.falseActivationsPerHour, 4.0 / (54.0 / 3600.0));
    ASSERT_TRUE(r.delayMedianMs && r.delayP90Ms);
    EXPECT_DOUBLE_EQ(*r.delayMedianMs, 500.0);
    EXPECT_DOUBLE_EQ(*r.delayP90Ms, 3000.0);
    EXPECT_EQ(r.confusion[QStringLiteral("shake")][QStringLiteral("shake")], 1);
    EXPECT_EQ(r.confusion[QStringLiteral("shake")][QStringLiteral("circle")], 1);
    EXPECT_EQ(r.confusion[QStringLiteral("circle")][QStringLiteral("circle")], 1);
    EXPECT_FALSE(r.confusion[QStringLiteral("shake")].contains(QStringLiteral("missed")));
    ASSERT_EQ(r.outcomes.size(), 3);
    EXPECT_FALSE(r.outcomes[2].detected);
    EXPECT_FALSE(r.outcomes[2].delayMs);

    const QJsonObject j = r.toJson();
    EXPECT_DOUBLE_EQ(j[QStringLiteral("event_recall")][QStringLiteral("overall")].toDouble(), 2.0 / 3.0);
    EXPECT_DOUBLE_EQ(j[QStringLiteral("event_recall")][QStringLiteral("per_class")][QStringLiteral("shake")].toDouble(), 0.5);
    EXPECT_FALSE(j[QStringLiteral("event_recall")][QStringLiteral("per_class")].toObject().contains(QStringLiteral("walk")));
    EXPECT_EQ(j[QStringLiteral("false_activations")].toInt(), 4);
    EXPECT_DOUBLE_EQ(j[QStringLiteral("detection_delay_ms")][QStringLiteral("p90")].toDouble(), 3000.0);
    EXPECT_EQ(j[QStringLiteral("confusion")][QStringLiteral("shake")][QStringLiteral("circle")].toInt(), 1);
    EXPECT_EQ(j[QStringLiteral("event_results")].toArray().size(), 3);
    EXPECT_TRUE(j[QStringLiteral("event_results")].toArray()[2][QStringLiteral("delay_ms")].isNull());
}

TEST(StreamMetrics, DetectionJustPastEndPlusToleranceIsFalse)
{
    const StreamMetricsResult r = computeStreamMetrics({ev(1, 2, "a")}, {det(2.5000001, "a")}, 10, 0.5);
    EXPECT_EQ(r.detectedEvents, 0);
    EXPECT_EQ(r.falseActivations, 1);
    EXPECT_EQ(r.confusion[QStringLiteral("a")][QStringLiteral("missed")], 1);
    const StreamMetricsResult s = computeStreamMetrics({ev(1, 2, "a")}, {det(2.5, "a")}, 10, 0.5);
    EXPECT_EQ(s.detectedEvents, 1);
    EXPECT_DOUBLE_EQ(*s.delayMedianMs, 1500.0);
}

TEST(StreamMetrics, OverlappingToleranceWindowsOfTwoEvents)
{
    // [0, 2) and [2.5, 4.5), tolerance 1: t in (2.5, 3] could belong to either.
    const QVector<TruthEvent> events = {ev(0, 2, "a"), ev(2.5, 4.5, "a")};
    {
        // Both missed until 2.7: the earlier event takes it, the next detection the later one.
        const auto r = computeStreamMetrics(events, {det(2.7, "a"), det(2.9, "a"), det(3.0, "a"), det(5.6, "a")}, 10, 1);
        EXPECT_EQ(r.detectedEvents, 2);
        EXPECT_NEAR(*r.outcomes[0].delayMs, 2700.0, 1e-9);
        EXPECT_NEAR(*r.outcomes[1].delayMs, 400.0, 1e-9);
        EXPECT_EQ(r.duplicates, 1);          // 3.0: both already detected
        EXPECT_EQ(r.falseActivations, 1);    // 5.6 > 4.5 + 1
    }
    {
        // The first event already detected: 2.7 goes to the second.
        const auto r = computeStreamMetrics(events, {det(1.0, "a"), det(2.7, "a")}, 10, 1);
        EXPECT_EQ(r.detectedEvents, 2);
        EXPECT_EQ(r.duplicates, 0);
        EXPECT_NEAR(*r.outcomes[1].delayMs, 200.0, 1e-9);
    }
}

TEST(StreamMetrics, NoEvents)
{
    const auto r = computeStreamMetrics(QVector<TruthEvent>{}, {det(1, "a"), det(2, "b")}, 7200, 1);
    EXPECT_EQ(r.events, 0);
    EXPECT_FALSE(r.recall);
    EXPECT_EQ(r.falseActivations, 2);
    EXPECT_DOUBLE_EQ(*r.falseActivationsPerHour, 1.0);
    EXPECT_FALSE(r.delayMedianMs);
    EXPECT_FALSE(r.delayP90Ms);
    const QJsonObject j = r.toJson();
    EXPECT_TRUE(j[QStringLiteral("event_recall")][QStringLiteral("overall")].isNull());
    EXPECT_TRUE(j[QStringLiteral("detection_delay_ms")][QStringLiteral("median")].isNull());
    EXPECT_TRUE(j[QStringLiteral("confusion")].toObject().isEmpty());
}

TEST(StreamMetrics, NoDetections)
{
    const auto r = computeStreamMetrics({ev(1, 2, "a"), ev(3, 4, "b")}, {}, 3600 + 2, 1);
    EXPECT_DOUBLE_EQ(*r.recall, 0.0);
    EXPECT_EQ(r.falseActivations, 0);
    EXPECT_DOUBLE_EQ(*r.falseActivationsPerHour, 0.0);
    EXPECT_FALSE(r.delayMedianMs);
    EXPECT_EQ(r.confusion[QStringLiteral("a")][QStringLiteral("missed")], 1);
    EXPECT_EQ(r.confusion[QStringLiteral("b")][QStringLiteral("missed")], 1);
    EXPECT_TRUE(r.toJson()[QStringLiteral("detection_delay_ms")][QStringLiteral("p90")].isNull());
}

TEST(StreamMetrics, NoNonEventTimeLeavesRateAbsent)
{
    const auto r = computeStreamMetrics({ev(0, 10, "a")}, {det(11, "b")}, 10, 1);
    EXPECT_EQ(r.falseActivations, 1);
    EXPECT_FALSE(r.falseActivationsPerHour);
    EXPECT_TRUE(r.toJson()[QStringLiteral("false_activations_per_hour")].isNull());
}

TEST(StreamMetrics, NearestRank)
{
    EXPECT_FALSE(nearestRankPercentile({}, 50));
    EXPECT_DOUBLE_EQ(*nearestRankPercentile({3, 1, 2}, 50), 2.0);
    EXPECT_DOUBLE_EQ(*nearestRankPercentile({4, 1, 3, 2}, 50), 2.0); // lower middle
    EXPECT_DOUBLE_EQ(*nearestRankPercentile({10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, 90), 9.0);
    EXPECT_DOUBLE_EQ(*nearestRankPercentile({10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 11}, 90), 10.0);
    EXPECT_DOUBLE_EQ(*nearestRankPercentile({5}, 90), 5.0);
}
