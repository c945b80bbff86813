// The host's judgement of attestations (core/crypto/Attestation: crypto::verifyAttestation)
// on real answers of the agent core (fake port), and the provisioned-devices record
// (crypto::ProvisionedDevices): verified; any modified byte, an old answer (replayed nonce),
// an unrecorded or other device key, and another package each fail with a reason.
#include <gtest/gtest.h>

#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>

#include <sys/stat.h>

#include "../attest_scenario.h"
#include "crypto/Attestation.h"
#include "crypto/ProvisionedDevices.h"
#include "crypto/SigningKeyStore.h"

using namespace tmtest;
using tinyml::crypto::ProvisionedDevice;
using tinyml::crypto::ProvisionedDevices;
using tinyml::crypto::verifyAttestation;

namespace {

QByteArray qb(const Bytes &b)
{
    return QByteArray(reinterpret_cast<const char *>(b.data()), int(b.size()));
}

Bytes bytesOf(const QByteArray &q)
{
    return Bytes(q.begin(), q.end());
}

struct ProvisionedBoard {
    AgentHarness h;
    TestKey project;
    QByteArray devicePk;
    Bytes package;
    ProvisionedBoard()
    {
        h.fake.enableProvisioning();
        h.fake.enableIdentity();
        h.fake.firmware = Bytes(64, 0x3C);
        tm_agent_init(h.agent.get(), &h.fake.port);
        auto id = tinyml::crypto::newDeviceIdentity();
        Frame pr = h.request(TM_OP_PROVISION, cat({project.publicKey(), bytesOf(id.seed)}));
        EXPECT_EQ(pr.op, TM_OP_PROVISION | TM_OP_REPLY);
        devicePk = id.publicKey;
        tinyml::crypto::wipeSecret(id.seed);
        EXPECT_EQ(qb(Bytes(pr.payload.begin() + 8, pr.payload.end())), devicePk);
        package = signPackage(fakePackage(2048, 3), 4, project);
        AgentClient c;
        c.request = [this](uint8_t op, const Bytes &p) { return h.request(op, p); };
        EXPECT_EQ(c.upload(package).op, TM_OP_MODEL_COMMIT | TM_OP_REPLY);
    }
    QByteArray attest(const QByteArray &nonce) { return qb(h.request(TM_OP_ATTEST, bytesOf(nonce)).payload); }
};

} // namespace

TEST(HostAttestation, VerifiedAnswerReportsEveryField)
{
    ProvisionedBoard b;
    const QByteArray nonce = tinyml::crypto::attestationNonce();
    ASSERT_EQ(nonce.size(), 32);
    const auto r = verifyAttestation(b.attest(nonce), nonce, b.devicePk, qb(b.package));
    EXPECT_TRUE(r.verified) << r.reason.toStdString();
    EXPECT_TRUE(r.reason.isEmpty());
    EXPECT_EQ(r.deviceId, tinyml::crypto::SigningKeyStore::keyId(b.devicePk));
    EXPECT_EQ(r.firmwareHash, QByteArray(64, char(0x3C)));
    EXPECT_EQ(r.packageHash, tinyml::crypto::sha512(qb(b.package)));
    EXPECT_EQ(r.packageVersion, 4u);
    EXPECT_EQ(r.counter, 4u);
    EXPECT_EQ(r.projectKeyId, QString::fromLatin1(qb(b.project.keyId()).toHex()));
    EXPECT_EQ(r.activeSlot, 0);
}

TEST(HostAttestation, EveryModifiedByteFails)
{
    ProvisionedBoard b;
    const QByteArray nonce = tinyml::crypto::attestationNonce();
    const QByteArray good = b.attest(nonce);
    ASSERT_EQ(good.size(), 320);
    for (int i = 0; i < good.size(); ++i) {
        QByteArray bad = good;
        bad[i] = char(bad[i] ^ 0x01);
        const auto r = verifyAttestation(bad, nonce, b.devicePk);
        EXPECT_FALSE(r.verified) << "byte " << i;
        EXPECT_FALSE(r.reason.isEmpty()) << "byte " << i;
    }
    EXPECT_FALSE(verifyAttestation(good.left(319), nonce, b.devicePk).verified);
    EXPECT_FALSE(verifyAttestation(good + '\0', nonce, b.devicePk).verified);
}

TEST(HostAttestation, ReplayedAnswerUnknownOrOtherKeyAndOtherPackageFail)
{
    ProvisionedBoard b;
    const QByteArray oldNonce = tinyml::crypto::attestationNonce();
    const QByteArray old = b.attest(oldNonce);
    const QByteArray newNonce = tinyml::crypto::attestationNonce();
    ASSERT_NE(oldNonce, newNonce);
    auto r = verifyAttestation(old, newNonce, b.devicePk);
    EXPECT_FALSE(r.verified);
    EXPECT_TRUE(r.reason.contains(QStringLiteral("replayed"))) << r.reason.toStdString();

    const QByteArray fresh = b.attest(newNonce);
    r = verifyAttestation(fresh, newNonce, {});
    EXPECT_FALSE(r.verified);
    EXPECT_TRUE(r.reason.contains(QStringLiteral("no record"))) << r.reason.toStdString();
    r = verifyAttestation(fresh, newNonce, tinyml::crypto::newDeviceIdentity().publicKey);
    EXPECT_FALSE(r.verified);
    EXPECT_TRUE(r.reason.contains(QStringLiteral("not the one recorded"))) << r.reason.toStdString();
    r = verifyAttestation(fresh, newNonce, b.devicePk, qb(signPackage(fakePackage(2048, 9), 4, b.project)));
    EXPECT_FALSE(r.verified);
    EXPECT_TRUE(r.reason.contains(QStringLiteral("not the expected file"))) << r.reason.toStdString();
    EXPECT_TRUE(verifyAttestation(fresh, newNonce, b.devicePk, qb(b.package)).verified);
}

TEST(HostAttestation, UnprovisionedBoardAnswersNotProvisioned)
{
    AgentHarness h;
    h.fake.enableProvisioning();
    h.fake.enableIdentity();
    tm_agent_init(h.agent.get(), &h.fake.port);
    Frame f = h.request(TM_OP_ATTEST, bytesOf(tinyml::crypto::attestationNonce()));
    EXPECT_TRUE(isError(f, TM_ERR_NOT_PROVISIONED));
    // and an error reply is no statement
    EXPECT_FALSE(verifyAttestation(qb(f.payload), QByteArray(32, 0), QByteArray(32, 1)).parsed);
}

TEST(HostAttestation, ProvisionedDevicesRecordIsPrivateAndChecked)
{
    QTemporaryDir dir;
    ASSERT_TRUE(dir.isValid());
    ProvisionedDevices devices(dir.path() + QStringLiteral("/keys"));
    QString error;
    auto none = devices.list(&error);
    ASSERT_TRUE(none) << error.toStdString();
    EXPECT_TRUE(none->isEmpty());

    const QByteArray pk1 = tinyml::crypto::newDeviceIdentity().publicKey;
    const QByteArray pk2 = tinyml::crypto::newDeviceIdentity().publicKey;
    using tinyml::crypto::SigningKeyStore;
    const QDateTime t = QDateTime::fromString(QStringLiteral("2026-01-02T03:04:05Z"), Qt::ISODate);
    ASSERT_TRUE(devices.record({SigningKeyStore::keyId(pk1), QStringLiteral("qemu-mps2-an386"), pk1,
                                QStringLiteral("0123456789abcdef"), t},
                               &error))
        << error.toStdString();
    ASSERT_TRUE(devices.record({SigningKeyStore::keyId(pk2), QStringLiteral("qemu-mps2-an386"), pk2, {}, t.addSecs(60)},
                               &error));
    struct stat st {};
    ASSERT_EQ(::stat(QFile::encodeName(devices.filePath()).constData(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    auto found = devices.find(SigningKeyStore::keyId(pk1), &error);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->devicePublicKey, pk1);
    EXPECT_EQ(found->projectKeyId, QStringLiteral("0123456789abcdef"));
    auto board = devices.forBoard(QStringLiteral("qemu-mps2-an386"), &error);
    ASSERT_TRUE(board);
    ASSERT_EQ(board->size(), 2);
    EXPECT_EQ(board->first().devicePublicKey, pk2) << "newest first";

    // a record whose id does not match its key: the error names the file and the field
    QFile f(devices.filePath());
    ASSERT_TRUE(f.open(QIODevice::ReadOnly));
    QByteArray text = f.readAll();
    f.close();
    text.replace(SigningKeyStore::keyId(pk1).toLatin1(), QByteArray("ffffffffffffffff"));
    ASSERT_TRUE(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    f.write(text);
    f.close();
    EXPECT_FALSE(devices.list(&error));
    EXPECT_TRUE(error.contains(QStringLiteral("devices[0].device_id"))) << error.toStdString();
    EXPECT_TRUE(error.contains(devices.filePath()));
}
