#pragma once
// The model zoo as plain data: a ModelSpec is a sequence of layers that both the libtorch
// network (Trainer) and the float model IR (core/model Graph) are built from, so every zoo
// model converts to a Graph exactly. Only ops the IR and the firmware kernels have are used
// (conv2d, depthwise conv2d, fully connected, pools, global average pool, batch norm —
// folded by the quantizer —, ReLU / ReLU6, flatten as reshape, softmax at the end).
//
// Layout: inputs are the IR's {F} (flat) or {H, W, C} (NHWC, 1-D signals H = 1, W = time).

#include <QJsonObject>
#include <QString>
#include <QVector>

#include <optional>

namespace tinyml::training {

/// Persisted by name in model metadata ("mlp", "cnn1d", "cnn2d", "dscnn").
enum class Architecture { Auto, Mlp, Cnn1d, Cnn2d, DsCnn };
QString architectureName(Architecture kind);
std::optional<Architecture> architectureFromName(const QString &name);

/// What the target board can hold. Sizes are of the int8 model: weights in flash,
/// activations (the largest input + output pair of any layer) in the RAM arena.
struct ModelBudget {
    qint64 maxWeightBytes = 128 * 1024;
    qint64 maxActivationBytes = 32 * 1024;
    /// A quarter of the board's flash for weights and a quarter of its RAM for the arena:
    /// the agent, the protocol buffers and the DSP scratch need the rest.
    static ModelBudget forBoard(quint64 ramBytes, quint64 flashBytes);
};

struct LayerSpec {
    /// Persisted by name in metadata ("conv2d", ...); append-only.
    enum class Kind { Conv2D, DepthwiseConv2D, Dense, BatchNorm, Relu, Relu6, MaxPool, AvgPool,
                      GlobalAvgPool, Flatten, Dropout };
    Kind kind = Kind::Relu;
    int outChannels = 0;             ///< Conv2D, Dense
    int kernelH = 1, kernelW = 1;    ///< convolutions and pools
    int strideH = 1, strideW = 1;
    int padH = 0, padW = 0;          ///< symmetric zero padding (convolutions)
    float dropout = 0;               ///< Dropout probability (training only, not exported)
};
QString layerKindName(LayerSpec::Kind kind);

struct ModelSpec {
    Architecture kind = Architecture::Mlp;
    QVector<int> inputShape;         ///< {F} or {H, W, C}
    int numClasses = 0;
    QVector<LayerSpec> layers;       ///< the last is a Dense with numClasses outputs (logits)

    /// Shape after each layer (index i = output of layer i), {F} or {H, W, C}; empty when the
    /// spec is inconsistent (error says which layer).
    QVector<QVector<int>> shapes(QString *error = nullptr) const;
    qint64 parameterCount() const;   ///< trainable float parameters (BN counted)
    qint64 int8WeightBytes() const;  ///< int8 weights + int32 biases after BN folding
    qint64 int8ActivationBytes() const; ///< max over layers of input + output bytes (int8)
    qint64 macs() const;

    QJsonObject toJson() const;
    static std::optional<ModelSpec> fromJson(const QJsonObject &json, QString *error);
};

/// Which kind fits the input: {F} -> MLP; {1, T, C} -> 1-D CNN; {H, W, 1} of an audio
/// project (MFCC / MFE frames x coefficients) -> DS-CNN; other {H, W, C} -> 2-D CNN.
Architecture chooseArchitecture(const QVector<int> &inputShape, const QString &templateName);

/// Builds the zoo model of `kind` (Auto: chooseArchitecture) for this input, scaled down
/// (fewer channels / units) until it fits the budget. Fails when even the smallest
/// variant does not fit, or the kind does not apply to the input shape.
std::optional<ModelSpec> buildModelSpec(Architecture kind, const QVector<int> &inputShape,
                                        int numClasses, const ModelBudget &budget,
                                        const QString &templateName, QString *error);

} // namespace tinyml::training
