#pragma once
// Calibration of an impulse's post-processing ("performance calibration"): a sweep over
// threshold x averaging windows x suppression on host-replayed raw scores (ImpulseReplay),
// each point's decisions (rerunPost, the device's tm_impulse_post_step) scored against ground
// truth as false activations per hour and false-rejection rate (1 - event recall).
//
//  - The DET curve is the Pareto front of the points: sorted by false activations per hour,
//    a point stays when its false-rejection rate is strictly below every point with fewer
//    or equal false activations (for equal false activations only the lowest FRR stays).
//  - The operating point: the lowest false-rejection rate among points with at most
//    maxFalseActivationsPerHour (default 1.0); ties go to fewer false activations, then to
//    the higher threshold, then to fewer averaging windows, then to the shorter suppression.
//    When no point meets the limit, the point with the fewest false activations (ties: lowest
//    FRR, then as above) is returned with withinLimit = false.
// One threshold is swept for every class; background classes stay as the package has them.
//
// Scoring is a function object so the sweep does not depend on how events are matched;
// streamMetricsScorer() gives the project's rules (core/stream/StreamMetrics.h).
//
// Threading: plain functions; the scorer is called on the calling thread.

#include "ImpulseReplay.h"
#include "ImpulseSpec.h"

#include "stream/GroundTruth.h"

#include <QJsonObject>
#include <QStringList>
#include <QVector>

#include <functional>
#include <optional>

namespace tinyml::deploy {

/// What the scorer says about one point's decisions.
struct StreamScore {
    double falseActivationsPerHour = 0;   ///< detections matching no event, per hour of non-event time
    double falseRejectionRate = 0;        ///< 1 - event recall (events never detected / events)
};

/// Scores one run of decisions (one per window of scores, same order).
using DecisionScorer = std::function<StreamScore(const ReplayScores &scores, const QVector<ImpulseDecision> &decisions)>;

struct CalibrationGrid {
    QVector<float> thresholds;            ///< default 0.30, 0.35, ..., 0.95
    QVector<int> averageWindows = {1, 2, 3, 4, 6, 8};
    QVector<quint32> suppressionMs = {0, 500, 1000, 1500, 2000};
    CalibrationGrid();
};

struct CalibrationPoint {
    float threshold = 0;
    int averageWindows = 1;
    quint32 suppressionMs = 0;
    double falseActivationsPerHour = 0;
    double falseRejectionRate = 0;
    /// {"threshold", "average_windows", "suppression_ms", "false_activations_per_hour",
    ///  "false_rejection_rate"} (the CLI's `calibrate --json` keys).
    QJsonObject toJson() const;
};

struct CalibrationResult {
    QVector<CalibrationPoint> points;     ///< every grid point, grid order (threshold, average, suppression)
    QVector<CalibrationPoint> curve;      ///< the DET curve: Pareto front, ascending false activations
    CalibrationPoint operatingPoint;
    bool withinLimit = false;             ///< operatingPoint meets maxFalseActivationsPerHour
    double maxFalseActivationsPerHour = 1.0;
    /// {"operating_point": {...}, "within_limit", "max_false_activations_per_hour",
    ///  "curve": [...], "points": [...]}
    QJsonObject toJson() const;
};

/// The DET curve of points (see above).
QVector<CalibrationPoint> paretoFront(const QVector<CalibrationPoint> &points);
/// The operating point rule (see above); withinLimit receives whether it meets the limit.
/// points must not be empty.
CalibrationPoint chooseOperatingPoint(const QVector<CalibrationPoint> &points, double maxFalseActivationsPerHour,
                                      bool *withinLimit);

/// Scores decisions with stream::computeStreamMetrics against truth: each DETECTION is a
/// detection of labels[decision] at t = window_end / sampleRateHz; totalS is the recording's
/// duration, toleranceS normally the window's (window / rate). False activations per hour
/// count as 0 when there is no non-event time and no false activation (infinity with one);
/// the false-rejection rate is 1 - overall event recall (0 without events).
DecisionScorer streamMetricsScorer(const stream::GroundTruth &truth, const QStringList &labels,
                                   quint32 sampleRateHz, double totalS, double toleranceS);

/// Sweeps grid over scores with base's output quantization, rate and background classes.
/// cancel (may be null) stops the sweep with "cancelled". Errors name the grid value.
std::optional<CalibrationResult> calibrate(const ReplayScores &scores, const PostConfig &base,
                                           const DecisionScorer &scorer, const CalibrationGrid &grid,
                                           double maxFalseActivationsPerHour, QString *error,
                                           const std::atomic<bool> *cancel = nullptr);

/// options with the operating point's threshold (every class), averaging and suppression:
/// what the project keeps in extra["impulse"] so the next package carries it.
ImpulseOptions withOperatingPoint(const ImpulseOptions &options, const CalibrationPoint &point);

} // namespace tinyml::deploy
