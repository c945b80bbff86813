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
//
// Inputs of each op (Node::inputs, in this order; "?" = optional):
//    Conv2D            x [1,H,W,Cin], w [Cout,KH,KW,Cin], b? [Cout]
//    DepthwiseConv2D   x [1,H,W,Cin], w [1,KH,KW,Cout] (Cout = Cin * multiplier), b? [Cout]
//    FullyConnected    x (any shape with Cin elements), w [Cout,Cin], b? [Cout]  -> [1,Cout]
//    MaxPool2D/AvgPool2D x [1,H,W,C]; window kernelH x kernelW, stride, padding
//    GlobalAvgPool     x [1,H,W,C] -> [1,C]
//    Add               a, b of the same shape (no broadcasting)
//    Relu, Relu6, Softmax, Clip   x
//    Reshape           x; the target shape is the output tensor's declared shape (one
//                      dimension may be -1 and is inferred)
//    BatchNorm         x [..., C], gamma [C], beta [C], mean [C], var [C]
//    Concat            x1, x2, ... equal except the last dimension
//  Anomaly scores (each output [1,1], bigger = more anomalous; int8 forms below):
//    KMeansScore       x (D elements), centroids [K,D] constant
//                      -> min_k sum_d (x_d - c_kd)^2 (squared distance to the nearest centroid)
//    GmmScore          x (D elements), means [K,D], inverse variances [K,D], offsets [K] (constants)
//                      -> min_k (offset_k + 1/2 sum_d (x_d - mu_kd)^2 * ivar_kd), with
//                      offset_k = -ln pi_k + 1/2 sum_d ln(2 pi sigma_kd^2). This is the "hard"
//                      mixture negative log-likelihood -ln max_k pi_k N_k(x): it is never below
//                      the exact -ln sum_k pi_k N_k(x) and at most ln K above it. Chosen because it
//                      needs no exp/log at inference and its int8 form can be exact in integers.
//    SquaredError      a, b with the same element count -> mean_d (a_d - b_d)^2 (an autoencoder's
//                      reconstruction error: a = reconstruction, b = the graph input, which
//                      therefore stays alive to the end of the graph)
// Output spatial size (conv, depthwise, pools): (H + padTop + padBottom - KH) / strideH + 1,
// rounded down. Padding is explicit (TFLite SAME = the split that gives ceil(H / stride)).
//
// int8 graphs additionally (checked by validate()):
//  - every activation tensor is Int8 with one scale and one zero point in [-128, 127];
//  - conv/depthwise/fc weights are Int8 constants with one scale per output channel (or one
//    scale for the whole tensor) and zero points 0; biases Int32 constants;
//  - MaxPool2D, AvgPool2D, GlobalAvgPool, Reshape, Relu, Relu6 and Clip outputs carry the
//    input's scale and zero point (TFLite's rule; the executor copies, never requantizes);
//  - Softmax output: scale 1/256, zero point -128;
//  - BatchNorm does not appear (the quantizer folds it);
//  - anomaly scores are computed in integers only (firmware-agent/nn tm_nn_*_score_s8,
//    tm_nn_squared_error_s8; the host's Int8Executor links the same C file, so host and device
//    give the same bits by construction, with no FPU and no float rounding at inference).
//    Each op forms an exact integer score S in units u, then requantizes it to its int8 output
//    (scale s_y, zero point z_y): y = clamp(z_y + MBQM(clamp(S, -L, L), M, shift)), with
//    (M, shift) = tm_nn_quantize_multiplier(u / s_y) computed in double from the float scales,
//    and L = INT32_MAX >> max(shift, 0) (tm_nn.h). The output stays int8 like every model's,
//    so GET_OUTPUT, the profiler's byte comparison and the impulse's int8 outputs need no change;
//    the quantizer gives the score a range of twice the normal calibration scores' so the
//    alarm threshold sits well inside it (anomalies far above saturate at 127, still alarms).
//      KMeansScore  x int8 (s_x, z_x); centroids Int32 [K,D] in x's integer domain: c_q =
//                   round(c / s_x) + z_x (half away from zero, NOT clamped to int8), scale s_x
//                   and zero point z_x recorded, each in [-2^20, 2^20].
//                   S = min_k sum_d (x_q - c_q)^2, u = s_x^2.
//      GmmScore     x int8; means Int32 as the centroids; inverse variances Int32, one scale
//                   s_iv, zero point 0, each in [0, 2^20]; offsets Int32 [K], zero point 0,
//                   scale u = s_x^2 * s_iv / 2 (offset_q = round(offset / u)).
//                   S = min_k (offset_q + sum_d (x_q - mu_q)^2 * iv_q); the requantization
//                   uses u = s_x^2 * s_iv / 2 recomputed in double (the offsets' stored float
//                   scale is informative).
//      SquaredError a, b int8 with the same scale s and zero point (the quantizer gives the
//                   reconstruction the graph input's quantization); S = sum_i (a_q - b_q)^2,
//                   u = s^2 / n (n = element count: the mean).

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
    KMeansScore = 14,     ///< x, centroids [K,D] -> [1,1] squared distance to the nearest centroid
    GmmScore = 15,        ///< x, means, inverse variances, offsets -> [1,1] hard mixture NLL
    SquaredError = 16,    ///< a, b -> [1,1] mean squared difference
};
/// The highest OpType value (validation and deserialization accept 0..kLastOpType).
constexpr OpType kLastOpType = OpType::SquaredError;
/// True for KMeansScore, GmmScore and SquaredError (anomaly-score ops).
bool isAnomalyScoreOp(OpType op);
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
    /// Product of the dimensions; 0 for an empty shape (unknown) or a negative dimension.
    qint64 elementCount() const;

    // Typed access to data (little-endian, the dtype's layout). The readers return an empty
    // vector when dtype differs or the byte count does not match the shape.
    QVector<float> floatValues() const;
    QVector<qint8> int8Values() const;
    QVector<qint32> int32Values() const;
    static TensorDesc activation(const QString &name, QVector<int> shape = {},
                                 DType dtype = DType::Float32);
    static TensorDesc constantFloat(const QString &name, QVector<int> shape,
                                    const QVector<float> &values);
    static TensorDesc constantInt8(const QString &name, QVector<int> shape,
                                   const QVector<qint8> &values, QVector<float> scales,
                                   QVector<int> zeroPoints = {});   ///< empty: all 0
    static TensorDesc constantInt32(const QString &name, QVector<int> shape,
                                    const QVector<qint32> &values, QVector<float> scales = {});
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
    /// serialize() writes this version; deserialize() reads 1..kFormatVersion.
    static constexpr quint32 kFormatVersion = 1;

    QVector<TensorDesc> tensors;
    QVector<Node> nodes;                ///< topologically ordered
    QVector<int> inputs;                ///< graph input tensor indices (one for now)
    QVector<int> outputs;
    QStringList labels;                 ///< class names for the output
    bool quantized = false;             ///< int8 graph
    QJsonObject meta;                   ///< provenance: model kind, training run, feature block, ...

    /// Checks indices, shapes of every op against its inputs, dtypes, and that quantized
    /// graphs carry scales. Errors name the node and the field.
    /// Activation shapes must be known (run inferShapes() first for a freshly built graph).
    bool validate(QString *error) const;
    /// Computes activation shapes from the input shape and the ops (constant shapes given).
    /// Reshape keeps its output's declared shape as the target. Then validates.
    bool inferShapes(QString *error);

    // Building helpers: return the new index.
    int addTensor(const TensorDesc &tensor);
    int addNode(const Node &node);
    int tensorIndex(const QString &name) const;   ///< -1 when absent
    int inputIndex() const { return inputs.isEmpty() ? -1 : inputs.first(); }
    int outputIndex() const { return outputs.isEmpty() ? -1 : outputs.first(); }

    qint64 parameterCount() const;      ///< elements of constant tensors (weights, biases, BN)
    /// Multiply-accumulates of one inference: conv Hout*Wout*Cout*KH*KW*Cin, depthwise
    /// Hout*Wout*Cout*KH*KW, fully connected Cin*Cout; other ops count 0.
    qint64 macs() const;
    qint64 weightBytes() const;         ///< bytes of constant tensors as stored

    /// Compact binary form for the project store (versioned; fails cleanly on bad input).
    /// Layout (little-endian): "TMGR", u32 version, then length-prefixed fields; see Graph.cpp.
    /// deserialize() checks every length against the remaining bytes and then validate()s.
    QByteArray serialize() const;
    static std::optional<Graph> deserialize(const QByteArray &bytes, QString *error);
};

} // namespace tinyml::model
