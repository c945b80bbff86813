// Features -> training -> int8 through the pages, on a small motion project: the workers
// run on their own ProjectStore, so every result is checked again in the file through a
// second store.
#include "pages/FeatureParamsForm.h"
#include "pages/FeaturesPage.h"
#include "pages/TrainingPage.h"
#include "plots/ConfusionMatrixPlot.h"
#include "plots/FeatureScatterPlot.h"
#include "plots/QCustomPlotInclude.h"
#include "plots/SampleFeaturesPlot.h"
#include "plots/SqnrBarsPlot.h"
#include "plots/TrainingCurvesPlot.h"
#include "UiTestProject.h"
#include "window/MainWindow.h"
#include "window/ProjectSession.h"

#include "features/FeatureParams.h"
#include "store/ProjectStore.h"

#include <gtest/gtest.h>

#include <QComboBox>
#include <QLabel>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>

using namespace tinyml;
using namespace tinyml::ui;

namespace {

constexpr int kPerLabel = 10;                 // 4 labels -> 40 samples, 8 of them test
constexpr int kSamples = 4 * kPerLabel;
constexpr int kTestSamples = kSamples / 5;

class FeaturesTrainingTest : public ::testing::Test
{
protected:
    void SetUp() override
    {
        ASSERT_TRUE(m_dir.isValid());
        m_path = m_dir.filePath(QStringLiteral("wand.tinyml"));
        QString error;
        auto store = test::createMotionProject(m_path, kPerLabel, &error);
        ASSERT_TRUE(store) << error.toStdString();
        store.reset();
        m_window = std::make_unique<MainWindow>();
        ASSERT_TRUE(m_window->openProject(m_path, &error)) << error.toStdString();
        // The features page looks at the cache when a project opens.
        ASSERT_TRUE(QTest::qWaitFor([&] { return !m_window->featuresPage()->isRunning(); }, 10000));
    }

    std::unique_ptr<ProjectStore> fromFile()
    {
        QString error;
        auto other = ProjectStore::open(m_path, &error);
        EXPECT_TRUE(other) << error.toStdString();
        return other;
    }

    bool generate()
    {
        FeaturesPage *page = m_window->featuresPage();
        page->generateButton()->click();
        return QTest::qWaitFor([&] { return !page->isRunning(); }, 30000) && page->featureSet().has_value();
    }

    bool train(int epochs)
    {
        TrainingPage *page = m_window->trainingPage();
        page->epochsSpin()->setValue(epochs);
        page->threadsSpin()->setValue(1);
        page->startButton()->click();
        return QTest::qWaitFor([&] { return !page->isRunning(); }, 60000);
    }

    QTemporaryDir m_dir;
    QString m_path;
    std::unique_ptr<MainWindow> m_window;
};

} // namespace

TEST_F(FeaturesTrainingTest, GeneratesFeaturesIntoTheScatterAndTheCache)
{
    FeaturesPage *page = m_window->featuresPage();
    m_window->showStage(MainWindow::Stage::Features);
    EXPECT_FALSE(page->featureSet());
    EXPECT_EQ(page->scatter()->pointCount(), 0);
    EXPECT_EQ(page->form()->params()->kind, features::BlockKind::Spectral);

    ASSERT_TRUE(generate()) << page->statusLabel()->text().toStdString();
    EXPECT_EQ(page->featureSet()->size(), kSamples);
    EXPECT_EQ(page->featureSet()->computed, kSamples);
    EXPECT_EQ(page->scatter()->pointCount(), kSamples);
    EXPECT_TRUE(page->scatter()->plot()->xAxis->label().contains(QStringLiteral("% variance")));
    EXPECT_FALSE(page->sampleFeatures()->showsColorMap());   // spectral: a flat vector, as bars
    EXPECT_FALSE(page->cancelButton()->isEnabled());

    auto other = fromFile();
    EXPECT_EQ(other->cachedFeatureCount(), kSamples);
    EXPECT_TRUE(other->settings().extra.contains(QStringLiteral("features")));

    // A reopened project shows the cached features without being asked.
    QString error;
    m_window->closeProject();
    ASSERT_TRUE(m_window->openProject(m_path, &error));
    ASSERT_TRUE(QTest::qWaitFor([&] { return !page->isRunning(); }, 10000));
    ASSERT_TRUE(page->featureSet());
    EXPECT_EQ(page->featureSet()->computed, 0);
    EXPECT_EQ(page->scatter()->pointCount(), kSamples);
}

TEST_F(FeaturesTrainingTest, SavesEditedParametersIntoTheProject)
{
    FeaturesPage *page = m_window->featuresPage();
    auto params = page->form()->params();
    ASSERT_TRUE(params);
    EXPECT_FALSE(page->saveButton()->isEnabled());
    params->spectral.nBands = 6;
    page->form()->setParams(*params);
    Q_EMIT page->form()->changed();
    EXPECT_TRUE(page->saveButton()->isEnabled());
    page->saveButton()->click();
    EXPECT_FALSE(page->saveButton()->isEnabled());
    EXPECT_EQ(features::featureParams(fromFile()->settings()).spectral.nBands, 6);

    ASSERT_TRUE(generate());
    // 3 axes x (3 statistics + 6 bands + 2 x 3 peaks)
    EXPECT_EQ(page->featureSet()->featureSize(), 3 * (3 + 6 + 6));
}

TEST_F(FeaturesTrainingTest, TrainsAndQuantizesThroughThePage)
{
    TrainingPage *page = m_window->trainingPage();
    m_window->showStage(MainWindow::Stage::Training);
    EXPECT_FALSE(page->report());
    EXPECT_FALSE(page->quantizeButton()->isEnabled());

    // Training computes the features itself when the Features page has not.
    ASSERT_TRUE(train(4)) << page->statusLabel()->text().toStdString();
    ASSERT_TRUE(page->report()) << page->statusLabel()->text().toStdString();
    const TrainingReport &r = *page->report();
    EXPECT_GE(r.epochsRun, 1);
    EXPECT_LE(r.epochsRun, 4);
    EXPECT_EQ(page->curves()->epochCount(), r.epochsRun);
    EXPECT_EQ(page->curves()->validationCount(), r.epochsRun);
    EXPECT_EQ(page->confusionMatrix()->total(), kTestSamples);
    EXPECT_EQ(page->classTable()->rowCount(), 4);
    EXPECT_EQ(page->classTable()->item(0, 0)->text(), QStringLiteral("idle"));
    EXPECT_FALSE(page->confusionMatrix()->cellText(0, 0).isEmpty());

    {
        auto other = fromFile();
        const auto runs = other->trainingRuns();
        ASSERT_EQ(runs.size(), 1);
        EXPECT_EQ(runs[0].status, TrainingStatus::Finished);
        EXPECT_TRUE(other->latestModel(ModelKind::Float));
    }

    ASSERT_TRUE(page->quantizeButton()->isEnabled());
    page->quantizeButton()->click();
    ASSERT_TRUE(QTest::qWaitFor([&] { return !page->isRunning(); }, 60000));
    ASSERT_TRUE(page->quantization()) << page->statusLabel()->text().toStdString();
    EXPECT_EQ(page->quantTable()->rowCount(), 5);
    for (int row = 0; row < page->quantTable()->rowCount(); ++row)
        EXPECT_FALSE(page->quantTable()->item(row, 2)->text().isEmpty());
    EXPECT_GT(page->quantization()->int8WeightBytes, 0);
    EXPECT_LT(page->quantization()->int8WeightBytes, page->quantization()->floatWeightBytes);
    EXPECT_GT(page->sqnrPlot()->barCount(), 0);
    EXPECT_TRUE(fromFile()->latestModel(ModelKind::Int8));

    // The latest run and its int8 model come back with the project.
    QString error;
    m_window->closeProject();
    ASSERT_TRUE(m_window->openProject(m_path, &error));
    ASSERT_TRUE(page->report());
    ASSERT_TRUE(page->quantization());
    EXPECT_EQ(page->curves()->epochCount(), r.epochsRun);
    EXPECT_EQ(page->confusionMatrix()->total(), kTestSamples);
    EXPECT_EQ(page->quantTable()->rowCount(), 5);
}

TEST_F(FeaturesTrainingTest, CancelStopsTrainingAndKeepsTheRunAsCancelled)
{
    TrainingPage *page = m_window->trainingPage();
    page->epochsSpin()->setValue(500);
    page->threadsSpin()->setValue(1);
    page->startButton()->click();
    ASSERT_TRUE(page->isRunning());
    ASSERT_TRUE(QTest::qWaitFor([&] { return page->curves()->epochCount() >= 1; }, 30000));
    EXPECT_TRUE(page->cancelButton()->isEnabled());
    page->cancelButton()->click();
    ASSERT_TRUE(QTest::qWaitFor([&] { return !page->isRunning(); }, 30000));
    EXPECT_FALSE(page->report());
    EXPECT_LT(page->curves()->epochCount(), 500);
    const auto runs = fromFile()->trainingRuns();
    ASSERT_EQ(runs.size(), 1);
    EXPECT_EQ(runs[0].status, TrainingStatus::Cancelled);
}

TEST_F(FeaturesTrainingTest, RemembersHyperParameters)
{
    TrainingPage *page = m_window->trainingPage();
    page->architectureCombo()->setCurrentIndex(page->architectureCombo()->findText(QStringLiteral("Dense network (MLP)")));
    page->epochsSpin()->setValue(2);
    page->learningRateSpin()->setValue(0.005);
    page->seedSpin()->setValue(7);
    ASSERT_TRUE(train(2));
    ASSERT_TRUE(page->report());
    EXPECT_EQ(page->report()->modelKind, QStringLiteral("mlp"));

    TrainingPage fresh;
    EXPECT_EQ(fresh.architectureCombo()->currentText(), QStringLiteral("Dense network (MLP)"));
    EXPECT_EQ(fresh.epochsSpin()->value(), 2);
    EXPECT_DOUBLE_EQ(fresh.learningRateSpin()->value(), 0.005);
    EXPECT_EQ(fresh.seedSpin()->value(), 7);
    QSettings().remove(QStringLiteral("training"));
}

TEST(FeaturesPageAudio, ShowsMfccFramesAsAColourMap)
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("kws.tinyml"));
    ProjectSettings settings;
    settings.name = QStringLiteral("keywords");
    settings.templateName = QStringLiteral("audio");
    settings.boardId = QStringLiteral("host");
    settings.labels = {QStringLiteral("yes"), QStringLiteral("no")};
    settings.sensor = QStringLiteral("mic");
    settings.sampleRateHz = 16000;
    settings.sampleLengthS = 1;
    QString error;
    {
        auto store = ProjectStore::create(path, settings, &error);
        ASSERT_TRUE(store) << error.toStdString();
        QVector<Sample> samples;
        for (const QString &label : settings.labels)
            for (int i = 0; i < 3; ++i)
                samples << test::audioSample(label, 16000);
        ASSERT_TRUE(store->addSamples(samples, &error)) << error.toStdString();
    }
    MainWindow window;
    ASSERT_TRUE(window.openProject(path, &error));
    FeaturesPage *page = window.featuresPage();
    ASSERT_TRUE(QTest::qWaitFor([&] { return !page->isRunning(); }, 10000));
    EXPECT_EQ(page->form()->kindCombo()->count(), 3);   // mfcc, mfe, raw
    page->generateButton()->click();
    ASSERT_TRUE(QTest::qWaitFor([&] { return !page->isRunning(); }, 30000));
    ASSERT_TRUE(page->featureSet()) << page->statusLabel()->text().toStdString();
    EXPECT_EQ(page->featureSet()->featureShape, (QVector<qint64>{1, 49, 10, 1}));
    EXPECT_EQ(page->scatter()->pointCount(), 6);
    EXPECT_TRUE(page->sampleFeatures()->showsColorMap());
}
