// tinyml samples PROJECT list | delete | relabel: clean up a data set without the GUI.
#include "CliCommands.h"

#include "store/ProjectStore.h"

#include <QCommandLineParser>
#include <QFileInfo>
#include <QJsonArray>
#include <QSet>
#include <QTextStream>

namespace tinyml::cli {

namespace {

const QString kCommand = QStringLiteral("samples");

/// What a row of `list` says about a sample's state.
QString statusOf(const SampleInfo &i)
{
    // open() finishes samples left by a dead capture, so an empty checksum here means a
    // capture in another process is still writing this one.
    if (i.checksum.isEmpty())
        return QStringLiteral("recording");
    return i.complete ? QStringLiteral("ok") : QStringLiteral("incomplete");
}

QJsonObject sampleJson(const SampleInfo &i)
{
    return {{QStringLiteral("id"), i.id},
            {QStringLiteral("label"), i.label},
            {QStringLiteral("split"), splitName(i.split)},
            {QStringLiteral("frames"), i.frames},
            {QStringLiteral("sample_rate_hz"), i.sampleRateHz},
            {QStringLiteral("channels"), QJsonArray::fromStringList(i.channels)},
            {QStringLiteral("sensor"), i.sensor},
            {QStringLiteral("source"), i.source},
            {QStringLiteral("created"), i.created.toUTC().toString(Qt::ISODate)},
            {QStringLiteral("complete"), i.complete && !i.checksum.isEmpty()},
            {QStringLiteral("status"), statusOf(i)}};
}

QString idList(const QVector<qint64> &ids)
{
    QStringList parts;
    for (qint64 id : ids)
        parts << QString::number(id);
    return parts.join(QStringLiteral(", "));
}

/// IDs given on the command line, checked against the project: every one must be a number
/// and name a sample. On error returns nullopt with *error set (and *usage for bad syntax).
std::optional<QVector<qint64>> sampleIds(const QStringList &words, const QVector<SampleInfo> &infos,
                                         bool *usage, QString *error)
{
    QSet<qint64> known;
    for (const SampleInfo &i : infos)
        known.insert(i.id);
    QVector<qint64> ids, unknown;
    for (const QString &w : words) {
        bool ok = false;
        const qint64 id = w.toLongLong(&ok);
        if (!ok || id <= 0) {
            *usage = true;
            *error = QStringLiteral("'%1' is not a sample id (ids are positive numbers; see `tinyml samples PROJECT list`)").arg(w);
            return std::nullopt;
        }
        if (!known.contains(id))
            unknown << id;
        else if (!ids.contains(id))
            ids << id;
    }
    if (!unknown.isEmpty()) {
        *error = QStringLiteral("no sample with id %1 in this project (%2 samples; `tinyml samples PROJECT list` "
                                "shows their ids); nothing changed")
                     .arg(idList(unknown))
                     .arg(infos.size());
        return std::nullopt;
    }
    return ids;
}

int list(const QCommandLineParser &p, const QString &path)
{
    QString error;
    auto store = openProjectToRead(path, &error);
    if (!store)
        return fail(error);
    const bool onlyIncomplete = p.isSet(QStringLiteral("incomplete"));
    const bool byLabel = p.isSet(QStringLiteral("label"));
    const QString label = p.value(QStringLiteral("label"));
    QVector<SampleInfo> rows;
    for (const SampleInfo &i : store->sampleInfos()) {
        if (onlyIncomplete && statusOf(i) == QLatin1String("ok"))
            continue;
        if (byLabel && i.label != label)
            continue;
        rows << i;
    }
    if (p.isSet(QStringLiteral("json"))) {
        QJsonArray a;
        for (const SampleInfo &i : rows)
            a.append(sampleJson(i));
        printJson({{QStringLiteral("samples"), a}, {QStringLiteral("count"), int(rows.size())}});
        return Ok;
    }
    // Justified pieces, not QString::arg chains: a label may contain "%1".
    QTextStream out(stdout);
    auto row = [&](const QString &id, const QString &label, const QString &split, const QString &frames,
                   const QString &rate, const QString &channels, const QString &status, const QString &source) {
        out << id.rightJustified(6) << "  " << label.leftJustified(16) << " " << split.leftJustified(5) << " "
            << frames.rightJustified(8) << " " << rate.rightJustified(9) << " " << channels.rightJustified(3)
            << "  " << status.leftJustified(10) << "  " << source << "\n";
    };
    row(QStringLiteral("id"), QStringLiteral("label"), QStringLiteral("split"), QStringLiteral("frames"),
        QStringLiteral("rate Hz"), QStringLiteral("ch"), QStringLiteral("status"), QStringLiteral("source"));
    for (const SampleInfo &i : rows)
        row(QString::number(i.id), i.label, splitName(i.split), QString::number(i.frames),
            QString::number(i.sampleRateHz, 'g', 6), QString::number(i.channels.size()), statusOf(i), i.source);
    out << rows.size() << " sample(s)\n";
    return Ok;
}

int remove(const QCommandLineParser &p, const QString &path, const QStringList &words)
{
    const bool incomplete = p.isSet(QStringLiteral("incomplete"));
    if (incomplete == !words.isEmpty())
        return usageError(kCommand, QStringLiteral("delete takes sample ids or --incomplete (one of the two)"));
    QString error;
    auto store = openProjectToWrite(path, QStringLiteral("delete samples from"), &error);
    if (!store)
        return fail(error);
    const QVector<SampleInfo> infos = store->sampleInfos();
    QVector<qint64> ids;
    int recording = 0;
    if (incomplete) {
        for (const SampleInfo &i : infos) {
            const QString status = statusOf(i);
            if (status == QLatin1String("incomplete"))
                ids << i.id;
            else if (status == QLatin1String("recording"))
                ++recording; // a live capture owns it: leave it alone
        }
    } else {
        bool usage = false;
        const auto given = sampleIds(words, infos, &usage, &error);
        if (!given)
            return usage ? usageError(kCommand, error) : fail(error);
        ids = *given;
        for (const SampleInfo &i : infos)
            if (ids.contains(i.id) && statusOf(i) == QLatin1String("recording"))
                return fail(QStringLiteral("sample %1 is being recorded by a running capture; stop it first").arg(i.id));
    }
    if (!ids.isEmpty() && !store->removeSamples(ids, &error))
        return fail(error);
    QJsonArray deleted;
    for (qint64 id : ids)
        deleted.append(id);
    if (p.isSet(QStringLiteral("json"))) {
        printJson({{QStringLiteral("deleted"), deleted}, {QStringLiteral("still_recording"), recording}});
    } else {
        QTextStream out(stdout);
        if (ids.isEmpty())
            out << "No incomplete samples to delete\n";
        else
            out << "Deleted " << ids.size() << " sample(s): " << idList(ids) << "\n";
        if (recording)
            out << "Left " << recording << " sample(s) that a running capture is still recording\n";
    }
    return Ok;
}

int relabel(const QCommandLineParser &p, const QString &path, const QStringList &words)
{
    const QString label = p.value(QStringLiteral("label")).trimmed();
    if (!p.isSet(QStringLiteral("label")) || label.isEmpty())
        return usageError(kCommand, QStringLiteral("relabel needs --label L (not empty)"));
    if (words.isEmpty())
        return usageError(kCommand, QStringLiteral("relabel needs the ids of the samples to relabel"));
    QString error;
    auto store = openProjectToWrite(path, QStringLiteral("relabel samples in"), &error);
    if (!store)
        return fail(error);
    bool usage = false;
    const auto ids = sampleIds(words, store->sampleInfos(), &usage, &error);
    if (!ids)
        return usage ? usageError(kCommand, error) : fail(error);
    if (!store->setLabel(*ids, label, &error))
        return fail(error);
    // A new label becomes a project label, as with import and capture.
    ProjectSettings settings = store->settings();
    if (!settings.labels.contains(label)) {
        settings.labels << label;
        if (!store->setSettings(settings, &error))
            return fail(error);
    }
    QJsonArray changed;
    for (qint64 id : *ids)
        changed.append(id);
    if (p.isSet(QStringLiteral("json")))
        printJson({{QStringLiteral("relabelled"), changed}, {QStringLiteral("label"), label}});
    else
        QTextStream(stdout) << "Relabelled " << ids->size() << " sample(s) as '" << label << "': " << idList(*ids) << "\n";
    return Ok;
}

int cmdSamples(const QStringList &args)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "List, delete or relabel a project's samples.\n"
        "  list [--label L] [--incomplete] [--json]   one row per sample: id, label, split, frames, rate,\n"
        "                                             channels, status (ok, incomplete, recording), source\n"
        "  delete ID... | --incomplete                 delete samples (incomplete: every cut-off capture)\n"
        "  relabel ID... --label L                     give samples another label"));
    p.addPositionalArgument(QStringLiteral("PROJECT"), QStringLiteral("project file"));
    p.addPositionalArgument(QStringLiteral("ACTION"), QStringLiteral("list | delete | relabel"));
    p.addPositionalArgument(QStringLiteral("ID"), QStringLiteral("sample ids (delete, relabel)"), QStringLiteral("[ID...]"));
    p.addOption({QStringLiteral("label"), QStringLiteral("list: only this label; relabel: the new label"), QStringLiteral("L")});
    p.addOption({QStringLiteral("incomplete"), QStringLiteral("list: only incomplete samples; delete: all incomplete samples")});
    p.addOption({QStringLiteral("json"), QStringLiteral("print one JSON object")});
    int code = 0;
    if (!parseOrReport(p, args, kCommand, -2, &code))
        return code;
    QStringList words = p.positionalArguments();
    const QString path = words.takeFirst();
    const QString action = words.takeFirst();
    if (action == QLatin1String("list")) {
        if (!words.isEmpty())
            return usageError(kCommand, QStringLiteral("list takes no ids (use --label or --incomplete to filter)"));
        return list(p, path);
    }
    if (action == QLatin1String("delete"))
        return remove(p, path, words);
    if (action == QLatin1String("relabel"))
        return relabel(p, path, words);
    return usageError(kCommand, QStringLiteral("unknown action '%1' (list, delete or relabel)").arg(action));
}

} // namespace

QList<Command> sampleCommands()
{
    return {
        {QStringLiteral("samples"),
         QStringLiteral("samples PROJECT list [--label L] [--incomplete] | delete ID...|--incomplete | relabel ID... --label L"),
         QStringLiteral("list, delete or relabel samples"), cmdSamples},
    };
}

} // namespace tinyml::cli
