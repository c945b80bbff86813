// tinyml keys new|list: the user's Ed25519 signing keys for model packages
// (crypto::SigningKeyStore; folder: $TINYML_KEY_DIR or the workbench's data folder).
#include "CliCommands.h"

#include "crypto/SigningKeyStore.h"

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

} // namespace

QList<Command> keyCommands()
{
    return {
        {QStringLiteral("keys"), QStringLiteral("keys new [--name TEXT] [--json] | list [--json]"),
         QStringLiteral("create and list the Ed25519 keys that sign model packages"), cmdKeys},
    };
}

} // namespace tinyml::cli
