#include "SigningKeyStore.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QStandardPaths>

#include <sodium.h>

#include <algorithm>

#ifdef Q_OS_UNIX
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace tinyml::crypto
{

namespace
{

const char kSecretFormat[] = "tinyml-signing-key";
const char kPublicFormat[] = "tinyml-public-key";
constexpr int kFormatVersion = 1;

bool sodiumReady(QString *error)
{
    if (sodium_init() < 0) {
        *error = QStringLiteral("libsodium failed to initialise");
        return false;
    }
    return true;
}

bool makeKeyDirectory(const QString &dir, QString *error)
{
    if (!QDir().mkpath(dir)) {
        *error = QStringLiteral("cannot create the key folder %1").arg(dir);
        return false;
    }
    QFile::setPermissions(dir,
                          QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
    return true;
}

// Creates path with exactly `mode` permissions from the start (never wider, not even between
// create and chmod) and refuses to overwrite an existing file.
bool writeNewFile(const QString &path, const QByteArray &data, bool secret, QString *error)
{
#ifdef Q_OS_UNIX
    const QByteArray native = QFile::encodeName(path);
    const int fd =
        ::open(native.constData(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, secret ? 0600 : 0644);
    if (fd < 0) {
        *error = QStringLiteral("cannot create %1: %2")
                     .arg(path, QString::fromLocal8Bit(std::strerror(errno)));
        return false;
    }
    if (secret)
        ::fchmod(fd, 0600); // the umask can only narrow it; make it exact
    qint64 done = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(fd, data.constData() + done, size_t(data.size() - done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            *error = QStringLiteral("cannot write %1: %2")
                         .arg(path, QString::fromLocal8Bit(std::strerror(errno)));
            ::close(fd);
            QFile::remove(path);
            return false;
        }
        done += n;
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        *error = QStringLiteral("cannot write %1: %2")
                     .arg(path, QString::fromLocal8Bit(std::strerror(errno)));
        QFile::remove(path);
        return false;
    }
    return true;
#else
    QFile f(path);
    if (f.exists() || !f.open(QIODevice::WriteOnly | QIODevice::NewOnly)) {
        *error = QStringLiteral("cannot create %1: %2").arg(path, f.errorString());
        return false;
    }
    if (secret)
        f.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    if (f.write(data) != data.size()) {
        *error = QStringLiteral("cannot write %1: %2").arg(path, f.errorString());
        f.close();
        f.remove();
        return false;
    }
    return true;
#endif
}

// Reads a key file as a JSON object; error names the file.
std::optional<QJsonObject> readKeyFile(const QString &path, QString *error)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read %1: %2").arg(path, f.errorString());
        return std::nullopt;
    }
    const QByteArray data = f.read(64 * 1024);
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(data, &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject()) {
        *error =
            QStringLiteral("%1: not a key file (JSON: %2)")
                .arg(path, pe.error != QJsonParseError::NoError ? pe.errorString()
                                                                : QStringLiteral("not an object"));
        return std::nullopt;
    }
    return doc.object();
}

// hex field of exactly `bytes` bytes; error names the file and the field.
std::optional<QByteArray> hexField(const QJsonObject &o, const char *field, int bytes,
                                   const QString &path, QString *error)
{
    const QString text = o.value(QLatin1String(field)).toString();
    const QByteArray raw = QByteArray::fromHex(text.toLatin1());
    if (text.size() != 2 * bytes || raw.size() != bytes ||
        raw.toHex() != text.toLower().toLatin1()) {
        *error = QStringLiteral("%1: field \"%2\" must be %3 hex digits")
                     .arg(path, QLatin1String(field))
                     .arg(2 * bytes);
        return std::nullopt;
    }
    return raw;
}

std::optional<SigningKeyInfo> parsePublic(const QString &path, QString *error)
{
    const auto o = readKeyFile(path, error);
    if (!o)
        return std::nullopt;
    if (o->value(QStringLiteral("format")).toString() != QLatin1String(kPublicFormat)) {
        *error = QStringLiteral("%1: field \"format\" must be \"%2\"")
                     .arg(path, QLatin1String(kPublicFormat));
        return std::nullopt;
    }
    if (o->value(QStringLiteral("version")).toInt(-1) != kFormatVersion) {
        *error = QStringLiteral("%1: field \"version\" must be %2 (a newer workbench wrote it?)")
                     .arg(path)
                     .arg(kFormatVersion);
        return std::nullopt;
    }
    const auto pk = hexField(*o, "public_key", crypto_sign_PUBLICKEYBYTES, path, error);
    if (!pk)
        return std::nullopt;
    SigningKeyInfo info;
    info.publicKey = *pk;
    info.id = SigningKeyStore::keyId(info.publicKey);
    if (o->value(QStringLiteral("id")).toString() != info.id) {
        *error = QStringLiteral("%1: field \"id\" does not match the public key (expected %2)")
                     .arg(path, info.id);
        return std::nullopt;
    }
    info.name = o->value(QStringLiteral("name")).toString();
    info.created =
        QDateTime::fromString(o->value(QStringLiteral("created")).toString(), Qt::ISODate);
    return info;
}

} // namespace

SigningKeyStore::SigningKeyStore(QString dir) : m_dir(std::move(dir))
{
}

QString SigningKeyStore::defaultDirectory()
{
    const QByteArray env = qgetenv("TINYML_KEY_DIR");
    if (!env.isEmpty())
        return QFile::decodeName(env);
    return QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation) +
           QStringLiteral("/TinyML Workbench/keys");
}

QString SigningKeyStore::keyId(const QByteArray &publicKey)
{
    const QByteArray digest =
        QCryptographicHash::hash(publicKey.toHex(), QCryptographicHash::Sha512);
    return QString::fromLatin1(digest.left(8).toHex());
}

std::optional<SigningKeyInfo> SigningKeyStore::create(const QString &name, QString *error)
{
    if (!sodiumReady(error) || !makeKeyDirectory(m_dir, error))
        return std::nullopt;
    QByteArray pk(crypto_sign_PUBLICKEYBYTES, '\0');
    QByteArray sk(crypto_sign_SECRETKEYBYTES, '\0');
    crypto_sign_keypair(reinterpret_cast<unsigned char *>(pk.data()),
                        reinterpret_cast<unsigned char *>(sk.data()));

    SigningKeyInfo info;
    info.id = keyId(pk);
    info.name = name;
    info.publicKey = pk;
    info.created = QDateTime::currentDateTimeUtc();
    info.secretKeyPath = QDir(m_dir).filePath(info.id + QStringLiteral(".key"));
    info.hasSecretKey = true;

    QJsonObject pub{{QStringLiteral("format"), QLatin1String(kPublicFormat)},
                    {QStringLiteral("version"), kFormatVersion},
                    {QStringLiteral("id"), info.id},
                    {QStringLiteral("name"), name},
                    {QStringLiteral("created"), info.created.toString(Qt::ISODateWithMs)},
                    {QStringLiteral("public_key"), QString::fromLatin1(pk.toHex())}};
    QJsonObject sec = pub;
    sec.insert(QStringLiteral("format"), QLatin1String(kSecretFormat));
    QByteArray skHex = sk.toHex();
    sec.insert(QStringLiteral("secret_key"), QString::fromLatin1(skHex));
    QByteArray secretJson = QJsonDocument(sec).toJson();
    sodium_memzero(sk.data(), size_t(sk.size()));
    sodium_memzero(skHex.data(), size_t(skHex.size()));

    const bool ok = writeNewFile(info.secretKeyPath, secretJson, true, error) &&
                    writeNewFile(QDir(m_dir).filePath(info.id + QStringLiteral(".pub")),
                                 QJsonDocument(pub).toJson(), false, error);
    sodium_memzero(secretJson.data(), size_t(secretJson.size()));
    if (!ok) {
        QFile::remove(info.secretKeyPath);
        return std::nullopt;
    }
    return info;
}

std::optional<QList<SigningKeyInfo>> SigningKeyStore::list(QString *error) const
{
    QList<SigningKeyInfo> keys;
    const QDir dir(m_dir);
    if (!dir.exists())
        return keys;
    for (const QString &file : dir.entryList({QStringLiteral("*.pub")}, QDir::Files, QDir::Name)) {
        auto info = parsePublic(dir.filePath(file), error);
        if (!info)
            return std::nullopt;
        info->secretKeyPath = dir.filePath(info->id + QStringLiteral(".key"));
        const QFileInfo secret(info->secretKeyPath);
        info->hasSecretKey = secret.exists();
        const auto wide = QFileDevice::ReadGroup | QFileDevice::WriteGroup |
                          QFileDevice::ReadOther | QFileDevice::WriteOther;
        if (info->hasSecretKey && (secret.permissions() & wide))
            info->warning = QStringLiteral("%1 is readable or writable by other users; run "
                                           "`chmod 600 %1`")
                                .arg(info->secretKeyPath);
        keys << *info;
    }
    std::stable_sort(keys.begin(), keys.end(),
                     [](const SigningKeyInfo &a, const SigningKeyInfo &b) {
                         return a.created != b.created ? a.created < b.created : a.id < b.id;
                     });
    return keys;
}

std::optional<QByteArray> SigningKeyStore::sign(const QString &id, const QByteArray &message,
                                                QString *error) const
{
    if (!sodiumReady(error))
        return std::nullopt;
    const QString path = QDir(m_dir).filePath(id + QStringLiteral(".key"));
    if (!QFileInfo::exists(path)) {
        *error = QStringLiteral("no signing key %1 in %2 (`tinyml keys list`)").arg(id, m_dir);
        return std::nullopt;
    }
    const auto o = readKeyFile(path, error);
    if (!o)
        return std::nullopt;
    if (o->value(QStringLiteral("format")).toString() != QLatin1String(kSecretFormat)) {
        *error = QStringLiteral("%1: field \"format\" must be \"%2\"")
                     .arg(path, QLatin1String(kSecretFormat));
        return std::nullopt;
    }
    auto sk = hexField(*o, "secret_key", crypto_sign_SECRETKEYBYTES, path, error);
    if (!sk)
        return std::nullopt;
    // libsodium's secret key is seed then public key: the public key derived from the seed
    // must be the stored one, and the one the id names.
    QByteArray derivedPk(crypto_sign_PUBLICKEYBYTES, '\0');
    QByteArray derivedSk(crypto_sign_SECRETKEYBYTES, '\0');
    crypto_sign_seed_keypair(reinterpret_cast<unsigned char *>(derivedPk.data()),
                             reinterpret_cast<unsigned char *>(derivedSk.data()),
                             reinterpret_cast<const unsigned char *>(sk->constData()));
    sodium_memzero(derivedSk.data(), size_t(derivedSk.size()));
    if (derivedPk != sk->right(crypto_sign_PUBLICKEYBYTES) || keyId(derivedPk) != id) {
        sodium_memzero(sk->data(), size_t(sk->size()));
        *error = QStringLiteral("%1: field \"secret_key\" does not belong to key %2").arg(path, id);
        return std::nullopt;
    }
    QByteArray sig(crypto_sign_BYTES, '\0');
    crypto_sign_detached(reinterpret_cast<unsigned char *>(sig.data()), nullptr,
                         reinterpret_cast<const unsigned char *>(message.constData()),
                         size_t(message.size()),
                         reinterpret_cast<const unsigned char *>(sk->constData()));
    sodium_memzero(sk->data(), size_t(sk->size()));
    return sig;
}

} // namespace tinyml::crypto
