#pragma once
// TFLite-style int8 quantization arithmetic on the host: choosing scales and zero points,
// quantizing weights and biases, and measuring the error a quantized model makes.
// The quantizer (training/) and the int8 executor both use these, so the numbers a model is
// quantized with are the numbers it is run with.

#include "model/Graph.h"

#include <QVector>

#include <utility>

namespace tinyml::model {

/// Per-tensor affine int8 quantization: real = scale * (q - zeroPoint).
struct QuantParams {
    float scale = 1.0f;
    int zeroPoint = 0;
};

/// Activation quantization from an observed range, TFLite style: the range is first widened
/// to include 0, scale = (max - min) / 255, zeroPoint = round(-128 - min / scale) clamped to
/// [-128, 127]. A range of width 0 (all zeros) gives scale 1, zero point -128 when min = 0.
QuantParams chooseQuantParams(float min, float max);

/// round half away from zero of value / scale + zeroPoint, clamped to [-128, 127].
qint8 quantizeValue(float value, const QuantParams &q);
float dequantizeValue(qint8 value, const QuantParams &q);
QVector<qint8> quantize(const QVector<float> &values, const QuantParams &q);
QVector<float> dequantize(const QVector<qint8> &values, const QuantParams &q);

/// The axis of a weight tensor that indexes output channels: 0 for Conv2D ([Cout,KH,KW,Cin])
/// and FullyConnected ([Cout,Cin]), the last (3) for DepthwiseConv2D ([1,KH,KW,Cout]).
int weightChannelAxis(OpType op);

/// Symmetric per-channel weight scales: max|w| / 127 over each channel along channelAxis.
/// A channel of zeros gets scale 1 (its weights quantize to 0 either way).
QVector<float> symmetricChannelScales(const QVector<float> &weights, const QVector<int> &shape,
                                      int channelAxis);
/// w_q = round(w / scale[c]) clamped to [-127, 127] (symmetric, zero point 0).
QVector<qint8> quantizePerChannel(const QVector<float> &weights, const QVector<int> &shape,
                                  int channelAxis, const QVector<float> &scales);
/// b_q[c] = round(b[c] / (inputScale * weightScales[c])), saturated to int32. weightScales
/// may hold one entry (per-tensor) or one per channel.
QVector<qint32> quantizeBias(const QVector<float> &bias, float inputScale,
                             const QVector<float> &weightScales);
/// The int32 bias scales TFLite stores: inputScale * weightScales[c].
QVector<float> biasScales(float inputScale, const QVector<float> &weightScales);

/// Fused activation as an int8 clamp in the output domain (tm_nn_activation_t):
/// None [-128, 127]; Relu [zp, 127]; Relu6 [zp, zp + round(6 / scale)], clamped to int8.
std::pair<int, int> activationRange(Activation activation, const QuantParams &output);

/// The real requantization multiplier u / s_y of an int8 anomaly-score op (KMeansScore u = s_x^2,
/// GmmScore u = s_x^2 * s_iv / 2, SquaredError u = s^2 / n; Graph.h), in double from the float
/// scales. Int8Executor and ModelPackageWriter both take it from here, so host and package agree.
/// 0 for any other op.
double scoreRequantizationScale(const Graph &graph, const Node &node);

/// L * real for the score kernels' saturation limit L (tm_nn_score_limit, tm_nn.h) under this
/// multiplier: at least 256 means saturating a score at L never changes its int8 output. 0 when
/// real is not representable (tm_nn_quantize_multiplier refuses it).
double scoreSaturationReach(double real);

/// Signal-to-quantization-noise ratio in dB: 10 log10(sum ref^2 / sum (ref - test)^2).
/// +infinity when the two are identical, NaN when the sizes differ or are 0. A reference of
/// zeros with a non-zero difference gives -infinity.
double sqnrDb(const QVector<float> &reference, const QVector<float> &test);

} // namespace tinyml::model
