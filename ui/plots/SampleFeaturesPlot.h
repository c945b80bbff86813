#pragma once
// One sample's features as a picture: frames x coefficients (MFE / MFCC) or an image as a
// colour map, anything flat as bars over the feature index.

#include "features/FeatureParams.h"
#include "plots/PlotWidget.h"

#include <QVector>

class QCPBars;
class QCPColorMap;
class QCPColorScale;
class QCPItemText;

namespace tinyml::ui {

class SampleFeaturesPlot : public PlotWidget
{
    Q_OBJECT
public:
    explicit SampleFeaturesPlot(QWidget *parent = nullptr);

    /// shape is the feature set's per-sample shape (e.g. [1, 49, 10, 1]); params say how
    /// to read it (frame stride for the time axis).
    void setFeatures(const QVector<qint64> &shape, const float *values, const features::FeatureParams &params);
    void clear(const QString &message);

    bool showsColorMap() const;

private:
    QCPColorMap *m_map;
    QCPColorScale *m_scale;
    QCPBars *m_bars;
    QCPItemText *m_message;
};

} // namespace tinyml::ui
