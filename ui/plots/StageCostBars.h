#pragma once
// What one window of a classified stream costs, stage by stage: DSP, model, post-processing
// as horizontal bars (median milliseconds), each labelled with its share of the stride (the
// time between windows), so the bars read as the CPU's duty cycle.

#include "plots/PlotWidget.h"

#include <optional>

class QCPBars;
class QCPItemText;

namespace tinyml::ui {

class StageCostBars : public PlotWidget
{
    Q_OBJECT
public:
    explicit StageCostBars(QWidget *parent = nullptr);

    /// Median cost per window of each stage, ms; strideMs: time between windows (unknown:
    /// no percentages).
    void setCosts(double dspMs, double modelMs, double postMs, std::optional<double> strideMs);
    void clear();

    QCPBars *bars() const { return m_bars; }
    /// "1.20 ms · 0.5 %" next to stage i (0 DSP, 1 model, 2 post).
    QString barText(int stage) const;

private:
    QCPBars *m_bars;
    QCPItemText *m_text[3];
    QCPItemText *m_message;
};

} // namespace tinyml::ui
