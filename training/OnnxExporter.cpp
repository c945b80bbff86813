#include "OnnxExporter.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>

#include <cstring>

namespace tinyml::training {

namespace {

using model::Activation;
using model::Graph;
using model::Node;
using model::OpType;
using model::TensorDesc;

class Exporter
{
public:
    explicit Exporter(const Graph &g) : m_g(g) {}

    std::optional<QByteArray> run(QString *error)
    {
        m_error = error;
        onnx::ModelProto m;
        m.set_ir_version(7);
        m.set_producer_name("tinyml-workbench");
        m.set_producer_version(TINYML_VERSION);
        auto *opset = m.add_opset_import();
        opset->set_domain("");
        opset->set_version(13);
        m_graph = m.mutable_graph();
        m_graph->set_name("tinyml");
        m_qdq = m_g.quantized;
        m_names.resize(m_g.tensors.size());

        if (m_g.inputs.size() != 1 || m_g.outputs.size() != 1)
            return fail(QStringLiteral("ONNX export handles graphs with one input and one output"));
        const int in = m_g.inputs[0];
        const TensorDesc &inT = m_g.tensors[in];
        if (inT.shape.size() != 2 && inT.shape.size() != 4)
            return fail(QStringLiteral("input \"%1\" must be [1, F] or [1, H, W, C]").arg(inT.name));
        // A 1-D model imported as [N, C, L] is held as [N, 1, L, C]; give it back the user's
        // rank and restore the 2-D view inside the model.
        const std::vector<int64_t> rank3 = importedRank3Input(inT.shape);
        std::string input = "input";
        if (!rank3.empty()) {
            addValueInfo(m_graph->add_input(), "input", rank3);
            input = "input_nchw";
            node("Unsqueeze", "input_unsqueeze", {"input", int64s("input_unsqueeze_axes", {2})}, input);
        } else {
            addValueInfo(m_graph->add_input(), "input", onnxShape(inT.shape));
        }
        m_names[in] = m_qdq ? quantDequant(input, in) : input;

        for (int i = 0; i < m_g.nodes.size(); ++i)
            if (!emit(i, m_g.nodes[i]))
                return std::nullopt;

        const int out = m_g.outputs[0];
        auto *id = m_graph->add_node();
        id->set_op_type("Identity");
        id->set_name("output_identity");
        id->add_input(m_names[out]);
        id->add_output("output");
        addValueInfo(m_graph->add_output(), "output", onnxShape(m_g.tensors[out].shape));

        auto meta = [&](const char *key, const QByteArray &value) {
            auto *p = m.add_metadata_props();
            p->set_key(key);
            p->set_value(value.toStdString());
        };
        meta("producer", "tinyml-workbench");
        meta("layout", "NCHW");
        meta("labels", QJsonDocument(QJsonArray::fromStringList(m_g.labels)).toJson(QJsonDocument::Compact));
        const QJsonObject norm = m_g.meta.value(QStringLiteral("input_normalization")).toObject();
        if (!norm.isEmpty())
            meta("input_normalization", QJsonDocument(norm).toJson(QJsonDocument::Compact));
        std::string bytes;
        if (!m.SerializeToString(&bytes))
            return fail(QStringLiteral("cannot serialize the ONNX model"));
        return QByteArray(bytes.data(), int(bytes.size()));
    }

private:
    const Graph &m_g;
    onnx::GraphProto *m_graph = nullptr;
    bool m_qdq = false;
    QString *m_error = nullptr;
    std::vector<std::string> m_names;    ///< ONNX float value per IR tensor
    int m_counter = 0;

    std::nullopt_t fail(const QString &m)
    {
        if (m_error)
            *m_error = m;
        return std::nullopt;
    }

    std::string fresh(const std::string &base) { return base + "_" + std::to_string(m_counter++); }

    static std::vector<int64_t> onnxShape(const QVector<int> &irShape)
    {
        if (irShape.size() == 4)
            return {irShape[0], irShape[3], irShape[1], irShape[2]};
        return std::vector<int64_t>(irShape.begin(), irShape.end());
    }
    bool rank4(int t) const { return m_g.tensors[t].shape.size() == 4; }

    /// [N, C, L] when the graph came from an ONNX model whose input had rank 3 (meta
    /// "onnx_input_shape") and still has that shape as IR [N, 1, L, C]; else empty.
    std::vector<int64_t> importedRank3Input(const QVector<int> &irShape) const
    {
        const QJsonArray dims = m_g.meta.value(QStringLiteral("onnx_input_shape")).toArray();
        if (dims.size() != 3 || irShape.size() != 4 || irShape[1] != 1)
            return {};
        const std::vector<int64_t> shape{irShape[0], irShape[3], irShape[2]};
        if (dims[1].toInteger() != shape[1] || dims[2].toInteger() != shape[2])
            return {};
        return shape;
    }

    static void addValueInfo(onnx::ValueInfoProto *v, const std::string &name, const std::vector<int64_t> &shape)
    {
        v->set_name(name);
        auto *tt = v->mutable_type()->mutable_tensor_type();
        tt->set_elem_type(onnx::TensorProto::FLOAT);
        for (int64_t d : shape)
            tt->mutable_shape()->add_dim()->set_dim_value(d);
    }

    std::string initializer(const std::string &name, int dtype, const std::vector<int64_t> &dims, const void *data,
                            size_t bytes)
    {
        auto *t = m_graph->add_initializer();
        t->set_name(name);
        t->set_data_type(dtype);
        for (int64_t d : dims)
            t->add_dims(d);
        t->set_raw_data(std::string(static_cast<const char *>(data), bytes));
        return name;
    }
    std::string floatScalar(const std::string &base, float v)
    {
        return initializer(fresh(base), onnx::TensorProto::FLOAT, {}, &v, 4);
    }
    std::string int64s(const std::string &base, const std::vector<int64_t> &v)
    {
        return initializer(fresh(base), onnx::TensorProto::INT64, {int64_t(v.size())}, v.data(), v.size() * 8);
    }

    onnx::NodeProto *node(const char *op, const std::string &name, const std::vector<std::string> &inputs,
                          const std::string &output)
    {
        auto *n = m_graph->add_node();
        n->set_op_type(op);
        n->set_name(name);
        for (const auto &i : inputs)
            n->add_input(i);
        n->add_output(output);
        return n;
    }
    static void attrInts(onnx::NodeProto *n, const char *name, const std::vector<int64_t> &v)
    {
        auto *a = n->add_attribute();
        a->set_name(name);
        a->set_type(onnx::AttributeProto::INTS);
        for (int64_t x : v)
            a->add_ints(x);
    }
    static void attrInt(onnx::NodeProto *n, const char *name, int64_t v)
    {
        auto *a = n->add_attribute();
        a->set_name(name);
        a->set_type(onnx::AttributeProto::INT);
        a->set_i(v);
    }
    static void attrFloat(onnx::NodeProto *n, const char *name, float v)
    {
        auto *a = n->add_attribute();
        a->set_name(name);
        a->set_type(onnx::AttributeProto::FLOAT);
        a->set_f(v);
    }

    /// QuantizeLinear + DequantizeLinear of a float value with IR tensor t's parameters.
    std::string quantDequant(const std::string &value, int t)
    {
        const TensorDesc &d = m_g.tensors[t];
        const std::string base = d.name.toStdString();
        const std::string s = floatScalar(base + "_scale", d.scales[0]);
        const int8_t zp = int8_t(d.zeroPoints[0]);
        const std::string z = initializer(fresh(base + "_zero_point"), onnx::TensorProto::INT8, {}, &zp, 1);
        const std::string q = fresh(base + "_q"), dq = fresh(base + "_dq");
        node("QuantizeLinear", fresh(base + "_quantize"), {value, s, z}, q);
        node("DequantizeLinear", fresh(base + "_dequantize"), {q, s, z}, dq);
        return dq;
    }

    /// Constant tensor t in ONNX layout (perm: ONNX axis k takes IR axis perm[k]); float, or
    /// int8 / int32 behind a per-channel DequantizeLinear in QDQ graphs.
    std::string constant(int t, const std::vector<int> &perm)
    {
        const TensorDesc &d = m_g.tensors[t];
        const int esize = dtypeSize(d.dtype);
        std::vector<int64_t> inDims(d.shape.begin(), d.shape.end()), outDims;
        for (int p : perm)
            outDims.push_back(inDims[p]);
        if (perm.empty())
            outDims = inDims;
        const qint64 count = d.elementCount();
        QByteArray out(int(count * esize), Qt::Uninitialized);
        if (perm.empty()) {
            out = d.data;
        } else {
            std::vector<int64_t> inStride(inDims.size(), 1);
            for (int k = int(inDims.size()) - 2; k >= 0; --k)
                inStride[k] = inStride[k + 1] * inDims[k + 1];
            std::vector<int64_t> idx(outDims.size(), 0);
            for (qint64 o = 0; o < count; ++o) {
                int64_t src = 0;
                for (size_t k = 0; k < outDims.size(); ++k)
                    src += idx[k] * inStride[perm[k]];
                std::memcpy(out.data() + o * esize, d.data.constData() + src * esize, size_t(esize));
                for (int k = int(outDims.size()) - 1; k >= 0; --k)
                    if (++idx[k] < outDims[k])
                        break;
                    else
                        idx[k] = 0;
            }
        }
        const std::string base = d.name.toStdString();
        const int onnxType = d.dtype == DType::Float32 ? onnx::TensorProto::FLOAT
                           : d.dtype == DType::Int8    ? onnx::TensorProto::INT8
                                                       : onnx::TensorProto::INT32;
        const std::string raw = initializer(fresh(base), onnxType, outDims, out.constData(), size_t(out.size()));
        if (d.dtype == DType::Float32)
            return raw;
        // Per-channel (axis 0 in ONNX layout) or per-tensor dequantization.
        const int channels = d.scales.size();
        std::string s, z;
        if (channels == 1) {
            s = floatScalar(base + "_scale", d.scales[0]);
            if (d.dtype == DType::Int8) {
                const int8_t zp = 0;
                z = initializer(fresh(base + "_zero_point"), onnx::TensorProto::INT8, {}, &zp, 1);
            } else {
                const int32_t zp = 0;
                z = initializer(fresh(base + "_zero_point"), onnx::TensorProto::INT32, {}, &zp, 4);
            }
        } else {
            s = initializer(fresh(base + "_scale"), onnx::TensorProto::FLOAT, {channels}, d.scales.constData(),
                            size_t(channels) * 4);
            if (d.dtype == DType::Int8) {
                std::vector<int8_t> zp(size_t(channels), 0);
                z = initializer(fresh(base + "_zero_point"), onnx::TensorProto::INT8, {channels}, zp.data(), zp.size());
            } else {
                std::vector<int32_t> zp(size_t(channels), 0);
                z = initializer(fresh(base + "_zero_point"), onnx::TensorProto::INT32, {channels}, zp.data(),
                                zp.size() * 4);
            }
        }
        const std::string dq = fresh(base + "_dq");
        auto *n = node("DequantizeLinear", fresh(base + "_dequantize"), {raw, s, z}, dq);
        if (channels > 1)
            attrInt(n, "axis", 0);
        return dq;
    }

    /// The float value of IR tensor t flattened in NHWC order ([1, F]).
    std::string flatNhwc(int t, const std::string &base)
    {
        std::string v = m_names[t];
        if (!rank4(t))
            return v;
        const std::string tr = fresh(base + "_nhwc");
        attrInts(node("Transpose", fresh(base + "_to_nhwc"), {v}, tr), "perm", {0, 2, 3, 1});
        const std::string fl = fresh(base + "_flat");
        attrInt(node("Flatten", fresh(base + "_flatten"), {tr}, fl), "axis", 1);
        return fl;
    }

    /// Fused activation, then (QDQ) the output's quantization; records the IR tensor's value.
    void finish(const Node &n, std::string value, int out)
    {
        const std::string base = m_g.tensors[out].name.toStdString();
        if (n.activation == Activation::Relu) {
            const std::string r = fresh(base + "_relu");
            node("Relu", fresh(n.name.toStdString() + "_relu"), {value}, r);
            value = r;
        } else if (n.activation == Activation::Relu6) {
            const std::string r = fresh(base + "_relu6");
            node("Clip", fresh(n.name.toStdString() + "_relu6"),
                 {value, floatScalar("zero", 0.0f), floatScalar("six", 6.0f)}, r);
            value = r;
        }
        m_names[out] = m_qdq ? quantDequant(value, out) : value;
    }

    bool emit(int index, const Node &n)
    {
        const std::string name = n.name.isEmpty() ? "node" + std::to_string(index) : n.name.toStdString();
        const int out = n.outputs[0];
        const std::string x = m_names[n.inputs[0]];
        const std::string y = fresh(m_g.tensors[out].name.toStdString());
        if (x.empty()) {
            fail(QStringLiteral("node %1 \"%2\": input computed later").arg(index).arg(n.name));
            return false;
        }
        switch (n.op) {
        case OpType::Conv2D:
        case OpType::DepthwiseConv2D: {
            const bool dw = n.op == OpType::DepthwiseConv2D;
            const TensorDesc &w = m_g.tensors[n.inputs[1]];
            std::vector<std::string> in{x, constant(n.inputs[1], dw ? std::vector<int>{3, 0, 1, 2}
                                                                    : std::vector<int>{0, 3, 1, 2})};
            if (n.inputs.size() > 2)
                in.push_back(constant(n.inputs[2], {}));
            auto *c = node("Conv", name, in, y);
            attrInts(c, "kernel_shape", {w.shape[1], w.shape[2]});
            attrInts(c, "strides", {n.strideH, n.strideW});
            attrInts(c, "pads", {n.padTop, n.padLeft, n.padBottom, n.padRight});
            attrInts(c, "dilations", {1, 1});
            attrInt(c, "group", dw ? w.shape[3] : 1);
            finish(n, y, out);
            return true;
        }
        case OpType::FullyConnected: {
            std::vector<std::string> in{flatNhwc(n.inputs[0], name), constant(n.inputs[1], {})};
            if (n.inputs.size() > 2)
                in.push_back(constant(n.inputs[2], {}));
            auto *gm = node("Gemm", name, in, y);
            attrInt(gm, "transB", 1);
            finish(n, y, out);
            return true;
        }
        case OpType::MaxPool2D:
        case OpType::AvgPool2D: {
            auto *p = node(n.op == OpType::MaxPool2D ? "MaxPool" : "AveragePool", name, {x}, y);
            attrInts(p, "kernel_shape", {n.kernelH, n.kernelW});
            attrInts(p, "strides", {n.strideH, n.strideW});
            attrInts(p, "pads", {n.padTop, n.padLeft, n.padBottom, n.padRight});
            if (n.op == OpType::AvgPool2D)
                attrInt(p, "count_include_pad", 0);
            finish(n, y, out);
            return true;
        }
        case OpType::GlobalAvgPool: {
            const std::string g = fresh(name + "_pooled");
            node("GlobalAveragePool", name, {x}, g);
            attrInt(node("Flatten", fresh(name + "_flatten"), {g}, y), "axis", 1);
            finish(n, y, out);
            return true;
        }
        case OpType::Add: {
            node("Add", name, {x, m_names[n.inputs[1]]}, y);
            finish(n, y, out);
            return true;
        }
        case OpType::Relu:
            node("Relu", name, {x}, y);
            finish(n, y, out);
            return true;
        case OpType::Relu6:
        case OpType::Clip: {
            const float lo = n.op == OpType::Relu6 ? 0.0f : n.clipMin, hi = n.op == OpType::Relu6 ? 6.0f : n.clipMax;
            node("Clip", name, {x, floatScalar("clip_min", lo), floatScalar("clip_max", hi)}, y);
            finish(n, y, out);
            return true;
        }
        case OpType::Reshape: {
            const QVector<int> &target = m_g.tensors[out].shape;
            const std::string flat = rank4(n.inputs[0]) ? flatNhwc(n.inputs[0], name) : x;
            if (target.size() == 4) {
                const std::string r = fresh(name + "_nhwc");
                node("Reshape", name, {flat, int64s(name + "_shape", {target[0], target[1], target[2], target[3]})}, r);
                attrInts(node("Transpose", fresh(name + "_to_nchw"), {r}, y), "perm", {0, 3, 1, 2});
            } else {
                node("Reshape", name, {flat, int64s(name + "_shape", std::vector<int64_t>(target.begin(), target.end()))}, y);
            }
            finish(n, y, out);
            return true;
        }
        case OpType::Softmax:
            attrInt(node("Softmax", name, {x}, y), "axis", rank4(n.inputs[0]) ? 1 : -1);
            finish(n, y, out);
            return true;
        case OpType::BatchNorm: {
            auto *b = node("BatchNormalization", name,
                           {x, constant(n.inputs[1], {}), constant(n.inputs[2], {}), constant(n.inputs[3], {}),
                            constant(n.inputs[4], {})}, y);
            attrFloat(b, "epsilon", n.epsilon);
            finish(n, y, out);
            return true;
        }
        case OpType::Concat: {
            std::vector<std::string> in;
            for (int t : n.inputs)
                in.push_back(m_names[t]);
            attrInt(node("Concat", name, in, y), "axis", rank4(n.inputs[0]) ? 1 : -1);
            finish(n, y, out);
            return true;
        }
        }
        fail(QStringLiteral("node %1 \"%2\": %3 has no ONNX export").arg(index).arg(n.name, model::opName(n.op)));
        return false;
    }
};

} // namespace

std::optional<QByteArray> exportOnnx(const model::Graph &graph, QString *error)
{
    model::Graph g = graph;
    if (!g.inferShapes(error) || !g.validate(error))
        return std::nullopt;
    return Exporter(g).run(error);
}

bool checkOnnx(const QByteArray &bytes, QString *error)
{
    onnx::ModelProto m;
    if (!m.ParseFromArray(bytes.constData(), bytes.size())) {
        if (error)
            *error = QStringLiteral("not an ONNX model (protobuf parse failed)");
        return false;
    }
    try {
        onnx::checker::check_model(m);
        onnx::ShapeInferenceOptions opts{true, 1, false};
        onnx::shape_inference::InferShapes(m, onnx::OpSchemaRegistry::Instance(), opts);
    } catch (const std::exception &e) {
        if (error)
            *error = QStringLiteral("ONNX check failed: %1").arg(QString::fromUtf8(e.what()).simplified());
        return false;
    }
    return true;
}

bool writeOnnxFile(const model::Graph &graph, const QString &path, QString *error)
{
    auto bytes = exportOnnx(graph, error);
    if (!bytes || !checkOnnx(*bytes, error))
        return false;
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) || f.write(*bytes) != bytes->size()) {
        if (error)
            *error = QStringLiteral("cannot write %1: %2").arg(path, f.errorString());
        return false;
    }
    return true;
}

} // namespace tinyml::training
