#include "models/FeatureProjection.h"

namespace tinyml::ui {

FeatureProjection projectStandardized(const features::FeatureSet &set)
{
    FeatureProjection out;
    const int rows = set.size();
    const int dims = int(set.featureSize());
    if (rows == 0 || dims == 0)
        return out;
    QVector<float> mean, std;
    set.featureStats(&mean, &std);
    QVector<float> z(set.values.size());
    for (qint64 i = 0; i < z.size(); ++i) {
        const int k = int(i % dims);
        z[i] = (set.values[i] - mean[k]) / std[k];
    }
    out.pca = features::projectPca2D(z, rows, dims);
    // Total variance with the same (rows - 1) denominator as projectPca2D's covariance.
    double total = 0;
    for (int k = 0; k < dims; ++k) {
        double m = 0, s = 0;
        for (int r = 0; r < rows; ++r)
            m += z[qint64(r) * dims + k];
        m /= rows;
        for (int r = 0; r < rows; ++r) {
            const double d = z[qint64(r) * dims + k] - m;
            s += d * d;
        }
        total += s / (rows > 1 ? rows - 1 : 1);
    }
    if (total > 0) {
        out.fraction1 = out.pca.explained1 / total;
        out.fraction2 = out.pca.explained2 / total;
    }
    return out;
}

} // namespace tinyml::ui
