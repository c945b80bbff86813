// Issue 17, attestation, end to end through the CLI on the virtual boards (the host agent and
// the QEMU Cortex-M4): `tinyml attest` before provisioning fails with the way out; after
// `tinyml provision` it verifies, names the device recorded in devices.json, and with
// --package FILE checks the board runs that very file; a record of another device key, or
// another file, fails with the reason and exit status 1.
#include <gtest/gtest.h>

#include "SignedCliFixture.h"

#include <QCryptographicHash>
#include <QFile>
#include <QFileInfo>
#include <QDir>

using namespace tinyml;
using namespace tinyml::e2e;

namespace {

class AttestCli : public SignedCliFixture {
protected:
    AttestCli() : SignedCliFixture("attest.tinyml", WithoutQemu::Fail) {}
};

QByteArray readAll(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

} // namespace

TEST_P(AttestCli, ProvisionAttestPackageAndForeignRecord)
{
    CliRun r = run({"keys", "new", "--name", "release", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    const QString key = r.json()["id"].toString();

    // an unprovisioned board has no identity: the error says what to do
    r = run({"attest", "--board", board(), "--json"});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains(QStringLiteral("no device identity"))) << r.err.toStdString();
    EXPECT_TRUE(r.err.contains(QStringLiteral("tinyml provision"))) << r.err.toStdString();

    r = run({"provision", "--board", board(), "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    const QString device = r.json()["device_id"].toString();
    EXPECT_EQ(device.size(), 16);
    EXPECT_TRUE(r.json()["new_device_identity"].toBool());
    const QByteArray record = readAll(keyDir + QStringLiteral("/devices.json"));
    EXPECT_TRUE(record.contains(device.toLatin1()));
    EXPECT_FALSE(record.contains("seed")) << "the host keeps no secret of the device";
    // the board's secret is in its flash file: the user's alone, on every launcher
    const QString state = QDir(boards).filePath(board());
    EXPECT_EQ(QFileInfo(state).permissions() & (QFileDevice::ReadGroup | QFileDevice::ReadOther |
                                                QFileDevice::ExeGroup | QFileDevice::ExeOther), QFileDevice::Permissions{})
        << state.toStdString();
    const QString flash = QDir(state).filePath(QStringLiteral("tinyml-flash.bin"));
    ASSERT_TRUE(QFileInfo::exists(flash)) << flash.toStdString();
    // provisioning again keeps the identity
    r = run({"provision", "--board", board(), "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_EQ(r.json()["device_id"].toString(), device);
    EXPECT_FALSE(r.json()["new_device_identity"].toBool());

    r = run({"attest", "--board", board(), "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString() << r.out.toStdString();
    EXPECT_TRUE(r.json()["verified"].toBool());
    EXPECT_EQ(r.json()["device_id"].toString(), device);
    EXPECT_EQ(r.json()["firmware_hash"].toString().size(), 128);
    EXPECT_EQ(r.json()["package_hash"].toString(), QString()) << "no package flashed yet";

    // a signed package flashed: the board names it by its hash, and --package checks it
    r = run({"sign", project, "--key", key, "--version", "3", "--out", file("v3.tmpks"), "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    r = run({"flash", "--package", file("v3.tmpks"), "--board", board(), "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    r = run({"attest", "--board", board(), "--package", file("v3.tmpks"), "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString() << r.out.toStdString();
    EXPECT_TRUE(r.json()["verified"].toBool());
    EXPECT_EQ(r.json()["package_hash"].toString(),
              QString::fromLatin1(QCryptographicHash::hash(readAll(file("v3.tmpks")), QCryptographicHash::Sha512).toHex()));
    EXPECT_EQ(r.json()["package_version"].toInt(), 3);
    EXPECT_EQ(r.json()["counter"].toInt(), 3);

    // another file expected: not verified, exit 1, the reason names it
    r = run({"sign", project, "--key", key, "--version", "4", "--out", file("v4.tmpks"), "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    r = run({"attest", "--board", board(), "--package", file("v4.tmpks"), "--json"});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_FALSE(r.json()["verified"].toBool());
    EXPECT_TRUE(r.json()["reason"].toString().contains(QStringLiteral("not the expected file")))
        << r.json()["reason"].toString().toStdString();

    // the record swapped for another device's key (id and key consistent): the board's
    // statement is validly signed but by a key this host did not record for the board
    {
        const QByteArray otherPk(64, 'a');
        const QByteArray otherId = QCryptographicHash::hash(otherPk, QCryptographicHash::Sha512).left(8).toHex();
        QByteArray text = record;
        const int at = text.indexOf("\"device_public_key\": \"") + 22;
        ASSERT_GT(at, 22);
        text.replace(at, 64, otherPk);
        text.replace(device.toLatin1(), otherId);
        QFile f(keyDir + QStringLiteral("/devices.json"));
        ASSERT_TRUE(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        f.write(text);
    }
    r = run({"attest", "--board", board(), "--json"});
    EXPECT_EQ(r.exitCode, 1) << r.err.toStdString();
    EXPECT_FALSE(r.json()["verified"].toBool());
    EXPECT_TRUE(r.json()["reason"].toString().contains(QStringLiteral("is not the one recorded")))
        << r.json()["reason"].toString().toStdString() << r.err.toStdString();

    // a record that does not hold together (id of another key) is refused, naming the field
    {
        QByteArray text = readAll(keyDir + QStringLiteral("/devices.json"));
        text.replace("\"device_public_key\": \"aaaa", "\"device_public_key\": \"bbbb");
        QFile f(keyDir + QStringLiteral("/devices.json"));
        ASSERT_TRUE(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        f.write(text);
    }
    r = run({"attest", "--board", board(), "--json"});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains(QStringLiteral("devices[0].device_id"))) << r.err.toStdString();
}

INSTANTIATE_TEST_SUITE_P(Boards, AttestCli, ::testing::Values("host", "qemu-m4"), signedCliBoardName);
