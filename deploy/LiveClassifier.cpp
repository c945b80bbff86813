#include "LiveClassifier.h"

#include "Flasher.h"
#include "ModelPackageWriter.h"

#include "device/AgentLink.h"
#include "device/DeviceLink.h"
#include "model/Graph.h"
#include "store/ProjectStore.h"
#include "stream/ReplayRecording.h"
#include "stream/ScenarioScript.h"

#include "tm_protocol.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QHash>
#include <QJsonArray>

#include <algorithm>
#include <cmath>

namespace tinyml::deploy {

namespace {

/// The replay file the agent opens, in the board's working directory.
constexpr const char *kReplayFileName = "tinyml-replay.raw";

double median(QVector<double> v)
{
    if (v.isEmpty())
        return 0;
    std::sort(v.begin(), v.end());
    return v[(v.size() - 1) / 2];
}

QString counterName(int kind)
{
    switch (kind) {
    case TM_COUNTER_CYCLES:
        return QStringLiteral("cycles");
    case TM_COUNTER_INSTRUCTIONS:
        return QStringLiteral("instructions");
    case TM_COUNTER_MICROSECONDS:
        return QStringLiteral("microseconds");
    default:
        return QStringLiteral("ticks");
    }
}

} // namespace

std::optional<qint64> newestAnomalyModel(const ProjectStore &store, QString *error)
{
    std::optional<qint64> best;
    for (const StoredModel &m : store.models()) {
        if (m.kind != ModelKind::Int8 || (best && m.id < *best))
            continue;
        QString ignored;
        const auto full = store.model(m.id, &ignored);   // models() leaves the graph blobs out
        const auto g = full ? model::Graph::deserialize(full->graph, &ignored) : std::nullopt;
        if (g && g->meta.value(QStringLiteral("task")).toString() == QLatin1String("anomaly"))
            best = m.id;
    }
    if (!best && error)
        *error = QStringLiteral("the project has no int8 anomaly model: train one with `tinyml train --model kmeans|gmm|"
                                "autoencoder --normal LABEL` and quantize it");
    return best;
}

std::optional<ImpulsePackage> buildImpulsePackage(const ProjectStore &store, qint64 modelId,
                                                  const DeviceInfo *device, QString *error,
                                                  std::optional<qint64> anomalyModelId)
{
    auto stored = store.model(modelId, error);
    if (!stored)
        return std::nullopt;
    if (stored->kind != ModelKind::Int8) {
        *error = QStringLiteral("model %1 is a float model: an impulse runs an int8 model (`tinyml quantize` makes one)")
                     .arg(modelId);
        return std::nullopt;
    }
    auto graph = model::Graph::deserialize(stored->graph, error);
    if (!graph) {
        *error = QStringLiteral("model %1: %2").arg(modelId).arg(*error);
        return std::nullopt;
    }
    const ProjectSettings settings = store.settings();
    auto options = impulseOptions(settings, error);
    if (!options)
        return std::nullopt;

    // The sensor: a first guess from the model's feature block, then the board's own sensor of
    // that kind (its scale, channels and rates) when a board is connected.
    ImpulseSensor sensor;
    auto probe = impulseSpecFor(*graph, settings, sensor, *options, error);
    if (!probe) {
        *error = QStringLiteral("model %1: %2").arg(modelId).arg(*error);
        return std::nullopt;
    }
    ImpulsePackage out;
    out.sensor.id = -1;
    if (device) {
        const DeviceSensorInfo *found = nullptr;
        for (const DeviceSensorInfo &s : device->sensors)
            if (s.kind == int(probe->sensorKind)) {
                found = &s;
                break;
            }
        if (!found) {
            *error = QStringLiteral("the board has no %1, which the impulse of model %2 reads")
                         .arg(probe->sensorKind == ImpulseSensorKind::Microphone ? QStringLiteral("microphone")
                                                                                 : QStringLiteral("accelerometer"))
                         .arg(modelId);
            return std::nullopt;
        }
        out.sensor = *found;
        sensor = ImpulseSensor::fromDevice(*found);
        sensor.rateHz = 0; // the block's or project's rate decides, not the sensor's default
        probe = impulseSpecFor(*graph, settings, sensor, *options, error);
        if (!probe) {
            *error = QStringLiteral("model %1: %2").arg(modelId).arg(*error);
            return std::nullopt;
        }
    }
    std::optional<StoredModel> anomalyStored;
    if (anomalyModelId) {
        if (graph->meta.value(QStringLiteral("task")).toString() == QLatin1String("anomaly")) {
            *error = QStringLiteral("model %1 is an anomaly model: an anomaly model runs beside a classifier "
                                    "(pick the classifier with --model)").arg(modelId);
            return std::nullopt;
        }
        anomalyStored = store.model(*anomalyModelId, error);
        if (!anomalyStored)
            return std::nullopt;
        if (anomalyStored->kind != ModelKind::Int8) {
            *error = QStringLiteral("model %1 is a float model: the anomaly model of an impulse must be int8 "
                                    "(`tinyml quantize --model %1`)").arg(*anomalyModelId);
            return std::nullopt;
        }
        auto agraph = model::Graph::deserialize(anomalyStored->graph, error);
        if (!agraph) {
            *error = QStringLiteral("model %1: %2").arg(*anomalyModelId).arg(*error);
            return std::nullopt;
        }
        auto part = impulseAnomalyFor(*graph, QStringLiteral("model %1").arg(modelId), *agraph,
                                      QStringLiteral("model %1").arg(*anomalyModelId), error);
        if (!part)
            return std::nullopt;
        probe->anomaly = *part;
    }
    ModelPackageWriter writer;
    writer.setImpulse(*probe);
    auto package = writer.write(*graph, error);
    if (!package) {
        *error = QStringLiteral("model %1 cannot be packaged with its impulse: %2").arg(modelId).arg(*error);
        return std::nullopt;
    }
    out.spec = *probe;
    out.package = *package;
    out.modelId = modelId;
    out.modelName = stored->name;
    if (anomalyStored) {
        out.anomalyModelId = anomalyStored->id;
        out.anomalyModelName = anomalyStored->name;
    }
    if (graph->meta.value(QStringLiteral("task")).toString() == QLatin1String("anomaly")) {
        const QJsonValue t = graph->meta.value(QStringLiteral("threshold"));
        if (!t.isDouble() || !std::isfinite(t.toDouble())) {
            *error = QStringLiteral("model %1 is an anomaly model without a numeric \"threshold\" in its meta: "
                                    "retrain it with `tinyml train --model ...`").arg(modelId);
            return std::nullopt;
        }
        out.anomaly = true;
        out.anomalyThreshold = t.toDouble();
        for (const QJsonValue &v : graph->meta.value(QStringLiteral("normal_labels")).toArray())
            out.normalLabels << v.toString();
    }
    return out;
}

QJsonObject RecordingCalibration::toJson() const
{
    QJsonObject o = result.toJson();
    o.insert(QStringLiteral("windows"), windows);
    o.insert(QStringLiteral("events"), events);
    o.insert(QStringLiteral("recording_s"), recordingS);
    o.insert(QStringLiteral("replay_s"), replayS);
    o.insert(QStringLiteral("saved"), saved);
    if (!clippingWarning.isEmpty())
        o.insert(QStringLiteral("warning"), clippingWarning);
    return o;
}

std::optional<RecordingCalibration> calibrateOnRecording(ProjectStore &store, qint64 modelId,
                                                         const QString &recordingPath, const QString &truthPath,
                                                         double maxFalseActivationsPerHour, bool save,
                                                         const ReplayOptions &replayOptions, QString *error)
{
    auto pkg = buildImpulsePackage(store, modelId, nullptr, error);
    if (!pkg)
        return std::nullopt;
    ImpulseReplay replay;
    if (!replay.load(pkg->package, error))
        return std::nullopt;
    const ImpulseSpec &spec = pkg->spec;
    stream::ReplayTarget target;
    target.rateHz = spec.sampleRateHz;
    target.channels = spec.channels;
    target.rawScale = spec.rawScale;
    target.sensorName = spec.sensorKind == ImpulseSensorKind::Microphone ? QStringLiteral("mic") : QStringLiteral("accel");
    io::ImportError ie;
    auto recording = stream::ReplayRecording::load(recordingPath, target, &ie);
    if (!recording) {
        *error = ie.toString();
        return std::nullopt;
    }
    auto truth = stream::GroundTruth::loadCsv(truthPath, spec.labels, &ie);
    if (!truth) {
        *error = ie.toString();
        return std::nullopt;
    }
    RecordingCalibration out;
    out.clippingWarning = recording->clippingWarning();
    const QVector<qint16> samples = recording->samples();
    QElapsedTimer clock;
    clock.start();
    auto result = replay.run(samples.constData(), recording->frames(), spec.channels, replayOptions, error);
    if (!result)
        return std::nullopt;
    out.replayS = double(clock.elapsed()) / 1000.0;
    const double windowS = double(spec.windowFrames) / spec.sampleRateHz;
    out.recordingS = recording->durationS();
    const DecisionScorer scorer = streamMetricsScorer(*truth, spec.labels, spec.sampleRateHz, out.recordingS, windowS);
    auto cal = calibrate(result->scores, replay.postConfig(), scorer, CalibrationGrid(), maxFalseActivationsPerHour, error,
                         replayOptions.cancel);
    if (!cal)
        return std::nullopt;
    out.result = *cal;
    out.windows = result->scores.windows();
    out.events = int(truth->events().size());
    if (save) {
        ProjectSettings settings = store.settings();
        auto options = impulseOptions(settings, error);
        if (!options)
            return std::nullopt;
        setImpulseOptions(settings, withOperatingPoint(*options, cal->operatingPoint));
        if (!store.setSettings(settings, error))
            return std::nullopt;
        out.saved = true;
    }
    return out;
}

QJsonObject LiveClassifyReport::toJson() const
{
    QJsonObject o;
    o.insert(QStringLiteral("board"), board);
    o.insert(QStringLiteral("model_id"), double(modelId));
    o.insert(QStringLiteral("source"), source);
    o.insert(QStringLiteral("simulated"), simulated);
    o.insert(QStringLiteral("labels"), QJsonArray::fromStringList(labels));
    o.insert(QStringLiteral("rate_hz"), double(rateHz));
    o.insert(QStringLiteral("window_frames"), double(window));
    o.insert(QStringLiteral("stride_frames"), double(stride));
    o.insert(QStringLiteral("windows"), windows);
    o.insert(QStringLiteral("overruns"), double(overruns));
    o.insert(QStringLiteral("frames_lost"), double(framesLost));
    o.insert(QStringLiteral("end_reason"), endReason);
    QJsonArray dec;
    for (const LiveWindow &w : detections)
        dec.append(QJsonObject{{QStringLiteral("t_s"), w.tS},
                               {QStringLiteral("label"), w.label},
                               {QStringLiteral("score"), double(w.device.score)}});
    o.insert(QStringLiteral("decisions"), dec);
    if (anomaly) {
        QJsonObject a{{QStringLiteral("threshold"), anomalyThreshold},
                      {QStringLiteral("alarms"), alarms},
                      {QStringLiteral("alarm_windows"), alarmWindows},
                      {QStringLiteral("max_score"), maxAnomalyScore}};
        if (anomalyModelId)
            a.insert(QStringLiteral("model_id"), double(*anomalyModelId));
        o.insert(QStringLiteral("anomaly"), a);
    }
    if (anomalyModelId) {
        // Classifier + anomaly model: class and anomaly score of every window.
        QJsonArray all;
        for (const LiveWindow &w : perWindow)
            all.append(QJsonObject{{QStringLiteral("window_end"), double(w.device.windowEnd)},
                                   {QStringLiteral("t_s"), w.tS},
                                   {QStringLiteral("top_class"), w.device.topClass},
                                   {QStringLiteral("label"), w.label.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(w.label)},
                                   {QStringLiteral("score"), double(w.device.score)},
                                   {QStringLiteral("anomaly_score_q"), int(w.device.anomalyScore)},
                                   {QStringLiteral("anomaly_score"), w.anomaly ? double(w.anomaly->score) : 0.0},
                                   {QStringLiteral("alarm"), w.device.anomalyAlarm}});
        o.insert(QStringLiteral("per_window"), all);
    }
    if (metrics) {
        const QJsonObject m = metrics->toJson();
        for (auto it = m.begin(); it != m.end(); ++it)
            o.insert(it.key(), it.value());
    } else {
        o.insert(QStringLiteral("event_recall"), QJsonValue::Null);
        o.insert(QStringLiteral("false_activations_per_hour"), QJsonValue::Null);
        o.insert(QStringLiteral("detection_delay_ms"),
                 QJsonObject{{QStringLiteral("median"), QJsonValue::Null}, {QStringLiteral("p90"), QJsonValue::Null}});
        o.insert(QStringLiteral("truth"), QStringLiteral("none: pass --truth (or use --script) for stream metrics"));
    }
    o.insert(QStringLiteral("counter"), counter);
    o.insert(QStringLiteral("clock_hz"), double(clockHz));
    o.insert(QStringLiteral("stage_counter"), QJsonObject{{QStringLiteral("dsp"), dspCounter},
                                                          {QStringLiteral("model"), modelCounter},
                                                          {QStringLiteral("post"), postCounter}});
    o.insert(QStringLiteral("stage_ms"), QJsonObject{{QStringLiteral("dsp"), dspMs},
                                                     {QStringLiteral("model"), modelMs},
                                                     {QStringLiteral("post"), postMs}});
    o.insert(QStringLiteral("duty_cycle"), dutyCycle);
    o.insert(QStringLiteral("battery_life_days_estimated"),
             batteryLifeDays ? QJsonValue(*batteryLifeDays) : QJsonValue(QJsonValue::Null));
    o.insert(QStringLiteral("average_current_ma_estimated"),
             averageCurrentMa ? QJsonValue(*averageCurrentMa) : QJsonValue(QJsonValue::Null));
    o.insert(QStringLiteral("battery_note"), batteryNote);
    o.insert(QStringLiteral("windows_compared"), windowsCompared);
    o.insert(QStringLiteral("host_replay_equal_windows"), hostReplayEqualWindows);
    if (!hostReplayNote.isEmpty())
        o.insert(QStringLiteral("host_replay_note"), hostReplayNote);
    return o;
}

namespace {

/// What an anomaly model's alarms are scored against: every event that is not one of the
/// normal labels, relabelled kAnomalyLabel (consecutive faults stay separate events).
constexpr const char *kAnomalyLabel = "anomaly";

stream::GroundTruth anomalyTruth(const stream::GroundTruth &truth, const QStringList &normalLabels)
{
    QVector<stream::TruthEvent> events;
    for (stream::TruthEvent e : truth.events()) {
        if (normalLabels.contains(e.label))
            continue;
        e.label = QString::fromLatin1(kAnomalyLabel);
        events.append(e);
    }
    return stream::GroundTruth(events);
}

} // namespace

struct LiveClassifier::Impl {
    LiveClassifier *q = nullptr;
    AgentLink *link = nullptr;
    BoardDefinition board;
    LiveClassifyOptions opt;
    ImpulsePackage pkg;
    ImpulseReplay replay;
    stream::GroundTruth truth;
    bool hasTruth = false;
    std::optional<stream::ReplayRecording> recording;
    ClassifyStartReply format;
    bool running = false;
    QVector<QMetaObject::Connection> connections;

    QVector<ClassifyResult> results;
    QVector<LiveWindow> detections;
    QVector<LiveWindow> perWindow;     ///< classifier + anomaly model: every window
    bool inAlarm = false;              ///< anomaly model: the last window alarmed
    int alarms = 0, alarmWindows = 0;
    double maxAnomalyScore = 0;
    QVector<stream::Detection> streamDetections;
    QVector<qint16> captured;          ///< raw frames from STREAM_DATA, interleaved
    qint64 capturedFrames = 0;
    bool captureBroken = false;        ///< frames were lost: windows past the gap are not comparable

    QString sourceText() const;
    void onResult(const ClassifyResult &r);
    void emitRunningMetrics(double tS);
    void onChunk(const StreamChunk &chunk);
    void onEnd(const ClassifyEnd &end);
    void finish(const ClassifyEnd &end);
    void disconnectAll();
};

QString LiveClassifier::Impl::sourceText() const
{
    switch (opt.source) {
    case LiveClassifyOptions::Source::Replay:
        return QStringLiteral("replay of %1 (recorded data played by the simulated sensor)")
            .arg(opt.path.startsWith(QLatin1String("sample:")) ? opt.path : QFileInfo(opt.path).fileName());
    case LiveClassifyOptions::Source::Script:
        return QStringLiteral("scenario script %1 (simulated sensor)").arg(QFileInfo(opt.path).fileName());
    case LiveClassifyOptions::Source::Sensor:
        break;
    }
    return link && !link->info().simulator.isEmpty() ? QStringLiteral("simulated sensor") : QStringLiteral("board sensor");
}

LiveClassifier::LiveClassifier(QObject *parent)
    : QObject(parent), d(std::make_unique<Impl>())
{
    d->q = this;
    qRegisterMetaType<tinyml::deploy::LiveWindow>();
    qRegisterMetaType<tinyml::deploy::LiveClassifyReport>();
}

LiveClassifier::~LiveClassifier()
{
    d->disconnectAll();
}

const ImpulseSpec &LiveClassifier::spec() const { return d->pkg.spec; }
const stream::GroundTruth &LiveClassifier::truth() const { return d->truth; }
bool LiveClassifier::isRunning() const { return d->running; }

bool LiveClassifier::start(ProjectStore *store, qint64 modelId, AgentLink *link, const BoardDefinition &board,
                           const LiveClassifyOptions &options, QString *error)
{
    if (d->running) {
        *error = tr("a classification is already running");
        return false;
    }
    d->disconnectAll();
    d->link = link;
    d->board = board;
    d->opt = options;
    d->results.clear();
    d->detections.clear();
    d->streamDetections.clear();
    d->captured.clear();
    d->capturedFrames = 0;
    d->captureBroken = false;
    d->recording.reset();
    d->truth = {};
    d->hasTruth = false;

    if (options.source == LiveClassifyOptions::Source::Sensor && !(options.seconds > 0)) {
        *error = tr("give the duration of a classification on the board's own sensor (--seconds)");
        return false;
    }
    if (!link->info().impulse) {
        *error = tr("the agent on %1 cannot run impulses (no IMPULSE in its INFO): update its firmware")
                     .arg(board.id);
        return false;
    }
    Q_EMIT stageChanged(tr("Packaging the impulse"));
    auto pkg = buildImpulsePackage(*store, modelId, &link->info(), error, options.anomalyModelId);
    if (!pkg)
        return false;
    d->pkg = *pkg;
    const ImpulseSpec &spec = d->pkg.spec;
    if (!d->replay.load(d->pkg.package, error))
        return false;

    // Sources and truth are checked before anything changes on the board.
    std::optional<stream::ScenarioScript> script;
    if (options.source == LiveClassifyOptions::Source::Replay) {
        if (options.replayDirectory.isEmpty()) {
            *error = tr("%1 cannot play a recording: replays run on virtual boards and the host agent").arg(board.id);
            return false;
        }
        stream::ReplayTarget target;
        target.rateHz = spec.sampleRateHz;
        target.channels = d->pkg.sensor.channelCount;
        target.rawScale = d->pkg.sensor.scale;
        target.sensorName = d->pkg.sensor.name;
        io::ImportError ie;
        if (options.path.startsWith(QLatin1String("sample:"))) {
            // A project sample played as if live (e.g. a long recording captured earlier).
            bool ok = false;
            const qint64 id = options.path.mid(7).toLongLong(&ok);
            auto sample = ok ? store->sample(id, error) : std::nullopt;
            if (!sample) {
                *error = ok ? QStringLiteral("%1: %2").arg(options.path, *error)
                            : QStringLiteral("%1: write sample:ID with a sample id (see `tinyml info`)").arg(options.path);
                return false;
            }
            d->recording = stream::ReplayRecording::fromSample(*sample, QStringLiteral("sample %1").arg(id), target, &ie);
        } else {
            d->recording = stream::ReplayRecording::load(options.path, target, &ie);
        }
        if (!d->recording) {
            *error = ie.toString();
            return false;
        }
    } else if (options.source == LiveClassifyOptions::Source::Script) {
        io::ImportError ie;
        script = stream::ScenarioScript::load(options.path, d->pkg.sensor.scenarios, &ie);
        if (!script) {
            *error = ie.toString();
            return false;
        }
        QStringList background;
        for (int c = 0; c < spec.labels.size(); ++c)
            if (spec.post.background.value(c))
                background << spec.labels[c];
        if (d->pkg.anomaly)
            background = d->pkg.normalLabels;
        if (background.isEmpty())
            background << QStringLiteral("idle");
        d->truth = script->groundTruth(spec.sampleRateHz, background);
        d->hasTruth = true;
        if (d->pkg.anomaly)
            d->truth = anomalyTruth(d->truth, d->pkg.normalLabels);
        for (const stream::TruthEvent &e : d->truth.events())
            if (!d->pkg.anomaly && !spec.labels.contains(e.label)) {
                *error = tr("%1: scenario \"%2\" (line %3) is not a label of model %4 (%5): the truth would have events the "
                            "model cannot detect")
                             .arg(options.path, e.label).arg(e.line).arg(modelId).arg(spec.labels.join(QStringLiteral(", ")));
                return false;
            }
    }
    if (!options.truthPath.isEmpty()) {
        io::ImportError ie;
        // An anomaly model knows no fault labels: any label is accepted, the normal ones dropped.
        auto truth = stream::GroundTruth::loadCsv(options.truthPath, d->pkg.anomaly ? QStringList() : spec.labels, &ie);
        if (!truth) {
            *error = ie.toString();
            return false;
        }
        d->truth = d->pkg.anomaly ? anomalyTruth(*truth, d->pkg.normalLabels) : *truth;
        d->hasTruth = true;
    }

    Q_EMIT stageChanged(tr("Flashing the impulse"));
    SignedUpload signedUpload;
    signedUpload.packages = options.signedPackages;
    signedUpload.modelId = modelId;
    signedUpload.command = QStringLiteral("classify");
    auto flashed = Flasher::flash(link, d->pkg.package, options.forceFlash, {}, error, {}, signedUpload);
    if (!flashed)
        return false;

    const QString sensorName = d->pkg.sensor.name;
    if (d->recording) {
        const QString path = QDir(options.replayDirectory).filePath(QString::fromLatin1(kReplayFileName));
        if (!d->recording->writeRaw(path, error))
            return false;
        if (!link->setSensorReplay(sensorName, QString::fromLatin1(kReplayFileName), error))
            return false;
    } else {
        // A replay or script left by an earlier run must not play now.
        QString ignored;
        link->clearSensorReplay(sensorName, &ignored);
        if (script) {
            if (!link->setSensorScript(sensorName, script->wireSteps(), error))
                return false;
        } else {
            link->setSensorScript(sensorName, {}, &ignored);
        }
    }

    d->connections << connect(link, &AgentLink::classifyResult, this, [this](const ClassifyResult &r) { d->onResult(r); });
    d->connections << connect(link, &AgentLink::classifyEnded, this, [this](const ClassifyEnd &e) { d->onEnd(e); });
    d->connections << connect(link, &DeviceLink::streamChunk, this, [this](const StreamChunk &c) { d->onChunk(c); });
    d->connections << connect(link, &DeviceLink::connectionLost, this, [this](const QString &m) {
        if (!d->running)
            return;
        d->running = false;
        d->disconnectAll();
        Q_EMIT failed(tr("the board's link was lost during the classification: %1").arg(m));
    });

    quint32 maxWindows = 0;
    if (options.seconds > 0) {
        const double frames = options.seconds * spec.sampleRateHz;
        maxWindows = frames < spec.windowFrames ? 1u : quint32(1 + (frames - spec.windowFrames) / spec.strideFrames);
    }
    // Raw samples come back when the host has no copy of them (the sensor's own signal).
    const bool sendRaw = options.hostReplay && !d->recording;
    Q_EMIT stageChanged(tr("Classifying"));
    // Windows can arrive while the request still waits for its reply (its event loop runs):
    // they are taken from now on, with the package's own window, stride and rate.
    d->format.rateHz = spec.sampleRateHz;
    d->format.window = spec.windowFrames;
    d->format.stride = spec.strideFrames;
    d->format.classCount = spec.classCount();
    d->running = true;
    auto reply = link->startClassification(sensorName, maxWindows, sendRaw, error);
    if (!reply) {
        d->running = false;
        d->disconnectAll();
        return false;
    }
    if (reply->rateHz != spec.sampleRateHz || reply->window != spec.windowFrames || reply->stride != spec.strideFrames) {
        link->stopClassification();
        d->running = false;
        d->disconnectAll();
        *error = tr("the board runs the impulse at %1 Hz, %2/%3 frames, the package says %4 Hz, %5/%6")
                     .arg(reply->rateHz).arg(reply->window).arg(reply->stride)
                     .arg(spec.sampleRateHz).arg(spec.windowFrames).arg(spec.strideFrames);
        return false;
    }
    d->format = *reply;
    return true;
}

void LiveClassifier::stop()
{
    if (d->running && d->link)
        d->link->stopClassification();
}

void LiveClassifier::Impl::disconnectAll()
{
    for (const auto &c : connections)
        QObject::disconnect(c);
    connections.clear();
}

void LiveClassifier::Impl::onResult(const ClassifyResult &r)
{
    if (!running)
        return;
    results.append(r);
    LiveWindow w;
    w.device = r;
    w.tS = double(r.windowEnd) / double(format.rateHz);
    const PostConfig pc = replay.postConfig();
    for (qint8 v : r.raw)
        w.scores << pc.outScale * float(int(v) - pc.outZeroPoint);
    if (pkg.anomaly) {
        // One score, compared with the threshold here; the device's class decision (a
        // probability threshold over one "class") has no meaning for it.
        LiveAnomaly a;
        a.score = w.scores.value(0);
        a.threshold = pkg.anomalyThreshold;
        a.alarm = double(a.score) > a.threshold;
        a.alarmOnset = a.alarm && !inAlarm;
        inAlarm = a.alarm;
        maxAnomalyScore = results.size() == 1 ? double(a.score) : std::max(maxAnomalyScore, double(a.score));
        alarmWindows += a.alarm ? 1 : 0;
        w.anomaly = a;
        if (a.alarm)
            w.label = QStringLiteral("alarm");
        if (a.alarmOnset) {
            ++alarms;
            detections.append(w);
            streamDetections.append({w.tS, QString::fromLatin1(kAnomalyLabel)});
        }
        Q_EMIT q->windowReceived(w);
        if (hasTruth && a.alarmOnset)
            emitRunningMetrics(w.tS);
        return;
    }
    if (!r.isUncertain())
        w.label = pkg.spec.labels.value(r.decision);
    if (r.hasAnomaly) {
        // The anomaly model beside the classifier: its score and the device's own alarm bit.
        LiveAnomaly a;
        a.score = replay.anomalyScore(r.anomalyScore);
        a.threshold = pkg.spec.anomaly ? double(pkg.spec.anomaly->threshold) : 0.0;
        a.alarm = r.anomalyAlarm;
        a.alarmOnset = a.alarm && !inAlarm;
        inAlarm = a.alarm;
        maxAnomalyScore = results.size() == 1 ? double(a.score) : std::max(maxAnomalyScore, double(a.score));
        alarmWindows += a.alarm ? 1 : 0;
        alarms += a.alarmOnset ? 1 : 0;
        w.anomaly = a;
        perWindow.append(w);
    }
    if (r.isDetection()) {
        detections.append(w);
        streamDetections.append({w.tS, w.label});
    }
    Q_EMIT q->windowReceived(w);
    if (hasTruth && r.isDetection())
        emitRunningMetrics(w.tS);
}

/// Running metrics over the truth events that have started by tS.
void LiveClassifier::Impl::emitRunningMetrics(double tS)
{
    QVector<stream::TruthEvent> started;
    for (const stream::TruthEvent &e : truth.events())
        if (e.startS < tS)
            started.append(e);
    Q_EMIT q->metricsUpdated(stream::computeStreamMetrics(started, streamDetections, tS,
                                                          double(format.window) / format.rateHz));
}

void LiveClassifier::Impl::onChunk(const StreamChunk &chunk)
{
    if (!running)
        return;
    const int channels = int(chunk.data.shape.value(1, 1));
    const QVector<float> values = chunk.data.toFloats();
    Q_EMIT q->samplesReceived(chunk.firstIndex, values, channels);
    if (chunk.lostBefore > 0 || chunk.firstIndex != capturedFrames)
        captureBroken = true;
    if (captureBroken)
        return;
    const float scale = pkg.sensor.scale;
    captured.reserve(captured.size() + values.size());
    for (float v : values) {
        // The agent sent raw * scale; dividing back is exact to far below half an LSB.
        const long raw = std::lround(double(v) / double(scale));
        captured.append(qint16(std::clamp(raw, -32768L, 32767L)));
    }
    capturedFrames += chunk.frames();
}

void LiveClassifier::Impl::onEnd(const ClassifyEnd &end)
{
    if (!running)
        return;
    running = false;
    disconnectAll();
    finish(end);
}

void LiveClassifier::Impl::finish(const ClassifyEnd &end)
{
    const ImpulseSpec &spec = pkg.spec;
    LiveClassifyReport rep;
    rep.board = board.id;
    rep.modelId = pkg.modelId;
    rep.source = sourceText();
    rep.simulated = !link->info().simulator.isEmpty() || recording.has_value();
    rep.labels = spec.labels;
    rep.rateHz = format.rateHz;
    rep.window = format.window;
    rep.stride = format.stride;
    rep.windows = int(results.size());
    rep.overruns = end.overruns;
    rep.framesLost = end.framesLost;
    rep.endReason = end.reason == ClassifyEnd::kLinkLost ? QStringLiteral("link lost") : streamEndReasonName(end.reason);
    rep.detections = detections;
    rep.anomaly = pkg.anomaly || pkg.spec.anomaly.has_value();
    rep.anomalyThreshold = pkg.spec.anomaly ? double(pkg.spec.anomaly->threshold) : pkg.anomalyThreshold;
    rep.anomalyModelId = pkg.anomalyModelId;
    rep.perWindow = perWindow;
    rep.alarms = alarms;
    rep.alarmWindows = alarmWindows;
    rep.maxAnomalyScore = maxAnomalyScore;

    const double windowS = double(format.window) / format.rateHz;
    const double strideS = double(format.stride) / format.rateHz;
    const double lastEndS = results.isEmpty() ? 0.0 : double(results.last().windowEnd) / format.rateHz;
    double totalS = lastEndS;
    if (recording)
        totalS = std::max(totalS, recording->durationS());
    if (hasTruth)
        rep.metrics = stream::computeStreamMetrics(truth, streamDetections, totalS, windowS);

    // Costs: medians per window in counter units, then ms on the board's clock.
    const DeviceInfo &info = link->info();
    rep.counter = counterName(info.counterKind);
    rep.counterResolution = qMax<quint32>(1, info.counterResolution);
    rep.clockHz = info.clockHz ? info.clockHz : board.clockHz;
    QVector<double> dsp, mdl, post;
    for (const ClassifyResult &r : results) {
        dsp << double(r.dspTicks) * rep.counterResolution;
        mdl << double(r.modelTicks) * rep.counterResolution;
        post << double(r.postTicks) * rep.counterResolution;
    }
    rep.dspCounter = median(dsp);
    rep.modelCounter = median(mdl);
    rep.postCounter = median(post);
    auto toMs = [&](double units) {
        if (info.counterKind == TM_COUNTER_MICROSECONDS)
            return units / 1000.0;
        return rep.clockHz > 0 ? units * 1000.0 / double(rep.clockHz) : 0.0;
    };
    rep.dspMs = toMs(rep.dspCounter);
    rep.modelMs = toMs(rep.modelCounter);
    rep.postMs = toMs(rep.postCounter);
    rep.dutyCycle = strideS > 0 ? (rep.dspMs + rep.modelMs + rep.postMs) / 1000.0 / strideS : 0.0;

    const BoardPowerModel &pw = board.power;
    const double mhz = double(rep.clockHz) / 1e6;
    if (pw.uaPerMhz > 0 && pw.sleepUaPerMhz > 0 && mhz > 0) {
        const double activeMa = pw.uaPerMhz * mhz / 1000.0;
        const double sleepMa = pw.sleepUaPerMhz * mhz / 1000.0;
        const double duty = std::clamp(rep.dutyCycle, 0.0, 1.0);
        rep.averageCurrentMa = duty * activeMa + (1.0 - duty) * sleepMa;
        rep.batteryLifeDays = opt.batteryMah / *rep.averageCurrentMa / 24.0;
        rep.batteryNote = QStringLiteral("estimated for a %1 (%2 mAh) at %3 MHz: active %4 uA/MHz (%5); between windows "
                                         "%6 uA/MHz (%7). Sensor, radio and regulator currents are not included.")
                              .arg(opt.batteryName).arg(opt.batteryMah).arg(mhz, 0, 'f', 1).arg(pw.uaPerMhz)
                              .arg(pw.source).arg(pw.sleepUaPerMhz).arg(pw.sleepSource);
    } else {
        rep.batteryNote = QStringLiteral("no estimate: the board file of %1 gives no %2")
                              .arg(board.id, pw.uaPerMhz > 0 ? QStringLiteral("sleep current (power.sleep_ua_per_mhz)")
                                                             : QStringLiteral("power model"));
    }

    // Host replay of exactly the samples the device classified, window by window.
    if (opt.hostReplay && !results.isEmpty()) {
        Q_EMIT q->stageChanged(tr("Replaying on the host"));
        QVector<qint16> samples;
        qint64 frames = 0;
        const int channels = spec.channels;
        if (recording) {
            samples = recording->samples();
            frames = recording->frames();
        } else {
            samples = captured;
            frames = capturedFrames;
            if (captureBroken)
                rep.hostReplayNote = QStringLiteral("raw samples were lost on the link: windows after the gap are not compared");
        }
        QString error;
        ReplayOptions ro;
        auto host = replay.run(samples.constData(), frames, channels, ro, &error);
        if (!host) {
            rep.hostReplayNote = QStringLiteral("host replay failed: %1").arg(error);
        } else {
            // The device's post-processing saw only the windows it computed (an overrun skips
            // some), so the host re-runs it over the same windows.
            QHash<quint64, int> hostIndex;
            for (int i = 0; i < host->scores.windows(); ++i)
                hostIndex.insert(host->scores.windowEnds[i], i);
            ReplayScores same;
            same.classCount = host->scores.classCount;
            QVector<int> deviceIndex, hostWindow;
            for (int i = 0; i < results.size(); ++i) {
                const auto it = hostIndex.constFind(results[i].windowEnd);
                if (it == hostIndex.constEnd())
                    continue;
                same.windowEnds << results[i].windowEnd;
                hostWindow << *it;
                const qint8 *s = host->scores.window(*it);
                for (int c = 0; c < same.classCount; ++c)
                    same.scores << s[c];
                deviceIndex << i;
            }
            const QVector<ImpulseDecision> decisions = rerunPost(same, replay.postConfig(), &error);
            rep.windowsCompared = int(deviceIndex.size());
            for (int k = 0; k < deviceIndex.size() && k < decisions.size(); ++k) {
                const ClassifyResult &r = results[deviceIndex[k]];
                bool equal = r.raw.size() == same.classCount;
                for (int c = 0; equal && c < same.classCount; ++c)
                    equal = r.raw[c] == same.window(k)[c];
                const ImpulseDecision &hd = decisions[k];
                equal = equal && hd.topClass == r.topClass && hd.decision == r.decision && hd.flags == r.flags &&
                        hd.score == r.score;
                // With an anomaly model: its int8 score and the alarm, too.
                const bool hostAnomaly = !host->anomalyScores.isEmpty();
                equal = equal && r.hasAnomaly == hostAnomaly;
                if (equal && hostAnomaly)
                    equal = r.anomalyScore == host->anomalyScores[hostWindow[k]] &&
                            r.anomalyAlarm == host->anomalyAlarms[hostWindow[k]];
                rep.hostReplayEqualWindows += equal ? 1 : 0;
            }
            if (rep.windowsCompared < rep.windows && rep.hostReplayNote.isEmpty())
                rep.hostReplayNote = QStringLiteral("%1 of %2 windows had no host samples to compare")
                                         .arg(rep.windows - rep.windowsCompared).arg(rep.windows);
        }
    }
    Q_EMIT q->finished(rep);
}

} // namespace tinyml::deploy
