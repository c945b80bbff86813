#include "live/LiveController.h"

#include "commands/ProjectSettingsCommand.h"
#include "live/CalibrationView.h"
#include "live/LiveClassificationView.h"
#include "models/BoardCatalog.h"
#include "pages/LivePage.h"
#include "window/ProjectSession.h"

#include "Calibration.h"
#include "ImpulseSpec.h"
#include "device/AgentLink.h"
#include "device/VirtualBoard.h"
#include "store/ProjectStore.h"
#include "store/ProjectTask.h"
#include "stream/ReplayRecording.h"

#include <QFileInfo>
#include <QMetaMethod>
#include <QTimer>

#include <algorithm>

namespace tinyml::ui {

namespace {

deploy::LiveClassifyOptions::Source toOptionsSource(LivePage::Source s)
{
    switch (s) {
    case LivePage::Source::ReplayFile:
        return deploy::LiveClassifyOptions::Source::Replay;
    case LivePage::Source::ScenarioScript:
        return deploy::LiveClassifyOptions::Source::Script;
    case LivePage::Source::SimulatedSensor:
        break;
    }
    return deploy::LiveClassifyOptions::Source::Sensor;
}

bool samePoint(const deploy::CalibrationPoint &a, const deploy::CalibrationPoint &b)
{
    return a.threshold == b.threshold && a.averageWindows == b.averageWindows && a.suppressionMs == b.suppressionMs;
}

} // namespace

LiveController::LiveController(LivePage *page, QObject *parent)
    : QObject(parent), m_page(page), m_task(new ProjectTask(this))
{
    resetClassifier();
    connect(page, &LivePage::startRequested, this, [this] { start(); });
    connect(page, &LivePage::stopRequested, this, &LiveController::stop);
    connect(page, &LivePage::calibrateRequested, this, &LiveController::startCalibration);
    connect(page, &LivePage::cancelCalibrationRequested, this, &LiveController::cancelCalibration);
    connect(page->calibrationView(), &CalibrationView::saveRequested, this, [this](int index) {
        QString error;
        if (!saveOperatingPoint(index, &error))
            m_page->setCalibrationStatus(tr("Not saved: %1").arg(error));
    });
}

LiveController::~LiveController()
{
    m_task->cancelAndWait();
    if (m_classifier)
        m_classifier->disconnect(this);
}

void LiveController::resetClassifier()
{
    // A classifier that still runs (closing the project mid-run) is told to stop and
    // abandoned: its late report must not reach the next project's page.
    if (m_classifier) {
        m_classifier->disconnect(this);
        m_classifier->stop();
        m_classifier->deleteLater();
    }
    m_classifier = new deploy::LiveClassifier(this);
    connect(m_classifier, &deploy::LiveClassifier::stageChanged, this, [this](const QString &stage) {
        m_page->setStatus(stage + QStringLiteral("…"));
    });
    connect(m_classifier, &deploy::LiveClassifier::windowReceived, this, &LiveController::onWindow);
    connect(m_classifier, &deploy::LiveClassifier::samplesReceived, this, &LiveController::onSamples);
    connect(m_classifier, &deploy::LiveClassifier::metricsUpdated, this, &LiveController::onMetrics);
    connect(m_classifier, &deploy::LiveClassifier::finished, this, &LiveController::onFinished);
    connect(m_classifier, &deploy::LiveClassifier::failed, this, &LiveController::onFailed);
}

void LiveController::setSession(ProjectSession *session)
{
    if (session == m_session)
        return;
    const bool wasRunning = isRunning();
    if (m_classifier->isRunning() || m_starting)
        resetClassifier();
    if (m_waitingForBoard)
        Q_EMIT cancelConnectRequested();
    m_waitingForBoard = m_waitingForStream = false;
    m_task->cancelAndWait();
    m_session = session;
    m_report.reset();
    m_calibration.reset();
    m_recording.reset();
    if (wasRunning) {
        releasePreview();
        Q_EMIT runningChanged(false);
    }
    m_page->setSession(session);
}

void LiveController::setDevice(DeviceLink *link, VirtualBoard *virtualBoard)
{
    if (m_link == link && m_virtual == virtualBoard)
        return;
    m_link = link;
    m_virtual = virtualBoard;
    // A link lost mid-run ends the run through the classifier's failed().
}

AgentLink *LiveController::agentLink() const
{
    if (!m_link || !m_link->isOpen())
        return nullptr;
    return qobject_cast<AgentLink *>(m_link.data());
}

const BoardDefinition *LiveController::currentBoard() const
{
    if (m_virtual)
        return BoardCatalog::board(m_virtual->board().id);
    if (AgentLink *agent = agentLink())
        if (agent->hasInfo())
            return BoardCatalog::registry().boardForAgentId(agent->info().boardId);
    return nullptr;
}

qint64 LiveController::modelId() const
{
    if (!m_session)
        return 0;
    qint64 id = 0;
    for (const StoredModel &m : m_session->store().models())
        if (m.kind == ModelKind::Int8)
            id = std::max(id, m.id);
    return id;
}

bool LiveController::isRunning() const
{
    return m_waitingForBoard || m_waitingForStream || m_starting || m_classifier->isRunning();
}

// --- running -----------------------------------------------------------------------------------

bool LiveController::start()
{
    if (!m_session || isRunning())
        return false;
    m_report.reset();
    m_stopRequested = false;
    if (modelId() == 0) {
        m_page->setStatus(tr("No int8 model yet: quantize one on the Training page."));
        return false;
    }
    m_page->setRunning(true);
    Q_EMIT previewHeld(true);
    Q_EMIT runningChanged(true);
    if (!m_link) {
        const BoardDefinition *projectBoard = BoardCatalog::board(m_session->boardId());
        if (!projectBoard || !projectBoard->isVirtual) {
            m_page->setStatus(tr("No board is connected. Connect %1 on the Data acquisition page, then press Start.")
                                  .arg(BoardCatalog::displayName(m_session->boardId())));
            endRun(false);
            return false;
        }
        // The same path as the Deployment page: the window starts the project's virtual board
        // through the Data acquisition page; boardStartFinished() continues.
        m_waitingForBoard = true;
        m_boardStartMessage.clear();
        m_page->setStatus(tr("Starting the virtual board %1…").arg(projectBoard->name));
        m_requestingBoard = true;
        if (isSignalConnected(QMetaMethod::fromSignal(&LiveController::connectRequested)))
            Q_EMIT connectRequested();
        else
            m_waitingForBoard = false;
        m_requestingBoard = false;
        if (m_waitingForBoard)
            return true;
        if (!agentLink()) {
            m_page->setStatus(m_boardStartMessage.isEmpty()
                                  ? tr("%1 did not start: the Data acquisition page says why.").arg(projectBoard->name)
                                  : tr("%1 did not start: %2").arg(projectBoard->name, m_boardStartMessage));
            endRun(false);
            return false;
        }
    }
    continueWithBoard();
    return isRunning();
}

void LiveController::boardStartFinished(bool ok, const QString &message)
{
    if (!m_waitingForBoard)
        return;
    m_waitingForBoard = false;
    m_boardStartMessage = message;
    if (m_requestingBoard)
        return; // start() goes on by itself
    if (ok && agentLink()) {
        // Queued: the acquisition page finishes connecting (and starts its preview) first.
        QTimer::singleShot(0, this, [this] {
            if (m_stopRequested || !m_session) {
                endRun(false);
                return;
            }
            continueWithBoard();
        });
        return;
    }
    m_page->setStatus(tr("The virtual board did not start: %1").arg(message));
    endRun(false);
}

void LiveController::continueWithBoard()
{
    AgentLink *link = agentLink();
    if (!link) {
        m_page->setStatus(m_link ? tr("%1 does not speak the TinyML agent protocol: it cannot run an impulse.")
                                       .arg(m_link->portName())
                                 : tr("The board went away before the classification started."));
        endRun(false);
        return;
    }
    if (!currentBoard()) {
        m_page->setStatus(tr("The connected board (%1) is not in the board registry.")
                              .arg(link->hasInfo() ? link->info().boardId : link->portName()));
        endRun(false);
        return;
    }
    // The acquisition page keeps a live preview streaming; the classification needs the link.
    if (link->isStreaming()) {
        m_waitingForStream = true;
        m_page->setStatus(tr("Stopping the live preview…"));
        auto proceed = std::make_shared<bool>(false);
        auto go = [this, proceed] {
            if (*proceed || !m_waitingForStream)
                return;
            *proceed = true;
            m_waitingForStream = false;
            if (m_stopRequested || !m_session) {
                endRun(false);
                return;
            }
            // Queued: streamEnded is emitted while the link parses its input, and start()
            // waits for replies in nested event loops, which must not re-enter that parser.
            QTimer::singleShot(0, this, [this] {
                if (m_stopRequested || !m_session)
                    endRun(false);
                else
                    beginRun();
            });
        };
        connect(link, &DeviceLink::streamEnded, this, go, Qt::SingleShotConnection);
        QTimer::singleShot(2000, this, go);
        link->stopStream();
        return;
    }
    beginRun();
}

void LiveController::beginRun()
{
    AgentLink *link = agentLink();
    const BoardDefinition *board = currentBoard();
    if (!link || !board || !m_session) {
        m_page->setStatus(tr("The board went away before the classification started."));
        endRun(false);
        return;
    }
    const LivePage::Source source = m_page->source();
    deploy::LiveClassifyOptions options;
    options.source = toOptionsSource(source);
    options.path = m_page->sourcePath();
    options.truthPath = m_page->truthPath();
    if (source == LivePage::Source::SimulatedSensor)
        options.seconds = m_page->seconds();
    // Where the agent finds a replay (QEMU semihosting, the host agent's working directory).
    if (m_virtual)
        options.replayDirectory = m_virtual->stateDirectory();

    LiveClassificationView *view = m_page->liveView();
    m_windows = m_detections = 0;
    m_overruns = 0;
    m_lastT = 0;
    m_metrics.reset();
    m_recording.reset();
    m_signalFrames = 0;
    const qint64 model = modelId();
    QString error;
    m_starting = true;
    const bool started = m_classifier->start(&m_session->store(), model, link, *board, options, &error);
    m_starting = false;
    if (!started) {
        m_page->setStatus(tr("Not started: %1").arg(error));
        endRun(false);
        return;
    }

    const deploy::ImpulseSpec &spec = m_classifier->spec();
    m_labels = spec.labels;
    m_rateHz = spec.sampleRateHz;
    const DeviceInfo &info = link->info();
    m_counterMicroseconds = info.counterKindName() == QLatin1String("microseconds");
    m_counterResolution = std::max<quint32>(1, info.counterResolution);
    m_clockHz = info.clockHz ? info.clockHz : board->clockHz;

    view->setLabels(spec.labels);   // clears the stream
    int background = -1;
    for (int c = 0; c < spec.post.background.size() && background < 0; ++c)
        if (spec.post.background[c])
            background = c;
    view->setBackgroundClass(background);
    view->setStrideMs(spec.sampleRateHz ? std::optional<double>(1000.0 * spec.strideFrames / spec.sampleRateHz)
                                        : std::nullopt);
    view->setVisibleSeconds(20);
    view->setBatteryEstimate(std::nullopt, tr("estimated when the run ends"));
    const QString file = QFileInfo(options.path).fileName();
    switch (source) {
    case LivePage::Source::ReplayFile:
        view->setSourceNote(tr("Replay of %1 — recorded data played by the simulated sensor").arg(file));
        break;
    case LivePage::Source::ScenarioScript:
        view->setSourceNote(tr("Scenario script %1 (simulated)").arg(file));
        break;
    case LivePage::Source::SimulatedSensor:
        view->setSourceNote(info.simulator.isEmpty() ? tr("Board sensor on %1").arg(board->name)
                                                     : tr("Simulated sensor"));
        break;
    }
    QVector<TruthRow> truth;
    for (const stream::TruthEvent &e : m_classifier->truth().events())
        truth.append({e.startS, e.endS, int(spec.labels.indexOf(e.label))});
    view->setTruth(truth);
    MetricsRow empty;
    view->setMetrics(empty);

    if (source == LivePage::Source::ReplayFile) {
        // The board sends no raw samples for a replay: the signal is drawn from the file, as
        // far as the windows have got.
        const DeviceSensorInfo *sensor = nullptr;
        for (const DeviceSensorInfo &s : info.sensors)
            if (s.kind == int(spec.sensorKind) && !sensor)
                sensor = &s;
        if (sensor) {
            stream::ReplayTarget target{double(spec.sampleRateHz), sensor->channelCount, sensor->scale, sensor->name};
            io::ImportError ie;
            if (auto rec = stream::ReplayRecording::load(options.path, target, &ie)) {
                m_recording = std::make_unique<stream::ReplayRecording>(std::move(*rec));
                m_recordingScale = sensor->scale;
            }
        }
    }
    m_page->setStatus(tr("Classifying on %1 with model #%2…").arg(board->name).arg(model));
    if (m_stopRequested)
        m_classifier->stop();
}

void LiveController::stop()
{
    m_stopRequested = true;
    if (m_waitingForBoard) {
        Q_EMIT cancelConnectRequested();   // boardStartFinished() reports the end
        return;
    }
    if (m_waitingForStream) {
        m_waitingForStream = false;
        m_page->setStatus(tr("Cancelled."));
        endRun(false);
        return;
    }
    if (m_classifier->isRunning()) {
        m_page->setStatus(tr("Stopping…"));
        m_classifier->stop();
    }
}

void LiveController::endRun(bool ok)
{
    m_page->setRunning(false);
    releasePreview();
    Q_EMIT runningChanged(false);
    Q_EMIT runFinished(ok);
}

void LiveController::releasePreview()
{
    // Always: a preview that a queued resume would have started during the run was held back.
    Q_EMIT previewHeld(false);
    Q_EMIT previewReleased();
}

double LiveController::ticksToMs(quint32 ticks) const
{
    // The same conversion as the report (LiveClassifier::finish): counter units are ticks x
    // resolution; microseconds directly, cycles and instructions on the board's clock.
    const double units = double(ticks) * double(m_counterResolution);
    if (m_counterMicroseconds)
        return units / 1000.0;
    return m_clockHz > 0 ? units * 1000.0 / double(m_clockHz) : 0.0;
}

void LiveController::feedRecordingUpTo(qint64 frame)
{
    if (!m_recording)
        return;
    frame = std::min(frame, m_recording->frames());
    if (frame <= m_signalFrames)
        return;
    const int channels = m_recording->channels();
    QVector<float> values;
    values.reserve(int((frame - m_signalFrames) * channels));
    for (qint64 f = m_signalFrames; f < frame; ++f)
        for (int c = 0; c < channels; ++c)
            values << float(m_recording->rawValue(f, c)) * m_recordingScale;
    m_page->liveView()->appendSignal(m_signalFrames, m_recording->rateHz(), values, channels);
    m_signalFrames = frame;
}

void LiveController::onWindow(const deploy::LiveWindow &w)
{
    WindowRow row;
    row.t_s = w.tS;
    row.scores = w.scores;
    row.decision = w.device.isUncertain() ? -1 : w.device.decision;
    row.detection = w.device.isDetection();
    row.suppressed = (w.device.flags & ClassifyResult::kSuppressed) != 0;
    row.dspMs = ticksToMs(w.device.dspTicks);
    row.modelMs = ticksToMs(w.device.modelTicks);
    row.postMs = ticksToMs(w.device.postTicks);
    feedRecordingUpTo(qint64(w.device.windowEnd));
    m_page->liveView()->addWindow(row);
    m_page->addLiveWindow(w);   // an anomaly model's score against its threshold
    ++m_windows;
    m_detections += row.detection ? 1 : 0;
    m_overruns = w.device.overruns;
    m_lastT = w.tS;
    // Windows and overruns move with every window; the truth metrics when a detection updates them.
    if (m_metrics) {
        onMetrics(*m_metrics);
    } else {
        MetricsRow m;
        m.windows = m_windows;
        m.overruns = m_overruns;
        m.streamSeconds = m_lastT;
        m_page->liveView()->setMetrics(m);
    }
    if (!m_stopRequested)
        m_page->setStatus(tr("Classifying: %1 s, %2 windows, %3 detections")
                              .arg(w.tS, 0, 'f', 1)
                              .arg(m_windows)
                              .arg(m_detections));
}

void LiveController::onSamples(qint64 firstFrame, const QVector<float> &values, int channels)
{
    if (m_rateHz > 0)
        m_page->liveView()->appendSignal(firstFrame, m_rateHz, values, channels);
}

void LiveController::onMetrics(const stream::StreamMetricsResult &metrics)
{
    m_metrics = metrics;
    MetricsRow m;
    m.windows = m_windows;
    m.overruns = m_overruns;
    m.streamSeconds = std::max(m_lastT, metrics.totalS);
    m.eventsTotal = metrics.events;
    m.eventsDetected = metrics.detectedEvents;
    m.recall = metrics.recall;
    for (const QString &label : m_labels) {
        const auto it = metrics.perClass.constFind(label);
        m.classRecall << (it != metrics.perClass.constEnd() ? it->recall() : std::nullopt);
    }
    m.falseActivations = metrics.falseActivations;
    m.falseActivationsPerHour = metrics.falseActivationsPerHour;
    m.delayMedianMs = metrics.delayMedianMs;
    m.delayP90Ms = metrics.delayP90Ms;
    if (m_report) {
        m.hostEqualWindows = m_report->hostReplayEqualWindows;
        m.hostComparedWindows = m_report->windowsCompared;
    }
    m_page->liveView()->setMetrics(m);
}

void LiveController::onFinished(const deploy::LiveClassifyReport &report)
{
    m_report = report;
    LiveClassificationView *view = m_page->liveView();
    feedRecordingUpTo(m_recording ? m_recording->frames() : 0);
    m_windows = report.windows;
    m_overruns = report.overruns;
    if (report.metrics) {
        onMetrics(*report.metrics);
    } else {
        MetricsRow m;
        m.windows = report.windows;
        m.overruns = report.overruns;
        m.streamSeconds = m_lastT;
        m.hostEqualWindows = report.hostReplayEqualWindows;
        m.hostComparedWindows = report.windowsCompared;
        view->setMetrics(m);
    }
    view->setBatteryEstimate(report.batteryLifeDays ? std::optional<double>(*report.batteryLifeDays * 24.0)
                                                    : std::nullopt,
                             report.batteryNote);
    view->flush();
    QString status = tr("Finished (%1): %2 windows, %3 detections; host replay: %4 of %5 windows equal bit for bit")
                         .arg(report.endReason)
                         .arg(report.windows)
                         .arg(report.detections.size())
                         .arg(report.hostReplayEqualWindows)
                         .arg(report.windowsCompared);
    if (!report.hostReplayNote.isEmpty())
        status += QStringLiteral(" (%1)").arg(report.hostReplayNote);
    if (report.overruns > 0)
        status += tr("; %1 overruns").arg(report.overruns);
    m_page->setRunning(false);
    m_page->setStatus(status + QLatin1Char('.'));
    releasePreview();
    Q_EMIT runningChanged(false);
    Q_EMIT runFinished(true);
}

void LiveController::onFailed(const QString &message)
{
    m_page->setRunning(false);
    m_page->setStatus(tr("Stopped: %1").arg(message));
    releasePreview();
    Q_EMIT runningChanged(false);
    Q_EMIT runFinished(false);
}

// --- calibration -----------------------------------------------------------------------------

bool LiveController::isCalibrating() const
{
    return m_task->isRunning();
}

bool LiveController::startCalibration(const QString &recording, const QString &truthPath,
                                      double maxFalseActivationsPerHour)
{
    if (!m_session || m_task->isRunning())
        return false;
    const qint64 model = modelId();
    if (model == 0) {
        m_page->setCalibrationStatus(tr("No int8 model yet: quantize one on the Training page."));
        return false;
    }
    for (const QString &file : {recording, truthPath})
        if (!QFileInfo(file).isFile()) {
            m_page->setCalibrationStatus(tr("Not started: %1: no such file").arg(file));
            return false;
        }
    auto out = std::make_shared<std::optional<deploy::RecordingCalibration>>();
    ProjectTask *task = m_task;
    LivePage *page = m_page;
    const bool started = m_task->start(m_session->path(), [=](ProjectStore &store, QString *error) {
        deploy::ReplayOptions ro;
        ro.cancel = task->cancelFlag();
        ro.progress = [task, page](qint64 done, qint64 total) {
            task->post([page, done, total] { page->setCalibrationProgress(done, total); });
        };
        // save = false: this store is the worker's; the GUI thread saves the chosen point.
        *out = deploy::calibrateOnRecording(store, model, recording, truthPath, maxFalseActivationsPerHour, false, ro,
                                            error);
        return out->has_value();
    });
    if (!started)
        return false;
    m_page->setCalibrating(true);
    m_page->setCalibrationStatus(tr("Replaying %1 through model #%2's impulse on this computer…")
                                     .arg(QFileInfo(recording).fileName())
                                     .arg(model));
    disconnect(m_task, &ProjectTask::finished, this, nullptr);
    connect(m_task, &ProjectTask::finished, this,
            [this, out, recording, truthPath](bool ok, bool cancelled, const QString &error) {
                disconnect(m_task, &ProjectTask::finished, this, nullptr);
                m_page->setCalibrating(false);
                if (ok && *out) {
                    m_calibration = **out;
                    showCalibration(*m_calibration, recording, truthPath);
                } else if (cancelled) {
                    m_page->setCalibrationStatus(tr("Calibration cancelled; the project is unchanged."));
                } else {
                    m_page->setCalibrationStatus(tr("Calibration failed: %1").arg(error));
                }
                Q_EMIT calibrationFinished(ok && out->has_value());
            });
    return true;
}

void LiveController::cancelCalibration()
{
    if (m_task->isRunning()) {
        m_task->cancel();
        m_page->setCalibrationStatus(tr("Cancelling…"));
    }
}

void LiveController::showCalibration(const deploy::RecordingCalibration &cal, const QString &recording,
                                     const QString &truthPath)
{
    const deploy::CalibrationResult &r = cal.result;
    QVector<CalibrationRow> rows;
    int chosen = -1;
    for (int i = 0; i < r.points.size(); ++i) {
        const deploy::CalibrationPoint &p = r.points[i];
        CalibrationRow row;
        row.threshold = p.threshold;
        row.averageWindows = p.averageWindows;
        row.suppressionMs = p.suppressionMs;
        row.faPerHour = p.falseActivationsPerHour;
        row.frr = p.falseRejectionRate;
        row.onFront = std::any_of(r.curve.cbegin(), r.curve.cend(),
                                  [&](const deploy::CalibrationPoint &c) { return samePoint(c, p); });
        rows << row;
        if (chosen < 0 && samePoint(p, r.operatingPoint))
            chosen = i;
    }
    CalibrationView *view = m_page->calibrationView();
    view->setPoints(rows);
    view->setChosen(chosen);
    view->setSourceNote(tr("Swept on the host replay of %1 (%2 s, %3 events, %4 windows) with %5 — the device's own C "
                           "pipeline on this computer")
                            .arg(QFileInfo(recording).fileName())
                            .arg(cal.recordingS, 0, 'f', 1)
                            .arg(cal.events)
                            .arg(cal.windows)
                            .arg(QFileInfo(truthPath).fileName()));
    QString status = r.withinLimit
                         ? tr("Operating point: the fewest missed events with at most %1 false activations per hour. "
                              "Click another point to choose it; Save operating point stores it in the project.")
                               .arg(r.maxFalseActivationsPerHour)
                         : tr("No setting stays within %1 false activations per hour: the point with the fewest is "
                              "chosen.")
                               .arg(r.maxFalseActivationsPerHour);
    if (!cal.clippingWarning.isEmpty())
        status += QLatin1Char(' ') + tr("Warning: %1").arg(cal.clippingWarning);
    m_page->setCalibrationStatus(status);
}

bool LiveController::saveOperatingPoint(int index, QString *error)
{
    if (!m_session || !m_calibration || index < 0 || index >= m_calibration->result.points.size()) {
        *error = tr("no calibration point %1").arg(index);
        return false;
    }
    const deploy::CalibrationPoint &point = m_calibration->result.points[index];
    ProjectSettings settings = m_session->store().settings();
    const auto options = deploy::impulseOptions(settings, error);
    if (!options)
        return false;
    deploy::setImpulseOptions(settings, deploy::withOperatingPoint(*options, point));
    if (!ProjectSettingsCommand::execute(m_session, settings, tr("Save operating point"), error))
        return false;
    m_page->setCalibrationStatus(tr("Saved: threshold %1, average of %2 windows, suppression %3 ms "
                                    "(%4 false activations/h, %5 % missed). The next Start flashes it; Edit > Undo "
                                    "restores the previous settings.")
                                     .arg(point.threshold, 0, 'f', 2)
                                     .arg(point.averageWindows)
                                     .arg(point.suppressionMs)
                                     .arg(point.falseActivationsPerHour, 0, 'f', 2)
                                     .arg(100.0 * point.falseRejectionRate, 0, 'f', 1));
    return true;
}

} // namespace tinyml::ui
