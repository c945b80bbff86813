#include "AnomalyModels.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

namespace tinyml::training {

namespace {

constexpr double kLog2Pi = 1.8378770664093453;   // ln(2 pi)

bool fail(QString *error, const QString &message)
{
    if (error)
        *error = message;
    return false;
}

double squaredDistance(const float *row, const double *c, int d)
{
    double acc = 0;
    for (int j = 0; j < d; ++j) {
        const double diff = double(row[j]) - c[j];
        acc += diff * diff;
    }
    return acc;
}

/// Index of the nearest centroid and its squared distance.
std::pair<int, double> nearest(const KMeansModel &m, const float *row)
{
    int best = 0;
    double bestD = std::numeric_limits<double>::infinity();
    for (int c = 0; c < m.k; ++c) {
        const double dist = squaredDistance(row, m.centroids.constData() + qint64(c) * m.d, m.d);
        if (dist < bestD) {
            bestD = dist;
            best = c;
        }
    }
    return {best, bestD};
}

/// ln(pi_k N_k(row)) for every component.
void componentLogDensities(const GmmModel &m, const float *row, double *out)
{
    for (int c = 0; c < m.k; ++c) {
        const double *mu = m.means.constData() + qint64(c) * m.d;
        const double *var = m.variances.constData() + qint64(c) * m.d;
        double acc = 0;
        for (int j = 0; j < m.d; ++j) {
            const double diff = double(row[j]) - mu[j];
            acc += kLog2Pi + std::log(var[j]) + diff * diff / var[j];
        }
        out[c] = (m.weights[c] > 0 ? std::log(m.weights[c]) : -std::numeric_limits<double>::infinity()) - 0.5 * acc;
    }
}

double logSumExp(const double *v, int n)
{
    const double mx = *std::max_element(v, v + n);
    if (!std::isfinite(mx))
        return mx;
    double s = 0;
    for (int i = 0; i < n; ++i)
        s += std::exp(v[i] - mx);
    return mx + std::log(s);
}

model::Graph scoreGraph(int d, const QString &kind)
{
    using namespace model;
    Graph g;
    g.inputs = {g.addTensor(TensorDesc::activation(QStringLiteral("input"), {1, d}))};
    g.labels = {QStringLiteral("anomaly_score")};
    g.meta.insert(QStringLiteral("model_kind"), kind);
    return g;
}

QVector<float> toFloats(const QVector<double> &v)
{
    QVector<float> out(v.size());
    for (int i = 0; i < v.size(); ++i)
        out[i] = float(v[i]);
    return out;
}

} // namespace

double KMeansModel::score(const float *row) const
{
    return nearest(*this, row).second;
}

std::optional<KMeansModel> fitKMeans(const QVector<float> &x, int n, int d, int k, std::uint64_t seed,
                                     int maxIterations, QString *error)
{
    if (n < 1 || d < 1 || x.size() != qint64(n) * d) {
        fail(error, QStringLiteral("K-means: %1 values are not %2 rows of %3").arg(x.size()).arg(n).arg(d));
        return std::nullopt;
    }
    if (k < 1 || k > n) {
        fail(error, QStringLiteral("K-means: %1 clusters need at least as many samples (have %2)").arg(k).arg(n));
        return std::nullopt;
    }
    KMeansModel m;
    m.k = k;
    m.d = d;
    m.centroids.resize(qint64(k) * d);
    auto row = [&](int i) { return x.constData() + qint64(i) * d; };
    auto setCentroid = [&](int c, int i) {
        for (int j = 0; j < d; ++j)
            m.centroids[qint64(c) * d + j] = row(i)[j];
    };

    // k-means++: each next seed drawn with probability proportional to its squared distance to
    // the seeds so far.
    std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ULL + 11);
    setCentroid(0, int(std::uniform_int_distribution<int>(0, n - 1)(rng)));
    QVector<double> dist(n);
    for (int i = 0; i < n; ++i)
        dist[i] = squaredDistance(row(i), m.centroids.constData(), d);
    for (int c = 1; c < k; ++c) {
        double total = 0;
        for (double v : dist)
            total += v;
        int pick = 0;
        if (total > 0) {
            double u = std::uniform_real_distribution<double>(0, total)(rng);
            for (pick = 0; pick < n - 1; ++pick) {
                u -= dist[pick];
                if (u < 0)
                    break;
            }
        } else {
            pick = int(std::uniform_int_distribution<int>(0, n - 1)(rng));
        }
        setCentroid(c, pick);
        for (int i = 0; i < n; ++i)
            dist[i] = std::min(dist[i], squaredDistance(row(i), m.centroids.constData() + qint64(c) * d, d));
    }

    // Lloyd.
    QVector<int> assign(n, -1);
    for (int it = 0; it < maxIterations; ++it) {
        bool changed = false;
        for (int i = 0; i < n; ++i) {
            const auto [c, dd] = nearest(m, row(i));
            dist[i] = dd;
            if (c != assign[i]) {
                assign[i] = c;
                changed = true;
            }
        }
        m.iterations = it + 1;
        if (!changed && it > 0)
            break;
        QVector<double> sum(qint64(k) * d, 0.0);
        QVector<int> count(k, 0);
        for (int i = 0; i < n; ++i) {
            ++count[assign[i]];
            for (int j = 0; j < d; ++j)
                sum[qint64(assign[i]) * d + j] += row(i)[j];
        }
        for (int c = 0; c < k; ++c) {
            if (count[c] == 0) {
                // Re-seed an empty cluster with the row worst served by its centroid.
                const int far = int(std::max_element(dist.begin(), dist.end()) - dist.begin());
                setCentroid(c, far);
                dist[far] = 0;
                continue;
            }
            for (int j = 0; j < d; ++j)
                m.centroids[qint64(c) * d + j] = sum[qint64(c) * d + j] / count[c];
        }
    }
    m.inertia = 0;
    for (int i = 0; i < n; ++i)
        m.inertia += m.score(row(i));
    return m;
}

int chooseKMeansClusters(const QVector<float> &x, int n, int d, int maxK, std::uint64_t seed,
                         QVector<double> *inertias)
{
    const int top = std::max(1, std::min(maxK, n));
    QVector<double> in;
    for (int k = 1; k <= top; ++k) {
        auto m = fitKMeans(x, n, d, k, seed);
        in.append(m ? m->inertia : 0.0);
    }
    if (inertias)
        *inertias = in;
    for (int k = 1; k < top; ++k)
        if (in[k - 1] <= 0 || in[k - 1] - in[k] < 0.2 * in[k - 1])
            return k;
    return top;
}

double GmmModel::exactNll(const float *row) const
{
    QVector<double> lp(k);
    componentLogDensities(*this, row, lp.data());
    return -logSumExp(lp.constData(), k);
}

double GmmModel::hardNll(const float *row) const
{
    QVector<double> lp(k);
    componentLogDensities(*this, row, lp.data());
    return -*std::max_element(lp.constBegin(), lp.constEnd());
}

QVector<double> GmmModel::offsets() const
{
    QVector<double> o(k);
    for (int c = 0; c < k; ++c) {
        double acc = 0;
        for (int j = 0; j < d; ++j)
            acc += kLog2Pi + std::log(variances[qint64(c) * d + j]);
        o[c] = -std::log(weights[c]) + 0.5 * acc;
    }
    return o;
}

std::optional<GmmModel> fitGmm(const QVector<float> &x, int n, int d, int k, std::uint64_t seed,
                               double varianceFloor, int maxIterations, double tolerance, QString *error)
{
    if (!(varianceFloor > 0)) {
        fail(error, QStringLiteral("GMM: the variance floor must be positive"));
        return std::nullopt;
    }
    auto km = fitKMeans(x, n, d, k, seed, 300, error);
    if (!km)
        return std::nullopt;
    auto row = [&](int i) { return x.constData() + qint64(i) * d; };
    GmmModel m;
    m.k = k;
    m.d = d;
    m.weights = QVector<double>(k, 0.0);
    m.means = km->centroids;
    m.variances = QVector<double>(qint64(k) * d, 0.0);
    // Start: hard K-means assignments, their fractions and within-cluster variances.
    QVector<int> count(k, 0);
    for (int i = 0; i < n; ++i) {
        const int c = nearest(*km, row(i)).first;
        ++count[c];
        for (int j = 0; j < d; ++j) {
            const double diff = double(row(i)[j]) - m.means[qint64(c) * d + j];
            m.variances[qint64(c) * d + j] += diff * diff;
        }
    }
    for (int c = 0; c < k; ++c) {
        m.weights[c] = double(count[c]) / n;
        for (int j = 0; j < d; ++j) {
            double &v = m.variances[qint64(c) * d + j];
            v = std::max(varianceFloor, count[c] ? v / count[c] : 1.0);
        }
    }

    QVector<double> resp(qint64(n) * k);
    auto eStep = [&]() {
        double ll = 0;
        for (int i = 0; i < n; ++i) {
            double *r = resp.data() + qint64(i) * k;
            componentLogDensities(m, row(i), r);
            const double lse = logSumExp(r, k);
            ll += lse;
            for (int c = 0; c < k; ++c)
                r[c] = std::exp(r[c] - lse);
        }
        return ll / n;
    };
    m.logLikelihoods.append(eStep());
    for (int it = 0; it < maxIterations; ++it) {
        for (int c = 0; c < k; ++c) {
            double nk = 0;
            QVector<double> mu(d, 0.0), var(d, 0.0);
            for (int i = 0; i < n; ++i) {
                const double r = resp[qint64(i) * k + c];
                nk += r;
                for (int j = 0; j < d; ++j)
                    mu[j] += r * row(i)[j];
            }
            m.weights[c] = nk / n;
            if (!(nk > 0))
                continue;   // an empty component keeps its shape; its weight 0 takes it out
            for (int j = 0; j < d; ++j)
                mu[j] /= nk;
            for (int i = 0; i < n; ++i) {
                const double r = resp[qint64(i) * k + c];
                for (int j = 0; j < d; ++j) {
                    const double diff = double(row(i)[j]) - mu[j];
                    var[j] += r * diff * diff;
                }
            }
            for (int j = 0; j < d; ++j) {
                m.means[qint64(c) * d + j] = mu[j];
                m.variances[qint64(c) * d + j] = std::max(varianceFloor, var[j] / nk);
            }
        }
        const double ll = eStep();
        m.logLikelihoods.append(ll);
        m.iterations = it + 1;
        if (ll - m.logLikelihoods[m.logLikelihoods.size() - 2] < tolerance)
            break;
    }

    // Drop components nothing belongs to: their offset would be infinite.
    GmmModel kept = m;
    kept.k = 0;
    kept.weights.clear();
    kept.means.clear();
    kept.variances.clear();
    double total = 0;
    for (int c = 0; c < k; ++c)
        if (m.weights[c] > 1e-12)
            total += m.weights[c];
    for (int c = 0; c < k; ++c) {
        if (!(m.weights[c] > 1e-12))
            continue;
        ++kept.k;
        kept.weights.append(m.weights[c] / total);
        kept.means.append(m.means.mid(qint64(c) * d, d));
        kept.variances.append(m.variances.mid(qint64(c) * d, d));
    }
    return kept;
}

int chooseGmmComponents(const QVector<float> &x, int n, int d, int maxK, std::uint64_t seed, QVector<double> *bics)
{
    const int top = std::max(1, std::min(maxK, n / 2));
    int best = 1;
    double bestBic = std::numeric_limits<double>::infinity();
    QVector<double> all;
    for (int k = 1; k <= top; ++k) {
        auto m = fitGmm(x, n, d, k, seed);
        const double bic = m ? -2.0 * n * m->logLikelihoods.last() + m->parameterCount() * std::log(double(n))
                             : std::numeric_limits<double>::infinity();
        all.append(bic);
        if (bic < bestBic) {
            bestBic = bic;
            best = k;
        }
    }
    if (bics)
        *bics = all;
    return best;
}

model::Graph kmeansGraph(const KMeansModel &m)
{
    using namespace model;
    Graph g = scoreGraph(m.d, QStringLiteral("kmeans"));
    Node n;
    n.op = OpType::KMeansScore;
    n.name = QStringLiteral("kmeans_score");
    n.inputs = {g.inputs[0], g.addTensor(TensorDesc::constantFloat(QStringLiteral("centroids"), {m.k, m.d},
                                                                   toFloats(m.centroids)))};
    n.outputs = {g.addTensor(TensorDesc::activation(QStringLiteral("anomaly_score"), {1, 1}))};
    g.addNode(n);
    g.outputs = n.outputs;
    return g;
}

model::Graph gmmGraph(const GmmModel &m)
{
    using namespace model;
    Graph g = scoreGraph(m.d, QStringLiteral("gmm"));
    QVector<double> ivar(m.variances.size());
    for (int i = 0; i < ivar.size(); ++i)
        ivar[i] = 1.0 / m.variances[i];
    Node n;
    n.op = OpType::GmmScore;
    n.name = QStringLiteral("gmm_score");
    n.inputs = {g.inputs[0],
                g.addTensor(TensorDesc::constantFloat(QStringLiteral("means"), {m.k, m.d}, toFloats(m.means))),
                g.addTensor(TensorDesc::constantFloat(QStringLiteral("inverse_variances"), {m.k, m.d}, toFloats(ivar))),
                g.addTensor(TensorDesc::constantFloat(QStringLiteral("offsets"), {m.k}, toFloats(m.offsets())))};
    n.outputs = {g.addTensor(TensorDesc::activation(QStringLiteral("anomaly_score"), {1, 1}))};
    g.addNode(n);
    g.outputs = n.outputs;
    return g;
}

} // namespace tinyml::training
