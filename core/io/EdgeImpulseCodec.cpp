#include "io/EdgeImpulseCodec.h"

#include "io/CsvTimeSeriesReader.h"
#include "io/FloatText.h"

#include <QCborArray>
#include <QCborMap>
#include <QCborStreamReader>
#include <QCborValue>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMessageAuthenticationCode>

#include <cmath>
#include <limits>

namespace tinyml::io {

namespace {

const QString kJson = QStringLiteral("ei-json");
const QString kCbor = QStringLiteral("ei-cbor");
const QByteArray kPlaceholder(64, '0');

bool isHex64(const QString &s)
{
    if (s.size() != 64)
        return false;
    for (QChar c : s)
        if (!c.isDigit() && !(c.toLower() >= QLatin1Char('a') && c.toLower() <= QLatin1Char('f')))
            return false;
    return true;
}

/// Offset of the signature's 64 characters inside the encoded message, or -1.
qsizetype locateSignature(const QByteArray &bytes, const QByteArray &sig, EdgeImpulseEncoding enc)
{
    if (enc == EdgeImpulseEncoding::Cbor) {
        const QByteArray pattern = QByteArrayLiteral("\x69signature\x78\x40") + sig;
        const qsizetype at = bytes.indexOf(pattern);
        return at < 0 ? -1 : at + 12;
    }
    const QByteArray quoted = '"' + sig + '"';
    for (qsizetype at = bytes.indexOf(quoted); at >= 0; at = bytes.indexOf(quoted, at + 1)) {
        qsizetype k = at - 1;
        auto skipBlanks = [&] {
            while (k >= 0 && (bytes[k] == ' ' || bytes[k] == '\t' || bytes[k] == '\n' || bytes[k] == '\r'))
                --k;
        };
        skipBlanks();
        if (k < 0 || bytes[k] != ':')
            continue;
        --k;
        skipBlanks();
        const QByteArray key = QByteArrayLiteral("\"signature\"");
        if (k + 1 >= key.size() && bytes.mid(k + 1 - key.size(), key.size()) == key)
            return at + 1;
    }
    return -1;
}

FileImportResult decode(const QCborValue &root, const QByteArray &bytes, EdgeImpulseEncoding enc,
                        const QString &fileName, const ImportOptions &options)
{
    const QString format = enc == EdgeImpulseEncoding::Json ? kJson : kCbor;
    auto fail = [&](const QString &field, const QString &message) {
        return importFailure(fileName, format, 0, field, message);
    };
    if (!root.isMap())
        return fail({}, QStringLiteral("the top level is not an object"));
    const QCborMap top = root.toMap();

    const QCborValue prot = top.value(QLatin1String("protected"));
    if (!prot.isMap())
        return fail(QStringLiteral("protected"), QStringLiteral("missing or not an object"));
    const QCborValue ver = prot.toMap().value(QLatin1String("ver"));
    if (ver.toString() != QLatin1String("v1"))
        return fail(QStringLiteral("protected.ver"), QStringLiteral("must be \"v1\""));
    const QString alg = prot.toMap().value(QLatin1String("alg")).toString();
    if (alg != QLatin1String("HS256") && alg != QLatin1String("none"))
        return fail(QStringLiteral("protected.alg"), QStringLiteral("must be \"HS256\" or \"none\", is \"%1\"").arg(messageExcerpt(alg)));
    const QCborValue sigValue = top.value(QLatin1String("signature"));
    if (!sigValue.isString())
        return fail(QStringLiteral("signature"), QStringLiteral("missing or not a string"));

    const QCborValue payloadValue = top.value(QLatin1String("payload"));
    if (!payloadValue.isMap())
        return fail(QStringLiteral("payload"), QStringLiteral("missing or not an object"));
    const QCborMap payload = payloadValue.toMap();

    const QCborValue interval = payload.value(QLatin1String("interval_ms"));
    if (!interval.isDouble() && !interval.isInteger())
        return fail(QStringLiteral("payload.interval_ms"), QStringLiteral("missing or not a number"));
    const double intervalMs = interval.isInteger() ? double(interval.toInteger()) : interval.toDouble();
    // 1 ns .. ~11 days per frame: keeps rate and interval finite both ways.
    if (!(intervalMs >= 1e-6 && intervalMs <= 1e9))
        return fail(QStringLiteral("payload.interval_ms"),
                    QStringLiteral("must be a positive number between 1e-6 and 1e9, is %1").arg(intervalMs));

    const QCborValue sensorsValue = payload.value(QLatin1String("sensors"));
    if (!sensorsValue.isArray() || sensorsValue.toArray().isEmpty())
        return fail(QStringLiteral("payload.sensors"), QStringLiteral("missing, empty or not a list"));
    const QCborArray sensors = sensorsValue.toArray();
    QStringList names, units;
    bool anyUnit = false;
    for (qsizetype i = 0; i < sensors.size(); ++i) {
        const QString field = QStringLiteral("payload.sensors[%1]").arg(i);
        const QCborValue s = sensors.at(i);
        if (!s.isMap())
            return fail(field, QStringLiteral("not an object"));
        const QCborValue name = s.toMap().value(QLatin1String("name"));
        if (!name.isString() || name.toString().isEmpty())
            return fail(field + QStringLiteral(".name"), QStringLiteral("missing or empty"));
        if (names.contains(name.toString()))
            return fail(field + QStringLiteral(".name"), QStringLiteral("duplicate sensor name '%1'").arg(messageExcerpt(name.toString())));
        names << name.toString();
        QString unit = s.toMap().value(QLatin1String("units")).toString();
        if (unit == QLatin1String("N/A"))
            unit.clear();
        anyUnit = anyUnit || !unit.isEmpty();
        units << unit;
    }

    const QCborValue valuesValue = payload.value(QLatin1String("values"));
    if (!valuesValue.isArray())
        return fail(QStringLiteral("payload.values"), QStringLiteral("missing or not a list"));
    const QCborArray rows = valuesValue.toArray();
    if (rows.isEmpty())
        return fail(QStringLiteral("payload.values"), QStringLiteral("no values"));
    const qsizetype channels = sensors.size();
    QVector<float> values;
    values.reserve(rows.size() * channels);
    auto toFloat = [&](const QCborValue &v, const QString &field, float *out) -> std::optional<FileImportResult> {
        double d;
        if (v.isInteger())
            d = double(v.toInteger());
        else if (v.isDouble())
            d = v.toDouble();
        else
            return fail(field, QStringLiteral("not a number"));
        if (!std::isfinite(d) || std::fabs(d) > double(std::numeric_limits<float>::max()))
            return fail(field, QStringLiteral("%1 is outside the float32 range").arg(d));
        *out = float(d);
        return std::nullopt;
    };
    for (qsizetype r = 0; r < rows.size(); ++r) {
        const QCborValue row = rows.at(r);
        const QString field = QStringLiteral("payload.values[%1]").arg(r);
        float f = 0;
        if (row.isArray()) {
            const QCborArray a = row.toArray();
            if (a.size() != channels)
                return fail(field, QStringLiteral("%1 values, but %2 sensors").arg(a.size()).arg(channels));
            for (qsizetype c = 0; c < channels; ++c) {
                if (auto err = toFloat(a.at(c), field + QStringLiteral("[%1]").arg(c), &f))
                    return *err;
                values.append(f);
            }
        } else {
            if (channels != 1)
                return fail(field, QStringLiteral("a single value, but %1 sensors").arg(channels));
            if (auto err = toFloat(row, field, &f))
                return *err;
            values.append(f);
        }
    }

    if (!options.hmacKey.isEmpty()) {
        if (alg != QLatin1String("HS256"))
            return fail(QStringLiteral("protected.alg"),
                        QStringLiteral("the file is not signed (alg \"%1\") but an HMAC key was given").arg(messageExcerpt(alg)));
        const QString sig = sigValue.toString();
        if (!isHex64(sig))
            return fail(QStringLiteral("signature"), QStringLiteral("not 64 hex characters"));
        const qsizetype at = locateSignature(bytes, sig.toLatin1(), enc);
        if (at < 0)
            return fail(QStringLiteral("signature"), QStringLiteral("cannot find the signature in the encoded message"));
        QByteArray message = bytes;
        message.replace(at, 64, kPlaceholder);
        const QByteArray expected = edgeImpulseSignature(message, options.hmacKey);
        const QByteArray given = sig.toLatin1().toLower();
        unsigned char diff = 0;
        for (int i = 0; i < 64; ++i)
            diff |= static_cast<unsigned char>(expected[i] ^ given[i]);
        if (diff != 0)
            return fail(QStringLiteral("signature"), QStringLiteral("HS256 signature does not match the HMAC key"));
    }

    const QString label = options.label.isEmpty() ? labelFromFileName(fileName) : options.label;
    if (label.isEmpty())
        return fail(QStringLiteral("label"),
                    QStringLiteral("no label: name the file <label>.<anything>.%1 or give a label")
                        .arg(enc == EdgeImpulseEncoding::Json ? QStringLiteral("json") : QStringLiteral("cbor")));

    Sample s;
    stampSample(s, fileName, label, options);
    s.device = payload.value(QLatin1String("device_type")).toString();
    s.sampleRateHz = rateFromIntervalMs(intervalMs);
    s.channels = names;
    if (anyUnit)
        s.units = units;
    s.data = Tensor::fromFloats(values, {rows.size(), channels});

    FileImportResult result;
    result.file = fileName;
    result.format = format;
    result.samples.append(std::move(s));
    return result;
}

/// A failure when bytes exceed the size limit (see defaultEdgeImpulseSizeLimit).
std::optional<FileImportResult> checkSize(const QByteArray &bytes, const QString &fileName,
                                          const QString &format, const ImportOptions &options)
{
    const qint64 limit = options.maxEdgeImpulseBytes > 0 ? options.maxEdgeImpulseBytes
                                                         : defaultEdgeImpulseSizeLimit();
    if (bytes.size() <= limit)
        return std::nullopt;
    const double mib = 1024.0 * 1024.0;
    return importFailure(
        fileName, format, 0, {},
        QStringLiteral("the file is %1 MiB, more than the %2 MiB limit for Edge Impulse files (reading "
                       "one takes about 10x its size in memory); raise the limit with --max-ei-mb N "
                       "or TINYML_EI_MAX_MB=N, or split the recording")
            .arg(bytes.size() / mib, 0, 'f', 1)
            .arg(limit / mib, 0, 'f', 0));
}

QByteArray jsonString(const QString &s)
{
    QByteArray out = "\"";
    for (char c : s.toUtf8()) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20) {
            out += "\\u00";
            out += QByteArray::number(u >> 4, 16);
            out += QByteArray::number(u & 0xf, 16);
        } else {
            out += c;
        }
    }
    return out + '"';
}

} // namespace

QByteArray edgeImpulseSignature(const QByteArray &message, const QByteArray &hmacKey)
{
    return QMessageAuthenticationCode::hash(message, hmacKey, QCryptographicHash::Sha256).toHex();
}

qint64 defaultEdgeImpulseSizeLimit()
{
    bool ok = false;
    const qint64 mb = qEnvironmentVariable("TINYML_EI_MAX_MB").toLongLong(&ok);
    if (ok && mb > 0 && mb < (qint64(1) << 40))
        return mb * 1024 * 1024;
    return qint64(64) * 1024 * 1024;
}

FileImportResult parseEdgeImpulseJson(const QByteArray &bytes, const QString &fileName,
                                      const ImportOptions &options)
{
    if (auto tooLarge = checkSize(bytes, fileName, kJson, options))
        return *tooLarge;
    QJsonParseError err;
    const QJsonDocument doc = QJsonDocument::fromJson(bytes, &err);
    if (err.error != QJsonParseError::NoError) {
        const qsizetype offset = qBound(qsizetype(0), qsizetype(err.offset), bytes.size());
        const int line = int(bytes.left(offset).count('\n')) + 1;
        return importFailure(fileName, kJson, line, {},
                             QStringLiteral("invalid JSON at offset %1: %2").arg(err.offset).arg(err.errorString()));
    }
    if (!doc.isObject())
        return importFailure(fileName, kJson, 0, {}, QStringLiteral("the top level is not an object"));
    return decode(QCborMap::fromJsonObject(doc.object()), bytes, EdgeImpulseEncoding::Json, fileName, options);
}

FileImportResult parseEdgeImpulseCbor(const QByteArray &bytes, const QString &fileName,
                                      const ImportOptions &options)
{
    if (auto tooLarge = checkSize(bytes, fileName, kCbor, options))
        return *tooLarge;
    QCborStreamReader reader(bytes);
    const QCborValue root = QCborValue::fromCbor(reader);
    const QCborError err = reader.lastError();
    if (err != QCborError::NoError)
        return importFailure(fileName, kCbor, 0, {},
                             QStringLiteral("invalid CBOR at offset %1: %2").arg(reader.currentOffset()).arg(err.toString()));
    if (reader.currentOffset() != bytes.size())
        return importFailure(fileName, kCbor, 0, {},
                             QStringLiteral("%1 trailing bytes after the CBOR item at offset %2")
                                 .arg(bytes.size() - reader.currentOffset()).arg(reader.currentOffset()));
    return decode(root, bytes, EdgeImpulseEncoding::Cbor, fileName, options);
}

QByteArray encodeEdgeImpulse(const Sample &sample, EdgeImpulseEncoding encoding,
                             const QByteArray &hmacKey, QString *error)
{
    auto fail = [&](const QString &message) {
        if (error)
            *error = message;
        return QByteArray();
    };
    const Tensor &t = sample.data;
    if (t.dtype != DType::Float32 || t.shape.size() != 2 || !t.isConsistent())
        return fail(QStringLiteral("Edge Impulse export needs float32 [frames, channels] data"));
    if (!(sample.sampleRateHz > 0))
        return fail(QStringLiteral("Edge Impulse export needs a sample rate"));
    const qint64 frames = t.shape[0], channels = t.shape[1];
    if (frames < 1 || channels < 1)
        return fail(QStringLiteral("Edge Impulse export needs at least one frame and one channel"));
    QStringList names = sample.channels;
    if (names.size() != channels) {
        names.clear();
        for (qint64 c = 0; c < channels; ++c)
            names << QStringLiteral("ch%1").arg(c);
    }
    auto unitOf = [&](qint64 c) {
        const QString u = c < sample.units.size() ? sample.units[int(c)] : QString();
        return u.isEmpty() ? QStringLiteral("N/A") : u;
    };
    const QString alg = hmacKey.isEmpty() ? QStringLiteral("none") : QStringLiteral("HS256");
    const qint64 iat = (sample.created.isValid() ? sample.created : QDateTime::currentDateTimeUtc()).toSecsSinceEpoch();
    const QString deviceType = sample.device.isEmpty() ? QStringLiteral("TINYML_WORKBENCH") : sample.device;
    const double intervalMs = 1000.0 / sample.sampleRateHz;
    const float *v = t.floatData();

    QByteArray out;
    qsizetype sigAt = -1;
    if (encoding == EdgeImpulseEncoding::Json) {
        for (qint64 i = 0; i < frames * channels; ++i)
            if (!std::isfinite(v[i]))
                return fail(QStringLiteral("JSON cannot hold NaN or infinity (value %1)").arg(i));
        out.reserve(int(64 + frames * channels * 12));
        out += "{\"protected\":{\"ver\":\"v1\",\"alg\":" + jsonString(alg) + ",\"iat\":" + QByteArray::number(iat) + "},";
        out += "\"signature\":\"";
        sigAt = out.size();
        out += kPlaceholder + "\",";
        out += "\"payload\":{\"device_type\":" + jsonString(deviceType) +
               ",\"interval_ms\":" + formatFloat64(intervalMs) + ",\"sensors\":[";
        for (qint64 c = 0; c < channels; ++c) {
            out += c ? ",{" : "{";
            out += "\"name\":" + jsonString(names[int(c)]) + ",\"units\":" + jsonString(unitOf(c)) + "}";
        }
        out += "],\"values\":[";
        for (qint64 f = 0; f < frames; ++f) {
            out += f ? ",[" : "[";
            for (qint64 c = 0; c < channels; ++c) {
                if (c)
                    out += ',';
                const float x = v[f * channels + c];
                // Qt's JSON reader (and others) turn "-0" and "-0.0" into the integer 0.
                // -1e-46 is below half the smallest float32 subnormal: every reader that
                // rounds it to float32 gets -0.0f back.
                out += x == 0 && std::signbit(x) ? QByteArrayLiteral("-1e-46") : formatFloat64(double(x));
            }
            out += ']';
        }
        out += "]}}";
    } else {
        QCborArray sensors;
        for (qint64 c = 0; c < channels; ++c)
            sensors.append(QCborMap{{QStringLiteral("name"), names[int(c)]}, {QStringLiteral("units"), unitOf(c)}});
        QCborArray rows;
        for (qint64 f = 0; f < frames; ++f) {
            QCborArray row;
            for (qint64 c = 0; c < channels; ++c)
                row.append(double(v[f * channels + c]));
            rows.append(row);
        }
        QCborMap payload{{QStringLiteral("device_type"), deviceType},
                         {QStringLiteral("interval_ms"), intervalMs},
                         {QStringLiteral("sensors"), sensors},
                         {QStringLiteral("values"), rows}};
        QCborMap prot{{QStringLiteral("ver"), QStringLiteral("v1")},
                      {QStringLiteral("alg"), alg},
                      {QStringLiteral("iat"), iat}};
        QCborMap top{{QStringLiteral("protected"), prot},
                     {QStringLiteral("signature"), QString::fromLatin1(kPlaceholder)},
                     {QStringLiteral("payload"), payload}};
        // UseFloat stores a double as float32 only when no precision is lost: our values
        // are float32, so they take 5 bytes each and read back bit-exactly.
        out = QCborValue(top).toCbor(QCborValue::UseFloat);
        sigAt = locateSignature(out, kPlaceholder, EdgeImpulseEncoding::Cbor);
        if (sigAt < 0)
            return fail(QStringLiteral("internal: signature placeholder not found in the CBOR encoding"));
    }
    if (!hmacKey.isEmpty())
        out.replace(sigAt, 64, edgeImpulseSignature(out, hmacKey));
    return out;
}

} // namespace tinyml::io
