#include "ImpulseSpec.h"
#include "ModelPackageWriter.h"

#include "device/AgentProtocol.h"

#include "tm_dsp.h"
#include "tm_impulse.h"

#include <QJsonArray>

#include <cmath>

namespace tinyml::deploy {

using features::BlockKind;

namespace {

template <typename T> std::optional<T> failed(QString *error, const QString &message)
{
    if (error)
        *error = message;
    return std::nullopt;
}

QJsonArray floatArray(const QVector<float> &v)
{
    QJsonArray a;
    for (float f : v)
        a.append(double(f));
    return a;
}

bool readFloats(const QJsonValue &v, const QString &field, QVector<float> *out, QString *error)
{
    out->clear();
    if (v.isUndefined())
        return true;
    if (!v.isArray()) {
        if (error)
            *error = QStringLiteral("%1 must be an array of numbers").arg(field);
        return false;
    }
    for (const QJsonValue &x : v.toArray()) {
        if (!x.isDouble()) {
            if (error)
                *error = QStringLiteral("%1[%2] is not a number").arg(field).arg(out->size());
            return false;
        }
        out->append(float(x.toDouble()));
    }
    return true;
}

/// A non-negative whole JSON number up to max, or nullopt with an error naming the key.
std::optional<qint64> wholeNumber(const QJsonObject &o, const QString &key, qint64 min, qint64 max, QString *error)
{
    const QJsonValue v = o.value(key);
    const double d = v.toDouble(std::nan(""));
    if (!v.isDouble() || d != std::floor(d) || d < double(min) || d > double(max))
        return failed<qint64>(error, QStringLiteral("%1 must be a whole number in [%2, %3]").arg(key).arg(min).arg(max));
    return qint64(d);
}

int blockWindow(const features::FeatureParams &p)
{
    switch (p.kind) {
    case BlockKind::Raw: return p.raw.windowFrames;
    case BlockKind::Spectral: return p.spectral.windowFrames;
    case BlockKind::Mfe: return p.mfe.windowFrames;
    case BlockKind::Mfcc: return p.mfcc.mfe.windowFrames;
    case BlockKind::Image: return 0;
    }
    return 0;
}

tm_dsp_mfe_params_t dspMfe(const features::MfeParams &m, quint32 window, quint32 rate)
{
    tm_dsp_mfe_params_t p{};
    p.n_samples = window;
    p.sample_rate_hz = float(rate);
    p.frame_length = uint32_t(std::max(0, m.frameLength));
    p.frame_stride = uint32_t(std::max(0, m.frameStride));
    p.n_filters = uint32_t(std::max(0, m.nFilters));
    p.low_hz = m.lowHz;
    p.high_hz = m.highHz;
    p.pre_emphasis = m.preEmphasis;
    p.log_floor = m.logFloor;
    return p;
}

/// Values per channel of the raw and spectral blocks (they read every channel).
qint64 valuesPerChannel(const features::FeatureParams &p, quint32 window)
{
    if (p.kind == BlockKind::Raw)
        return window;
    if (p.kind == BlockKind::Spectral)
        return 3 + qint64(p.spectral.nBands) + 2 * qint64(p.spectral.nPeaks);
    return 0;
}

} // namespace

qint64 ImpulseSpec::featureCount() const
{
    switch (features.kind) {
    case BlockKind::Raw: {
        tm_dsp_raw_params_t p{};
        p.n_samples = windowFrames;
        p.n_axes = uint32_t(std::max(0, channels));
        return qint64(tm_dsp_raw_output_size(&p));
    }
    case BlockKind::Spectral: {
        tm_dsp_spectral_params_t p{};
        p.n_samples = windowFrames;
        p.n_axes = uint32_t(std::max(0, channels));
        p.sample_rate_hz = float(sampleRateHz);
        p.n_bands = uint32_t(std::max(0, features.spectral.nBands));
        p.band_edges_hz = features.spectral.bandEdgesHz.isEmpty() ? nullptr : features.spectral.bandEdgesHz.constData();
        p.n_peaks = uint32_t(std::max(0, features.spectral.nPeaks));
        return qint64(tm_dsp_spectral_output_size(&p));
    }
    case BlockKind::Mfe: {
        const tm_dsp_mfe_params_t p = dspMfe(features.mfe, windowFrames, sampleRateHz);
        return qint64(tm_dsp_mfe_output_size(&p));
    }
    case BlockKind::Mfcc: {
        tm_dsp_mfcc_params_t p{};
        p.mfe = dspMfe(features.mfcc.mfe, windowFrames, sampleRateHz);
        p.n_coeffs = uint32_t(std::max(0, features.mfcc.nCoeffs));
        p.lifter = uint32_t(std::max(0, features.mfcc.lifter));
        return qint64(tm_dsp_mfcc_output_size(&p));
    }
    case BlockKind::Image:
        return 0;
    }
    return 0;
}

QString ImpulseSpec::validate(qint64 modelInputs, qint64 modelOutputs) const
{
    if (sensorKind != ImpulseSensorKind::Accelerometer && sensorKind != ImpulseSensorKind::Microphone)
        return QStringLiteral("impulse.sensor_kind: %1 is neither 0 (accelerometer) nor 1 (microphone)").arg(int(sensorKind));
    if (channels < 1 || channels > int(TM_IMPULSE_MAX_CHANNELS))
        return QStringLiteral("impulse.channels: %1 outside 1..%2").arg(channels).arg(TM_IMPULSE_MAX_CHANNELS);
    if (sampleRateHz < 1)
        return QStringLiteral("impulse.sample_rate_hz: must be at least 1 Hz");
    if (windowFrames < 1)
        return QStringLiteral("impulse.window_samples: must be at least 1 frame");
    if (strideFrames < 1 || strideFrames > windowFrames)
        return QStringLiteral("impulse.stride_samples: %1 outside 1..%2 (the window)").arg(strideFrames).arg(windowFrames);
    if (!std::isfinite(rawScale) || rawScale <= 0)
        return QStringLiteral("impulse.raw_scale: %1 is not a positive finite number").arg(double(rawScale));
    if (features.kind == BlockKind::Image)
        return QStringLiteral("impulse.dsp_block: the image block is not a streaming block");
    if (blockWindow(features) != int(windowFrames))
        return QStringLiteral("impulse.dsp_params: the %1 block's windowFrames %2 differs from the window of %3 frames")
            .arg(features::blockKindName(features.kind)).arg(blockWindow(features)).arg(windowFrames);
    if (features.kind == BlockKind::Spectral && !features.spectral.bandEdgesHz.isEmpty()
        && features.spectral.bandEdgesHz.size() != features.spectral.nBands + 1)
        return QStringLiteral("impulse.dsp_params: spectral band edges: %1, n_bands + 1 = %2 needed")
            .arg(features.spectral.bandEdgesHz.size()).arg(features.spectral.nBands + 1);
    const qint64 n = featureCount();
    if (n <= 0)
        return QStringLiteral("impulse.dsp_params: the %1 block refuses its parameters (no output for a window of %2 frames)")
            .arg(features::blockKindName(features.kind)).arg(windowFrames);
    if (modelInputs >= 0 && n != modelInputs)
        return QStringLiteral("impulse.feature_count: the %1 block gives %2 values per window, the model takes %3")
            .arg(features::blockKindName(features.kind)).arg(n).arg(modelInputs);
    if (!normMean.isEmpty() || !normStd.isEmpty()) {
        if (normMean.size() != n || normStd.size() != n)
            return QStringLiteral("impulse.normalisation: %1 means and %2 stds for %3 features")
                .arg(normMean.size()).arg(normStd.size()).arg(n);
        for (int k = 0; k < n; ++k) {
            if (!std::isfinite(normMean[k]))
                return QStringLiteral("impulse.normalisation: mean[%1] is not finite").arg(k);
            if (!std::isfinite(normStd[k]) || normStd[k] <= 0)
                return QStringLiteral("impulse.normalisation: std[%1] = %2 is not a positive finite number").arg(k).arg(double(normStd[k]));
        }
    }
    const int classes = classCount();
    if (classes < 1 || classes > int(TM_IMPULSE_MAX_CLASSES))
        return QStringLiteral("impulse.class_count: %1 classes outside 1..%2").arg(classes).arg(TM_IMPULSE_MAX_CLASSES);
    if (modelOutputs >= 0 && classes != modelOutputs)
        return QStringLiteral("impulse.class_count: %1 labels, the model gives %2 scores").arg(classes).arg(modelOutputs);
    if (post.averageWindows < 1 || post.averageWindows > int(TM_IMPULSE_MAX_AVERAGE))
        return QStringLiteral("impulse.average_windows: %1 outside 1..%2").arg(post.averageWindows).arg(TM_IMPULSE_MAX_AVERAGE);
    if (post.thresholds.size() != classes)
        return QStringLiteral("impulse.thresholds: %1 thresholds for %2 classes").arg(post.thresholds.size()).arg(classes);
    for (int c = 0; c < classes; ++c)
        if (!(post.thresholds[c] >= 0.0f && post.thresholds[c] <= 1.0f))
            return QStringLiteral("impulse.thresholds: class %1 (\"%2\"): %3 outside [0, 1]").arg(c).arg(labels[c]).arg(double(post.thresholds[c]));
    if (post.background.size() != classes)
        return QStringLiteral("impulse.class_flags: %1 background flags for %2 classes").arg(post.background.size()).arg(classes);
    if (anomaly) {
        if (anomaly->package.size() < 64)
            return QStringLiteral("impulse.anomaly.package: %1 bytes, not a model package").arg(anomaly->package.size());
        if (!std::isfinite(anomaly->threshold))
            return QStringLiteral("impulse.anomaly.threshold: %1 is not finite").arg(double(anomaly->threshold));
        if (!anomaly->normMean.isEmpty() || !anomaly->normStd.isEmpty()) {
            if (anomaly->normMean.size() != n || anomaly->normStd.size() != n)
                return QStringLiteral("impulse.anomaly.normalisation: %1 means and %2 stds for %3 features")
                    .arg(anomaly->normMean.size()).arg(anomaly->normStd.size()).arg(n);
            for (int k = 0; k < n; ++k)
                if (!std::isfinite(anomaly->normMean[k]) || !std::isfinite(anomaly->normStd[k]) || anomaly->normStd[k] <= 0)
                    return QStringLiteral("impulse.anomaly.normalisation: mean/std[%1] not finite or std <= 0").arg(k);
        }
    }
    return {};
}

QJsonObject ImpulseSpec::toJson() const
{
    QJsonArray background;
    for (bool b : post.background)
        background.append(b);
    QJsonObject o{
        {QStringLiteral("sensor_kind"), int(sensorKind)},
        {QStringLiteral("channels"), channels},
        {QStringLiteral("sample_rate_hz"), double(sampleRateHz)},
        {QStringLiteral("window_frames"), double(windowFrames)},
        {QStringLiteral("stride_frames"), double(strideFrames)},
        {QStringLiteral("raw_scale"), double(rawScale)},
        {QStringLiteral("features"), features.toJson()},
        {QStringLiteral("post"), QJsonObject{{QStringLiteral("average_windows"), post.averageWindows},
                                             {QStringLiteral("suppression_ms"), double(post.suppressionMs)},
                                             {QStringLiteral("thresholds"), floatArray(post.thresholds)},
                                             {QStringLiteral("background"), background}}},
        {QStringLiteral("labels"), QJsonArray::fromStringList(labels)},
    };
    if (!normMean.isEmpty() || !normStd.isEmpty())
        o.insert(QStringLiteral("normalization"), QJsonObject{{QStringLiteral("mean"), floatArray(normMean)},
                                                              {QStringLiteral("std"), floatArray(normStd)}});
    return o;
}

std::optional<ImpulseSpec> ImpulseSpec::fromJson(const QJsonObject &o, QString *error)
{
    ImpulseSpec s;
    QString e;
    auto whole = [&](const char *key, qint64 min, qint64 max) { return wholeNumber(o, QLatin1String(key), min, max, &e); };
    const auto kind = whole("sensor_kind", 0, 1);
    const auto channels = kind ? whole("channels", 1, TM_IMPULSE_MAX_CHANNELS) : std::nullopt;
    const auto rate = channels ? whole("sample_rate_hz", 1, 0xFFFFFFFFll) : std::nullopt;
    const auto window = rate ? whole("window_frames", 1, 0xFFFFFFFFll) : std::nullopt;
    const auto stride = window ? whole("stride_frames", 1, 0xFFFFFFFFll) : std::nullopt;
    if (!stride)
        return failed<ImpulseSpec>(error, QStringLiteral("impulse: %1").arg(e));
    s.sensorKind = ImpulseSensorKind(*kind);
    s.channels = int(*channels);
    s.sampleRateHz = quint32(*rate);
    s.windowFrames = quint32(*window);
    s.strideFrames = quint32(*stride);
    s.rawScale = float(o.value(QStringLiteral("raw_scale")).toDouble(0));
    auto fp = features::FeatureParams::fromJson(o.value(QStringLiteral("features")).toObject(), &e);
    if (!fp)
        return failed<ImpulseSpec>(error, QStringLiteral("impulse.features: %1").arg(e));
    s.features = *fp;
    const QJsonObject norm = o.value(QStringLiteral("normalization")).toObject();
    if (!readFloats(norm.value(QStringLiteral("mean")), QStringLiteral("impulse.normalization.mean"), &s.normMean, error)
        || !readFloats(norm.value(QStringLiteral("std")), QStringLiteral("impulse.normalization.std"), &s.normStd, error))
        return std::nullopt;
    const QJsonObject post = o.value(QStringLiteral("post")).toObject();
    const auto average = wholeNumber(post, QStringLiteral("average_windows"), 1, TM_IMPULSE_MAX_AVERAGE, &e);
    const auto suppression = average ? wholeNumber(post, QStringLiteral("suppression_ms"), 0, 0xFFFFFFFFll, &e) : std::nullopt;
    if (!suppression)
        return failed<ImpulseSpec>(error, QStringLiteral("impulse.post: %1").arg(e));
    s.post.averageWindows = int(*average);
    s.post.suppressionMs = quint32(*suppression);
    if (!readFloats(post.value(QStringLiteral("thresholds")), QStringLiteral("impulse.post.thresholds"), &s.post.thresholds, error))
        return std::nullopt;
    for (const QJsonValue &v : post.value(QStringLiteral("background")).toArray()) {
        if (!v.isBool())
            return failed<ImpulseSpec>(error, QStringLiteral("impulse.post.background[%1] is not true or false").arg(s.post.background.size()));
        s.post.background.append(v.toBool());
    }
    for (const QJsonValue &v : o.value(QStringLiteral("labels")).toArray())
        s.labels.append(v.toString());
    const QString why = s.validate();
    if (!why.isEmpty())
        return failed<ImpulseSpec>(error, why);
    return s;
}

bool ImpulseSpec::operator==(const ImpulseSpec &o) const
{
    return sensorKind == o.sensorKind && channels == o.channels && sampleRateHz == o.sampleRateHz
           && windowFrames == o.windowFrames && strideFrames == o.strideFrames && rawScale == o.rawScale
           && features.toJson() == o.features.toJson() && normMean == o.normMean && normStd == o.normStd
           && post == o.post && labels == o.labels && anomaly == o.anomaly;
}

std::optional<ImpulseAnomaly> impulseAnomalyFor(const model::Graph &classifier, const QString &classifierName,
                                                const model::Graph &anomaly, const QString &anomalyName,
                                                QString *error)
{
    auto refuse = [&](const QString &m) { return failed<ImpulseAnomaly>(error, m); };
    model::Graph c = classifier, a = anomaly;
    QString e;
    if (!c.inferShapes(&e))
        return refuse(QStringLiteral("%1: %2").arg(classifierName, e));
    if (!a.inferShapes(&e))
        return refuse(QStringLiteral("%1: %2").arg(anomalyName, e));
    const bool scoreOp = !a.nodes.isEmpty() && model::isAnomalyScoreOp(a.nodes.back().op);
    if (!scoreOp || a.inputs.size() != 1 || a.outputs.size() != 1 || a.tensors[a.outputs[0]].elementCount() != 1)
        return refuse(QStringLiteral("%1 is not an anomaly model (its output is not one k-means, GMM or autoencoder score); "
                                     "the second model of an impulse must be one (train it with --model kmeans|gmm|autoencoder "
                                     "--normal LABEL)").arg(anomalyName));
    const QJsonValue threshold = a.meta.value(QStringLiteral("threshold"));
    if (!threshold.isDouble() || !std::isfinite(threshold.toDouble()))
        return refuse(QStringLiteral("%1 has no anomaly threshold in its meta").arg(anomalyName));
    if (!a.quantized)
        return refuse(QStringLiteral("%1 is a float model: quantize it first (tinyml quantize)").arg(anomalyName));
    if (c.inputs.size() != 1)
        return refuse(QStringLiteral("%1: an impulse needs a model with one input").arg(classifierName));
    const qint64 cin = c.tensors[c.inputs[0]].elementCount(), ain = a.tensors[a.inputs[0]].elementCount();
    if (cin != ain)
        return refuse(QStringLiteral("the classifier %1 takes %2 features per window but the anomaly model %3 takes %4: "
                                     "both must read the same DSP output").arg(classifierName).arg(cin).arg(anomalyName).arg(ain));
    const QJsonObject cf = c.meta.value(QStringLiteral("features")).toObject();
    const QJsonObject af = a.meta.value(QStringLiteral("features")).toObject();
    if (!cf.isEmpty() && !af.isEmpty() && cf != af)
        return refuse(QStringLiteral("the classifier %1 and the anomaly model %2 were trained on different feature "
                                     "parameters: both must read the same DSP output").arg(classifierName, anomalyName));
    ImpulseAnomaly out;
    out.threshold = float(threshold.toDouble());
    const QJsonObject norm = a.meta.value(QStringLiteral("input_normalization")).toObject();
    for (const QJsonValue &v : norm.value(QStringLiteral("mean")).toArray())
        out.normMean.append(float(v.toDouble()));
    for (const QJsonValue &v : norm.value(QStringLiteral("std")).toArray())
        out.normStd.append(float(v.toDouble()));
    ModelPackageWriter writer;
    auto pkg = writer.write(a, &e);
    if (!pkg)
        return refuse(QStringLiteral("%1: %2").arg(anomalyName, e));
    out.package = *pkg;
    return out;
}

bool isBackgroundLabel(const QString &label)
{
    QString l = label.trimmed().toLower();
    if (l.startsWith(QLatin1Char('_')))
        l.remove(0, 1);
    static const QStringList names = {QStringLiteral("idle"), QStringLiteral("noise"), QStringLiteral("background"),
                                      QStringLiteral("silence"), QStringLiteral("unknown")};
    return names.contains(l);
}

// --- options -------------------------------------------------------------------------------------

QJsonObject ImpulseOptions::toJson() const
{
    QJsonObject o;
    if (strideFrames)
        o.insert(QStringLiteral("stride_frames"), double(*strideFrames));
    if (averageWindows)
        o.insert(QStringLiteral("average_windows"), *averageWindows);
    if (suppressionMs)
        o.insert(QStringLiteral("suppression_ms"), double(*suppressionMs));
    if (threshold)
        o.insert(QStringLiteral("threshold"), double(*threshold));
    if (!classThresholds.isEmpty()) {
        QJsonObject t;
        for (auto it = classThresholds.begin(); it != classThresholds.end(); ++it)
            t.insert(it.key(), double(it.value()));
        o.insert(QStringLiteral("class_thresholds"), t);
    }
    if (backgroundLabels)
        o.insert(QStringLiteral("background_labels"), QJsonArray::fromStringList(*backgroundLabels));
    return o;
}

std::optional<ImpulseOptions> ImpulseOptions::fromJson(const QJsonObject &o, QString *error)
{
    ImpulseOptions r;
    QString e;
    auto fail = [&](const QString &m) { return failed<ImpulseOptions>(error, QStringLiteral("impulse settings: %1").arg(m)); };
    if (o.contains(QStringLiteral("stride_frames"))) {
        const auto v = wholeNumber(o, QStringLiteral("stride_frames"), 1, 0xFFFFFFFFll, &e);
        if (!v)
            return fail(e);
        r.strideFrames = quint32(*v);
    }
    if (o.contains(QStringLiteral("average_windows"))) {
        const auto v = wholeNumber(o, QStringLiteral("average_windows"), 1, TM_IMPULSE_MAX_AVERAGE, &e);
        if (!v)
            return fail(e);
        r.averageWindows = int(*v);
    }
    if (o.contains(QStringLiteral("suppression_ms"))) {
        const auto v = wholeNumber(o, QStringLiteral("suppression_ms"), 0, 0xFFFFFFFFll, &e);
        if (!v)
            return fail(e);
        r.suppressionMs = quint32(*v);
    }
    auto unitNumber = [&](const QJsonValue &v, const QString &key, float *out) {
        const double d = v.toDouble(std::nan(""));
        if (!v.isDouble() || !(d >= 0.0 && d <= 1.0)) {
            e = QStringLiteral("%1 must be a number in [0, 1]").arg(key);
            return false;
        }
        *out = float(d);
        return true;
    };
    if (o.contains(QStringLiteral("threshold"))) {
        float t = 0;
        if (!unitNumber(o.value(QStringLiteral("threshold")), QStringLiteral("threshold"), &t))
            return fail(e);
        r.threshold = t;
    }
    const QJsonObject ct = o.value(QStringLiteral("class_thresholds")).toObject();
    for (auto it = ct.begin(); it != ct.end(); ++it) {
        float t = 0;
        if (!unitNumber(it.value(), QStringLiteral("class_thresholds.%1").arg(it.key()), &t))
            return fail(e);
        r.classThresholds.insert(it.key(), t);
    }
    if (o.contains(QStringLiteral("background_labels"))) {
        QStringList labels;
        for (const QJsonValue &v : o.value(QStringLiteral("background_labels")).toArray()) {
            if (!v.isString())
                return fail(QStringLiteral("background_labels must be an array of label names"));
            labels.append(v.toString());
        }
        r.backgroundLabels = labels;
    }
    return r;
}

ImpulseOptions ImpulseOptions::mergedWith(const ImpulseOptions &over) const
{
    ImpulseOptions r = *this;
    if (over.strideFrames)
        r.strideFrames = over.strideFrames;
    if (over.averageWindows)
        r.averageWindows = over.averageWindows;
    if (over.suppressionMs)
        r.suppressionMs = over.suppressionMs;
    if (over.threshold) {
        r.threshold = over.threshold;
        r.classThresholds.clear();   // a new global threshold replaces the older per-class ones
    }
    for (auto it = over.classThresholds.begin(); it != over.classThresholds.end(); ++it)
        r.classThresholds.insert(it.key(), it.value());
    if (over.backgroundLabels)
        r.backgroundLabels = over.backgroundLabels;
    return r;
}

std::optional<ImpulseOptions> impulseOptions(const ProjectSettings &settings, QString *error)
{
    const QJsonValue v = settings.extra.value(QStringLiteral("impulse"));
    if (v.isUndefined() || v.isNull())
        return ImpulseOptions{};
    if (!v.isObject())
        return failed<ImpulseOptions>(error, QStringLiteral("impulse settings: extra.impulse is not an object"));
    return ImpulseOptions::fromJson(v.toObject(), error);
}

void setImpulseOptions(ProjectSettings &settings, const ImpulseOptions &options)
{
    settings.extra.insert(QStringLiteral("impulse"), options.toJson());
}

ImpulseSensor ImpulseSensor::fromDevice(const DeviceSensorInfo &sensor)
{
    ImpulseSensor s;
    if (sensor.kind == int(ImpulseSensorKind::Accelerometer) || sensor.kind == int(ImpulseSensorKind::Microphone))
        s.kind = ImpulseSensorKind(sensor.kind);
    s.channels = sensor.channelCount;
    s.rateHz = sensor.defaultRateHz;
    s.rawScale = sensor.scale;
    return s;
}

// --- builder -------------------------------------------------------------------------------------

std::optional<ImpulseSpec> impulseSpecFor(const model::Graph &graph, const ProjectSettings &settings,
                                          const ImpulseSensor &sensor, const ImpulseOptions &options,
                                          QString *error)
{
    const QString model = QStringLiteral("impulse of the model");
    auto refuse = [&](const QString &m) { return failed<ImpulseSpec>(error, QStringLiteral("%1: %2").arg(model, m)); };

    // Feature block and normalisation exactly as the Profiler takes them.
    ImpulseSpec s;
    s.features = features::featureParams(settings);
    const QJsonObject fp = graph.meta.value(QStringLiteral("features")).toObject();
    if (!fp.isEmpty()) {
        QString e;
        auto p = features::FeatureParams::fromJson(fp, &e);
        if (!p)
            return refuse(QStringLiteral("feature parameters: %1").arg(e));
        s.features = *p;
    }
    const QJsonObject norm = graph.meta.value(QStringLiteral("input_normalization")).toObject();
    for (const QJsonValue &v : norm.value(QStringLiteral("mean")).toArray())
        s.normMean.append(float(v.toDouble()));
    for (const QJsonValue &v : norm.value(QStringLiteral("std")).toArray())
        s.normStd.append(float(v.toDouble()));

    const BlockKind kind = s.features.kind;
    const QString block = features::blockKindName(kind);
    if (kind == BlockKind::Image)
        return refuse(QStringLiteral("the image block works on single frames, not on a sensor stream: an impulse "
                                     "needs a raw, spectral, mfe or mfcc block"));
    const int window = blockWindow(s.features);
    if (window <= 0)
        return refuse(QStringLiteral("the %1 block has windowFrames 0 (each sample taken whole): an impulse needs a "
                                     "fixed window; set the block's window length").arg(block));
    s.windowFrames = quint32(window);

    model::Graph g = graph;
    QString e;
    if (!g.inferShapes(&e))
        return refuse(e);
    if (g.inputs.size() != 1 || g.outputs.size() != 1)
        return refuse(QStringLiteral("an impulse needs a model with one input and one output"));
    const qint64 inputs = g.tensors[g.inputs[0]].elementCount();
    const qint64 outputs = g.tensors[g.outputs[0]].elementCount();

    // Sample rate.
    double rate = 0;
    QString rateSource;
    if (kind == BlockKind::Mfe || kind == BlockKind::Mfcc) {
        rate = kind == BlockKind::Mfe ? s.features.mfe.sampleRateHz : s.features.mfcc.mfe.sampleRateHz;
        rateSource = QStringLiteral("the %1 block").arg(block);
    } else if (kind == BlockKind::Spectral && s.features.spectral.sampleRateHz > 0) {
        rate = s.features.spectral.sampleRateHz;
        rateSource = QStringLiteral("the spectral block");
    }
    if (!(rate > 0) && settings.sampleRateHz > 0) {
        rate = settings.sampleRateHz;
        rateSource = QStringLiteral("the project");
    }
    if (!(rate > 0) && sensor.rateHz > 0) {
        rate = sensor.rateHz;
        rateSource = QStringLiteral("the sensor");
    }
    if (!(rate > 0))
        return refuse(QStringLiteral("no sample rate: neither the %1 block, the project nor the sensor gives one").arg(block));
    if (std::fabs(rate - std::round(rate)) > 1e-3 || rate > 4294967295.0)
        return refuse(QStringLiteral("the sample rate %1 Hz of %2 is not a whole number of Hz").arg(rate).arg(rateSource));
    s.sampleRateHz = quint32(std::llround(rate));
    if (kind == BlockKind::Spectral)
        s.features.spectral.sampleRateHz = float(s.sampleRateHz);   // the section carries one rate

    // Sensor kind and channels.
    if (sensor.kind)
        s.sensorKind = *sensor.kind;
    else if (kind == BlockKind::Mfe || kind == BlockKind::Mfcc || settings.templateName == QLatin1String("audio"))
        s.sensorKind = ImpulseSensorKind::Microphone;
    else
        s.sensorKind = ImpulseSensorKind::Accelerometer;
    if (kind == BlockKind::Mfe || kind == BlockKind::Mfcc) {
        s.channels = sensor.channels > 0 ? sensor.channels : 1;   // the block reads channel 0
    } else {
        const qint64 per = valuesPerChannel(s.features, s.windowFrames);
        if (per <= 0 || inputs % per != 0)
            return refuse(QStringLiteral("the model takes %1 values, not a whole number of channels of the %2 block's %3 "
                                         "values each").arg(inputs).arg(block).arg(per));
        s.channels = int(inputs / per);
        if (sensor.channels > 0 && sensor.channels != s.channels)
            return refuse(QStringLiteral("the model reads %1 channels, the sensor has %2").arg(s.channels).arg(sensor.channels));
    }
    s.rawScale = sensor.rawScale > 0 ? sensor.rawScale
                 : s.sensorKind == ImpulseSensorKind::Microphone ? kDefaultMicRawScale : kDefaultAccelRawScale;

    // Stride and post-processing.
    // Audio blocks cost far more per window than motion ones: half a window (500 ms for a 1 s
    // keyword window, Edge Impulse's default too) keeps a 25 MHz Cortex-M4 below full load.
    const bool audio = s.features.kind == features::BlockKind::Mfe || s.features.kind == features::BlockKind::Mfcc;
    s.strideFrames = options.strideFrames ? *options.strideFrames
                                          : std::max<quint32>(1, s.windowFrames / (audio ? 2 : 4));
    s.labels = graph.labels;
    if (s.labels.isEmpty())
        for (qint64 c = 0; c < outputs; ++c)
            s.labels.append(QStringLiteral("class %1").arg(c));
    s.post.averageWindows = options.averageWindows.value_or(1);
    s.post.suppressionMs = options.suppressionMs
        ? *options.suppressionMs
        : quint32(std::llround(double(s.windowFrames) * 1000.0 / double(s.sampleRateHz)));
    for (const QString &label : s.labels) {
        s.post.thresholds.append(options.classThresholds.value(label, options.threshold.value_or(0.6f)));
        s.post.background.append(options.backgroundLabels ? options.backgroundLabels->contains(label)
                                                          : isBackgroundLabel(label));
    }
    const QString why = s.validate(inputs, outputs);
    if (!why.isEmpty())
        return refuse(why);
    return s;
}

} // namespace tinyml::deploy
