#include "Profiler.h"

#include "CycleSideChannel.h"
#include "Flasher.h"
#include "ModelPackageWriter.h"
#include "RuntimeSize.h"

#include "device/AgentLink.h"
#include "device/BoardRegistry.h"
#include "device/VirtualBoard.h"
#include "features/FeatureSet.h"
#include "model/Graph.h"
#include "model/Int8Executor.h"
#include "store/ProjectStore.h"
#include "store/ProjectTask.h"
#include "tm_frame.h"
#include "tm_protocol.h"

#include <QDateTime>
#include <QDir>
#include <QEventLoop>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QPointer>
#include <QTimer>

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>

namespace tinyml::deploy {

// --- JSON ----------------------------------------------------------------------------------------
// Keys are part of the CLI's output contract (`tinyml profile --json`) and of the project
// file (profiles.json): add keys, never rename them.

QJsonObject ProfileResult::toJson() const
{
    QJsonObject o;
    o[QStringLiteral("board")] = board;
    o[QStringLiteral("board_name")] = boardName;
    o[QStringLiteral("clock_hz")] = double(clockHz);
    o[QStringLiteral("counter")] = counter;
    o[QStringLiteral("agent_version")] = agentVersion;
    o[QStringLiteral("agent_build")] = agentBuild;
    o[QStringLiteral("method")] = method;
    o[QStringLiteral("model_id")] = double(modelId);
    o[QStringLiteral("model_name")] = modelName;
    o[QStringLiteral("created_utc")] = createdUtc;

    o[QStringLiteral("runs")] = runs;
    o[QStringLiteral("warmup")] = warmup;
    QJsonArray counters;
    for (quint64 c : runCounters)
        counters.append(double(c));
    o[QStringLiteral("run_counters")] = counters;
    o[QStringLiteral("latency_ms")] = QJsonObject{{QStringLiteral("min"), latencyMinMs},
                                                  {QStringLiteral("median"), latencyMedianMs},
                                                  {QStringLiteral("max"), latencyMaxMs}};
    QJsonArray layerArray;
    for (const LayerProfile &l : layers) {
        layerArray.append(QJsonObject{{QStringLiteral("name"), l.name},
                                      {QStringLiteral("op"), l.op},
                                      {QStringLiteral("macs"), double(l.macs)},
                                      {QStringLiteral("counter"), double(l.counter)},
                                      {QStringLiteral("ms"), l.ms}});
        if (hasCycleEstimate) {
            QJsonObject lo = layerArray.last().toObject();
            lo[QStringLiteral("cycles_estimated")] = double(l.cyclesEstimated);
            layerArray.replace(layerArray.size() - 1, lo);
        }
    }
    o[QStringLiteral("layers")] = layerArray;
    o[QStringLiteral("macs")] = double(macs);

    if (hasCycleEstimate) {
        o[QStringLiteral("cycles_estimated")] = QJsonObject{{QStringLiteral("min"), double(cyclesMin)},
                                                            {QStringLiteral("median"), double(cyclesMedian)},
                                                            {QStringLiteral("max"), double(cyclesMax)},
                                                            {QStringLiteral("low"), double(cyclesLow)},
                                                            {QStringLiteral("high"), double(cyclesHigh)},
                                                            {QStringLiteral("label"), cycleModel.label}};
        QJsonArray cycles;
        for (quint64 c : runCycles)
            cycles.append(double(c));
        o[QStringLiteral("run_cycles_estimated")] = cycles;
        o[QStringLiteral("cycle_model")] = QJsonObject{{QStringLiteral("core"), cycleModel.core},
                                                       {QStringLiteral("model"), cycleModel.model},
                                                       {QStringLiteral("wait_states"), cycleModel.waitStates},
                                                       {QStringLiteral("format"), cycleModel.format},
                                                       {QStringLiteral("label"), cycleModel.label}};
        o[QStringLiteral("cycles_per_instruction")] = cyclesPerInstruction;
        o[QStringLiteral("cycles_estimated_layer_profile")] =
            QJsonObject{{QStringLiteral("invoke"), double(layerRunCycles)},
                        {QStringLiteral("hooks"), double(layerHookCycles)},
                        {QStringLiteral("after_last_layer"), double(layerTailCycles)}};
        if (onTarget)
            o[QStringLiteral("latency_ms_on_target")] =
                QJsonObject{{QStringLiteral("board"), onTarget->board},
                            {QStringLiteral("part"), onTarget->part},
                            {QStringLiteral("clock_hz"), double(onTarget->clockHz)},
                            {QStringLiteral("min"), onTarget->minMs},
                            {QStringLiteral("median"), onTarget->medianMs},
                            {QStringLiteral("max"), onTarget->maxMs},
                            {QStringLiteral("label"), cycleModel.label}};
    } else if (!cyclesUnavailable.isEmpty()) {
        o[QStringLiteral("cycles_estimated_unavailable")] = cyclesUnavailable;
    }

    o[QStringLiteral("arena_bytes")] = double(arenaBytes);
    o[QStringLiteral("arena_lower_bound_bytes")] = double(arenaLowerBoundBytes);
    o[QStringLiteral("package_bytes")] = double(packageBytes);
    o[QStringLiteral("flash_bytes")] = double(flashBytes);
    o[QStringLiteral("runtime_bytes")] = double(runtimeBytes);
    o[QStringLiteral("runtime_source")] = runtimeSource;

    o[QStringLiteral("energy_uj")] = energyUj;
    o[QStringLiteral("energy_estimated")] = energyEstimated;
    o[QStringLiteral("energy_source")] = energySource;

    if (!task.isEmpty())
        o[QStringLiteral("task")] = task;
    o[QStringLiteral("device_accuracy")] = isAnomaly() ? QJsonValue() : QJsonValue(deviceAccuracy);
    o[QStringLiteral("host_int8_accuracy")] = isAnomaly() ? QJsonValue() : QJsonValue(hostInt8Accuracy);
    o[QStringLiteral("bitexact_outputs")] = bitexactOutputs;
    o[QStringLiteral("outputs_compared")] = outputsCompared;
    return o;
}

ProfileResult ProfileResult::fromJson(const QJsonObject &o)
{
    // Counters are stored as JSON numbers (doubles): exact up to 2^53, far above any
    // inference's cycle count.
    const auto u64 = [](const QJsonValue &v) { return quint64(qMax(0.0, v.toDouble())); };
    const auto i64 = [](const QJsonValue &v) { return qint64(v.toDouble()); };

    ProfileResult r;
    r.board = o.value(QStringLiteral("board")).toString();
    r.boardName = o.value(QStringLiteral("board_name")).toString();
    r.clockHz = u64(o.value(QStringLiteral("clock_hz")));
    r.counter = o.value(QStringLiteral("counter")).toString();
    r.agentVersion = o.value(QStringLiteral("agent_version")).toString();
    r.agentBuild = o.value(QStringLiteral("agent_build")).toString();
    r.method = o.value(QStringLiteral("method")).toString();
    r.modelId = i64(o.value(QStringLiteral("model_id")));
    r.modelName = o.value(QStringLiteral("model_name")).toString();
    r.createdUtc = o.value(QStringLiteral("created_utc")).toString();

    r.runs = o.value(QStringLiteral("runs")).toInt();
    r.warmup = o.value(QStringLiteral("warmup")).toInt();
    for (const QJsonValue &v : o.value(QStringLiteral("run_counters")).toArray())
        r.runCounters.append(u64(v));
    const QJsonObject latency = o.value(QStringLiteral("latency_ms")).toObject();
    r.latencyMinMs = latency.value(QStringLiteral("min")).toDouble();
    r.latencyMedianMs = latency.value(QStringLiteral("median")).toDouble();
    r.latencyMaxMs = latency.value(QStringLiteral("max")).toDouble();
    for (const QJsonValue &v : o.value(QStringLiteral("layers")).toArray()) {
        const QJsonObject lo = v.toObject();
        LayerProfile l;
        l.name = lo.value(QStringLiteral("name")).toString();
        l.op = lo.value(QStringLiteral("op")).toString();
        l.macs = i64(lo.value(QStringLiteral("macs")));
        l.counter = u64(lo.value(QStringLiteral("counter")));
        l.ms = lo.value(QStringLiteral("ms")).toDouble();
        l.cyclesEstimated = u64(lo.value(QStringLiteral("cycles_estimated")));
        r.layers.append(l);
    }
    r.macs = i64(o.value(QStringLiteral("macs")));

    // Profiles stored before the cycle model have none of these keys: no estimate.
    const QJsonObject cycles = o.value(QStringLiteral("cycles_estimated")).toObject();
    r.hasCycleEstimate = !cycles.isEmpty();
    r.cyclesUnavailable = o.value(QStringLiteral("cycles_estimated_unavailable")).toString();
    r.cyclesMin = u64(cycles.value(QStringLiteral("min")));
    r.cyclesMedian = u64(cycles.value(QStringLiteral("median")));
    r.cyclesMax = u64(cycles.value(QStringLiteral("max")));
    r.cyclesLow = u64(cycles.value(QStringLiteral("low")));
    r.cyclesHigh = u64(cycles.value(QStringLiteral("high")));
    for (const QJsonValue &v : o.value(QStringLiteral("run_cycles_estimated")).toArray())
        r.runCycles.append(u64(v));
    const QJsonObject model = o.value(QStringLiteral("cycle_model")).toObject();
    r.cycleModel.core = model.value(QStringLiteral("core")).toString();
    r.cycleModel.model = model.value(QStringLiteral("model")).toString();
    r.cycleModel.waitStates = model.value(QStringLiteral("wait_states")).toInt();
    r.cycleModel.format = model.value(QStringLiteral("format")).toInt();
    r.cycleModel.label = model.value(QStringLiteral("label")).toString();
    r.cyclesPerInstruction = o.value(QStringLiteral("cycles_per_instruction")).toDouble();
    const QJsonObject split = o.value(QStringLiteral("cycles_estimated_layer_profile")).toObject();
    r.layerRunCycles = u64(split.value(QStringLiteral("invoke")));
    r.layerHookCycles = u64(split.value(QStringLiteral("hooks")));
    r.layerTailCycles = u64(split.value(QStringLiteral("after_last_layer")));
    const QJsonObject target = o.value(QStringLiteral("latency_ms_on_target")).toObject();
    if (!target.isEmpty()) {
        TargetLatency t;
        t.board = target.value(QStringLiteral("board")).toString();
        t.part = target.value(QStringLiteral("part")).toString();
        t.clockHz = u64(target.value(QStringLiteral("clock_hz")));
        t.minMs = target.value(QStringLiteral("min")).toDouble();
        t.medianMs = target.value(QStringLiteral("median")).toDouble();
        t.maxMs = target.value(QStringLiteral("max")).toDouble();
        r.onTarget = t;
    }

    r.arenaBytes = i64(o.value(QStringLiteral("arena_bytes")));
    r.arenaLowerBoundBytes = i64(o.value(QStringLiteral("arena_lower_bound_bytes")));
    r.packageBytes = i64(o.value(QStringLiteral("package_bytes")));
    r.flashBytes = i64(o.value(QStringLiteral("flash_bytes")));
    r.runtimeBytes = i64(o.value(QStringLiteral("runtime_bytes")));
    r.runtimeSource = o.value(QStringLiteral("runtime_source")).toString();

    r.energyUj = o.value(QStringLiteral("energy_uj")).toDouble();
    r.energyEstimated = o.value(QStringLiteral("energy_estimated")).toBool(true);
    r.energySource = o.value(QStringLiteral("energy_source")).toString();

    r.task = o.value(QStringLiteral("task")).toString();
    r.deviceAccuracy = o.value(QStringLiteral("device_accuracy")).toDouble();
    r.hostInt8Accuracy = o.value(QStringLiteral("host_int8_accuracy")).toDouble();
    r.bitexactOutputs = o.value(QStringLiteral("bitexact_outputs")).toInt();
    r.outputsCompared = o.value(QStringLiteral("outputs_compared")).toInt();
    return r;
}

// --- Profiler ------------------------------------------------------------------------------------
//
// A chain of requests on the link's event loop: each reply handler sends the next request.
// Nothing here waits but the flash step, which is Flasher::flash (local event loops, so the
// GUI stays live); cancel() takes effect when the request, or the upload, in flight is done.

namespace {

constexpr int kInvokeTimeoutMs = 20000;
constexpr int kLayerProfileRuns = 8;

double median(QVector<double> v)
{
    if (v.isEmpty())
        return 0;
    std::sort(v.begin(), v.end());
    return v[(v.size() - 1) / 2];
}

QByteArray offsetPayload(quint32 offset, const QByteArray &bytes)
{
    QByteArray b(4, 0);
    tm_put_u32(reinterpret_cast<uint8_t *>(b.data()), offset);
    return b + bytes;
}

} // namespace

struct Profiler::Impl {
    static QString tr(const char *text) { return Profiler::tr(text); }

    Profiler *q = nullptr;
    ProjectStore *store = nullptr;
    QPointer<AgentLink> link;
    BoardDefinition board;
    ProfileOptions opt;

    model::Int8Executor exec;
    QByteArray package;           ///< the bare model package (its stats, the host reference)
    SignedUpload signedUpload;    ///< the signed packages that may carry package (Flasher::flash)
    ProfileResult result;
    quint64 unitsPerTick = 1;

    bool running = false;
    bool flashing = false;        ///< inside Flasher::flash (its own local event loops)
    bool cancelRequested = false;
    int pendingSeq = -1;
    std::function<void(const QByteArray &)> onReply;
    QVector<QMetaObject::Connection> connections;

    // accuracy
    ProjectTask *featureTask = nullptr;  ///< computes the test split's features; child of q
    bool needFeatures = false;
    features::FeatureParams featureParams;
    QVector<float> normMean, normStd;    ///< the model's input normalisation (empty: none)
    QVector<QByteArray> inputs;   ///< quantized test inputs
    QVector<int> labels;          ///< index into the model's outputs, -1: label unknown to the model
    int inBytes = 0, outBytes = 0;
    int sample = 0, deviceCorrect = 0, hostCorrect = 0, withLabel = 0;
    QVector<double> runMs;

    // estimated cycles: the plugin's side channel, while it gives good data
    std::optional<CycleSideChannel> cycles;

    double ticksToMs(quint64 units) const
    {
        if (result.counter == QLatin1String("microseconds"))
            return double(units) / 1000.0;
        return result.clockHz ? double(units) * 1000.0 / double(result.clockHz) : 0.0;
    }

    void end()
    {
        for (const auto &c : connections)
            QObject::disconnect(c);
        connections.clear();
        // Blocks only until the worker sees the flag (between two samples).
        if (featureTask)
            featureTask->cancelAndWait();
        running = false;
        pendingSeq = -1;
        onReply = {};
    }
    void fail(const QString &why)
    {
        end();
        Q_EMIT q->failed(why);
    }
    void cancelNow()
    {
        end();
        Q_EMIT q->cancelled();
    }

    void call(quint8 op, const QByteArray &payload, int timeoutMs, std::function<void(const QByteArray &)> handler)
    {
        if (cancelRequested)
            return cancelNow();
        if (!link)
            return fail(QStringLiteral("the board's link went away"));
        QString e;
        onReply = std::move(handler);
        pendingSeq = link->sendRequest(op, payload, timeoutMs, &e);
        if (pendingSeq < 0)
            fail(e);
    }

    // --- steps --------------------------------------------------------------------------
    void featuresStep();
    QString takeTestInputs(const features::FeatureSet &test);
    void flashStep();
    void setInput(const QByteArray &bytes, qint64 offset, std::function<void()> then);
    void getOutput(QByteArray *into, std::function<void()> then);
    void latencyStep(int index);
    void layerStep(QVector<quint64> counters);
    void memoryAndEnergy();
    void accuracyStep();
    void finish();

    /// The estimate is dropped (the profile goes on): why is reported instead.
    void cyclesLost(const QString &why)
    {
        cycles.reset();
        result.hasCycleEstimate = false;
        result.cyclesUnavailable = why;
    }
    void cyclesBeforeRuns();
    void cyclesAfterRuns();
    void cyclesAfterLayers();
};

// --- estimated cycles ---------------------------------------------------------------------------
// The plugin flushes each mark before the agent's reply leaves the board, so after a reply the
// request's marks are in the file. Warm-up runs are skipped by catching up just before the
// first measured INVOKE.

void Profiler::Impl::cyclesBeforeRuns()
{
    QString e;
    if (cycles && !cycles->catchUp(&e))
        cyclesLost(e);
}

void Profiler::Impl::cyclesAfterRuns()
{
    if (!cycles)
        return;
    QString e;
    const auto marks = cycles->readNew(&e);
    const auto runs = marks ? pairInvokes(*marks, &e) : std::nullopt;
    if (!runs)
        return cyclesLost(e);
    const auto &header = cycles->header();
    if (!header)
        return cyclesLost(tr("%1 has no header line").arg(cycles->path()));
    if (header->branches != QLatin1String("exact"))
        return cyclesLost(tr("the cycle plugin ran with branches=%1, whose counts are not estimates")
                              .arg(header->branches));
    if (runs->size() != opt.runs)
        return cyclesLost(tr("%1 marks %2 model runs for the %3 measured INVOKEs")
                              .arg(cycles->path()).arg(runs->size()).arg(opt.runs));
    CycleModelInfo &m = result.cycleModel;
    m.core = normalizedCycleCore(header->core).isEmpty() ? header->core : normalizedCycleCore(header->core);
    m.model = header->model;
    m.waitStates = header->waitStates;
    m.format = header->format;
    m.label = cycleModelLabel(m.core, m.waitStates);
    QVector<double> values;
    quint64 cyclesSum = 0, insnsSum = 0;
    result.runCycles.clear();
    for (const InvokeCycles &r : *runs) {
        result.runCycles.append(r.cycles);
        values.append(double(r.cycles));
        cyclesSum += r.cycles;
        insnsSum += r.insns;
    }
    std::sort(values.begin(), values.end());
    result.cyclesMin = quint64(values.first());
    result.cyclesMax = quint64(values.last());
    result.cyclesMedian = quint64(median(values));
    result.cyclesLow = std::min_element(runs->begin(), runs->end(), [](auto &a, auto &b) { return a.low < b.low; })->low;
    result.cyclesHigh = std::max_element(runs->begin(), runs->end(), [](auto &a, auto &b) { return a.high < b.high; })->high;
    result.cyclesPerInstruction = insnsSum ? double(cyclesSum) / double(insnsSum) : 0.0;
    result.hasCycleEstimate = true;
    result.cyclesUnavailable.clear();
}

void Profiler::Impl::cyclesAfterLayers()
{
    if (!cycles || !result.hasCycleEstimate)
        return;
    QString e;
    const auto marks = cycles->readNew(&e);
    const auto split = marks ? pairLayerRuns(*marks, int(result.layers.size()), &e) : std::nullopt;
    if (!split)
        return cyclesLost(e);
    for (int i = 0; i < result.layers.size(); ++i)
        result.layers[i].cyclesEstimated = split->layerCycles[i];
    result.layerRunCycles = split->invokeCycles;
    result.layerHookCycles = split->hookCycles;
    result.layerTailCycles = split->tailCycles;
    if (opt.target) {
        const ProfileTarget &t = *opt.target;
        if (normalizedCycleCore(t.core) != result.cycleModel.core)
            return cyclesLost(tr("target %1 is a %2, but the side channel's model is a %3")
                                  .arg(t.board, cycleCoreDisplayName(t.core), cycleCoreDisplayName(result.cycleModel.core)));
        TargetLatency l;
        l.board = t.board;
        l.part = t.part;
        l.clockHz = t.clockHz;
        const auto ms = [&](quint64 c) { return t.clockHz ? double(c) * 1000.0 / double(t.clockHz) : 0.0; };
        l.minMs = ms(result.cyclesMin);
        l.medianMs = ms(result.cyclesMedian);
        l.maxMs = ms(result.cyclesMax);
        result.onTarget = l;
    }
    result.method += tr("; cycles: %1 (model %2, QEMU cycle plugin, the same intervals)")
                         .arg(result.cycleModel.label, result.cycleModel.model);
}

// The test split's features come from the feature cache, or are computed on a worker
// thread with its own ProjectStore (an uncached project takes seconds): the thread that
// drives the link, the GUI thread in the workbench, keeps running meanwhile.
void Profiler::Impl::featuresStep()
{
    Q_EMIT q->stageChanged(tr("Computing the test split's features"));
    auto test = std::make_shared<std::optional<features::FeatureSet>>();
    ProjectTask *task = featureTask;
    const features::FeatureParams params = featureParams;
    connections << QObject::connect(task, &ProjectTask::finished, q,
                                    [this, test](bool ok, bool, const QString &error) {
                                        if (!running)
                                            return;
                                        if (cancelRequested)
                                            return cancelNow();
                                        if (!ok)
                                            return fail(error);
                                        const QString why = takeTestInputs(**test);
                                        if (!why.isEmpty())
                                            return fail(why);
                                        flashStep();
                                    });
    const bool started = task->start(store->path(), [task, params, test](ProjectStore &worker, QString *error) {
        auto set = features::computeFeatures(
            worker, params, [task](int, int) { return !task->isCancelled(); }, error);
        if (!set)
            return false;
        *test = set->subset(Split::Test);
        return true;
    });
    if (!started)
        fail(tr("the test split's features are still being computed by an earlier profile"));
}

/// Normalises the test rows with the model's own statistics and quantizes them as the host
/// int8 reference does. Returns why they cannot be used, or an empty string.

QString Profiler::Impl::takeTestInputs(const features::FeatureSet &test)
{
    const model::Graph &g = exec.graph();
    const int n = int(test.featureSize());
    if (n != inBytes)
        return tr("the test split's features have %1 values, model %2 takes %3: the features changed "
                  "since it was trained").arg(n).arg(result.modelId).arg(inBytes);
    const bool normalise = normMean.size() == n && normStd.size() == n;
    const int limit = opt.maxAccuracySamples > 0 ? qMin(opt.maxAccuracySamples, test.size()) : test.size();
    for (int i = 0; i < limit; ++i) {
        QVector<float> x = test.rowVector(i);
        if (normalise)
            for (int k = 0; k < n; ++k)
                x[k] = (x[k] - normMean[k]) / normStd[k];
        const QVector<qint8> qx = exec.quantizeInput(x);
        inputs.append(QByteArray(reinterpret_cast<const char *>(qx.constData()), qx.size()));
        const QString name = test.labelNames.value(test.labels.value(i));
        labels.append(g.labels.isEmpty() ? test.labels.value(i) : int(g.labels.indexOf(name)));
    }
    return {};
}

void Profiler::Impl::flashStep()
{
    // The one upload path (Flasher::flash): its requests wait in local event loops, so a
    // cancel() meanwhile takes effect once it returns, and the board keeps a whole model.
    Q_EMIT q->stageChanged(tr("Checking the board's model"));
    bool announced = false;
    QString e;
    flashing = true;
    const auto flashed = Flasher::flash(link, package, opt.forceFlash,
                                        [this, &announced](qint64 sent, qint64 total) {
                                            if (!announced)
                                                Q_EMIT q->stageChanged(tr("Flashing"));
                                            announced = true;
                                            Q_EMIT q->uploadProgress(sent, total);
                                        },
                                        &e, {}, signedUpload);
    flashing = false;
    if (!running)
        return;
    if (cancelRequested)
        return cancelNow();
    if (!link)
        return fail(QStringLiteral("the board's link went away"));
    if (!flashed)
        return fail(e);
    if (!flashed->uploaded)
        Q_EMIT q->uploadProgress(flashed->bytes, flashed->bytes);
    latencyStep(0);
}

void Profiler::Impl::setInput(const QByteArray &bytes, qint64 offset, std::function<void()> then)
{
    const int chunk = int(TM_MAX_PAYLOAD) - 4;
    call(TM_OP_SET_INPUT, offsetPayload(quint32(offset), bytes.mid(offset, chunk)), AgentLink::kDefaultTimeoutMs,
         [this, bytes, offset, chunk, then](const QByteArray &) {
             if (offset + chunk < bytes.size())
                 setInput(bytes, offset + chunk, then);
             else
                 then();
         });
}

void Profiler::Impl::getOutput(QByteArray *into, std::function<void()> then)
{
    const int offset = int(into->size());
    const int n = qMin(int(TM_MAX_PAYLOAD), outBytes - offset);
    QByteArray payload(6, 0);
    tm_put_u32(reinterpret_cast<uint8_t *>(payload.data()), quint32(offset));
    tm_put_u16(reinterpret_cast<uint8_t *>(payload.data()) + 4, quint16(n));
    call(TM_OP_GET_OUTPUT, payload, AgentLink::kDefaultTimeoutMs, [this, into, n, then](const QByteArray &p) {
        if (p.size() != n)
            return fail(tr("GET_OUTPUT returned %1 bytes, asked for %2").arg(p.size()).arg(n));
        into->append(p);
        if (into->size() < outBytes)
            getOutput(into, then);
        else
            then();
    });
}

void Profiler::Impl::latencyStep(int index)
{
    if (index == 0) {
        Q_EMIT q->stageChanged(tr("Warm-up"));
        // Latency input: the first test sample when there is one, else the input's zero point.
        QByteArray input = inputs.isEmpty() ? QByteArray(inBytes, char(qint8(exec.inputQuant().zeroPoint)))
                                            : inputs.first();
        setInput(input, 0, [this] { latencyStep(1); });
        return;
    }
    const int run = index - 1;  // warm-up runs first, then the measured ones
    if (run == opt.warmup) {
        Q_EMIT q->stageChanged(tr("Measuring latency"));
        cyclesBeforeRuns();
    }
    if (run >= opt.warmup + opt.runs) {
        cyclesAfterRuns();
        result.latencyMinMs = *std::min_element(runMs.begin(), runMs.end());
        result.latencyMaxMs = *std::max_element(runMs.begin(), runMs.end());
        result.latencyMedianMs = median(runMs);
        Q_EMIT q->stageChanged(tr("Per-layer profile"));
        layerStep({});
        return;
    }
    call(TM_OP_INVOKE, {}, kInvokeTimeoutMs, [this, run, index](const QByteArray &p) {
        QString e;
        auto ticks = parseInvokeReply(p, &e);
        if (!ticks)
            return fail(e);
        if (run >= opt.warmup) {
            const quint64 units = *ticks * unitsPerTick;
            const double ms = ticksToMs(units);
            result.runCounters.append(units);
            runMs.append(ms);
            Q_EMIT q->runMeasured(run - opt.warmup, units, ms);
        }
        latencyStep(index + 1);
    });
}

void Profiler::Impl::layerStep(QVector<quint64> counters)
{
    const int runs = qBound(1, qMin(opt.runs, kLayerProfileRuns), int(256));
    call(TM_OP_LAYER_PROFILE, layerProfilePayload(quint32(runs), quint16(counters.size())), kInvokeTimeoutMs * runs,
         [this, counters](const QByteArray &p) mutable {
             QString e;
             auto page = parseLayerProfileReply(p, &e);
             if (!page)
                 return fail(e);
             if (page->layerCount != result.layers.size() || page->firstLayer != counters.size())
                 return fail(tr("LAYER_PROFILE reports %1 layers from %2; the package has %3")
                                 .arg(page->layerCount).arg(page->firstLayer).arg(result.layers.size()));
             counters += page->counters;
             if (counters.size() < page->layerCount && !page->counters.isEmpty())
                 return layerStep(counters);
             for (int i = 0; i < result.layers.size() && i < counters.size(); ++i) {
                 result.layers[i].counter = counters[i] * unitsPerTick;
                 result.layers[i].ms = ticksToMs(result.layers[i].counter);
             }
             cyclesAfterLayers();
             Q_EMIT q->layersMeasured(result.layers);
             memoryAndEnergy();
         });
}

void Profiler::Impl::memoryAndEnergy()
{
    const double mw = board.power.activePowerMw(double(board.clockHz ? board.clockHz : result.clockHz));
    result.energyUj = result.latencyMedianMs * mw;   // ms x mW = µJ
    result.energyEstimated = true;
    result.energySource = tr("estimated: %1 power model (%2)")
                              .arg(board.name.isEmpty() ? board.id : board.name,
                                   board.power.source.isEmpty() ? tr("no source given") : board.power.source);
    Q_EMIT q->energyEstimated(result.energyUj, true, result.energySource);
    if (!opt.accuracy || inputs.isEmpty())
        return finish();
    Q_EMIT q->stageChanged(tr("On-device accuracy"));
    sample = 0;
    accuracyStep();
}

void Profiler::Impl::accuracyStep()
{
    if (sample >= inputs.size()) {
        result.deviceAccuracy = withLabel ? double(deviceCorrect) / withLabel : 0.0;
        result.hostInt8Accuracy = withLabel ? double(hostCorrect) / withLabel : 0.0;
        return finish();
    }
    setInput(inputs[sample], 0, [this] {
        call(TM_OP_INVOKE, {}, kInvokeTimeoutMs, [this](const QByteArray &) {
            auto out = std::make_shared<QByteArray>();
            getOutput(out.get(), [this, out] {
                const QByteArray device = *out;
                QVector<qint8> in(inBytes);
                std::memcpy(in.data(), inputs[sample].constData(), size_t(inBytes));
                QString e;
                auto host = exec.run(in, &e);
                if (!host)
                    return fail(e);
                const QByteArray hostBytes(reinterpret_cast<const char *>(host->constData()), host->size());
                auto argmax = [](const QByteArray &b) {
                    int best = 0;
                    for (int i = 1; i < b.size(); ++i)
                        if (qint8(b[i]) > qint8(b[best]))
                            best = i;
                    return best;
                };
                ++result.outputsCompared;
                if (hostBytes == device)
                    ++result.bitexactOutputs;
                // An anomaly score has no class to pick: its outputs are only compared.
                const int label = result.isAnomaly() ? -1 : labels.value(sample, -1);
                if (label >= 0) {
                    ++withLabel;
                    deviceCorrect += argmax(device) == label;
                    hostCorrect += argmax(hostBytes) == label;
                }
                Q_EMIT q->accuracyProgress(sample + 1, inputs.size(), deviceCorrect, result.bitexactOutputs);
                ++sample;
                accuracyStep();
            });
        });
    });
}

void Profiler::Impl::finish()
{
    result.createdUtc = QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs);
    StoredProfile stored;
    stored.modelId = result.modelId;
    stored.boardId = result.board;
    stored.created = QDateTime::fromString(result.createdUtc, Qt::ISODateWithMs);
    stored.json = result.toJson();
    QString e;
    if (!store->addProfile(stored, &e))
        return fail(tr("the profile could not be stored in %1: %2").arg(store->path(), e));
    result.profileId = stored.id;
    end();
    Q_EMIT q->finished(result);
}

Profiler::Profiler(QObject *parent) : QObject(parent), d(new Impl)
{
    d->q = this;
}

Profiler::~Profiler()
{
    d->end();
    delete d;
}

bool Profiler::start(ProjectStore *store, qint64 modelId, AgentLink *link, const BoardDefinition &board,
                     const ProfileOptions &options, QString *error)
{
    auto refuse = [&](const QString &why) {
        if (error)
            *error = why;
        return false;
    };
    if (d->running)
        return refuse(tr("a profile is already running"));
    if (!store)
        return refuse(tr("no project"));
    if (!link || !link->isOpen() || !link->hasInfo())
        return refuse(tr("no board connected (open the link and handshake first)"));
    if (options.runs < 1 || options.warmup < 0)
        return refuse(tr("runs must be at least 1 and warm-up at least 0"));

    QString e;
    auto stored = store->model(modelId, &e);
    if (!stored)
        return refuse(e);
    if (stored->kind != ModelKind::Int8)
        return refuse(tr("model %1 (%2) is not an int8 model: quantize it first").arg(modelId).arg(stored->name));
    auto graph = model::Graph::deserialize(stored->graph, &e);
    if (!graph)
        return refuse(tr("model %1: %2").arg(modelId).arg(e));
    Impl &s = *d;
    ProjectTask *featureTask = s.featureTask;
    s = Impl{};
    s.q = this;
    s.featureTask = featureTask ? featureTask : new ProjectTask(this);
    s.store = store;
    s.link = link;
    s.board = board;
    s.opt = options;
    if (!s.exec.prepare(*graph, &e))
        return refuse(tr("model %1: %2").arg(modelId).arg(e));
    const model::Graph &g = s.exec.graph();

    ModelPackageWriter writer;
    auto package = writer.write(g, &e);
    if (!package)
        return refuse(tr("model %1 cannot be packaged: %2").arg(modelId).arg(e));
    s.package = *package;
    s.signedUpload.packages = options.signedPackages;
    s.signedUpload.required = options.signedPackageRequired;
    s.signedUpload.modelId = modelId;
    s.signedUpload.command = QStringLiteral("profile");
    // Refused here, before anything is sent; Flasher::flash makes the same choice again.
    const auto &security = link->info().security;
    if (!chooseUpload(s.package, s.signedUpload, security && security->provisioned,
                      board.id.isEmpty() ? link->info().boardId : board.id, &e))
        return refuse(e);
    auto req = packageRequirements(s.package, &e);
    if (!req)
        return refuse(e);
    const DeviceInfo &info = link->info();
    const QString why = checkPackageFits(info, *req, board.id.isEmpty() ? info.boardId : board.id);
    if (!why.isEmpty())
        return refuse(why);

    ProfileResult &r = s.result;
    r.board = board.id.isEmpty() ? info.boardId : board.id;
    r.boardName = board.name;
    r.clockHz = info.clockHz ? info.clockHz : board.clockHz;
    r.counter = info.counterKindName();
    r.agentVersion = info.agentVersion;
    r.agentBuild = info.build;
    r.modelId = modelId;
    r.modelName = stored->name;
    r.task = g.meta.value(QStringLiteral("task")).toString();
    r.runs = options.runs;
    r.warmup = options.warmup;
    r.macs = g.macs();
    r.arenaBytes = writer.stats().arenaBytes;
    r.arenaLowerBoundBytes = writer.stats().arenaLowerBound;
    r.packageBytes = writer.stats().packageBytes;
    s.unitsPerTick = qMax<quint32>(1, info.counterResolution);
    const RuntimeSize runtime = runtimeSizeFor(board);
    r.runtimeBytes = runtime.bytes;
    r.runtimeSource = runtime.source;
    r.flashBytes = r.packageBytes + runtime.bytes;
    r.method = tr("INVOKE x %1 after %2 warm-up; per layer: LAYER_PROFILE, smallest of %3 runs; counter: %4 (%5 per tick)")
                   .arg(options.runs).arg(options.warmup).arg(qMin(options.runs, kLayerProfileRuns))
                   .arg(r.counter).arg(s.unitsPerTick);
    if (board.launcher == QLatin1String("qemu"))
        r.method += tr("; QEMU %1 -icount shift=0: instruction counts at %2 MHz, not cycles")
                        .arg(board.qemuMachine).arg(double(r.clockHz) / 1e6);
    if (!options.cycleChannel.isEmpty())
        s.cycles.emplace(options.cycleChannel);
    else
        r.cyclesUnavailable = !options.cycleUnavailable.isEmpty() ? options.cycleUnavailable
                              : board.launcher == QLatin1String("qemu")
                                  ? tr("virtual board %1 runs without the cycle-model plugin").arg(r.board)
                                  : tr("board %1 is not a virtual board with a cycle model: its counter is what "
                                       "it measures").arg(r.board);
    if (options.target) {
        const QString why = checkTarget(board, *options.target);
        if (!why.isEmpty())
            return refuse(why);
    }
    for (const model::Node &n : g.nodes) {
        LayerProfile l;
        l.name = n.name;
        l.op = model::opName(n.op);
        model::Graph one;
        one.tensors = g.tensors;
        one.nodes = {n};
        l.macs = one.macs();
        r.layers.append(l);
    }

    s.inBytes = int(g.tensors[g.inputIndex()].elementCount());
    s.outBytes = int(g.tensors[g.outputIndex()].elementCount());
    // A project without samples (an imported model) is profiled without the accuracy pass.
    if (options.accuracy && store->counts().total() > 0) {
        // The test split's features with the parameters the model was trained on, normalised
        // with the model's own statistics (featuresStep computes them off this thread).
        s.featureParams = features::featureParams(store->settings());
        const QJsonObject fp = g.meta.value(QStringLiteral("features")).toObject();
        if (!fp.isEmpty()) {
            auto p = features::FeatureParams::fromJson(fp, &e);
            if (!p)
                return refuse(tr("model %1: feature parameters: %2").arg(modelId).arg(e));
            s.featureParams = *p;
        }
        const QJsonObject norm = g.meta.value(QStringLiteral("input_normalization")).toObject();
        for (const QJsonValue &v : norm.value(QStringLiteral("mean")).toArray())
            s.normMean.append(float(v.toDouble()));
        for (const QJsonValue &v : norm.value(QStringLiteral("std")).toArray())
            s.normStd.append(float(v.toDouble()));
        s.needFeatures = true;
    }

    const AgentLink *l = link;
    s.connections << connect(link, &AgentLink::replyReceived, this, [this](int seq, const AgentReply &reply) {
        if (seq != d->pendingSeq)
            return;
        d->pendingSeq = -1;
        auto handler = std::move(d->onReply);
        d->onReply = {};
        if (d->cancelRequested)
            return d->cancelNow();
        handler(reply.payload);
    });
    s.connections << connect(link, &AgentLink::requestFailed, this, [this](int seq, const QString &message) {
        if (seq != d->pendingSeq)
            return;
        d->fail(message);
    });
    s.connections << connect(l, &QObject::destroyed, this, [this] { d->fail(tr("the board's link went away")); });
    s.running = true;
    // The work starts from the event loop: start() itself never waits.
    QTimer::singleShot(0, this, [this] {
        if (!d->running)
            return;
        if (d->cancelRequested)
            return d->cancelNow();
        if (d->needFeatures)
            d->featuresStep();
        else
            d->flashStep();
    });
    return true;
}

std::optional<ProfileTarget> Profiler::targetFromBoard(const BoardDefinition &target, QString *error)
{
    const QString file = QFileInfo(target.filePath).fileName();
    if (!target.cycleModel.isSet() || target.cycleModel.part.isEmpty()) {
        if (error)
            *error = tr("board %1 is not a target part: %2 has no \"cycle_model\" with a part (targets: boards whose "
                        "file names a part, core and clock, e.g. nucleo-l4r5zi)")
                         .arg(target.id, file.isEmpty() ? target.id + QStringLiteral(".json") : file);
        return std::nullopt;
    }
    if (target.clockHz == 0) {
        if (error)
            *error = tr("board %1 gives no clock_hz").arg(target.id);
        return std::nullopt;
    }
    ProfileTarget t;
    t.board = target.id;
    t.part = target.cycleModel.part;
    t.core = target.cycleModel.core;
    t.waitStates = target.cycleModel.waitStates;
    t.clockHz = target.clockHz;
    return t;
}

QString Profiler::checkTarget(const BoardDefinition &board, const ProfileTarget &target)
{
    if (!board.cycleModel.isSet() || board.launcher != QLatin1String("qemu"))
        return tr("--target %1 converts the estimated cycles of a virtual board's cycle model; board %2 has no "
                  "cycle model (use qemu-m4 or qemu-m7)").arg(target.board, board.id);
    if (normalizedCycleCore(board.cycleModel.core) != normalizedCycleCore(target.core))
        return tr("target %1 (%2) has a %3 core, but virtual board %4 models a %5: estimated cycles of one core "
                  "say nothing about the other; choose a target with a %5 core or the virtual board of the %3")
            .arg(target.board, target.part, cycleCoreDisplayName(target.core), board.id,
                 cycleCoreDisplayName(board.cycleModel.core));
    if (board.cycleModel.waitStates != target.waitStates)
        return tr("target %1 (%2) assumes %3 flash wait states, but virtual board %4's cycle model runs with %5")
            .arg(target.board, target.part).arg(target.waitStates).arg(board.id).arg(board.cycleModel.waitStates);
    return {};
}

void Profiler::cancel()
{
    if (!d->running)
        return;
    d->cancelRequested = true;
    if (d->featureTask && d->featureTask->isRunning()) {
        d->featureTask->cancel();   // its finished() ends the profile as cancelled
        return;
    }
    if (d->flashing)
        return;   // flashStep() ends the profile as cancelled when the upload returns
    if (d->pendingSeq < 0 && !d->onReply)
        QTimer::singleShot(0, this, [this] {
            if (d->running && d->pendingSeq < 0)
                d->cancelNow();
        });
}

bool Profiler::isRunning() const
{
    return d->running;
}

bool Profiler::run(ProjectStore *store, qint64 modelId, AgentLink *link, const BoardDefinition &board,
                   const ProfileOptions &options, ProfileResult *result, QString *error,
                   const std::function<void(const QString &)> &log)
{
    Profiler p;
    QEventLoop loop;
    bool ok = false;
    QString failure;
    connect(&p, &Profiler::finished, &loop, [&](const ProfileResult &r) {
        if (result)
            *result = r;
        ok = true;
        loop.quit();
    });
    connect(&p, &Profiler::failed, &loop, [&](const QString &why) {
        failure = why;
        loop.quit();
    });
    connect(&p, &Profiler::cancelled, &loop, [&] {
        failure = tr("cancelled");
        loop.quit();
    });
    if (log) {
        connect(&p, &Profiler::stageChanged, &loop, [&](const QString &stage) { log(stage); });
        int lastTenth = -1;
        connect(&p, &Profiler::uploadProgress, &loop, [&, lastTenth](qint64 sent, qint64 total) mutable {
            const int tenth = total ? int(sent * 10 / total) : 10;
            if (tenth != lastTenth)
                log(tr("  uploaded %1 of %2 bytes").arg(sent).arg(total));
            lastTenth = tenth;
        });
    }
    if (!p.start(store, modelId, link, board, options, error))
        return false;
    loop.exec();
    if (!ok && error)
        *error = failure;
    return ok;
}

} // namespace tinyml::deploy
