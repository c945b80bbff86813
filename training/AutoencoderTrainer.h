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
// The 1-D convolutional variant (`--model conv-autoencoder`) slides its encoder along the feature
// axis: the D features as a 1-D signal [1, 1, D, 1] -> Conv 1x3 stride 2 (8 channels) -> Conv 1x3
// stride 2 (16 channels) -> FC B, each with ReLU, then the same dense decoder B -> H -> D (the IR has
// no transposed convolution; a dense last layer also lets every output see every feature). Its
// convolutions are the kernels the zoo's 1-D CNNs use (padding 1 on both sides), so the int8 path,
// the package ops and the firmware need nothing new. Neighbouring features (spectral bands, MFE
// filters) share the encoder's weights, so it needs far fewer first-layer weights than D x H.
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
    bool conv = false;                          ///< the 1-D convolutional encoder
    static constexpr int kConvChannels1 = 8, kConvChannels2 = 16;
    /// The rule above; maxWeightBytes 0 = no budget. The result may still exceed the budget
    /// (at H = 8): the caller checks int8WeightBytes().
    static AutoencoderShape forInput(int d, qint64 maxWeightBytes = 0, bool conv = false);
    /// Conv variant: positions after the first and the second strided convolution.
    int convLength1() const { return (input - 1) / 2 + 1; }
    int convLength2() const { return (convLength1() - 1) / 2 + 1; }
    int parameterCount() const;
    qint64 int8WeightBytes() const;            ///< int8 weights + int32 biases
};

struct AutoencoderResult {
    TrainResult train;          ///< ok, error, cancelled, history, epochs; no classification metrics
    AutoencoderShape shape;
    /// input [1,D] -> FC/ReLU layers -> "reconstruction" [1,D] -> SquaredError(reconstruction,
    /// input) -> "anomaly_score" [1,1]; labels {"anomaly_score"}; meta "model_kind" "autoencoder",
    /// "autoencoder" {input, hidden, bottleneck, "encoder": "dense" | "conv1d"}; the conv variant
    /// starts with Reshape [1,1,D,1] and two Conv2D 1x3 stride (1,2). Empty when !train.ok.
    model::Graph graph;
};

/// Trains on `train` (rows of shape.input floats, standardised), early-stopping on `validation` (may be
/// empty: then the training loss decides). Never throws.
AutoencoderResult trainAutoencoder(const QVector<float> &train, const QVector<float> &validation,
                                   const AutoencoderShape &shape, const TrainOptions &options);

} // namespace tinyml::training
