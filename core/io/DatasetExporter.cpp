#include "io/DatasetExporter.h"

#include "io/CsvTimeSeriesReader.h"
#include "io/EdgeImpulseCodec.h"
#include "io/FloatText.h"
#include "io/ImageReader.h"
#include "io/ImportResult.h"

#include <QDir>
#include <QSaveFile>
#include <QSet>

namespace tinyml::io {

namespace {

QByteArray csvField(const QString &text)
{
    QByteArray utf8 = text.toUtf8();
    if (utf8.contains(',') || utf8.contains('"') || utf8.contains(';') || utf8.contains('\t') ||
        utf8.startsWith(' ') || utf8.endsWith(' ')) {
        utf8.replace("\"", "\"\"");
        return '"' + utf8 + '"';
    }
    return utf8;
}

bool writeFile(const QString &path, const QByteArray &bytes, QString *error)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.commit()) {
        *error = QStringLiteral("%1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

QByteArray timeSeriesCsv(const Sample &s, QString *error)
{
    const qint64 frames = s.data.shape[0], channels = s.data.shape[1];
    if (s.channels.size() != channels) {
        *error = QStringLiteral("%1 channel names for %2 channels").arg(s.channels.size()).arg(channels);
        return {};
    }
    const bool timed = s.sampleRateHz > 0;
    QByteArray out;
    if (timed)
        out += "timestamp";
    for (qint64 c = 0; c < channels; ++c) {
        const QString name = s.channels[int(c)];
        if (name.trimmed().isEmpty() || name.trimmed() != name) {
            *error = QStringLiteral("channel %1 has an empty name or surrounding blanks").arg(c);
            return {};
        }
        if (c == 0 && !timed && isTimestampColumnName(splitChannelHeader(name).first)) {
            *error = QStringLiteral("first channel '%1' would read back as a timestamp column").arg(name);
            return {};
        }
        const QString unit = c < s.units.size() ? s.units[int(c)] : QString();
        if (timed || c > 0)
            out += ',';
        out += csvField(unit.isEmpty() ? name : QStringLiteral("%1 (%2)").arg(name, unit));
    }
    out += '\n';
    const QVector<float> values = s.data.toFloats();
    for (qint64 f = 0; f < frames; ++f) {
        if (timed)
            out += formatFloat64(double(f) * 1000.0 / s.sampleRateHz);
        for (qint64 c = 0; c < channels; ++c) {
            if (timed || c > 0)
                out += ',';
            out += formatFloat32(values[int(f * channels + c)]);
        }
        out += '\n';
    }
    return out;
}

} // namespace

bool exportSamples(const QVector<Sample> &samples, const QString &dir, const QString &format,
                   const QByteArray &hmacKey, QStringList *written, QString *error)
{
    QString localError;
    QString *err = error ? error : &localError;
    if (format != QLatin1String("csv") && format != QLatin1String("ei-json") && format != QLatin1String("ei-cbor")) {
        *err = QStringLiteral("unknown export format '%1' (csv, ei-json, ei-cbor)").arg(format);
        return false;
    }
    QDir out(dir);
    if (!out.mkpath(QStringLiteral("."))) {
        *err = QStringLiteral("%1: cannot create the folder").arg(dir);
        return false;
    }

    QSet<QString> usedNames;
    QVector<const Sample *> tableRows;
    for (int i = 0; i < samples.size(); ++i) {
        const Sample &s = samples[i];
        const qint64 id = s.id > 0 ? s.id : i + 1;
        auto sampleError = [&](const QString &message) {
            *err = QStringLiteral("sample %1 ('%2'): %3").arg(id).arg(s.label, message);
            return false;
        };
        if (s.label.isEmpty())
            return sampleError(QStringLiteral("no label"));
        if (!s.data.isConsistent() || s.data.elementCount() == 0)
            return sampleError(QStringLiteral("data size does not match its shape, or is empty"));

        QString relative;
        QByteArray bytes;
        QString why;
        if (s.data.dtype == DType::UInt8 && s.data.shape.size() == 3) {
            if (s.label.contains(QLatin1Char('/')) || s.label.contains(QLatin1Char('\\')) ||
                s.label == QLatin1String(".") || s.label == QLatin1String(".."))
                return sampleError(QStringLiteral("an image label must be usable as a folder name"));
            bytes = encodePng(s, &why);
            relative = QStringLiteral("%1/%2.png").arg(s.label).arg(id);
        } else if (s.data.shape.size() == 1 && s.sampleRateHz <= 0 && s.data.dtype == DType::Float32) {
            tableRows.append(&s);
            continue;
        } else if (s.data.shape.size() == 2) {
            const QString stem = encodeLabelForFileName(s.label) + QLatin1Char('.') + QString::number(id);
            if (format == QLatin1String("csv")) {
                bytes = timeSeriesCsv(s, &why);
                relative = stem + QStringLiteral(".csv");
            } else {
                Sample floatSample = s;
                if (s.data.dtype != DType::Float32)
                    floatSample.data = Tensor::fromFloats(s.data.toFloats(), s.data.shape);
                const bool json = format == QLatin1String("ei-json");
                bytes = encodeEdgeImpulse(floatSample, json ? EdgeImpulseEncoding::Json : EdgeImpulseEncoding::Cbor,
                                          hmacKey, &why);
                relative = stem + (json ? QStringLiteral(".json") : QStringLiteral(".cbor"));
            }
        } else {
            QStringList dims;
            for (qint64 d : s.data.shape)
                dims << QString::number(d);
            return sampleError(QStringLiteral("%1 data of shape [%2] is neither a time series, a table row nor an image")
                                   .arg(dtypeName(s.data.dtype), dims.join(QStringLiteral(", "))));
        }
        if (bytes.isEmpty())
            return sampleError(why);
        if (usedNames.contains(relative))
            return sampleError(QStringLiteral("two samples would both be written to %1").arg(relative));
        usedNames.insert(relative);
        const QString path = out.filePath(relative);
        if (!QFileInfo(path).dir().mkpath(QStringLiteral(".")) || !writeFile(path, bytes, err))
            return false;
        if (written)
            *written << path;
    }

    if (tableRows.isEmpty())
        return true;
    const QStringList features = tableRows.first()->channels;
    if (features.size() != tableRows.first()->data.shape[0]) {
        *err = QStringLiteral("table sample %1: %2 feature names for %3 values")
                   .arg(tableRows.first()->id).arg(features.size()).arg(tableRows.first()->data.shape[0]);
        return false;
    }
    QSet<QString> names;
    for (const QString &f : features) {
        if (f.trimmed().isEmpty() || f.trimmed() != f || f.compare(QLatin1String("label"), Qt::CaseInsensitive) == 0 ||
            f.compare(QLatin1String("split"), Qt::CaseInsensitive) == 0 || names.contains(f)) {
            *err = QStringLiteral("table feature name '%1' cannot be written as a CSV column").arg(f);
            return false;
        }
        names.insert(f);
    }
    QByteArray csv;
    for (const QString &f : features)
        csv += csvField(f) + ',';
    csv += "label,split\n";
    for (const Sample *s : tableRows) {
        if (s->channels != features) {
            *err = QStringLiteral("table sample %1 has other features than the first table sample").arg(s->id);
            return false;
        }
        if (s->label.trimmed() != s->label) {
            *err = QStringLiteral("table sample %1: label '%2' has surrounding blanks").arg(s->id).arg(s->label);
            return false;
        }
        const float *v = s->data.floatData();
        for (qint64 k = 0; k < s->data.shape[0]; ++k)
            csv += formatFloat32(v[k]) + ',';
        csv += csvField(s->label) + ',' + splitName(s->split).toUtf8() + '\n';
    }
    const QString path = out.filePath(QStringLiteral("dataset.csv"));
    if (!writeFile(path, csv, err))
        return false;
    if (written)
        *written << path;
    return true;
}

} // namespace tinyml::io
