// Issue 17 end to end through the CLI: `tinyml keys new`, `sign`, `provision` and
// `flash --package` on the virtual boards (the host agent and the QEMU Cortex-M4). A
// provisioned board refuses an unsigned model, a foreign key, a modified file and an older
// version, each with its cause in plain words, and keeps the model it ran.
#include <gtest/gtest.h>

#include "SignedCliFixture.h"

#include <QDir>
#include <QFile>

using namespace tinyml;
using namespace tinyml::e2e;

namespace {

class SignedCli : public SignedCliFixture {
protected:
    SignedCli() : SignedCliFixture("signed.tinyml", WithoutQemu::Skip) {}
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
        // nothing of the model's in signed/ beside the project: stopped before sending
        {{"flash", project, "--board", board(), "--force"}, QStringLiteral("takes signed packages only")},
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

INSTANTIATE_TEST_SUITE_P(Boards, SignedCli, ::testing::Values("host", "qemu-m4"), signedCliBoardName);

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
    r = run({"flash", project, "--board", board(), "--force", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString() << " (flash PROJECT takes the signed package like profile)";
    EXPECT_TRUE(r.json()["signed"].toBool());
    EXPECT_EQ(r.json()["package_version"].toInt(), 4);
}

// `tinyml flash PROJECT` on a provisioned board goes through the same choice as profile: the
// model's newest signed package in signed/ goes on (the board attests to that very file);
// without one it stops before sending anything and names `tinyml sign`.
TEST_P(SignedCli, FlashProjectOnAProvisionedBoardUploadsItsSignedPackage)
{
    CliRun r = run({"keys", "new", "--name", "release", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    const QString key = r.json()["id"].toString();
    r = run({"provision", "--board", board(), "--key", key, "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();

    r = run({"flash", project, "--board", board()});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains(QStringLiteral("takes signed packages only"))) << r.err.toStdString();
    EXPECT_TRUE(r.err.contains(QStringLiteral("tinyml sign PROJECT --model 1"))) << r.err.toStdString();
    EXPECT_TRUE(r.err.contains(QStringLiteral("nothing was sent"))) << r.err.toStdString();
    r = run({"attest", "--board", board(), "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString() << r.out.toStdString();
    EXPECT_EQ(r.json()["package_hash"].toString(), QString()) << "nothing reached the board";

    r = run({"sign", project, "--key", key, "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    const QString signedFile = r.json()["file"].toString();
    EXPECT_TRUE(signedFile.startsWith(QDir(tmp.path()).filePath(QStringLiteral("signed/")))) << signedFile.toStdString();

    r = run({"flash", project, "--board", board(), "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_TRUE(r.json()["uploaded"].toBool());
    EXPECT_TRUE(r.json()["signed"].toBool());
    EXPECT_EQ(r.json()["package_version"].toInt(), 1);
    QFile in(signedFile);
    ASSERT_TRUE(in.open(QIODevice::ReadOnly));
    EXPECT_EQ(r.json()["package_bytes"].toInt(), int(in.size())) << "the signed file, block included";

    // the board runs that very file: its signed statement names the file's hash
    r = run({"attest", "--board", board(), "--package", signedFile, "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString() << r.out.toStdString();
    EXPECT_TRUE(r.json()["verified"].toBool());
    EXPECT_EQ(r.json()["package_version"].toInt(), 1);

    r = run({"flash", project, "--board", board(), "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_FALSE(r.json()["uploaded"].toBool()) << "the board already runs the signed package";
}
