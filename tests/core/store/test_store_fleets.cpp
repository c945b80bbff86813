// Schema v4 (issue 17): fleets, rollouts and telemetry readings, and a v3 file migrating to it.
#include <gtest/gtest.h>

#include "store/ProjectStore.h"

#include <QCoreApplication>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QUuid>

using namespace tinyml;

namespace {

std::string str(const QString &s) { return s.toStdString(); }

class StoreFleetsTest : public ::testing::Test
{
protected:
    static void SetUpTestSuite()
    {
        if (!QCoreApplication::instance()) {
            static int argc = 1;
            static char arg0[] = "test_core_store_fleets";
            static char *argv[] = {arg0, nullptr};
            new QCoreApplication(argc, argv);
        }
    }
    void SetUp() override { ASSERT_TRUE(dir.isValid()); }
    QString file(const QString &name) const { return dir.filePath(name); }
    QTemporaryDir dir;
};

} // namespace

TEST_F(StoreFleetsTest, FleetsAreSavedReplacedListedAndRemoved)
{
    QString error;
    auto store = ProjectStore::create(file("p.tinyml"), ProjectSettings{}, &error);
    ASSERT_TRUE(store) << str(error);
    EXPECT_TRUE(store->fleetNames().isEmpty());
    EXPECT_FALSE(store->saveFleet(QStringLiteral("  "), {}, &error));
    EXPECT_TRUE(error.contains("a fleet needs a name")) << str(error);

    ASSERT_TRUE(store->saveFleet("lab", QJsonObject{{"members", 1}}, &error)) << str(error);
    ASSERT_TRUE(store->saveFleet("field", QJsonObject{{"members", 2}}, &error)) << str(error);
    ASSERT_TRUE(store->saveFleet("lab", QJsonObject{{"members", 3}}, &error)) << str(error);   // replaces
    EXPECT_EQ(store->fleetNames(), (QStringList{"field", "lab"}));
    const auto lab = store->fleet("lab", &error);
    ASSERT_TRUE(lab) << str(error);
    EXPECT_EQ(lab->value("members").toInt(), 3);

    EXPECT_FALSE(store->fleet("nope", &error));
    EXPECT_TRUE(error.contains("no fleet named \"nope\"")) << str(error);
    ASSERT_TRUE(store->removeFleet("field", &error)) << str(error);
    EXPECT_FALSE(store->removeFleet("field", &error));
    EXPECT_EQ(store->fleetNames(), QStringList{"lab"});
}

TEST_F(StoreFleetsTest, RolloutStateIsRewrittenAndSurvivesReopening)
{
    QString error;
    qint64 id = 0;
    {
        auto store = ProjectStore::create(file("p.tinyml"), ProjectSettings{}, &error);
        ASSERT_TRUE(store) << str(error);
        StoredRollout r;
        r.fleet = "lab";
        r.status = "running";
        r.state = QJsonObject{{"stage", 0}};
        const auto added = store->addRollout(r, &error);
        ASSERT_TRUE(added) << str(error);
        id = *added;
        EXPECT_EQ(r.id, id);
        EXPECT_TRUE(r.created.isValid());
        ASSERT_TRUE(store->updateRollout(id, "rolling_back", QJsonObject{{"stage", 2}}, &error)) << str(error);
        EXPECT_FALSE(store->updateRollout(id + 7, "running", {}, &error));
        EXPECT_TRUE(error.contains(QStringLiteral("no rollout with id %1").arg(id + 7))) << str(error);
        StoredRollout other{0, "field", "completed", {}, {}};
        ASSERT_TRUE(store->addRollout(other, &error)) << str(error);
    }
    auto store = ProjectStore::open(file("p.tinyml"), &error);
    ASSERT_TRUE(store) << str(error);
    const auto lab = store->rollouts("lab");
    ASSERT_EQ(lab.size(), 1);
    EXPECT_EQ(lab[0].status, "rolling_back");
    EXPECT_EQ(lab[0].state.value("stage").toInt(), 2);
    EXPECT_EQ(store->rollouts().size(), 2);
    EXPECT_EQ(store->rollout(id, &error)->fleet, "lab");

    StoredTelemetry t1{0, "lab", "host-1", {}, QJsonObject{{"psi", 0.02}}};
    StoredTelemetry t2{0, "lab", "host-2", {}, QJsonObject{{"psi", 0.4}}};
    ASSERT_TRUE(store->addTelemetry(t1, &error)) << str(error);
    ASSERT_TRUE(store->addTelemetry(t2, &error)) << str(error);
    EXPECT_EQ(store->telemetry("lab").size(), 2);
    const auto h2 = store->telemetry("lab", "host-2");
    ASSERT_EQ(h2.size(), 1);
    EXPECT_DOUBLE_EQ(h2[0].json.value("psi").toDouble(), 0.4);
    EXPECT_TRUE(store->telemetry("field").isEmpty());
}

TEST_F(StoreFleetsTest, AVersion3FileGainsTheFleetTables)
{
    QString error;
    {
        auto store = ProjectStore::create(file("old.tinyml"), ProjectSettings{}, &error);
        ASSERT_TRUE(store) << str(error);
    }
    {   // make it a v3 file: drop what v4 added, as a v3 build left it
        const QString name = QUuid::createUuid().toString();
        {
            QSqlDatabase db = QSqlDatabase::addDatabase("QSQLITE", name);
            db.setDatabaseName(file("old.tinyml"));
            ASSERT_TRUE(db.open());
            QSqlQuery q(db);
            for (const char *sql : {"DROP TABLE fleets", "DROP TABLE rollouts", "DROP TABLE telemetry",
                                    "PRAGMA user_version = 3"})
                ASSERT_TRUE(q.exec(QString::fromUtf8(sql))) << sql;
            db.close();
        }
        QSqlDatabase::removeDatabase(name);
    }
    auto store = ProjectStore::open(file("old.tinyml"), &error);
    ASSERT_TRUE(store) << str(error);
    EXPECT_EQ(store->schemaVersion(), 4);
    ASSERT_TRUE(store->saveFleet("lab", {}, &error)) << str(error);
    StoredRollout r{0, "lab", "running", {}, {}};
    EXPECT_TRUE(store->addRollout(r, &error)) << str(error);
}
