#pragma once
// Profiler: flashes a quantized model onto an agent-equipped board (if the board's active
// model differs) and measures it there: latency per run and per layer, arena/flash, energy
// (measured or estimated from the board's power model, labelled as such), and on-device
// accuracy on the test split with a bit-exact comparison against the host int8 reference.
//
// Threading: lives on the thread of the AgentLink it is given (the GUI thread in the
// workbench, the main thread in the CLI); every step is driven by that thread's event loop.
// The one step that computes rather than waits, the test split's features, runs on a worker
// thread (ProjectTask: its own ProjectStore on the project's file), so that thread never
// blocks. Signals report progress as it happens so pages can draw live charts.
//
// The JSON form of ProfileResult (toJson) is what `tinyml profile --json` prints and what
// the project store keeps; its keys are listed in toJson's definition. A finished profile
// is stored in the project (ProjectStore::addProfile, profileId) before finished() is
// emitted. Steps: the test split's features (when measuring accuracy), MODEL_INFO (upload
// skipped when the board runs this package unless forceFlash), MODEL_BEGIN/CHUNK/COMMIT +
// MODEL_INFO check (Flasher::flash, the one upload path; its requests wait in local event
// loops), warm-up and measured INVOKEs, LAYER_PROFILE, then SET_INPUT / INVOKE /
// GET_OUTPUT per test sample. Latency and per-layer figures are counter units (INFO COUNTER
// resolution applied); ms at INFO CLOCK_HZ.
//
// Estimated cycles (issue 15): on a virtual board running the cycle-model plugin
// (ProfileOptions::cycleChannel = VirtualBoard::cycleChannelPath()), the profiler also reads
// the plugin's side channel (CycleSideChannel.h) around the measured INVOKEs and the
// LAYER_PROFILE step and reports the estimated cycles of the same intervals, per run and per
// layer, their ratio to the instructions, and, with a target part (ProfileOptions::target),
// the latency on that part. Always labelled as an estimate with its model; the instruction
// counts stay as they are. Without the channel the profile says why (cyclesUnavailable).

#include <QJsonObject>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QVector>

#include <functional>
#include <optional>

namespace tinyml {
class AgentLink;
class ProjectStore;
struct BoardDefinition;
}

namespace tinyml::deploy {

struct LayerProfile {
    QString name;                 ///< node name in the graph
    QString op;                   ///< "conv2d", "fully_connected", ...
    qint64 macs = 0;
    quint64 counter = 0;          ///< counter units (cycles / instructions / µs), min over runs
    double ms = 0;                ///< counter converted at the board clock
    /// Estimated cycles of the layer (cycle model), min over the LAYER_PROFILE runs; 0 with
    /// ProfileResult::hasCycleEstimate false.
    quint64 cyclesEstimated = 0;
};

/// Which timing model produced ProfileResult's estimated cycles (the side channel's header).
struct CycleModelInfo {
    QString core;                 ///< "m4", "m7"
    QString model;                ///< table and version: "cortex-m4-trm-r0p1/1"
    int waitStates = 0;
    int format = 0;               ///< side-channel format
    QString label;                ///< "estimated (Cortex-M4 timing model, zero wait states)"
};

/// A real part the estimated cycles are converted for: a board with a cycle_model and a
/// part (resources/boards), e.g. nucleo-l4r5zi.
struct ProfileTarget {
    QString board;                ///< registry id
    QString part;                 ///< "STM32L4R5ZI"
    QString core;                 ///< "m4"
    int waitStates = 0;
    quint64 clockHz = 0;
};

/// The estimated latency on a target part: estimated cycles / its clock.
struct TargetLatency {
    QString board;
    QString part;
    quint64 clockHz = 0;
    double minMs = 0;
    double medianMs = 0;
    double maxMs = 0;
};

struct ProfileResult {
    // what ran where
    QString board;                ///< registry id ("qemu-m4")
    QString boardName;
    quint64 clockHz = 0;
    QString counter;              ///< "cycles", "instructions" or "microseconds"
    QString agentVersion;
    QString agentBuild;
    QString method;               ///< human text: "INVOKE x 50 after 5 warm-up, QEMU -icount shift=0"
    qint64 modelId = 0;
    QString modelName;
    QString createdUtc;           ///< ISO 8601

    // latency
    int runs = 0;
    int warmup = 0;
    QVector<quint64> runCounters; ///< one per measured run, in order
    double latencyMinMs = 0;
    double latencyMedianMs = 0;
    double latencyMaxMs = 0;
    QVector<LayerProfile> layers;
    qint64 macs = 0;

    // memory
    qint64 arenaBytes = 0;
    qint64 arenaLowerBoundBytes = 0;
    qint64 packageBytes = 0;
    qint64 flashBytes = 0;        ///< package + runtime (agent text for the interpreter)
    qint64 runtimeBytes = 0;      ///< interpreter + kernels in the agent image (0: not measured)
    QString runtimeSource;        ///< how runtimeBytes was measured, or why it was not

    // energy
    double energyUj = 0;          ///< per inference
    bool energyEstimated = true;
    QString energySource;         ///< "estimated: <board> power model, <datasheet section>"

    // accuracy on the device
    /// The model's meta "task": "anomaly" for a score model (one output, bigger = more
    /// anomalous), else empty (a classifier). An anomaly model has no argmax and so no
    /// accuracy: device_accuracy / host_int8_accuracy are null in the JSON, and the test
    /// split's device scores are only compared with the host int8 scores.
    QString task;
    int outputsCompared = 0;
    int bitexactOutputs = 0;
    double deviceAccuracy = 0;    ///< classifiers only (see task)
    double hostInt8Accuracy = 0;  ///< classifiers only (see task)
    bool isAnomaly() const { return task == QLatin1String("anomaly"); }

    // estimated cycles (cycle model of the virtual board; see the overview)
    bool hasCycleEstimate = false;
    QString cyclesUnavailable;    ///< why there is no estimate (hasCycleEstimate false)
    CycleModelInfo cycleModel;
    QVector<quint64> runCycles;   ///< estimated cycles per measured run, in order
    quint64 cyclesMin = 0;
    quint64 cyclesMedian = 0;
    quint64 cyclesMax = 0;
    quint64 cyclesLow = 0;        ///< lower bound of the smallest run (the model's approximations)
    quint64 cyclesHigh = 0;       ///< upper bound of the largest run
    double cyclesPerInstruction = 0;  ///< sum of estimated cycles / sum of instructions, same intervals
    /// LAYER_PROFILE's fastest run split exactly: layers + hooks + after-last-layer = its invoke.
    quint64 layerRunCycles = 0;
    quint64 layerHookCycles = 0;
    quint64 layerTailCycles = 0;
    std::optional<TargetLatency> onTarget;

    qint64 profileId = 0;         ///< id in the project's profiles once stored (not in the JSON)

    QJsonObject toJson() const;
    static ProfileResult fromJson(const QJsonObject &o);
};

struct ProfileOptions {
    int runs = 50;
    int warmup = 5;
    bool accuracy = true;         ///< stream the test split through the device
    int maxAccuracySamples = 0;   ///< 0 = the whole test split
    bool forceFlash = false;      ///< upload even if the board already runs this package
    /// Signed packages (`tinyml sign`, newest first; signedPackagesBeside() in SignedPackages.h)
    /// that may carry this model: the first whose package part is byte-for-byte the one the
    /// profiler writes is uploaded instead of the bare package (Flasher::flash, chooseUpload()).
    /// A provisioned board takes nothing else; without a match start() refuses there.
    QVector<QByteArray> signedPackages;
    /// The user named a signed package: refuse when it is not one of this model's.
    bool signedPackageRequired = false;
    /// The cycle model's side channel (VirtualBoard::cycleChannelPath()); empty: no estimate.
    QString cycleChannel;
    /// Why there is no side channel (VirtualBoard::cycleModelUnavailableReason()), reported
    /// as cycles_estimated_unavailable.
    QString cycleUnavailable;
    /// Convert the estimate to this part's clock (latency_ms_on_target); none: not converted.
    std::optional<ProfileTarget> target;
};

class Profiler : public QObject
{
    Q_OBJECT
public:
    explicit Profiler(QObject *parent = nullptr);
    ~Profiler() override;

    /// Starts profiling model modelId of store on the board behind link (already open and
    /// handshaken). Returns false with *error when it cannot start (model missing or not
    /// int8, package does not fit the board, op not supported by the agent). Progress and
    /// the outcome arrive as signals; exactly one of finished / failed / cancelled follows
    /// (failed also when the test split's features cannot be computed or no longer fit the
    /// model). Neither start() nor any step blocks the calling thread.
    bool start(ProjectStore *store, qint64 modelId, AgentLink *link, const BoardDefinition &board,
               const ProfileOptions &options, QString *error);
    /// The target a board definition describes, or nullopt with *error (no cycle_model, no part).
    static std::optional<ProfileTarget> targetFromBoard(const BoardDefinition &target, QString *error);
    /// Empty when target can be used with the virtual board's cycle model, else why not
    /// (different core, different wait states).
    static QString checkTarget(const BoardDefinition &board, const ProfileTarget &target);

    /// Stops after the request in flight; the board keeps whatever model it had committed.
    void cancel();
    bool isRunning() const;

    /// Blocking convenience for the CLI: start() and an event loop until the end.
    static bool run(ProjectStore *store, qint64 modelId, AgentLink *link, const BoardDefinition &board,
                    const ProfileOptions &options, ProfileResult *result, QString *error,
                    const std::function<void(const QString &)> &log = {});

Q_SIGNALS:
    void stageChanged(const QString &stage);                 ///< "Flashing", "Warm-up", ...
    void uploadProgress(qint64 bytesSent, qint64 total);
    void runMeasured(int index, quint64 counter, double ms);
    void layersMeasured(const QVector<tinyml::deploy::LayerProfile> &layers);
    void accuracyProgress(int done, int total, int correct, int bitexact);
    void energyEstimated(double microjoules, bool estimated, const QString &source);
    void finished(const tinyml::deploy::ProfileResult &result);
    void failed(const QString &error);
    void cancelled();

private:
    struct Impl;
    Impl *d = nullptr;
};

} // namespace tinyml::deploy
