#include "Quantizer.h"

#include "model/FloatExecutor.h"
#include "model/QuantizationMath.h"

#include <QJsonArray>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace tinyml::training {

using model::Activation;
using model::Graph;
using model::Node;
using model::OpType;
using model::TensorDesc;

namespace {

QVector<float> floatsOf(const TensorDesc &t)
{
    QVector<float> v(int(t.data.size() / 4));
    std::memcpy(v.data(), t.data.constData(), size_t(v.size()) * 4);
    return v;
}

QByteArray bytesOf(const QVector<float> &v)
{
    return QByteArray(reinterpret_cast<const char *>(v.constData()), int(v.size() * 4));
}

template <typename T>
QByteArray rawBytes(const QVector<T> &v)
{
    return QByteArray(reinterpret_cast<const char *>(v.constData()), int(v.size() * sizeof(T)));
}

/// Index of the node producing tensor t, or -1.
int producerOf(const Graph &g, int t)
{
    for (int i = 0; i < g.nodes.size(); ++i)
        if (g.nodes[i].outputs.contains(t))
            return i;
    return -1;
}

int consumerCount(const Graph &g, int t)
{
    int n = g.outputs.count(t);
    for (const Node &node : g.nodes)
        n += node.inputs.count(t);
    return n;
}

bool isWeighted(OpType op)
{
    return op == OpType::Conv2D || op == OpType::DepthwiseConv2D || op == OpType::FullyConnected;
}

bool isActivationTensor(const Graph &g, int t)
{
    return !g.tensors[t].isConstant();
}

// tm_nn.h's bounds of the score tables.
constexpr double kMaxScoreCenter = 1 << 20;
constexpr double kMaxScoreWeight = 1 << 20;

/// The int32 tables of an anomaly-score node whose input and output are already quantized
/// (Graph.h, int8 rules), appended as new tensors; and the check that the kernel's saturation at
/// L never changes an output: L * u / s_y >= 256.
bool quantizeScoreTables(Graph &g, int index, QString *error)
{
    Node &n = g.nodes[index];
    const TensorDesc &x = g.tensors[n.inputs[0]];
    const TensorDesc &y = g.tensors[n.outputs[0]];
    const float sx = x.scales[0];
    const int zx = x.zeroPoints[0];
    const model::QuantParams yq{y.scales[0], y.zeroPoints[0]};
    auto fail = [&](const QString &m) {
        if (error)
            *error = m;
        return false;
    };
    if (n.op == OpType::SquaredError) {
        if (g.tensors[n.inputs[1]].scales != x.scales || g.tensors[n.inputs[1]].zeroPoints != x.zeroPoints)
            return fail(QStringLiteral("the reconstruction and the input it is compared with must share one "
                                       "quantization (no calibration range for \"%1\")")
                            .arg(g.tensors[n.inputs[1]].name));
    } else {
        // Centres in the input's integer domain, not clamped to int8 (a centroid outside the input
        // range keeps its true distance).
        TensorDesc c = g.tensors[n.inputs[1]];
        const QVector<float> cv = floatsOf(c);
        QVector<qint32> cq(cv.size());
        for (int k = 0; k < cv.size(); ++k)
            cq[k] = qint32(std::clamp(std::round(double(cv[k]) / double(sx)) + zx, -kMaxScoreCenter, kMaxScoreCenter));
        g.tensors.append(TensorDesc::constantInt32(c.name, c.shape, cq, {sx}));
        g.tensors.last().zeroPoints = {zx};
        n.inputs[1] = g.tensors.size() - 1;
    }
    if (n.op == OpType::GmmScore) {
        const TensorDesc iv = g.tensors[n.inputs[2]], off = g.tensors[n.inputs[3]];
        const QVector<float> ivv = floatsOf(iv), offv = floatsOf(off);
        double maxIv = 0, maxOff = 0;
        for (float v : ivv)
            maxIv = std::max(maxIv, double(v));
        for (float v : offv)
            maxOff = std::max(maxOff, std::abs(double(v)));
        // Units u of the score small enough for precision, large enough that the output's real
        // range and every offset stay within 2^29 units (int32 offsets, no saturation in range).
        const double maxR = double(yq.scale) * std::max(std::abs(-128.0 - yq.zeroPoint), std::abs(127.0 - yq.zeroPoint));
        const double uMin = std::max(maxR, maxOff) / double(1 << 29);
        const double s2 = double(sx) * double(sx);
        const float siv = float(std::max(2.0 * uMin / s2, maxIv / kMaxScoreWeight));
        if (!(siv > 0) || !std::isfinite(siv))
            return fail(QStringLiteral("inverse variances give no usable scale (largest %1)").arg(maxIv));
        const double u = s2 * double(siv) / 2.0;
        QVector<qint32> ivq(ivv.size()), offq(offv.size());
        for (int k = 0; k < ivv.size(); ++k)
            ivq[k] = qint32(std::clamp(std::round(double(ivv[k]) / double(siv)), 0.0, kMaxScoreWeight));
        for (int k = 0; k < offv.size(); ++k)
            offq[k] = qint32(std::clamp(std::round(double(offv[k]) / u), -2147483647.0, 2147483647.0));
        g.tensors.append(TensorDesc::constantInt32(iv.name, iv.shape, ivq, {siv}));
        n.inputs[2] = g.tensors.size() - 1;
        g.tensors.append(TensorDesc::constantInt32(off.name, off.shape, offq, {float(u)}));
        n.inputs[3] = g.tensors.size() - 1;
    }
    const double real = model::scoreRequantizationScale(g, n);
    if (model::scoreSaturationReach(real) < 256.0)
        return fail(QStringLiteral("the score's int8 range (scale %1) is too wide for its integer units "
                                   "(multiplier %2)").arg(yq.scale).arg(real));
    return true;
}

} // namespace

QString calibrationName(Calibration c)
{
    return c == Calibration::MinMax ? QStringLiteral("minmax") : QStringLiteral("percentile");
}

std::optional<Calibration> calibrationFromName(const QString &name)
{
    if (name == QLatin1String("minmax"))
        return Calibration::MinMax;
    if (name == QLatin1String("percentile"))
        return Calibration::Percentile;
    return std::nullopt;
}

void removeUnusedTensors(Graph &g)
{
    QVector<bool> used(g.tensors.size(), false);
    for (const Node &n : g.nodes) {
        for (int t : n.inputs) used[t] = true;
        for (int t : n.outputs) used[t] = true;
    }
    for (int t : g.inputs) used[t] = true;
    for (int t : g.outputs) used[t] = true;
    QVector<int> remap(g.tensors.size(), -1);
    QVector<TensorDesc> kept;
    for (int i = 0; i < g.tensors.size(); ++i)
        if (used[i]) {
            remap[i] = kept.size();
            kept.append(g.tensors[i]);
        }
    g.tensors = kept;
    for (Node &n : g.nodes) {
        for (int &t : n.inputs) t = remap[t];
        for (int &t : n.outputs) t = remap[t];
    }
    for (int &t : g.inputs) t = remap[t];
    for (int &t : g.outputs) t = remap[t];
}

std::optional<Graph> foldBatchNorm(const Graph &graph, QString *error)
{
    Graph g = graph;
    QVector<Node> nodes;
    for (int i = 0; i < g.nodes.size(); ++i) {
        const Node &bn = g.nodes[i];
        if (bn.op != OpType::BatchNorm) {
            nodes.append(bn);
            continue;
        }
        // The producer is already in `nodes` (topological order).
        int p = -1;
        for (int k = 0; k < nodes.size(); ++k)
            if (nodes[k].outputs.contains(bn.inputs[0]))
                p = k;
        if (p < 0 || !isWeighted(nodes[p].op) || nodes[p].activation != Activation::None ||
            consumerCount(g, bn.inputs[0]) != 1) {
            if (error)
                *error = QStringLiteral("node %1 \"%2\": BatchNorm must follow a conv2d, depthwise_conv2d "
                                        "or fully_connected whose output feeds only it, to be folded")
                             .arg(i).arg(bn.name);
            return std::nullopt;
        }
        Node &prod = nodes[p];
        const QVector<float> gamma = floatsOf(g.tensors[bn.inputs[1]]), beta = floatsOf(g.tensors[bn.inputs[2]]),
                             mean = floatsOf(g.tensors[bn.inputs[3]]), var = floatsOf(g.tensors[bn.inputs[4]]);
        TensorDesc w = g.tensors[prod.inputs[1]];
        QVector<float> wv = floatsOf(w);
        const int axis = model::weightChannelAxis(prod.op);
        const int channels = w.shape[axis];
        if (channels != gamma.size()) {
            if (error)
                *error = QStringLiteral("node %1 \"%2\": %3 BatchNorm channels for %4 output channels")
                             .arg(i).arg(bn.name).arg(gamma.size()).arg(channels);
            return std::nullopt;
        }
        QVector<double> s(channels);
        for (int c = 0; c < channels; ++c)
            s[c] = double(gamma[c]) / std::sqrt(double(var[c]) + double(bn.epsilon));
        qint64 inner = 1;
        for (int d = axis + 1; d < w.shape.size(); ++d)
            inner *= w.shape[d];
        for (qint64 k = 0; k < wv.size(); ++k)
            wv[k] = float(wv[k] * s[(k / inner) % channels]);
        w.data = bytesOf(wv);
        w.name += QStringLiteral(".folded");
        g.tensors.append(w);
        prod.inputs[1] = g.tensors.size() - 1;

        QVector<float> b(channels, 0.0f);
        if (prod.inputs.size() > 2)
            b = floatsOf(g.tensors[prod.inputs[2]]);
        TensorDesc bias;
        bias.name = (prod.inputs.size() > 2 ? g.tensors[prod.inputs[2]].name : prod.name + QStringLiteral(".bias")) +
                    QStringLiteral(".folded");
        bias.shape = {channels};
        for (int c = 0; c < channels; ++c)
            b[c] = float((double(b[c]) - mean[c]) * s[c] + beta[c]);
        bias.data = bytesOf(b);
        g.tensors.append(bias);
        if (prod.inputs.size() > 2)
            prod.inputs[2] = g.tensors.size() - 1;
        else
            prod.inputs.append(g.tensors.size() - 1);
        prod.outputs = bn.outputs;
    }
    g.nodes = nodes;
    removeUnusedTensors(g);
    return g;
}

Graph fuseActivations(const Graph &graph)
{
    Graph g = graph;
    QVector<Node> nodes;
    for (const Node &n : g.nodes) {
        Activation act = Activation::None;
        if (n.op == OpType::Relu)
            act = Activation::Relu;
        else if (n.op == OpType::Relu6 || (n.op == OpType::Clip && n.clipMin == 0 && n.clipMax == 6))
            act = Activation::Relu6;
        int p = -1;
        if (act != Activation::None)
            for (int k = 0; k < nodes.size(); ++k)
                if (nodes[k].outputs.contains(n.inputs[0]))
                    p = k;
        if (p >= 0 && (isWeighted(nodes[p].op) || nodes[p].op == OpType::Add) &&
            nodes[p].activation == Activation::None && consumerCount(g, n.inputs[0]) == 1) {
            nodes[p].activation = act;
            nodes[p].outputs = n.outputs;
            continue;
        }
        nodes.append(n);
    }
    g.nodes = nodes;
    removeUnusedTensors(g);
    return g;
}

std::optional<QHash<QString, TensorRange>> calibrateRanges(const Graph &graph, const TrainingData &calibration,
                                                          const QuantizeOptions &options, QString *error)
{
    model::FloatExecutor exec;
    if (!exec.prepare(graph, error))
        return std::nullopt;
    exec.setRecordIntermediates(true);
    const Graph &g = exec.graph();
    const QVector<int> rows = representativeRows(calibration, options.calibrationSamples, options.seed);
    if (rows.isEmpty()) {
        if (error)
            *error = QStringLiteral("no calibration samples");
        return std::nullopt;
    }
    const int n = g.tensors.size();
    QVector<TensorRange> range(n, {std::numeric_limits<float>::max(), std::numeric_limits<float>::lowest()});
    auto runRow = [&](int r) -> bool {
        const QVector<float> in(calibration.sample(r), calibration.sample(r) + calibration.inputSize());
        if (!exec.run(in, error))
            return false;
        return true;
    };
    for (int r : rows) {
        if (!runRow(r))
            return std::nullopt;
        const auto &vals = exec.tensorValues();
        for (int t = 0; t < n; ++t) {
            if (!isActivationTensor(g, t) || vals[t].isEmpty())
                continue;
            const auto [mn, mx] = std::minmax_element(vals[t].begin(), vals[t].end());
            range[t].min = std::min(range[t].min, *mn);
            range[t].max = std::max(range[t].max, *mx);
        }
    }
    if (options.calibration == Calibration::Percentile) {
        constexpr int kBins = 4096;
        QVector<QVector<qint64>> hist(n);
        QVector<qint64> total(n, 0);
        for (int t = 0; t < n; ++t)
            if (range[t].max > range[t].min)
                hist[t].fill(0, kBins);
        for (int r : rows) {
            if (!runRow(r))
                return std::nullopt;
            const auto &vals = exec.tensorValues();
            for (int t = 0; t < n; ++t) {
                if (hist[t].isEmpty() || vals[t].isEmpty())
                    continue;
                const double w = range[t].max - range[t].min;
                for (float v : vals[t])
                    ++hist[t][std::clamp(int((v - range[t].min) / w * kBins), 0, kBins - 1)];
                total[t] += vals[t].size();
            }
        }
        const double tail = std::clamp((100.0 - options.percentile) / 100.0, 0.0, 0.5);
        for (int t = 0; t < n; ++t) {
            if (hist[t].isEmpty())
                continue;
            const double w = double(range[t].max - range[t].min) / kBins;
            const qint64 cut = qint64(std::floor(tail * total[t]));
            qint64 acc = 0;
            int lo = 0, hi = kBins - 1;
            for (; lo < kBins; ++lo) {
                acc += hist[t][lo];
                if (acc > cut)
                    break;
            }
            acc = 0;
            for (; hi > 0; --hi) {
                acc += hist[t][hi];
                if (acc > cut)
                    break;
            }
            const float newMin = float(range[t].min + lo * w), newMax = float(range[t].min + (hi + 1) * w);
            if (newMax > newMin) {
                range[t].min = std::max(range[t].min, newMin);
                range[t].max = std::min(range[t].max, newMax);
            }
        }
    }
    QHash<QString, TensorRange> out;
    for (int t = 0; t < n; ++t)
        if (isActivationTensor(g, t) && range[t].max >= range[t].min)
            out.insert(g.tensors[t].name, range[t]);
    return out;
}

std::optional<Graph> quantizeWithRanges(const Graph &prepared, const QHash<QString, TensorRange> &calibrated,
                                        QString *error)
{
    Graph g = prepared;
    // SquaredError compares integers directly: its reconstruction (input 0) gets the range, and
    // so the scale and zero point, of what it reconstructs (input 1, the graph input).
    QHash<QString, TensorRange> ranges = calibrated;
    for (const Node &n : g.nodes)
        if (n.op == OpType::SquaredError && n.inputs.size() == 2) {
            const auto it = ranges.constFind(g.tensors[n.inputs[1]].name);
            if (it != ranges.constEnd())
                ranges.insert(g.tensors[n.inputs[0]].name, *it);
        }
    if (!g.inferShapes(error))
        return std::nullopt;
    auto fail = [&](const QString &m) {
        if (error)
            *error = m;
        return std::nullopt;
    };
    auto setAct = [&](int t, const model::QuantParams &q) {
        TensorDesc &d = g.tensors[t];
        d.dtype = DType::Int8;
        d.scales = {q.scale};
        d.zeroPoints = {q.zeroPoint};
    };
    auto fromRange = [&](int t) -> std::optional<model::QuantParams> {
        const auto it = ranges.constFind(g.tensors[t].name);
        if (it == ranges.constEnd())
            return std::nullopt;
        return model::chooseQuantParams(it->min, it->max);
    };
    for (int t : g.inputs) {
        auto q = fromRange(t);
        if (!q)
            return fail(QStringLiteral("no calibration range for graph input \"%1\"").arg(g.tensors[t].name));
        setAct(t, *q);
    }
    for (int i = 0; i < g.nodes.size(); ++i) {
        Node &n = g.nodes[i];
        const int out = n.outputs[0];
        const TensorDesc &x = g.tensors[n.inputs[0]];
        if (x.dtype != DType::Int8)
            return fail(QStringLiteral("node %1 \"%2\": input \"%3\" has no quantization (not produced earlier)")
                            .arg(i).arg(n.name, x.name));
        const model::QuantParams xq{x.scales[0], x.zeroPoints[0]};
        switch (n.op) {
        case OpType::BatchNorm:
            return fail(QStringLiteral("node %1 \"%2\": fold BatchNorm before quantizing").arg(i).arg(n.name));
        case OpType::MaxPool2D:
        case OpType::AvgPool2D:
        case OpType::GlobalAvgPool:
        case OpType::Reshape:
        case OpType::Relu:
        case OpType::Relu6:
        case OpType::Clip:
            setAct(out, xq);
            break;
        case OpType::Softmax:
            setAct(out, {1.0f / 256.0f, -128});
            break;
        default: {
            auto q = fromRange(out);
            if (!q)
                return fail(QStringLiteral("node %1 \"%2\": no calibration range for output \"%3\"")
                                .arg(i).arg(n.name, g.tensors[out].name));
            setAct(out, *q);
            break;
        }
        }
        if (model::isAnomalyScoreOp(n.op)) {
            QString e;
            if (!quantizeScoreTables(g, i, &e))
                return fail(QStringLiteral("node %1 \"%2\": %3").arg(i).arg(n.name, e));
        }
        if (isWeighted(n.op)) {
            TensorDesc w = g.tensors[n.inputs[1]];
            if (w.dtype != DType::Float32)
                return fail(QStringLiteral("node %1 \"%2\": weights are not float").arg(i).arg(n.name));
            const QVector<float> wv = floatsOf(w);
            const int axis = model::weightChannelAxis(n.op);
            const QVector<float> scales = model::symmetricChannelScales(wv, w.shape, axis);
            w.data = rawBytes(model::quantizePerChannel(wv, w.shape, axis, scales));
            w.dtype = DType::Int8;
            w.scales = scales;
            w.zeroPoints = QVector<int>(scales.size(), 0);
            g.tensors.append(w);
            n.inputs[1] = g.tensors.size() - 1;
            if (n.inputs.size() > 2) {
                TensorDesc b = g.tensors[n.inputs[2]];
                const QVector<float> bv = floatsOf(b);
                b.data = rawBytes(model::quantizeBias(bv, xq.scale, scales));
                b.dtype = DType::Int32;
                b.scales = model::biasScales(xq.scale, scales);
                b.zeroPoints = QVector<int>(scales.size(), 0);
                g.tensors.append(b);
                n.inputs[2] = g.tensors.size() - 1;
            }
        }
    }
    g.quantized = true;
    removeUnusedTensors(g);
    if (!g.validate(error))
        return std::nullopt;
    return g;
}

void widenAnomalyRanges(const Graph &graph, QHash<QString, TensorRange> *ranges)
{
    auto widen = [&](const QString &name, double below, double above, bool fromZero) {
        auto it = ranges->find(name);
        if (it == ranges->end())
            return;
        const double lo = fromZero ? std::min(0.0, double(it->min)) : double(it->min);
        const double w = double(it->max) - lo;
        it->min = float(lo - below * w);
        it->max = float(double(it->max) + above * w);
    };
    for (int t : graph.inputs)
        widen(graph.tensors[t].name, kAnomalyInputHeadroom, kAnomalyInputHeadroom, false);
    // The saved alarm threshold must lie inside the score's int8 range with room above it: a
    // score that saturates at or below the threshold never alarms (AUC 1, TPR 0). The threshold
    // comes from the test split's normal scores, which can exceed twice the train rows' largest.
    const double threshold = graph.meta.value(QStringLiteral("threshold")).toDouble();
    for (const Node &n : graph.nodes)
        if (model::isAnomalyScoreOp(n.op)) {
            const QString name = graph.tensors[n.outputs[0]].name;
            widen(name, 0.0, kAnomalyScoreHeadroom, true);
            auto it = ranges->find(name);
            if (it != ranges->end() && threshold > 0 && double(it->max) < (1.0 + kAnomalyScoreHeadroom) * threshold)
                it->max = float((1.0 + kAnomalyScoreHeadroom) * threshold);
        }
}

std::optional<Graph> quantizeGraph(const Graph &floatGraph, const TrainingData &calibration,
                                   const QuantizeOptions &options, QString *error)
{
    auto folded = foldBatchNorm(floatGraph, error);
    if (!folded)
        return std::nullopt;
    const Graph prepared = fuseActivations(*folded);
    auto ranges = calibrateRanges(prepared, calibration, options, error);
    if (!ranges)
        return std::nullopt;
    const bool anomaly = std::any_of(prepared.nodes.begin(), prepared.nodes.end(),
                                     [](const Node &n) { return model::isAnomalyScoreOp(n.op); });
    if (anomaly)
        widenAnomalyRanges(prepared, &*ranges);
    auto q = quantizeWithRanges(prepared, *ranges, error);
    if (!q)
        return std::nullopt;
    QJsonObject info{{QStringLiteral("scheme"), QStringLiteral("tflite-int8")},
                     {QStringLiteral("calibration"), calibrationName(options.calibration)},
                     {QStringLiteral("calibration_samples"),
                      std::min(options.calibrationSamples, calibration.count())}};
    if (options.calibration == Calibration::Percentile)
        info.insert(QStringLiteral("percentile"), options.percentile);
    if (anomaly)
        info.insert(QStringLiteral("anomaly_headroom"),
                    QJsonObject{{QStringLiteral("input"), kAnomalyInputHeadroom},
                                {QStringLiteral("score"), kAnomalyScoreHeadroom},
                                {QStringLiteral("rule"), QStringLiteral("input range widened by this share of its width on "
                                                                        "each side; score range [min(lo, 0), hi] "
                                                                        "extended above by this share of its width")}});
    q->meta.insert(QStringLiteral("quantization"), info);
    return q;
}

} // namespace tinyml::training
