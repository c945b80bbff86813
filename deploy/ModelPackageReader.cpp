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
    case OpType::KMeansScore:
    case OpType::SquaredError: return {2, 2};
    case OpType::GmmScore: return {4, 4};
    default: return {1, 1};
    }
}

/// Bounds-checked little-endian reads inside the impulse section: a read past section_size
/// (or the package) sets the error once and returns 0.
class SectionCursor
{
public:
    SectionCursor(const QByteArray &b, qint64 start, qint64 end) : m_b(b), m_start(start), m_end(end) {}
    qint64 pos() const { return m_at; }
    bool ok() const { return m_error.isEmpty(); }
    const QString &error() const { return m_error; }
    void setEnd(qint64 end) { m_end = end; }
    template <typename T> T read(const char *field)
    {
        if (!take(sizeof(T), field))
            return T(0);
        const T v = get<T>(m_b, m_start + m_at);
        m_at += sizeof(T);
        return v;
    }
    float readFloat(const char *field)
    {
        const quint32 bits = read<quint32>(field);
        float f;
        std::memcpy(&f, &bits, sizeof(f));
        return f;
    }
    /// Moves past n bytes (read by another cursor); fails when they do not fit.
    bool skip(qint64 n, const char *field)
    {
        if (!take(n, field))
            return false;
        m_at += n;
        return true;
    }
    /// Fails when the next n bytes do not fit.
    bool take(qint64 n, const char *field)
    {
        if (!ok())
            return false;
        if (m_start + m_at + n > m_end) {
            m_error = QStringLiteral("impulse.section_size: %1 runs past the end of the section (%2 bytes)")
                          .arg(QLatin1String(field)).arg(m_end - m_start);
            return false;
        }
        return true;
    }

private:
    const QByteArray &m_b;
    qint64 m_start, m_end;
    qint64 m_at = 0;
    QString m_error;
};

/// The impulse section at `at` (MODEL_PACKAGE.md "Impulse section"), checked in the
/// document's validation order, each failure naming the field.
std::optional<ImpulseSpec> readImpulseSection(const QByteArray &b, qint64 at, const ModelPackage &model, QString *error)
{
    auto fail = [&](const QString &m) -> std::optional<ImpulseSpec> {
        if (error)
            *error = m;
        return std::nullopt;
    };
    const qint64 size = b.size();
    SectionCursor c(b, at, size);
    if (std::memcmp(b.constData() + at, pk::kImpulseMagic, 4) != 0)
        return fail(QStringLiteral("impulse.magic: not \"TMIP\""));
    c.read<quint32>("magic");
    const quint32 sectionSize = c.read<quint32>("section_size");
    if (sectionSize % 4 != 0 || qint64(sectionSize) != size - at)
        return fail(QStringLiteral("impulse.section_size: %1, the section has %2 bytes to the end of the package "
                                   "(a multiple of 4)").arg(sectionSize).arg(size - at));
    const quint16 version = c.read<quint16>("impulse_version");
    if (!c.ok())
        return fail(c.error());
    if (version != pk::kImpulseFormatVersion && version != pk::kImpulseFormatVersionAnomaly)
        return fail(QStringLiteral("impulse.impulse_version: %1, this reader reads %2 and %3")
                        .arg(version).arg(pk::kImpulseFormatVersion).arg(pk::kImpulseFormatVersionAnomaly));

    ImpulseSpec s;
    const quint8 kind = c.read<quint8>("sensor_kind");
    const quint8 channels = c.read<quint8>("channels");
    const quint32 rate = c.read<quint32>("sample_rate_hz");
    const quint32 window = c.read<quint32>("window_samples");
    const quint32 stride = c.read<quint32>("stride_samples");
    const float rawScale = c.readFloat("raw_scale");
    const quint8 block = c.read<quint8>("dsp_block");
    const quint8 reserved = c.read<quint8>("reserved");
    const quint16 paramsSize = c.read<quint16>("dsp_params_size");
    if (!c.ok())
        return fail(c.error());
    if (kind > quint8(ImpulseSensorKind::Microphone))
        return fail(QStringLiteral("impulse.sensor_kind: %1 is neither 0 (accelerometer) nor 1 (microphone)").arg(kind));
    if (channels < 1 || channels > pk::kImpulseMaxChannels)
        return fail(QStringLiteral("impulse.channels: %1 outside 1..%2").arg(channels).arg(pk::kImpulseMaxChannels));
    if (rate < 1)
        return fail(QStringLiteral("impulse.sample_rate_hz: 0"));
    if (window < 1)
        return fail(QStringLiteral("impulse.window_samples: 0"));
    if (stride < 1 || stride > window)
        return fail(QStringLiteral("impulse.stride_samples: %1 outside 1..%2 (window_samples)").arg(stride).arg(window));
    if (!std::isfinite(rawScale) || rawScale <= 0)
        return fail(QStringLiteral("impulse.raw_scale: %1 is not a positive finite number").arg(double(rawScale)));
    s.sensorKind = ImpulseSensorKind(kind);
    s.channels = channels;
    s.sampleRateHz = rate;
    s.windowFrames = window;
    s.strideFrames = stride;
    s.rawScale = rawScale;

    // DSP block and its parameters.
    if (block > quint8(features::BlockKind::Mfcc))
        return fail(QStringLiteral("impulse.dsp_block: %1 is not a streaming block (0 raw, 1 spectral, 2 mfe, 3 mfcc)").arg(block));
    if (reserved != 0)
        return fail(QStringLiteral("impulse.reserved: not 0"));
    const auto kindOfBlock = features::BlockKind(block);
    s.features.kind = kindOfBlock;
    const qint64 paramsStart = c.pos();
    if (!c.skip(paramsSize, "dsp_params"))
        return fail(c.error());
    SectionCursor p(b, at + paramsStart, at + paramsStart + paramsSize);
    // Counts go into ints: a value beyond kMaxCount cannot be a real block and would overflow.
    constexpr quint32 kMaxCount = 1u << 24;
    QString paramError;
    auto count = [&](const char *field, quint32 v) {
        if (v > kMaxCount && paramError.isEmpty())
            paramError = QStringLiteral("impulse.dsp_params: %1 = %2 is out of range").arg(QLatin1String(field)).arg(v);
        return int(std::min(v, kMaxCount));
    };
    auto flag = [&](const char *field, quint32 v) {
        if (v > 1 && paramError.isEmpty())
            paramError = QStringLiteral("impulse.dsp_params: %1 = %2, must be 0 or 1").arg(QLatin1String(field)).arg(v);
        return v == 1;
    };
    auto readMfe = [&](features::MfeParams &m) {
        m.windowFrames = count("window_samples", window);
        m.sampleRateHz = float(rate);
        m.frameLength = count("frame_length", p.read<quint32>("dsp_params.frame_length"));
        m.frameStride = count("frame_stride", p.read<quint32>("dsp_params.frame_stride"));
        m.nFilters = count("n_filters", p.read<quint32>("dsp_params.n_filters"));
        m.lowHz = p.readFloat("dsp_params.low_hz");
        m.highHz = p.readFloat("dsp_params.high_hz");
        m.preEmphasis = p.readFloat("dsp_params.pre_emphasis");
        m.logFloor = p.readFloat("dsp_params.log_floor");
    };
    quint32 expectedParams = 0;
    switch (kindOfBlock) {
    case features::BlockKind::Raw:
        expectedParams = pk::kDspRawParamsSize;
        s.features.raw.windowFrames = count("window_samples", window);
        s.features.raw.removeMean = flag("remove_mean", p.read<quint32>("dsp_params.remove_mean"));
        s.features.raw.scale = p.readFloat("dsp_params.scale");
        s.features.raw.asSequence = flag("as_sequence", p.read<quint32>("dsp_params.as_sequence"));
        break;
    case features::BlockKind::Spectral: {
        s.features.spectral.windowFrames = count("window_samples", window);
        s.features.spectral.sampleRateHz = float(rate);
        s.features.spectral.nBands = count("n_bands", p.read<quint32>("dsp_params.n_bands"));
        s.features.spectral.nPeaks = count("n_peaks", p.read<quint32>("dsp_params.n_peaks"));
        const quint32 edges = p.read<quint32>("dsp_params.n_edges");
        if (p.ok() && paramError.isEmpty() && edges != 0 && edges != quint32(s.features.spectral.nBands) + 1)
            return fail(QStringLiteral("impulse.dsp_params: n_edges = %1, must be 0 or n_bands + 1 = %2").arg(edges).arg(s.features.spectral.nBands + 1));
        expectedParams = pk::kDspSpectralParamsBaseSize + 4 * std::min<quint32>(edges, 0xFFFF);
        for (quint32 i = 0; i < edges && p.ok(); ++i)
            s.features.spectral.bandEdgesHz.append(p.readFloat("dsp_params.edges_hz"));
        break;
    }
    case features::BlockKind::Mfe:
        expectedParams = pk::kDspMfeParamsSize;
        readMfe(s.features.mfe);
        break;
    case features::BlockKind::Mfcc:
        expectedParams = pk::kDspMfccParamsSize;
        readMfe(s.features.mfcc.mfe);
        s.features.mfcc.nCoeffs = count("n_coeffs", p.read<quint32>("dsp_params.n_coeffs"));
        s.features.mfcc.lifter = count("lifter", p.read<quint32>("dsp_params.lifter"));
        break;
    case features::BlockKind::Image:
        break;
    }
    if (paramsSize % 4 != 0 || paramsSize != expectedParams || !p.ok())
        return fail(QStringLiteral("impulse.dsp_params_size: %1, the %2 block's parameters take %3 bytes")
                        .arg(paramsSize).arg(features::blockKindName(kindOfBlock)).arg(expectedParams));
    if (!paramError.isEmpty())
        return fail(paramError);
    const qint64 produced = s.featureCount();
    if (produced <= 0)
        return fail(QStringLiteral("impulse.dsp_params: the %1 block refuses its parameters for a window of %2 frames")
                        .arg(features::blockKindName(kindOfBlock)).arg(window));

    // Features, normalisation.
    const quint32 featureCount = c.read<quint32>("feature_count");
    if (!c.ok())
        return fail(c.error());
    const qint64 modelInputs = model.tensors[model.inputTensor].bytes;   // int8: one byte each
    if (featureCount != produced || featureCount != modelInputs)
        return fail(QStringLiteral("impulse.feature_count: %1, the %2 block gives %3 and the model takes %4")
                        .arg(featureCount).arg(features::blockKindName(kindOfBlock)).arg(produced).arg(modelInputs));
    const quint32 normFlags = c.read<quint32>("norm_flags");
    if (!c.ok())
        return fail(c.error());
    if ((normFlags & ~pk::kImpulseNormPresent) != 0)
        return fail(QStringLiteral("impulse.norm_flags: %1, only bit 0 is defined").arg(normFlags));
    if (normFlags & pk::kImpulseNormPresent) {
        if (!c.take(8 * qint64(featureCount), "mean, std"))
            return fail(c.error());
        for (quint32 k = 0; k < featureCount; ++k) {
            const float m = c.readFloat("mean");
            if (!std::isfinite(m))
                return fail(QStringLiteral("impulse.mean: mean[%1] is not finite").arg(k));
            s.normMean.append(m);
        }
        for (quint32 k = 0; k < featureCount; ++k) {
            const float d = c.readFloat("std");
            if (!std::isfinite(d) || d <= 0)
                return fail(QStringLiteral("impulse.std: std[%1] = %2 is not a positive finite number").arg(k).arg(double(d)));
            s.normStd.append(d);
        }
    }

    // Post-processing.
    const quint16 classes = c.read<quint16>("class_count");
    const quint16 average = c.read<quint16>("average_windows");
    const quint32 suppression = c.read<quint32>("suppression_ms");
    if (!c.ok())
        return fail(c.error());
    const qint64 outputs = model.tensors[model.outputTensor].bytes;
    if (classes < 1 || classes > pk::kImpulseMaxClasses || classes != model.labels.size() || classes != outputs)
        return fail(QStringLiteral("impulse.class_count: %1; must be 1..%2 and equal the %3 labels and the model's %4 outputs")
                        .arg(classes).arg(pk::kImpulseMaxClasses).arg(model.labels.size()).arg(outputs));
    if (average < 1 || average > pk::kImpulseMaxAverage)
        return fail(QStringLiteral("impulse.average_windows: %1 outside 1..%2").arg(average).arg(pk::kImpulseMaxAverage));
    s.post.averageWindows = average;
    s.post.suppressionMs = suppression;
    if (!c.take(5 * qint64(classes), "thresholds, class_flags"))
        return fail(c.error());
    for (int k = 0; k < classes; ++k) {
        const float t = c.readFloat("thresholds");
        if (!(t >= 0.0f && t <= 1.0f))
            return fail(QStringLiteral("impulse.thresholds: class %1 (\"%2\"): %3 is not in [0, 1]").arg(k).arg(model.labels[k]).arg(double(t)));
        s.post.thresholds.append(t);
    }
    for (int k = 0; k < classes; ++k) {
        const quint8 f = c.read<quint8>("class_flags");
        if ((f & ~pk::kImpulseClassBackground) != 0)
            return fail(QStringLiteral("impulse.class_flags: class %1 (\"%2\"): flags %3, only bit 0 (background) is defined")
                            .arg(k).arg(model.labels[k]).arg(f));
        s.post.background.append((f & pk::kImpulseClassBackground) != 0);
    }
    if (version == pk::kImpulseFormatVersionAnomaly) {
        // The anomaly part (version 2): padding to 4, flags, threshold, [mean, std], the
        // nested version-1 package at a 16-aligned package offset.
        while (c.ok() && c.pos() % 4 != 0)
            if (c.read<quint8>("anomaly padding") != 0)
                return fail(QStringLiteral("impulse.anomaly.padding: not zero"));
        const quint32 aflags = c.read<quint32>("anomaly_flags");
        const float threshold = c.readFloat("anomaly_threshold");
        if (!c.ok())
            return fail(c.error());
        if ((aflags & ~pk::kImpulseAnomalyNormPresent) != 0)
            return fail(QStringLiteral("impulse.anomaly_flags: %1, only bit 0 is defined").arg(aflags));
        if (!std::isfinite(threshold))
            return fail(QStringLiteral("impulse.anomaly_threshold: not finite"));
        ImpulseAnomaly an;
        an.threshold = threshold;
        if (aflags & pk::kImpulseAnomalyNormPresent) {
            if (!c.take(8 * qint64(featureCount), "anomaly mean, std"))
                return fail(c.error());
            for (quint32 k = 0; k < featureCount; ++k)
                an.normMean.append(c.readFloat("anomaly mean"));
            for (quint32 k = 0; k < featureCount; ++k)
                an.normStd.append(c.readFloat("anomaly std"));
            for (quint32 k = 0; k < featureCount; ++k)
                if (!std::isfinite(an.normMean[int(k)]) || !std::isfinite(an.normStd[int(k)]) || an.normStd[int(k)] <= 0)
                    return fail(QStringLiteral("impulse.anomaly_std: mean/std[%1] not finite or std <= 0").arg(k));
        }
        const quint32 pkgSize = c.read<quint32>("anomaly_package_size");
        while (c.ok() && (at + c.pos()) % pk::kImpulseAnomalyAlignment != 0)
            if (c.read<quint8>("anomaly package padding") != 0)
                return fail(QStringLiteral("impulse.anomaly.padding: not zero"));
        const qint64 pkgAt = at + c.pos();
        if (!c.skip(pkgSize, "anomaly package"))
            return fail(c.error());
        QString e;
        auto nested = ModelPackageReader::read(b.mid(int(pkgAt), int(pkgSize)), &e);
        if (!nested)
            return fail(QStringLiteral("impulse.anomaly_package: %1").arg(e));
        if (nested->version != pk::kFormatVersion)
            return fail(QStringLiteral("impulse.anomaly_package: version %1, must be 1 (a model alone)").arg(nested->version));
        const qint64 ain = nested->tensors[nested->inputTensor].bytes;
        const qint64 aout = nested->tensors[nested->outputTensor].bytes;
        if (ain != qint64(featureCount))
            return fail(QStringLiteral("impulse.anomaly_package: the anomaly model takes %1 values, the classifier and the "
                                       "DSP block %2").arg(ain).arg(featureCount));
        if (aout != 1 || nested->ops.isEmpty() || !model::isAnomalyScoreOp(nested->ops.back().op))
            return fail(QStringLiteral("impulse.anomaly_package: not an anomaly model (its last op must be a k-means, GMM "
                                       "or squared-error score of one value)"));
        an.package = b.mid(int(pkgAt), int(pkgSize));
        s.anomaly = an;
    }
    const qint64 rest = qint64(sectionSize) - c.pos();
    if (rest >= 4)
        return fail(QStringLiteral("impulse.section_size: %1 bytes after the class flags (padding is < 4)").arg(rest));
    for (qint64 i = at + c.pos(); i < size; ++i)
        if (b[i] != 0)
            return fail(QStringLiteral("impulse.padding: not zero"));
    s.labels = model.labels;
    return s;
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
    if (pkg.version < pk::kFormatVersion || pkg.version > pk::kMaxFormatVersion)
        return fail(QStringLiteral("header.version: %1, this reader reads %2..%3").arg(pkg.version).arg(pk::kFormatVersion).arg(pk::kMaxFormatVersion));
    const bool v2 = pkg.version == pk::kFormatVersionImpulse;
    if (get<quint16>(b, pk::kHeaderSizeAt) != pk::kHeaderSize)
        return fail(QStringLiteral("header.header_size: %1, version 1 has %2").arg(get<quint16>(b, pk::kHeaderSizeAt)).arg(pk::kHeaderSize));
    const quint32 total = get<quint32>(b, pk::kTotalSizeAt);
    if (total != size)
        return fail(QStringLiteral("header.total_size: %1, the package has %2 bytes").arg(total).arg(size));
    const quint32 crc = tm_crc32(0, reinterpret_cast<const uint8_t *>(b.constData()) + pk::kHeaderSize,
                                 size_t(size - pk::kHeaderSize));
    if (get<quint32>(b, pk::kCrcAt) != crc)
        return fail(QStringLiteral("header.crc32: stored %1, computed %2").arg(get<quint32>(b, pk::kCrcAt), 8, 16, QLatin1Char('0')).arg(crc, 8, 16, QLatin1Char('0')));
    const quint32 flags = get<quint32>(b, pk::kFlagsAt);
    if (!v2 && flags != 0)
        return fail(QStringLiteral("header.flags: %1, version 1 defines none").arg(flags));
    if (v2 && flags != pk::kFlagHasImpulse)
        return fail(QStringLiteral("header.flags: %1, version 2 needs exactly HAS_IMPULSE (1)").arg(flags));
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
    if (!v2 && (dataSize % pk::kDataAlignment != 0 || qint64(dataAt) + dataSize != size))
        return fail(QStringLiteral("header.data_size: %1, the data section runs to the end (%2 bytes)").arg(dataSize).arg(size - qint64(dataAt)));
    // Version 2: the impulse section follows; at least its magic and size must fit.
    if (v2 && (dataSize % pk::kDataAlignment != 0 || qint64(dataAt) + dataSize + 8 > size))
        return fail(QStringLiteral("header.data_size: %1, the data section and the impulse section's first 8 bytes "
                                   "need %2 of the %3 bytes after data_offset")
                        .arg(dataSize).arg(qint64(dataSize) + 8).arg(size - qint64(dataAt)));
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
    if (v2) {
        pkg.impulseOffset = dataAt + dataSize;
        auto impulse = readImpulseSection(b, pkg.impulseOffset, pkg, error);
        if (!impulse)
            return std::nullopt;
        pkg.impulse = std::move(*impulse);
    }
    return pkg;
}

} // namespace tinyml::deploy
