#pragma once
// Runs a quantized (int8) graph on the host through the firmware's own C kernels
// (firmware-agent/nn, tm_nn_*): the host int8 reference whose outputs the device must match
// bit for bit. prepare() does what the deploy step does for the device: per-channel
// requantization multipliers and shifts from input_scale * weight_scale[c] / output_scale
// with tm_nn_quantize_multiplier (TFLite's QuantizeMultiplier), activation clamps, add
// parameters, and the scratch buffer.
//
// Ops: Conv2D, DepthwiseConv2D, FullyConnected (fused None/Relu/Relu6 as the output clamp),
// MaxPool2D, AvgPool2D, GlobalAvgPool (avg pool over the whole plane), Add, Reshape (a copy),
// Softmax (output scale 1/256, zero point -128), Relu/Relu6/Clip standalone (a clamp in the
// int8 domain; input and output share quantization), Concat.
// Concat: an input whose scale and zero point equal the output's is copied; any other input
// is requantized element by element, q_out = clamp(zp_out + MBQM(q_in - zp_in, M, s)) with
// (M, s) = tm_nn_quantize_multiplier(s_in / s_out) — integer arithmetic only, so the device
// can reproduce it exactly (TFLite's reference concatenation rescales in float instead).
// KMeansScore, GmmScore, SquaredError: integer scores requantized to an int8 output
// (tm_nn_kmeans_score_s8 / tm_nn_gmm_score_s8 / tm_nn_squared_error_s8; rules in Graph.h), with
// the multiplier from scoreRequantizationScale().
// BatchNorm is refused (fold it first).
//
// Threading: one executor per thread; prepare() copies the graph.

#include "model/Graph.h"
#include "model/QuantizationMath.h"

#include <QString>
#include <QVector>

#include <memory>
#include <optional>

namespace tinyml::model {

class Int8Executor
{
public:
    Int8Executor();
    ~Int8Executor();
    Int8Executor(Int8Executor &&) noexcept;
    Int8Executor &operator=(Int8Executor &&) noexcept;

    /// Copies the graph, infers shapes, validates it (quantized = true required) and
    /// precomputes every kernel parameter. Errors name the node and what is wrong.
    bool prepare(const Graph &graph, QString *error);
    bool isPrepared() const;
    const Graph &graph() const;

    QuantParams inputQuant() const;
    QuantParams outputQuant() const;
    /// Graph input quantization applied to float features (round half away from zero, clamp).
    QVector<qint8> quantizeInput(const QVector<float> &input) const;
    QVector<float> dequantizeOutput(const QVector<qint8> &output) const;

    /// input: the graph input's int8 elements, NHWC. Returns the graph output's elements.
    std::optional<QVector<qint8>> run(const QVector<qint8> &input, QString *error = nullptr);
    /// quantizeInput -> run -> dequantizeOutput.
    std::optional<QVector<float>> runFloat(const QVector<float> &input, QString *error = nullptr);

    /// When on, run() keeps every activation tensor (for per-layer comparison).
    void setRecordIntermediates(bool on);
    /// After run(): int8 values per tensor index (empty for constants / unrecorded tensors).
    const QVector<QVector<qint8>> &tensorValues() const;
    /// A recorded tensor dequantized with its own scale and zero point (empty if not recorded).
    QVector<float> dequantizedTensor(int tensorIndex) const;

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace tinyml::model
