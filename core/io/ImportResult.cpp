#include "io/ImportResult.h"

#include <QFileInfo>
#include <QUrl>

namespace tinyml::io {

QString ImportError::toString() const
{
    QString s = file;
    if (line > 0)
        s += QLatin1Char(':') + QString::number(line);
    s += QStringLiteral(": ");
    if (!field.isEmpty())
        s += field + QStringLiteral(": ");
    return s + message;
}

FileImportResult importFailure(const QString &file, const QString &format, int line,
                               const QString &field, const QString &message)
{
    FileImportResult r;
    r.file = file;
    r.format = format;
    r.error = ImportError{file, line, field, message};
    return r;
}

QString labelFromFileName(const QString &fileName)
{
    const QString base = QFileInfo(fileName).fileName();
    const int firstDot = base.indexOf(QLatin1Char('.'));
    const int lastDot = base.lastIndexOf(QLatin1Char('.'));
    if (firstDot <= 0 || firstDot == lastDot)
        return {};
    return QUrl::fromPercentEncoding(base.left(firstDot).toUtf8());
}

QString encodeLabelForFileName(const QString &label)
{
    // Bytes >= 0x80 stay as they are (readable non-ASCII labels); '%' itself is encoded.
    QByteArray out;
    for (char c : label.toUtf8()) {
        const auto u = static_cast<unsigned char>(c);
        if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') ||
            u == '_' || u == '-' || u >= 0x80) {
            out += c;
        } else {
            out += '%';
            out += QByteArray::number(u >> 4, 16).toUpper();
            out += QByteArray::number(u & 0xf, 16).toUpper();
        }
    }
    return QString::fromUtf8(out);
}

QString messageExcerpt(const QString &text, int maxChars)
{
    if (text.size() <= maxChars)
        return text;
    qsizetype cut = maxChars;
    if (text.at(cut - 1).isHighSurrogate())
        --cut; // never split a character in two
    return text.left(cut) + QStringLiteral("\u2026 (%1 bytes)").arg(text.toUtf8().size());
}

void stampSample(Sample &sample, const QString &fileName, const QString &label,
                 const ImportOptions &options)
{
    sample.label = label;
    sample.source = fileName;
    sample.created = QDateTime::currentDateTimeUtc();
    sample.split = options.split.value_or(Split::Train);
}

} // namespace tinyml::io
