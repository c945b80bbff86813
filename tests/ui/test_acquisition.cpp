// The whole first loop through the window: wizard -> virtual board -> record two
// labelled samples -> relabel one -> undo, checked through a second ProjectStore.
#include "models/SampleTableModel.h"
#include "pages/AcquisitionPage.h"
#include "pages/DatasetPage.h"
#include "plots/LivePlot.h"
#include "window/MainWindow.h"
#include "window/ProjectSession.h"
#include "wizard/NewProjectWizard.h"

#include "device/VirtualBoard.h"
#include "store/ProjectStore.h"

#include <gtest/gtest.h>

#include <QAction>
#include <QAbstractButton>
#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <sys/types.h>

using namespace tinyml;
using namespace tinyml::ui;

namespace {

/// Runs the wizard for a motion project on `board` and hands it to the window.
QString createThroughWizard(MainWindow &window, const QString &dir, const QString &board)
{
    NewProjectWizard wizard(&window);
    wizard.show();
    wizard.setField(QStringLiteral("name"), QStringLiteral("wand"));
    wizard.setField(QStringLiteral("location"), dir);
    while (wizard.currentId() != NewProjectWizard::SummaryPage) {
        if (wizard.currentId() == NewProjectWizard::BoardPage)
            wizard.setField(QStringLiteral("board"), board);
        if (wizard.currentId() == NewProjectWizard::CapturePage)
            wizard.setField(QStringLiteral("length"), 0.5);   // short recordings keep the test fast
        const int before = wizard.currentId();
        wizard.next();
        if (wizard.currentId() == before)
            return {};
    }
    wizard.button(QWizard::FinishButton)->click();
    if (wizard.result() != QDialog::Accepted)
        return {};
    const QString path = wizard.projectPath();
    window.adoptNewProject(wizard);
    return path;
}

bool recordOne(AcquisitionPage *page, const QString &label, QVector<qint64> *ids, bool *complete)
{
    QSignalSpy spy(page, &AcquisitionPage::recordingFinished);
    page->setLabel(label);
    page->startRecording();
    if (!page->isRecording() || !spy.wait(20000))
        return false;
    *ids = spy.first().at(0).value<QVector<qint64>>();
    *complete = spy.first().at(1).toBool();
    return true;
}

void recordTwoRelabelUndo(const QString &board)
{
    QTemporaryDir dir;
    ASSERT_TRUE(dir.isValid());
    MainWindow window;
    window.resize(1280, 800);
    window.show();
    const QString path = createThroughWizard(window, dir.path(), board);
    ASSERT_FALSE(path.isEmpty()) << "the wizard did not finish";
    ASSERT_EQ(window.currentStage(), MainWindow::Stage::Acquisition);

    AcquisitionPage *acq = window.acquisitionPage();
    // The board boots in the event loop: the wizard returns at once, the page says so.
    EXPECT_TRUE(acq->isStartingBoard());
    EXPECT_EQ(acq->state(), AcquisitionPage::State::Connecting);
    EXPECT_TRUE(QTest::qWaitFor([&] { return !acq->isStartingBoard(); }, 30000));
    ASSERT_TRUE(acq->isConnected()) << "the virtual board did not start with the project: "
                                    << acq->boardStatusText().toStdString();
    acq->setCountdownSeconds(0);
    acq->setSampleLength(0.5);

    // The live preview runs while idle.
    ASSERT_TRUE(QTest::qWaitFor([&] { return acq->livePlot()->buffer().totalFrames() > 10; }, 10000))
        << "no live preview data";
    EXPECT_EQ(acq->livePlot()->buffer().channels(), 3);

    QVector<qint64> first, second;
    bool complete1 = false, complete2 = false;
    ASSERT_TRUE(recordOne(acq, QStringLiteral("idle"), &first, &complete1));
    acq->nextLabel();
    EXPECT_EQ(acq->label(), QStringLiteral("shake"));
    ASSERT_TRUE(recordOne(acq, acq->label(), &second, &complete2));
    ASSERT_EQ(first.size(), 1);
    ASSERT_EQ(second.size(), 1);
    EXPECT_TRUE(complete1);
    EXPECT_TRUE(complete2);

    // Each recording shows at once in the dataset table.
    SampleTableModel *model = window.datasetPage()->tableModel();
    ASSERT_EQ(model->rowCount(), 2);
    EXPECT_EQ(model->sampleAt(0)->label, QStringLiteral("idle"));
    EXPECT_EQ(model->sampleAt(1)->label, QStringLiteral("shake"));
    EXPECT_EQ(model->sampleAt(0)->frames, 50);   // 0.5 s at 100 Hz

    // Relabel the second one, then undo.
    window.showStage(MainWindow::Stage::Dataset);
    window.datasetPage()->selectIds(second);
    ASSERT_TRUE(window.datasetPage()->relabelSelected(QStringLiteral("circle")));
    {
        QString error;
        auto other = ProjectStore::open(path, &error);
        ASSERT_TRUE(other) << error.toStdString();
        EXPECT_EQ(other->sample(second.first())->label, QStringLiteral("circle"));
    }
    window.undoAction()->trigger();
    acq->disconnectDevice();

    QString error;
    auto other = ProjectStore::open(path, &error);
    ASSERT_TRUE(other) << error.toStdString();
    const QVector<SampleInfo> infos = other->sampleInfos();
    ASSERT_EQ(infos.size(), 2);
    EXPECT_EQ(infos[0].label, QStringLiteral("idle"));
    EXPECT_EQ(infos[1].label, QStringLiteral("shake"));
    EXPECT_EQ(infos[0].frames, 50);
    EXPECT_EQ(infos[0].channels, (QStringList{QStringLiteral("x"), QStringLiteral("y"), QStringLiteral("z")}));
    EXPECT_TRUE(infos[0].complete);
    EXPECT_EQ(infos[0].sensor, QStringLiteral("accel"));
}

} // namespace

TEST(AcquisitionFlow, HostAgentRecordTwoRelabelUndo)
{
    recordTwoRelabelUndo(QStringLiteral("host"));
}

TEST(AcquisitionFlow, QemuCortexM4RecordTwoRelabelUndo)
{
    // The build makes the image and configure requires QEMU: a missing one is a failure.
    QString why;
    ASSERT_FALSE(VirtualBoard::findQemu(QStringLiteral("qemu-system-arm"), &why).isEmpty()) << why.toStdString();
    ASSERT_FALSE(AgentLocator::findImage(QStringLiteral("qemu-mps2-an386/tinyml-agent.elf"), &why).isEmpty())
        << why.toStdString();
    recordTwoRelabelUndo(QStringLiteral("qemu-m4"));
}

TEST(AcquisitionFlow, LostBoardKeepsWhatArrived)
{
    QTemporaryDir dir;
    MainWindow window;
    window.show();
    const QString path = createThroughWizard(window, dir.path(), QStringLiteral("host"));
    ASSERT_FALSE(path.isEmpty());
    AcquisitionPage *acq = window.acquisitionPage();
    ASSERT_TRUE(QTest::qWaitFor([&] { return acq->isConnected(); }, 30000));
    acq->setCountdownSeconds(0);
    acq->setSampleLength(30);
    QSignalSpy spy(acq, &AcquisitionPage::recordingFinished);
    acq->setLabel(QStringLiteral("idle"));
    acq->startRecording();
    ASSERT_TRUE(QTest::qWaitFor([&] { return acq->state() == AcquisitionPage::State::Recording; }, 5000));
    QTest::qWait(700);
    // Pull the plug: kill the host agent process.
    ASSERT_TRUE(acq->virtualBoard());
    const qint64 pid = acq->virtualBoard()->processId();
    ASSERT_GT(pid, 0);
    ::kill(pid_t(pid), SIGKILL);
    QString error;
    ASSERT_TRUE(spy.wait(15000));
    const QVector<qint64> ids = spy.first().at(0).value<QVector<qint64>>();
    EXPECT_FALSE(spy.first().at(1).toBool());
    ASSERT_EQ(ids.size(), 1);
    auto other = ProjectStore::open(path, &error);
    ASSERT_TRUE(other);
    const auto s = other->sample(ids.first());
    ASSERT_TRUE(s);
    EXPECT_FALSE(s->complete);
    EXPECT_GT(s->frames(), 10);
    EXPECT_FALSE(acq->isConnected());
}

// Connecting to a QEMU board returns at once: the window stays live, a second Connect does
// not start a second QEMU, and Cancel stops the one that is booting.
TEST(AcquisitionFlow, VirtualBoardStartsWithoutFreezingAndCanBeCancelled)
{
    QTemporaryDir dir;
    MainWindow window;
    window.show();
    const QString path = createThroughWizard(window, dir.path(), QStringLiteral("qemu-m4"));
    ASSERT_FALSE(path.isEmpty());
    AcquisitionPage *acq = window.acquisitionPage();
    ASSERT_TRUE(acq->isStartingBoard());
    QAbstractButton *connectButton = nullptr;
    for (QAbstractButton *b : acq->findChildren<QAbstractButton *>())
        if (b->text() == QLatin1String("Cancel"))
            connectButton = b;
    ASSERT_TRUE(connectButton) << "no Cancel button while the board starts";
    EXPECT_TRUE(connectButton->isEnabled());
    ASSERT_TRUE(acq->virtualBoard());
    const VirtualBoard *first = acq->virtualBoard();
    QElapsedTimer t;
    t.start();
    while (acq->virtualBoard()->processId() <= 0 && t.elapsed() < 5000)
        QTest::qWait(5);
    const qint64 pid = acq->virtualBoard()->processId();
    ASSERT_GT(pid, 0);

    // Asking again (the Deployment page, a double click) keeps the board that is booting.
    EXPECT_TRUE(acq->connectDevice());
    EXPECT_EQ(acq->virtualBoard(), first);
    EXPECT_EQ(acq->virtualBoard()->processId(), pid);

    QSignalSpy finished(acq, &AcquisitionPage::connectFinished);
    connectButton->click();
    ASSERT_EQ(finished.size(), 1);
    EXPECT_FALSE(finished.first().at(0).toBool());
    EXPECT_EQ(acq->state(), AcquisitionPage::State::Disconnected);
    EXPECT_FALSE(acq->virtualBoard());
    EXPECT_NE(::kill(pid_t(pid), 0), 0) << "QEMU outlived Cancel";
    EXPECT_EQ(connectButton->text(), QStringLiteral("Connect"));

    // Connect again: it boots, and nothing of the cancelled start interferes.
    connectButton->click();
    EXPECT_TRUE(acq->isStartingBoard());
    ASSERT_TRUE(finished.wait(30000));
    EXPECT_TRUE(finished.last().at(0).toBool()) << finished.last().at(1).toString().toStdString();
    EXPECT_TRUE(acq->isConnected());
    EXPECT_EQ(finished.size(), 2);
    EXPECT_TRUE(QTest::qWaitFor([&] { return acq->livePlot()->buffer().totalFrames() > 10; }, 10000));
    acq->disconnectDevice();
}
