// Schema v3: profiles with their model and JSON result, and the v2 -> v3 migration.
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

// The profiles and models tables exactly as a v2 build left them. Frozen here: the v2 -> v3
// step must keep working on files written by that build.
const char *const kV2Schema[] = {
    "CREATE TABLE settings (key TEXT PRIMARY KEY, value)",
    "CREATE TABLE training_runs (id INTEGER PRIMARY KEY, created_utc TEXT NOT NULL, config TEXT NOT NULL DEFAULT '{}',"
    " metrics TEXT NOT NULL DEFAULT '{}', status TEXT NOT NULL DEFAULT 'created')",
    "CREATE TABLE models (id INTEGER PRIMARY KEY, training_run_id INTEGER REFERENCES training_runs(id) ON DELETE SET NULL,"
    " created_utc TEXT NOT NULL, kind TEXT NOT NULL DEFAULT 'float', name TEXT NOT NULL DEFAULT '',"
    " metrics TEXT NOT NULL DEFAULT '{}', graph BLOB NOT NULL DEFAULT x'')",
    "CREATE TABLE deployments (id INTEGER PRIMARY KEY, model_id INTEGER REFERENCES models(id) ON DELETE SET NULL,"
    " board_id TEXT NOT NULL DEFAULT '', created_utc TEXT NOT NULL)",
    "CREATE TABLE profiles (id INTEGER PRIMARY KEY, deployment_id INTEGER REFERENCES deployments(id) ON DELETE SET NULL,"
    " board_id TEXT NOT NULL DEFAULT '', created_utc TEXT NOT NULL)",
};

class StoreProfilesTest : public ::testing::Test
{
protected:
    static void SetUpTestSuite()
    {
        if (!QCoreApplication::instance()) {
            static int argc = 1;
            static char arg0[] = "test_core_store_profiles";
            static char *argv[] = {arg0, nullptr};
            new QCoreApplication(argc, argv);
        }
    }
    void SetUp() override { ASSERT_TRUE(dir.isValid()); }
    QString file(const QString &name) const { return dir.filePath(name); }

    QTemporaryDir dir;
};

QJsonObject profileJson(double medianMs)
{
    return QJsonObject{{"board", "qemu-m4"},
                       {"counter", "instructions"},
                       {"latency_ms", QJsonObject{{"min", 1.0}, {"median", medianMs}, {"max", 3.0}}},
                       {"layers", QJsonArray{QJsonObject{{"name", "fc1"}, {"counter", 1234.0}}}}};
}

} // namespace

TEST_F(StoreProfilesTest, AddListReadAndRemove)
{
    QString error;
    auto store = ProjectStore::create(file("p.tinyml"), ProjectSettings{}, &error);
    ASSERT_TRUE(store) << str(error);
    StoredModel a, b;
    a.kind = b.kind = ModelKind::Int8;
    a.graph = b.graph = "g";
    ASSERT_TRUE(store->addModel(a, &error)) << str(error);
    ASSERT_TRUE(store->addModel(b, &error)) << str(error);

    StoredProfile p1{0, a.id, "qemu-m4", {}, profileJson(2.0)};
    StoredProfile p2{0, b.id, "qemu-m7", {}, profileJson(1.5)};
    StoredProfile p3{0, a.id, "host", {}, profileJson(0.1)};
    for (StoredProfile *p : {&p1, &p2, &p3})
        ASSERT_TRUE(store->addProfile(*p, &error)) << str(error);
    EXPECT_TRUE(p1.id > 0 && p2.id > p1.id && p3.id > p2.id);
    EXPECT_TRUE(p1.created.isValid());

    const auto all = store->profiles();
    ASSERT_EQ(all.size(), 3);
    EXPECT_EQ(all[1].boardId, "qemu-m7");
    const auto ofA = store->profiles(a.id);
    ASSERT_EQ(ofA.size(), 2);
    EXPECT_EQ(ofA[0].id, p1.id);
    EXPECT_EQ(ofA[1].id, p3.id);

    const auto read = store->profile(p2.id, &error);
    ASSERT_TRUE(read) << str(error);
    EXPECT_EQ(read->modelId, b.id);
    EXPECT_EQ(read->json, profileJson(1.5));
    EXPECT_EQ(read->created.toString(Qt::ISODateWithMs), p2.created.toString(Qt::ISODateWithMs));

    ASSERT_TRUE(store->removeProfile(p2.id, &error)) << str(error);
    EXPECT_FALSE(store->profile(p2.id, &error));
    EXPECT_TRUE(error.contains(QString::number(p2.id))) << str(error);
    EXPECT_FALSE(store->removeProfile(p2.id, &error));
    EXPECT_EQ(store->profiles().size(), 2);

    // A profile outlives its model: the measurement stays, the link goes.
    ASSERT_TRUE(store->removeModel(a.id, &error)) << str(error);
    store.reset();
    store = ProjectStore::open(file("p.tinyml"), &error);
    ASSERT_TRUE(store) << str(error);
    const auto after = store->profiles();
    ASSERT_EQ(after.size(), 2);
    EXPECT_EQ(after[0].json, profileJson(2.0));
    EXPECT_EQ(store->profiles(a.id).size(), 0);
}

TEST_F(StoreProfilesTest, V2FileMigratesToV3)
{
    const QString path = file("v2.tinyml");
    {
        const QString name = QUuid::createUuid().toString();
        {
            QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
            db.setDatabaseName(path);
            ASSERT_TRUE(db.open());
            QSqlQuery q(db);
            ASSERT_TRUE(q.exec("PRAGMA journal_mode=WAL"));
            ASSERT_TRUE(q.exec(QStringLiteral("PRAGMA application_id = %1").arg(0x544D4C57)));
            for (const char *sql : kV2Schema)
                ASSERT_TRUE(q.exec(QString::fromUtf8(sql))) << sql << " " << str(q.lastError().text());
            ASSERT_TRUE(q.exec("INSERT INTO models(created_utc, kind, name, graph) VALUES"
                               " ('2026-01-02T00:00:00.000Z', 'int8', 'old', x'01')"));
            ASSERT_TRUE(q.exec("INSERT INTO profiles(board_id, created_utc) VALUES ('qemu-m4', '2026-01-03T00:00:00.000Z')"));
            ASSERT_TRUE(q.exec("PRAGMA user_version = 2"));
            db.close();
        }
        QSqlDatabase::removeDatabase(name);
    }
    // A v2 file holds only some of the tables; open() migrates what is there and the
    // integrity check does not ask for the rest. If it does, the error says so.
    QString error;
    auto store = ProjectStore::open(path, &error);
    ASSERT_TRUE(store) << str(error);
    EXPECT_EQ(store->schemaVersion(), ProjectStore::kSchemaVersion);  // v2 -> v3 -> ... -> latest
    const auto old = store->profiles();
    ASSERT_EQ(old.size(), 1);
    EXPECT_EQ(old[0].boardId, "qemu-m4");
    EXPECT_EQ(old[0].modelId, 0);
    EXPECT_TRUE(old[0].json.isEmpty());

    StoredProfile p{0, 1, "qemu-m7", {}, profileJson(4.0)};
    ASSERT_TRUE(store->addProfile(p, &error)) << str(error);
    EXPECT_EQ(store->profiles(1).size(), 1);
}
