#include "io/FileNameBytes.h"

#include <QFile>
#include <QFileInfo>

#include <algorithm>

#ifdef Q_OS_UNIX
#include <dirent.h>
#endif

namespace tinyml::io {

bool isUndecodableName(const QString &path)
{
    return path.contains(QChar(QChar::ReplacementCharacter)) && !QFileInfo::exists(path);
}

QList<QByteArray> rawNamesMatching(const QString &path)
{
    QList<QByteArray> names;
#ifdef Q_OS_UNIX
    const QFileInfo info(path);
    const QString wanted = info.fileName();
    DIR *dir = ::opendir(QFile::encodeName(info.absolutePath()).constData());
    if (!dir)
        return names;
    while (const dirent *e = ::readdir(dir)) {
        const QByteArray raw(e->d_name);
        if (QFile::decodeName(raw) == wanted)
            names << raw;
    }
    ::closedir(dir);
#else
    Q_UNUSED(path);
#endif
    return names;
}

QList<QByteArray> undecodableEntries(const QString &dir)
{
    QList<QByteArray> names;
#ifdef Q_OS_UNIX
    DIR *d = ::opendir(QFile::encodeName(dir).constData());
    if (!d)
        return names;
    while (const dirent *e = ::readdir(d)) {
        const QByteArray raw(e->d_name);
        if (QFile::encodeName(QFile::decodeName(raw)) != raw)
            names << raw;
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
#else
    Q_UNUSED(dir);
#endif
    return names;
}

QString describeNameBytes(const QByteArray &name)
{
    QString out;
    for (char c : name) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7f && u != '\\')
            out += QLatin1Char(c);
        else
            out += QStringLiteral("\\x%1").arg(u, 2, 16, QLatin1Char('0')).toUpper().replace(QLatin1String("\\X"), QLatin1String("\\x"));
    }
    return out;
}

namespace {
QString renameAdvice(const QString &described)
{
    return QStringLiteral("the file name %1 is not valid UTF-8, and a name that does not decode cannot be "
                          "opened; rename the file to UTF-8 (for example with convmv -f latin1 -t utf-8)")
        .arg(described);
}
} // namespace

QString undecodableNameMessage(const QString &path)
{
    const QList<QByteArray> raw = rawNamesMatching(path);
    if (raw.isEmpty())
        return QStringLiteral("no such file or folder (the name as given is not valid UTF-8; "
                              "its invalid bytes show as U+FFFD)");
    QStringList described;
    for (const QByteArray &r : raw)
        described << QStringLiteral("\"%1\"").arg(describeNameBytes(r));
    return renameAdvice(described.join(QStringLiteral(" or ")));
}

QString undecodableEntryMessage(const QByteArray &rawName)
{
    return renameAdvice(QStringLiteral("\"%1\"").arg(describeNameBytes(rawName)));
}

} // namespace tinyml::io
