#include "io/MlperfDataset.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>

namespace tinyml::io {

namespace {

ImportError makeError(const QString &file, int line, const QString &field, const QString &message)
{
    ImportError e;
    e.file = file;
    e.line = line;
    e.field = field;
    e.message = message;
    return e;
}

/// A field without surrounding blanks and, if quoted, without its quotes.
QString cleanField(const QByteArray &raw)
{
    QByteArray f = raw.trimmed();
    if (f.size() >= 2 && f.startsWith('"') && f.endsWith('"'))
        f = f.mid(1, f.size() - 2);
    return QString::fromUtf8(f);
}

std::optional<qint64> parseCount(const QString &text, qint64 min, qint64 max)
{
    bool ok = false;
    const qint64 v = text.toLongLong(&ok);
    if (!ok || v < min || v > max)
        return std::nullopt;
    return v;
}

} // namespace

std::optional<QVector<MlperfSample>> MlperfDataset::parseLabels(const QByteArray &text, const QString &sourceName,
                                                                ImportError *error)
{
    static const char *const kFields[] = {"file", "classes", "class", "bytes_to_send", "stride"};
    auto failAt = [&](int line, const QString &field, const QString &message) -> std::optional<QVector<MlperfSample>> {
        if (error)
            *error = makeError(sourceName, line, field, message);
        return std::nullopt;
    };
    QVector<MlperfSample> samples;
    QByteArray body = text;
    if (body.startsWith("\xEF\xBB\xBF"))
        body.remove(0, 3);
    const QList<QByteArray> lines = body.split('\n');
    for (int i = 0; i < lines.size(); ++i) {
        const int lineNo = i + 1;
        QByteArray raw = lines[i];
        if (raw.endsWith('\r'))
            raw.chop(1);
        if (raw.trimmed().isEmpty())
            continue;
        if (raw.contains('\0'))
            return failAt(lineNo, QString(), QStringLiteral("contains a NUL byte: not a text file"));
        const QList<QByteArray> parts = raw.split(',');
        QStringList fields;
        for (const QByteArray &p : parts)
            fields << cleanField(p);
        if (samples.isEmpty() && fields.first().compare(QLatin1String("file"), Qt::CaseInsensitive) == 0)
            continue; // a header row
        if (fields.size() != 3 && fields.size() != 5)
            return failAt(lineNo, QString(), QStringLiteral("has %1 fields; expected 3 (file,classes,class) or 5 "
                                                            "(file,classes,class,bytes_to_send,stride)").arg(fields.size()));
        MlperfSample s;
        s.line = lineNo;
        s.file = fields[0];
        if (s.file.isEmpty())
            return failAt(lineNo, QLatin1String(kFields[0]), QStringLiteral("is empty"));
        if (QDir::isAbsolutePath(s.file) || s.file.split(QRegularExpression(QStringLiteral("[/\\\\]"))).contains(QStringLiteral("..")))
            return failAt(lineNo, QLatin1String(kFields[0]), QStringLiteral("'%1' must name a file inside the data set folder").arg(s.file));
        auto classes = parseCount(fields[1], 1, 1000000);
        if (!classes)
            return failAt(lineNo, QLatin1String(kFields[1]), QStringLiteral("'%1' is not a class count (1 or more)").arg(fields[1]));
        s.classes = int(*classes);
        auto label = parseCount(fields[2], 0, *classes - 1);
        if (!label)
            return failAt(lineNo, QLatin1String(kFields[2]), QStringLiteral("'%1' is not a class index from 0 to %2")
                                                                 .arg(fields[2]).arg(*classes - 1));
        s.label = int(*label);
        if (fields.size() == 5) {
            auto bytes = parseCount(fields[3], 1, kMaxInputBytes);
            if (!bytes)
                return failAt(lineNo, QLatin1String(kFields[3]), QStringLiteral("'%1' is not a byte count from 1 to %2")
                                                                     .arg(fields[3]).arg(kMaxInputBytes));
            auto stride = parseCount(fields[4], 1, kMaxInputBytes);
            if (!stride)
                return failAt(lineNo, QLatin1String(kFields[4]), QStringLiteral("'%1' is not a byte count from 1 to %2")
                                                                     .arg(fields[4]).arg(kMaxInputBytes));
            s.bytesToSend = *bytes;
            s.stride = *stride;
        }
        if (!samples.isEmpty() && samples.first().classes != s.classes)
            return failAt(lineNo, QLatin1String(kFields[1]), QStringLiteral("%1 differs from %2 on line %3")
                                                                 .arg(s.classes).arg(samples.first().classes).arg(samples.first().line));
        samples << s;
    }
    if (samples.isEmpty())
        return failAt(0, QString(), QStringLiteral("has no sample rows"));
    return samples;
}

std::optional<MlperfDataset> MlperfDataset::open(const QString &dir, qint64 expectedInputBytes, ImportError *error)
{
    const QString labelsPath = QDir(dir).filePath(QLatin1String(kLabelsFile));
    auto failWith = [&](const ImportError &e) -> std::optional<MlperfDataset> {
        if (error)
            *error = e;
        return std::nullopt;
    };
    if (!QFileInfo(dir).isDir())
        return failWith(makeError(dir, 0, QString(), QStringLiteral("is not a folder")));
    QFile f(labelsPath);
    if (!f.exists())
        return failWith(makeError(labelsPath, 0, QString(), QStringLiteral("missing: an MLPerf data set folder holds "
                                                                           "y_labels.csv and one raw input file per sample")));
    if (f.size() > kMaxLabelsBytes)
        return failWith(makeError(labelsPath, 0, QString(), QStringLiteral("is %1 bytes; larger than %2 bytes")
                                                                .arg(f.size()).arg(kMaxLabelsBytes)));
    if (!f.open(QIODevice::ReadOnly))
        return failWith(makeError(labelsPath, 0, QString(), f.errorString()));
    ImportError parseError;
    auto samples = parseLabels(f.readAll(), labelsPath, &parseError);
    if (!samples)
        return failWith(parseError);
    for (const MlperfSample &s : *samples) {
        const QFileInfo info(QDir(dir).filePath(s.file));
        if (!info.exists())
            return failWith(makeError(labelsPath, s.line, QStringLiteral("file"),
                                      QStringLiteral("'%1' does not exist in %2").arg(s.file, dir)));
        if (!info.isFile())
            return failWith(makeError(labelsPath, s.line, QStringLiteral("file"),
                                      QStringLiteral("'%1' is not a regular file").arg(s.file)));
        if (info.size() > kMaxInputBytes)
            return failWith(makeError(labelsPath, s.line, QStringLiteral("file"),
                                      QStringLiteral("'%1' is %2 bytes; larger than %3 bytes").arg(s.file).arg(info.size()).arg(kMaxInputBytes)));
        if (s.bytesToSend > 0) {
            if (expectedInputBytes > 0 && s.bytesToSend != expectedInputBytes)
                return failWith(makeError(labelsPath, s.line, QStringLiteral("bytes_to_send"),
                                          QStringLiteral("%1 bytes, but the model's input has %2 bytes").arg(s.bytesToSend).arg(expectedInputBytes)));
            if (info.size() < s.bytesToSend)
                return failWith(makeError(labelsPath, s.line, QStringLiteral("file"),
                                          QStringLiteral("'%1' has %2 bytes, fewer than bytes_to_send (%3)")
                                              .arg(s.file).arg(info.size()).arg(s.bytesToSend)));
        } else if (expectedInputBytes > 0 && info.size() != expectedInputBytes) {
            return failWith(makeError(labelsPath, s.line, QStringLiteral("file"),
                                      QStringLiteral("'%1' has %2 bytes, but the model's input has %3 bytes")
                                          .arg(s.file).arg(info.size()).arg(expectedInputBytes)));
        } else if (info.size() == 0) {
            return failWith(makeError(labelsPath, s.line, QStringLiteral("file"), QStringLiteral("'%1' is empty").arg(s.file)));
        }
    }
    MlperfDataset d;
    d.m_dir = dir;
    d.m_samples = *samples;
    return d;
}

QVector<QByteArray> MlperfDataset::windows(const QByteArray &data, qint64 bytesToSend, qint64 stride)
{
    QVector<QByteArray> out;
    if (bytesToSend <= 0 || stride <= 0)
        return out;
    for (qint64 start = 0; start + bytesToSend <= data.size(); start += stride)
        out << data.mid(start, bytesToSend);
    return out;
}

std::optional<QVector<QByteArray>> MlperfDataset::inputs(int i, ImportError *error) const
{
    const MlperfSample &s = m_samples.at(i);
    const QString path = QDir(m_dir).filePath(s.file);
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        if (error)
            *error = makeError(QDir(m_dir).filePath(QLatin1String(kLabelsFile)), s.line, QStringLiteral("file"),
                               QStringLiteral("'%1': %2").arg(s.file, f.errorString()));
        return std::nullopt;
    }
    const QByteArray data = f.read(kMaxInputBytes);
    if (s.bytesToSend <= 0)
        return QVector<QByteArray>{data};
    QVector<QByteArray> w = windows(data, s.bytesToSend, s.stride);
    if (w.isEmpty()) {
        if (error)
            *error = makeError(QDir(m_dir).filePath(QLatin1String(kLabelsFile)), s.line, QStringLiteral("file"),
                               QStringLiteral("'%1' now has %2 bytes, fewer than bytes_to_send (%3)")
                                   .arg(s.file).arg(data.size()).arg(s.bytesToSend));
        return std::nullopt;
    }
    return w;
}

} // namespace tinyml::io
