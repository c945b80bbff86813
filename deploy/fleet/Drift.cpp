#include "fleet/Drift.h"

#include "features/FeatureParams.h"
#include "features/FeatureSet.h"
#include "model/Graph.h"
#include "model/Int8Executor.h"
#include "store/ProjectStore.h"

#include "tm_protocol.h"

#include <QCoreApplication>
#include <QJsonArray>

#include <algorithm>
#include <cmath>

namespace tinyml::deploy::fleet {

namespace {

constexpr double kFloor = 1e-4;
constexpr double kMinStd = 0.5; // half an int8 quantization code

QString tr(const char *s) { return QCoreApplication::translate("Drift", s); }

template <typename T>
std::optional<T> fail(QString *error, const QString &why)
{
    if (error)
        *error = why;
    return std::nullopt;
}

double normalCdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

} // namespace

double populationStabilityIndex(const QVector<double> &expected, const QVector<double> &actual)
{
    double psi = 0.0;
    const int n = int(std::min(expected.size(), actual.size()));
    for (int b = 0; b < n; ++b) {
        const double e = std::max(expected[b], kFloor);
        const double a = std::max(actual[b], kFloor);
        psi += (a - e) * std::log(a / e);
    }
    return psi;
}

double normalPsi(double refMean, double refStd, double actualMean, double actualStd)
{
    // deciles of the standard normal: Phi^-1(i / 10), i = 1..9
    static const double z[9] = {-1.2815515655, -0.8416212336, -0.5244005127, -0.2533471031, 0.0,
                                0.2533471031,  0.5244005127,  0.8416212336,  1.2815515655};
    refStd = std::max(refStd, kMinStd);
    actualStd = std::max(actualStd, kMinStd);
    QVector<double> expected(10, 0.1), actual(10, 0.0);
    double below = 0.0;
    for (int b = 0; b < 10; ++b) {
        const double upTo = b < 9 ? normalCdf((refMean + refStd * z[b] - actualMean) / actualStd) : 1.0;
        actual[b] = upTo - below;
        below = upTo;
    }
    return populationStabilityIndex(expected, actual);
}

QString DriftReport::level() const
{
    if (windows == 0)
        return QStringLiteral("no data");
    if (psi > kPsiSignificant)
        return QStringLiteral("significant");
    if (psi >= kPsiModerate)
        return QStringLiteral("moderate");
    return QStringLiteral("none");
}

QJsonObject DriftReport::toJson() const
{
    QJsonObject o;
    o[QStringLiteral("model_id")] = modelId;
    o[QStringLiteral("source")] = source == TelemetrySummary::kInvoke ? QStringLiteral("invoke") : QStringLiteral("classify");
    o[QStringLiteral("package_crc")] = QStringLiteral("%1").arg(packageCrc, 8, 16, QLatin1Char('0'));
    o[QStringLiteral("windows")] = qint64(windows);
    o[QStringLiteral("uncertain_share")] = uncertainShare;
    o[QStringLiteral("mean_top_score")] = meanTopScore;
    QJsonArray classes;
    for (int c = 0; c < labels.size(); ++c)
        classes.append(QJsonObject{{QStringLiteral("label"), labels[c]},
                                   {QStringLiteral("device_share"), deviceClassShare.value(c)},
                                   {QStringLiteral("train_share"), trainClassShare.value(c)}});
    o[QStringLiteral("classes")] = classes;
    o[QStringLiteral("class_psi")] = classPsi;
    QJsonArray features;
    for (int k = 0; k < featurePsi.size(); ++k)
        features.append(QJsonObject{{QStringLiteral("element"), featureElements.value(k)},
                                    {QStringLiteral("psi"), featurePsi[k]},
                                    {QStringLiteral("device_mean"), deviceMean.value(k)},
                                    {QStringLiteral("device_std"), deviceStd.value(k)},
                                    {QStringLiteral("train_mean"), trainMean.value(k)},
                                    {QStringLiteral("train_std"), trainStd.value(k)}});
    o[QStringLiteral("features")] = features;
    o[QStringLiteral("max_feature_psi")] = maxFeaturePsi;
    o[QStringLiteral("max_feature_element")] = maxFeatureElement;
    o[QStringLiteral("mean_feature_psi")] = meanFeaturePsi;
    if (hasAnomalyPsi)
        o[QStringLiteral("anomaly_psi")] = anomalyPsi;
    o[QStringLiteral("psi")] = psi;
    o[QStringLiteral("level")] = level();
    o[QStringLiteral("significant")] = significant();
    return o;
}

std::optional<ModelInputs> modelInputs(ProjectStore &store, qint64 modelId, Split split, QString *error)
{
    using R = ModelInputs;
    QString e;
    auto stored = store.model(modelId, &e);
    if (!stored)
        return fail<R>(error, e);
    if (stored->kind != ModelKind::Int8)
        return fail<R>(error, tr("model %1 (%2) is not an int8 model").arg(modelId).arg(stored->name));
    auto graph = model::Graph::deserialize(stored->graph, &e);
    if (!graph)
        return fail<R>(error, tr("model %1: %2").arg(modelId).arg(e));
    model::Int8Executor exec;
    if (!exec.prepare(*graph, &e))
        return fail<R>(error, tr("model %1: %2").arg(modelId).arg(e));
    const model::Graph &g = exec.graph();

    // the features the model was trained on, normalised with its own statistics (as the Profiler)
    features::FeatureParams params = features::featureParams(store.settings());
    const QJsonObject fp = g.meta.value(QStringLiteral("features")).toObject();
    if (!fp.isEmpty()) {
        auto p = features::FeatureParams::fromJson(fp, &e);
        if (!p)
            return fail<R>(error, tr("model %1: feature parameters: %2").arg(modelId).arg(e));
        params = *p;
    }
    QVector<float> normMean, normStd;
    const QJsonObject norm = g.meta.value(QStringLiteral("input_normalization")).toObject();
    for (const QJsonValue &v : norm.value(QStringLiteral("mean")).toArray())
        normMean.append(float(v.toDouble()));
    for (const QJsonValue &v : norm.value(QStringLiteral("std")).toArray())
        normStd.append(float(v.toDouble()));
    auto all = features::computeFeatures(store, params, {}, &e);
    if (!all)
        return fail<R>(error, e);
    const features::FeatureSet rows = all->subset(split);
    const int n = int(rows.featureSize());
    const int inCount = int(g.tensors[g.inputIndex()].elementCount());
    if (rows.size() > 0 && n != inCount)
        return fail<R>(error, tr("the %1 split's features have %2 values, model %3 takes %4: the features "
                                 "changed since it was trained").arg(splitName(split)).arg(n).arg(modelId).arg(inCount));
    const bool normalise = normMean.size() == n && normStd.size() == n;
    R out;
    out.inputCount = inCount;
    const bool oneOutput = g.tensors[g.outputIndex()].elementCount() == 1;
    out.labels = g.labels.isEmpty() ? rows.labelNames : g.labels;
    for (int i = 0; i < rows.size(); ++i) {
        QVector<float> x = rows.rowVector(i);
        if (normalise)
            for (int k = 0; k < n; ++k)
                x[k] = (x[k] - normMean[k]) / normStd[k];
        const QVector<qint8> q = exec.quantizeInput(x);
        out.inputs.append(QByteArray(reinterpret_cast<const char *>(q.constData()), q.size()));
        if (oneOutput) {
            const auto y = exec.run(q, &e);
            if (!y || y->isEmpty())
                return fail<R>(error, tr("model %1 on the host: %2").arg(modelId).arg(e));
            out.scores.append(y->first());
        }
        out.classes.append(int(out.labels.indexOf(rows.labelNames.value(rows.labels.value(i)))));
    }
    return out;
}

std::optional<DriftReference> driftReference(ProjectStore &store, qint64 modelId, int stride, QString *error)
{
    using R = DriftReference;
    if (stride < 1)
        return fail<R>(error, tr("feature stride %1: must be at least 1").arg(stride));
    auto train = modelInputs(store, modelId, Split::Train, error);
    if (!train)
        return std::nullopt;
    if (train->inputs.isEmpty())
        return fail<R>(error, tr("the project has no training samples to compare the board with"));
    R ref;
    ref.modelId = modelId;
    ref.inputCount = train->inputCount;
    ref.stride = stride;
    for (int k = 0; k * stride < ref.inputCount; ++k)
        ref.elements.append(k * stride);
    ref.labels = train->labels;
    ref.classShare = QVector<double>(ref.labels.size(), 0.0);
    const int nf = int(ref.elements.size());
    QVector<double> sum(nf, 0.0), sumSq(nf, 0.0);
    int labelled = 0;
    for (int i = 0; i < train->inputs.size(); ++i) {
        const QByteArray &q = train->inputs[i];
        for (int f = 0; f < nf; ++f) {
            const double v = qint8(q[ref.elements[f]]);
            sum[f] += v;
            sumSq[f] += v * v;
        }
        const int c = train->classes[i];
        if (c >= 0) {
            ref.classShare[c] += 1.0;
            ++labelled;
        }
    }
    ref.rows = int(train->inputs.size());
    if (!train->scores.isEmpty()) {
        ref.anomalyShare = QVector<double>(int(TM_TELEMETRY_ANOMALY_BINS), 0.0);
        for (qint8 score : train->scores)
            ref.anomalyShare[(int(score) + 128) >> 4] += 1.0 / train->scores.size();
    }
    for (double &s : ref.classShare)
        s = labelled ? s / labelled : 0.0;
    for (int f = 0; f < nf; ++f) {
        const double m = sum[f] / ref.rows;
        ref.mean.append(m);
        ref.std.append(std::sqrt(std::max(0.0, sumSq[f] / ref.rows - m * m)));
    }
    return ref;
}

std::optional<DriftReport> compareDrift(const DriftReference &ref, const TelemetrySummary &t, QString *error)
{
    using R = DriftReport;
    if (int(t.inputCount) != ref.inputCount)
        return fail<R>(error, tr("the board's model takes %1 input values, model %2 takes %3: the board runs another "
                                 "model").arg(t.inputCount).arg(ref.modelId).arg(ref.inputCount));
    if (t.featureStride != ref.stride || t.featureSum.size() != ref.elements.size())
        return fail<R>(error, tr("the board summarises %1 features of stride %2, the reference %3 of stride %4")
                                  .arg(t.featureSum.size()).arg(t.featureStride).arg(ref.elements.size()).arg(ref.stride));
    if (t.classHistogram.size() != std::min(int(ref.labels.size()), int(TM_TELEMETRY_MAX_CLASSES)))
        return fail<R>(error, tr("the board counts %1 classes, model %2 has %3: the board runs another model")
                                  .arg(t.classHistogram.size()).arg(ref.modelId).arg(ref.labels.size()));
    R r;
    r.modelId = ref.modelId;
    r.source = t.source;
    r.packageCrc = t.packageCrc;
    r.windows = t.windows;
    r.uncertainShare = t.uncertainShare();
    r.meanTopScore = t.meanTopScore();
    r.labels = ref.labels;
    r.trainClassShare = ref.classShare;
    r.featureElements = ref.elements;
    r.trainMean = ref.mean;
    r.trainStd = ref.std;
    if (t.windows == 0)
        return r;
    const double w = t.windows;
    for (int c = 0; c < ref.labels.size(); ++c)
        r.deviceClassShare.append(c < t.classHistogram.size() ? t.classHistogram[c] / w : 0.0);
    r.classPsi = populationStabilityIndex(r.trainClassShare, r.deviceClassShare);
    double total = 0.0;
    for (int f = 0; f < t.featureSum.size(); ++f) {
        const double m = double(t.featureSum[f]) / w;
        const double s = std::sqrt(std::max(0.0, double(t.featureSumSq[f]) / w - m * m));
        r.deviceMean.append(m);
        r.deviceStd.append(s);
        const double p = normalPsi(ref.mean[f], ref.std[f], m, s);
        r.featurePsi.append(p);
        total += p;
        if (r.maxFeatureElement < 0 || p > r.maxFeaturePsi) {
            r.maxFeaturePsi = p;
            r.maxFeatureElement = ref.elements[f];
        }
    }
    r.meanFeaturePsi = r.featurePsi.isEmpty() ? 0.0 : total / r.featurePsi.size();
    r.psi = std::max(r.classPsi, r.maxFeaturePsi);
    if (t.anomaly && ref.anomalyShare.size() == t.anomalyHistogram.size()) {
        QVector<double> device;
        for (quint32 n : t.anomalyHistogram)
            device.append(n / w);
        r.anomalyPsi = populationStabilityIndex(ref.anomalyShare, device);
        r.hasAnomalyPsi = true;
        r.psi = std::max(r.psi, r.anomalyPsi);
    }
    return r;
}

std::optional<DriftReport> readDrift(AgentLink *link, ProjectStore &store, qint64 modelId, bool reset,
                                     QString *error, std::optional<TelemetrySummary::Source> source)
{
    using R = DriftReport;
    if (!link)
        return fail<R>(error, tr("no board connected"));
    std::optional<TelemetrySummary> t;
    if (source) {
        t = link->telemetry(reset, error, *source);
    } else {
        t = link->telemetry(reset, error, TelemetrySummary::kClassify);
        if (t && t->windows == 0)
            t = link->telemetry(reset, error, TelemetrySummary::kInvoke);
    }
    if (!t)
        return std::nullopt;
    if (t->packageCrc == 0)
        return fail<R>(error, tr("%1 has no model running: nothing to compare").arg(link->deviceId()));
    auto ref = driftReference(store, modelId, qMax(1, t->featureStride), error);
    if (!ref)
        return std::nullopt;
    return compareDrift(*ref, *t, error);
}

} // namespace tinyml::deploy::fleet
