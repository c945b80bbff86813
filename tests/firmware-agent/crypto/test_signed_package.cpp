// Signed model packages: the host signs (core/crypto/SignedPackage, libsodium), the
// device's C check (firmware-agent/crypto/tm_signed_package.h) accepts exactly that and
// refuses an unsigned package, another key, and every single modified byte with the status
// the agent will report.
#include <gtest/gtest.h>

#include <QTemporaryDir>

#include "crypto/SignedPackage.h"
#include "crypto/SigningKeyStore.h"
#include "tm_signed_package.h"

using namespace tinyml::crypto;

namespace
{

// A bare package as far as the block is concerned: magic, total_size at 8, a body.
QByteArray fakePackage(int size)
{
    QByteArray p(size, '\0');
    memcpy(p.data(), "TMPK", 4);
    const quint32 n = quint32(size);
    memcpy(p.data() + 8, &n, 4); // little-endian host (x86-64, Cortex-M)
    for (int i = 16; i < size; ++i)
        p[i] = char((i * 37) & 0xFF);
    return p;
}

tm_signed_status_t deviceCheck(const QByteArray &bytes, const QByteArray &publicKey, tm_signed_info_t *info)
{
    return tm_signed_package_verify(reinterpret_cast<const uint8_t *>(bytes.constData()), size_t(bytes.size()),
                                    reinterpret_cast<const uint8_t *>(publicKey.constData()), info);
}

class SignedPackage : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        ASSERT_TRUE(dir.isValid());
        store = std::make_unique<SigningKeyStore>(dir.path());
        QString error;
        auto a = store->create(QStringLiteral("a"), &error);
        ASSERT_TRUE(a) << error.toStdString();
        auto b = store->create(QStringLiteral("b"), &error);
        ASSERT_TRUE(b) << error.toStdString();
        keyA = *a;
        keyB = *b;
    }
    QTemporaryDir dir;
    std::unique_ptr<SigningKeyStore> store;
    SigningKeyInfo keyA, keyB;
};

} // namespace

TEST_F(SignedPackage, SignedByTheHostAcceptedByTheDevice)
{
    const QByteArray package = fakePackage(256);
    QString error;
    auto signedBytes = signPackage(package, 7, keyA.id, *store, &error);
    ASSERT_TRUE(signedBytes) << error.toStdString();
    ASSERT_EQ(signedBytes->size(), package.size() + int(TM_SIGNED_BLOCK_BYTES));
    EXPECT_EQ(signedBytes->left(package.size()), package); // append-only: the package is unchanged

    tm_signed_info_t info;
    ASSERT_EQ(deviceCheck(*signedBytes, keyA.publicKey, &info), TM_SIGNED_OK);
    EXPECT_EQ(info.package_size, 256u);
    EXPECT_EQ(info.package_version, 7u);
    uint8_t id[TM_SIGNED_KEY_ID_BYTES];
    tm_signed_key_id(reinterpret_cast<const uint8_t *>(keyA.publicKey.constData()), id);
    EXPECT_EQ(QByteArray(reinterpret_cast<const char *>(id), 8).toHex(), keyA.id.toLatin1());

    auto host = verifySignedPackage(*signedBytes, keyA.publicKey, QStringLiteral("m.tmpk"), &error);
    ASSERT_TRUE(host) << error.toStdString();
    EXPECT_EQ(host->version, 7u);
    EXPECT_EQ(host->keyId, keyA.id);
    EXPECT_EQ(host->package, package);
}

TEST_F(SignedPackage, UnsignedAndOtherKeyRefusedWithTheirOwnStatus)
{
    const QByteArray package = fakePackage(128);
    tm_signed_info_t info;
    EXPECT_EQ(deviceCheck(package, keyA.publicKey, &info), TM_SIGNED_UNSIGNED);
    QString error;
    auto signedBytes = signPackage(package, 1, keyB.id, *store, &error);
    ASSERT_TRUE(signedBytes) << error.toStdString();
    EXPECT_EQ(deviceCheck(*signedBytes, keyA.publicKey, &info), TM_SIGNED_WRONG_KEY);
    EXPECT_FALSE(verifySignedPackage(*signedBytes, keyA.publicKey, QStringLiteral("m.tmpk"), &error));
    EXPECT_TRUE(error.contains(QStringLiteral("m.tmpk"))) << error.toStdString();
    EXPECT_TRUE(error.contains(keyB.id)) << error.toStdString();
    // signing twice, version 0, a bad key id: refused on the host
    EXPECT_FALSE(signPackage(*signedBytes, 2, keyA.id, *store, &error));
    EXPECT_FALSE(signPackage(package, 0, keyA.id, *store, &error));
    EXPECT_FALSE(signPackage(package, 1, QStringLiteral("xyz"), *store, &error));
}

TEST_F(SignedPackage, EveryModifiedByteIsRefusedByDeviceAndHost)
{
    const QByteArray package = fakePackage(160);
    QString error;
    auto signedBytes = signPackage(package, 3, keyA.id, *store, &error);
    ASSERT_TRUE(signedBytes) << error.toStdString();
    for (int i = 0; i < signedBytes->size(); ++i) {
        QByteArray bad = *signedBytes;
        bad[i] = char(bad[i] ^ 0x01);
        tm_signed_info_t info;
        const tm_signed_status_t s = deviceCheck(bad, keyA.publicKey, &info);
        EXPECT_NE(s, TM_SIGNED_OK) << "byte " << i;
        // bytes of the package or the signature: a bad signature; the block's head: malformed,
        // another key, or (version, package total_size) a bad signature / not a signed layout
        if (i >= 16 && i < package.size())
            EXPECT_EQ(s, TM_SIGNED_BAD_SIGNATURE) << "byte " << i;
        if (i >= package.size() + 32)
            EXPECT_EQ(s, TM_SIGNED_BAD_SIGNATURE) << "byte " << i;
        EXPECT_FALSE(verifySignedPackage(bad, keyA.publicKey, QStringLiteral("m"), &error)) << "byte " << i;
    }
    // truncated anywhere: never OK
    for (int n = 0; n < signedBytes->size(); ++n) {
        tm_signed_info_t info;
        EXPECT_NE(deviceCheck(signedBytes->left(n), keyA.publicKey, &info), TM_SIGNED_OK) << n;
    }
}
