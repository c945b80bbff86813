// The Deployment page: a ProfileResult with known numbers shown in the table and the
// charts; stored profiles compared side by side and deleted with undo; the banner when no
// board is connected; options remembered; and the real flow, Flash & Profile on the host
// agent and on QEMU's Cortex-M4 after training and quantizing through the window, checked
// again through a second ProjectStore.
#include "pages/AcquisitionPage.h"
#include "pages/DeploymentPage.h"
#include "pages/TrainingPage.h"
#include "plots/ProfileCharts.h"
#include "plots/QCustomPlotInclude.h"
#include "UiTestProject.h"
#include "window/MainWindow.h"
#include "window/ProjectSession.h"

#include "CLibraryExporter.h"
#include "Profiler.h"
#include "device/VirtualBoard.h"
#include "store/ProjectStore.h"

#include <gtest/gtest.h>

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QFileInfo>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <csignal>
#include <sys/types.h>

using namespace tinyml;
using namespace tinyml::ui;

namespace {

/// A profile as the virtual Cortex-M4 would report it, with round numbers: 25 MHz, five
/// runs of 25 000 instructions (1 ms each) and one of 50 000 (2 ms), three layers.
deploy::ProfileResult knownResult()
{
    deploy::ProfileResult r;
    r.board = QStringLiteral("qemu-m4");
    r.boardName = QStringLiteral("Virtual Cortex-M4F (QEMU mps2-an386)");
    r.clockHz = 25000000;
    r.counter = QStringLiteral("instructions");
    r.agentVersion = QStringLiteral("0.3.0");
    r.agentBuild = QStringLiteral("gcc 12.2 -O3 2026-11-22");
    r.method = QStringLiteral("INVOKE x 6 after 2 warm-up, QEMU -icount shift=0");
    r.modelId = 7;
    r.modelName = QStringLiteral("mlp int8");
    r.createdUtc = QStringLiteral("2026-11-22T02:30:00Z");
    r.runs = 6;
    r.warmup = 2;
    r.runCounters = {25000, 25000, 25000, 50000, 25000, 25000};
    r.latencyMinMs = 1.0;
    r.latencyMedianMs = 1.0;
    r.latencyMaxMs = 2.0;
    r.layers = {{QStringLiteral("fc1"), QStringLiteral("fully_connected"), 6000, 15000, 0.6},
                {QStringLiteral("relu1"), QStringLiteral("relu"), 0, 1000, 0.04},
                {QStringLiteral("fc2"), QStringLiteral("fully_connected"), 4000, 9000, 0.36}};
    r.macs = 10000;
    r.arenaBytes = 2048;
    r.arenaLowerBoundBytes = 1792;
    r.packageBytes = 6000;
    r.flashBytes = 30000;
    r.energyUj = 36.3;
    r.energyEstimated = true;
    r.energySource = QStringLiteral("estimated: test power model, 110 uA/MHz at 3.3 V");
    r.outputsCompared = 8;
    r.bitexactOutputs = 8;
    r.deviceAccuracy = 0.875;
    r.hostInt8Accuracy = 0.875;
    return r;
}

/// The row of the results table whose metric starts with `metric`, or -1.
int rowOf(QTableWidget *t, const QString &metric)
{
    for (int r = 0; r < t->rowCount(); ++r)
        if (t->item(r, 0) && t->item(r, 0)->text().startsWith(metric))
            return r;
    return -1;
}

QString valueOf(QTableWidget *t, const QString &metric, int column = 1)
{
    const int r = rowOf(t, metric);
    return r < 0 || !t->item(r, column) ? QStringLiteral("<missing %1>").arg(metric) : t->item(r, column)->text();
}

/// A motion project on `board` with one stored int8 model entry (graph unused by the
/// page until Profiler::start, which these tests never reach) and no profiles.
QString projectWithModel(const QTemporaryDir &dir, const QString &board, qint64 *modelId)
{
    const QString path = dir.filePath(QStringLiteral("wand.tinyml"));
    QString error;
    auto store = test::createMotionProject(path, 3, &error);
    EXPECT_TRUE(store) << error.toStdString();
    if (!store)
        return {};
    ProjectSettings s = store->settings();
    s.boardId = board;
    EXPECT_TRUE(store->setSettings(s, &error)) << error.toStdString();
    StoredModel m;
    m.kind = ModelKind::Int8;
    m.name = QStringLiteral("mlp int8");
    m.metrics = QJsonObject{{QStringLiteral("int8_accuracy"), 0.875}};
    EXPECT_TRUE(store->addModel(m, &error)) << error.toStdString();
    *modelId = m.id;
    return path;
}

/// The acquisition page's live preview is streaming on the window's board link.
bool previewStreams(const MainWindow &window)
{
    const DeviceLink *link = window.acquisitionPage()->link();
    return link && link->isStreaming();
}

qint64 storeProfile(const QString &path, const deploy::ProfileResult &r)
{
    QString error;
    auto store = ProjectStore::open(path, &error);
    EXPECT_TRUE(store) << error.toStdString();
    StoredProfile p;
    p.modelId = r.modelId;
    p.boardId = r.board;
    p.created = QDateTime::fromString(r.createdUtc, Qt::ISODate);
    p.json = r.toJson();
    const auto id = store->addProfile(p, &error);
    EXPECT_TRUE(id) << error.toStdString();
    return id.value_or(0);
}

} // namespace

TEST(DeploymentPage, ShowsEveryNumberOfAProfileWithItsUnit)
{
    DeploymentPage page;
    page.resize(1100, 700);
    page.show();
    page.showResult(knownResult());
    QTableWidget *t = page.resultsTable();

    EXPECT_EQ(valueOf(t, QStringLiteral("Latency min")), QStringLiteral("1.000"));
    EXPECT_EQ(valueOf(t, QStringLiteral("Latency min"), 2), QStringLiteral("ms"));
    EXPECT_EQ(valueOf(t, QStringLiteral("Latency median")), QStringLiteral("1.000"));
    EXPECT_EQ(valueOf(t, QStringLiteral("Latency max")), QStringLiteral("2.000"));
    // Median of {25000 x5, 50000} in the counter's own unit, labelled as instructions.
    EXPECT_EQ(t->item(rowOf(t, QStringLiteral("Latency median (counter)")), 1)->data(Qt::UserRole).toDouble(), 25000.0);
    EXPECT_EQ(valueOf(t, QStringLiteral("Latency median (counter)"), 2), QStringLiteral("instructions"));
    // 25 000 instructions / 10 000 MACs.
    EXPECT_EQ(valueOf(t, QStringLiteral("Counter per MAC")), QStringLiteral("2.50"));
    EXPECT_EQ(valueOf(t, QStringLiteral("Counter per MAC"), 2), QStringLiteral("instructions/MAC"));
    EXPECT_EQ(t->item(rowOf(t, QStringLiteral("MACs per inference")), 1)->data(Qt::UserRole).toDouble(), 10000.0);
    EXPECT_EQ(t->item(rowOf(t, QStringLiteral("Arena (planned)")), 1)->data(Qt::UserRole).toDouble(), 2048.0);
    EXPECT_EQ(valueOf(t, QStringLiteral("Arena (planned)"), 2), QStringLiteral("B"));
    EXPECT_EQ(t->item(rowOf(t, QStringLiteral("Arena lower bound")), 1)->data(Qt::UserRole).toDouble(), 1792.0);
    // 2048 / 1792 = 1.142857: 14.3 % above the bound.
    EXPECT_EQ(valueOf(t, QStringLiteral("Arena above lower bound")), QStringLiteral("14.3"));
    // qemu-m4's board definition: 4 MiB RAM and flash.
    EXPECT_EQ(t->item(rowOf(t, QStringLiteral("Board RAM")), 1)->data(Qt::UserRole).toDouble(), 4194304.0);
    EXPECT_EQ(t->item(rowOf(t, QStringLiteral("Board flash")), 1)->data(Qt::UserRole).toDouble(), 4194304.0);
    EXPECT_EQ(t->item(rowOf(t, QStringLiteral("Flash (package + runtime)")), 1)->data(Qt::UserRole).toDouble(), 30000.0);
    EXPECT_EQ(t->item(rowOf(t, QStringLiteral("Package")), 1)->data(Qt::UserRole).toDouble(), 6000.0);
    EXPECT_EQ(valueOf(t, QStringLiteral("Clock")), QStringLiteral("25"));
    EXPECT_EQ(valueOf(t, QStringLiteral("Clock"), 2), QStringLiteral("MHz"));
    EXPECT_TRUE(valueOf(t, QStringLiteral("Timing")).contains(QStringLiteral("instruction count")));
    EXPECT_TRUE(valueOf(t, QStringLiteral("Timing")).contains(QStringLiteral("not cycles")));
    EXPECT_EQ(valueOf(t, QStringLiteral("Energy per inference (estimated)")), QStringLiteral("36.3"));
    EXPECT_EQ(valueOf(t, QStringLiteral("Energy per inference (estimated)"), 2), QStringLiteral("µJ"));
    EXPECT_EQ(valueOf(t, QStringLiteral("Energy source")), knownResult().energySource);
    EXPECT_EQ(valueOf(t, QStringLiteral("Device accuracy")), QStringLiteral("87.5"));
    EXPECT_EQ(valueOf(t, QStringLiteral("Device accuracy"), 2), QStringLiteral("%"));
    EXPECT_EQ(valueOf(t, QStringLiteral("Host int8 accuracy")), QStringLiteral("87.5"));
    EXPECT_EQ(valueOf(t, QStringLiteral("Bit-exact outputs")), QStringLiteral("8 / 8"));
    EXPECT_EQ(valueOf(t, QStringLiteral("Agent")), QStringLiteral("0.3.0 · gcc 12.2 -O3 2026-11-22"));

    // Charts: one point per run, the histogram holds every run, one bar per layer.
    ProfileCharts *c = page.charts();
    EXPECT_EQ(c->runPointCount(), 6);
    EXPECT_EQ(c->histogramRunCount(), 6);
    EXPECT_EQ(c->layerBarCount(), 3);
    EXPECT_EQ(c->energyBarCount(), 1);
    EXPECT_GE(c->accuracyPointCount(), 1);
    EXPECT_TRUE(c->bitexactText().contains(QStringLiteral("bit-exact 8 / 8"))) << c->bitexactText().toStdString();
    EXPECT_TRUE(c->energySourceText().startsWith(QStringLiteral("Estimated:")));
    EXPECT_TRUE(c->energySourceText().contains(QStringLiteral("test power model")));
    EXPECT_TRUE(c->energyPlot()->xAxis->label().contains(QStringLiteral("estimated")));
    EXPECT_EQ(c->runsPlot()->xAxis->label(), QStringLiteral("run\ninstruction count → ms at 25 MHz"));
    EXPECT_TRUE(c->layersPlot()->xAxis->label().contains(QStringLiteral("instruction count → ms at 25 MHz")));
    // The 2 ms run sets the top of the run chart.
    EXPECT_GT(c->runsPlot()->yAxis->range().upper, 2.0);
    // Layer names on the axis: "1 fully_connected", "2 relu", ...
    auto ticker = c->layersPlot()->yAxis->ticker().dynamicCast<QCPAxisTickerText>();
    ASSERT_TRUE(ticker);
    EXPECT_EQ(ticker->ticks().value(1), QStringLiteral("2 relu"));

    // Copy: the same rows as tab-separated text, numbers without grouping.
    ASSERT_TRUE(page.copyButton()->isEnabled());
    page.copyButton()->click();
    const QString copied = QApplication::clipboard()->text();
    EXPECT_EQ(copied, page.resultsText());
    const QStringList lines = copied.trimmed().split(QLatin1Char('\n'));
    EXPECT_EQ(lines.size(), t->rowCount() + 1);
    EXPECT_EQ(lines.first(), QStringLiteral("Metric\tValue\tUnit"));
    EXPECT_TRUE(lines.contains(QStringLiteral("Board RAM\t4194304\tB")));
    EXPECT_TRUE(lines.contains(QStringLiteral("Latency max\t2\tms")));
    EXPECT_TRUE(lines.contains(QStringLiteral("Bit-exact outputs\t8 / 8\toutputs")));
}

TEST(DeploymentPage, MarksOutputsThatAreNotBitExact)
{
    DeploymentPage page;
    deploy::ProfileResult r = knownResult();
    r.bitexactOutputs = 6;
    page.showResult(r);
    QTableWidget *t = page.resultsTable();
    const int row = rowOf(t, QStringLiteral("Bit-exact outputs"));
    ASSERT_GE(row, 0);
    EXPECT_EQ(t->item(row, 1)->text(), QStringLiteral("6 / 8"));
    EXPECT_EQ(t->item(row, 1)->foreground().color(), QColor(0xb9, 0x1c, 0x1c));
    EXPECT_TRUE(page.charts()->bitexactText().contains(QStringLiteral("6 / 8")));
}

TEST(DeploymentPage, ComparesStoredProfilesAndDeletesWithUndo)
{
    QTemporaryDir dir;
    qint64 modelId = 0;
    const QString path = projectWithModel(dir, QStringLiteral("qemu-m4"), &modelId);
    ASSERT_FALSE(path.isEmpty());
    deploy::ProfileResult a = knownResult();
    a.modelId = modelId;
    deploy::ProfileResult b = a;
    b.board = QStringLiteral("qemu-m7");
    b.createdUtc = QStringLiteral("2026-11-22T02:40:00Z");
    b.latencyMinMs = 2.0;
    b.latencyMedianMs = 2.5;
    b.latencyMaxMs = 3.0;
    b.energyUj = 72.6;
    const qint64 idA = storeProfile(path, a);
    const qint64 idB = storeProfile(path, b);

    MainWindow window;
    QString error;
    ASSERT_TRUE(window.openProject(path, &error)) << error.toStdString();
    window.showStage(MainWindow::Stage::Deployment);
    DeploymentPage *page = window.deploymentPage();
    ASSERT_EQ(page->profilesTable()->rowCount(), 2);
    EXPECT_EQ(page->modelCombo()->count(), 1);
    // The newest profile shows when the project opens, with the older one as energy context.
    ASSERT_TRUE(page->result());
    EXPECT_EQ(page->result()->board, QStringLiteral("qemu-m7"));
    EXPECT_EQ(page->charts()->energyBarCount(), 2);

    page->selectProfiles({idA, idB});
    QTableWidget *cmp = page->comparisonTable();
    ASSERT_GT(cmp->rowCount(), 0);
    EXPECT_EQ(cmp->horizontalHeaderItem(1)->text(), QStringLiteral("#%1").arg(idA));
    EXPECT_EQ(cmp->horizontalHeaderItem(2)->text(), QStringLiteral("#%1").arg(idB));
    EXPECT_EQ(cmp->item(rowOf(cmp, QStringLiteral("Board")), 2)->text(),
              QStringLiteral("Virtual Cortex-M4F (QEMU mps2-an386) (qemu-m7)"));
    const int median = rowOf(cmp, QStringLiteral("Latency median"));
    ASSERT_GE(median, 0);
    EXPECT_DOUBLE_EQ(cmp->item(median, 3)->data(Qt::UserRole).toDouble(), 2.5);
    EXPECT_EQ(cmp->item(median, 3)->text(), QStringLiteral("2.50×"));
    EXPECT_EQ(cmp->item(median, 4)->text(), QStringLiteral("ms"));
    const int energy = rowOf(cmp, QStringLiteral("Energy per inference (estimated)"));
    ASSERT_GE(energy, 0);
    EXPECT_DOUBLE_EQ(cmp->item(energy, 3)->data(Qt::UserRole).toDouble(), 2.0);
    EXPECT_TRUE(cmp->item(rowOf(cmp, QStringLiteral("Board")), 3)->text().isEmpty());   // no ratio for text

    // Delete the first, then undo through the window's Edit menu.
    page->selectProfiles({idA});
    ASSERT_TRUE(page->deleteButton()->isEnabled());
    page->deleteButton()->click();
    EXPECT_EQ(page->profilesTable()->rowCount(), 1);
    EXPECT_EQ(ProjectStore::open(path, &error)->profiles().size(), 1);
    ASSERT_TRUE(window.undoAction()->isEnabled());
    window.undoAction()->trigger();
    EXPECT_EQ(page->profilesTable()->rowCount(), 2);
    {
        auto other = ProjectStore::open(path, &error);
        const QVector<StoredProfile> kept = other->profiles();
        ASSERT_EQ(kept.size(), 2);
        const auto back = std::find_if(kept.cbegin(), kept.cend(), [](const StoredProfile &p) {
            return p.boardId == QLatin1String("qemu-m4");
        });
        ASSERT_NE(back, kept.cend());
        EXPECT_EQ(back->modelId, modelId);
        EXPECT_EQ(deploy::ProfileResult::fromJson(back->json).runCounters, a.runCounters);
    }
    window.redoAction()->trigger();
    EXPECT_EQ(page->profilesTable()->rowCount(), 1);
    EXPECT_EQ(ProjectStore::open(path, &error)->profiles().size(), 1);
}

TEST(DeploymentPage, SaysWhenNoBoardIsConnectedAndStaysUsable)
{
    QTemporaryDir dir;
    qint64 modelId = 0;
    // A real board: nothing to start by itself.
    const QString path = projectWithModel(dir, QStringLiteral("nucleo-l4r5zi"), &modelId);
    ASSERT_FALSE(path.isEmpty());
    deploy::ProfileResult r = knownResult();
    r.modelId = modelId;
    storeProfile(path, r);

    MainWindow window;
    QString error;
    ASSERT_TRUE(window.openProject(path, &error)) << error.toStdString();
    window.showStage(MainWindow::Stage::Deployment);
    DeploymentPage *page = window.deploymentPage();
    EXPECT_TRUE(page->boardLabel()->text().contains(QStringLiteral("not connected")));
    EXPECT_TRUE(page->connectButton()->isVisibleTo(page));
    ASSERT_TRUE(page->profileButton()->isEnabled());
    page->profileButton()->click();
    EXPECT_FALSE(page->isRunning());
    EXPECT_TRUE(page->banner()->isVisibleTo(page));
    EXPECT_TRUE(page->banner()->text().startsWith(QStringLiteral("No board is connected")))
        << page->banner()->text().toStdString();
    // The rest of the page keeps working: the stored profile is listed and shown.
    EXPECT_TRUE(page->profileButton()->isEnabled());
    EXPECT_EQ(page->profilesTable()->rowCount(), 1);
    ASSERT_TRUE(page->result());
    EXPECT_EQ(page->charts()->runPointCount(), 6);
    EXPECT_EQ(ProjectStore::open(path, &error)->profiles().size(), 1);

    // This model entry has no graph: the export says so in the banner and writes nothing.
    const QString zip = dir.filePath(QStringLiteral("model.zip"));
    EXPECT_FALSE(page->exportLibrary(false, zip));
    EXPECT_TRUE(page->banner()->text().startsWith(QStringLiteral("Export failed:"))) << page->banner()->text().toStdString();
    EXPECT_FALSE(QFileInfo::exists(zip));
}

TEST(DeploymentPage, ShowsTheProfilersRefusalAndStoresNothing)
{
    QTemporaryDir dir;
    qint64 modelId = 0;
    // The host agent starts by itself; this int8 model entry has no graph to compile.
    const QString path = projectWithModel(dir, QStringLiteral("host"), &modelId);
    ASSERT_FALSE(path.isEmpty());
    MainWindow window;
    QString error;
    ASSERT_TRUE(window.openProject(path, &error)) << error.toStdString();
    window.acquisitionPage()->setRealtime(false);
    window.showStage(MainWindow::Stage::Deployment);
    DeploymentPage *page = window.deploymentPage();
    // Connecting starts the live preview; it stops first, then the Profiler refuses the model.
    page->startProfile();
    EXPECT_TRUE(QTest::qWaitFor([&] { return window.acquisitionPage()->isConnected(); }, 30000));
    EXPECT_TRUE(QTest::qWaitFor([&] { return page->banner()->isVisibleTo(page); }, 5000));
    EXPECT_FALSE(page->isRunning());
    EXPECT_TRUE(page->banner()->text().startsWith(QStringLiteral("Not started:"))) << page->banner()->text().toStdString();
    EXPECT_TRUE(page->boardLabel()->text().contains(QStringLiteral("connected")));
    EXPECT_TRUE(page->profileButton()->isEnabled());
    EXPECT_TRUE(ProjectStore::open(path, &error)->profiles().isEmpty());
    // The preview it stopped streams again.
    EXPECT_TRUE(QTest::qWaitFor([&] { return previewStreams(window); }, 5000));
    window.acquisitionPage()->disconnectDevice();
}

// Flash & Profile on a QEMU board that is not running: the page waits for the boot in the
// event loop ("Starting the virtual board…"), refuses a second start, and Cancel ends the wait.
TEST(DeploymentPage, WaitsForTheVirtualBoardAndCancelStopsIt)
{
    QTemporaryDir dir;
    qint64 modelId = 0;
    const QString path = projectWithModel(dir, QStringLiteral("qemu-m4"), &modelId);
    ASSERT_FALSE(path.isEmpty());
    MainWindow window;
    QString error;
    ASSERT_TRUE(window.openProject(path, &error)) << error.toStdString();
    window.acquisitionPage()->setRealtime(false);
    window.showStage(MainWindow::Stage::Deployment);
    DeploymentPage *page = window.deploymentPage();
    AcquisitionPage *acq = window.acquisitionPage();
    ASSERT_FALSE(acq->isConnected());

    EXPECT_TRUE(page->startProfile());
    EXPECT_TRUE(acq->isStartingBoard());
    EXPECT_TRUE(page->statusLabel()->text().startsWith(QStringLiteral("Starting the virtual board")))
        << page->statusLabel()->text().toStdString();
    EXPECT_FALSE(page->profileButton()->isEnabled());
    EXPECT_TRUE(page->cancelButton()->isEnabled());
    const VirtualBoard *booting = acq->virtualBoard();
    ASSERT_TRUE(booting);
    EXPECT_FALSE(page->startProfile()) << "a second Flash & Profile while the board boots";
    EXPECT_EQ(acq->virtualBoard(), booting);

    page->cancelButton()->click();
    EXPECT_FALSE(acq->isStartingBoard());
    EXPECT_EQ(acq->state(), AcquisitionPage::State::Disconnected);
    EXPECT_TRUE(page->banner()->isVisibleTo(page));
    EXPECT_TRUE(page->banner()->text().contains(QStringLiteral("cancelled"))) << page->banner()->text().toStdString();
    EXPECT_TRUE(page->profileButton()->isEnabled());
    EXPECT_FALSE(page->isRunning());
    // Nothing of the cancelled start arrives later.
    QTest::qWait(1500);
    EXPECT_FALSE(acq->isConnected());
    EXPECT_FALSE(page->isRunning());
    EXPECT_TRUE(ProjectStore::open(path, &error)->profiles().isEmpty());
}

TEST(DeploymentPage, RemembersItsOptions)
{
    {
        DeploymentPage page;
        page.runsSpin()->setValue(17);
        page.warmupSpin()->setValue(3);
        page.accuracyCheck()->setChecked(false);
    }
    DeploymentPage fresh;
    EXPECT_EQ(fresh.runsSpin()->value(), 17);
    EXPECT_EQ(fresh.warmupSpin()->value(), 3);
    EXPECT_FALSE(fresh.accuracyCheck()->isChecked());
    EXPECT_TRUE(fresh.profileButton()->toolTip().contains(QStringLiteral("Ctrl+Shift+R")));
    QSettings().remove(QStringLiteral("deployment"));
}

// --- the real flow ------------------------------------------------------------------------------

namespace {

constexpr int kPerLabel = 6;                        // 4 labels x 6 = 24 samples, every fifth one for test
constexpr int kTestSamples = 4 * kPerLabel / 5;

class DeploymentFlow : public ::testing::Test
{
protected:
    // The window first: its pages report to members of this fixture while they shut down.
    void TearDown() override { m_window.reset(); }

    /// A motion project on `board`, trained (3 epochs) and quantized through the window.
    void prepare(const QString &board)
    {
        ASSERT_TRUE(m_dir.isValid());
        m_path = m_dir.filePath(QStringLiteral("wand.tinyml"));
        QString error;
        {
            auto store = test::createMotionProject(m_path, kPerLabel, &error);
            ASSERT_TRUE(store) << error.toStdString();
            ProjectSettings s = store->settings();
            s.boardId = board;
            ASSERT_TRUE(store->setSettings(s, &error)) << error.toStdString();
        }
        m_window = std::make_unique<MainWindow>();
        m_window->resize(1280, 800);
        m_window->show();
        ASSERT_TRUE(m_window->openProject(m_path, &error)) << error.toStdString();
        m_window->acquisitionPage()->setRealtime(false);
        TrainingPage *training = m_window->trainingPage();
        training->epochsSpin()->setValue(3);
        training->threadsSpin()->setValue(1);
        ASSERT_TRUE(training->startTraining());
        ASSERT_TRUE(QTest::qWaitFor([&] { return !training->isRunning(); }, 120000));
        ASSERT_TRUE(training->report()) << training->statusLabel()->text().toStdString();
        ASSERT_TRUE(training->startQuantization());
        ASSERT_TRUE(QTest::qWaitFor([&] { return !training->isRunning(); }, 120000));
        ASSERT_TRUE(training->quantization()) << training->statusLabel()->text().toStdString();
        m_int8Id = training->quantization()->modelId;
        m_window->showStage(MainWindow::Stage::Deployment);
        m_page = m_window->deploymentPage();
    }

    /// Clicks Flash & Profile and waits for the end; false when it did not finish.
    bool profile(int runs, int warmup, bool accuracy)
    {
        m_page->runsSpin()->setValue(runs);
        m_page->warmupSpin()->setValue(warmup);
        m_page->accuracyCheck()->setChecked(accuracy);
        QSignalSpy done(m_page, &DeploymentPage::profileFinished);
        m_page->profileButton()->click();
        return done.wait(300000) && done.first().at(0).toBool();
    }

    std::unique_ptr<ProjectStore> fromFile()
    {
        QString error;
        auto other = ProjectStore::open(m_path, &error);
        EXPECT_TRUE(other) << error.toStdString();
        return other;
    }

    void flashAndProfile(const QString &board, const QString &counter)
    {
        prepare(board);
        if (HasFatalFailure())
            return;
        ASSERT_EQ(m_page->modelCombo()->count(), 1);
        EXPECT_EQ(m_page->modelCombo()->currentData().toLongLong(), m_int8Id);
        // Not connected yet: the one button starts the project's virtual board itself.
        EXPECT_FALSE(m_window->acquisitionPage()->isConnected());

        QObject::connect(m_page->progressBar(), &QProgressBar::valueChanged, m_page,
                         [this] { m_progressTexts << m_page->progressBar()->format(); });
        ASSERT_TRUE(profile(6, 2, true)) << m_page->banner()->text().toStdString();
        EXPECT_TRUE(m_window->acquisitionPage()->isConnected());
        // The live preview the profile stopped streams again.
        EXPECT_TRUE(QTest::qWaitFor([&] { return previewStreams(*m_window); }, 5000));
        EXPECT_FALSE(m_page->banner()->isVisibleTo(m_page)) << m_page->banner()->text().toStdString();
        EXPECT_TRUE(m_progressTexts.contains(QStringLiteral("Run 6/6"))) << m_progressTexts.join(QLatin1Char('|')).toStdString();
        EXPECT_TRUE(m_progressTexts.contains(QStringLiteral("Accuracy %1/%1").arg(kTestSamples)))
            << m_progressTexts.join(QLatin1Char('|')).toStdString();

        ASSERT_TRUE(m_page->result());
        const deploy::ProfileResult r = *m_page->result();
        EXPECT_EQ(r.board, board);
        EXPECT_EQ(r.counter, counter);
        EXPECT_EQ(r.modelId, m_int8Id);
        EXPECT_EQ(r.runs, 6);
        ASSERT_EQ(r.runCounters.size(), 6);
        EXPECT_GT(r.latencyMedianMs, 0.0);
        EXPECT_LE(r.latencyMinMs, r.latencyMedianMs);
        EXPECT_LE(r.latencyMedianMs, r.latencyMaxMs);
        ASSERT_FALSE(r.layers.isEmpty());
        EXPECT_GT(r.arenaBytes, 0);
        EXPECT_GE(r.arenaBytes, r.arenaLowerBoundBytes);
        EXPECT_GT(r.flashBytes, r.packageBytes);
        EXPECT_TRUE(r.energyEstimated);
        EXPECT_GT(r.energyUj, 0.0);
        // The device gives the host int8 reference's answers, bit for bit.
        EXPECT_EQ(r.outputsCompared, kTestSamples);
        EXPECT_EQ(r.bitexactOutputs, r.outputsCompared);
        EXPECT_DOUBLE_EQ(r.deviceAccuracy, r.hostInt8Accuracy);
        EXPECT_DOUBLE_EQ(r.hostInt8Accuracy, m_window->trainingPage()->quantization()->int8Accuracy);

        // Charts: one point per run, every run in the histogram, one bar per layer.
        ProfileCharts *c = m_page->charts();
        EXPECT_EQ(c->runPointCount(), 6);
        EXPECT_EQ(c->histogramRunCount(), 6);
        EXPECT_EQ(c->layerBarCount(), r.layers.size());
        EXPECT_GE(c->accuracyPointCount(), 1);
        EXPECT_EQ(c->energyBarCount(), 1);
        EXPECT_TRUE(c->bitexactText().contains(QStringLiteral("bit-exact %1 / %1").arg(kTestSamples)))
            << c->bitexactText().toStdString();
        EXPECT_TRUE(c->energySourceText().startsWith(QStringLiteral("Estimated:")));
        if (counter == QLatin1String("instructions"))
            EXPECT_EQ(c->runsPlot()->xAxis->label(), QStringLiteral("run\ninstruction count → ms at 25 MHz"));

        // The table shows the numbers with units.
        QTableWidget *t = m_page->resultsTable();
        EXPECT_DOUBLE_EQ(t->item(rowOf(t, QStringLiteral("Latency median")), 1)->data(Qt::UserRole).toDouble(),
                         r.latencyMedianMs);
        EXPECT_EQ(valueOf(t, QStringLiteral("Latency median"), 2), QStringLiteral("ms"));
        EXPECT_EQ(valueOf(t, QStringLiteral("Bit-exact outputs")), QStringLiteral("%1 / %1").arg(kTestSamples));
        EXPECT_EQ(t->item(rowOf(t, QStringLiteral("Arena (planned)")), 1)->data(Qt::UserRole).toDouble(),
                  double(r.arenaBytes));

        // Stored in the project, as a second store reads it.
        auto other = fromFile();
        const QVector<StoredProfile> stored = other->profiles();
        ASSERT_EQ(stored.size(), 1);
        EXPECT_EQ(stored[0].modelId, m_int8Id);
        EXPECT_EQ(stored[0].boardId, board);
        const deploy::ProfileResult back = deploy::ProfileResult::fromJson(stored[0].json);
        EXPECT_EQ(back.runCounters, r.runCounters);
        EXPECT_EQ(back.bitexactOutputs, kTestSamples);
        EXPECT_EQ(m_page->profilesTable()->rowCount(), 1);
        EXPECT_EQ(m_page->selectedProfileIds(), QVector<qint64>{stored[0].id});

        // A second profile (no upload needed; it stops the preview again) and the two side by side.
        ASSERT_TRUE(profile(3, 0, false)) << m_page->banner()->text().toStdString();
        EXPECT_TRUE(QTest::qWaitFor([&] { return previewStreams(*m_window); }, 5000));
        EXPECT_EQ(m_page->charts()->runPointCount(), 3);
        const QVector<StoredProfile> both = fromFile()->profiles();
        ASSERT_EQ(both.size(), 2);
        EXPECT_EQ(deploy::ProfileResult::fromJson(both[1].json).outputsCompared, 0);
        m_page->selectProfiles({both[0].id, both[1].id});
        EXPECT_GT(m_page->comparisonTable()->rowCount(), 0);

        // The same model as a C library zip.
        const QString zip = m_dir.filePath(QStringLiteral("model.zip"));
        ASSERT_TRUE(m_page->exportLibrary(false, zip)) << m_page->banner()->text().toStdString();
        QString error;
        const auto files = deploy::CLibraryExporter::readZip(zip, &error);
        ASSERT_TRUE(files) << error.toStdString();
        EXPECT_TRUE(std::any_of(files->cbegin(), files->cend(), [](const deploy::ExportedFile &f) {
            return f.path == QLatin1String("tinyml_model/include/tinyml_model.h");
        }));
        m_window->acquisitionPage()->disconnectDevice();
    }

    QTemporaryDir m_dir;
    QString m_path;
    std::unique_ptr<MainWindow> m_window;
    DeploymentPage *m_page = nullptr;
    qint64 m_int8Id = 0;
    QStringList m_progressTexts;   ///< the progress bar's text at every value change
};

} // namespace

TEST_F(DeploymentFlow, FlashAndProfileOnTheHostAgent)
{
    flashAndProfile(QStringLiteral("host"), QStringLiteral("microseconds"));
}

TEST_F(DeploymentFlow, FlashAndProfileOnQemuCortexM4)
{
    // The build makes the image and configure requires QEMU: a missing one is a failure.
    QString why;
    ASSERT_FALSE(VirtualBoard::findQemu(QStringLiteral("qemu-system-arm"), &why).isEmpty()) << why.toStdString();
    ASSERT_FALSE(AgentLocator::findImage(QStringLiteral("qemu-mps2-an386/tinyml-agent.elf"), &why).isEmpty())
        << why.toStdString();
    flashAndProfile(QStringLiteral("qemu-m4"), QStringLiteral("instructions"));
}

TEST_F(DeploymentFlow, BoardLostMidRunIsReportedAndNothingIsStored)
{
    prepare(QStringLiteral("host"));
    if (HasFatalFailure())
        return;
    m_page->runsSpin()->setValue(5000);
    m_page->warmupSpin()->setValue(0);
    m_page->accuracyCheck()->setChecked(false);
    QSignalSpy done(m_page, &DeploymentPage::profileFinished);
    m_page->profileButton()->click();
    ASSERT_TRUE(QTest::qWaitFor([&] { return m_page->charts()->runPointCount() >= 3 || !done.isEmpty(); }, 60000));
    ASSERT_TRUE(done.isEmpty()) << "the run ended before the plug was pulled";
    VirtualBoard *board = m_window->acquisitionPage()->virtualBoard();
    ASSERT_TRUE(board);
    ASSERT_GT(board->processId(), 0);
    ::kill(pid_t(board->processId()), SIGKILL);
    ASSERT_TRUE(done.wait(30000));
    EXPECT_FALSE(done.first().at(0).toBool());
    EXPECT_FALSE(m_page->isRunning());
    EXPECT_TRUE(m_page->banner()->isVisibleTo(m_page));
    EXPECT_TRUE(m_page->banner()->text().contains(QStringLiteral("lost"))) << m_page->banner()->text().toStdString();
    EXPECT_TRUE(fromFile()->profiles().isEmpty());
    // The page stays usable: the button is there for the next attempt.
    EXPECT_TRUE(m_page->profileButton()->isEnabled());
}
