#include "Flasher.h"

#include "ImpulseReplay.h"
#include "KernelScratch.h"
#include "ModelPackageReader.h"

#include "device/AgentLink.h"
#include "features/FeatureParams.h"
#include "model/Graph.h"
#include "tm_flash_image.h"
#include "tm_frame.h"
#include "tm_impulse.h"

#include <algorithm>

#include <QRegularExpression>

namespace tinyml::deploy {

namespace {

QString kb(qint64 bytes)
{
    return bytes >= 10 * 1024 ? QStringLiteral("%1 KB").arg(double(bytes) / 1024.0, 0, 'f', 1)
                              : QStringLiteral("%1 bytes").arg(bytes);
}

quint32 crcOf(const QByteArray &bytes)
{
    return tm_crc32(0, reinterpret_cast<const uint8_t *>(bytes.constData()), size_t(bytes.size()));
}

/// The active slot's benchmark id (MODEL_INFO flag 0x01); supported false on agents that
/// predate the ids (they answer the flag BAD_LENGTH).
struct SlotBenchmarkId {
    bool supported = false;
    QString id;
};

std::optional<SlotBenchmarkId> readBenchmarkId(AgentLink *link, QString *error)
{
    SlotBenchmarkId out;
    auto reply = link->request(TM_OP_MODEL_INFO, QByteArray(1, char(1)), AgentLink::kDefaultTimeoutMs, error);
    if (!reply) {
        const auto agentError = link->lastAgentError();
        if (agentError && agentError->code == TM_ERR_BAD_LENGTH)
            return out;
        return std::nullopt;
    }
    const QByteArray &p = reply->payload;
    if (p.size() < 11 || p.size() != 11 + quint8(p[10])) {
        if (error)
            *error = QStringLiteral("MODEL_INFO reply with benchmark id has %1 bytes, expected 11 + its "
                                    "id length (PROTOCOL.md)").arg(p.size());
        return std::nullopt;
    }
    out.supported = true;
    out.id = QString::fromLatin1(p.mid(11));
    return out;
}

} // namespace

QString checkBenchmarkId(const QString &id)
{
    if (id.isEmpty() || id.size() > int(TM_BENCHMARK_ID_MAX))
        return QStringLiteral("benchmark id \"%1\" must have 1 to %2 characters").arg(id).arg(TM_BENCHMARK_ID_MAX);
    for (QChar c : id)
        if (c.unicode() > 0x7F || !tm_benchmark_id_char_ok(uint8_t(c.unicode())))
            return QStringLiteral("benchmark id \"%1\": character '%2' is not one of A-Z a-z 0-9 . _ -").arg(id, c);
    return {};
}

QString defaultBenchmarkId(const QString &modelName)
{
    const QString n = modelName.toLower();
    static const QRegularExpression explicitId(QStringLiteral("(?:^|[^a-z0-9])(kws|vww|ic|ad)(\\d\\d)(?:$|[^0-9])"));
    const auto m = explicitId.match(n);
    if (m.hasMatch())
        return m.captured(1) + m.captured(2);
    const auto has = [&](std::initializer_list<const char *> words) {
        for (const char *w : words)
            if (n.contains(QLatin1String(w)))
                return true;
        return false;
    };
    if (has({"kws", "keyword", "ds-cnn", "dscnn"}))
        return QStringLiteral("kws01");
    if (has({"vww", "wake word", "wakeword", "wake-word", "person", "mobilenet"}))
        return QStringLiteral("vww01");
    if (has({"anomaly", "autoencoder", "toycar"}))
        return QStringLiteral("ad01");
    if (has({"image", "cifar", "resnet"}))
        return QStringLiteral("ic01");
    return {};
}

QString packageOpName(int opCode)
{
    if (opCode >= 0 && opCode <= int(model::OpType::Clip))
        return model::opName(model::OpType(opCode));
    return QStringLiteral("op %1").arg(opCode);
}

std::optional<PackageRequirements> packageRequirements(const QByteArray &package, QString *error)
{
    auto pkg = ModelPackageReader::read(package, error);
    if (!pkg)
        return std::nullopt;
    PackageRequirements r;
    r.formatVersion = pkg->version;
    for (const PackageOp &op : pkg->ops)
        r.opCodes.append(int(op.op));
    r.packageBytes = package.size();
    r.arenaBytes = pkg->arenaBytes;
    const auto device = deviceArenaBytes(package, error);
    if (!device)
        return std::nullopt;
    r.deviceArenaBytes = *device;
    if (pkg->impulse) {
        const ImpulseSpec &spec = *pkg->impulse;
        ImpulseRequirements ir;
        ir.dspBlock = int(spec.features.kind);
        ir.channels = spec.channels;
        ir.windowFrames = spec.windowFrames;
        ir.strideFrames = spec.strideFrames;
        // Thresholds always decide "uncertain"; the other features only when used.
        ir.postFeatures = TM_IMPULSE_POST_THRESHOLD;
        if (spec.post.averageWindows > 1)
            ir.postFeatures |= TM_IMPULSE_POST_AVERAGE;
        if (spec.post.suppressionMs > 0)
            ir.postFeatures |= TM_IMPULSE_POST_SUPPRESSION;
        if (spec.post.background.contains(true))
            ir.postFeatures |= TM_IMPULSE_POST_BACKGROUND;
        ImpulseReplay replay;   // the device's own loader sizes the work buffer
        if (!replay.load(package, error))
            return std::nullopt;
        ir.workBytes = replay.workBytes();
        r.impulse = ir;
    }
    return r;
}

namespace {

QString postFeatureNames(quint32 mask)
{
    QStringList names;
    if (mask & TM_IMPULSE_POST_AVERAGE)
        names << QStringLiteral("score averaging");
    if (mask & TM_IMPULSE_POST_THRESHOLD)
        names << QStringLiteral("thresholds");
    if (mask & TM_IMPULSE_POST_SUPPRESSION)
        names << QStringLiteral("suppression");
    if (mask & TM_IMPULSE_POST_BACKGROUND)
        names << QStringLiteral("background classes");
    return names.isEmpty() ? QStringLiteral("none") : names.join(QStringLiteral(", "));
}

QString dspBlockNames(quint32 mask)
{
    QStringList names;
    for (int code = 0; code < 32; ++code)
        if (mask & (1u << code))
            names << (code <= int(features::BlockKind::Image) ? features::blockKindName(features::BlockKind(code))
                                                              : QStringLiteral("block %1").arg(code));
    return names.isEmpty() ? QStringLiteral("none") : names.join(QStringLiteral(", "));
}

} // namespace

QString checkImpulseFits(const DeviceInfo &info, const ImpulseRequirements &req, const QString &boardName)
{
    const QString board = boardName.isEmpty() ? info.boardId : boardName;
    if (!info.impulse)
        return QStringLiteral("the agent on %1 cannot run impulses: update the firmware (its INFO has no IMPULSE record)")
            .arg(board);
    const ImpulseCapabilities &cap = *info.impulse;
    if (cap.formatVersion < req.formatVersion)
        return QStringLiteral("the impulse section is version %1 but the agent on %2 reads version %3: update the firmware")
            .arg(req.formatVersion).arg(board).arg(cap.formatVersion);
    const QString block = req.dspBlock <= int(features::BlockKind::Image)
                              ? features::blockKindName(features::BlockKind(req.dspBlock))
                              : QStringLiteral("block %1").arg(req.dspBlock);
    if (!cap.hasDspBlock(req.dspBlock))
        return QStringLiteral("the agent on %1 lacks the %2 DSP block the impulse needs (it runs: %3)")
            .arg(board, block, dspBlockNames(cap.dspMask));
    const quint32 missing = req.postFeatures & ~cap.postMask;
    if (missing)
        return QStringLiteral("the agent on %1 lacks the post-processing %2 the impulse needs (it runs: %3)")
            .arg(board, postFeatureNames(missing), postFeatureNames(cap.postMask));
    // PROTOCOL.md: the ring holds ring_frames >= window + stride frames.
    const qint64 ringNeed = (req.windowFrames + req.strideFrames) * req.channels;
    if (ringNeed > qint64(cap.ringValues))
        return QStringLiteral("the impulse's window of %1 frames plus a stride of %2, x %3 channel%4 = %5 samples, does not "
                              "fit the agent's sample ring of %6 samples on %7")
            .arg(req.windowFrames).arg(req.strideFrames).arg(req.channels).arg(req.channels == 1 ? "" : "s")
            .arg(ringNeed).arg(cap.ringValues).arg(board);
    if (req.workBytes > qint64(cap.workBytes))
        return QStringLiteral("the impulse needs a work buffer of %1 (DSP window, scratch and features), the agent on %2 "
                              "has %3 (%4 bytes > %5 bytes)")
            .arg(kb(req.workBytes), board, kb(cap.workBytes)).arg(req.workBytes).arg(cap.workBytes);
    return {};
}

QString checkPackageFits(const DeviceInfo &info, const PackageRequirements &req, const QString &boardName)
{
    const QString board = boardName.isEmpty() ? info.boardId : boardName;
    if (info.modelSlots == 0 && info.flashFree == 0)
        return QStringLiteral("%1 reports no model slots: its agent cannot take a model").arg(board);
    if (req.impulse) {
        const QString why = checkImpulseFits(info, *req.impulse, board);
        if (!why.isEmpty())
            return why;
    }
    if (info.modelFormatVersion == 0)
        return QStringLiteral("the agent on %1 (version %2) does not list the model package versions and ops it "
                              "supports (INFO MODEL_FORMAT); update the agent firmware")
            .arg(board, info.agentVersion);
    if (req.formatVersion > info.modelFormatVersion)   // an agent reads its version and the older ones
        return QStringLiteral("the package is format version %1 but the agent on %2 reads version %3")
            .arg(req.formatVersion).arg(board).arg(info.modelFormatVersion);
    QStringList missing;
    for (int i = 0; i < req.opCodes.size(); ++i) {
        const int code = req.opCodes[i];
        if (!info.supportedOps.contains(code)) {
            const QString name = packageOpName(code);
            if (!missing.contains(name))
                missing << name;
        }
    }
    if (!missing.isEmpty()) {
        QStringList have;
        for (int code : info.supportedOps)
            have << packageOpName(code);
        return QStringLiteral("the agent on %1 does not support %2 %3 (it runs: %4)")
            .arg(board, missing.size() == 1 ? QStringLiteral("op") : QStringLiteral("ops"),
                 missing.join(QStringLiteral(", ")), have.join(QStringLiteral(", ")));
    }
    const quint32 slotBytes = info.modelSlotBytes ? info.modelSlotBytes : info.flashFree;
    if (req.packageBytes > qint64(slotBytes))
        return QStringLiteral("the package of %1 does not fit a model slot of %2 (%3 bytes > %4 bytes) on %5")
            .arg(kb(req.packageBytes), kb(slotBytes)).arg(req.packageBytes).arg(slotBytes).arg(board);
    // The interpreter places the arena rounded up to 16 bytes and the largest kernel scratch
    // after it (tm_model_arena_bytes); the scratch depends on the kernel set the board runs.
    const qint64 arena = (req.arenaBytes + 15) / 16 * 16;
    const qint64 total = std::max(arena, req.deviceArenaBytes);
    if (total > qint64(info.ramFree)) {
        const qint64 scratch = total - arena;
        return QStringLiteral("the tensor arena of %1 plus %2 of kernel scratch exceeds the %3 of RAM free for it on %4 "
                              "(%5 + %6 bytes > RAM_FREE %7 bytes)")
            .arg(kb(arena), kb(scratch), kb(info.ramFree), board)
            .arg(arena).arg(scratch).arg(info.ramFree);
    }
    return {};
}

std::optional<FlashOutcome> Flasher::flash(AgentLink *link, const QByteArray &package, bool force,
                                           const std::function<void(qint64, qint64)> &progress,
                                           QString *error, const QString &benchmarkId,
                                           const SignedUpload &signedUpload)
{
    auto fail = [&](const QString &why) -> std::optional<FlashOutcome> {
        if (error)
            *error = why;
        return std::nullopt;
    };
    if (!link || !link->isOpen() || !link->hasInfo())
        return fail(QStringLiteral("no board connected (open the link and handshake first)"));
    auto req = packageRequirements(package, error);
    if (!req)
        return std::nullopt;
    const QString why = checkPackageFits(link->info(), *req, link->deviceId());
    if (!why.isEmpty())
        return fail(why);

    const bool wantId = !benchmarkId.isEmpty();
    if (wantId) {
        const QString bad = checkBenchmarkId(benchmarkId);
        if (!bad.isEmpty())
            return fail(bad);
    }
    const auto &security = link->info().security;
    const auto upload = chooseUpload(package, signedUpload, security && security->provisioned, link->deviceId(), error);
    if (!upload)
        return std::nullopt;

    FlashOutcome out;
    out.isSigned = upload->size() != package.size();
    out.crc = crcOf(*upload);
    out.bytes = upload->size();
    QString e;
    auto before = link->modelInfo(&e);
    if (!before)
        return fail(e);
    SlotBenchmarkId ids;
    if (wantId) {
        auto read = readBenchmarkId(link, &e);
        if (!read)
            return fail(e);
        ids = *read;
        out.benchmarkIdKept = ids.supported;
    }
    const bool idHeld = !wantId || !ids.supported || ids.id == benchmarkId;
    if (!force && idHeld && before->valid && before->size == quint32(out.bytes) && before->crc == out.crc) {
        out.slot = before->activeSlot;
        out.benchmarkId = ids.id;
        return out;
    }
    // An agent that predates benchmark ids gets the package without one rather than a refused commit.
    const QByteArray commitId = wantId && ids.supported ? benchmarkId.toLatin1() : QByteArray();
    const int slot = link->uploadModel(*upload, progress, &e, commitId);
    if (slot < 0)
        return fail(QStringLiteral("upload to %1 failed: %2 (the previous model stays active)").arg(link->deviceId(), e));
    auto after = link->modelInfo(&e);
    if (!after)
        return fail(e);
    if (!after->valid || after->activeSlot != slot || after->size != quint32(out.bytes) || after->crc != out.crc)
        return fail(QStringLiteral("verification failed: %1 reports slot %2, %3 bytes, CRC %4; sent %5 bytes with CRC %6")
                        .arg(link->deviceId()).arg(after->activeSlot).arg(after->size)
                        .arg(after->crc, 8, 16, QLatin1Char('0')).arg(out.bytes)
                        .arg(out.crc, 8, 16, QLatin1Char('0')));
    if (wantId && ids.supported) {
        auto held = readBenchmarkId(link, &e);
        if (!held)
            return fail(e);
        if (held->id != benchmarkId)
            return fail(QStringLiteral("verification failed: %1 holds benchmark id \"%2\", sent \"%3\"")
                            .arg(link->deviceId(), held->id, benchmarkId));
        out.benchmarkId = held->id;
    }
    out.uploaded = true;
    out.slot = slot;
    return out;
}

} // namespace tinyml::deploy
