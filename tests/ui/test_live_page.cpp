// The Live page end to end on the real back end: a motion model trained on what the host
// agent's simulated accelerometer produces, then
//  - Start with a scenario script (idle 2 / shake 2 / idle 2) on the host agent, started by
//    the one button: windows, a detection on the timeline over the script's truth, stream
//    metrics, the signal the board sent, and the host replay equal in every window;
//  - a calibration on a CSV recording with its truth file: progress, the sweep on the DET
//    curve with its operating point, a clicked point saved into the project (undoable), and
//    the same recording replayed through the board, its signal drawn from the file.
#include "live/CalibrationView.h"
#include "live/LiveClassificationView.h"
#include "live/LiveController.h"
#include "pages/AcquisitionPage.h"
#include "pages/LivePage.h"
#include "plots/DetCurvePlot.h"
#include "plots/QCustomPlotInclude.h"
#include "plots/StreamTimelinePlot.h"
#include "UiTestProject.h"
#include "window/MainWindow.h"
#include "window/ProjectSession.h"

#include "ImpulseSpec.h"
#include "store/ProjectStore.h"

#include <gtest/gtest.h>

#include <QComboBox>
#include <QFile>
#include <QJsonDocument>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QUndoStack>

using namespace tinyml;
using namespace tinyml::ui;

namespace {

class LivePageFlow : public ::testing::Test
{
protected:
    void SetUp() override
    {
        ASSERT_TRUE(m_dir.isValid());
        // The virtual board keeps its flash file (and the replay file) under XDG_DATA_HOME.
        qputenv("XDG_DATA_HOME", m_dir.filePath(QStringLiteral("xdg")).toUtf8());
        m_path = m_dir.filePath(QStringLiteral("wand.tinyml"));
        QString error;
        {
            auto store = test::createCapturedMotionProject(m_path, QStringLiteral("host"), 10, 2.0, &error);
            ASSERT_TRUE(store) << error.toStdString();
            m_modelId = test::trainInt8Model(*store, 40, &error);
            ASSERT_GT(m_modelId, 0) << error.toStdString();
        }
        m_window = std::make_unique<MainWindow>();
        m_window->resize(1280, 800);
        m_window->show();
        ASSERT_TRUE(m_window->openProject(m_path, &error)) << error.toStdString();
        // Real-time pacing, as a user runs it (and at batch speed the host agent's first windows
        // can arrive before LiveClassifier::start() has returned: see the report).
        m_window->acquisitionPage()->setRealtime(true);
        m_window->showStage(MainWindow::Stage::Live);
        m_page = m_window->livePage();
        m_controller = m_window->liveController();
    }
    void TearDown() override { m_window.reset(); }

    QString write(const QString &name, const QByteArray &text)
    {
        const QString path = m_dir.filePath(name);
        QFile f(path);
        EXPECT_TRUE(f.open(QIODevice::WriteOnly));
        f.write(text);
        return path;
    }

    /// Presses Start and waits for the run's end; false when it did not finish with a report.
    bool run()
    {
        QSignalSpy done(m_controller, &LiveController::runFinished);
        m_page->startButton()->click();
        return done.wait(60000) && done.first().at(0).toBool();
    }

    /// A recording at 100 Hz made of the project's own captured samples and its truth file.
    void writeRecording(const QStringList &labels, QString *csvPath, QString *truthPath)
    {
        *csvPath = m_dir.filePath(QStringLiteral("session.csv"));
        *truthPath = m_dir.filePath(QStringLiteral("session.truth.csv"));
        QString error;
        ASSERT_TRUE(test::writeMotionSession(m_window->session()->store(), labels, *csvPath, *truthPath, &error))
            << error.toStdString();
    }

    QTemporaryDir m_dir;
    QString m_path;
    qint64 m_modelId = 0;
    std::unique_ptr<MainWindow> m_window;
    LivePage *m_page = nullptr;
    LiveController *m_controller = nullptr;
};

} // namespace

TEST_F(LivePageFlow, ScenarioScriptOnTheHostAgentIsClassifiedAndEqualsTheHostReplay)
{
    const QString script = write(QStringLiteral("wave.script"), "idle 2\nshake 2\nidle 2\n");
    m_page->setSource(LivePage::Source::ScenarioScript);
    m_page->setSourcePath(script);
    EXPECT_FALSE(m_page->secondsSpin()->isVisibleTo(m_page));   // a script ends by itself
    ASSERT_TRUE(m_page->startButton()->isEnabled()) << m_page->startButton()->toolTip().toStdString();
    // Not connected yet: Start starts the project's virtual board itself.
    EXPECT_FALSE(m_window->acquisitionPage()->isConnected());

    LiveClassificationView *view = m_page->liveView();
    QVector<WindowRow> rows;
    QObject::connect(m_controller, &LiveController::runningChanged, view, [&](bool running) {
        if (running)
            EXPECT_TRUE(m_page->stopButton()->isEnabled());
    });
    ASSERT_TRUE(run()) << m_page->status().toStdString();
    EXPECT_TRUE(m_window->acquisitionPage()->isConnected());
    ASSERT_TRUE(m_controller->report());
    const deploy::LiveClassifyReport &r = *m_controller->report();
    EXPECT_EQ(r.board, QStringLiteral("host"));
    EXPECT_EQ(r.modelId, m_modelId);
    // 6 s at 100 Hz, 2 s windows every 0.5 s.
    EXPECT_EQ(r.windows, 1 + (600 - 200) / 50) << QJsonDocument(r.toJson()).toJson().toStdString();
    EXPECT_EQ(r.windowsCompared, r.windows) << r.hostReplayNote.toStdString();
    EXPECT_EQ(r.hostReplayEqualWindows, r.windows);
    ASSERT_TRUE(r.metrics);
    EXPECT_EQ(r.metrics->events, 1);
    EXPECT_EQ(r.metrics->detectedEvents, 1) << "the shake was not detected: "
                                             << QJsonDocument(r.toJson()).toJson().toStdString();

    view->flush();
    StreamTimelinePlot *t = view->timeline();
    EXPECT_NEAR(t->endTime(), 6.0, 0.05);
    EXPECT_EQ(t->signalGraphCount(), 3);                      // the samples the board sent
    EXPECT_GT(t->signalGraph(0)->data()->size(), 0);
    const int shake = r.labels.indexOf(QStringLiteral("shake"));
    ASSERT_GE(shake, 0);
    ASSERT_TRUE(t->detectionGraph(shake));
    EXPECT_GE(t->detectionGraph(shake)->data()->size(), 1);   // the detection on the timeline
    EXPECT_GE(t->visibleTruthBlocks(), 1);                    // over the script's truth
    EXPECT_GT(t->decisionRunCount(), 0);

    using M = LiveClassificationView::Metric;
    EXPECT_EQ(view->metricText(M::Windows), QString::number(r.windows));
    EXPECT_EQ(view->metricText(M::Recall), QStringLiteral("1 / 1 events (100 %)")) << view->metricText(M::Recall).toStdString();
    EXPECT_EQ(view->metricText(M::HostReplay), QStringLiteral("%1 / %1 windows equal").arg(r.windows));
    EXPECT_EQ(view->sourceNote(), QStringLiteral("Scenario script wave.script (simulated)"));
    EXPECT_FALSE(view->dutyCycleText().isEmpty());
    // The host agent's board file has no sleep current: the view says why there is no estimate.
    EXPECT_TRUE(view->batteryText().contains(QStringLiteral("no estimate"))) << view->batteryText().toStdString();
    EXPECT_FALSE(m_controller->isRunning());
    EXPECT_TRUE(m_page->startButton()->isEnabled());
    EXPECT_FALSE(m_page->stopButton()->isEnabled());

    // Stop ends a run on the sensor before its duration, with a report; closing the project
    // while a run streams stops it cleanly.
    m_page->setSource(LivePage::Source::SimulatedSensor);
    EXPECT_TRUE(m_page->secondsSpin()->isVisibleTo(m_page));
    m_page->setSeconds(600);
    QSignalSpy done(m_controller, &LiveController::runFinished);
    m_page->startButton()->click();
    ASSERT_TRUE(QTest::qWaitFor([&] { return t->endTime() > 2.5 && m_controller->isRunning(); }, 30000))
        << m_page->status().toStdString();
    m_page->stopButton()->click();
    ASSERT_TRUE(done.wait(15000));
    EXPECT_TRUE(done.first().at(0).toBool());
    ASSERT_TRUE(m_controller->report());
    EXPECT_EQ(m_controller->report()->endReason, QStringLiteral("stopped")) << m_controller->report()->endReason.toStdString();
    EXPECT_LT(m_controller->report()->windows, 100);

    done.clear();
    m_page->startButton()->click();
    ASSERT_TRUE(QTest::qWaitFor([&] { return t->endTime() > 2.5 && m_controller->isRunning(); }, 30000))
        << m_page->status().toStdString();
    m_window->closeProject();
    EXPECT_FALSE(m_controller->isRunning());
    EXPECT_FALSE(m_page->isRunning());
    EXPECT_FALSE(m_page->startButton()->isEnabled());
}

TEST_F(LivePageFlow, CalibratesOnARecordingSavesTheChosenPointAndReplaysIt)
{
    QString csv, truth;
    writeRecording({QStringLiteral("idle"), QStringLiteral("shake"), QStringLiteral("idle"), QStringLiteral("circle"),
                    QStringLiteral("idle"), QStringLiteral("updown"), QStringLiteral("idle")},
                   &csv, &truth);
    if (HasFatalFailure())
        return;
    m_page->tabs()->setCurrentIndex(1);
    EXPECT_FALSE(m_page->calibrateButton()->isEnabled());   // no recording chosen yet
    m_page->setSource(LivePage::Source::ReplayFile);
    m_page->setSourcePath(csv);
    m_page->setTruthPath(truth);
    ASSERT_TRUE(m_page->calibrateButton()->isEnabled()) << m_page->calibrateButton()->toolTip().toStdString();
    EXPECT_DOUBLE_EQ(m_page->maxFarSpin()->value(), 1.0);

    QSignalSpy calibrated(m_controller, &LiveController::calibrationFinished);
    QVector<int> progress;
    QObject::connect(m_page->calibrationProgress(), &QProgressBar::valueChanged, m_page,
                     [&](int v) { progress << v; });
    m_page->calibrateButton()->click();
    EXPECT_TRUE(m_page->isCalibrating());
    EXPECT_TRUE(m_page->cancelCalibrationButton()->isEnabled());
    ASSERT_TRUE(calibrated.wait(60000));
    ASSERT_TRUE(calibrated.first().at(0).toBool()) << m_page->calibrationStatus().toStdString();
    EXPECT_FALSE(m_page->isCalibrating());
    EXPECT_FALSE(progress.isEmpty());
    ASSERT_TRUE(m_controller->calibration());
    const deploy::RecordingCalibration &cal = *m_controller->calibration();
    EXPECT_EQ(cal.events, 3);
    EXPECT_NEAR(cal.recordingS, 14.0, 0.01);

    CalibrationView *view = m_page->calibrationView();
    ASSERT_EQ(view->points().size(), cal.result.points.size());
    ASSERT_GE(view->chosen(), 0);
    const deploy::CalibrationPoint &op = cal.result.points[view->chosen()];
    EXPECT_EQ(op.threshold, cal.result.operatingPoint.threshold);
    EXPECT_EQ(op.averageWindows, cal.result.operatingPoint.averageWindows);
    EXPECT_EQ(op.suppressionMs, cal.result.operatingPoint.suppressionMs);
    EXPECT_TRUE(view->sourceNote().contains(QStringLiteral("session.csv"))) << view->sourceNote().toStdString();
    // Nothing saved yet: the sweep ran on the worker's store with save = false.
    QString error;
    EXPECT_FALSE(m_window->session()->store().settings().extra.contains(QStringLiteral("impulse")));

    // Click another point of the front, then save it.
    int target = -1;
    for (int i = 0; i < view->points().size() && target < 0; ++i) {
        if (i == view->chosen() || !view->points()[i].onFront)
            continue;
        bool alone = true;
        for (int j = 0; j < view->points().size(); ++j)
            if (j != i && QLineF(view->curve()->pixelOf(i), view->curve()->pixelOf(j)).length() < 2 * DetCurvePlot::kPickRadiusPx)
                alone = false;
        target = alone ? i : -1;
    }
    if (target >= 0) {
        QTest::mouseClick(view->curve()->plot(), Qt::LeftButton, {}, view->curve()->pixelOf(target).toPoint());
        EXPECT_EQ(view->chosen(), target);
    } else {
        target = view->chosen();   // a front of one point: the operating point itself
    }
    const deploy::CalibrationPoint saved = cal.result.points[target];
    QUndoStack *undo = m_window->session()->undoStack();
    const int before = undo->count();
    view->saveButton()->click();
    EXPECT_EQ(undo->count(), before + 1);
    auto options = deploy::impulseOptions(m_window->session()->store().settings(), &error);
    ASSERT_TRUE(options) << error.toStdString();
    ASSERT_TRUE(options->threshold);
    EXPECT_FLOAT_EQ(*options->threshold, saved.threshold);
    EXPECT_EQ(options->averageWindows, saved.averageWindows);
    EXPECT_EQ(options->suppressionMs, saved.suppressionMs);
    EXPECT_TRUE(m_page->calibrationStatus().startsWith(QStringLiteral("Saved:"))) << m_page->calibrationStatus().toStdString();
    // Read back through a second store: it is in the file.
    {
        auto other = ProjectStore::open(m_path, &error);
        ASSERT_TRUE(other) << error.toStdString();
        auto o = deploy::impulseOptions(other->settings(), &error);
        ASSERT_TRUE(o && o->threshold);
        EXPECT_FLOAT_EQ(*o->threshold, saved.threshold);
    }
    undo->undo();
    EXPECT_FALSE(m_window->session()->store().settings().extra.contains(QStringLiteral("impulse")));
    undo->redo();
    options = deploy::impulseOptions(m_window->session()->store().settings(), &error);
    ASSERT_TRUE(options && options->threshold);
    EXPECT_FLOAT_EQ(*options->threshold, saved.threshold);

    // The same recording played through the board's sensor: the signal comes from the file.
    m_page->tabs()->setCurrentIndex(0);
    ASSERT_TRUE(run()) << m_page->calibrationStatus().toStdString();
    ASSERT_TRUE(m_controller->report());
    const deploy::LiveClassifyReport &r = *m_controller->report();
    EXPECT_EQ(r.windows, 1 + (1400 - 200) / 50);
    EXPECT_EQ(r.hostReplayEqualWindows, r.windows) << r.hostReplayNote.toStdString();
    ASSERT_TRUE(r.metrics);
    EXPECT_EQ(r.metrics->events, 3);
    LiveClassificationView *live = m_page->liveView();
    live->flush();
    EXPECT_EQ(live->sourceNote(), QStringLiteral("Replay of session.csv — recorded data played by the simulated sensor"));
    EXPECT_EQ(live->timeline()->signalGraphCount(), 3);
    EXPECT_NEAR(live->timeline()->endTime(), 14.0, 0.05);
}
