#pragma once
// Stream metrics: how a continuous classifier's detections compare with the ground truth.
// The CLI's `classify --json`, the live view and the calibration sweep all use these rules.
//
// Inputs: truth events [start, end) (seconds), detections {t, label} where t is the END time
// of the window that produced the detection, the stream's total duration, and a tolerance
// (seconds; normally the window length: a window that ends up to one window after the event
// ended still holds part of it).
//
// Rules:
// - A detection of class c at t MATCHES an event of label c when start < t <= end + tolerance.
//   (A window ending exactly at the event's start holds none of it, so t = start does not match.)
// - Detections are taken in time order (ties keep their input order). Each goes to the
//   matching event not yet detected with the earliest start; that event is detected, with
//   delay = t - start. This greedy choice finds the largest number of matched events when
//   the tolerance windows of two events of one class overlap.
// - A detection that matches only events already detected is a DUPLICATE (not counted as
//   false). Any other detection (no event of its class around it) is a FALSE ACTIVATION.
// - Event recall = detected events / events, overall and per class (absent without events).
// - False activations per hour = false activations / non-event hours, where non-event time =
//   total - Σ event durations (absent when that is <= 0).
// - Detection delay: median and p90 of the matched events' delays in ms, nearest-rank
//   (rank = ceil(p/100 × n), 1-based, over the sorted delays; the median is p50, the lower
//   middle for even n). Absent without a detected event — never reported as 0.
// - Confusion, per event: the label of the first detection of ANY class with
//   start < t <= end + tolerance (the same interval as matching), or "missed". Counted as
//   confusion[truth label][detected label or "missed"].
//
// JSON (toJson): event_recall {overall, per_class{}}, events, events_per_class{}, detected_events,
// detections, duplicates, false_activations, false_activations_per_class{},
// false_activations_per_hour, non_event_s, total_s, tolerance_s, detection_delay_ms {median, p90},
// confusion {truth: {detected|"missed": n}}, event_results [{start_s, end_s, label,
// detected, first_label, delay_ms}]. Absent values are JSON null.

#include "stream/GroundTruth.h"

#include <QJsonObject>
#include <QMap>
#include <QString>
#include <QVector>

#include <optional>

namespace tinyml::stream {

/// One detection: the end time of its window (seconds from the stream's start) and its class.
struct Detection {
    double tS = 0;
    QString label;
};

struct ClassStreamStats {
    int events = 0;
    int detected = 0;
    int falseActivations = 0;
    std::optional<double> recall() const
    {
        return events > 0 ? std::optional<double>(double(detected) / events) : std::nullopt;
    }
};

/// What happened to one truth event.
struct EventOutcome {
    TruthEvent event;
    bool detected = false;
    std::optional<double> delayMs;   ///< set when detected
    QString firstLabel;              ///< first detection of any class in the interval, or "missed"
};

struct StreamMetricsResult {
    int events = 0;
    int detectedEvents = 0;
    int detections = 0;
    int duplicates = 0;
    int falseActivations = 0;
    double totalS = 0;
    double toleranceS = 0;
    double nonEventS = 0;
    std::optional<double> recall;                 ///< overall event recall
    std::optional<double> falseActivationsPerHour;
    std::optional<double> delayMedianMs;
    std::optional<double> delayP90Ms;
    QMap<QString, ClassStreamStats> perClass;     ///< every event label and every detected label
    QVector<EventOutcome> outcomes;               ///< one per event, in time order
    QMap<QString, QMap<QString, int>> confusion;  ///< truth label -> first label / "missed" -> count

    QJsonObject toJson() const;
};

/// The metrics under the rules above. toleranceS < 0 is treated as 0.
StreamMetricsResult computeStreamMetrics(const QVector<TruthEvent> &events,
                                         const QVector<Detection> &detections, double totalS,
                                         double toleranceS);
inline StreamMetricsResult computeStreamMetrics(const GroundTruth &truth,
                                                const QVector<Detection> &detections, double totalS,
                                                double toleranceS)
{
    return computeStreamMetrics(truth.events(), detections, totalS, toleranceS);
}

/// Nearest-rank percentile (p in (0, 100]) of values; nullopt when values is empty.
std::optional<double> nearestRankPercentile(QVector<double> values, double p);

} // namespace tinyml::stream
