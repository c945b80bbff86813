// The live classification and calibration views and the Live page, fed a synthetic stream
// (SyntheticLiveStream): what they draw, what they say, what a click or a key emits.
#include "live/CalibrationView.h"
#include "live/LiveClassificationView.h"
#include "pages/LivePage.h"
#include "plots/DetCurvePlot.h"
#include "plots/QCustomPlotInclude.h"
#include "plots/StageCostBars.h"
#include "plots/StreamTimelinePlot.h"
#include "SyntheticLiveStream.h"
#include "UiTestProject.h"
#include "window/ProjectSession.h"

#include <gtest/gtest.h>

#include <QComboBox>
#include <QElapsedTimer>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>

using namespace tinyml;
using namespace tinyml::ui;

namespace {

int runCount(const QVector<WindowRow> &windows)
{
    int runs = 0;
    for (int i = 0; i < windows.size(); ++i)
        runs += i == 0 || windows[i].decision != windows[i - 1].decision ? 1 : 0;
    return runs;
}

void expectRange(QCPAxisRect *rect, double lo, double hi)
{
    const QCPRange r = rect->axis(QCPAxis::atBottom)->range();
    EXPECT_NEAR(r.lower, lo, 1e-6);
    EXPECT_NEAR(r.upper, hi, 1e-6);
}

} // namespace

TEST(LiveClassificationView, HoldsTheStreamItWasFed)
{
    const test::SyntheticLiveStream s = test::syntheticLiveStream();
    ASSERT_EQ(s.windows.size(), 240);
    ASSERT_EQ(s.truth.size(), 10);
    // The stream itself: 9 of 10 events found, one false activation, one re-trigger suppressed.
    ASSERT_EQ(s.metrics.eventsDetected, 9);
    ASSERT_EQ(s.detections, 10);
    ASSERT_EQ(s.suppressed, 1);
    LiveClassificationView view;
    view.resize(1100, 650);
    view.setLabels(s.labels);
    view.setSourceNote(QStringLiteral("Replay of wand.csv — simulated sensor"));
    view.setBatteryEstimate(24.0 * 41, QStringLiteral("power model of the board, 220 mAh cell"));
    view.show();
    ASSERT_TRUE(QTest::qWaitForWindowExposed(&view));
    test::feedLiveView(view, s);
    view.flush();

    StreamTimelinePlot *tl = view.timeline();
    // (a) signal: one line per channel, the last 10 s of the 60 s stream.
    ASSERT_EQ(tl->signalGraphCount(), 3);
    for (int c = 0; c < 3; ++c) {
        QCPGraph *g = tl->signalGraph(c);
        ASSERT_GT(g->data()->size(), 100);
        EXPECT_LE(g->data()->size(), 1001);   // 10 s x 100 Hz (+1 to fill the span), or fewer after decimation
        EXPECT_GE(g->data()->constBegin()->key, 50.0 - 0.01 - 1e-9);
        EXPECT_NEAR((g->data()->constEnd() - 1)->key, 59.99, 1e-6);
    }
    for (QCPAxisRect *r : {tl->signalRect(), tl->scoreRect(), tl->timelineRect()})
        expectRange(r, 50, 60);
    // z carries gravity: the value axis shows it.
    EXPECT_GT(tl->signalRect()->axis(QCPAxis::atLeft)->range().upper, 1.0);

    // (b) a score line per class, a point per window.
    for (int c = 0; c < 4; ++c)
        EXPECT_EQ(tl->scoreGraph(c)->data()->size(), 240) << c;
    EXPECT_NEAR(tl->scoreGraph(1)->data()->constBegin()->key, 0.25, 1e-9);

    // (c) decision runs, detections and suppressed windows, truth in view.
    EXPECT_EQ(tl->decisionRunCount(), runCount(s.windows));
    int detections = 0;
    for (int c = 0; c < 4; ++c)
        detections += tl->detectionGraph(c)->data()->size();
    EXPECT_EQ(detections, s.detections);
    EXPECT_EQ(tl->suppressedGraph()->data()->size(), s.suppressed);
    int truthInView = 0;
    for (const TruthRow &t : s.truth)
        truthInView += t.end_s >= 50 ? 1 : 0;
    EXPECT_EQ(tl->visibleTruthBlocks(), truthInView);
    EXPECT_GT(tl->visibleDecisionBlocks(), 0);
    EXPECT_LT(tl->visibleDecisionBlocks(), tl->decisionRunCount());

    // The whole stream: every truth event, every run.
    view.setVisibleSeconds(60);
    view.flush();
    expectRange(tl->timelineRect(), 0, 60);
    EXPECT_EQ(tl->visibleTruthBlocks(), 10);
    EXPECT_EQ(tl->visibleDecisionBlocks(), tl->decisionRunCount());

    // (d) metrics.
    EXPECT_EQ(view.metricText(LiveClassificationView::Metric::Windows), QStringLiteral("240"));
    EXPECT_EQ(view.metricText(LiveClassificationView::Metric::Overruns), QStringLiteral("0"));
    EXPECT_EQ(view.metricText(LiveClassificationView::Metric::Recall), QStringLiteral("9 / 10 events (90.0 %)"));
    EXPECT_EQ(view.classRecallText(0), QStringLiteral("—"));
    EXPECT_EQ(view.classRecallText(1), QStringLiteral("100 %"));
    EXPECT_EQ(view.classRecallText(2), QStringLiteral("66.7 %"));
    EXPECT_EQ(view.metricText(LiveClassificationView::Metric::FalseActivations),
              QStringLiteral("60.0 / h (1 in 60 s)"));
    EXPECT_EQ(view.metricText(LiveClassificationView::Metric::Delay), QStringLiteral("median 0.32 · p90 0.48 s"));
    EXPECT_EQ(view.metricText(LiveClassificationView::Metric::HostReplay), QStringLiteral("240 / 240 windows equal"));

    // (e) stage costs: medians in ms and % of the 250 ms stride.
    ASSERT_EQ(view.costBars()->bars()->data()->size(), 3);
    EXPECT_NEAR(view.medianStrideMs().value_or(0), 250.0, 1e-6);
    EXPECT_TRUE(view.costBars()->barText(1).contains(QStringLiteral("6.")));
    EXPECT_TRUE(view.costBars()->barText(1).contains(QStringLiteral("2.5 %"))) << view.costBars()->barText(1).toStdString();
    EXPECT_TRUE(view.dutyCycleText().contains(QStringLiteral("250 ms"))) << view.dutyCycleText().toStdString();
    EXPECT_TRUE(view.dutyCycleText().contains(QStringLiteral("3.2 %"))) << view.dutyCycleText().toStdString();
    EXPECT_TRUE(view.batteryText().startsWith(QStringLiteral("Estimated battery life: 41 days")));
    EXPECT_TRUE(view.batteryText().contains(QStringLiteral("power model")));
    EXPECT_TRUE(view.sourceNote().contains(QStringLiteral("simulated")));

    // clear() empties the charts and the numbers, keeps the source note.
    view.clear();
    view.flush();
    EXPECT_EQ(tl->scoreGraph(0)->data()->size(), 0);
    EXPECT_EQ(tl->signalGraphCount(), 0);
    EXPECT_EQ(tl->decisionRunCount(), 0);
    EXPECT_EQ(view.metricText(LiveClassificationView::Metric::Windows), QStringLiteral("0"));
    EXPECT_EQ(view.metricText(LiveClassificationView::Metric::Recall), QStringLiteral("— (no truth)"));
    EXPECT_EQ(view.costBars()->bars()->data()->size(), 0);
    EXPECT_TRUE(view.sourceNote().contains(QStringLiteral("simulated")));
}

TEST(LiveClassificationView, RedrawsAtMostTwentyTimesASecond)
{
    const test::SyntheticLiveStream s = test::syntheticLiveStream();
    LiveClassificationView view;
    view.setLabels(s.labels);
    view.show();
    ASSERT_TRUE(QTest::qWaitForWindowExposed(&view));
    const int before = view.timeline()->redrawCount();
    QElapsedTimer clock;
    clock.start();
    // 240 windows in about 1.2 s: 200 windows a second, far above the redraw rate.
    for (int i = 0; i < s.windows.size(); ++i) {
        view.appendSignal(qint64(i) * 25, s.rateHz, s.signal.mid(i * 75, 75), 3);
        view.addWindow(s.windows[i]);
        QTest::qWait(5);
    }
    const double seconds = clock.elapsed() / 1000.0;
    const int redraws = view.timeline()->redrawCount() - before;
    EXPECT_GT(redraws, 0);
    EXPECT_LE(redraws, int(seconds * 1000 / StreamTimelinePlot::kRedrawIntervalMs) + 2);
}

TEST(LiveClassificationView, SignalThatDoesNotFollowOnStartsAfresh)
{
    LiveClassificationView view;
    view.show();
    ASSERT_TRUE(QTest::qWaitForWindowExposed(&view));
    view.appendSignal(0, 100, QVector<float>(200, 1.0f), 2);
    view.appendSignal(100, 100, QVector<float>(200, 2.0f), 2);
    view.flush();
    EXPECT_EQ(view.timeline()->signalGraph(0)->data()->size(), 200);
    // A jump back (a new replay) drops what was there.
    view.appendSignal(0, 100, QVector<float>(100, 3.0f), 1);
    view.flush();
    ASSERT_EQ(view.timeline()->signalGraphCount(), 1);
    EXPECT_EQ(view.timeline()->signalGraph(0)->data()->size(), 100);
    EXPECT_EQ(view.timeline()->signalGraph(0)->data()->constBegin()->value, 3.0);
    // Bad input is ignored, not a crash.
    view.appendSignal(100, 0, QVector<float>(10, 1.0f), 1);
    view.appendSignal(100, 100, QVector<float>(1, 1.0f), 2);
    view.flush();
    EXPECT_EQ(view.timeline()->signalGraph(0)->data()->size(), 100);
}

TEST(CalibrationView, ClickOnAPointChoosesItAndSaveEmitsIt)
{
    const test::SyntheticLiveStream s = test::syntheticLiveStream();
    ASSERT_GE(s.chosen, 0);
    CalibrationView view;
    view.resize(1000, 520);
    view.setPoints(s.calibration);
    view.setChosen(s.chosen);
    view.show();
    ASSERT_TRUE(QTest::qWaitForWindowExposed(&view));
    DetCurvePlot *curve = view.curve();
    curve->plot()->replot();   // lays out the axes: pixels are known from here

    int front = 0, zeros = 0;
    for (const CalibrationRow &r : s.calibration) {
        front += r.onFront ? 1 : 0;
        zeros += r.faPerHour == 0 ? 1 : 0;
    }
    EXPECT_EQ(curve->allPoints()->data()->size(), s.calibration.size());
    EXPECT_EQ(curve->front()->data()->size(), front);
    ASSERT_GT(zeros, 0);   // drawn at the log axis's floor, which reads "0"
    EXPECT_EQ(curve->plot()->xAxis->scaleType(), QCPAxis::stLogarithmic);
    EXPECT_LT(curve->plot()->xAxis->range().lower, curve->drawnX(0));
    ASSERT_EQ(curve->chosenGraph()->data()->size(), 1);
    EXPECT_EQ(curve->chosenGraph()->data()->constBegin()->key, curve->drawnX(s.calibration[s.chosen].faPerHour));

    // A point nobody else is drawn near: the click must pick exactly it.
    int target = -1;
    for (int i = 0; i < s.calibration.size() && target < 0; ++i) {
        if (i == s.chosen || !s.calibration[i].onFront)
            continue;
        bool alone = true;
        for (int j = 0; j < s.calibration.size(); ++j)
            if (j != i && QLineF(curve->pixelOf(i), curve->pixelOf(j)).length() < 2 * DetCurvePlot::kPickRadiusPx)
                alone = false;
        if (alone)
            target = i;
    }
    ASSERT_GE(target, 0);
    QSignalSpy chosen(&view, &CalibrationView::operatingPointChosen);
    QSignalSpy saved(&view, &CalibrationView::saveRequested);
    const QPoint at = curve->pixelOf(target).toPoint() + QPoint(2, -1);   // "within a few pixels"
    QTest::mouseClick(curve->plot(), Qt::LeftButton, {}, at);
    ASSERT_EQ(chosen.size(), 1);
    EXPECT_EQ(chosen.first().at(0).toInt(), target);
    EXPECT_EQ(view.chosen(), target);
    EXPECT_EQ(view.table()->item(0, 1)->text(), QString::number(s.calibration[target].threshold, 'f', 2));
    EXPECT_EQ(view.table()->item(1, 1)->text(), QString::number(s.calibration[target].averageWindows));

    // Empty space picks nothing.
    QTest::mouseClick(curve->plot(), Qt::LeftButton, {}, QPoint(curve->plot()->width() - 5, 5));
    EXPECT_EQ(chosen.size(), 1);
    EXPECT_EQ(view.chosen(), target);

    EXPECT_TRUE(view.sourceNote().contains(QStringLiteral("simulated")));   // before any note too
    view.setSourceNote(QStringLiteral("Swept on a replay of kw.wav"));
    EXPECT_EQ(view.sourceNote(), QStringLiteral("Swept on a replay of kw.wav"));

    view.saveButton()->click();
    ASSERT_EQ(saved.size(), 1);
    EXPECT_EQ(saved.first().at(0).toInt(), target);
}

TEST(CalibrationView, KeyboardReachesCurveAndTableAndSaves)
{
    const test::SyntheticLiveStream s = test::syntheticLiveStream();
    CalibrationView view;
    view.resize(1000, 520);
    view.setPoints(s.calibration);
    view.setChosen(s.chosen);
    view.show();
    ASSERT_TRUE(QTest::qWaitForWindowExposed(&view));
    view.activateWindow();
    view.curve()->setFocus();
    ASSERT_TRUE(QTest::qWaitFor([&] { return view.curve()->hasFocus(); }, 2000));

    QSignalSpy chosen(&view, &CalibrationView::operatingPointChosen);
    QSignalSpy saved(&view, &CalibrationView::saveRequested);
    // Right walks the front towards more false activations (and fewer rejections).
    QTest::keyClick(view.curve(), Qt::Key_Right);
    ASSERT_EQ(chosen.size(), 1);
    const int next = chosen.first().at(0).toInt();
    EXPECT_TRUE(s.calibration[next].onFront);
    EXPECT_GT(s.calibration[next].faPerHour, s.calibration[s.chosen].faPerHour);
    EXPECT_LT(s.calibration[next].frr, s.calibration[s.chosen].frr);

    QTest::keyClick(view.curve(), Qt::Key_S, Qt::ControlModifier);
    ASSERT_EQ(saved.size(), 1);
    EXPECT_EQ(saved.first().at(0).toInt(), next);

    QTest::keyClick(view.curve(), Qt::Key_Tab);
    EXPECT_EQ(QApplication::focusWidget(), view.table());
    QTest::keyClick(view.table(), Qt::Key_Tab);
    EXPECT_EQ(QApplication::focusWidget(), view.saveButton());

    // Nothing chosen: nothing to save.
    view.setChosen(-1);
    EXPECT_FALSE(view.saveButton()->isEnabled());
    QTest::keyClick(view.table(), Qt::Key_S, Qt::ControlModifier);
    EXPECT_EQ(saved.size(), 1);
}

TEST(LivePage, StartNeedsAProjectWithAnInt8ModelAndEmitsTheSource)
{
    QTemporaryDir dir;
    QString error;
    auto store = test::createMotionProject(dir.filePath(QStringLiteral("live.tinyml")), 2, &error);
    ASSERT_TRUE(store) << error.toStdString();
    ProjectStore *raw = store.get();
    ProjectSession session(std::move(store));

    LivePage page;
    page.show();
    EXPECT_FALSE(page.startButton()->isEnabled());   // no project
    page.setSession(&session);
    EXPECT_FALSE(page.hasModel());
    EXPECT_FALSE(page.startButton()->isEnabled());   // no int8 model

    StoredModel model;
    model.kind = ModelKind::Int8;
    model.name = QStringLiteral("int8");
    model.graph = QByteArray("graph");
    ASSERT_TRUE(raw->addModel(model, &error)) << error.toStdString();
    page.reloadModels();
    EXPECT_TRUE(page.hasModel());
    EXPECT_TRUE(page.startButton()->isEnabled());
    EXPECT_EQ(page.sourceCombo()->count(), 3);

    QSignalSpy start(&page, &LivePage::startRequested);
    QSignalSpy stop(&page, &LivePage::stopRequested);
    page.setSource(LivePage::Source::ReplayFile);
    EXPECT_FALSE(page.startButton()->isEnabled());   // which file?
    page.setSourcePath(QStringLiteral("/tmp/kw.wav"));
    page.setTruthPath(QStringLiteral("/tmp/kw.truth.csv"));
    ASSERT_TRUE(page.startButton()->isEnabled());
    page.startButton()->click();
    ASSERT_EQ(start.size(), 1);
    EXPECT_EQ(start.first().at(0).value<LivePage::Source>(), LivePage::Source::ReplayFile);
    EXPECT_EQ(start.first().at(1).toString(), QStringLiteral("/tmp/kw.wav"));
    EXPECT_EQ(start.first().at(2).toString(), QStringLiteral("/tmp/kw.truth.csv"));

    page.setRunning(true);
    EXPECT_FALSE(page.startButton()->isEnabled());
    EXPECT_FALSE(page.sourceCombo()->isEnabled());
    ASSERT_TRUE(page.stopButton()->isEnabled());
    page.stopButton()->click();
    EXPECT_EQ(stop.size(), 1);
    page.setRunning(false);

    // The simulated sensor needs no file, and sends none.
    page.setSource(LivePage::Source::SimulatedSensor);
    page.startButton()->click();
    ASSERT_EQ(start.size(), 2);
    EXPECT_TRUE(start.last().at(1).toString().isEmpty());
    page.setSession(nullptr);
    EXPECT_FALSE(page.startButton()->isEnabled());
}
