#include "plots/PlotStyle.h"

#include "plots/QCustomPlotInclude.h"

namespace tinyml::ui {

void styleAxis(QCPAxis *axis)
{
    const QColor axisColor(0x9c, 0xa3, 0xaf);
    const QColor textColor(0x37, 0x41, 0x51);
    axis->setBasePen(QPen(axisColor));
    axis->setTickPen(QPen(axisColor));
    axis->setSubTickPen(QPen(axisColor));
    axis->setTickLabelColor(textColor);
    axis->setLabelColor(textColor);
    QFont f = axis->tickLabelFont();
    f.setPointSizeF(8.5);
    axis->setTickLabelFont(f);
    f.setPointSizeF(9);
    axis->setLabelFont(f);
    axis->grid()->setPen(QPen(QColor(0xe5, 0xe7, 0xeb), 1, Qt::SolidLine));
    axis->grid()->setSubGridVisible(false);
    axis->grid()->setZeroLinePen(QPen(QColor(0xc4, 0xc9, 0xd1)));
}

void applyPlotStyle(QCustomPlot *plot)
{
    plot->setBackground(QBrush(Qt::white));
    plot->axisRect()->setBackground(QBrush(Qt::white));
    for (QCPAxis *axis : plot->axisRect()->axes())
        styleAxis(axis);
    plot->legend->setVisible(false);
    plot->legend->setBorderPen(Qt::NoPen);
    plot->legend->setBrush(QColor(255, 255, 255, 220));
    QFont f = plot->legend->font();
    f.setPointSizeF(8.5);
    plot->legend->setFont(f);
    plot->setNoAntialiasingOnDrag(true);
}

void placeLegendAbove(QCustomPlot *plot)
{
    if (plot->plotLayout()->rowCount() > 1)
        return;
    plot->axisRect()->insetLayout()->take(plot->legend);
    plot->plotLayout()->insertRow(0);
    auto *row = new QCPLayoutGrid;
    plot->plotLayout()->addElement(0, 0, row);
    row->setMargins(QMargins(0, 2, 8, 0));
    row->addElement(0, 0, new QCPLayoutElement(plot));   // pushes the legend to the right
    row->addElement(0, 1, plot->legend);
    row->setColumnStretchFactor(0, 1);
    row->setColumnStretchFactor(1, 0.01);
    plot->legend->setFillOrder(QCPLegend::foColumnsFirst);
    plot->legend->setBrush(Qt::NoBrush);
    plot->legend->setRowSpacing(0);
    plot->legend->setColumnSpacing(12);
    plot->plotLayout()->setRowStretchFactor(0, 0.001);
    plot->plotLayout()->setRowSpacing(0);
}

QColor channelColor(int i)
{
    static const QColor colors[] = {
        QColor(0x00, 0x72, 0xb2), QColor(0xd5, 0x5e, 0x00), QColor(0x00, 0x9e, 0x73),
        QColor(0xcc, 0x79, 0xa7), QColor(0x56, 0xb4, 0xe9), QColor(0xe6, 0x9f, 0x00),
    };
    return colors[i % 6];
}

QColor trainColor() { return QColor(0x25, 0x63, 0xeb); }
QColor testColor() { return QColor(0xf5, 0x9e, 0x0b); }

} // namespace tinyml::ui
