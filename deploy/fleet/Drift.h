#pragma once
// Drift: compares a board's TELEMETRY summary (firmware-agent/PROTOCOL.md "Drift telemetry")
// with the model's training data. Raw sensor data never leaves the board: the board sends
// counts, sums and sums of squares; the host rebuilds the training side the same way (the
// training split's features, normalised with the model's statistics and quantized exactly as
// the Profiler does: Int8Executor::quantizeInput) and measures the shift.
//
// The measure is the population stability index,
//     PSI = sum over bins b of (a_b - e_b) * ln(a_b / e_b),
// e_b the training (expected) share of bin b, a_b the device (actual) share, both floored at
// 1e-4 so that an empty bin gives a large but finite term.
// - Class PSI: the bins are the model's classes; e_b the training labels' shares, a_b the
//   shares of the device's post-processed top class.
// - Anomaly-score PSI (one-output models): the board's 16-bin histogram of the int8 score
//   against the host int8 reference's scores of the training rows in the same bins.
// - Feature PSI: the board keeps only mean and variance per summarised input element, so each
//   side is approximated by a normal N(mean, std): the bins are the 10 equiprobable bins of
//   the training normal (edges at mean + std * z_i, z_i the standard normal deciles), e_b =
//   0.1, and a_b the probability the device normal gives each bin. Limits: two distributions
//   with equal mean and variance but different shapes (bimodal vs normal) give PSI 0, a
//   shift in skew or tails goes unseen; int8 inputs clip at -128/127, and a std below half a
//   quantization code is raised to 0.5 on both sides (a constant feature would otherwise make
//   any change infinite).
// Reading (an industry rule of thumb from credit-scoring practice, not a statistical law):
// PSI < 0.1 no significant shift, 0.1 to 0.25 moderate, > 0.25 significant. The overall
// number `psi` is the max of the class PSI, the largest feature PSI and the anomaly-score PSI.
//
// Threading: plain functions; readDrift() blocks on the link (its thread's event loop).

#include "device/AgentLink.h"
#include "data/Sample.h"
#include "device/AgentProtocol.h"

#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <QVector>

#include <optional>

namespace tinyml {
class ProjectStore;
}

namespace tinyml::deploy::fleet {

/// The training side of one model, with the board's feature sampling (stride).
struct DriftReference {
    qint64 modelId = 0;
    QStringList labels;              ///< the model's classes
    QVector<double> classShare;      ///< training labels' shares, per model class
    int inputCount = 0;              ///< int8 model-input elements
    int stride = 1;                  ///< summarised element k is input element k * stride
    QVector<int> elements;           ///< input element of each summarised feature
    QVector<double> mean, std;       ///< of the quantized int8 training inputs, per feature
    int rows = 0;                    ///< training rows used
    /// One-output (anomaly) models: training scores' shares in the board's 16 bins (q + 128) >> 4.
    QVector<double> anomalyShare;
};

/// PSI thresholds of the usual reading (see the header comment).
constexpr double kPsiModerate = 0.1;
constexpr double kPsiSignificant = 0.25;

struct DriftReport {
    qint64 modelId = 0;
    int source = TelemetrySummary::kClassify;
    quint32 packageCrc = 0;          ///< what the board runs (TELEMETRY)
    quint32 windows = 0;
    double uncertainShare = 0.0;
    double meanTopScore = 0.0;
    QStringList labels;
    QVector<double> deviceClassShare, trainClassShare;
    double classPsi = 0.0;
    QVector<int> featureElements;    ///< input element index of each feature PSI
    QVector<double> featurePsi;
    QVector<double> deviceMean, deviceStd, trainMean, trainStd;
    double maxFeaturePsi = 0.0;
    double meanFeaturePsi = 0.0;
    int maxFeatureElement = -1;
    bool hasAnomalyPsi = false;      ///< one-output model: the score histograms were compared
    double anomalyPsi = 0.0;
    /// max(classPsi, maxFeaturePsi, anomalyPsi if any): what the Fleet page plots
    double psi = 0.0;
    /// "none" (< 0.1), "moderate" (0.1..0.25) or "significant" (> 0.25); "no data" without windows.
    QString level() const;
    bool significant() const { return windows > 0 && psi > kPsiSignificant; }
    /// Keys: model_id, source ("classify"/"invoke"), package_crc, windows, uncertain_share,
    /// mean_top_score, classes [{label, device_share, train_share}], class_psi, features
    /// [{element, psi, device_mean, device_std, train_mean, train_std}], max_feature_psi,
    /// max_feature_element, mean_feature_psi, anomaly_psi (one-output models), psi, level,
    /// significant.
    QJsonObject toJson() const;
};

/// PSI of two share vectors over the same bins (floors at 1e-4).
double populationStabilityIndex(const QVector<double> &expected, const QVector<double> &actual);
/// PSI of N(actualMean, actualStd) against the 10 equiprobable bins of N(refMean, refStd).
double normalPsi(double refMean, double refStd, double actualMean, double actualStd);

/// A split's rows as model `modelId` takes them: features with the parameters it was trained
/// on, normalised with its statistics, quantized by Int8Executor::quantizeInput (the Profiler's
/// way), with each row's class as an index into labels (-1: a label the model lacks).
struct ModelInputs {
    int inputCount = 0;
    QStringList labels;
    QVector<QByteArray> inputs;      ///< int8 rows, inputCount bytes each
    QVector<int> classes;
    QVector<qint8> scores;           ///< one-output (anomaly) models: the host int8 score per row
};
std::optional<ModelInputs> modelInputs(ProjectStore &store, qint64 modelId, Split split, QString *error);

/// The training split of model `modelId` in the project, sampled every `stride`-th input
/// element (1..), as the board summarises it.
std::optional<DriftReference> driftReference(ProjectStore &store, qint64 modelId, int stride,
                                             QString *error);
/// Compares a summary with a reference; fails when their shapes differ (another model).
std::optional<DriftReport> compareDrift(const DriftReference &ref, const TelemetrySummary &summary,
                                        QString *error);
/// TELEMETRY from the board and the comparison. source: the CLASSIFY summary when it has
/// windows, else the INVOKE one (a board without its own sensor), unless given. reset zeroes
/// the summary read.
std::optional<DriftReport> readDrift(AgentLink *link, ProjectStore &store, qint64 modelId, bool reset,
                                     QString *error,
                                     std::optional<TelemetrySummary::Source> source = std::nullopt);

} // namespace tinyml::deploy::fleet
