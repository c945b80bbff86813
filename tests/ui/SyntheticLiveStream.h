#pragma once
// A synthetic classified stream for the live views' tests and screenshots: 60 s of a 3-axis
// accelerometer at 100 Hz, 4 classes (idle, shake, circle, updown), 240 windows (250 ms
// stride), 10 truth events of which one is missed, one false activation, and a calibration
// sweep of 60 post-processing settings with its Pareto front.

#include "live/LiveRows.h"

#include <QStringList>
#include <QVector>

namespace tinyml::ui {
class LiveClassificationView;
}

namespace tinyml::ui::test {

struct SyntheticLiveStream {
    QStringList labels;
    double rateHz = 100;
    int channels = 3;
    QVector<float> signal;                 ///< frames x channels, frame-major
    QVector<WindowRow> windows;
    QVector<TruthRow> truth;
    MetricsRow metrics;
    QVector<CalibrationRow> calibration;
    int chosen = -1;                       ///< a front point: lowest FRR at <= 2 FA/h
    int detections = 0;
    int suppressed = 0;
};

SyntheticLiveStream syntheticLiveStream();
/// Feeds the stream as a run would: 250 ms of signal, then the window that ends there; then
/// the truth and the metrics. Does not flush.
void feedLiveView(LiveClassificationView &view, const SyntheticLiveStream &s);

} // namespace tinyml::ui::test
