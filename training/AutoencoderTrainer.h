#pragma once
// A dense autoencoder for anomaly detection, trained with libtorch on normal data only; its
// score is the reconstruction error (mean squared difference of input and output). No torch
// types here: AutoencoderTrainer.cpp is the torch translation unit.
//
// Shape (MLPerf Tiny's anomaly-detection autoencoder, 640-128-128-128-128-8-..., scaled to the
// input): D -> H -> H -> B -> H -> H -> D, ReLU after every layer but the last, no BatchNorm,
// with H = min(128, max(16, 2 D)) and B = min(8, max(1, D / 4)) — MLPerf's H = 128, B = 8 for
// large D; a bottleneck well below D for small D, so that the network cannot learn the identity.
// H is then halved (down to 8) while the int8 weights exceed the board's budget: with thousands
// of inputs the first and last layers (D x H each) dominate.
//
// Training reuses TrainOptions (epochs, batch size, learning rate, schedule, patience, seed,
// threads, cancel, onEpoch): Adam on the MSE, early stopping on the validation rows' loss,
// a run stops with an error when the loss or the weights become non-finite. EpochProgress
// reports losses; its accuracies stay 0.

#include "Trainer.h"

#include "model/Graph.h"

#include <QVector>

namespace tinyml::training {

struct AutoencoderShape {
    int input = 0, hidden = 0, bottleneck = 0;
    /// The rule above; maxWeightBytes 0 = no budget. The result may still exceed the budget
    /// (at H = 8): the caller checks int8WeightBytes().
    static AutoencoderShape forInput(int d, qint64 maxWeightBytes = 0);
    int parameterCount() const;
    qint64 int8WeightBytes() const;            ///< int8 weights + int32 biases
};

struct AutoencoderResult {
    TrainResult train;          ///< ok, error, cancelled, history, epochs; no classification metrics
    AutoencoderShape shape;
    /// input [1,D] -> FC/ReLU layers -> "reconstruction" [1,D] -> SquaredError(reconstruction,
    /// input) -> "anomaly_score" [1,1]; labels {"anomaly_score"}; meta "model_kind" "autoencoder",
    /// "autoencoder" {input, hidden, bottleneck}. Empty when !train.ok.
    model::Graph graph;
};

/// Trains on `train` (rows of shape.input floats, standardised), early-stopping on `validation` (may be
/// empty: then the training loss decides). Never throws.
AutoencoderResult trainAutoencoder(const QVector<float> &train, const QVector<float> &validation,
                                   const AutoencoderShape &shape, const TrainOptions &options);

} // namespace tinyml::training
