#pragma once
// TensorFlow Lite flatbuffer (.tflite) -> model IR int8 Graph.
//
// Reads fully int8-quantized single-subgraph models, as the TFLite converter writes them for
// microcontrollers (the four MLPerf Tiny reference models are the yardstick), and keeps their
// quantization exactly: int8 weights with one scale per output channel (or per tensor), int8
// activations with one scale and zero point each, int32 biases with their scales. Layouts
// need no conversion: TFLite's NHWC activations, [Cout, KH, KW, Cin] conv, [1, KH, KW, Cout]
// depthwise and [Cout, Cin] fully connected weights are the IR's own (Graph.h).
//
// Ops: CONV_2D, DEPTHWISE_CONV_2D (fused NONE / RELU / RELU6; SAME or VALID padding, turned
// into the IR's explicit pads; strides; dilation 1), FULLY_CONNECTED (DEFAULT weights format,
// output [1, Cout]), AVERAGE_POOL_2D and MAX_POOL_2D (a fused RELU / RELU6 becomes a standalone
// node), ADD (same shapes, per-input scales), RESHAPE (the shape operand is dropped: the IR
// takes the output tensor's shape), SOFTMAX (beta 1), CONCATENATION along the last axis, PAD of
// height and width whose only consumers are convolutions (folded into their padding: TFLite pads
// int8 with the zero point, which is what the kernels' own padding means).
// A float interface is accepted at the boundary only: a QUANTIZE of the float graph input as
// the first operator and a DEQUANTIZE to the float graph output as the last stay outside the
// int8 graph (meta tflite_input_type / tflite_output_type say so; the executor's quantizeInput
// and dequantizeOutput do their arithmetic). Anything else is refused with the op name, its
// operator index and the model's version of that op.
//
// The file is outside input: the flatbuffers Verifier checks every offset before any field is
// read, then every index, shape, buffer size and quantization array is checked against what
// it describes, and the result must pass Int8Executor::prepare (what imports, runs). Errors
// start with the file name and name the tensor, operator or field.
//
// Arithmetic against TFLite's integer definitions (the imported graph runs in Int8Executor):
// convolutions, fully connected and ADD use TFLite's QuantizeMultiplier /
// MultiplyByQuantizedMultiplier (effective scales in double) and AVERAGE_POOL_2D its rounding
// (sum of the valid taps, round half away from zero); SOFTMAX its fixed-point definition
// (tm_nn_softmax_s8: gemmlowp-style exp and reciprocal, as TFLite Micro and CMSIS-NN compute).
//
// Threading: free functions, no shared state.

#include "model/Graph.h"

#include <QByteArray>
#include <QString>

#include <optional>

namespace tinyml::model::tflite {

/// Converts the bytes of a .tflite file. sourceName (the file name) starts every error
/// message and is recorded in the graph's meta.
std::optional<Graph> importTflite(const QByteArray &bytes, const QString &sourceName, QString *error);
/// Reads the file and converts it; errors name the path.
std::optional<Graph> importTfliteFile(const QString &path, QString *error);

/// The TFLite builtin operator name of a code ("CONV_2D"), or "BUILTIN_<code>" when unknown.
QString builtinOperatorName(int code);

} // namespace tinyml::model::tflite
