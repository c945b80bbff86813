#pragma once
// The model IR: a small graph of ops over tensors, float or int8, with no libtorch in
// sight. Training (libtorch) and ONNX import produce it; the quantizer turns a float graph
// into an int8 one; the deploy step compiles the int8 graph into a device package; the host
// runs both through core/model executors (int8 through the firmware's own C kernels).
//
// Layout conventions (the firmware kernels' conventions, see firmware-agent/nn/include/tm_nn.h):
//  - activations NHWC with N = 1: [1, H, W, C]; 1-D signals are H = 1, W = time;
//    flat vectors are [1, C];
//  - Conv2D weights [C_OUT, KH, KW, C_IN]; DepthwiseConv2D weights [1, KH, KW, C_OUT]
//    (depth multiplier 1); FullyConnected weights [C_OUT, C_IN]; biases [C_OUT].
//  - int8 graphs follow TFLite's scheme: weights int8 symmetric per output channel
//    (zero point 0, one scale per channel), activations int8 asymmetric per tensor,
//    biases int32 with scale input_scale * weight_scale[c] and zero point 0.

#include "data/Sample.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <QVector>

#include <optional>

namespace tinyml::model {

/// Operation codes. Persisted (project files, packages): append-only, never renumber.
enum class OpType : int {
    Conv2D = 0,
    DepthwiseConv2D = 1,
    FullyConnected = 2,
    MaxPool2D = 3,
    AvgPool2D = 4,
    GlobalAvgPool = 5,    ///< [1,H,W,C] -> [1,C]
    Add = 6,
    Relu = 7,             ///< standalone; the quantizer fuses it into the producer
    Relu6 = 8,
    Reshape = 9,          ///< also Flatten; NHWC element order is kept
    Softmax = 10,         ///< over the last axis
    BatchNorm = 11,       ///< float only; folded into the preceding conv/fc by the quantizer
    Concat = 12,          ///< along the last axis (channels)
    Clip = 13,            ///< float only; min/max attributes, Relu6 when [0, 6]
};
QString opName(OpType op);                             ///< "conv2d", "depthwise_conv2d", ...
std::optional<OpType> opFromName(const QString &name);

/// Activation fused into Conv2D / DepthwiseConv2D / FullyConnected / Add.
enum class Activation : int { None = 0, Relu = 1, Relu6 = 2 };

struct TensorDesc {
    QString name;
    QVector<int> shape;
    DType dtype = DType::Float32;       ///< Float32, Int8 or Int32
    // quantization (int8 / int32 tensors)
    QVector<float> scales;              ///< one per tensor, or one per output channel (weights, biases)
    QVector<int> zeroPoints;            ///< same length as scales
    QByteArray data;                    ///< constant tensors (weights, biases, BN params); empty for activations
    bool isConstant() const { return !data.isEmpty(); }
    qint64 elementCount() const;
};

struct Node {
    OpType op = OpType::Relu;
    QString name;
    QVector<int> inputs;                ///< tensor indices: data input(s), then weights, bias
    QVector<int> outputs;
    // attributes (those that apply to the op)
    int strideH = 1, strideW = 1;
    int padTop = 0, padLeft = 0, padBottom = 0, padRight = 0;
    int kernelH = 1, kernelW = 1;       ///< pooling window
    Activation activation = Activation::None;
    float clipMin = 0, clipMax = 0;     ///< Clip
    float epsilon = 1e-5f;              ///< BatchNorm: inputs = x, gamma, beta, mean, var
};

struct Graph {
    QVector<TensorDesc> tensors;
    QVector<Node> nodes;                ///< topologically ordered
    QVector<int> inputs;                ///< graph input tensor indices (one for now)
    QVector<int> outputs;
    QStringList labels;                 ///< class names for the output
    bool quantized = false;             ///< int8 graph
    QJsonObject meta;                   ///< provenance: model kind, training run, feature block, ...

    /// Checks indices, shapes of every op against its inputs, dtypes, and that quantized
    /// graphs carry scales. Errors name the node and the field.
    bool validate(QString *error) const;
    /// Computes activation shapes from the input shape and the ops (constant shapes given).
    bool inferShapes(QString *error);

    qint64 parameterCount() const;
    qint64 macs() const;                ///< multiply-accumulates of one inference
    qint64 weightBytes() const;         ///< bytes of constant tensors as stored

    /// Compact binary form for the project store (versioned; fails cleanly on bad input).
    QByteArray serialize() const;
    static std::optional<Graph> deserialize(const QByteArray &bytes, QString *error);
};

} // namespace tinyml::model
