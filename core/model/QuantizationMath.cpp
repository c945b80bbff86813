#include "model/QuantizationMath.h"

#include "tm_nn.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tinyml::model {
namespace {

int clampInt8(long long v) { return int(std::clamp<long long>(v, -128, 127)); }

// std::round rounds half away from zero, the rounding TFLite's quantizer uses.
long long roundAway(double v) { return std::llround(v); }

} // namespace

QuantParams chooseQuantParams(float min, float max)
{
    // The range must contain 0 so that zero padding and ReLU's floor are exact.
    const double lo = std::min(0.0, double(min));
    const double hi = std::max(0.0, double(max));
    QuantParams q;
    const double range = hi - lo;
    if (!(range > 0) || !std::isfinite(range)) {
        q.scale = 1.0f;
        q.zeroPoint = -128;
        return q;
    }
    q.scale = float(range / 255.0);
    q.zeroPoint = clampInt8(roundAway(-128.0 - lo / double(q.scale)));
    return q;
}

qint8 quantizeValue(float value, const QuantParams &q)
{
    const double v = double(value) / double(q.scale);
    if (std::isnan(v))
        return qint8(clampInt8(q.zeroPoint));
    const double clamped = std::clamp(v, -1e9, 1e9);   // llround of huge values is undefined
    return qint8(clampInt8(roundAway(clamped) + q.zeroPoint));
}

float dequantizeValue(qint8 value, const QuantParams &q)
{
    return q.scale * float(int(value) - q.zeroPoint);
}

QVector<qint8> quantize(const QVector<float> &values, const QuantParams &q)
{
    QVector<qint8> out(values.size());
    for (int i = 0; i < values.size(); ++i)
        out[i] = quantizeValue(values[i], q);
    return out;
}

QVector<float> dequantize(const QVector<qint8> &values, const QuantParams &q)
{
    QVector<float> out(values.size());
    for (int i = 0; i < values.size(); ++i)
        out[i] = dequantizeValue(values[i], q);
    return out;
}

int weightChannelAxis(OpType op)
{
    return op == OpType::DepthwiseConv2D ? 3 : 0;
}

namespace {

/// Channel of flat element i for a row-major shape and channel axis.
struct ChannelIndexer {
    ChannelIndexer(const QVector<int> &shape, int axis)
    {
        channels = axis >= 0 && axis < shape.size() ? shape[axis] : 1;
        inner = 1;
        for (int k = axis + 1; k < shape.size(); ++k)
            inner *= shape[k];
        if (channels < 1)
            channels = 1;
        if (inner < 1)
            inner = 1;
    }
    int operator()(qint64 i) const { return int((i / inner) % channels); }
    int channels;
    qint64 inner;
};

} // namespace

QVector<float> symmetricChannelScales(const QVector<float> &weights, const QVector<int> &shape, int channelAxis)
{
    const ChannelIndexer channelOf(shape, channelAxis);
    QVector<float> maxAbs(channelOf.channels, 0.0f);
    for (int i = 0; i < weights.size(); ++i) {
        const int c = channelOf(i);
        maxAbs[c] = std::max(maxAbs[c], std::fabs(weights[i]));
    }
    QVector<float> scales(channelOf.channels);
    for (int c = 0; c < scales.size(); ++c)
        scales[c] = maxAbs[c] > 0 ? maxAbs[c] / 127.0f : 1.0f;
    return scales;
}

QVector<qint8> quantizePerChannel(const QVector<float> &weights, const QVector<int> &shape, int channelAxis,
                                  const QVector<float> &scales)
{
    const ChannelIndexer channelOf(shape, channelAxis);
    QVector<qint8> out(weights.size());
    for (int i = 0; i < weights.size(); ++i) {
        const int c = channelOf(i);
        const float s = scales.size() == 1 ? scales[0] : (c < scales.size() ? scales[c] : 1.0f);
        const double v = std::clamp(double(weights[i]) / double(s), -1e9, 1e9);
        out[i] = qint8(std::clamp<long long>(roundAway(v), -127, 127));
    }
    return out;
}

QVector<float> biasScales(float inputScale, const QVector<float> &weightScales)
{
    QVector<float> out(weightScales.size());
    for (int c = 0; c < weightScales.size(); ++c)
        out[c] = inputScale * weightScales[c];
    return out;
}

QVector<qint32> quantizeBias(const QVector<float> &bias, float inputScale, const QVector<float> &weightScales)
{
    QVector<qint32> out(bias.size());
    for (int c = 0; c < bias.size(); ++c) {
        const float ws = weightScales.size() == 1 ? weightScales[0]
                                                  : (c < weightScales.size() ? weightScales[c] : 1.0f);
        const double v = double(bias[c]) / (double(inputScale) * double(ws));
        const double lim = double(std::numeric_limits<qint32>::max());
        out[c] = qint32(std::clamp<long long>(roundAway(std::clamp(v, -lim - 1, lim)),
                                              std::numeric_limits<qint32>::min(),
                                              std::numeric_limits<qint32>::max()));
    }
    return out;
}

std::pair<int, int> activationRange(Activation activation, const QuantParams &output)
{
    switch (activation) {
    case Activation::None:
        return {-128, 127};
    case Activation::Relu:
        return {clampInt8(output.zeroPoint), 127};
    case Activation::Relu6:
        // In double: with a tiny scale 6 / scale is beyond int (found by fuzz_model_package).
        return {clampInt8(output.zeroPoint),
                clampInt8(int(std::clamp(double(output.zeroPoint) + std::round(6.0 / double(output.scale)),
                                         -128.0, 127.0)))};
    }
    return {-128, 127};
}

double sqnrDb(const QVector<float> &reference, const QVector<float> &test)
{
    if (reference.size() != test.size() || reference.isEmpty())
        return std::numeric_limits<double>::quiet_NaN();
    double signal = 0, noise = 0;
    for (int i = 0; i < reference.size(); ++i) {
        const double r = reference[i];
        const double e = r - double(test[i]);
        signal += r * r;
        noise += e * e;
    }
    if (noise == 0)
        return std::numeric_limits<double>::infinity();
    if (signal == 0)
        return -std::numeric_limits<double>::infinity();
    return 10.0 * std::log10(signal / noise);
}

double scoreRequantizationScale(const Graph &graph, const Node &node)
{
    if (!isAnomalyScoreOp(node.op) || node.inputs.isEmpty() || node.outputs.isEmpty())
        return 0;
    const TensorDesc &x = graph.tensors[node.inputs[0]];
    const TensorDesc &y = graph.tensors[node.outputs[0]];
    if (x.scales.isEmpty() || y.scales.isEmpty())
        return 0;
    const double sx = double(x.scales[0]);
    double u = sx * sx;
    if (node.op == OpType::GmmScore) {
        const TensorDesc &iv = graph.tensors[node.inputs.value(2)];
        if (iv.scales.isEmpty())
            return 0;
        u = u * double(iv.scales[0]) / 2.0;
    } else if (node.op == OpType::SquaredError) {
        u /= double(std::max<qint64>(1, x.elementCount()));
    }
    return u / double(y.scales[0]);
}

double scoreSaturationReach(double real)
{
    tm_nn_score_params_t p{0, 0, 0};
    if (tm_nn_quantize_multiplier(real, &p.multiplier, &p.shift) != TM_NN_OK)
        return 0;
    return double(tm_nn_score_limit(&p)) * real;
}

} // namespace tinyml::model
