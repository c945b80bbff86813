#pragma once
// Per-layer quantization error as horizontal bars: signal-to-quantization-noise ratio in
// dB of every layer output of the int8 model against the float model (higher is better).

#include "GraphEvaluation.h"
#include "plots/PlotWidget.h"

class QCPBars;
class QCPItemText;

namespace tinyml::ui {

class SqnrBarsPlot : public PlotWidget
{
    Q_OBJECT
public:
    explicit SqnrBarsPlot(QWidget *parent = nullptr);

    void setLayers(const QVector<training::LayerSqnr> &layers);
    void clear(const QString &message);
    int barCount() const;

private:
    QCPBars *m_bars;
    QCPItemText *m_message;
    QVector<QCPItemText *> m_valueTexts;
};

} // namespace tinyml::ui
