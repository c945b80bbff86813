// `tinyml fleet` and `tinyml rollout` (issue 17): fleets of boards kept in the project file,
// and staged rollouts of a signed package with health gates and automatic rollback
// (deploy/fleet/Rollout.h says how a rollout runs and survives a crash).
#include "CliCommands.h"
#include "BoardConnection.h"
#include "SignedPackages.h"
#include "crypto/SigningKeyStore.h"
#include "fleet/Drift.h"
#include "fleet/Fleet.h"
#include "fleet/Rollout.h"
#include "store/ProjectStore.h"

#include <QCommandLineParser>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QTextStream>

namespace tinyml::cli {

namespace {

using deploy::fleet::Fleet;
using deploy::fleet::FleetMember;

std::optional<Fleet> loadFleet(ProjectStore &store, const QString &name, QString *error)
{
    const auto json = store.fleet(name, error);
    if (!json) {
        const QStringList names = store.fleetNames();
        *error = QStringLiteral("no fleet named \"%1\" in %2 (fleets: %3)")
                     .arg(name, store.path(), names.isEmpty() ? QStringLiteral("none; create one with `tinyml fleet PROJECT add`")
                                                              : names.join(QStringLiteral(", ")));
        return std::nullopt;
    }
    return Fleet::fromJson(name, *json, error);
}

/// The last state a rollout recorded for each member: phase and package version.
QHash<QString, QJsonObject> lastKnown(ProjectStore &store, const QString &fleet)
{
    QHash<QString, QJsonObject> out;
    for (const StoredRollout &r : store.rollouts(fleet)) {
        for (const QJsonValue v : r.state.value(QStringLiteral("members")).toArray()) {
            const QJsonObject m = v.toObject();
            const QString phase = m.value(QStringLiteral("phase")).toString();
            if (phase == QLatin1String("pending"))
                continue;
            QJsonObject k{{QStringLiteral("rollout"), double(r.id)},
                          {QStringLiteral("rollout_status"), r.status},
                          {QStringLiteral("phase"), phase},
                          {QStringLiteral("model_id"), r.state.value(QStringLiteral("model_id"))},
                          {QStringLiteral("package_version"), r.state.value(QStringLiteral("package_version"))}};
            if (phase == QLatin1String("reverted"))
                k.insert(QStringLiteral("package_version"),
                         m.value(QStringLiteral("before")).toObject().value(QStringLiteral("package_version")));
            out.insert(m.value(QStringLiteral("name")).toString(), k);
        }
    }
    return out;
}

int fleetAdd(ProjectStore &store, const QString &name, const QCommandLineParser &p, bool json)
{
    QString error;
    QString why = deploy::fleet::checkName(QStringLiteral("fleet"), name);
    if (!why.isEmpty())
        return usageError(QStringLiteral("fleet"), why);
    Fleet f;
    f.name = name;
    if (store.fleetNames().contains(name)) {
        auto existing = loadFleet(store, name, &error);
        if (!existing)
            return fail(error);
        f = *existing;
    }
    BoardRegistry registry;
    if (!registry.loadDefault(&error))
        return fail(error);
    const QString boardId = p.value(QStringLiteral("board"));
    QVector<FleetMember> added;
    if (p.isSet(QStringLiteral("port"))) {
        FleetMember m;
        m.port = p.value(QStringLiteral("port"));
        m.baud = p.value(QStringLiteral("baud")).toInt();
        m.board = boardId;
        m.name = p.isSet(QStringLiteral("member")) ? p.value(QStringLiteral("member")) : QFileInfo(m.port).fileName();
        added.append(m);
    } else if (!boardId.isEmpty()) {
        const BoardDefinition *def = registry.board(boardId);
        if (!def) {
            boardExists(boardId, &error);
            return fail(error);
        }
        if (!def->isVirtual)
            return usageError(QStringLiteral("fleet"),
                              QStringLiteral("%1 is a real board: add it with --port PATH (--board names its kind)").arg(boardId));
        bool ok = false;
        const int count = p.value(QStringLiteral("count")).toInt(&ok);
        if (!ok || count < 1 || count > 64)
            return usageError(QStringLiteral("fleet"), QStringLiteral("--count must be 1 to 64"));
        int k = 1;
        for (int i = 0; i < count; ++i) {
            while (f.member(QStringLiteral("%1-%2").arg(boardId).arg(k)))
                ++k;
            FleetMember m;
            m.board = boardId;
            m.name = QStringLiteral("%1-%2").arg(boardId).arg(k++);
            m.stateDirectory = deploy::fleet::virtualMemberStateDirectory(name, m.name);
            f.members.append(m);
            added.append(m);
        }
    } else {
        return usageError(QStringLiteral("fleet"), QStringLiteral("add needs --board ID [--count N] or --port PATH"));
    }
    if (p.isSet(QStringLiteral("port"))) {
        why = deploy::fleet::checkName(QStringLiteral("member"), added.first().name);
        if (!why.isEmpty())
            return usageError(QStringLiteral("fleet"), why + QStringLiteral(" (choose one with --member)"));
        if (f.member(added.first().name))
            return fail(QStringLiteral("fleet %1 already has a member %2").arg(name, added.first().name));
        f.members.append(added.first());
    }
    if (!store.saveFleet(name, f.toJson(), &error))
        return fail(error);
    if (json) {
        QJsonArray a;
        for (const FleetMember &m : added)
            a.append(m.toJson());
        printJson({{QStringLiteral("fleet"), name}, {QStringLiteral("added"), a}, {QStringLiteral("members"), f.members.size()}});
    } else {
        QTextStream out(stdout);
        for (const FleetMember &m : added)
            out << "Added " << m.name << (m.isVirtual() ? QStringLiteral(" (virtual %1, state in %2)").arg(m.board, m.stateDirectory)
                                                      : QStringLiteral(" (%1)").arg(m.port))
                << " to fleet " << name << "\n";
        out << "Fleet " << name << " has " << f.members.size() << " member(s)\n";
    }
    return Ok;
}

int fleetRemove(ProjectStore &store, const QString &name, const QCommandLineParser &p, bool json)
{
    QString error;
    auto f = loadFleet(store, name, &error);
    if (!f)
        return fail(error);
    const auto rollouts = store.rollouts(name);
    if (!rollouts.isEmpty() && (rollouts.last().status == QLatin1String("running") ||
                                rollouts.last().status == QLatin1String("rolling_back")))
        return fail(QStringLiteral("rollout %1 of fleet %2 did not finish: resume or abort it first (`tinyml rollout`)")
                        .arg(rollouts.last().id)
                        .arg(name));
    const QStringList which = p.values(QStringLiteral("member"));
    if (which.isEmpty()) {
        if (!store.removeFleet(name, &error))
            return fail(error);
        if (json)
            printJson({{QStringLiteral("fleet"), name}, {QStringLiteral("removed"), true}});
        else
            QTextStream(stdout) << "Removed fleet " << name << " (" << f->members.size()
                                << " member(s); virtual boards keep their state folders)\n";
        return Ok;
    }
    for (const QString &m : which)
        if (!f->member(m))
            return fail(QStringLiteral("fleet %1 has no member %2").arg(name, m));
    QVector<FleetMember> kept;
    for (const FleetMember &m : f->members)
        if (!which.contains(m.name))
            kept.append(m);
    f->members = kept;
    if (!store.saveFleet(name, f->toJson(), &error))
        return fail(error);
    if (json)
        printJson({{QStringLiteral("fleet"), name}, {QStringLiteral("removed_members"), QJsonArray::fromStringList(which)},
                   {QStringLiteral("members"), f->members.size()}});
    else
        QTextStream(stdout) << "Removed " << which.join(QStringLiteral(", ")) << " from fleet " << name << "; "
                            << f->members.size() << " member(s) left\n";
    return Ok;
}

int fleetList(ProjectStore &store, const QString &only, bool json)
{
    QString error;
    QJsonArray fleets;
    QTextStream out(stdout);
    const QStringList names = only.isEmpty() ? store.fleetNames() : QStringList{only};
    if (names.isEmpty() && !json)
        out << "No fleets: create one with `tinyml fleet " << store.path() << " add NAME --board host --count 6`\n";
    for (const QString &name : names) {
        auto f = loadFleet(store, name, &error);
        if (!f)
            return fail(error);
        const auto known = lastKnown(store, name);
        QJsonArray members;
        if (!json)
            out << "fleet " << name << " (" << f->members.size() << " member(s))\n";
        for (const FleetMember &m : f->members) {
            QJsonObject o = m.toJson();
            if (known.contains(m.name))
                o.insert(QStringLiteral("last_rollout"), known.value(m.name));
            members.append(o);
            if (!json) {
                out << "  " << m.name << "  " << (m.isVirtual() ? QStringLiteral("virtual %1").arg(m.board) : m.port);
                if (known.contains(m.name)) {
                    const QJsonObject k = known.value(m.name);
                    out << "  rollout " << k.value(QStringLiteral("rollout")).toInt() << ": "
                        << k.value(QStringLiteral("phase")).toString() << ", package version "
                        << k.value(QStringLiteral("package_version")).toInt();
                }
                out << "\n";
            }
        }
        const auto rollouts = store.rollouts(name);
        QJsonObject fo{{QStringLiteral("name"), name}, {QStringLiteral("members"), members}};
        if (!rollouts.isEmpty())
            fo.insert(QStringLiteral("last_rollout"),
                      QJsonObject{{QStringLiteral("id"), double(rollouts.last().id)},
                                  {QStringLiteral("status"), rollouts.last().status},
                                  {QStringLiteral("reason"), rollouts.last().state.value(QStringLiteral("reason"))}});
        fleets.append(fo);
    }
    if (json)
        printJson({{QStringLiteral("fleets"), fleets}});
    return Ok;
}

int fleetProvision(ProjectStore &store, const QString &name, const QCommandLineParser &p, bool json)
{
    QString error;
    auto f = loadFleet(store, name, &error);
    if (!f)
        return fail(error);
    crypto::SigningKeyStore keys(crypto::SigningKeyStore::defaultDirectory());
    int code = 0;
    const auto key = chooseSigningKey(keys, p, QStringLiteral("fleet"), &code);
    if (!key)
        return code;
    BoardRegistry registry;
    if (!registry.loadDefault(&error))
        return fail(error);
    QJsonArray rows;
    int failed = 0;
    for (const FleetMember &m : f->members) {
        deploy::fleet::MemberConnection c;
        QJsonObject row{{QStringLiteral("member"), m.name}};
        std::optional<deploy::fleet::ProvisionOutcome> o;
        if (c.open(m, registry, &error))
            o = deploy::fleet::provisionLink(c.link(), m.identityLabel(name), key->publicKey, key->id, keys.directory(), &error);
        if (!o) {
            ++failed;
            row.insert(QStringLiteral("error"), error);
            if (!json)
                QTextStream(stderr) << "tinyml: error: " << m.name << ": " << error << "\n";
        } else {
            row.insert(QStringLiteral("key_id"), o->keyId);
            row.insert(QStringLiteral("already_provisioned"), o->alreadyProvisioned);
            row.insert(QStringLiteral("device_id"), o->deviceId);
            row.insert(QStringLiteral("new_device_identity"), o->newIdentity);
            if (!json)
                QTextStream(stdout) << (o->alreadyProvisioned ? "Already provisioned: " : "Provisioned ") << m.name
                                    << " with key " << o->keyId
                                    << (o->deviceId.isEmpty() ? QStringLiteral(" (no device identity)")
                                                              : QStringLiteral(", device %1").arg(o->deviceId))
                                    << "\n";
        }
        rows.append(row);
    }
    if (json)
        printJson({{QStringLiteral("fleet"), name}, {QStringLiteral("members"), rows}, {QStringLiteral("failed"), failed}});
    return failed ? Failed : Ok;
}

int fleetStatus(ProjectStore &store, const QString &name, bool json)
{
    QString error;
    auto f = loadFleet(store, name, &error);
    if (!f)
        return fail(error);
    BoardRegistry registry;
    if (!registry.loadDefault(&error))
        return fail(error);
    // which rollout shipped which package
    QHash<QString, QJsonObject> shipped;
    for (const StoredRollout &r : store.rollouts(name))
        shipped.insert(r.state.value(QStringLiteral("package_sha512")).toString(),
                       QJsonObject{{QStringLiteral("rollout"), double(r.id)},
                                   {QStringLiteral("model_id"), r.state.value(QStringLiteral("model_id"))}});
    const auto known = lastKnown(store, name);
    const QString keysDir = crypto::SigningKeyStore::defaultDirectory();
    QJsonArray rows;
    int unverified = 0;
    QTextStream out(stdout);
    for (const FleetMember &m : f->members) {
        QJsonObject row{{QStringLiteral("member"), m.name}};
        deploy::fleet::MemberConnection c;
        std::optional<deploy::fleet::AttestedState> a;
        if (c.open(m, registry, &error)) {
            if (const auto info = c.link()->modelInfo(&error))
                row.insert(QStringLiteral("on_trial"), info->onTrial);
            a = deploy::fleet::attestLink(c.link(), m.identityLabel(name), keysDir, {}, &error);
        }
        if (!a) {
            ++unverified;
            row.insert(QStringLiteral("verified"), false);
            row.insert(QStringLiteral("error"), error);
            if (!json)
                out << "  " << m.name << "  NOT attested: " << error << "\n";
        } else {
            row.insert(QStringLiteral("attestation"), a->toJson());
            row.insert(QStringLiteral("verified"), a->verified);
            if (!a->verified)
                ++unverified;
            const QJsonObject s = shipped.value(a->packageSha512);
            if (!s.isEmpty())
                row.insert(QStringLiteral("shipped_by"), s);
            if (!json) {
                out << "  " << m.name << "  " << (a->verified ? "verified" : "NOT verified") << ", device " << a->deviceId
                    << ", package version " << a->packageVersion;
                if (!s.isEmpty())
                    out << " (model " << s.value(QStringLiteral("model_id")).toInt() << ", rollout "
                        << s.value(QStringLiteral("rollout")).toInt() << ")";
                if (!a->verified)
                    out << ": " << a->reason;
                out << "\n";
            }
        }
        if (known.contains(m.name))
            row.insert(QStringLiteral("last_rollout"), known.value(m.name));
        rows.append(row);
    }
    if (json)
        printJson({{QStringLiteral("fleet"), name}, {QStringLiteral("members"), rows},
                   {QStringLiteral("unverified"), unverified}});
    return unverified ? Failed : Ok;
}

/// TELEMETRY from every member against the training data of the model it runs (the last
/// rollout's record, else --model / the newest int8 model); each reading is kept in the project.
int fleetTelemetry(ProjectStore &store, const QString &name, const QCommandLineParser &p, bool json)
{
    QString error;
    auto f = loadFleet(store, name, &error);
    if (!f)
        return fail(error);
    BoardRegistry registry;
    if (!registry.loadDefault(&error))
        return fail(error);
    qint64 fallbackModel = 0;
    if (p.isSet(QStringLiteral("model"))) {
        auto m = pickModel(store, p, &error);
        if (!m)
            return fail(error);
        fallbackModel = m->id;
    } else if (const auto m = store.latestModel(ModelKind::Int8)) {
        fallbackModel = m->id;
    }
    // the model each member runs by the rollouts' records
    QHash<QString, qint64> runs;
    for (const StoredRollout &r : store.rollouts(name)) {
        for (const QJsonValue v : r.state.value(QStringLiteral("members")).toArray()) {
            const QJsonObject m = v.toObject();
            const QString phase = m.value(QStringLiteral("phase")).toString();
            if (phase == QLatin1String("confirmed") || phase == QLatin1String("updated"))
                runs.insert(m.value(QStringLiteral("name")).toString(), r.state.value(QStringLiteral("model_id")).toInteger());
        }
    }
    QJsonArray rows;
    int failed = 0, significant = 0;
    QTextStream out(stdout);
    for (const FleetMember &m : f->members) {
        const qint64 modelId = p.isSet(QStringLiteral("model")) ? fallbackModel : runs.value(m.name, fallbackModel);
        QJsonObject row{{QStringLiteral("member"), m.name}, {QStringLiteral("model_id"), double(modelId)}};
        deploy::fleet::MemberConnection c;
        std::optional<deploy::fleet::DriftReport> report;
        if (modelId <= 0)
            error = QStringLiteral("the project has no int8 model to compare with");
        else if (c.open(m, registry, &error))
            report = deploy::fleet::readDrift(c.link(), store, modelId, p.isSet(QStringLiteral("reset")), &error);
        if (!report) {
            ++failed;
            row.insert(QStringLiteral("error"), error);
            if (!json)
                out << "  " << m.name << "  no reading: " << error << "\n";
        } else {
            const QJsonObject reading = report->toJson();
            StoredTelemetry t{0, name, m.name, {}, reading};
            if (!store.addTelemetry(t, &error))
                return fail(error);
            row.insert(QStringLiteral("drift"), reading);
            if (report->significant())
                ++significant;
            if (!json)
                out << "  " << m.name << "  PSI " << QString::number(report->psi, 'f', 3) << " (" << report->level() << ") on "
                    << report->windows << " " << reading.value(QStringLiteral("source")).toString() << " window(s), model "
                    << modelId << "\n";
        }
        rows.append(row);
    }
    if (json)
        printJson({{QStringLiteral("fleet"), name}, {QStringLiteral("members"), rows},
                   {QStringLiteral("no_reading"), failed}, {QStringLiteral("significant"), significant}});
    return failed ? Failed : Ok;
}

int cmdFleet(const QStringList &args)
{
    const QString command = QStringLiteral("fleet");
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Fleets: named lists of boards a project ships models to, kept in the project file.\n"
        "  fleet PROJECT add NAME --board ID [--count N]   N virtual boards, each with its own state folder\n"
        "  fleet PROJECT add NAME --port PATH [--board ID] [--member M]   a board on a serial port\n"
        "  fleet PROJECT remove NAME [--member M ...]      the fleet, or some members\n"
        "  fleet PROJECT list [NAME]                       members and what the last rollout left on them\n"
        "  fleet PROJECT provision NAME [--key ID]         `tinyml provision` on every member\n"
        "  fleet PROJECT status NAME                       attest every member (exit 1 if any fails)\n"
        "  fleet PROJECT telemetry NAME [--reset]          drift of every member (PSI), kept in the project\n"
        "Ship a signed model to a fleet with `tinyml rollout`."));
    p.addPositionalArgument(QStringLiteral("PROJECT"), QStringLiteral("project file"));
    p.addPositionalArgument(QStringLiteral("ACTION"), QStringLiteral("add, remove, list, provision or status"));
    p.addPositionalArgument(QStringLiteral("NAME"), QStringLiteral("fleet name"));
    p.addOption({QStringLiteral("board"), QStringLiteral("board id (virtual boards: started by the workbench)"), QStringLiteral("ID")});
    p.addOption({QStringLiteral("count"), QStringLiteral("how many virtual boards to add"), QStringLiteral("N"), QStringLiteral("1")});
    p.addOption({QStringLiteral("port"), QStringLiteral("serial port of a board running the TinyML agent"), QStringLiteral("PATH")});
    p.addOption({QStringLiteral("baud"), QStringLiteral("baud rate"), QStringLiteral("N"), QStringLiteral("115200")});
    p.addOption({QStringLiteral("member"), QStringLiteral("member name"), QStringLiteral("M")});
    p.addOption({QStringLiteral("key"), QStringLiteral("signing key id for provision"), QStringLiteral("ID")});
    p.addOption({QStringLiteral("model"), QStringLiteral("telemetry: the model to compare with (default: what the "
                                                         "last rollout left on each member)"), QStringLiteral("ID")});
    p.addOption({QStringLiteral("reset"), QStringLiteral("telemetry: zero the summaries read")});
    p.addOption({QStringLiteral("json"), QStringLiteral("print one JSON object")});
    int code = 0;
    if (!parseOrReport(p, args, command, -2, &code))
        return code;
    const QStringList pos = p.positionalArguments();
    const QString action = pos.at(1);
    const bool json = p.isSet(QStringLiteral("json"));
    static const QStringList withName = {QStringLiteral("add"), QStringLiteral("remove"), QStringLiteral("provision"),
                                         QStringLiteral("status"), QStringLiteral("telemetry")};
    if (action != QLatin1String("list") && !withName.contains(action))
        return usageError(command,
                          QStringLiteral("unknown action \"%1\" (add, remove, list, provision, status, telemetry)").arg(action));
    if (withName.contains(action) ? pos.size() != 3 : pos.size() > 3)
        return usageError(command, QStringLiteral("%1 takes PROJECT %1 NAME").arg(action));
    QString error;
    const bool writes = action == QLatin1String("add") || action == QLatin1String("remove") ||
                        action == QLatin1String("telemetry");
    auto store = writes ? openProjectToWrite(pos.at(0), QStringLiteral("change fleets of"), &error)
                        : openProjectToRead(pos.at(0), &error);
    if (!store)
        return fail(error);
    const QString name = pos.value(2);
    if (action == QLatin1String("add"))
        return fleetAdd(*store, name, p, json);
    if (action == QLatin1String("remove"))
        return fleetRemove(*store, name, p, json);
    if (action == QLatin1String("list"))
        return fleetList(*store, name, json);
    if (action == QLatin1String("provision"))
        return fleetProvision(*store, name, p, json);
    if (action == QLatin1String("telemetry"))
        return fleetTelemetry(*store, name, p, json);
    return fleetStatus(*store, name, json);
}

/// The signed package and model of a rollout: --package FILE (its model: --model, else the
/// int8 model whose package it carries), else the newest signed package of --model (default
/// the newest int8 model) in signed/ beside the project.
bool chooseRolloutPackage(ProjectStore &store, const QCommandLineParser &p, deploy::fleet::RolloutRequest *req,
                          QString *error)
{
    auto packageOf = [&](const StoredModel &m) -> std::optional<QByteArray> {
        deploy::ModelPackageWriter writer;
        auto full = store.model(m.id, error);
        if (!full)
            return std::nullopt;
        return packageModel(*full, writer, error);
    };
    if (p.isSet(QStringLiteral("package"))) {
        QFile f(p.value(QStringLiteral("package")));
        if (!f.open(QIODevice::ReadOnly)) {
            *error = QStringLiteral("%1: cannot read: %2").arg(f.fileName(), f.errorString());
            return false;
        }
        req->signedPackage = f.readAll();
        req->packageFile = QFileInfo(f.fileName()).absoluteFilePath();
        QVector<StoredModel> candidates;
        if (p.isSet(QStringLiteral("model"))) {
            auto m = pickModel(store, p, error);
            if (!m)
                return false;
            candidates.append(*m);
        } else {
            for (const StoredModel &m : store.models())
                if (m.kind == ModelKind::Int8)
                    candidates.prepend(m);
        }
        for (const StoredModel &m : candidates) {
            QString ignore;
            deploy::ModelPackageWriter writer;
            const auto full = store.model(m.id, &ignore);
            const auto pkg = full ? packageModel(*full, writer, &ignore) : std::nullopt;
            if (pkg && deploy::signedPackageOf(*pkg, {req->signedPackage})) {
                req->modelId = m.id;
                return true;
            }
        }
        *error = QStringLiteral("%1 is not a signed package of %2 (sign one with `tinyml sign %3`)")
                     .arg(req->packageFile,
                          p.isSet(QStringLiteral("model")) ? QStringLiteral("model %1").arg(p.value(QStringLiteral("model")))
                                                           : QStringLiteral("any int8 model of the project"),
                          store.path());
        return false;
    }
    auto m = pickModel(store, p, error);
    if (!m)
        return false;
    const auto pkg = packageOf(*m);
    if (!pkg)
        return false;
    for (const deploy::SignedPackageFile &f : deploy::readSignedPackages(deploy::signedPackagesFolder(store.path()))) {
        if (deploy::signedPackageOf(*pkg, {f.bytes})) {
            req->signedPackage = f.bytes;
            req->packageFile = QFileInfo(f.path).absoluteFilePath();
            req->modelId = m->id;
            return true;
        }
    }
    *error = QStringLiteral("model %1 has no signed package in %2: a rollout ships signed packages only; "
                            "run `tinyml sign %3 --model %1` first")
                 .arg(m->id)
                 .arg(deploy::signedPackagesFolder(store.path()), store.path());
    return false;
}

int cmdRollout(const QStringList &args)
{
    const QString command = QStringLiteral("rollout");
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Ship a signed model package to a fleet in stages (default 10,50,100 % of its members). Each\n"
        "member of a stage takes the package and runs the held-out (test) split; the stage is then\n"
        "watched for --gate-minutes: a profile that fails (agent errors), outputs that differ from\n"
        "the host's int8 reference, on-device accuracy below the gate (--min-accuracy, else the\n"
        "last completed rollout's lowest minus 0.05, else the model's host int8 accuracy minus\n"
        "0.05) or latency above it (--max-latency-ms, else 1.5 x the last rollout's where the board\n"
        "counts instructions or cycles) or drift above --max-drift (PSI of the board's TELEMETRY\n"
        "summary against the training data) rolls the\n"
        "stage's members back to their previous model and stops (exit status 1). When every stage\n"
        "passes, every member confirms the package. The state is kept in the project file after\n"
        "every step: after a crash or kill, run the same command again to resume, or --abort."));
    p.addPositionalArgument(QStringLiteral("PROJECT"), QStringLiteral("project file"));
    p.addOption({QStringLiteral("fleet"), QStringLiteral("the fleet (`tinyml fleet PROJECT list`)"), QStringLiteral("NAME")});
    p.addOption({QStringLiteral("model"), QStringLiteral("int8 model id (default: the newest)"), QStringLiteral("ID")});
    p.addOption({QStringLiteral("package"), QStringLiteral("the signed package file (default: the model's newest in signed/)"),
                 QStringLiteral("FILE")});
    p.addOption({QStringLiteral("stages"), QStringLiteral("percentages of the fleet, last 100"), QStringLiteral("LIST"),
                 QStringLiteral("10,50,100")});
    p.addOption({QStringLiteral("gate-minutes"), QStringLiteral("how long each stage is watched"), QStringLiteral("M"),
                 QStringLiteral("1")});
    p.addOption({QStringLiteral("samples"), QStringLiteral("held-out samples per member and round (0: all)"),
                 QStringLiteral("N"), QStringLiteral("50")});
    p.addOption({QStringLiteral("min-accuracy"), QStringLiteral("accuracy gate, 0..1"), QStringLiteral("X")});
    p.addOption({QStringLiteral("max-latency-ms"), QStringLiteral("latency gate (median)"), QStringLiteral("MS")});
    p.addOption({QStringLiteral("max-drift"), QStringLiteral("drift gate: the highest PSI of a member's TELEMETRY "
                                                             "summary against the training data"),
                 QStringLiteral("PSI"), QStringLiteral("0.25")});
    p.addOption({QStringLiteral("abort"), QStringLiteral("roll back the fleet's unfinished rollout")});
    p.addOption({QStringLiteral("json"), QStringLiteral("print one JSON object at the end")});
    int code = 0;
    if (!parseOrReport(p, args, command, 1, &code))
        return code;
    if (!p.isSet(QStringLiteral("fleet")))
        return usageError(command, QStringLiteral("--fleet NAME is required"));
    const bool json = p.isSet(QStringLiteral("json"));
    QString error;
    auto store = openProjectToWrite(p.positionalArguments().at(0), QStringLiteral("roll out from"), &error);
    if (!store)
        return fail(error);
    auto f = loadFleet(*store, p.value(QStringLiteral("fleet")), &error);
    if (!f)
        return fail(error);
    BoardRegistry registry;
    if (!registry.loadDefault(&error))
        return fail(error);

    deploy::fleet::RolloutRequest req;
    bool ok = false;
    req.stages.clear();
    for (const QString &s : p.value(QStringLiteral("stages")).split(QLatin1Char(','))) {
        const int v = s.trimmed().toInt(&ok);
        if (!ok)
            return usageError(command, QStringLiteral("--stages: \"%1\" is not a whole percentage").arg(s));
        req.stages.append(v);
    }
    const double minutes = p.value(QStringLiteral("gate-minutes")).toDouble(&ok);
    if (!ok || minutes < 0 || minutes > 24 * 60)
        return usageError(command, QStringLiteral("--gate-minutes must be 0 to 1440"));
    req.gate.gateSeconds = minutes * 60;
    req.gate.samples = p.value(QStringLiteral("samples")).toInt(&ok);
    if (!ok || req.gate.samples < 0)
        return usageError(command, QStringLiteral("--samples must be 0 or more"));
    if (p.isSet(QStringLiteral("min-accuracy"))) {
        const double v = p.value(QStringLiteral("min-accuracy")).toDouble(&ok);
        if (!ok || v < 0 || v > 1)
            return usageError(command, QStringLiteral("--min-accuracy must be between 0 and 1"));
        req.gate.minAccuracy = v;
    }
    req.gate.maxDriftPsi = p.value(QStringLiteral("max-drift")).toDouble(&ok);
    if (!ok || req.gate.maxDriftPsi <= 0)
        return usageError(command, QStringLiteral("--max-drift must be a positive PSI"));
    if (p.isSet(QStringLiteral("max-latency-ms"))) {
        const double v = p.value(QStringLiteral("max-latency-ms")).toDouble(&ok);
        if (!ok || v <= 0)
            return usageError(command, QStringLiteral("--max-latency-ms must be a positive number"));
        req.gate.maxLatencyMs = v;
    }

    // Ctrl+C / kill: the default action; the state is on disk after every step, and the same
    // command resumes (virtual boards die with this process).
    deploy::fleet::Rollout rollout(store.get(), *f, registry, crypto::SigningKeyStore::defaultDirectory(),
                                   [](const QString &line) {
                                       QTextStream err(stderr);
                                       err << line << "\n";
                                       err.flush();
                                   });
    std::optional<deploy::fleet::RolloutOutcome> outcome;
    const auto open = rollout.unfinished(&error);
    if (p.isSet(QStringLiteral("abort"))) {
        if (!open)
            return fail(QStringLiteral("fleet %1 has no unfinished rollout to abort").arg(f->name));
        outcome = rollout.abort(open->id, &error);
    } else if (open) {
        // the same command again: resume; another package: refuse
        if (!chooseRolloutPackage(*store, p, &req, &error))
            return fail(error);
        if (open->state.value(QStringLiteral("package_file")).toString() != req.packageFile ||
            open->state.value(QStringLiteral("model_id")).toInteger() != req.modelId)
            return fail(QStringLiteral("rollout %1 of fleet %2 (model %3, %4) did not finish: run it again with that "
                                       "package to resume it, or with --abort to roll it back")
                            .arg(open->id)
                            .arg(f->name)
                            .arg(open->state.value(QStringLiteral("model_id")).toInteger())
                            .arg(open->state.value(QStringLiteral("package_file")).toString()));
        outcome = rollout.resume(open->id, &error);
    } else {
        if (!chooseRolloutPackage(*store, p, &req, &error))
            return fail(error);
        outcome = rollout.start(req, &error);
    }
    if (!outcome)
        return fail(error);
    if (json) {
        QJsonObject o{{QStringLiteral("rollout_id"), double(outcome->rolloutId)},
                      {QStringLiteral("status"), outcome->status},
                      {QStringLiteral("reason"), outcome->reason}};
        for (const char *k : {"model_id", "package_file", "package_version", "stages", "stage_sizes", "stage",
                              "thresholds", "measured", "members"})
            o.insert(QLatin1String(k), outcome->state.value(QLatin1String(k)));
        printJson(o);
    } else {
        QTextStream(stdout) << "Rollout " << outcome->rolloutId << ": " << outcome->status
                            << (outcome->reason.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(outcome->reason)) << "\n";
    }
    return outcome->status == QLatin1String("completed") ? Ok : Failed;
}

} // namespace

QList<Command> fleetCommands()
{
    return {
        {QStringLiteral("fleet"),
         QStringLiteral("fleet PROJECT add|remove|list|provision|status|telemetry [NAME] [--board ID --count N | --port PATH] [--json]"),
         QStringLiteral("named lists of boards (virtual or on serial ports) to roll models out to"), cmdFleet},
        {QStringLiteral("rollout"),
         QStringLiteral("rollout PROJECT --fleet NAME [--model ID | --package FILE] [--stages 10,50,100] [--gate-minutes M] "
                        "[--samples N] [--min-accuracy X] [--max-latency-ms MS] [--max-drift PSI] [--abort] [--json]"),
         QStringLiteral("ship a signed model to a fleet in stages with health gates and automatic rollback"), cmdRollout},
    };
}

} // namespace tinyml::cli
