#include "ExampleProject.h"

#include "data/ResourceDirectory.h"

#include "io/DatasetImporter.h"
#include "store/ProjectStore.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>

namespace tinyml::examples {

namespace {

constexpr qint64 kMaxExampleJsonBytes = 64 * 1024;
const QString kExampleFile = QStringLiteral("example.json");

bool fieldError(const QString &file, const QString &field, const QString &message, QString *error)
{
    if (error)
        *error = QStringLiteral("%1: %2: %3").arg(file, field, message);
    return false;
}

struct ExampleSettings {
    ExampleInfo info;
    ProjectSettings project;
    QString dataDirectory;
    QString device;      ///< the board the data was recorded on (optional)
};

bool readSettings(const QString &exampleDir, ExampleSettings *out, QString *error)
{
    const QString path = QDir(exampleDir).filePath(kExampleFile);
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        if (error)
            *error = QStringLiteral("%1: cannot read: %2").arg(path, f.errorString());
        return false;
    }
    if (f.size() > kMaxExampleJsonBytes) {
        if (error)
            *error = QStringLiteral("%1: larger than %2 bytes").arg(path).arg(kMaxExampleJsonBytes);
        return false;
    }
    QJsonParseError parseError{};
    const QJsonDocument doc = QJsonDocument::fromJson(f.readAll(), &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        if (error)
            *error = QStringLiteral("%1: offset %2: %3").arg(path).arg(parseError.offset).arg(parseError.errorString());
        return false;
    }
    if (!doc.isObject()) {
        if (error)
            *error = QStringLiteral("%1: not a JSON object").arg(path);
        return false;
    }
    const QJsonObject o = doc.object();
    auto text = [&](const char *key, QString *value) {
        const QJsonValue v = o.value(QLatin1String(key));
        if (!v.isString() || v.toString().trimmed().isEmpty())
            return fieldError(path, QLatin1String(key), QStringLiteral("missing or not a non-empty string"), error);
        *value = v.toString().trimmed();
        return true;
    };
    auto positive = [&](const char *key, double *value) {
        const QJsonValue v = o.value(QLatin1String(key));
        if (!v.isDouble() || !(v.toDouble() > 0) || v.toDouble() > 1e7)
            return fieldError(path, QLatin1String(key), QStringLiteral("missing or not a positive number"), error);
        *value = v.toDouble();
        return true;
    };
    ExampleSettings s;
    QString data;
    if (!text("title", &s.info.title) || !text("description", &s.info.description)
        || !text("template", &s.project.templateName) || !text("board", &s.project.boardId)
        || !text("sensor", &s.project.sensor) || !text("data", &data)
        || !positive("sample_rate_hz", &s.project.sampleRateHz)
        || !positive("sample_length_s", &s.project.sampleLengthS))
        return false;
    const QJsonValue labels = o.value(QLatin1String("labels"));
    if (!labels.isArray() || labels.toArray().isEmpty())
        return fieldError(path, QStringLiteral("labels"), QStringLiteral("missing or empty"), error);
    for (const QJsonValue &l : labels.toArray()) {
        if (!l.isString() || l.toString().trimmed().isEmpty())
            return fieldError(path, QStringLiteral("labels"), QStringLiteral("every label must be a non-empty string"), error);
        s.project.labels << l.toString().trimmed();
    }
    // The data folder must stay inside the example: example.json is outside input.
    const QDir dir(exampleDir);
    s.dataDirectory = QDir::cleanPath(dir.absoluteFilePath(data));
    if (QDir::isAbsolutePath(data) || !s.dataDirectory.startsWith(dir.absolutePath() + QLatin1Char('/')))
        return fieldError(path, QStringLiteral("data"), QStringLiteral("must be a folder inside the example"), error);
    if (!QFileInfo(s.dataDirectory).isDir())
        return fieldError(path, QStringLiteral("data"), QStringLiteral("folder %1 does not exist").arg(s.dataDirectory), error);
    const QJsonValue device = o.value(QLatin1String("device"));
    if (!device.isUndefined() && !device.isString())
        return fieldError(path, QStringLiteral("device"), QStringLiteral("not a string"), error);
    s.device = device.toString().trimmed();
    s.info.id = dir.dirName();
    s.info.directory = dir.absolutePath();
    *out = s;
    return true;
}

} // namespace

QString examplesDirectory(QString *error)
{
#ifdef TINYML_EXAMPLES_SOURCE_DIR
    const QString source = QStringLiteral(TINYML_EXAMPLES_SOURCE_DIR);
#else
    const QString source;
#endif
    return findResourceDirectory("TINYML_EXAMPLES_DIR", QStringLiteral("examples"), source,
                                 QStringLiteral("examples folder"), error);
}

bool readExample(const QString &exampleDir, ExampleInfo *info, QString *error)
{
    ExampleSettings s;
    if (!readSettings(exampleDir, &s, error))
        return false;
    *info = s.info;
    return true;
}

QVector<ExampleInfo> listExamples(QString *error)
{
    QVector<ExampleInfo> out;
    const QString root = examplesDirectory(error);
    if (root.isEmpty())
        return out;
    const QDir dir(root);
    for (const QString &sub : dir.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name)) {
        if (!QFileInfo(dir.filePath(sub + QLatin1Char('/') + kExampleFile)).isFile())
            continue;
        ExampleInfo info;
        if (!readExample(dir.filePath(sub), &info, error))
            return {};
        out << info;
    }
    if (out.isEmpty() && error)
        *error = QStringLiteral("%1 holds no examples (folders with %2)").arg(root, kExampleFile);
    return out;
}

bool createProjectFromExample(const QString &id, const QString &projectPath, ExampleResult *result,
                              QString *error)
{
    const QString root = examplesDirectory(error);
    if (root.isEmpty())
        return false;
    if (id.isEmpty() || id.contains(QLatin1Char('/')) || id.contains(QLatin1Char('\\')) || id.startsWith(QLatin1Char('.'))) {
        if (error)
            *error = QStringLiteral("invalid example name '%1'").arg(id);
        return false;
    }
    const QString exampleDir = QDir(root).filePath(id);
    if (!QFileInfo(exampleDir + QLatin1Char('/') + kExampleFile).isFile()) {
        QString listError;
        QStringList known;
        for (const ExampleInfo &e : listExamples(&listError))
            known << e.id;
        if (error)
            *error = QStringLiteral("unknown example '%1' (known: %2)")
                         .arg(id, known.isEmpty() ? listError : known.join(QStringLiteral(", ")));
        return false;
    }
    ExampleSettings s;
    if (!readSettings(exampleDir, &s, error))
        return false;
    if (QFileInfo::exists(projectPath)) {
        if (error)
            *error = QStringLiteral("%1 already exists; choose another file name").arg(projectPath);
        return false;
    }
    const QString parent = QFileInfo(projectPath).absolutePath();
    if (!QDir().mkpath(parent)) {
        if (error)
            *error = QStringLiteral("cannot create the folder %1").arg(parent);
        return false;
    }

    // Read everything before the project file exists, so a bad example creates nothing.
    io::ImportOptions options;
    QVector<io::FileImportResult> files = io::importPaths({s.dataDirectory}, options);
    for (const io::FileImportResult &r : files) {
        if (r.error) {
            if (error)
                *error = QStringLiteral("example %1: %2").arg(id, r.error->toString());
            return false;
        }
    }
    if (files.isEmpty()) {
        if (error)
            *error = QStringLiteral("example %1: %2 holds no importable files").arg(id, s.dataDirectory);
        return false;
    }
    io::assignAutoSplits(files);
    // CSV files carry neither the board nor the sensor; the example says which they were.
    for (io::FileImportResult &f : files) {
        for (Sample &sample : f.samples) {
            if (!s.device.isEmpty())
                sample.device = s.device;
            if (sample.sensor.isEmpty())
                sample.sensor = s.project.sensor;
        }
    }

    ProjectSettings settings = s.project;
    settings.name = QFileInfo(projectPath).completeBaseName();
    auto removeProject = [&] {
        for (const QString &suffix : {QString(), QStringLiteral("-wal"), QStringLiteral("-shm")})
            QFile::remove(projectPath + suffix);
    };
    auto store = ProjectStore::create(projectPath, settings, error);
    if (!store)
        return false;
    ExampleResult r;
    r.projectPath = QFileInfo(projectPath).absoluteFilePath();
    r.labels = settings.labels;
    for (io::FileImportResult &f : files) {
        if (!store->addSamples(f.samples, error)) {
            store.reset();
            removeProject();
            return false;
        }
        for (const Sample &sample : f.samples) {
            ++r.samples;
            (sample.split == Split::Test ? r.test : r.train) += 1;
            if (!r.labels.contains(sample.label))
                r.labels << sample.label;
        }
    }
    if (r.labels != settings.labels) {
        settings.labels = r.labels;
        if (!store->setSettings(settings, error)) {
            store.reset();
            removeProject();
            return false;
        }
    }
    if (result)
        *result = r;
    return true;
}

QString suggestedProjectPath(const QString &id)
{
    const QDir dir(QDir::homePath() + QStringLiteral("/TinyML Projects"));
    QString path = dir.filePath(id + QStringLiteral("-example.tinyml"));
    for (int n = 2; QFileInfo::exists(path) && n < 1000; ++n)
        path = dir.filePath(QStringLiteral("%1-example-%2.tinyml").arg(id).arg(n));
    return path;
}

} // namespace tinyml::examples
