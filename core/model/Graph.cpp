#include "model/Graph.h"

#include <QJsonDocument>
#include <QStringDecoder>

#include <cmath>
#include <cstring>
#include <limits>

namespace tinyml::model {
namespace {

// Far above any model that fits a microcontroller, far below where products of dimensions
// could overflow: bounds what validate() and deserialize() accept.
constexpr qint64 kMaxElements = qint64(1) << 28;
constexpr int kMaxRank = 8;

bool fail(QString *error, const QString &message)
{
    if (error)
        *error = message;
    return false;
}

QString shapeText(const QVector<int> &shape)
{
    QStringList parts;
    for (int d : shape)
        parts.append(QString::number(d));
    return QStringLiteral("[%1]").arg(parts.join(QLatin1Char(',')));
}

QString nodeWhere(const Node &node, int index)
{
    return QStringLiteral("node %1 \"%2\" (%3)").arg(index).arg(node.name, opName(node.op));
}

bool validOp(int op) { return op >= int(OpType::Conv2D) && op <= int(kLastOpType); }
bool validActivation(int a) { return a >= int(Activation::None) && a <= int(Activation::Relu6); }
bool validTensorDType(DType t) { return t == DType::Float32 || t == DType::Int8 || t == DType::Int32; }

template <typename T>
QVector<T> readValues(const TensorDesc &t, DType want)
{
    const qint64 n = t.elementCount();
    if (t.dtype != want || n <= 0 || t.data.size() != n * qint64(sizeof(T)))
        return {};
    QVector<T> out(static_cast<qsizetype>(n));
    std::memcpy(out.data(), t.data.constData(), size_t(t.data.size()));
    return out;
}

template <typename T>
QByteArray bytesOf(const QVector<T> &values)
{
    return QByteArray(reinterpret_cast<const char *>(values.constData()),
                      qsizetype(values.size() * sizeof(T)));
}

/// Data inputs of an op (the rest are weights / bias / BN parameters).
struct Arity { int min; int max; };
Arity inputArity(OpType op)
{
    switch (op) {
    case OpType::Conv2D:
    case OpType::DepthwiseConv2D:
    case OpType::FullyConnected: return {2, 3};
    case OpType::Add: return {2, 2};
    case OpType::BatchNorm: return {5, 5};
    case OpType::KMeansScore: return {2, 2};
    case OpType::GmmScore: return {4, 4};
    case OpType::SquaredError: return {2, 2};
    case OpType::Concat: return {1, 64};
    default: return {1, 1};
    }
}

int spatialOut(int in, int padA, int padB, int kernel, int stride)
{
    const qint64 span = qint64(in) + padA + padB - kernel;
    if (span < 0)
        return 0;
    return int(span / stride + 1);
}

bool checkWindowAttributes(const Node &n, const QString &where, bool pooling, QString *error)
{
    if (n.strideH < 1 || n.strideW < 1 || n.strideH > 1024 || n.strideW > 1024)
        return fail(error, QStringLiteral("%1: stride %2x%3 must be in [1, 1024]")
                               .arg(where).arg(n.strideH).arg(n.strideW));
    for (int p : {n.padTop, n.padLeft, n.padBottom, n.padRight})
        if (p < 0 || p > 4096)
            return fail(error, QStringLiteral("%1: padding %2 must be in [0, 4096]").arg(where).arg(p));
    if (pooling) {
        if (n.kernelH < 1 || n.kernelW < 1 || n.kernelH > 4096 || n.kernelW > 4096)
            return fail(error, QStringLiteral("%1: kernelH/kernelW %2x%3 must be in [1, 4096]")
                                   .arg(where).arg(n.kernelH).arg(n.kernelW));
        // Keeps every window overlapping the input, which the int8 max pool requires.
        if (n.padTop >= n.kernelH || n.padBottom >= n.kernelH || n.padLeft >= n.kernelW
            || n.padRight >= n.kernelW)
            return fail(error, QStringLiteral("%1: padding must be smaller than the window").arg(where));
    }
    return true;
}

} // namespace

// --- names --------------------------------------------------------------------------------

QString opName(OpType op)
{
    switch (op) {
    case OpType::Conv2D: return QStringLiteral("conv2d");
    case OpType::DepthwiseConv2D: return QStringLiteral("depthwise_conv2d");
    case OpType::FullyConnected: return QStringLiteral("fully_connected");
    case OpType::MaxPool2D: return QStringLiteral("max_pool2d");
    case OpType::AvgPool2D: return QStringLiteral("avg_pool2d");
    case OpType::GlobalAvgPool: return QStringLiteral("global_avg_pool");
    case OpType::Add: return QStringLiteral("add");
    case OpType::Relu: return QStringLiteral("relu");
    case OpType::Relu6: return QStringLiteral("relu6");
    case OpType::Reshape: return QStringLiteral("reshape");
    case OpType::Softmax: return QStringLiteral("softmax");
    case OpType::BatchNorm: return QStringLiteral("batch_norm");
    case OpType::Concat: return QStringLiteral("concat");
    case OpType::Clip: return QStringLiteral("clip");
    case OpType::KMeansScore: return QStringLiteral("kmeans_score");
    case OpType::GmmScore: return QStringLiteral("gmm_score");
    case OpType::SquaredError: return QStringLiteral("squared_error");
    }
    return QStringLiteral("op%1").arg(int(op));
}

std::optional<OpType> opFromName(const QString &name)
{
    for (int i = int(OpType::Conv2D); i <= int(kLastOpType); ++i)
        if (opName(OpType(i)) == name)
            return OpType(i);
    return std::nullopt;
}

bool isAnomalyScoreOp(OpType op)
{
    return op == OpType::KMeansScore || op == OpType::GmmScore || op == OpType::SquaredError;
}

// --- TensorDesc -----------------------------------------------------------------------------

qint64 TensorDesc::elementCount() const
{
    if (shape.isEmpty())
        return 0;
    qint64 n = 1;
    for (int d : shape) {
        if (d < 0)
            return 0;
        n *= d;
        if (n > kMaxElements * 16)   // cannot overflow: rank-bounded, checked each step
            return 0;
    }
    return n;
}

QVector<float> TensorDesc::floatValues() const { return readValues<float>(*this, DType::Float32); }
QVector<qint8> TensorDesc::int8Values() const { return readValues<qint8>(*this, DType::Int8); }
QVector<qint32> TensorDesc::int32Values() const { return readValues<qint32>(*this, DType::Int32); }

TensorDesc TensorDesc::activation(const QString &name, QVector<int> shape, DType dtype)
{
    TensorDesc t;
    t.name = name;
    t.shape = std::move(shape);
    t.dtype = dtype;
    return t;
}

TensorDesc TensorDesc::constantFloat(const QString &name, QVector<int> shape, const QVector<float> &values)
{
    TensorDesc t = activation(name, std::move(shape), DType::Float32);
    t.data = bytesOf(values);
    return t;
}

TensorDesc TensorDesc::constantInt8(const QString &name, QVector<int> shape, const QVector<qint8> &values,
                                    QVector<float> scales, QVector<int> zeroPoints)
{
    TensorDesc t = activation(name, std::move(shape), DType::Int8);
    t.data = bytesOf(values);
    if (zeroPoints.isEmpty())
        zeroPoints = QVector<int>(scales.size(), 0);
    t.scales = std::move(scales);
    t.zeroPoints = std::move(zeroPoints);
    return t;
}

TensorDesc TensorDesc::constantInt32(const QString &name, QVector<int> shape, const QVector<qint32> &values,
                                     QVector<float> scales)
{
    TensorDesc t = activation(name, std::move(shape), DType::Int32);
    t.data = bytesOf(values);
    t.zeroPoints = QVector<int>(scales.size(), 0);
    t.scales = std::move(scales);
    return t;
}

// --- shapes -----------------------------------------------------------------------------------

namespace {

/// The output shape of node n from its inputs' shapes; checks the op's own constraints.
std::optional<QVector<int>> outputShape(const Graph &g, const Node &n, int index, QString *error)
{
    const QString where = nodeWhere(n, index);
    auto err = [&](const QString &m) {
        fail(error, QStringLiteral("%1: %2").arg(where, m));
        return std::nullopt;
    };
    const TensorDesc &x = g.tensors[n.inputs[0]];
    const QVector<int> &xs = x.shape;
    if (x.elementCount() <= 0)
        return err(QStringLiteral("input \"%1\" has no known shape %2").arg(x.name, shapeText(xs)));

    switch (n.op) {
    case OpType::Conv2D:
    case OpType::DepthwiseConv2D: {
        if (!checkWindowAttributes(n, where, false, error))
            return std::nullopt;
        const TensorDesc &w = g.tensors[n.inputs[1]];
        if (xs.size() != 4 || xs[0] != 1)
            return err(QStringLiteral("input shape %1 must be [1,H,W,C]").arg(shapeText(xs)));
        if (w.shape.size() != 4 || w.elementCount() <= 0)
            return err(QStringLiteral("weights shape %1 must have rank 4").arg(shapeText(w.shape)));
        int cout = 0;
        if (n.op == OpType::Conv2D) {
            if (w.shape[3] != xs[3])
                return err(QStringLiteral("weights %1 take %2 input channels, the input has %3")
                               .arg(shapeText(w.shape)).arg(w.shape[3]).arg(xs[3]));
            cout = w.shape[0];
        } else {
            if (w.shape[0] != 1)
                return err(QStringLiteral("depthwise weights %1 must be [1,KH,KW,C]").arg(shapeText(w.shape)));
            cout = w.shape[3];
            if (cout % xs[3] != 0)
                return err(QStringLiteral("depthwise weights have %1 channels, not a multiple of the "
                                          "input's %2").arg(cout).arg(xs[3]));
        }
        if (n.inputs.size() > 2) {
            const TensorDesc &b = g.tensors[n.inputs[2]];
            if (b.shape != QVector<int>{cout})
                return err(QStringLiteral("bias shape %1 must be [%2]").arg(shapeText(b.shape)).arg(cout));
        }
        const int ho = spatialOut(xs[1], n.padTop, n.padBottom, w.shape[1], n.strideH);
        const int wo = spatialOut(xs[2], n.padLeft, n.padRight, w.shape[2], n.strideW);
        if (ho < 1 || wo < 1)
            return err(QStringLiteral("kernel %1x%2 does not fit input %3 with this padding")
                           .arg(w.shape[1]).arg(w.shape[2]).arg(shapeText(xs)));
        return QVector<int>{1, ho, wo, cout};
    }
    case OpType::FullyConnected: {
        const TensorDesc &w = g.tensors[n.inputs[1]];
        if (w.shape.size() != 2 || w.elementCount() <= 0)
            return err(QStringLiteral("weights shape %1 must be [Cout,Cin]").arg(shapeText(w.shape)));
        if (x.elementCount() != w.shape[1])
            return err(QStringLiteral("input %1 has %2 elements, the weights take %3")
                           .arg(shapeText(xs)).arg(x.elementCount()).arg(w.shape[1]));
        if (n.inputs.size() > 2) {
            const TensorDesc &b = g.tensors[n.inputs[2]];
            if (b.shape != QVector<int>{w.shape[0]})
                return err(QStringLiteral("bias shape %1 must be [%2]").arg(shapeText(b.shape)).arg(w.shape[0]));
        }
        return QVector<int>{1, w.shape[0]};
    }
    case OpType::MaxPool2D:
    case OpType::AvgPool2D: {
        if (!checkWindowAttributes(n, where, true, error))
            return std::nullopt;
        if (xs.size() != 4 || xs[0] != 1)
            return err(QStringLiteral("input shape %1 must be [1,H,W,C]").arg(shapeText(xs)));
        const int ho = spatialOut(xs[1], n.padTop, n.padBottom, n.kernelH, n.strideH);
        const int wo = spatialOut(xs[2], n.padLeft, n.padRight, n.kernelW, n.strideW);
        if (ho < 1 || wo < 1)
            return err(QStringLiteral("window %1x%2 does not fit input %3")
                           .arg(n.kernelH).arg(n.kernelW).arg(shapeText(xs)));
        return QVector<int>{1, ho, wo, xs[3]};
    }
    case OpType::GlobalAvgPool:
        if (xs.size() != 4 || xs[0] != 1)
            return err(QStringLiteral("input shape %1 must be [1,H,W,C]").arg(shapeText(xs)));
        return QVector<int>{1, xs[3]};
    case OpType::Add: {
        const TensorDesc &b = g.tensors[n.inputs[1]];
        if (b.shape != xs)
            return err(QStringLiteral("inputs %1 and %2 differ in shape (no broadcasting)")
                           .arg(shapeText(xs), shapeText(b.shape)));
        return xs;
    }
    case OpType::Relu:
    case OpType::Relu6:
    case OpType::Softmax:
        return xs;
    case OpType::Clip:
        if (!(n.clipMin <= n.clipMax))
            return err(QStringLiteral("clipMin %1 > clipMax %2").arg(n.clipMin).arg(n.clipMax));
        return xs;
    case OpType::BatchNorm: {
        const int c = xs.last();
        for (int i = 1; i < 5; ++i) {
            const TensorDesc &p = g.tensors[n.inputs[i]];
            if (p.shape != QVector<int>{c})
                return err(QStringLiteral("parameter %1 \"%2\" shape %3 must be [%4]")
                               .arg(i).arg(p.name, shapeText(p.shape)).arg(c));
            if (!p.isConstant())
                return err(QStringLiteral("parameter %1 \"%2\" must be constant").arg(i).arg(p.name));
        }
        if (!(n.epsilon >= 0) || !std::isfinite(n.epsilon))
            return err(QStringLiteral("epsilon %1 must be >= 0").arg(n.epsilon));
        return xs;
    }
    case OpType::Reshape: {
        QVector<int> target = g.tensors[n.outputs[0]].shape;
        if (target.isEmpty() || target.size() > kMaxRank)
            return err(QStringLiteral("target shape %1 (the output's declared shape) must have rank 1..%2")
                           .arg(shapeText(target)).arg(kMaxRank));
        int unknown = -1;
        qint64 known = 1;
        for (int i = 0; i < target.size(); ++i) {
            if (target[i] == -1 && unknown < 0) {
                unknown = i;
            } else if (target[i] < 1) {
                return err(QStringLiteral("target shape %1 has an invalid dimension").arg(shapeText(target)));
            } else {
                known *= target[i];
                if (known > kMaxElements)
                    return err(QStringLiteral("target shape %1 is too large").arg(shapeText(target)));
            }
        }
        const qint64 count = x.elementCount();
        if (unknown >= 0) {
            if (count % known != 0)
                return err(QStringLiteral("cannot reshape %1 to %2").arg(shapeText(xs), shapeText(target)));
            target[unknown] = int(count / known);
        } else if (known != count) {
            return err(QStringLiteral("reshape from %1 to %2 changes the element count")
                           .arg(shapeText(xs), shapeText(target)));
        }
        return target;
    }
    case OpType::Concat: {
        QVector<int> out = xs;
        qint64 last = xs.last();
        for (int i = 1; i < n.inputs.size(); ++i) {
            const QVector<int> &s = g.tensors[n.inputs[i]].shape;
            if (s.size() != xs.size() || s.mid(0, s.size() - 1) != xs.mid(0, xs.size() - 1))
                return err(QStringLiteral("input %1 shape %2 differs from %3 outside the last axis")
                               .arg(i).arg(shapeText(s), shapeText(xs)));
            last += s.last();
            if (last > kMaxElements)
                return err(QStringLiteral("concatenated axis is too large"));
        }
        out.last() = int(last);
        return out;
    }
    case OpType::KMeansScore:
    case OpType::GmmScore: {
        // Parameters per component k: rows of [K,D] tables (and one offset per component).
        const qint64 d = x.elementCount();
        const TensorDesc &c = g.tensors[n.inputs[1]];
        if (c.shape.size() != 2 || c.shape[0] < 1 || c.shape[1] != d)
            return err(QStringLiteral("%1 \"%2\" shape %3 must be [K,%4] (D = the input's element count)")
                           .arg(n.op == OpType::KMeansScore ? QStringLiteral("centroids") : QStringLiteral("means"),
                                c.name, shapeText(c.shape))
                           .arg(d));
        const int k = c.shape[0];
        if (n.op == OpType::GmmScore) {
            const TensorDesc &ivar = g.tensors[n.inputs[2]];
            const TensorDesc &offsets = g.tensors[n.inputs[3]];
            if (ivar.shape != c.shape)
                return err(QStringLiteral("inverse variances \"%1\" shape %2 must equal the means' %3")
                               .arg(ivar.name, shapeText(ivar.shape), shapeText(c.shape)));
            if (offsets.shape != QVector<int>{k})
                return err(QStringLiteral("offsets \"%1\" shape %2 must be [%3]")
                               .arg(offsets.name, shapeText(offsets.shape)).arg(k));
        }
        return QVector<int>{1, 1};
    }
    case OpType::SquaredError: {
        const TensorDesc &b = g.tensors[n.inputs[1]];
        if (b.elementCount() != x.elementCount())
            return err(QStringLiteral("inputs %1 and %2 differ in element count")
                           .arg(shapeText(xs), shapeText(b.shape)));
        return QVector<int>{1, 1};
    }
    }
    return err(QStringLiteral("unknown op"));
}

/// Index checks and topological order: every node input exists already.
bool checkStructure(const Graph &g, QString *error)
{
    const int nt = g.tensors.size();
    if (g.inputs.size() != 1)
        return fail(error, QStringLiteral("graph must have exactly one input (has %1)").arg(g.inputs.size()));
    if (g.outputs.isEmpty())
        return fail(error, QStringLiteral("graph has no output"));
    for (int t : g.inputs + g.outputs)
        if (t < 0 || t >= nt)
            return fail(error, QStringLiteral("graph input/output tensor index %1 out of range").arg(t));
    if (g.tensors[g.inputs[0]].isConstant())
        return fail(error, QStringLiteral("graph input \"%1\" is a constant").arg(g.tensors[g.inputs[0]].name));

    QVector<bool> available(nt, false);
    for (int i = 0; i < nt; ++i)
        available[i] = g.tensors[i].isConstant();
    available[g.inputs[0]] = true;
    for (int i = 0; i < g.nodes.size(); ++i) {
        const Node &n = g.nodes[i];
        if (!validOp(int(n.op)))
            return fail(error, QStringLiteral("node %1 \"%2\": unknown op %3").arg(i).arg(n.name).arg(int(n.op)));
        const QString where = nodeWhere(n, i);
        const Arity a = inputArity(n.op);
        if (n.inputs.size() < a.min || n.inputs.size() > a.max)
            return fail(error, QStringLiteral("%1: inputs has %2 entries, expected %3..%4")
                                   .arg(where).arg(n.inputs.size()).arg(a.min).arg(a.max));
        if (n.outputs.size() != 1)
            return fail(error, QStringLiteral("%1: outputs has %2 entries, expected 1").arg(where).arg(n.outputs.size()));
        if (!validActivation(int(n.activation)))
            return fail(error, QStringLiteral("%1: activation %2 unknown").arg(where).arg(int(n.activation)));
        for (int k = 0; k < n.inputs.size(); ++k) {
            const int t = n.inputs[k];
            if (t < 0 || t >= nt)
                return fail(error, QStringLiteral("%1: inputs[%2] = %3 out of range").arg(where).arg(k).arg(t));
            if (!available[t])
                return fail(error, QStringLiteral("%1: inputs[%2] \"%3\" is not computed before this node")
                                       .arg(where).arg(k).arg(g.tensors[t].name));
        }
        const int o = n.outputs[0];
        if (o < 0 || o >= nt)
            return fail(error, QStringLiteral("%1: outputs[0] = %2 out of range").arg(where).arg(o));
        if (available[o])
            return fail(error, QStringLiteral("%1: outputs[0] \"%2\" is already a constant, the input or "
                                              "another node's output").arg(where, g.tensors[o].name));
        available[o] = true;
        // Weights, biases and BN parameters are constants; data inputs are not required to be.
        if (n.op == OpType::Conv2D || n.op == OpType::DepthwiseConv2D || n.op == OpType::FullyConnected)
            for (int k = 1; k < n.inputs.size(); ++k)
                if (!g.tensors[n.inputs[k]].isConstant())
                    return fail(error, QStringLiteral("%1: inputs[%2] \"%3\" (%4) must be a constant")
                                           .arg(where).arg(k).arg(g.tensors[n.inputs[k]].name,
                                                                  k == 1 ? QStringLiteral("weights") : QStringLiteral("bias")));
        // The model of a score op (centroids, means, ...) is part of the graph, not computed.
        if (n.op == OpType::KMeansScore || n.op == OpType::GmmScore)
            for (int k = 1; k < n.inputs.size(); ++k)
                if (!g.tensors[n.inputs[k]].isConstant())
                    return fail(error, QStringLiteral("%1: inputs[%2] \"%3\" must be a constant")
                                           .arg(where).arg(k).arg(g.tensors[n.inputs[k]].name));
    }
    for (int t : g.outputs)
        if (!available[t])
            return fail(error, QStringLiteral("graph output \"%1\" is never computed").arg(g.tensors[t].name));
    return true;
}

bool sameQuant(const TensorDesc &a, const TensorDesc &b)
{
    return a.scales == b.scales && a.zeroPoints == b.zeroPoints;
}

/// The int8 rules of KMeansScore, GmmScore and SquaredError (Graph.h).
bool checkScoreQuantization(const Graph &g, const Node &n, const QString &where, QString *error)
{
    constexpr qint32 kMaxCenter = 1 << 20, kMaxWeight = 1 << 20;   // tm_nn.h's table bounds
    const TensorDesc &x = g.tensors[n.inputs[0]];
    const TensorDesc &y = g.tensors[n.outputs[0]];
    auto int8PerTensor = [](const TensorDesc &t) { return t.dtype == DType::Int8 && t.scales.size() == 1; };
    if (!int8PerTensor(x))
        return fail(error, QStringLiteral("%1: input \"%2\" must be int8 with one scale and zero point").arg(where, x.name));
    if (!int8PerTensor(y))
        return fail(error, QStringLiteral("%1: output \"%2\" must be int8 with one scale and zero point").arg(where, y.name));
    if (n.op == OpType::SquaredError) {
        const TensorDesc &b = g.tensors[n.inputs[1]];
        if (!int8PerTensor(b) || !sameQuant(x, b))
            return fail(error, QStringLiteral("%1: inputs \"%2\" and \"%3\" must be int8 with the same scale and "
                                              "zero point").arg(where, x.name, b.name));
        return true;
    }
    auto int32Table = [&](int k, const char *what, qint32 lo, qint32 hi, bool xDomain) {
        const TensorDesc &t = g.tensors[n.inputs[k]];
        if (t.dtype != DType::Int32 || t.scales.size() != 1)
            return fail(error, QStringLiteral("%1: %2 \"%3\" must be int32 with one scale")
                                   .arg(where, QLatin1String(what), t.name));
        if (xDomain && !sameQuant(t, x))
            return fail(error, QStringLiteral("%1: %2 \"%3\" must carry the input's scale and zero point (they are "
                                              "in its integer domain)").arg(where, QLatin1String(what), t.name));
        if (!xDomain && t.zeroPoints[0] != 0)
            return fail(error, QStringLiteral("%1: %2 \"%3\" zero point must be 0").arg(where, QLatin1String(what), t.name));
        const QVector<qint32> v = t.int32Values();
        for (int i = 0; i < v.size(); ++i)
            if (v[i] < lo || v[i] > hi)
                return fail(error, QStringLiteral("%1: %2 \"%3\"[%4] = %5 outside [%6, %7]")
                                       .arg(where, QLatin1String(what), t.name).arg(i).arg(v[i]).arg(lo).arg(hi));
        return true;
    };
    if (!int32Table(1, n.op == OpType::KMeansScore ? "centroids" : "means", -kMaxCenter, kMaxCenter, true))
        return false;
    if (n.op == OpType::GmmScore
        && (!int32Table(2, "inverse variances", 0, kMaxWeight, false)
            || !int32Table(3, "offsets", std::numeric_limits<qint32>::min(), std::numeric_limits<qint32>::max(), false)))
        return false;
    return true;
}

bool checkQuantization(const Graph &g, QString *error)
{
    // Which tensors are weights / biases, by their use.
    for (int i = 0; i < g.nodes.size(); ++i) {
        const Node &n = g.nodes[i];
        const QString where = nodeWhere(n, i);
        const TensorDesc &x = g.tensors[n.inputs[0]];
        const TensorDesc &y = g.tensors[n.outputs[0]];
        if (n.op == OpType::BatchNorm)
            return fail(error, QStringLiteral("%1: BatchNorm cannot run in an int8 graph; fold it into "
                                              "the preceding layer").arg(where));
        if (isAnomalyScoreOp(n.op)) {
            if (!checkScoreQuantization(g, n, where, error))
                return false;
            continue;
        }
        for (int k = 0; k < n.inputs.size(); ++k) {
            const bool isWeights = k == 1 && (n.op == OpType::Conv2D || n.op == OpType::DepthwiseConv2D
                                              || n.op == OpType::FullyConnected);
            const bool isBias = k == 2
                                && (n.op == OpType::Conv2D || n.op == OpType::DepthwiseConv2D
                                    || n.op == OpType::FullyConnected);
            const TensorDesc &t = g.tensors[n.inputs[k]];
            if (isWeights) {
                const int cout = n.op == OpType::DepthwiseConv2D ? t.shape.last() : t.shape.first();
                if (t.dtype != DType::Int8)
                    return fail(error, QStringLiteral("%1: weights \"%2\" must be int8").arg(where, t.name));
                if (t.scales.size() != 1 && t.scales.size() != cout)
                    return fail(error, QStringLiteral("%1: weights \"%2\" have %3 scales, expected 1 or %4")
                                           .arg(where, t.name).arg(t.scales.size()).arg(cout));
                for (int zp : t.zeroPoints)
                    if (zp != 0)
                        return fail(error, QStringLiteral("%1: weights \"%2\" zero points must be 0 (symmetric)")
                                               .arg(where, t.name));
            } else if (isBias) {
                if (t.dtype != DType::Int32)
                    return fail(error, QStringLiteral("%1: bias \"%2\" must be int32").arg(where, t.name));
            } else if (t.dtype != DType::Int8 || t.scales.size() != 1) {
                return fail(error, QStringLiteral("%1: inputs[%2] \"%3\" must be int8 with one scale and zero point")
                                       .arg(where).arg(k).arg(t.name));
            }
        }
        if (y.dtype != DType::Int8 || y.scales.size() != 1)
            return fail(error, QStringLiteral("%1: output \"%2\" must be int8 with one scale and zero point")
                                   .arg(where, y.name));
        switch (n.op) {
        case OpType::MaxPool2D:
        case OpType::AvgPool2D:
        case OpType::GlobalAvgPool:
        case OpType::Reshape:
        case OpType::Relu:
        case OpType::Relu6:
        case OpType::Clip:
            if (!sameQuant(x, y))
                return fail(error, QStringLiteral("%1: output \"%2\" must carry the input's scale and zero point")
                                       .arg(where, y.name));
            break;
        case OpType::Softmax:
            if (y.scales[0] != 1.0f / 256.0f || y.zeroPoints[0] != -128)
                return fail(error, QStringLiteral("%1: output \"%2\" must have scale 1/256 and zero point -128")
                                       .arg(where, y.name));
            break;
        default:
            break;
        }
    }
    return true;
}

} // namespace

bool Graph::validate(QString *error) const
{
    for (int i = 0; i < tensors.size(); ++i) {
        const TensorDesc &t = tensors[i];
        const QString where = QStringLiteral("tensor %1 \"%2\"").arg(i).arg(t.name);
        if (!validTensorDType(t.dtype))
            return fail(error, QStringLiteral("%1: dtype %2 must be float32, int8 or int32")
                                   .arg(where, dtypeName(t.dtype)));
        if (t.shape.size() > kMaxRank)
            return fail(error, QStringLiteral("%1: rank %2 exceeds %3").arg(where).arg(t.shape.size()).arg(kMaxRank));
        const qint64 count = t.elementCount();
        bool positive = !t.shape.isEmpty();
        for (int d : t.shape)
            positive = positive && d >= 1;
        if (!positive || count <= 0)
            return fail(error, QStringLiteral("%1: shape %2 is not known (run inferShapes)").arg(where, shapeText(t.shape)));
        if (count > kMaxElements)
            return fail(error, QStringLiteral("%1: shape %2 is too large").arg(where, shapeText(t.shape)));
        if (t.isConstant() && t.data.size() != count * dtypeSize(t.dtype))
            return fail(error, QStringLiteral("%1: data holds %2 bytes, shape %3 of %4 needs %5")
                                   .arg(where).arg(t.data.size()).arg(shapeText(t.shape), dtypeName(t.dtype))
                                   .arg(count * dtypeSize(t.dtype)));
        if (t.scales.size() != t.zeroPoints.size())
            return fail(error, QStringLiteral("%1: %2 scales but %3 zero points")
                                   .arg(where).arg(t.scales.size()).arg(t.zeroPoints.size()));
        for (float s : t.scales)
            if (!(s > 0) || !std::isfinite(s))
                return fail(error, QStringLiteral("%1: scale %2 must be positive and finite").arg(where).arg(s));
        for (int zp : t.zeroPoints)
            if (zp < -128 || zp > 127)
                return fail(error, QStringLiteral("%1: zero point %2 outside [-128, 127]").arg(where).arg(zp));
        if (!quantized && t.dtype != DType::Float32)
            return fail(error, QStringLiteral("%1: a float graph holds only float32 tensors, not %2")
                                   .arg(where, dtypeName(t.dtype)));
    }
    if (!checkStructure(*this, error))
        return false;
    for (int i = 0; i < nodes.size(); ++i) {
        const Node &n = nodes[i];
        const auto shape = outputShape(*this, n, i, error);
        if (!shape)
            return false;
        const TensorDesc &y = tensors[n.outputs[0]];
        if (*shape != y.shape)
            return fail(error, QStringLiteral("%1: output \"%2\" has shape %3, the op gives %4")
                                   .arg(nodeWhere(n, i), y.name, shapeText(y.shape), shapeText(*shape)));
    }
    if (quantized) {
        const TensorDesc &in = tensors[inputs[0]];
        if (in.dtype != DType::Int8 || in.scales.size() != 1)
            return fail(error, QStringLiteral("graph input \"%1\" must be int8 with one scale and zero point").arg(in.name));
        if (!checkQuantization(*this, error))
            return false;
    }
    return true;
}

bool Graph::inferShapes(QString *error)
{
    if (!checkStructure(*this, error))
        return false;
    for (int i = 0; i < nodes.size(); ++i) {
        const Node &n = nodes[i];
        const auto shape = outputShape(*this, n, i, error);
        if (!shape)
            return false;
        tensors[n.outputs[0]].shape = *shape;
    }
    return validate(error);
}

int Graph::addTensor(const TensorDesc &tensor)
{
    tensors.append(tensor);
    return tensors.size() - 1;
}

int Graph::addNode(const Node &node)
{
    nodes.append(node);
    return nodes.size() - 1;
}

int Graph::tensorIndex(const QString &name) const
{
    for (int i = 0; i < tensors.size(); ++i)
        if (tensors[i].name == name)
            return i;
    return -1;
}

qint64 Graph::parameterCount() const
{
    qint64 n = 0;
    for (const TensorDesc &t : tensors)
        if (t.isConstant())
            n += t.elementCount();
    return n;
}

qint64 Graph::macs() const
{
    qint64 total = 0;
    for (const Node &n : nodes) {
        if (n.inputs.size() < 2 || n.outputs.isEmpty())
            continue;
        auto tensorAt = [&](int i) -> const TensorDesc * {
            return i >= 0 && i < tensors.size() ? &tensors[i] : nullptr;
        };
        const TensorDesc *x = tensorAt(n.inputs[0]);
        const TensorDesc *w = tensorAt(n.inputs[1]);
        const TensorDesc *y = tensorAt(n.outputs[0]);
        if (!x || !w || !y)
            continue;
        // Both factors are bounded by elementCount() (<= 2^32), so the products fit in 64 bits.
        switch (n.op) {
        case OpType::Conv2D:
            // Hout*Wout*Cout outputs times KH*KW*Cin taps.
            if (w->shape.size() == 4 && w->shape[0] > 0)
                total += y->elementCount() * (w->elementCount() / w->shape[0]);
            break;
        case OpType::DepthwiseConv2D:
            if (w->shape.size() == 4 && w->shape[3] > 0)
                total += y->elementCount() * (w->elementCount() / w->shape[3]);
            break;
        case OpType::FullyConnected:
            total += w->elementCount();
            break;
        default:
            break;
        }
    }
    return total;
}

qint64 Graph::weightBytes() const
{
    qint64 n = 0;
    for (const TensorDesc &t : tensors)
        n += t.data.size();
    return n;
}

// --- serialization --------------------------------------------------------------------------
//
// Little-endian throughout:
//   "TMGR"  u32 version  u32 flags (bit 0: quantized)
//   str meta (compact JSON)   u32 nLabels  str label...
//   u32 nTensors, per tensor: str name, u32 dtype, u32 rank, i32 dims[rank],
//       u32 nScales, f32 scales[nScales], i32 zeroPoints[nScales], bytes data
//   u32 nNodes, per node: u32 op, str name, u32 nIn, i32 in[], u32 nOut, i32 out[],
//       i32 strideH strideW padTop padLeft padBottom padRight kernelH kernelW,
//       u32 activation, f32 clipMin clipMax epsilon
//   u32 nInputs i32[]   u32 nOutputs i32[]
// str and bytes are u32 length + raw bytes. Nothing may follow.
// Version history: 1 = the above. New op codes (KMeansScore, GmmScore, SquaredError) need no new
// version: the layout is unchanged and an older reader refuses the unknown op code by number.

namespace {

const char kMagic[4] = {'T', 'M', 'G', 'R'};

class Writer
{
public:
    void u32(quint32 v)
    {
        char b[4] = {char(v & 0xff), char((v >> 8) & 0xff), char((v >> 16) & 0xff), char((v >> 24) & 0xff)};
        out.append(b, 4);
    }
    void i32(qint32 v) { u32(quint32(v)); }
    void f32(float v)
    {
        quint32 bits;
        std::memcpy(&bits, &v, 4);
        u32(bits);
    }
    void bytes(const QByteArray &b)
    {
        u32(quint32(b.size()));
        out.append(b);
    }
    void str(const QString &s) { bytes(s.toUtf8()); }
    QByteArray out;
};

class Reader
{
public:
    explicit Reader(const QByteArray &b) : data(b) {}
    bool ok() const { return !failed; }
    qsizetype remaining() const { return data.size() - pos; }

    quint32 u32()
    {
        if (failed || remaining() < 4) {
            failed = true;
            return 0;
        }
        const auto *p = reinterpret_cast<const unsigned char *>(data.constData() + pos);
        pos += 4;
        return quint32(p[0]) | (quint32(p[1]) << 8) | (quint32(p[2]) << 16) | (quint32(p[3]) << 24);
    }
    qint32 i32() { return qint32(u32()); }
    float f32()
    {
        const quint32 bits = u32();
        float v;
        std::memcpy(&v, &bits, 4);
        return v;
    }
    /// A count of items each at least minItemBytes long: refuses counts the rest cannot hold.
    std::optional<quint32> count(qsizetype minItemBytes)
    {
        const quint32 n = u32();
        if (failed || qint64(n) * minItemBytes > remaining()) {
            failed = true;
            return std::nullopt;
        }
        return n;
    }
    QByteArray bytes()
    {
        const auto n = count(1);
        if (!n)
            return {};
        QByteArray b = data.mid(pos, qsizetype(*n));
        pos += qsizetype(*n);
        return b;
    }
    /// Strict UTF-8: a string that would not re-encode to the same bytes is an error.
    QString str()
    {
        const QByteArray b = bytes();
        QStringDecoder decode(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
        QString s = decode(b);
        if (decode.hasError())
            failed = true;
        return s;
    }

    const QByteArray &data;
    qsizetype pos = 0;
    bool failed = false;
};

} // namespace

QByteArray Graph::serialize() const
{
    Writer w;
    w.out.append(kMagic, 4);
    w.u32(kFormatVersion);
    w.u32(quantized ? 1u : 0u);
    w.bytes(meta.isEmpty() ? QByteArray() : QJsonDocument(meta).toJson(QJsonDocument::Compact));
    w.u32(quint32(labels.size()));
    for (const QString &l : labels)
        w.str(l);
    w.u32(quint32(tensors.size()));
    for (const TensorDesc &t : tensors) {
        w.str(t.name);
        w.u32(quint32(t.dtype));
        w.u32(quint32(t.shape.size()));
        for (int d : t.shape)
            w.i32(d);
        const int nq = int(std::min(t.scales.size(), t.zeroPoints.size()));
        w.u32(quint32(nq));
        for (int i = 0; i < nq; ++i)
            w.f32(t.scales[i]);
        for (int i = 0; i < nq; ++i)
            w.i32(t.zeroPoints[i]);
        w.bytes(t.data);
    }
    w.u32(quint32(nodes.size()));
    for (const Node &n : nodes) {
        w.u32(quint32(n.op));
        w.str(n.name);
        w.u32(quint32(n.inputs.size()));
        for (int i : n.inputs)
            w.i32(i);
        w.u32(quint32(n.outputs.size()));
        for (int o : n.outputs)
            w.i32(o);
        for (int v : {n.strideH, n.strideW, n.padTop, n.padLeft, n.padBottom, n.padRight, n.kernelH, n.kernelW})
            w.i32(v);
        w.u32(quint32(n.activation));
        w.f32(n.clipMin);
        w.f32(n.clipMax);
        w.f32(n.epsilon);
    }
    w.u32(quint32(inputs.size()));
    for (int i : inputs)
        w.i32(i);
    w.u32(quint32(outputs.size()));
    for (int o : outputs)
        w.i32(o);
    return w.out;
}

std::optional<Graph> Graph::deserialize(const QByteArray &bytes, QString *error)
{
    auto bad = [&](const QString &m) {
        fail(error, QStringLiteral("Invalid model graph: %1").arg(m));
        return std::nullopt;
    };
    if (bytes.size() < 12 || std::memcmp(bytes.constData(), kMagic, 4) != 0)
        return bad(QStringLiteral("not a TinyML graph (magic \"TMGR\" missing)"));
    Reader r(bytes);
    r.pos = 4;
    const quint32 version = r.u32();
    if (version < 1 || version > kFormatVersion)
        return bad(QStringLiteral("format version %1 is not supported (this build reads 1..%2)")
                       .arg(version).arg(kFormatVersion));
    Graph g;
    const quint32 flags = r.u32();
    if (flags > 1)
        return bad(QStringLiteral("unknown flags 0x%1").arg(flags, 0, 16));
    g.quantized = flags & 1u;
    const QByteArray metaJson = r.bytes();
    if (!r.ok())
        return bad(QStringLiteral("truncated in the header"));
    if (!metaJson.isEmpty()) {
        QJsonParseError pe;
        const QJsonDocument doc = QJsonDocument::fromJson(metaJson, &pe);
        if (pe.error != QJsonParseError::NoError || !doc.isObject())
            return bad(QStringLiteral("meta is not a JSON object"));
        g.meta = doc.object();
    }
    const auto nLabels = r.count(4);
    if (!nLabels)
        return bad(QStringLiteral("label count exceeds the data"));
    for (quint32 i = 0; i < *nLabels && r.ok(); ++i)
        g.labels.append(r.str());

    const auto nTensors = r.count(20);
    if (!nTensors)
        return bad(QStringLiteral("tensor count exceeds the data"));
    g.tensors.reserve(int(*nTensors));
    for (quint32 i = 0; i < *nTensors; ++i) {
        TensorDesc t;
        t.name = r.str();
        const quint32 dtype = r.u32();
        if (r.ok() && !validTensorDType(DType(dtype)))
            return bad(QStringLiteral("tensor %1: dtype %2 unknown").arg(i).arg(dtype));
        t.dtype = DType(dtype);
        const auto rank = r.count(4);
        if (!rank || *rank > quint32(kMaxRank))
            return bad(QStringLiteral("tensor %1: rank invalid or truncated").arg(i));
        for (quint32 k = 0; k < *rank; ++k)
            t.shape.append(r.i32());
        const auto nq = r.count(8);
        if (!nq)
            return bad(QStringLiteral("tensor %1: scale count exceeds the data").arg(i));
        for (quint32 k = 0; k < *nq; ++k)
            t.scales.append(r.f32());
        for (quint32 k = 0; k < *nq; ++k)
            t.zeroPoints.append(r.i32());
        t.data = r.bytes();
        if (!r.ok())
            return bad(QStringLiteral("tensor %1 truncated").arg(i));
        g.tensors.append(std::move(t));
    }

    const auto nNodes = r.count(64);
    if (!nNodes)
        return bad(QStringLiteral("node count exceeds the data"));
    for (quint32 i = 0; i < *nNodes; ++i) {
        Node n;
        const quint32 op = r.u32();
        if (r.ok() && !validOp(int(op)))
            return bad(QStringLiteral("node %1: op %2 unknown").arg(i).arg(op));
        n.op = OpType(op);
        n.name = r.str();
        const auto nIn = r.count(4);
        if (!nIn)
            return bad(QStringLiteral("node %1: input count exceeds the data").arg(i));
        for (quint32 k = 0; k < *nIn; ++k)
            n.inputs.append(r.i32());
        const auto nOut = r.count(4);
        if (!nOut)
            return bad(QStringLiteral("node %1: output count exceeds the data").arg(i));
        for (quint32 k = 0; k < *nOut; ++k)
            n.outputs.append(r.i32());
        int *attrs[] = {&n.strideH, &n.strideW, &n.padTop, &n.padLeft, &n.padBottom, &n.padRight,
                        &n.kernelH, &n.kernelW};
        for (int *a : attrs)
            *a = r.i32();
        const quint32 act = r.u32();
        if (r.ok() && !validActivation(int(act)))
            return bad(QStringLiteral("node %1: activation %2 unknown").arg(i).arg(act));
        n.activation = Activation(act);
        n.clipMin = r.f32();
        n.clipMax = r.f32();
        n.epsilon = r.f32();
        if (!r.ok())
            return bad(QStringLiteral("node %1 truncated").arg(i));
        g.nodes.append(std::move(n));
    }
    for (QVector<int> *list : {&g.inputs, &g.outputs}) {
        const auto n = r.count(4);
        if (!n)
            return bad(QStringLiteral("graph inputs/outputs truncated"));
        for (quint32 k = 0; k < *n; ++k)
            list->append(r.i32());
    }
    if (!r.ok())
        return bad(QStringLiteral("truncated"));
    if (r.remaining() != 0)
        return bad(QStringLiteral("%1 unexpected bytes after the graph").arg(r.remaining()));
    QString why;
    if (!g.validate(&why))
        return bad(why);
    return g;
}

} // namespace tinyml::model
