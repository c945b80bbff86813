#include "device/MlperfBenchmark.h"

#include <QElapsedTimer>

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

namespace tinyml {

namespace mlperf {

double throughput(qint64 runs, qint64 elapsedUs)
{
    if (elapsedUs <= 0 || runs <= 0)
        return 0.0;
    return double(runs) / (double(elapsedUs) / 1e6);
}

double median(QVector<double> values)
{
    if (values.isEmpty())
        return 0.0;
    std::sort(values.begin(), values.end());
    const qsizetype n = values.size();
    return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2.0;
}

int argmax(const QVector<float> &values)
{
    if (values.isEmpty())
        return -1;
    return int(std::max_element(values.begin(), values.end()) - values.begin());
}

qint64 runsForWindow(double perRunUs, double minWindowS, qint64 minimumRuns)
{
    if (!(perRunUs > 0.0))
        return std::max<qint64>(1, minimumRuns);
    const double needed = std::ceil(minWindowS * 1e6 * 1.05 / perRunUs);
    const double capped = std::min(needed, 2.0e9); // the DUT parses a u32
    return std::max<qint64>(std::max<qint64>(1, minimumRuns), qint64(capped));
}

int majorityClass(const QVector<int> &votes)
{
    std::map<int, int> counts;
    for (int v : votes)
        ++counts[v];
    int best = -1, bestCount = 0;
    for (const auto &[cls, count] : counts)
        if (count > bestCount) {
            best = cls;
            bestCount = count;
        }
    return best;
}

QVector<float> meanScores(const QVector<QVector<float>> &scores)
{
    if (scores.isEmpty())
        return {};
    const qsizetype n = scores.first().size();
    QVector<double> sum(n, 0.0);
    for (const QVector<float> &s : scores) {
        if (s.size() != n)
            return {};
        for (qsizetype i = 0; i < n; ++i)
            sum[i] += s[i];
    }
    QVector<float> out(n);
    for (qsizetype i = 0; i < n; ++i)
        out[i] = float(sum[i] / double(scores.size()));
    return out;
}

namespace {

// Both class counts, or nullopt when a label is not 0/1 or a class is missing.
std::optional<std::pair<int, int>> binaryCounts(const QVector<double> &scores, const QVector<int> &labels)
{
    if (scores.size() != labels.size() || scores.isEmpty())
        return std::nullopt;
    int ones = 0, zeros = 0;
    for (int l : labels) {
        if (l == 1)
            ++ones;
        else if (l == 0)
            ++zeros;
        else
            return std::nullopt;
    }
    if (ones == 0 || zeros == 0)
        return std::nullopt;
    return std::make_pair(zeros, ones);
}

// Min-max normalisation to [0, 1]; `epsilon` is added to the range (the runner adds 1e-10).
QVector<double> normalised(const QVector<double> &scores, double epsilon)
{
    const auto [lo, hi] = std::minmax_element(scores.begin(), scores.end());
    const double range = *hi - *lo + epsilon;
    QVector<double> norm(scores.size());
    for (qsizetype i = 0; i < scores.size(); ++i)
        norm[i] = range > 0 ? (scores[i] - *lo) / range : 0.0;
    return norm;
}

// The runner's thresholded ROC AUC: `predicted` values above t = 0.01..1.00 count as positive,
// positives are the items with label == positive, the curve starts at (1, 1).
double thresholdAuc(const QVector<double> &predicted, const QVector<int> &labels, int positive)
{
    int positives = 0;
    for (int l : labels)
        positives += l == positive ? 1 : 0;
    const int negatives = int(labels.size()) - positives;
    constexpr int kThresholds = 101;
    double tpr[kThresholds], fpr[kThresholds];
    tpr[0] = fpr[0] = 1.0;
    for (int t = 1; t < kThresholds; ++t) {
        const double threshold = t / 100.0;
        int tp = 0, fp = 0;
        for (qsizetype i = 0; i < predicted.size(); ++i)
            if (predicted[i] > threshold)
                (labels[i] == positive ? tp : fp) += 1;
        tpr[t] = double(tp) / positives;
        fpr[t] = double(fp) / negatives;
    }
    double auc = 0.0;
    for (int t = 0; t + 1 < kThresholds; ++t)
        auc += 0.5 * (tpr[t] + tpr[t + 1]) * (fpr[t] - fpr[t + 1]);
    return auc;
}

} // namespace

std::optional<double> rocAuc(const QVector<double> &scores, const QVector<int> &labels)
{
    if (!binaryCounts(scores, labels))
        return std::nullopt;
    return thresholdAuc(normalised(scores, 0.0), labels, 1);
}

std::optional<double> runnerAverageAuc(const QVector<double> &scores, const QVector<int> &labels)
{
    if (!binaryCounts(scores, labels))
        return std::nullopt;
    const QVector<double> column0 = normalised(scores, 1e-10);
    QVector<double> column1(column0.size());
    for (qsizetype i = 0; i < column0.size(); ++i)
        column1[i] = 1.0 - column0[i];
    return 0.5 * (thresholdAuc(column0, labels, 0) + thresholdAuc(column1, labels, 1));
}

} // namespace mlperf

int MlperfBenchmark::inferTimeoutMs(qint64 runs) const
{
    if (m_wallMsPerRun <= 0)
        return kFirstInferTimeoutMs;
    // Four times the expected host time: the DUT's clock and the host's need not agree (a QEMU
    // board counts instructions), and the host may be loaded.
    const double ms = 4.0 * m_wallMsPerRun * double(runs) + 10000.0;
    return int(std::min(ms, 24.0 * 3600.0 * 1000.0));
}

std::optional<QVector<float>> MlperfBenchmark::inferOnce(const QByteArray &input, bool *fromInferReply, QString *error)
{
    if (!m_link->loadInput(input, error))
        return std::nullopt;
    QElapsedTimer wall;
    wall.start();
    auto inference = m_link->infer(1, 0, inferTimeoutMs(1), error);
    if (!inference)
        return std::nullopt;
    if (m_wallMsPerRun <= 0)
        m_wallMsPerRun = std::max<double>(1.0, double(wall.elapsed()));
    if (inference->results) {
        if (fromInferReply)
            *fromInferReply = true;
        return inference->results;
    }
    if (fromInferReply)
        *fromInferReply = false;
    return m_link->results(error);
}

std::optional<MlperfPerformance> MlperfBenchmark::runPerformance(const QVector<QByteArray> &inputs,
                                                                 const MlperfPerformanceOptions &options,
                                                                 const std::function<void(int, const MlperfWindow &)> &onWindow,
                                                                 QString *error)
{
    auto failWith = [&](const QString &message) -> std::optional<MlperfPerformance> {
        if (error)
            *error = message;
        return std::nullopt;
    };
    if (inputs.isEmpty())
        return failWith(QStringLiteral("no input to run"));
    if (options.windows < 1 || !(options.minWindowS > 0))
        return failWith(QStringLiteral("need at least one window of positive length"));

    // Calibration: how long one run takes on the DUT's clock. A coarse clock may read the same
    // before and after one run: double the runs until it moves.
    if (!m_link->loadInput(inputs.first(), error))
        return std::nullopt;
    MlperfPerformance out;
    qint64 runs = 1;
    for (;;) {
        QElapsedTimer wall;
        wall.start();
        QString why;
        auto inference = m_link->infer(int(runs), 0, inferTimeoutMs(runs), &why);
        if (!inference)
            return failWith(QStringLiteral("calibration run: %1").arg(why));
        if (m_wallMsPerRun <= 0 || runs > 1)
            m_wallMsPerRun = std::max(0.01, double(wall.elapsed()) / double(runs));
        const auto elapsed = inference->elapsedUs();
        if (!elapsed)
            return failWith(QStringLiteral("`infer %1 0%` reply has %2 m-lap-us- line(s); the protocol needs two (start and end)")
                                .arg(runs).arg(inference->lapsUs.size()));
        if (*elapsed < 0)
            return failWith(QStringLiteral("the DUT's clock went backwards (m-lap-us- %1 then %2)")
                                .arg(inference->lapsUs[0]).arg(inference->lapsUs[1]));
        if (*elapsed > 0) {
            out.calibrationUsPerRun = double(*elapsed) / double(runs);
            break;
        }
        if (runs >= (qint64(1) << 20))
            return failWith(QStringLiteral("the DUT's clock did not advance over %1 inferences").arg(runs));
        runs *= 2;
    }

    runs = mlperf::runsForWindow(out.calibrationUsPerRun, options.minWindowS, options.minimumRuns);
    const qint64 minWindowUs = qint64(std::ceil(options.minWindowS * 1e6));
    QVector<double> throughputs;
    for (int w = 0; w < options.windows; ++w) {
        if (inputs.size() > 1 && !m_link->loadInput(inputs[w % inputs.size()], error))
            return std::nullopt;
        MlperfWindow window;
        // A window shorter than the minimum (the DUT ran faster than calibrated) is run again
        // with more inferences, as the runner rejects short performance runs.
        for (int attempt = 0;; ++attempt) {
            QElapsedTimer wall;
            wall.start();
            QString why;
            auto inference = m_link->infer(int(runs), options.warmups, inferTimeoutMs(runs + options.warmups), &why);
            if (!inference)
                return failWith(QStringLiteral("window %1: %2").arg(w + 1).arg(why));
            const auto elapsed = inference->elapsedUs();
            if (!elapsed || *elapsed <= 0)
                return failWith(QStringLiteral("window %1: `infer %2 %3%` reply has no usable pair of m-lap-us- lines")
                                    .arg(w + 1).arg(runs).arg(options.warmups));
            m_wallMsPerRun = std::max(0.01, double(wall.elapsed()) / double(runs + options.warmups));
            window.runs = runs;
            window.warmups = options.warmups;
            window.elapsedUs = *elapsed;
            window.wallSeconds = double(wall.elapsed()) / 1000.0;
            window.throughput = mlperf::throughput(runs, *elapsed);
            if (*elapsed >= minWindowUs)
                break;
            if (attempt >= 3)
                return failWith(QStringLiteral("window %1 stayed shorter than %2 s (%3 µs for %4 inferences)")
                                    .arg(w + 1).arg(options.minWindowS).arg(*elapsed).arg(runs));
            runs = mlperf::runsForWindow(double(*elapsed) / double(runs), options.minWindowS, runs + 1);
        }
        throughputs << window.throughput;
        out.windows << window;
        if (onWindow)
            onWindow(w, window);
    }
    out.medianThroughput = mlperf::median(throughputs);
    out.latencyMs = out.medianThroughput > 0 ? 1000.0 / out.medianThroughput : 0.0;
    return out;
}

std::optional<MlperfAccuracy> MlperfBenchmark::runAccuracy(const io::MlperfDataset &dataset, bool anomaly,
                                                           const std::function<void(int, int)> &onFile, QString *error)
{
    MlperfAccuracy out;
    QVector<double> aucScores;
    QVector<int> aucLabels;
    for (int i = 0; i < dataset.size(); ++i) {
        const io::MlperfSample &s = dataset.samples()[i];
        io::ImportError readError;
        auto inputs = dataset.inputs(i, &readError);
        if (!inputs) {
            if (error)
                *error = readError.toString();
            return std::nullopt;
        }
        MlperfFileResult file;
        file.file = s.file;
        file.label = s.label;
        QVector<QVector<float>> scores;
        QVector<int> votes;
        for (const QByteArray &input : *inputs) {
            bool fromReply = false;
            QString why;
            auto r = inferOnce(input, &fromReply, &why);
            if (!r) {
                if (error)
                    *error = QStringLiteral("%1 (line %2 of y_labels.csv): %3").arg(s.file).arg(s.line).arg(why);
                return std::nullopt;
            }
            if (r->isEmpty()) {
                if (error)
                    *error = QStringLiteral("%1: the DUT returned no outputs").arg(s.file);
                return std::nullopt;
            }
            if (!scores.isEmpty() && r->size() != scores.first().size()) {
                if (error)
                    *error = QStringLiteral("%1: the DUT returned %2 outputs, earlier %3").arg(s.file).arg(r->size()).arg(scores.first().size());
                return std::nullopt;
            }
            out.resultsFromInferReply = fromReply;
            scores << *r;
            votes << mlperf::argmax(*r);
        }
        file.inferences = int(scores.size());
        file.scores = mlperf::meanScores(scores);
        file.predicted = mlperf::majorityClass(votes);
        if (!anomaly && file.scores.size() != s.classes) {
            if (error)
                *error = QStringLiteral("%1: the DUT returned %2 outputs but y_labels.csv line %3 gives %4 classes")
                             .arg(s.file).arg(file.scores.size()).arg(s.line).arg(s.classes);
            return std::nullopt;
        }
        if (file.predicted == file.label)
            ++out.correct;
        if (anomaly) {
            aucScores << double(file.scores.first());
            aucLabels << s.label;
        }
        out.files << file;
        if (onFile)
            onFile(i + 1, dataset.size());
    }
    out.top1 = out.files.isEmpty() ? 0.0 : double(out.correct) / double(out.files.size());
    if (anomaly) {
        out.auc = mlperf::rocAuc(aucScores, aucLabels);
        out.runnerAuc = mlperf::runnerAverageAuc(aucScores, aucLabels);
    }
    return out;
}

} // namespace tinyml
