#include "SignedPackage.h"

#include "tm_signed_package.h"

#include <QtEndian>

#include <sodium.h>

namespace tinyml::crypto
{

namespace
{

const uint8_t *u8(const QByteArray &b)
{
    return reinterpret_cast<const uint8_t *>(b.constData());
}

QByteArray blockHead(quint32 version, const QByteArray &keyIdBytes)
{
    QByteArray head(int(TM_SIGNED_SIGNED_HEAD_BYTES), '\0');
    auto *p = reinterpret_cast<uchar *>(head.data());
    qToLittleEndian<quint32>(TM_SIGNED_BLOCK_MAGIC, p);
    qToLittleEndian<quint16>(TM_SIGNED_BLOCK_VERSION, p + 4);
    qToLittleEndian<quint16>(TM_SIGNED_BLOCK_BYTES, p + 6);
    qToLittleEndian<quint32>(version, p + 8);
    // flags (12..15) and reserved (24..31) stay 0
    memcpy(p + 16, keyIdBytes.constData(), TM_SIGNED_KEY_ID_BYTES);
    return head;
}

} // namespace

std::optional<QByteArray> signPackage(const QByteArray &package, quint32 version, const QString &keyId,
                                      const SigningKeyStore &keys, QString *error)
{
    tm_signed_info_t info;
    if (tm_signed_package_parse(u8(package), size_t(package.size()), &info) != TM_SIGNED_UNSIGNED) {
        *error = QStringLiteral("not a bare model package (magic TMPK and total_size equal to its %1 bytes); "
                                "a package is signed once")
                     .arg(package.size());
        return std::nullopt;
    }
    if (version == 0) {
        *error = QStringLiteral("package version must be at least 1");
        return std::nullopt;
    }
    const QByteArray idBytes = QByteArray::fromHex(keyId.toLatin1());
    if (idBytes.size() != int(TM_SIGNED_KEY_ID_BYTES) || idBytes.toHex() != keyId.toLower().toLatin1()) {
        *error = QStringLiteral("key id \"%1\" is not 16 hex digits").arg(keyId);
        return std::nullopt;
    }
    const QByteArray head = blockHead(version, idBytes);
    const auto signature = keys.sign(keyId.toLower(), package + head, error);
    if (!signature)
        return std::nullopt;
    return package + head + *signature;
}

std::optional<SignedPackageInfo> readSignedPackage(const QByteArray &bytes, const QString &name, QString *error)
{
    tm_signed_info_t info;
    const tm_signed_status_t status = tm_signed_package_parse(u8(bytes), size_t(bytes.size()), &info);
    if (status != TM_SIGNED_OK) {
        QString why = QString::fromLatin1(tm_signed_status_name(status));
        if (status == TM_SIGNED_MALFORMED && bytes.size() >= 12) {
            const quint32 total = qFromLittleEndian<quint32>(bytes.constData() + 8);
            why += QStringLiteral(" (file %1 bytes, package total_size %2, a signed package is total_size + %3)")
                       .arg(bytes.size())
                       .arg(total)
                       .arg(TM_SIGNED_BLOCK_BYTES);
        }
        *error = QStringLiteral("%1: %2").arg(name, why);
        return std::nullopt;
    }
    SignedPackageInfo out;
    out.package = bytes.left(int(info.package_size));
    out.version = info.package_version;
    out.keyId = QString::fromLatin1(QByteArray(reinterpret_cast<const char *>(info.key_id), TM_SIGNED_KEY_ID_BYTES).toHex());
    out.signature = QByteArray(reinterpret_cast<const char *>(info.signature), TM_ED25519_SIGNATURE_BYTES);
    return out;
}

std::optional<SignedPackageInfo> verifySignedPackage(const QByteArray &bytes, const QByteArray &publicKey,
                                                     const QString &name, QString *error)
{
    auto info = readSignedPackage(bytes, name, error);
    if (!info)
        return std::nullopt;
    if (publicKey.size() != int(crypto_sign_PUBLICKEYBYTES)) {
        *error = QStringLiteral("%1: public key must be %2 bytes, got %3").arg(name).arg(crypto_sign_PUBLICKEYBYTES).arg(publicKey.size());
        return std::nullopt;
    }
    const QString expected = SigningKeyStore::keyId(publicKey);
    if (info->keyId != expected) {
        *error = QStringLiteral("%1: signed by key %2, not by %3").arg(name, info->keyId, expected);
        return std::nullopt;
    }
    if (sodium_init() < 0) {
        *error = QStringLiteral("libsodium could not be initialised");
        return std::nullopt;
    }
    const QByteArray message = bytes.left(int(info->package.size() + TM_SIGNED_SIGNED_HEAD_BYTES));
    if (crypto_sign_verify_detached(u8(info->signature), u8(message), size_t(message.size()), u8(publicKey)) != 0) {
        *error = QStringLiteral("%1: the signature of key %2 does not match the package (modified or corrupted)")
                     .arg(name, info->keyId);
        return std::nullopt;
    }
    return info;
}

} // namespace tinyml::crypto
