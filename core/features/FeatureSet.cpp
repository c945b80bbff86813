#include "features/FeatureSet.h"

#include "features/FeatureExtractor.h"

#include <QSet>

#include <algorithm>
#include <cmath>

namespace tinyml::features {
namespace {

bool fail(QString *error, const QString &message)
{
    if (error)
        *error = message;
    return false;
}

QString shapeText(const QVector<qint64> &shape)
{
    QStringList parts;
    for (qint64 d : shape)
        parts.append(QString::number(d));
    return QStringLiteral("[%1]").arg(parts.join(QLatin1Char(',')));
}

// Rows are written to the cache in batches: one transaction per sample would dominate the
// time for small feature blocks, one for everything would lose all work on a cancel.
constexpr int kCacheBatch = 64;

} // namespace

qint64 FeatureSet::featureSize() const
{
    if (featureShape.isEmpty())
        return 0;
    qint64 n = 1;
    for (qint64 d : featureShape)
        n *= d;
    return n;
}

QVector<float> FeatureSet::rowVector(int i) const
{
    const qint64 n = featureSize();
    return QVector<float>(row(i), row(i) + n);
}

Tensor FeatureSet::rowTensor(int i) const
{
    return Tensor::fromFloats(rowVector(i), featureShape);
}

FeatureSet FeatureSet::subset(Split split) const
{
    FeatureSet out;
    out.params = params;
    out.paramsHash = paramsHash;
    out.featureShape = featureShape;
    out.labelNames = labelNames;
    const qint64 n = featureSize();
    for (int i = 0; i < size(); ++i) {
        if (splits[i] != split)
            continue;
        out.values.append(QVector<float>(row(i), row(i) + n));
        out.labels.append(labels[i]);
        out.sampleIds.append(sampleIds[i]);
        out.splits.append(splits[i]);
    }
    return out;
}

void FeatureSet::featureStats(QVector<float> *mean, QVector<float> *std) const
{
    const qint64 n = featureSize();
    QVector<double> sum(n, 0.0), sumSq(n, 0.0);
    for (int i = 0; i < size(); ++i) {
        const float *r = row(i);
        for (qint64 k = 0; k < n; ++k) {
            sum[k] += r[k];
            sumSq[k] += double(r[k]) * r[k];
        }
    }
    if (mean)
        mean->resize(n);
    if (std)
        std->resize(n);
    for (qint64 k = 0; k < n; ++k) {
        const double m = size() > 0 ? sum[k] / size() : 0.0;
        const double var = size() > 0 ? std::max(0.0, sumSq[k] / size() - m * m) : 0.0;
        const double s = std::sqrt(var);
        if (mean)
            (*mean)[k] = float(m);
        if (std)
            (*std)[k] = s > 1e-12 ? float(s) : 1.0f;
    }
}

namespace {

/// The block's feature window in frames; 0 when it takes each sample whole (or is an image).
qint64 windowFramesOf(const FeatureParams &p)
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

/// The channel count most samples have (ties: the one the earliest sample has); 0 if none.
int usualChannelCount(const QVector<SampleInfo> &infos)
{
    QHash<int, int> votes;
    for (const SampleInfo &i : infos)
        if (!i.channels.isEmpty())
            ++votes[int(i.channels.size())];
    int best = 0, bestVotes = 0;
    for (const SampleInfo &i : infos) {
        const int c = int(i.channels.size());
        if (c > 0 && votes.value(c) > bestVotes) {
            best = c;
            bestVotes = votes.value(c);
        }
    }
    return best;
}

/// "frame F, channel C" of the first non-finite value of float data; empty when all are finite.
QString firstNonFinite(const Tensor &t)
{
    if (t.dtype != DType::Float32 || !t.isConsistent())
        return {};
    const float *v = t.floatData();
    const qint64 n = t.elementCount();
    const qint64 row = t.shape.size() >= 2 ? t.shape.last() : 1;
    for (qint64 k = 0; k < n; ++k)
        if (!std::isfinite(v[k]))
            return QStringLiteral("frame %1, channel %2").arg(k / row).arg(k % row);
    return {};
}

} // namespace

std::optional<FeatureSet> computeFeatures(ProjectStore &store, const FeatureParams &params,
                                          const FeatureProgress &progress, QString *error)
{
    FeatureSet set;
    set.params = params;
    set.paramsHash = params.hash();

    const QVector<SampleInfo> all = store.sampleInfos();
    auto skip = [&](qint64 id, const QString &reason) { set.skipped.append({id, reason}); };

    // What can be judged from the list alone, before any data is read.
    QVector<SampleInfo> infos;
    for (const SampleInfo &i : all) {
        if (i.checksum.isEmpty()) // no checksum yet: its data is not final
            skip(i.id, QStringLiteral("still being recorded, or left half-saved (%1 frames so far)").arg(i.frames));
        else if (!i.complete)
            skip(i.id, QStringLiteral("incomplete: its capture was cut off after %1 frames").arg(i.frames));
        else
            infos.append(i);
    }
    const bool timeSeries = params.kind != BlockKind::Image;
    const int channels = timeSeries ? usualChannelCount(infos) : 0;
    const qint64 window = windowFramesOf(params);
    infos.erase(std::remove_if(infos.begin(), infos.end(), [&](const SampleInfo &i) {
                    const int c = int(i.channels.size());
                    if (channels > 0 && c > 0 && c != channels) {
                        skip(i.id, QStringLiteral("has %1 channel(s), the project's samples have %2")
                                       .arg(c).arg(channels));
                        return true;
                    }
                    if (timeSeries && window > 0 && i.frames < (window + 1) / 2) {
                        skip(i.id, QStringLiteral("too short: %1 frames, less than half the feature window "
                                                  "of %2 frames").arg(i.frames).arg(window));
                        return true;
                    }
                    return false;
                }),
                infos.end());

    const ProjectSettings settings = store.settings();
    set.labelNames = settings.labels;
    QStringList others;
    for (const SampleInfo &i : infos)
        if (!set.labelNames.contains(i.label) && !others.contains(i.label))
            others.append(i.label);
    std::sort(others.begin(), others.end());
    set.labelNames += others;

    if (!store.removeFeaturesExcept(set.paramsHash, error))
        return std::nullopt;
    const QHash<qint64, CachedFeature> cache = store.cachedFeatures(set.paramsHash);

    FeatureExtractor extractor(params);
    QVector<CachedFeature> pending;
    auto flush = [&]() {
        if (pending.isEmpty())
            return true;
        const bool ok = store.storeFeatures(pending, error);
        pending.clear();
        return ok;
    };

    const int total = infos.size();
    for (int n = 0; n < total; ++n) {
        const SampleInfo &info = infos[n];
        if (progress && n > 0 && !progress(n, total)) {
            flush();   // keep what was computed
            fail(error, QStringLiteral("cancelled"));
            return std::nullopt;
        }
        Tensor features;
        const auto hit = cache.constFind(info.id);
        if (hit != cache.constEnd() && hit->sampleChecksum == info.checksum && hit->data.dtype == DType::Float32) {
            features = hit->data;
        } else {
            QString why;
            const auto sample = store.sample(info.id, &why);
            if (!sample) {
                flush();
                fail(error, why);
                return std::nullopt;
            }
            const QString nonFinite = firstNonFinite(sample->data);
            if (!nonFinite.isEmpty()) {
                skip(info.id, QStringLiteral("contains NaN or infinity (%1)").arg(nonFinite));
                continue;
            }
            auto extracted = extractor.extract(*sample, &why);
            if (!extracted) {
                skip(info.id, why);
                continue;
            }
            if (!firstNonFinite(*extracted).isEmpty()) {
                skip(info.id, QStringLiteral("its features are not finite"));
                continue;
            }
            features = *extracted;
            CachedFeature row;
            row.sampleId = info.id;
            row.paramsHash = set.paramsHash;
            row.sampleChecksum = info.checksum;
            row.data = features;
            pending.append(row);
            ++set.computed;
            if (pending.size() >= kCacheBatch && !flush())
                return std::nullopt;
        }
        if (set.featureShape.isEmpty()) {
            set.featureShape = features.shape;
            set.values.reserve(qsizetype(total * set.featureSize()));
        } else if (features.shape != set.featureShape) {
            skip(info.id, QStringLiteral("gives features of shape %1, the first sample %2")
                              .arg(shapeText(features.shape), shapeText(set.featureShape)));
            continue;
        }
        const float *f = features.floatData();
        set.values.append(QVector<float>(f, f + features.elementCount()));
        set.labels.append(int(set.labelNames.indexOf(info.label)));
        set.sampleIds.append(info.id);
        set.splits.append(info.split);
    }
    if (progress && total > 0 && !progress(total, total)) {
        flush();
        fail(error, QStringLiteral("cancelled"));
        return std::nullopt;
    }
    if (!flush())
        return std::nullopt;
    std::sort(set.skipped.begin(), set.skipped.end(),
              [](const FeatureSet::Skipped &a, const FeatureSet::Skipped &b) { return a.sampleId < b.sampleId; });
    return set;
}

// --- PCA ---------------------------------------------------------------------------------------

namespace {

/// y = C v for the covariance C of the centred rows, without forming C: X^T (X v) / (n - 1).
QVector<double> covarianceTimes(const QVector<float> &values, const QVector<double> &mean, int rows, int dims,
                                const QVector<double> &v)
{
    QVector<double> y(dims, 0.0);
    for (int r = 0; r < rows; ++r) {
        const float *x = values.constData() + qint64(r) * dims;
        double dot = 0;
        for (int k = 0; k < dims; ++k)
            dot += (x[k] - mean[k]) * v[k];
        for (int k = 0; k < dims; ++k)
            y[k] += dot * (x[k] - mean[k]);
    }
    const double denom = rows > 1 ? rows - 1 : 1;
    for (double &e : y)
        e /= denom;
    return y;
}

double dot(const QVector<double> &a, const QVector<double> &b)
{
    double s = 0;
    for (int k = 0; k < a.size(); ++k)
        s += a[k] * b[k];
    return s;
}

bool normalise(QVector<double> &v)
{
    const double n = std::sqrt(dot(v, v));
    if (!(n > 1e-300))
        return false;
    for (double &e : v)
        e /= n;
    return true;
}

void removeComponent(QVector<double> &v, const QVector<double> &axis)
{
    if (axis.isEmpty())
        return;
    const double d = dot(v, axis);
    for (int k = 0; k < v.size(); ++k)
        v[k] -= d * axis[k];
}

/// Leading eigenvector of C restricted to the complement of `exclude`; eigenvalue out.
QVector<double> powerIteration(const QVector<float> &values, const QVector<double> &mean, int rows, int dims,
                               const QVector<double> &exclude, double *eigenvalue)
{
    // Fixed, irregular start vector: deterministic, and unlikely to be orthogonal to the answer.
    QVector<double> v(dims);
    for (int k = 0; k < dims; ++k)
        v[k] = 1.0 + double((k * 7919) % 101) / 101.0;
    removeComponent(v, exclude);
    *eigenvalue = 0;
    if (!normalise(v))
        return QVector<double>(dims, 0.0);
    for (int it = 0; it < 500; ++it) {
        QVector<double> w = covarianceTimes(values, mean, rows, dims, v);
        removeComponent(w, exclude);
        const double lambda = dot(w, v);
        if (!normalise(w)) {
            *eigenvalue = 0;
            return v;   // no variance left in this subspace: any unit vector will do
        }
        const double change = 1.0 - std::fabs(dot(w, v));
        v = w;
        *eigenvalue = lambda;
        if (change < 1e-13)
            break;
    }
    // Sign convention: the largest-magnitude component is positive.
    int arg = 0;
    for (int k = 1; k < dims; ++k)
        if (std::fabs(v[k]) > std::fabs(v[arg]))
            arg = k;
    if (v[arg] < 0)
        for (double &e : v)
            e = -e;
    return v;
}

} // namespace

Projection2D projectPca2D(const QVector<float> &values, int rows, int dims)
{
    Projection2D out;
    if (rows <= 0 || dims <= 0 || values.size() < qint64(rows) * dims)
        return out;
    out.mean = QVector<double>(dims, 0.0);
    for (int r = 0; r < rows; ++r)
        for (int k = 0; k < dims; ++k)
            out.mean[k] += values[qint64(r) * dims + k];
    for (double &m : out.mean)
        m /= rows;
    out.axis1 = powerIteration(values, out.mean, rows, dims, {}, &out.explained1);
    if (dims > 1)
        out.axis2 = powerIteration(values, out.mean, rows, dims, out.axis1, &out.explained2);
    else
        out.axis2 = QVector<double>(dims, 0.0);
    out.points.resize(rows);
    for (int r = 0; r < rows; ++r) {
        const float *x = values.constData() + qint64(r) * dims;
        double a = 0, b = 0;
        for (int k = 0; k < dims; ++k) {
            const double c = x[k] - out.mean[k];
            a += c * out.axis1[k];
            b += c * out.axis2[k];
        }
        out.points[r] = {a, b};
    }
    return out;
}

} // namespace tinyml::features
