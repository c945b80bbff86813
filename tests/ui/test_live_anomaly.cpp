// The Live page with an anomaly model (issue 16): a K-means model trained and quantized on a tiny
// tabular project makes the Anomaly score panel appear with the model's own threshold as a line;
// windows carrying scores are plotted, alarm onsets are counted (a run of windows above the
// threshold is one alarm), a classifier's windows leave the panel alone, and a new run clears
// it. The Training page skips the anomaly run. TINYML_LIVE_ANOMALY_SHOT=FILE.png saves a grab of
// the page to look at.
#include "pages/LivePage.h"
#include "pages/TrainingPage.h"
#include "plots/QCustomPlotInclude.h"
#include "window/MainWindow.h"

#include "AnomalyPipeline.h"
#include "LiveClassifier.h"
#include "TrainingPipeline.h"
#include "model/Graph.h"
#include "store/ProjectStore.h"
#include "TabularAnomalyProject.h"

#include <gtest/gtest.h>

#include <QLabel>
#include <QTemporaryDir>
#include <QTest>


using namespace tinyml;
using namespace tinyml::ui;

namespace {

/// Normal rows ~ N(0, 1) on four features, "fault" rows shifted on two of them.
bool createProject(const QString &path, QString *error)
{
    const auto store = uitest::createTabularAnomalyProject(path, QStringLiteral("fan"), 11, 2.5f, error);
    if (!store)
        return false;
    training::AnomalyTrainOptions options;
    options.kind = training::AnomalyModelKind::KMeans;
    options.normalLabels = {QStringLiteral("normal")};
    options.clusters = 2;
    if (!training::trainAnomalyProject(*store, options, error))
        return false;
    return training::quantizeProject(*store, training::ProjectQuantizeOptions(), error).has_value();
}

deploy::LiveWindow window(double tS, float score, double threshold, bool previousAlarm)
{
    deploy::LiveWindow w;
    w.tS = tS;
    w.scores = {score};
    deploy::LiveAnomaly a;
    a.score = score;
    a.threshold = threshold;
    a.alarm = double(score) > threshold;
    a.alarmOnset = a.alarm && !previousAlarm;
    w.anomaly = a;
    return w;
}

TEST(LiveAnomaly, ThePanelPlotsTheScoreAgainstTheThresholdAndCountsAlarms)
{
    QTemporaryDir dir;
    ASSERT_TRUE(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("fan.tinyml"));
    QString error;
    ASSERT_TRUE(createProject(path, &error)) << error.toStdString();
    double threshold = 0;
    {
        auto store = ProjectStore::open(path, &error);
        ASSERT_TRUE(store) << error.toStdString();
        auto m = store->latestModel(ModelKind::Int8, &error);
        ASSERT_TRUE(m) << error.toStdString();
        auto g = model::Graph::deserialize(m->graph, &error);
        ASSERT_TRUE(g) << error.toStdString();
        ASSERT_EQ(g->meta.value(QStringLiteral("task")).toString(), QStringLiteral("anomaly"));
        threshold = g->meta.value(QStringLiteral("threshold")).toDouble();
        ASSERT_GT(threshold, 0.0);
    }

    MainWindow mw;
    mw.resize(1280, 800);
    mw.show();
    ASSERT_TRUE(mw.openProject(path, &error)) << error.toStdString();
    // The project's only run is an anomaly run: the Training page (a classifier's report, its
    // confusion matrix) must not show it; the Anomaly page does.
    EXPECT_FALSE(mw.trainingPage()->report().has_value());
    EXPECT_FALSE(mw.trainingPage()->quantization().has_value());
    mw.showStage(MainWindow::Stage::Live);
    LivePage *page = mw.livePage();
    ASSERT_TRUE(QTest::qWaitForWindowExposed(&mw));

    // The newest int8 model is an anomaly model: the panel shows its threshold before any run.
    ASSERT_TRUE(page->anomalyThreshold().has_value());
    EXPECT_DOUBLE_EQ(*page->anomalyThreshold(), threshold);
    EXPECT_TRUE(page->anomalyPanel()->isVisible());
    QCustomPlot *plot = page->anomalyPlot();
    ASSERT_EQ(plot->graphCount(), 3);
    QCPGraph *line = plot->graph(1);
    ASSERT_EQ(line->data()->size(), 2) << "the threshold line is drawn";
    EXPECT_DOUBLE_EQ(line->data()->at(0)->value, threshold);
    EXPECT_DOUBLE_EQ(line->data()->at(1)->value, threshold);

    // A run: 20 quiet windows, 4 above, 10 quiet, 3 above, 5 quiet = 2 alarms, 7 windows above.
    page->setRunning(true);
    QVector<float> scores;
    for (int i = 0; i < 20; ++i)
        scores << float(threshold * (0.3 + 0.02 * i));
    for (int i = 0; i < 4; ++i)
        scores << float(threshold * (1.4 + 0.1 * i));
    for (int i = 0; i < 10; ++i)
        scores << float(threshold * 0.5);
    for (int i = 0; i < 3; ++i)
        scores << float(threshold * 2.2);
    for (int i = 0; i < 5; ++i)
        scores << float(threshold * 0.4);
    bool previous = false;
    for (int i = 0; i < scores.size(); ++i) {
        const deploy::LiveWindow w = window(0.5 * (i + 1), scores[i], threshold, previous);
        previous = w.anomaly->alarm;
        page->addLiveWindow(w);
    }
    // A classifier's window (no anomaly score) is not the panel's.
    deploy::LiveWindow classifier;
    classifier.tS = 99;
    classifier.scores = {0.1f, 0.9f};
    page->addLiveWindow(classifier);

    EXPECT_EQ(page->anomalyWindowCount(), scores.size());
    EXPECT_EQ(plot->graph(0)->data()->size(), scores.size()) << "every window's score is plotted";
    EXPECT_DOUBLE_EQ(plot->graph(0)->data()->at(24)->value, double(scores[24]));
    EXPECT_EQ(page->alarmCount(), 2);
    EXPECT_EQ(plot->graph(2)->data()->size(), 2) << "one marker per alarm onset";
    EXPECT_DOUBLE_EQ(plot->graph(2)->data()->at(0)->key, 0.5 * 21);
    EXPECT_DOUBLE_EQ(line->data()->at(1)->key, 0.5 * scores.size()) << "the line spans the run";
    EXPECT_TRUE(page->alarmLabel()->text().contains(QStringLiteral("2 alarms")))
        << page->alarmLabel()->text().toStdString();
    EXPECT_TRUE(page->alarmLabel()->text().contains(QStringLiteral("7 windows above")))
        << page->alarmLabel()->text().toStdString();
    // The threshold is inside the plotted range, and so is the highest score.
    EXPECT_LT(plot->yAxis->range().lower, threshold);
    EXPECT_GT(plot->yAxis->range().upper, threshold * 2.2);

    plot->replot();
    QTest::qWait(50);
    const QByteArray shot = qgetenv("TINYML_LIVE_ANOMALY_SHOT");
    if (!shot.isEmpty())
        EXPECT_TRUE(mw.grab().save(QString::fromLocal8Bit(shot))) << shot.constData();

    // The run ends, a new one starts: the panel starts over, the threshold stays.
    page->setRunning(false);
    page->setRunning(true);
    EXPECT_EQ(page->anomalyWindowCount(), 0);
    EXPECT_EQ(page->alarmCount(), 0);
    EXPECT_EQ(plot->graph(0)->data()->size(), 0);
    EXPECT_EQ(line->data()->size(), 2);
    page->setRunning(false);

    // A classifier deployed instead: no panel.
    page->setAnomalyThreshold(std::nullopt);
    EXPECT_FALSE(page->anomalyPanel()->isVisible());
    EXPECT_EQ(line->data()->size(), 0);
}

} // namespace
