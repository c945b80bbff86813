#pragma once
// Project-level anomaly detection: the user names the normal labels; a model (K-means, Gaussian
// mixture, dense or 1-D convolutional autoencoder) is fitted on the train split's normal samples
// only, every other label serves only to evaluate it on the test split (ROC / PR, threshold from a
// false-positive-rate budget or a budget in false alarms per hour of normal stream). What
// `tinyml train --model kmeans|gmm|autoencoder|conv-autoencoder --normal ...` calls. Plain header
// (no torch).
//
// The stored model is a float model::Graph whose output is one score ("anomaly_score", bigger =
// more anomalous; alarm when score > threshold) with meta:
//   "task": "anomaly", "anomaly_model": "kmeans" | "gmm" | "autoencoder" | "conv-autoencoder",
//   "normal_labels": [...], "anomaly_labels": [...] (the other labels seen in the test split),
//   "threshold", "threshold_rule" (e.g. "fpr<=0.01 on the test split's normal scores"), "max_fpr",
//   "max_false_alarms_per_hour" (when the budget was given per hour, else absent),
//   "stream": {"windows_per_hour", "basis", "false_alarms_per_hour" (at the threshold, from the
//   test split's FPR), "rule"}, or {"none": why} when the project has no continuous stream (a
//   table, a block without a fixed window),
//   "evaluation": {auc, pr_auc, tpr, fpr, test_normal, test_anomalous} (null when undefined),
//   "kmeans" / "gmm" / "autoencoder": the fit's facts (clusters, EM iterations, layer widths),
//   "input_normalization": {"mean", "std"} — the statistics of the NORMAL train rows, the same
//   key and formula x' = (x - mean) / std as classifiers (TrainingPipeline.h), so the impulse and
//   the device apply it unchanged; "features", "training_run".

#include "AnomalyMetrics.h"
#include "Trainer.h"

#include "model/Graph.h"
#include "store/ProjectStore.h"

#include <QJsonObject>
#include <QStringList>

#include <functional>
#include <optional>

namespace tinyml::training {

enum class AnomalyModelKind { KMeans, Gmm, Autoencoder, ConvAutoencoder };
/// "kmeans", "gmm", "autoencoder", "conv-autoencoder"
QString anomalyModelName(AnomalyModelKind kind);
/// The dense and the 1-D convolutional autoencoder (trained with epochs, no clusters).
inline bool isAutoencoderKind(AnomalyModelKind kind)
{
    return kind == AnomalyModelKind::Autoencoder || kind == AnomalyModelKind::ConvAutoencoder;
}
std::optional<AnomalyModelKind> anomalyModelFromName(const QString &name);

/// Most clusters / components --clusters accepts, and the top of the automatic choice.
constexpr int kMaxAnomalyClusters = 64;
constexpr int kAutoClustersMax = 8;

struct AnomalyTrainOptions {
    AnomalyModelKind kind = AnomalyModelKind::KMeans;
    QStringList normalLabels;       ///< at least one; each must be a label of the project
    /// K-means clusters / mixture components; 0 = automatic (K-means: elbow over 1..8; GMM: BIC
    /// over 1..8; see AnomalyModels.h).
    int clusters = 0;
    double maxFpr = 0.01;           ///< false-positive-rate budget for the threshold, in [0, 1)
    /// A budget in false alarms per hour of normal stream instead of maxFpr (>= 0): the rate
    /// budget becomes maxFalseAlarmsPerHour / windows per hour (see falseAlarmsPerHour). Needs
    /// streamRate to give the windows per hour.
    std::optional<double> maxFalseAlarmsPerHour;
    /// The stream's windows per hour for a model (the caller knows the impulse's stride: training
    /// must not depend on deploy). Called once the model is fitted, with its float graph (input
    /// shape set, meta without "features": the project's feature parameters apply). nullopt with
    /// the reason when there is no stream (e.g. a table project). Unset: no stream metrics.
    std::function<std::optional<StreamWindowRate>(const model::Graph &graph, QString *why)> streamRate;
    /// Share of the normal train rows held out as validation (autoencoder early stopping, and
    /// the threshold when the test split has no normal samples). Every model kind holds them
    /// out, so the kinds see the same training rows.
    double validationFraction = 0.15;
    TrainOptions train;             ///< seed for all kinds; the rest for the autoencoder
    /// int8 weight budget in bytes (0: none). The autoencoder narrows its hidden layers to fit and
    /// fails when even width 8 does not; K-means / GMM tables over it give a warning.
    /// trainAnomalyProject sets it from the project's board (ModelBudget::forBoard).
    qint64 maxWeightBytes = 0;
};

struct AnomalyOutcome {
    AnomalyModelKind kind = AnomalyModelKind::KMeans;
    int clusters = 0;               ///< K-means / GMM: K used; autoencoder: 0
    bool clustersAutomatic = false;
    QStringList normalLabels, anomalyLabels;   ///< anomaly: the other labels present in the test split
    int trainNormal = 0, validationNormal = 0, testNormal = 0, testAnomalous = 0;
    AnomalyEvaluation test;         ///< on the test split (normal vs all other labels)
    double threshold = 0;
    QString thresholdSource;        ///< "test" or "validation"
    QString thresholdRule;
    std::optional<double> tpr, fpr; ///< test split at the threshold; none when that class is missing
    std::optional<double> maxFalseAlarmsPerHour;   ///< the budget, when given per hour
    std::optional<StreamWindowRate> stream;        ///< none without a continuous stream
    QString noStreamReason;                        ///< why `stream` is none
    /// fpr x stream windows per hour; none without either
    std::optional<double> falseAlarmsPerHour() const;
    /// Each anomalous label against the normal test samples (a fault at a time).
    struct PerLabel {
        QString label;
        int count = 0;
        std::optional<double> auc, prAuc, tpr;
    };
    QVector<PerLabel> perLabel;
    QStringList warnings;           ///< e.g. AUC undefined, threshold from validation
    TrainResult train;              ///< autoencoder history; epochsRun 0 for K-means / GMM
    model::Graph graph;
    qint64 runId = 0, modelId = 0;

    /// {"task": "anomaly", "model", "clusters" (null for the autoencoder), "normal_labels",
    ///  "anomaly_labels", "counts": {train_normal, validation_normal, test_normal, test_anomalous},
    ///  "test_normal", "test_anomalous", "auc", "pr_auc", "threshold", "threshold_rule",
    ///  "threshold_source", "tpr", "fpr" (null when undefined), "false_alarms_per_hour" (null
    ///  without a stream or an FPR), "max_false_alarms_per_hour" (null unless the budget was
    ///  per hour), "stream" ({windows_per_hour, basis, rule} or {"none": reason}),
    ///  "per_label": [{label, anomalous,
    ///  auc, pr_auc, tpr}], "evaluation" (curves, histogram),
    ///  "parameters", "warnings", "history", "epochs_run", "best_epoch", "run_id", "model_id"}
    QJsonObject toJson() const;
};

/// Fits and evaluates on already standardised data: train rows of the normal labels only are
/// used for fitting. `normal` flags the normal class indices of train/test (indices into
/// train.labels). Stores nothing; fills everything in AnomalyOutcome but runId / modelId.
std::optional<AnomalyOutcome> trainAnomalyModel(const TrainingData &train, const TrainingData &test,
                                                const QVector<bool> &normal, const AnomalyTrainOptions &options,
                                                QString *error);

/// Features of the project -> normal-train statistics -> trainAnomalyModel -> stores the run and
/// the float model (meta as above). Errors name the label: no normal label given, a label the
/// project does not have, a normal label without train samples. A failed run is stored failed.
std::optional<AnomalyOutcome> trainAnomalyProject(ProjectStore &store, const AnomalyTrainOptions &options,
                                                  QString *error);

/// True when the graph's meta says "task": "anomaly".
bool isAnomalyGraph(const model::Graph &graph);

} // namespace tinyml::training
