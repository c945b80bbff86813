#include "stream/GroundTruth.h"

#include "io/CsvRecordReader.h"
#include "io/FloatText.h"

#include <QFile>

#include <algorithm>
#include <cmath>

namespace tinyml::stream {

namespace {

const QStringList kColumns = {QStringLiteral("start_s"), QStringLiteral("end_s"), QStringLiteral("label")};

bool fail(io::ImportError *error, const QString &file, int line, const QString &field, const QString &message)
{
    if (error)
        *error = io::ImportError{file, line, field, message};
    return false;
}

QString shown(std::string_view field)
{
    QString s = io::fieldText(field);
    if (s.size() > 40)
        s = s.left(40) + QStringLiteral("...");
    return s;
}

} // namespace

GroundTruth::GroundTruth(QVector<TruthEvent> events) : m_events(std::move(events))
{
    std::stable_sort(m_events.begin(), m_events.end(),
                     [](const TruthEvent &a, const TruthEvent &b) { return a.startS < b.startS; });
}

std::optional<GroundTruth> GroundTruth::parseCsv(const QByteArray &bytes, const QString &fileName,
                                                 const QStringList &knownLabels, io::ImportError *error)
{
    io::CsvRecordReader reader(bytes);
    io::CsvRecordReader::Status status = reader.next();
    if (status == io::CsvRecordReader::Status::Error) {
        fail(error, fileName, reader.line(), {}, reader.errorMessage());
        return std::nullopt;
    }
    if (status == io::CsvRecordReader::Status::End) {
        fail(error, fileName, 0, {}, QStringLiteral("empty file: a truth CSV starts with the header start_s,end_s,label"));
        return std::nullopt;
    }
    QStringList header;
    for (std::string_view f : reader.fields())
        header << io::fieldText(f).toLower();
    if (header != kColumns) {
        fail(error, fileName, reader.line(), {},
             QStringLiteral("header \"%1\" is not start_s,end_s,label (exactly these three columns, in this order)")
                 .arg(header.join(QLatin1Char(','))));
        return std::nullopt;
    }

    QVector<TruthEvent> events;
    while ((status = reader.next()) == io::CsvRecordReader::Status::Record) {
        const int line = reader.line();
        const auto &fields = reader.fields();
        if (fields.size() != 3) {
            fail(error, fileName, line, {},
                 QStringLiteral("%1 fields, expected 3 (start_s, end_s, label)").arg(fields.size()));
            return std::nullopt;
        }
        TruthEvent e;
        e.line = line;
        for (int c = 0; c < 2; ++c) {
            const auto v = io::parseFloat64(fields[size_t(c)]);
            if (!v || !std::isfinite(*v)) {
                fail(error, fileName, line, kColumns[c],
                     QStringLiteral("\"%1\" is not a finite number of seconds").arg(shown(fields[size_t(c)])));
                return std::nullopt;
            }
            (c == 0 ? e.startS : e.endS) = *v;
        }
        e.label = io::fieldText(fields[2]);
        if (e.startS < 0) {
            fail(error, fileName, line, kColumns[0], QStringLiteral("%1 s is negative").arg(e.startS));
            return std::nullopt;
        }
        if (e.endS <= e.startS) {
            fail(error, fileName, line, kColumns[1],
                 QStringLiteral("end %1 s is not after start %2 s").arg(e.endS).arg(e.startS));
            return std::nullopt;
        }
        if (e.label.isEmpty()) {
            fail(error, fileName, line, kColumns[2], QStringLiteral("empty label"));
            return std::nullopt;
        }
        if (!knownLabels.isEmpty() && !knownLabels.contains(e.label)) {
            fail(error, fileName, line, kColumns[2],
                 QStringLiteral("\"%1\" is not one of the model's labels (%2)")
                     .arg(e.label, knownLabels.join(QStringLiteral(", "))));
            return std::nullopt;
        }
        events.push_back(e);
    }
    if (status == io::CsvRecordReader::Status::Error) {
        fail(error, fileName, reader.line(), {}, reader.errorMessage());
        return std::nullopt;
    }

    GroundTruth truth(std::move(events));
    // Sorted by start: an event overlaps an earlier one exactly when it starts before the
    // latest end seen so far. Report it against the event that owns that end.
    int latest = -1;
    for (int i = 0; i < truth.m_events.size(); ++i) {
        const TruthEvent &e = truth.m_events[i];
        if (latest >= 0 && e.startS < truth.m_events[latest].endS) {
            const TruthEvent &a = truth.m_events[latest];
            const TruthEvent &b = e;
            const TruthEvent &later = a.line > b.line ? a : b;
            const TruthEvent &earlier = a.line > b.line ? b : a;
            fail(error, fileName, later.line, kColumns[0],
                 QStringLiteral("event [%1, %2) %3 overlaps the event of line %4 [%5, %6) %7")
                     .arg(later.startS).arg(later.endS).arg(later.label).arg(earlier.line)
                     .arg(earlier.startS).arg(earlier.endS).arg(earlier.label));
            return std::nullopt;
        }
        if (latest < 0 || e.endS > truth.m_events[latest].endS)
            latest = i;
    }
    return truth;
}

std::optional<GroundTruth> GroundTruth::loadCsv(const QString &path, const QStringList &knownLabels,
                                                io::ImportError *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        fail(error, path, 0, {}, QStringLiteral("cannot read: %1").arg(file.errorString()));
        return std::nullopt;
    }
    return parseCsv(file.readAll(), path, knownLabels, error);
}

QStringList GroundTruth::labels() const
{
    QStringList out;
    for (const TruthEvent &e : m_events)
        if (!out.contains(e.label))
            out << e.label;
    return out;
}

double GroundTruth::eventSeconds() const
{
    double sum = 0;
    for (const TruthEvent &e : m_events)
        sum += e.durationS();
    return sum;
}

QByteArray GroundTruth::toCsv() const
{
    QByteArray out = "start_s,end_s,label\n";
    for (const TruthEvent &e : m_events) {
        QByteArray label = e.label.toUtf8();
        if (label.contains(',') || label.contains('"') || label.contains(';') || label.contains('\t'))
            label = '"' + label.replace("\"", "\"\"") + '"';
        out += io::formatFloat64(e.startS) + ',' + io::formatFloat64(e.endS) + ',' + label + '\n';
    }
    return out;
}

} // namespace tinyml::stream
