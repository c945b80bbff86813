#include <gtest/gtest.h>

#include "store/ProjectStore.h"

#include <QCoreApplication>
#include <QJsonArray>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QUuid>

using namespace tinyml;

namespace {

std::string str(const QString &s) { return s.toStdString(); }

// The schema exactly as the v1 build created it (core/store/ProjectStore.cpp, kV0ToV1 at
// schema v1). Frozen here: the migration must keep working on files written by that build.
const char *const kV1Schema[] = {
    "CREATE TABLE settings (key TEXT PRIMARY KEY, value)",
    "CREATE TABLE sensors (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, sample_rate_hz REAL NOT NULL DEFAULT 0)",
    "CREATE TABLE channels (sensor_id INTEGER NOT NULL REFERENCES sensors(id) ON DELETE CASCADE, idx INTEGER NOT NULL,"
    " name TEXT NOT NULL, unit TEXT NOT NULL DEFAULT '', PRIMARY KEY (sensor_id, idx))",
    "CREATE TABLE samples (id INTEGER PRIMARY KEY, label TEXT NOT NULL,"
    " split TEXT NOT NULL CHECK (split IN ('train', 'test')), source TEXT NOT NULL DEFAULT '',"
    " device TEXT NOT NULL DEFAULT '', sensor TEXT NOT NULL DEFAULT '', created_utc TEXT NOT NULL,"
    " sample_rate_hz REAL NOT NULL DEFAULT 0, frames INTEGER NOT NULL DEFAULT 0, channels TEXT NOT NULL DEFAULT '[]',"
    " units TEXT NOT NULL DEFAULT '[]', dtype INTEGER NOT NULL, shape TEXT NOT NULL, complete INTEGER NOT NULL DEFAULT 1,"
    " streaming INTEGER NOT NULL DEFAULT 0, checksum TEXT NOT NULL DEFAULT '', data BLOB NOT NULL DEFAULT x'')",
    "CREATE INDEX samples_label_split ON samples(label, split)",
    "CREATE TABLE sample_chunks (sample_id INTEGER NOT NULL REFERENCES samples(id) ON DELETE CASCADE,"
    " seq INTEGER NOT NULL, frames INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (sample_id, seq))",
    "CREATE TABLE features (id INTEGER PRIMARY KEY, sample_id INTEGER REFERENCES samples(id) ON DELETE CASCADE,"
    " created_utc TEXT NOT NULL)",
    "CREATE TABLE training_runs (id INTEGER PRIMARY KEY, created_utc TEXT NOT NULL, config TEXT NOT NULL DEFAULT '{}')",
    "CREATE TABLE models (id INTEGER PRIMARY KEY, training_run_id INTEGER REFERENCES training_runs(id) ON DELETE SET NULL,"
    " created_utc TEXT NOT NULL)",
    "CREATE TABLE deployments (id INTEGER PRIMARY KEY, model_id INTEGER REFERENCES models(id) ON DELETE SET NULL,"
    " board_id TEXT NOT NULL DEFAULT '', created_utc TEXT NOT NULL)",
    "CREATE TABLE profiles (id INTEGER PRIMARY KEY, deployment_id INTEGER REFERENCES deployments(id) ON DELETE SET NULL,"
    " board_id TEXT NOT NULL DEFAULT '', created_utc TEXT NOT NULL)",
};

class StoreV2Test : public ::testing::Test
{
protected:
    static void SetUpTestSuite()
    {
        if (!QCoreApplication::instance()) {
            static int argc = 1;
            static char arg0[] = "test_core_store_v2";
            static char *argv[] = {arg0, nullptr};
            new QCoreApplication(argc, argv);
        }
    }
    void SetUp() override { ASSERT_TRUE(dir.isValid()); }
    QString file(const QString &name) const { return dir.filePath(name); }

    std::unique_ptr<ProjectStore> newStore(const QString &name)
    {
        QString error;
        auto s = ProjectStore::create(file(name), ProjectSettings{}, &error);
        EXPECT_TRUE(s) << str(error);
        return s;
    }

    QTemporaryDir dir;
};

TEST_F(StoreV2Test, V1FileMigratesToV2KeepingItsSamples)
{
    const QString path = file("v1.tinyml");
    const QByteArray data("\x00\x00\x80\x3f\x00\x00\x00\x40", 8);  // floats 1, 2
    {
        const QString name = QUuid::createUuid().toString();
        {
            QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
            db.setDatabaseName(path);
            ASSERT_TRUE(db.open());
            QSqlQuery q(db);
            ASSERT_TRUE(q.exec("PRAGMA journal_mode=WAL"));
            ASSERT_TRUE(q.exec(QStringLiteral("PRAGMA application_id = %1").arg(0x544D4C57)));  // "TMLW"
            for (const char *sql : kV1Schema)
                ASSERT_TRUE(q.exec(QString::fromUtf8(sql))) << sql << " " << str(q.lastError().text());
            ASSERT_TRUE(q.exec("INSERT INTO settings(key, value) VALUES ('name', 'old project')"));
            ASSERT_TRUE(q.exec("INSERT INTO settings(key, value) VALUES ('labels', '[\"up\",\"down\"]')"));
            QSqlQuery ins(db);
            ins.prepare("INSERT INTO samples(label, split, created_utc, sample_rate_hz, frames, channels, dtype, shape,"
                        " checksum, data) VALUES ('up', 'train', '2026-01-02T03:04:05.000Z', 50, 2, '[\"x\"]', 0,"
                        " '[2,1]', ?, ?)");
            ins.addBindValue(sha256Hex(data));
            ins.addBindValue(data);
            ASSERT_TRUE(ins.exec()) << str(ins.lastError().text());
            ASSERT_TRUE(q.exec("INSERT INTO training_runs(created_utc, config) VALUES ('2026-01-02T00:00:00.000Z', '{\"epochs\":3}')"));
            ASSERT_TRUE(q.exec("PRAGMA user_version = 1"));
            db.close();
        }
        QSqlDatabase::removeDatabase(name);
    }

    QString error;
    auto store = ProjectStore::open(path, &error);
    ASSERT_TRUE(store) << str(error);
    EXPECT_EQ(store->schemaVersion(), ProjectStore::kSchemaVersion);  // v1 -> v2 -> ... -> latest
    EXPECT_EQ(store->settings().name, "old project");
    EXPECT_EQ(store->settings().labels, (QStringList{"up", "down"}));
    const auto infos = store->sampleInfos();
    ASSERT_EQ(infos.size(), 1);
    const auto s = store->sample(infos[0].id, &error);
    ASSERT_TRUE(s) << str(error);
    EXPECT_EQ(s->label, "up");
    EXPECT_EQ(s->data.bytes, data);
    EXPECT_EQ(s->data.toFloats(), (QVector<float>{1, 2}));
    EXPECT_EQ(s->checksum, sha256Hex(data));

    // The v1 training run gets the new columns' defaults.
    const auto runs = store->trainingRuns();
    ASSERT_EQ(runs.size(), 1);
    EXPECT_EQ(runs[0].config.value("epochs").toInt(), 3);
    EXPECT_EQ(runs[0].status, TrainingStatus::Created);
    EXPECT_TRUE(runs[0].metrics.isEmpty());

    // And the new tables work on the migrated file.
    CachedFeature f;
    f.sampleId = infos[0].id;
    f.paramsHash = "h";
    f.sampleChecksum = s->checksum;
    f.data = Tensor::fromFloats({0.5f}, {1, 1});
    ASSERT_TRUE(store->storeFeatures({f}, &error)) << str(error);
    EXPECT_EQ(store->cachedFeatures("h").value(infos[0].id).data.toFloats(), (QVector<float>{0.5f}));
    StoredModel m;
    m.graph = "g";
    ASSERT_TRUE(store->addModel(m, &error)) << str(error);
    store.reset();

    store = ProjectStore::open(path, &error);  // reopening does not migrate again
    ASSERT_TRUE(store) << str(error);
    EXPECT_EQ(store->schemaVersion(), ProjectStore::kSchemaVersion);
    EXPECT_EQ(store->models().size(), 1);
}

TEST_F(StoreV2Test, FeatureCacheIsKeyedBySampleAndParams)
{
    auto store = newStore("features.tinyml");
    Sample s;
    s.label = "a";
    s.data = Tensor::fromFloats({1, 2, 3}, {3, 1});
    QString error;
    ASSERT_TRUE(store->addSample(s, &error)) << str(error);

    CachedFeature f;
    f.sampleId = s.id;
    f.paramsHash = "p1";
    f.sampleChecksum = s.checksum;
    f.data = Tensor::fromFloats({1, 2}, {1, 2});
    CachedFeature g = f;
    g.paramsHash = "p2";
    g.data = Tensor::fromFloats({7}, {1, 1});
    ASSERT_TRUE(store->storeFeatures({f, g}, &error)) << str(error);
    EXPECT_EQ(store->cachedFeatureCount(), 2);

    // Same key again replaces the row.
    f.data = Tensor::fromFloats({5, 6}, {1, 2});
    ASSERT_TRUE(store->storeFeatures({f}, &error)) << str(error);
    EXPECT_EQ(store->cachedFeatureCount(), 2);
    const auto p1 = store->cachedFeatures("p1");
    ASSERT_EQ(p1.size(), 1);
    EXPECT_EQ(p1.value(s.id).data.toFloats(), (QVector<float>{5, 6}));
    EXPECT_EQ(p1.value(s.id).data.shape, (QVector<qint64>{1, 2}));
    EXPECT_EQ(p1.value(s.id).sampleChecksum, s.checksum);

    ASSERT_TRUE(store->removeFeaturesExcept("p2", &error)) << str(error);
    EXPECT_TRUE(store->cachedFeatures("p1").isEmpty());
    EXPECT_EQ(store->cachedFeatures("p2").size(), 1);

    CachedFeature bad = f;
    bad.data.bytes.chop(1);
    EXPECT_FALSE(store->storeFeatures({bad}, &error));
    EXPECT_TRUE(error.contains("shape")) << str(error);

    // Rows of an unknown sample violate the foreign key.
    CachedFeature orphan = f;
    orphan.sampleId = 999;
    EXPECT_FALSE(store->storeFeatures({orphan}, &error));
}

TEST_F(StoreV2Test, TrainingRunsAndModels)
{
    auto store = newStore("runs.tinyml");
    QString error;
    TrainingRun run;
    run.config = QJsonObject{{"model", "dscnn"}, {"epochs", 30}};
    run.status = TrainingStatus::Running;
    const auto runId = store->addTrainingRun(run, &error);
    ASSERT_TRUE(runId) << str(error);
    EXPECT_EQ(run.id, *runId);
    EXPECT_TRUE(run.created.isValid());

    const QJsonObject metrics{{"accuracy", 0.93}, {"loss", QJsonArray{1.2, 0.7, 0.4}}};
    ASSERT_TRUE(store->updateTrainingRun(*runId, metrics, TrainingStatus::Finished, &error)) << str(error);
    EXPECT_FALSE(store->updateTrainingRun(*runId + 5, metrics, TrainingStatus::Failed, &error));
    EXPECT_TRUE(error.contains("no training run")) << str(error);
    const auto back = store->trainingRun(*runId, &error);
    ASSERT_TRUE(back) << str(error);
    EXPECT_EQ(back->config, run.config);
    EXPECT_EQ(back->metrics, metrics);
    EXPECT_EQ(back->status, TrainingStatus::Finished);
    EXPECT_EQ(back->created.toMSecsSinceEpoch(), run.created.toMSecsSinceEpoch());

    EXPECT_FALSE(store->latestModel(ModelKind::Float, &error));
    StoredModel fm;
    fm.trainingRunId = *runId;
    fm.kind = ModelKind::Float;
    fm.name = "dscnn";
    fm.graph = QByteArray("TMGR\x01\x00\x00\x00", 8);
    ASSERT_TRUE(store->addModel(fm, &error)) << str(error);
    StoredModel q1 = fm;
    q1.kind = ModelKind::Int8;
    q1.graph = "int8-a";
    ASSERT_TRUE(store->addModel(q1, &error)) << str(error);
    StoredModel q2 = q1;
    q2.graph = "int8-b";
    q2.trainingRunId = 0;
    ASSERT_TRUE(store->addModel(q2, &error)) << str(error);

    auto latest = store->latestModel(ModelKind::Int8, &error);
    ASSERT_TRUE(latest) << str(error);
    EXPECT_EQ(latest->id, q2.id);
    EXPECT_EQ(latest->graph, "int8-b");
    EXPECT_EQ(latest->trainingRunId, 0);
    latest = store->latestModel(ModelKind::Float, &error);
    ASSERT_TRUE(latest) << str(error);
    EXPECT_EQ(latest->graph, fm.graph);
    EXPECT_EQ(latest->name, "dscnn");
    EXPECT_EQ(latest->trainingRunId, *runId);

    ASSERT_TRUE(store->updateModelMetrics(q1.id, QJsonObject{{"sqnr_db", 31.5}}, &error)) << str(error);
    const auto m = store->model(q1.id, &error);
    ASSERT_TRUE(m) << str(error);
    EXPECT_EQ(m->metrics.value("sqnr_db").toDouble(), 31.5);
    EXPECT_EQ(m->kind, ModelKind::Int8);

    const auto list = store->models();
    ASSERT_EQ(list.size(), 3);
    EXPECT_TRUE(list[0].graph.isEmpty());  // listing leaves the blobs out
    EXPECT_EQ(list[2].id, q2.id);

    ASSERT_TRUE(store->removeModel(q2.id, &error)) << str(error);
    EXPECT_EQ(store->latestModel(ModelKind::Int8)->id, q1.id);
    EXPECT_FALSE(store->model(q2.id, &error));
    EXPECT_EQ(store->trainingRuns().size(), 1);

    EXPECT_EQ(trainingStatusFromName(trainingStatusName(TrainingStatus::Cancelled)), TrainingStatus::Cancelled);
    EXPECT_EQ(modelKindFromName("int8"), ModelKind::Int8);
    EXPECT_FALSE(modelKindFromName("fp16"));
}

} // namespace
