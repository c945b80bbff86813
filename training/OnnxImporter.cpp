#include "OnnxImporter.h"

#include <onnx/onnx_pb.h>

#include <QFile>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>

#include <cmath>
#include <cstring>
#include <map>
#include <set>

namespace tinyml::training {

namespace {

using model::Graph;
using model::Node;
using model::OpType;
using model::TensorDesc;

struct Const {
    std::vector<int64_t> dims;
    std::vector<float> f;          ///< float tensors
    std::vector<int64_t> i;        ///< integer tensors
    bool isFloat = true;
    /// Element count; -1 when a dim is negative or the count passes kMaxElements.
    int64_t count() const
    {
        int64_t n = 1;
        for (int64_t d : dims) {
            if (d < 0 || (d > 0 && n > kMaxElements / d))
                return -1;
            n *= d;
        }
        return n;
    }
    static constexpr int64_t kMaxElements = int64_t(1) << 28;
};

/// An activation: the IR tensor and how its ONNX view maps onto it.
struct Value {
    int tensor = -1;
    enum Layout { Flat, Spatial, FlatChw } layout = Flat;
    int c = 0, h = 0, w = 0;       ///< Spatial / FlatChw: the NCHW dims behind it
    int fcNode = -1;               ///< produced by this FullyConnected node (bias folding of Add)
    int rank = 4;                  ///< ONNX rank of a Spatial value: 4, or 3 for [N, C, L]
    int padT = 0, padL = 0, padB = 0, padR = 0; ///< a zero Pad waiting for the next Conv
    QVector<int> perm;             ///< FlatChw: IR position of each ONNX element
    bool padded() const { return padT || padL || padB || padR; }
};

class Importer
{
public:
    std::optional<Graph> run(const onnx::ModelProto &m, const QStringList &labels, QString *error)
    {
        m_error = error;
        const onnx::GraphProto &g = m.graph();
        for (const auto &t : g.initializer())
            if (!readConst(t, &m_consts[t.name()]))
                return std::nullopt;
        for (const auto &n : g.node())
            for (const auto &in : n.input())
                ++m_uses[in];
        for (const auto &o : g.output())
            ++m_uses[o.name()];

        // The data input: the first graph input that is not an initializer.
        const onnx::ValueInfoProto *input = nullptr;
        for (const auto &in : g.input())
            if (!m_consts.count(in.name())) {
                if (input)
                    return fail(QStringLiteral("models with more than one input are not supported (\"%1\")")
                                    .arg(QString::fromStdString(in.name())));
                input = &in;
            }
        if (!input)
            return fail(QStringLiteral("the model has no input"));
        std::vector<int64_t> dims;
        for (const auto &d : input->type().tensor_type().shape().dim())
            dims.push_back(d.has_dim_value() ? d.dim_value() : 1);
        for (size_t i = 1; i < dims.size(); ++i)
            if (dims[i] < 1 || dims[i] > (int64_t(1) << 20))
                return fail(QStringLiteral("input \"%1\": dimension %2 is %3 (expected 1 to %4)")
                                .arg(QString::fromStdString(input->name()))
                                .arg(i)
                                .arg(dims[i])
                                .arg(int64_t(1) << 20));
        Value v;
        if (dims.size() == 4) {
            v = spatial(act("input", {1, int(dims[2]), int(dims[3]), int(dims[1])}), int(dims[1]), int(dims[2]), int(dims[3]));
        } else if (dims.size() == 3) {
            v = spatial(act("input", {1, 1, int(dims[2]), int(dims[1])}), int(dims[1]), 1, int(dims[2]));
            v.rank = 3;
        } else if (dims.size() == 2) {
            v.tensor = act("input", {1, int(dims[1])});
        } else {
            return fail(QStringLiteral("input \"%1\" must be [N, F], [N, C, L] or [N, C, H, W]")
                            .arg(QString::fromStdString(input->name())));
        }
        m_graph.inputs = {v.tensor};
        m_values[input->name()] = v;

        for (int i = 0; i < g.node_size(); ++i)
            if (!convert(g.node(i)))
                return std::nullopt;

        if (g.output_size() != 1)
            return fail(QStringLiteral("models with %1 outputs are not supported (one expected)").arg(g.output_size()));
        auto it = m_values.find(g.output(0).name());
        if (it == m_values.end())
            return fail(QStringLiteral("output \"%1\" is not computed by a supported op")
                            .arg(QString::fromStdString(g.output(0).name())));
        if (it->second.layout == Value::FlatChw)
            return fail(QStringLiteral("output \"%1\" is a flattened NCHW tensor, which the NHWC model cannot reproduce")
                            .arg(QString::fromStdString(g.output(0).name())));
        m_graph.outputs = {it->second.tensor};
        m_graph.labels = labels;
        if (m_graph.labels.isEmpty())
            for (const auto &p : m.metadata_props())
                if (p.key() == "labels")
                    for (const auto &l : QJsonDocument::fromJson(QByteArray::fromStdString(p.value())).array())
                        m_graph.labels << l.toString();
        m_graph.meta.insert(QStringLiteral("imported_from"), QStringLiteral("onnx"));
        // The IR is NHWC of rank 2 or 4; the exporter gives a [N, C, L] model its rank back.
        QJsonArray userShape;
        for (int64_t d : dims)
            userShape.append(qint64(d));
        m_graph.meta.insert(QStringLiteral("onnx_input_shape"), userShape);
        m_graph.meta.insert(QStringLiteral("producer"), QString::fromStdString(m.producer_name() + " " + m.producer_version()).trimmed());
        QString err;
        if (!m_graph.inferShapes(&err) || !m_graph.validate(&err))
            return fail(QStringLiteral("the converted graph is invalid: %1").arg(err));
        const int outSize = int(m_graph.tensors[m_graph.outputs[0]].elementCount());
        if (!m_graph.labels.isEmpty() && m_graph.labels.size() != outSize)
            return fail(QStringLiteral("the model has %1 outputs but %2 labels were given").arg(outSize).arg(m_graph.labels.size()));
        return m_graph;
    }

private:
    Graph m_graph;
    QString *m_error = nullptr;
    std::map<std::string, Const> m_consts;
    std::map<std::string, Value> m_values;
    std::map<std::string, int> m_uses;

    std::nullopt_t fail(const QString &m)
    {
        if (m_error)
            *m_error = m;
        return std::nullopt;
    }
    bool refuse(const onnx::NodeProto &n, const QString &why)
    {
        fail(QStringLiteral("%1 node \"%2\": %3").arg(QString::fromStdString(n.op_type()), QString::fromStdString(n.name()), why));
        return false;
    }

    static Value spatial(int tensor, int c, int h, int w)
    {
        Value v;
        v.tensor = tensor;
        v.layout = Value::Spatial;
        v.c = c;
        v.h = h;
        v.w = w;
        return v;
    }

    int act(const std::string &name, const QVector<int> &shape)
    {
        TensorDesc t;
        t.name = QString::fromStdString(name);
        t.shape = shape;
        m_graph.tensors.append(t);
        return m_graph.tensors.size() - 1;
    }
    int constant(const std::string &name, const QVector<int> &shape, const std::vector<float> &values)
    {
        TensorDesc t;
        t.name = QString::fromStdString(name);
        t.shape = shape;
        t.data = QByteArray(reinterpret_cast<const char *>(values.data()), int(values.size() * 4));
        m_graph.tensors.append(t);
        return m_graph.tensors.size() - 1;
    }

    bool readConst(const onnx::TensorProto &t, Const *c)
    {
        c->dims.assign(t.dims().begin(), t.dims().end());
        const int64_t n = c->count();
        if (n < 0) {
            fail(QStringLiteral("initializer \"%1\" has a negative or too large shape").arg(QString::fromStdString(t.name())));
            return false;
        }
        if (t.data_location() == onnx::TensorProto::EXTERNAL) {
            fail(QStringLiteral("initializer \"%1\" uses external data, which is not supported").arg(QString::fromStdString(t.name())));
            return false;
        }
        switch (t.data_type()) {
        case onnx::TensorProto::FLOAT:
            c->isFloat = true;
            if (t.has_raw_data()) {
                c->f.resize(size_t(t.raw_data().size() / 4));
                if (!c->f.empty())
                    std::memcpy(c->f.data(), t.raw_data().data(), c->f.size() * 4);
            } else {
                c->f.assign(t.float_data().begin(), t.float_data().end());
            }
            if (int64_t(c->f.size()) != n) {
                fail(QStringLiteral("initializer \"%1\" holds %2 values for %3 elements").arg(QString::fromStdString(t.name())).arg(c->f.size()).arg(n));
                return false;
            }
            return true;
        case onnx::TensorProto::INT64:
            c->isFloat = false;
            if (t.has_raw_data()) {
                c->i.resize(size_t(t.raw_data().size() / 8));
                if (!c->i.empty())
                    std::memcpy(c->i.data(), t.raw_data().data(), c->i.size() * 8);
            } else {
                c->i.assign(t.int64_data().begin(), t.int64_data().end());
            }
            return true;
        case onnx::TensorProto::INT32:
            c->isFloat = false;
            if (t.has_raw_data()) {
                std::vector<int32_t> v(size_t(t.raw_data().size() / 4));
                if (!v.empty())
                    std::memcpy(v.data(), t.raw_data().data(), v.size() * 4);
                c->i.assign(v.begin(), v.end());
            } else {
                c->i.assign(t.int32_data().begin(), t.int32_data().end());
            }
            return true;
        default:
            fail(QStringLiteral("initializer \"%1\" has an unsupported data type %2").arg(QString::fromStdString(t.name())).arg(t.data_type()));
            return false;
        }
    }

    static const onnx::AttributeProto *attr(const onnx::NodeProto &n, const char *name)
    {
        for (const auto &a : n.attribute())
            if (a.name() == name)
                return &a;
        return nullptr;
    }
    static int64_t attrInt(const onnx::NodeProto &n, const char *name, int64_t def)
    {
        const auto *a = attr(n, name);
        return a ? a->i() : def;
    }
    static float attrFloat(const onnx::NodeProto &n, const char *name, float def)
    {
        const auto *a = attr(n, name);
        return a ? a->f() : def;
    }
    static std::vector<int64_t> attrInts(const onnx::NodeProto &n, const char *name)
    {
        const auto *a = attr(n, name);
        return a ? std::vector<int64_t>(a->ints().begin(), a->ints().end()) : std::vector<int64_t>{};
    }

    const Value *valueOf(const onnx::NodeProto &n, int k)
    {
        if (k >= n.input_size())
            return nullptr;
        auto it = m_values.find(n.input(k));
        return it == m_values.end() ? nullptr : &it->second;
    }
    const Const *constOf(const onnx::NodeProto &n, int k)
    {
        if (k >= n.input_size() || n.input(k).empty())
            return nullptr;
        auto it = m_consts.find(n.input(k));
        return it == m_consts.end() ? nullptr : &it->second;
    }

    std::string nodeName(const onnx::NodeProto &n) const
    {
        return n.name().empty() ? n.op_type() + "_" + std::to_string(m_graph.nodes.size()) : n.name();
    }

    int addNode(const onnx::NodeProto &n, OpType op, QVector<int> inputs, const QVector<int> &outShape, Node proto = {})
    {
        proto.op = op;
        proto.name = QString::fromStdString(nodeName(n));
        proto.inputs = inputs;
        const int out = act(n.output(0), outShape);
        proto.outputs = {out};
        m_graph.nodes.append(proto);
        return out;
    }

    bool convert(const onnx::NodeProto &n)
    {
        const std::string &op = n.op_type();
        if (n.output_size() < 1 || n.output(0).empty())
            return refuse(n, QStringLiteral("the node has no output"));
        if (!n.domain().empty() && n.domain() != "ai.onnx")
            return refuse(n, QStringLiteral("domain %1 is not supported").arg(QString::fromStdString(n.domain())));
        if (op == "Constant") {
            const auto *a = attr(n, "value");
            if (!a || !a->has_t())
                return refuse(n, QStringLiteral("only tensor constants (attribute 'value') are supported"));
            return readConst(a->t(), &m_consts[n.output(0)]);
        }
        if (op == "Identity" || op == "Dropout") {
            if (const Value *v = valueOf(n, 0)) {
                m_values[n.output(0)] = *v;
                return true;
            }
            if (const Const *c = constOf(n, 0)) {
                m_consts[n.output(0)] = *c;
                return true;
            }
            return refuse(n, QStringLiteral("input is not available"));
        }
        const Value *x = valueOf(n, 0);
        if (!x)
            return refuse(n, QStringLiteral("input \"%1\" is not computed by a supported op (or is a constant expression)")
                                 .arg(n.input_size() ? QString::fromStdString(n.input(0)) : QString()));
        const Value in = *x;
        const QVector<int> inShape = m_graph.tensors[in.tensor].shape;
        if (op == "Pad")
            return pad(n, in);
        if (op == "Unsqueeze") {
            // [N, C, L] -> [N, C, 1, L] (what our exporter writes for a 1-D model, and the way
            // a 1-D signal is fed to 2-D layers): the IR already holds it as [N, 1, L, C].
            std::vector<int64_t> axes = attrInts(n, "axes");
            if (const Const *a = constOf(n, 1); a && !a->isFloat)
                axes = a->i;
            if (in.layout != Value::Spatial || in.rank != 3 || axes.size() != 1 || (axes[0] != 2 && axes[0] != -2))
                return refuse(n, QStringLiteral("only Unsqueeze of a [N, C, L] activation at axis 2 is supported"));
            Value out = in;
            out.rank = 4;
            m_values[n.output(0)] = out;
            return true;
        }
        if (op == "Conv")
            return conv(n, in);
        if (in.padded())
            return refuse(n, QStringLiteral("its input is zero-padded by a Pad node, which only a Conv can absorb"));
        if (op == "Gemm" || op == "MatMul")
            return dense(n, in);
        if (op == "Relu" || op == "Clip") {
            Node p;
            OpType t = OpType::Relu;
            if (op == "Clip") {
                float lo = -INFINITY, hi = INFINITY;
                if (const auto *a = attr(n, "min"))
                    lo = a->f();
                if (const auto *a = attr(n, "max"))
                    hi = a->f();
                if (const Const *c = constOf(n, 1); c && c->isFloat && !c->f.empty())
                    lo = c->f[0];
                if (const Const *c = constOf(n, 2); c && c->isFloat && !c->f.empty())
                    hi = c->f[0];
                if ((n.input_size() > 1 && !n.input(1).empty() && !constOf(n, 1)) ||
                    (n.input_size() > 2 && !n.input(2).empty() && !constOf(n, 2)))
                    return refuse(n, QStringLiteral("min / max must be constants"));
                if (lo == 0 && hi == 6) {
                    t = OpType::Relu6;
                } else if (lo == 0 && std::isinf(hi)) {
                    t = OpType::Relu;
                } else {
                    t = OpType::Clip;
                    p.clipMin = std::isinf(lo) ? -3.4e38f : lo;
                    p.clipMax = std::isinf(hi) ? 3.4e38f : hi;
                }
            }
            Value out = in;
            out.fcNode = -1;
            out.tensor = addNode(n, t, {in.tensor}, inShape, p);
            m_values[n.output(0)] = out;
            return true;
        }
        if (op == "MaxPool" || op == "AveragePool") {
            if (in.layout != Value::Spatial)
                return refuse(n, QStringLiteral("needs an [N, C, H, W] input"));
            if (attrInt(n, "ceil_mode", 0) != 0)
                return refuse(n, QStringLiteral("ceil_mode = 1 is not supported"));
            const auto *ap = attr(n, "auto_pad");
            if (ap && ap->s() != "NOTSET" && ap->s() != "VALID")
                return refuse(n, QStringLiteral("auto_pad %1 is not supported").arg(QString::fromStdString(ap->s())));
            for (int64_t d : attrInts(n, "dilations"))
                if (d != 1)
                    return refuse(n, QStringLiteral("dilation is not supported"));
            auto k = attrInts(n, "kernel_shape"), s = attrInts(n, "strides"), pads = attrInts(n, "pads");
            Node p;
            if (!window(n, in, k, s, pads, &p))
                return false;
            if (op == "AveragePool" && attrInt(n, "count_include_pad", 0) != 0 &&
                (p.padTop || p.padLeft || p.padBottom || p.padRight))
                return refuse(n, QStringLiteral("count_include_pad = 1 with padding is not supported"));
            const int ho = (in.h + p.padTop + p.padBottom - p.kernelH) / p.strideH + 1;
            const int wo = (in.w + p.padLeft + p.padRight - p.kernelW) / p.strideW + 1;
            m_values[n.output(0)] = spatial(addNode(n, op == "MaxPool" ? OpType::MaxPool2D : OpType::AvgPool2D, {in.tensor},
                                                    {1, ho, wo, in.c}, p), in.c, ho, wo);
            m_values[n.output(0)].rank = in.rank;
            return true;
        }
        if (op == "GlobalAveragePool" || op == "ReduceMean") {
            if (in.layout != Value::Spatial)
                return refuse(n, QStringLiteral("needs an [N, C, H, W] input"));
            if (op == "ReduceMean") {
                std::set<int64_t> axes;
                const int rank = in.rank;
                for (int64_t a : attrInts(n, "axes"))
                    axes.insert(a < 0 ? a + rank : a);
                const std::set<int64_t> want = rank == 4 ? std::set<int64_t>{2, 3} : std::set<int64_t>{2};
                if (axes != want)
                    return refuse(n, QStringLiteral("only a mean over the spatial axes is supported"));
            }
            Value out;
            out.tensor = addNode(n, OpType::GlobalAvgPool, {in.tensor}, {1, in.c});
            out.layout = Value::Flat;
            m_values[n.output(0)] = out;
            return true;
        }
        if (op == "Flatten" || op == "Reshape") {
            if (op == "Flatten" && attrInt(n, "axis", 1) != 1)
                return refuse(n, QStringLiteral("only axis = 1 is supported"));
            if (op == "Reshape") {
                const Const *shape = constOf(n, 1);
                if (!shape || shape->isFloat)
                    return refuse(n, QStringLiteral("the target shape must be a constant"));
                const int64_t total = m_graph.tensors[in.tensor].elementCount();
                const bool toFlat = shape->i.size() == 2 && (shape->i[1] == -1 || shape->i[1] == total) &&
                                    (shape->i[0] == 1 || shape->i[0] == -1 || shape->i[0] == 0);
                if (!toFlat)
                    return refuse(n, QStringLiteral("only reshapes to [N, -1] (flatten) are supported"));
            }
            if (in.layout != Value::Spatial) {
                m_values[n.output(0)] = in;
                return true;
            }
            const int f = in.c * in.h * in.w;
            Value out;
            out.tensor = addNode(n, OpType::Reshape, {in.tensor}, {1, f});
            out.layout = in.h * in.w == 1 ? Value::Flat : Value::FlatChw;
            out.c = in.c;
            out.h = in.h;
            out.w = in.w;
            if (out.layout == Value::FlatChw) {
                out.perm.resize(f);
                for (int k = 0; k < f; ++k) {
                    const int ch = k / (in.h * in.w), y = (k / in.w) % in.h, xx = k % in.w;
                    out.perm[k] = (y * in.w + xx) * in.c + ch;
                }
            }
            m_values[n.output(0)] = out;
            return true;
        }
        if (op == "Add")
            return add(n, in);
        if (op == "BatchNormalization") {
            if (in.layout == Value::FlatChw)
                return refuse(n, QStringLiteral("batch norm of a flattened NCHW tensor is not supported"));
            const int c = inShape.last();
            std::vector<const Const *> params;
            for (int k = 1; k <= 4; ++k) {
                const Const *p = constOf(n, k);
                if (!p || !p->isFloat || p->count() != c)
                    return refuse(n, QStringLiteral("scale, bias, mean and var must be constants of %1 values").arg(c));
                params.push_back(p);
            }
            Node p;
            p.epsilon = attrFloat(n, "epsilon", 1e-5f);
            const std::string base = nodeName(n);
            QVector<int> inputs{in.tensor};
            const char *names[] = {".gamma", ".beta", ".mean", ".var"};
            for (int k = 0; k < 4; ++k)
                inputs << constant(base + names[k], {c}, params[k]->f);
            Value out = in;
            out.fcNode = -1;
            out.tensor = addNode(n, OpType::BatchNorm, inputs, inShape, p);
            m_values[n.output(0)] = out;
            return true;
        }
        if (op == "Softmax") {
            const int64_t axis = attrInt(n, "axis", -1);
            if (in.layout != Value::Flat || (axis != -1 && axis != 1))
                return refuse(n, QStringLiteral("only a softmax over the features of an [N, F] tensor is supported"));
            Value out;
            out.tensor = addNode(n, OpType::Softmax, {in.tensor}, inShape);
            m_values[n.output(0)] = out;
            return true;
        }
        if (op == "Concat") {
            const int64_t axis = attrInt(n, "axis", 1);
            const bool flat = in.layout != Value::Spatial;
            QVector<int> inputs, perm;
            int channels = 0;
            bool permuted = false;
            for (int k = 0; k < n.input_size(); ++k) {
                const Value *v = valueOf(n, k);
                if (!v || (v->layout != Value::Spatial) != flat)
                    return refuse(n, QStringLiteral("inputs must all be activations of the same rank"));
                if (!flat && (v->h != in.h || v->w != in.w))
                    return refuse(n, QStringLiteral("inputs differ in height or width"));
                const int size = m_graph.tensors[v->tensor].shape.last();
                for (int j = 0; j < size; ++j)
                    perm << channels + (v->layout == Value::FlatChw ? v->perm[j] : j);
                permuted |= v->layout == Value::FlatChw;
                inputs << v->tensor;
                channels += size;
            }
            if (axis != 1 && !(flat && axis == -1))
                return refuse(n, QStringLiteral("only concatenation along channels (axis 1) is supported"));
            QVector<int> shape = inShape;
            shape.last() = channels;
            Value out = in;
            out.fcNode = -1;
            out.c = channels;
            out.layout = flat ? (permuted ? Value::FlatChw : Value::Flat) : Value::Spatial;
            out.perm = permuted ? perm : QVector<int>{};
            out.tensor = addNode(n, OpType::Concat, inputs, shape);
            m_values[n.output(0)] = out;
            return true;
        }
        return refuse(n, QStringLiteral("unsupported op"));
    }

    static constexpr int64_t kMaxWindow = 4096; ///< kernel, stride and pad bound (outside input)

    bool window(const onnx::NodeProto &n, const Value &in, std::vector<int64_t> k, std::vector<int64_t> s,
                std::vector<int64_t> pads, Node *p)
    {
        // 1-D ops ([N, C, L]) arrive with one entry per attribute: H = 1.
        if (k.size() == 1) {
            if (s.size() > 1 || (!pads.empty() && pads.size() != 2))
                return refuse(n, QStringLiteral("strides / pads do not match a 1-D kernel"));
            k = {1, k[0]};
            s = s.empty() ? std::vector<int64_t>{1, 1} : std::vector<int64_t>{1, s[0]};
            pads = pads.empty() ? std::vector<int64_t>{0, 0, 0, 0} : std::vector<int64_t>{0, pads[0], 0, pads[1]};
        }
        if (k.size() != 2)
            return refuse(n, QStringLiteral("kernel_shape must have 1 or 2 entries"));
        if (s.empty())
            s = {1, 1};
        if (pads.empty())
            pads = {0, 0, 0, 0};
        if (s.size() != 2 || pads.size() != 4)
            return refuse(n, QStringLiteral("strides / pads do not match a 2-D kernel"));
        for (int64_t v : k)
            if (v < 1 || v > kMaxWindow)
                return refuse(n, QStringLiteral("kernel_shape %1 is outside 1..%2").arg(v).arg(kMaxWindow));
        for (int64_t v : s)
            if (v < 1 || v > kMaxWindow)
                return refuse(n, QStringLiteral("stride %1 is outside 1..%2").arg(v).arg(kMaxWindow));
        for (int64_t v : pads)
            if (v < 0 || v > kMaxWindow)
                return refuse(n, QStringLiteral("pad %1 is outside 0..%2").arg(v).arg(kMaxWindow));
        p->kernelH = int(k[0]);
        p->kernelW = int(k[1]);
        p->strideH = int(s[0]);
        p->strideW = int(s[1]);
        p->padTop = int(pads[0]);
        p->padLeft = int(pads[1]);
        p->padBottom = int(pads[2]);
        p->padRight = int(pads[3]);
        if (in.h + p->padTop + p->padBottom < p->kernelH || in.w + p->padLeft + p->padRight < p->kernelW)
            return refuse(n, QStringLiteral("kernel larger than the padded input"));
        return true;
    }

    /// A constant zero Pad of the spatial axes: absorbed by the Conv that follows.
    bool pad(const onnx::NodeProto &n, const Value &in)
    {
        const auto *mode = attr(n, "mode");
        if (mode && mode->s() != "constant")
            return refuse(n, QStringLiteral("only constant padding is supported"));
        std::vector<int64_t> pads = attrInts(n, "pads");
        if (const Const *p = constOf(n, 1))
            pads = p->i;
        if (const Const *v = constOf(n, 2); v && ((v->isFloat && !v->f.empty() && v->f[0] != 0) || (!v->isFloat && !v->i.empty() && v->i[0] != 0)))
            return refuse(n, QStringLiteral("only zero padding is supported"));
        if (n.input_size() > 3 && !n.input(3).empty())
            return refuse(n, QStringLiteral("the axes input is not supported"));
        bool zero = true;
        for (int64_t p : pads)
            zero &= p == 0;
        Value out = in;
        if (zero) {
            m_values[n.output(0)] = out;
            return true;
        }
        if (in.layout != Value::Spatial || (pads.size() != 8 && pads.size() != 6))
            return refuse(n, QStringLiteral("only padding of the spatial axes of an [N, C, H, W] / [N, C, L] tensor is supported"));
        const size_t r = pads.size() / 2;
        if (pads[0] || pads[1] || pads[r] || pads[r + 1])
            return refuse(n, QStringLiteral("padding of the batch or channel axis is not supported"));
        if (r == 4) {
            out.padT += int(pads[2]); out.padL += int(pads[3]); out.padB += int(pads[6]); out.padR += int(pads[7]);
        } else {
            out.padL += int(pads[2]); out.padR += int(pads[5]);
        }
        m_values[n.output(0)] = out;
        return true;
    }

    bool conv(const onnx::NodeProto &n, const Value &in)
    {
        if (in.layout != Value::Spatial)
            return refuse(n, QStringLiteral("needs an [N, C, H, W] or [N, C, L] input"));
        const Const *w = constOf(n, 1);
        if (!w || !w->isFloat || (w->dims.size() != 4 && w->dims.size() != 3))
            return refuse(n, QStringLiteral("weights must be a constant [O, I, KH, KW] or [O, I, K] tensor"));
        const auto *ap = attr(n, "auto_pad");
        if (ap && ap->s() != "NOTSET" && ap->s() != "VALID")
            return refuse(n, QStringLiteral("auto_pad %1 is not supported (export with explicit pads)").arg(QString::fromStdString(ap->s())));
        for (int64_t d : attrInts(n, "dilations"))
            if (d != 1)
                return refuse(n, QStringLiteral("dilated convolution is not supported"));
        const int64_t group = attrInt(n, "group", 1);
        const int o = int(w->dims[0]), i = int(w->dims[1]);
        const int kh = w->dims.size() == 4 ? int(w->dims[2]) : 1, kw = int(w->dims.back());
        std::vector<int64_t> k = w->dims.size() == 4 ? std::vector<int64_t>{kh, kw} : std::vector<int64_t>{kw};
        Node p;
        if (!window(n, in, k, attrInts(n, "strides"), attrInts(n, "pads"), &p))
            return false;
        p.padTop += in.padT;
        p.padLeft += in.padL;
        p.padBottom += in.padB;
        p.padRight += in.padR;
        const bool depthwise = group > 1;
        if (depthwise && !(group == in.c && o == in.c && i == 1))
            return refuse(n, QStringLiteral("grouped convolution with group %1 is not supported (only depthwise, "
                                            "depth multiplier 1)").arg(group));
        if (!depthwise && i != in.c)
            return refuse(n, QStringLiteral("weights expect %1 input channels, the input has %2").arg(i).arg(in.c));
        std::vector<float> irw(size_t(o) * i * kh * kw);
        for (int oc = 0; oc < o; ++oc)
            for (int ic = 0; ic < i; ++ic)
                for (int y = 0; y < kh; ++y)
                    for (int x = 0; x < kw; ++x) {
                        const float v = w->f[((size_t(oc) * i + ic) * kh + y) * kw + x];
                        if (depthwise)
                            irw[(size_t(y) * kw + x) * o + oc] = v;                 // [1, KH, KW, C]
                        else
                            irw[((size_t(oc) * kh + y) * kw + x) * i + ic] = v;     // [O, KH, KW, I]
                    }
        const std::string base = nodeName(n);
        QVector<int> inputs{in.tensor, constant(base + ".weight", depthwise ? QVector<int>{1, kh, kw, o} : QVector<int>{o, kh, kw, i}, irw)};
        if (const Const *b = constOf(n, 2)) {
            if (!b->isFloat || b->count() != o)
                return refuse(n, QStringLiteral("bias must be a constant of %1 values").arg(o));
            inputs << constant(base + ".bias", {o}, b->f);
        }
        const int ho = (in.h + p.padTop + p.padBottom - kh) / p.strideH + 1;
        const int wo = (in.w + p.padLeft + p.padRight - kw) / p.strideW + 1;
        m_values[n.output(0)] = spatial(addNode(n, depthwise ? OpType::DepthwiseConv2D : OpType::Conv2D, inputs,
                                                {1, ho, wo, o}, p), o, ho, wo);
        m_values[n.output(0)].rank = in.rank;
        return true;
    }

    bool dense(const onnx::NodeProto &n, const Value &in)
    {
        if (in.layout == Value::Spatial)
            return refuse(n, QStringLiteral("needs a flat [N, F] input (flatten first)"));
        const Const *b = constOf(n, 1);
        if (!b || !b->isFloat || b->dims.size() != 2)
            return refuse(n, QStringLiteral("the weights (input B) must be a constant matrix"));
        bool transB = false;
        if (n.op_type() == "Gemm") {
            if (attrInt(n, "transA", 0) != 0)
                return refuse(n, QStringLiteral("transA = 1 is not supported"));
            if (attrFloat(n, "alpha", 1.0f) != 1.0f || attrFloat(n, "beta", 1.0f) != 1.0f)
                return refuse(n, QStringLiteral("alpha / beta other than 1 are not supported"));
            transB = attrInt(n, "transB", 0) != 0;
        }
        const int rows = int(b->dims[0]), cols = int(b->dims[1]);
        const int o = transB ? rows : cols, iDim = transB ? cols : rows;
        const int features = int(m_graph.tensors[in.tensor].elementCount());
        if (iDim != features)
            return refuse(n, QStringLiteral("weights expect %1 inputs, the input has %2").arg(iDim).arg(features));
        std::vector<float> w(size_t(o) * iDim);
        for (int r = 0; r < o; ++r)
            for (int c = 0; c < iDim; ++c) {
                // ONNX input column c; in an NCHW-flattened input it is (ch, y, x), which the
                // IR holds at NHWC position (y, x, ch).
                const int irCol = in.layout == Value::FlatChw ? in.perm[c] : c;
                w[size_t(r) * iDim + irCol] = transB ? b->f[size_t(r) * cols + c] : b->f[size_t(c) * cols + r];
            }
        const std::string base = nodeName(n);
        QVector<int> inputs{in.tensor, constant(base + ".weight", {o, iDim}, w)};
        if (const Const *bias = constOf(n, 2)) {
            if (!bias->isFloat || bias->count() != o)
                return refuse(n, QStringLiteral("bias C must be a constant of %1 values (no other broadcast)").arg(o));
            inputs << constant(base + ".bias", {o}, bias->f);
        } else if (n.input_size() > 2 && !n.input(2).empty()) {
            return refuse(n, QStringLiteral("bias C must be a constant"));
        }
        Value out;
        out.tensor = addNode(n, OpType::FullyConnected, inputs, {1, o});
        out.fcNode = m_graph.nodes.size() - 1;
        m_values[n.output(0)] = out;
        return true;
    }

    bool add(const onnx::NodeProto &n, const Value &in)
    {
        if (const Value *other = valueOf(n, 1)) {
            if (m_graph.tensors[other->tensor].shape != m_graph.tensors[in.tensor].shape || other->layout != in.layout)
                return refuse(n, QStringLiteral("operands differ in shape (broadcasting is not supported)"));
            Value out = in;
            out.fcNode = -1;
            out.tensor = addNode(n, OpType::Add, {in.tensor, other->tensor}, m_graph.tensors[in.tensor].shape);
            m_values[n.output(0)] = out;
            return true;
        }
        // MatMul + Add(constant): the Add becomes the fully connected layer's bias.
        const Const *c = constOf(n, 1);
        if (c && c->isFloat && in.fcNode >= 0 && m_uses[n.input(0)] == 1) {
            Node &fc = m_graph.nodes[in.fcNode];
            const int o = m_graph.tensors[fc.outputs[0]].shape.last();
            if (c->count() == o) {
                std::vector<float> bias = c->f;
                if (fc.inputs.size() > 2) {
                    const TensorDesc &old = m_graph.tensors[fc.inputs[2]];
                    const float *ob = reinterpret_cast<const float *>(old.data.constData());
                    for (int k = 0; k < o; ++k)
                        bias[k] += ob[k];
                    fc.inputs[2] = constant(nodeName(n) + ".bias", {o}, bias);
                } else {
                    fc.inputs << constant(nodeName(n) + ".bias", {o}, bias);
                }
                m_values[n.output(0)] = in;
                return true;
            }
        }
        return refuse(n, QStringLiteral("adding a constant is supported only as the bias of a MatMul"));
    }
};

} // namespace

std::optional<model::Graph> importOnnx(const QByteArray &bytes, const QStringList &labels, QString *error)
{
    onnx::ModelProto m;
    if (!m.ParseFromArray(bytes.constData(), bytes.size())) {
        if (error)
            *error = QStringLiteral("not an ONNX model (protobuf parse failed)");
        return std::nullopt;
    }
    for (const auto &o : m.opset_import())
        if ((o.domain().empty() || o.domain() == "ai.onnx") && (o.version() < 7 || o.version() > 17)) {
            if (error)
                *error = QStringLiteral("opset %1 is not supported (7 .. 17)").arg(o.version());
            return std::nullopt;
        }
    return Importer().run(m, labels, error);
}

std::optional<model::Graph> importOnnxFile(const QString &path, const QStringList &labels, QString *error)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        if (error)
            *error = QStringLiteral("cannot read %1: %2").arg(path, f.errorString());
        return std::nullopt;
    }
    auto g = importOnnx(f.readAll(), labels, error);
    if (!g && error)
        *error = path + QStringLiteral(": ") + *error;
    return g;
}

} // namespace tinyml::training
