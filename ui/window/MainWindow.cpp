#include "window/MainWindow.h"

#include "models/BoardCatalog.h"
#include "models/ImportRunner.h"
#include "pages/AcquisitionPage.h"
#include "pages/AnomalyPage.h"
#include "pages/DatasetPage.h"
#include "pages/DeploymentPage.h"
#include "pages/FeaturesPage.h"
#include "pages/FleetPage.h"
#include "live/LiveController.h"
#include "pages/LivePage.h"
#include "pages/TrainingPage.h"
#include "window/CountText.h"
#include "window/ProjectSession.h"
#include "window/WelcomePage.h"
#include "wizard/NewProjectWizard.h"

#include "io/DatasetExporter.h"
#include "io/DatasetImporter.h"
#include "io/ImportDuplicates.h"
#include "store/ProjectStore.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QKeySequence>
#include <QLabel>
#include <QListWidget>
#include <QMenuBar>
#include <QMessageBox>
#include <QProgressDialog>
#include <QSettings>
#include <QStackedWidget>
#include <QStatusBar>
#include <QThread>
#include <QUndoStack>
#include <QVBoxLayout>

namespace tinyml::ui {

namespace {

constexpr int kMaxRecent = 8;
const QString kRecentKey = QStringLiteral("recentProjects");
const QString kLastProjectKey = QStringLiteral("lastProject");
const QString kGeometryKey = QStringLiteral("window/geometry");
const QString kStateKey = QStringLiteral("window/state");

struct StageEntry {
    MainWindow::Stage stage;
    const char *title;
    const char *icon;
};

const StageEntry kStages[] = {
    {MainWindow::Stage::Acquisition, QT_TRANSLATE_NOOP("MainWindow", "Data acquisition"), "acquisition"},
    {MainWindow::Stage::Dataset, QT_TRANSLATE_NOOP("MainWindow", "Dataset"), "dataset"},
    {MainWindow::Stage::Features, QT_TRANSLATE_NOOP("MainWindow", "Features"), "features"},
    {MainWindow::Stage::Training, QT_TRANSLATE_NOOP("MainWindow", "Training"), "training"},
    {MainWindow::Stage::Deployment, QT_TRANSLATE_NOOP("MainWindow", "Deployment & profiling"), "deploy"},
    {MainWindow::Stage::Live, QT_TRANSLATE_NOOP("MainWindow", "Live classification"), "motion"},
    {MainWindow::Stage::Anomaly, QT_TRANSLATE_NOOP("MainWindow", "Anomaly detection"), "warning"},
    {MainWindow::Stage::Fleet, QT_TRANSLATE_NOOP("MainWindow", "Fleet"), "board"},
};

} // namespace

MainWindow::MainWindow(QWidget *parent)
    : QMainWindow(parent), m_nav(new QListWidget(this)), m_navProject(new QLabel(this)),
      m_pages(new QStackedWidget(this)), m_welcome(new WelcomePage(this)), m_acquisition(new AcquisitionPage(this)),
      m_dataset(new DatasetPage(this)),
      m_features(new FeaturesPage(this)), m_training(new TrainingPage(this)),
      m_deployment(new DeploymentPage(this)), m_live(new LivePage(this)), m_anomaly(new AnomalyPage(this)),
      m_fleet(new FleetPage(this)),
      m_liveController(new LiveController(m_live, this)),
      m_boardStatus(new QLabel(this)), m_projectStatus(new QLabel(this))
{
    setWindowTitle(tr("TinyML Workbench"));
    setWindowIcon(QIcon(QStringLiteral(":/icons/app.svg")));

    // --- navigation ---------------------------------------------------------------------
    auto *sidebar = new QWidget(this);
    sidebar->setObjectName(QStringLiteral("navigation"));
    sidebar->setAttribute(Qt::WA_StyledBackground);
    sidebar->setFixedWidth(236);
    auto *sideLayout = new QVBoxLayout(sidebar);
    sideLayout->setContentsMargins(0, 0, 0, 0);
    sideLayout->setSpacing(0);
    auto *header = new QLabel(tr("TinyML Workbench"), sidebar);
    header->setObjectName(QStringLiteral("navHeader"));
    sideLayout->addWidget(header);
    m_navProject->setObjectName(QStringLiteral("navProject"));
    m_navProject->setWordWrap(true);
    sideLayout->addWidget(m_navProject);
    m_nav->setObjectName(QStringLiteral("navigation"));
    m_nav->setIconSize(QSize(20, 20));
    m_nav->setFrameShape(QFrame::NoFrame);
    m_nav->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    for (const StageEntry &s : kStages)
        new QListWidgetItem(QIcon(QStringLiteral(":/icons/%1.svg").arg(QLatin1String(s.icon))), tr(s.title), m_nav);
    sideLayout->addWidget(m_nav, 1);

    m_pages->setObjectName(QStringLiteral("pageArea"));
    m_pages->addWidget(m_acquisition);
    m_pages->addWidget(m_dataset);
    m_pages->addWidget(m_features);
    m_pages->addWidget(m_training);
    m_pages->addWidget(m_deployment);
    m_pages->addWidget(m_live);
    m_pages->addWidget(m_anomaly);
    m_pages->addWidget(m_fleet);   // stage order: the welcome page stays after the stages
    m_pages->addWidget(m_welcome);

    auto *central = new QWidget(this);
    auto *centralLayout = new QHBoxLayout(central);
    centralLayout->setContentsMargins(0, 0, 0, 0);
    centralLayout->setSpacing(0);
    centralLayout->addWidget(sidebar);
    centralLayout->addWidget(m_pages, 1);
    setCentralWidget(central);

    connect(m_nav, &QListWidget::currentRowChanged, this, [this](int row) {
        if (row >= 0 && m_session)
            m_pages->setCurrentIndex(row);
    });

    // --- status bar ----------------------------------------------------------------------
    m_boardStatus->setPixmap(QPixmap());
    auto *boardIcon = new QLabel(this);
    boardIcon->setPixmap(QIcon(QStringLiteral(":/icons/board.svg")).pixmap(16, 16));
    statusBar()->addPermanentWidget(m_projectStatus);
    statusBar()->addPermanentWidget(boardIcon);
    statusBar()->addPermanentWidget(m_boardStatus);
    m_boardStatus->setText(m_acquisition->boardStatusText());
    connect(m_acquisition, &AcquisitionPage::boardStatusChanged, this, [this](const QString &text, bool connected) {
        m_boardStatus->setText(QStringLiteral("<span style='color:%1'>&#9679;</span> %2")
                                   .arg(connected ? QStringLiteral("#16a34a") : QStringLiteral("#9ca3af"),
                                        text.toHtmlEscaped()));
    });
    connect(m_acquisition, &AcquisitionPage::recordingFinished, this,
            [this](const QVector<qint64> &ids, bool complete) {
                if (!ids.isEmpty())
                    statusBar()->showMessage(complete ? tr("Recorded sample #%1").arg(ids.last())
                                                      : tr("Kept sample #%1 (cut short)").arg(ids.last()),
                                             5000);
            });
    // The Deployment and Live pages run on the board the acquisition page is connected to; with
    // none, their one button starts the project's virtual board through it.
    connect(m_acquisition, &AcquisitionPage::boardStatusChanged, this, [this] {
        m_deployment->setDevice(m_acquisition->link(), m_acquisition->virtualBoard());
        m_liveController->setDevice(m_acquisition->link(), m_acquisition->virtualBoard());
    });
    auto startBoardFor = [this](auto *client) {
        // A start already under way (the Connect button) is awaited, not repeated.
        if (m_session && !m_acquisition->isConnected() && !m_acquisition->isStartingBoard()
            && m_acquisition->selectDevice(m_session->boardId()))
            m_acquisition->connectDevice();
        client->setDevice(m_acquisition->link(), m_acquisition->virtualBoard());
        // A virtual board boots in the event loop; connectFinished below ends the wait.
        if (!m_acquisition->isStartingBoard())
            client->boardStartFinished(m_acquisition->isConnected(), QString());
    };
    connect(m_deployment, &DeploymentPage::connectRequested, this, [this, startBoardFor] { startBoardFor(m_deployment); });
    connect(m_liveController, &LiveController::connectRequested, this,
            [this, startBoardFor] { startBoardFor(m_liveController); });
    connect(m_acquisition, &AcquisitionPage::connectFinished, this, [this](bool ok, const QString &message) {
        m_deployment->setDevice(m_acquisition->link(), m_acquisition->virtualBoard());
        m_deployment->boardStartFinished(ok, message);
        m_liveController->setDevice(m_acquisition->link(), m_acquisition->virtualBoard());
        m_liveController->boardStartFinished(ok, message);
    });
    connect(m_liveController, &LiveController::cancelConnectRequested, m_acquisition, &AcquisitionPage::cancelConnect);
    connect(m_liveController, &LiveController::runningChanged, this, [this](bool running) {
        m_record->setEnabled(m_session && !running);
    });
    connect(m_liveController, &LiveController::previewHeld, m_acquisition, &AcquisitionPage::holdPreview);
    connect(m_liveController, &LiveController::previewReleased, m_acquisition, &AcquisitionPage::resumePreview,
            Qt::QueuedConnection);
    connect(m_deployment, &DeploymentPage::cancelConnectRequested, m_acquisition, &AcquisitionPage::cancelConnect);
    connect(m_deployment, &DeploymentPage::runningChanged, this, [this](bool running) {
        // Recording would stream on the link the profiler is using.
        m_record->setEnabled(m_session && !running);
    });
    // Queued: the preview's first request goes out once the Profiler has let go of the link.
    connect(m_deployment, &DeploymentPage::previewReleased, m_acquisition, &AcquisitionPage::resumePreview,
            Qt::QueuedConnection);
    connect(m_welcome, &WelcomePage::newProjectRequested, this, &MainWindow::newProject);
    connect(m_welcome, &WelcomePage::openProjectRequested, this, &MainWindow::openProjectDialog);
    connect(m_welcome, &WelcomePage::recentProjectRequested, this, [this](const QString &path) {
        QString error;
        if (!openProject(path, &error))
            showError(tr("Open project"), error);
    });

    createActions();
    createMenus();
    m_dataset->addFileActions(m_import, m_export);

    QSettings settings;
    if (!restoreGeometry(settings.value(kGeometryKey).toByteArray()))
        resize(1280, 800);
    restoreState(settings.value(kStateKey).toByteArray());
    setSession(nullptr);
}

MainWindow::~MainWindow()
{
    // Pages hold the session pointer and the acquisition page may hold a capture into it;
    // the features and training pages stop their workers.
    m_acquisition->setSession(nullptr);
    m_dataset->setSession(nullptr);
    m_features->setSession(nullptr);
    m_training->setSession(nullptr);
    m_anomaly->setSession(nullptr);
    m_deployment->setSession(nullptr);
    m_fleet->setSession(nullptr);
    m_liveController->setSession(nullptr);
}

void MainWindow::createActions()
{
    m_new = new QAction(QIcon(QStringLiteral(":/icons/new.svg")), tr("&New project…"), this);
    m_new->setShortcut(QKeySequence::New);
    connect(m_new, &QAction::triggered, this, &MainWindow::newProject);
    m_open = new QAction(QIcon(QStringLiteral(":/icons/open.svg")), tr("&Open project…"), this);
    m_open->setShortcut(QKeySequence::Open);
    connect(m_open, &QAction::triggered, this, &MainWindow::openProjectDialog);
    m_import = new QAction(QIcon(QStringLiteral(":/icons/import.svg")), tr("&Import data…"), this);
    m_import->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_I));
    m_import->setToolTip(tr("Import CSV, WAV, images or Edge Impulse files (Ctrl+I)"));
    connect(m_import, &QAction::triggered, this, &MainWindow::importData);
    m_export = new QAction(QIcon(QStringLiteral(":/icons/export.svg")), tr("&Export data…"), this);
    m_export->setToolTip(tr("Export the selected samples, or all, as CSV or Edge Impulse files"));
    connect(m_export, &QAction::triggered, this, &MainWindow::exportData);
    m_close = new QAction(tr("&Close project"), this);
    connect(m_close, &QAction::triggered, this, &MainWindow::closeProject);
    m_quit = new QAction(tr("&Quit"), this);
    m_quit->setShortcut(QKeySequence::Quit);
    connect(m_quit, &QAction::triggered, this, &QWidget::close);

    m_undo = new QAction(QIcon(QStringLiteral(":/icons/undo.svg")), tr("&Undo"), this);
    m_undo->setShortcut(QKeySequence::Undo);
    m_redo = new QAction(QIcon(QStringLiteral(":/icons/redo.svg")), tr("&Redo"), this);
    m_redo->setShortcut(QKeySequence::Redo);

    m_record = new QAction(QIcon(QStringLiteral(":/icons/record.svg")), tr("&Record"), this);
    m_record->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
    connect(m_record, &QAction::triggered, this, [this] {
        showStage(Stage::Acquisition);
        m_acquisition->startRecording();
    });
    m_stop = new QAction(QIcon(QStringLiteral(":/icons/stop.svg")), tr("&Stop"), this);
    m_stop->setShortcuts({QKeySequence(Qt::Key_Escape), QKeySequence(Qt::CTRL | Qt::Key_Period)});
    connect(m_stop, &QAction::triggered, m_acquisition, &AcquisitionPage::stopRecording);
    m_nextLabel = new QAction(QIcon(QStringLiteral(":/icons/label.svg")), tr("&Next label"), this);
    m_nextLabel->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_L));
    connect(m_nextLabel, &QAction::triggered, m_acquisition, &AcquisitionPage::nextLabel);
}

void MainWindow::createMenus()
{
    QMenu *file = menuBar()->addMenu(tr("&File"));
    file->addAction(m_new);
    file->addAction(m_open);
    m_recentMenu = file->addMenu(QIcon(QStringLiteral(":/icons/recent.svg")), tr("Open &recent"));
    file->addSeparator();
    file->addAction(m_import);
    file->addAction(m_export);
    file->addSeparator();
    file->addAction(m_close);
    file->addAction(m_quit);

    QMenu *edit = menuBar()->addMenu(tr("&Edit"));
    edit->addAction(m_undo);
    edit->addAction(m_redo);

    QMenu *capture = menuBar()->addMenu(tr("&Capture"));
    capture->addAction(m_record);
    capture->addAction(m_stop);
    capture->addAction(m_nextLabel);

    QMenu *view = menuBar()->addMenu(tr("&View"));
    for (int i = 0; i < int(std::size(kStages)); ++i) {
        QAction *a = view->addAction(QIcon(QStringLiteral(":/icons/%1.svg").arg(QLatin1String(kStages[i].icon))),
                                     tr(kStages[i].title));
        a->setShortcut(QKeySequence(Qt::CTRL | Qt::Key(Qt::Key_1 + i)));
        connect(a, &QAction::triggered, this, [this, i] { showStage(kStages[i].stage); });
    }
    updateRecentMenu();
}

// --- projects ----------------------------------------------------------------------------

void MainWindow::setSession(std::unique_ptr<ProjectStore> store)
{
    m_acquisition->setSession(nullptr);
    m_dataset->setSession(nullptr);
    m_features->setSession(nullptr);
    m_training->setSession(nullptr);
    m_anomaly->setSession(nullptr);
    m_deployment->setSession(nullptr);
    m_fleet->setSession(nullptr);
    m_liveController->setSession(nullptr);   // stops a run, cancels a calibration
    m_session.reset();
    if (store) {
        m_session = std::make_unique<ProjectSession>(std::move(store));
        connect(m_session.get(), &ProjectSession::errorOccurred, this,
                [this](const QString &message) { showError(tr("Dataset"), message); });
        connect(m_session.get(), &ProjectSession::samplesChanged, this, &MainWindow::updateTitle);
    }
    ProjectSession *s = m_session.get();
    m_acquisition->setSession(s);
    m_dataset->setSession(s);
    m_features->setSession(s);
    m_training->setSession(s);
    m_anomaly->setSession(s);
    m_deployment->setSession(s);
    m_fleet->setSession(s);
    m_liveController->setSession(s);

    // Undo/redo follow the project's stack; without a project they are disabled.
    disconnect(m_undo, &QAction::triggered, nullptr, nullptr);
    disconnect(m_redo, &QAction::triggered, nullptr, nullptr);
    if (s) {
        QUndoStack *stack = s->undoStack();
        connect(m_undo, &QAction::triggered, stack, &QUndoStack::undo);
        connect(m_redo, &QAction::triggered, stack, &QUndoStack::redo);
        connect(stack, &QUndoStack::canUndoChanged, m_undo, &QAction::setEnabled);
        connect(stack, &QUndoStack::canRedoChanged, m_redo, &QAction::setEnabled);
        connect(stack, &QUndoStack::undoTextChanged, m_undo, [this](const QString &t) {
            m_undo->setText(t.isEmpty() ? tr("&Undo") : tr("&Undo %1").arg(t));
        });
        connect(stack, &QUndoStack::redoTextChanged, m_redo, [this](const QString &t) {
            m_redo->setText(t.isEmpty() ? tr("&Redo") : tr("&Redo %1").arg(t));
        });
    }
    m_undo->setEnabled(false);
    m_redo->setEnabled(false);
    m_undo->setText(tr("&Undo"));
    m_redo->setText(tr("&Redo"));

    const bool open = s != nullptr;
    m_nav->setEnabled(open);
    for (int i = 0; i < m_nav->count(); ++i)
        m_nav->item(i)->setFlags(open ? Qt::ItemIsEnabled | Qt::ItemIsSelectable : Qt::NoItemFlags);
    m_import->setEnabled(open);
    m_export->setEnabled(open);
    m_close->setEnabled(open);
    m_record->setEnabled(open);
    m_stop->setEnabled(open);
    m_nextLabel->setEnabled(open);
    if (!open) {
        m_welcome->setRecentProjects(recentProjects());
        m_nav->setCurrentRow(-1);
        m_pages->setCurrentWidget(m_welcome);
    }
    updateTitle();
}

void MainWindow::updateTitle()
{
    if (!m_session) {
        setWindowTitle(tr("TinyML Workbench"));
        m_navProject->setText(tr("No project open"));
        m_projectStatus->clear();
        return;
    }
    setWindowTitle(tr("%1 — TinyML Workbench").arg(m_session->displayName()));
    m_navProject->setText(m_session->displayName());
    m_navProject->setToolTip(QDir::toNativeSeparators(m_session->path()));
    const DatasetCounts c = m_session->store().counts();
    m_projectStatus->setText(countText(c.total(), "%1 sample", "%1 samples") + QStringLiteral("   "));
}

bool MainWindow::openProject(const QString &path, QString *error)
{
    auto store = ProjectStore::open(path, error);
    if (!store)
        return false;
    setSession(std::move(store));
    addRecentProject(path);
    const bool empty = m_session->store().counts().total() == 0;
    showStage(empty ? Stage::Acquisition : Stage::Dataset);
    return true;
}

void MainWindow::adoptNewProject(NewProjectWizard &wizard)
{
    auto store = wizard.takeStore();
    if (!store)
        return;
    const QString path = store->path();
    setSession(std::move(store));
    addRecentProject(path);
    showStage(Stage::Acquisition);
    // Virtual boards start with the project: there is nothing to plug in.
    const BoardDefinition *board = BoardCatalog::board(m_session->boardId());
    if (board && board->isVirtual && m_acquisition->selectDevice(board->id))
        m_acquisition->connectDevice();
}

void MainWindow::restoreLastProject()
{
    const QString last = QSettings().value(kLastProjectKey).toString();
    if (last.isEmpty() || !QFileInfo::exists(last))
        return;
    QString error;
    if (!openProject(last, &error))
        statusBar()->showMessage(tr("Could not reopen %1: %2").arg(last, error), 8000);
}

void MainWindow::closeProject()
{
    QSettings().remove(kLastProjectKey);
    setSession(nullptr);
}

void MainWindow::newProject()
{
    NewProjectWizard wizard(this);
    if (wizard.exec() == QDialog::Accepted)
        adoptNewProject(wizard);
}

void MainWindow::openProjectDialog()
{
    const QString dir = m_session ? QFileInfo(m_session->path()).absolutePath() : NewProjectWizard::defaultLocation();
    const QString path = QFileDialog::getOpenFileName(this, tr("Open project"), dir,
                                                      tr("TinyML projects (*.tinyml);;All files (*)"));
    if (path.isEmpty())
        return;
    QString error;
    if (!openProject(path, &error))
        showError(tr("Open project"), error);
}

QStringList MainWindow::recentProjects() const
{
    QStringList out;
    for (const QString &p : QSettings().value(kRecentKey).toStringList())
        if (QFileInfo::exists(p))
            out << p;
    return out;
}

void MainWindow::addRecentProject(const QString &path)
{
    const QString abs = QFileInfo(path).absoluteFilePath();
    QStringList recent = QSettings().value(kRecentKey).toStringList();
    recent.removeAll(abs);
    recent.prepend(abs);
    while (recent.size() > kMaxRecent)
        recent.removeLast();
    QSettings settings;
    settings.setValue(kRecentKey, recent);
    settings.setValue(kLastProjectKey, abs);
    updateRecentMenu();
}

void MainWindow::updateRecentMenu()
{
    if (!m_recentMenu)
        return;
    m_recentMenu->clear();
    const QStringList recent = recentProjects();
    for (int i = 0; i < recent.size(); ++i) {
        const QString path = recent[i];
        QAction *a = m_recentMenu->addAction(QStringLiteral("&%1  %2").arg(i + 1).arg(QDir::toNativeSeparators(path)));
        connect(a, &QAction::triggered, this, [this, path] {
            QString error;
            if (!openProject(path, &error))
                showError(tr("Open project"), error);
        });
    }
    m_recentMenu->setEnabled(!recent.isEmpty());
    if (!m_session)
        m_welcome->setRecentProjects(recent);
}

// --- stages --------------------------------------------------------------------------------

void MainWindow::showStage(Stage stage)
{
    if (!m_session)
        return;
    m_nav->setCurrentRow(int(stage));
    m_pages->setCurrentIndex(int(stage));
}

MainWindow::Stage MainWindow::currentStage() const
{
    return Stage(qBound(0, m_pages->currentIndex(), int(Stage::Fleet)));
}

// --- import / export --------------------------------------------------------------------------

void MainWindow::importData()
{
    if (!m_session)
        return;
    QFileDialog dialog(this, tr("Import data"));
    dialog.setFileMode(QFileDialog::ExistingFiles);
    dialog.setNameFilter(tr("Data files (*.csv *.txt *.wav *.json *.cbor *.png *.jpg *.jpeg);;All files (*)"));
    // Folders import recursively (images take their folder's name as label).
    dialog.setOption(QFileDialog::DontUseNativeDialog, false);
    if (dialog.exec() != QDialog::Accepted)
        return;
    const QStringList paths = dialog.selectedFiles();
    if (paths.isEmpty())
        return;

    io::ImportOptions options;
    // A CSV without a timestamp column is recorded at the project's rate (the CLI asks for --rate).
    const ProjectSettings before = m_session->settings();
    if (before.templateName == QLatin1String("motion") || before.templateName == QLatin1String("audio"))
        options.sampleRateHz = before.sampleRateHz;
    const ImportRun run = runImport(this, paths, options);

    // The CLI's checks: every file must fit the project; data already stored is not doubled.
    QVector<io::FileImportResult> results = run.results;
    const io::ProjectFit fit = io::fitToProject(results, before, m_session->store().sampleInfos());
    io::assignAutoSplits(results); // as the CLI's --split auto

    int imported = 0;
    QStringList problems, duplicates;
    ProjectSettings settings = m_session->settings();
    for (auto &r : results) {
        QString error;
        for (const io::SkippedDuplicate &d : std::as_const(r.duplicates))
            duplicates << io::describeDuplicate(r.file, d);
        if (r.error) {
            problems << r.error->toString();
        } else if (!r.samples.isEmpty() && !m_session->store().addSamples(r.samples, &error)) {
            problems << QStringLiteral("%1: %2").arg(r.file, error);
        } else {
            imported += r.samples.size();
            for (const Sample &s : r.samples)
                if (!s.label.isEmpty() && !settings.labels.contains(s.label))
                    settings.labels << s.label;
        }
    }
    if (settings.labels != m_session->settings().labels) {
        QString error;
        if (m_session->store().setSettings(settings, &error))
            m_session->notifySettingsChanged();
    }
    m_session->notifySamplesChanged();
    showStage(Stage::Dataset);
    QString summary = tr("Imported %1").arg(countText(imported, "%1 sample", "%1 samples"))
                      + (run.cancelled ? tr(" before the import was cancelled") : QString());
    if (!duplicates.isEmpty())
        summary += tr("; skipped %1 already in the project")
                       .arg(countText(duplicates.size(), "%1 duplicate sample", "%1 duplicate samples"));
    if (fit.misfitFiles > 0)
        summary += tr("; %1 not fit this project (channels, rate or kind of data)")
                       .arg(countText(fit.misfitFiles, "%1 file does", "%1 files do"));
    if (problems.isEmpty() && duplicates.isEmpty()) {
        statusBar()->showMessage(summary, 6000);
    } else {
        QString text = summary;
        if (!problems.isEmpty())
            text += tr("; %1 not imported.").arg(countText(problems.size(), "%1 file was", "%1 files were"));
        else
            text += QLatin1Char('.');
        QMessageBox box(QMessageBox::Warning, tr("Import data"), text, QMessageBox::Ok, this);
        box.setObjectName(QStringLiteral("importResultBox"));
        box.setDetailedText((problems + duplicates).join(QLatin1Char('\n')));
        box.exec();
    }
}

void MainWindow::exportData()
{
    if (!m_session)
        return;
    const QStringList formats = {tr("CSV (one file per sample)"), tr("Edge Impulse JSON"), tr("Edge Impulse CBOR")};
    const QStringList formatIds = {QStringLiteral("csv"), QStringLiteral("ei-json"), QStringLiteral("ei-cbor")};
    bool ok = false;
    const QString choice = QInputDialog::getItem(this, tr("Export data"), tr("Format:"), formats, 0, false, &ok);
    if (!ok)
        return;
    const QString format = formatIds.value(formats.indexOf(choice));
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Export to folder"),
                                                          QFileInfo(m_session->path()).absolutePath());
    if (dir.isEmpty())
        return;

    // The selection on the Dataset page, else everything. Samples are read here (the store
    // belongs to this thread); the files are written on a worker thread.
    const QVector<qint64> selected = m_dataset->selectedIds();
    QVector<Sample> samples;
    if (selected.isEmpty()) {
        samples = m_session->store().samples();
    } else {
        for (qint64 id : selected)
            if (auto s = m_session->store().sample(id))
                samples << *s;
    }
    QProgressDialog progress(tr("Writing %1…").arg(countText(samples.size(), "%1 sample", "%1 samples")), QString(), 0, 0, this);
    progress.setWindowModality(Qt::WindowModal);
    progress.setMinimumDuration(300);
    QStringList written;
    QString error;
    bool exported = false;
    QThread *worker = QThread::create([&] {
        exported = io::exportSamples(samples, dir, format, QByteArray(), &written, &error);
    });
    QEventLoop loop;
    connect(worker, &QThread::finished, &loop, &QEventLoop::quit);
    worker->start();
    loop.exec();
    worker->wait();
    delete worker;
    progress.close();
    if (!exported)
        showError(tr("Export data"), tr("%1\n(%2 written before the error.)").arg(error, countText(written.size(), "%1 file was", "%1 files were")));
    else
        statusBar()->showMessage(tr("Exported %1 to %2").arg(countText(written.size(), "%1 file", "%1 files"), QDir::toNativeSeparators(dir)), 6000);
}

// --- window ----------------------------------------------------------------------------------

void MainWindow::showError(const QString &title, const QString &message)
{
    QMessageBox::warning(this, title, message);
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    if (m_acquisition->isRecording()) {
        const auto answer = QMessageBox::question(this, tr("Quit"),
                                                  tr("A recording is in progress. Stop it and quit? What was "
                                                     "received so far is kept."));
        if (answer != QMessageBox::Yes) {
            event->ignore();
            return;
        }
    }
    m_liveController->stop();   // the board is told to end its stream before the link closes
    m_acquisition->disconnectDevice();
    QSettings settings;
    settings.setValue(kGeometryKey, saveGeometry());
    settings.setValue(kStateKey, saveState());
    event->accept();
}

} // namespace tinyml::ui
