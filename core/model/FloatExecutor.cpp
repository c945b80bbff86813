#include "model/FloatExecutor.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tinyml::model {
namespace {

bool fail(QString *error, const QString &message)
{
    if (error)
        *error = message;
    return false;
}

float activate(float v, Activation a)
{
    switch (a) {
    case Activation::None: return v;
    case Activation::Relu: return std::max(v, 0.0f);
    case Activation::Relu6: return std::clamp(v, 0.0f, 6.0f);
    }
    return v;
}

/// Conv2D and DepthwiseConv2D (depth multiplier Cout / Cin), NHWC, N = 1.
void convolve(const Node &n, bool depthwise, const QVector<int> &xs, const float *x, const QVector<int> &ws,
              const float *w, const float *bias, const QVector<int> &ys, float *y)
{
    const int H = xs[1], W = xs[2], Cin = xs[3];
    const int KH = ws[1], KW = ws[2];
    const int Ho = ys[1], Wo = ys[2], Cout = ys[3];
    const int mult = depthwise ? Cout / Cin : 1;
    for (int oh = 0; oh < Ho; ++oh) {
        for (int ow = 0; ow < Wo; ++ow) {
            for (int oc = 0; oc < Cout; ++oc) {
                float acc = bias ? bias[oc] : 0.0f;
                for (int kh = 0; kh < KH; ++kh) {
                    const int ih = oh * n.strideH - n.padTop + kh;
                    if (ih < 0 || ih >= H)
                        continue;
                    for (int kw = 0; kw < KW; ++kw) {
                        const int iw = ow * n.strideW - n.padLeft + kw;
                        if (iw < 0 || iw >= W)
                            continue;
                        const float *xp = x + (qint64(ih) * W + iw) * Cin;
                        if (depthwise) {
                            acc += xp[oc / mult] * w[(qint64(kh) * KW + kw) * Cout + oc];
                        } else {
                            const float *wp = w + ((qint64(oc) * KH + kh) * KW + kw) * Cin;
                            for (int ic = 0; ic < Cin; ++ic)
                                acc += xp[ic] * wp[ic];
                        }
                    }
                }
                y[(qint64(oh) * Wo + ow) * Cout + oc] = activate(acc, n.activation);
            }
        }
    }
}

void pool(const Node &n, bool isMax, const QVector<int> &xs, const float *x, const QVector<int> &ys, float *y)
{
    const int H = xs[1], W = xs[2], C = xs[3];
    const int Ho = ys[1], Wo = ys[2];
    for (int oh = 0; oh < Ho; ++oh)
        for (int ow = 0; ow < Wo; ++ow)
            for (int c = 0; c < C; ++c) {
                // Padded taps are skipped, not counted, as in the int8 kernels.
                float acc = isMax ? -std::numeric_limits<float>::infinity() : 0.0f;
                int count = 0;
                for (int kh = 0; kh < n.kernelH; ++kh) {
                    const int ih = oh * n.strideH - n.padTop + kh;
                    if (ih < 0 || ih >= H)
                        continue;
                    for (int kw = 0; kw < n.kernelW; ++kw) {
                        const int iw = ow * n.strideW - n.padLeft + kw;
                        if (iw < 0 || iw >= W)
                            continue;
                        const float v = x[(qint64(ih) * W + iw) * C + c];
                        acc = isMax ? std::max(acc, v) : acc + v;
                        ++count;
                    }
                }
                y[(qint64(oh) * Wo + ow) * C + c] = isMax ? acc : acc / float(count);
            }
}

} // namespace

bool FloatExecutor::prepare(const Graph &graph, QString *error)
{
    m_prepared = false;
    m_graph = graph;
    if (m_graph.quantized)
        return fail(error, QStringLiteral("FloatExecutor runs float graphs; this one is quantized (use Int8Executor)"));
    if (!m_graph.inferShapes(error))
        return false;
    m_constants = QVector<QVector<float>>(m_graph.tensors.size());
    for (int i = 0; i < m_graph.tensors.size(); ++i)
        if (m_graph.tensors[i].isConstant())
            m_constants[i] = m_graph.tensors[i].floatValues();
    m_values = QVector<QVector<float>>(m_graph.tensors.size());
    m_prepared = true;
    return true;
}

std::optional<QVector<float>> FloatExecutor::run(const QVector<float> &input, QString *error)
{
    if (!m_prepared) {
        fail(error, QStringLiteral("FloatExecutor: prepare() a graph first"));
        return std::nullopt;
    }
    const Graph &g = m_graph;
    const int in = g.inputs[0];
    if (input.size() != g.tensors[in].elementCount()) {
        fail(error, QStringLiteral("input has %1 values, the graph input \"%2\" takes %3")
                        .arg(input.size()).arg(g.tensors[in].name).arg(g.tensors[in].elementCount()));
        return std::nullopt;
    }
    m_values = QVector<QVector<float>>(g.tensors.size());
    m_values[in] = input;
    auto valuesOf = [&](int t) -> const QVector<float> & {
        return g.tensors[t].isConstant() ? m_constants[t] : m_values[t];
    };

    // Activations no later node reads can be dropped when not recording.
    QVector<int> lastUse(g.tensors.size(), -1);
    for (int i = 0; i < g.nodes.size(); ++i)
        for (int t : g.nodes[i].inputs)
            lastUse[t] = i;
    for (int t : g.outputs)
        lastUse[t] = g.nodes.size();

    for (int i = 0; i < g.nodes.size(); ++i) {
        const Node &n = g.nodes[i];
        const TensorDesc &xt = g.tensors[n.inputs[0]];
        const TensorDesc &yt = g.tensors[n.outputs[0]];
        const QVector<float> &x = valuesOf(n.inputs[0]);
        QVector<float> y(int(yt.elementCount()));
        switch (n.op) {
        case OpType::Conv2D:
        case OpType::DepthwiseConv2D: {
            const QVector<float> &w = valuesOf(n.inputs[1]);
            const float *b = n.inputs.size() > 2 ? valuesOf(n.inputs[2]).constData() : nullptr;
            convolve(n, n.op == OpType::DepthwiseConv2D, xt.shape, x.constData(), g.tensors[n.inputs[1]].shape,
                     w.constData(), b, yt.shape, y.data());
            break;
        }
        case OpType::FullyConnected: {
            const QVector<float> &w = valuesOf(n.inputs[1]);
            const float *b = n.inputs.size() > 2 ? valuesOf(n.inputs[2]).constData() : nullptr;
            const int cout = y.size(), cin = x.size();
            for (int o = 0; o < cout; ++o) {
                float acc = b ? b[o] : 0.0f;
                const float *wr = w.constData() + qint64(o) * cin;
                for (int k = 0; k < cin; ++k)
                    acc += x[k] * wr[k];
                y[o] = activate(acc, n.activation);
            }
            break;
        }
        case OpType::MaxPool2D:
        case OpType::AvgPool2D:
            pool(n, n.op == OpType::MaxPool2D, xt.shape, x.constData(), yt.shape, y.data());
            break;
        case OpType::GlobalAvgPool: {
            const int plane = xt.shape[1] * xt.shape[2], C = xt.shape[3];
            for (int c = 0; c < C; ++c) {
                double acc = 0;
                for (int p = 0; p < plane; ++p)
                    acc += x[qint64(p) * C + c];
                y[c] = float(acc / plane);
            }
            break;
        }
        case OpType::Add: {
            const QVector<float> &b = valuesOf(n.inputs[1]);
            for (int k = 0; k < y.size(); ++k)
                y[k] = activate(x[k] + b[k], n.activation);
            break;
        }
        case OpType::Relu:
            for (int k = 0; k < y.size(); ++k)
                y[k] = std::max(x[k], 0.0f);
            break;
        case OpType::Relu6:
            for (int k = 0; k < y.size(); ++k)
                y[k] = std::clamp(x[k], 0.0f, 6.0f);
            break;
        case OpType::Clip:
            for (int k = 0; k < y.size(); ++k)
                y[k] = std::clamp(x[k], n.clipMin, n.clipMax);
            break;
        case OpType::Reshape:
            y = x;
            break;
        case OpType::Softmax: {
            const int row = xt.shape.last();
            for (int r = 0; r + row <= x.size(); r += row) {
                const float mx = *std::max_element(x.constBegin() + r, x.constBegin() + r + row);
                double sum = 0;
                for (int k = 0; k < row; ++k)
                    sum += std::exp(double(x[r + k] - mx));
                for (int k = 0; k < row; ++k)
                    y[r + k] = float(std::exp(double(x[r + k] - mx)) / sum);
            }
            break;
        }
        case OpType::BatchNorm: {
            const QVector<float> &gamma = valuesOf(n.inputs[1]), &beta = valuesOf(n.inputs[2]),
                                 &mean = valuesOf(n.inputs[3]), &var = valuesOf(n.inputs[4]);
            const int C = xt.shape.last();
            for (int k = 0; k < y.size(); ++k) {
                const int c = k % C;
                y[k] = gamma[c] * (x[k] - mean[c]) / std::sqrt(var[c] + n.epsilon) + beta[c];
            }
            break;
        }
        case OpType::Concat: {
            const int outLast = yt.shape.last();
            const qint64 outer = y.size() / outLast;
            int offset = 0;
            for (int t : n.inputs) {
                const QVector<float> &v = valuesOf(t);
                const int last = g.tensors[t].shape.last();
                for (qint64 o = 0; o < outer; ++o)
                    std::copy_n(v.constData() + o * last, last, y.data() + o * outLast + offset);
                offset += last;
            }
            break;
        }
        case OpType::KMeansScore:
        case OpType::GmmScore: {
            // Sums in double: the float reference should not add rounding of its own that the
            // device's version would then have to explain.
            const TensorDesc &ct = g.tensors[n.inputs[1]];
            const int K = ct.shape[0], D = ct.shape[1];
            const QVector<float> &c = valuesOf(n.inputs[1]);
            const bool gmm = n.op == OpType::GmmScore;
            const float *ivar = gmm ? valuesOf(n.inputs[2]).constData() : nullptr;
            const float *offset = gmm ? valuesOf(n.inputs[3]).constData() : nullptr;
            double best = std::numeric_limits<double>::infinity();
            for (int k = 0; k < K; ++k) {
                double acc = 0;
                for (int d = 0; d < D; ++d) {
                    const double diff = double(x[d]) - double(c[qint64(k) * D + d]);
                    acc += gmm ? diff * diff * double(ivar[qint64(k) * D + d]) : diff * diff;
                }
                if (gmm)
                    acc = double(offset[k]) + 0.5 * acc;
                best = std::min(best, acc);
            }
            y[0] = float(best);
            break;
        }
        case OpType::SquaredError: {
            const QVector<float> &b = valuesOf(n.inputs[1]);
            double acc = 0;
            for (int k = 0; k < x.size(); ++k) {
                const double diff = double(x[k]) - double(b[k]);
                acc += diff * diff;
            }
            y[0] = float(acc / double(x.size()));
            break;
        }
        }
        m_values[n.outputs[0]] = std::move(y);
        if (!m_record)
            for (int t : n.inputs)
                if (lastUse[t] == i && !g.tensors[t].isConstant())
                    m_values[t].clear();
    }
    return m_values[g.outputs[0]];
}

} // namespace tinyml::model
