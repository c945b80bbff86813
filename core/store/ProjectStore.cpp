#include "store/ProjectStore.h"

#include "data/SplitAssigner.h"

#include <QAtomicInteger>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QMap>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLockFile>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QUrl>
#include <QVariant>

#include <algorithm>
#include <iterator>
#include <map>
#include <type_traits>

namespace tinyml {
namespace {

// 'TMLW'. Written by create(); open() refuses SQLite files without it, so a project can
// never be confused with some other program's database.
constexpr qint32 kApplicationId = 0x544D4C57;

// --- schema -----------------------------------------------------------------------------
// kMigrations[i] upgrades a file from schema version i to i + 1, in one transaction that
// also sets PRAGMA user_version. Append-only: a shipped step is never edited, because files
// written by that build already went through it. Later work adds columns with
// `ALTER TABLE ... ADD COLUMN` in a new step.

const char *const kV0ToV1[] = {
    R"(CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value
    ))",
    R"(CREATE TABLE sensors (
        id             INTEGER PRIMARY KEY,
        name           TEXT NOT NULL UNIQUE,
        sample_rate_hz REAL NOT NULL DEFAULT 0
    ))",
    R"(CREATE TABLE channels (
        sensor_id INTEGER NOT NULL REFERENCES sensors(id) ON DELETE CASCADE,
        idx       INTEGER NOT NULL,
        name      TEXT NOT NULL,
        unit      TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (sensor_id, idx)
    ))",
    // data stays the last column: listing samples then never touches the blob's pages.
    R"(CREATE TABLE samples (
        id             INTEGER PRIMARY KEY,
        label          TEXT NOT NULL,
        split          TEXT NOT NULL CHECK (split IN ('train', 'test')),
        source         TEXT NOT NULL DEFAULT '',
        device         TEXT NOT NULL DEFAULT '',
        sensor         TEXT NOT NULL DEFAULT '',
        created_utc    TEXT NOT NULL,
        sample_rate_hz REAL NOT NULL DEFAULT 0,
        frames         INTEGER NOT NULL DEFAULT 0,
        channels       TEXT NOT NULL DEFAULT '[]',
        units          TEXT NOT NULL DEFAULT '[]',
        dtype          INTEGER NOT NULL,
        shape          TEXT NOT NULL,
        complete       INTEGER NOT NULL DEFAULT 1,
        streaming      INTEGER NOT NULL DEFAULT 0,
        checksum       TEXT NOT NULL DEFAULT '',
        data           BLOB NOT NULL DEFAULT x''
    ))",
    "CREATE INDEX samples_label_split ON samples(label, split)",
    // Frames of a sample still being captured; folded into samples.data by finishSample().
    R"(CREATE TABLE sample_chunks (
        sample_id INTEGER NOT NULL REFERENCES samples(id) ON DELETE CASCADE,
        seq       INTEGER NOT NULL,
        frames    INTEGER NOT NULL,
        data      BLOB NOT NULL,
        PRIMARY KEY (sample_id, seq)
    ))",
    R"(CREATE TABLE features (
        id          INTEGER PRIMARY KEY,
        sample_id   INTEGER REFERENCES samples(id) ON DELETE CASCADE,
        created_utc TEXT NOT NULL
    ))",
    R"(CREATE TABLE training_runs (
        id          INTEGER PRIMARY KEY,
        created_utc TEXT NOT NULL,
        config      TEXT NOT NULL DEFAULT '{}'
    ))",
    R"(CREATE TABLE models (
        id              INTEGER PRIMARY KEY,
        training_run_id INTEGER REFERENCES training_runs(id) ON DELETE SET NULL,
        created_utc     TEXT NOT NULL
    ))",
    R"(CREATE TABLE deployments (
        id          INTEGER PRIMARY KEY,
        model_id    INTEGER REFERENCES models(id) ON DELETE SET NULL,
        board_id    TEXT NOT NULL DEFAULT '',
        created_utc TEXT NOT NULL
    ))",
    R"(CREATE TABLE profiles (
        id            INTEGER PRIMARY KEY,
        deployment_id INTEGER REFERENCES deployments(id) ON DELETE SET NULL,
        board_id      TEXT NOT NULL DEFAULT '',
        created_utc   TEXT NOT NULL
    ))",
};

// v2: the feature cache (one row per sample and feature-parameter hash, stale when the
// sample's checksum moved on), training runs with metrics and status, models with their
// serialized graph (model::Graph::serialize()).
const char *const kV1ToV2[] = {
    "ALTER TABLE features ADD COLUMN params_hash TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE features ADD COLUMN sample_checksum TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE features ADD COLUMN dtype INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE features ADD COLUMN shape TEXT NOT NULL DEFAULT '[]'",
    "ALTER TABLE features ADD COLUMN data BLOB NOT NULL DEFAULT x''",
    "CREATE UNIQUE INDEX features_sample_params ON features(sample_id, params_hash)",
    "ALTER TABLE training_runs ADD COLUMN metrics TEXT NOT NULL DEFAULT '{}'",
    "ALTER TABLE training_runs ADD COLUMN status TEXT NOT NULL DEFAULT 'created'",
    "ALTER TABLE models ADD COLUMN kind TEXT NOT NULL DEFAULT 'float'",
    "ALTER TABLE models ADD COLUMN name TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE models ADD COLUMN metrics TEXT NOT NULL DEFAULT '{}'",
    "ALTER TABLE models ADD COLUMN graph BLOB NOT NULL DEFAULT x''",
    "CREATE INDEX models_kind ON models(kind, id)",
};

// v3: profiles measured on a board keep the model they measured and their full result
// (deploy::ProfileResult::toJson()). A profile outlives its model: model_id becomes NULL.
const char *const kV2ToV3[] = {
    "ALTER TABLE profiles ADD COLUMN model_id INTEGER REFERENCES models(id) ON DELETE SET NULL",
    "ALTER TABLE profiles ADD COLUMN json TEXT NOT NULL DEFAULT '{}'",
    "CREATE INDEX profiles_model ON profiles(model_id, id)",
};

// v4: fleets of boards (issue 17), each a JSON record (deploy/fleet/Fleet.h); rollouts with
// their whole state as JSON, rewritten after every step so a killed rollout resumes from
// the file; telemetry summaries the boards sent (drift), one row per board and reading.
const char *const kV3ToV4[] = {
    R"(CREATE TABLE fleets (
        name        TEXT PRIMARY KEY,
        created_utc TEXT NOT NULL,
        json        TEXT NOT NULL DEFAULT '{}'
    ))",
    R"(CREATE TABLE rollouts (
        id          INTEGER PRIMARY KEY,
        fleet       TEXT NOT NULL,
        created_utc TEXT NOT NULL,
        status      TEXT NOT NULL DEFAULT 'running',
        state       TEXT NOT NULL DEFAULT '{}'
    ))",
    "CREATE INDEX rollouts_fleet ON rollouts(fleet, id)",
    R"(CREATE TABLE telemetry (
        id          INTEGER PRIMARY KEY,
        fleet       TEXT NOT NULL DEFAULT '',
        member      TEXT NOT NULL,
        created_utc TEXT NOT NULL,
        json        TEXT NOT NULL DEFAULT '{}'
    ))",
    "CREATE INDEX telemetry_member ON telemetry(fleet, member, id)",
};

struct MigrationStep {
    const char *const *statements;
    size_t count;
};

constexpr MigrationStep kMigrations[] = {
    {kV0ToV1, std::size(kV0ToV1)}, // v0 -> v1
    {kV1ToV2, std::size(kV1ToV2)}, // v1 -> v2
    {kV2ToV3, std::size(kV2ToV3)}, // v2 -> v3
    {kV3ToV4, std::size(kV3ToV4)}, // v3 -> v4
};
static_assert(std::size(kMigrations) == size_t(ProjectStore::kSchemaVersion),
              "every schema version needs exactly one migration step");

// Column order used by readSampleRow(); data is appended when the caller wants it.
const QString kSampleColumns = QStringLiteral(
    "id, label, split, source, device, sensor, created_utc, sample_rate_hz, frames, "
    "channels, units, dtype, shape, complete, streaming, checksum");

bool fail(QString *error, const QString &message)
{
    if (error)
        *error = message;
    return false;
}

QString jsonList(const QStringList &list)
{
    return QString::fromUtf8(QJsonDocument(QJsonArray::fromStringList(list)).toJson(QJsonDocument::Compact));
}

QStringList parseList(const QString &json)
{
    QStringList out;
    for (const QJsonValue &v : QJsonDocument::fromJson(json.toUtf8()).array())
        out.append(v.toString());
    return out;
}

QString jsonShape(const QVector<qint64> &shape)
{
    QJsonArray a;
    for (qint64 d : shape)
        a.append(d);
    return QString::fromUtf8(QJsonDocument(a).toJson(QJsonDocument::Compact));
}

QVector<qint64> parseShape(const QString &json)
{
    QVector<qint64> out;
    for (const QJsonValue &v : QJsonDocument::fromJson(json.toUtf8()).array())
        out.append(v.toInteger());
    return out;
}

qint64 product(const QVector<qint64> &dims)
{
    qint64 n = 1;
    for (qint64 d : dims)
        n *= d;
    return n;
}

// Qt binds a null QString as SQL NULL; the text columns are NOT NULL and '' means "none".
QString text(const QString &s)
{
    return s.isNull() ? QStringLiteral("") : s;
}

// Likewise a null QByteArray binds as NULL; the blob columns want an empty blob.
QByteArray blob(const QByteArray &b)
{
    return b.isNull() ? QByteArray("") : b;
}

QString jsonObjectText(const QJsonObject &o)
{
    return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
}

QJsonObject parseObject(const QString &json)
{
    return QJsonDocument::fromJson(json.toUtf8()).object();
}

QString utcText(const QDateTime &t)
{
    return (t.isValid() ? t : QDateTime::currentDateTimeUtc()).toUTC().toString(Qt::ISODateWithMs);
}

QDateTime parseUtc(const QString &s)
{
    QDateTime t = QDateTime::fromString(s, Qt::ISODateWithMs);
    t.setTimeSpec(Qt::UTC);
    return t;
}

bool validDType(int v)
{
    return v >= int(DType::Float32) && v <= int(DType::Int32);
}

QString sqlMessage(const QSqlError &e)
{
    return e.databaseText().isEmpty() ? e.text() : e.databaseText();
}

struct StreamState {
    DType dtype = DType::Float32;
    QVector<qint64> rowShape;       ///< shape without the frame dimension
    qint64 nextSeq = 0;
};

} // namespace

struct ProjectStore::Impl {
    QString path;
    QString connection;
    QSqlDatabase db;
    int schemaVersion = 0;
    QHash<qint64, StreamState> streams;  ///< samples this store is appending to
    bool readOnly = false;
    QString readOnlyReason;              ///< why readOnly (ProjectStore::readOnlyReason())
    /// Owner locks this store holds, by key ("sample-5", "run-3"): they tell open() in any
    /// process that the sample or run is still being written (see ProjectStore::open()).
    std::map<QString, std::unique_ptr<QLockFile>> ownerLocks;

    // Write statements on hot paths (appendFrames, addSamples, transaction control),
    // prepared once: preparing through Qt costs about as much as the insert itself.
    // SELECTs are not kept here, because a live result set would pin a WAL snapshot.
    // std::map: references stay valid while other entries are added.
    mutable std::map<QString, QSqlQuery> statements;

    ~Impl()
    {
        statements.clear();
        if (db.isValid())
            db.close();
        db = QSqlDatabase();
        if (!connection.isEmpty())
            QSqlDatabase::removeDatabase(connection);
    }

    QString where() const { return QStringLiteral("Project \"%1\"").arg(path); }

    bool fail(QString *error, const QString &message) const
    {
        return tinyml::fail(error, QStringLiteral("%1: %2").arg(where(), message));
    }

    bool exec(QSqlQuery &q, QString *error) const
    {
        if (q.exec())
            return true;
        return fail(error, sqlMessage(q.lastError()));
    }

    bool exec(const QString &sql, QString *error) const
    {
        QSqlQuery q(db);
        if (q.exec(sql))
            return true;
        return fail(error, sqlMessage(q.lastError()));
    }

    QSqlQuery &statement(const QString &sql) const
    {
        auto it = statements.find(sql);
        if (it == statements.end()) {
            it = statements.emplace(sql, QSqlQuery(db)).first;
            it->second.prepare(sql);
        }
        return it->second;
    }

    bool execCached(const QString &sql, QString *error) const
    {
        QSqlQuery &q = statement(sql);
        return exec(q, error);
    }

    // --- one statement, values bound in order ------------------------------------------
    // Forward-only: every reader here walks its rows once.
    QSqlQuery prepared(const QString &sql, const QVariantList &values = {}) const
    {
        QSqlQuery q(db);
        q.setForwardOnly(true);
        q.prepare(sql);
        bind(q, values);
        return q;
    }

    static void bind(QSqlQuery &q, const QVariantList &values)
    {
        for (int i = 0; i < values.size(); ++i)
            q.bindValue(i, values[i]);
    }

    bool run(const QString &sql, const QVariantList &values, QString *error) const
    {
        QSqlQuery q = prepared(sql, values);
        return exec(q, error);
    }

    std::optional<qint64> insert(const QString &sql, const QVariantList &values,
                                 QString *error) const
    {
        QSqlQuery q = prepared(sql, values);
        if (!exec(q, error))
            return std::nullopt;
        return q.lastInsertId().toLongLong();
    }

    /// For statements that address one row: `missing` is the error when none matched
    /// (an unknown id, or a row in the wrong state).
    bool changeOne(QSqlQuery &q, const QString &missing, QString *error) const
    {
        if (!exec(q, error))
            return false;
        return q.numRowsAffected() == 1 || fail(error, missing);
    }

    bool changeOne(const QString &sql, const QVariantList &values, const QString &missing,
                   QString *error) const
    {
        QSqlQuery q = prepared(sql, values);
        return changeOne(q, missing, error);
    }

    template <typename OnRow>
    bool forEachRow(const QString &sql, const QVariantList &values, QString *error,
                    OnRow &&onRow) const
    {
        QSqlQuery q = prepared(sql, values);
        if (!exec(q, error))
            return false;
        while (q.next())
            onRow(q);
        return true;
    }

    /// Every row through fromRow; empty when the query fails (the list getters have no error out).
    template <typename FromRow>
    auto selectAll(const QString &sql, const QVariantList &values, FromRow &&fromRow) const
    {
        QVector<std::decay_t<std::invoke_result_t<FromRow &, const QSqlQuery &>>> out;
        forEachRow(sql, values, nullptr, [&](const QSqlQuery &q) { out.append(fromRow(q)); });
        return out;
    }

    /// The first row through fromRow; `missing` is the error when there is none.
    template <typename FromRow>
    auto selectOne(const QString &sql, const QVariantList &values, const QString &missing,
                   QString *error, FromRow &&fromRow) const
        -> std::optional<std::decay_t<std::invoke_result_t<FromRow &, const QSqlQuery &>>>
    {
        QSqlQuery q = prepared(sql, values);
        if (!exec(q, error))
            return std::nullopt;
        if (!q.next()) {
            fail(error, missing);
            return std::nullopt;
        }
        return fromRow(q);
    }

    /// Inserts a training run, model or profile whose created time defaults to now; sets
    /// row.id and row.created only when the insert worked. values(createdUtc) gives the
    /// values for sql, the creation time among them.
    template <typename Row, typename Values>
    std::optional<qint64> insertCreated(Row &row, const QString &sql, Values &&values,
                                        QString *error) const
    {
        const QDateTime created =
            row.created.isValid() ? row.created.toUTC() : QDateTime::currentDateTimeUtc();
        const auto id = insert(sql, values(utcText(created)), error);
        if (id) {
            row.id = *id;
            row.created = created;
        }
        return id;
    }

    std::optional<QVariant> scalar(const QString &sql, QString *error) const
    {
        QSqlQuery q(db);
        if (!q.exec(sql)) {
            fail(error, sqlMessage(q.lastError()));
            return std::nullopt;
        }
        return q.next() ? q.value(0) : QVariant();
    }

    // Write transactions take the write lock up front (IMMEDIATE): a deferred one that
    // upgrades from read to write can fail with SQLITE_BUSY without waiting when another
    // connection committed in between.
    bool beginWrite(QString *error) const
    {
        if (readOnly) // say why, rather than SQLite's "attempt to write a readonly database"
            return fail(error, QStringLiteral("the project is read-only (%1)").arg(readOnlyReason));
        return execCached(QStringLiteral("BEGIN IMMEDIATE"), error);
    }
    bool beginRead(QString *error) const { return execCached(QStringLiteral("BEGIN"), error); }
    bool commit(QString *error) const
    {
        if (execCached(QStringLiteral("COMMIT"), error))
            return true;
        rollback();
        return false;
    }
    void rollback() const { statement(QStringLiteral("ROLLBACK")).exec(); }
    /// body() returns false after setting *error; everything it wrote is then rolled back.
    template <typename Body> bool writeTransaction(QString *error, Body &&body) const
    {
        if (!beginWrite(error))
            return false;
        if (!body()) {
            rollback();
            return false;
        }
        return commit(error);
    }

    /// immutable: SQLite's immutable=1 (no locking, no -shm/-wal); only for a file nobody writes.
    bool openConnection(const QString &file, bool readOnlyConnection = false, bool immutable = false);
    bool configureConnection(QString *error);
    /// Finishes abandoned samples and marks abandoned runs (see ProjectStore::open()).
    bool repairAbandoned(QString *error);

    QString ownerLockPath(const QString &key) const
    {
        return path + QLatin1Char('.') + key + QStringLiteral(".lock");
    }
    /// Best effort: a folder where the lock cannot be created cannot hold the project's WAL
    /// either, so writing fails there anyway.
    void holdOwnerLock(const QString &key)
    {
        if (ownerLocks.count(key))
            return;
        auto lock = std::make_unique<QLockFile>(ownerLockPath(key));
        lock->setStaleLockTime(0); // stale only when its process is gone, never by age
        if (lock->tryLock(0))
            ownerLocks[key] = std::move(lock);
    }
    void releaseOwnerLock(const QString &key) { ownerLocks.erase(key); }
    /// True while a live process (this one included) holds key's lock. A stale lock (dead
    /// PID) is removed on the way.
    bool ownerAlive(const QString &key) const
    {
        if (ownerLocks.count(key))
            return true;
        QLockFile probe(ownerLockPath(key));
        probe.setStaleLockTime(0);
        if (probe.tryLock(0)) {
            probe.unlock();
            return false;
        }
        return probe.error() == QLockFile::LockFailedError;
    }
    bool migrate(QString *error);

    bool writeSettings(const ProjectSettings &s, QString *error);
    bool noteSensor(const QString &name, double rateHz, const QStringList &channels,
                    const QStringList &units, QString *error);

    /// checksum: sha256Hex(s.data.bytes), passed in because callers need it too.
    std::optional<qint64> insertSample(const Sample &s, qint64 explicitId, bool streaming,
                                       const QString &checksum, QString *error);
    std::optional<Sample> readSample(qint64 id, bool withData, QString *error) const;
    Sample sampleFromRow(const QSqlQuery &q, bool withData) const;
    bool foldChunks(Sample &s, QString *error) const;
    bool updateEach(const QVector<qint64> &ids, const QString &sql, const QVariant &value,
                    QString *error);
    std::optional<StreamState> streamState(qint64 id, QString *error);
};

// A named connection per store: QSqlDatabase connections are per thread (see the header).
bool ProjectStore::Impl::openConnection(const QString &file, bool readOnlyConnection, bool immutable)
{
    static QAtomicInteger<quint64> counter;
    path = file;
    connection = QStringLiteral("tinyml-store-%1").arg(counter.fetchAndAddRelaxed(1));
    db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), connection);
    if (immutable) {
        // A URI: the path percent-encoded (spaces, '?', '#', non-ASCII), then the parameter.
        db.setDatabaseName(QUrl::fromLocalFile(QFileInfo(file).absoluteFilePath()).toString(QUrl::FullyEncoded)
                           + QStringLiteral("?immutable=1"));
        db.setConnectOptions(QStringLiteral("QSQLITE_OPEN_READONLY;QSQLITE_OPEN_URI"));
        return db.open();
    }
    db.setDatabaseName(file);
    db.setConnectOptions(readOnlyConnection ? QStringLiteral("QSQLITE_BUSY_TIMEOUT=5000;QSQLITE_OPEN_READONLY")
                                            : QStringLiteral("QSQLITE_BUSY_TIMEOUT=5000"));
    return db.open();
}

bool ProjectStore::Impl::configureConnection(QString *error)
{
    auto mode = scalar(QStringLiteral("PRAGMA journal_mode=WAL"), error);
    if (!mode)
        return false;
    if (mode->toString().compare(QLatin1String("wal"), Qt::CaseInsensitive) != 0)
        return fail(error, QStringLiteral("cannot switch to WAL journal mode (got \"%1\")")
                               .arg(mode->toString()));
    // NORMAL in WAL mode: a commit survives an application crash; only an OS crash or power
    // loss can lose the last transactions, never corrupt the file.
    return exec(QStringLiteral("PRAGMA synchronous=NORMAL"), error)
           && exec(QStringLiteral("PRAGMA foreign_keys=ON"), error);
}

bool ProjectStore::Impl::migrate(QString *error)
{
    while (schemaVersion < ProjectStore::kSchemaVersion) {
        const MigrationStep &step = kMigrations[schemaVersion];
        const int next = schemaVersion + 1;
        const bool migrated = writeTransaction(error, [&] {
            for (size_t i = 0; i < step.count; ++i) {
                QSqlQuery q(db);
                if (!q.exec(QString::fromUtf8(step.statements[i])))
                    return fail(error, QStringLiteral("migration to schema v%1 failed: %2")
                                           .arg(next)
                                           .arg(sqlMessage(q.lastError())));
            }
            return exec(QStringLiteral("PRAGMA user_version=%1").arg(next), error);
        });
        if (!migrated)
            return false;
        schemaVersion = next;
    }
    return true;
}

bool ProjectStore::Impl::writeSettings(const ProjectSettings &s, QString *error)
{
    const QVector<QPair<QString, QVariant>> rows = {
        {QStringLiteral("name"), text(s.name)},
        {QStringLiteral("template"), text(s.templateName)},
        {QStringLiteral("board"), text(s.boardId)},
        {QStringLiteral("labels"), jsonList(s.labels)},
        {QStringLiteral("sensor"), text(s.sensor)},
        {QStringLiteral("sample_rate_hz"), s.sampleRateHz},
        {QStringLiteral("sample_length_s"), s.sampleLengthS},
        {QStringLiteral("extra"),
         QString::fromUtf8(QJsonDocument(s.extra).toJson(QJsonDocument::Compact))},
    };
    QSqlQuery q =
        prepared(QStringLiteral("INSERT OR REPLACE INTO settings(key, value) VALUES (?, ?)"));
    for (const auto &[key, value] : rows) {
        bind(q, {key, value});
        if (!exec(q, error))
            return false;
    }
    if (s.sensor.isEmpty())
        return true;
    // The settings are the user's explicit choice: they win over a rate taken from a sample.
    return noteSensor(s.sensor, s.sampleRateHz, {}, {}, error) &&
           run(QStringLiteral("UPDATE sensors SET sample_rate_hz = ? WHERE name = ?"),
               {s.sampleRateHz, s.sensor}, error);
}

bool ProjectStore::Impl::noteSensor(const QString &name, double rateHz, const QStringList &channels,
                                    const QStringList &units, QString *error)
{
    if (name.isEmpty())
        return true;
    if (!run(QStringLiteral("INSERT OR IGNORE INTO sensors(name, sample_rate_hz) VALUES (?, ?)"),
             {name, rateHz}, error))
        return false;
    if (channels.isEmpty())
        return true;
    QSqlQuery c =
        prepared(QStringLiteral("INSERT OR IGNORE INTO channels(sensor_id, idx, name, unit) "
                                "SELECT id, ?, ?, ? FROM sensors WHERE name = ?"));
    for (int i = 0; i < channels.size(); ++i) {
        bind(c,
             {i, text(channels[i]), i < units.size() ? text(units[i]) : QStringLiteral(""), name});
        if (!exec(c, error))
            return false;
    }
    return true;
}

std::optional<qint64> ProjectStore::Impl::insertSample(const Sample &s, qint64 explicitId,
                                                       bool streaming, const QString &checksum,
                                                       QString *error)
{
    QSqlQuery &q = statement(QStringLiteral(
        "INSERT INTO samples(id, label, split, source, device, sensor, created_utc, sample_rate_hz,"
        " frames, channels, units, dtype, shape, complete, streaming, checksum, data)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    int column = 0;
    auto bind = [&](const QVariant &v) { q.bindValue(column++, v); };
    const QDateTime created = s.created.isValid() ? s.created : QDateTime::currentDateTimeUtc();
    bind(explicitId > 0 ? QVariant(explicitId) : QVariant());
    bind(text(s.label));
    bind(splitName(s.split));
    bind(text(s.source));
    bind(text(s.device));
    bind(text(s.sensor));
    bind(created.toUTC().toString(Qt::ISODateWithMs));
    bind(s.sampleRateHz);
    bind(streaming ? 0 : s.frames());
    bind(jsonList(s.channels));
    bind(jsonList(s.units));
    bind(int(s.data.dtype));
    QVector<qint64> shape = s.data.shape;
    if (streaming)
        shape[0] = 0;
    bind(jsonShape(shape));
    bind(streaming ? 0 : int(s.complete));
    bind(int(streaming));
    bind(streaming ? QStringLiteral("") : checksum);
    bind(streaming ? QByteArray("") : blob(s.data.bytes));
    if (!exec(q, error))
        return std::nullopt;
    const qint64 id = q.lastInsertId().toLongLong();
    if (!noteSensor(s.sensor, s.sampleRateHz, s.channels, s.units, error))
        return std::nullopt;
    return id;
}

Sample ProjectStore::Impl::sampleFromRow(const QSqlQuery &q, bool withData) const
{
    Sample s;
    s.id = q.value(0).toLongLong();
    s.label = q.value(1).toString();
    s.split = splitFromName(q.value(2).toString()).value_or(Split::Train);
    s.source = q.value(3).toString();
    s.device = q.value(4).toString();
    s.sensor = q.value(5).toString();
    s.created = QDateTime::fromString(q.value(6).toString(), Qt::ISODateWithMs);
    s.sampleRateHz = q.value(7).toDouble();
    const qint64 frames = q.value(8).toLongLong();
    s.channels = parseList(q.value(9).toString());
    s.units = parseList(q.value(10).toString());
    s.data.dtype = DType(q.value(11).toInt());
    s.data.shape = parseShape(q.value(12).toString());
    if (!s.data.shape.isEmpty())
        s.data.shape[0] = frames;  // kept current while a sample streams in
    s.complete = q.value(13).toBool();
    s.checksum = q.value(15).toString();
    if (withData)
        s.data.bytes = q.value(16).toByteArray();
    return s;
}

// For a sample whose capture never finished (still running, or the writer died): appends
// the committed chunks so the caller sees every frame stored so far.
bool ProjectStore::Impl::foldChunks(Sample &s, QString *error) const
{
    if (!forEachRow(
            QStringLiteral("SELECT data FROM sample_chunks WHERE sample_id = ? ORDER BY seq"),
            {s.id}, error,
            [&](const QSqlQuery &q) { s.data.bytes.append(q.value(0).toByteArray()); }))
        return false;
    const qint64 rowBytes = product(s.data.shape.mid(1)) * dtypeSize(s.data.dtype);
    if (!s.data.shape.isEmpty() && rowBytes > 0)
        s.data.shape[0] = s.data.bytes.size() / rowBytes;
    s.checksum = sha256Hex(s.data.bytes);
    return true;
}

std::optional<Sample> ProjectStore::Impl::readSample(qint64 id, bool withData, QString *error) const
{
    bool streaming = false;
    auto s = selectOne(QStringLiteral("SELECT %1%2 FROM samples WHERE id = ?")
                           .arg(kSampleColumns, withData ? QStringLiteral(", data") : QString()),
                       {id}, QStringLiteral("no sample with id %1").arg(id), error,
                       [&](const QSqlQuery &q) {
                           streaming = q.value(14).toBool();
                           return sampleFromRow(q, withData);
                       });
    if (s && withData && streaming && !foldChunks(*s, error))
        return std::nullopt;
    return s;
}

bool ProjectStore::Impl::updateEach(const QVector<qint64> &ids, const QString &sql,
                                    const QVariant &value, QString *error)
{
    return writeTransaction(error, [&] {
        QSqlQuery q = prepared(sql);
        for (qint64 id : ids) {
            bind(q, {value, id});
            if (!changeOne(q, QStringLiteral("no sample with id %1").arg(id), error))
                return false;
        }
        return true;
    });
}

// Cached per sample so that appendFrames() costs two statements, not four.
std::optional<StreamState> ProjectStore::Impl::streamState(qint64 id, QString *error)
{
    auto it = streams.constFind(id);
    if (it != streams.constEnd())
        return *it;
    struct Row {
        StreamState state;
        bool streaming = false;
    };
    const auto row = selectOne(
        QStringLiteral(
            "SELECT dtype, shape, streaming,"
            " (SELECT COALESCE(MAX(seq) + 1, 0) FROM sample_chunks WHERE sample_id = samples.id)"
            " FROM samples WHERE id = ?"),
        {id}, QStringLiteral("no sample with id %1").arg(id), error, [](const QSqlQuery &q) {
            Row r;
            r.state.dtype = DType(q.value(0).toInt());
            r.state.rowShape = parseShape(q.value(1).toString()).mid(1);
            r.state.nextSeq = q.value(3).toLongLong();
            r.streaming = q.value(2).toBool();
            return r;
        });
    if (!row)
        return std::nullopt;
    if (!row->streaming) {
        fail(error, QStringLiteral("sample %1 is not being captured (finished or never begun)").arg(id));
        return std::nullopt;
    }
    streams.insert(id, row->state);
    return row->state;
}

// --- ProjectStore -----------------------------------------------------------------------

namespace {

QString validateSample(const Sample &s)
{
    if (!validDType(int(s.data.dtype)))
        return QStringLiteral("unknown dtype %1").arg(int(s.data.dtype));
    if (s.data.shape.isEmpty())
        return QStringLiteral("sample data has no shape");
    for (qint64 dim : s.data.shape)
        if (dim < 0)
            return QStringLiteral("sample data has a negative dimension");
    if (!s.data.isConsistent())
        return QStringLiteral("sample data holds %1 bytes but shape %2 of %3 needs %4")
            .arg(s.data.bytes.size())
            .arg(jsonShape(s.data.shape), dtypeName(s.data.dtype))
            .arg(s.data.elementCount() * dtypeSize(s.data.dtype));
    return {};
}

// The inverse of Impl::writeSettings(); keys it does not know are skipped.
void readSetting(ProjectSettings &s, const QString &key, const QVariant &v)
{
    if (key == QLatin1String("name"))
        s.name = v.toString();
    else if (key == QLatin1String("template"))
        s.templateName = v.toString();
    else if (key == QLatin1String("board"))
        s.boardId = v.toString();
    else if (key == QLatin1String("labels"))
        s.labels = parseList(v.toString());
    else if (key == QLatin1String("sensor"))
        s.sensor = v.toString();
    else if (key == QLatin1String("sample_rate_hz"))
        s.sampleRateHz = v.toDouble();
    else if (key == QLatin1String("sample_length_s"))
        s.sampleLengthS = v.toDouble();
    else if (key == QLatin1String("extra"))
        s.extra = QJsonDocument::fromJson(v.toString().toUtf8()).object();
}

SampleInfo infoOf(const Sample &s)
{
    SampleInfo i;
    i.id = s.id;
    i.label = s.label;
    i.split = s.split;
    i.source = s.source;
    i.device = s.device;
    i.sensor = s.sensor;
    i.created = s.created;
    i.sampleRateHz = s.sampleRateHz;
    i.frames = s.frames();
    i.channels = s.channels;
    i.dtype = s.data.dtype;
    i.complete = s.complete;
    i.checksum = s.checksum;
    return i;
}

} // namespace

ProjectStore::ProjectStore() : d(std::make_unique<Impl>()) {}
ProjectStore::~ProjectStore() = default;

std::unique_ptr<ProjectStore> ProjectStore::create(const QString &path, const ProjectSettings &settings,
                                                   QString *error)
{
    const QString what = QStringLiteral("Cannot create project \"%1\"").arg(path);
    if (QFileInfo::exists(path)) {
        fail(error, QStringLiteral("%1: the file already exists").arg(what));
        return nullptr;
    }
    if (!QFileInfo(QFileInfo(path).absolutePath()).isDir()) {
        fail(error, QStringLiteral("%1: the folder does not exist").arg(what));
        return nullptr;
    }

    std::unique_ptr<ProjectStore> store(new ProjectStore);
    Impl &d = *store->d;
    auto cleanUp = [&](const QString &message) {
        fail(error, QStringLiteral("%1: %2").arg(what, message));
        store.reset();  // closes the connection before the files go
        for (const char *suffix : {"", "-wal", "-shm"})
            QFile::remove(path + QLatin1String(suffix));
        return nullptr;
    };
    if (!d.openConnection(path))
        return cleanUp(sqlMessage(d.db.lastError()));

    QString why;
    if (!d.configureConnection(&why))
        return cleanUp(why);
    // Stamped before the first migration step: a file cut short right here is a valid v0
    // project, which open() recognises and migrates instead of calling it foreign.
    if (!d.exec(QStringLiteral("PRAGMA application_id=%1").arg(kApplicationId), &why)
        || !d.migrate(&why))
        return cleanUp(why);
    if (!d.writeTransaction(&why, [&] { return d.writeSettings(settings, &why); }))
        return cleanUp(why);
    return store;
}

std::unique_ptr<ProjectStore> ProjectStore::open(const QString &path, QString *error)
{
    return openStore(path, false, error);
}

std::unique_ptr<ProjectStore> ProjectStore::openReadOnly(const QString &path, QString *error)
{
    return openStore(path, true, error);
}

bool ProjectStore::isReadOnly() const { return d->readOnly; }

QString ProjectStore::readOnlyReason() const { return d->readOnlyReason; }

std::unique_ptr<ProjectStore> ProjectStore::openStore(const QString &path, bool readOnly, QString *error)
{
    const QString what = QStringLiteral("Cannot open project \"%1\"").arg(path);
    auto refuse = [&](const QString &message) {
        fail(error, QStringLiteral("%1: %2").arg(what, message));
        return nullptr;
    };
    const QFileInfo info(path);
    if (!info.exists())
        return refuse(QStringLiteral("the file does not exist"));
    if (!info.isFile())
        return refuse(QStringLiteral("not a file"));
    if (!info.isReadable())
        return refuse(QStringLiteral("the file is not readable"));
    // SQLite would happily treat an empty file as an empty database and write to it. Any
    // other file that is not SQLite's is refused by SQLite itself at the first read below
    // (SQLITE_NOTADB). The file is never opened here with QFile: closing any descriptor of a
    // file drops every POSIX lock this process holds on it, including those of a live SQLite
    // connection to the same project in another thread (a profiler's worker store next to
    // the CLI's), after which another process's checkpoint can pull pages away from under
    // it ("disk I/O error" on a concurrent open).
    const QString notADatabase = QStringLiteral("file is not a database (not an SQLite file), so not a TinyML project");
    if (info.size() == 0)
        return refuse(notADatabase);

    // Not writable: read what is there rather than fail on the first write.
    QString readOnlyReason = readOnly ? QStringLiteral("opened read-only") : QString();
    if (!readOnly && !info.isWritable())
        readOnlyReason = QStringLiteral("the file %1 is not writable").arg(path);
    else if (!readOnly && !QFileInfo(info.absolutePath()).isWritable())
        readOnlyReason = QStringLiteral("its folder %1 is not writable").arg(info.absolutePath());
    // A WAL-mode file needs its "-shm" index even to be read; a reader that cannot create
    // it gets "attempt to write a readonly database". When nobody can have written a WAL
    // (this process cannot write the file or its folder, and no "-wal" with frames is
    // there), the file alone is the whole database: open it immutable, which needs no
    // side files and leaves none behind. An explicit openReadOnly() may run next to a live
    // writer, so it reads through the WAL as usual.
    const QFileInfo wal(path + QStringLiteral("-wal"));
    const bool immutable = !readOnly && !readOnlyReason.isEmpty() && (!wal.exists() || wal.size() == 0);
    readOnly = readOnly || !readOnlyReason.isEmpty();

    std::unique_ptr<ProjectStore> store(new ProjectStore);
    Impl &d = *store->d;
    d.readOnly = readOnly;
    d.readOnlyReason = readOnlyReason;
    if (!d.openConnection(path, readOnly, immutable))
        return refuse(sqlMessage(d.db.lastError()));

    // Nothing below writes until the file is known to be ours, intact and not too new.
    auto pragma = [&](const char *name) -> std::optional<qint64> {
        QSqlQuery q(d.db);
        if (!q.exec(QStringLiteral("PRAGMA %1").arg(QLatin1String(name))) || !q.next()) {
            // SQLITE_NOTADB (26): the file is something else
            refuse(q.lastError().nativeErrorCode() == QLatin1String("26") ? notADatabase : sqlMessage(q.lastError()));
            return std::nullopt;
        }
        return q.value(0).toLongLong();
    };
    const auto appId = pragma("application_id");
    if (!appId)
        return nullptr;
    if (*appId != kApplicationId)
        return refuse(QStringLiteral("an SQLite database but not a TinyML project "
                                     "(application_id 0x%1, expected 0x%2)")
                          .arg(quint32(*appId), 8, 16, QLatin1Char('0'))
                          .arg(quint32(kApplicationId), 8, 16, QLatin1Char('0')));
    const auto version = pragma("user_version");
    if (!version)
        return nullptr;
    if (*version > kSchemaVersion)
        return refuse(QStringLiteral("written by a newer TinyML Workbench (schema v%1; this build "
                                     "reads up to v%2). Update the application to open it.")
                          .arg(*version).arg(kSchemaVersion));
    if (*version < 0)
        return refuse(QStringLiteral("invalid schema version %1").arg(*version));

    {
        QSqlQuery q(d.db);
        q.setForwardOnly(true);
        if (!q.exec(QStringLiteral("PRAGMA integrity_check(20)")))
            return refuse(QStringLiteral("the file is corrupt: %1").arg(sqlMessage(q.lastError())));
        QStringList problems;
        while (q.next())
            problems.append(q.value(0).toString().split(QLatin1Char('\n'), Qt::SkipEmptyParts));
        if (problems != QStringList{QStringLiteral("ok")}) {
            problems.removeAll(QStringLiteral("*** in database main ***"));
            if (problems.size() > 3)
                problems = problems.mid(0, 3) << QStringLiteral("...");
            return refuse(QStringLiteral("the file is corrupt (integrity check: %1)")
                              .arg(problems.join(QLatin1String("; "))));
        }
    }

    QString why;
    d.schemaVersion = int(*version);
    if (readOnly) {
        if (d.schemaVersion < kSchemaVersion)
            return refuse(QStringLiteral("opened read-only, but its schema v%1 needs upgrading to v%2, "
                                         "which writes; open it once where it can be written")
                              .arg(d.schemaVersion).arg(kSchemaVersion));
        if (!d.exec(QStringLiteral("PRAGMA foreign_keys=ON"), &why))
            return refuse(why);
        return store;
    }
    if (!d.configureConnection(&why) || !d.migrate(&why) || !d.repairAbandoned(&why)) {
        fail(error, QStringLiteral("%1: %2").arg(what, why));
        return nullptr;
    }
    return store;
}

bool ProjectStore::Impl::repairAbandoned(QString *error)
{
    // Streaming samples and running runs without a live owner, by id.
    auto abandoned = [&](QVector<qint64> *samples, QVector<qint64> *runs) {
        // A file migrated from an early schema may lack some tables; repair what is there.
        QStringList tables;
        if (!forEachRow(QStringLiteral("SELECT name FROM sqlite_master WHERE type = 'table'"), {}, error,
                        [&](const QSqlQuery &q) { tables.append(q.value(0).toString()); }))
            return false;
        if (tables.contains(QStringLiteral("samples")) && tables.contains(QStringLiteral("sample_chunks"))
            && !forEachRow(QStringLiteral("SELECT id FROM samples WHERE streaming = 1"), {}, error,
                           [&](const QSqlQuery &q) {
                               const qint64 id = q.value(0).toLongLong();
                               if (!ownerAlive(QStringLiteral("sample-%1").arg(id)))
                                   samples->append(id);
                           }))
            return false;
        return !tables.contains(QStringLiteral("training_runs"))
               || forEachRow(QStringLiteral("SELECT id FROM training_runs WHERE status = ?"),
                             {trainingStatusName(TrainingStatus::Running)}, error, [&](const QSqlQuery &q) {
                                 const qint64 id = q.value(0).toLongLong();
                                 if (!ownerAlive(QStringLiteral("run-%1").arg(id)))
                                     runs->append(id);
                             });
    };
    // Usually nothing to do: look first without taking the write lock, so that opening a
    // project another process is writing to does not wait for that writer.
    QVector<qint64> samples, runs;
    if (!abandoned(&samples, &runs))
        return false;
    if (samples.isEmpty() && runs.isEmpty())
        return true;
    // Again under the write lock: a writer creates its owner lock before committing the row
    // it owns (beginSample, addTrainingRun), so every row seen here already has its lock.
    return writeTransaction(error, [&] {
        samples.clear();
        runs.clear();
        if (!abandoned(&samples, &runs))
            return false;
        for (qint64 id : samples) {
            const auto s = readSample(id, true, error);
            if (!s)
                return false;
            if (!run(QStringLiteral("UPDATE samples SET frames = ?, shape = ?, checksum = ?, complete = 0,"
                                    " streaming = 0, data = ? WHERE id = ? AND streaming = 1"),
                     {s->frames(), jsonShape(s->data.shape), sha256Hex(s->data.bytes),
                      blob(s->data.bytes), id},
                     error)
                || !run(QStringLiteral("DELETE FROM sample_chunks WHERE sample_id = ?"), {id}, error))
                return false;
        }
        for (qint64 id : runs) {
            if (!run(QStringLiteral("UPDATE training_runs SET status = ? WHERE id = ? AND status = ?"),
                     {trainingStatusName(TrainingStatus::Interrupted), id,
                      trainingStatusName(TrainingStatus::Running)},
                     error))
                return false;
        }
        return true;
    });
}

QString ProjectStore::path() const { return d->path; }
int ProjectStore::schemaVersion() const { return d->schemaVersion; }

ProjectSettings ProjectStore::settings() const
{
    ProjectSettings s;
    d->forEachRow(QStringLiteral("SELECT key, value FROM settings"), {}, nullptr,
                  [&](const QSqlQuery &q) { readSetting(s, q.value(0).toString(), q.value(1)); });
    return s;
}

bool ProjectStore::setSettings(const ProjectSettings &settings, QString *error)
{
    return d->writeTransaction(error, [&] { return d->writeSettings(settings, error); });
}

bool ProjectStore::addSamples(QVector<Sample> &samples, QString *error)
{
    for (int i = 0; i < samples.size(); ++i) {
        const QString problem = validateSample(samples[i]);
        if (!problem.isEmpty())
            return d->fail(error, QStringLiteral("sample %1 of %2: %3").arg(i + 1).arg(samples.size()).arg(problem));
    }
    const QDateTime now = QDateTime::currentDateTimeUtc();
    QVector<qint64> ids;
    QStringList checksums;
    const bool stored = d->writeTransaction(error, [&] {
        ids.reserve(samples.size());
        for (const Sample &s : samples) {
            Sample stamped = s;
            if (!stamped.created.isValid())
                stamped.created = now;
            checksums.append(sha256Hex(s.data.bytes));
            const auto id = d->insertSample(stamped, 0, false, checksums.last(), error);
            if (!id)
                return false;
            ids.append(*id);
        }
        return true;
    });
    if (!stored)
        return false;
    // Only after the commit: a failed call leaves the caller's samples untouched.
    for (int i = 0; i < samples.size(); ++i) {
        samples[i].id = ids[i];
        samples[i].checksum = checksums[i];
        if (!samples[i].created.isValid())
            samples[i].created = now;
    }
    return true;
}

bool ProjectStore::addSample(Sample &sample, QString *error)
{
    QVector<Sample> one{sample};
    if (!addSamples(one, error))
        return false;
    sample = one.first();
    return true;
}

std::optional<Sample> ProjectStore::sample(qint64 id, QString *error) const
{
    // One read transaction: the row and its chunks come from the same snapshot even while
    // another connection appends.
    if (!d->beginRead(error))
        return std::nullopt;
    auto s = d->readSample(id, true, error);
    d->commit(nullptr);
    return s;
}

QVector<SampleInfo> ProjectStore::sampleInfos() const
{
    return d->selectAll(QStringLiteral("SELECT %1 FROM samples ORDER BY id").arg(kSampleColumns),
                        {}, [&](const QSqlQuery &q) { return infoOf(d->sampleFromRow(q, false)); });
}

QVector<Sample> ProjectStore::samples(std::optional<Split> split) const
{
    QVector<Sample> out;
    if (!d->beginRead(nullptr))
        return out;
    QVector<int> streaming;
    const bool read = d->forEachRow(
        QStringLiteral("SELECT %1, data FROM samples %2 ORDER BY id")
            .arg(kSampleColumns, split ? QStringLiteral("WHERE split = ?") : QString()),
        split ? QVariantList{splitName(*split)} : QVariantList{}, nullptr, [&](const QSqlQuery &q) {
            if (q.value(14).toBool())
                streaming.append(out.size());
            out.append(d->sampleFromRow(q, true));
        });
    if (!read) {
        d->rollback();
        return out;
    }
    for (int index : streaming)
        d->foldChunks(out[index], nullptr);
    d->commit(nullptr);
    return out;
}

DatasetCounts ProjectStore::counts() const
{
    DatasetCounts c;
    QMap<QString, DatasetCounts::Row> rows;  // QMap: sorted by label for free
    for (const QString &label : settings().labels)
        rows[label].label = label;
    const bool read = d->forEachRow(
        QStringLiteral("SELECT label, split, COUNT(*), complete = 1 AND streaming = 0 AS usable"
                       " FROM samples GROUP BY label, split, usable"), {},
        nullptr, [&](const QSqlQuery &q) {
            const QString label = q.value(0).toString();
            const int n = q.value(2).toInt();
            DatasetCounts::Row &row = rows[label];
            row.label = label;
            if (!q.value(3).toBool()) {
                row.incomplete += n;
                c.incomplete += n;
            } else if (splitFromName(q.value(1).toString()) == Split::Test) {
                row.test += n;
                c.test += n;
            } else {
                row.train += n;
                c.train += n;
            }
        });
    if (!read)
        return c;
    c.perLabel = QVector<DatasetCounts::Row>(rows.begin(), rows.end());
    return c;
}

QVector<SensorInfo> ProjectStore::sensors() const
{
    QVector<SensorInfo> out;
    d->forEachRow(
        QStringLiteral("SELECT s.name, s.sample_rate_hz, c.name, c.unit FROM sensors s"
                       " LEFT JOIN channels c ON c.sensor_id = s.id ORDER BY s.name, c.idx"),
        {}, nullptr, [&](const QSqlQuery &q) {
            const QString name = q.value(0).toString();
            if (out.isEmpty() || out.last().name != name) {
                SensorInfo s;
                s.name = name;
                s.sampleRateHz = q.value(1).toDouble();
                out.append(s);
            }
            if (!q.value(2).isNull()) {
                out.last().channels.append(q.value(2).toString());
                out.last().units.append(q.value(3).toString());
            }
        });
    return out;
}

bool ProjectStore::setLabel(const QVector<qint64> &ids, const QString &label, QString *error)
{
    return d->updateEach(ids, QStringLiteral("UPDATE samples SET label = ? WHERE id = ?"), text(label), error);
}

bool ProjectStore::setSplit(const QVector<qint64> &ids, Split split, QString *error)
{
    return d->updateEach(ids, QStringLiteral("UPDATE samples SET split = ? WHERE id = ?"),
                         splitName(split), error);
}

bool ProjectStore::applyStratifiedSplit(double testFraction, QString *error)
{
    return d->writeTransaction(error, [&] {
        QVector<qint64> ids;
        QVector<QString> labels, checksums;
        if (!d->forEachRow(
                QStringLiteral("SELECT id, label, checksum FROM samples WHERE streaming = 0"), {},
                error, [&](const QSqlQuery &q) {
                    ids.append(q.value(0).toLongLong());
                    labels.append(q.value(1).toString());
                    checksums.append(q.value(2).toString());
                }))
            return false;
        const QVector<Split> splits = assignStratifiedSplits(labels, checksums, testFraction);
        QSqlQuery u = d->prepared(QStringLiteral("UPDATE samples SET split = ? WHERE id = ?"));
        for (int i = 0; i < ids.size(); ++i) {
            Impl::bind(u, {splitName(splits[i]), ids[i]});
            if (!d->exec(u, error))
                return false;
        }
        return true;
    });
}

bool ProjectStore::replaceData(qint64 id, const Tensor &data, QString *error)
{
    Sample probe;
    probe.data = data;
    const QString problem = validateSample(probe);
    if (!problem.isEmpty())
        return d->fail(error, problem);
    return d->writeTransaction(error, [&] {
        return d->changeOne(
            QStringLiteral("UPDATE samples SET dtype = ?, shape = ?, frames = ?, checksum = ?,"
                           " data = ? WHERE id = ? AND streaming = 0"),
            {int(data.dtype), jsonShape(data.shape), data.shape.first(), sha256Hex(data.bytes),
             blob(data.bytes), id},
            QStringLiteral("no finished sample with id %1").arg(id), error);
    });
}

std::optional<QVector<Sample>> ProjectStore::removeSamples(const QVector<qint64> &ids, QString *error)
{
    QVector<Sample> removed;
    const bool deleted = d->writeTransaction(error, [&] {
        QSqlQuery del = d->prepared(QStringLiteral("DELETE FROM samples WHERE id = ?"));
        for (qint64 id : ids) {
            auto s = d->readSample(id, true, error);
            if (!s)
                return false;
            Impl::bind(del, {id});
            if (!d->exec(del, error))
                return false;
            removed.append(*s);
        }
        return true;
    });
    if (!deleted)
        return std::nullopt;
    for (qint64 id : ids)
        d->streams.remove(id);
    return removed;
}

bool ProjectStore::restoreSamples(const QVector<Sample> &samples, QString *error)
{
    for (const Sample &s : samples) {
        if (s.id <= 0)
            return d->fail(error, QStringLiteral("cannot restore a sample that was never stored"));
        const QString problem = validateSample(s);
        if (!problem.isEmpty())
            return d->fail(error, QStringLiteral("sample %1: %2").arg(s.id).arg(problem));
    }
    return d->writeTransaction(error, [&] {
        for (const Sample &s : samples)
            if (!d->insertSample(s, s.id, false, sha256Hex(s.data.bytes), error))
                return false;
        return true;
    });
}

std::optional<qint64> ProjectStore::beginSample(const Sample &meta, QString *error)
{
    Sample row = meta;
    row.data.bytes.clear();
    if (row.data.shape.size() < 2) {
        if (row.channels.isEmpty()) {
            d->fail(error, QStringLiteral("beginSample needs the channel count: data.shape [0, channels]"));
            return std::nullopt;
        }
        row.data.shape = {0, row.channels.size()};
    }
    if (!validDType(int(row.data.dtype))) {
        d->fail(error, QStringLiteral("unknown dtype %1").arg(int(row.data.dtype)));
        return std::nullopt;
    }
    std::optional<qint64> id;
    if (!d->writeTransaction(error, [&] {
            id = d->insertSample(row, 0, true, QString(), error);
            // Before the commit: open() in another process then sees the row with its lock.
            if (id)
                d->holdOwnerLock(QStringLiteral("sample-%1").arg(*id));
            return id.has_value();
        })) {
        if (id)
            d->releaseOwnerLock(QStringLiteral("sample-%1").arg(*id));
        return std::nullopt;
    }
    StreamState st;
    st.dtype = row.data.dtype;
    st.rowShape = row.data.shape.mid(1);
    d->streams.insert(*id, st);
    return id;
}

bool ProjectStore::appendFrames(qint64 id, const Tensor &chunk, QString *error)
{
    auto st = d->streamState(id, error);
    if (!st)
        return false;
    if (chunk.dtype != st->dtype)
        return d->fail(error, QStringLiteral("sample %1 is %2, the chunk is %3")
                                  .arg(id).arg(dtypeName(st->dtype), dtypeName(chunk.dtype)));
    if (chunk.shape.size() != st->rowShape.size() + 1 || chunk.shape.mid(1) != st->rowShape)
        return d->fail(error, QStringLiteral("sample %1 takes frames of shape %2, the chunk is %3")
                                  .arg(id).arg(jsonShape(st->rowShape), jsonShape(chunk.shape)));
    if (!chunk.isConsistent())
        return d->fail(error, QStringLiteral("chunk bytes do not match its shape %1").arg(jsonShape(chunk.shape)));
    const qint64 frames = chunk.shape.first();
    if (frames == 0)
        return true;

    const bool appended = d->writeTransaction(error, [&] {
        QSqlQuery &ins = d->statement(QStringLiteral(
            "INSERT INTO sample_chunks(sample_id, seq, frames, data) VALUES (?, ?, ?, ?)"));
        Impl::bind(ins, {id, st->nextSeq, frames, chunk.bytes});
        if (!d->exec(ins, error))
            return false;
        QSqlQuery &bump = d->statement(QStringLiteral(
            "UPDATE samples SET frames = frames + ? WHERE id = ? AND streaming = 1"));
        Impl::bind(bump, {frames, id});
        if (!d->exec(bump, error))
            return false;
        if (bump.numRowsAffected() == 1)
            return true;
        // Another connection finished or removed it under us.
        d->streams.remove(id);
        return d->fail(error, QStringLiteral("sample %1 is no longer being captured").arg(id));
    });
    if (!appended)
        return false;
    d->streams[id].nextSeq = st->nextSeq + 1;
    return true;
}

bool ProjectStore::finishSample(qint64 id, bool complete, QString *error)
{
    const bool finished = d->writeTransaction(error, [&] {
        const auto s = d->readSample(id, true, error);
        if (!s)
            return false;
        const QString sql = QStringLiteral("UPDATE samples SET frames = ?, shape = ?, checksum = "
                                           "?, complete = ?, streaming = 0, data = ?"
                                           " WHERE id = ? AND streaming = 1");
        return d->changeOne(sql,
                            {s->frames(), jsonShape(s->data.shape), sha256Hex(s->data.bytes),
                             int(complete), blob(s->data.bytes), id},
                            QStringLiteral("sample %1 is not being captured").arg(id), error) &&
               d->run(QStringLiteral("DELETE FROM sample_chunks WHERE sample_id = ?"), {id}, error);
    });
    if (!finished)
        return false;
    d->streams.remove(id);
    d->releaseOwnerLock(QStringLiteral("sample-%1").arg(id));
    return true;
}

// --- names persisted as text ------------------------------------------------------------

QString trainingStatusName(TrainingStatus s)
{
    switch (s) {
    case TrainingStatus::Created: return QStringLiteral("created");
    case TrainingStatus::Running: return QStringLiteral("running");
    case TrainingStatus::Finished: return QStringLiteral("finished");
    case TrainingStatus::Failed: return QStringLiteral("failed");
    case TrainingStatus::Cancelled: return QStringLiteral("cancelled");
    case TrainingStatus::Interrupted: return QStringLiteral("interrupted");
    }
    return QStringLiteral("created");
}

std::optional<TrainingStatus> trainingStatusFromName(const QString &name)
{
    for (TrainingStatus s : {TrainingStatus::Created, TrainingStatus::Running, TrainingStatus::Finished,
                             TrainingStatus::Failed, TrainingStatus::Cancelled, TrainingStatus::Interrupted})
        if (trainingStatusName(s) == name)
            return s;
    return std::nullopt;
}

QString modelKindName(ModelKind k)
{
    return k == ModelKind::Int8 ? QStringLiteral("int8") : QStringLiteral("float");
}

std::optional<ModelKind> modelKindFromName(const QString &name)
{
    if (name == QLatin1String("float"))
        return ModelKind::Float;
    if (name == QLatin1String("int8"))
        return ModelKind::Int8;
    return std::nullopt;
}

// --- feature cache -------------------------------------------------------------------------

QHash<qint64, CachedFeature> ProjectStore::cachedFeatures(const QString &paramsHash) const
{
    QHash<qint64, CachedFeature> out;
    d->forEachRow(
        QStringLiteral("SELECT sample_id, sample_checksum, dtype, shape, data FROM features"
                       " WHERE params_hash = ?"),
        {text(paramsHash)}, nullptr, [&](const QSqlQuery &q) {
            CachedFeature f;
            f.sampleId = q.value(0).toLongLong();
            f.paramsHash = paramsHash;
            f.sampleChecksum = q.value(1).toString();
            const int dtype = q.value(2).toInt();
            if (!validDType(dtype))
                return;
            f.data.dtype = DType(dtype);
            f.data.shape = parseShape(q.value(3).toString());
            f.data.bytes = q.value(4).toByteArray();
            if (!f.data.isConsistent() || f.data.shape.isEmpty())
                return; // a damaged row is a cache miss, not an error
            out.insert(f.sampleId, f);
        });
    return out;
}

bool ProjectStore::storeFeatures(const QVector<CachedFeature> &rows, QString *error)
{
    for (const CachedFeature &f : rows)
        if (!validDType(int(f.data.dtype)) || !f.data.isConsistent() || f.data.shape.isEmpty())
            return d->fail(error, QStringLiteral("features of sample %1 do not match their shape %2")
                                      .arg(f.sampleId).arg(jsonShape(f.data.shape)));
    return d->writeTransaction(error, [&] {
        QSqlQuery &q =
            d->statement(QStringLiteral("INSERT OR REPLACE INTO features(sample_id, params_hash, "
                                        "sample_checksum, created_utc, dtype, shape, data)"
                                        " VALUES (?, ?, ?, ?, ?, ?, ?)"));
        const QString now = utcText(QDateTime());
        for (const CachedFeature &f : rows) {
            Impl::bind(q, {f.sampleId, text(f.paramsHash), text(f.sampleChecksum), now,
                           int(f.data.dtype), jsonShape(f.data.shape), blob(f.data.bytes)});
            if (!q.exec())
                return d->fail(error, QStringLiteral("caching features of sample %1: %2")
                                          .arg(f.sampleId)
                                          .arg(sqlMessage(q.lastError())));
        }
        return true;
    });
}

bool ProjectStore::removeFeaturesExcept(const QString &paramsHash, QString *error)
{
    return d->run(QStringLiteral("DELETE FROM features WHERE params_hash <> ?"), {text(paramsHash)},
                  error);
}

int ProjectStore::cachedFeatureCount() const
{
    const auto n = d->scalar(QStringLiteral("SELECT COUNT(*) FROM features"), nullptr);
    return n ? n->toInt() : 0;
}

// --- training runs ---------------------------------------------------------------------------

namespace {

const QString kRunColumns = QStringLiteral("id, created_utc, config, metrics, status");

TrainingRun runFromRow(const QSqlQuery &q)
{
    TrainingRun r;
    r.id = q.value(0).toLongLong();
    r.created = parseUtc(q.value(1).toString());
    r.config = parseObject(q.value(2).toString());
    r.metrics = parseObject(q.value(3).toString());
    r.status = trainingStatusFromName(q.value(4).toString()).value_or(TrainingStatus::Created);
    return r;
}

const QString kModelColumns = QStringLiteral("id, training_run_id, kind, name, metrics, created_utc");

StoredModel modelFromRow(const QSqlQuery &q, bool withGraph)
{
    StoredModel m;
    m.id = q.value(0).toLongLong();
    m.trainingRunId = q.value(1).isNull() ? 0 : q.value(1).toLongLong();
    m.kind = modelKindFromName(q.value(2).toString()).value_or(ModelKind::Float);
    m.name = q.value(3).toString();
    m.metrics = parseObject(q.value(4).toString());
    m.created = parseUtc(q.value(5).toString());
    if (withGraph)
        m.graph = q.value(6).toByteArray();
    return m;
}

StoredModel modelWithGraph(const QSqlQuery &q)
{
    return modelFromRow(q, true);
}

} // namespace

std::optional<qint64> ProjectStore::addTrainingRun(TrainingRun &run, QString *error)
{
    const bool running = run.status == TrainingStatus::Running;
    std::optional<qint64> id;
    const bool added = d->writeTransaction(error, [&] {
        id = d->insertCreated(
            run,
            QStringLiteral(
                "INSERT INTO training_runs(created_utc, config, metrics, status) VALUES (?, ?, ?, ?)"),
            [&](const QString &created) -> QVariantList {
                return {created, jsonObjectText(run.config), jsonObjectText(run.metrics),
                        trainingStatusName(run.status)};
            },
            error);
        // Before the commit, as in beginSample().
        if (id && running)
            d->holdOwnerLock(QStringLiteral("run-%1").arg(*id));
        return id.has_value();
    });
    if (!added) {
        if (id)
            d->releaseOwnerLock(QStringLiteral("run-%1").arg(*id));
        return std::nullopt;
    }
    return id;
}

bool ProjectStore::updateTrainingRun(qint64 id, const QJsonObject &metrics, TrainingStatus status,
                                     QString *error)
{
    const QString key = QStringLiteral("run-%1").arg(id);
    const bool running = status == TrainingStatus::Running;
    const bool updated = d->writeTransaction(error, [&] {
        if (running)
            d->holdOwnerLock(key);
        return d->changeOne(
            QStringLiteral("UPDATE training_runs SET metrics = ?, status = ? WHERE id = ?"),
            {jsonObjectText(metrics), trainingStatusName(status), id},
            QStringLiteral("no training run with id %1").arg(id), error);
    });
    if (updated != running)
        d->releaseOwnerLock(key);
    return updated;
}

std::optional<TrainingRun> ProjectStore::trainingRun(qint64 id, QString *error) const
{
    return d->selectOne(
        QStringLiteral("SELECT %1 FROM training_runs WHERE id = ?").arg(kRunColumns), {id},
        QStringLiteral("no training run with id %1").arg(id), error, runFromRow);
}

QVector<TrainingRun> ProjectStore::trainingRuns() const
{
    return d->selectAll(QStringLiteral("SELECT %1 FROM training_runs ORDER BY id").arg(kRunColumns),
                        {}, runFromRow);
}

// --- models ------------------------------------------------------------------------------------

std::optional<qint64> ProjectStore::addModel(StoredModel &model, QString *error)
{
    return d->insertCreated(
        model,
        QStringLiteral(
            "INSERT INTO models(training_run_id, kind, name, metrics, graph, created_utc)"
            " VALUES (?, ?, ?, ?, ?, ?)"),
        [&](const QString &created) -> QVariantList {
            return {model.trainingRunId > 0 ? QVariant(model.trainingRunId) : QVariant(),
                    modelKindName(model.kind),
                    text(model.name),
                    jsonObjectText(model.metrics),
                    blob(model.graph),
                    created};
        },
        error);
}

bool ProjectStore::updateModelMetrics(qint64 id, const QJsonObject &metrics, QString *error)
{
    return d->changeOne(QStringLiteral("UPDATE models SET metrics = ? WHERE id = ?"),
                        {jsonObjectText(metrics), id},
                        QStringLiteral("no model with id %1").arg(id), error);
}

std::optional<StoredModel> ProjectStore::model(qint64 id, QString *error) const
{
    return d->selectOne(
        QStringLiteral("SELECT %1, graph FROM models WHERE id = ?").arg(kModelColumns), {id},
        QStringLiteral("no model with id %1").arg(id), error, modelWithGraph);
}

std::optional<StoredModel> ProjectStore::latestModel(ModelKind kind, QString *error) const
{
    return d->selectOne(
        QStringLiteral("SELECT %1, graph FROM models WHERE kind = ? ORDER BY id DESC LIMIT 1")
            .arg(kModelColumns),
        {modelKindName(kind)}, QStringLiteral("no %1 model yet").arg(modelKindName(kind)), error,
        modelWithGraph);
}

QVector<StoredModel> ProjectStore::models() const
{
    return d->selectAll(QStringLiteral("SELECT %1 FROM models ORDER BY id").arg(kModelColumns), {},
                        [](const QSqlQuery &q) { return modelFromRow(q, false); });
}

bool ProjectStore::removeModel(qint64 id, QString *error)
{
    return d->changeOne(QStringLiteral("DELETE FROM models WHERE id = ?"), {id},
                        QStringLiteral("no model with id %1").arg(id), error);
}

// --- profiles ----------------------------------------------------------------------------------

namespace {

const QString kProfileColumns = QStringLiteral("id, model_id, board_id, created_utc, json");

StoredProfile profileFromRow(const QSqlQuery &q)
{
    StoredProfile p;
    p.id = q.value(0).toLongLong();
    p.modelId = q.value(1).isNull() ? 0 : q.value(1).toLongLong();
    p.boardId = q.value(2).toString();
    p.created = parseUtc(q.value(3).toString());
    p.json = parseObject(q.value(4).toString());
    return p;
}

} // namespace

std::optional<qint64> ProjectStore::addProfile(StoredProfile &profile, QString *error)
{
    return d->insertCreated(
        profile,
        QStringLiteral(
            "INSERT INTO profiles(model_id, board_id, created_utc, json) VALUES (?, ?, ?, ?)"),
        [&](const QString &created) -> QVariantList {
            return {profile.modelId > 0 ? QVariant(profile.modelId) : QVariant(),
                    text(profile.boardId), created, jsonObjectText(profile.json)};
        },
        error);
}

std::optional<StoredProfile> ProjectStore::profile(qint64 id, QString *error) const
{
    return d->selectOne(QStringLiteral("SELECT %1 FROM profiles WHERE id = ?").arg(kProfileColumns),
                        {id}, QStringLiteral("no profile with id %1").arg(id), error,
                        profileFromRow);
}

QVector<StoredProfile> ProjectStore::profiles(std::optional<qint64> modelId) const
{
    if (modelId)
        return d->selectAll(QStringLiteral("SELECT %1 FROM profiles WHERE model_id = ? ORDER BY id")
                                .arg(kProfileColumns),
                            {*modelId}, profileFromRow);
    return d->selectAll(QStringLiteral("SELECT %1 FROM profiles ORDER BY id").arg(kProfileColumns),
                        {}, profileFromRow);
}

bool ProjectStore::removeProfile(qint64 id, QString *error)
{
    return d->changeOne(QStringLiteral("DELETE FROM profiles WHERE id = ?"), {id},
                        QStringLiteral("no profile with id %1").arg(id), error);
}

// --- fleets, rollouts, telemetry (v4) ------------------------------------------------------

namespace {

const QString kRolloutColumns = QStringLiteral("id, fleet, created_utc, status, state");

StoredRollout rolloutFromRow(const QSqlQuery &q)
{
    StoredRollout r;
    r.id = q.value(0).toLongLong();
    r.fleet = q.value(1).toString();
    r.created = parseUtc(q.value(2).toString());
    r.status = q.value(3).toString();
    r.state = parseObject(q.value(4).toString());
    return r;
}

StoredTelemetry telemetryFromRow(const QSqlQuery &q)
{
    StoredTelemetry t;
    t.id = q.value(0).toLongLong();
    t.fleet = q.value(1).toString();
    t.member = q.value(2).toString();
    t.created = parseUtc(q.value(3).toString());
    t.json = parseObject(q.value(4).toString());
    return t;
}

} // namespace

bool ProjectStore::saveFleet(const QString &name, const QJsonObject &json, QString *error)
{
    if (name.trimmed().isEmpty())
        return d->fail(error, QStringLiteral("a fleet needs a name"));
    return d->run(QStringLiteral("INSERT INTO fleets(name, created_utc, json) VALUES (?, ?, ?) "
                                 "ON CONFLICT(name) DO UPDATE SET json = excluded.json"),
                  {name, utcText(QDateTime::currentDateTimeUtc()), jsonObjectText(json)}, error);
}

std::optional<QJsonObject> ProjectStore::fleet(const QString &name, QString *error) const
{
    return d->selectOne(QStringLiteral("SELECT json FROM fleets WHERE name = ?"), {name},
                        QStringLiteral("no fleet named \"%1\"").arg(name), error,
                        [](const QSqlQuery &q) { return parseObject(q.value(0).toString()); });
}

QStringList ProjectStore::fleetNames() const
{
    const auto names = d->selectAll(QStringLiteral("SELECT name FROM fleets ORDER BY name"), {},
                                    [](const QSqlQuery &q) { return q.value(0).toString(); });
    return QStringList(names.begin(), names.end());
}

bool ProjectStore::removeFleet(const QString &name, QString *error)
{
    return d->changeOne(QStringLiteral("DELETE FROM fleets WHERE name = ?"), {name},
                        QStringLiteral("no fleet named \"%1\"").arg(name), error);
}

std::optional<qint64> ProjectStore::addRollout(StoredRollout &rollout, QString *error)
{
    return d->insertCreated(
        rollout, QStringLiteral("INSERT INTO rollouts(fleet, created_utc, status, state) VALUES (?, ?, ?, ?)"),
        [&](const QString &created) -> QVariantList {
            return {rollout.fleet, created, rollout.status, jsonObjectText(rollout.state)};
        },
        error);
}

bool ProjectStore::updateRollout(qint64 id, const QString &status, const QJsonObject &state, QString *error)
{
    return d->changeOne(QStringLiteral("UPDATE rollouts SET status = ?, state = ? WHERE id = ?"),
                        {status, jsonObjectText(state), id}, QStringLiteral("no rollout with id %1").arg(id), error);
}

std::optional<StoredRollout> ProjectStore::rollout(qint64 id, QString *error) const
{
    return d->selectOne(QStringLiteral("SELECT %1 FROM rollouts WHERE id = ?").arg(kRolloutColumns), {id},
                        QStringLiteral("no rollout with id %1").arg(id), error, rolloutFromRow);
}

QVector<StoredRollout> ProjectStore::rollouts(const QString &fleet) const
{
    if (fleet.isEmpty())
        return d->selectAll(QStringLiteral("SELECT %1 FROM rollouts ORDER BY id").arg(kRolloutColumns), {},
                            rolloutFromRow);
    return d->selectAll(QStringLiteral("SELECT %1 FROM rollouts WHERE fleet = ? ORDER BY id").arg(kRolloutColumns),
                        {fleet}, rolloutFromRow);
}

std::optional<qint64> ProjectStore::addTelemetry(StoredTelemetry &t, QString *error)
{
    return d->insertCreated(
        t, QStringLiteral("INSERT INTO telemetry(fleet, member, created_utc, json) VALUES (?, ?, ?, ?)"),
        [&](const QString &created) -> QVariantList {
            return {t.fleet, t.member, created, jsonObjectText(t.json)};
        },
        error);
}

QVector<StoredTelemetry> ProjectStore::telemetry(const QString &fleet, const QString &member) const
{
    if (member.isEmpty())
        return d->selectAll(QStringLiteral("SELECT id, fleet, member, created_utc, json FROM telemetry "
                                           "WHERE fleet = ? ORDER BY id"),
                            {fleet}, telemetryFromRow);
    return d->selectAll(QStringLiteral("SELECT id, fleet, member, created_utc, json FROM telemetry "
                                       "WHERE fleet = ? AND member = ? ORDER BY id"),
                        {fleet, member}, telemetryFromRow);
}

} // namespace tinyml
