#pragma once
// Small graphs shared by the model tests.

#include "model/Graph.h"

namespace tinyml::model::testing {

inline Node makeNode(OpType op, const QString &name, QVector<int> inputs, int output)
{
    Node n;
    n.op = op;
    n.name = name;
    n.inputs = std::move(inputs);
    n.outputs = {output};
    return n;
}

/// Float graph: x[1,5,5,2] -> conv 3x3 (4 ch, stride 2, pad 1) -> depthwise 3x3 (pad 0)
/// -> reshape [1,-1] -> fc 3 -> softmax. Deterministic weights.
inline Graph smallCnn()
{
    Graph g;
    const int x = g.addTensor(TensorDesc::activation("x", {1, 5, 5, 2}));
    QVector<float> w1(4 * 3 * 3 * 2), b1(4), w2(3 * 3 * 4), b2(4), w3(3 * 4), b3(3);
    for (int i = 0; i < w1.size(); ++i)
        w1[i] = float((i * 37) % 17 - 8) / 16.0f;
    for (int i = 0; i < w2.size(); ++i)
        w2[i] = float((i * 29) % 13 - 6) / 12.0f;
    for (int i = 0; i < w3.size(); ++i)
        w3[i] = float((i * 11) % 7 - 3) / 4.0f;
    b1 = {0.1f, -0.2f, 0.3f, 0.0f};
    b2 = {0.05f, 0.0f, -0.1f, 0.2f};
    b3 = {0.1f, -0.1f, 0.0f};
    const int tw1 = g.addTensor(TensorDesc::constantFloat("w1", {4, 3, 3, 2}, w1));
    const int tb1 = g.addTensor(TensorDesc::constantFloat("b1", {4}, b1));
    const int h1 = g.addTensor(TensorDesc::activation("h1"));
    const int tw2 = g.addTensor(TensorDesc::constantFloat("w2", {1, 3, 3, 4}, w2));
    const int tb2 = g.addTensor(TensorDesc::constantFloat("b2", {4}, b2));
    const int h2 = g.addTensor(TensorDesc::activation("h2"));
    const int flat = g.addTensor(TensorDesc::activation("flat", {1, -1}));
    const int tw3 = g.addTensor(TensorDesc::constantFloat("w3", {3, 4}, w3));
    const int tb3 = g.addTensor(TensorDesc::constantFloat("b3", {3}, b3));
    const int logits = g.addTensor(TensorDesc::activation("logits"));
    const int probs = g.addTensor(TensorDesc::activation("probs"));
    Node conv = makeNode(OpType::Conv2D, "conv", {x, tw1, tb1}, h1);
    conv.strideH = conv.strideW = 2;
    conv.padTop = conv.padLeft = conv.padBottom = conv.padRight = 1;
    conv.activation = Activation::Relu;
    g.addNode(conv);
    Node dw = makeNode(OpType::DepthwiseConv2D, "dw", {h1, tw2, tb2}, h2);
    dw.activation = Activation::Relu6;
    g.addNode(dw);
    g.addNode(makeNode(OpType::Reshape, "flatten", {h2}, flat));
    g.addNode(makeNode(OpType::FullyConnected, "fc", {flat, tw3, tb3}, logits));
    g.addNode(makeNode(OpType::Softmax, "softmax", {logits}, probs));
    g.inputs = {x};
    g.outputs = {probs};
    g.labels = QStringList{"a", "b", "c"};
    g.meta = QJsonObject{{"kind", "test-cnn"}};
    return g;
}

} // namespace tinyml::model::testing
