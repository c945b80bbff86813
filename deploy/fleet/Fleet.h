#pragma once
// Fleets (issue 17): a named list of boards a project ships models to. A member is a board on
// a serial port, or a virtual board the workbench starts with its own state folder (so six
// "host" members are six devices, each with its own slots, key and identity).
//
// The fleet's record lives in the project file (ProjectStore::saveFleet) as the JSON of
// Fleet::toJson(). MemberConnection opens one member (starts its virtual board, or opens and
// handshakes its port); provisionMember / attestMember are what `tinyml provision` and
// `tinyml attest` do, for one member, as library calls.
//
// Threading: everything here blocks in local event loops (CLI use); one member at a time.

#include "device/AgentLink.h"
#include "device/BoardRegistry.h"
#include "device/VirtualBoard.h"

#include <QJsonObject>
#include <QString>
#include <QVector>

#include <memory>
#include <optional>

namespace tinyml::deploy::fleet {

struct FleetMember {
    QString name;                 ///< unique in its fleet: "host-1", or the port's name
    QString board;                ///< registry id: "host", "qemu-m4", "nucleo-l4r5zi"
    QString port;                 ///< serial port of a real board; empty: a virtual board
    int baud = 115200;
    QString stateDirectory;       ///< a virtual member's own state folder (flash file)
    bool isVirtual() const { return port.isEmpty(); }
    /// The label recorded for its device identity (devices.json): "<fleet>/<member>".
    QString identityLabel(const QString &fleet) const { return fleet + QLatin1Char('/') + name; }
    QJsonObject toJson() const;
};

struct Fleet {
    QString name;
    QVector<FleetMember> members;
    QJsonObject toJson() const;
    /// nullopt with *error naming the field when the record is malformed.
    static std::optional<Fleet> fromJson(const QString &name, const QJsonObject &json, QString *error);
    const FleetMember *member(const QString &memberName) const;
};

/// Where a virtual member keeps its state: <virtual boards folder>/fleet-<fleet>/<member>
/// (VirtualBoard::defaultStateDirectory, so TINYML_VIRTUAL_BOARDS_DIR moves it).
QString virtualMemberStateDirectory(const QString &fleet, const QString &member);

/// A fleet or member name: letters, digits, '-', '_', '.', 1 to 64 characters (it becomes a
/// folder name). Empty when acceptable, else why not.
QString checkName(const QString &what, const QString &name);

/// One member, connected.
class MemberConnection
{
public:
    MemberConnection();
    ~MemberConnection();
    MemberConnection(const MemberConnection &) = delete;
    MemberConnection &operator=(const MemberConnection &) = delete;

    /// Starts the member's virtual board or opens and handshakes its port. *error names the member.
    bool open(const FleetMember &member, const BoardRegistry &registry, QString *error);
    void close();
    AgentLink *link() const { return m_link; }
    const BoardDefinition &definition() const { return m_definition; }
    VirtualBoard *virtualBoard() const { return m_board.get(); }

private:
    std::unique_ptr<VirtualBoard> m_board;
    std::unique_ptr<AgentLink> m_ownedLink;
    AgentLink *m_link = nullptr;
    BoardDefinition m_definition;
};

/// What provisionMember did.
struct ProvisionOutcome {
    QString keyId;
    bool alreadyProvisioned = false;
    QString deviceId;             ///< empty: the agent keeps no identity
    bool newIdentity = false;
    bool recordedOnFirstUse = false; ///< the board had an identity this host had not recorded
    quint32 counter = 0;
};

/// PROVISION with the project key (and a fresh device identity when the agent keeps one,
/// recorded in keysDir/devices.json under label). nullopt with *error.
std::optional<ProvisionOutcome> provisionLink(AgentLink *link, const QString &label, const QByteArray &publicKey,
                                              const QString &expectedKeyId, const QString &keysDir, QString *error);

/// The attested facts a rollout keeps.
struct AttestedState {
    bool verified = false;
    QString reason;
    QString deviceId;
    QString packageSha512;        ///< hex; empty: no active package
    quint32 packageVersion = 0;
    quint32 packageBytes = 0;
    quint32 counter = 0;
    quint32 errorReplies = 0;
    QJsonObject toJson() const;
};


/// ATTEST with a fresh nonce, judged against the identity recorded for the device (and, when
/// given, the exact package file). A reply that cannot be obtained is an error (nullopt);
/// a reply that does not verify comes back with verified false and its reason.
std::optional<AttestedState> attestLink(AgentLink *link, const QString &label, const QString &keysDir,
                                               const QByteArray &expectedPackage, QString *error);

} // namespace tinyml::deploy::fleet
