// Issue 17 end to end through the CLI: `tinyml keys new`, `sign`, `provision` and
// `flash --package` on the virtual boards (the host agent and the QEMU Cortex-M4). A
// provisioned board refuses an unsigned model, a foreign key, a modified file and an older
// version, each with its cause in plain words, and keeps the model it ran.
#include <gtest/gtest.h>

#include "CliRunner.h"
#include "../deploy/DeployTestGraphs.h"

#include "store/ProjectStore.h"

#include <QDir>
#include <QFile>
#include <QProcessEnvironment>
#include <QStandardPaths>
#include <QTemporaryDir>

using namespace tinyml;
using namespace tinyml::e2e;

namespace {

class SignedCli : public ::testing::TestWithParam<const char *> {
protected:
    void SetUp() override
    {
        if (QString::fromLatin1(GetParam()) == QLatin1String("qemu-m4") &&
            QStandardPaths::findExecutable(QStringLiteral("qemu-system-arm")).isEmpty())
            GTEST_SKIP() << "qemu-system-arm is not installed";
        ASSERT_TRUE(tmp.isValid());
        keyDir = tmp.filePath(QStringLiteral("keys"));
        boards = tmp.filePath(QStringLiteral("boards"));
        project = tmp.filePath(QStringLiteral("signed.tinyml"));
        QString error;
        auto store = ProjectStore::create(project, ProjectSettings{}, &error);
        ASSERT_TRUE(store) << error.toStdString();
        StoredModel q;
        q.kind = ModelKind::Int8;
        q.name = QStringLiteral("int8 chain");
        q.graph = deploy::testing::chain().serialize();
        ASSERT_TRUE(store->addModel(q, &error)) << error.toStdString();
    }

    /// The CLI with this test's key folder and virtual boards (a fresh, unprovisioned board).
    CliRun run(const QStringList &args) const
    {
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("TINYML_KEY_DIR"), keyDir);
        env.insert(QStringLiteral("TINYML_VIRTUAL_BOARDS_DIR"), boards);
        p.setProcessEnvironment(env);
        p.start(QStringLiteral(TINYML_CLI), args);
        p.waitForFinished(600000);
        CliRun r;
        r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
        r.out = QString::fromUtf8(p.readAllStandardOutput());
        r.err = QString::fromUtf8(p.readAllStandardError());
        return r;
    }
    QString board() const { return QString::fromLatin1(GetParam()); }
    QString file(const char *name) const { return tmp.filePath(QString::fromLatin1(name)); }

    QTemporaryDir tmp;
    QString keyDir, boards, project;
};

} // namespace

TEST_P(SignedCli, SignProvisionFlashAndEveryRefusal)
{
    CliRun r = run({"keys", "new", "--name", "release", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    const QString ours = r.json()["id"].toString();
    r = run({"keys", "new", "--name", "someone else", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    const QString theirs = r.json()["id"].toString();

    for (const auto &[key, version, name] : {std::tuple{ours, "2", "v2.tmpks"}, std::tuple{ours, "1", "v1.tmpks"},
                                             std::tuple{theirs, "3", "foreign.tmpks"}}) {
        r = run({"sign", project, "--key", key, "--version", version, "--out", file(name), "--json"});
        ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    }
    {   // one modified byte in the signature (a byte of the package itself already fails the
        // host's own package check, its CRC, before anything is sent)
        QFile in(file("v2.tmpks"));
        ASSERT_TRUE(in.open(QIODevice::ReadOnly));
        QByteArray bytes = in.readAll();
        bytes[bytes.size() - 40] = char(bytes[bytes.size() - 40] ^ 0x10);
        writeFile(file("modified.tmpks"), bytes);
    }

    // not provisioned: the project's plain model flashes as before
    r = run({"flash", project, "--board", board(), "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();

    // provision: ours; ours again changes nothing; theirs refused
    r = run({"provision", "--board", board(), "--json"});
    EXPECT_EQ(r.exitCode, 2) << "two keys with secrets: --key must choose";
    r = run({"provision", "--board", board(), "--key", ours, "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_EQ(r.json()["key_id"].toString(), ours);
    EXPECT_FALSE(r.json()["already_provisioned"].toBool());
    r = run({"provision", "--board", board(), "--key", ours, "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_TRUE(r.json()["already_provisioned"].toBool());
    r = run({"provision", "--board", board(), "--key", theirs});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains(QStringLiteral("already provisioned and locked to key %1").arg(ours))) << r.err.toStdString();

    // the signed package goes on; the version is the board's counter now
    r = run({"flash", "--package", file("v2.tmpks"), "--board", board(), "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_TRUE(r.json()["uploaded"].toBool());
    EXPECT_TRUE(r.json()["board_provisioned"].toBool());
    EXPECT_EQ(r.json()["package_version"].toInt(), 2);

    struct Refusal {
        QStringList args;
        QString says;
    };
    const Refusal refusals[] = {
        {{"flash", project, "--board", board(), "--force"}, QStringLiteral("refuses unsigned packages")},
        {{"flash", "--package", file("foreign.tmpks"), "--board", board()},
         QStringLiteral("package signed by key %1, the board trusts key %2").arg(theirs, ours)},
        {{"flash", "--package", file("modified.tmpks"), "--board", board()},
         QStringLiteral("the file was modified after it was signed")},
        {{"flash", "--package", file("v1.tmpks"), "--board", board()},
         QStringLiteral("package version 1 is older than the board's 2 (anti-rollback)")},
    };
    for (const Refusal &f : refusals) {
        r = run(f.args);
        EXPECT_EQ(r.exitCode, 1) << f.args.join(' ').toStdString();
        EXPECT_TRUE(r.err.contains(f.says)) << r.err.toStdString();
        EXPECT_TRUE(r.err.contains(QStringLiteral("the previous model keeps running"))) << r.err.toStdString();
        // the board (restarted by every command) still runs v2: nothing to upload
        CliRun same = run({"flash", "--package", file("v2.tmpks"), "--board", board(), "--json"});
        ASSERT_EQ(same.exitCode, 0) << same.err.toStdString();
        EXPECT_FALSE(same.json()["uploaded"].toBool()) << "after: " << f.args.join(' ').toStdString();
    }
}

INSTANTIATE_TEST_SUITE_P(Boards, SignedCli, ::testing::Values("host", "qemu-m4"),
                         [](const auto &info) { return std::string(info.param) == "host" ? "host" : "qemu_m4"; });

// `tinyml profile` on a provisioned board uploads the model's signed package (given, or the
// newest in signed/ beside the project) and refuses, with the way out, when there is none.
TEST_P(SignedCli, ProfileOnAProvisionedBoardUsesTheSignedPackage)
{
    CliRun r = run({"keys", "new", "--name", "release", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    const QString key = r.json()["id"].toString();
    r = run({"sign", project, "--key", key, "--version", "3", "--out", file("elsewhere.tmpks"), "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    r = run({"provision", "--board", board(), "--key", key, "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    const QStringList profile{"profile", project, "--board", board(), "--runs", "2", "--warmup", "0", "--no-accuracy"};

    // nothing signed beside the project: refused before anything is sent, naming the fix
    r = run(profile);
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains(QStringLiteral("takes signed packages only"))) << r.err.toStdString();
    EXPECT_TRUE(r.err.contains(QStringLiteral("tinyml sign PROJECT --model 1"))) << r.err.toStdString();

    // the given signed package goes on, and the board measures it
    r = run(profile + QStringList{"--package", file("elsewhere.tmpks"), "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_EQ(r.json()["runs"].toInt(), 2);
    EXPECT_GT(r.json()["package_bytes"].toDouble(), 0);

    // a signed package of something else is refused as such
    QFile in(file("elsewhere.tmpks"));
    ASSERT_TRUE(in.open(QIODevice::ReadOnly));
    QByteArray other = in.readAll();
    other.prepend('x');
    writeFile(file("other.tmpks"), other);
    r = run(profile + QStringList{"--package", file("other.tmpks")});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains(QStringLiteral("other.tmpks")) || r.err.contains(QStringLiteral("is not one of model 1's")))
        << r.err.toStdString();

    // `tinyml sign` without --out writes to signed/ beside the project: profile finds it
    r = run({"sign", project, "--key", key, "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_EQ(r.json()["version"].toInt(), 1) << "signed/ was empty";
    r = run({"sign", project, "--key", key, "--version", "4", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    r = run(profile + QStringList{"--json", "--force"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString() << " (version 4 is the newest there; 1 would be refused)";
    r = run({"flash", project, "--board", board(), "--force"});
    EXPECT_EQ(r.exitCode, 1) << "flash PROJECT still uploads the bare package: refused";
}
