#include "ModelPackageWriter.h"

#include "ModelPackageFormat.h"
#include "model/Int8Executor.h"
#include "model/QuantizationMath.h"

#include "tm_frame.h"
#include "tm_nn.h"

#include <QtEndian>

#include <cstring>

namespace tinyml::deploy {

using model::Graph;
using model::Node;
using model::OpType;
using model::QuantParams;
using model::TensorDesc;
namespace pk = package;

namespace {

bool fail(QString *error, const QString &message)
{
    if (error)
        *error = message;
    return false;
}

qint64 alignUp(qint64 v, qint64 a) { return (v + a - 1) / a * a; }

void padTo(QByteArray &b, qint64 alignment)
{
    b.append(QByteArray(int(alignUp(b.size(), alignment) - b.size()), '\0'));
}

template <typename T> void put(QByteArray &b, T v)
{
    const auto le = qToLittleEndian(v);
    b.append(reinterpret_cast<const char *>(&le), sizeof(le));
}

template <typename T> void putAt(QByteArray &b, qint64 at, T v)
{
    const auto le = qToLittleEndian(v);
    std::memcpy(b.data() + at, &le, sizeof(le));
}

qint32 floatBits(float f)
{
    qint32 v;
    std::memcpy(&v, &f, sizeof(v));
    return v;
}

QuantParams quantOf(const TensorDesc &t)
{
    return {t.scales.value(0, 1.0f), t.zeroPoints.value(0, 0)};
}

tm_nn_dims_t nhwc(const QVector<int> &shape)
{
    int d[4] = {1, 1, 1, 1};
    for (int i = 0; i < shape.size() && i < 4; ++i)
        d[4 - shape.size() + i] = shape[i];
    return {d[0], d[1], d[2], d[3]};
}

/// The data section: blobs appended at 4-byte boundaries, addressed by offset.
struct DataSection {
    QByteArray bytes;
    quint32 append(const QByteArray &blob)
    {
        padTo(bytes, pk::kDataAlignment);
        const quint32 at = quint32(bytes.size());
        bytes.append(blob);
        return at;
    }
    quint32 appendInt32(const QVector<qint32> &values)
    {
        QByteArray b;
        for (qint32 v : values)
            put(b, v);
        return append(b);
    }
    quint32 appendFloat(const QVector<float> &values)
    {
        QVector<qint32> bits;
        for (float f : values)
            bits.append(floatBits(f));
        return appendInt32(bits);
    }
};

/// Kernel parameters of one node, in the order MODEL_PACKAGE.md lists them.
bool opParams(const Graph &g, int index, DataSection &data, QVector<qint32> *out, QString *error)
{
    const Node &n = g.nodes[index];
    auto err = [&](const QString &m) {
        return fail(error, QStringLiteral("node %1 \"%2\" (%3): %4").arg(index).arg(n.name, model::opName(n.op), m));
    };
    const TensorDesc &x = g.tensors[n.inputs[0]];
    const TensorDesc &y = g.tensors[n.outputs[0]];
    const QuantParams qx = quantOf(x), qy = quantOf(y);
    const auto [actMin, actMax] = model::activationRange(n.activation, qy);
    QVector<qint32> &p = *out;
    p.clear();

    auto perChannel = [&](int cout, quint32 *multAt, quint32 *shiftAt) {
        const TensorDesc &w = g.tensors[n.inputs[1]];
        QVector<qint32> mult(cout), shift(cout);
        for (int c = 0; c < cout; ++c) {
            const double ws = w.scales.size() == 1 ? double(w.scales[0]) : double(w.scales[c]);
            const double real = double(qx.scale) * ws / double(qy.scale);   // as Int8Executor
            if (tm_nn_quantize_multiplier(real, &mult[c], &shift[c]) != TM_NN_OK)
                return err(QStringLiteral("requantization scale %1 of channel %2 out of range").arg(real).arg(c));
        }
        *multAt = data.appendInt32(mult);
        *shiftAt = data.appendInt32(shift);
        return true;
    };

    switch (n.op) {
    case OpType::Conv2D:
    case OpType::DepthwiseConv2D: {
        const int cout = y.shape.last();
        quint32 multAt = 0, shiftAt = 0;
        if (!perChannel(cout, &multAt, &shiftAt))
            return false;
        const tm_nn_dims_t in = nhwc(x.shape), filter = nhwc(g.tensors[n.inputs[1]].shape);
        const int32_t scratch = n.op == OpType::Conv2D ? tm_nn_conv2d_s8_get_buffer_size(&in, &filter)
                                                       : tm_nn_depthwise_conv2d_s8_get_buffer_size(&in, &filter);
        p = {qx.zeroPoint, qy.zeroPoint, n.strideH, n.strideW, n.padTop, n.padLeft,
             n.op == OpType::DepthwiseConv2D ? cout / x.shape.last() : 1, actMin, actMax, cout,
             qint32(multAt), qint32(shiftAt), scratch};
        break;
    }
    case OpType::FullyConnected: {
        const int cout = y.shape.last();
        quint32 multAt = 0, shiftAt = 0;
        if (!perChannel(cout, &multAt, &shiftAt))
            return false;
        const tm_nn_dims_t filter = {cout, 1, 1, int32_t(x.elementCount())};
        p = {qx.zeroPoint, qy.zeroPoint, actMin, actMax, cout, qint32(x.elementCount()),
             qint32(multAt), qint32(shiftAt), tm_nn_fully_connected_s8_get_buffer_size(&filter)};
        break;
    }
    case OpType::MaxPool2D:
    case OpType::AvgPool2D: {
        const tm_nn_dims_t outDims = nhwc(y.shape);
        p = {n.strideH, n.strideW, n.padTop, n.padLeft, n.kernelH, n.kernelW, -128, 127,
             n.op == OpType::AvgPool2D ? tm_nn_avg_pool_s8_get_buffer_size(&outDims) : 0};
        break;
    }
    case OpType::GlobalAvgPool: {
        const tm_nn_dims_t outDims = {1, 1, 1, x.shape[3]};
        p = {1, 1, 0, 0, x.shape[1], x.shape[2], -128, 127, tm_nn_avg_pool_s8_get_buffer_size(&outDims)};
        break;
    }
    case OpType::Add: {
        const QuantParams qb = quantOf(g.tensors[n.inputs[1]]);
        tm_nn_add_params_t a;
        if (tm_nn_add_prepare(qx.scale, qx.zeroPoint, qb.scale, qb.zeroPoint, qy.scale, qy.zeroPoint, &a) != TM_NN_OK)
            return err(QStringLiteral("input/output scales give an add multiplier out of range"));
        p = {a.input1_zero_point, a.input2_zero_point, a.output_zero_point, a.left_shift,
             a.input1_multiplier, a.input1_shift, a.input2_multiplier, a.input2_shift,
             a.output_multiplier, a.output_shift, actMin, actMax};
        break;
    }
    case OpType::Relu:
        p = {std::max(-128, qy.zeroPoint), 127};
        break;
    case OpType::Relu6: {
        const auto [lo, hi] = model::activationRange(model::Activation::Relu6, qy);
        p = {lo, hi};
        break;
    }
    case OpType::Clip:
        p = {model::quantizeValue(n.clipMin, qy), model::quantizeValue(n.clipMax, qy)};
        break;
    case OpType::Reshape:
        break;
    case OpType::Softmax:
        p = {floatBits(qx.scale), floatBits(1.0f)};
        break;
    case OpType::Concat:
        p = {qy.zeroPoint};
        for (int t : n.inputs) {
            const QuantParams qi = quantOf(g.tensors[t]);
            qint32 mult = 0, shift = 0, requantize = 0;
            if (qi.scale != qy.scale || qi.zeroPoint != qy.zeroPoint) {
                requantize = 1;
                const double ratio = double(qi.scale) / double(qy.scale);
                if (ratio >= 65536.0 || tm_nn_quantize_multiplier(ratio, &mult, &shift) != TM_NN_OK)
                    return err(QStringLiteral("input \"%1\" scale is %2 times the output's; cannot requantize")
                                   .arg(g.tensors[t].name).arg(ratio));
            }
            p += {qi.zeroPoint, requantize, mult, shift};
        }
        break;
    case OpType::KMeansScore:
    case OpType::GmmScore:
    case OpType::SquaredError: {
        const double real = model::scoreRequantizationScale(g, n);   // as Int8Executor
        int32_t mult = 0, shift = 0;
        if (tm_nn_quantize_multiplier(real, &mult, &shift) != TM_NN_OK)
            return err(QStringLiteral("score requantization scale %1 out of range").arg(real));
        p = {qy.zeroPoint, mult, shift};
        break;
    }
    case OpType::BatchNorm:
        return err(QStringLiteral("BatchNorm cannot be packaged; fold it first"));
    }
    return true;
}

void putFloat(QByteArray &b, float f) { put<qint32>(b, floatBits(f)); }

QByteArray dspParamBytes(const features::FeatureParams &f)
{
    QByteArray b;
    auto mfe = [&](const features::MfeParams &m) {
        put<quint32>(b, quint32(m.frameLength));
        put<quint32>(b, quint32(m.frameStride));
        put<quint32>(b, quint32(m.nFilters));
        putFloat(b, m.lowHz);
        putFloat(b, m.highHz);
        putFloat(b, m.preEmphasis);
        putFloat(b, m.logFloor);
    };
    switch (f.kind) {
    case features::BlockKind::Raw:
        put<quint32>(b, f.raw.removeMean ? 1 : 0);
        putFloat(b, f.raw.scale);
        put<quint32>(b, f.raw.asSequence ? 1 : 0);
        break;
    case features::BlockKind::Spectral:
        put<quint32>(b, quint32(f.spectral.nBands));
        put<quint32>(b, quint32(f.spectral.nPeaks));
        put<quint32>(b, quint32(f.spectral.bandEdgesHz.size()));
        for (float e : f.spectral.bandEdgesHz)
            putFloat(b, e);
        break;
    case features::BlockKind::Mfe:
        mfe(f.mfe);
        break;
    case features::BlockKind::Mfcc:
        mfe(f.mfcc.mfe);
        put<quint32>(b, quint32(f.mfcc.nCoeffs));
        put<quint32>(b, quint32(f.mfcc.lifter));
        break;
    case features::BlockKind::Image:
        break;
    }
    return b;
}

} // namespace

std::optional<QByteArray> impulseSectionBytes(const ImpulseSpec &spec, qint64 modelInputs, qint64 modelOutputs,
                                              QString *error, quint32 sectionOffset)
{
    const QString why = spec.validate(modelInputs, modelOutputs);
    if (!why.isEmpty()) {
        fail(error, why);
        return std::nullopt;
    }
    const QByteArray params = dspParamBytes(spec.features);
    QByteArray b;
    b.append(pk::kImpulseMagic, 4);
    put<quint32>(b, 0);   // section_size, patched below
    put<quint16>(b, spec.anomaly ? pk::kImpulseFormatVersionAnomaly : pk::kImpulseFormatVersion);
    put<quint8>(b, quint8(spec.sensorKind));
    put<quint8>(b, quint8(spec.channels));
    put<quint32>(b, spec.sampleRateHz);
    put<quint32>(b, spec.windowFrames);
    put<quint32>(b, spec.strideFrames);
    putFloat(b, spec.rawScale);
    put<quint8>(b, quint8(spec.features.kind));
    put<quint8>(b, 0);
    put<quint16>(b, quint16(params.size()));
    Q_ASSERT(quint32(b.size()) == pk::kImpulseFixedSize);
    b.append(params);
    put<quint32>(b, quint32(spec.featureCount()));
    const bool norm = !spec.normMean.isEmpty();
    put<quint32>(b, norm ? pk::kImpulseNormPresent : 0);
    if (norm) {
        for (float m : spec.normMean)
            putFloat(b, m);
        for (float s : spec.normStd)
            putFloat(b, s);
    }
    put<quint16>(b, quint16(spec.classCount()));
    put<quint16>(b, quint16(spec.post.averageWindows));
    put<quint32>(b, spec.post.suppressionMs);
    for (float t : spec.post.thresholds)
        putFloat(b, t);
    for (bool bg : spec.post.background)
        put<quint8>(b, bg ? pk::kImpulseClassBackground : 0);
    padTo(b, 4);
    if (spec.anomaly) {
        const ImpulseAnomaly &a = *spec.anomaly;
        const bool anorm = !a.normMean.isEmpty();
        put<quint32>(b, anorm ? pk::kImpulseAnomalyNormPresent : 0);
        putFloat(b, a.threshold);
        if (anorm) {
            for (float m : a.normMean)
                putFloat(b, m);
            for (float s : a.normStd)
                putFloat(b, s);
        }
        put<quint32>(b, quint32(a.package.size()));
        while ((quint64(sectionOffset) + quint64(b.size())) % pk::kImpulseAnomalyAlignment != 0)
            put<quint8>(b, 0);
        b.append(a.package);
        padTo(b, 4);
    }
    putAt<quint32>(b, pk::kImpSectionSizeAt, quint32(b.size()));
    return b;
}

std::optional<QByteArray> ModelPackageWriter::write(const Graph &graph, QString *error,
                                                    const ArenaPlanOptions &options)
{
    Graph g = graph;
    if (!g.inferShapes(error))
        return std::nullopt;
    const std::optional<ArenaPlan> plan = planArena(g, error, options);
    if (!plan)
        return std::nullopt;
    return write(g, g.labels, *plan, error);
}

std::optional<QByteArray> ModelPackageWriter::write(const Graph &graph, const QStringList &labels,
                                                    const ArenaPlan &plan, QString *error)
{
    Graph g = graph;
    if (!g.quantized) {
        fail(error, QStringLiteral("graph: only quantized (int8) graphs can be packaged"));
        return std::nullopt;
    }
    {
        model::Int8Executor check;   // same validation and parameter limits as the host reference
        if (!check.prepare(g, error))
            return std::nullopt;
        g = check.graph();           // shapes inferred
    }
    const int tensorCount = int(g.tensors.size());
    if (plan.offsets.size() != tensorCount) {
        fail(error, QStringLiteral("arena plan: covers %1 tensors, the graph has %2").arg(plan.offsets.size()).arg(tensorCount));
        return std::nullopt;
    }
    if (tensorCount > 0xFFFF || g.nodes.size() > 0xFFFF || labels.size() > 0xFFFF) {
        fail(error, QStringLiteral("graph: more than 65535 tensors, ops or labels"));
        return std::nullopt;
    }
    if (g.inputs.size() != 1 || g.outputs.size() != 1) {
        fail(error, QStringLiteral("graph: a package holds exactly one input and one output"));
        return std::nullopt;
    }

    DataSection data;
    PackageStats stats;
    QByteArray tensors;
    for (int t = 0; t < tensorCount; ++t) {
        const TensorDesc &d = g.tensors[t];
        auto terr = [&](const QString &m) {
            fail(error, QStringLiteral("tensor %1 \"%2\": %3").arg(t).arg(d.name, m));
            return std::nullopt;
        };
        if (d.dtype != DType::Int8 && d.dtype != DType::Int32)
            return terr(QStringLiteral("dtype must be int8 or int32"));
        if (d.shape.isEmpty() || d.shape.size() > int(pk::kMaxRank))
            return terr(QStringLiteral("rank %1 outside 1..%2").arg(d.shape.size()).arg(pk::kMaxRank));
        const qint64 bytes = d.elementCount() * dtypeSize(d.dtype);
        quint32 location = 0;
        if (d.isConstant()) {
            if (d.data.size() != bytes)
                return terr(QStringLiteral("data holds %1 bytes, the shape needs %2").arg(d.data.size()).arg(bytes));
            location = data.append(d.data);
            stats.weightBytes += bytes;
        } else {
            if (plan.offsets[t] < 0) {
                if (g.inputs.contains(t) || g.outputs.contains(t))
                    return terr(QStringLiteral("activation has no arena offset in the plan"));
                // Unused tensor: no bytes anywhere; keep its slot so indices stay the graph's.
            }
            location = quint32(std::max<qint64>(0, plan.offsets[t]));
        }
        QVector<float> channelScales = d.scales.size() > 1 ? d.scales : QVector<float>{};
        if (!channelScales.isEmpty() && std::any_of(d.zeroPoints.begin(), d.zeroPoints.end(), [](int z) { return z != 0; }))
            return terr(QStringLiteral("per-channel quantization needs zero points 0"));
        const quint32 scalesAt = channelScales.isEmpty() ? 0 : data.appendFloat(channelScales);
        const QuantParams q = quantOf(d);

        QByteArray r;
        put<quint8>(r, quint8(d.dtype));
        put<quint8>(r, quint8(d.shape.size()));
        put<quint8>(r, d.isConstant() ? pk::kTensorConstant : 0);
        put<quint8>(r, 0);
        for (int i = 0; i < int(pk::kMaxRank); ++i)
            put<qint32>(r, i < d.shape.size() ? d.shape[i] : 0);
        put<quint32>(r, location);
        put<quint32>(r, quint32(bytes));
        put<qint32>(r, floatBits(q.scale));
        put<qint32>(r, q.zeroPoint);
        put<quint32>(r, quint32(channelScales.size()));
        put<quint32>(r, scalesAt);
        put<quint32>(r, 0);
        Q_ASSERT(quint32(r.size()) == pk::kTensorRecordSize);
        tensors.append(r);
    }

    QByteArray ops;
    for (int i = 0; i < g.nodes.size(); ++i) {
        const Node &n = g.nodes[i];
        QVector<qint32> params;
        if (!opParams(g, i, data, &params, error))
            return std::nullopt;
        QByteArray r;
        put<quint16>(r, quint16(n.op));
        put<quint16>(r, 0);   // record size, patched below
        put<quint8>(r, quint8(n.activation));
        put<quint8>(r, quint8(n.inputs.size()));
        put<quint8>(r, quint8(n.outputs.size()));
        put<quint8>(r, 0);
        for (int t : n.inputs)
            put<quint16>(r, quint16(t));
        for (int t : n.outputs)
            put<quint16>(r, quint16(t));
        padTo(r, 4);
        for (qint32 v : params)
            put<qint32>(r, v);
        if (r.size() > 0xFFFF) {
            fail(error, QStringLiteral("node %1 \"%2\": op record larger than 65535 bytes").arg(i).arg(n.name));
            return std::nullopt;
        }
        putAt<quint16>(r, 2, quint16(r.size()));
        ops.append(r);
    }

    QByteArray labelBytes;
    for (const QString &label : labels) {
        const QByteArray utf8 = label.toUtf8();
        if (utf8.isEmpty() || utf8.size() > int(pk::kMaxLabelBytes)) {
            fail(error, QStringLiteral("label \"%1\": empty or longer than %2 bytes").arg(label).arg(pk::kMaxLabelBytes));
            return std::nullopt;
        }
        put<quint16>(labelBytes, quint16(utf8.size()));
        labelBytes.append(utf8);
    }
    padTo(labelBytes, 4);
    padTo(data.bytes, pk::kDataAlignment);

    const qint64 sectionAt = alignUp(pk::kHeaderSize + tensors.size() + ops.size() + labelBytes.size(),
                                     pk::kDataSectionAlignment) + data.bytes.size();
    QByteArray impulse;
    if (m_impulse) {
        if (m_impulse->labels != labels) {
            fail(error, QStringLiteral("impulse.labels: the impulse's labels (%1) differ from the package's (%2)")
                            .arg(m_impulse->labels.join(QLatin1Char(',')), labels.join(QLatin1Char(','))));
            return std::nullopt;
        }
        auto section = impulseSectionBytes(*m_impulse, g.tensors[g.inputs[0]].elementCount(),
                                           g.tensors[g.outputs[0]].elementCount(), error, quint32(sectionAt));
        if (!section)
            return std::nullopt;
        impulse = *section;
    }

    const qint64 tensorsAt = pk::kHeaderSize;
    const qint64 opsAt = tensorsAt + tensors.size();
    const qint64 labelsAt = opsAt + ops.size();
    const qint64 dataAt = alignUp(labelsAt + labelBytes.size(), pk::kDataSectionAlignment);
    const qint64 total = dataAt + data.bytes.size() + impulse.size();
    const qint64 arena = alignUp(plan.arenaBytes, pk::kDataAlignment);
    if (plan.alignment > int(pk::kMaxArenaAlignment)) {
        fail(error, QStringLiteral("arena plan: alignment %1 above the format's %2").arg(plan.alignment).arg(pk::kMaxArenaAlignment));
        return std::nullopt;
    }
    if (total > qint64(0xFFFFFFFFu) || arena > qint64(0xFFFFFFFFu)) {
        fail(error, QStringLiteral("package: larger than 4 GiB"));
        return std::nullopt;
    }

    QByteArray out(int(total), '\0');
    std::memcpy(out.data() + pk::kMagicAt, pk::kMagic, 4);
    putAt<quint16>(out, pk::kVersionAt, m_impulse ? pk::kFormatVersionImpulse : pk::kFormatVersion);
    putAt<quint16>(out, pk::kHeaderSizeAt, quint16(pk::kHeaderSize));
    putAt<quint32>(out, pk::kTotalSizeAt, quint32(total));
    putAt<quint32>(out, pk::kFlagsAt, m_impulse ? pk::kFlagHasImpulse : 0);
    putAt<quint32>(out, pk::kArenaSizeAt, quint32(arena));
    putAt<quint32>(out, pk::kTensorTableOffsetAt, quint32(tensorsAt));
    putAt<quint16>(out, pk::kTensorCountAt, quint16(tensorCount));
    putAt<quint16>(out, pk::kOpCountAt, quint16(g.nodes.size()));
    putAt<quint32>(out, pk::kOpTableOffsetAt, quint32(opsAt));
    putAt<quint32>(out, pk::kOpTableSizeAt, quint32(ops.size()));
    putAt<quint32>(out, pk::kLabelsOffsetAt, quint32(labelsAt));
    putAt<quint32>(out, pk::kLabelsSizeAt, quint32(labelBytes.size()));
    putAt<quint32>(out, pk::kDataOffsetAt, quint32(dataAt));
    putAt<quint32>(out, pk::kDataSizeAt, quint32(data.bytes.size()));
    putAt<quint16>(out, pk::kInputTensorAt, quint16(g.inputs[0]));
    putAt<quint16>(out, pk::kOutputTensorAt, quint16(g.outputs[0]));
    putAt<quint16>(out, pk::kLabelCountAt, quint16(labels.size()));
    std::memcpy(out.data() + tensorsAt, tensors.constData(), size_t(tensors.size()));
    std::memcpy(out.data() + opsAt, ops.constData(), size_t(ops.size()));
    std::memcpy(out.data() + labelsAt, labelBytes.constData(), size_t(labelBytes.size()));
    std::memcpy(out.data() + dataAt, data.bytes.constData(), size_t(data.bytes.size()));
    if (!impulse.isEmpty())
        std::memcpy(out.data() + dataAt + data.bytes.size(), impulse.constData(), size_t(impulse.size()));
    const uint32_t crc = tm_crc32(0, reinterpret_cast<const uint8_t *>(out.constData()) + pk::kHeaderSize,
                                  size_t(total - pk::kHeaderSize));
    putAt<quint32>(out, pk::kCrcAt, crc);

    stats.packageBytes = total;
    stats.arenaBytes = arena;
    stats.arenaLowerBound = plan.lowerBound;
    stats.impulseBytes = impulse.size();
    stats.anomalyArenaBytes = m_impulse && m_impulse->anomaly && m_impulse->anomaly->package.size() >= int(pk::kHeaderSize)
                                  ? qint64(qFromLittleEndian<quint32>(m_impulse->anomaly->package.constData() + pk::kArenaSizeAt))
                                  : 0;
    m_stats = stats;
    return out;
}

} // namespace tinyml::deploy
