#pragma once
// The devices this user provisioned with an identity (issue 17, attestation): for each, the
// device identity PUBLIC key the board reported at `tinyml provision`, so that `tinyml attest`
// can tell the board it provisioned from any other signer. The secret half never leaves the
// board (the host generates the seed, sends it in PROVISION and forgets it).
//
// One file next to the signing keys (SigningKeyStore::defaultDirectory()), mode 0600:
//   devices.json  {"format": "tinyml-provisioned-devices", "version": 1, "devices": [
//                  {"device_id" (16 hex, the key id of the device key), "board" (board id),
//                   "device_public_key" (64 hex), "project_key_id" (16 hex),
//                   "provisioned" (ISO 8601 UTC)}, ...]}
// keyed by device_id: several boards of one kind each keep their own record.
//
// Threading: no shared state; one object per thread.

#include <QByteArray>
#include <QDateTime>
#include <QList>
#include <QString>

#include <optional>

namespace tinyml::crypto
{

struct ProvisionedDevice {
    QString deviceId;          ///< 16 hex digits: SigningKeyStore::keyId(devicePublicKey)
    QString board;             ///< board id (INFO BOARD_ID / resources/boards)
    QByteArray devicePublicKey; ///< 32 bytes
    QString projectKeyId;      ///< the signing key the board was locked to
    QDateTime provisioned;     ///< UTC
};

class ProvisionedDevices
{
  public:
    /// dir: the key folder (created on first write).
    explicit ProvisionedDevices(QString dir);

    QString filePath() const;

    /// Every record; an absent file is an empty list. A malformed file: nullopt and *error
    /// naming the file and the field.
    std::optional<QList<ProvisionedDevice>> list(QString *error) const;

    /// The record of deviceId, or nullopt (*error empty when there is none, set when the file
    /// cannot be read).
    std::optional<ProvisionedDevice> find(const QString &deviceId, QString *error) const;

    /// The records of one board id, newest first.
    std::optional<QList<ProvisionedDevice>> forBoard(const QString &board, QString *error) const;

    /// Adds or replaces the record of device.deviceId, rewriting the file (0600).
    bool record(const ProvisionedDevice &device, QString *error);

  private:
    QString m_dir;
};

} // namespace tinyml::crypto
