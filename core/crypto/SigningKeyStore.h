#pragma once
// The user's Ed25519 signing keys for model packages (issue 17), kept outside every project:
// one folder per user (defaultDirectory()), one key pair per file. libsodium does the
// cryptography; the device verifies with firmware-agent/crypto/tm_ed25519.h.
//
// Layout of the folder (created 0700):
//   <id>.key   secret key, 0600, created with O_EXCL so it is never readable by others even
//              for a moment: JSON {"format": "tinyml-signing-key", "version": 1, "id",
//              "name", "created" (ISO 8601 UTC), "public_key" (64 hex), "secret_key"
//              (libsodium's 64-byte secret key: seed then public key, 128 hex)}
//   <id>.pub   the same without "secret_key" (format "tinyml-public-key"), 0644: what
//              provisioning writes into a board.
// The key id is the first 8 bytes of SHA-512 over the public key's lowercase hex text,
// written as 16 hex digits (keyId()).
//
// Threading: no shared state; one store per thread.

#include <QByteArray>
#include <QDateTime>
#include <QList>
#include <QString>

#include <optional>

namespace tinyml::crypto
{

struct SigningKeyInfo {
    QString id;                ///< 16 hex digits, keyId(publicKey)
    QString name;              ///< free text given at creation (may be empty)
    QByteArray publicKey;      ///< 32 bytes
    QDateTime created;         ///< UTC
    QString secretKeyPath;     ///< <dir>/<id>.key
    bool hasSecretKey = false; ///< the .key file exists next to the .pub
    QString warning;           ///< e.g. the .key file is readable by others; empty when fine
};

class SigningKeyStore
{
  public:
    /// dir: the key folder; it is created on first write.
    explicit SigningKeyStore(QString dir);

    /// $TINYML_KEY_DIR when set, else <GenericDataLocation>/TinyML Workbench/keys (shared by
    /// the `tinyml` CLI and the workbench, whose application names differ).
    static QString defaultDirectory();

    /// First 8 bytes of SHA-512 of the public key's lowercase hex, as 16 hex digits.
    static QString keyId(const QByteArray &publicKey);

    QString directory() const { return m_dir; }

    /// A fresh key pair, written as <id>.key (0600) and <id>.pub. nullopt and *error on failure.
    std::optional<SigningKeyInfo> create(const QString &name, QString *error);

    /// Every key with a readable .pub file, oldest first (ties: by id). A .pub that cannot be read
    /// makes the whole call fail with an error naming the file and the field.
    std::optional<QList<SigningKeyInfo>> list(QString *error) const;

    /// Signs message with key id (detached, 64 bytes). nullopt and *error on failure.
    std::optional<QByteArray> sign(const QString &id, const QByteArray &message,
                                   QString *error) const;

  private:
    QString m_dir;
};

} // namespace tinyml::crypto
