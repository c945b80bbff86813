#include "stream/ReplayRecording.h"

#include "io/CsvTimeSeriesReader.h"
#include "io/WavReader.h"

#include <QFile>
#include <QFileInfo>
#include <QSaveFile>
#include <QtEndian>

#include <cmath>

namespace tinyml::stream {

namespace {

bool fail(io::ImportError *error, const QString &file, const QString &field, const QString &message)
{
    if (error)
        *error = io::ImportError{file, 0, field, message};
    return false;
}

QString hz(double rate)
{
    return rate == std::round(rate) ? QString::number(qint64(rate)) : QString::number(rate, 'g', 10);
}

} // namespace

std::optional<ReplayRecording> ReplayRecording::load(const QString &path, const ReplayTarget &target,
                                                     io::ImportError *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        fail(error, path, {}, QStringLiteral("cannot read: %1").arg(file.errorString()));
        return std::nullopt;
    }
    return fromBytes(file.readAll(), path, target, error);
}

std::optional<ReplayRecording> ReplayRecording::fromBytes(const QByteArray &bytes, const QString &fileName,
                                                          const ReplayTarget &target, io::ImportError *error)
{
    io::ImportOptions options;
    options.label = QStringLiteral("replay"); // the label is irrelevant here; skip the name rules
    const bool wav = QFileInfo(fileName).suffix().compare(QLatin1String("wav"), Qt::CaseInsensitive) == 0;
    const io::FileImportResult r = wav ? io::parseWav(bytes, fileName, options)
                                       : io::parseTimeSeriesCsv(bytes, fileName, options);
    if (!r.ok()) {
        if (error)
            *error = *r.error;
        return std::nullopt;
    }
    if (r.samples.size() != 1) {
        fail(error, fileName, {}, QStringLiteral("holds %1 samples, a replay needs one recording").arg(r.samples.size()));
        return std::nullopt;
    }
    return fromSample(r.samples.first(), fileName, target, error);
}

std::optional<ReplayRecording> ReplayRecording::fromSample(const Sample &sample, const QString &sourceName,
                                                           const ReplayTarget &target, io::ImportError *error)
{
    const QString sensor = target.sensorName.isEmpty() ? QStringLiteral("sensor") : target.sensorName;
    if (target.rateHz <= 0 || target.channels <= 0 || !(target.rawScale > 0) || !std::isfinite(target.rawScale)) {
        fail(error, sourceName, {}, QStringLiteral("no usable replay target (rate %1 Hz, %2 channels, scale %3)")
                                         .arg(target.rateHz).arg(target.channels).arg(double(target.rawScale)));
        return std::nullopt;
    }
    if (sample.data.shape.size() != 2 || !sample.data.isConsistent()) {
        fail(error, sourceName, QStringLiteral("data"), QStringLiteral("is not a time series [frames, channels]"));
        return std::nullopt;
    }
    if (sample.sampleRateHz <= 0) {
        fail(error, sourceName, QStringLiteral("rate"),
             QStringLiteral("unknown sample rate (a CSV needs a timestamp column); the impulse needs %1 Hz")
                 .arg(hz(target.rateHz)));
        return std::nullopt;
    }
    if (std::abs(sample.sampleRateHz - target.rateHz) > 1e-3 * target.rateHz) {
        fail(error, sourceName, QStringLiteral("rate"),
             QStringLiteral("%1 Hz, the impulse needs %2 Hz").arg(hz(sample.sampleRateHz), hz(target.rateHz)));
        return std::nullopt;
    }
    const qint64 frames = sample.data.shape[0];
    const qint64 channels = sample.data.shape[1];
    if (channels != target.channels) {
        fail(error, sourceName, QStringLiteral("channels"),
             QStringLiteral("%1 channel%2, the %3 has %4").arg(channels).arg(channels == 1 ? QString() : QStringLiteral("s"))
                 .arg(sensor).arg(target.channels));
        return std::nullopt;
    }
    if (frames <= 0) {
        fail(error, sourceName, QStringLiteral("frames"), QStringLiteral("the recording is empty"));
        return std::nullopt;
    }
    const QVector<float> values = sample.data.toFloats();
    ReplayRecording out;
    out.m_source = sourceName;
    out.m_rateHz = sample.sampleRateHz;
    out.m_channels = target.channels;
    out.m_raw.resize(values.size() * 2);
    auto *dst = reinterpret_cast<uchar *>(out.m_raw.data());
    const double scale = double(target.rawScale);
    for (qsizetype i = 0; i < values.size(); ++i) {
        const float x = values[i];
        if (!std::isfinite(x)) {
            fail(error, sourceName, QStringLiteral("values"),
                 QStringLiteral("frame %1, channel %2 is not a finite number").arg(i / channels).arg(i % channels));
            return std::nullopt;
        }
        double v = std::round(double(x) / scale);
        if (v > 32767.0 || v < -32768.0) {
            v = v > 0 ? 32767.0 : -32768.0;
            ++out.m_clipped;
        }
        const quint16 u = quint16(qint16(v));
        dst[2 * i] = uchar(u & 0xFF);
        dst[2 * i + 1] = uchar(u >> 8);
    }
    return out;
}

qint16 ReplayRecording::rawValue(qint64 frame, int channel) const
{
    const qint64 i = frame * m_channels + channel;
    if (frame < 0 || channel < 0 || channel >= m_channels || 2 * i + 1 >= m_raw.size())
        return 0;
    const auto *p = reinterpret_cast<const uchar *>(m_raw.constData()) + 2 * i;
    return qint16(quint16(p[0] | (p[1] << 8)));
}

QString ReplayRecording::clippingWarning() const
{
    if (m_clipped == 0)
        return {};
    const qint64 total = m_raw.size() / 2;
    return QStringLiteral("%1: clipped %2 of %3 values (%4 %) at the int16 range of the sensor")
        .arg(m_source).arg(m_clipped).arg(total).arg(100.0 * double(m_clipped) / double(total), 0, 'g', 3);
}

QVector<qint16> ReplayRecording::samples() const
{
    QVector<qint16> out(int(m_raw.size() / 2));
    const auto *p = reinterpret_cast<const uchar *>(m_raw.constData());
    for (int i = 0; i < out.size(); ++i)
        out[i] = qFromLittleEndian<qint16>(p + 2 * i);
    return out;
}

bool ReplayRecording::writeRaw(const QString &path, QString *error) const
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(m_raw) != m_raw.size() || !file.commit()) {
        if (error)
            *error = QStringLiteral("cannot write the replay file %1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

} // namespace tinyml::stream
