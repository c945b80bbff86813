#pragma once
// MlperfBenchmark: the MLPerf Tiny runner's procedure against any DUT that speaks the EEMBC
// text protocol (MlperfLink), and the runner's arithmetic as pure functions.
//
// Performance: load one input, then five windows of `infer N W%`, each window at least
// minWindowS long on the DUT's own clock (the two `m-lap-us-` lines); throughput of a window =
// N / (elapsed µs / 1e6), the result is the median over the windows.
// Accuracy: every data set input is loaded and run once (`infer 1 0%`); the outputs come from
// the infer reply's `m-results-[...]` or, for DUTs that do not print it, from `results%`.
// Top-1 = files whose majority argmax (over their windows) is the true class / files. For
// anomaly detection (ad01: one output, the score) the files' mean scores give a ROC AUC.
//
// Threading: like MlperfLink, blocking calls in the caller's thread (local event loops).

#include "device/MlperfLink.h"
#include "io/MlperfDataset.h"

#include <QByteArray>
#include <QString>
#include <QVector>

#include <functional>
#include <optional>

namespace tinyml {

namespace mlperf {

/// runs / seconds; 0 when elapsedUs <= 0 (the runner reports 0 for a window without time).
double throughput(qint64 runs, qint64 elapsedUs);
/// The median (mean of the two middle values for an even count); 0 for none.
double median(QVector<double> values);
/// Index of the first largest value; -1 for none.
int argmax(const QVector<float> &values);
/// Runs that fill minWindowS at perRunUs each, with 5 % margin; at least minimumRuns.
qint64 runsForWindow(double perRunUs, double minWindowS, qint64 minimumRuns);
/// The class most windows voted for (ties: the smallest class); -1 for none.
int majorityClass(const QVector<int> &votes);
/// Element-wise mean of equally long vectors; empty when they differ or there are none.
QVector<float> meanScores(const QVector<QVector<float>> &scores);
/// ROC AUC of scores (higher = class 1, the anomaly) against labels 0/1, the runner's
/// simplified way: scores min-max normalised to [0,1], 101 thresholds 0.00..1.00 (a score
/// counts as positive when above the threshold), trapezoids between the ROC points.
/// nullopt when a class is missing or a label is not 0/1.
std::optional<double> rocAuc(const QVector<double> &scores, const QVector<int> &labels);
/// The number the official runner prints as "Simplified average ROC AUC" for a one-output
/// model: the scores min-max normalised (denominator + 1e-10), column 0 = the score and column
/// 1 = 1 - score, one ROC AUC per class c (positives: files of class c; predicted c when
/// column c is above the threshold; the same 101 thresholds and trapezoids), then their mean.
/// With ad01's labels (0 normal, 1 anomaly) and a score that grows with the anomaly (a
/// reconstruction error) this is close to 1 - rocAuc(): the runner reads a high score as
/// class 0. Reported beside rocAuc() so results can be set next to the runner's.
std::optional<double> runnerAverageAuc(const QVector<double> &scores, const QVector<int> &labels);

} // namespace mlperf

struct MlperfWindow {
    qint64 runs = 0;
    int warmups = 0;
    qint64 elapsedUs = 0;   ///< on the DUT's clock
    double throughput = 0;  ///< inferences per second
    double wallSeconds = 0; ///< host time for the `infer` command
};

struct MlperfPerformanceOptions {
    int windows = 5;
    double minWindowS = 10.0;
    int warmups = 1;          ///< the runner's kws01 script: `infer 10 1`
    qint64 minimumRuns = 10;
};

struct MlperfPerformance {
    QVector<MlperfWindow> windows;
    double medianThroughput = 0;
    double latencyMs = 0;     ///< 1000 / medianThroughput
    double calibrationUsPerRun = 0;
};

struct MlperfFileResult {
    QString file;
    int label = 0;
    int predicted = -1;
    int inferences = 0;
    QVector<float> scores;    ///< mean over the file's windows
};

struct MlperfAccuracy {
    QVector<MlperfFileResult> files;
    int correct = 0;
    double top1 = 0;          ///< fraction 0..1
    std::optional<double> auc;
    std::optional<double> runnerAuc; ///< mlperf::runnerAverageAuc() of the same scores
    bool resultsFromInferReply = false; ///< the DUT printed m-results in the infer reply
};

class MlperfBenchmark
{
public:
    /// Per command timeout when nothing better is known (one inference of a big model on QEMU).
    static constexpr int kFirstInferTimeoutMs = 120000;

    explicit MlperfBenchmark(MlperfLink *link) : m_link(link) {}

    /// Loads input and runs it once; the outputs of that run.
    std::optional<QVector<float>> inferOnce(const QByteArray &input, bool *fromInferReply, QString *error);

    /// inputs[i % size] is loaded before window i (the runner downloads before each window).
    std::optional<MlperfPerformance> runPerformance(const QVector<QByteArray> &inputs, const MlperfPerformanceOptions &options,
                                                    const std::function<void(int index, const MlperfWindow &)> &onWindow,
                                                    QString *error);

    /// anomaly: score with ROC AUC over the files' mean first output (ad01).
    std::optional<MlperfAccuracy> runAccuracy(const io::MlperfDataset &dataset, bool anomaly,
                                              const std::function<void(int done, int total)> &onFile, QString *error);

private:
    int inferTimeoutMs(qint64 runs) const;

    MlperfLink *m_link;
    double m_wallMsPerRun = 0;  ///< measured on the first infer; sizes later timeouts
};

} // namespace tinyml
