// The user's key store (core/crypto/SigningKeyStore): a new key's files and permissions, its
// id, listing, signing, and the device verifier (tm_ed25519) accepting what it signs.
#include <gtest/gtest.h>

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>

#include "crypto/SigningKeyStore.h"
#include "crypto_test_support.h"
#include "tm_ed25519.h"
#include "tm_sha512.h"

#include <sys/stat.h>

using tinyml::crypto::SigningKeyStore;

namespace
{

QJsonObject readJson(const QString &path)
{
    QFile f(path);
    EXPECT_TRUE(f.open(QIODevice::ReadOnly)) << path.toStdString();
    return QJsonDocument::fromJson(f.readAll()).object();
}

void writeJson(const QString &path, const QJsonObject &o)
{
    QFile f(path);
    ASSERT_TRUE(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    f.write(QJsonDocument(o).toJson());
}

TEST(CryptoSigningKeys, NewKeyFilesPermissionsAndId)
{
    QTemporaryDir tmp;
    const QString dir = tmp.filePath(QStringLiteral("keys"));
    SigningKeyStore store(dir);
    QString error;
    const auto key = store.create(QStringLiteral("kws"), &error);
    ASSERT_TRUE(key) << error.toStdString();

    // id: first 8 bytes of SHA-512 over the public key's lowercase hex (computed here with
    // the device's SHA-512, independently of Qt's).
    const QByteArray hex = key->publicKey.toHex();
    uint8_t digest[TM_SHA512_DIGEST_BYTES];
    tm_sha512(hex.constData(), size_t(hex.size()), digest);
    EXPECT_EQ(key->id.toStdString(), toHex(digest, 8));
    EXPECT_EQ(key->publicKey.size(), 32);

    const QFileInfo secret(QDir(dir).filePath(key->id + QStringLiteral(".key")));
    const QFileInfo pub(QDir(dir).filePath(key->id + QStringLiteral(".pub")));
    ASSERT_TRUE(secret.exists());
    ASSERT_TRUE(pub.exists());
    struct stat st {
    };
    ASSERT_EQ(::stat(QFile::encodeName(secret.filePath()).constData(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << "the secret key must be 0600";
    ASSERT_EQ(::stat(QFile::encodeName(dir).constData(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u) << "the key folder must be 0700";
    EXPECT_TRUE(readJson(pub.filePath()).value(QStringLiteral("secret_key")).isUndefined());
    EXPECT_EQ(readJson(secret.filePath()).value(QStringLiteral("secret_key")).toString().size(),
              128);
}

TEST(CryptoSigningKeys, ListAndSignVerifiedByTheDeviceVerifier)
{
    QTemporaryDir tmp;
    SigningKeyStore store(tmp.path());
    QString error;
    const auto a = store.create(QStringLiteral("first"), &error);
    const auto b = store.create(QString(), &error);
    ASSERT_TRUE(a && b) << error.toStdString();
    ASSERT_NE(a->id, b->id);

    const auto keys = store.list(&error);
    ASSERT_TRUE(keys) << error.toStdString();
    ASSERT_EQ(keys->size(), 2);
    const int ia = keys->at(0).id == a->id ? 0 : 1;
    EXPECT_EQ(keys->at(ia).id.toStdString(), a->id.toStdString());
    EXPECT_EQ(keys->at(1 - ia).id.toStdString(), b->id.toStdString());
    EXPECT_EQ(keys->at(ia).name.toStdString(), "first");
    EXPECT_EQ(keys->at(ia).publicKey, a->publicKey);
    EXPECT_TRUE(keys->at(ia).hasSecretKey);
    EXPECT_TRUE(keys->at(ia).warning.isEmpty());

    const QByteArray msg("a model package, or any bytes");
    const auto sig = store.sign(a->id, msg, &error);
    ASSERT_TRUE(sig) << error.toStdString();
    ASSERT_EQ(sig->size(), 64);
    auto u8 = [](const QByteArray &x) { return reinterpret_cast<const uint8_t *>(x.constData()); };
    EXPECT_EQ(tm_ed25519_verify(u8(*sig), u8(a->publicKey), msg.constData(), size_t(msg.size())),
              TM_ED25519_OK);
    EXPECT_EQ(tm_ed25519_verify(u8(*sig), u8(b->publicKey), msg.constData(), size_t(msg.size())),
              TM_ED25519_BAD_SIGNATURE);

    EXPECT_FALSE(store.sign(QStringLiteral("0123456789abcdef"), msg, &error));
    EXPECT_TRUE(error.contains(QStringLiteral("no signing key 0123456789abcdef")))
        << error.toStdString();
}

TEST(CryptoSigningKeys, BadFilesAreNamedWithTheirField)
{
    QTemporaryDir tmp;
    SigningKeyStore store(tmp.path());
    QString error;
    const auto key = store.create(QString(), &error);
    ASSERT_TRUE(key) << error.toStdString();
    const QString pubPath = QDir(tmp.path()).filePath(key->id + QStringLiteral(".pub"));
    const QString keyPath = QDir(tmp.path()).filePath(key->id + QStringLiteral(".key"));

    // A public key that does not match its id.
    QJsonObject pub = readJson(pubPath);
    QString pk = pub.value(QStringLiteral("public_key")).toString();
    pk[0] = pk[0] == QLatin1Char('0') ? QLatin1Char('1') : QLatin1Char('0');
    pub.insert(QStringLiteral("public_key"), pk);
    writeJson(pubPath, pub);
    EXPECT_FALSE(store.list(&error));
    EXPECT_TRUE(error.contains(pubPath) && error.contains(QStringLiteral("\"id\"")))
        << error.toStdString();

    pub.insert(QStringLiteral("public_key"), QStringLiteral("zz"));
    writeJson(pubPath, pub);
    EXPECT_FALSE(store.list(&error));
    EXPECT_TRUE(error.contains(QStringLiteral("\"public_key\""))) << error.toStdString();

    // A secret key whose seed was changed no longer belongs to the id: refused, no signature.
    QJsonObject sec = readJson(keyPath);
    QString sk = sec.value(QStringLiteral("secret_key")).toString();
    sk[3] = sk[3] == QLatin1Char('a') ? QLatin1Char('b') : QLatin1Char('a');
    sec.insert(QStringLiteral("secret_key"), sk);
    writeJson(keyPath, sec);
    EXPECT_FALSE(store.sign(key->id, QByteArray("x"), &error));
    EXPECT_TRUE(error.contains(keyPath) && error.contains(QStringLiteral("\"secret_key\"")))
        << error.toStdString();
}

TEST(CryptoSigningKeys, WidePermissionsOnASecretKeyAreReported)
{
    QTemporaryDir tmp;
    SigningKeyStore store(tmp.path());
    QString error;
    const auto key = store.create(QString(), &error);
    ASSERT_TRUE(key) << error.toStdString();
    QFile::setPermissions(key->secretKeyPath,
                          QFile::permissions(key->secretKeyPath) | QFileDevice::ReadOther);
    const auto keys = store.list(&error);
    ASSERT_TRUE(keys) << error.toStdString();
    ASSERT_EQ(keys->size(), 1);
    EXPECT_TRUE(keys->at(0).warning.contains(QStringLiteral("chmod 600")))
        << keys->at(0).warning.toStdString();
}

TEST(CryptoSigningKeys, KeyDirFromEnvironment)
{
    qputenv("TINYML_KEY_DIR", "/tmp/some-key-dir");
    EXPECT_EQ(SigningKeyStore::defaultDirectory(), QStringLiteral("/tmp/some-key-dir"));
    qunsetenv("TINYML_KEY_DIR");
    EXPECT_TRUE(
        SigningKeyStore::defaultDirectory().endsWith(QStringLiteral("/TinyML Workbench/keys")));
}

} // namespace
