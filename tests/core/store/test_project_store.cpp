#include <gtest/gtest.h>

#include "store/ProjectStore.h"

#include <QCoreApplication>
#include <QCryptographicHash>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QProcess>
#include <QRandomGenerator>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QUuid>

#include <cmath>
#include <cstring>
#include <limits>

using namespace tinyml;

namespace {

// The file-format constant: "TMLW". Pinned here so that changing it breaks a test,
// because every existing project would stop opening.
constexpr qint64 kTinyMlApplicationId = 0x544D4C57;

QString sha256(const QByteArray &bytes)
{
    return QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex());
}

// A connection that bypasses ProjectStore, to look at (or tamper with) the file directly.
class RawDb
{
public:
    explicit RawDb(const QString &path)
        : m_name(QUuid::createUuid().toString())
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_name);
        db.setDatabaseName(path);
        EXPECT_TRUE(db.open());
    }
    ~RawDb()
    {
        {
            QSqlDatabase db = QSqlDatabase::database(m_name, false);
            db.close();
        }
        QSqlDatabase::removeDatabase(m_name);
    }
    QVariant value(const QString &sql)
    {
        QSqlQuery q(QSqlDatabase::database(m_name, false));
        EXPECT_TRUE(q.exec(sql)) << sql.toStdString();
        return q.next() ? q.value(0) : QVariant();
    }
    void exec(const QString &sql)
    {
        QSqlQuery q(QSqlDatabase::database(m_name, false));
        EXPECT_TRUE(q.exec(sql)) << sql.toStdString();
    }

private:
    QString m_name;
};

class ProjectStoreTest : public ::testing::Test
{
protected:
    static void SetUpTestSuite()
    {
        // Qt Sql loads its driver plugins and QProcess runs only with an application object.
        if (!QCoreApplication::instance()) {
            static int argc = 1;
            static char arg0[] = "test_core_store";
            static char *argv[] = {arg0, nullptr};
            new QCoreApplication(argc, argv);
        }
    }

    void SetUp() override { ASSERT_TRUE(m_dir.isValid()); }

    QString file(const QString &name) const { return m_dir.filePath(name); }

    std::unique_ptr<ProjectStore> newProject(const QString &name = QStringLiteral("p.tinyml"))
    {
        ProjectSettings s;
        s.name = QStringLiteral("test");
        s.labels = {QStringLiteral("idle"), QStringLiteral("wave")};
        QString error;
        auto store = ProjectStore::create(file(name), s, &error);
        EXPECT_TRUE(store) << error.toStdString();
        return store;
    }

    QTemporaryDir m_dir;
};

Sample floatSample(const QString &label, Split split, const QVector<float> &values, qint64 channels)
{
    Sample s;
    s.label = label;
    s.split = split;
    s.data = Tensor::fromFloats(values, {values.size() / channels, channels});
    return s;
}

// --- settings -----------------------------------------------------------------------------

TEST_F(ProjectStoreTest, CreateThenOpenRoundTripsTheSettings)
{
    ProjectSettings s;
    s.name = QStringLiteral("Gesture ✋ demo");
    s.templateName = QStringLiteral("audio");
    s.boardId = QStringLiteral("nucleo-l4r5zi");
    s.labels = {QStringLiteral("yes"), QStringLiteral("no"), QStringLiteral("_noise")};
    s.sensor = QStringLiteral("mic");
    s.sampleRateHz = 16000;
    s.sampleLengthS = 1.25;
    s.extra = QJsonObject{{"window", 256}, {"blocks", QJsonArray{"mfcc", "flatten"}}};
    QString error;
    const QString path = file("settings.tinyml");
    ASSERT_TRUE(ProjectStore::create(path, s, &error)) << error.toStdString();

    auto store = ProjectStore::open(path, &error);
    ASSERT_TRUE(store) << error.toStdString();
    EXPECT_EQ(store->schemaVersion(), ProjectStore::kSchemaVersion);
    EXPECT_EQ(store->path(), path);
    const ProjectSettings r = store->settings();
    EXPECT_EQ(r.name, QStringLiteral("Gesture ✋ demo"));
    EXPECT_EQ(r.templateName, "audio");
    EXPECT_EQ(r.boardId, "nucleo-l4r5zi");
    EXPECT_EQ(r.labels, (QStringList{"yes", "no", "_noise"}));
    EXPECT_EQ(r.sensor, "mic");
    EXPECT_EQ(r.sampleRateHz, 16000);
    EXPECT_EQ(r.sampleLengthS, 1.25);
    EXPECT_EQ(r.extra.value("window").toInt(), 256);
    EXPECT_EQ(r.extra.value("blocks").toArray(), (QJsonArray{"mfcc", "flatten"}));

    s.name = QStringLiteral("renamed");
    s.labels.removeLast();
    ASSERT_TRUE(store->setSettings(s, &error)) << error.toStdString();
    store.reset();
    store = ProjectStore::open(path, &error);
    ASSERT_TRUE(store) << error.toStdString();
    EXPECT_EQ(store->settings().name, "renamed");
    EXPECT_EQ(store->settings().labels, (QStringList{"yes", "no"}));
}

TEST_F(ProjectStoreTest, FileCarriesWalModeApplicationIdAndSchemaVersion)
{
    const QString path = file("pragmas.tinyml");
    {
        QString error;
        ASSERT_TRUE(ProjectStore::create(path, {}, &error)) << error.toStdString();
    }
    RawDb raw(path);
    EXPECT_EQ(raw.value("PRAGMA journal_mode").toString(), "wal");
    EXPECT_EQ(raw.value("PRAGMA application_id").toLongLong(), kTinyMlApplicationId);
    EXPECT_EQ(raw.value("PRAGMA user_version").toInt(), ProjectStore::kSchemaVersion);
    for (const char *table : {"settings", "sensors", "channels", "samples", "sample_chunks",
                              "features", "training_runs", "models", "deployments", "profiles"})
        EXPECT_EQ(raw.value(QStringLiteral("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' "
                                           "AND name = '%1'").arg(table)).toInt(), 1)
            << table;
}

TEST_F(ProjectStoreTest, CreateRefusesAnExistingFile)
{
    const QString path = file("exists.tinyml");
    QFile f(path);
    ASSERT_TRUE(f.open(QIODevice::WriteOnly));
    f.write("keep me");
    f.close();
    QString error;
    EXPECT_FALSE(ProjectStore::create(path, {}, &error));
    EXPECT_TRUE(error.contains(path)) << error.toStdString();
    ASSERT_TRUE(f.open(QIODevice::ReadOnly));
    EXPECT_EQ(f.readAll(), QByteArray("keep me"));
}

// --- samples ------------------------------------------------------------------------------

TEST_F(ProjectStoreTest, SamplesRoundTripBitExactForEveryDtype)
{
    const QString path = file("samples.tinyml");
    QVector<Sample> in(3);

    // float32: values a float->double->float detour or a text encoding would change.
    const float nanWithPayload = [] {
        quint32 bits = 0x7fc01234u;
        float f;
        std::memcpy(&f, &bits, 4);
        return f;
    }();
    const QVector<float> floats = {1.5f, -0.0f, std::numeric_limits<float>::denorm_min(),
                                   std::numeric_limits<float>::infinity(), nanWithPayload,
                                   3.4028235e38f, -1e-30f, 0.1f, 42.f};
    in[0] = floatSample("wave", Split::Test, floats, 3);
    in[0].source = QStringLiteral("/data/wave.json");
    in[0].device = QStringLiteral("qemu-m4");
    in[0].sensor = QStringLiteral("accel");
    in[0].sampleRateHz = 62.5;
    in[0].channels = {"ax", "ay", "az"};
    in[0].units = {"m/s2", "m/s2", "m/s2"};
    in[0].created = QDateTime(QDate(2025, 3, 4), QTime(5, 6, 7, 890), Qt::UTC);

    const qint16 shorts[] = {-32768, 32767, 0, -1, 1234, -4321};
    in[1].label = QStringLiteral("yes");
    in[1].data.dtype = DType::Int16;
    in[1].data.shape = {6, 1};
    in[1].data.bytes = QByteArray(reinterpret_cast<const char *>(shorts), sizeof shorts);
    in[1].complete = false;

    QByteArray pixels;
    for (int i = 0; i < 256; ++i)
        pixels.append(char(i));
    pixels.append(pixels); // 512 = 8 x 16 x 4
    in[2].label = QStringLiteral("cat");
    in[2].data.dtype = DType::UInt8;
    in[2].data.shape = {8, 16, 4};
    in[2].data.bytes = pixels;

    QString error;
    {
        auto store = newProject("samples.tinyml");
        ASSERT_TRUE(store->addSamples(in, &error)) << error.toStdString();
    }
    ASSERT_GT(in[0].id, 0);
    EXPECT_NE(in[0].id, in[1].id);
    EXPECT_EQ(in[2].checksum, sha256(pixels));

    auto store = ProjectStore::open(path, &error);
    ASSERT_TRUE(store) << error.toStdString();
    for (const Sample &want : in) {
        auto got = store->sample(want.id, &error);
        ASSERT_TRUE(got) << error.toStdString();
        EXPECT_EQ(got->data.dtype, want.data.dtype);
        EXPECT_EQ(got->data.shape, want.data.shape);
        ASSERT_EQ(got->data.bytes.size(), want.data.bytes.size());
        EXPECT_EQ(std::memcmp(got->data.bytes.constData(), want.data.bytes.constData(),
                              size_t(want.data.bytes.size())), 0);
        EXPECT_EQ(got->checksum, sha256(want.data.bytes));
        EXPECT_EQ(got->label, want.label);
        EXPECT_EQ(got->split, want.split);
        EXPECT_EQ(got->complete, want.complete);
    }
    auto wave = store->sample(in[0].id);
    EXPECT_EQ(wave->source, "/data/wave.json");
    EXPECT_EQ(wave->device, "qemu-m4");
    EXPECT_EQ(wave->sensor, "accel");
    EXPECT_EQ(wave->sampleRateHz, 62.5);
    EXPECT_EQ(wave->channels, (QStringList{"ax", "ay", "az"}));
    EXPECT_EQ(wave->units, (QStringList{"m/s2", "m/s2", "m/s2"}));
    EXPECT_EQ(wave->created, QDateTime(QDate(2025, 3, 4), QTime(5, 6, 7, 890), Qt::UTC));
    EXPECT_EQ(wave->frames(), 3);

    const QVector<SampleInfo> infos = store->sampleInfos();
    ASSERT_EQ(infos.size(), 3);
    EXPECT_EQ(infos[0].id, in[0].id);
    EXPECT_EQ(infos[0].frames, 3);
    EXPECT_EQ(infos[1].dtype, DType::Int16);
    EXPECT_FALSE(infos[1].complete);
    EXPECT_EQ(infos[2].checksum, sha256(pixels));

    EXPECT_EQ(store->samples(Split::Test).size(), 1);
    EXPECT_EQ(store->samples(Split::Train).size(), 2);
    EXPECT_EQ(store->samples().size(), 3);

    const QVector<SensorInfo> sensors = store->sensors();
    ASSERT_EQ(sensors.size(), 1);
    EXPECT_EQ(sensors[0].name, "accel");
    EXPECT_EQ(sensors[0].sampleRateHz, 62.5);
    EXPECT_EQ(sensors[0].channels, (QStringList{"ax", "ay", "az"}));
    EXPECT_EQ(sensors[0].units, (QStringList{"m/s2", "m/s2", "m/s2"}));
}

TEST_F(ProjectStoreTest, AddSamplesIsAllOrNothing)
{
    auto store = newProject();
    QVector<Sample> batch = {floatSample("idle", Split::Train, {1, 2, 3}, 1),
                             floatSample("idle", Split::Train, {4, 5, 6}, 1)};
    batch[1].data.shape = {4, 1}; // 3 values cannot fill 4 frames
    QString error;
    EXPECT_FALSE(store->addSamples(batch, &error));
    EXPECT_FALSE(error.isEmpty());
    EXPECT_TRUE(store->sampleInfos().isEmpty());
    EXPECT_EQ(batch[0].id, 0);

    // A failure inside the database half-way through the batch (here a trigger standing in
    // for a full disk) must take the rows inserted before it along.
    {
        RawDb raw(store->path());
        raw.exec("CREATE TRIGGER poison BEFORE INSERT ON samples WHEN NEW.label = 'poison' "
                 "BEGIN SELECT RAISE(ABORT, 'poisoned'); END");
    }
    batch = {floatSample("idle", Split::Train, {1, 2, 3}, 1),
             floatSample("poison", Split::Train, {4, 5, 6}, 1),
             floatSample("idle", Split::Train, {7, 8, 9}, 1)};
    EXPECT_FALSE(store->addSamples(batch, &error));
    EXPECT_TRUE(error.contains("poisoned")) << error.toStdString();
    EXPECT_TRUE(store->sampleInfos().isEmpty());
    EXPECT_EQ(batch[0].id, 0);
    EXPECT_TRUE(batch[0].checksum.isEmpty());
}

TEST_F(ProjectStoreTest, RelabelAndResplitAndRemoveThenRestore)
{
    auto store = newProject();
    QVector<Sample> s = {floatSample("idle", Split::Train, {1, 2}, 1),
                         floatSample("idle", Split::Train, {3, 4}, 1),
                         floatSample("wave", Split::Train, {5, 6, 7, 8}, 2)};
    QString error;
    ASSERT_TRUE(store->addSamples(s, &error)) << error.toStdString();

    ASSERT_TRUE(store->setLabel({s[0].id, s[2].id}, "shake", &error)) << error.toStdString();
    ASSERT_TRUE(store->setSplit({s[1].id}, Split::Test, &error)) << error.toStdString();
    auto infos = store->sampleInfos();
    ASSERT_EQ(infos.size(), 3);
    EXPECT_EQ(infos[0].label, "shake");
    EXPECT_EQ(infos[1].label, "idle");
    EXPECT_EQ(infos[2].label, "shake");
    EXPECT_EQ(infos[1].split, Split::Test);
    EXPECT_EQ(infos[0].split, Split::Train);

    // An unknown id makes the whole call fail without touching the others.
    EXPECT_FALSE(store->setLabel({s[1].id, 999}, "lost", &error));
    EXPECT_TRUE(error.contains("999")) << error.toStdString();
    EXPECT_EQ(store->sampleInfos()[1].label, "idle");

    auto removed = store->removeSamples({s[0].id, s[2].id}, &error);
    ASSERT_TRUE(removed) << error.toStdString();
    ASSERT_EQ(removed->size(), 2);
    EXPECT_EQ((*removed)[1].data.bytes, s[2].data.bytes);
    EXPECT_EQ((*removed)[1].label, "shake");
    ASSERT_EQ(store->sampleInfos().size(), 1);
    EXPECT_FALSE(store->sample(s[0].id));

    ASSERT_TRUE(store->restoreSamples(*removed, &error)) << error.toStdString();
    infos = store->sampleInfos();
    ASSERT_EQ(infos.size(), 3);
    EXPECT_EQ(infos[0].id, s[0].id);
    EXPECT_EQ(infos[2].id, s[2].id);
    auto back = store->sample(s[2].id);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->data.bytes, s[2].data.bytes);
    EXPECT_EQ(back->data.shape, (QVector<qint64>{2, 2}));
    EXPECT_EQ(back->label, "shake");
    EXPECT_EQ(back->checksum, sha256(s[2].data.bytes));

    // Restoring over an id that is in use again rolls back the samples restored before it.
    auto again = store->removeSamples({s[0].id}, &error);
    ASSERT_TRUE(again);
    QVector<Sample> clash = {again->first(), *back};
    EXPECT_FALSE(store->restoreSamples(clash, &error));
    EXPECT_EQ(store->sampleInfos().size(), 2);
    EXPECT_FALSE(store->sample(s[0].id));
}

TEST_F(ProjectStoreTest, ReplaceDataRecomputesChecksumAndFrames)
{
    auto store = newProject();
    Sample s = floatSample("idle", Split::Train, {1, 2, 3, 4, 5, 6}, 2);
    QString error;
    ASSERT_TRUE(store->addSample(s, &error)) << error.toStdString();
    const Tensor cropped = Tensor::fromFloats({3, 4}, {1, 2});
    ASSERT_TRUE(store->replaceData(s.id, cropped, &error)) << error.toStdString();
    auto got = store->sample(s.id);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->frames(), 1);
    EXPECT_EQ(got->data.bytes, cropped.bytes);
    EXPECT_EQ(got->checksum, sha256(cropped.bytes));
    EXPECT_EQ(store->sampleInfos().first().frames, 1);
}

TEST_F(ProjectStoreTest, CountsPerLabelAndSplit)
{
    auto store = newProject(); // declares labels idle and wave
    QVector<Sample> s;
    for (int i = 0; i < 5; ++i)
        s.append(floatSample("zebra", i < 2 ? Split::Test : Split::Train, {float(i)}, 1));
    for (int i = 0; i < 3; ++i)
        s.append(floatSample("alpha", Split::Train, {float(i)}, 1));
    s.append(floatSample("alpha", Split::Test, {9}, 1));
    QString error;
    ASSERT_TRUE(store->addSamples(s, &error)) << error.toStdString();

    const DatasetCounts c = store->counts();
    EXPECT_EQ(c.train, 6);
    EXPECT_EQ(c.test, 3);
    EXPECT_EQ(c.total(), 9);
    ASSERT_EQ(c.perLabel.size(), 4);
    EXPECT_EQ(c.perLabel[0].label, "alpha");
    EXPECT_EQ(c.perLabel[0].train, 3);
    EXPECT_EQ(c.perLabel[0].test, 1);
    EXPECT_EQ(c.perLabel[1].label, "idle");
    EXPECT_EQ(c.perLabel[1].train + c.perLabel[1].test, 0);
    EXPECT_EQ(c.perLabel[2].label, "wave");
    EXPECT_EQ(c.perLabel[3].label, "zebra");
    EXPECT_EQ(c.perLabel[3].train, 3);
    EXPECT_EQ(c.perLabel[3].test, 2);
}

TEST_F(ProjectStoreTest, ApplyStratifiedSplitSendsAFifthOfEachLabelToTest)
{
    auto store = newProject();
    QVector<Sample> s;
    for (int i = 0; i < 10; ++i)
        s.append(floatSample("idle", Split::Train, {float(i)}, 1));
    for (int i = 0; i < 5; ++i)
        s.append(floatSample("wave", Split::Train, {float(100 + i)}, 1));
    QString error;
    ASSERT_TRUE(store->addSamples(s, &error)) << error.toStdString();
    ASSERT_TRUE(store->applyStratifiedSplit(0.2, &error)) << error.toStdString();
    const DatasetCounts c = store->counts();
    ASSERT_EQ(c.perLabel.size(), 2);
    EXPECT_EQ(c.perLabel[0].test, 2);
    EXPECT_EQ(c.perLabel[0].train, 8);
    EXPECT_EQ(c.perLabel[1].test, 1);
    EXPECT_EQ(c.perLabel[1].train, 4);
}

// --- opening bad files --------------------------------------------------------------------

TEST_F(ProjectStoreTest, MissingFileIsReported)
{
    const QString path = file("nowhere.tinyml");
    QString error;
    EXPECT_FALSE(ProjectStore::open(path, &error));
    EXPECT_TRUE(error.contains(path)) << error.toStdString();
    EXPECT_TRUE(error.contains("does not exist")) << error.toStdString();
    EXPECT_FALSE(QFile::exists(path));
}

TEST_F(ProjectStoreTest, NonSqliteFileIsNotADatabase)
{
    for (const QByteArray &content : {QByteArray(), QByteArray("label,x,y\nidle,1,2\n").repeated(500)}) {
        const QString path = file(QStringLiteral("text%1.tinyml").arg(content.size()));
        QFile f(path);
        ASSERT_TRUE(f.open(QIODevice::WriteOnly));
        f.write(content);
        f.close();
        QString error;
        EXPECT_FALSE(ProjectStore::open(path, &error));
        EXPECT_TRUE(error.contains(path)) << error.toStdString();
        EXPECT_TRUE(error.contains("file is not a database")) << error.toStdString();
        ASSERT_TRUE(f.open(QIODevice::ReadOnly));
        EXPECT_EQ(f.readAll(), content); // untouched
    }
}

TEST_F(ProjectStoreTest, ForeignSqliteFileIsNotATinyMlProjectAndStaysUntouched)
{
    const QString path = file("other.db");
    {
        RawDb raw(path);
        raw.exec("CREATE TABLE contacts (name TEXT)");
        raw.exec("INSERT INTO contacts VALUES ('ada')");
    }
    QString error;
    EXPECT_FALSE(ProjectStore::open(path, &error));
    EXPECT_TRUE(error.contains(path)) << error.toStdString();
    EXPECT_TRUE(error.contains("not a TinyML project")) << error.toStdString();

    // Still a rollback-journal database (header bytes 18/19 are 1, WAL would be 2).
    QFile f(path);
    ASSERT_TRUE(f.open(QIODevice::ReadOnly));
    const QByteArray header = f.read(20);
    EXPECT_EQ(int(header[18]), 1);
    EXPECT_EQ(int(header[19]), 1);
    RawDb raw(path);
    EXPECT_EQ(raw.value("PRAGMA user_version").toInt(), 0);
    EXPECT_EQ(raw.value("SELECT COUNT(*) FROM sqlite_master").toInt(), 1);
}

TEST_F(ProjectStoreTest, NewerSchemaIsRefusedAndLeftAlone)
{
    const QString path = file("future.tinyml");
    {
        QString error;
        ASSERT_TRUE(ProjectStore::create(path, {}, &error)) << error.toStdString();
    }
    {
        RawDb raw(path);
        raw.exec(QStringLiteral("PRAGMA user_version = %1").arg(ProjectStore::kSchemaVersion + 1));
    }
    QString error;
    EXPECT_FALSE(ProjectStore::open(path, &error));
    EXPECT_TRUE(error.contains(path)) << error.toStdString();
    EXPECT_TRUE(error.contains("newer")) << error.toStdString();
    EXPECT_TRUE(error.contains(QStringLiteral("v%1").arg(ProjectStore::kSchemaVersion + 1))) << error.toStdString();
    RawDb raw(path);
    EXPECT_EQ(raw.value("PRAGMA user_version").toInt(), ProjectStore::kSchemaVersion + 1);
}

TEST_F(ProjectStoreTest, V0FileIsMigratedToTheCurrentSchema)
{
    // What create() leaves if it is cut short after stamping the file: our id, nothing else.
    const QString path = file("v0.tinyml");
    {
        RawDb raw(path);
        raw.exec(QStringLiteral("PRAGMA application_id = %1").arg(kTinyMlApplicationId));
        EXPECT_EQ(raw.value("PRAGMA user_version").toInt(), 0);
    }
    QString error;
    {
        auto store = ProjectStore::open(path, &error);
        ASSERT_TRUE(store) << error.toStdString();
        EXPECT_EQ(store->schemaVersion(), ProjectStore::kSchemaVersion);
        EXPECT_TRUE(store->sampleInfos().isEmpty());
        Sample s = floatSample("idle", Split::Train, {1, 2, 3}, 3);
        ASSERT_TRUE(store->addSample(s, &error)) << error.toStdString();
    }
    RawDb raw(path);
    EXPECT_EQ(raw.value("PRAGMA user_version").toInt(), ProjectStore::kSchemaVersion);
    EXPECT_EQ(raw.value("PRAGMA journal_mode").toString(), "wal");
    EXPECT_EQ(raw.value("SELECT COUNT(*) FROM samples").toInt(), 1);
}

TEST_F(ProjectStoreTest, CorruptFileIsRefusedWithTheFileName)
{
    const QString path = file("corrupt.tinyml");
    {
        auto store = newProject("corrupt.tinyml");
        QVector<Sample> batch;
        QRandomGenerator rng(7);
        for (int i = 0; i < 400; ++i) {
            QVector<float> v(600);
            for (float &x : v)
                x = float(rng.generateDouble());
            batch.append(floatSample(i % 2 ? "idle" : "wave", Split::Train, v, 3));
        }
        QString error;
        ASSERT_TRUE(store->addSamples(batch, &error)) << error.toStdString();
    } // closing the last connection checkpoints the WAL into the file

    QFile f(path);
    ASSERT_TRUE(f.open(QIODevice::ReadWrite));
    const qint64 size = f.size();
    ASSERT_GT(size, 512 * 1024); // the samples must really be in the main file
    QByteArray garbage(16 * 1024, Qt::Uninitialized);
    QRandomGenerator rng(99);
    for (char &c : garbage)
        c = char(rng.bounded(256));
    ASSERT_TRUE(f.seek(size / 2));
    ASSERT_EQ(f.write(garbage), garbage.size());
    f.close();

    QString error;
    EXPECT_FALSE(ProjectStore::open(path, &error));
    EXPECT_TRUE(error.contains(path)) << error.toStdString();
    EXPECT_TRUE(error.contains("corrupt")) << error.toStdString();
}

// --- streaming ----------------------------------------------------------------------------

Tensor chunkOf(int k, qint64 frames, qint64 channels)
{
    QVector<float> v(frames * channels);
    for (int e = 0; e < v.size(); ++e)
        v[e] = float(k * 1000 + e);
    return Tensor::fromFloats(v, {frames, channels});
}

TEST_F(ProjectStoreTest, StreamingAppendIsVisibleToInterleavedReads)
{
    const QString path = file("stream.tinyml");
    auto writer = newProject("stream.tinyml");
    QString error;
    auto reader = ProjectStore::open(path, &error); // a second connection, as a UI thread would
    ASSERT_TRUE(reader) << error.toStdString();

    Sample meta;
    meta.label = QStringLiteral("wave");
    meta.sensor = QStringLiteral("accel");
    meta.channels = {"x", "y", "z"};
    meta.sampleRateHz = 100;
    meta.data.shape = {0, 3};
    const auto id = writer->beginSample(meta, &error);
    ASSERT_TRUE(id) << error.toStdString();

    QByteArray expected;
    for (int k = 0; k < 10; ++k) {
        const Tensor chunk = chunkOf(k, 7, 3);
        ASSERT_TRUE(writer->appendFrames(*id, chunk, &error)) << error.toStdString();
        expected.append(chunk.bytes);
        for (ProjectStore *store : {writer.get(), reader.get()}) {
            auto s = store->sample(*id, &error);
            ASSERT_TRUE(s) << error.toStdString();
            EXPECT_FALSE(s->complete);
            EXPECT_EQ(s->frames(), 7 * (k + 1));
            EXPECT_EQ(s->data.shape, (QVector<qint64>{7 * (k + 1), 3}));
            EXPECT_EQ(s->data.bytes, expected);
        }
        EXPECT_EQ(reader->sampleInfos().first().frames, 7 * (k + 1));
    }

    // A chunk that does not fit the sample is refused and changes nothing.
    EXPECT_FALSE(writer->appendFrames(*id, chunkOf(0, 5, 2), &error));
    Tensor ints;
    ints.dtype = DType::Int16;
    ints.shape = {1, 3};
    ints.bytes = QByteArray(6, '\0');
    EXPECT_FALSE(writer->appendFrames(*id, ints, &error));
    EXPECT_EQ(reader->sample(*id)->frames(), 70);

    ASSERT_TRUE(writer->finishSample(*id, true, &error)) << error.toStdString();
    auto done = reader->sample(*id, &error);
    ASSERT_TRUE(done) << error.toStdString();
    EXPECT_TRUE(done->complete);
    EXPECT_EQ(done->data.bytes, expected);
    EXPECT_EQ(done->checksum, sha256(expected));
    EXPECT_EQ(reader->sampleInfos().first().checksum, sha256(expected));
    EXPECT_FALSE(writer->appendFrames(*id, chunkOf(10, 7, 3), &error));
    EXPECT_FALSE(writer->finishSample(*id, true, &error));

    RawDb raw(path);
    EXPECT_EQ(raw.value("SELECT COUNT(*) FROM sample_chunks").toInt(), 0);
}

TEST_F(ProjectStoreTest, UnfinishedSampleKeepsItsFramesAcrossReopen)
{
    const QString path = file("unfinished.tinyml");
    qint64 id = 0;
    QByteArray expected;
    QString error;
    {
        auto store = newProject("unfinished.tinyml");
        Sample meta;
        meta.label = QStringLiteral("idle");
        meta.data.dtype = DType::Float32;
        meta.data.shape = {0, 2};
        auto begun = store->beginSample(meta, &error);
        ASSERT_TRUE(begun) << error.toStdString();
        id = *begun;
        for (int k = 0; k < 3; ++k) {
            const Tensor chunk = chunkOf(k, 4, 2);
            ASSERT_TRUE(store->appendFrames(id, chunk, &error)) << error.toStdString();
            expected.append(chunk.bytes);
        }
    } // the writer goes away without finishSample()
    {
        // Until a writable open, the file keeps the half-saved sample.
        RawDb raw(path);
        EXPECT_EQ(raw.value(QStringLiteral("SELECT streaming FROM samples WHERE id = %1").arg(id)).toInt(), 1);
    }

    // Nobody writes it any more: open() finishes it as incomplete, keeping every frame.
    auto store = ProjectStore::open(path, &error);
    ASSERT_TRUE(store) << error.toStdString();
    auto s = store->sample(id, &error);
    ASSERT_TRUE(s) << error.toStdString();
    EXPECT_FALSE(s->complete);
    EXPECT_EQ(s->frames(), 12);
    EXPECT_EQ(s->data.bytes, expected);
    EXPECT_EQ(s->checksum, sha256(expected));
    EXPECT_EQ(store->sampleInfos().first().checksum, sha256(expected));
    {
        RawDb raw(path);
        EXPECT_EQ(raw.value(QStringLiteral("SELECT streaming FROM samples WHERE id = %1").arg(id)).toInt(), 0);
        EXPECT_EQ(raw.value(QStringLiteral("SELECT complete FROM samples WHERE id = %1").arg(id)).toInt(), 0);
        EXPECT_EQ(raw.value(QStringLiteral("SELECT COUNT(*) FROM sample_chunks")).toInt(), 0);
    }
    // Finished: nobody appends to it any more.
    EXPECT_FALSE(store->appendFrames(id, chunkOf(3, 1, 2), &error));
    EXPECT_FALSE(store->finishSample(id, false, &error));
    EXPECT_FALSE(QFile::exists(path + QStringLiteral(".sample-%1.lock").arg(id)));
}

TEST_F(ProjectStoreTest, OpenLeavesASampleOfALiveWriterStreaming)
{
    const QString path = file("live.tinyml");
    auto writer = newProject("live.tinyml");
    QString error;
    Sample meta;
    meta.label = QStringLiteral("wave");
    meta.data.shape = {0, 2};
    const auto id = writer->beginSample(meta, &error);
    ASSERT_TRUE(id) << error.toStdString();
    ASSERT_TRUE(writer->appendFrames(*id, chunkOf(0, 4, 2), &error)) << error.toStdString();
    EXPECT_TRUE(QFile::exists(path + QStringLiteral(".sample-%1.lock").arg(*id)));

    // A second store (another thread, or `tinyml info` while the GUI captures) opens the file.
    auto other = ProjectStore::open(path, &error);
    ASSERT_TRUE(other) << error.toStdString();
    other.reset();
    ASSERT_TRUE(writer->appendFrames(*id, chunkOf(1, 4, 2), &error)) << error.toStdString();
    ASSERT_TRUE(writer->finishSample(*id, true, &error)) << error.toStdString();
    auto s = writer->sample(*id, &error);
    ASSERT_TRUE(s) << error.toStdString();
    EXPECT_TRUE(s->complete);
    EXPECT_EQ(s->frames(), 8);
    EXPECT_FALSE(QFile::exists(path + QStringLiteral(".sample-%1.lock").arg(*id)));
}

TEST_F(ProjectStoreTest, RunningTrainingRunIsInterruptedAtOpenOnceItsTrainerIsGone)
{
    const QString path = file("runs.tinyml");
    QString error;
    qint64 runningId = 0, finishedId = 0;
    auto trainer = newProject("runs.tinyml");
    {
        TrainingRun done;
        done.status = TrainingStatus::Running;
        ASSERT_TRUE(trainer->addTrainingRun(done, &error)) << error.toStdString();
        ASSERT_TRUE(trainer->updateTrainingRun(done.id, {}, TrainingStatus::Finished, &error));
        finishedId = done.id;
        TrainingRun run;
        run.status = TrainingStatus::Running;
        ASSERT_TRUE(trainer->addTrainingRun(run, &error)) << error.toStdString();
        runningId = run.id;
    }
    // The trainer still runs: another open leaves its run alone.
    {
        auto other = ProjectStore::open(path, &error);
        ASSERT_TRUE(other) << error.toStdString();
        EXPECT_EQ(other->trainingRun(runningId)->status, TrainingStatus::Running);
    }
    trainer.reset(); // dies without updating the run (kill -9 leaves it the same way)

    auto store = ProjectStore::open(path, &error);
    ASSERT_TRUE(store) << error.toStdString();
    EXPECT_EQ(store->trainingRun(runningId)->status, TrainingStatus::Interrupted);
    EXPECT_EQ(store->trainingRun(finishedId)->status, TrainingStatus::Finished);
    EXPECT_EQ(trainingStatusName(TrainingStatus::Interrupted), QStringLiteral("interrupted"));
    EXPECT_EQ(trainingStatusFromName(QStringLiteral("interrupted")), TrainingStatus::Interrupted);
}

TEST_F(ProjectStoreTest, ReadOnlyOpenReadsButRepairsNothing)
{
    const QString path = file("ro.tinyml");
    QString error;
    qint64 sampleId = 0, runId = 0;
    {
        auto store = newProject("ro.tinyml");
        Sample meta;
        meta.label = QStringLiteral("idle");
        meta.data.shape = {0, 2};
        auto id = store->beginSample(meta, &error);
        ASSERT_TRUE(id) << error.toStdString();
        sampleId = *id;
        ASSERT_TRUE(store->appendFrames(sampleId, chunkOf(0, 3, 2), &error));
        TrainingRun run;
        run.status = TrainingStatus::Running;
        ASSERT_TRUE(store->addTrainingRun(run, &error)) << error.toStdString();
        runId = run.id;
    }
    {
        auto ro = ProjectStore::openReadOnly(path, &error);
        ASSERT_TRUE(ro) << error.toStdString();
        EXPECT_TRUE(ro->isReadOnly());
        auto s = ro->sample(sampleId, &error);
        ASSERT_TRUE(s) << error.toStdString();
        EXPECT_EQ(s->frames(), 3);
        EXPECT_FALSE(s->complete);
        EXPECT_EQ(ro->trainingRun(runId)->status, TrainingStatus::Running);
        ProjectSettings settings = ro->settings();
        settings.name = QStringLiteral("changed");
        EXPECT_FALSE(ro->setSettings(settings, &error));
    }
    {
        RawDb raw(path);
        EXPECT_EQ(raw.value(QStringLiteral("SELECT streaming FROM samples WHERE id = %1").arg(sampleId)).toInt(), 1);
        EXPECT_EQ(raw.value(QStringLiteral("SELECT status FROM training_runs WHERE id = %1").arg(runId)).toString(),
                  QStringLiteral("running"));
    }
    // The first writable open repairs both.
    auto store = ProjectStore::open(path, &error);
    ASSERT_TRUE(store) << error.toStdString();
    EXPECT_FALSE(store->isReadOnly());
    EXPECT_EQ(store->trainingRun(runId)->status, TrainingStatus::Interrupted);
    RawDb raw(path);
    EXPECT_EQ(raw.value(QStringLiteral("SELECT streaming FROM samples WHERE id = %1").arg(sampleId)).toInt(), 0);
}

TEST_F(ProjectStoreTest, WriterKilledMidCaptureLosesAtMostTheChunkInFlight)
{
    const QString path = file("crash.tinyml");
    newProject("crash.tinyml").reset();

    QProcess child;
    child.setProcessChannelMode(QProcess::SeparateChannels);
    child.start(QStringLiteral(TINYML_STORE_WRITER_CHILD), {path});
    ASSERT_TRUE(child.waitForStarted(10000)) << child.errorString().toStdString();

    constexpr long long kWanted = 200;
    long long reported = 0;
    QByteArray pending;
    auto consume = [&] {
        pending.append(child.readAllStandardOutput());
        qsizetype nl;
        while ((nl = pending.indexOf('\n')) >= 0) {
            reported = pending.left(nl).trimmed().toLongLong();
            pending.remove(0, nl + 1);
        }
    };
    QElapsedTimer clock;
    clock.start();
    while (reported < kWanted && clock.elapsed() < 60000
           && child.state() == QProcess::Running) {
        child.waitForReadyRead(1000);
        consume();
    }
    ASSERT_GE(reported, kWanted) << child.readAllStandardError().toStdString();
    child.kill(); // SIGKILL: no destructor, no checkpoint, WAL left behind
    ASSERT_TRUE(child.waitForFinished(10000));
    EXPECT_EQ(child.exitStatus(), QProcess::CrashExit);
    consume();

    QString error;
    auto store = ProjectStore::open(path, &error); // runs the integrity check
    ASSERT_TRUE(store) << error.toStdString();
    const auto infos = store->sampleInfos();
    ASSERT_EQ(infos.size(), 1);
    EXPECT_FALSE(infos[0].complete);
    auto s = store->sample(infos[0].id, &error);
    ASSERT_TRUE(s) << error.toStdString();
    EXPECT_FALSE(s->complete);
    ASSERT_EQ(s->frames() % 100, 0);
    const long long chunks = s->frames() / 100;
    EXPECT_GE(chunks, reported);
    EXPECT_LE(chunks, reported + 1);
    EXPECT_EQ(infos[0].frames, s->frames());
    // The killed writer's sample was finished by that open, and its stale lock removed.
    EXPECT_FALSE(infos[0].checksum.isEmpty());
    EXPECT_FALSE(QFile::exists(path + QStringLiteral(".sample-%1.lock").arg(infos[0].id)));
    {
        RawDb raw(path);
        EXPECT_EQ(raw.value(QStringLiteral("SELECT streaming FROM samples")).toInt(), 0);
    }

    const QVector<float> values = s->data.toFloats();
    ASSERT_EQ(values.size(), chunks * 300);
    long long wrong = 0;
    for (long long k = 0; k < chunks; ++k)
        for (int e = 0; e < 300; ++e)
            wrong += values[k * 300 + e] != float(k * 1000 + e);
    EXPECT_EQ(wrong, 0);
}

} // namespace

TEST_F(ProjectStoreTest, CountsKeepIncompleteAndStreamingSamplesApart)
{
    // Issue 18 item 7: a sample cut off or still streaming is not a normal train/test sample.
    auto store = newProject();
    QVector<Sample> s{floatSample("idle", Split::Train, {1, 2}, 2), floatSample("idle", Split::Test, {3, 4}, 2),
                      floatSample("wave", Split::Train, {5, 6}, 2)};
    s[2].complete = false;
    QString error;
    ASSERT_TRUE(store->addSamples(s, &error)) << error.toStdString();
    Sample meta;
    meta.label = QStringLiteral("idle");
    meta.data.shape = {0, 2};
    ASSERT_TRUE(store->beginSample(meta, &error)) << error.toStdString();

    const DatasetCounts c = store->counts();
    EXPECT_EQ(c.train, 1);
    EXPECT_EQ(c.test, 1);
    EXPECT_EQ(c.total(), 2);
    EXPECT_EQ(c.incomplete, 2);
    ASSERT_EQ(c.perLabel.size(), 2);
    EXPECT_EQ(c.perLabel[0].label, "idle");
    EXPECT_EQ(c.perLabel[0].train, 1);
    EXPECT_EQ(c.perLabel[0].incomplete, 1);
    EXPECT_EQ(c.perLabel[1].label, "wave");
    EXPECT_EQ(c.perLabel[1].train, 0);
    EXPECT_EQ(c.perLabel[1].incomplete, 1);
}
