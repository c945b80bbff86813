#pragma once
// Model IR -> ONNX (opset 13, IR version 7), with the onnx 1.12 protobuf API.
//
// Layout on the ONNX side is ONNX's own: NCHW. The exporter converts the weights (conv
// [C_OUT, KH, KW, C_IN] -> [C_OUT, C_IN, KH, KW], depthwise [1, KH, KW, C] -> [C, 1, KH, KW]
// with group = C) and keeps activations NCHW; where the IR flattens an NHWC tensor (reshape,
// a fully connected layer on a 4-D input) a Transpose to NHWC comes first, so the flattened
// element order — and the fully connected weights — are the IR's unchanged. The model input
// is [1, C, H, W] (or [1, F]), the output "output".
//
// Int8 graphs are exported in QDQ form: the float input is quantized and dequantized
// (QuantizeLinear / DequantizeLinear with the graph's input scale and zero point), weights are
// int8 initializers behind a DequantizeLinear with per-channel scales (axis 0), biases int32
// behind a DequantizeLinear with scales input_scale * weight_scale[c], every op runs in float
// on dequantized inputs and its output (after the fused ReLU / Clip) is quantized and
// dequantized again with the IR tensor's scale and zero point. Softmax ends the same way with
// scale 1/256 and zero point -128.
//
// metadata_props: "labels" (JSON array), "input_normalization" (JSON, when the graph has it),
// "layout" = "NCHW", "producer" = "tinyml-workbench".

#include "model/Graph.h"

#include <QByteArray>
#include <QString>

#include <optional>

namespace tinyml::training {

/// Serialized onnx::ModelProto of the graph (float, or QDQ when graph.quantized).
std::optional<QByteArray> exportOnnx(const model::Graph &graph, QString *error);
/// exportOnnx, checkOnnx, then writes the file.
bool writeOnnxFile(const model::Graph &graph, const QString &path, QString *error);
/// onnx::checker::check_model and strict shape inference on a serialized model.
bool checkOnnx(const QByteArray &model, QString *error);

} // namespace tinyml::training
