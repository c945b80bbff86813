#pragma once
// One look for every chart: fonts, grid, colours per channel.

#include <QColor>

class QCustomPlot;
class QCPAxis;

namespace tinyml::ui {

/// Light background, quiet grid, readable tick labels; no legend until asked for.
void applyPlotStyle(QCustomPlot *plot);
void styleAxis(QCPAxis *axis);
/// Colour of channel i (x, y, z, ...), distinguishable and colour-blind friendly (Okabe-Ito).
QColor channelColor(int i);
/// Moves the legend out of the data area into a row above it, entries side by side,
/// so it never hides a curve or a bar.
void placeLegendAbove(QCustomPlot *plot);
QColor trainColor();
QColor testColor();

} // namespace tinyml::ui
