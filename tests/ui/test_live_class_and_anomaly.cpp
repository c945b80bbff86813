// The Live page with a classifier and an anomaly model deployed together (issue 16): windows
// whose CLASSIFY_RESULT carries an anomaly score are plotted in the anomaly panel like an
// anomaly model's, and the class of the latest window is shown beside the alarm count.
#include "pages/LivePage.h"
#include "plots/QCustomPlotInclude.h"

#include "LiveClassifier.h"

#include <gtest/gtest.h>

#include <QLabel>

using namespace tinyml;
using namespace tinyml::ui;

namespace {

deploy::LiveWindow classAndScore(double tS, const QString &label, float score, double threshold, bool previousAlarm)
{
    deploy::LiveWindow w;
    w.tS = tS;
    w.label = label;
    w.device.hasAnomaly = true;
    w.device.anomalyAlarm = double(score) > threshold;
    deploy::LiveAnomaly a;
    a.score = score;
    a.threshold = threshold;
    a.alarm = w.device.anomalyAlarm;
    a.alarmOnset = a.alarm && !previousAlarm;
    w.anomaly = a;
    return w;
}

} // namespace

TEST(LiveClassAndAnomaly, TheScoreIsPlottedAndTheClassShownBesideIt)
{
    LivePage page;
    page.resize(1000, 700);
    page.show();
    EXPECT_TRUE(page.lastClassText().isEmpty());
    page.addLiveWindow(classAndScore(2.0, QStringLiteral("idle"), 10.0f, 80.0, false));
    page.addLiveWindow(classAndScore(2.5, QStringLiteral("shake"), 160.0f, 80.0, false));
    page.addLiveWindow(classAndScore(3.0, QString(), 150.0f, 80.0, true));
    EXPECT_EQ(page.anomalyWindowCount(), 3);
    ASSERT_TRUE(page.anomalyThreshold().has_value());
    EXPECT_DOUBLE_EQ(*page.anomalyThreshold(), 80.0);
    EXPECT_EQ(page.alarmCount(), 1);
    EXPECT_EQ(page.anomalyPlot()->graph(0)->data()->size(), 3);
    EXPECT_EQ(page.lastClassText(), QStringLiteral("uncertain"));
    page.addLiveWindow(classAndScore(3.5, QStringLiteral("circle"), 20.0f, 80.0, true));
    EXPECT_EQ(page.lastClassText(), QStringLiteral("circle"));
    EXPECT_TRUE(page.alarmLabel()->text().contains(QStringLiteral("class circle"))) << page.alarmLabel()->text().toStdString();
    EXPECT_TRUE(page.anomalyPanel()->isVisible());
    page.clearAnomalyScores();
    EXPECT_TRUE(page.lastClassText().isEmpty());
    EXPECT_FALSE(page.alarmLabel()->text().contains(QStringLiteral("class"))) << page.alarmLabel()->text().toStdString();
}
