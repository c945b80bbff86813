#include "model/Int8Executor.h"

#include "tm_nn.h"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>

namespace tinyml::model {
namespace {

bool fail(QString *error, const QString &message)
{
    if (error)
        *error = message;
    return false;
}

QString statusText(tm_nn_status_t s)
{
    switch (s) {
    case TM_NN_OK: return QStringLiteral("ok");
    case TM_NN_ARG_ERROR: return QStringLiteral("argument error");
    case TM_NN_BUFFER_ERROR: return QStringLiteral("scratch buffer error");
    }
    return QStringLiteral("status %1").arg(int(s));
}

QuantParams quantOf(const TensorDesc &t)
{
    QuantParams q;
    if (!t.scales.isEmpty())
        q.scale = t.scales[0];
    if (!t.zeroPoints.isEmpty())
        q.zeroPoint = t.zeroPoints[0];
    return q;
}

tm_nn_dims_t nhwc(const QVector<int> &s)
{
    // [1,H,W,C], or [1,C] as [1,1,1,C]
    if (s.size() == 4)
        return {s[0], s[1], s[2], s[3]};
    int n = 1;
    for (int d : s)
        n *= d;
    return {1, 1, 1, n};
}

const int32_t *i32(const QVector<qint32> &v) { return reinterpret_cast<const int32_t *>(v.constData()); }

/// Concat input requantization (see the header): copy when the quantization matches.
struct ConcatInput {
    bool copy = true;
    int32_t zeroPoint = 0;
    int32_t multiplier = 0;
    int32_t shift = 0;
};

} // namespace

struct Int8Executor::Impl {
    struct Prepared {
        tm_nn_dims_t in{}, filter{}, out{};
        tm_nn_conv_params_t conv{};
        tm_nn_fc_params_t fc{};
        tm_nn_pool_params_t pool{};
        tm_nn_add_params_t add{};
        tm_nn_softmax_params_t softmax{};
        QVector<int32_t> multiplier, shift;
        QVector<qint8> weights;
        QVector<qint32> bias;
        int clampMin = -128, clampMax = 127;      ///< standalone Relu / Relu6 / Clip
        QVector<ConcatInput> concat;
        tm_nn_score_params_t score{};             ///< KMeansScore / GmmScore / SquaredError
        QVector<qint32> centers, invVars, offsets;
        int components = 0;
    };

    bool prepared = false;
    bool record = false;
    Graph graph;
    QVector<Prepared> nodes;
    QVector<int32_t> scratch;                     ///< int32: keeps the 4-byte alignment
    QVector<QVector<qint8>> values;
    QVector<QVector<qint8>> constants;           ///< int8 constants used as data (Add, Concat)
    QVector<int> lastUse;

    const QVector<qint8> &valuesOf(int t) const
    {
        return graph.tensors[t].isConstant() ? constants[t] : values[t];
    }

    bool prepareNode(int index, QString *error);
    bool runNode(int index, QString *error);
};

Int8Executor::Int8Executor() : d(std::make_unique<Impl>()) {}
Int8Executor::~Int8Executor() = default;
Int8Executor::Int8Executor(Int8Executor &&) noexcept = default;
Int8Executor &Int8Executor::operator=(Int8Executor &&) noexcept = default;

bool Int8Executor::Impl::prepareNode(int index, QString *error)
{
    const Node &n = graph.nodes[index];
    const QString where = QStringLiteral("node %1 \"%2\" (%3)").arg(index).arg(n.name, opName(n.op));
    auto err = [&](const QString &m) { return fail(error, QStringLiteral("%1: %2").arg(where, m)); };
    Prepared &p = nodes[index];
    const TensorDesc &x = graph.tensors[n.inputs[0]];
    const TensorDesc &y = graph.tensors[n.outputs[0]];
    const QuantParams qx = quantOf(x), qy = quantOf(y);
    p.in = nhwc(x.shape);
    p.out = nhwc(y.shape);
    const auto [actMin, actMax] = activationRange(n.activation, qy);
    int32_t scratchBytes = 0;

    switch (n.op) {
    case OpType::Conv2D:
    case OpType::DepthwiseConv2D:
    case OpType::FullyConnected: {
        const TensorDesc &w = graph.tensors[n.inputs[1]];
        p.weights = w.int8Values();
        const int cout = y.shape.last();
        p.bias = n.inputs.size() > 2 ? graph.tensors[n.inputs[2]].int32Values() : QVector<qint32>(cout, 0);
        p.multiplier.resize(cout);
        p.shift.resize(cout);
        for (int c = 0; c < cout; ++c) {
            const double ws = w.scales.size() == 1 ? double(w.scales[0]) : double(w.scales[c]);
            // TFLite: effective scale in double from the float scales.
            const double real = double(qx.scale) * ws / double(qy.scale);
            if (tm_nn_quantize_multiplier(real, &p.multiplier[c], &p.shift[c]) != TM_NN_OK)
                return err(QStringLiteral("requantization scale %1 of channel %2 out of range").arg(real).arg(c));
        }
        // The kernels accumulate in int32 as TFLite does; refuse graphs where that could
        // overflow (C signed overflow, and a device/host mismatch): |acc| <= |bias| + taps *
        // 255 * 128, and the requantized value must stay far from the int32 limits.
        const qint64 taps = n.op == OpType::FullyConnected ? x.elementCount()
                            : w.elementCount() / cout;
        qint64 maxBias = 0;
        for (qint32 v : p.bias)
            maxBias = std::max(maxBias, std::abs(qint64(v)));
        const qint64 maxAcc = maxBias + taps * 255 * 128;
        double maxReal = 0;
        for (int c = 0; c < cout; ++c)
            maxReal = std::max(maxReal, double(qx.scale) * (w.scales.size() == 1 ? w.scales[0] : w.scales[c])
                                            / double(qy.scale));
        if (maxAcc > qint64(INT32_MAX) || double(maxAcc) * maxReal > double(1 << 30))
            return err(QStringLiteral("the int32 accumulator could overflow (bias up to %1, %2 taps, "
                                      "requantization scale up to %3)").arg(maxBias).arg(taps).arg(maxReal));
        if (n.op == OpType::FullyConnected) {
            p.filter = {cout, 1, 1, int32_t(x.elementCount())};
            p.in = {1, 1, 1, int32_t(x.elementCount())};
            p.out = {1, 1, 1, cout};
            p.fc.input_zero_point = qx.zeroPoint;
            p.fc.output_zero_point = qy.zeroPoint;
            p.fc.activation = {actMin, actMax};
            scratchBytes = tm_nn_fully_connected_s8_get_buffer_size(&p.filter);
        } else {
            p.filter = nhwc(w.shape);
            p.conv.input_zero_point = qx.zeroPoint;
            p.conv.output_zero_point = qy.zeroPoint;
            p.conv.stride = {n.strideH, n.strideW};
            p.conv.padding = {n.padTop, n.padLeft};
            p.conv.dilation = {1, 1};
            p.conv.depth_multiplier = n.op == OpType::DepthwiseConv2D ? cout / x.shape.last() : 1;
            p.conv.activation = {actMin, actMax};
            scratchBytes = n.op == OpType::Conv2D
                               ? tm_nn_conv2d_s8_get_buffer_size(&p.in, &p.filter)
                               : tm_nn_depthwise_conv2d_s8_get_buffer_size(&p.in, &p.filter);
        }
        break;
    }
    case OpType::MaxPool2D:
    case OpType::AvgPool2D:
        p.pool.stride = {n.strideH, n.strideW};
        p.pool.padding = {n.padTop, n.padLeft};
        p.pool.filter = {n.kernelH, n.kernelW};
        p.pool.activation = {-128, 127};
        if (n.op == OpType::AvgPool2D)
            scratchBytes = tm_nn_avg_pool_s8_get_buffer_size(&p.out);
        break;
    case OpType::GlobalAvgPool:
        p.pool.stride = {1, 1};
        p.pool.padding = {0, 0};
        p.pool.filter = {x.shape[1], x.shape[2]};
        p.pool.activation = {-128, 127};
        p.out = {1, 1, 1, x.shape[3]};
        scratchBytes = tm_nn_avg_pool_s8_get_buffer_size(&p.out);
        break;
    case OpType::Add: {
        const QuantParams qb = quantOf(graph.tensors[n.inputs[1]]);
        if (tm_nn_add_prepare(qx.scale, qx.zeroPoint, qb.scale, qb.zeroPoint, qy.scale, qy.zeroPoint, &p.add)
            != TM_NN_OK)
            return err(QStringLiteral("input/output scales give an add multiplier out of range"));
        p.add.activation = {actMin, actMax};
        break;
    }
    case OpType::Relu:
        p.clampMin = std::max(-128, qy.zeroPoint);
        break;
    case OpType::Relu6:
        std::tie(p.clampMin, p.clampMax) = activationRange(Activation::Relu6, qy);
        break;
    case OpType::Clip:
        p.clampMin = quantizeValue(n.clipMin, qy);
        p.clampMax = quantizeValue(n.clipMax, qy);
        break;
    case OpType::Reshape:
        break;
    case OpType::Softmax:
        p.softmax.input_scale = qx.scale;
        p.softmax.beta = 1.0f;
        break;
    case OpType::Concat:
        for (int t : n.inputs) {
            const QuantParams qi = quantOf(graph.tensors[t]);
            ConcatInput c;
            c.zeroPoint = qi.zeroPoint;
            if (qi.scale != qy.scale || qi.zeroPoint != qy.zeroPoint) {
                c.copy = false;
                const double ratio = double(qi.scale) / double(qy.scale);
                // Bounded so that (q - zp) << shift cannot wrap inside the multiply.
                if (ratio >= 65536.0
                    || tm_nn_quantize_multiplier(ratio, &c.multiplier, &c.shift) != TM_NN_OK)
                    return err(QStringLiteral("input \"%1\" scale is %2 times the output's; cannot requantize")
                                   .arg(graph.tensors[t].name).arg(ratio));
            }
            p.concat.append(c);
        }
        break;
    case OpType::KMeansScore:
    case OpType::GmmScore:
    case OpType::SquaredError: {
        const double real = scoreRequantizationScale(graph, n);
        p.score.output_zero_point = qy.zeroPoint;
        if (tm_nn_quantize_multiplier(real, &p.score.multiplier, &p.score.shift) != TM_NN_OK)
            return err(QStringLiteral("score requantization scale %1 out of range").arg(real));
        if (n.op != OpType::SquaredError) {
            const TensorDesc &c = graph.tensors[n.inputs[1]];
            p.centers = c.int32Values();
            p.components = c.shape[0];
        }
        if (n.op == OpType::GmmScore) {
            p.invVars = graph.tensors[n.inputs[2]].int32Values();
            p.offsets = graph.tensors[n.inputs[3]].int32Values();
        }
        break;
    }
    case OpType::BatchNorm:
        return err(QStringLiteral("BatchNorm cannot run in an int8 graph; fold it first"));
    }
    if (scratchBytes < 0)
        return err(QStringLiteral("kernel refused the shapes (scratch size %1)").arg(scratchBytes));
    if (scratch.size() * 4 < scratchBytes)
        scratch.resize((scratchBytes + 3) / 4);
    return true;
}

bool Int8Executor::prepare(const Graph &graph, QString *error)
{
    d->prepared = false;
    d->graph = graph;
    if (!d->graph.quantized)
        return fail(error, QStringLiteral("Int8Executor runs quantized graphs; this one is float (use FloatExecutor)"));
    if (!d->graph.inferShapes(error))
        return false;
    d->nodes = QVector<Impl::Prepared>(d->graph.nodes.size());
    d->constants = QVector<QVector<qint8>>(d->graph.tensors.size());
    for (int i = 0; i < d->graph.tensors.size(); ++i)
        if (d->graph.tensors[i].isConstant() && d->graph.tensors[i].dtype == DType::Int8)
            d->constants[i] = d->graph.tensors[i].int8Values();
    d->scratch.clear();
    for (int i = 0; i < d->graph.nodes.size(); ++i)
        if (!d->prepareNode(i, error))
            return false;
    d->lastUse = QVector<int>(d->graph.tensors.size(), -1);
    for (int i = 0; i < d->graph.nodes.size(); ++i)
        for (int t : d->graph.nodes[i].inputs)
            d->lastUse[t] = i;
    for (int t : d->graph.outputs)
        d->lastUse[t] = d->graph.nodes.size();
    d->values = QVector<QVector<qint8>>(d->graph.tensors.size());
    d->prepared = true;
    return true;
}

bool Int8Executor::isPrepared() const { return d->prepared; }
const Graph &Int8Executor::graph() const { return d->graph; }

QuantParams Int8Executor::inputQuant() const
{
    return d->prepared ? quantOf(d->graph.tensors[d->graph.inputs[0]]) : QuantParams{};
}

QuantParams Int8Executor::outputQuant() const
{
    return d->prepared ? quantOf(d->graph.tensors[d->graph.outputs[0]]) : QuantParams{};
}

QVector<qint8> Int8Executor::quantizeInput(const QVector<float> &input) const
{
    return quantize(input, inputQuant());
}

QVector<float> Int8Executor::dequantizeOutput(const QVector<qint8> &output) const
{
    return dequantize(output, outputQuant());
}

void Int8Executor::setRecordIntermediates(bool on) { d->record = on; }
const QVector<QVector<qint8>> &Int8Executor::tensorValues() const { return d->values; }

QVector<float> Int8Executor::dequantizedTensor(int tensorIndex) const
{
    if (tensorIndex < 0 || tensorIndex >= d->values.size())
        return {};
    return dequantize(d->values[tensorIndex], quantOf(d->graph.tensors[tensorIndex]));
}

bool Int8Executor::Impl::runNode(int index, QString *error)
{
    const Node &n = graph.nodes[index];
    Prepared &p = nodes[index];
    const QVector<qint8> &xv = valuesOf(n.inputs[0]);
    const int8_t *x = reinterpret_cast<const int8_t *>(xv.constData());
    QVector<qint8> yv(int(graph.tensors[n.outputs[0]].elementCount()));
    int8_t *y = reinterpret_cast<int8_t *>(yv.data());
    tm_nn_context_t ctx{scratch.isEmpty() ? nullptr : scratch.data(), int32_t(scratch.size() * 4)};
    const tm_nn_per_channel_quant_t quant{p.multiplier.constData(), p.shift.constData()};
    const int8_t *w = reinterpret_cast<const int8_t *>(p.weights.constData());
    const int32_t *b = reinterpret_cast<const int32_t *>(p.bias.constData());
    tm_nn_status_t s = TM_NN_OK;

    switch (n.op) {
    case OpType::Conv2D:
        s = tm_nn_conv2d_s8(&ctx, &p.conv, &quant, &p.in, x, &p.filter, w, b, &p.out, y);
        break;
    case OpType::DepthwiseConv2D:
        s = tm_nn_depthwise_conv2d_s8(&ctx, &p.conv, &quant, &p.in, x, &p.filter, w, b, &p.out, y);
        break;
    case OpType::FullyConnected:
        s = tm_nn_fully_connected_s8(&ctx, &p.fc, &quant, &p.in, x, &p.filter, w, b, &p.out, y);
        break;
    case OpType::MaxPool2D:
        s = tm_nn_max_pool_s8(&p.pool, &p.in, x, &p.out, y);
        break;
    case OpType::AvgPool2D:
    case OpType::GlobalAvgPool:
        s = tm_nn_avg_pool_s8(&ctx, &p.pool, &p.in, x, &p.out, y);
        break;
    case OpType::Add: {
        const int8_t *x2 = reinterpret_cast<const int8_t *>(valuesOf(n.inputs[1]).constData());
        s = tm_nn_add_s8(&p.add, x, x2, y, int32_t(yv.size()));
        break;
    }
    case OpType::Relu:
    case OpType::Relu6:
    case OpType::Clip:
        for (int k = 0; k < yv.size(); ++k)
            yv[k] = qint8(std::clamp<int>(xv[k], p.clampMin, p.clampMax));
        break;
    case OpType::Reshape:
        yv = xv;
        break;
    case OpType::Softmax: {
        const int row = graph.tensors[n.inputs[0]].shape.last();
        s = tm_nn_softmax_s8(&p.softmax, x, int32_t(xv.size() / row), row, y);
        break;
    }
    case OpType::Concat: {
        const int outLast = graph.tensors[n.outputs[0]].shape.last();
        const qint64 outer = yv.size() / outLast;
        const int zpOut = quantOf(graph.tensors[n.outputs[0]]).zeroPoint;
        int offset = 0;
        for (int i = 0; i < n.inputs.size(); ++i) {
            const QVector<qint8> &v = valuesOf(n.inputs[i]);
            const int last = graph.tensors[n.inputs[i]].shape.last();
            const ConcatInput &c = p.concat[i];
            for (qint64 o = 0; o < outer; ++o) {
                const qint8 *src = v.constData() + o * last;
                qint8 *dst = yv.data() + o * outLast + offset;
                if (c.copy) {
                    std::memcpy(dst, src, size_t(last));
                    continue;
                }
                for (int k = 0; k < last; ++k) {
                    const int32_t r = tm_nn_multiply_by_quantized_multiplier(int32_t(src[k]) - c.zeroPoint,
                                                                             c.multiplier, c.shift);
                    dst[k] = qint8(std::clamp<int32_t>(zpOut + r, -128, 127));
                }
            }
            offset += last;
        }
        break;
    }
    case OpType::KMeansScore:
        s = tm_nn_kmeans_score_s8(&p.score, x, int32_t(xv.size()), i32(p.centers), p.components, y);
        break;
    case OpType::GmmScore:
        s = tm_nn_gmm_score_s8(&p.score, x, int32_t(xv.size()), i32(p.centers), i32(p.invVars), i32(p.offsets),
                               p.components, y);
        break;
    case OpType::SquaredError: {
        const int8_t *x2 = reinterpret_cast<const int8_t *>(valuesOf(n.inputs[1]).constData());
        s = tm_nn_squared_error_s8(&p.score, x, x2, int32_t(xv.size()), y);
        break;
    }
    case OpType::BatchNorm:
        return fail(error, QStringLiteral("BatchNorm in an int8 graph"));
    }
    if (s != TM_NN_OK)
        return fail(error, QStringLiteral("node %1 \"%2\" (%3): kernel failed: %4")
                               .arg(index).arg(n.name, opName(n.op), statusText(s)));
    values[n.outputs[0]] = std::move(yv);
    return true;
}

std::optional<QVector<qint8>> Int8Executor::run(const QVector<qint8> &input, QString *error)
{
    if (!d->prepared) {
        fail(error, QStringLiteral("Int8Executor: prepare() a graph first"));
        return std::nullopt;
    }
    const Graph &g = d->graph;
    const int in = g.inputs[0];
    if (input.size() != g.tensors[in].elementCount()) {
        fail(error, QStringLiteral("input has %1 values, the graph input \"%2\" takes %3")
                        .arg(input.size()).arg(g.tensors[in].name).arg(g.tensors[in].elementCount()));
        return std::nullopt;
    }
    d->values = QVector<QVector<qint8>>(g.tensors.size());
    d->values[in] = input;
    for (int i = 0; i < g.nodes.size(); ++i) {
        if (!d->runNode(i, error))
            return std::nullopt;
        if (!d->record)
            for (int t : g.nodes[i].inputs)
                if (d->lastUse[t] == i && !g.tensors[t].isConstant())
                    d->values[t].clear();
    }
    return d->values[g.outputs[0]];
}

std::optional<QVector<float>> Int8Executor::runFloat(const QVector<float> &input, QString *error)
{
    const auto out = run(quantizeInput(input), error);
    if (!out)
        return std::nullopt;
    return dequantizeOutput(*out);
}

} // namespace tinyml::model
