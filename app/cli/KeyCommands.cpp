// tinyml keys new|list, sign, provision, attest: the user's Ed25519 signing keys for model
// packages (crypto::SigningKeyStore; folder: $TINYML_KEY_DIR or the workbench's data folder),
// signed packages, locking a board to a key and giving it a device identity, and checking a
// board's signed attestation (crypto::verifyAttestation).
#include "CliCommands.h"

#include "BoardConnection.h"
#include "ModelPackageWriter.h"
#include "SignedPackages.h"
#include "crypto/Attestation.h"
#include "crypto/ProvisionedDevices.h"
#include "crypto/SignedPackage.h"
#include "crypto/SigningKeyStore.h"
#include "store/ProjectStore.h"
#include "tm_attest.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>

#include <QCommandLineParser>
#include <QJsonArray>
#include <QTextStream>

namespace tinyml::cli
{

namespace
{

QJsonObject keyJson(const crypto::SigningKeyInfo &k)
{
    QJsonObject o{
        {QStringLiteral("id"), k.id},
        {QStringLiteral("name"), k.name},
        {QStringLiteral("public_key"), QString::fromLatin1(k.publicKey.toHex())},
        {QStringLiteral("created"), k.created.toString(Qt::ISODate)},
        {QStringLiteral("secret_key_file"), k.hasSecretKey ? k.secretKeyPath : QString()}};
    if (!k.warning.isEmpty())
        o.insert(QStringLiteral("warning"), k.warning);
    return o;
}

int keysNew(const QString &dir, const QString &name, bool json)
{
    crypto::SigningKeyStore store(dir);
    QString error;
    const auto key = store.create(name, &error);
    if (!key)
        return fail(error);
    if (json) {
        printJson(keyJson(*key));
        return Ok;
    }
    QTextStream(stdout) << "Created signing key " << key->id
                        << (key->name.isEmpty() ? QString()
                                                : QStringLiteral(" (%1)").arg(key->name))
                        << "\n  public key " << key->publicKey.toHex() << "\n  secret key "
                        << key->secretKeyPath << " (mode 0600)\n";
    return Ok;
}

int keysList(const crypto::SigningKeyStore &store, bool json)
{
    QString error;
    const auto keys = store.list(&error);
    if (!keys)
        return fail(error);
    QTextStream err(stderr);
    for (const auto &k : *keys) {
        if (!k.warning.isEmpty())
            err << "tinyml: warning: " << k.warning << "\n";
    }
    err.flush();
    if (json) {
        QJsonArray arr;
        for (const auto &k : *keys)
            arr.append(keyJson(k));
        printJson({{QStringLiteral("key_dir"), store.directory()}, {QStringLiteral("keys"), arr}});
        return Ok;
    }
    QTextStream out(stdout);
    if (keys->isEmpty()) {
        out << "No signing keys in " << store.directory() << " (create one: tinyml keys new)\n";
        return Ok;
    }
    out << "Signing keys in " << store.directory() << ":\n";
    for (const auto &k : *keys) {
        out << "  " << k.id << "  " << k.created.toString(Qt::ISODate) << "  "
            << (k.hasSecretKey ? "secret+public" : "public only  ") << "  " << k.name << "\n";
    }
    return Ok;
}

const QString kCommand = QStringLiteral("keys");

int cmdKeys(const QStringList &args)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Create and list the Ed25519 key pairs that sign model packages. Secret keys stay in the\n"
        "key folder (mode 0600), never in a project: $TINYML_KEY_DIR, else the workbench's data\n"
        "folder. A key's id is the first 8 bytes of SHA-512 of its public key's hex.\n"
        "  new [--name TEXT] [--json]   create a key pair\n"
        "  list [--json]                one row per key: id, created, files, name"));
    p.addPositionalArgument(QStringLiteral("ACTION"), QStringLiteral("new | list"));
    p.addOption({QStringLiteral("name"),
                 QStringLiteral("new: a label for the key, e.g. the project"),
                 QStringLiteral("TEXT")});
    p.addOption({QStringLiteral("json"), QStringLiteral("print one JSON object")});
    int code = 0;
    if (!parseOrReport(p, args, kCommand, 1, &code))
        return code;
    const QString action = p.positionalArguments().first();
    const bool json = p.isSet(QStringLiteral("json"));
    crypto::SigningKeyStore store(crypto::SigningKeyStore::defaultDirectory());
    if (action == QLatin1String("new"))
        return keysNew(store.directory(), p.value(QStringLiteral("name")), json);
    if (action == QLatin1String("list")) {
        if (p.isSet(QStringLiteral("name")))
            return usageError(kCommand, QStringLiteral("--name is for `keys new`"));
        return keysList(store, json);
    }
    return usageError(kCommand,
                      QStringLiteral("unknown action \"%1\"; expected new or list").arg(action));
}

// The key a command uses: --key, else the only key with a secret key (as `sign` picks it).
// nullopt after printing a usage error (*exitCode set).
std::optional<crypto::SigningKeyInfo> chooseKey(const crypto::SigningKeyStore &keys, const QCommandLineParser &p,
                                                const QString &command, int *exitCode)
{
    QString error;
    const auto all = keys.list(&error);
    if (!all) {
        *exitCode = fail(error);
        return std::nullopt;
    }
    const QString wanted = p.value(QStringLiteral("key")).toLower();
    if (!wanted.isEmpty()) {
        for (const auto &k : *all) {
            if (k.id == wanted)
                return k;
        }
        *exitCode = usageError(command, QStringLiteral("no key %1 in %2 (see `tinyml keys list`)").arg(wanted, keys.directory()));
        return std::nullopt;
    }
    QList<crypto::SigningKeyInfo> withSecret;
    for (const auto &k : *all) {
        if (k.hasSecretKey)
            withSecret << k;
    }
    if (withSecret.size() == 1)
        return withSecret.first();
    QStringList ids;
    for (const auto &k : withSecret)
        ids << k.id;
    *exitCode = usageError(command, withSecret.isEmpty()
                                        ? QStringLiteral("no signing key in %1: create one with `tinyml keys new`")
                                              .arg(keys.directory())
                                        : QStringLiteral("%1 signing keys (%2): choose one with --key")
                                              .arg(withSecret.size())
                                              .arg(ids.join(QStringLiteral(", "))));
    return std::nullopt;
}

// The highest package version among the signed packages in dir (0 when none): the default
// next version is one more, so the anti-rollback counter of a board only ever goes up.
quint32 highestSignedVersion(const QString &dir)
{
    const auto found = deploy::readSignedPackages(dir);   // newest first
    return found.isEmpty() ? 0 : found.first().version;
}

int cmdSign(const QStringList &args)
{
    const QString command = QStringLiteral("sign");
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Sign the project's int8 model package with an Ed25519 key of the key folder: the package\n"
        "is unchanged and a 96-byte block follows it (version, key id, signature;\n"
        "deploy/MODEL_PACKAGE.md). The version is the board's anti-rollback value: by default one\n"
        "more than the highest signed package in the output folder (PROJECT's folder/signed)."));
    p.addPositionalArgument(QStringLiteral("PROJECT"), QStringLiteral("the project file"));
    p.addOption({QStringLiteral("model"), QStringLiteral("model id (default: the project's latest int8 model)"),
                 QStringLiteral("ID")});
    p.addOption({QStringLiteral("key"), QStringLiteral("signing key id (default: the only key with a secret key)"),
                 QStringLiteral("ID")});
    p.addOption({QStringLiteral("version"), QStringLiteral("package version >= 1 (default: next)"), QStringLiteral("N")});
    p.addOption({QStringLiteral("out"), QStringLiteral("output file (default: signed/model-ID-vN.tmpks beside PROJECT)"),
                 QStringLiteral("FILE")});
    p.addOption({QStringLiteral("json"), QStringLiteral("print one JSON object")});
    int code = 0;
    if (!parseOrReport(p, args, command, 1, &code))
        return code;
    const QString projectPath = p.positionalArguments().first();
    QString error;
    auto store = ProjectStore::openReadOnly(projectPath, &error);
    if (!store)
        return fail(error);
    auto stored = pickModel(*store, p, &error);
    if (!stored)
        return fail(error);
    deploy::ModelPackageWriter writer;
    auto package = packageModel(*stored, writer, &error);
    if (!package)
        return fail(error);

    crypto::SigningKeyStore keys(crypto::SigningKeyStore::defaultDirectory());
    QString keyId = p.value(QStringLiteral("key")).toLower();
    if (keyId.isEmpty()) {
        const auto key = chooseKey(keys, p, command, &code);
        if (!key)
            return code;
        keyId = key->id;
    }
    const QString outArg = p.value(QStringLiteral("out"));
    const QString outDir = outArg.isEmpty()
                               ? deploy::signedPackagesFolder(projectPath)
                               : QFileInfo(outArg).absolutePath();
    quint32 version = highestSignedVersion(outDir) + 1;
    if (p.isSet(QStringLiteral("version"))) {
        bool ok = false;
        version = p.value(QStringLiteral("version")).toUInt(&ok);
        if (!ok || version == 0)
            return usageError(command, QStringLiteral("--version must be a whole number from 1 to 4294967295, got \"%1\"")
                                           .arg(p.value(QStringLiteral("version"))));
    }
    auto signedBytes = crypto::signPackage(*package, version, keyId, keys, &error);
    if (!signedBytes)
        return fail(error);
    const QString out = outArg.isEmpty()
                            ? QDir(outDir).filePath(QStringLiteral("model-%1-v%2.tmpks").arg(stored->id).arg(version))
                            : QFileInfo(outArg).absoluteFilePath();
    if (!QDir().mkpath(outDir))
        return fail(QStringLiteral("cannot create %1").arg(outDir));
    QSaveFile file(out);
    if (!file.open(QIODevice::WriteOnly) || file.write(*signedBytes) != signedBytes->size() || !file.commit())
        return fail(QStringLiteral("%1: cannot write: %2").arg(out, file.errorString()));
    if (p.isSet(QStringLiteral("json"))) {
        printJson({{QStringLiteral("file"), out},
                   {QStringLiteral("model_id"), double(stored->id)},
                   {QStringLiteral("model_name"), stored->name},
                   {QStringLiteral("version"), double(version)},
                   {QStringLiteral("key_id"), keyId},
                   {QStringLiteral("package_bytes"), double(package->size())},
                   {QStringLiteral("signed_bytes"), double(signedBytes->size())}});
    } else {
        QTextStream(stdout) << "Signed model " << stored->id << " (" << stored->name << ") with key " << keyId
                            << ", version " << version << ": " << out << " (" << package->size() << " + 96 bytes)\n";
    }
    return Ok;
}

int cmdProvision(const QStringList &args)
{
    const QString command = QStringLiteral("provision");
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Write a signing key's public key into a board running the TinyML agent, once: from then on\n"
        "the board commits only model packages signed with that key (`tinyml sign`, then\n"
        "`tinyml flash --package FILE`), never an older version than the one it runs (anti-rollback),\n"
        "and refuses another key. A virtual board keeps the key in its state folder's flash file.\n"
        "Provisioning again with the same key changes nothing. An agent that keeps a device identity\n"
        "(attestation) also gets one, once: a random Ed25519 seed sent to the board only; its public\n"
        "key is recorded in devices.json beside the keys, for `tinyml attest`."));
    p.addOption({QStringLiteral("board"), QStringLiteral("board id; virtual boards are started automatically"), QStringLiteral("ID")});
    p.addOption({QStringLiteral("port"), QStringLiteral("serial port of a board running the TinyML agent"), QStringLiteral("PATH")});
    p.addOption({QStringLiteral("baud"), QStringLiteral("baud rate"), QStringLiteral("N"), QStringLiteral("115200")});
    p.addOption({QStringLiteral("key"), QStringLiteral("key id (default: the only key with a secret key, as for `sign`)"),
                 QStringLiteral("ID")});
    p.addOption({QStringLiteral("json"), QStringLiteral("print one JSON object")});
    int code = 0;
    if (!parseOrReport(p, args, command, 0, &code))
        return code;
    const bool json = p.isSet(QStringLiteral("json"));
    crypto::SigningKeyStore keys(crypto::SigningKeyStore::defaultDirectory());
    const auto key = chooseKey(keys, p, command, &code);
    if (!key)
        return code;
    Connection c;
    if (!connectBoard(p, command, json, &c, &code))
        return code;
    const auto before = c.link->info().security;
    const bool already = before && before->provisioned && before->keyId == key->id;
    QString error;
    // A device identity when the agent keeps one: a fresh seed that only the board keeps (this
    // host forgets it once sent); the board writes it once and answers its public key.
    const bool withIdentity = c.link->supportsAttestation();
    std::optional<QString> boardKey;
    QString deviceId;
    bool newIdentity = false;
    if (withIdentity) {
        auto identity = crypto::newDeviceIdentity();
        if (identity.seed.size() != 32)
            return fail(QStringLiteral("cannot draw a random device identity (libsodium)"));
        const QByteArray pk = identity.publicKey;
        const auto reply = c.link->provisionWithIdentity(key->publicKey, identity.seed, &error);
        crypto::wipeSecret(identity.seed);
        if (!reply)
            return fail(QStringLiteral("%1: %2").arg(c.definition.id, error));
        boardKey = reply->keyId;
        newIdentity = reply->devicePublicKey == pk;
        deviceId = crypto::SigningKeyStore::keyId(reply->devicePublicKey);
        crypto::ProvisionedDevices devices(keys.directory());
        QString findError;
        const auto known = devices.find(deviceId, &findError);
        if (!findError.isEmpty())
            return fail(findError);
        // A board that already had an identity this host never recorded (provisioned by
        // another host, or devices.json lost): its key is taken on first use, and said so.
        if (!newIdentity && !known && !json)
            QTextStream(stderr) << "note: " << c.definition.id << " already had device identity " << deviceId
                                << ", which this host had not recorded; recording it now (trust on first use)\n";
        crypto::ProvisionedDevice d{deviceId, c.definition.id, reply->devicePublicKey, key->id,
                                    known ? known->provisioned : QDateTime::currentDateTimeUtc()};
        if (!devices.record(d, &error))
            return fail(error);
    } else {
        boardKey = c.link->provision(key->publicKey, &error);
        if (!boardKey)
            return fail(QStringLiteral("%1: %2").arg(c.definition.id, error));
    }
    if (*boardKey != key->id)
        return fail(QStringLiteral("%1 reports key id %2 for key %3: the agent computes key ids differently")
                        .arg(c.definition.id, *boardKey, key->id));
    const auto after = c.link->info().security;
    const quint32 counter = after ? after->antiRollbackCounter : 0;
    if (json) {
        printJson({{QStringLiteral("board"), c.definition.id},
                   {QStringLiteral("key_id"), key->id},
                   {QStringLiteral("already_provisioned"), already},
                   {QStringLiteral("anti_rollback_counter"), double(counter)},
                   {QStringLiteral("device_id"), deviceId},
                   {QStringLiteral("new_device_identity"), newIdentity}});
    } else {
        QTextStream(stdout) << (already ? "Already provisioned: " : "Provisioned ") << c.definition.id
                            << (already ? " trusts key " : " with key ") << key->id
                            << (key->name.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(key->name))
                            << "; it now takes packages signed with it only (anti-rollback counter " << counter
                            << ")\n";
        if (withIdentity)
            QTextStream(stdout) << "  device identity " << deviceId
                                << (newIdentity ? " (new; its secret key is on the board only)"
                                                : " (the board's existing identity)")
                                << ", recorded in " << crypto::ProvisionedDevices(keys.directory()).filePath() << "\n";
        else
            QTextStream(stdout) << "  this agent keeps no device identity (INFO CAPABILITIES bit 9): `tinyml attest` "
                                   "cannot check it\n";
    }
    return Ok;
}

QString hexOrEmpty(bool present, const QByteArray &b)
{
    return present ? QString::fromLatin1(b.toHex()) : QString();
}

int cmdAttest(const QStringList &args)
{
    const QString command = QStringLiteral("attest");
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Ask a provisioned board to attest: the host sends a fresh random nonce, the board answers its\n"
        "device identity, the SHA-512 of the agent image it runs (measured by the agent itself), the\n"
        "SHA-512 and version of its active package, its anti-rollback counter and error counters, and\n"
        "the nonce, signed with the device identity key written at `tinyml provision`. The host checks\n"
        "the signature, the nonce and that the key is the one it recorded; with --package FILE also that\n"
        "the board runs exactly that file. Exit status 0 only when verified."));
    p.addOption({QStringLiteral("board"), QStringLiteral("board id; virtual boards are started automatically"), QStringLiteral("ID")});
    p.addOption({QStringLiteral("port"), QStringLiteral("serial port of a board running the TinyML agent"), QStringLiteral("PATH")});
    p.addOption({QStringLiteral("baud"), QStringLiteral("baud rate"), QStringLiteral("N"), QStringLiteral("115200")});
    p.addOption({QStringLiteral("package"),
                 QStringLiteral("the package file the board should run (as flashed, e.g. the signed file)"),
                 QStringLiteral("FILE")});
    p.addOption({QStringLiteral("json"), QStringLiteral("print one JSON object")});
    int code = 0;
    if (!parseOrReport(p, args, command, 0, &code))
        return code;
    const bool json = p.isSet(QStringLiteral("json"));
    QByteArray expectedPackage;
    if (p.isSet(QStringLiteral("package"))) {
        QFile f(p.value(QStringLiteral("package")));
        if (!f.open(QIODevice::ReadOnly))
            return fail(QStringLiteral("%1: cannot read: %2").arg(f.fileName(), f.errorString()));
        expectedPackage = f.readAll();
        if (expectedPackage.isEmpty())
            return fail(QStringLiteral("%1: empty file").arg(f.fileName()));
    }
    Connection c;
    if (!connectBoard(p, command, json, &c, &code))
        return code;
    const QByteArray nonce = crypto::attestationNonce();
    if (nonce.size() != 32)
        return fail(QStringLiteral("cannot draw a random nonce (libsodium)"));
    QString error;
    const auto reply = c.link->attest(nonce, &error);
    if (!reply)
        return fail(QStringLiteral("%1: %2").arg(c.definition.id, error));
    // the record of the device key the statement names (the statement is checked against it)
    crypto::ProvisionedDevices devices(crypto::SigningKeyStore::defaultDirectory());
    tm_attest_t peek;
    QByteArray expectedKey;
    if (tm_attest_parse(reinterpret_cast<const uint8_t *>(reply->constData()), size_t(reply->size()), &peek) ==
        TM_ATTEST_OK) {
        QString findError;
        const QString id = QString::fromLatin1(QByteArray(reinterpret_cast<const char *>(peek.device_id), 8).toHex());
        const auto known = devices.find(id, &findError);
        if (!findError.isEmpty())
            return fail(findError);
        if (known && known->board != c.definition.id) {
            error = QStringLiteral("device %1 was provisioned as board %2, it answers as %3")
                        .arg(id, known->board, c.definition.id);
        } else if (known) {
            expectedKey = known->devicePublicKey;
        } else {
            // a board of this kind provisioned here with another key: name it
            const auto same = devices.forBoard(c.definition.id, &findError);
            if (same && !same->isEmpty())
                error = QStringLiteral("device key %1 is not the one recorded when %2 was provisioned (%3)")
                            .arg(id, c.definition.id, same->first().deviceId);
        }
    }
    auto r = crypto::verifyAttestation(*reply, nonce, expectedKey, expectedPackage);
    if (r.verified == false && !error.isEmpty() && r.parsed && r.reason.contains(QStringLiteral("no record")))
        r.reason = error;
    else if (!error.isEmpty() && r.verified) {
        r.verified = false;
        r.reason = error;
    }
    if (json) {
        printJson({{QStringLiteral("board"), c.definition.id},
                   {QStringLiteral("device_id"), r.deviceId},
                   {QStringLiteral("firmware_hash"), hexOrEmpty(r.hasFirmwareHash, r.firmwareHash)},
                   {QStringLiteral("package_hash"), hexOrEmpty(r.hasPackage, r.packageHash)},
                   {QStringLiteral("package_version"), double(r.packageVersion)},
                   {QStringLiteral("package_bytes"), double(r.packageSize)},
                   {QStringLiteral("counter"), double(r.counter)},
                   {QStringLiteral("project_key_id"), r.projectKeyId},
                   {QStringLiteral("frames_dropped"), double(r.framesDropped)},
                   {QStringLiteral("error_replies"), double(r.errorReplies)},
                   {QStringLiteral("counter_ticks"), double(r.uptimeTicks)},
                   {QStringLiteral("nonce"), QString::fromLatin1(nonce.toHex())},
                   {QStringLiteral("verified"), r.verified},
                   {QStringLiteral("reason"), r.reason}});
    } else {
        QTextStream out(stdout);
        out << (r.verified ? "Verified: " : "NOT verified: ") << c.definition.id;
        if (r.parsed)
            out << " (device " << r.deviceId << ")";
        out << "\n";
        if (!r.verified)
            out << "  reason: " << r.reason << "\n";
        if (r.parsed) {
            out << "  firmware SHA-512  " << (r.hasFirmwareHash ? QString::fromLatin1(r.firmwareHash.toHex()) : QStringLiteral("(not measured by this port)")) << "\n";
            if (r.hasPackage)
                out << "  package SHA-512   " << r.packageHash.toHex() << "\n  package           " << r.packageSize
                    << " bytes in slot " << r.activeSlot << ", version " << r.packageVersion
                    << (r.packageVersion ? "" : " (unsigned)") << "\n";
            else
                out << "  package           none active\n";
            out << "  anti-rollback     " << r.counter << "\n  project key       "
                << (r.projectKeyProvisioned ? r.projectKeyId : QStringLiteral("(none)")) << "\n  since boot        "
                << r.framesDropped << " frames dropped, " << r.errorReplies << " error replies; counter "
                << r.uptimeTicks << "\n";
        }
    }
    return r.verified ? Ok : 1;
}

} // namespace

QList<Command> keyCommands()
{
    return {
        {QStringLiteral("keys"), QStringLiteral("keys new [--name TEXT] [--json] | list [--json]"),
         QStringLiteral("create and list the Ed25519 keys that sign model packages"), cmdKeys},
        {QStringLiteral("sign"),
         QStringLiteral("sign PROJECT [--model ID] [--key ID] [--version N] [--out FILE] [--json]"),
         QStringLiteral("sign the model package (Ed25519, anti-rollback version) for signed boards"), cmdSign},
        {QStringLiteral("provision"), QStringLiteral("provision (--board ID | --port PATH) [--key ID] [--json]"),
         QStringLiteral("lock a board to a signing key: it then takes signed packages only"), cmdProvision},
        {QStringLiteral("attest"), QStringLiteral("attest (--board ID | --port PATH) [--package FILE] [--json]"),
         QStringLiteral("check a board's signed attestation: device identity, firmware and package hashes"), cmdAttest},
    };
}

std::optional<crypto::SigningKeyInfo> chooseSigningKey(const crypto::SigningKeyStore &keys, const QCommandLineParser &p,
                                                       const QString &command, int *exitCode)
{
    return chooseKey(keys, p, command, exitCode);
}

} // namespace tinyml::cli
