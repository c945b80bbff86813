#include "pages/ProfileReport.h"

#include "device/BoardRegistry.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QLocale>

#include <algorithm>

#include <cmath>

namespace tinyml::ui {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("ProfileReport", text);
}

QString fixed(double v, int decimals)
{
    return QLocale().toString(v, 'f', decimals);
}

QString integer(qint64 v)
{
    return QLocale().toString(v);
}

/// Milliseconds with three significant decimals below 10 ms, fewer above.
QString msText(double ms)
{
    return fixed(ms, ms < 10 ? 3 : ms < 100 ? 2 : 1);
}

QString percentText(double fraction)
{
    return fixed(fraction * 100, 1);
}

QString dateText(const QString &isoUtc)
{
    const QDateTime t = QDateTime::fromString(isoUtc, Qt::ISODateWithMs);
    if (!t.isValid())
        return isoUtc;
    return t.toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm 'UTC'"));
}

ProfileRow row(const QString &metric, const QString &value, const QString &unit, std::optional<double> number = {})
{
    return ProfileRow{metric, value, unit, number};
}

QString counterWord(const QString &counter)
{
    if (counter == QLatin1String("instructions"))
        return tr("instructions");
    if (counter == QLatin1String("cycles"))
        return tr("cycles");
    if (counter == QLatin1String("microseconds"))
        return tr("µs");
    return counter;
}

QString boardText(const deploy::ProfileResult &r)
{
    if (r.boardName.isEmpty() || r.boardName == r.board)
        return r.board;
    return QStringLiteral("%1 (%2)").arg(r.boardName, r.board);
}

QString agentText(const deploy::ProfileResult &r)
{
    if (r.agentBuild.isEmpty())
        return r.agentVersion;
    return QStringLiteral("%1 · %2").arg(r.agentVersion, r.agentBuild);
}

double counterMedian(const deploy::ProfileResult &r)
{
    if (r.runCounters.isEmpty())
        return 0;
    QVector<quint64> sorted = r.runCounters;
    std::sort(sorted.begin(), sorted.end());
    const int n = int(sorted.size());
    return n % 2 ? double(sorted[n / 2]) : (double(sorted[n / 2 - 1]) + double(sorted[n / 2])) / 2.0;
}

} // namespace

QString counterUnitText(const QString &counter)
{
    if (counter == QLatin1String("instructions"))
        return tr("instruction count");
    if (counter == QLatin1String("cycles"))
        return tr("cycle count");
    if (counter == QLatin1String("microseconds"))
        return tr("µs");
    return counter;
}

QString clockText(quint64 hz)
{
    if (hz >= 1000000000ull && hz % 1000000000ull == 0)
        return tr("%1 GHz").arg(hz / 1000000000ull);
    if (hz >= 1000000ull)
        return tr("%1 MHz").arg(QLocale().toString(double(hz) / 1e6, 'g', 6));
    if (hz >= 1000ull)
        return tr("%1 kHz").arg(QLocale().toString(double(hz) / 1e3, 'g', 6));
    return tr("%1 Hz").arg(hz);
}

QString counterToMsText(const QString &counter, quint64 clockHz)
{
    if (counter == QLatin1String("microseconds"))
        return tr("wall-clock µs → ms");
    if (clockHz == 0)
        return counterUnitText(counter);
    return tr("%1 → ms at %2").arg(counterUnitText(counter), clockText(clockHz));
}

QString byteSizeText(qint64 bytes)
{
    if (bytes < 1024)
        return tr("%1 B").arg(bytes);
    if (bytes < 1024 * 1024)
        return tr("%1 KB").arg(fixed(bytes / 1024.0, 1));
    return tr("%1 MB").arg(fixed(bytes / (1024.0 * 1024.0), 2));
}

QVector<ProfileRow> profileRows(const deploy::ProfileResult &r, const BoardDefinition *board)
{
    // The measured numbers first; what ran where, and how, after them.
    QVector<ProfileRow> rows;
    const QString unitCounter = counterWord(r.counter);
    rows << row(tr("Runs (after warm-up)"), integer(r.runs), tr("runs"), r.runs);
    rows << row(tr("Warm-up runs"), integer(r.warmup), tr("runs"), r.warmup);

    rows << row(tr("Latency min"), msText(r.latencyMinMs), tr("ms"), r.latencyMinMs);
    rows << row(tr("Latency median"), msText(r.latencyMedianMs), tr("ms"), r.latencyMedianMs);
    rows << row(tr("Latency max"), msText(r.latencyMaxMs), tr("ms"), r.latencyMaxMs);
    if (!r.runCounters.isEmpty()) {
        const double median = counterMedian(r);
        rows << row(tr("Latency median (counter)"), integer(qint64(std::llround(median))), unitCounter, median);
    }
    rows << row(tr("MACs per inference"), integer(r.macs), tr("MACs"), double(r.macs));
    if (r.macs > 0 && !r.runCounters.isEmpty() && r.counter != QLatin1String("microseconds")) {
        const double perMac = counterMedian(r) / double(r.macs);
        rows << row(tr("Counter per MAC"), fixed(perMac, 2), tr("%1/MAC").arg(unitCounter), perMac);
    }

    rows << row(tr("Arena (planned)"), integer(r.arenaBytes), tr("B"), double(r.arenaBytes));
    rows << row(tr("Arena lower bound"), integer(r.arenaLowerBoundBytes), tr("B"), double(r.arenaLowerBoundBytes));
    if (r.arenaLowerBoundBytes > 0) {
        const double over = 100.0 * (double(r.arenaBytes) / double(r.arenaLowerBoundBytes) - 1.0);
        rows << row(tr("Arena above lower bound"), fixed(over, 1), tr("%"), over);
    }
    if (board && board->ramBytes > 0) {
        rows << row(tr("Board RAM"), integer(qint64(board->ramBytes)), tr("B"), double(board->ramBytes));
        const double use = 100.0 * double(r.arenaBytes) / double(board->ramBytes);
        rows << row(tr("Arena share of RAM"), fixed(use, use < 1 ? 2 : 1), tr("%"), use);
    }
    rows << row(tr("Package"), integer(r.packageBytes), tr("B"), double(r.packageBytes));
    rows << row(tr("Flash (package + runtime)"), integer(r.flashBytes), tr("B"), double(r.flashBytes));
    if (board && board->flashBytes > 0) {
        rows << row(tr("Board flash"), integer(qint64(board->flashBytes)), tr("B"), double(board->flashBytes));
        const double use = 100.0 * double(r.flashBytes) / double(board->flashBytes);
        rows << row(tr("Flash share"), fixed(use, use < 1 ? 2 : 1), tr("%"), use);
    }

    rows << row(r.energyEstimated ? tr("Energy per inference (estimated)") : tr("Energy per inference (measured)"),
                fixed(r.energyUj, r.energyUj < 10 ? 3 : 1), tr("µJ"), r.energyUj);
    rows << row(tr("Energy source"), r.energySource, QString());

    if (r.isAnomaly()) {
        // One score per window: no argmax, so no accuracy; the scores are compared bit for bit.
        rows << row(tr("Bit-exact anomaly scores"), tr("%1 / %2").arg(integer(r.bitexactOutputs), integer(r.outputsCompared)),
                    tr("outputs"), r.bitexactOutputs);
    } else if (r.outputsCompared > 0) {
        rows << row(tr("Device accuracy (test split)"), percentText(r.deviceAccuracy), tr("%"), r.deviceAccuracy * 100);
        rows << row(tr("Host int8 accuracy"), percentText(r.hostInt8Accuracy), tr("%"), r.hostInt8Accuracy * 100);
        rows << row(tr("Bit-exact outputs"), tr("%1 / %2").arg(integer(r.bitexactOutputs), integer(r.outputsCompared)),
                    tr("outputs"), r.bitexactOutputs);
    } else {
        rows << row(tr("Device accuracy (test split)"), tr("not measured"), QString());
        rows << row(tr("Host int8 accuracy"), percentText(r.hostInt8Accuracy), tr("%"), r.hostInt8Accuracy * 100);
    }

    rows << row(tr("Board"), boardText(r), QString());
    rows << row(tr("Clock"), QLocale().toString(double(r.clockHz) / 1e6, 'g', 6), tr("MHz"), double(r.clockHz) / 1e6);
    rows << row(tr("Timing"), counterUnitText(r.counter) + (r.counter == QLatin1String("instructions")
                                                                ? tr(" (QEMU -icount, not cycles)")
                                                                : QString()),
                QString());
    rows << row(tr("Agent"), agentText(r), QString());
    rows << row(tr("Method"), r.method, QString());
    rows << row(tr("Model"), r.modelName.isEmpty() ? tr("#%1").arg(r.modelId) : tr("#%1 %2").arg(r.modelId).arg(r.modelName),
                QString());
    rows << row(tr("Measured"), dateText(r.createdUtc), QString());
    return rows;
}

QVector<ProfileComparisonRow> compareProfiles(const deploy::ProfileResult &a, const deploy::ProfileResult &b)
{
    QVector<ProfileComparisonRow> out;
    auto text = [&](const QString &metric, const QString &ta, const QString &tb) {
        out << ProfileComparisonRow{metric, QString(), ta, tb, std::nullopt};
    };
    auto number = [&](const QString &metric, const QString &unit, double va, double vb, int decimals) {
        ProfileComparisonRow r{metric, unit, fixed(va, decimals), fixed(vb, decimals), std::nullopt};
        if (va != 0 && std::isfinite(va) && std::isfinite(vb))
            r.ratio = vb / va;
        out << r;
    };
    text(tr("Board"), boardText(a), boardText(b));
    number(tr("Latency min"), tr("ms"), a.latencyMinMs, b.latencyMinMs, 3);
    number(tr("Latency median"), tr("ms"), a.latencyMedianMs, b.latencyMedianMs, 3);
    number(tr("Latency max"), tr("ms"), a.latencyMaxMs, b.latencyMaxMs, 3);
    if (a.counter == b.counter)
        number(tr("Latency median (counter)"), counterWord(a.counter), counterMedian(a), counterMedian(b), 0);
    number(tr("MACs per inference"), tr("MACs"), double(a.macs), double(b.macs), 0);
    number(tr("Arena (planned)"), tr("B"), double(a.arenaBytes), double(b.arenaBytes), 0);
    number(tr("Arena lower bound"), tr("B"), double(a.arenaLowerBoundBytes), double(b.arenaLowerBoundBytes), 0);
    number(tr("Package"), tr("B"), double(a.packageBytes), double(b.packageBytes), 0);
    number(tr("Flash (package + runtime)"), tr("B"), double(a.flashBytes), double(b.flashBytes), 0);
    number(a.energyEstimated || b.energyEstimated ? tr("Energy per inference (estimated)")
                                                  : tr("Energy per inference (measured)"),
           tr("µJ"), a.energyUj, b.energyUj, 3);
    if (!a.isAnomaly() && !b.isAnomaly()) {
        number(tr("Device accuracy"), tr("%"), a.deviceAccuracy * 100, b.deviceAccuracy * 100, 1);
        number(tr("Host int8 accuracy"), tr("%"), a.hostInt8Accuracy * 100, b.hostInt8Accuracy * 100, 1);
    }
    text(tr("Bit-exact outputs"), tr("%1 / %2").arg(a.bitexactOutputs).arg(a.outputsCompared),
         tr("%1 / %2").arg(b.bitexactOutputs).arg(b.outputsCompared));
    text(tr("Clock"), clockText(a.clockHz), clockText(b.clockHz));
    text(tr("Timing"), counterUnitText(a.counter), counterUnitText(b.counter));
    text(tr("Agent"), agentText(a), agentText(b));
    text(tr("Method"), a.method, b.method);
    text(tr("Model"), tr("#%1").arg(a.modelId), tr("#%1").arg(b.modelId));
    text(tr("Measured"), dateText(a.createdUtc), dateText(b.createdUtc));
    return out;
}

namespace {

QString tsvCell(QString s)
{
    s.replace(QLatin1Char('\t'), QLatin1Char(' '));
    s.replace(QLatin1Char('\n'), QLatin1Char(' '));
    return s;
}

QString plainNumber(double v)
{
    if (v == std::floor(v) && std::fabs(v) < 1e15)
        return QString::number(qint64(v));
    return QString::number(v, 'g', 10);
}

} // namespace

QString profileRowsTsv(const QVector<ProfileRow> &rows)
{
    QStringList lines;
    lines << QStringList{tr("Metric"), tr("Value"), tr("Unit")}.join(QLatin1Char('\t'));
    for (const ProfileRow &r : rows) {
        // Fractions ("12 / 12") and text stay as shown; plain numbers lose their grouping.
        const bool plain = r.number && !r.value.contains(QLatin1Char('/'));
        lines << QStringList{tsvCell(r.metric), tsvCell(plain ? plainNumber(*r.number) : r.value), tsvCell(r.unit)}.join(
                     QLatin1Char('\t'));
    }
    return lines.join(QLatin1Char('\n')) + QLatin1Char('\n');
}

QString comparisonTsv(const QVector<ProfileComparisonRow> &rows, const QString &nameA, const QString &nameB)
{
    QStringList lines;
    lines << QStringList{tr("Metric"), nameA, nameB, tr("Ratio (B/A)"), tr("Unit")}.join(QLatin1Char('\t'));
    for (const ProfileComparisonRow &r : rows)
        lines << QStringList{tsvCell(r.metric), tsvCell(r.a), tsvCell(r.b),
                             r.ratio ? QString::number(*r.ratio, 'f', 3) : QString(), tsvCell(r.unit)}
                     .join(QLatin1Char('\t'));
    return lines.join(QLatin1Char('\n')) + QLatin1Char('\n');
}

} // namespace tinyml::ui
