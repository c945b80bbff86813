#include "Fleet.h"

#include "crypto/Attestation.h"
#include "crypto/ProvisionedDevices.h"
#include "crypto/SigningKeyStore.h"
#include "tm_attest.h"

#include <QDir>
#include <QJsonArray>
#include <QRegularExpression>
#include <QSet>

namespace tinyml::deploy::fleet {

QJsonObject FleetMember::toJson() const
{
    QJsonObject o{{QStringLiteral("name"), name}, {QStringLiteral("board"), board}};
    if (isVirtual()) {
        o.insert(QStringLiteral("state_dir"), stateDirectory);
    } else {
        o.insert(QStringLiteral("port"), port);
        o.insert(QStringLiteral("baud"), baud);
    }
    return o;
}

QJsonObject Fleet::toJson() const
{
    QJsonArray list;
    for (const FleetMember &m : members)
        list.append(m.toJson());
    return {{QStringLiteral("format"), 1}, {QStringLiteral("members"), list}};
}

std::optional<Fleet> Fleet::fromJson(const QString &name, const QJsonObject &json, QString *error)
{
    auto bad = [&](const QString &why) {
        *error = QStringLiteral("fleet \"%1\": %2").arg(name, why);
        return std::nullopt;
    };
    if (json.value(QStringLiteral("format")).toInt() != 1)
        return bad(QStringLiteral("field format: %1 is not a format this build reads (1)")
                       .arg(json.value(QStringLiteral("format")).toVariant().toString()));
    if (!json.value(QStringLiteral("members")).isArray())
        return bad(QStringLiteral("field members: not a list"));
    Fleet f;
    f.name = name;
    QSet<QString> seen;
    const QJsonArray list = json.value(QStringLiteral("members")).toArray();
    for (int i = 0; i < list.size(); ++i) {
        const QJsonObject o = list[i].toObject();
        FleetMember m;
        m.name = o.value(QStringLiteral("name")).toString();
        m.board = o.value(QStringLiteral("board")).toString();
        m.port = o.value(QStringLiteral("port")).toString();
        m.baud = o.value(QStringLiteral("baud")).toInt(115200);
        m.stateDirectory = o.value(QStringLiteral("state_dir")).toString();
        const QString why = checkName(QStringLiteral("member"), m.name);
        if (!why.isEmpty())
            return bad(QStringLiteral("members[%1].name: %2").arg(i).arg(why));
        if (seen.contains(m.name))
            return bad(QStringLiteral("members[%1].name: \"%2\" appears twice").arg(i).arg(m.name));
        seen.insert(m.name);
        if (m.isVirtual() && (m.board.isEmpty() || m.stateDirectory.isEmpty()))
            return bad(QStringLiteral("members[%1]: a virtual member needs board and state_dir").arg(i));
        f.members.append(m);
    }
    return f;
}

const FleetMember *Fleet::member(const QString &memberName) const
{
    for (const FleetMember &m : members)
        if (m.name == memberName)
            return &m;
    return nullptr;
}

QString virtualMemberStateDirectory(const QString &fleet, const QString &member)
{
    return QDir(VirtualBoard::defaultStateDirectory(QStringLiteral("fleet-") + fleet)).filePath(member);
}

QString checkName(const QString &what, const QString &name)
{
    static const QRegularExpression ok(QStringLiteral("^[A-Za-z0-9_.-]{1,64}$"));
    if (!ok.match(name).hasMatch() || name.startsWith(QLatin1Char('.')))
        return QStringLiteral("%1 name \"%2\" must be 1 to 64 letters, digits, '-', '_' or '.' (not starting with '.')")
            .arg(what, name);
    return {};
}

// --- connections ---------------------------------------------------------------------------

MemberConnection::MemberConnection() = default;
MemberConnection::~MemberConnection() { close(); }

void MemberConnection::close()
{
    if (m_board)
        m_board->stop();
    m_board.reset();
    if (m_ownedLink)
        m_ownedLink->close();
    m_ownedLink.reset();
    m_link = nullptr;
}

bool MemberConnection::open(const FleetMember &member, const BoardRegistry &registry, QString *error)
{
    close();
    QString why;
    if (member.isVirtual()) {
        const BoardDefinition *def = registry.board(member.board);
        if (!def) {
            *error = QStringLiteral("%1: unknown board %2").arg(member.name, member.board);
            return false;
        }
        if (!def->isVirtual) {
            *error = QStringLiteral("%1: %2 is a real board; a member on it needs a port").arg(member.name, def->id);
            return false;
        }
        m_definition = *def;
        VirtualBoard::Options options;
        options.stateDirectory = member.stateDirectory;
        m_board = std::make_unique<VirtualBoard>(*def, options);
        if (!m_board->start(&why)) {
            *error = QStringLiteral("%1: %2").arg(member.name, why);
            m_board.reset();
            return false;
        }
        m_link = m_board->link();
        return true;
    }
    m_ownedLink = std::make_unique<AgentLink>();
    m_link = m_ownedLink.get();
    m_link->setPortName(member.port);
    m_link->setBaudRate(member.baud);
    if (!m_link->open(&why) || !m_link->handshake(10, 500, &why)) {
        *error = QStringLiteral("%1 (%2): %3").arg(member.name, member.port, why);
        close();
        return false;
    }
    const QString agentBoard = m_link->info().boardId;
    if (const BoardDefinition *def = registry.boardForAgentId(agentBoard)) {
        m_definition = *def;
    } else {
        m_definition.id = agentBoard;
        m_definition.name = agentBoard;
        m_definition.clockHz = m_link->info().clockHz;
    }
    return true;
}

// --- provisioning and attestation ------------------------------------------------------------

std::optional<ProvisionOutcome> provisionLink(AgentLink *link, const QString &label, const QByteArray &publicKey,
                                              const QString &expectedKeyId, const QString &keysDir, QString *error)
{
    ProvisionOutcome out;
    const auto before = link->info().security;
    out.alreadyProvisioned = before && before->provisioned && before->keyId == expectedKeyId;
    std::optional<QString> boardKey;
    if (link->supportsAttestation()) {
        auto identity = crypto::newDeviceIdentity();
        if (identity.seed.size() != 32) {
            *error = QStringLiteral("cannot draw a random device identity (libsodium)");
            return std::nullopt;
        }
        const QByteArray pk = identity.publicKey;
        const auto reply = link->provisionWithIdentity(publicKey, identity.seed, error);
        crypto::wipeSecret(identity.seed);
        if (!reply)
            return std::nullopt;
        boardKey = reply->keyId;
        out.newIdentity = reply->devicePublicKey == pk;
        out.deviceId = crypto::SigningKeyStore::keyId(reply->devicePublicKey);
        crypto::ProvisionedDevices devices(keysDir);
        QString findError;
        const auto known = devices.find(out.deviceId, &findError);
        if (!findError.isEmpty()) {
            *error = findError;
            return std::nullopt;
        }
        out.recordedOnFirstUse = !out.newIdentity && !known;
        crypto::ProvisionedDevice d{out.deviceId, label, reply->devicePublicKey, expectedKeyId,
                                    known ? known->provisioned : QDateTime::currentDateTimeUtc()};
        if (!devices.record(d, error))
            return std::nullopt;
    } else {
        boardKey = link->provision(publicKey, error);
        if (!boardKey)
            return std::nullopt;
    }
    if (*boardKey != expectedKeyId) {
        *error = QStringLiteral("the board reports key id %1 for key %2: the agent computes key ids differently")
                     .arg(*boardKey, expectedKeyId);
        return std::nullopt;
    }
    out.keyId = *boardKey;
    const auto after = link->info().security;
    out.counter = after ? after->antiRollbackCounter : 0;
    return out;
}

QJsonObject AttestedState::toJson() const
{
    return {{QStringLiteral("verified"), verified},
            {QStringLiteral("reason"), reason},
            {QStringLiteral("device_id"), deviceId},
            {QStringLiteral("package_sha512"), packageSha512},
            {QStringLiteral("package_version"), double(packageVersion)},
            {QStringLiteral("package_bytes"), double(packageBytes)},
            {QStringLiteral("counter"), double(counter)},
            {QStringLiteral("error_replies"), double(errorReplies)}};
}

std::optional<AttestedState> attestLink(AgentLink *link, const QString &label, const QString &keysDir,
                                        const QByteArray &expectedPackage, QString *error)
{
    const QByteArray nonce = crypto::attestationNonce();
    if (nonce.size() != 32) {
        *error = QStringLiteral("cannot draw a random nonce (libsodium)");
        return std::nullopt;
    }
    const auto reply = link->attest(nonce, error);
    if (!reply)
        return std::nullopt;
    QByteArray expectedKey;
    QString mismatch;
    tm_attest_t peek;
    if (tm_attest_parse(reinterpret_cast<const uint8_t *>(reply->constData()), size_t(reply->size()), &peek) ==
        TM_ATTEST_OK) {
        const QString id = QString::fromLatin1(QByteArray(reinterpret_cast<const char *>(peek.device_id), 8).toHex());
        crypto::ProvisionedDevices devices(keysDir);
        QString findError;
        const auto known = devices.find(id, &findError);
        if (!findError.isEmpty()) {
            *error = findError;
            return std::nullopt;
        }
        if (known && known->board != label)
            mismatch = QStringLiteral("device %1 was provisioned as %2, it answers as %3").arg(id, known->board, label);
        else if (known)
            expectedKey = known->devicePublicKey;
    }
    const crypto::AttestationResult r = crypto::verifyAttestation(*reply, nonce, expectedKey, expectedPackage);
    AttestedState s;
    s.verified = r.verified && mismatch.isEmpty();
    s.reason = mismatch.isEmpty() ? r.reason : mismatch;
    s.deviceId = r.deviceId;
    if (r.hasPackage)
        s.packageSha512 = QString::fromLatin1(r.packageHash.toHex());
    s.packageVersion = r.packageVersion;
    s.packageBytes = r.packageSize;
    s.counter = r.counter;
    s.errorReplies = r.errorReplies;
    return s;
}

} // namespace tinyml::deploy::fleet
