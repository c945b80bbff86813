// tinyml telemetry: a board's drift summary (TELEMETRY) against the model's training data.

#include "BoardConnection.h"
#include "CliCommands.h"
#include "fleet/Drift.h"

#include <QTextStream>

namespace tinyml::cli {

namespace {

const QString kCommand = QStringLiteral("telemetry");

int cmdTelemetry(const QStringList &args)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Read the board's drift summary (class histogram, uncertain windows, mean top score, per-\n"
        "feature mean and variance of the int8 model input; raw sensor data stays on the board) and\n"
        "compare it with the model's training split by the population stability index: PSI < 0.1\n"
        "no shift, 0.1-0.25 moderate, > 0.25 significant (a credit-scoring rule of thumb).\n"
        "The board keeps one summary of its own classification windows and one of INVOKEs; the\n"
        "classification's is used when it has windows. Exit 0 also when drift is significant."));
    addBoardOptions(p);
    p.addOption({QStringLiteral("reset"), QStringLiteral("zero the board's summary after reading it")});
    p.addOption({QStringLiteral("source"), QStringLiteral("classify or invoke (default: classify when it has windows)"),
                 QStringLiteral("SOURCE")});
    int code = 0;
    if (!parseOrReport(p, args, kCommand, 1, &code))
        return code;
    std::optional<TelemetrySummary::Source> source;
    if (p.isSet(QStringLiteral("source"))) {
        const QString s = p.value(QStringLiteral("source"));
        if (s == QLatin1String("classify"))
            source = TelemetrySummary::kClassify;
        else if (s == QLatin1String("invoke"))
            source = TelemetrySummary::kInvoke;
        else
            return usageError(kCommand, QStringLiteral("--source %1: expected classify or invoke").arg(s));
    }
    const bool json = p.isSet(QStringLiteral("json"));
    QString error;
    auto store = openProjectToRead(p.positionalArguments().first(), &error);
    if (!store)
        return fail(error);
    auto stored = pickModel(*store, p, &error);
    if (!stored)
        return fail(error);
    Connection c;
    if (!connectBoard(p, kCommand, json, &c, &code))
        return code;
    auto report = deploy::fleet::readDrift(c.link, *store, stored->id, p.isSet(QStringLiteral("reset")), &error, source);
    if (!report)
        return fail(QStringLiteral("%1: %2").arg(c.definition.id, error));
    if (json) {
        QJsonObject o = report->toJson();
        o[QStringLiteral("board")] = c.definition.id;
        printJson(o);
        return Ok;
    }
    QTextStream out(stdout);
    out << c.definition.id << ": model " << stored->id << ", package "
        << QStringLiteral("%1").arg(report->packageCrc, 8, 16, QLatin1Char('0')) << ", "
        << (report->source == TelemetrySummary::kInvoke ? "INVOKE" : "classification") << " windows: " << report->windows
        << "\n";
    if (report->windows == 0) {
        out << "  no windows since the package became active or the last reset: nothing to compare\n";
        return Ok;
    }
    out << "  uncertain share " << QString::number(report->uncertainShare, 'f', 3) << ", mean top score "
        << QString::number(report->meanTopScore, 'f', 3) << "\n";
    out << "  class         device  training\n";
    for (int i = 0; i < report->labels.size(); ++i)
        out << "  " << report->labels[i].leftJustified(12) << QString::number(report->deviceClassShare.value(i), 'f', 3).rightJustified(7)
            << QString::number(report->trainClassShare.value(i), 'f', 3).rightJustified(10) << "\n";
    out << "  class PSI " << QString::number(report->classPsi, 'f', 4) << ", feature PSI max "
        << QString::number(report->maxFeaturePsi, 'f', 4) << " (input element " << report->maxFeatureElement << "), mean "
        << QString::number(report->meanFeaturePsi, 'f', 4) << "\n";
    out << "  drift: PSI " << QString::number(report->psi, 'f', 4) << ": " << report->level()
        << (report->significant() ? " (flagged)" : "") << "\n";
    return Ok;
}

} // namespace

QList<Command> telemetryCommands()
{
    return {
        {kCommand,
         QStringLiteral("telemetry PROJECT (--board ID | --port PATH) [--model ID] [--reset] [--source S] [--json]"),
         QStringLiteral("drift: the board's running summary against the training data (PSI)"), cmdTelemetry},
    };
}

} // namespace tinyml::cli
