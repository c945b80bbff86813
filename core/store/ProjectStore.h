#pragma once
// One project = one SQLite file (*.tinyml), opened through Qt Sql (QSQLITE).
//
// Threading contract: a ProjectStore (and its QSqlDatabase connection) belongs to the
// thread that created it. Another thread opens its own ProjectStore on the same file;
// SQLite in WAL mode serialises writers and lets readers run alongside.

#include "data/Sample.h"

#include <QHash>
#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <QVector>

#include <memory>
#include <optional>

namespace tinyml {

/// What the user chose for the project (the new-project wizard, `tinyml new`).
struct ProjectSettings {
    QString name;
    QString templateName = QStringLiteral("motion"); ///< motion | audio | image | tabular
    QString boardId = QStringLiteral("qemu-m4");
    QStringList labels;
    QString sensor;                 ///< default sensor, e.g. "accel"
    double sampleRateHz = 0;        ///< default capture rate
    double sampleLengthS = 0;       ///< default capture length
    QJsonObject extra;              ///< later issues' settings (feature blocks, ...)
};

/// A sample without its data: what lists and tables show.
struct SampleInfo {
    qint64 id = 0;
    QString label;
    Split split = Split::Train;
    QString source;
    QString device;
    QString sensor;
    QDateTime created;
    double sampleRateHz = 0;
    qint64 frames = 0;
    QStringList channels;
    DType dtype = DType::Float32;
    bool complete = true;
    QString checksum;
};

/// A sensor seen in the project (from the settings or from stored samples), with its channels.
struct SensorInfo {
    QString name;
    double sampleRateHz = 0;
    QStringList channels;
    QStringList units;              ///< one per channel, empty strings when unknown
};

/// train and test count finished, complete samples only: a sample still streaming, left
/// half-saved or cut off (complete = false) is counted under incomplete instead, whatever its
/// split, so that it never passes for a normal sample.
struct DatasetCounts {
    struct Row { QString label; int train = 0; int test = 0; int incomplete = 0; };
    QVector<Row> perLabel;          ///< sorted by label
    int train = 0;
    int test = 0;
    int incomplete = 0;
    int total() const { return train + test; }  ///< complete samples
};

/// A cached feature row (see features/FeatureSet.h).
struct CachedFeature {
    qint64 sampleId = 0;
    QString paramsHash;             ///< FeatureParams::hash()
    QString sampleChecksum;         ///< the sample's checksum when the features were computed
    Tensor data;                    ///< float32 features
};

/// Persisted as text ("created", "running", "finished", "failed", "cancelled", "interrupted").
/// Interrupted: the process training it died (kill, crash); set by ProjectStore::open().
enum class TrainingStatus { Created, Running, Finished, Failed, Cancelled, Interrupted };
QString trainingStatusName(TrainingStatus s);
std::optional<TrainingStatus> trainingStatusFromName(const QString &name);

struct TrainingRun {
    qint64 id = 0;
    QDateTime created;              ///< UTC
    QJsonObject config;             ///< everything needed to re-run it
    QJsonObject metrics;            ///< loss curves, accuracy, confusion matrix, ...
    TrainingStatus status = TrainingStatus::Created;
};

/// Persisted as text ("float", "int8").
enum class ModelKind { Float, Int8 };
QString modelKindName(ModelKind k);
std::optional<ModelKind> modelKindFromName(const QString &name);

struct StoredModel {
    qint64 id = 0;
    qint64 trainingRunId = 0;       ///< 0: none (imported, or its run was deleted)
    ModelKind kind = ModelKind::Float;
    QString name;
    QByteArray graph;               ///< model::Graph::serialize()
    QJsonObject metrics;            ///< accuracy, SQNR, sizes, ...
    QDateTime created;              ///< UTC
};

/// A profile measured on a board (deploy::ProfileResult::toJson() in json).
struct StoredProfile {
    qint64 id = 0;
    qint64 modelId = 0;             ///< 0: none (its model was deleted)
    QString boardId;
    QDateTime created;              ///< UTC
    QJsonObject json;
};

/// A staged rollout to a fleet (deploy/fleet/Rollout.h): status and the whole state as JSON,
/// rewritten after every step.
struct StoredRollout {
    qint64 id = 0;
    QString fleet;
    QString status;                 ///< "running", "completed", "rolled_back", "failed"
    QDateTime created;              ///< UTC
    QJsonObject state;
};

/// One telemetry reading of a fleet member (running summaries and the drift computed from them).
struct StoredTelemetry {
    qint64 id = 0;
    QString fleet;
    QString member;
    QDateTime created;              ///< UTC
    QJsonObject json;
};

class ProjectStore
{
public:
    /// v2: feature cache, training runs and models with their graphs.
    /// v3: profiles keep their model and their result as JSON.
    /// v4: fleets, rollouts and telemetry.
    static constexpr int kSchemaVersion = 4;

    /// Creates a new project file; fails if the file exists.
    static std::unique_ptr<ProjectStore> create(const QString &path, const ProjectSettings &settings,
                                                QString *error);
    /// Opens an existing project: integrity check, forward migrations, then repairs what a
    /// killed process left behind: a sample still streaming with no live writer is finished
    /// with complete = false (keeping its committed frames), a training run still "running"
    /// with no live trainer becomes "interrupted". A writer is live while it holds the lock
    /// file "<project>.sample-<id>.lock" / "<project>.run-<id>.lock" (QLockFile: a lock of a
    /// dead PID is stale), so a capture or training in another store or process is left alone.
    /// A file or folder this process cannot write is opened read-only (see openReadOnly()).
    /// Errors name the file and say what is wrong (not a project, corrupt, newer schema).
    static std::unique_ptr<ProjectStore> open(const QString &path, QString *error);
    /// Opens without ever writing: no WAL switch, no migration (an older schema is refused),
    /// no repair. Every write then fails with SQLite's "readonly database" error.
    static std::unique_ptr<ProjectStore> openReadOnly(const QString &path, QString *error);
    /// Opened by openReadOnly(), or by open() on a file or folder it cannot write.
    bool isReadOnly() const;
    /// Why the store is read-only, for the user: "the file X is not writable", "its folder X
    /// is not writable" or "opened read-only"; empty when it is writable.
    QString readOnlyReason() const;
    ~ProjectStore();

    QString path() const;
    int schemaVersion() const;

    ProjectSettings settings() const;
    bool setSettings(const ProjectSettings &settings, QString *error);

    // --- samples --------------------------------------------------------------------
    /// Stores samples in one transaction (all or nothing); sets id and checksum on each.
    bool addSamples(QVector<Sample> &samples, QString *error);
    bool addSample(Sample &sample, QString *error);

    /// A sample still being captured (or cut off by a crash) comes back with every committed
    /// frame, complete = false and the checksum of those frames.
    std::optional<Sample> sample(qint64 id, QString *error = nullptr) const;
    /// Ordered by id. frames is current while a sample streams in; its checksum stays empty
    /// until finishSample(), because computing it would mean reading the data.
    QVector<SampleInfo> sampleInfos() const;
    QVector<Sample> samples(std::optional<Split> split = std::nullopt) const; ///< with data
    /// Labels declared in the settings appear even when they have no samples yet.
    DatasetCounts counts() const;
    QVector<SensorInfo> sensors() const;                         ///< ordered by name

    bool setLabel(const QVector<qint64> &ids, const QString &label, QString *error);
    bool setSplit(const QVector<qint64> &ids, Split split, QString *error);
    /// Re-splits every finished sample with assignStratifiedSplits() (data/SplitAssigner.h).
    bool applyStratifiedSplit(double testFraction, QString *error);
    /// Replaces a sample's data (crop, edits); recomputes the checksum.
    bool replaceData(qint64 id, const Tensor &data, QString *error);
    /// Deletes and returns the deleted samples (with data) so the caller can undo.
    std::optional<QVector<Sample>> removeSamples(const QVector<qint64> &ids, QString *error);
    /// Re-inserts previously removed samples keeping their ids (undo of removeSamples).
    bool restoreSamples(const QVector<Sample> &samples, QString *error);

    // --- streaming capture ------------------------------------------------------------
    // Each appendFrames() commits its own small transaction, so a crash or an unplugged
    // board loses at most the chunk being written. A sample that was never finished is
    // marked incomplete (complete = false) and keeps the frames committed so far.
    /// meta.data gives dtype and shape[1] (channels); its bytes are ignored.
    std::optional<qint64> beginSample(const Sample &meta, QString *error);
    /// chunk: [frames, channels], the dtype given to beginSample.
    bool appendFrames(qint64 id, const Tensor &chunk, QString *error);
    bool finishSample(qint64 id, bool complete, QString *error);

    // --- feature cache ---------------------------------------------------------------------
    /// Cached rows for this parameter hash, by sample id (the caller compares checksums).
    QHash<qint64, CachedFeature> cachedFeatures(const QString &paramsHash) const;
    /// Inserts or replaces rows keyed by (sample id, params hash), in one transaction.
    bool storeFeatures(const QVector<CachedFeature> &rows, QString *error);
    /// Drops every cached row whose params hash differs (the parameters changed).
    bool removeFeaturesExcept(const QString &paramsHash, QString *error);
    int cachedFeatureCount() const;

    // --- training runs and models ----------------------------------------------------------
    /// Stores a run (created = now when invalid); sets and returns its id. A run stored as
    /// Running holds its lock file until updateTrainingRun() gives another status or this
    /// store goes away (see open()).
    std::optional<qint64> addTrainingRun(TrainingRun &run, QString *error);
    bool updateTrainingRun(qint64 id, const QJsonObject &metrics, TrainingStatus status,
                           QString *error);
    std::optional<TrainingRun> trainingRun(qint64 id, QString *error = nullptr) const;
    QVector<TrainingRun> trainingRuns() const;                     ///< ordered by id

    /// Stores a model (created = now when invalid); sets and returns its id.
    std::optional<qint64> addModel(StoredModel &model, QString *error);
    bool updateModelMetrics(qint64 id, const QJsonObject &metrics, QString *error);
    std::optional<StoredModel> model(qint64 id, QString *error = nullptr) const;
    /// The newest model of this kind (highest id), if any.
    std::optional<StoredModel> latestModel(ModelKind kind, QString *error = nullptr) const;
    /// Ordered by id; graph blobs are left empty (use model(id)).
    QVector<StoredModel> models() const;
    bool removeModel(qint64 id, QString *error);

    // --- profiles -------------------------------------------------------------------------
    /// Stores a profile (created = now when invalid); sets and returns its id.
    std::optional<qint64> addProfile(StoredProfile &profile, QString *error);
    std::optional<StoredProfile> profile(qint64 id, QString *error = nullptr) const;
    /// Ordered by id; only those of modelId when given.
    QVector<StoredProfile> profiles(std::optional<qint64> modelId = std::nullopt) const;
    bool removeProfile(qint64 id, QString *error);

    // --- fleets, rollouts and telemetry (issue 17) ----------------------------------------
    /// Inserts or replaces the fleet's record (deploy/fleet/Fleet.h gives its keys).
    bool saveFleet(const QString &name, const QJsonObject &json, QString *error);
    std::optional<QJsonObject> fleet(const QString &name, QString *error = nullptr) const;
    QStringList fleetNames() const;                                ///< sorted
    bool removeFleet(const QString &name, QString *error);
    /// Stores a rollout (created = now when invalid); sets and returns its id.
    std::optional<qint64> addRollout(StoredRollout &rollout, QString *error);
    /// One statement: the state is on disk (WAL, committed) when this returns true.
    bool updateRollout(qint64 id, const QString &status, const QJsonObject &state, QString *error);
    std::optional<StoredRollout> rollout(qint64 id, QString *error = nullptr) const;
    /// Ordered by id; only the fleet's when fleet is not empty.
    QVector<StoredRollout> rollouts(const QString &fleet = {}) const;
    std::optional<qint64> addTelemetry(StoredTelemetry &reading, QString *error);
    /// Ordered by id; every member's when member is empty.
    QVector<StoredTelemetry> telemetry(const QString &fleet, const QString &member = {}) const;

private:
    ProjectStore();
    static std::unique_ptr<ProjectStore> openStore(const QString &path, bool readOnly, QString *error);
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace tinyml
