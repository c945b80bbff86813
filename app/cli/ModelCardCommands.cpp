// tinyml model-card (issue 17): a model card of a stored model, as Markdown or HTML
// (deploy/ModelCard.h), and the user's intended use and known limits kept in the project.
#include "CliCommands.h"

#include "BoardConnection.h"
#include "ModelCard.h"
#include "ModelPackageWriter.h"
#include "crypto/SignedPackage.h"
#include "crypto/SigningKeyStore.h"
#include "device/BoardRegistry.h"
#include "store/ProjectStore.h"

#include <QCommandLineParser>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>
#include <QTextStream>

namespace tinyml::cli {

namespace {

const QString kCommand = QStringLiteral("model-card");

/// The signed packages beside the project (tinyml sign's default folder, PROJECT's folder/signed)
/// that carry exactly the package of this model; the project itself records no signatures.
void findSignatures(const QString &projectPath, const StoredModel &stored, deploy::ModelCard &card)
{
    const QString dir = QFileInfo(projectPath).absoluteDir().filePath(QStringLiteral("signed"));
    const QString where = QStringLiteral("not recorded: the project keeps no signature record, and %1 holds no signed "
                                         "package of model %2 (a package signed with --out elsewhere is not seen)")
                              .arg(dir, QString::number(stored.id));
    if (stored.kind != ModelKind::Int8) {
        card.signatureNote = QStringLiteral("not signed: model %1 is a float model (only int8 packages are signed)").arg(stored.id);
        return;
    }
    card.signatureNote = where;
    const QFileInfoList files = QDir(dir).entryInfoList({QStringLiteral("*.tmpks")}, QDir::Files, QDir::Name);
    if (files.isEmpty())
        return;
    deploy::ModelPackageWriter writer;
    QString error;
    const auto package = packageModel(stored, writer, &error);
    if (!package) {
        card.signatureNote = QStringLiteral("not checked: %1").arg(error);
        return;
    }
    crypto::SigningKeyStore keys(crypto::SigningKeyStore::defaultDirectory());
    const auto known = keys.list(&error);
    for (const QFileInfo &f : files) {
        QFile file(f.absoluteFilePath());
        if (!file.open(QIODevice::ReadOnly))
            continue;
        const QByteArray bytes = file.readAll();
        QString why;
        const auto info = crypto::readSignedPackage(bytes, f.fileName(), &why);
        if (!info || info->package != *package)
            continue;
        deploy::CardSignature s;
        s.file = f.absoluteFilePath();
        s.keyId = info->keyId;
        s.version = info->version;
        const crypto::SigningKeyInfo *key = nullptr;
        if (known)
            for (const auto &k : *known)
                if (k.id == info->keyId)
                    key = &k;
        if (!key) {
            s.check = QStringLiteral("signature not checked: key %1 is not in the key folder %2").arg(info->keyId, keys.directory());
        } else if (crypto::verifySignedPackage(bytes, key->publicKey, f.fileName(), &why)) {
            s.check = QStringLiteral("signature verified with the public key of %1 in %2").arg(info->keyId, keys.directory());
        } else {
            s.check = QStringLiteral("signature INVALID: %1").arg(why);
        }
        card.signatures.append(s);
    }
    if (!card.signatures.isEmpty())
        card.signatureNote = QStringLiteral("Found in %1 (signed packages whose package is model %2's package as built now).")
                                 .arg(dir, QString::number(stored.id));
}

int cmdModelCard(const QStringList &args)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Write a model card of a stored model: intended use, data (labels, counts, sources:\n"
        "simulated, captured, imported), preprocessing, architecture, float / int8 / on-device\n"
        "accuracy, per-class metrics, latency, memory and energy of the newest profile with how\n"
        "they were measured, known limits and the signing key. Every figure names its source;\n"
        "what the project does not hold reads \"not measured\" or \"not recorded\".\n"
        "The format follows --out's extension: .md (Markdown) or .html (one self-contained page).\n"
        "--intended-use and --known-limits store the user's text in the project (empty text clears it)."));
    p.addPositionalArgument(QStringLiteral("PROJECT"), QStringLiteral("the project file"));
    p.addOption({QStringLiteral("model"), QStringLiteral("model id (default: the newest int8 model, else the newest model)"),
                 QStringLiteral("ID")});
    p.addOption({QStringLiteral("out"), QStringLiteral("output file: FILE.md or FILE.html"), QStringLiteral("FILE")});
    p.addOption({QStringLiteral("intended-use"), QStringLiteral("store the model's intended use in the project"),
                 QStringLiteral("TEXT")});
    p.addOption({QStringLiteral("known-limits"), QStringLiteral("store known limits in the user's words in the project"),
                 QStringLiteral("TEXT")});
    p.addOption({QStringLiteral("json"), QStringLiteral("print the card's facts as one JSON object")});
    int code = 0;
    if (!parseOrReport(p, args, kCommand, 1, &code))
        return code;
    const QString projectPath = p.positionalArguments().first();
    const bool json = p.isSet(QStringLiteral("json"));
    const bool setUse = p.isSet(QStringLiteral("intended-use"));
    const bool setLimits = p.isSet(QStringLiteral("known-limits"));
    const QString out = p.value(QStringLiteral("out"));

    bool htmlOut = false;
    if (!out.isEmpty()) {
        const QString suffix = QFileInfo(out).suffix().toLower();
        if (suffix == QLatin1String("html") || suffix == QLatin1String("htm"))
            htmlOut = true;
        else if (suffix != QLatin1String("md") && suffix != QLatin1String("markdown"))
            return usageError(kCommand, QStringLiteral("--out %1: unknown card format \"%2\"; the file name must end in .md or .html")
                                            .arg(out, suffix.isEmpty() ? QStringLiteral("(no extension)") : QString(QLatin1Char('.') + suffix)));
    }
    if (out.isEmpty() && !json && !setUse && !setLimits)
        return usageError(kCommand, QStringLiteral("nothing to do: give --out FILE.md|FILE.html, --json, --intended-use or --known-limits"));
    std::optional<qint64> modelId;
    if (p.isSet(QStringLiteral("model"))) {
        bool ok = false;
        modelId = p.value(QStringLiteral("model")).toLongLong(&ok);
        if (!ok || *modelId <= 0)
            return usageError(kCommand, QStringLiteral("--model must be a model id (a whole number >= 1), got \"%1\"")
                                            .arg(p.value(QStringLiteral("model"))));
    }

    QString error;
    std::unique_ptr<ProjectStore> store;
    if (setUse || setLimits) {
        store = openProjectToWrite(projectPath, QStringLiteral("set the model card text of"), &error);
        if (!store)
            return fail(error);
        ProjectSettings settings = store->settings();
        if (setUse)
            deploy::setIntendedUse(settings, p.value(QStringLiteral("intended-use")));
        if (setLimits)
            deploy::setKnownLimitsText(settings, p.value(QStringLiteral("known-limits")));
        if (!store->setSettings(settings, &error))
            return fail(QStringLiteral("%1: %2").arg(projectPath, error));
        if (out.isEmpty() && !json) {
            QTextStream(stdout) << "Stored the model card text in " << projectPath << "\n";
            return Ok;
        }
    } else {
        store = openProjectToRead(projectPath, &error);
        if (!store)
            return fail(error);
    }

    BoardRegistry boards;
    QString boardError;
    const bool haveBoards = boards.loadDefault(&boardError);
    auto card = deploy::collectModelCard(*store, modelId, haveBoards ? &boards : nullptr, &error);
    if (!card)
        return fail(error);
    if (!haveBoards)
        QTextStream(stderr) << "tinyml: warning: board registry not loaded (" << boardError.simplified()
                            << "): sources and boards are not told virtual or real\n";
    if (auto stored = store->model(card->modelId, &error))
        findSignatures(projectPath, *stored, *card);

    if (!out.isEmpty()) {
        const QByteArray text = (htmlOut ? card->toHtml() : card->toMarkdown()).toUtf8();
        QSaveFile file(out);
        if (!file.open(QIODevice::WriteOnly) || file.write(text) != text.size() || !file.commit())
            return fail(QStringLiteral("%1: cannot write: %2").arg(out, file.errorString()));
    }
    if (json) {
        QJsonObject facts = card->toJson();
        if (!out.isEmpty())
            facts.insert(QStringLiteral("file"), QFileInfo(out).absoluteFilePath());
        printJson(facts);
    } else {
        QTextStream(stdout) << "Wrote the model card of model " << card->modelId << " (" << card->modelName << ", "
                            << (htmlOut ? "HTML" : "Markdown") << "): " << out << "\n";
    }
    return Ok;
}

} // namespace

QList<Command> modelCardCommands()
{
    return {
        {kCommand,
         QStringLiteral("model-card PROJECT [--model ID] --out FILE.md|FILE.html [--intended-use TEXT] "
                        "[--known-limits TEXT] [--json]"),
         QStringLiteral("write a model card (Markdown or HTML) of a stored model from what the project knows"),
         cmdModelCard},
    };
}

} // namespace tinyml::cli
