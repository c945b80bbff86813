#pragma once
// Flasher: puts a model package onto an agent-equipped board (a virtual board or a real
// board running the agent) over the agent protocol, and the checks that come first.
//
// checkPackageFits() refuses, before anything is sent, a package the agent cannot run:
// an impulse (version 2) on an agent without INFO IMPULSE, or needing a DSP block or a
// post-processing feature INFO IMPULSE does not list, or a window (plus one stride, the
// ring PROTOCOL.md asks for) larger than the agent's ring, or a work buffer larger than its
// own; a package version newer or an op code the agent's interpreter does not list in INFO
// MODEL_FORMAT, an arena plus kernel scratch larger than INFO RAM_FREE, a package larger than one model slot
// (INFO FLASH_FREE). flash() then skips the upload when the board's active slot already
// holds these exact bytes (same size and CRC-32, from MODEL_INFO) unless forced, uploads
// with MODEL_BEGIN / MODEL_CHUNK / MODEL_COMMIT (AgentLink::uploadModel), and verifies with
// MODEL_INFO. This is the one upload path of a project's model: `tinyml flash`, `classify`,
// `profile` (the Profiler calls it) and the Deployment page. On a provisioned board
// (issue 17) the signed package of the model is uploaded instead of the bare one. An upload
// cut short never touches the active slot (PROTOCOL.md), so the previous model keeps running.
// With a benchmark id (MLPerf Tiny: kws01, vww01, ic01, ad01) the id goes with MODEL_COMMIT and
// the agent answers it to the runner's `profile%`; the upload is skipped only when the board
// also holds that id (MODEL_INFO flag 0x01). An agent older than the ids gets the package
// without one (FlashOutcome::benchmarkIdKept false) rather than a refused commit.
//
// Threading: blocking calls on the AgentLink's thread (local event loops while waiting).

#include "SignedPackages.h"

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

/// What a version-2 package's impulse needs from the agent (INFO IMPULSE).
struct ImpulseRequirements {
    int formatVersion = 1;         ///< impulse section version
    int dspBlock = 0;              ///< features::BlockKind code
    quint32 postFeatures = 0;      ///< tm_impulse_post_feature_t bits the post-processing uses
    int channels = 1;
    qint64 windowFrames = 0;
    qint64 strideFrames = 0;
    qint64 workBytes = 0;          ///< tm_impulse_work_bytes() (the device's own computation)
};

/// What the checks need to know about a package (ModelPackageReader + PackageStats).
struct PackageRequirements {
    int formatVersion = 0;
    QVector<int> opCodes;          ///< one per op record, package order
    qint64 packageBytes = 0;
    qint64 arenaBytes = 0;         ///< the activations' arena (header.arena_size)
    qint64 deviceArenaBytes = 0;   ///< arena + the largest kernel scratch (KernelScratch.h)
    std::optional<ImpulseRequirements> impulse;   ///< version 2 packages
};

/// Reads the requirements from package bytes (validated by ModelPackageReader).
std::optional<PackageRequirements> packageRequirements(const QByteArray &package, QString *error);

/// Empty when the package can go onto the board INFO describes; otherwise the reason,
/// naming the numbers ("arena of 70 KB exceeds the 64 KB RAM_FREE of qemu-m4").
QString checkPackageFits(const DeviceInfo &info, const PackageRequirements &req, const QString &boardName);

/// The impulse part of checkPackageFits(): empty when the agent INFO describes runs it.
QString checkImpulseFits(const DeviceInfo &info, const ImpulseRequirements &req, const QString &boardName);

/// Name of a package op code ("conv2d"), or "op N" for codes the host does not know.
QString packageOpName(int opCode);

/// Empty when `id` can be a benchmark id on the agent (1..8 of A-Z a-z 0-9 . _ -);
/// otherwise why not.
QString checkBenchmarkId(const QString &id);

/// The MLPerf Tiny benchmark id a model's name implies: the id itself when the name contains
/// one (`kws01`), else kws01 for keyword spotting (kws, keyword, ds-cnn), vww01 for visual wake
/// words (vww, wake word, person, mobilenet), ad01 for anomaly detection (anomaly, autoencoder,
/// toycar), ic01 for image classification (image, cifar, resnet) — MLPerf Tiny's reference
/// models; empty when the name says none of these.
QString defaultBenchmarkId(const QString &modelName);

struct FlashOutcome {
    bool uploaded = false;         ///< false: the board already ran this package
    int slot = -1;                 ///< the active slot afterwards
    quint32 crc = 0;               ///< CRC-32 of the package
    qint64 bytes = 0;
    QString benchmarkId;           ///< the id the active slot holds afterwards (asked for one)
    bool benchmarkIdKept = true;   ///< false: the agent predates benchmark ids and has none
    bool isSigned = false;         ///< the bytes on the board are a signed package of the package
};

class Flasher
{
public:
    /// Checks, uploads when needed, verifies. progress(sent, total) after each chunk.
    /// benchmarkId: empty, or an id checkBenchmarkId() accepts. signedUpload: the signed
    /// packages that may carry package (chooseUpload(), SignedPackages.h): the matching one is
    /// what goes to the board; a provisioned board without one is refused before anything is
    /// sent. FlashOutcome's bytes and CRC are those of what the board holds.
    static std::optional<FlashOutcome> flash(AgentLink *link, const QByteArray &package, bool force,
                                             const std::function<void(qint64, qint64)> &progress,
                                             QString *error, const QString &benchmarkId = {},
                                             const SignedUpload &signedUpload = {});
};

} // namespace tinyml::deploy
