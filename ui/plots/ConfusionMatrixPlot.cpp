#include "plots/ConfusionMatrixPlot.h"

#include "plots/PlotStyle.h"
#include "plots/QCustomPlotInclude.h"

#include <QVBoxLayout>

namespace tinyml::ui {

ConfusionMatrixPlot::ConfusionMatrixPlot(QWidget *parent) : QWidget(parent), m_plot(new QCustomPlot(this))
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_plot);
    applyPlotStyle(m_plot);
    m_map = new QCPColorMap(m_plot->xAxis, m_plot->yAxis);
    QCPColorGradient gradient;
    gradient.setColorStopAt(0.0, QColor(0xf8, 0xfa, 0xfc));
    gradient.setColorStopAt(0.5, QColor(0x93, 0xb4, 0xf5));
    gradient.setColorStopAt(1.0, QColor(0x1d, 0x4e, 0xd8));
    m_map->setGradient(gradient);
    m_map->setInterpolate(false);
    m_map->setDataRange(QCPRange(0, 1));
    m_plot->xAxis->setLabel(tr("predicted"));
    m_plot->yAxis->setLabel(tr("true label"));
    m_plot->yAxis->setRangeReversed(true);   // first label on top, like a table
    for (QCPAxis *a : {m_plot->xAxis, m_plot->yAxis}) {
        a->grid()->setVisible(false);
        a->setTicks(true);
        a->setSubTicks(false);
        a->setTickLength(0, 0);
    }
    m_message = new QCPItemText(m_plot);
    m_message->position->setType(QCPItemPosition::ptAxisRectRatio);
    m_message->position->setCoords(0.5, 0.5);
    m_message->setColor(QColor(0x6b, 0x72, 0x80));
    m_message->setClipToAxisRect(false);
    setMinimumSize(220, 200);
    clear(tr("Train a model to see its test results."));
}

void ConfusionMatrixPlot::clear(const QString &message)
{
    for (QCPItemText *t : m_cellTexts)
        m_plot->removeItem(t);
    m_cellTexts.clear();
    m_labels.clear();
    m_confusion.clear();
    m_map->data()->setSize(1, 1);
    m_map->data()->fill(0);
    m_map->setVisible(false);
    for (QCPAxis *a : {m_plot->xAxis, m_plot->yAxis}) {
        a->setTicker(QSharedPointer<QCPAxisTickerText>::create());
        a->setRange(-0.5, 0.5);
    }
    m_message->setText(message);
    m_message->setVisible(true);
    replot();
}

void ConfusionMatrixPlot::setMatrix(const QStringList &labels, const QVector<QVector<int>> &confusion)
{
    clear(QString());
    const int n = int(labels.size());
    if (n == 0 || confusion.size() != n) {
        clear(tr("No test samples to evaluate on."));
        return;
    }
    m_message->setVisible(false);
    m_labels = labels;
    m_confusion = confusion;
    m_map->setVisible(true);
    m_map->data()->setSize(n, n);
    m_map->data()->setRange(QCPRange(0, n - 1), QCPRange(0, n - 1));
    auto xTicker = QSharedPointer<QCPAxisTickerText>::create();
    auto yTicker = QSharedPointer<QCPAxisTickerText>::create();
    QFont cellFont = font();
    cellFont.setPointSizeF(n > 8 ? 7.5 : 9.5);
    for (int t = 0; t < n; ++t) {
        xTicker->addTick(t, labels[t]);
        yTicker->addTick(t, labels[t]);
        int rowTotal = 0;
        for (int p = 0; p < n; ++p)
            rowTotal += confusion[t].value(p);
        for (int p = 0; p < n; ++p) {
            const int c = confusion[t].value(p);
            const double share = rowTotal > 0 ? double(c) / rowTotal : 0.0;
            m_map->data()->setCell(p, t, share);
            auto *text = new QCPItemText(m_plot);
            text->position->setType(QCPItemPosition::ptPlotCoords);
            text->position->setCoords(p, t);
            text->setText(QString::number(c));
            text->setFont(cellFont);
            text->setColor(share > 0.55 ? Qt::white : QColor(0x1f, 0x29, 0x37));
            m_cellTexts << text;
        }
    }
    m_plot->xAxis->setTicker(xTicker);
    m_plot->yAxis->setTicker(yTicker);
    m_plot->xAxis->setRange(-0.5, n - 0.5);
    m_plot->yAxis->setRange(-0.5, n - 0.5);
    // Long label names: turn the bottom ones so they do not run into each other.
    int longest = 0;
    for (const QString &l : labels)
        longest = qMax(longest, int(l.size()));
    m_plot->xAxis->setTickLabelRotation(n * longest > 40 ? -35 : 0);
    replot();
}

int ConfusionMatrixPlot::total() const
{
    int sum = 0;
    for (const auto &row : m_confusion)
        for (int c : row)
            sum += c;
    return sum;
}

int ConfusionMatrixPlot::count(int truth, int predicted) const
{
    return m_confusion.value(truth).value(predicted);
}

QString ConfusionMatrixPlot::cellText(int truth, int predicted) const
{
    const int n = int(m_labels.size());
    if (truth < 0 || predicted < 0 || truth >= n || predicted >= n)
        return {};
    return m_cellTexts.value(truth * n + predicted) ? m_cellTexts[truth * n + predicted]->text() : QString();
}

void ConfusionMatrixPlot::replot()
{
    if (isVisible())
        m_plot->replot(QCustomPlot::rpQueuedReplot);
}

void ConfusionMatrixPlot::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

} // namespace tinyml::ui
