#pragma once
// Staged rollout of a signed model package to a fleet (issue 17, `tinyml rollout`).
//
// Stages are percentages of the fleet (10,50,100: the first ceil(10% of N) members, then up
// to half, then all; the last stage must be 100). In each stage, every member that does not
// run the package yet takes it (the Profiler's upload: MODEL_BEGIN/CHUNK/COMMIT, verified by
// MODEL_INFO, on a provisioned board the agent checks the signature and version before the
// slot switches) and is measured on the project's held-out (test) split. Then the stage is
// watched for the gate time, round after round, on every member of the stage:
//   - agent errors: a profile that fails (ERROR reply, timeout, lost link) fails the gate;
//   - outputs: the device's int8 outputs must equal the host's reference bit for bit;
//   - accuracy: on-device accuracy >= the minimum (given, else the last completed rollout's
//     lowest accuracy on this fleet minus the allowed drop, else the model's own host int8
//     accuracy minus the drop);
//   - latency: median <= the maximum (given, else the last completed rollout's x growth, on
//     boards that count instructions or cycles);
//   - drift: the PSI of the board's own classification windows since the update (TELEMETRY's
//     CLASSIFY summary) against the training split <= the maximum, judged from 50 windows on
//     (the held-out checks are not field data); every reading is kept in the project
//     (ProjectStore::addTelemetry).
// A gate that fails reverts exactly the members of the failing stage to their previous slot
// (MODEL_REVERT, which also returns the anti-rollback counter) and checks them: MODEL_INFO
// shows the package they ran before, attestation (when the board keeps an identity) shows its
// SHA-512 and version, and when that package came from an earlier rollout of this project its
// model runs the held-out split again with outputs equal to the host's. When every stage
// passes, every member confirms (MODEL_CONFIRM: the new package is final).
//
// Crash safety: the whole state (StoredRollout::state) is written to the project file before
// and after every step on a board (synchronous SQLite commit). Running the same rollout again
// after a crash or kill -9 resumes it: a member caught mid-upload is asked what it runs
// (MODEL_INFO) and either counts as updated or is flashed again; the interrupted stage's gate
// starts over; a rollback in progress is finished. No member is ever left without a record.
//
// Threading: blocking (local event loops), for the CLI; one member at a time.

#include "Fleet.h"

#include <QJsonObject>
#include <QString>
#include <QVector>

#include <functional>
#include <optional>

namespace tinyml {
class ProjectStore;
struct StoredRollout;
}

namespace tinyml::deploy::fleet {

struct GatePolicy {
    double gateSeconds = 0;          ///< watch time per stage after its members took the package
    int samples = 50;                ///< held-out samples per member and round (0: whole test split)
    std::optional<double> minAccuracy;
    double maxAccuracyDrop = 0.05;   ///< for the derived minimum
    std::optional<double> maxLatencyMs;
    double maxLatencyGrowth = 1.5;   ///< for the derived maximum
    /// Drift gate: the board's TELEMETRY summary against the training split (deploy/fleet/
    /// Drift.h); fails above this PSI (0.25: the usual "significant shift" reading).
    double maxDriftPsi = 0.25;
    QJsonObject toJson() const;
    static GatePolicy fromJson(const QJsonObject &o);
};

struct RolloutRequest {
    qint64 modelId = 0;
    QByteArray signedPackage;        ///< the file's bytes (`tinyml sign`)
    QString packageFile;
    QVector<int> stages{10, 50, 100};
    GatePolicy gate;
};

struct RolloutOutcome {
    qint64 rolloutId = 0;
    QString status;                  ///< "completed", "rolled_back", "failed"
    QString reason;                  ///< the failed gate or error, in words; empty when completed
    QJsonObject state;
};

/// Member counts per stage: ceil(pct x n / 100), at least 1, strictly growing, last = n.
/// nullopt with *error for a bad list ("--stages: ...").
std::optional<QVector<int>> stageSizes(const QVector<int> &percent, int members, QString *error);

class Rollout
{
public:
    using Log = std::function<void(const QString &line)>;
    Rollout(ProjectStore *store, const Fleet &fleet, const BoardRegistry &registry, const QString &keysDir, Log log);

    /// The fleet's newest rollout when it did not finish (running or rolling back).
    std::optional<StoredRollout> unfinished(QString *error) const;
    /// A new rollout (refused while another one of the fleet is unfinished).
    std::optional<RolloutOutcome> start(const RolloutRequest &request, QString *error);
    /// Carries on an unfinished rollout from its stored state.
    std::optional<RolloutOutcome> resume(qint64 rolloutId, QString *error);
    /// Rolls back every member an unfinished rollout updated, and marks it rolled back.
    std::optional<RolloutOutcome> abort(qint64 rolloutId, QString *error);
    /// Asked before every step on a member (an update, a gate round): true stops the rollout
    /// there, its state saved and still "running" (outcome status "running", reason "stopped"),
    /// to be resumed later. A rollback in progress is not stopped.
    void setStopRequest(std::function<bool()> stopRequested) { m_stop = std::move(stopRequested); }

private:
    struct Run;
    ProjectStore *m_store;
    Fleet m_fleet;
    const BoardRegistry &m_registry;
    QString m_keysDir;
    Log m_log;
    std::function<bool()> m_stop;
};

} // namespace tinyml::deploy::fleet
