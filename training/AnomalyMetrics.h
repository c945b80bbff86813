#pragma once
// Threshold tooling for anomaly scores: ROC and precision-recall curves with their areas, score
// histograms, and the threshold that meets a false-positive-rate budget. Plain data (no torch,
// no widgets): the CLI prints it, the GUI draws the curves and moves a threshold along them.
//
// Conventions: a score is "bigger = more anomalous"; normal samples are the negatives, every
// other label the positives; a sample raises an alarm when score > threshold (strictly), so a
// threshold at a normal score's value does not flag that sample.

#include <QJsonObject>
#include <QString>
#include <QVector>

#include <optional>

namespace tinyml::training {

/// One operating point: alarms for score > threshold. A curve's points have the distinct scores
/// as thresholds, from +inf (nothing flagged) down to -inf (everything flagged).
struct RocPoint {
    double threshold = 0;
    double fpr = 0, tpr = 0;     ///< false- and true-positive rates at this threshold
    double precision = 1;        ///< TP / (TP + FP); 1 when nothing is flagged
    int falsePositives = 0, truePositives = 0;
};

/// Counts of normal and anomalous scores per bin; bins split [lo, hi] evenly (the last bin
/// includes hi).
struct ScoreHistogram {
    double lo = 0, hi = 0;
    QVector<int> normal, anomalous;
    QJsonObject toJson() const;
};

struct AnomalyEvaluation {
    int normalCount = 0, anomalousCount = 0;
    /// ROC curve, one point per distinct score (ties form one step, drawn as a diagonal segment)
    /// from (0,0) to (1,1); empty when either class is missing.
    QVector<RocPoint> curve;
    std::optional<double> auc;       ///< trapezoid area under the ROC; none without both classes
    std::optional<double> prAuc;     ///< average precision sum_k (R_k - R_{k-1}) P_k; none likewise
    ScoreHistogram histogram;

    /// {"normal", "anomalous", "auc" (null when undefined), "pr_auc", "roc": [[fpr, tpr,
    ///  threshold]...], "pr": [[recall, precision, threshold]...], "histogram"}; infinite
    /// thresholds are written as null.
    QJsonObject toJson() const;
};

/// ROC / PR curves, their areas and a histogram of `bins` bins. Scores must be finite.
AnomalyEvaluation evaluateScores(const QVector<double> &normalScores, const QVector<double> &anomalousScores,
                                 int bins = 30);

/// The lowest threshold at which at most maxFpr of the normal scores are above it: with the
/// normal scores sorted high to low, s_(m+1) where m = floor(maxFpr * N) (N normal scores).
/// nullopt when normalScores is empty.
std::optional<double> thresholdForFpr(const QVector<double> &normalScores, double maxFpr);

/// Rates at one threshold (alarm: score > threshold). nullopt when the class is empty.
std::optional<double> rateAbove(const QVector<double> &scores, double threshold);

/// How many windows a continuous impulse scores per hour of stream: 3600 x sample rate / stride
/// (frames between window ends). Who knows the stride (the impulse, deploy/ImpulseSpec.h) fills
/// it in; `basis` says how, e.g. "6400 Hz / stride 320 frames (the default: window / 4) = 72000
/// windows per hour".
struct StreamWindowRate {
    double windowsPerHour = 0;
    QString basis;
};

/// False alarms per hour of normal stream at a false-positive rate: fpr x windows per hour. It
/// assumes every window of normal stream scored above the threshold is one alarm (no averaging or
/// suppression, windows as alike as the test split's normal samples), so it is an upper bound
/// for an impulse that suppresses repeats.
double falseAlarmsPerHour(double fpr, double windowsPerHour);
/// The false-positive rate a false-alarm budget allows: alarmsPerHour / windows per hour.
double fprForFalseAlarmsPerHour(double alarmsPerHour, double windowsPerHour);

} // namespace tinyml::training
