#include "crypto/Attestation.h"

#include "tm_attest.h"

#include <sodium.h>

namespace tinyml::crypto
{

namespace
{
QByteArray bytes(const uint8_t *p, int n)
{
    return QByteArray(reinterpret_cast<const char *>(p), n);
}

QString hex8(const QByteArray &b)
{
    return QString::fromLatin1(b.toHex());
}
} // namespace

DeviceIdentity newDeviceIdentity()
{
    DeviceIdentity id;
    if (sodium_init() < 0)
        return id;
    id.seed = QByteArray(crypto_sign_SEEDBYTES, Qt::Uninitialized);
    id.publicKey = QByteArray(crypto_sign_PUBLICKEYBYTES, Qt::Uninitialized);
    QByteArray sk(crypto_sign_SECRETKEYBYTES, Qt::Uninitialized);
    randombytes_buf(id.seed.data(), size_t(id.seed.size()));
    crypto_sign_seed_keypair(reinterpret_cast<unsigned char *>(id.publicKey.data()),
                             reinterpret_cast<unsigned char *>(sk.data()),
                             reinterpret_cast<const unsigned char *>(id.seed.constData()));
    wipeSecret(sk);
    return id;
}

void wipeSecret(QByteArray &secret)
{
    if (!secret.isEmpty())
        sodium_memzero(secret.data(), size_t(secret.size()));
}

QByteArray attestationNonce()
{
    if (sodium_init() < 0)
        return {};
    QByteArray n(int(TM_ATTEST_NONCE_BYTES), Qt::Uninitialized);
    randombytes_buf(n.data(), size_t(n.size()));
    return n;
}

QByteArray sha512(const QByteArray &data)
{
    QByteArray out(crypto_hash_sha512_BYTES, Qt::Uninitialized);
    crypto_hash_sha512(reinterpret_cast<unsigned char *>(out.data()),
                       reinterpret_cast<const unsigned char *>(data.constData()), quint64(data.size()));
    return out;
}

AttestationResult verifyAttestation(const QByteArray &reply, const QByteArray &sentNonce,
                                    const QByteArray &expectedDeviceKey, const QByteArray &expectedPackage)
{
    AttestationResult r;
    if (sodium_init() < 0) {
        r.reason = QStringLiteral("libsodium failed to initialise");
        return r;
    }
    const auto *raw = reinterpret_cast<const uint8_t *>(reply.constData());
    tm_attest_t st;
    const tm_attest_status_t parsed = tm_attest_parse(raw, size_t(reply.size()), &st);
    if (parsed != TM_ATTEST_OK) {
        r.reason = QStringLiteral("the answer is not an attestation statement: %1")
                       .arg(QString::fromLatin1(tm_attest_status_name(parsed)));
        return r;
    }
    r.parsed = true;
    r.devicePublicKey = bytes(st.device_public_key, 32);
    r.deviceId = hex8(bytes(st.device_id, 8));
    r.nonce = bytes(st.nonce, 32);
    r.hasFirmwareHash = (st.flags & TM_ATTEST_FLAG_FIRMWARE_HASH) != 0;
    r.firmwareHash = bytes(st.firmware_hash, 64);
    r.hasPackage = (st.flags & TM_ATTEST_FLAG_PACKAGE) != 0;
    r.packageHash = bytes(st.package_hash, 64);
    r.packageSize = st.package_size;
    r.packageVersion = st.package_version;
    r.counter = st.counter;
    r.projectKeyProvisioned = (st.flags & TM_ATTEST_FLAG_PROVISIONED) != 0;
    r.projectKeyId = r.projectKeyProvisioned ? hex8(bytes(st.project_key_id, 8)) : QString();
    r.framesDropped = st.frames_dropped;
    r.errorReplies = st.error_replies;
    r.uptimeTicks = st.uptime_ticks;
    r.activeSlot = st.active_slot == 0xFFu ? -1 : int(st.active_slot);

    // the signature over the exact bytes received, with libsodium (independent of the
    // device's code), then the device's own check of the id (tm_attest_verify)
    if (crypto_sign_verify_detached(st.signature, raw, TM_ATTEST_STATEMENT_BYTES, st.device_public_key) != 0) {
        r.reason = QStringLiteral("the signature does not verify with the device key the answer carries: a byte "
                                  "of the answer was changed, or another key signed it");
        return r;
    }
    tm_attest_t again;
    const tm_attest_status_t checked = tm_attest_verify(raw, size_t(reply.size()), &again);
    if (checked != TM_ATTEST_OK) {
        r.reason = QString::fromLatin1(tm_attest_status_name(checked));
        return r;
    }
    if (sentNonce.size() != int(TM_ATTEST_NONCE_BYTES) || r.nonce != sentNonce) {
        r.reason = QStringLiteral("the answer carries nonce %1, not the %2 this host sent: a replayed (old) answer")
                       .arg(QString::fromLatin1(r.nonce.toHex().left(16)) + QStringLiteral("..."),
                            QString::fromLatin1(sentNonce.toHex().left(16)) + QStringLiteral("..."));
        return r;
    }
    if (expectedDeviceKey.isEmpty()) {
        r.reason = QStringLiteral("this host has no record of provisioning device %1 (devices.json beside the "
                                  "signing keys): the signature is valid, but nothing says the key is the board's")
                       .arg(r.deviceId);
        return r;
    }
    if (expectedDeviceKey != r.devicePublicKey) {
        r.reason = QStringLiteral("the device key %1 is not the one recorded when the board was provisioned (%2)")
                       .arg(r.deviceId, hex8(expectedDeviceKey.left(8)));
        return r;
    }
    if (!expectedPackage.isEmpty()) {
        if (!r.hasPackage) {
            r.reason = QStringLiteral("the board runs no package, the host expected one of %1 bytes")
                           .arg(expectedPackage.size());
            return r;
        }
        if (sha512(expectedPackage) != r.packageHash) {
            r.reason = QStringLiteral("the board's active package (%1 bytes, SHA-512 %2...) is not the expected "
                                      "file (%3 bytes, SHA-512 %4...)")
                           .arg(r.packageSize)
                           .arg(QString::fromLatin1(r.packageHash.toHex().left(16)))
                           .arg(expectedPackage.size())
                           .arg(QString::fromLatin1(sha512(expectedPackage).toHex().left(16)));
            return r;
        }
    }
    r.verified = true;
    return r;
}

} // namespace tinyml::crypto
