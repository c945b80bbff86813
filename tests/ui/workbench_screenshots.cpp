// workbench-screenshots OUTDIR: renders the workbench at 1280x800 and saves PNGs of the
// welcome page, every wizard page, the acquisition page mid-recording (motion at 100 Hz
// and audio at 16 kHz, on the host virtual board), the dataset page, the Features page
// (motion and audio), the Training page after a run and after int8 quantization, and the
// Deployment page while profiling on the virtual Cortex-M4, after the profile, and its
// profile compared with one on the virtual Cortex-M7, and the Live page on a real run: mid-
// stream on a recording replayed through the host agent's sensor in real time, then its
// Calibration tab after a real sweep. `workbench-screenshots OUTDIR live-only` renders only
// the Live page (about a minute).
// Also prints the live plot's redraw rate during each recording.
#include "live/CalibrationView.h"
#include "live/LiveClassificationView.h"
#include "live/LiveController.h"
#include "pages/AcquisitionPage.h"
#include "pages/DatasetPage.h"
#include "pages/DeploymentPage.h"
#include "pages/FeaturesPage.h"
#include "pages/LivePage.h"
#include "pages/TrainingPage.h"
#include "plots/LivePlot.h"
#include "plots/ProfileCharts.h"
#include "plots/SamplePreview.h"
#include "plots/StreamTimelinePlot.h"
#include "UiTestProject.h"
#include "window/MainWindow.h"
#include "window/ProjectSession.h"
#include "window/WorkbenchStyle.h"
#include "wizard/NewProjectWizard.h"

#include "store/ProjectStore.h"

#include <QAbstractButton>
#include <QCheckBox>
#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTabWidget>
#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QTextStream>

using namespace tinyml;
using namespace tinyml::ui;

namespace {

QString g_out;

void save(QWidget *w, const QString &name)
{
    QApplication::processEvents();
    QTest::qWait(120);   // queued replots
    const QString file = QDir(g_out).filePath(name + QStringLiteral(".png"));
    if (!w->grab().save(file))
        QTextStream(stderr) << "could not write " << file << "\n";
    else
        QTextStream(stdout) << file << "\n";
}

/// Waits for a page's worker; says so on stderr when it takes too long.
template <typename Done>
void waitFor(Done done, int ms, const char *what)
{
    if (!QTest::qWaitFor(done, ms))
        QTextStream(stderr) << what << ": still running after " << ms / 1000 << " s\n";
}

QString wizardProject(MainWindow &window, const QString &dir, const QString &name, const QString &tpl,
                      bool shoot)
{
    NewProjectWizard wizard(&window);
    wizard.setField(QStringLiteral("name"), name);
    wizard.setField(QStringLiteral("location"), dir);
    wizard.show();
    if (shoot)
        save(&wizard, QStringLiteral("wizard-1-name"));
    wizard.next();
    wizard.setField(QStringLiteral("template"), tpl);
    if (shoot)
        save(&wizard, QStringLiteral("wizard-2-template"));
    wizard.next();
    wizard.setField(QStringLiteral("board"), QStringLiteral("host"));
    if (shoot)
        save(&wizard, QStringLiteral("wizard-3-board"));
    wizard.next();
    if (shoot)
        save(&wizard, QStringLiteral("wizard-4-labels"));
    wizard.next();
    if (shoot)
        save(&wizard, QStringLiteral("wizard-5-samples"));
    wizard.next();
    if (shoot)
        save(&wizard, QStringLiteral("wizard-6-summary"));
    wizard.button(QWizard::FinishButton)->click();
    const QString path = wizard.projectPath();
    window.adoptNewProject(wizard);
    return path;
}

void recordAndShoot(MainWindow &window, const QString &name, double length, double shootAfter)
{
    AcquisitionPage *acq = window.acquisitionPage();
    waitFor([&] { return !acq->isStartingBoard(); }, 30000, "virtual board start");
    if (!acq->isConnected()) {
        QTextStream(stderr) << "not connected: no " << name << " screenshot\n";
        return;
    }
    QTest::qWait(1500);   // live preview fills the plot
    acq->setCountdownSeconds(0);
    acq->setSampleLength(length);
    const int before = acq->livePlot()->redrawCount();
    QElapsedTimer clock;
    clock.start();
    acq->startRecording();
    QTest::qWait(int(shootAfter * 1000));
    const double fps = (acq->livePlot()->redrawCount() - before) * 1000.0 / double(clock.elapsed());
    QTextStream(stdout) << name << ": live plot " << QString::number(fps, 'f', 1) << " redraws/s at "
                        << acq->livePlot()->rateHz() << " Hz\n";
    save(&window, name);
    QTest::qWaitFor([&] { return !acq->isRecording(); }, int(length * 1000) + 10000);
    QTest::qWait(300);
}

/// The Live page mid-stream on a real run, then its Calibration tab after a real sweep: a
/// motion model trained on the virtual Cortex-M4's own simulated accelerometer, a 40 s
/// recording of its captured gestures replayed through the board's sensor in real time (stage
/// costs in instruction counts, a battery estimate from its power model), then calibrated.
void shootLive(MainWindow &window, const QString &dir)
{
    QString error;
    const QString path = QDir(dir).filePath(QStringLiteral("live.tinyml"));
    {
        auto store = test::createCapturedMotionProject(path, QStringLiteral("qemu-m4"), 10, 2.0, &error);
        if (!store || test::trainInt8Model(*store, 40, &error) == 0) {
            QTextStream(stderr) << "live project: " << error << "\n";
            return;
        }
    }
    if (!window.openProject(path, &error)) {
        QTextStream(stderr) << "live project: " << error << "\n";
        return;
    }
    const QString csv = QDir(dir).filePath(QStringLiteral("wand-session.csv"));
    const QString truth = QDir(dir).filePath(QStringLiteral("wand-session.truth.csv"));
    QStringList session;
    const QStringList gestures = {QStringLiteral("shake"), QStringLiteral("circle"), QStringLiteral("updown")};
    for (int i = 0; i < 10; ++i)
        session << QStringLiteral("idle") << gestures[i % 3];
    if (!test::writeMotionSession(window.session()->store(), session, csv, truth, &error)) {
        QTextStream(stderr) << "live session: " << error << "\n";
        return;
    }
    window.showStage(MainWindow::Stage::Live);
    LivePage *live = window.livePage();
    LiveController *controller = window.liveController();
    live->setSource(LivePage::Source::ReplayFile);
    live->setSourcePath(csv);
    live->setTruthPath(truth);
    live->tabs()->setCurrentWidget(live->liveView());
    QSignalSpy finished(controller, &LiveController::runFinished);
    live->startButton()->click();
    LiveClassificationView *view = live->liveView();
    // Mid-stream: 50 of the 77 windows of the 40 s replay, paced like the real sensor.
    waitFor([&] { return view->metricText(LiveClassificationView::Metric::Windows).toInt() >= 50 || !finished.isEmpty(); },
            180000, "live replay");
    view->flush();
    save(&window, QStringLiteral("live-classification"));
    waitFor([&] { return !finished.isEmpty(); }, 180000, "live replay end");

    QSignalSpy calibrated(controller, &LiveController::calibrationFinished);
    live->tabs()->setCurrentIndex(1);
    live->calibrateButton()->click();
    waitFor([&] { return !calibrated.isEmpty(); }, 120000, "calibration");
    save(&window, QStringLiteral("calibration"));
    live->tabs()->setCurrentIndex(0);
    window.acquisitionPage()->disconnectDevice();
}

} // namespace

int main(int argc, char *argv[])
{
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM") && qEnvironmentVariableIsEmpty("DISPLAY"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QStandardPaths::setTestModeEnabled(true);
    QApplication::setOrganizationName(QStringLiteral("TinyML Workbench Screenshots"));
    QApplication::setApplicationName(QStringLiteral("workbench-screenshots"));
    QApplication app(argc, argv);
    applyWorkbenchStyle(app);
    g_out = argc > 1 ? QString::fromLocal8Bit(argv[1]) : QStringLiteral("screenshots");
    QDir().mkpath(g_out);
    QTemporaryDir dir;

    MainWindow window;
    window.resize(1280, 800);
    window.show();

    if (argc > 2 && QByteArray(argv[2]) == "live-only") {
        shootLive(window, dir.path());
        return 0;
    }

    save(&window, QStringLiteral("welcome"));

    // Motion: wizard pages, then the host board records mid-shot.
    wizardProject(window, dir.path(), QStringLiteral("gesture-wand"), QStringLiteral("motion"), true);
    window.acquisitionPage()->setLabel(QStringLiteral("shake"));
    recordAndShoot(window, QStringLiteral("acquisition-motion-recording"), 4.0, 2.5);

    // Audio at 16 kHz on the same virtual board.
    wizardProject(window, dir.path(), QStringLiteral("keywords"), QStringLiteral("audio"), false);
    window.acquisitionPage()->setLabel(QStringLiteral("yes"));
    recordAndShoot(window, QStringLiteral("acquisition-audio-recording"), 2.0, 1.2);
    window.acquisitionPage()->disconnectDevice();

    // A QEMU board while it boots: the window stays live, with a busy bar and Cancel.
    if (window.acquisitionPage()->selectDevice(QStringLiteral("qemu-m4"))) {
        window.acquisitionPage()->connectDevice();
        QTest::qWait(40); // one replot of the plot's message; QEMU boots for longer
        const QString file = QDir(g_out).filePath(QStringLiteral("acquisition-board-starting.png"));
        if (window.acquisitionPage()->isStartingBoard() && window.grab().save(file))
            QTextStream(stdout) << file << "\n";
        else
            QTextStream(stderr) << "no acquisition-board-starting screenshot (board not starting or not saved)\n";
        waitFor([&] { return !window.acquisitionPage()->isStartingBoard(); }, 30000, "qemu-m4 start");
        window.acquisitionPage()->disconnectDevice();
    }

    // Dataset: a motion project with data, one sample previewed with a crop range.
    QString error;
    const QString motionPath = dir.filePath(QStringLiteral("curated.tinyml"));
    auto store = test::createMotionProject(motionPath, 8, &error);
    if (!store) {
        QTextStream(stderr) << error << "\n";
        return 1;
    }
    store.reset();
    window.openProject(motionPath, &error);
    DatasetPage *page = window.datasetPage();
    page->selectIds({10});
    page->preview()->selectFrames(40, 150);
    save(&window, QStringLiteral("dataset-motion"));

    // Audio clips: waveform and spectrogram.
    Sample clip = test::audioSample(QStringLiteral("yes"), 16000);
    window.session()->store().addSample(clip, &error);
    window.session()->notifySamplesChanged();
    page->selectIds({clip.id});
    save(&window, QStringLiteral("dataset-audio"));

    // Features and training on a motion project of its own (the one above now mixes in audio).
    const QString wandPath = dir.filePath(QStringLiteral("wand.tinyml"));
    {
        // On the virtual Cortex-M4, so the Deployment page shows instruction counts.
        auto wand = test::createMotionProject(wandPath, 12, &error);
        ProjectSettings settings = wand ? wand->settings() : ProjectSettings();
        settings.boardId = QStringLiteral("qemu-m4");
        if (!wand || !wand->setSettings(settings, &error)) {
            QTextStream(stderr) << error << "\n";
            return 1;
        }
    }
    window.openProject(wandPath, &error);
    window.showStage(MainWindow::Stage::Features);
    FeaturesPage *features = window.featuresPage();
    waitFor([&] { return !features->isRunning(); }, 10000, "feature cache");
    features->generate();
    waitFor([&] { return !features->isRunning(); }, 60000, "features");
    features->selectRow(5);
    save(&window, QStringLiteral("features-motion"));

    window.showStage(MainWindow::Stage::Training);
    TrainingPage *training = window.trainingPage();
    training->epochsSpin()->setValue(30);
    training->startTraining();
    waitFor([&] { return !training->isRunning(); }, 300000, "training");
    if (!training->report())
        QTextStream(stderr) << "training: " << training->statusLabel()->text() << "\n";
    save(&window, QStringLiteral("training-motion"));
    training->startQuantization();
    waitFor([&] { return !training->isRunning(); }, 300000, "quantization");
    if (!training->quantization())
        QTextStream(stderr) << "quantization: " << training->statusLabel()->text() << "\n";
    save(&window, QStringLiteral("training-motion-int8"));

    // Flash & Profile on the virtual Cortex-M4: mid-run and finished; then on the Cortex-M7
    // and the two profiles compared.
    window.showStage(MainWindow::Stage::Deployment);
    DeploymentPage *deployment = window.deploymentPage();
    deployment->runsSpin()->setValue(40);
    deployment->warmupSpin()->setValue(3);
    deployment->accuracyCheck()->setChecked(true);
    QSignalSpy profiled(deployment, &DeploymentPage::profileFinished);
    deployment->profileButton()->click();
    waitFor([&] { return deployment->charts()->runPointCount() >= 20 || !profiled.isEmpty(); }, 120000,
            "profile runs");
    save(&window, QStringLiteral("deployment-profiling"));
    waitFor([&] { return !profiled.isEmpty(); }, 300000, "profile");
    if (profiled.isEmpty() || !profiled.first().at(0).toBool())
        QTextStream(stderr) << "profile: " << deployment->banner()->text() << "\n";
    save(&window, QStringLiteral("deployment-profile"));
    const QVector<qint64> first = deployment->selectedProfileIds();
    // The same model on the virtual Cortex-M7, then both side by side.
    window.acquisitionPage()->disconnectDevice();
    if (window.acquisitionPage()->selectDevice(QStringLiteral("qemu-m7")))
        window.acquisitionPage()->connectDevice();
    deployment->runsSpin()->setValue(20);
    deployment->profileButton()->click();
    waitFor([&] { return profiled.size() >= 2; }, 300000, "second profile");
    const QVector<qint64> second = deployment->selectedProfileIds();
    if (first.size() == 1 && second.size() == 1)
        deployment->selectProfiles({first.first(), second.first()});
    save(&window, QStringLiteral("deployment-compare"));
    window.acquisitionPage()->disconnectDevice();

    shootLive(window, dir.path());

    // Keyword clips: MFCC frames of the selected clip as a colour map.
    const QString kwsPath = dir.filePath(QStringLiteral("kws.tinyml"));
    {
        ProjectSettings kws;
        kws.name = QStringLiteral("keywords");
        kws.templateName = QStringLiteral("audio");
        kws.boardId = QStringLiteral("host");
        kws.labels = {QStringLiteral("yes"), QStringLiteral("no"), QStringLiteral("noise")};
        kws.sensor = QStringLiteral("mic");
        kws.sampleRateHz = 16000;
        kws.sampleLengthS = 1;
        auto kwsStore = ProjectStore::create(kwsPath, kws, &error);
        QVector<Sample> clips;
        for (int l = 0; l < kws.labels.size(); ++l)
            for (int i = 0; i < 8; ++i) {
                Sample s = test::audioSample(kws.labels[l], 16000, 16000.0, 0.6 + 0.5 * l + 0.04 * i, 100u + unsigned(i));
                s.split = i % 4 == 3 ? Split::Test : Split::Train;
                clips << s;
            }
        if (!kwsStore || !kwsStore->addSamples(clips, &error))
            QTextStream(stderr) << error << "\n";
    }
    window.openProject(kwsPath, &error);
    window.showStage(MainWindow::Stage::Features);
    waitFor([&] { return !features->isRunning(); }, 10000, "feature cache");
    features->generate();
    waitFor([&] { return !features->isRunning(); }, 60000, "features");
    features->selectRow(9);
    save(&window, QStringLiteral("features-audio"));

    return 0;
}
