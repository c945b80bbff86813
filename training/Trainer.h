#pragma once
// Trains a zoo model (ModelZoo.h) with libtorch and exports it to the float model IR.
// No torch types in this header: the network lives behind a pimpl in Trainer.cpp, the only
// translation unit of the project that includes torch headers.
//
// Determinism: the same spec, data, options and seed give bit-identical weights (torch's
// generator is seeded with manual_seed; shuffles, the validation split and augmentation
// draw from seeded generators; the thread count is set explicitly).
// Threading: one Trainer per thread. torch::set_num_threads() is process-wide: fit() sets
// it from TrainOptions::threads.

#include "Dataset.h"
#include "Metrics.h"
#include "ModelZoo.h"

#include "model/Graph.h"

#include <QString>
#include <QVector>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

namespace tinyml::training {

struct EpochProgress {
    int epoch = 0;                  ///< 1-based
    int epochs = 0;
    double loss = 0, accuracy = 0;  ///< training (with augmentation), mean over batches
    double valLoss = 0, valAccuracy = 0;
    double learningRate = 0;
    double seconds = 0;             ///< wall time of this epoch
};

/// Bounds Trainer checks before a run (it returns an error result outside them); the CLI
/// checks the same so that a bad option is a usage error.
constexpr double kMaxLearningRate = 10;
constexpr int kMaxEpochs = 100000;
constexpr int kMaxThreads = 256;

struct TrainOptions {
    int epochs = 40;
    /// Mini-batch size; a small data set trains with train_count / 10 (at least 8) instead,
    /// so that every epoch still takes about ten optimizer steps. With 1, every step sees one
    /// sample and BatchNorm layers run in eval mode for it (training-mode BatchNorm needs two
    /// samples): they keep their initial running statistics and learn a scale and a shift.
    int batchSize = 32;
    double learningRate = 1e-3;     ///< finite, in (0, kMaxLearningRate]
    double weightDecay = 0;
    enum class Schedule { Cosine, Step, Constant } schedule = Schedule::Cosine;
    double minLearningRate = 1e-5;  ///< cosine floor
    int stepEpochs = 10;            ///< step schedule: lr *= stepGamma every stepEpochs
    double stepGamma = 0.5;
    double validationFraction = 0.15; ///< carved from train, stratified, seeded
    int patience = 10;              ///< early stopping on validation loss; 0 = off
    bool classWeights = true;       ///< inverse-frequency weights in the loss
    /// Augmentation for time-series inputs (TrainingData::timeSeries): Gaussian noise
    /// (std, in units of the normalised input), circular time shift up to this fraction of
    /// the window, random gain in [1 - g, 1 + g]. Ignored for other inputs.
    bool augment = true;
    float noiseStd = 0.05f;
    float maxShiftFraction = 0.1f;
    float gainRange = 0.1f;
    std::uint64_t seed = 1;
    int threads = 2;                ///< torch::set_num_threads; 1 .. kMaxThreads
    std::atomic<bool> *cancel = nullptr; ///< checked between batches
    std::function<void(const EpochProgress &)> onEpoch;
};

struct TrainResult {
    bool ok = false;
    bool cancelled = false;
    QString error;
    int epochsRun = 0;
    int bestEpoch = 0;              ///< weights of this epoch are kept (early stopping)
    QVector<EpochProgress> history;
    ClassificationMetrics validation;
    double secondsPerEpoch = 0;
};

/// Quantization-aware fine-tuning: BatchNorm is folded into the convolutions, weights are
/// fake-quantized per output channel (symmetric, [-127, 127]) and activations per tensor
/// (asymmetric int8, ranges tracked as a moving average of batch min / max), with the
/// straight-through estimator for gradients.
struct QatOptions {
    int epochs = 4;
    double learningRate = 1e-4;
    double rangeMomentum = 0.9;
};

class Trainer
{
public:
    /// Builds the network for spec with weights initialised from seed.
    Trainer(const ModelSpec &spec, std::uint64_t seed = 1);
    ~Trainer();
    Trainer(const Trainer &) = delete;
    Trainer &operator=(const Trainer &) = delete;

    /// Rebuilds a trainer from a float graph this class exported (meta "spec"), with its
    /// weights, e.g. to fine-tune a stored model. nullopt with error otherwise.
    static std::unique_ptr<Trainer> fromGraph(const model::Graph &graph, QString *error);

    const ModelSpec &spec() const;

    /// Trains on train (a validation split is carved from it, see TrainOptions). Options out of
    /// their bounds, a loss or weights that become NaN or infinite, and libtorch errors end the
    /// run with ok false and the reason in error (never an exception).
    TrainResult fit(const TrainingData &train, const TrainOptions &options);
    /// Quantization-aware fine-tuning on train; afterwards exportGraph() gives the folded
    /// float graph the quantizer calibrates again.
    TrainResult fineTuneQuantAware(const TrainingData &train, const TrainOptions &options,
                                   const QatOptions &qat);

    /// Softmax probabilities, count() x classes, row-major (eval mode, batch of 256).
    QVector<float> predict(const TrainingData &data, int threads = 2) const;
    ClassificationMetrics evaluate(const TrainingData &data, int threads = 2) const;

    /// The float IR graph: input [1, F] or [1, H, W, C], NHWC weights, BatchNorm and ReLU
    /// as separate nodes (unless folded by QAT), Softmax at the end; labels; meta holds
    /// "model_kind", "spec" (ModelSpec::toJson) and "exporter".
    model::Graph exportGraph(const QStringList &labels) const;

    /// All parameters and buffers, flattened in registration order (determinism tests).
    QVector<float> flatParameters() const;

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace tinyml::training
