#include "Rollout.h"

#include "Drift.h"
#include "Profiler.h"
#include "store/ProjectStore.h"
#include "tm_frame.h"
#include "tm_signed_package.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>

#include <algorithm>
#include <cmath>

namespace tinyml::deploy::fleet {

namespace {

/// Fewer classification windows than this leave the drift gate unjudged (a class share
/// over a handful of windows says nothing).
constexpr quint32 kMinDriftWindows = 50;

const QString kRunning = QStringLiteral("running");
const QString kRollingBack = QStringLiteral("rolling_back");
const QString kCompleted = QStringLiteral("completed");
const QString kRolledBack = QStringLiteral("rolled_back");
const QString kFailed = QStringLiteral("failed");

// member phases
const QString kPending = QStringLiteral("pending");
const QString kFlashing = QStringLiteral("flashing");
const QString kUpdated = QStringLiteral("updated");
const QString kReverting = QStringLiteral("reverting");
const QString kReverted = QStringLiteral("reverted");
const QString kRevertFailed = QStringLiteral("revert_failed");
const QString kConfirmed = QStringLiteral("confirmed");

QString sha512Hex(const QByteArray &b)
{
    return QString::fromLatin1(QCryptographicHash::hash(b, QCryptographicHash::Sha512).toHex());
}

QString nowUtc() { return QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs); }

double jsonNumber(const QJsonObject &o, const char *key, double fallback = 0)
{
    return o.value(QLatin1String(key)).toDouble(fallback);
}

} // namespace

QJsonObject GatePolicy::toJson() const
{
    QJsonObject o{{QStringLiteral("gate_seconds"), gateSeconds},
                  {QStringLiteral("samples"), samples},
                  {QStringLiteral("max_accuracy_drop"), maxAccuracyDrop},
                  {QStringLiteral("max_latency_growth"), maxLatencyGrowth},
                  {QStringLiteral("max_drift_psi"), maxDriftPsi}};
    if (minAccuracy)
        o.insert(QStringLiteral("min_accuracy"), *minAccuracy);
    if (maxLatencyMs)
        o.insert(QStringLiteral("max_latency_ms"), *maxLatencyMs);
    return o;
}

GatePolicy GatePolicy::fromJson(const QJsonObject &o)
{
    GatePolicy g;
    g.gateSeconds = jsonNumber(o, "gate_seconds");
    g.samples = o.value(QStringLiteral("samples")).toInt(50);
    g.maxAccuracyDrop = jsonNumber(o, "max_accuracy_drop", 0.05);
    g.maxLatencyGrowth = jsonNumber(o, "max_latency_growth", 1.5);
    g.maxDriftPsi = jsonNumber(o, "max_drift_psi", 0.25);
    if (o.contains(QStringLiteral("min_accuracy")))
        g.minAccuracy = jsonNumber(o, "min_accuracy");
    if (o.contains(QStringLiteral("max_latency_ms")))
        g.maxLatencyMs = jsonNumber(o, "max_latency_ms");
    return g;
}

std::optional<QVector<int>> stageSizes(const QVector<int> &percent, int members, QString *error)
{
    if (members <= 0) {
        *error = QStringLiteral("the fleet has no members");
        return std::nullopt;
    }
    if (percent.isEmpty() || percent.last() != 100) {
        *error = QStringLiteral("--stages: the last stage must be 100 (every member)");
        return std::nullopt;
    }
    QVector<int> sizes;
    int previous = 0, previousPct = 0;
    for (int pct : percent) {
        if (pct <= previousPct || pct > 100) {
            *error = QStringLiteral("--stages: percentages must grow from 1 to 100 (got %1 after %2)").arg(pct).arg(previousPct);
            return std::nullopt;
        }
        const int n = qMax(1, int(std::ceil(double(pct) * members / 100.0 - 1e-9)));
        if (n > previous)
            sizes.append(n);   // a stage that adds nobody (small fleets) is merged into the next
        previous = qMax(previous, n);
        previousPct = pct;
    }
    return sizes;
}

// --- one rollout's run ---------------------------------------------------------------------------

struct Rollout::Run {
    Rollout &r;
    StoredRollout row;
    QJsonObject &st;
    QByteArray package;
    quint32 packageCrc = 0;

    Run(Rollout &owner, StoredRollout stored) : r(owner), row(std::move(stored)), st(row.state) {}

    void log(const QString &line)
    {
        if (r.m_log)
            r.m_log(line);
        QJsonArray events = st.value(QStringLiteral("events")).toArray();
        events.append(QJsonObject{{QStringLiteral("utc"), nowUtc()}, {QStringLiteral("text"), line}});
        while (events.size() > 400)
            events.removeFirst();
        st.insert(QStringLiteral("events"), events);
    }

    bool save(QString *error) { return r.m_store->updateRollout(row.id, row.status, st, error); }

    QJsonArray members() const { return st.value(QStringLiteral("members")).toArray(); }
    QJsonObject member(int i) const { return members().at(i).toObject(); }
    void setMember(int i, const QJsonObject &m)
    {
        QJsonArray a = members();
        a[i] = m;
        st.insert(QStringLiteral("members"), a);
    }
    void setPhase(int i, const QString &phase, const QString &note = {})
    {
        QJsonObject m = member(i);
        m.insert(QStringLiteral("phase"), phase);
        if (!note.isEmpty())
            m.insert(QStringLiteral("note"), note);
        setMember(i, m);
    }
    const FleetMember *fleetMember(int i) const { return r.m_fleet.member(member(i).value(QStringLiteral("name")).toString()); }

    bool loadPackage(QString *error)
    {
        const QString file = st.value(QStringLiteral("package_file")).toString();
        QFile f(file);
        if (!f.open(QIODevice::ReadOnly)) {
            *error = QStringLiteral("%1: cannot read the rollout's package: %2").arg(file, f.errorString());
            return false;
        }
        package = f.readAll();
        if (sha512Hex(package) != st.value(QStringLiteral("package_sha512")).toString()) {
            *error = QStringLiteral("%1 changed since the rollout started (its SHA-512 differs): "
                                    "put the original file back, or `tinyml rollout --abort`").arg(file);
            return false;
        }
        packageCrc = tm_crc32(0, reinterpret_cast<const uint8_t *>(package.constData()), size_t(package.size()));
        return true;
    }

    bool runsPackage(const ModelSlotInfo &info, quint32 crc, quint32 size) const
    {
        return info.valid && info.activeSlot >= 0 && info.crc == crc && info.size == size;
    }

    /// Profile of modelId on an open member with its signed package (uploads when it differs).
    std::optional<ProfileResult> measure(MemberConnection &c, qint64 modelId, const QByteArray &signedBytes,
                                         int samples, QString *error)
    {
        ProfileOptions o;
        o.runs = 5;
        o.warmup = 1;
        o.accuracy = true;
        o.maxAccuracySamples = samples;
        o.signedPackages = {signedBytes};
        o.signedPackageRequired = true;
        ProfileResult result;
        if (!Profiler::run(r.m_store, modelId, c.link(), c.definition(), o, &result, error))
            return std::nullopt;
        return result;
    }

    QJsonObject roundJson(const ProfileResult &p) const
    {
        return {{QStringLiteral("utc"), nowUtc()},
                {QStringLiteral("device_accuracy"), p.deviceAccuracy},
                {QStringLiteral("host_int8_accuracy"), p.hostInt8Accuracy},
                {QStringLiteral("outputs_compared"), p.outputsCompared},
                {QStringLiteral("bitexact_outputs"), p.bitexactOutputs},
                {QStringLiteral("latency_median_ms"), p.latencyMedianMs},
                {QStringLiteral("profile_id"), double(p.profileId)}};
    }

    /// The thresholds, fixed at the first measurement of the rollout and kept in the state.
    void fixThresholds(const ProfileResult &first)
    {
        if (st.contains(QStringLiteral("thresholds")))
            return;
        const GatePolicy g = GatePolicy::fromJson(st.value(QStringLiteral("gate")).toObject());
        QJsonObject t;
        // the last completed rollout of this fleet, if any
        std::optional<StoredRollout> last;
        for (const StoredRollout &o : r.m_store->rollouts(r.m_fleet.name))
            if (o.id != row.id && o.status == kCompleted)
                last = o;
        const QJsonObject lastMeasured = last ? last->state.value(QStringLiteral("measured")).toObject() : QJsonObject{};
        if (g.minAccuracy) {
            t.insert(QStringLiteral("min_accuracy"), *g.minAccuracy);
            t.insert(QStringLiteral("min_accuracy_source"), QStringLiteral("given (--min-accuracy)"));
        } else if (lastMeasured.contains(QStringLiteral("min_device_accuracy"))) {
            t.insert(QStringLiteral("min_accuracy"), jsonNumber(lastMeasured, "min_device_accuracy") - g.maxAccuracyDrop);
            t.insert(QStringLiteral("min_accuracy_source"),
                     QStringLiteral("rollout %1's lowest on-device accuracy minus %2").arg(last->id).arg(g.maxAccuracyDrop));
        } else {
            t.insert(QStringLiteral("min_accuracy"), first.hostInt8Accuracy - g.maxAccuracyDrop);
            t.insert(QStringLiteral("min_accuracy_source"),
                     QStringLiteral("the model's host int8 accuracy minus %1 (no earlier rollout on this fleet)")
                         .arg(g.maxAccuracyDrop));
        }
        if (g.maxLatencyMs) {
            t.insert(QStringLiteral("max_latency_ms"), *g.maxLatencyMs);
            t.insert(QStringLiteral("max_latency_source"), QStringLiteral("given (--max-latency-ms)"));
        } else if (first.counter == QLatin1String("microseconds")) {
            // a host agent's wall clock on a shared machine: too noisy for a derived gate
            t.insert(QStringLiteral("max_latency_source"),
                     QStringLiteral("none: %1 times inferences with the host's wall clock (noisy); give --max-latency-ms")
                         .arg(first.board));
        } else if (lastMeasured.contains(QStringLiteral("max_latency_median_ms"))) {
            t.insert(QStringLiteral("max_latency_ms"), jsonNumber(lastMeasured, "max_latency_median_ms") * g.maxLatencyGrowth);
            t.insert(QStringLiteral("max_latency_source"),
                     QStringLiteral("rollout %1's slowest median x %2").arg(last->id).arg(g.maxLatencyGrowth));
        }
        st.insert(QStringLiteral("thresholds"), t);
    }

    /// The drift gate on an open member: its TELEMETRY summary against the training split,
    /// kept as a telemetry reading. Empty when it passes or cannot be judged (no summary, an
    /// agent without TELEMETRY: noted on the member), else the failed gate in words.
    QString driftGate(MemberConnection &c, int i, const QString &memberName)
    {
        QJsonObject m = member(i);
        if (!c.link()->supportsTelemetry()) {
            m.insert(QStringLiteral("drift"), QJsonObject{{QStringLiteral("note"), QStringLiteral("agent without TELEMETRY")}});
            setMember(i, m);
            return {};
        }
        QString e;
        const qint64 modelId = st.value(QStringLiteral("model_id")).toInteger();
        // the board's own classification windows only: the INVOKE summary holds the held-out
        // checks and the latency runs of this rollout, not the field
        const auto report = readDrift(c.link(), *r.m_store, modelId, false, &e, TelemetrySummary::kClassify);
        if (!report) {
            m.insert(QStringLiteral("drift"), QJsonObject{{QStringLiteral("note"), e}});
            setMember(i, m);
            return {};
        }
        QJsonObject reading = report->toJson();
        reading.insert(QStringLiteral("rollout"), double(row.id));
        reading.insert(QStringLiteral("stage"), st.value(QStringLiteral("stage")).toInt() + 1);
        StoredTelemetry t{0, r.m_fleet.name, memberName, {}, reading};
        QString storeError;
        r.m_store->addTelemetry(t, &storeError);   // a reading that cannot be kept does not stop the gate
        m.insert(QStringLiteral("drift"),
                 QJsonObject{{QStringLiteral("psi"), report->psi},
                             {QStringLiteral("level"), report->level()},
                             {QStringLiteral("source"), reading.value(QStringLiteral("source"))},
                             {QStringLiteral("windows"), double(report->windows)}});
        setMember(i, m);
        if (report->windows < kMinDriftWindows)
            log(QStringLiteral("%1: drift not judged: %2 classification window(s) since the update (the gate needs %3)")
                    .arg(memberName)
                    .arg(report->windows)
                    .arg(kMinDriftWindows));
        else
            log(QStringLiteral("%1: drift PSI %2 on %3 classification windows: %4")
                    .arg(memberName)
                    .arg(report->psi, 0, 'f', 3)
                    .arg(report->windows)
                    .arg(report->level()));
        const double maxPsi = GatePolicy::fromJson(st.value(QStringLiteral("gate")).toObject()).maxDriftPsi;
        if (report->windows >= kMinDriftWindows && report->psi > maxPsi)
            return QStringLiteral("drift gate: %1's %2 windows (%3) drift from the training data by PSI %4, the gate "
                                  "allows %5")
                .arg(memberName)
                .arg(report->windows)
                .arg(reading.value(QStringLiteral("source")).toString())
                .arg(report->psi, 0, 'f', 3)
                .arg(maxPsi, 0, 'f', 3);
        return {};
    }

    /// Empty when the round passes every gate, else the failed gate in words.
    QString judge(const QString &memberName, const ProfileResult &p)
    {
        const QJsonObject t = st.value(QStringLiteral("thresholds")).toObject();
        if (p.bitexactOutputs != p.outputsCompared)
            return QStringLiteral("outputs gate: %1's outputs equal the host's on %2 of %3 held-out samples")
                .arg(memberName).arg(p.bitexactOutputs).arg(p.outputsCompared);
        const double minAcc = jsonNumber(t, "min_accuracy");
        if (!p.isAnomaly() && p.deviceAccuracy + 1e-9 < minAcc)
            return QStringLiteral("accuracy gate: %1 classified %2 % of %3 held-out samples right, the gate needs %4 % (%5)")
                .arg(memberName)
                .arg(p.deviceAccuracy * 100, 0, 'f', 1)
                .arg(p.outputsCompared)
                .arg(minAcc * 100, 0, 'f', 1)
                .arg(t.value(QStringLiteral("min_accuracy_source")).toString());
        if (t.contains(QStringLiteral("max_latency_ms")) && p.latencyMedianMs > jsonNumber(t, "max_latency_ms"))
            return QStringLiteral("latency gate: %1 takes %2 ms per inference (median), the gate allows %3 ms (%4)")
                .arg(memberName)
                .arg(p.latencyMedianMs, 0, 'f', 3)
                .arg(jsonNumber(t, "max_latency_ms"), 0, 'f', 3)
                .arg(t.value(QStringLiteral("max_latency_source")).toString());
        return {};
    }

    void recordRound(int i, const ProfileResult &p)
    {
        QJsonObject m = member(i);
        QJsonArray rounds = m.value(QStringLiteral("rounds")).toArray();
        rounds.append(roundJson(p));
        while (rounds.size() > 5)
            rounds.removeFirst();
        m.insert(QStringLiteral("rounds"), rounds);
        setMember(i, m);
        QJsonObject measured = st.value(QStringLiteral("measured")).toObject();
        const double lowest = measured.contains(QStringLiteral("min_device_accuracy"))
                                  ? qMin(jsonNumber(measured, "min_device_accuracy"), p.deviceAccuracy)
                                  : p.deviceAccuracy;
        const double slowest = qMax(jsonNumber(measured, "max_latency_median_ms"), p.latencyMedianMs);
        if (!p.isAnomaly())
            measured.insert(QStringLiteral("min_device_accuracy"), lowest);
        measured.insert(QStringLiteral("max_latency_median_ms"), slowest);
        st.insert(QStringLiteral("measured"), measured);
    }

    /// What the member runs before the update: MODEL_INFO, and attestation when it can.
    QJsonObject before(MemberConnection &c, const FleetMember &fm)
    {
        QJsonObject b;
        QString e;
        const auto info = c.link()->modelInfo(&e);
        b.insert(QStringLiteral("valid"), info && info->valid && info->activeSlot >= 0);
        if (info && info->valid) {
            b.insert(QStringLiteral("crc"), double(info->crc));
            b.insert(QStringLiteral("bytes"), double(info->size));
        }
        if (c.link()->supportsAttestation()) {
            const auto a = attestLink(c.link(), fm.identityLabel(r.m_fleet.name), r.m_keysDir, {}, &e);
            if (a) {
                b.insert(QStringLiteral("attested"), a->verified);
                b.insert(QStringLiteral("package_sha512"), a->packageSha512);
                b.insert(QStringLiteral("package_version"), double(a->packageVersion));
            }
        }
        return b;
    }

    /// Updates and measures member i (phase pending/flashing -> updated). False: the gate
    /// failed or the member could not be updated (*why says which); error only for the store.
    bool updateMember(int i, QString *why, QString *error)
    {
        const FleetMember *fm = fleetMember(i);
        if (!fm) {
            *why = QStringLiteral("member %1 is no longer in fleet %2").arg(member(i).value(QStringLiteral("name")).toString(), r.m_fleet.name);
            return false;
        }
        MemberConnection c;
        if (!c.open(*fm, r.m_registry, why)) {
            *why = QStringLiteral("agent errors gate: %1").arg(*why);
            return false;
        }
        QJsonObject m = member(i);
        if (m.value(QStringLiteral("phase")).toString() == kFlashing) {
            // interrupted: what does it run?
            QString e;
            const auto info = c.link()->modelInfo(&e);
            if (info && runsPackage(*info, packageCrc, quint32(package.size())))
                log(QStringLiteral("%1: found running the package after the interruption").arg(fm->name));
            else
                log(QStringLiteral("%1: the interrupted update did not take; updating again").arg(fm->name));
        } else {
            m.insert(QStringLiteral("before"), before(c, *fm));
            m.insert(QStringLiteral("phase"), kFlashing);
            setMember(i, m);
            if (!save(error))
                return false;
        }
        log(QStringLiteral("%1: updating to package version %2").arg(fm->name).arg(st.value(QStringLiteral("package_version")).toInt()));
        QString e;
        const auto p = measure(c, st.value(QStringLiteral("model_id")).toInteger(), package,
                               GatePolicy::fromJson(st.value(QStringLiteral("gate")).toObject()).samples, &e);
        const auto info = c.link()->modelInfo(&e);
        const bool took = info && runsPackage(*info, packageCrc, quint32(package.size()));
        setPhase(i, took ? kUpdated : kFlashing);
        if (!p) {
            *why = QStringLiteral("agent errors gate: %1: %2").arg(fm->name, e);
            if (!took)   // never switched: nothing to revert on this member
                setPhase(i, kPending, QStringLiteral("did not take the package: %1").arg(e));
            return save(error) && false;
        }
        fixThresholds(*p);
        recordRound(i, *p);
        log(QStringLiteral("%1: on-device accuracy %2 % on %3 held-out samples, %4/%3 outputs equal to the host's, %5 ms")
                .arg(fm->name)
                .arg(p->deviceAccuracy * 100, 0, 'f', 1)
                .arg(p->outputsCompared)
                .arg(p->bitexactOutputs)
                .arg(p->latencyMedianMs, 0, 'f', 3));
        *why = judge(fm->name, *p);
        if (why->isEmpty())
            *why = driftGate(c, i, fm->name);
        if (!save(error))
            return false;
        return why->isEmpty();
    }

    /// One gate round over the members of stage s. Empty when all pass.
    QString gateRound(const QVector<int> &stageMembers, QString *error)
    {
        for (int i : stageMembers) {
            const FleetMember *fm = fleetMember(i);
            MemberConnection c;
            QString why;
            if (!fm || !c.open(*fm, r.m_registry, &why))
                return QStringLiteral("agent errors gate: %1").arg(fm ? why : QStringLiteral("member gone"));
            QString e;
            const auto p = measure(c, st.value(QStringLiteral("model_id")).toInteger(), package,
                                   GatePolicy::fromJson(st.value(QStringLiteral("gate")).toObject()).samples, &e);
            if (!p)
                return QStringLiteral("agent errors gate: %1: %2").arg(fm->name, e);
            recordRound(i, *p);
            QString failed = judge(fm->name, *p);
            if (failed.isEmpty())
                failed = driftGate(c, i, fm->name);
            if (!save(error))
                return QStringLiteral("store: %1").arg(*error);
            if (!failed.isEmpty())
                return failed;
        }
        return {};
    }

    /// The package a member ran before, when an earlier rollout of this fleet shipped it.
    std::optional<StoredRollout> rolloutThatShipped(const QJsonObject &before) const
    {
        const QString sha = before.value(QStringLiteral("package_sha512")).toString();
        const quint32 crc = quint32(jsonNumber(before, "crc"));
        for (const StoredRollout &o : r.m_store->rollouts(r.m_fleet.name)) {
            if (o.id == row.id)
                continue;
            if ((!sha.isEmpty() && o.state.value(QStringLiteral("package_sha512")).toString() == sha) ||
                (sha.isEmpty() && quint32(jsonNumber(o.state, "package_crc")) == crc))
                return o;
        }
        return std::nullopt;
    }

    /// Reverts member i and checks what it runs then.
    bool revertMember(int i, QString *error)
    {
        const FleetMember *fm = fleetMember(i);
        QJsonObject m = member(i);
        const QJsonObject b = m.value(QStringLiteral("before")).toObject();
        MemberConnection c;
        QString why;
        if (!fm || !c.open(*fm, r.m_registry, &why)) {
            setPhase(i, kRevertFailed, fm ? why : QStringLiteral("member gone"));
            log(QStringLiteral("%1: cannot roll back: %2").arg(m.value(QStringLiteral("name")).toString(), fm ? why : QStringLiteral("member gone")));
            return save(error);
        }
        setPhase(i, kReverting);
        if (!save(error))
            return false;
        QString e;
        auto info = c.link()->modelInfo(&e);
        if (info && runsPackage(*info, packageCrc, quint32(package.size()))) {
            if (!c.link()->revertModel(&e)) {
                setPhase(i, kRevertFailed, e);
                log(QStringLiteral("%1: rollback refused: %2").arg(fm->name, e));
                return save(error);
            }
            info = c.link()->modelInfo(&e);
        }
        const bool backOnBefore = info && b.value(QStringLiteral("valid")).toBool() &&
                                  runsPackage(*info, quint32(jsonNumber(b, "crc")), quint32(jsonNumber(b, "bytes")));
        if (!backOnBefore) {
            setPhase(i, kRevertFailed, QStringLiteral("after the rollback it does not run the package it ran before"));
            log(QStringLiteral("%1: after the rollback it does not run the package it ran before").arg(fm->name));
            return save(error);
        }
        QJsonObject check{{QStringLiteral("model_info"), true}};
        if (c.link()->supportsAttestation() && !b.value(QStringLiteral("package_sha512")).toString().isEmpty()) {
            const auto a = attestLink(c.link(), fm->identityLabel(r.m_fleet.name), r.m_keysDir, {}, &e);
            const bool same = a && a->verified && a->packageSha512 == b.value(QStringLiteral("package_sha512")).toString();
            check.insert(QStringLiteral("attested"), same);
            if (a)
                check.insert(QStringLiteral("attestation"), a->toJson());
            if (!same) {
                setPhase(i, kRevertFailed, a ? QStringLiteral("attestation: %1").arg(a->verified ? QStringLiteral("another package") : a->reason) : e);
                m = member(i);
                m.insert(QStringLiteral("revert_check"), check);
                setMember(i, m);
                log(QStringLiteral("%1: attestation after the rollback does not show the previous package").arg(fm->name));
                return save(error);
            }
        }
        // outputs: when an earlier rollout shipped that package, run its model's held-out split
        if (const auto earlier = rolloutThatShipped(b)) {
            QFile f(earlier->state.value(QStringLiteral("package_file")).toString());
            if (f.open(QIODevice::ReadOnly)) {
                const QByteArray prev = f.readAll();
                const auto p = measure(c, earlier->state.value(QStringLiteral("model_id")).toInteger(), prev,
                                       GatePolicy::fromJson(st.value(QStringLiteral("gate")).toObject()).samples, &e);
                if (p) {
                    check.insert(QStringLiteral("previous_model_id"), earlier->state.value(QStringLiteral("model_id")));
                    check.insert(QStringLiteral("outputs"), roundJson(*p));
                    log(QStringLiteral("%1: runs model %2 again: %3/%4 outputs equal to the host's, accuracy %5 %")
                            .arg(fm->name)
                            .arg(earlier->state.value(QStringLiteral("model_id")).toInteger())
                            .arg(p->bitexactOutputs)
                            .arg(p->outputsCompared)
                            .arg(p->deviceAccuracy * 100, 0, 'f', 1));
                } else {
                    check.insert(QStringLiteral("outputs_error"), e);
                }
            }
        }
        m = member(i);
        m.insert(QStringLiteral("phase"), kReverted);
        m.insert(QStringLiteral("revert_check"), check);
        setMember(i, m);
        log(QStringLiteral("%1: rolled back to the package it ran before (version %2)")
                .arg(fm->name)
                .arg(b.value(QStringLiteral("package_version")).toInt()));
        return save(error);
    }

    QVector<int> membersOfStage(int s) const
    {
        const QJsonArray sizes = st.value(QStringLiteral("stage_sizes")).toArray();
        const int from = s > 0 ? sizes.at(s - 1).toInt() : 0;
        QVector<int> out;
        for (int i = from; i < sizes.at(s).toInt(); ++i)
            out.append(i);
        return out;
    }

    bool stopRequested() const { return r.m_stop && r.m_stop(); }

    /// Stopped on request: the state stays "running" (resumable), saved.
    std::optional<RolloutOutcome> stopHere(int stage, QString *error)
    {
        log(QStringLiteral("stopped at stage %1 on request; run the rollout again to resume it").arg(stage + 1));
        if (!save(error))
            return std::nullopt;
        return RolloutOutcome{row.id, row.status, QStringLiteral("stopped"), st};
    }

    std::optional<RolloutOutcome> finish(const QString &status, const QString &reason, QString *error)
    {
        row.status = status;
        if (!reason.isEmpty())
            st.insert(QStringLiteral("reason"), reason);
        st.insert(QStringLiteral("finished_utc"), nowUtc());
        if (!save(error))
            return std::nullopt;
        return RolloutOutcome{row.id, status, reason, st};
    }

    std::optional<RolloutOutcome> rollBack(const QVector<int> &which, const QString &reason, QString *error)
    {
        if (row.status != kRollingBack) {
            row.status = kRollingBack;
            QJsonArray list;
            for (int i : which)
                list.append(i);
            st.insert(QStringLiteral("rollback_members"), list);
            st.insert(QStringLiteral("reason"), reason);
            log(QStringLiteral("gate failed: %1; rolling back %2 member(s)").arg(reason).arg(which.size()));
            if (!save(error))
                return std::nullopt;
        }
        bool allBack = true;
        for (int i : which) {
            const QString phase = member(i).value(QStringLiteral("phase")).toString();
            if (phase == kReverted || phase == kPending)
                continue;
            if (!revertMember(i, error))
                return std::nullopt;
            allBack = allBack && member(i).value(QStringLiteral("phase")).toString() == kReverted;
        }
        return finish(allBack ? kRolledBack : kFailed, reason, error);
    }

    std::optional<RolloutOutcome> go(QString *error)
    {
        error->clear();   // from here on, *error is set only when the project file cannot be written
        if (!loadPackage(error))
            return std::nullopt;
        if (row.status == kRollingBack) {
            QVector<int> which;
            for (const QJsonValue v : st.value(QStringLiteral("rollback_members")).toArray())
                which.append(v.toInt());
            log(QStringLiteral("resuming the rollback of rollout %1").arg(row.id));
            return rollBack(which, st.value(QStringLiteral("reason")).toString(), error);
        }
        const int stages = st.value(QStringLiteral("stage_sizes")).toArray().size();
        const GatePolicy gate = GatePolicy::fromJson(st.value(QStringLiteral("gate")).toObject());
        for (int s = st.value(QStringLiteral("stage")).toInt(); s < stages; ++s) {
            st.insert(QStringLiteral("stage"), s);
            const QVector<int> which = membersOfStage(s);
            log(QStringLiteral("stage %1/%2: %3 member(s), %4 of the fleet's %5 updated at its end")
                    .arg(s + 1)
                    .arg(stages)
                    .arg(which.size())
                    .arg(st.value(QStringLiteral("stage_sizes")).toArray().at(s).toInt())
                    .arg(members().size()));
            if (!save(error))
                return std::nullopt;
            // the whole stage takes the package; each update's measurement is its first gate round
            QString firstFailure;
            for (int i : which) {
                const QString phase = member(i).value(QStringLiteral("phase")).toString();
                if (phase != kPending && phase != kFlashing)
                    continue;
                if (stopRequested())
                    return stopHere(s, error);
                QString why;
                if (!updateMember(i, &why, error)) {
                    if (!error->isEmpty())
                        return std::nullopt;
                    log(QStringLiteral("%1: %2").arg(member(i).value(QStringLiteral("name")).toString(), why));
                    if (firstFailure.isEmpty())
                        firstFailure = why;
                }
            }
            if (!firstFailure.isEmpty())
                return rollBack(which, firstFailure, error);
            // watch the stage for the gate time (the first round was the update's measurement)
            QElapsedTimer watch;
            watch.start();
            int round = 1;
            while (watch.elapsed() < qint64(gate.gateSeconds * 1000)) {
                if (stopRequested())
                    return stopHere(s, error);
                const QString failed = gateRound(which, error);
                if (!error->isEmpty())
                    return std::nullopt;
                if (!failed.isEmpty())
                    return rollBack(which, failed, error);
                ++round;
                log(QStringLiteral("stage %1/%2: gate round %3 passed on %4 member(s) (%5 s of %6 s watched)")
                        .arg(s + 1)
                        .arg(stages)
                        .arg(round)
                        .arg(which.size())
                        .arg(watch.elapsed() / 1000.0, 0, 'f', 1)
                        .arg(gate.gateSeconds, 0, 'f', 1));
            }
            log(QStringLiteral("stage %1/%2 passed its gates").arg(s + 1).arg(stages));
        }
        // every stage passed: the package becomes final on every member
        bool allConfirmed = true;
        for (int i = 0; i < members().size(); ++i) {
            if (member(i).value(QStringLiteral("phase")).toString() != kUpdated)
                continue;
            const FleetMember *fm = fleetMember(i);
            MemberConnection c;
            QString why;
            if (!fm || !c.open(*fm, r.m_registry, &why) || !c.link()->confirmModel(&why)) {
                allConfirmed = false;
                setPhase(i, kUpdated, QStringLiteral("not confirmed: %1").arg(why));
                log(QStringLiteral("%1: not confirmed: %2").arg(member(i).value(QStringLiteral("name")).toString(), why));
            } else {
                setPhase(i, kConfirmed);
            }
            if (!save(error))
                return std::nullopt;
        }
        log(allConfirmed ? QStringLiteral("rollout %1 completed: every member runs the package and confirmed it").arg(row.id)
                         : QStringLiteral("rollout %1 completed; some members did not confirm (see above)").arg(row.id));
        return finish(kCompleted, {}, error);
    }
};

// --- Rollout ---------------------------------------------------------------------------------------

Rollout::Rollout(ProjectStore *store, const Fleet &fleet, const BoardRegistry &registry, const QString &keysDir, Log log)
    : m_store(store), m_fleet(fleet), m_registry(registry), m_keysDir(keysDir), m_log(std::move(log))
{
}

std::optional<StoredRollout> Rollout::unfinished(QString *) const
{
    const auto all = m_store->rollouts(m_fleet.name);
    if (!all.isEmpty() && (all.last().status == kRunning || all.last().status == kRollingBack))
        return all.last();
    return std::nullopt;
}

std::optional<RolloutOutcome> Rollout::start(const RolloutRequest &request, QString *error)
{
    if (const auto open = unfinished(error)) {
        *error = QStringLiteral("rollout %1 of fleet %2 did not finish (%3): run it again with the same package to "
                                "resume it, or with --abort to roll it back")
                     .arg(open->id)
                     .arg(m_fleet.name, open->status);
        return std::nullopt;
    }
    const auto sizes = stageSizes(request.stages, m_fleet.members.size(), error);
    if (!sizes)
        return std::nullopt;
    StoredRollout row;
    row.fleet = m_fleet.name;
    row.status = kRunning;
    QJsonObject &st = row.state;
    st.insert(QStringLiteral("format"), 1);
    st.insert(QStringLiteral("model_id"), double(request.modelId));
    st.insert(QStringLiteral("package_file"), request.packageFile);
    st.insert(QStringLiteral("package_sha512"), sha512Hex(request.signedPackage));
    st.insert(QStringLiteral("package_crc"),
              double(tm_crc32(0, reinterpret_cast<const uint8_t *>(request.signedPackage.constData()),
                              size_t(request.signedPackage.size()))));
    st.insert(QStringLiteral("package_bytes"), double(request.signedPackage.size()));
    quint32 version = 0;
    {
        tm_signed_info_t info;
        if (tm_signed_package_parse(reinterpret_cast<const uint8_t *>(request.signedPackage.constData()),
                                    size_t(request.signedPackage.size()), &info) == TM_SIGNED_OK)
            version = info.package_version;
    }
    st.insert(QStringLiteral("package_version"), double(version));
    QJsonArray stages, stageSizesJson, members;
    for (int p : request.stages)
        stages.append(p);
    for (int n : *sizes)
        stageSizesJson.append(n);
    for (const FleetMember &m : m_fleet.members)
        members.append(QJsonObject{{QStringLiteral("name"), m.name}, {QStringLiteral("phase"), kPending}});
    st.insert(QStringLiteral("stages"), stages);
    st.insert(QStringLiteral("stage_sizes"), stageSizesJson);
    st.insert(QStringLiteral("members"), members);
    st.insert(QStringLiteral("gate"), request.gate.toJson());
    st.insert(QStringLiteral("stage"), 0);
    if (!m_store->addRollout(row, error))
        return std::nullopt;
    Run run(*this, row);
    run.log(QStringLiteral("rollout %1: model %2, %3 (version %4) to fleet %5 (%6 members) in %7 stage(s)")
                .arg(row.id)
                .arg(request.modelId)
                .arg(request.packageFile)
                .arg(version)
                .arg(m_fleet.name)
                .arg(m_fleet.members.size())
                .arg(sizes->size()));
    return run.go(error);
}

std::optional<RolloutOutcome> Rollout::resume(qint64 rolloutId, QString *error)
{
    auto row = m_store->rollout(rolloutId, error);
    if (!row)
        return std::nullopt;
    Run run(*this, *row);
    run.log(QStringLiteral("resuming rollout %1 at stage %2 (%3)")
                .arg(rolloutId)
                .arg(row->state.value(QStringLiteral("stage")).toInt() + 1)
                .arg(row->status));
    return run.go(error);
}

std::optional<RolloutOutcome> Rollout::abort(qint64 rolloutId, QString *error)
{
    auto row = m_store->rollout(rolloutId, error);
    if (!row)
        return std::nullopt;
    Run run(*this, *row);
    if (!run.loadPackage(error))
        return std::nullopt;
    error->clear();
    QVector<int> which;
    if (row->status == kRollingBack) {
        for (const QJsonValue v : row->state.value(QStringLiteral("rollback_members")).toArray())
            which.append(v.toInt());
    } else {
        for (int i = 0; i < run.members().size(); ++i) {
            const QString phase = run.member(i).value(QStringLiteral("phase")).toString();
            if (phase == kFlashing || phase == kUpdated)
                which.append(i);
        }
    }
    return run.rollBack(which, QStringLiteral("aborted by the user"), error);
}

} // namespace tinyml::deploy::fleet
