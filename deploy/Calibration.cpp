#include "Calibration.h"

#include "stream/StreamMetrics.h"

#include <QJsonArray>

#include <algorithm>
#include <cmath>
#include <limits>

namespace tinyml::deploy {

CalibrationGrid::CalibrationGrid()
{
    // Integer steps, rounded to 1/1000, so 0.6 is the same float everywhere it is typed.
    for (int i = 30; i <= 95; i += 5)
        thresholds.append(float(i) / 100.0f);
}

QJsonObject CalibrationPoint::toJson() const
{
    return QJsonObject{{QStringLiteral("threshold"), double(threshold)},
                       {QStringLiteral("average_windows"), averageWindows},
                       {QStringLiteral("suppression_ms"), double(suppressionMs)},
                       {QStringLiteral("false_activations_per_hour"), falseActivationsPerHour},
                       {QStringLiteral("false_rejection_rate"), falseRejectionRate}};
}

QJsonObject CalibrationResult::toJson() const
{
    QJsonArray c, p;
    for (const CalibrationPoint &x : curve)
        c.append(x.toJson());
    for (const CalibrationPoint &x : points)
        p.append(x.toJson());
    return QJsonObject{{QStringLiteral("operating_point"), operatingPoint.toJson()},
                       {QStringLiteral("within_limit"), withinLimit},
                       {QStringLiteral("max_false_activations_per_hour"), maxFalseActivationsPerHour},
                       {QStringLiteral("curve"), c},
                       {QStringLiteral("points"), p}};
}

namespace {

/// Tie-breaks after the two rates: higher threshold, fewer averaging windows, shorter suppression.
bool preferredSettings(const CalibrationPoint &a, const CalibrationPoint &b)
{
    if (a.threshold != b.threshold)
        return a.threshold > b.threshold;
    if (a.averageWindows != b.averageWindows)
        return a.averageWindows < b.averageWindows;
    return a.suppressionMs < b.suppressionMs;
}

} // namespace

QVector<CalibrationPoint> paretoFront(const QVector<CalibrationPoint> &points)
{
    QVector<CalibrationPoint> sorted = points;
    std::stable_sort(sorted.begin(), sorted.end(), [](const CalibrationPoint &a, const CalibrationPoint &b) {
        if (a.falseActivationsPerHour != b.falseActivationsPerHour)
            return a.falseActivationsPerHour < b.falseActivationsPerHour;
        if (a.falseRejectionRate != b.falseRejectionRate)
            return a.falseRejectionRate < b.falseRejectionRate;
        return preferredSettings(a, b);
    });
    QVector<CalibrationPoint> front;
    for (const CalibrationPoint &p : sorted)
        if (front.isEmpty() || p.falseRejectionRate < front.last().falseRejectionRate)
            front.append(p);
    return front;
}

CalibrationPoint chooseOperatingPoint(const QVector<CalibrationPoint> &points, double maxFar, bool *withinLimit)
{
    Q_ASSERT(!points.isEmpty());
    const CalibrationPoint *best = nullptr;
    for (const CalibrationPoint &p : points) {
        if (!(p.falseActivationsPerHour <= maxFar))
            continue;
        if (!best || p.falseRejectionRate < best->falseRejectionRate
            || (p.falseRejectionRate == best->falseRejectionRate
                && (p.falseActivationsPerHour < best->falseActivationsPerHour
                    || (p.falseActivationsPerHour == best->falseActivationsPerHour && preferredSettings(p, *best)))))
            best = &p;
    }
    if (withinLimit)
        *withinLimit = best != nullptr;
    if (best)
        return *best;
    // Nothing meets the limit: the fewest false activations, then the lowest FRR.
    for (const CalibrationPoint &p : points)
        if (!best || p.falseActivationsPerHour < best->falseActivationsPerHour
            || (p.falseActivationsPerHour == best->falseActivationsPerHour
                && (p.falseRejectionRate < best->falseRejectionRate
                    || (p.falseRejectionRate == best->falseRejectionRate && preferredSettings(p, *best)))))
            best = &p;
    return *best;
}

std::optional<CalibrationResult> calibrate(const ReplayScores &scores, const PostConfig &base,
                                           const DecisionScorer &scorer, const CalibrationGrid &grid,
                                           double maxFar, QString *error, const std::atomic<bool> *cancel)
{
    auto fail = [&](const QString &m) -> std::optional<CalibrationResult> {
        if (error)
            *error = m;
        return std::nullopt;
    };
    if (!scorer)
        return fail(QStringLiteral("calibration: no scorer (ground truth) given"));
    if (grid.thresholds.isEmpty() || grid.averageWindows.isEmpty() || grid.suppressionMs.isEmpty())
        return fail(QStringLiteral("calibration: the grid has no thresholds, averaging windows or suppression times"));
    for (float t : grid.thresholds)
        if (!(t >= 0.0f && t <= 1.0f))
            return fail(QStringLiteral("calibration: threshold %1 outside [0, 1]").arg(double(t)));
    if (!(maxFar >= 0))
        return fail(QStringLiteral("calibration: max false activations per hour %1 is not >= 0").arg(maxFar));
    if (scores.windows() == 0)
        return fail(QStringLiteral("calibration: the recording is shorter than one window"));

    CalibrationResult r;
    r.maxFalseActivationsPerHour = maxFar;
    PostConfig c = base;
    for (float t : grid.thresholds) {
        c.post.thresholds.fill(t, scores.classCount);
        if (c.post.background.size() != scores.classCount)
            c.post.background = QVector<bool>(scores.classCount, false);
        for (int avg : grid.averageWindows) {
            c.post.averageWindows = avg;
            for (quint32 supp : grid.suppressionMs) {
                if (cancel && cancel->load())
                    return fail(QStringLiteral("cancelled"));
                c.post.suppressionMs = supp;
                QString e;
                const QVector<ImpulseDecision> decisions = rerunPost(scores, c, &e);
                if (!e.isEmpty())
                    return fail(QStringLiteral("calibration at threshold %1, average %2, suppression %3 ms: %4")
                                    .arg(double(t)).arg(avg).arg(supp).arg(e));
                const StreamScore s = scorer(scores, decisions);
                CalibrationPoint p;
                p.threshold = t;
                p.averageWindows = avg;
                p.suppressionMs = supp;
                p.falseActivationsPerHour = s.falseActivationsPerHour;
                p.falseRejectionRate = s.falseRejectionRate;
                r.points.append(p);
            }
        }
    }
    r.curve = paretoFront(r.points);
    r.operatingPoint = chooseOperatingPoint(r.points, maxFar, &r.withinLimit);
    return r;
}

DecisionScorer streamMetricsScorer(const stream::GroundTruth &truth, const QStringList &labels,
                                   quint32 sampleRateHz, double totalS, double toleranceS)
{
    const QVector<stream::TruthEvent> events = truth.events();
    const double rate = double(std::max<quint32>(1, sampleRateHz));
    return [events, labels, rate, totalS, toleranceS](const ReplayScores &scores, const QVector<ImpulseDecision> &decisions) {
        QVector<stream::Detection> detections;
        for (int i = 0; i < decisions.size() && i < scores.windows(); ++i) {
            const ImpulseDecision &d = decisions[i];
            if (!(d.flags & kDecisionDetection) || d.decision < 0 || d.decision >= labels.size())
                continue;
            detections.append({double(scores.windowEnds[i]) / rate, labels[d.decision]});
        }
        const stream::StreamMetricsResult m = stream::computeStreamMetrics(events, detections, totalS, toleranceS);
        StreamScore s;
        s.falseActivationsPerHour = m.falseActivationsPerHour
                                        ? *m.falseActivationsPerHour
                                        : (m.falseActivations > 0 ? std::numeric_limits<double>::infinity() : 0.0);
        s.falseRejectionRate = m.recall ? 1.0 - *m.recall : 0.0;
        return s;
    };
}

ImpulseOptions withOperatingPoint(const ImpulseOptions &options, const CalibrationPoint &point)
{
    ImpulseOptions over;
    over.threshold = point.threshold;
    over.averageWindows = point.averageWindows;
    over.suppressionMs = point.suppressionMs;
    return options.mergedWith(over);
}

} // namespace tinyml::deploy
