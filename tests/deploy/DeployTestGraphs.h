#pragma once
// Small int8 graphs shared by the deploy tests.

#include "model/Graph.h"

namespace tinyml::deploy::testing {

using namespace tinyml::model;

inline int act(Graph &g, const QString &name, QVector<int> shape, float scale = 0.05f, int zp = -3)
{
    TensorDesc t = TensorDesc::activation(name, std::move(shape), DType::Int8);
    t.scales = {scale};
    t.zeroPoints = {zp};
    return g.addTensor(t);
}

inline int weights(Graph &g, const QString &name, QVector<int> shape, int channels)
{
    qint64 n = 1;
    for (int d : shape)
        n *= d;
    QVector<qint8> v(static_cast<int>(n));
    for (int i = 0; i < v.size(); ++i)
        v[i] = qint8((i * 37) % 255 - 127);
    QVector<float> scales(channels);
    for (int c = 0; c < channels; ++c)
        scales[c] = 0.01f + 0.002f * c;
    return g.addTensor(TensorDesc::constantInt8(name, std::move(shape), v, scales));
}

inline int bias(Graph &g, const QString &name, int channels)
{
    QVector<qint32> v(channels);
    for (int c = 0; c < channels; ++c)
        v[c] = 100 * c - 50;
    return g.addTensor(TensorDesc::constantInt32(name, {channels}, v, QVector<float>(channels, 0.0005f)));
}

inline Node node(OpType op, const QString &name, QVector<int> inputs, int output)
{
    Node n;
    n.op = op;
    n.name = name;
    n.inputs = std::move(inputs);
    n.outputs = {output};
    return n;
}

inline Node conv3x3(const QString &name, QVector<int> inputs, int output)
{
    Node n = node(OpType::Conv2D, name, std::move(inputs), output);
    n.padTop = n.padLeft = n.padBottom = n.padRight = 1;
    n.activation = Activation::Relu;
    return n;
}

/// x[1,8,8,1] (64 B) -conv-> h1[1,8,8,4] (256 B) -conv-> h2[1,8,8,2] (128 B) -fc-> y[1,10] (10 B)
inline Graph chain()
{
    Graph g;
    const int x = act(g, "x", {1, 8, 8, 1});
    const int w1 = weights(g, "w1", {4, 3, 3, 1}, 4), b1 = bias(g, "b1", 4);
    const int h1 = act(g, "h1", {1, 8, 8, 4});
    const int w2 = weights(g, "w2", {2, 3, 3, 4}, 2), b2 = bias(g, "b2", 2);
    const int h2 = act(g, "h2", {1, 8, 8, 2});
    const int w3 = weights(g, "w3", {10, 128}, 10), b3 = bias(g, "b3", 10);
    const int y = act(g, "y", {1, 10}, 0.1f, 5);
    g.addNode(conv3x3("conv1", {x, w1, b1}, h1));
    g.addNode(conv3x3("conv2", {h1, w2, b2}, h2));
    g.addNode(node(OpType::FullyConnected, "fc", {h2, w3, b3}, y));
    g.inputs = {x};
    g.outputs = {y};
    g.labels = QStringList{"idle", "wave", "shake", "tap", "swipe", "circle", "up", "down", "left", "right"};
    g.quantized = true;
    return g;
}

/// x[1,8,8,1] -conv-> a[1,8,8,4] -conv-> b[1,8,8,4] -add(a, b)-> s[1,8,8,4]
///   -reshape-> flat[1,256] -fc-> y[1,3] -softmax-> p[1,3]
/// a stays alive across conv "b" until the add.
inline Graph branch()
{
    Graph g;
    const int x = act(g, "x", {1, 8, 8, 1});
    const int w1 = weights(g, "w1", {4, 3, 3, 1}, 4), b1 = bias(g, "b1", 4);
    const int a = act(g, "a", {1, 8, 8, 4});
    const int w2 = weights(g, "w2", {4, 3, 3, 4}, 4), b2 = bias(g, "b2", 4);
    const int b = act(g, "b", {1, 8, 8, 4}, 0.04f, 1);
    const int s = act(g, "s", {1, 8, 8, 4}, 0.08f, -10);
    const int flat = act(g, "flat", {1, 256}, 0.08f, -10);
    const int w3 = weights(g, "w3", {3, 256}, 3), b3 = bias(g, "b3", 3);
    const int y = act(g, "y", {1, 3}, 0.2f, 0);
    const int p = act(g, "p", {1, 3}, 1.0f / 256.0f, -128);
    g.addNode(conv3x3("conv_a", {x, w1, b1}, a));
    g.addNode(conv3x3("conv_b", {a, w2, b2}, b));
    g.addNode(node(OpType::Add, "add", {a, b}, s));
    g.addNode(node(OpType::Reshape, "flatten", {s}, flat));
    g.addNode(node(OpType::FullyConnected, "fc", {flat, w3, b3}, y));
    g.addNode(node(OpType::Softmax, "softmax", {y}, p));
    g.inputs = {x};
    g.outputs = {p};
    g.labels = QStringList{"a", "b", "c"};
    g.quantized = true;
    return g;
}

/// The DS-CNN keyword-spotting shape of the kernel benchmark (firmware-agent/bench): MFCC
/// [1,49,10,1] -conv 10x4 s2-> [1,25,5,64], 4 x (depthwise 3x3 + pointwise 64), global average
/// pool, fully connected 12, softmax; 12 labels ("_silence", "_unknown", then ten keywords).
inline Graph dsCnnKeyword()
{
    auto conv = [](OpType op, const QString &name, QVector<int> inputs, int output, int k0, int k1, int stride,
                   int padTop, int padLeft, int padBottom, int padRight) {
        Node n = node(op, name, std::move(inputs), output);
        n.strideH = n.strideW = stride;
        n.padTop = padTop;
        n.padLeft = padLeft;
        n.padBottom = padBottom;
        n.padRight = padRight;
        n.kernelH = k0;
        n.kernelW = k1;
        n.activation = Activation::Relu;
        return n;
    };
    Graph g;
    const int x = act(g, "mfcc", {1, 49, 10, 1});
    int h = act(g, "conv1", {1, 25, 5, 64});
    g.addNode(conv(OpType::Conv2D, "conv1", {x, weights(g, "w_conv1", {64, 10, 4, 1}, 64), bias(g, "b_conv1", 64)}, h,
                   10, 4, 2, 4, 1, 5, 1));
    for (int i = 1; i <= 4; ++i) {
        const QString s = QString::number(i);
        const int d = act(g, "dw" + s, {1, 25, 5, 64});
        g.addNode(conv(OpType::DepthwiseConv2D, "dw" + s,
                       {h, weights(g, "w_dw" + s, {1, 3, 3, 64}, 64), bias(g, "b_dw" + s, 64)}, d, 3, 3, 1, 1, 1, 1, 1));
        const int p = act(g, "pw" + s, {1, 25, 5, 64});
        g.addNode(conv(OpType::Conv2D, "pw" + s,
                       {d, weights(g, "w_pw" + s, {64, 1, 1, 64}, 64), bias(g, "b_pw" + s, 64)}, p, 1, 1, 1, 0, 0, 0, 0));
        h = p;
    }
    const int pooled = act(g, "pool", {1, 64});
    g.addNode(node(OpType::GlobalAvgPool, "pool", {h}, pooled));
    const int logits = act(g, "logits", {1, 12}, 0.1f, 0);
    g.addNode(node(OpType::FullyConnected, "fc", {pooled, weights(g, "w_fc", {12, 64}, 12), bias(g, "b_fc", 12)}, logits));
    const int y = act(g, "probs", {1, 12}, 1.0f / 256.0f, -128);
    g.addNode(node(OpType::Softmax, "softmax", {logits}, y));
    g.inputs = {x};
    g.outputs = {y};
    g.labels = QStringList{"_silence", "_unknown", "yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"};
    g.quantized = true;
    return g;
}

} // namespace tinyml::deploy::testing
