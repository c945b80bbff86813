// tinyml new / info
#include "CliCommands.h"

#include "ExampleProject.h"
#include "store/ProjectStore.h"
#include "store/ProjectTemplate.h"

#include <QCommandLineParser>
#include <QFileInfo>
#include <QJsonArray>
#include <QTextStream>

namespace tinyml::cli {

namespace {

int newFromExample(const QCommandLineParser &p, const QString &path)
{
    for (const char *option : {"template", "board", "labels"})
        if (p.isSet(QLatin1String(option)))
            return usageError(QStringLiteral("new"),
                              QStringLiteral("--example takes its settings from the example; drop --%1")
                                  .arg(QLatin1String(option)));
    examples::ExampleResult r;
    QString error;
    if (!examples::createProjectFromExample(p.value(QStringLiteral("example")), path, &r, &error))
        return fail(error);
    if (p.isSet(QStringLiteral("json"))) {
        printJson({{QStringLiteral("path"), r.projectPath},
                   {QStringLiteral("example"), p.value(QStringLiteral("example"))},
                   {QStringLiteral("samples"), r.samples},
                   {QStringLiteral("splits"), QJsonObject{{QStringLiteral("train"), r.train},
                                                          {QStringLiteral("test"), r.test}}},
                   {QStringLiteral("labels"), QJsonArray::fromStringList(r.labels)}});
    } else {
        QTextStream(stdout) << "Created " << path << " from example " << p.value(QStringLiteral("example"))
                            << ": " << r.samples << " samples (train " << r.train << ", test " << r.test << ")\n";
    }
    return Ok;
}

int cmdNew(const QStringList &args)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral("Create a new project file."));
    p.addPositionalArgument(QStringLiteral("PROJECT"), QStringLiteral("project file to create (*.tinyml)"));
    // The help lists the template table itself, so a new template (vibration) cannot be missing.
    QStringList templates;
    for (const ProjectTemplate &t : ProjectTemplate::all())
        templates << QStringLiteral("%1 (%2)").arg(t.id, t.title);
    p.addOption({QStringLiteral("template"), QStringLiteral("one of: %1").arg(templates.join(QStringLiteral(", "))),
                 QStringLiteral("NAME"), QStringLiteral("motion")});
    p.addOption({QStringLiteral("board"), QStringLiteral("target board id (see `tinyml boards`)"),
                 QStringLiteral("ID"), QStringLiteral("qemu-m4")});
    p.addOption({QStringLiteral("labels"), QStringLiteral("comma-separated class labels"),
                 QStringLiteral("a,b,c")});
    p.addOption({QStringLiteral("example"),
                 QStringLiteral("copy a shipped example project with its data (motion)"), QStringLiteral("ID")});
    p.addOption({QStringLiteral("json"), QStringLiteral("print the result as JSON")});
    int code = 0;
    if (!parseOrReport(p, args, QStringLiteral("new"), 1, &code))
        return code;

    const QString path = p.positionalArguments().first();
    if (p.isSet(QStringLiteral("example")))
        return newFromExample(p, path);
    const ProjectTemplate *tpl = ProjectTemplate::find(p.value(QStringLiteral("template")));
    if (!tpl)
        return usageError(QStringLiteral("new"), QStringLiteral("unknown template '%1' (%2)")
                                                     .arg(p.value(QStringLiteral("template")),
                                                          ProjectTemplate::idList()));
    QString boardError;
    if (!boardExists(p.value(QStringLiteral("board")), &boardError))
        return fail(boardError);

    ProjectSettings s;
    s.name = QFileInfo(path).completeBaseName();
    s.templateName = tpl->id;
    s.boardId = p.value(QStringLiteral("board"));
    s.sensor = tpl->sensor;
    s.sampleRateHz = tpl->sampleRateHz;
    s.sampleLengthS = tpl->sampleLengthS;
    for (const QString &l : p.value(QStringLiteral("labels")).split(QLatin1Char(','), Qt::SkipEmptyParts))
        if (!s.labels.contains(l.trimmed()))
            s.labels << l.trimmed();

    QString error;
    auto store = ProjectStore::create(path, s, &error);
    if (!store)
        return fail(error);
    if (p.isSet(QStringLiteral("json"))) {
        printJson({{QStringLiteral("path"), QFileInfo(path).absoluteFilePath()},
                   {QStringLiteral("template"), s.templateName},
                   {QStringLiteral("board"), s.boardId},
                   {QStringLiteral("labels"), QJsonArray::fromStringList(s.labels)}});
    } else {
        QTextStream(stdout) << "Created " << path << " (" << s.templateName << ", board "
                            << s.boardId << ")\n";
    }
    return Ok;
}

QJsonObject projectJson(const ProjectStore &store)
{
    const ProjectSettings s = store.settings();
    const DatasetCounts c = store.counts();
    QJsonObject perLabel;
    for (const auto &row : c.perLabel)
        perLabel.insert(row.label, QJsonObject{{QStringLiteral("train"), row.train},
                                               {QStringLiteral("test"), row.test},
                                               {QStringLiteral("total"), row.train + row.test},
                                               {QStringLiteral("incomplete"), row.incomplete}});
    QJsonObject j{
        {QStringLiteral("path"), QFileInfo(store.path()).absoluteFilePath()},
        {QStringLiteral("name"), s.name},
        {QStringLiteral("schema_version"), store.schemaVersion()},
        {QStringLiteral("template"), s.templateName},
        {QStringLiteral("board"), s.boardId},
        {QStringLiteral("labels"), QJsonArray::fromStringList(s.labels)},
        {QStringLiteral("sensor"), s.sensor},
        {QStringLiteral("sample_rate_hz"), s.sampleRateHz},
        {QStringLiteral("sample_length_s"), s.sampleLengthS},
        {QStringLiteral("samples"), c.total()},
        {QStringLiteral("splits"), QJsonObject{{QStringLiteral("train"), c.train},
                                               {QStringLiteral("test"), c.test}}},
        {QStringLiteral("incomplete"), c.incomplete},
        {QStringLiteral("per_label"), perLabel},
        {QStringLiteral("read_only"), store.isReadOnly()},
    };
    if (store.isReadOnly())
        j.insert(QStringLiteral("read_only_reason"), store.readOnlyReason());
    return j;
}

int cmdInfo(const QStringList &args)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral("Show a project's settings and data set."));
    p.addPositionalArgument(QStringLiteral("PROJECT"), QStringLiteral("project file"));
    p.addOption({QStringLiteral("json"), QStringLiteral("print one JSON object")});
    int code = 0;
    if (!parseOrReport(p, args, QStringLiteral("info"), 1, &code))
        return code;
    QString error;
    auto store = openProjectToRead(p.positionalArguments().first(), &error);
    if (!store)
        return fail(error);
    const QJsonObject j = projectJson(*store);
    if (p.isSet(QStringLiteral("json"))) {
        printJson(j);
        return Ok;
    }
    QTextStream out(stdout);
    const ProjectSettings s = store->settings();
    out << "Project   " << s.name << "  (" << store->path() << ")\n"
        << "Template  " << s.templateName << "\n"
        << "Board     " << s.boardId << "\n"
        << "Labels    " << (s.labels.isEmpty() ? QStringLiteral("(none yet)") : s.labels.join(QStringLiteral(", "))) << "\n";
    if (!s.sensor.isEmpty())
        out << "Capture   " << s.sensor << " at " << s.sampleRateHz << " Hz, " << s.sampleLengthS << " s per sample\n";
    const DatasetCounts c = store->counts();
    out << "Samples   " << c.total() << " (train " << c.train << ", test " << c.test << ")";
    if (c.incomplete)
        out << ", not counted: " << c.incomplete << " incomplete or half-saved";
    out << "\n";
    for (const auto &row : c.perLabel) {
        out << "  " << row.label.leftJustified(16) << " train " << QString::number(row.train).rightJustified(5)
            << "  test " << QString::number(row.test).rightJustified(5);
        if (row.incomplete)
            out << "  incomplete " << QString::number(row.incomplete).rightJustified(5);
        out << "\n";
    }
    if (c.incomplete)
        out << "Incomplete samples are left out of features and training; list them with `tinyml samples "
            << store->path() << " list --incomplete`, remove them with `... delete --incomplete`.\n";
    return Ok;
}

} // namespace

std::unique_ptr<ProjectStore> openProjectToRead(const QString &path, QString *error)
{
    auto store = ProjectStore::open(path, error);
    if (store && store->isReadOnly())
        QTextStream(stderr) << "tinyml: note: project is read-only: " << store->readOnlyReason() << "\n";
    return store;
}

std::unique_ptr<ProjectStore> openProjectToWrite(const QString &path, const QString &action, QString *error)
{
    auto store = ProjectStore::open(path, error);
    if (store && store->isReadOnly()) {
        *error = QStringLiteral("cannot %1 %2: project is read-only: %3").arg(action, path, store->readOnlyReason());
        return nullptr;
    }
    return store;
}

QList<Command> projectCommands()
{
    return {
        {QStringLiteral("new"), QStringLiteral("new PROJECT.tinyml --template motion|audio|image|tabular|vibration [--board ID] [--labels a,b,c] | --example motion"),
         QStringLiteral("create a project"), cmdNew},
        {QStringLiteral("info"), QStringLiteral("info PROJECT [--json]"),
         QStringLiteral("show a project's settings and sample counts"), cmdInfo},
    };
}

} // namespace tinyml::cli
