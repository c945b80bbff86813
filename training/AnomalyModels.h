#pragma once
// Anomaly models fitted on normal data only, in plain C++ (no torch): K-means (k-means++
// initialisation, Lloyd iterations) and a diagonal Gaussian mixture (EM, initialised from
// K-means), and their model IR graphs (KMeansScore, GmmScore; see model/Graph.h). The
// autoencoder lives in AutoencoderTrainer.h (libtorch).
//
// Data: `x` holds n rows of d floats (row-major), already standardised. Deterministic: the same
// data, K and seed give the same model.

#include "model/Graph.h"

#include <QVector>

#include <cstdint>
#include <optional>

namespace tinyml::training {

struct KMeansModel {
    int k = 0, d = 0;
    QVector<double> centroids;      ///< k x d
    double inertia = 0;             ///< sum over rows of the squared distance to the nearest centroid
    int iterations = 0;
    /// Squared distance to the nearest centroid (the KMeansScore op's value).
    double score(const float *row) const;
};

/// k-means++ seeding then Lloyd iterations until no assignment changes (or maxIterations). An
/// empty cluster is re-seeded with the row farthest from its centroid. Requires 1 <= k <= n.
std::optional<KMeansModel> fitKMeans(const QVector<float> &x, int n, int d, int k, std::uint64_t seed,
                                     int maxIterations = 300, QString *error = nullptr);

/// K for K-means by the elbow rule: K-means for K = 1..maxK (capped at n); the smallest K whose
/// next cluster lowers the inertia by less than 20 % of the current inertia. Fills inertias
/// (index K-1) when given.
int chooseKMeansClusters(const QVector<float> &x, int n, int d, int maxK, std::uint64_t seed,
                         QVector<double> *inertias = nullptr);

struct GmmModel {
    int k = 0, d = 0;
    QVector<double> weights;        ///< pi_k, sum 1
    QVector<double> means;          ///< k x d
    QVector<double> variances;      ///< k x d, each >= the variance floor
    QVector<double> logLikelihoods; ///< mean log-likelihood per row after each EM step (the first entry: at the initialisation)
    int iterations = 0;

    /// -ln sum_k pi_k N_k(x), computed stably (log-sum-exp).
    double exactNll(const float *row) const;
    /// -ln max_k pi_k N_k(x) = min_k (offset_k + 1/2 sum_d (x_d - mu_kd)^2 / var_kd): the GmmScore
    /// op's value; exactNll <= hardNll <= exactNll + ln K.
    double hardNll(const float *row) const;
    /// offset_k = -ln pi_k + 1/2 sum_d ln(2 pi var_kd).
    QVector<double> offsets() const;
    /// Free parameters of a diagonal mixture: K (2D) + K - 1.
    int parameterCount() const { return k * 2 * d + k - 1; }
};

/// Diagonal-covariance EM from a K-means start. Variances are floored at varianceFloor (in the
/// units of the standardised data) so that a component cannot collapse onto a few rows; the
/// floored M-step still maximises the likelihood under that constraint, so each step's mean
/// log-likelihood is not lower than the previous one. Stops when it improves by less than
/// tolerance per row, or after maxIterations. Components whose weight falls to 0 are dropped.
std::optional<GmmModel> fitGmm(const QVector<float> &x, int n, int d, int k, std::uint64_t seed,
                               double varianceFloor = 1e-3, int maxIterations = 200,
                               double tolerance = 1e-6, QString *error = nullptr);

/// K for the mixture by BIC = -2 ln L + p ln n over K = 1..maxK (capped so that n >= 2K);
/// the lowest wins. Fills bics (index K-1) when given.
int chooseGmmComponents(const QVector<float> &x, int n, int d, int maxK, std::uint64_t seed,
                        QVector<double> *bics = nullptr);

/// Graph input [1, d] -> KMeansScore -> "anomaly_score" [1,1]; labels {"anomaly_score"}.
model::Graph kmeansGraph(const KMeansModel &m);
/// Graph input [1, d] -> GmmScore (means, 1/var, offsets) -> "anomaly_score" [1,1].
model::Graph gmmGraph(const GmmModel &m);

} // namespace tinyml::training
