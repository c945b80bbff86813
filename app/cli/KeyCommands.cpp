// tinyml keys new|list, sign, provision: the user's Ed25519 signing keys for model packages
// (crypto::SigningKeyStore; folder: $TINYML_KEY_DIR or the workbench's data folder), signed
// packages, and locking a board to a key.
#include "CliCommands.h"

#include "BoardConnection.h"
#include "ModelPackageWriter.h"
#include "crypto/SignedPackage.h"
#include "crypto/SigningKeyStore.h"
#include "store/ProjectStore.h"

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
    quint32 highest = 0;
    for (const QFileInfo &f : QDir(dir).entryInfoList({QStringLiteral("*.tmpks")}, QDir::Files)) {
        QFile file(f.absoluteFilePath());
        if (!file.open(QIODevice::ReadOnly))
            continue;
        QString ignored;
        if (auto info = crypto::readSignedPackage(file.readAll(), f.fileName(), &ignored))
            highest = qMax(highest, info->version);
    }
    return highest;
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
                               ? QFileInfo(projectPath).absoluteDir().filePath(QStringLiteral("signed"))
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
        "Provisioning again with the same key changes nothing."));
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
    const auto boardKey = c.link->provision(key->publicKey, &error);
    if (!boardKey)
        return fail(QStringLiteral("%1: %2").arg(c.definition.id, error));
    if (*boardKey != key->id)
        return fail(QStringLiteral("%1 reports key id %2 for key %3: the agent computes key ids differently")
                        .arg(c.definition.id, *boardKey, key->id));
    const auto after = c.link->info().security;
    const quint32 counter = after ? after->antiRollbackCounter : 0;
    if (json) {
        printJson({{QStringLiteral("board"), c.definition.id},
                   {QStringLiteral("key_id"), key->id},
                   {QStringLiteral("already_provisioned"), already},
                   {QStringLiteral("anti_rollback_counter"), double(counter)}});
    } else {
        QTextStream(stdout) << (already ? "Already provisioned: " : "Provisioned ") << c.definition.id
                            << (already ? " trusts key " : " with key ") << key->id
                            << (key->name.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(key->name))
                            << "; it now takes packages signed with it only (anti-rollback counter " << counter
                            << ")\n";
    }
    return Ok;
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
    };
}

} // namespace tinyml::cli
