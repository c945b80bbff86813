// tinyml flash / profile: a quantized model onto an agent-equipped board (a virtual board,
// started here like `tinyml capture` does, or a real board on --port), and measured there.
#include "BoardConnection.h"
#include "CliCommands.h"

#include "Flasher.h"
#include "ModelPackageWriter.h"
#include "CycleSideChannel.h"
#include "Profiler.h"

#include "crypto/SignedPackage.h"
#include "device/AgentLink.h"
#include "device/BoardRegistry.h"
#include "device/VirtualBoard.h"
#include "model/Graph.h"
#include "store/ProjectStore.h"

#include <QCommandLineParser>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QTextStream>

#include <algorithm>
#include <memory>

namespace tinyml::cli {

namespace {

QString bytesText(qint64 bytes)
{
    return bytes >= 10 * 1024 ? QStringLiteral("%1 KB").arg(double(bytes) / 1024.0, 0, 'f', 1)
                              : QStringLiteral("%1 B").arg(bytes);
}

QString crcText(quint32 crc)
{
    return QStringLiteral("%1").arg(crc, 8, 16, QLatin1Char('0'));
}

/// The board's refusal of a signed (or unsigned) package in plain words, when it is one.
QString refusalText(AgentLink *link, const crypto::SignedPackageInfo *package)
{
    const auto agentError = link->lastAgentError();
    if (!agentError)
        return {};
    const AgentError refused = *agentError;
    QString ignored;
    std::optional<DeviceSecurity> board;
    if (link->refreshInfo(&ignored))
        board = link->info().security;
    UploadedPackage uploaded;
    if (package) {
        uploaded.keyId = package->keyId;
        uploaded.version = package->version;
    }
    return signedUploadRefusal(refused, uploaded, board);
}

/// flash --package FILE: a signed package written by `tinyml sign --out`, checked against the
/// agent like a project's model (ops, arena, slot), uploaded whole (the board verifies it).
int flashSignedFile(const QCommandLineParser &p, const QString &path, const QString &benchmarkId)
{
    const bool json = p.isSet(QStringLiteral("json"));
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return fail(QStringLiteral("%1: cannot read: %2").arg(path, file.errorString()));
    const QByteArray bytes = file.readAll();
    QString error;
    const auto signedInfo = crypto::readSignedPackage(bytes, QFileInfo(path).fileName(), &error);
    if (!signedInfo)
        return fail(error);
    auto req = deploy::packageRequirements(signedInfo->package, &error);
    if (!req)
        return fail(QStringLiteral("%1: %2").arg(path, error));
    int code = 0;
    Connection c;
    if (!connectBoard(p, QStringLiteral("flash"), json, &c, &code))
        return code;
    const QString fits = deploy::checkPackageFits(c.link->info(), *req, c.definition.id);
    if (!fits.isEmpty())
        return fail(fits);
    const quint32 crc = agentCrc32(bytes);
    auto slot = c.link->modelInfo(&error);
    if (!slot)
        return fail(error);
    bool uploaded = false;
    int active = slot->activeSlot;
    if (p.isSet(QStringLiteral("force")) || !slot->valid || slot->size != quint32(bytes.size()) || slot->crc != crc) {
        int lastTenth = -1;
        active = c.link->uploadModel(bytes,
                                     [&](qint64 sent, qint64 total) {
                                         const int tenth = int(sent * 10 / qMax<qint64>(1, total));
                                         if (!json && tenth != lastTenth)
                                             QTextStream(stderr) << "  uploaded " << sent << " of " << total << " bytes\n";
                                         lastTenth = tenth;
                                     },
                                     &error, benchmarkId.toLatin1());
        if (active < 0) {
            const QString why = refusalText(c.link, &*signedInfo);
            return fail(QStringLiteral("%1 refused %2: %3").arg(c.definition.id, QFileInfo(path).fileName(),
                                                                why.isEmpty() ? error : why));
        }
        uploaded = true;
        slot = c.link->modelInfo(&error);
        if (!slot)
            return fail(error);
        if (!slot->valid || slot->crc != crc || slot->size != quint32(bytes.size()))
            return fail(QStringLiteral("%1 reports CRC-32 %2 over %3 bytes after the upload, expected %4 over %5")
                            .arg(c.definition.id, crcText(slot->crc)).arg(slot->size).arg(crcText(crc)).arg(bytes.size()));
    }
    const auto security = c.link->info().security;
    if (json) {
        printJson({{QStringLiteral("board"), c.definition.id},
                   {QStringLiteral("file"), QFileInfo(path).absoluteFilePath()},
                   {QStringLiteral("uploaded"), uploaded},
                   {QStringLiteral("slot"), active},
                   {QStringLiteral("package_bytes"), double(bytes.size())},
                   {QStringLiteral("crc32"), crcText(crc)},
                   {QStringLiteral("package_version"), double(signedInfo->version)},
                   {QStringLiteral("key_id"), signedInfo->keyId},
                   {QStringLiteral("board_provisioned"), security && security->provisioned},
                   {QStringLiteral("benchmark_id"), benchmarkId}});
    } else {
        QTextStream(stdout) << (uploaded ? "Flashed" : "Already on the board:") << " signed package "
                            << QFileInfo(path).fileName() << " (version " << signedInfo->version << ", key "
                            << signedInfo->keyId << ") to " << c.definition.id << ", slot " << active << ": "
                            << bytesText(bytes.size()) << ", CRC-32 " << crcText(crc)
                            << (security && security->provisioned ? QStringLiteral(", signature checked by the board")
                                                                  : QStringLiteral(", board not provisioned: signature not checked"))
                            << "\n";
    }
    return Ok;
}

int cmdFlash(const QStringList &args)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Put the project's int8 model onto a board running the TinyML agent: check that the agent\n"
        "runs every op and that arena and package fit, upload (skipped when the board already runs\n"
        "this package), verify the CRC. An interrupted upload leaves the previous model running.\n"
        "The MLPerf Tiny benchmark id (kws01, vww01, ic01, ad01) goes with the model: the agent\n"
        "answers it to the official runner's profile%, which picks its test from it.\n"
        "When signed/ beside PROJECT holds the model's signed package (`tinyml sign`), the newest\n"
        "is uploaded instead; a provisioned board takes nothing else."));
    addBoardOptions(p);
    p.addOption({QStringLiteral("benchmark-id"),
                 QStringLiteral("MLPerf Tiny benchmark id the board reports for this model (1-8 of A-Z a-z 0-9 . _ -; "
                                "default: the id the model's name implies, e.g. kws01 for a keyword-spotting "
                                "or DS-CNN model; none if it implies none)"),
                 QStringLiteral("ID")});
    p.addOption({QStringLiteral("package"),
                 QStringLiteral("flash this signed package (written by `tinyml sign --out FILE`) instead of a project's "
                                "model; then no PROJECT. A provisioned board takes signed packages only"),
                 QStringLiteral("FILE")});
    int code = 0;
    const bool withPackage = args.contains(QStringLiteral("--package")) ||
                             std::any_of(args.begin(), args.end(), [](const QString &a) { return a.startsWith(QStringLiteral("--package=")); });
    if (!parseOrReport(p, args, QStringLiteral("flash"), withPackage ? 0 : 1, &code))
        return code;
    if (p.isSet(QStringLiteral("benchmark-id"))) {
        const QString bad = deploy::checkBenchmarkId(p.value(QStringLiteral("benchmark-id")));
        if (!bad.isEmpty())
            return usageError(QStringLiteral("flash"), bad);
    }
    if (p.isSet(QStringLiteral("package"))) {
        if (p.isSet(QStringLiteral("model")))
            return usageError(QStringLiteral("flash"), QStringLiteral("--model is for a project's model, not with --package"));
        return flashSignedFile(p, p.value(QStringLiteral("package")), p.value(QStringLiteral("benchmark-id")));
    }
    const bool json = p.isSet(QStringLiteral("json"));
    QString error;
    auto store = ProjectStore::open(p.positionalArguments().first(), &error);
    if (!store)
        return fail(error);
    auto stored = pickModel(*store, p, &error);
    if (!stored)
        return fail(error);
    deploy::ModelPackageWriter writer;
    auto package = packageModel(*stored, writer, &error);
    if (!package)
        return fail(error);

    const QString benchmarkId = p.isSet(QStringLiteral("benchmark-id")) ? p.value(QStringLiteral("benchmark-id"))
                                                                         : deploy::defaultBenchmarkId(stored->name);

    // A provisioned board takes signed packages only: this model's newest in signed/ (`tinyml sign`).
    deploy::SignedUpload signedUpload;
    signedUpload.packages = deploy::signedPackagesBeside(p.positionalArguments().first());
    signedUpload.modelId = stored->id;
    signedUpload.command = QStringLiteral("flash");
    std::optional<crypto::SignedPackageInfo> signedInfo;
    if (const auto signedBytes = deploy::signedPackageOf(*package, signedUpload.packages)) {
        QString ignored;
        signedInfo = crypto::readSignedPackage(*signedBytes, QStringLiteral("signed package"), &ignored);
    }

    Connection c;
    if (!connectBoard(p, QStringLiteral("flash"), json, &c, &code))
        return code;
    int lastTenth = -1;
    auto outcome = deploy::Flasher::flash(c.link, *package, p.isSet(QStringLiteral("force")),
                                          [&](qint64 sent, qint64 total) {
                                              const int tenth = int(sent * 10 / qMax<qint64>(1, total));
                                              if (!json && tenth != lastTenth)
                                                  QTextStream(stderr) << "  uploaded " << sent << " of " << total << " bytes\n";
                                              lastTenth = tenth;
                                          },
                                          &error, benchmarkId, signedUpload);
    if (!outcome) {
        const QString why = refusalText(c.link, signedInfo ? &*signedInfo : nullptr);
        return fail(why.isEmpty() ? error : QStringLiteral("%1 refused model %2: %3").arg(c.definition.id).arg(stored->id).arg(why));
    }
    if (!benchmarkId.isEmpty() && !outcome->benchmarkIdKept)
        QTextStream(stderr) << "warning: the agent on " << c.definition.id
                            << " predates MLPerf benchmark ids: it keeps none, and the MLPerf runner cannot "
                               "pick a test from its profile% (update the agent firmware)\n";
    if (json) {
        printJson({{QStringLiteral("board"), c.definition.id},
                   {QStringLiteral("model_id"), double(stored->id)},
                   {QStringLiteral("model_name"), stored->name},
                   {QStringLiteral("uploaded"), outcome->uploaded},
                   {QStringLiteral("slot"), outcome->slot},
                   {QStringLiteral("package_bytes"), double(outcome->bytes)},
                   {QStringLiteral("crc32"), QStringLiteral("%1").arg(outcome->crc, 8, 16, QLatin1Char('0'))},
                   {QStringLiteral("benchmark_id"), outcome->benchmarkId},
                   {QStringLiteral("arena_bytes"), double(writer.stats().arenaBytes)},
                   {QStringLiteral("arena_lower_bound_bytes"), double(writer.stats().arenaLowerBound)},
                   {QStringLiteral("signed"), outcome->isSigned},
                   {QStringLiteral("package_version"), signedInfo && outcome->isSigned ? QJsonValue(double(signedInfo->version))
                                                                                       : QJsonValue()}});
    } else {
        QTextStream(stdout) << (outcome->uploaded ? "Flashed" : "Already on the board:") << " model " << stored->id
                            << " (" << stored->name << ") to " << c.definition.id << ", slot " << outcome->slot << ": "
                            << bytesText(outcome->bytes) << ", CRC-32 "
                            << QStringLiteral("%1").arg(outcome->crc, 8, 16, QLatin1Char('0')) << ", arena "
                            << bytesText(writer.stats().arenaBytes)
                            << (outcome->benchmarkId.isEmpty() ? QString()
                                                               : QStringLiteral(", MLPerf benchmark id %1").arg(outcome->benchmarkId))
                            << (outcome->isSigned && signedInfo
                                    ? QStringLiteral(", signed package version %1 (key %2)").arg(signedInfo->version).arg(signedInfo->keyId)
                                    : QString())
                            << "\n";
    }
    return Ok;
}

void printProfile(const deploy::ProfileResult &r)
{
    QTextStream out(stdout);
    const QString unit = r.counter;
    out << "Profile of model " << r.modelId << " (" << r.modelName << ") on " << r.board
        << (r.boardName.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(r.boardName)) << "\n";
    out << "  clock " << QString::number(double(r.clockHz) / 1e6, 'f', 1) << " MHz, agent " << r.agentVersion
        << ", build " << r.agentBuild << "\n";
    out << "  method: " << r.method << "\n\n";
    out << QStringLiteral("  %1 %2\n").arg(QStringLiteral("latency (ms)"), -30).arg(QStringLiteral("min %1  median %2  max %3")
                                            .arg(r.latencyMinMs, 0, 'f', 4).arg(r.latencyMedianMs, 0, 'f', 4).arg(r.latencyMaxMs, 0, 'f', 4));
    out << QStringLiteral("  %1 %2\n").arg(QStringLiteral("MACs"), -30).arg(r.macs);
    out << QStringLiteral("  %1 %2 (lower bound %3)\n").arg(QStringLiteral("arena (RAM)"), -30)
               .arg(bytesText(r.arenaBytes), bytesText(r.arenaLowerBoundBytes));
    out << QStringLiteral("  %1 %2 = package %3 + runtime %4\n").arg(QStringLiteral("flash"), -30)
               .arg(bytesText(r.flashBytes), bytesText(r.packageBytes), bytesText(r.runtimeBytes));
    out << QStringLiteral("  %1 %2 µJ per inference (%3)\n").arg(QStringLiteral("energy"), -30)
               .arg(r.energyUj, 0, 'f', 3).arg(r.energySource);
    // Estimated cycles: one line, labelled with its model (never presented as a measurement).
    if (r.hasCycleEstimate) {
        const QString label = r.cycleModel.label.startsWith(QLatin1String("estimated ("))
                                  ? r.cycleModel.label.mid(11).chopped(1) : r.cycleModel.label;
        out << QStringLiteral("  Estimated cycles (%1): median %2 (%3..%4), %5 cycles/instruction")
                   .arg(label).arg(r.cyclesMedian).arg(r.cyclesMin).arg(r.cyclesMax)
                   .arg(r.cyclesPerInstruction, 0, 'f', 2);
        if (r.onTarget)
            out << QStringLiteral("; on %1 at %2 MHz: %3 ms").arg(r.onTarget->part)
                       .arg(double(r.onTarget->clockHz) / 1e6).arg(r.onTarget->medianMs, 0, 'f', 3);
        out << "\n";
    } else if (!r.cyclesUnavailable.isEmpty()) {
        out << "  Estimated cycles: unavailable: " << r.cyclesUnavailable << "\n";
    }
    if (r.outputsCompared > 0) {
        if (!r.isAnomaly())   // an anomaly score has no argmax: its outputs are only compared
            out << QStringLiteral("  %1 %2 % on the device, %3 % host int8 reference\n").arg(QStringLiteral("accuracy (test split)"), -30)
                       .arg(100.0 * r.deviceAccuracy, 0, 'f', 2).arg(100.0 * r.hostInt8Accuracy, 0, 'f', 2);
        out << QStringLiteral("  %1 %2 of %3 outputs\n").arg(QStringLiteral("bit-exact with the host"), -30)
                   .arg(r.bitexactOutputs).arg(r.outputsCompared);
    }
    out << "\n  " << QStringLiteral("%1 %2 %3 %4 %5").arg(QStringLiteral("layer"), -28).arg(QStringLiteral("op"), -18)
                                     .arg(QStringLiteral("MACs"), 10).arg(unit, 14).arg(QStringLiteral("ms"), 10);
    if (r.hasCycleEstimate)
        out << QStringLiteral(" %1").arg(QStringLiteral("est. cycles"), 14);
    out << "\n";
    for (const deploy::LayerProfile &l : r.layers) {
        out << "  " << QStringLiteral("%1 %2 %3 %4 %5").arg(l.name.left(28), -28).arg(l.op, -18).arg(l.macs, 10)
                                       .arg(l.counter, 14).arg(l.ms, 10, 'f', 4);
        if (r.hasCycleEstimate)
            out << QStringLiteral(" %1").arg(l.cyclesEstimated, 14);
        out << "\n";
    }
}

/// The signed packages a profile may upload: FILE when given (it must be a signed package),
/// else the newest ones in signed/ beside the project.
std::optional<QVector<QByteArray>> signedPackagesForProfile(const QString &projectPath, const QString &file,
                                                            QString *error)
{
    if (file.isEmpty())
        return deploy::signedPackagesBeside(projectPath);
    QFile in(file);
    if (!in.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read %1: %2").arg(file, in.errorString());
        return std::nullopt;
    }
    const QByteArray bytes = in.readAll();
    if (!crypto::readSignedPackage(bytes, QFileInfo(file).fileName(), error))
        return std::nullopt;
    return QVector<QByteArray>{bytes};
}

int cmdProfile(const QStringList &args)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Flash the model if the board runs another one, then measure it on the board: latency per\n"
        "run and per layer, arena and flash, energy (estimated from the board's power model), and\n"
        "on-device accuracy on the test split, bit-compared with the host int8 reference. The profile\n"
        "is stored in the project."));
    addBoardOptions(p);
    p.addOption({QStringLiteral("runs"), QStringLiteral("measured inferences"), QStringLiteral("N"), QStringLiteral("50")});
    p.addOption({QStringLiteral("warmup"), QStringLiteral("warm-up inferences"), QStringLiteral("N"), QStringLiteral("5")});
    p.addOption({QStringLiteral("samples"), QStringLiteral("test samples streamed through the device (0 = all)"), QStringLiteral("N"), QStringLiteral("0")});
    p.addOption({QStringLiteral("no-accuracy"), QStringLiteral("skip the on-device accuracy pass")});
    p.addOption({QStringLiteral("package"),
                 QStringLiteral("a signed package of the model (tinyml sign) to upload instead of the bare one; "
                                "default: the newest matching one in signed/ beside PROJECT. A provisioned board "
                                "takes signed packages only"),
                 QStringLiteral("FILE")});
    p.addOption({QStringLiteral("target"),
                 QStringLiteral("a real part's board id (e.g. nucleo-l4r5zi): convert the virtual board's estimated "
                                "cycles to ms at its clock (latency_ms_on_target); its core must be the one the "
                                "virtual board models"),
                 QStringLiteral("ID")});
    int code = 0;
    if (!parseOrReport(p, args, QStringLiteral("profile"), 1, &code))
        return code;
    const bool json = p.isSet(QStringLiteral("json"));
    deploy::ProfileOptions opt;
    bool ok = false;
    opt.runs = p.value(QStringLiteral("runs")).toInt(&ok);
    if (!ok || opt.runs < 1 || opt.runs > 100000)
        return usageError(QStringLiteral("profile"), QStringLiteral("--runs must be a positive integer"));
    opt.warmup = p.value(QStringLiteral("warmup")).toInt(&ok);
    if (!ok || opt.warmup < 0)
        return usageError(QStringLiteral("profile"), QStringLiteral("--warmup must be 0 or more"));
    opt.maxAccuracySamples = p.value(QStringLiteral("samples")).toInt(&ok);
    if (!ok || opt.maxAccuracySamples < 0)
        return usageError(QStringLiteral("profile"), QStringLiteral("--samples must be 0 or more"));
    opt.accuracy = !p.isSet(QStringLiteral("no-accuracy"));
    opt.forceFlash = p.isSet(QStringLiteral("force"));

    QString error;
    auto store = ProjectStore::open(p.positionalArguments().first(), &error);
    if (!store)
        return fail(error);
    auto stored = pickModel(*store, p, &error);
    if (!stored)
        return fail(error);
    auto signedPackages = signedPackagesForProfile(p.positionalArguments().first(), p.value(QStringLiteral("package")), &error);
    if (!signedPackages)
        return fail(error);
    opt.signedPackages = *signedPackages;
    opt.signedPackageRequired = p.isSet(QStringLiteral("package"));
    // The target is checked before a board is started: a wrong one should not cost a boot.
    if (p.isSet(QStringLiteral("target"))) {
        BoardRegistry registry;
        if (!registry.loadDefault(&error))
            return fail(error);
        const BoardDefinition *target = registry.board(p.value(QStringLiteral("target")));
        if (!target) {
            boardExists(p.value(QStringLiteral("target")), &error);
            return fail(QStringLiteral("--target: %1").arg(error));
        }
        opt.target = deploy::Profiler::targetFromBoard(*target, &error);
        if (!opt.target)
            return fail(QStringLiteral("--target: %1").arg(error));
        if (p.isSet(QStringLiteral("board"))) {
            if (const BoardDefinition *board = registry.board(p.value(QStringLiteral("board")))) {
                const QString why = deploy::Profiler::checkTarget(*board, *opt.target);
                if (!why.isEmpty())
                    return fail(why);
            }
        }
    }
    Connection c;
    if (!connectBoard(p, QStringLiteral("profile"), json, &c, &code))
        return code;
    if (c.board) {
        opt.cycleChannel = c.board->cycleChannelPath();
        opt.cycleUnavailable = c.board->cycleModelUnavailableReason();
    }
    deploy::ProfileResult result;
    auto log = [&](const QString &line) {
        if (!json)
            QTextStream(stderr) << line << "\n";
    };
    if (!deploy::Profiler::run(store.get(), stored->id, c.link, c.definition, opt, &result, &error, log))
        return fail(error);
    if (json) {
        QJsonObject o = result.toJson();
        o.insert(QStringLiteral("profile_id"), double(result.profileId));
        printJson(o);
    } else {
        printProfile(result);
        QTextStream(stdout) << "\nStored as profile " << result.profileId << " in " << store->path() << "\n";
    }
    return Ok;
}

} // namespace

QList<Command> deployCommands()
{
    return {
        {QStringLiteral("flash"), QStringLiteral("flash (PROJECT [--model ID] | --package FILE) (--board ID | --port PATH) [--benchmark-id ID] [--json]"),
         QStringLiteral("put the int8 model onto a board running the agent"), cmdFlash},
        {QStringLiteral("profile"),
         QStringLiteral("profile PROJECT (--board ID | --port PATH) [--model ID] [--runs N] [--target ID] [--json]"),
         QStringLiteral("measure latency, memory, energy and accuracy on the board"), cmdProfile},
    };
}

} // namespace tinyml::cli
