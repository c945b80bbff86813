#pragma once
// Flasher: puts a model package onto an agent-equipped board (a virtual board or a real
// board running the agent) over the agent protocol, and the checks that come first.
//
// checkPackageFits() refuses, before anything is sent, a package the agent cannot run:
// a package version or an op code the agent's interpreter does not list in INFO
// MODEL_FORMAT, an arena plus kernel scratch larger than INFO RAM_FREE, a package larger than one model slot
// (INFO FLASH_FREE). flash() then skips the upload when the board's active slot already
// holds these exact bytes (same size and CRC-32, from MODEL_INFO) unless forced, uploads
// with MODEL_BEGIN / MODEL_CHUNK / MODEL_COMMIT, and verifies with MODEL_INFO. An upload
// cut short never touches the active slot (PROTOCOL.md), so the previous model keeps running.
//
// Threading: blocking calls on the AgentLink's thread (local event loops while waiting).

#include <QByteArray>
#include <QString>
#include <QVector>

#include <functional>
#include <optional>

namespace tinyml {
class AgentLink;
struct DeviceInfo;
}

namespace tinyml::deploy {

/// What the checks need to know about a package (ModelPackageReader + PackageStats).
struct PackageRequirements {
    int formatVersion = 0;
    QVector<int> opCodes;          ///< one per op record, package order
    qint64 packageBytes = 0;
    qint64 arenaBytes = 0;         ///< the activations' arena (header.arena_size)
    qint64 deviceArenaBytes = 0;   ///< arena + the largest kernel scratch (KernelScratch.h)
};

/// Reads the requirements from package bytes (validated by ModelPackageReader).
std::optional<PackageRequirements> packageRequirements(const QByteArray &package, QString *error);

/// Empty when the package can go onto the board INFO describes; otherwise the reason,
/// naming the numbers ("arena of 70 KB exceeds the 64 KB RAM_FREE of qemu-m4").
QString checkPackageFits(const DeviceInfo &info, const PackageRequirements &req, const QString &boardName);

/// Name of a package op code ("conv2d"), or "op N" for codes the host does not know.
QString packageOpName(int opCode);

struct FlashOutcome {
    bool uploaded = false;         ///< false: the board already ran this package
    int slot = -1;                 ///< the active slot afterwards
    quint32 crc = 0;               ///< CRC-32 of the package
    qint64 bytes = 0;
};

class Flasher
{
public:
    /// Checks, uploads when needed, verifies. progress(sent, total) after each chunk.
    static std::optional<FlashOutcome> flash(AgentLink *link, const QByteArray &package, bool force,
                                             const std::function<void(qint64, qint64)> &progress,
                                             QString *error);
};

} // namespace tinyml::deploy
