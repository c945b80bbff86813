#pragma once
// The Deployment page's live charts, filled as the Profiler reports: latency per run,
// the latency histogram, per-layer cost, running on-device accuracy against the host int8
// reference, and energy per inference (labelled estimated, with its source, when it is).
// A stored profile redraws the same charts from its ProfileResult.

#include "Profiler.h"

#include <QVector>
#include <QWidget>

class QCustomPlot;
class QCPBars;
class QCPGraph;
class QCPItemText;
class QCPTextElement;
class QLabel;

namespace tinyml::ui {

class ProfileCharts : public QWidget
{
    Q_OBJECT
public:
    /// What the charts need to know before the first number arrives.
    struct Setup {
        int runs = 0;                  ///< planned measured runs (x range of the run chart)
        QString counter;               ///< "instructions", "cycles", "microseconds"
        quint64 clockHz = 0;
        double hostInt8Accuracy = -1;  ///< reference line; < 0: unknown
        int accuracySamples = 0;       ///< 0: accuracy not measured
    };
    struct EnergyBar {
        QString label;
        double microjoules = 0;
        bool estimated = true;
    };

    explicit ProfileCharts(QWidget *parent = nullptr);

    /// Empty charts for a run about to start.
    void reset(const Setup &setup);
    /// Empty charts with a hint instead of data.
    void clear(const QString &message);

    void addRun(int index, quint64 counter, double ms);
    void setLayers(const QVector<deploy::LayerProfile> &layers);
    void setAccuracyProgress(int done, int total, int correct, int bitexact);
    void setHostInt8Accuracy(double fraction);
    /// The first bar is the profile on show; the others (earlier profiles of the same
    /// model) give it context.
    void setEnergy(const QVector<EnergyBar> &bars, const QString &source);
    /// Every chart from a finished or stored profile.
    void showResult(const deploy::ProfileResult &result, const QVector<EnergyBar> &earlierEnergy = {});

    // for tests and screenshots
    int runPointCount() const;
    int histogramRunCount() const;      ///< the sum of the histogram's bars
    int layerBarCount() const;
    int accuracyPointCount() const;
    int energyBarCount() const;
    QString bitexactText() const;
    QString energySourceText() const;
    QCustomPlot *runsPlot() const { return m_runs; }
    QCustomPlot *histogramPlot() const { return m_histogram; }
    QCustomPlot *layersPlot() const { return m_layers; }
    QCustomPlot *accuracyPlot() const { return m_accuracy; }
    QCustomPlot *energyPlot() const { return m_energy; }

protected:
    void showEvent(QShowEvent *event) override;

private:
    void rebuildHistogram();
    void rescaleRuns();
    void setMessage(QCustomPlot *plot, const QString &text);
    void replotAll();
    void replot(QCustomPlot *plot);

    Setup m_setup;
    QVector<double> m_runMs;

    QCustomPlot *m_runs;
    QCPGraph *m_runGraph;
    QCPTextElement *m_runsTitle;

    QCustomPlot *m_histogram;
    QCPBars *m_histBars;

    QCustomPlot *m_layers;
    QCPBars *m_layerBars;
    QVector<QCPItemText *> m_layerTexts;

    QCustomPlot *m_accuracy;
    QCPGraph *m_deviceAcc;
    QCPGraph *m_hostAcc;
    QCPTextElement *m_accuracyTitle;
    int m_accuracyTotal = 0;

    QCustomPlot *m_energy;
    QCPBars *m_energyBars;
    QCPTextElement *m_energyTitle;
    QVector<QCPItemText *> m_energyTexts;
    QLabel *m_energySource;
};

} // namespace tinyml::ui
