// The Fleet page (issue 17): a fleet of two host virtual boards saved in the project shows in
// the members table; "Attest all" runs on a worker thread against the real host agents, which
// are not provisioned, and the table says so per member; drift without readings says so, and
// telemetry rows written to the project are plotted per member.
#include "pages/FleetPage.h"
#include "plots/QCustomPlotInclude.h"
#include "UiTestProject.h"
#include "window/MainWindow.h"
#include "window/WorkbenchStyle.h"

#include "Flasher.h"
#include "ModelPackageWriter.h"
#include "SignedPackages.h"
#include "crypto/SignedPackage.h"
#include "crypto/SigningKeyStore.h"
#include "model/Graph.h"
#include "fleet/Fleet.h"
#include "device/BoardRegistry.h"
#include "store/ProjectStore.h"

#include <gtest/gtest.h>

#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

using namespace tinyml;
using namespace tinyml::ui;

namespace {

class FleetPageTest : public ::testing::Test
{
protected:
    void SetUp() override
    {
        ASSERT_TRUE(m_dir.isValid());
        // the signing keys and device identities of this test only
        m_keyDir = qgetenv("TINYML_KEY_DIR");
        qputenv("TINYML_KEY_DIR", m_dir.filePath(QStringLiteral("keys")).toUtf8());
        m_path = m_dir.filePath(QStringLiteral("fleet.tinyml"));
        QString error;
        auto store = test::createMotionProject(m_path, 5, &error);
        ASSERT_TRUE(store) << error.toStdString();
        deploy::fleet::Fleet f;
        f.name = QStringLiteral("bench");
        for (int i = 1; i <= 2; ++i) {
            deploy::fleet::FleetMember m;
            m.board = QStringLiteral("host");
            m.name = QStringLiteral("host-%1").arg(i);
            // each test its own devices (the process shares one virtual boards folder)
            m.stateDirectory = m_dir.filePath(QStringLiteral("boards/%1").arg(m.name));
            f.members.append(m);
        }
        ASSERT_TRUE(store->saveFleet(f.name, f.toJson(), &error)) << error.toStdString();
        store.reset();
        m_window = std::make_unique<MainWindow>();
        ASSERT_TRUE(m_window->openProject(m_path, &error)) << error.toStdString();
        m_window->showStage(MainWindow::Stage::Fleet);
        m_page = m_window->fleetPage();
    }

    void TearDown() override
    {
        if (m_keyDir.isEmpty())
            qunsetenv("TINYML_KEY_DIR");
        else
            qputenv("TINYML_KEY_DIR", m_keyDir);
    }

    QString cell(int row, int column) const
    {
        const QTableWidgetItem *item = m_page->membersTable()->item(row, column);
        return item ? item->text() : QString();
    }

    QByteArray m_keyDir;
    QTemporaryDir m_dir;
    QString m_path;
    std::unique_ptr<MainWindow> m_window;
    FleetPage *m_page = nullptr;
};

TEST_F(FleetPageTest, ShowsTheFleetAndItsMembers)
{
    EXPECT_EQ(m_window->currentStage(), MainWindow::Stage::Fleet);
    EXPECT_EQ(m_page->currentFleet(), QStringLiteral("bench"));
    ASSERT_EQ(m_page->membersTable()->rowCount(), 2);
    EXPECT_EQ(cell(0, FleetPage::MemberColumn), QStringLiteral("host-1"));
    EXPECT_EQ(cell(1, FleetPage::MemberColumn), QStringLiteral("host-2"));
    EXPECT_TRUE(cell(0, FleetPage::BoardColumn).contains(QStringLiteral("host")));
    EXPECT_EQ(cell(0, FleetPage::PhaseColumn), QStringLiteral("no rollout yet"));
    EXPECT_EQ(cell(1, FleetPage::AttestedColumn), QStringLiteral("not checked"));
    EXPECT_TRUE(m_page->rolloutStatus()->text().contains(QStringLiteral("No rollout")));
    EXPECT_TRUE(m_page->driftStatus()->text().contains(QStringLiteral("no drift readings yet")));
    EXPECT_EQ(m_page->driftPlot()->graphCount(), 0);
}

TEST_F(FleetPageTest, AttestAllOnUnprovisionedHostAgents)
{
    QSignalSpy finished(m_page, &FleetPage::jobFinished);
    ASSERT_TRUE(m_page->attestButton()->isEnabled());
    m_page->attestButton()->click();
    EXPECT_TRUE(m_page->isRunning());
    EXPECT_FALSE(m_page->attestButton()->isEnabled());   // one job at a time
    ASSERT_TRUE(finished.wait(180000)) << m_page->logView()->toPlainText().toStdString();
    EXPECT_FALSE(m_page->isRunning());
    ASSERT_EQ(m_page->membersTable()->rowCount(), 2);
    for (int row = 0; row < 2; ++row) {
        const QString attested = cell(row, FleetPage::AttestedColumn);
        const QString why = m_page->membersTable()->item(row, FleetPage::AttestedColumn)->toolTip();
        SCOPED_TRACE(attested.toStdString() + " / " + m_page->logView()->toPlainText().toStdString());
        EXPECT_TRUE(attested.startsWith(QStringLiteral("no: ")));
        // the agent's own refusal (or the host's check) names the missing provisioning
        EXPECT_TRUE(why.contains(QStringLiteral("provision"), Qt::CaseInsensitive));
    }
    EXPECT_TRUE(m_page->logView()->toPlainText().contains(QStringLiteral("host-2")));
}

TEST_F(FleetPageTest, ProvisionAllThenAttestAllVerifies)
{
    QString error;
    crypto::SigningKeyStore keys(crypto::SigningKeyStore::defaultDirectory());
    ASSERT_EQ(keys.directory(), m_dir.filePath(QStringLiteral("keys")));
    ASSERT_TRUE(keys.create(QStringLiteral("release"), &error)) << error.toStdString();
    QSignalSpy finished(m_page, &FleetPage::jobFinished);
    ASSERT_TRUE(m_page->provisionAll());   // one key with its secret: no question asked
    ASSERT_TRUE(finished.wait(180000)) << m_page->logView()->toPlainText().toStdString();
    const QString log = m_page->logView()->toPlainText();
    EXPECT_TRUE(log.contains(QStringLiteral("host-1: provisioned with key"))) << log.toStdString();
    EXPECT_TRUE(log.contains(QStringLiteral("host-2: provisioned with key"))) << log.toStdString();
    ASSERT_TRUE(m_page->attestAll());
    ASSERT_TRUE(finished.wait(180000)) << m_page->logView()->toPlainText().toStdString();
    for (int row = 0; row < 2; ++row) {
        SCOPED_TRACE(m_page->logView()->toPlainText().toStdString());
        EXPECT_EQ(cell(row, FleetPage::AttestedColumn), QStringLiteral("yes"));
        // two boards, two device identities
        EXPECT_TRUE(m_page->membersTable()->item(row, FleetPage::AttestedColumn)->toolTip().startsWith(QStringLiteral("device ")));
    }
    EXPECT_NE(m_page->membersTable()->item(0, FleetPage::AttestedColumn)->toolTip().section(QLatin1Char(','), 0, 0),
              m_page->membersTable()->item(1, FleetPage::AttestedColumn)->toolTip().section(QLatin1Char(','), 0, 0));
}

/// Trains a small int8 model into the project and signs its package as versions 1, 2 and 3 in
/// signed/ beside it (what `tinyml sign` does). Returns the model id, 0 with *error.
qint64 addSignedModel(const QString &path, QString *error)
{
    auto store = ProjectStore::open(path, error);
    if (!store)
        return 0;
    const qint64 id = test::trainInt8Model(*store, 4, error);
    if (!id)
        return 0;
    const auto stored = store->model(id, error);
    const auto graph = stored ? model::Graph::deserialize(stored->graph, error) : std::nullopt;
    deploy::ModelPackageWriter writer;
    const auto package = graph ? writer.write(*graph, error) : std::nullopt;
    crypto::SigningKeyStore keys(crypto::SigningKeyStore::defaultDirectory());
    const auto key = package ? keys.create(QStringLiteral("release"), error) : std::nullopt;
    if (!key)
        return 0;
    QDir().mkpath(deploy::signedPackagesFolder(path));
    for (quint32 version : {1u, 2u, 3u}) {
        const auto bytes = crypto::signPackage(*package, version, key->id, keys, error);
        QFile f(QDir(deploy::signedPackagesFolder(path)).filePath(QStringLiteral("model-%1-v%2.tmpks").arg(id).arg(version)));
        if (!bytes || !f.open(QIODevice::WriteOnly) || f.write(*bytes) != bytes->size())
            return 0;
    }
    return id;
}

TEST_F(FleetPageTest, RollsOutStopsResumesAndRollsBackByHand)
{
    QString error;
    const qint64 modelId = addSignedModel(m_path, &error);
    ASSERT_GT(modelId, 0) << error.toStdString();
    const QString signedDir = deploy::signedPackagesFolder(m_path);
    auto packageFile = [&](int version) {
        return QDir(signedDir).filePath(QStringLiteral("model-%1-v%2.tmpks").arg(modelId).arg(version));
    };
    QSignalSpy finished(m_page, &FleetPage::jobFinished);
    auto log = [&] { return m_page->logView()->toPlainText().toStdString(); };
    auto lastRollout = [&] {
        auto store = ProjectStore::open(m_path, &error);
        EXPECT_TRUE(store) << error.toStdString();
        const auto all = store ? store->rollouts(QStringLiteral("bench")) : QVector<StoredRollout>{};
        return all.isEmpty() ? StoredRollout{} : all.last();
    };
    auto expectCompleted = [&](int version) {
        const StoredRollout r = lastRollout();
        EXPECT_EQ(r.status, QStringLiteral("completed")) << log();
        // the page shows what the project file holds: both stages done, every member confirmed
        EXPECT_TRUE(m_page->rolloutStatus()->text().contains(QStringLiteral("Rollout %1</b>: completed").arg(r.id)));
        const auto boxes = m_page->findChildren<QLabel *>(QStringLiteral("stageBox"));
        ASSERT_EQ(boxes.size(), 2);
        for (const QLabel *box : boxes)
            EXPECT_TRUE(box->text().endsWith(QStringLiteral("done"))) << box->text().toStdString();
        for (int row = 0; row < 2; ++row) {
            EXPECT_EQ(cell(row, FleetPage::PhaseColumn), QStringLiteral("confirmed (rollout %1)").arg(r.id));
            EXPECT_EQ(cell(row, FleetPage::VersionColumn), QString::number(version));
        }
    };
    ASSERT_TRUE(m_page->provisionAll());
    ASSERT_TRUE(finished.wait(180000)) << log();
    ASSERT_TRUE(m_page->startRollout(modelId, packageFile(1), {50, 100}, 0, 10));
    ASSERT_TRUE(finished.wait(300000)) << log();
    expectCompleted(1);

    // Stop right away: the worker stops at its next step; the rollout stays unfinished in the
    // project file, the page offers Resume / Abort, and Resume completes it
    ASSERT_TRUE(m_page->startRollout(modelId, packageFile(2), {50, 100}, 0, 10));
    m_page->stop();
    ASSERT_TRUE(finished.wait(300000)) << log();
    EXPECT_TRUE(m_page->logView()->toPlainText().contains(QStringLiteral("on request; run the rollout again to resume it"))) << log();
    EXPECT_EQ(lastRollout().status, QStringLiteral("running"));
    EXPECT_TRUE(m_page->rolloutStatus()->text().contains(QStringLiteral("has not finished")));
    auto *resume = m_page->findChild<QPushButton *>(QStringLiteral("resumeRollout"));
    ASSERT_TRUE(resume);
    EXPECT_TRUE(resume->isEnabled());
    resume->click();
    ASSERT_TRUE(finished.wait(300000)) << log();
    expectCompleted(2);
    EXPECT_FALSE(resume->isEnabled());

    // a confirmed package is final: the agent refuses a hand rollback, and the page says why
    ASSERT_TRUE(m_page->rollBackMember(QStringLiteral("host-1")));
    ASSERT_TRUE(finished.wait(180000)) << log();
    EXPECT_TRUE(m_page->logView()->toPlainText().contains(QStringLiteral("host-1: rollback refused"))) << log();
    ASSERT_TRUE(m_page->attestAll());
    ASSERT_TRUE(finished.wait(180000)) << log();
    EXPECT_EQ(cell(0, FleetPage::VersionColumn), QStringLiteral("2 (attested)")) << log();
    EXPECT_EQ(cell(1, FleetPage::VersionColumn), QStringLiteral("2 (attested)")) << log();

    // version 3 flashed to host-1 outside a rollout is on trial: Roll back takes it to 2 again
    {
        QFile v3(packageFile(3));
        ASSERT_TRUE(v3.open(QIODevice::ReadOnly));
        const QByteArray signedV3 = v3.readAll();
        BoardRegistry registry;
        ASSERT_TRUE(registry.loadDefault(&error)) << error.toStdString();
        auto store = ProjectStore::open(m_path, &error);
        ASSERT_TRUE(store) << error.toStdString();
        const auto f = deploy::fleet::Fleet::fromJson(QStringLiteral("bench"), *store->fleet(QStringLiteral("bench")), &error);
        ASSERT_TRUE(f) << error.toStdString();
        deploy::fleet::MemberConnection c;
        ASSERT_TRUE(c.open(f->members.first(), registry, &error)) << error.toStdString();
        deploy::SignedUpload upload;
        upload.packages = {signedV3};
        upload.required = true;
        const auto parsed = crypto::readSignedPackage(signedV3, packageFile(3), &error);
        ASSERT_TRUE(parsed) << error.toStdString();
        const auto flashed = deploy::Flasher::flash(c.link(), parsed->package, false, {}, &error, {}, upload);
        ASSERT_TRUE(flashed) << error.toStdString();
        EXPECT_TRUE(flashed->isSigned);
    }
    ASSERT_TRUE(m_page->attestAll());
    ASSERT_TRUE(finished.wait(180000)) << log();
    EXPECT_EQ(cell(0, FleetPage::VersionColumn), QStringLiteral("3 (attested)")) << log();
    ASSERT_TRUE(m_page->rollBackMember(QStringLiteral("host-1")));
    ASSERT_TRUE(finished.wait(180000)) << log();
    EXPECT_TRUE(m_page->logView()->toPlainText().contains(QStringLiteral("host-1: rolled back; it now runs slot"))) << log();
    ASSERT_TRUE(m_page->attestAll());
    ASSERT_TRUE(finished.wait(180000)) << log();
    EXPECT_EQ(cell(0, FleetPage::VersionColumn), QStringLiteral("2 (attested)")) << log();
}

TEST_F(FleetPageTest, PlotsTelemetryDriftPerMember)
{
    QString error;
    {
        auto store = ProjectStore::open(m_path, &error);
        ASSERT_TRUE(store) << error.toStdString();
        const QDateTime t0 = QDateTime::currentDateTimeUtc().addSecs(-3600);
        for (int i = 0; i < 3; ++i)
            for (const char *member : {"host-1", "host-2"}) {
                StoredTelemetry r;
                r.fleet = QStringLiteral("bench");
                r.member = QLatin1String(member);
                r.created = t0.addSecs(600 * i);
                r.json = QJsonObject{{QStringLiteral("psi"), member[5] == '1' ? 0.05 * (i + 1) : 0.02 + 0.01 * i}};
                ASSERT_TRUE(store->addTelemetry(r, &error)) << error.toStdString();
            }
    }
    m_page->refresh();
    ASSERT_EQ(m_page->driftPlot()->graphCount(), 2);
    EXPECT_EQ(m_page->driftPlot()->graph(0)->data()->size(), 3);
    EXPECT_EQ(m_page->driftPlot()->graph(1)->name(), QStringLiteral("host-2"));
    EXPECT_DOUBLE_EQ((m_page->driftPlot()->graph(0)->data()->constEnd() - 1)->value, 0.15);
    EXPECT_DOUBLE_EQ((m_page->driftPlot()->graph(1)->data()->constEnd() - 1)->value, 0.04);
    EXPECT_TRUE(m_page->driftStatus()->text().contains(QStringLiteral("6 reading")));
    // TINYML_SCREENSHOT_DIR=DIR: the window with the drift chart, to look at
    const QString dir = qEnvironmentVariable("TINYML_SCREENSHOT_DIR");
    if (!dir.isEmpty()) {
        m_window->resize(1280, 800);
        m_window->show();
        QTest::qWait(300);
        EXPECT_TRUE(m_window->grab().save(QDir(dir).filePath(QStringLiteral("fleet-drift.png"))));
    }
}

/// Screenshots of an existing project's fleet, for the docs and to look at: with
/// TINYML_FLEET_SCREENSHOT_PROJECT=FILE and TINYML_SCREENSHOT_DIR=DIR (and the project's own
/// TINYML_KEY_DIR), saves fleet-rollout.png, then fleet-attested.png after Attest all. A tool,
/// not a test: run it with --gtest_also_run_disabled_tests --gtest_filter=FleetPageScreenshot.*
TEST(FleetPageScreenshot, DISABLED_OfAnExistingProject)
{
    const QString project = qEnvironmentVariable("TINYML_FLEET_SCREENSHOT_PROJECT");
    const QString dir = qEnvironmentVariable("TINYML_SCREENSHOT_DIR");
    if (project.isEmpty() || dir.isEmpty())
        GTEST_SKIP() << "set TINYML_FLEET_SCREENSHOT_PROJECT and TINYML_SCREENSHOT_DIR";
    applyWorkbenchStyle(*qApp);
    MainWindow window;
    QString error;
    ASSERT_TRUE(window.openProject(project, &error)) << error.toStdString();
    window.showStage(MainWindow::Stage::Fleet);
    window.resize(1280, 860);
    window.show();
    QTest::qWait(1500);
    EXPECT_TRUE(window.grab().save(QDir(dir).filePath(QStringLiteral("fleet-rollout.png"))));
    // the two dialogs, grabbed while open, then cancelled
    for (const char *buttonText : {"New fleet…", "Roll out…"}) {
        QPushButton *b = nullptr;
        for (QPushButton *c : window.fleetPage()->findChildren<QPushButton *>())
            if (c->text() == QString::fromUtf8(buttonText))
                b = c;
        if (!b || !b->isEnabled())
            continue;
        const QString file = QDir(dir).filePath(b->text().startsWith(QLatin1String("New")) ? QStringLiteral("fleet-new-dialog.png")
                                                                                          : QStringLiteral("fleet-rollout-dialog.png"));
        QTimer::singleShot(800, [file] {
            if (QWidget *dialog = QApplication::activeModalWidget()) {
                EXPECT_TRUE(dialog->grab().save(file));
                dialog->close();
            }
        });
        b->click();
    }
    if (window.fleetPage()->findChild<QPushButton *>(QStringLiteral("resumeRollout"))->isEnabled())
        return;   // a rollout is under way (or was cut short): its boards are not ours to attest
    QSignalSpy finished(window.fleetPage(), &FleetPage::jobFinished);
    ASSERT_TRUE(window.fleetPage()->attestAll());
    ASSERT_TRUE(finished.wait(300000));
    window.fleetPage()->membersTable()->selectRow(1);
    QTest::qWait(500);
    EXPECT_TRUE(window.grab().save(QDir(dir).filePath(QStringLiteral("fleet-attested.png"))));
}

} // namespace
