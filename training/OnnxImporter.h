#pragma once
// ONNX (float, as torch.onnx.export writes it) -> model IR float Graph.
//
// Supported ops: Conv (2-D, and 1-D as H = 1; group 1 or depthwise), Gemm, MatMul (+ Add of a
// constant as bias), Relu, Clip (Relu6 when [0, 6]), MaxPool, AveragePool, GlobalAveragePool,
// ReduceMean over the spatial axes, Flatten, Reshape (to [N, -1] / [N, F]), Add,
// BatchNormalization, Softmax, Concat, Identity, Dropout (inference: identity), Constant, and
// a zero Pad of the spatial axes in front of a Conv (folded into its pads).
// Anything else is refused with the op type and the node name.
//
// Layouts: ONNX NCHW activations become the IR's NHWC; conv weights [O, I, KH, KW] become
// [O, KH, KW, I] (depthwise [1, KH, KW, C]); a Flatten / Reshape of an [N, C, H, W] tensor
// flattens in C, H, W order while the IR flattens H, W, C, so the columns of the fully
// connected layer consuming it are permuted to match (exact, no runtime transpose).

#include "model/Graph.h"

#include <QByteArray>
#include <QString>
#include <QStringList>

#include <optional>

namespace tinyml::training {

/// Converts a serialized ONNX model. labels name the output classes (may be empty: the
/// importer then uses the model's "labels" metadata when present).
std::optional<model::Graph> importOnnx(const QByteArray &model, const QStringList &labels, QString *error);
std::optional<model::Graph> importOnnxFile(const QString &path, const QStringList &labels, QString *error);

} // namespace tinyml::training
