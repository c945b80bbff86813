#pragma once
// The frame every chart widget shares: one styled QCustomPlot filling the widget, replots
// queued and skipped while hidden (a page of charts redraws only what is on screen; a
// hidden chart catches up when shown), and a grey message centred on the axes for the
// empty state.

#include <QWidget>

class QCustomPlot;
class QCPItemText;

namespace tinyml::ui {

class PlotWidget : public QWidget
{
    Q_OBJECT
public:
    QCustomPlot *plot() const { return m_plot; }

protected:
    explicit PlotWidget(QWidget *parent);

    void replot();
    void showEvent(QShowEvent *event) override;
    /// "Nothing to show yet" text in the middle of the axis rect; the caller sets the text.
    QCPItemText *addMessageItem();

    QCustomPlot *const m_plot;
};

} // namespace tinyml::ui
