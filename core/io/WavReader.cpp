#include "io/WavReader.h"

#include <cmath>
#include <cstring>

namespace tinyml::io {

namespace {
const QString kFormat = QStringLiteral("wav");

constexpr quint16 kFormatPcm = 1;
constexpr quint16 kFormatFloat = 3;
constexpr quint16 kFormatExtensible = 0xFFFE;
// KSDATAFORMAT_SUBTYPE_* GUIDs share everything after their first two bytes.
constexpr unsigned char kSubFormatTail[14] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
                                              0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};

quint16 u16(const char *p)
{
    const auto *b = reinterpret_cast<const unsigned char *>(p);
    return quint16(b[0] | (b[1] << 8));
}

quint32 u32(const char *p)
{
    const auto *b = reinterpret_cast<const unsigned char *>(p);
    return quint32(b[0]) | (quint32(b[1]) << 8) | (quint32(b[2]) << 16) | (quint32(b[3]) << 24);
}

FileImportResult fail(const QString &file, const QString &field, const QString &message)
{
    return importFailure(file, kFormat, 0, field, message);
}
} // namespace

FileImportResult parseWav(const QByteArray &bytes, const QString &fileName, const ImportOptions &options)
{
    const char *data = bytes.constData();
    const qint64 size = bytes.size();
    if (size < 12)
        return fail(fileName, QStringLiteral("header"),
                    QStringLiteral("truncated: %1 bytes, a RIFF/WAVE header needs 12").arg(size));
    if (std::memcmp(data, "RIFF", 4) != 0)
        return fail(fileName, QStringLiteral("RIFF.id"), QStringLiteral("not a RIFF file (magic is not 'RIFF')"));
    if (std::memcmp(data + 8, "WAVE", 4) != 0)
        return fail(fileName, QStringLiteral("RIFF.format"), QStringLiteral("not a WAVE file (form type is not 'WAVE')"));

    bool haveFmt = false;
    quint16 formatTag = 0, channels = 0, bits = 0, blockAlign = 0;
    quint32 rate = 0;
    const char *pcm = nullptr;
    qint64 pcmBytes = 0;

    qint64 pos = 12;
    while (pos + 8 <= size) {
        const QByteArray id(data + pos, 4);
        const qint64 chunkSize = u32(data + pos + 4);
        const qint64 body = pos + 8;
        if (id == "fmt ") {
            if (chunkSize < 16 || body + chunkSize > size)
                return fail(fileName, QStringLiteral("fmt.size"),
                            QStringLiteral("fmt chunk of %1 bytes: needs at least 16 and at most %2 (the rest of the file)")
                                .arg(chunkSize).arg(size - body));
            const char *f = data + body;
            formatTag = u16(f);
            channels = u16(f + 2);
            rate = u32(f + 4);
            blockAlign = u16(f + 12);
            bits = u16(f + 14);
            if (formatTag == kFormatExtensible) {
                if (chunkSize < 40)
                    return fail(fileName, QStringLiteral("fmt.size"),
                                QStringLiteral("WAVE_FORMAT_EXTENSIBLE needs a 40-byte fmt chunk, this one has %1").arg(chunkSize));
                if (std::memcmp(f + 26, kSubFormatTail, sizeof kSubFormatTail) != 0)
                    return fail(fileName, QStringLiteral("fmt.subFormat"), QStringLiteral("unknown subformat GUID"));
                formatTag = u16(f + 24);
            }
            haveFmt = true;
        } else if (id == "data") {
            if (!haveFmt)
                return fail(fileName, QStringLiteral("data"), QStringLiteral("data chunk before the fmt chunk"));
            if (body + chunkSize > size)
                return fail(fileName, QStringLiteral("data.size"),
                            QStringLiteral("data chunk size %1 exceeds the file (%2 bytes left)")
                                .arg(chunkSize).arg(size - body));
            pcm = data + body;
            pcmBytes = chunkSize;
            break;
        }
        pos = body + chunkSize + (chunkSize & 1);
    }
    if (!haveFmt)
        return fail(fileName, QStringLiteral("fmt"), QStringLiteral("no fmt chunk"));
    if (!pcm)
        return fail(fileName, QStringLiteral("data"), QStringLiteral("no data chunk"));

    if (formatTag != kFormatPcm && formatTag != kFormatFloat)
        return fail(fileName, QStringLiteral("fmt.formatTag"),
                    QStringLiteral("unsupported format tag 0x%1 (PCM 1 and IEEE float 3 are supported)")
                        .arg(formatTag, 4, 16, QLatin1Char('0')));
    if (channels == 0)
        return fail(fileName, QStringLiteral("fmt.channels"), QStringLiteral("zero channels"));
    if (rate == 0)
        return fail(fileName, QStringLiteral("fmt.sampleRate"), QStringLiteral("zero sample rate"));
    const bool bitsOk = formatTag == kFormatPcm ? (bits == 8 || bits == 16 || bits == 24 || bits == 32)
                                                : (bits == 32 || bits == 64);
    if (!bitsOk)
        return fail(fileName, QStringLiteral("fmt.bitsPerSample"),
                    QStringLiteral("%1 bits per sample is not supported for %2").arg(bits)
                        .arg(formatTag == kFormatPcm ? QStringLiteral("PCM (8, 16, 24, 32)")
                                                     : QStringLiteral("float (32, 64)")));
    const int sampleBytes = bits / 8;
    const qint64 frameBytes = qint64(channels) * sampleBytes;
    if (blockAlign != frameBytes)
        return fail(fileName, QStringLiteral("fmt.blockAlign"),
                    QStringLiteral("block align %1 does not match %2 channels x %3 bits").arg(blockAlign).arg(channels).arg(bits));
    const qint64 frames = pcmBytes / frameBytes;
    if (frames == 0)
        return fail(fileName, QStringLiteral("data"), QStringLiteral("no audio frames"));

    const QString label = options.label.isEmpty() ? labelFromFileName(fileName) : options.label;
    if (label.isEmpty())
        return fail(fileName, QStringLiteral("label"),
                    QStringLiteral("no label: name the file <label>.<anything>.wav or give a label"));

    const qint64 count = frames * channels;
    QVector<float> out(count);
    const auto *p = reinterpret_cast<const unsigned char *>(pcm);
    for (qint64 i = 0; i < count; ++i, p += sampleBytes) {
        float v = 0;
        if (formatTag == kFormatFloat) {
            if (bits == 32) {
                quint32 u = u32(reinterpret_cast<const char *>(p));
                std::memcpy(&v, &u, 4);
            } else {
                quint64 u = u32(reinterpret_cast<const char *>(p)) |
                            (quint64(u32(reinterpret_cast<const char *>(p + 4))) << 32);
                double d;
                std::memcpy(&d, &u, 8);
                v = float(d);
            }
            // A float WAV can carry NaN or infinity (or a double beyond float32); one such
            // value would make every later loss nan, so the file is refused here.
            if (!std::isfinite(v))
                return fail(fileName, QStringLiteral("data"),
                            QStringLiteral("sample %1 (frame %2, channel %3) is %4: NaN and infinity are not allowed")
                                .arg(i)
                                .arg(i / channels)
                                .arg(i % channels)
                                .arg(std::isnan(v) ? QStringLiteral("NaN") : QStringLiteral("infinite")));
        } else {
            switch (bits) {
            case 8: v = (float(p[0]) - 128.0f) / 128.0f; break;
            case 16: v = float(qint16(u16(reinterpret_cast<const char *>(p)))) / 32768.0f; break;
            case 24: {
                qint32 s = qint32(quint32(p[0]) << 8 | quint32(p[1]) << 16 | quint32(p[2]) << 24) >> 8;
                v = float(s) / 8388608.0f;
                break;
            }
            default: v = float(double(qint32(u32(reinterpret_cast<const char *>(p)))) / 2147483648.0); break;
            }
        }
        out[i] = v;
    }

    Sample s;
    stampSample(s, fileName, label, options);
    s.sampleRateHz = rate;
    if (channels == 1) {
        s.channels << QStringLiteral("audio");
    } else {
        for (int c = 0; c < channels; ++c)
            s.channels << QStringLiteral("audio%1").arg(c);
    }
    s.data = Tensor::fromFloats(out, {frames, qint64(channels)});

    FileImportResult r;
    r.file = fileName;
    r.format = kFormat;
    r.samples.append(std::move(s));
    return r;
}

} // namespace tinyml::io
