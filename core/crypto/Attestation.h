#pragma once
// Device attestation (issue 17, `tinyml attest`): the host's judgement of a board's ATTEST
// reply. The statement's layout is the device's own C code (firmware-agent/crypto/tm_attest.h);
// the signature is checked with libsodium over the exact statement bytes the board sent.
//
// Verified means all of: the reply parses; its device id is the key id of its device key;
// the Ed25519 signature verifies with that key; the nonce is the one this host just sent
// (no replay of an older answer); the device key is the one recorded when this host
// provisioned the board (ProvisionedDevices); and, when the host knows which package it
// flashed, the active package's SHA-512 equals that file's.
//
// Threading: free functions without shared state.

#include <QByteArray>
#include <QString>

namespace tinyml::crypto
{

struct AttestationResult {
    bool parsed = false;   ///< the layout was readable (the fields below are filled)
    bool verified = false; ///< every check passed
    QString reason;        ///< the first failed check in plain words; "" when verified

    QString deviceId;            ///< 16 hex digits
    QByteArray devicePublicKey;  ///< 32 bytes
    QByteArray nonce;            ///< 32 bytes, as echoed
    bool hasFirmwareHash = false;
    QByteArray firmwareHash;     ///< 64 bytes (zeros when !hasFirmwareHash)
    bool hasPackage = false;
    QByteArray packageHash;      ///< 64 bytes
    quint32 packageSize = 0;
    quint32 packageVersion = 0;
    quint32 counter = 0;         ///< anti-rollback counter
    bool projectKeyProvisioned = false;
    QString projectKeyId;
    quint32 framesDropped = 0;
    quint32 errorReplies = 0;
    quint64 uptimeTicks = 0;
    int activeSlot = -1;         ///< -1: none
};

/// A device identity for PROVISION: a fresh random 32-byte seed (the secret, for the board
/// only) and its Ed25519 public key (libsodium crypto_sign_seed_keypair).
struct DeviceIdentity {
    QByteArray seed;      ///< 32 bytes: send it, then wipeSecret() it
    QByteArray publicKey; ///< 32 bytes
};
DeviceIdentity newDeviceIdentity();
/// Overwrites the bytes with zeros in a way the compiler keeps (sodium_memzero).
void wipeSecret(QByteArray &secret);

/// A fresh 32-byte nonce from the operating system's generator (libsodium randombytes).
QByteArray attestationNonce();

/// Judges an ATTEST reply. sentNonce: the nonce of this request. expectedDeviceKey: the
/// device public key recorded at provisioning (empty: the host has no record, which fails
/// with a reason saying so). expectedPackage: the package file the host flashed (empty:
/// unknown, the package hash is reported but not compared).
AttestationResult verifyAttestation(const QByteArray &reply, const QByteArray &sentNonce,
                                    const QByteArray &expectedDeviceKey, const QByteArray &expectedPackage = {});

/// SHA-512 (libsodium), what the statement's hashes are.
QByteArray sha512(const QByteArray &bytes);

} // namespace tinyml::crypto
