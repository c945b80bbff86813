#pragma once
// Plain data the live classification and calibration views draw. The views know nothing
// about where it comes from (a board streaming, a host replay, a scenario script): the
// page's owner converts the back end's results into these rows.

#include <QString>
#include <QVector>

#include <optional>

namespace tinyml::ui {

/// One classified window of the stream.
struct WindowRow {
    double t_s = 0;             ///< stream time of the window's end, seconds
    QVector<float> scores;      ///< one per class (label order of setLabels), 0..1
    int decision = -1;          ///< class index after post-processing; -1: uncertain
    bool detection = false;     ///< an event fired at this window
    bool suppressed = false;    ///< an event would have fired but fell in the suppression time
    double dspMs = 0;           ///< cost of the window's stages, milliseconds
    double modelMs = 0;
    double postMs = 0;
};

/// One ground-truth event of the stream (from a truth file).
struct TruthRow {
    double start_s = 0;
    double end_s = 0;
    int label = -1;             ///< class index; -1: a label the model does not know
};

/// Running stream metrics. Optional fields are unknown until there is something to count
/// (no truth file: no recall, no false activations, no delays).
struct MetricsRow {
    qint64 windows = 0;
    qint64 overruns = 0;                          ///< windows dropped because a stage ran late
    double streamSeconds = 0;
    int eventsTotal = 0;                          ///< truth events so far
    int eventsDetected = 0;
    std::optional<double> recall;                 ///< eventsDetected / eventsTotal, 0..1
    QVector<std::optional<double>> classRecall;   ///< per class, label order; nullopt: no event
    int falseActivations = 0;
    std::optional<double> falseActivationsPerHour;
    std::optional<double> delayMedianMs;          ///< truth start to detection
    std::optional<double> delayP90Ms;
    std::optional<qint64> hostEqualWindows;       ///< host replay of the same windows: equal scores
    std::optional<qint64> hostComparedWindows;
};

/// One swept post-processing setting and what it scored on the calibration stream.
struct CalibrationRow {
    double threshold = 0;       ///< score threshold, 0..1
    int averageWindows = 1;     ///< scores averaged over this many windows
    double suppressionMs = 0;   ///< no second event within this time
    double faPerHour = 0;       ///< false activations per hour
    double frr = 0;             ///< false rejection rate, 0..1
    bool onFront = false;       ///< on the Pareto front (no other point is better in both)
};

} // namespace tinyml::ui
