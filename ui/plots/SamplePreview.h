#pragma once
// Shows one sample: every channel over time (motion and other time series), waveform and
// spectrogram (audio), the picture (images), the values (tabular rows).
// Dragging across a time-series plot selects a range for cropping.

#include "data/Sample.h"

#include <QWidget>

#include <optional>

class QCustomPlot;
class QCPItemRect;
class QCPColorMap;
class QLabel;
class QStackedWidget;
class QMouseEvent;

namespace tinyml::ui {

class SamplePreview : public QWidget
{
    Q_OBJECT
public:
    enum class Kind { None, TimeSeries, Audio, Image, Values };

    explicit SamplePreview(QWidget *parent = nullptr);

    void showSample(const Sample &sample);
    void clear(const QString &message = {});
    Kind kind() const { return m_kind; }
    qint64 sampleId() const { return m_sample.id; }
    const Sample &sample() const { return m_sample; }

    /// Selected frames [begin, end), when a range is selected.
    std::optional<std::pair<qint64, qint64>> selectedFrames() const;
    /// Selects frames [begin, end) as if dragged (tests, keyboard).
    void selectFrames(qint64 begin, qint64 end);
    void clearSelection();

    QCustomPlot *signalPlot() const { return m_signal; }
    QCustomPlot *spectrogramPlot() const { return m_spectrogram; }

Q_SIGNALS:
    void selectionChanged();

private:
    void showTimeSeries(bool audio);
    void showSpectrogram();
    void showImage();
    void showValues();
    void onMousePress(QMouseEvent *event);
    void onMouseMove(QMouseEvent *event);
    void onMouseRelease(QMouseEvent *event);
    void updateSelectionItem();
    double frameToSeconds(qint64 frame) const;
    qint64 secondsToFrame(double seconds) const;

    Kind m_kind = Kind::None;
    Sample m_sample;
    QStackedWidget *m_stack;
    QLabel *m_message;
    QWidget *m_plots;
    QCustomPlot *m_signal;
    QCustomPlot *m_spectrogram;
    QCPColorMap *m_colorMap = nullptr;
    QLabel *m_image;
    QCPItemRect *m_selectionItem = nullptr;
    bool m_dragging = false;
    double m_dragStart = 0;
    std::optional<std::pair<double, double>> m_selection;   ///< seconds, ordered
};

} // namespace tinyml::ui
