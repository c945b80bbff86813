#pragma once
// Signed model packages (issue 17): a model package followed by a 96-byte signature block
// carrying the package version (anti-rollback), the signer's key id and an Ed25519
// signature. The layout and its checks are the device's own C code
// (firmware-agent/crypto/tm_signed_package.h), so host and device read the same bytes the
// same way; signing and the host's verification use libsodium.
//
// Threading: free functions without shared state.

#include "SigningKeyStore.h"

#include <QByteArray>
#include <QString>

#include <optional>

namespace tinyml::crypto
{

struct SignedPackageInfo {
    QByteArray package;   ///< the model package without its block
    quint32 version = 0;  ///< anti-rollback value, >= 1
    QString keyId;        ///< 16 hex digits
    QByteArray signature; ///< 64 bytes
};

/// The package with its signature block appended. package must be a bare model package
/// (magic "TMPK", total_size = its size); version >= 1. nullopt and *error otherwise, or when
/// the key store cannot sign with keyId.
std::optional<QByteArray> signPackage(const QByteArray &package, quint32 version, const QString &keyId,
                                      const SigningKeyStore &keys, QString *error);

/// Reads a signed package's block (layout only). name: the file name errors start with.
/// A bare package is an error ("not signed"), as is any malformed block.
std::optional<SignedPackageInfo> readSignedPackage(const QByteArray &bytes, const QString &name, QString *error);

/// readSignedPackage, then the key id and the signature against publicKey (32 bytes), with
/// libsodium. nullopt and *error naming what failed.
std::optional<SignedPackageInfo> verifySignedPackage(const QByteArray &bytes, const QByteArray &publicKey,
                                                     const QString &name, QString *error);

} // namespace tinyml::crypto
