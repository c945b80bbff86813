#include "ImpulseReplay.h"

#include "ModelPackageReader.h"

#include "tm_impulse.h"
#include "tm_model.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <mutex>
#include <new>
#include <thread>

namespace tinyml::deploy {

namespace {

bool fail(QString *error, const QString &message)
{
    if (error)
        *error = message;
    return false;
}

/// 16-byte-aligned bytes: the package (kernels read weights in place with word loads) and the
/// per-thread arena and work buffers.
struct AlignedBytes {
    explicit AlignedBytes(size_t n = 0)
        : size(n), data(static_cast<uint8_t *>(::operator new(std::max<size_t>(n, 16), std::align_val_t(16))))
    {
        std::memset(data, 0, std::max<size_t>(n, 16));
    }
    ~AlignedBytes() { ::operator delete(data, std::align_val_t(16)); }
    AlignedBytes(const AlignedBytes &) = delete;
    AlignedBytes &operator=(const AlignedBytes &) = delete;
    size_t size;
    uint8_t *data;
};

ImpulseDecision decisionOf(const tm_impulse_decision_t &d)
{
    ImpulseDecision r;
    r.topClass = d.top_class;
    r.decision = d.decision;
    r.flags = d.flags;
    r.score = d.score;
    return r;
}

QVector<ImpulseDecision> runPost(const ReplayScores &scores, const tm_impulse_post_params_t &pp)
{
    QVector<ImpulseDecision> out;
    out.reserve(scores.windows());
    tm_impulse_post_state_t state;
    tm_impulse_post_reset(&state);
    for (int i = 0; i < scores.windows(); ++i) {
        tm_impulse_decision_t d;
        tm_impulse_post_step(&pp, &state, scores.window(i), scores.windowEnds[i], &d);
        out.append(decisionOf(d));
    }
    return out;
}

} // namespace

QVector<ImpulseDecision> rerunPost(const ReplayScores &scores, const PostConfig &c, QString *error)
{
    const int classes = scores.classCount;
    if (classes < 1 || classes > int(TM_IMPULSE_MAX_CLASSES) || scores.scores.size() != qint64(classes) * scores.windows()) {
        fail(error, QStringLiteral("scores: %1 classes, %2 values for %3 windows").arg(classes).arg(scores.scores.size()).arg(scores.windows()));
        return {};
    }
    if (c.post.averageWindows < 1 || c.post.averageWindows > int(TM_IMPULSE_MAX_AVERAGE)) {
        fail(error, QStringLiteral("average_windows: %1 outside 1..%2").arg(c.post.averageWindows).arg(TM_IMPULSE_MAX_AVERAGE));
        return {};
    }
    if (c.post.thresholds.size() != classes || c.post.background.size() != classes || c.sampleRateHz < 1) {
        fail(error, QStringLiteral("post-processing: %1 thresholds and %2 background flags for %3 classes")
                        .arg(c.post.thresholds.size()).arg(c.post.background.size()).arg(classes));
        return {};
    }
    uint8_t flags[TM_IMPULSE_MAX_CLASSES] = {};
    for (int k = 0; k < classes; ++k)
        flags[k] = c.post.background[k] ? TM_IMPULSE_CLASS_BACKGROUND : 0;
    tm_impulse_post_params_t pp{};
    pp.class_count = uint16_t(classes);
    pp.average_windows = uint16_t(c.post.averageWindows);
    // As tm_impulse_post_params(): 64-bit integer arithmetic, saturated to u32.
    const uint64_t samples = uint64_t(c.post.suppressionMs) * c.sampleRateHz / 1000u;
    pp.suppression_samples = samples > 0xFFFFFFFFu ? 0xFFFFFFFFu : uint32_t(samples);
    pp.thresholds = c.post.thresholds.constData();
    pp.class_flags = flags;
    pp.out_scale = c.outScale;
    pp.out_zp = c.outZeroPoint;
    return runPost(scores, pp);
}

struct ImpulseReplay::Impl {
    std::unique_ptr<AlignedBytes> package;
    tm_model_t model{};
    tm_impulse_t impulse{};
    ImpulseSpec spec;
    bool loaded = false;
};

ImpulseReplay::ImpulseReplay() : d(std::make_unique<Impl>()) {}
ImpulseReplay::~ImpulseReplay() = default;

bool ImpulseReplay::isLoaded() const { return d->loaded; }
const ImpulseSpec &ImpulseReplay::spec() const { return d->spec; }

bool ImpulseReplay::load(const QByteArray &bytes, QString *error)
{
    d = std::make_unique<Impl>();
    auto pkg = ModelPackageReader::read(bytes, error);
    if (!pkg)
        return false;
    if (!pkg->impulse)
        return fail(error, QStringLiteral("the package is version %1: it holds a model but no impulse (version 2)").arg(pkg->version));
    d->package = std::make_unique<AlignedBytes>(size_t(bytes.size()));
    std::memcpy(d->package->data, bytes.constData(), size_t(bytes.size()));
    const tm_model_status_t ms = tm_model_load(&d->model, d->package->data, uint32_t(bytes.size()));
    if (ms != TM_MODEL_OK)
        return fail(error, QStringLiteral("tm_model_load: %1").arg(QLatin1String(tm_model_status_name(ms))));
    const tm_impulse_status_t is = tm_impulse_load(&d->impulse, &d->model);
    if (is != TM_IMPULSE_OK)
        return fail(error, QStringLiteral("tm_impulse_load: impulse: %1").arg(QLatin1String(tm_impulse_status_name(is))));
    d->spec = *pkg->impulse;
    d->loaded = true;
    return true;
}

PostConfig ImpulseReplay::postConfig() const
{
    PostConfig c;
    c.post = d->spec.post;
    c.outScale = d->impulse.out_scale;
    c.outZeroPoint = d->impulse.out_zp;
    c.sampleRateHz = d->impulse.sample_rate_hz;
    return c;
}

float ImpulseReplay::anomalyScore(qint8 q) const
{
    if (!d->loaded || !d->impulse.has_anomaly)
        return 0.0f;
    return float(int(q) - d->impulse.anomaly_out_zp) * d->impulse.anomaly_out_scale;
}

qint64 ImpulseReplay::workBytes() const { return d->loaded ? qint64(tm_impulse_work_bytes(&d->impulse)) : 0; }
qint64 ImpulseReplay::arenaBytes() const { return d->loaded ? qint64(tm_impulse_arena_bytes(&d->impulse)) : 0; }

qint64 ImpulseReplay::windowCount(qint64 frames) const
{
    if (!d->loaded || frames < qint64(d->impulse.window))
        return 0;
    return 1 + (frames - qint64(d->impulse.window)) / qint64(d->impulse.stride);
}

std::optional<ReplayResult> ImpulseReplay::run(const qint16 *samples, qint64 frames, int channels,
                                               const ReplayOptions &options, QString *error) const
{
    if (!d->loaded) {
        fail(error, QStringLiteral("no impulse loaded"));
        return std::nullopt;
    }
    const tm_impulse_t &imp = d->impulse;
    if (channels != int(imp.channels)) {
        fail(error, QStringLiteral("the recording has %1 channel%2, the impulse reads %3")
                        .arg(channels).arg(channels == 1 ? "" : "s").arg(imp.channels));
        return std::nullopt;
    }
    const qint64 windows = windowCount(frames);
    if (windows > qint64(std::numeric_limits<int>::max()) / std::max<qint64>(1, imp.class_count)) {
        fail(error, QStringLiteral("the recording gives %1 windows, more than one replay holds").arg(windows));
        return std::nullopt;
    }
    ReplayResult result;
    ReplayScores &scores = result.scores;
    scores.classCount = imp.class_count;
    scores.windowEnds.resize(int(windows));
    scores.scores.resize(int(windows * imp.class_count));
    for (qint64 i = 0; i < windows; ++i)
        scores.windowEnds[int(i)] = quint64(imp.window) + quint64(i) * imp.stride;

    const bool anomaly = imp.has_anomaly != 0;
    if (anomaly) {
        result.anomalyScores.resize(int(windows));
        result.anomalyAlarms.resize(int(windows));
    }
    qint8 *const anomalyOut = anomaly ? result.anomalyScores.data() : nullptr;
    const uint32_t arenaBytes = tm_impulse_arena_bytes(&imp);
    const size_t workBytes = tm_impulse_work_bytes(&imp);
    const int threads = int(std::clamp<qint64>(options.threads, 1, std::max<qint64>(1, windows)));
    // Small chunks keep both threads busy to the end; each chunk is a few milliseconds at least.
    const qint64 chunk = std::clamp<qint64>(windows / (64 * threads), 1, 64);
    std::atomic<qint64> next{0}, done{0};
    std::atomic<bool> stop{false};
    std::mutex errorMutex;
    QString firstError;
    qint64 firstErrorWindow = -1;

    // Raw pointers taken once: the workers never touch the containers.
    qint8 *const out = scores.scores.data();
    const quint64 *const ends = scores.windowEnds.constData();
    auto worker = [&](bool reportProgress) {
        AlignedBytes arena(arenaBytes), work(workBytes);
        qint64 reported = 0;
        const qint64 step = std::max<qint64>(1, windows / 100);
        while (!stop.load(std::memory_order_relaxed)) {
            if (options.cancel && options.cancel->load(std::memory_order_relaxed)) {
                stop = true;
                break;
            }
            const qint64 begin = next.fetch_add(chunk);
            if (begin >= windows)
                break;
            const qint64 end = std::min(windows, begin + chunk);
            for (qint64 i = begin; i < end; ++i) {
                const qint64 first = qint64(ends[i]) - imp.window;
                const tm_impulse_status_t s = tm_impulse_run_window_anomaly(
                    &imp, samples + first * channels, imp.window, nullptr, 0, work.data, work.size,
                    arena.data, arenaBytes, out + i * imp.class_count,
                    anomalyOut ? reinterpret_cast<int8_t *>(anomalyOut + i) : nullptr, nullptr);
                if (s != TM_IMPULSE_OK) {
                    std::lock_guard<std::mutex> lock(errorMutex);
                    if (firstErrorWindow < 0 || i < firstErrorWindow) {
                        firstErrorWindow = i;
                        firstError = QLatin1String(tm_impulse_status_name(s));
                    }
                    stop = true;
                    break;
                }
            }
            const qint64 total = done.fetch_add(end - begin) + (end - begin);
            if (reportProgress && options.progress && total - reported >= step) {
                reported = total;
                options.progress(total, windows);
            }
        }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t)
        pool.emplace_back(worker, false);
    worker(true);
    for (std::thread &t : pool)
        t.join();

    if (firstErrorWindow >= 0) {
        fail(error, QStringLiteral("window %1 (frames %2..%3): tm_impulse_run_window: %4")
                        .arg(firstErrorWindow).arg(scores.windowEnds[int(firstErrorWindow)] - imp.window)
                        .arg(scores.windowEnds[int(firstErrorWindow)]).arg(firstError));
        return std::nullopt;
    }
    if (options.cancel && options.cancel->load()) {
        fail(error, QStringLiteral("cancelled"));
        return std::nullopt;
    }
    if (options.progress)
        options.progress(windows, windows);

    tm_impulse_post_params_t pp;
    tm_impulse_post_params(&imp, &pp);   // the package's own parameters, as the device takes them
    result.decisions = runPost(scores, pp);
    for (int i = 0; i < result.anomalyScores.size(); ++i)
        result.anomalyAlarms[i] = tm_impulse_anomaly_alarm(&imp, result.anomalyScores[i]) != 0;
    return result;
}

} // namespace tinyml::deploy
