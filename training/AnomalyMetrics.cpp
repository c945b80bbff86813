#include "AnomalyMetrics.h"

#include <QJsonArray>

#include <algorithm>
#include <cmath>
#include <limits>

namespace tinyml::training {

namespace {

QJsonValue number(double v)
{
    return std::isfinite(v) ? QJsonValue(v) : QJsonValue(QJsonValue::Null);
}

QJsonValue optionalNumber(const std::optional<double> &v)
{
    return v ? number(*v) : QJsonValue(QJsonValue::Null);
}

QJsonArray intArray(const QVector<int> &v)
{
    QJsonArray a;
    for (int x : v)
        a.append(x);
    return a;
}

} // namespace

QJsonObject ScoreHistogram::toJson() const
{
    return {{QStringLiteral("lo"), number(lo)},
            {QStringLiteral("hi"), number(hi)},
            {QStringLiteral("normal"), intArray(normal)},
            {QStringLiteral("anomalous"), intArray(anomalous)}};
}

QJsonObject AnomalyEvaluation::toJson() const
{
    QJsonArray roc, pr;
    for (const RocPoint &p : curve) {
        roc.append(QJsonArray{p.fpr, p.tpr, number(p.threshold)});
        pr.append(QJsonArray{p.tpr, p.precision, number(p.threshold)});
    }
    return {{QStringLiteral("normal"), normalCount},
            {QStringLiteral("anomalous"), anomalousCount},
            {QStringLiteral("auc"), optionalNumber(auc)},
            {QStringLiteral("pr_auc"), optionalNumber(prAuc)},
            {QStringLiteral("roc"), roc},
            {QStringLiteral("pr"), pr},
            {QStringLiteral("histogram"), histogram.toJson()}};
}

AnomalyEvaluation evaluateScores(const QVector<double> &normalScores, const QVector<double> &anomalousScores,
                                 int bins)
{
    AnomalyEvaluation e;
    e.normalCount = normalScores.size();
    e.anomalousCount = anomalousScores.size();

    // Histogram over both classes' range.
    const int nb = std::max(1, bins);
    e.histogram.normal = QVector<int>(nb, 0);
    e.histogram.anomalous = QVector<int>(nb, 0);
    if (!normalScores.isEmpty() || !anomalousScores.isEmpty()) {
        double lo = std::numeric_limits<double>::infinity(), hi = -lo;
        for (const auto *v : {&normalScores, &anomalousScores})
            for (double s : *v) {
                lo = std::min(lo, s);
                hi = std::max(hi, s);
            }
        e.histogram.lo = lo;
        e.histogram.hi = hi;
        const double width = hi > lo ? (hi - lo) / nb : 1.0;
        auto bin = [&](double s) { return std::clamp(int((s - lo) / width), 0, nb - 1); };
        for (double s : normalScores)
            ++e.histogram.normal[bin(s)];
        for (double s : anomalousScores)
            ++e.histogram.anomalous[bin(s)];
    }
    if (normalScores.isEmpty() || anomalousScores.isEmpty())
        return e;

    // Sweep the threshold down through the distinct scores: each step flags every sample with
    // that score at once, so tied normal and anomalous scores make one diagonal step (which
    // the trapezoid rule counts as half, the Mann-Whitney convention for ties).
    struct Scored { double s; bool positive; };
    QVector<Scored> all;
    all.reserve(normalScores.size() + anomalousScores.size());
    for (double s : normalScores)
        all.append({s, false});
    for (double s : anomalousScores)
        all.append({s, true});
    std::sort(all.begin(), all.end(), [](const Scored &a, const Scored &b) { return a.s > b.s; });
    const double P = anomalousScores.size(), N = normalScores.size();
    RocPoint p;
    p.threshold = std::numeric_limits<double>::infinity();
    e.curve.append(p);
    double auc = 0, ap = 0;
    int tp = 0, fp = 0;
    for (int i = 0; i < all.size();) {
        const double s = all[i].s;
        while (i < all.size() && all[i].s == s) {
            (all[i].positive ? tp : fp)++;
            ++i;
        }
        RocPoint q;
        // Threshold just below s: the next lower score, or -inf after the lowest.
        q.threshold = i < all.size() ? all[i].s : -std::numeric_limits<double>::infinity();
        q.truePositives = tp;
        q.falsePositives = fp;
        q.tpr = tp / P;
        q.fpr = fp / N;
        q.precision = double(tp) / (tp + fp);
        const RocPoint &prev = e.curve.last();
        auc += (q.fpr - prev.fpr) * (q.tpr + prev.tpr) / 2;
        ap += (q.tpr - prev.tpr) * q.precision;
        e.curve.append(q);
    }
    e.auc = auc;
    e.prAuc = ap;
    return e;
}

std::optional<double> thresholdForFpr(const QVector<double> &normalScores, double maxFpr)
{
    if (normalScores.isEmpty())
        return std::nullopt;
    QVector<double> sorted = normalScores;
    std::sort(sorted.begin(), sorted.end(), std::greater<double>());
    const int n = sorted.size();
    // The small epsilon keeps 0.01 * 300 = 3 from rounding down to 2.
    const int m = std::clamp(int(std::floor(std::max(0.0, maxFpr) * n + 1e-9)), 0, n - 1);
    return sorted[m];
}

std::optional<double> rateAbove(const QVector<double> &scores, double threshold)
{
    if (scores.isEmpty())
        return std::nullopt;
    int above = 0;
    for (double s : scores)
        above += s > threshold;
    return double(above) / scores.size();
}

double falseAlarmsPerHour(double fpr, double windowsPerHour)
{
    return fpr * windowsPerHour;
}

double fprForFalseAlarmsPerHour(double alarmsPerHour, double windowsPerHour)
{
    return windowsPerHour > 0 ? alarmsPerHour / windowsPerHour : 0.0;
}

} // namespace tinyml::training
