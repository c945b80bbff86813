#pragma once
// One project = one SQLite file (*.tinyml), opened through Qt Sql (QSQLITE).
//
// Threading contract: a ProjectStore (and its QSqlDatabase connection) belongs to the
// thread that created it. Another thread opens its own ProjectStore on the same file;
// SQLite in WAL mode serialises writers and lets readers run alongside.

#include "data/Sample.h"

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

struct DatasetCounts {
    struct Row { QString label; int train = 0; int test = 0; };
    QVector<Row> perLabel;          ///< sorted by label
    int train = 0;
    int test = 0;
    int total() const { return train + test; }
};

class ProjectStore
{
public:
    static constexpr int kSchemaVersion = 1;

    /// Creates a new project file; fails if the file exists.
    static std::unique_ptr<ProjectStore> create(const QString &path, const ProjectSettings &settings,
                                                QString *error);
    /// Opens an existing project: integrity check, then forward migrations.
    /// Errors name the file and say what is wrong (not a project, corrupt, newer schema).
    static std::unique_ptr<ProjectStore> open(const QString &path, QString *error);
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

private:
    ProjectStore();
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace tinyml
