#include "model/tflite/TfliteExporter.h"

#include "model/tflite/TfliteImporter.h"

#include "TfliteSchemaSubset_generated.h"

#include <QHash>
#include <QSaveFile>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace tinyml::model::tflite {
namespace {

namespace fb = tinyml::tflite_fb;

// TFLite builtin operator codes (schema.fbs BuiltinOperator) the exporter writes.
enum Builtin : int {
    kAdd = 0,
    kAveragePool2D = 1,
    kConcatenation = 2,
    kConv2D = 3,
    kDepthwiseConv2D = 4,
    kDequantize = 6,
    kFullyConnected = 9,
    kMaxPool2D = 17,
    kMul = 18,
    kRelu = 19,
    kRelu6 = 21,
    kReshape = 22,
    kSoftmax = 25,
    kPad = 34,
    kQuantize = 114,
};
// deprecated_builtin_code is a byte: codes above 126 store 127 (PLACEHOLDER_FOR_GREATER_OP_CODES)
// there and the real value in builtin_code; readers take the larger of the two.
constexpr int kPlaceholderForGreaterOpCodes = 127;
// Constant data aligned like the TFLite converter's, so a runtime can map int32 biases in place.
constexpr size_t kBufferAlignment = 16;

fb::ActivationFunctionType fused(Activation a)
{
    switch (a) {
    case Activation::Relu: return fb::ActivationFunctionType_RELU;
    case Activation::Relu6: return fb::ActivationFunctionType_RELU6;
    case Activation::None: break;
    }
    return fb::ActivationFunctionType_NONE;
}

/// TFLite's SAME split of the padding along one axis: total = max((ceil(in/s) - 1) * s + k - in, 0),
/// the smaller half before.
bool isSameSplit(int in, int kernel, int stride, int before, int after)
{
    const int out = (in + stride - 1) / stride;
    const int total = std::max((out - 1) * stride + kernel - in, 0);
    return before == total / 2 && after == total - total / 2;
}

/// SAME or VALID when the node's explicit pads are one of them; nullopt otherwise.
std::optional<fb::Padding> paddingOf(const Node &n, int inH, int inW, int kH, int kW)
{
    if (n.padTop == 0 && n.padBottom == 0 && n.padLeft == 0 && n.padRight == 0)
        return fb::Padding_VALID;
    if (isSameSplit(inH, kH, n.strideH, n.padTop, n.padBottom) && isSameSplit(inW, kW, n.strideW, n.padLeft, n.padRight))
        return fb::Padding_SAME;
    return std::nullopt;
}

class Writer
{
public:
    explicit Writer(Graph graph) : m_g(std::move(graph)), m_float(!m_g.quantized) {}

    std::optional<QByteArray> run(const QString &description, QString *error, TfliteExportInfo *info);

private:
    Graph m_g;
    bool m_float = false;               ///< a float graph: float32 tensors, version 1 of every op
    flatbuffers::FlatBufferBuilder m_fbb{64 * 1024};
    std::vector<flatbuffers::Offset<fb::Tensor>> m_tensors;
    std::vector<flatbuffers::Offset<fb::Buffer>> m_buffers;
    std::vector<flatbuffers::Offset<fb::Operator>> m_ops;
    QVector<QPair<int, int>> m_codes;   ///< (builtin, version), operator_codes order
    QHash<int, int> m_index;            ///< IR tensor -> TFLite tensor
    QString m_error;

    bool fail(const QString &message)
    {
        m_error = message;
        return false;
    }

    int addTensor(const QString &name, const QVector<int> &shape, fb::TensorType type, const QVector<float> &scales,
                  const QVector<int> &zeroPoints, int quantizedDimension, const QByteArray &data);
    /// The TFLite tensor of IR tensor ir, created on first use; channelAxis is the weights'
    /// quantized_dimension (0 for anything else).
    int tensorOf(int ir, int channelAxis = 0);
    /// A new int8 activation with ir's quantization (intermediates the IR does not have).
    int activationLike(int ir, const QString &suffix, const QVector<int> &shape);
    int int32Constant(const QString &name, const QVector<int> &shape, const QVector<qint32> &values);
    quint32 opcode(int builtin, int version);
    /// The version to write: the int8 form's, or 1 (float32) for a float graph.
    int version(int int8Version) const { return m_float ? 1 : int8Version; }
    int floatConstant(const QString &name, const QVector<float> &values);
    void addOp(int builtin, int version, const std::vector<int32_t> &inputs, const std::vector<int32_t> &outputs,
               fb::BuiltinOptions type = fb::BuiltinOptions_NONE, flatbuffers::Offset<void> options = 0);
    bool convertNode(int index, QVector<bool> *skip, const QVector<int> &consumers);
};

int Writer::addTensor(const QString &name, const QVector<int> &shape, fb::TensorType type, const QVector<float> &scales,
                      const QVector<int> &zeroPoints, int quantizedDimension, const QByteArray &data)
{
    quint32 buffer = 0;
    if (!data.isEmpty()) {
        m_fbb.ForceVectorAlignment(size_t(data.size()), 1, kBufferAlignment);
        const auto bytes = m_fbb.CreateVector(reinterpret_cast<const uint8_t *>(data.constData()), size_t(data.size()));
        buffer = quint32(m_buffers.size());
        m_buffers.push_back(fb::CreateBuffer(m_fbb, bytes));
    }
    flatbuffers::Offset<fb::QuantizationParameters> quantization = 0;
    if (!scales.isEmpty()) {
        const std::vector<float> s(scales.begin(), scales.end());
        std::vector<int64_t> z(size_t(scales.size()), 0);
        for (int k = 0; k < zeroPoints.size() && k < scales.size(); ++k)
            z[size_t(k)] = zeroPoints[k];
        quantization = fb::CreateQuantizationParametersDirect(m_fbb, nullptr, nullptr, &s, &z, fb::QuantizationDetails_NONE,
                                                              0, quantizedDimension);
    }
    const std::vector<int32_t> dims(shape.begin(), shape.end());
    const QByteArray utf8 = name.toUtf8();
    m_tensors.push_back(fb::CreateTensorDirect(m_fbb, &dims, type, buffer, utf8.constData(), quantization));
    return int(m_tensors.size()) - 1;
}

int Writer::tensorOf(int ir, int channelAxis)
{
    if (auto it = m_index.constFind(ir); it != m_index.constEnd())
        return *it;
    const TensorDesc &t = m_g.tensors[ir];
    const fb::TensorType type = t.dtype == DType::Int8    ? fb::TensorType_INT8
                                : t.dtype == DType::Int32 ? fb::TensorType_INT32
                                                          : fb::TensorType_FLOAT32;
    const int index = addTensor(t.name, t.shape, type, t.scales, t.zeroPoints, channelAxis, t.data);
    m_index.insert(ir, index);
    return index;
}

int Writer::activationLike(int ir, const QString &suffix, const QVector<int> &shape)
{
    const TensorDesc &t = m_g.tensors[ir];
    return addTensor(t.name + suffix, shape, t.dtype == DType::Int8 ? fb::TensorType_INT8 : fb::TensorType_FLOAT32,
                     t.scales, t.zeroPoints, 0, {});
}

int Writer::floatConstant(const QString &name, const QVector<float> &values)
{
    QByteArray data;
    for (float v : values) {
        quint32 u = 0;
        std::memcpy(&u, &v, sizeof u);
        for (int b = 0; b < 4; ++b)
            data.append(char((u >> (8 * b)) & 0xff));
    }
    return addTensor(name, {int(values.size())}, fb::TensorType_FLOAT32, {}, {}, 0, data);
}

int Writer::int32Constant(const QString &name, const QVector<int> &shape, const QVector<qint32> &values)
{
    QByteArray data;
    for (qint32 v : values) {
        const quint32 u = quint32(v);
        for (int b = 0; b < 4; ++b)
            data.append(char((u >> (8 * b)) & 0xff));
    }
    return addTensor(name, shape, fb::TensorType_INT32, {}, {}, 0, data);
}

quint32 Writer::opcode(int builtin, int version)
{
    const QPair<int, int> key{builtin, version};
    const qsizetype found = m_codes.indexOf(key);
    if (found >= 0)
        return quint32(found);
    m_codes.append(key);
    return quint32(m_codes.size() - 1);
}

void Writer::addOp(int builtin, int version, const std::vector<int32_t> &inputs, const std::vector<int32_t> &outputs,
                   fb::BuiltinOptions type, flatbuffers::Offset<void> options)
{
    m_ops.push_back(fb::CreateOperatorDirect(m_fbb, opcode(builtin, version), &inputs, &outputs, type, options));
}

bool Writer::convertNode(int index, QVector<bool> *skip, const QVector<int> &consumers)
{
    const Node &n = m_g.nodes[index];
    const QString where = QStringLiteral("node %1 \"%2\" (%3)").arg(index).arg(n.name, opName(n.op));
    const int y = n.outputs.value(0, -1);
    const QVector<int> xShape = n.inputs.isEmpty() ? QVector<int>{} : m_g.tensors[n.inputs[0]].shape;

    switch (n.op) {
    case OpType::Conv2D:
    case OpType::DepthwiseConv2D: {
        const bool depthwise = n.op == OpType::DepthwiseConv2D;
        const QVector<int> wShape = m_g.tensors[n.inputs[1]].shape;
        int x = tensorOf(n.inputs[0]);
        std::optional<fb::Padding> padding = paddingOf(n, xShape[1], xShape[2], wShape[1], wShape[2]);
        if (!padding) {
            // Pads that are neither SAME nor VALID: an explicit PAD (int8, filled with the zero
            // point, i.e. real 0 — what the kernels' own padding means), then a VALID convolution.
            const int paddings = int32Constant(m_g.tensors[n.inputs[0]].name + QStringLiteral("/paddings"), {4, 2},
                                               {0, 0, n.padTop, n.padBottom, n.padLeft, n.padRight, 0, 0});
            const int padded = activationLike(n.inputs[0], QStringLiteral("/padded"),
                                              {1, xShape[1] + n.padTop + n.padBottom, xShape[2] + n.padLeft + n.padRight,
                                               xShape[3]});
            addOp(kPad, version(2), {x, paddings}, {padded}, fb::BuiltinOptions_PadOptions, fb::CreatePadOptions(m_fbb).Union());
            x = padded;
            padding = fb::Padding_VALID;
        }
        std::vector<int32_t> inputs{x, tensorOf(n.inputs[1], depthwise ? 3 : 0)};
        if (n.inputs.size() > 2)
            inputs.push_back(tensorOf(n.inputs[2], 0));
        const int out = tensorOf(y);
        if (depthwise) {
            const int multiplier = wShape[3] / std::max(1, xShape[3]);
            addOp(kDepthwiseConv2D, version(3), inputs, {out}, fb::BuiltinOptions_DepthwiseConv2DOptions,
                  fb::CreateDepthwiseConv2DOptions(m_fbb, *padding, n.strideW, n.strideH, multiplier, fused(n.activation))
                      .Union());
        } else {
            addOp(kConv2D, version(3), inputs, {out}, fb::BuiltinOptions_Conv2DOptions,
                  fb::CreateConv2DOptions(m_fbb, *padding, n.strideW, n.strideH, fused(n.activation)).Union());
        }
        return true;
    }
    case OpType::FullyConnected: {
        std::vector<int32_t> inputs{tensorOf(n.inputs[0]), tensorOf(n.inputs[1], 0)};
        if (n.inputs.size() > 2)
            inputs.push_back(tensorOf(n.inputs[2], 0));
        addOp(kFullyConnected, version(4), inputs, {tensorOf(y)}, fb::BuiltinOptions_FullyConnectedOptions,
              fb::CreateFullyConnectedOptions(m_fbb, fused(n.activation)).Union());
        return true;
    }
    case OpType::MaxPool2D:
    case OpType::AvgPool2D: {
        const std::optional<fb::Padding> padding = paddingOf(n, xShape[1], xShape[2], n.kernelH, n.kernelW);
        if (!padding)
            return fail(QStringLiteral("%1: pads %2,%3,%4,%5 (top, left, bottom, right) are neither TFLite's SAME split "
                                       "nor VALID; a PAD in front would change what the pool sees")
                            .arg(where).arg(n.padTop).arg(n.padLeft).arg(n.padBottom).arg(n.padRight));
        // A Relu / Relu6 that alone reads the pool's output becomes its fused activation (the
        // importer splits it off again); it shares the pool's quantization by the IR's rule.
        int out = y;
        fb::ActivationFunctionType act = fb::ActivationFunctionType_NONE;
        if (consumers[y] == 1) {
            for (int j = index + 1; j < m_g.nodes.size(); ++j) {
                const Node &next = m_g.nodes[j];
                if (!next.inputs.contains(y))
                    continue;
                const bool relu6 = next.op == OpType::Relu6
                                   || (next.op == OpType::Clip && next.clipMin == 0.0f && next.clipMax == 6.0f);
                if ((next.op == OpType::Relu || relu6) && next.inputs.size() == 1) {
                    act = relu6 ? fb::ActivationFunctionType_RELU6 : fb::ActivationFunctionType_RELU;
                    out = next.outputs[0];
                    (*skip)[j] = true;
                }
                break;
            }
        }
        addOp(n.op == OpType::MaxPool2D ? kMaxPool2D : kAveragePool2D, version(2), {tensorOf(n.inputs[0])}, {tensorOf(out)},
              fb::BuiltinOptions_Pool2DOptions,
              fb::CreatePool2DOptions(m_fbb, *padding, n.strideW, n.strideH, n.kernelW, n.kernelH, act).Union());
        return true;
    }
    case OpType::GlobalAvgPool: {
        const QVector<int> yShape = m_g.tensors[y].shape;
        const int pooled = activationLike(y, QStringLiteral("/pool"), {1, 1, 1, xShape[3]});
        addOp(kAveragePool2D, version(2), {tensorOf(n.inputs[0])}, {pooled}, fb::BuiltinOptions_Pool2DOptions,
              fb::CreatePool2DOptions(m_fbb, fb::Padding_VALID, 1, 1, xShape[2], xShape[1]).Union());
        const int shape = int32Constant(m_g.tensors[y].name + QStringLiteral("/shape"), {int(yShape.size())}, yShape);
        const std::vector<int32_t> dims(yShape.begin(), yShape.end());
        addOp(kReshape, 1, {pooled, shape}, {tensorOf(y)}, fb::BuiltinOptions_ReshapeOptions,
              fb::CreateReshapeOptionsDirect(m_fbb, &dims).Union());
        return true;
    }
    case OpType::Add:
        addOp(kAdd, version(2), {tensorOf(n.inputs[0]), tensorOf(n.inputs[1])}, {tensorOf(y)}, fb::BuiltinOptions_AddOptions,
              fb::CreateAddOptions(m_fbb, fused(n.activation)).Union());
        return true;
    case OpType::Reshape: {
        const QVector<int> yShape = m_g.tensors[y].shape;
        const int shape = int32Constant(m_g.tensors[y].name + QStringLiteral("/shape"), {int(yShape.size())}, yShape);
        const std::vector<int32_t> dims(yShape.begin(), yShape.end());
        addOp(kReshape, 1, {tensorOf(n.inputs[0]), shape}, {tensorOf(y)}, fb::BuiltinOptions_ReshapeOptions,
              fb::CreateReshapeOptionsDirect(m_fbb, &dims).Union());
        return true;
    }
    case OpType::Softmax:
        addOp(kSoftmax, version(2), {tensorOf(n.inputs[0])}, {tensorOf(y)}, fb::BuiltinOptions_SoftmaxOptions,
              fb::CreateSoftmaxOptions(m_fbb, 1.0f).Union());
        return true;
    case OpType::Concat: {
        std::vector<int32_t> inputs;
        for (int in : n.inputs)
            inputs.push_back(tensorOf(in));
        const int axis = int(m_g.tensors[y].shape.size()) - 1;
        addOp(kConcatenation, version(2), inputs, {tensorOf(y)}, fb::BuiltinOptions_ConcatenationOptions,
              fb::CreateConcatenationOptions(m_fbb, axis).Union());
        return true;
    }
    case OpType::Relu:
        addOp(kRelu, version(2), {tensorOf(n.inputs[0])}, {tensorOf(y)});
        return true;
    case OpType::Clip:
        if (n.clipMin != 0.0f || n.clipMax != 6.0f)
            return fail(QStringLiteral("%1: clip to [%2, %3] has no TFLite int8 op with the same clamp (only [0, 6], "
                                       "RELU6, has)").arg(where).arg(double(n.clipMin)).arg(double(n.clipMax)));
        [[fallthrough]];
    case OpType::Relu6:
        addOp(kRelu6, version(2), {tensorOf(n.inputs[0])}, {tensorOf(y)});
        return true;
    case OpType::KMeansScore:
    case OpType::GmmScore:
    case OpType::SquaredError:
        return fail(QStringLiteral("%1: anomaly scores have no TFLite op with the same integer arithmetic; export "
                                   "this model with --c-library instead")
                        .arg(where));
    case OpType::BatchNorm: {
        if (!m_float)
            return fail(QStringLiteral("%1: BatchNorm cannot be in an int8 graph (the quantizer folds it)").arg(where));
        // y = x * g / sqrt(var + eps) + (beta - mean * g / sqrt(var + eps)): MUL and ADD by [C]
        // constants (TFLite broadcasts over the last axis), computed in double as one rounding each.
        const QVector<float> gamma = m_g.tensors[n.inputs[1]].floatValues(), beta = m_g.tensors[n.inputs[2]].floatValues(),
                             mean = m_g.tensors[n.inputs[3]].floatValues(), var = m_g.tensors[n.inputs[4]].floatValues();
        const int c = xShape.isEmpty() ? 0 : xShape.last();
        if (c <= 0 || gamma.size() != c || beta.size() != c || mean.size() != c || var.size() != c)
            return fail(QStringLiteral("%1: gamma, beta, mean and var need %2 float values each").arg(where).arg(c));
        QVector<float> scale(c), shift(c);
        for (int k = 0; k < c; ++k) {
            const double a = double(gamma[k]) / std::sqrt(double(var[k]) + double(n.epsilon));
            scale[k] = float(a);
            shift[k] = float(double(beta[k]) - double(mean[k]) * a);
        }
        const QString base = m_g.tensors[y].name;
        const int scaled = activationLike(y, QStringLiteral("/scaled"), m_g.tensors[y].shape);
        addOp(kMul, 1, {tensorOf(n.inputs[0]), floatConstant(base + QStringLiteral("/bn_scale"), scale)}, {scaled});
        addOp(kAdd, 1, {scaled, floatConstant(base + QStringLiteral("/bn_shift"), shift)}, {tensorOf(y)});
        return true;
    }
    }
    return fail(QStringLiteral("%1: op %2 is not supported by the TFLite exporter").arg(where).arg(int(n.op)));
}

std::optional<QByteArray> Writer::run(const QString &description, QString *error, TfliteExportInfo *info)
{
    auto failed = [&]() -> std::optional<QByteArray> {
        if (error)
            *error = m_error;
        return std::nullopt;
    };
    QString why;
    if (!m_g.inferShapes(&why)) {
        fail(QStringLiteral("the %1 graph does not validate: %2").arg(QLatin1String(m_float ? "float" : "int8"), why));
        return failed();
    }
    if (m_g.inputs.size() != 1 || m_g.outputs.size() != 1) {
        fail(QStringLiteral("the graph has %1 inputs and %2 outputs; TFLite export writes one of each")
                 .arg(m_g.inputs.size()).arg(m_g.outputs.size()));
        return failed();
    }
    // Reshape targets may keep a -1 in the IR; TFLite tensors need every dimension.
    for (const Node &n : m_g.nodes) {
        if (n.outputs.isEmpty() || n.inputs.isEmpty())
            continue;
        TensorDesc &t = m_g.tensors[n.outputs[0]];
        if (!t.shape.contains(-1))
            continue;
        qint64 known = 1;
        for (int d : t.shape)
            known *= d == -1 ? 1 : d;
        const qint64 total = m_g.tensors[n.inputs[0]].elementCount();
        if (known <= 0 || total <= 0 || total % known != 0) {
            fail(QStringLiteral("tensor \"%1\": cannot resolve the -1 dimension of its shape").arg(t.name));
            return failed();
        }
        for (int &d : t.shape)
            if (d == -1)
                d = int(total / known);
    }

    m_buffers.push_back(fb::CreateBuffer(m_fbb));   // buffer 0: the empty sentinel every activation points at

    const QJsonObject &meta = m_g.meta;
    const bool floatInput = !m_float && meta.value(QStringLiteral("tflite_input_type")).toString() == QLatin1String("float32");
    const bool floatOutput = !m_float && meta.value(QStringLiteral("tflite_output_type")).toString() == QLatin1String("float32");
    const int irIn = m_g.inputs[0], irOut = m_g.outputs[0];
    int subgraphInput = -1;
    if (floatInput) {
        const TensorDesc &t = m_g.tensors[irIn];
        subgraphInput = addTensor(t.name + QStringLiteral("/float"), t.shape, fb::TensorType_FLOAT32, {}, {}, 0, {});
        addOp(kQuantize, 2, {subgraphInput}, {tensorOf(irIn)}, fb::BuiltinOptions_QuantizeOptions,
              fb::CreateQuantizeOptions(m_fbb).Union());
    } else {
        subgraphInput = tensorOf(irIn);
    }

    QVector<int> consumers(m_g.tensors.size(), 0);
    for (const Node &n : m_g.nodes)
        for (int in : n.inputs)
            ++consumers[in];
    ++consumers[irOut];
    QVector<bool> skip(m_g.nodes.size(), false);
    for (int i = 0; i < m_g.nodes.size(); ++i)
        if (!skip[i] && !convertNode(i, &skip, consumers))
            return failed();

    int subgraphOutput = tensorOf(irOut);
    if (floatOutput) {
        const TensorDesc &t = m_g.tensors[irOut];
        const int f = addTensor(t.name + QStringLiteral("/float"), t.shape, fb::TensorType_FLOAT32, {}, {}, 0, {});
        addOp(kDequantize, 2, {subgraphOutput}, {f}, fb::BuiltinOptions_DequantizeOptions,
              fb::CreateDequantizeOptions(m_fbb).Union());
        subgraphOutput = f;
    }

    std::vector<flatbuffers::Offset<fb::OperatorCode>> codes;
    QStringList codeNames;
    for (const auto &[builtin, version] : m_codes) {
        codes.push_back(fb::CreateOperatorCode(m_fbb, int8_t(std::min(builtin, kPlaceholderForGreaterOpCodes)), 0,
                                               version, builtin));
        codeNames << QStringLiteral("%1 v%2").arg(builtinOperatorName(builtin)).arg(version);
    }
    const std::vector<int32_t> inputs{subgraphInput}, outputs{subgraphOutput};
    const auto subgraph = fb::CreateSubGraphDirect(m_fbb, &m_tensors, &inputs, &outputs, &m_ops, "main");
    const std::vector<flatbuffers::Offset<fb::SubGraph>> subgraphs{subgraph};
    const QByteArray descriptionUtf8 = description.toUtf8();
    const auto model = fb::CreateModelDirect(m_fbb, 3, &codes, &subgraphs,
                                             descriptionUtf8.isEmpty() ? nullptr : descriptionUtf8.constData(), &m_buffers);
    fb::FinishModelBuffer(m_fbb, model);
    if (info) {
        info->operators = int(m_ops.size());
        info->tensors = int(m_tensors.size());
        info->buffers = int(m_buffers.size());
        info->operatorCodes = codeNames;
        info->floatInput = floatInput;
        info->floatOutput = floatOutput;
    }
    return QByteArray(reinterpret_cast<const char *>(m_fbb.GetBufferPointer()), int(m_fbb.GetSize()));
}

} // namespace

std::optional<QByteArray> exportTflite(const Graph &graph, const QString &description, QString *error,
                                       TfliteExportInfo *info)
{
    Writer writer(graph);
    return writer.run(description, error, info);
}

bool writeTfliteFile(const Graph &graph, const QString &path, const QString &description, QString *error,
                     TfliteExportInfo *info)
{
    auto bytes = exportTflite(graph, description, error, info);
    if (!bytes)
        return false;
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(*bytes) != bytes->size() || !file.commit()) {
        if (error)
            *error = QStringLiteral("%1: cannot write: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

} // namespace tinyml::model::tflite
