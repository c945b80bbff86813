#include "ModelZoo.h"

#include <QJsonArray>

#include <algorithm>

namespace tinyml::training {

namespace {

using K = LayerSpec::Kind;

const char *const kKindNames[] = {"conv2d", "depthwise_conv2d", "dense", "batch_norm", "relu",
                                  "relu6", "max_pool", "avg_pool", "global_avg_pool", "flatten",
                                  "dropout"};

LayerSpec conv(int out, int kh, int kw, int sh = 1, int sw = 1)
{
    LayerSpec l;
    l.kind = K::Conv2D;
    l.outChannels = out;
    l.kernelH = kh;
    l.kernelW = kw;
    l.strideH = sh;
    l.strideW = sw;
    l.padH = (kh - 1) / 2;
    l.padW = (kw - 1) / 2;
    return l;
}

LayerSpec depthwise(int kh, int kw, int sh = 1, int sw = 1)
{
    LayerSpec l = conv(0, kh, kw, sh, sw);
    l.kind = K::DepthwiseConv2D;
    return l;
}

LayerSpec simple(K kind)
{
    LayerSpec l;
    l.kind = kind;
    return l;
}

LayerSpec pool(K kind, int kh, int kw)
{
    LayerSpec l;
    l.kind = kind;
    l.kernelH = l.strideH = kh;
    l.kernelW = l.strideW = kw;
    return l;
}

LayerSpec dense(int out)
{
    LayerSpec l;
    l.kind = K::Dense;
    l.outChannels = out;
    return l;
}

LayerSpec dropout(float p)
{
    LayerSpec l;
    l.kind = K::Dropout;
    l.dropout = p;
    return l;
}

/// Convolution (same padding) -> batch norm -> ReLU: the block every zoo CNN is made of.
QVector<LayerSpec> convBnRelu(int out, int kh, int kw, int sh = 1, int sw = 1)
{
    return {conv(out, kh, kw, sh, sw), simple(K::BatchNorm), simple(K::Relu)};
}

QVector<LayerSpec> depthwiseBnRelu(int kh, int kw)
{
    return {depthwise(kh, kw), simple(K::BatchNorm), simple(K::Relu)};
}

/// How every zoo CNN ends: one value per channel, light dropout, the logits.
QVector<LayerSpec> classifierHead(int classes)
{
    return {simple(K::GlobalAvgPool), dropout(0.1f), dense(classes)};
}

ModelSpec emptySpec(Architecture kind, const QVector<int> &in, int classes)
{
    ModelSpec s;
    s.kind = kind;
    s.inputShape = in;
    s.numClasses = classes;
    return s;
}

ModelSpec mlp(const QVector<int> &in, int classes, int width)
{
    ModelSpec s = emptySpec(Architecture::Mlp, in, classes);
    if (in.size() == 3)
        s.layers << simple(K::Flatten);
    s.layers << dense(width) << simple(K::Relu) << dropout(0.1f) << dense(std::max(8, width / 2))
             << simple(K::Relu) << dense(classes);
    return s;
}

ModelSpec cnn1d(const QVector<int> &in, int classes, int width)
{
    ModelSpec s = emptySpec(Architecture::Cnn1d, in, classes);
    // Strided first layer for long windows keeps activations within the arena.
    const int firstStride = in[1] >= 256 ? 2 : 1;
    s.layers << convBnRelu(width, 1, 5, 1, firstStride) << pool(K::MaxPool, 1, 2)
             << convBnRelu(2 * width, 1, 5) << pool(K::MaxPool, 1, 2)
             << convBnRelu(2 * width, 1, 3) << classifierHead(classes);
    return s;
}

ModelSpec cnn2d(const QVector<int> &in, int classes, int width)
{
    ModelSpec s = emptySpec(Architecture::Cnn2d, in, classes);
    s.layers << convBnRelu(width, 3, 3) << pool(K::MaxPool, 2, 2)
             << convBnRelu(2 * width, 3, 3) << pool(K::MaxPool, 2, 2)
             << convBnRelu(2 * width, 3, 3) << classifierHead(classes);
    return s;
}

/// MLPerf Tiny's keyword-spotting DS-CNN: a strided 10x4 convolution, then depthwise 3x3 +
/// pointwise 1x1 blocks, global average pooling and the classifier.
ModelSpec dscnn(const QVector<int> &in, int classes, int width, int blocks)
{
    ModelSpec s = emptySpec(Architecture::DsCnn, in, classes);
    const int kh = std::min(10, in[0]), kw = std::min(4, in[1]);
    const int sh = in[0] >= 20 ? 2 : 1, sw = in[1] >= 8 ? 2 : 1;
    s.layers << convBnRelu(width, kh, kw, sh, sw);
    for (int b = 0; b < blocks; ++b)
        s.layers << depthwiseBnRelu(3, 3) << convBnRelu(width, 1, 1);
    s.layers << classifierHead(classes);
    return s;
}

qint64 volume(const QVector<int> &shape)
{
    qint64 n = 1;
    for (int d : shape)
        n *= d;
    return n;
}


/// Weights of a conv / depthwise / dense layer, 0 for the others (batch norm folds away).
qint64 weightCount(const LayerSpec &l, const QVector<int> &in)
{
    switch (l.kind) {
    case K::Conv2D: return qint64(l.outChannels) * l.kernelH * l.kernelW * in.last();
    case K::DepthwiseConv2D: return qint64(in.last()) * l.kernelH * l.kernelW;
    case K::Dense: return qint64(l.outChannels) * volume(in);
    default: return 0;
    }
}

qint64 biasCount(const LayerSpec &l, const QVector<int> &in)
{
    switch (l.kind) {
    case K::Conv2D:
    case K::Dense: return l.outChannels;
    case K::DepthwiseConv2D: return in.last();
    default: return 0;
    }
}

/// f(layer, input shape, output shape) for every layer; not called at all when the spec
/// is inconsistent, so the size metrics of a broken spec are 0.
template <typename F>
void forEachLayer(const ModelSpec &spec, F f)
{
    const auto sh = spec.shapes();
    for (int i = 0; i < spec.layers.size() && i < sh.size(); ++i)
        f(spec.layers[i], i ? sh[i - 1] : spec.inputShape, sh[i]);
}

} // namespace

QString architectureName(Architecture kind)
{
    switch (kind) {
    case Architecture::Auto: return QStringLiteral("auto");
    case Architecture::Mlp: return QStringLiteral("mlp");
    case Architecture::Cnn1d: return QStringLiteral("cnn1d");
    case Architecture::Cnn2d: return QStringLiteral("cnn2d");
    case Architecture::DsCnn: return QStringLiteral("dscnn");
    }
    return {};
}

std::optional<Architecture> architectureFromName(const QString &name)
{
    for (Architecture k : {Architecture::Auto, Architecture::Mlp, Architecture::Cnn1d, Architecture::Cnn2d, Architecture::DsCnn})
        if (architectureName(k) == name)
            return k;
    return std::nullopt;
}

QString layerKindName(LayerSpec::Kind kind)
{
    return QString::fromLatin1(kKindNames[int(kind)]);
}

ModelBudget ModelBudget::forBoard(quint64 ramBytes, quint64 flashBytes)
{
    ModelBudget b;
    if (flashBytes)
        b.maxWeightBytes = qint64(flashBytes / 4);
    if (ramBytes)
        b.maxActivationBytes = qint64(ramBytes / 4);
    return b;
}

QVector<QVector<int>> ModelSpec::shapes(QString *error) const
{
    QVector<QVector<int>> out;
    QVector<int> s = inputShape;
    auto bad = [&](int i, const QString &m) {
        if (error)
            *error = QStringLiteral("layer %1 (%2): %3").arg(i).arg(layerKindName(layers[i].kind), m);
        return QVector<QVector<int>>{};
    };
    if (s.size() != 1 && s.size() != 3) {
        if (error)
            *error = QStringLiteral("input shape must be {F} or {H, W, C}");
        return {};
    }
    for (int i = 0; i < layers.size(); ++i) {
        const LayerSpec &l = layers[i];
        const bool spatial = s.size() == 3;
        switch (l.kind) {
        case K::Conv2D:
        case K::DepthwiseConv2D:
        case K::MaxPool:
        case K::AvgPool: {
            if (!spatial)
                return bad(i, QStringLiteral("needs an {H, W, C} input"));
            const int pad = (l.kind == K::Conv2D || l.kind == K::DepthwiseConv2D);
            const int h = (s[0] + 2 * l.padH * pad - l.kernelH) / l.strideH + 1;
            const int w = (s[1] + 2 * l.padW * pad - l.kernelW) / l.strideW + 1;
            if (h < 1 || w < 1 || s[0] + 2 * l.padH * pad < l.kernelH || s[1] + 2 * l.padW * pad < l.kernelW)
                return bad(i, QStringLiteral("kernel larger than the input"));
            const int c = l.kind == K::Conv2D ? l.outChannels : s[2];
            s = {h, w, c};
            break;
        }
        case K::GlobalAvgPool:
            if (!spatial)
                return bad(i, QStringLiteral("needs an {H, W, C} input"));
            s = {s[2]};
            break;
        case K::Flatten:
            s = {int(volume(s))};
            break;
        case K::Dense:
            if (spatial)
                return bad(i, QStringLiteral("needs a flat input (flatten first)"));
            s = {l.outChannels};
            break;
        default:
            break;
        }
        out.append(s);
    }
    if (error)
        error->clear();
    return out;
}

qint64 ModelSpec::parameterCount() const
{
    qint64 n = 0;
    forEachLayer(*this, [&](const LayerSpec &l, const QVector<int> &in, const QVector<int> &) {
        n += weightCount(l, in) + biasCount(l, in) + (l.kind == K::BatchNorm ? 2 * in.last() : 0);
    });
    return n;
}

qint64 ModelSpec::int8WeightBytes() const
{
    qint64 n = 0;
    forEachLayer(*this, [&](const LayerSpec &l, const QVector<int> &in, const QVector<int> &) {
        n += weightCount(l, in) + 4 * biasCount(l, in);
    });
    return n;
}

qint64 ModelSpec::int8ActivationBytes() const
{
    qint64 peak = 0;
    forEachLayer(*this, [&](const LayerSpec &, const QVector<int> &in, const QVector<int> &out) {
        peak = std::max(peak, volume(in) + volume(out));
    });
    return peak;
}

qint64 ModelSpec::macs() const
{
    qint64 n = 0;
    forEachLayer(*this, [&](const LayerSpec &l, const QVector<int> &in, const QVector<int> &out) {
        // Each weight is used once per output position (H x W of a convolution, once in dense).
        n += weightCount(l, in) * (out.size() == 3 ? qint64(out[0]) * out[1] : 1);
    });
    return n;
}

QJsonObject ModelSpec::toJson() const
{
    QJsonArray ls;
    for (const LayerSpec &l : layers) {
        QJsonObject o{{QStringLiteral("kind"), layerKindName(l.kind)}};
        if (l.kind == K::Conv2D || l.kind == K::Dense)
            o.insert(QStringLiteral("out"), l.outChannels);
        if (l.kind == K::Conv2D || l.kind == K::DepthwiseConv2D || l.kind == K::MaxPool || l.kind == K::AvgPool) {
            o.insert(QStringLiteral("kernel"), QJsonArray{l.kernelH, l.kernelW});
            o.insert(QStringLiteral("stride"), QJsonArray{l.strideH, l.strideW});
            o.insert(QStringLiteral("pad"), QJsonArray{l.padH, l.padW});
        }
        if (l.kind == K::Dropout)
            o.insert(QStringLiteral("p"), l.dropout);
        ls.append(o);
    }
    QJsonArray in;
    for (int d : inputShape)
        in.append(d);
    return {{QStringLiteral("kind"), architectureName(kind)},
            {QStringLiteral("input_shape"), in},
            {QStringLiteral("classes"), numClasses},
            {QStringLiteral("layers"), ls}};
}

std::optional<ModelSpec> ModelSpec::fromJson(const QJsonObject &json, QString *error)
{
    ModelSpec s;
    auto kind = architectureFromName(json.value(QStringLiteral("kind")).toString());
    if (!kind) {
        if (error)
            *error = QStringLiteral("model spec: unknown kind '%1'").arg(json.value(QStringLiteral("kind")).toString());
        return std::nullopt;
    }
    s.kind = *kind;
    for (const auto &v : json.value(QStringLiteral("input_shape")).toArray())
        s.inputShape.append(v.toInt());
    s.numClasses = json.value(QStringLiteral("classes")).toInt();
    for (const auto &v : json.value(QStringLiteral("layers")).toArray()) {
        const QJsonObject o = v.toObject();
        LayerSpec l;
        const QString name = o.value(QStringLiteral("kind")).toString();
        int k = 0;
        for (; k < int(std::size(kKindNames)); ++k)
            if (name == QLatin1String(kKindNames[k]))
                break;
        if (k == int(std::size(kKindNames))) {
            if (error)
                *error = QStringLiteral("model spec: unknown layer '%1'").arg(name);
            return std::nullopt;
        }
        l.kind = K(k);
        l.outChannels = o.value(QStringLiteral("out")).toInt();
        const QJsonArray kr = o.value(QStringLiteral("kernel")).toArray(), st = o.value(QStringLiteral("stride")).toArray(),
                         pd = o.value(QStringLiteral("pad")).toArray();
        if (kr.size() == 2) { l.kernelH = kr[0].toInt(); l.kernelW = kr[1].toInt(); }
        if (st.size() == 2) { l.strideH = st[0].toInt(); l.strideW = st[1].toInt(); }
        if (pd.size() == 2) { l.padH = pd[0].toInt(); l.padW = pd[1].toInt(); }
        l.dropout = float(o.value(QStringLiteral("p")).toDouble());
        s.layers.append(l);
    }
    QString err;
    if (s.shapes(&err).isEmpty()) {
        if (error)
            *error = QStringLiteral("model spec: ") + err;
        return std::nullopt;
    }
    return s;
}

Architecture chooseArchitecture(const QVector<int> &inputShape, const QString &templateName)
{
    if (inputShape.size() != 3)
        return Architecture::Mlp;
    if (inputShape[0] == 1)
        return Architecture::Cnn1d;
    if (templateName == QLatin1String("audio") && inputShape[2] == 1)
        return Architecture::DsCnn;
    return Architecture::Cnn2d;
}

std::optional<ModelSpec> buildModelSpec(Architecture kind, const QVector<int> &inputShape,
                                        int numClasses, const ModelBudget &budget,
                                        const QString &templateName, QString *error)
{
    if (kind == Architecture::Auto)
        kind = chooseArchitecture(inputShape, templateName);
    auto fail = [&](const QString &m) {
        if (error)
            *error = m;
        return std::nullopt;
    };
    if (numClasses < 2)
        return fail(QStringLiteral("a classifier needs at least two classes"));
    if (inputShape.size() != 1 && inputShape.size() != 3)
        return fail(QStringLiteral("input shape must be {F} or {H, W, C}"));
    if (kind != Architecture::Mlp && inputShape.size() != 3)
        return fail(QStringLiteral("%1 needs an {H, W, C} input; these features are flat (use mlp)")
                        .arg(architectureName(kind)));
    if (kind == Architecture::Cnn1d && inputShape[0] != 1)
        return fail(QStringLiteral("cnn1d needs a {1, T, C} input (a time series)"));

    QString lastError;
    const QVector<int> widths = kind == Architecture::Mlp ? QVector<int>{64, 32, 16}
                              : kind == Architecture::DsCnn ? QVector<int>{64, 48, 32, 16}
                                                         : QVector<int>{16, 8, 4};
    for (int w : widths) {
        ModelSpec s;
        switch (kind) {
        case Architecture::Mlp: s = mlp(inputShape, numClasses, w); break;
        case Architecture::Cnn1d: s = cnn1d(inputShape, numClasses, w); break;
        case Architecture::Cnn2d: s = cnn2d(inputShape, numClasses, w); break;
        default: s = dscnn(inputShape, numClasses, w, 4); break;
        }
        if (s.shapes(&lastError).isEmpty())
            return fail(QStringLiteral("%1 does not fit input {%2}: %3").arg(architectureName(kind),
                        [&] { QStringList l; for (int d : inputShape) l << QString::number(d); return l.join(QStringLiteral(", ")); }(),
                        lastError));
        if (s.int8WeightBytes() <= budget.maxWeightBytes && s.int8ActivationBytes() <= budget.maxActivationBytes)
            return s;
        lastError = QStringLiteral("smallest %1 needs %2 weight bytes (budget %3) and %4 activation bytes (budget %5)")
                        .arg(architectureName(kind)).arg(s.int8WeightBytes()).arg(budget.maxWeightBytes)
                        .arg(s.int8ActivationBytes()).arg(budget.maxActivationBytes);
    }
    return fail(lastError);
}

} // namespace tinyml::training
