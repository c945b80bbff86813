// Issue 18, item 8, as a user meets it: a CSV without a rate, a repeated import, the HMAC
// key from a file or the environment, an Edge Impulse file over the size limit.
#include <gtest/gtest.h>

#include "CliRunner.h"
#include "store/ProjectStore.h"

#include <QDir>
#include <QTemporaryDir>

using namespace tinyml;
using namespace tinyml::e2e;

namespace {

class CliImport : public ::testing::Test {
protected:
    CliImport()
    {
        qunsetenv("TINYML_HMAC_KEY");
        qunsetenv("TINYML_EI_MAX_MB");
    }
    ~CliImport() override
    {
        qunsetenv("TINYML_HMAC_KEY");
        qunsetenv("TINYML_EI_MAX_MB");
    }
    QTemporaryDir tmp;
    QString path(const QString &name) const { return tmp.filePath(name); }
    int sampleCount(const QString &project) const
    {
        QString error;
        auto store = ProjectStore::open(project, &error);
        return store ? int(store->sampleInfos().size()) : -1;
    }
};

QByteArray motionCsv(int k)
{
    QByteArray csv = "timestamp,accX,accY,accZ\n";
    for (int i = 0; i < 20; ++i)
        csv += QByteArray::number(i * 10) + "," + QByteArray::number(i + k) + ",0,9.81\n";
    return csv;
}

} // namespace

TEST_F(CliImport, ACsvWithoutTimestampNeedsARate)
{
    const QString proj = path("p.tinyml");
    ASSERT_EQ(tinymlRun({"new", proj, "--template", "motion"}).exitCode, 0);
    writeFile(path("idle.1.csv"), "accX,accY,accZ\n1,2,3\n4,5,6\n");
    CliRun r = tinymlRun({"import", proj, path("idle.1.csv")});
    EXPECT_NE(r.exitCode, 0);
    EXPECT_TRUE(r.err.contains("no timestamp column and no sample rate")) << r.err.toStdString();
    EXPECT_TRUE(r.err.contains("--rate")) << r.err.toStdString();
    EXPECT_EQ(sampleCount(proj), 0);
    r = tinymlRun({"import", proj, path("idle.1.csv"), "--rate", "100"});
    EXPECT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_EQ(sampleCount(proj), 1);
}

TEST_F(CliImport, ARepeatedImportSkipsDuplicatesAndSaysSo)
{
    const QString proj = path("p.tinyml");
    ASSERT_EQ(tinymlRun({"new", proj, "--template", "motion"}).exitCode, 0);
    QDir().mkpath(path("in"));
    for (int k = 0; k < 3; ++k)
        writeFile(path(QString("in/wave.%1.csv").arg(k)), motionCsv(k));
    CliRun r = tinymlRun({"import", proj, path("in")});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_EQ(sampleCount(proj), 3);

    writeFile(path("in/wave.3.csv"), motionCsv(3));
    writeFile(path("idle.9.csv"), motionCsv(0)); // wave.0's data under another label
    r = tinymlRun({"import", proj, path("in"), path("idle.9.csv")});
    EXPECT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_TRUE(r.out.contains("Imported 1 samples")) << r.out.toStdString();
    EXPECT_TRUE(r.out.contains("Skipped 4 duplicates of existing samples")) << r.out.toStdString();
    EXPECT_TRUE(r.err.contains("labelled 'idle': the same data is already in sample 1, labelled 'wave'"))
        << r.err.toStdString();
    EXPECT_EQ(sampleCount(proj), 4);

    r = tinymlRun({"import", proj, path("in/wave.0.csv"), "--json"});
    EXPECT_EQ(r.json().value("skipped_duplicates").toInt(), 1) << r.out.toStdString();
    r = tinymlRun({"import", proj, path("in/wave.0.csv"), "--allow-duplicates"});
    EXPECT_EQ(r.exitCode, 0);
    EXPECT_FALSE(r.out.contains("Skipped"));
    EXPECT_EQ(sampleCount(proj), 5);
}

TEST_F(CliImport, TheHmacKeyComesFromTheCommandLineAFileOrTheEnvironment)
{
    const QString proj = path("p.tinyml");
    ASSERT_EQ(tinymlRun({"new", proj, "--template", "motion"}).exitCode, 0);
    writeFile(path("wave.1.csv"), motionCsv(1));
    ASSERT_EQ(tinymlRun({"import", proj, path("wave.1.csv")}).exitCode, 0);
    writeFile(path("key.txt"), "s3cret\n");

    // Signed with the key from the file (its line break dropped).
    CliRun r = tinymlRun({"export-data", proj, path("out"), "--format", "ei-json", "--hmac-key-file", path("key.txt")});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    auto importInto = [&](const QString &name, QStringList extra) {
        const QString dst = path(name);
        tinymlRun({"new", dst, "--template", "motion"});
        return tinymlRun(QStringList{"import", dst, path("out")} + extra);
    };
    EXPECT_EQ(importInto("a.tinyml", {"--hmac-key", "s3cret"}).exitCode, 0);
    EXPECT_NE(importInto("b.tinyml", {"--hmac-key", "wrong"}).exitCode, 0);
    qputenv("TINYML_HMAC_KEY", "s3cret");
    EXPECT_EQ(importInto("c.tinyml", {}).exitCode, 0);
    qputenv("TINYML_HMAC_KEY", "wrong");
    r = importInto("d.tinyml", {});
    EXPECT_NE(r.exitCode, 0);
    EXPECT_TRUE(r.err.contains("does not match the HMAC key")) << r.err.toStdString();
    // The command line wins over the environment.
    EXPECT_EQ(importInto("e.tinyml", {"--hmac-key-file", path("key.txt")}).exitCode, 0);
    qunsetenv("TINYML_HMAC_KEY");

    r = importInto("f.tinyml", {"--hmac-key", "x", "--hmac-key-file", path("key.txt")});
    EXPECT_NE(r.exitCode, 0);
    EXPECT_TRUE(r.err.contains("not both")) << r.err.toStdString();
    r = importInto("g.tinyml", {"--hmac-key-file", path("missing.txt")});
    EXPECT_NE(r.exitCode, 0);
    EXPECT_TRUE(r.err.contains("missing.txt")) << r.err.toStdString();
    writeFile(path("empty.txt"), "\n");
    r = tinymlRun({"export-data", proj, path("out2"), "--format", "ei-json", "--hmac-key-file", path("empty.txt")});
    EXPECT_NE(r.exitCode, 0);
    EXPECT_TRUE(r.err.contains("empty")) << r.err.toStdString();
}

TEST_F(CliImport, AnEdgeImpulseFileOverTheLimitIsRefusedUnlessRaised)
{
    const QString proj = path("p.tinyml");
    ASSERT_EQ(tinymlRun({"new", proj, "--template", "motion"}).exitCode, 0);
    writeFile(path("wave.1.csv"), motionCsv(1));
    ASSERT_EQ(tinymlRun({"import", proj, path("wave.1.csv")}).exitCode, 0);
    ASSERT_EQ(tinymlRun({"export-data", proj, path("out"), "--format", "ei-json"}).exitCode, 0);
    const QString dst = path("q.tinyml");
    ASSERT_EQ(tinymlRun({"new", dst, "--template", "motion"}).exitCode, 0);
    // 1 MiB of blanks after the document: over a 1 MiB limit.
    const QString big = path("big.1.json");
    {
        QFile in(QDir(path("out")).entryInfoList({"*.json"}).value(0).filePath());
        ASSERT_TRUE(in.open(QIODevice::ReadOnly));
        writeFile(big, in.readAll() + QByteArray(1024 * 1024, ' '));
    }
    CliRun r = tinymlRun({"import", dst, big, "--max-ei-mb", "1"});
    EXPECT_NE(r.exitCode, 0);
    EXPECT_TRUE(r.err.contains("MiB limit")) << r.err.toStdString();
    qputenv("TINYML_EI_MAX_MB", "1");
    r = tinymlRun({"import", dst, big});
    EXPECT_NE(r.exitCode, 0);
    qputenv("TINYML_EI_MAX_MB", "2");
    r = tinymlRun({"import", dst, big});
    EXPECT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_NE(tinymlRun({"import", dst, big, "--max-ei-mb", "0"}).exitCode, 0);
}
