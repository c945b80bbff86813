#pragma once
// Model IR Graph -> TensorFlow Lite flatbuffer (.tflite): int8 graphs as the inverse of
// TfliteImporter, float graphs as float32 TFLite graphs (which the importer does not read).
//
// Written with flatbuffers' builder through the same generated schema subset the importer
// reads (TfliteSchemaSubset.fbs, whose field slots and union values are the real schema's), so
// TFLite, TFLite Micro and our own importer read the file. Quantization is copied exactly:
// per-channel int8 weights (quantized_dimension 0 for CONV_2D and FULLY_CONNECTED, 3 for
// DEPTHWISE_CONV_2D), per-tensor int8 activations, int32 biases with their per-channel scales
// and zero points 0. Layouts need no conversion (see TfliteImporter.h).
//
// Op mapping (operator version = the version TFLite assigns to the int8 form of the op):
//    Conv2D / DepthwiseConv2D  CONV_2D v3 / DEPTHWISE_CONV_2D v3; explicit pads become SAME or
//                              VALID when they are TFLite's split, else a PAD v2 in front
//                              (TFLite pads int8 with the zero point, as our kernels do)
//    FullyConnected            FULLY_CONNECTED v4 (DEFAULT weights, keep_num_dims false)
//    MaxPool2D / AvgPool2D     MAX_POOL_2D v2 / AVERAGE_POOL_2D v2 (SAME or VALID pads only:
//                              a PAD would change what max and average see); a Relu / Relu6
//                              that alone consumes a pool's output is fused into it
//    GlobalAvgPool             AVERAGE_POOL_2D v2 over the whole plane, then RESHAPE to [1, C]
//    Add                       ADD v2       Reshape   RESHAPE v1 (constant int32 shape input)
//    Softmax                   SOFTMAX v2 (beta 1)   Concat   CONCATENATION v2, last axis
//    Relu / Relu6 / Clip[0,6]  RELU v2 / RELU6 v2 when standalone
// Anomaly-score ops (KMeansScore, GmmScore, SquaredError) and any other Clip have no TFLite
// op with the same integer arithmetic; they are refused with the node's index, name and op.
// Float graphs: float32 tensors without quantization, version 1 of every op above, and
// BatchNorm as MUL v1 and ADD v1 by per-channel constants (scale g / sqrt(var + eps) and
// shift beta - mean * scale, computed in double); TFLite's float kernels differ from the float
// executor by float rounding only.
//
// The file's interface: int8 input and output, or, when the graph was imported from a TFLite
// file with a float interface (meta tflite_input_type / tflite_output_type = "float32"), a
// QUANTIZE v2 of a float input first and a DEQUANTIZE v2 to a float output last, as that file
// had — so an imported model exports to a file TFLite runs like the original.
//
// Threading: free functions, no shared state.

#include "model/Graph.h"

#include <QByteArray>
#include <QString>
#include <QStringList>

#include <optional>

namespace tinyml::model::tflite {

/// What an export wrote.
struct TfliteExportInfo {
    int operators = 0;
    int tensors = 0;
    int buffers = 0;
    QStringList operatorCodes;          ///< "CONV_2D v3", in operator_codes order
    bool floatInput = false;            ///< a QUANTIZE of a float32 input was added
    bool floatOutput = false;           ///< a DEQUANTIZE to a float32 output was added
};

/// The .tflite bytes of an int8 or float graph (schema version 3, one subgraph). description goes into
/// Model.description. Errors name the node (index, name, op) or tensor and what TFLite lacks.
std::optional<QByteArray> exportTflite(const Graph &graph, const QString &description, QString *error,
                                       TfliteExportInfo *info = nullptr);
/// exportTflite, then writes the file; errors name the path.
bool writeTfliteFile(const Graph &graph, const QString &path, const QString &description, QString *error,
                     TfliteExportInfo *info = nullptr);

} // namespace tinyml::model::tflite
