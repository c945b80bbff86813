#include "ModelPackageReader.h"

#include "ModelPackageFormat.h"

#include "tm_frame.h"

#include <QtEndian>

#include <cmath>
#include <cstring>

namespace tinyml::deploy {

using model::OpType;
namespace pk = package;

namespace {

template <typename T> T get(const QByteArray &b, qint64 at)
{
    T v;
    std::memcpy(&v, b.constData() + at, sizeof(v));
    return qFromLittleEndian(v);
}

float getFloat(const QByteArray &b, qint64 at)
{
    const quint32 bits = get<quint32>(b, at);
    float f;
    std::memcpy(&f, &bits, sizeof(f));
    return f;
}

qint64 alignUp(qint64 v, qint64 a) { return (v + a - 1) / a * a; }

/// Input count range per op code: {min, max}.
std::pair<int, int> inputRange(OpType op)
{
    switch (op) {
    case OpType::Conv2D:
    case OpType::DepthwiseConv2D:
    case OpType::FullyConnected: return {2, 3};
    case OpType::Add: return {2, 2};
    case OpType::Concat: return {1, 255};
    default: return {1, 1};
    }
}

} // namespace

QVector<qint32> ModelPackage::int32Array(quint32 offset, int count) const
{
    QVector<qint32> out;
    if (count < 0 || qint64(offset) + qint64(count) * 4 > data.size())
        return out;
    for (int i = 0; i < count; ++i)
        out.append(get<qint32>(data, qint64(offset) + 4 * i));
    return out;
}

std::optional<ModelPackage> ModelPackageReader::read(const QByteArray &b, QString *error)
{
    auto fail = [&](const QString &m) {
        if (error)
            *error = m;
        return std::nullopt;
    };
    const qint64 size = b.size();
    if (size < pk::kHeaderSize)
        return fail(QStringLiteral("header: package of %1 bytes is shorter than the %2-byte header").arg(size).arg(pk::kHeaderSize));
    if (std::memcmp(b.constData(), pk::kMagic, 4) != 0)
        return fail(QStringLiteral("header.magic: not \"TMPK\""));
    ModelPackage pkg;
    pkg.version = get<quint16>(b, pk::kVersionAt);
    if (pkg.version != pk::kFormatVersion)
        return fail(QStringLiteral("header.version: %1, this reader reads %2").arg(pkg.version).arg(pk::kFormatVersion));
    if (get<quint16>(b, pk::kHeaderSizeAt) != pk::kHeaderSize)
        return fail(QStringLiteral("header.header_size: %1, version 1 has %2").arg(get<quint16>(b, pk::kHeaderSizeAt)).arg(pk::kHeaderSize));
    const quint32 total = get<quint32>(b, pk::kTotalSizeAt);
    if (total != size)
        return fail(QStringLiteral("header.total_size: %1, the package has %2 bytes").arg(total).arg(size));
    const quint32 crc = tm_crc32(0, reinterpret_cast<const uint8_t *>(b.constData()) + pk::kHeaderSize,
                                 size_t(size - pk::kHeaderSize));
    if (get<quint32>(b, pk::kCrcAt) != crc)
        return fail(QStringLiteral("header.crc32: stored %1, computed %2").arg(get<quint32>(b, pk::kCrcAt), 8, 16, QLatin1Char('0')).arg(crc, 8, 16, QLatin1Char('0')));
    if (get<quint32>(b, pk::kFlagsAt) != 0)
        return fail(QStringLiteral("header.flags: %1, version 1 defines none").arg(get<quint32>(b, pk::kFlagsAt)));
    if (get<quint16>(b, pk::kReservedAt) != 0)
        return fail(QStringLiteral("header.reserved: not 0"));
    pkg.arenaBytes = get<quint32>(b, pk::kArenaSizeAt);
    if (pkg.arenaBytes % pk::kDataAlignment != 0)
        return fail(QStringLiteral("header.arena_size: %1 is not a multiple of %2").arg(pkg.arenaBytes).arg(pk::kDataAlignment));

    // Section layout is fully determined by the counts and sizes: check each against it.
    const quint32 tensorsAt = get<quint32>(b, pk::kTensorTableOffsetAt);
    const int tensorCount = get<quint16>(b, pk::kTensorCountAt);
    const int opCount = get<quint16>(b, pk::kOpCountAt);
    const quint32 opsAt = get<quint32>(b, pk::kOpTableOffsetAt);
    const quint32 opsSize = get<quint32>(b, pk::kOpTableSizeAt);
    const quint32 labelsAt = get<quint32>(b, pk::kLabelsOffsetAt);
    const quint32 labelsSize = get<quint32>(b, pk::kLabelsSizeAt);
    const quint32 dataAt = get<quint32>(b, pk::kDataOffsetAt);
    const quint32 dataSize = get<quint32>(b, pk::kDataSizeAt);
    if (tensorsAt != pk::kHeaderSize)
        return fail(QStringLiteral("header.tensor_table_offset: %1, must follow the header at %2").arg(tensorsAt).arg(pk::kHeaderSize));
    if (tensorCount == 0 || tensorsAt + qint64(tensorCount) * pk::kTensorRecordSize > size)
        return fail(QStringLiteral("header.tensor_count: %1 tensors do not fit").arg(tensorCount));
    if (opsAt != tensorsAt + qint64(tensorCount) * pk::kTensorRecordSize)
        return fail(QStringLiteral("header.op_table_offset / header.tensor_count: the op table starts at %1, %3 tensor records end at %2").arg(opsAt).arg(tensorsAt + tensorCount * pk::kTensorRecordSize).arg(tensorCount));
    if (opCount == 0 || qint64(opCount) * pk::kOpRecordHeaderSize > opsSize)
        return fail(QStringLiteral("header.op_count: %1 ops do not fit in %2 bytes").arg(opCount).arg(opsSize));
    if (opsSize % 4 != 0 || qint64(opsAt) + opsSize > size)
        return fail(QStringLiteral("header.op_table_size: %1 is not a multiple of 4 or runs past the end").arg(opsSize));
    if (labelsAt != qint64(opsAt) + opsSize)
        return fail(QStringLiteral("header.labels_offset / header.op_table_size: labels start at %1, the op table ends at %2").arg(labelsAt).arg(qint64(opsAt) + opsSize));
    if (labelsSize % 4 != 0 || qint64(labelsAt) + labelsSize > size)
        return fail(QStringLiteral("header.labels_size: %1 is not a multiple of 4 or runs past the end").arg(labelsSize));
    if (dataAt != alignUp(qint64(labelsAt) + labelsSize, pk::kDataSectionAlignment))
        return fail(QStringLiteral("header.data_offset / header.labels_size: data starts at %1, expected %2").arg(dataAt).arg(alignUp(qint64(labelsAt) + labelsSize, pk::kDataSectionAlignment)));
    if (dataSize % pk::kDataAlignment != 0 || qint64(dataAt) + dataSize != size)
        return fail(QStringLiteral("header.data_size: %1, the data section runs to the end (%2 bytes)").arg(dataSize).arg(size - qint64(dataAt)));
    for (qint64 i = qint64(labelsAt) + labelsSize; i < dataAt; ++i)
        if (b[i] != 0)
            return fail(QStringLiteral("padding before the data section: not zero"));
    pkg.data = b.mid(dataAt, dataSize);

    // Labels.
    const int labelCount = get<quint16>(b, pk::kLabelCountAt);
    qint64 at = labelsAt;
    const qint64 labelsEnd = qint64(labelsAt) + labelsSize;
    for (int i = 0; i < labelCount; ++i) {
        if (at + 2 > labelsEnd)
            return fail(QStringLiteral("header.label_count: label %1 of %2 does not fit the labels section").arg(i).arg(labelCount));
        const int len = get<quint16>(b, at);
        if (len == 0 || len > int(pk::kMaxLabelBytes) || at + 2 + len > labelsEnd)
            return fail(QStringLiteral("labels[%1].length: %2 is 0, runs past the section or exceeds %3").arg(i).arg(len).arg(pk::kMaxLabelBytes));
        pkg.labels.append(QString::fromUtf8(b.constData() + at + 2, len));
        at += 2 + len;
    }
    if (labelsEnd - at >= 4)
        return fail(QStringLiteral("header.label_count: %1 labels leave %2 bytes of the labels section unused").arg(labelCount).arg(labelsEnd - at));
    for (; at < labelsEnd; ++at)
        if (b[at] != 0)
            return fail(QStringLiteral("labels padding: not zero"));

    // Tensors.
    for (int t = 0; t < tensorCount; ++t) {
        const qint64 r = tensorsAt + qint64(t) * pk::kTensorRecordSize;
        auto terr = [&](const char *field, const QString &m) {
            return fail(QStringLiteral("tensors[%1].%2: %3").arg(t).arg(QLatin1String(field), m));
        };
        PackageTensor pt;
        const int dtype = quint8(b[r]);
        if (dtype != int(DType::Int8) && dtype != int(DType::Int32))
            return terr("dtype", QStringLiteral("%1 is neither int8 (3) nor int32 (4)").arg(dtype));
        pt.dtype = DType(dtype);
        const int rank = quint8(b[r + 1]);
        if (rank < 1 || rank > int(pk::kMaxRank))
            return terr("rank", QStringLiteral("%1 outside 1..4").arg(rank));
        const int flags = quint8(b[r + 2]);
        if ((flags & ~pk::kTensorConstant) != 0 || b[r + 3] != 0 || get<quint32>(b, r + 44) != 0)
            return terr("flags", QStringLiteral("unknown flags or non-zero reserved bytes"));
        pt.constant = flags & pk::kTensorConstant;
        qint64 elements = 1;
        for (int i = 0; i < int(pk::kMaxRank); ++i) {
            const qint32 dim = get<qint32>(b, r + 4 + 4 * i);
            if (i < rank && (dim < 1 || (elements *= dim) > qint64(0xFFFFFFFFu)))
                return terr("dims", QStringLiteral("dimension %1 is %2").arg(i).arg(dim));
            if (i >= rank && dim != 0)
                return terr("dims", QStringLiteral("dimension %1 beyond the rank is not 0").arg(i));
            if (i < rank)
                pt.shape.append(dim);
        }
        pt.location = get<quint32>(b, r + 20);
        pt.bytes = get<quint32>(b, r + 24);
        if (pt.bytes != elements * dtypeSize(pt.dtype))
            return terr("bytes", QStringLiteral("%1, the shape needs %2").arg(pt.bytes).arg(elements * dtypeSize(pt.dtype)));
        if (pt.location % pk::kDataAlignment != 0)
            return terr("offset", QStringLiteral("%1 is not 4-byte aligned").arg(pt.location));
        const qint64 limit = pt.constant ? dataSize : pkg.arenaBytes;
        if (qint64(pt.location) + pt.bytes > limit)
            return terr("offset", QStringLiteral("%1 + %2 bytes runs past the %3 (%4 bytes)")
                                      .arg(pt.location).arg(pt.bytes).arg(pt.constant ? "data section" : "arena").arg(limit));
        if (!pt.constant && pt.dtype != DType::Int8)
            return terr("dtype", QStringLiteral("activations are int8"));
        pt.scale = getFloat(b, r + 28);
        if (!std::isfinite(pt.scale) || pt.scale <= 0)
            return terr("scale", QStringLiteral("%1 is not a positive finite number").arg(pt.scale));
        pt.zeroPoint = get<qint32>(b, r + 32);
        if (pt.dtype == DType::Int8 && (pt.zeroPoint < -128 || pt.zeroPoint > 127))
            return terr("zero_point", QStringLiteral("%1 outside [-128, 127]").arg(pt.zeroPoint));
        const quint32 channels = get<quint32>(b, r + 36), scalesAt = get<quint32>(b, r + 40);
        if (channels != 0) {
            if (channels > elements || scalesAt % 4 != 0 || qint64(scalesAt) + qint64(channels) * 4 > dataSize)
                return terr("channel_scales", QStringLiteral("%1 scales at %2 do not fit").arg(channels).arg(scalesAt));
            for (quint32 c = 0; c < channels; ++c) {
                const float s = getFloat(pkg.data, scalesAt + 4 * c);
                if (!std::isfinite(s) || s <= 0)
                    return terr("channel_scales", QStringLiteral("scale %1 is %2").arg(c).arg(s));
                pt.channelScales.append(s);
            }
        }
        if (pt.constant)
            pt.data = pkg.data.mid(pt.location, pt.bytes);
        pkg.tensors.append(pt);
    }
    // The arena is exactly what the activations need, up to the planner's alignment, so a
    // damaged arena_size cannot pass as a merely generous one.
    qint64 arenaEnd = 0;
    for (const PackageTensor &pt : pkg.tensors)
        if (!pt.constant)
            arenaEnd = std::max(arenaEnd, qint64(pt.location) + pt.bytes);
    if (pkg.arenaBytes > alignUp(arenaEnd, pk::kMaxArenaAlignment))
        return fail(QStringLiteral("header.arena_size: %1, the activations end at %2").arg(pkg.arenaBytes).arg(arenaEnd));
    pkg.inputTensor = get<quint16>(b, pk::kInputTensorAt);
    pkg.outputTensor = get<quint16>(b, pk::kOutputTensorAt);
    if (pkg.inputTensor >= tensorCount || pkg.tensors[pkg.inputTensor].constant)
        return fail(QStringLiteral("header.input_tensor: %1 is not an activation tensor").arg(pkg.inputTensor));
    if (pkg.outputTensor >= tensorCount || pkg.tensors[pkg.outputTensor].constant)
        return fail(QStringLiteral("header.output_tensor: %1 is not an activation tensor").arg(pkg.outputTensor));

    // Ops.
    at = opsAt;
    const qint64 opsEnd = qint64(opsAt) + opsSize;
    for (int i = 0; i < opCount; ++i) {
        auto oerr = [&](const char *field, const QString &m) {
            return fail(QStringLiteral("ops[%1].%2: %3").arg(i).arg(QLatin1String(field), m));
        };
        if (at + pk::kOpRecordHeaderSize > opsEnd)
            return oerr("record_size", QStringLiteral("the record header runs past the op table"));
        PackageOp op;
        const int code = get<quint16>(b, at);
        const int recordSize = get<quint16>(b, at + 2);
        if (code >= pk::kOpCodeCount || pk::kOpParamCount[code] == -1)
            return oerr("op", QStringLiteral("op code %1 cannot appear in a package").arg(code));
        op.op = OpType(code);
        const int activation = quint8(b[at + 4]);
        if (activation > int(model::Activation::Relu6))
            return oerr("activation", QStringLiteral("%1 unknown").arg(activation));
        op.activation = model::Activation(activation);
        const int inputs = quint8(b[at + 5]), outputs = quint8(b[at + 6]);
        const auto [minIn, maxIn] = inputRange(op.op);
        if (inputs < minIn || inputs > maxIn)
            return oerr("input_count", QStringLiteral("%1 outside %2..%3").arg(inputs).arg(minIn).arg(maxIn));
        if (outputs != 1 || b[at + 7] != 0)
            return oerr("output_count", QStringLiteral("%1, ops have exactly one output").arg(outputs));
        const int params = op.op == OpType::Concat ? 1 + 4 * inputs : pk::kOpParamCount[code];
        const qint64 indicesEnd = pk::kOpRecordHeaderSize + alignUp(2 * (inputs + outputs), 4);
        const qint64 expected = indicesEnd + 4 * params;
        if (recordSize != expected || at + recordSize > opsEnd)
            return oerr("record_size", QStringLiteral("%1, op code %2 with %3 inputs needs %4 within the table")
                                           .arg(recordSize).arg(code).arg(inputs).arg(expected));
        for (int k = 0; k < inputs + outputs; ++k) {
            const int t = get<quint16>(b, at + pk::kOpRecordHeaderSize + 2 * k);
            if (t >= tensorCount)
                return oerr(k < inputs ? "inputs" : "outputs", QStringLiteral("tensor %1 of %2").arg(t).arg(tensorCount));
            if (k >= inputs && pkg.tensors[t].constant)
                return oerr("outputs", QStringLiteral("tensor %1 is a constant").arg(t));
            (k < inputs ? op.inputs : op.outputs).append(t);
        }
        for (int k = 0; k < params; ++k)
            op.params.append(get<qint32>(b, at + indicesEnd + 4 * k));
        // Per-channel arrays the device will index: channels must equal the output depth.
        if (op.op == OpType::Conv2D || op.op == OpType::DepthwiseConv2D || op.op == OpType::FullyConnected) {
            const bool fc = op.op == OpType::FullyConnected;
            const qint32 channels = op.params[fc ? 4 : 9];
            const quint32 multAt = quint32(op.params[fc ? 6 : 10]), shiftAt = quint32(op.params[fc ? 7 : 11]);
            if (channels != pkg.tensors[op.outputs[0]].shape.last())
                return oerr("channels", QStringLiteral("%1, the output has %2").arg(channels).arg(pkg.tensors[op.outputs[0]].shape.last()));
            for (quint32 arrayAt : {multAt, shiftAt})
                if (arrayAt % 4 != 0 || qint64(arrayAt) + 4 * qint64(channels) > dataSize)
                    return oerr("multipliers", QStringLiteral("array at %1 of %2 entries runs past the data section").arg(arrayAt).arg(channels));
        }
        pkg.ops.append(op);
        at += recordSize;
    }
    if (at != opsEnd)
        return fail(QStringLiteral("header.op_table_size: %1 bytes after the last op").arg(opsEnd - at));
    // The input is what the first op reads and no op writes; the output is what the last op writes.
    for (const PackageOp &op : pkg.ops)
        if (op.outputs.contains(pkg.inputTensor))
            return fail(QStringLiteral("header.input_tensor: tensor %1 is written by an op").arg(pkg.inputTensor));
    if (!pkg.ops.first().inputs.contains(pkg.inputTensor))
        return fail(QStringLiteral("header.input_tensor: tensor %1 is not read by the first op").arg(pkg.inputTensor));
    if (!pkg.ops.last().outputs.contains(pkg.outputTensor))
        return fail(QStringLiteral("header.output_tensor: tensor %1 is not written by the last op").arg(pkg.outputTensor));
    return pkg;
}

} // namespace tinyml::deploy
