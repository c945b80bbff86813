// tinyml import / export-data
#include "CliCommands.h"

#include "io/DatasetImporter.h"
#include "io/DatasetExporter.h"
#include "store/ProjectStore.h"

#include <QCommandLineParser>
#include <QDir>
#include <QJsonArray>
#include <QTextStream>

#include <cmath>

namespace tinyml::cli {

namespace {

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
    p.addOption({QStringLiteral("format"), QStringLiteral("auto | csv | csv-table | wav | ei-json | ei-cbor | image"), QStringLiteral("FORMAT"), QStringLiteral("auto")});
    p.addOption({QStringLiteral("label-column"), QStringLiteral("label column of a table CSV"), QStringLiteral("NAME"), QStringLiteral("label")});
    p.addOption({QStringLiteral("rate"), QStringLiteral("sample rate for CSV files without a timestamp column"), QStringLiteral("HZ")});
    p.addOption({QStringLiteral("hmac-key"), QStringLiteral("verify Edge Impulse HS256 signatures with this key"), QStringLiteral("KEY")});
    p.addOption({QStringLiteral("json"), QStringLiteral("print per-file results as JSON")});
    int code = 0;
    if (!parseOrReport(p, args, QStringLiteral("import"), -2, &code))
        return code;

    io::ImportOptions opt;
    opt.label = p.value(QStringLiteral("label"));
    opt.format = p.value(QStringLiteral("format"));
    opt.labelColumn = p.value(QStringLiteral("label-column"));
    opt.hmacKey = p.value(QStringLiteral("hmac-key")).toUtf8();
    if (p.isSet(QStringLiteral("rate"))) {
        bool ok = false;
        opt.sampleRateHz = p.value(QStringLiteral("rate")).toDouble(&ok);
        if (!ok || !std::isfinite(opt.sampleRateHz) || opt.sampleRateHz <= 0 || opt.sampleRateHz > 1e7)
            return usageError(QStringLiteral("import"), QStringLiteral("--rate must be a positive number of Hz (at most 10 MHz)"));
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
    auto store = ProjectStore::open(projectPath, &error);
    if (!store)
        return fail(error);

    QVector<io::FileImportResult> stored = io::importPaths(paths, opt);
    if (autoSplit)
        io::assignAutoSplits(stored);

    int imported = 0, failedFiles = 0;
    QJsonArray files;
    QStringList newLabels = store->settings().labels;
    for (auto &r : stored) {
        QJsonObject f{{QStringLiteral("file"), r.file}, {QStringLiteral("format"), r.format}};
        if (r.error) {
            ++failedFiles;
            f.insert(QStringLiteral("error"), r.error->toString());
            if (!p.isSet(QStringLiteral("json")))
                QTextStream(stderr) << "tinyml: error: " << r.error->toString() << "\n";
        } else if (!store->addSamples(r.samples, &error)) {
            ++failedFiles;
            f.insert(QStringLiteral("error"), error);
            QTextStream(stderr) << "tinyml: error: " << r.file << ": " << error << "\n";
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

    if (p.isSet(QStringLiteral("json"))) {
        printJson({{QStringLiteral("imported"), imported},
                   {QStringLiteral("files"), files},
                   {QStringLiteral("failed_files"), failedFiles}});
    } else {
        QTextStream(stdout) << "Imported " << imported << " samples from " << (stored.size() - failedFiles)
                            << " of " << stored.size() << " files\n";
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
    p.addOption({QStringLiteral("hmac-key"), QStringLiteral("sign Edge Impulse files with HS256"), QStringLiteral("KEY")});
    p.addOption({QStringLiteral("json"), QStringLiteral("print the written files as JSON")});
    int code = 0;
    if (!parseOrReport(p, args, QStringLiteral("export-data"), 2, &code))
        return code;
    const QString format = p.value(QStringLiteral("format"));
    if (format != QLatin1String("csv") && format != QLatin1String("ei-json") && format != QLatin1String("ei-cbor"))
        return usageError(QStringLiteral("export-data"), QStringLiteral("--format must be csv, ei-json or ei-cbor"));
    QString error;
    auto store = ProjectStore::open(p.positionalArguments()[0], &error);
    if (!store)
        return fail(error);
    const QString dir = p.positionalArguments()[1];
    if (!QDir().mkpath(dir))
        return fail(QStringLiteral("cannot create folder %1").arg(dir));
    QStringList written;
    if (!io::exportSamples(store->samples(), dir, format, p.value(QStringLiteral("hmac-key")).toUtf8(), &written, &error))
        return fail(error);
    if (p.isSet(QStringLiteral("json")))
        printJson({{QStringLiteral("files"), QJsonArray::fromStringList(written)},
                   {QStringLiteral("format"), format}});
    else
        QTextStream(stdout) << "Wrote " << written.size() << " files to " << dir << "\n";
    return Ok;
}

} // namespace

QList<Command> dataCommands()
{
    return {
        {QStringLiteral("import"), QStringLiteral("import PROJECT PATH... [--label L] [--split train|test|auto] [--format ...]"),
         QStringLiteral("import CSV, WAV, Edge Impulse JSON/CBOR or image files"), cmdImport},
        {QStringLiteral("export-data"), QStringLiteral("export-data PROJECT DIR --format csv|ei-json|ei-cbor"),
         QStringLiteral("export the samples"), cmdExportData},
    };
}

} // namespace tinyml::cli
