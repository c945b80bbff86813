#pragma once
// What the feature explorer plots: the features standardised per element (as the model
// sees them, see training/TrainingPipeline.h) projected on their two principal axes, with
// the share of the total variance each axis explains. Pure function, no widgets.

#include "features/FeatureSet.h"

namespace tinyml::ui {

struct FeatureProjection {
    features::Projection2D pca;
    double fraction1 = 0, fraction2 = 0;   ///< explained variance / total variance, 0..1
};

FeatureProjection projectStandardized(const features::FeatureSet &set);

} // namespace tinyml::ui
