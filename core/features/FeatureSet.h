#pragma once
// The features of a whole project: what the trainer consumes.

#include "features/FeatureParams.h"
#include "store/ProjectStore.h"

#include <QString>
#include <QStringList>
#include <QVector>

#include <functional>
#include <optional>

namespace tinyml::features {

/// N samples x featureShape floats, row-major: sample i's features are
/// values[i * featureSize() .. (i + 1) * featureSize()).
struct FeatureSet {
    FeatureParams params;
    QString paramsHash;
    QVector<qint64> featureShape;   ///< one sample's shape, e.g. [1, F] or [1, 49, 10, 1]
    QVector<float> values;
    QVector<int> labels;            ///< index into labelNames
    QStringList labelNames;         ///< the project's labels in settings order, then others sorted
    QVector<qint64> sampleIds;
    QVector<Split> splits;
    int computed = 0;               ///< rows computed by this call (the rest came from the cache)
    /// A sample left out of the set, and why, in the user's words.
    struct Skipped {
        qint64 sampleId = 0;
        QString reason;
    };
    QVector<Skipped> skipped;       ///< by sample id

    int size() const { return sampleIds.size(); }
    qint64 featureSize() const;     ///< product of featureShape
    const float *row(int i) const { return values.constData() + i * featureSize(); }
    QVector<float> rowVector(int i) const;
    Tensor rowTensor(int i) const;  ///< float32 with featureShape
    FeatureSet subset(Split split) const;
    /// Mean and standard deviation per feature element over the rows (std 0 -> 1), for
    /// normalising inputs; the training side stores them in the model's meta.
    void featureStats(QVector<float> *mean, QVector<float> *std) const;
};

/// (done, total) after each sample; return false to cancel (computeFeatures then fails with
/// error "cancelled").
using FeatureProgress = std::function<bool(int done, int total)>;

/// Features of every usable sample of the project. One bad sample does not fail the project:
/// it is left out and listed in FeatureSet::skipped with the reason. Skipped are samples
/// - still streaming, or finished incomplete (a capture cut off or stopped);
/// - of a time series whose channel count differs from most of the project's samples;
/// - shorter than half the block's feature window (the rest would be zero padding);
/// - holding NaN or infinity, or giving non-finite features;
/// - that the block refuses (wrong rate for mfe/mfcc, ...), or whose features have another
///   shape than the first row's.
/// Cached in the store keyed by (sample id, params.hash()); a cached row is reused only when
/// the sample's checksum is unchanged, and rows of other parameter hashes are dropped.
/// Fails (nullopt) only when the store fails or progress cancels.
std::optional<FeatureSet> computeFeatures(ProjectStore &store, const FeatureParams &params,
                                          const FeatureProgress &progress, QString *error);

/// 2-D projection for the feature explorer.
struct Projection2D {
    struct Point { double x = 0; double y = 0; };
    QVector<Point> points;          ///< one per row of the input
    QVector<double> mean;           ///< per feature
    QVector<double> axis1, axis2;   ///< unit principal directions
    double explained1 = 0, explained2 = 0; ///< variance along each axis
};

/// PCA to 2-D: covariance of the rows, two leading eigenvectors by power iteration with
/// deflation from a fixed start vector (deterministic), sign fixed so that the largest
/// component of each axis is positive. Rows x dims floats, row-major.
Projection2D projectPca2D(const QVector<float> &values, int rows, int dims);
inline Projection2D projectPca2D(const FeatureSet &set)
{
    return projectPca2D(set.values, set.size(), int(set.featureSize()));
}

} // namespace tinyml::features
