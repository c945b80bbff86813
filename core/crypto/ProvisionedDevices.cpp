#include "crypto/ProvisionedDevices.h"

#include "crypto/SigningKeyStore.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>

#include <algorithm>

namespace tinyml::crypto
{

namespace
{
const QString kFormat = QStringLiteral("tinyml-provisioned-devices");

bool isHex(const QString &s, int digits)
{
    if (s.size() != digits)
        return false;
    return std::all_of(s.begin(), s.end(), [](QChar c) {
        return (c >= QLatin1Char('0') && c <= QLatin1Char('9')) || (c >= QLatin1Char('a') && c <= QLatin1Char('f'));
    });
}
} // namespace

ProvisionedDevices::ProvisionedDevices(QString dir) : m_dir(std::move(dir)) {}

QString ProvisionedDevices::filePath() const
{
    return m_dir + QStringLiteral("/devices.json");
}

std::optional<QList<ProvisionedDevice>> ProvisionedDevices::list(QString *error) const
{
    QList<ProvisionedDevice> out;
    QFile f(filePath());
    if (!f.exists())
        return out;
    if (!f.open(QIODevice::ReadOnly)) {
        if (error)
            *error = QStringLiteral("%1: cannot read: %2").arg(filePath(), f.errorString());
        return std::nullopt;
    }
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(f.readAll(), &pe);
    auto bad = [&](const QString &what) {
        if (error)
            *error = QStringLiteral("%1: %2").arg(filePath(), what);
        return std::nullopt;
    };
    if (pe.error != QJsonParseError::NoError)
        return bad(QStringLiteral("not JSON (%1 at offset %2)").arg(pe.errorString()).arg(pe.offset));
    const QJsonObject root = doc.object();
    if (root.value(QStringLiteral("format")).toString() != kFormat)
        return bad(QStringLiteral("field \"format\" is not \"%1\"").arg(kFormat));
    if (root.value(QStringLiteral("version")).toInt() != 1)
        return bad(QStringLiteral("field \"version\": only 1 is known"));
    const QJsonArray devices = root.value(QStringLiteral("devices")).toArray();
    for (int i = 0; i < devices.size(); ++i) {
        const QJsonObject o = devices.at(i).toObject();
        ProvisionedDevice d;
        d.deviceId = o.value(QStringLiteral("device_id")).toString();
        d.board = o.value(QStringLiteral("board")).toString();
        const QString pk = o.value(QStringLiteral("device_public_key")).toString();
        d.projectKeyId = o.value(QStringLiteral("project_key_id")).toString();
        d.provisioned = QDateTime::fromString(o.value(QStringLiteral("provisioned")).toString(), Qt::ISODate);
        const QString where = QStringLiteral("devices[%1]").arg(i);
        if (!isHex(pk, 64))
            return bad(QStringLiteral("%1.device_public_key: 64 lowercase hex digits expected").arg(where));
        d.devicePublicKey = QByteArray::fromHex(pk.toLatin1());
        if (d.deviceId != SigningKeyStore::keyId(d.devicePublicKey))
            return bad(QStringLiteral("%1.device_id: not the key id of device_public_key").arg(where));
        if (d.board.isEmpty())
            return bad(QStringLiteral("%1.board: missing").arg(where));
        if (!d.projectKeyId.isEmpty() && !isHex(d.projectKeyId, 16))
            return bad(QStringLiteral("%1.project_key_id: 16 lowercase hex digits expected").arg(where));
        out.append(d);
    }
    return out;
}

std::optional<ProvisionedDevice> ProvisionedDevices::find(const QString &deviceId, QString *error) const
{
    if (error)
        error->clear();
    const auto all = list(error);
    if (!all)
        return std::nullopt;
    for (const auto &d : *all)
        if (d.deviceId == deviceId)
            return d;
    return std::nullopt;
}

std::optional<QList<ProvisionedDevice>> ProvisionedDevices::forBoard(const QString &board, QString *error) const
{
    auto all = list(error);
    if (!all)
        return std::nullopt;
    QList<ProvisionedDevice> out;
    for (const auto &d : *all)
        if (d.board == board)
            out.append(d);
    std::stable_sort(out.begin(), out.end(),
                     [](const ProvisionedDevice &a, const ProvisionedDevice &b) { return a.provisioned > b.provisioned; });
    return out;
}

bool ProvisionedDevices::record(const ProvisionedDevice &device, QString *error)
{
    auto all = list(error);
    if (!all)
        return false;
    QJsonArray devices;
    bool replaced = false;
    auto toJson = [](const ProvisionedDevice &d) {
        return QJsonObject{{QStringLiteral("device_id"), d.deviceId},
                           {QStringLiteral("board"), d.board},
                           {QStringLiteral("device_public_key"), QString::fromLatin1(d.devicePublicKey.toHex())},
                           {QStringLiteral("project_key_id"), d.projectKeyId},
                           {QStringLiteral("provisioned"), d.provisioned.toUTC().toString(Qt::ISODate)}};
    };
    for (const auto &d : *all) {
        if (d.deviceId == device.deviceId) {
            devices.append(toJson(device));
            replaced = true;
        } else {
            devices.append(toJson(d));
        }
    }
    if (!replaced)
        devices.append(toJson(device));
    if (!QDir().mkpath(m_dir)) {
        if (error)
            *error = QStringLiteral("cannot create the key folder %1").arg(m_dir);
        return false;
    }
    const QJsonObject root{{QStringLiteral("format"), kFormat}, {QStringLiteral("version"), 1},
                           {QStringLiteral("devices"), devices}};
    QSaveFile f(filePath());
    if (!f.open(QIODevice::WriteOnly)) {
        if (error)
            *error = QStringLiteral("%1: cannot write: %2").arg(filePath(), f.errorString());
        return false;
    }
    f.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    f.write(QJsonDocument(root).toJson(QJsonDocument::Indented));
    if (!f.commit()) {
        if (error)
            *error = QStringLiteral("%1: cannot write: %2").arg(filePath(), f.errorString());
        return false;
    }
    QFile::setPermissions(filePath(), QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    return true;
}

} // namespace tinyml::crypto
