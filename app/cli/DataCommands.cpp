// tinyml import / export-data
#include "CliCommands.h"

#include "io/DatasetImporter.h"
#include "io/DatasetExporter.h"
#include "io/ImportDuplicates.h"
#include "io/MlperfImport.h"
#include "model/Graph.h"
#include "store/ProjectStore.h"

#include <QCommandLineParser>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QTextStream>

#include <algorithm>
#include <cmath>

namespace tinyml::cli {

namespace {

const char kHmacKeyEnv[] = "TINYML_HMAC_KEY";

void addHmacKeyOptions(QCommandLineParser &p, const QString &purpose)
{
    p.addOption({QStringLiteral("hmac-key"),
                 QStringLiteral("%1 with this key (visible to other users in the process list; "
                                "prefer --hmac-key-file or $%2)").arg(purpose, QLatin1String(kHmacKeyEnv)),
                 QStringLiteral("KEY")});
    p.addOption({QStringLiteral("hmac-key-file"),
                 QStringLiteral("read the HMAC key from this file (one trailing line break is dropped)"),
                 QStringLiteral("FILE")});
}

/// The Edge Impulse HMAC key: --hmac-key, else --hmac-key-file, else $TINYML_HMAC_KEY, else
/// none. False (with *code set) on a usage error or an unreadable or empty key file.
bool hmacKeyFrom(const QCommandLineParser &p, const QString &command, QByteArray *key, int *code)
{
    const bool inline_ = p.isSet(QStringLiteral("hmac-key"));
    const bool file = p.isSet(QStringLiteral("hmac-key-file"));
    if (inline_ && file) {
        *code = usageError(command, QStringLiteral("give --hmac-key or --hmac-key-file, not both"));
        return false;
    }
    if (inline_) {
        *key = p.value(QStringLiteral("hmac-key")).toUtf8();
        if (key->isEmpty()) {
            *code = usageError(command, QStringLiteral("--hmac-key is empty"));
            return false;
        }
        return true;
    }
    if (file) {
        const QString path = p.value(QStringLiteral("hmac-key-file"));
        QFile f(path);
        if (!f.open(QIODevice::ReadOnly)) {
            *code = fail(QStringLiteral("--hmac-key-file %1: %2").arg(path, f.errorString()));
            return false;
        }
        // A key is short; reading at most 64 KiB keeps a wrong path (a disk image) harmless.
        *key = f.read(64 * 1024);
        if (key->endsWith('\n'))
            key->chop(1);
        if (key->endsWith('\r'))
            key->chop(1);
        if (key->isEmpty()) {
            *code = fail(QStringLiteral("--hmac-key-file %1: the file is empty").arg(path));
            return false;
        }
        return true;
    }
    *key = qgetenv(kHmacKeyEnv);
    return true;
}

/// --format mlperf: the model the data set's raw files are input of (--model, else the newest int8 model).
std::optional<io::MlperfImportTarget> mlperfTarget(ProjectStore &store, const QCommandLineParser &p, QString *error)
{
    std::optional<StoredModel> stored;
    QString why;
    if (p.isSet(QStringLiteral("model"))) {
        bool ok = false;
        const qint64 id = p.value(QStringLiteral("model")).toLongLong(&ok);
        if (!ok || id <= 0) {
            *error = QStringLiteral("--model must be a model id (see `tinyml info`)");
            return std::nullopt;
        }
        stored = store.model(id, &why);
        if (!stored) {
            *error = QStringLiteral("--model %1: %2").arg(id).arg(why.isEmpty() ? QStringLiteral("no such model") : why);
            return std::nullopt;
        }
    } else {
        stored = store.latestModel(ModelKind::Int8, &why);
        if (!stored) {
            *error = QStringLiteral("--format mlperf needs an int8 model to read the raw inputs with (its input scale "
                                    "and zero point) and to take the class count from; the project has none: run "
                                    "`tinyml import-model PROJECT MODEL.tflite` or `tinyml quantize` first");
            return std::nullopt;
        }
    }
    auto graph = model::Graph::deserialize(stored->graph, &why);
    const QString name = QStringLiteral("model %1 (%2)").arg(stored->id).arg(stored->name);
    if (!graph) {
        *error = QStringLiteral("%1: %2").arg(name, why);
        return std::nullopt;
    }
    return io::MlperfImportTarget::forGraph(*graph, store.settings(), name, error);
}

int cmdImport(const QStringList &args)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Import samples into a project. Each file is imported whole or not at all; a bad file\n"
        "is reported with its line or field and the good files are kept."));
    p.addPositionalArgument(QStringLiteral("PROJECT"), QStringLiteral("project file"));
    p.addPositionalArgument(QStringLiteral("PATH"), QStringLiteral("files or folders"), QStringLiteral("PATH..."));
    p.addOption({QStringLiteral("label"), QStringLiteral("label for every sample (default: from the file name prefix, `label.xxx.csv`, or the folder for images)"), QStringLiteral("L")});
    p.addOption({QStringLiteral("split"), QStringLiteral("train | test | auto (stratified 80/20, deterministic)"), QStringLiteral("SPLIT"), QStringLiteral("auto")});
    p.addOption({QStringLiteral("format"), QStringLiteral("auto | csv | csv-table | wav | ei-json | ei-cbor | image | mlperf "
                                                          "(an MLPerf Tiny data set folder: y_labels.csv and raw int8 inputs)"),
                 QStringLiteral("FORMAT"), QStringLiteral("auto")});
    p.addOption({QStringLiteral("model"), QStringLiteral("--format mlperf: the int8 model whose input the files are "
                                                         "(default: the project's newest int8 model)"),
                 QStringLiteral("ID")});
    p.addOption({QStringLiteral("label-column"), QStringLiteral("label column of a table CSV"), QStringLiteral("NAME"), QStringLiteral("label")});
    p.addOption({QStringLiteral("rate"), QStringLiteral("sample rate for CSV files without a timestamp column"), QStringLiteral("HZ")});
    addHmacKeyOptions(p, QStringLiteral("verify Edge Impulse HS256 signatures"));
    p.addOption({QStringLiteral("max-ei-mb"),
                 QStringLiteral("largest Edge Impulse JSON/CBOR file to read, in MiB (default $TINYML_EI_MAX_MB, "
                                "else 64; reading takes about 10x the file size in memory)"),
                 QStringLiteral("MB")});
    p.addOption({QStringLiteral("allow-duplicates"),
                 QStringLiteral("import samples whose data the project already holds (skipped by default)")});
    p.addOption({QStringLiteral("json"), QStringLiteral("print per-file results as JSON")});
    int code = 0;
    if (!parseOrReport(p, args, QStringLiteral("import"), -2, &code))
        return code;

    io::ImportOptions opt;
    opt.label = p.value(QStringLiteral("label"));
    opt.format = p.value(QStringLiteral("format"));
    opt.labelColumn = p.value(QStringLiteral("label-column"));
    if (!hmacKeyFrom(p, QStringLiteral("import"), &opt.hmacKey, &code))
        return code;
    if (p.isSet(QStringLiteral("rate"))) {
        bool ok = false;
        opt.sampleRateHz = p.value(QStringLiteral("rate")).toDouble(&ok);
        if (!ok || !std::isfinite(opt.sampleRateHz) || opt.sampleRateHz <= 0 || opt.sampleRateHz > 1e7)
            return usageError(QStringLiteral("import"), QStringLiteral("--rate must be a positive number of Hz (at most 10 MHz)"));
    }
    if (p.isSet(QStringLiteral("max-ei-mb"))) {
        bool ok = false;
        const qint64 mb = p.value(QStringLiteral("max-ei-mb")).toLongLong(&ok);
        if (!ok || mb <= 0 || mb > 1024 * 1024)
            return usageError(QStringLiteral("import"), QStringLiteral("--max-ei-mb must be a whole number of MiB, 1 to 1048576"));
        opt.maxEdgeImpulseBytes = mb * 1024 * 1024;
    }
    const QString splitArg = p.value(QStringLiteral("split"));
    const bool autoSplit = splitArg == QLatin1String("auto");
    if (!autoSplit) {
        auto s = splitFromName(splitArg);
        if (!s)
            return usageError(QStringLiteral("import"), QStringLiteral("--split must be train, test or auto"));
        opt.split = *s;
    }

    QStringList paths = p.positionalArguments();
    const QString projectPath = paths.takeFirst();
    QString error;
    // A read-only project is refused here, once, before any file is read.
    auto store = openProjectToWrite(projectPath, QStringLiteral("import into"), &error);
    if (!store)
        return fail(error);

    const bool mlperf = opt.format == QLatin1String("mlperf");
    if (!mlperf && p.isSet(QStringLiteral("model")))
        return usageError(QStringLiteral("import"), QStringLiteral("--model is for --format mlperf"));
    if (mlperf && p.isSet(QStringLiteral("label")))
        return usageError(QStringLiteral("import"), QStringLiteral("--label does not apply to --format mlperf: labels "
                                                                   "come from y_labels.csv's class and the model"));
    QVector<io::FileImportResult> stored;
    QStringList newLabels = store->settings().labels;
    std::optional<QStringList> mlperfLabels;
    if (mlperf) {
        auto target = mlperfTarget(*store, p, &error);
        if (!target)
            return fail(error);
        for (const QString &path : paths)
            stored.append(io::importMlperfFolder(path, *target, opt));
        // Checked before anything is stored: a model scored by index needs the class order.
        auto labels = io::mlperfProjectLabels(newLabels, *target, &error);
        if (!labels)
            return fail(error);
        mlperfLabels = *labels;
    } else {
        stored = io::importPaths(paths, opt);
    }
    // Channels, rate and kind of data must fit the project; a misfit file imports nothing.
    const io::SampleExpectation expectation = io::expectationFor(store->settings(), store->sampleInfos());
    for (auto &r : stored)
        io::checkAgainstProject(r, expectation);
    // The class names go into the project's labels only with samples that use them.
    if (mlperfLabels && std::any_of(stored.begin(), stored.end(), [](const io::FileImportResult &r) {
            return r.ok() && !r.samples.isEmpty();
        }))
        newLabels = *mlperfLabels;
    // A re-run import would double the data set; equal data is skipped and reported.
    int duplicates = 0;
    if (!p.isSet(QStringLiteral("allow-duplicates"))) {
        io::SampleChecksums known;
        for (const SampleInfo &i : store->sampleInfos())
            if (!i.checksum.isEmpty())
                known.insert(i.checksum, {i.id, i.label});
        duplicates = io::skipDuplicateSamples(stored, known);
    }
    if (autoSplit)
        io::assignAutoSplits(stored);

    int imported = 0, failedFiles = 0;
    QString storeError;
    QJsonArray files;
    for (auto &r : stored) {
        QJsonObject f{{QStringLiteral("file"), r.file}, {QStringLiteral("format"), r.format}};
        if (!r.duplicates.isEmpty()) {
            QJsonArray dups;
            for (const io::SkippedDuplicate &d : r.duplicates) {
                QJsonObject o{{QStringLiteral("label"), d.label}, {QStringLiteral("checksum"), d.checksum}};
                if (d.existingId)
                    o.insert(QStringLiteral("existing_id"), d.existingId);
                else
                    o.insert(QStringLiteral("existing_file"), d.existingFile);
                dups.append(o);
                // Same data under another label is a labelling conflict the user must see.
                if (d.label != d.existingLabel && !p.isSet(QStringLiteral("json")))
                    QTextStream(stderr) << "tinyml: warning: " << r.file << ": skipped a sample labelled '"
                                        << d.label << "': the same data is already in "
                                        << (d.existingId ? QStringLiteral("sample %1").arg(d.existingId) : d.existingFile)
                                        << ", labelled '" << d.existingLabel << "'\n";
            }
            f.insert(QStringLiteral("duplicates"), dups);
        }
        if (r.error) {
            ++failedFiles;
            f.insert(QStringLiteral("error"), r.error->toString());
            if (!p.isSet(QStringLiteral("json")))
                QTextStream(stderr) << "tinyml: error: " << r.error->toString() << "\n";
        } else if (!r.samples.isEmpty() && !store->addSamples(r.samples, &error)) {
            // The project, not this file, failed (read-only, disk full, locked): every further
            // file would fail the same way, so stop here with one message.
            storeError = QStringLiteral("%1: %2 (import stopped at this file; %3 samples imported before it)")
                             .arg(r.file, error).arg(imported);
            break;
        } else {
            imported += r.samples.size();
            QJsonArray ids;
            for (const Sample &s : r.samples) {
                ids.append(s.id);
                if (!newLabels.contains(s.label))
                    newLabels << s.label;
            }
            f.insert(QStringLiteral("samples"), r.samples.size());
            f.insert(QStringLiteral("ids"), ids);
        }
        files.append(f);
    }
    ProjectSettings settings = store->settings();
    if (newLabels != settings.labels) {
        settings.labels = newLabels;
        if (!store->setSettings(settings, &error))
            return fail(error);
    }
    if (!storeError.isEmpty())
        return fail(storeError);

    if (p.isSet(QStringLiteral("json"))) {
        printJson({{QStringLiteral("imported"), imported},
                   {QStringLiteral("files"), files},
                   {QStringLiteral("failed_files"), failedFiles},
                   {QStringLiteral("skipped_duplicates"), duplicates}});
    } else {
        QTextStream(stdout) << "Imported " << imported << " samples from " << (stored.size() - failedFiles)
                            << " of " << stored.size() << " files\n";
        if (duplicates)
            QTextStream(stdout) << "Skipped " << duplicates << " duplicate" << (duplicates == 1 ? "" : "s")
                                << " of existing samples (same data; --allow-duplicates imports them)\n";
    }
    if (stored.isEmpty())
        return fail(QStringLiteral("no importable files found in %1").arg(paths.join(QStringLiteral(", "))));
    return failedFiles ? Failed : Ok;
}

int cmdExportData(const QStringList &args)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral("Export a project's samples to a folder."));
    p.addPositionalArgument(QStringLiteral("PROJECT"), QStringLiteral("project file"));
    p.addPositionalArgument(QStringLiteral("DIR"), QStringLiteral("output folder (created if missing)"));
    p.addOption({QStringLiteral("format"), QStringLiteral("csv | ei-json | ei-cbor"), QStringLiteral("FORMAT"), QStringLiteral("csv")});
    addHmacKeyOptions(p, QStringLiteral("sign Edge Impulse files with HS256"));
    p.addOption({QStringLiteral("include-incomplete"),
                 QStringLiteral("also export incomplete samples (cut-off or half-saved captures), left out by default")});
    p.addOption({QStringLiteral("json"), QStringLiteral("print the written files as JSON")});
    int code = 0;
    if (!parseOrReport(p, args, QStringLiteral("export-data"), 2, &code))
        return code;
    const QString format = p.value(QStringLiteral("format"));
    if (format != QLatin1String("csv") && format != QLatin1String("ei-json") && format != QLatin1String("ei-cbor"))
        return usageError(QStringLiteral("export-data"), QStringLiteral("--format must be csv, ei-json or ei-cbor"));
    QByteArray hmacKey;
    if (!hmacKeyFrom(p, QStringLiteral("export-data"), &hmacKey, &code))
        return code;
    QString error;
    auto store = openProjectToRead(p.positionalArguments()[0], &error);
    if (!store)
        return fail(error);
    const QString dir = p.positionalArguments()[1];
    if (!QDir().mkpath(dir))
        return fail(QStringLiteral("cannot create folder %1").arg(dir));
    QVector<Sample> samples = store->samples();
    QJsonArray skippedIds;
    if (!p.isSet(QStringLiteral("include-incomplete"))) {
        samples.erase(std::remove_if(samples.begin(), samples.end(), [&](const Sample &s) {
                          if (s.complete)
                              return false;
                          skippedIds.append(s.id);
                          return true;
                      }),
                      samples.end());
    }
    QStringList written;
    if (!io::exportSamples(samples, dir, format, hmacKey, &written, &error))
        return fail(error);
    if (p.isSet(QStringLiteral("json"))) {
        printJson({{QStringLiteral("files"), QJsonArray::fromStringList(written)},
                   {QStringLiteral("format"), format},
                   {QStringLiteral("skipped_incomplete"), skippedIds}});
    } else {
        QTextStream(stdout) << "Wrote " << written.size() << " files to " << dir << "\n";
        if (!skippedIds.isEmpty())
            QTextStream(stdout) << "Skipped " << skippedIds.size()
                                << " incomplete sample(s); --include-incomplete exports them too\n";
    }
    return Ok;
}

} // namespace

QList<Command> dataCommands()
{
    return {
        {QStringLiteral("import"), QStringLiteral("import PROJECT PATH... [--label L] [--split train|test|auto] [--format ...]"),
         QStringLiteral("import CSV, WAV, Edge Impulse JSON/CBOR or image files, or an MLPerf Tiny data set"), cmdImport},
        {QStringLiteral("export-data"), QStringLiteral("export-data PROJECT DIR --format csv|ei-json|ei-cbor"),
         QStringLiteral("export the samples"), cmdExportData},
    };
}

} // namespace tinyml::cli
