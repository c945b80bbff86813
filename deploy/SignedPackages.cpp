#include "SignedPackages.h"

#include "crypto/SignedPackage.h"
#include "tm_signed_package.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <algorithm>

namespace tinyml::deploy {

namespace {
/// Larger files in signed/ are not model packages (a model slot is at most a few hundred KB).
constexpr qint64 kMaxSignedPackageBytes = 16 * 1024 * 1024;
}

QString signedPackagesFolder(const QString &projectPath)
{
    return QFileInfo(projectPath).absoluteDir().filePath(QStringLiteral("signed"));
}

QVector<SignedPackageFile> readSignedPackages(const QString &folder)
{
    QVector<SignedPackageFile> found;
    for (const QFileInfo &f : QDir(folder).entryInfoList({QStringLiteral("*.tmpks")}, QDir::Files, QDir::Name)) {
        QFile in(f.absoluteFilePath());
        if (f.size() > kMaxSignedPackageBytes || !in.open(QIODevice::ReadOnly))
            continue;
        SignedPackageFile file;
        file.path = f.absoluteFilePath();
        file.bytes = in.readAll();
        QString ignored;
        const auto info = crypto::readSignedPackage(file.bytes, f.fileName(), &ignored);
        if (!info)
            continue;
        file.version = info->version;
        file.keyId = info->keyId;
        found.append(file);
    }
    std::stable_sort(found.begin(), found.end(), [](const auto &a, const auto &b) { return a.version > b.version; });
    return found;
}

QVector<QByteArray> signedPackagesBeside(const QString &projectPath)
{
    QVector<QByteArray> out;
    for (const SignedPackageFile &f : readSignedPackages(signedPackagesFolder(projectPath)))
        out.append(f.bytes);
    return out;
}

std::optional<QByteArray> signedPackageOf(const QByteArray &package, const QVector<QByteArray> &candidates)
{
    for (const QByteArray &signedBytes : candidates)
        if (signedBytes.size() == package.size() + qsizetype(TM_SIGNED_BLOCK_BYTES) && signedBytes.startsWith(package))
            return signedBytes;
    return std::nullopt;
}

std::optional<QByteArray> chooseUpload(const QByteArray &package, const SignedUpload &signedUpload,
                                       bool boardProvisioned, const QString &boardName, QString *error)
{
    if (auto signedBytes = signedPackageOf(package, signedUpload.packages))
        return signedBytes;
    const QString again = signedUpload.command.isEmpty() ? QStringLiteral("flash") : signedUpload.command;
    if (signedUpload.required) {
        if (error)
            *error = QStringLiteral("the signed package given is not one of model %1's: its package part differs from "
                                    "the one the workbench writes for this model now (signed for another model, or "
                                    "before a change). Sign model %1 again").arg(signedUpload.modelId);
        return std::nullopt;
    }
    if (boardProvisioned) {
        // Callers that give no model id (the MLPerf runner's flash) still get the way out.
        const QString model = signedUpload.modelId > 0 ? QStringLiteral("model %1's").arg(signedUpload.modelId)
                                                       : QStringLiteral("the model's");
        const QString id = signedUpload.modelId > 0 ? QString::number(signedUpload.modelId) : QStringLiteral("ID");
        if (error)
            *error = QStringLiteral("board %1 is provisioned: it takes signed packages only, and none of %2 "
                                    "package was found. Sign it (tinyml sign PROJECT --model %3), then %4 again "
                                    "(nothing was sent: the previous model keeps running)")
                         .arg(boardName, model, id, again);
        return std::nullopt;
    }
    return package;
}

} // namespace tinyml::deploy
