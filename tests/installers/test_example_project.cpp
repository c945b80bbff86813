// Example projects: the shipped motion example, and example.json files that are wrong in
// each way the loader must name.
#include "ExampleProject.h"

#include "store/ProjectStore.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>

#include <gtest/gtest.h>

using namespace tinyml;

namespace {

void writeFile(const QString &path, const QByteArray &bytes)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile f(path);
    ASSERT_TRUE(f.open(QIODevice::WriteOnly)) << path.toStdString();
    f.write(bytes);
}

const QByteArray kCsv = "timestamp,x,y,z\n0,0.1,0.2,9.8\n20,0.2,0.1,9.7\n40,0.3,0.0,9.9\n";

/// A valid example.json, or one with the exact text `from` replaced by `to`.
QByteArray exampleJson(const QByteArray &from = {}, const QByteArray &to = {})
{
    QByteArray json = R"({"title": "T", "description": "D", "template": "motion", "board": "qemu-m4",
        "sensor": "accel", "sample_rate_hz": 50, "sample_length_s": 0.06, "labels": ["a", "b"],
        "data": "data"})";
    if (!from.isEmpty()) {
        EXPECT_TRUE(json.contains(from)) << from.toStdString();
        json.replace(from, to);
    }
    return json;
}

class ExampleProjectTest : public ::testing::Test
{
protected:
    void SetUp() override
    {
        ASSERT_TRUE(m_dir.isValid());
        qputenv("TINYML_EXAMPLES_DIR", m_dir.filePath(QStringLiteral("examples")).toUtf8());
    }
    void TearDown() override { qunsetenv("TINYML_EXAMPLES_DIR"); }

    QString makeExample(const QString &id, const QByteArray &json)
    {
        const QString dir = m_dir.filePath(QStringLiteral("examples/") + id);
        writeFile(dir + QStringLiteral("/example.json"), json);
        for (int i = 1; i <= 5; ++i) {
            writeFile(dir + QStringLiteral("/data/a.%1.csv").arg(i), kCsv);
            writeFile(dir + QStringLiteral("/data/b.%1.csv").arg(i), kCsv);
        }
        return dir;
    }
    QString project(const QString &name) const { return m_dir.filePath(QStringLiteral("projects/") + name); }

    QTemporaryDir m_dir;
};

TEST_F(ExampleProjectTest, CreatesTheProjectWithSettingsSplitAndEveryFile)
{
    makeExample(QStringLiteral("tiny"), exampleJson());
    examples::ExampleResult r;
    QString error;
    ASSERT_TRUE(examples::createProjectFromExample(QStringLiteral("tiny"), project(QStringLiteral("p.tinyml")), &r, &error))
        << error.toStdString();
    EXPECT_EQ(r.samples, 10);
    EXPECT_EQ(r.train + r.test, 10);
    EXPECT_EQ(r.test, 2);  // 20 % of 5 per label, rounded per label
    auto store = ProjectStore::open(project(QStringLiteral("p.tinyml")), &error);
    ASSERT_TRUE(store) << error.toStdString();
    EXPECT_EQ(store->counts().total(), 10);
    EXPECT_EQ(store->settings().sampleRateHz, 50.0);
    EXPECT_EQ(store->settings().labels, (QStringList{QStringLiteral("a"), QStringLiteral("b")}));
    EXPECT_EQ(store->settings().name, QStringLiteral("p"));
}

TEST_F(ExampleProjectTest, RefusesToOverwriteAndLeavesTheFileAlone)
{
    makeExample(QStringLiteral("tiny"), exampleJson());
    writeFile(project(QStringLiteral("taken.tinyml")), "precious");
    QString error;
    EXPECT_FALSE(examples::createProjectFromExample(QStringLiteral("tiny"), project(QStringLiteral("taken.tinyml")), nullptr, &error));
    EXPECT_TRUE(error.contains(QStringLiteral("already exists"))) << error.toStdString();
    QFile f(project(QStringLiteral("taken.tinyml")));
    ASSERT_TRUE(f.open(QIODevice::ReadOnly));
    EXPECT_EQ(f.readAll(), QByteArray("precious"));
}

TEST_F(ExampleProjectTest, NamesTheFileAndFieldOfABadExample)
{
    struct Case {
        const char *from;
        const char *to;
        const char *expectField;
    };
    const Case cases[] = {
        {"\"sample_rate_hz\": 50", "\"sample_rate_hz\": -3", "sample_rate_hz"},
        {"\"labels\": [\"a\", \"b\"]", "\"labels\": []", "labels"},
        {"\"data\": \"data\"", "\"data\": \"../../outside\"", "data"},
        {"\"data\": \"data\"", "\"data\": \"/etc\"", "data"},
        {"\"title\": \"T\"", "\"title\": 7", "title"},
        {"\"board\": \"qemu-m4\",", "", "board"},
    };
    int n = 0;
    for (const Case &c : cases) {
        const QString id = QStringLiteral("bad%1").arg(n++);
        makeExample(id, exampleJson(c.from, c.to));
        QString error;
        EXPECT_FALSE(examples::createProjectFromExample(id, project(id + QStringLiteral(".tinyml")), nullptr, &error));
        EXPECT_TRUE(error.contains(QStringLiteral("example.json"))) << error.toStdString();
        EXPECT_TRUE(error.contains(QLatin1String(c.expectField))) << error.toStdString();
        EXPECT_FALSE(QFileInfo::exists(project(id + QStringLiteral(".tinyml")))) << "a failed example left a project";
    }
}

TEST_F(ExampleProjectTest, ABadDataFileCreatesNothing)
{
    const QString dir = makeExample(QStringLiteral("broken"), exampleJson());
    writeFile(dir + QStringLiteral("/data/a.9.csv"), "timestamp,x\n0,zero\n");
    QString error;
    EXPECT_FALSE(examples::createProjectFromExample(QStringLiteral("broken"), project(QStringLiteral("b.tinyml")), nullptr, &error));
    EXPECT_TRUE(error.contains(QStringLiteral("a.9.csv"))) << error.toStdString();
    EXPECT_FALSE(QFileInfo::exists(project(QStringLiteral("b.tinyml"))));
}

TEST_F(ExampleProjectTest, UnknownAndUnsafeNames)
{
    makeExample(QStringLiteral("tiny"), exampleJson());
    QString error;
    EXPECT_FALSE(examples::createProjectFromExample(QStringLiteral("nope"), project(QStringLiteral("n.tinyml")), nullptr, &error));
    EXPECT_TRUE(error.contains(QStringLiteral("known: tiny"))) << error.toStdString();
    EXPECT_FALSE(examples::createProjectFromExample(QStringLiteral("../examples/tiny"), project(QStringLiteral("n.tinyml")), nullptr, &error));
    EXPECT_TRUE(error.contains(QStringLiteral("invalid example name"))) << error.toStdString();
}

// The shipped example (resources/examples/motion), read the way an installed program reads it.
TEST(ShippedExample, MotionIsSmallBalancedAndImportable)
{
    qputenv("TINYML_EXAMPLES_DIR", TINYML_SOURCE_DIR "/resources/examples");
    QTemporaryDir dir;
    examples::ExampleResult r;
    QString error;
    ASSERT_TRUE(examples::createProjectFromExample(QStringLiteral("motion"), dir.filePath(QStringLiteral("m.tinyml")), &r, &error))
        << error.toStdString();
    qunsetenv("TINYML_EXAMPLES_DIR");
    EXPECT_EQ(r.samples, 48);
    EXPECT_EQ(r.labels, (QStringList{QStringLiteral("idle"), QStringLiteral("shake"), QStringLiteral("circle"), QStringLiteral("updown")}));
    auto store = ProjectStore::open(dir.filePath(QStringLiteral("m.tinyml")), &error);
    ASSERT_TRUE(store) << error.toStdString();
    for (const auto &row : store->counts().perLabel) {
        EXPECT_EQ(row.train + row.test, 12) << row.label.toStdString();
        EXPECT_GE(row.test, 2) << row.label.toStdString();
    }
    // Kept small: it ships in the package and in the source tree.
    qint64 bytes = 0;
    for (const QFileInfo &fi : QDir(QStringLiteral(TINYML_SOURCE_DIR "/resources/examples/motion/data")).entryInfoList(QDir::Files))
        bytes += fi.size();
    EXPECT_LT(bytes, 300 * 1024);
}

} // namespace
