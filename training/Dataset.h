#pragma once
// Training data as the trainer, the quantizer and the evaluators see it: a stack of
// equally shaped float inputs in the model IR's layout, with integer class labels.
// Plain data (no libtorch): the CLI, the tests and the UI build it without torch headers.

#include <QStringList>
#include <QVector>

#include <cstdint>

namespace tinyml::training {

struct TrainingData {
    /// Shape of one input without the batch dimension, in the IR's layout:
    /// {F} for flat feature vectors, {H, W, C} for NHWC inputs (1-D signals: {1, T, C}).
    QVector<int> inputShape;
    QVector<float> x;            ///< count() * inputSize() floats, sample-major
    QVector<int> y;              ///< class index per sample, in [0, labels.size())
    QStringList labels;
    bool timeSeries = false;     ///< W is time: noise / time-shift / gain augmentation applies

    int count() const { return y.size(); }
    int inputSize() const;
    int classCount() const { return labels.size(); }
    const float *sample(int i) const { return x.constData() + qint64(i) * inputSize(); }

    /// The samples at rows (in that order), same shape and labels.
    TrainingData subset(const QVector<int> &rows) const;
    /// Samples per class.
    QVector<int> classCounts() const;
    /// Checks sizes and label range; error says what is inconsistent.
    bool isValid(QString *error) const;
};

/// Deterministic stratified split of row indices: about `fraction` of every class goes to
/// `second` (at least one per class when the class has two or more samples), the rest to
/// `first`. The same seed gives the same split.
void stratifiedSplit(const TrainingData &data, double fraction, std::uint64_t seed,
                     QVector<int> *first, QVector<int> *second);

/// Mean and standard deviation of every input element over the samples (std 0 -> 1).
void elementStats(const TrainingData &data, QVector<float> *mean, QVector<float> *std);
/// x' = (x - mean) / std per input element; no-op when the sizes do not match.
void normalizeElements(TrainingData &data, const QVector<float> &mean, const QVector<float> &std);

/// Up to n rows drawn per class in proportion (deterministic): the representative subset
/// used to calibrate activation ranges.
QVector<int> representativeRows(const TrainingData &data, int n, std::uint64_t seed);

} // namespace tinyml::training
