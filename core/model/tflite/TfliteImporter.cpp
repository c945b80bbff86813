#include "model/tflite/TfliteImporter.h"

#include "model/Int8Executor.h"

#include "TfliteSchemaSubset_generated.h"

#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QJsonArray>
#include <QtEndian>

#include <cmath>
#include <cstring>
#include <limits>

namespace tinyml::model::tflite {
namespace {

namespace fb = tinyml::tflite_fb;

// TFLite builtin operator codes (schema.fbs BuiltinOperator); those the importer maps.
enum Builtin : int {
    kAdd = 0,
    kAveragePool2D = 1,
    kConcatenation = 2,
    kConv2D = 3,
    kDepthwiseConv2D = 4,
    kFullyConnected = 9,
    kMaxPool2D = 17,
    kReshape = 22,
    kSoftmax = 25,
    kCustom = 32,
    kDequantize = 6,
    kQuantize = 114,
    kPad = 34,
};

// Largest dimension / element count accepted: far above any microcontroller model, low enough
// that no product of them overflows and no bogus file makes us allocate gigabytes.
constexpr qint64 kMaxDimension = 1 << 20;
constexpr qint64 kMaxElements = 1 << 26;

const char *const kBuiltinNames[] = {
    "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "DEPTH_TO_SPACE",
    "DEQUANTIZE", "EMBEDDING_LOOKUP", "FLOOR", "FULLY_CONNECTED", "HASHTABLE_LOOKUP",
    "L2_NORMALIZATION", "L2_POOL_2D", "LOCAL_RESPONSE_NORMALIZATION", "LOGISTIC", "LSH_PROJECTION",
    "LSTM", "MAX_POOL_2D", "MUL", "RELU", "RELU_N1_TO_1", "RELU6", "RESHAPE", "RESIZE_BILINEAR",
    "RNN", "SOFTMAX", "SPACE_TO_DEPTH", "SVDF", "TANH", "CONCAT_EMBEDDINGS", "SKIP_GRAM", "CALL",
    "CUSTOM", "EMBEDDING_LOOKUP_SPARSE", "PAD", "UNIDIRECTIONAL_SEQUENCE_RNN", "GATHER",
    "BATCH_TO_SPACE_ND", "SPACE_TO_BATCH_ND", "TRANSPOSE", "MEAN", "SUB", "DIV", "SQUEEZE",
    "UNIDIRECTIONAL_SEQUENCE_LSTM", "STRIDED_SLICE", "BIDIRECTIONAL_SEQUENCE_RNN", "EXP", "TOPK_V2",
    "SPLIT", "LOG_SOFTMAX", "DELEGATE", "BIDIRECTIONAL_SEQUENCE_LSTM", "CAST", "PRELU", "MAXIMUM",
    "ARG_MAX", "MINIMUM", "LESS", "NEG", "PADV2", "GREATER", "GREATER_EQUAL", "LESS_EQUAL",
    "SELECT", "SLICE", "SIN", "TRANSPOSE_CONV", "SPARSE_TO_DENSE", "TILE", "EXPAND_DIMS", "EQUAL",
    "NOT_EQUAL", "LOG", "SUM", "SQRT", "RSQRT", "SHAPE", "POW", "ARG_MIN", "FAKE_QUANT",
    "REDUCE_PROD", "REDUCE_MAX", "PACK", "LOGICAL_OR", "ONE_HOT", "LOGICAL_AND", "LOGICAL_NOT",
    "UNPACK", "REDUCE_MIN", "FLOOR_DIV", "REDUCE_ANY", "SQUARE", "ZEROS_LIKE", "FILL", "FLOOR_MOD",
    "RANGE", "RESIZE_NEAREST_NEIGHBOR", "LEAKY_RELU", "SQUARED_DIFFERENCE", "MIRROR_PAD", "ABS",
    "SPLIT_V", "UNIQUE", "CEIL", "REVERSE_V2", "ADD_N", "GATHER_ND", "COS", "WHERE", "RANK", "ELU",
    "REVERSE_SEQUENCE", "MATRIX_DIAG", "QUANTIZE", "MATRIX_SET_DIAG", "ROUND", "HARD_SWISH", "IF",
    "WHILE", "NON_MAX_SUPPRESSION_V4", "NON_MAX_SUPPRESSION_V5", "SCATTER_ND", "SELECT_V2",
    "DENSIFY", "SEGMENT_SUM", "BATCH_MATMUL", "PLACEHOLDER_FOR_GREATER_OP_CODES", "CUMSUM",
    "CALL_ONCE", "BROADCAST_TO", "RFFT2D", "CONV_3D", "IMAG", "REAL", "COMPLEX_ABS", "HASHTABLE",
    "HASHTABLE_FIND", "HASHTABLE_IMPORT", "HASHTABLE_SIZE", "REDUCE_ALL", "CONV_3D_TRANSPOSE",
    "VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE", "BROADCAST_ARGS",
};

/// A verified flatbuffer string (its length is checked against the buffer); empty when absent.
QString text(const flatbuffers::String *s)
{
    return s ? QString::fromUtf8(QByteArrayView(s->data(), qsizetype(s->size()))) : QString();
}

/// zero_point[k]: int64 elements that the verifier only guarantees 4-byte alignment for (it
/// checks the vector's length prefix), so they are copied, not dereferenced in place.
qint64 zeroPointAt(const flatbuffers::Vector<int64_t> &v, flatbuffers::uoffset_t k)
{
    qint64 value = 0;
    std::memcpy(&value, v.Data() + size_t(k) * sizeof value, sizeof value);
    return qFromLittleEndian(value);
}

QString shapeText(const QVector<int> &shape)
{
    QStringList parts;
    for (int d : shape)
        parts << QString::number(d);
    return QStringLiteral("[%1]").arg(parts.join(QLatin1Char(',')));
}

/// One conversion: the flatbuffer, the graph being built and the TFLite -> IR tensor map.
class Converter
{
public:
    Converter(const fb::Model &model, const fb::SubGraph &subgraph, QString source)
        : m_model(model), m_subgraph(subgraph), m_source(std::move(source))
    {
    }

    std::optional<Graph> run(QString *error);

private:
    const fb::Model &m_model;
    const fb::SubGraph &m_subgraph;
    QString m_source;
    Graph m_graph;
    QHash<int, int> m_irIndex;          ///< TFLite tensor index -> IR tensor index
    /// A PAD's output, kept symbolic: only a convolution may consume it, adding the pads to its own.
    struct PendingPad {
        int source = -1;                ///< the PAD's TFLite input tensor
        int top = 0, bottom = 0, left = 0, right = 0;
        QString where;                  ///< "operator i (PAD, version v)"
    };
    QHash<int, PendingPad> m_pads;
    QVector<bool> m_available;          ///< per TFLite tensor: graph input, constant or produced
    QString m_error;

    bool fail(const QString &message)
    {
        m_error = QStringLiteral("%1: %2").arg(m_source, message);
        return false;
    }

    const fb::Tensor *tensorAt(int index) const
    {
        const auto *tensors = m_subgraph.tensors();
        if (!tensors || index < 0 || index >= int(tensors->size()))
            return nullptr;
        return tensors->Get(flatbuffers::uoffset_t(index));
    }

    QString tensorWhere(int index) const
    {
        const fb::Tensor *t = tensorAt(index);
        const QString name = t ? text(t->name()) : QString();
        return QStringLiteral("tensor %1 \"%2\"").arg(index).arg(name);
    }

    bool convertTensor(int index, int channelAxis, std::optional<int> *irIndex);
    bool tensorShape(int index, QVector<int> *shape);
    bool bufferBytes(const fb::Tensor &t, int index, QByteArray *bytes);
    /// IR index of an existing activation/constant input, checking it is available.
    bool input(int index, const QString &opWhere, int channelAxis, int *irIndex);
    bool output(int index, const QString &opWhere, int *irIndex);
    bool activation(fb::ActivationFunctionType a, const QString &opWhere, Activation *out);
    bool samePadding(fb::Padding padding, int in, int kernel, int stride, int declaredOut, const QString &opWhere,
                     const char *axis, int *padBefore, int *padAfter);
    bool convertOperator(int index, const fb::Operator &op);
    bool convertPad(const fb::Operator &op, const QString &where);
    /// The builtin code of op (-1 when its opcode_index is out of range).
    int builtinOf(const fb::Operator &op) const;
    /// True when op has exactly one input and one output, a and b.
    static bool oneToOne(const fb::Operator &op, int a, int b);
};

int Converter::builtinOf(const fb::Operator &op) const
{
    const auto *codes = m_model.operator_codes();
    if (!codes || op.opcode_index() >= codes->size())
        return -1;
    const fb::OperatorCode *code = codes->Get(op.opcode_index());
    return std::max<int>(code->deprecated_builtin_code(), code->builtin_code());
}

bool Converter::oneToOne(const fb::Operator &op, int a, int b)
{
    return op.inputs() && op.outputs() && op.inputs()->size() == 1 && op.outputs()->size() == 1
           && op.inputs()->Get(0) == a && op.outputs()->Get(0) == b;
}

bool Converter::tensorShape(int index, QVector<int> *shape)
{
    const fb::Tensor *t = tensorAt(index);
    shape->clear();
    if (!t->shape() || t->shape()->size() == 0)
        return fail(QStringLiteral("%1 has no shape (scalars and unknown shapes are not supported)")
                        .arg(tensorWhere(index)));
    if (t->shape()->size() > 6)
        return fail(QStringLiteral("%1: rank %2 is above 6").arg(tensorWhere(index)).arg(t->shape()->size()));
    qint64 elements = 1;
    for (flatbuffers::uoffset_t k = 0; k < t->shape()->size(); ++k) {
        const qint64 d = t->shape()->Get(k);
        if (d < 1 || d > kMaxDimension)
            return fail(QStringLiteral("%1: shape dimension %2 is %3").arg(tensorWhere(index)).arg(k).arg(d));
        elements *= d;
        if (elements > kMaxElements)
            return fail(QStringLiteral("%1: more than %2 elements").arg(tensorWhere(index)).arg(kMaxElements));
        shape->append(int(d));
    }
    return true;
}

bool Converter::bufferBytes(const fb::Tensor &t, int index, QByteArray *bytes)
{
    bytes->clear();
    const auto *buffers = m_model.buffers();
    const quint32 b = t.buffer();
    if (b == 0)
        return true;    // buffer 0 is the empty sentinel: an activation
    if (!buffers || b >= buffers->size())
        return fail(QStringLiteral("%1: buffer index %2 out of range (the model has %3 buffers)")
                        .arg(tensorWhere(index)).arg(b).arg(buffers ? buffers->size() : 0));
    const fb::Buffer *buffer = buffers->Get(b);
    if (buffer->offset() > 1)
        return fail(QStringLiteral("%1: buffer %2 keeps its data outside the flatbuffer (models over 2 GB); "
                                   "not supported").arg(tensorWhere(index)).arg(b));
    if (buffer->data())
        *bytes = QByteArray(reinterpret_cast<const char *>(buffer->data()->data()), int(buffer->data()->size()));
    return true;
}

bool Converter::convertTensor(int index, int channelAxis, std::optional<int> *irIndex)
{
    const fb::Tensor *t = tensorAt(index);
    const QString where = tensorWhere(index);
    if (t->is_variable())
        return fail(QStringLiteral("%1 is a variable tensor (state); not supported").arg(where));
    if (t->sparsity())
        return fail(QStringLiteral("%1 is sparse; not supported").arg(where));
    TensorDesc desc;
    desc.name = t->name() ? text(t->name()) : QStringLiteral("tensor%1").arg(index);
    if (!tensorShape(index, &desc.shape))
        return false;
    switch (t->type()) {
    case fb::TensorType_INT8: desc.dtype = DType::Int8; break;
    case fb::TensorType_INT32: desc.dtype = DType::Int32; break;
    default:
        return fail(QStringLiteral("%1 has type %2: only fully int8-quantized models import (int8 activations and "
                                   "weights, int32 biases)").arg(where, QString::fromLatin1(fb::EnumNameTensorType(t->type()))));
    }
    if (!bufferBytes(*t, index, &desc.data))
        return false;
    const qint64 expectedBytes = desc.elementCount() * dtypeSize(desc.dtype);
    if (!desc.data.isEmpty() && desc.data.size() != expectedBytes)
        return fail(QStringLiteral("%1: buffer has %2 bytes, shape %3 of %4 needs %5")
                        .arg(where).arg(desc.data.size()).arg(shapeText(desc.shape),
                                                               QString::fromLatin1(fb::EnumNameTensorType(t->type())))
                        .arg(expectedBytes));
    if (desc.data.isEmpty() && desc.dtype != DType::Int8)
        return fail(QStringLiteral("%1: an int32 activation; only int32 constant biases are supported").arg(where));

    const fb::QuantizationParameters *q = t->quantization();
    const int nScales = q && q->scale() ? int(q->scale()->size()) : 0;
    const int nZeros = q && q->zero_point() ? int(q->zero_point()->size()) : 0;
    if (nScales == 0)
        return fail(QStringLiteral("%1: quantization.scale is missing (the model is not fully quantized)").arg(where));
    if (q->details())
        return fail(QStringLiteral("%1: custom quantization is not supported").arg(where));
    if (nZeros != nScales)
        return fail(QStringLiteral("%1: quantization has %2 scales but %3 zero points").arg(where).arg(nScales).arg(nZeros));
    if (nScales > 1) {
        const int axis = q->quantized_dimension();
        if (channelAxis < 0)
            return fail(QStringLiteral("%1: per-channel quantization (%2 scales) where one scale per tensor is needed")
                            .arg(where).arg(nScales));
        if (axis != channelAxis)
            return fail(QStringLiteral("%1: quantization.quantized_dimension is %2, expected %3 (the output channels)")
                            .arg(where).arg(axis).arg(channelAxis));
        if (channelAxis >= desc.shape.size() || desc.shape[channelAxis] != nScales)
            return fail(QStringLiteral("%1: %2 scales for shape %3 along axis %4")
                            .arg(where).arg(nScales).arg(shapeText(desc.shape)).arg(channelAxis));
    }
    for (int k = 0; k < nScales; ++k) {
        const float s = q->scale()->Get(flatbuffers::uoffset_t(k));
        const qint64 zp = zeroPointAt(*q->zero_point(), flatbuffers::uoffset_t(k));
        if (!(s > 0.0f) || !std::isfinite(s))
            return fail(QStringLiteral("%1: quantization.scale[%2] = %3 must be positive and finite").arg(where).arg(k).arg(s));
        if (zp < -128 || zp > 127)
            return fail(QStringLiteral("%1: quantization.zero_point[%2] = %3 outside [-128, 127]").arg(where).arg(k).arg(zp));
        desc.scales.append(s);
        desc.zeroPoints.append(int(zp));
    }
    *irIndex = m_graph.addTensor(desc);
    m_irIndex.insert(index, **irIndex);
    return true;
}

bool Converter::input(int index, const QString &opWhere, int channelAxis, int *irIndex)
{
    const fb::Tensor *t = tensorAt(index);
    if (!t)
        return fail(QStringLiteral("%1: input tensor index %2 out of range").arg(opWhere).arg(index));
    if (m_pads.contains(index))
        return fail(QStringLiteral("%1: input %2 comes from %3; only CONV_2D and DEPTHWISE_CONV_2D can take a PAD's "
                                   "output (its pads become theirs)").arg(opWhere, tensorWhere(index), m_pads[index].where));
    if (auto it = m_irIndex.constFind(index); it != m_irIndex.constEnd()) {
        if (!m_available[index])
            return fail(QStringLiteral("%1: input %2 is used before an operator produces it").arg(opWhere, tensorWhere(index)));
        *irIndex = *it;
        return true;
    }
    // First sight of a tensor that is not produced yet: it must be a constant.
    QByteArray bytes;
    if (!bufferBytes(*t, index, &bytes))
        return false;
    if (bytes.isEmpty())
        return fail(QStringLiteral("%1: input %2 is used before an operator produces it").arg(opWhere, tensorWhere(index)));
    std::optional<int> created;
    if (!convertTensor(index, channelAxis, &created))
        return false;
    m_available[index] = true;
    *irIndex = *created;
    return true;
}

bool Converter::output(int index, const QString &opWhere, int *irIndex)
{
    const fb::Tensor *t = tensorAt(index);
    if (!t)
        return fail(QStringLiteral("%1: output tensor index %2 out of range").arg(opWhere).arg(index));
    if (m_irIndex.contains(index))
        return fail(QStringLiteral("%1: output %2 is already defined (inputs and outputs must be distinct, each "
                                   "tensor written once)").arg(opWhere, tensorWhere(index)));
    QByteArray bytes;
    if (!bufferBytes(*t, index, &bytes))
        return false;
    if (!bytes.isEmpty())
        return fail(QStringLiteral("%1: output %2 has constant data").arg(opWhere, tensorWhere(index)));
    std::optional<int> created;
    if (!convertTensor(index, -1, &created))
        return false;
    if (m_graph.tensors[*created].dtype != DType::Int8)
        return fail(QStringLiteral("%1: output %2 must be int8").arg(opWhere, tensorWhere(index)));
    m_available[index] = true;
    *irIndex = *created;
    return true;
}

bool Converter::activation(fb::ActivationFunctionType a, const QString &opWhere, Activation *out)
{
    switch (a) {
    case fb::ActivationFunctionType_NONE: *out = Activation::None; return true;
    case fb::ActivationFunctionType_RELU: *out = Activation::Relu; return true;
    case fb::ActivationFunctionType_RELU6: *out = Activation::Relu6; return true;
    default: break;
    }
    const char *name = (a >= fb::ActivationFunctionType_MIN && a <= fb::ActivationFunctionType_MAX)
                           ? fb::EnumNameActivationFunctionType(a) : "unknown";
    return fail(QStringLiteral("%1: fused_activation_function %2 (%3) is not supported (NONE, RELU, RELU6 are)")
                    .arg(opWhere, QString::fromLatin1(name)).arg(int(a)));
}

bool Converter::samePadding(fb::Padding padding, int in, int kernel, int stride, int declaredOut,
                            const QString &opWhere, const char *axis, int *padBefore, int *padAfter)
{
    if (stride < 1 || stride > kMaxDimension)
        return fail(QStringLiteral("%1: stride_%2 = %3 must be at least 1").arg(opWhere, QLatin1String(axis)).arg(stride));
    int out = 0;
    if (padding == fb::Padding_SAME)
        out = (in + stride - 1) / stride;
    else if (padding == fb::Padding_VALID)
        out = in >= kernel ? (in - kernel) / stride + 1 : 0;
    else
        return fail(QStringLiteral("%1: padding value %2 is neither SAME nor VALID").arg(opWhere).arg(int(padding)));
    const qint64 total = std::max<qint64>(qint64(out - 1) * stride + kernel - in, 0);
    *padBefore = int(total / 2);
    *padAfter = int(total - total / 2);
    if (out < 1 || out != declaredOut)
        return fail(QStringLiteral("%1: %2 padding gives output %3 %4 (input %5, window %6, stride %7); the model "
                                   "declares %8").arg(opWhere, QLatin1String(padding == fb::Padding_SAME ? "SAME" : "VALID"),
                                                      QLatin1String(axis)).arg(out).arg(in).arg(kernel).arg(stride).arg(declaredOut));
    return true;
}

bool Converter::convertPad(const fb::Operator &op, const QString &where)
{
    // TFLite pads int8 tensors with the zero point (real 0), exactly what the convolution
    // kernels assume for their own padding, so a PAD in front of a convolution folds into it.
    if (!op.inputs() || op.inputs()->size() != 2 || !op.outputs() || op.outputs()->size() != 1)
        return fail(QStringLiteral("%1: expected 2 inputs and 1 output").arg(where));
    const int xIndex = op.inputs()->Get(0), pIndex = op.inputs()->Get(1), yIndex = op.outputs()->Get(0);
    int x = -1;
    if (!input(xIndex, where, -1, &x))
        return false;
    const TensorDesc &xt = m_graph.tensors[x];
    const fb::Tensor *pt = tensorAt(pIndex);
    const fb::Tensor *yt = tensorAt(yIndex);
    if (!pt || !yt)
        return fail(QStringLiteral("%1: tensor index out of range").arg(where));
    if (m_irIndex.contains(yIndex) || m_pads.contains(yIndex))
        return fail(QStringLiteral("%1: output %2 is already defined").arg(where, tensorWhere(yIndex)));
    QByteArray paddings;
    if (!bufferBytes(*pt, pIndex, &paddings))
        return false;
    if (xt.dtype != DType::Int8 || xt.shape.size() != 4 || pt->type() != fb::TensorType_INT32
        || paddings.size() != 4 * 2 * 4)
        return fail(QStringLiteral("%1: needs a 4-D int8 input and constant int32 paddings [4, 2] (input %2, paddings %3)")
                        .arg(where, shapeText(xt.shape), tensorWhere(pIndex)));
    qint32 p[8];
    std::memcpy(p, paddings.constData(), sizeof p);
    for (qint32 v : p)
        if (v < 0 || v > kMaxDimension)
            return fail(QStringLiteral("%1: padding %2 out of range").arg(where).arg(v));
    if (p[0] || p[1] || p[6] || p[7])
        return fail(QStringLiteral("%1: only the height and width can be padded (paddings %2 %3 ... %4 %5)")
                        .arg(where).arg(p[0]).arg(p[1]).arg(p[6]).arg(p[7]));
    const fb::QuantizationParameters *q = yt->quantization();
    if (yt->type() != fb::TensorType_INT8 || !q || !q->scale() || q->scale()->size() != 1 || !q->zero_point()
        || q->zero_point()->size() != 1 || q->scale()->Get(0) != xt.scales[0]
        || zeroPointAt(*q->zero_point(), 0) != xt.zeroPoints[0])
        return fail(QStringLiteral("%1: output %2 must be int8 with the input's scale and zero point")
                        .arg(where, tensorWhere(yIndex)));
    const QVector<int> padded{1, xt.shape[1] + p[2] + p[3], xt.shape[2] + p[4] + p[5], xt.shape[3]};
    QVector<int> declared;
    if (!tensorShape(yIndex, &declared))
        return false;
    if (declared != padded)
        return fail(QStringLiteral("%1: output %2 has shape %3, the paddings give %4")
                        .arg(where, tensorWhere(yIndex), shapeText(declared), shapeText(padded)));
    m_pads.insert(yIndex, PendingPad{xIndex, p[2], p[3], p[4], p[5], where});
    return true;
}

bool Converter::convertOperator(int index, const fb::Operator &op)
{
    const auto *codes = m_model.operator_codes();
    if (!codes || op.opcode_index() >= codes->size())
        return fail(QStringLiteral("operator %1: opcode_index %2 out of range (%3 operator codes)")
                        .arg(index).arg(op.opcode_index()).arg(codes ? codes->size() : 0));
    const fb::OperatorCode *code = codes->Get(op.opcode_index());
    const int builtin = std::max<int>(code->deprecated_builtin_code(), code->builtin_code());
    const int version = code->version();
    const QString name = builtinOperatorName(builtin);
    const QString where = QStringLiteral("operator %1 (%2, version %3)").arg(index).arg(name).arg(version);

    const int nIn = op.inputs() ? int(op.inputs()->size()) : 0;
    const int nOut = op.outputs() ? int(op.outputs()->size()) : 0;
    auto in = [&](int k) { return k < nIn ? op.inputs()->Get(flatbuffers::uoffset_t(k)) : -1; };

    Node node;
    QVector<int> inputs;
    int channelAxis = -1;
    auto needInputs = [&](int minimum, int maximum) {
        if (nIn < minimum || nIn > maximum)
            return fail(QStringLiteral("%1: %2 inputs, expected %3..%4").arg(where).arg(nIn).arg(minimum).arg(maximum));
        return true;
    };
    auto needOptions = [&](const void *options, const char *table) {
        if (!options)
            return fail(QStringLiteral("%1: builtin_options (%2) missing").arg(where, QLatin1String(table)));
        return true;
    };

    switch (builtin) {
    case kConv2D:
    case kDepthwiseConv2D:
        node.op = builtin == kConv2D ? OpType::Conv2D : OpType::DepthwiseConv2D;
        channelAxis = builtin == kConv2D ? 0 : 3;
        if (!needInputs(2, 3))
            return false;
        break;
    case kFullyConnected:
        node.op = OpType::FullyConnected;
        channelAxis = 0;
        if (!needInputs(2, 3))
            return false;
        break;
    case kAveragePool2D:
    case kMaxPool2D:
        node.op = builtin == kMaxPool2D ? OpType::MaxPool2D : OpType::AvgPool2D;
        if (!needInputs(1, 1))
            return false;
        break;
    case kAdd:
        node.op = OpType::Add;
        if (!needInputs(2, 2))
            return false;
        break;
    case kReshape:
        node.op = OpType::Reshape;
        if (!needInputs(1, 2))
            return false;
        break;
    case kSoftmax:
        node.op = OpType::Softmax;
        if (!needInputs(1, 1))
            return false;
        break;
    case kConcatenation:
        node.op = OpType::Concat;
        if (!needInputs(1, 64))
            return false;
        break;
    case kPad:
        return convertPad(op, where);
    case kCustom: {
        const QString custom = text(code->custom_code());
        return fail(QStringLiteral("operator %1 is the custom op \"%2\" (version %3): not supported")
                        .arg(index).arg(custom).arg(version));
    }
    default:
        return fail(QStringLiteral("%1: op not supported by the TFLite importer (supported: ADD, AVERAGE_POOL_2D, "
                                   "CONCATENATION, CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, MAX_POOL_2D, RESHAPE, "
                                   "SOFTMAX; PAD in front of a convolution; QUANTIZE of a float graph input and "
                                   "DEQUANTIZE to a float graph output)")
                        .arg(where));
    }
    if (nOut != 1)
        return fail(QStringLiteral("%1: %2 outputs, expected 1").arg(where).arg(nOut));

    // Data inputs first, then weights (per-channel axis), then the optional bias.
    const int dataInputs = node.op == OpType::Add ? 2 : node.op == OpType::Concat ? nIn : 1;
    const PendingPad pad = channelAxis >= 0 && node.op != OpType::FullyConnected ? m_pads.value(in(0)) : PendingPad{};
    for (int k = 0; k < dataInputs; ++k) {
        int ir = -1;
        if (!input(k == 0 && pad.source >= 0 ? pad.source : in(k), where, -1, &ir))
            return false;
        if (m_graph.tensors[ir].dtype != DType::Int8)
            return fail(QStringLiteral("%1: input %2 must be int8").arg(where, tensorWhere(in(k))));
        inputs.append(ir);
    }
    if (channelAxis >= 0) {
        int w = -1;
        if (!input(in(1), where, channelAxis, &w))
            return false;
        const TensorDesc &wt = m_graph.tensors[w];
        if (!wt.isConstant() || wt.dtype != DType::Int8)
            return fail(QStringLiteral("%1: weights %2 must be a constant int8 tensor").arg(where, tensorWhere(in(1))));
        for (int zp : wt.zeroPoints)
            if (zp != 0)
                return fail(QStringLiteral("%1: weights %2 have zero point %3; int8 weights must be symmetric (0)")
                                .arg(where, tensorWhere(in(1))).arg(zp));
        inputs.append(w);
        if (nIn > 2 && in(2) >= 0) {
            int b = -1;
            if (!input(in(2), where, 0, &b))
                return false;
            const TensorDesc &bt = m_graph.tensors[b];
            if (!bt.isConstant() || bt.dtype != DType::Int32)
                return fail(QStringLiteral("%1: bias %2 must be a constant int32 tensor").arg(where, tensorWhere(in(2))));
            inputs.append(b);
        }
    }
    int y = -1;
    if (!output(op.outputs()->Get(0), where, &y))
        return false;
    const QVector<int> xShape = m_graph.tensors[inputs[0]].shape;
    const QVector<int> yShape = m_graph.tensors[y].shape;
    node.name = m_graph.tensors[y].name;
    int finalOutput = y;
    Activation pooledActivation = Activation::None;

    switch (node.op) {
    case OpType::Conv2D:
    case OpType::DepthwiseConv2D: {
        const QVector<int> wShape = m_graph.tensors[inputs[1]].shape;
        if (xShape.size() != 4 || wShape.size() != 4 || yShape.size() != 4 || xShape[0] != 1)
            return fail(QStringLiteral("%1: needs NHWC input with batch 1 and 4-D weights and output (input %2, weights %3, "
                                       "output %4)").arg(where, shapeText(xShape), shapeText(wShape), shapeText(yShape)));
        int strideH = 0, strideW = 0, dilH = 1, dilW = 1;
        fb::Padding padding = fb::Padding_SAME;
        fb::ActivationFunctionType act = fb::ActivationFunctionType_NONE;
        if (node.op == OpType::Conv2D) {
            const fb::Conv2DOptions *o = op.builtin_options_as_Conv2DOptions();
            if (!needOptions(o, "Conv2DOptions"))
                return false;
            strideH = o->stride_h(); strideW = o->stride_w();
            dilH = o->dilation_h_factor(); dilW = o->dilation_w_factor();
            padding = o->padding(); act = o->fused_activation_function();
            if (wShape[3] != xShape[3])
                return fail(QStringLiteral("%1: weights %2 take %3 input channels, the input has %4 (grouped convolution "
                                           "is not supported)").arg(where, shapeText(wShape)).arg(wShape[3]).arg(xShape[3]));
        } else {
            const fb::DepthwiseConv2DOptions *o = op.builtin_options_as_DepthwiseConv2DOptions();
            if (!needOptions(o, "DepthwiseConv2DOptions"))
                return false;
            strideH = o->stride_h(); strideW = o->stride_w();
            dilH = o->dilation_h_factor(); dilW = o->dilation_w_factor();
            padding = o->padding(); act = o->fused_activation_function();
            if (wShape[0] != 1 || wShape[3] % xShape[3] != 0
                || (o->depth_multiplier() > 0 && wShape[3] != xShape[3] * o->depth_multiplier()))
                return fail(QStringLiteral("%1: weights %2 do not match input channels %3 with depth_multiplier %4")
                                .arg(where, shapeText(wShape)).arg(xShape[3]).arg(o->depth_multiplier()));
        }
        if (dilH != 1 || dilW != 1)
            return fail(QStringLiteral("%1: dilation %2x%3 is not supported (the model IR has no dilation yet)")
                            .arg(where).arg(dilH).arg(dilW));
        if (!activation(act, where, &node.activation))
            return false;
        node.strideH = strideH;
        node.strideW = strideW;
        // After a PAD the convolution sees the padded plane; the two paddings add up.
        const int paddedH = xShape[1] + pad.top + pad.bottom, paddedW = xShape[2] + pad.left + pad.right;
        if (!samePadding(padding, paddedH, wShape[1], strideH, yShape[1], where, "h", &node.padTop, &node.padBottom)
            || !samePadding(padding, paddedW, wShape[2], strideW, yShape[2], where, "w", &node.padLeft, &node.padRight))
            return false;
        node.padTop += pad.top;
        node.padBottom += pad.bottom;
        node.padLeft += pad.left;
        node.padRight += pad.right;
        if (yShape[3] != (node.op == OpType::Conv2D ? wShape[0] : wShape[3]))
            return fail(QStringLiteral("%1: output %2 does not have the weights' %3 channels")
                            .arg(where, shapeText(yShape)).arg(node.op == OpType::Conv2D ? wShape[0] : wShape[3]));
        break;
    }
    case OpType::FullyConnected: {
        const fb::FullyConnectedOptions *o = op.builtin_options_as_FullyConnectedOptions();
        if (o) {
            if (o->weights_format() != fb::FullyConnectedOptionsWeightsFormat_DEFAULT)
                return fail(QStringLiteral("%1: weights_format %2 is not supported (DEFAULT is)")
                                .arg(where).arg(int(o->weights_format())));
            if (!activation(o->fused_activation_function(), where, &node.activation))
                return false;
        }
        const QVector<int> wShape = m_graph.tensors[inputs[1]].shape;
        if (wShape.size() != 2 || m_graph.tensors[inputs[0]].elementCount() != wShape[1])
            return fail(QStringLiteral("%1: weights %2 need [Cout, Cin] with Cin = the input's %3 elements (batch 1)")
                            .arg(where, shapeText(wShape)).arg(m_graph.tensors[inputs[0]].elementCount()));
        if (yShape != QVector<int>{1, wShape[0]})
            return fail(QStringLiteral("%1: output %2 must be [1, %3]").arg(where, shapeText(yShape)).arg(wShape[0]));
        break;
    }
    case OpType::AvgPool2D:
    case OpType::MaxPool2D: {
        const fb::Pool2DOptions *o = op.builtin_options_as_Pool2DOptions();
        if (!needOptions(o, "Pool2DOptions"))
            return false;
        if (xShape.size() != 4 || yShape.size() != 4 || xShape[0] != 1 || yShape[3] != xShape[3])
            return fail(QStringLiteral("%1: needs NHWC input and output with batch 1 and equal channels (input %2, output %3)")
                            .arg(where, shapeText(xShape), shapeText(yShape)));
        if (o->filter_height() < 1 || o->filter_width() < 1 || o->filter_height() > kMaxDimension
            || o->filter_width() > kMaxDimension)
            return fail(QStringLiteral("%1: filter %2x%3 must be at least 1x1").arg(where).arg(o->filter_height()).arg(o->filter_width()));
        node.kernelH = o->filter_height();
        node.kernelW = o->filter_width();
        node.strideH = o->stride_h();
        node.strideW = o->stride_w();
        if (!samePadding(o->padding(), xShape[1], node.kernelH, node.strideH, yShape[1], where, "h", &node.padTop, &node.padBottom)
            || !samePadding(o->padding(), xShape[2], node.kernelW, node.strideW, yShape[2], where, "w", &node.padLeft, &node.padRight))
            return false;
        if (!activation(o->fused_activation_function(), where, &pooledActivation))
            return false;
        break;
    }
    case OpType::Add: {
        const fb::AddOptions *o = op.builtin_options_as_AddOptions();
        if (o && !activation(o->fused_activation_function(), where, &node.activation))
            return false;
        const QVector<int> bShape = m_graph.tensors[inputs[1]].shape;
        if (xShape != bShape || yShape != xShape)
            return fail(QStringLiteral("%1: inputs %2 and %3, output %4: broadcasting is not supported")
                            .arg(where, shapeText(xShape), shapeText(bShape), shapeText(yShape)));
        break;
    }
    case OpType::Reshape:
        // The second input (new shape) and ReshapeOptions repeat the output tensor's shape.
        if (m_graph.tensors[inputs[0]].elementCount() != m_graph.tensors[y].elementCount())
            return fail(QStringLiteral("%1: reshapes %2 to %3 (different element counts)")
                            .arg(where, shapeText(xShape), shapeText(yShape)));
        break;
    case OpType::Softmax: {
        const fb::SoftmaxOptions *o = op.builtin_options_as_SoftmaxOptions();
        if (o && o->beta() != 1.0f)
            return fail(QStringLiteral("%1: beta %2 is not supported (1.0 is)").arg(where).arg(double(o->beta())));
        if (xShape != yShape)
            return fail(QStringLiteral("%1: output %2 differs from input %3").arg(where, shapeText(yShape), shapeText(xShape)));
        break;
    }
    case OpType::Concat: {
        const fb::ConcatenationOptions *o = op.builtin_options_as_ConcatenationOptions();
        if (!needOptions(o, "ConcatenationOptions"))
            return false;
        const int rank = yShape.size();
        if (o->axis() != rank - 1 && o->axis() != -1)
            return fail(QStringLiteral("%1: axis %2 is not supported (only the last axis, %3)").arg(where).arg(o->axis()).arg(rank - 1));
        Activation a = Activation::None;
        if (!activation(o->fused_activation_function(), where, &a))
            return false;
        if (a != Activation::None)
            return fail(QStringLiteral("%1: a fused activation on CONCATENATION is not supported").arg(where));
        break;
    }
    default:
        break;
    }

    node.inputs = inputs;
    if (pooledActivation != Activation::None) {
        // The IR's pools have no fused activation: pool into a copy of the output, then clamp.
        TensorDesc pre = m_graph.tensors[y];
        pre.name += QStringLiteral("/pool");
        const int preIndex = m_graph.addTensor(pre);
        node.outputs = {preIndex};
        m_graph.addNode(node);
        Node clamp;
        clamp.op = pooledActivation == Activation::Relu ? OpType::Relu : OpType::Relu6;
        clamp.name = node.name + QStringLiteral("/activation");
        clamp.inputs = {preIndex};
        clamp.outputs = {finalOutput};
        m_graph.addNode(clamp);
    } else {
        node.outputs = {finalOutput};
        m_graph.addNode(node);
    }
    return true;
}

std::optional<Graph> Converter::run(QString *error)
{
    auto failed = [&]() -> std::optional<Graph> {
        if (error)
            *error = m_error;
        return std::nullopt;
    };
    const int nTensors = m_subgraph.tensors() ? int(m_subgraph.tensors()->size()) : 0;
    m_available = QVector<bool>(nTensors, false);
    const int nIn = m_subgraph.inputs() ? int(m_subgraph.inputs()->size()) : 0;
    const int nOut = m_subgraph.outputs() ? int(m_subgraph.outputs()->size()) : 0;
    if (nIn != 1 || nOut != 1) {
        fail(QStringLiteral("the subgraph has %1 inputs and %2 outputs; only models with one input and one output import")
                 .arg(nIn).arg(nOut));
        return failed();
    }
    int inputIndex = m_subgraph.inputs()->Get(0);
    int outputIndex = m_subgraph.outputs()->Get(0);
    if (!tensorAt(inputIndex) || !tensorAt(outputIndex)) {
        fail(QStringLiteral("subgraph input %1 or output %2 out of range (%3 tensors)")
                 .arg(inputIndex).arg(outputIndex).arg(nTensors));
        return failed();
    }
    const int nOps = m_subgraph.operators() ? int(m_subgraph.operators()->size()) : 0;
    if (nOps == 0) {
        fail(QStringLiteral("the subgraph has no operators"));
        return failed();
    }
    // A float interface (the converter's default inference_input_type / output_type): a
    // QUANTIZE of the float input first and a DEQUANTIZE to the float output last. The int8
    // graph starts and ends inside them; Int8Executor::quantizeInput / dequantizeOutput do the
    // same arithmetic (round half away from zero, clamp) at the boundary.
    int firstOp = 0, endOp = nOps;
    bool floatInput = false, floatOutput = false;
    const fb::Operator &op0 = *m_subgraph.operators()->Get(0);
    if (builtinOf(op0) == kQuantize && tensorAt(inputIndex)->type() == fb::TensorType_FLOAT32
        && op0.outputs() && op0.outputs()->size() == 1 && oneToOne(op0, inputIndex, op0.outputs()->Get(0))) {
        inputIndex = op0.outputs()->Get(0);
        if (!tensorAt(inputIndex)) {
            fail(QStringLiteral("operator 0 (QUANTIZE): output tensor index %1 out of range").arg(inputIndex));
            return failed();
        }
        firstOp = 1;
        floatInput = true;
    }
    const fb::Operator &opN = *m_subgraph.operators()->Get(flatbuffers::uoffset_t(nOps - 1));
    if (nOps - 1 >= firstOp && builtinOf(opN) == kDequantize && tensorAt(outputIndex)->type() == fb::TensorType_FLOAT32
        && opN.inputs() && opN.inputs()->size() == 1 && oneToOne(opN, opN.inputs()->Get(0), outputIndex)) {
        outputIndex = opN.inputs()->Get(0);
        endOp = nOps - 1;
        floatOutput = true;
    }
    int irInput = -1;
    if (!output(inputIndex, QStringLiteral("graph input"), &irInput))
        return failed();
    if (m_graph.tensors[irInput].shape.value(0) != 1) {
        fail(QStringLiteral("graph input %1 has shape %2; batch 1 is required")
                 .arg(tensorWhere(inputIndex), shapeText(m_graph.tensors[irInput].shape)));
        return failed();
    }
    m_graph.inputs = {irInput};

    if (firstOp >= endOp) {
        fail(QStringLiteral("the subgraph has no operators between its QUANTIZE and DEQUANTIZE"));
        return failed();
    }
    for (int i = firstOp; i < endOp; ++i)
        if (!convertOperator(i, *m_subgraph.operators()->Get(flatbuffers::uoffset_t(i))))
            return failed();

    if (!m_irIndex.contains(outputIndex) || m_graph.tensors[m_irIndex[outputIndex]].isConstant()
        || outputIndex == inputIndex) {
        fail(m_pads.contains(outputIndex)
                 ? QStringLiteral("the subgraph output comes from %1; a PAD must feed a convolution").arg(m_pads[outputIndex].where)
                 : QStringLiteral("subgraph output %1 is not produced by any operator").arg(outputIndex));
        return failed();
    }
    m_graph.outputs = {m_irIndex[outputIndex]};
    m_graph.quantized = true;
    QJsonObject meta;
    meta.insert(QStringLiteral("source"), QStringLiteral("tflite"));
    meta.insert(QStringLiteral("file"), QFileInfo(m_source).fileName());
    meta.insert(QStringLiteral("tflite_schema_version"), qint64(m_model.version()));
    // The file's own interface: float when its QUANTIZE / DEQUANTIZE were left outside the graph.
    meta.insert(QStringLiteral("tflite_input_type"), QLatin1String(floatInput ? "float32" : "int8"));
    meta.insert(QStringLiteral("tflite_output_type"), QLatin1String(floatOutput ? "float32" : "int8"));
    if (m_model.description())
        meta.insert(QStringLiteral("tflite_description"), text(m_model.description()));
    QJsonArray opsUsed;
    for (flatbuffers::uoffset_t k = 0; m_model.operator_codes() && k < m_model.operator_codes()->size(); ++k) {
        const fb::OperatorCode *c = m_model.operator_codes()->Get(k);
        const int b = std::max<int>(c->deprecated_builtin_code(), c->builtin_code());
        opsUsed.append(QStringLiteral("%1 v%2").arg(builtinOperatorName(b)).arg(c->version()));
    }
    meta.insert(QStringLiteral("tflite_operator_codes"), opsUsed);
    m_graph.meta = meta;

    QString why;
    if (!m_graph.inferShapes(&why)) {
        fail(QStringLiteral("the imported graph does not validate: %1").arg(why));
        return failed();
    }
    // What imports must run: the executor's prepare step refuses requantization scales and
    // accumulator ranges our int8 kernels cannot handle exactly.
    Int8Executor executor;
    if (!executor.prepare(m_graph, &why)) {
        fail(QStringLiteral("the int8 kernels cannot run this model: %1").arg(why));
        return failed();
    }
    return m_graph;
}

} // namespace

QString builtinOperatorName(int code)
{
    constexpr int n = int(sizeof(kBuiltinNames) / sizeof(kBuiltinNames[0]));
    if (code >= 0 && code < n)
        return QString::fromLatin1(kBuiltinNames[code]);
    return QStringLiteral("BUILTIN_%1").arg(code);
}

std::optional<Graph> importTflite(const QByteArray &bytes, const QString &sourceName, QString *error)
{
    auto fail = [&](const QString &message) -> std::optional<Graph> {
        if (error)
            *error = QStringLiteral("%1: %2").arg(sourceName, message);
        return std::nullopt;
    };
    // Flatbuffer offsets are 32-bit and the root offset plus identifier take 8 bytes.
    if (bytes.size() < 8)
        return fail(QStringLiteral("%1 bytes: too short to be a TFLite flatbuffer").arg(bytes.size()));
    if (!fb::ModelBufferHasIdentifier(bytes.constData()))
        return fail(QStringLiteral("not a TFLite model: the file identifier at byte 4 is not \"TFL3\""));
    // The copy gives the buffer malloc's alignment, which the verifier checks scalars against.
    const QByteArray aligned(bytes.constData(), bytes.size());
    flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t *>(aligned.constData()), size_t(aligned.size()));
    if (!fb::VerifyModelBuffer(verifier))
        return fail(QStringLiteral("corrupt or truncated TFLite flatbuffer (%1 bytes): the flatbuffers verifier "
                                   "rejected it").arg(aligned.size()));
    const fb::Model *model = fb::GetModel(aligned.constData());
    if (model->version() != 3)
        return fail(QStringLiteral("schema version %1; only version 3 is supported").arg(model->version()));
    const int nSubgraphs = model->subgraphs() ? int(model->subgraphs()->size()) : 0;
    if (nSubgraphs != 1)
        return fail(QStringLiteral("%1 subgraphs; only single-subgraph models import").arg(nSubgraphs));
    Converter converter(*model, *model->subgraphs()->Get(0), sourceName);
    return converter.run(error);
}

std::optional<Graph> importTfliteFile(const QString &path, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        if (error)
            *error = QStringLiteral("%1: cannot open: %2").arg(path, file.errorString());
        return std::nullopt;
    }
    // Flatbuffers address at most 2 GB, and no microcontroller model comes near that.
    constexpr qint64 kMaxBytes = qint64(1) << 30;
    if (file.size() > kMaxBytes) {
        if (error)
            *error = QStringLiteral("%1: %2 bytes is too large for a TFLite model").arg(path).arg(file.size());
        return std::nullopt;
    }
    return importTflite(file.readAll(), path, error);
}

} // namespace tinyml::model::tflite
