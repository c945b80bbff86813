#include "data/ResourceDirectory.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QStringList>

namespace tinyml {

QString findResourceDirectory(const char *envVar, const QString &shareSubdir, const QString &sourceDir,
                              const QString &what, QString *error)
{
    QStringList candidates;
    const QString env = qEnvironmentVariable(envVar);
    if (!env.isEmpty())
        candidates << env;
    if (QCoreApplication::instance())
        candidates << QDir::cleanPath(QCoreApplication::applicationDirPath()
                                      + QStringLiteral("/../share/tinyml-workbench/") + shareSubdir);
    if (!sourceDir.isEmpty())
        candidates << sourceDir;
    for (const QString &c : candidates)
        if (QFileInfo(c).isDir())
            return QDir(c).absolutePath();
    if (error)
        *error = QStringLiteral("no %1 found (searched: %2); set %3")
                     .arg(what, candidates.join(QStringLiteral(", ")), QString::fromLatin1(envVar));
    return {};
}

} // namespace tinyml
