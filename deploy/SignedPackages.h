#pragma once
// SignedPackages: the signed model packages (`tinyml sign`, *.tmpks) kept in a folder — by
// default signed/ beside the project, where `tinyml sign` writes — and the choice of the one
// that carries a given model package, for the commands and pages that upload to a board.
//
// A provisioned board takes signed packages only (issue 17). The flash and profile paths ask
// chooseUpload() what to send: the first candidate (newest version first) whose package part
// is byte for byte the package the workbench writes now, or the bare package on a board that
// is not provisioned, or a refusal that names `tinyml sign` before anything is sent.
//
// Threading: free functions without shared state; reading a folder blocks on the file system.

#include <QByteArray>
#include <QString>
#include <QVector>

#include <optional>

namespace tinyml::deploy {

/// One well-formed signed package file.
struct SignedPackageFile {
    QString path;
    QByteArray bytes;        ///< the whole file: the package, then its 96-byte block
    quint32 version = 0;     ///< the anti-rollback value in the block
    QString keyId;           ///< 16 hex digits
};

/// signed/ beside projectPath: where `tinyml sign` writes without --out.
QString signedPackagesFolder(const QString &projectPath);

/// The *.tmpks files in folder whose block is well formed (crypto::readSignedPackage), newest
/// version first, by file name among equal versions. Unreadable, malformed and larger-than-any-
/// slot files are passed over (a board checks signatures itself).
QVector<SignedPackageFile> readSignedPackages(const QString &folder);

/// readSignedPackages(signedPackagesFolder(projectPath)), as bytes: the candidates of
/// SignedUpload::packages and ProfileOptions::signedPackages.
QVector<QByteArray> signedPackagesBeside(const QString &projectPath);

/// The first of candidates whose package part is package (a signed package is the package
/// unchanged, then its block), or nullopt.
std::optional<QByteArray> signedPackageOf(const QByteArray &package, const QVector<QByteArray> &candidates);

/// What goes to a board for a model package.
struct SignedUpload {
    /// Signed packages that may carry it, newest first (signedPackagesBeside()); empty: none.
    QVector<QByteArray> packages;
    /// The user named a signed package: refuse when it is not one of this model's.
    bool required = false;
    qint64 modelId = 0;      ///< names the model in the refusals
    QString command;         ///< "flash", "profile": the refusal says to run it again
};

/// The bytes to upload for package: the matching signed package, else the bare package unless
/// the board is provisioned or a signed one was required. nullopt and *error, naming `tinyml
/// sign`, otherwise — before anything is sent.
std::optional<QByteArray> chooseUpload(const QByteArray &package, const SignedUpload &signedUpload,
                                       bool boardProvisioned, const QString &boardName, QString *error);

} // namespace tinyml::deploy
