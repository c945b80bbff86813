#include "io/CsvTimeSeriesReader.h"

#include "io/CsvRecordReader.h"
#include "io/FloatText.h"

#include <QRegularExpression>
#include <QSet>

#include <algorithm>
#include <cmath>

namespace tinyml::io {

namespace {
const QString kFormat = QStringLiteral("csv-timeseries");

QString columnField(int index, const QString &name)
{
    return QStringLiteral("column %1 '%2'").arg(index + 1).arg(name);
}
} // namespace

QPair<QString, QString> splitChannelHeader(const QString &header)
{
    static const QRegularExpression re(QStringLiteral("^(.*\\S)\\s*\\(([^()]*)\\)$"));
    const QString h = header.trimmed();
    const auto m = re.match(h);
    if (m.hasMatch())
        return {m.captured(1), m.captured(2).trimmed()};
    return {h, QString()};
}

bool isTimestampColumnName(const QString &name)
{
    return name.compare(QLatin1String("timestamp"), Qt::CaseInsensitive) == 0 ||
           name.compare(QLatin1String("time"), Qt::CaseInsensitive) == 0 ||
           name.compare(QLatin1String("timestamp_ms"), Qt::CaseInsensitive) == 0;
}

double rateFromIntervalMs(double intervalMs)
{
    if (!(intervalMs > 0) || !std::isfinite(intervalMs))
        return 0;
    const double rate = 1000.0 / intervalMs;
    const double whole = std::round(rate);
    if (whole > 0 && std::fabs(rate - whole) <= 1e-9 * rate)
        return whole;
    return rate;
}

FileImportResult parseTimeSeriesCsv(const QByteArray &bytes, const QString &fileName,
                                    const ImportOptions &options)
{
    CsvRecordReader reader(bytes);
    auto status = reader.next();
    if (status == CsvRecordReader::Status::Error)
        return importFailure(fileName, kFormat, reader.line(), {}, reader.errorMessage());
    if (status == CsvRecordReader::Status::End)
        return importFailure(fileName, kFormat, 0, {}, QStringLiteral("empty file: a header row is required"));

    const int headerLine = reader.line();
    QStringList names, units;
    bool allNumeric = true;
    for (std::string_view f : reader.fields()) {
        allNumeric = allNumeric && parseFloat64(f).has_value();
        const auto nu = splitChannelHeader(fieldText(f));
        names << nu.first;
        units << nu.second;
    }
    if (allNumeric)
        return importFailure(fileName, kFormat, headerLine, QStringLiteral("header"),
                             QStringLiteral("missing header row: the first row holds numbers"));
    QSet<QString> seen;
    for (int i = 0; i < names.size(); ++i) {
        if (names[i].isEmpty())
            return importFailure(fileName, kFormat, headerLine, columnField(i, names[i]),
                                 QStringLiteral("empty column name"));
        if (seen.contains(names[i]))
            return importFailure(fileName, kFormat, headerLine, columnField(i, names[i]),
                                 QStringLiteral("duplicate column name"));
        seen.insert(names[i]);
    }
    const bool hasTime = isTimestampColumnName(names.first());
    const int firstChannel = hasTime ? 1 : 0;
    const int columns = names.size();
    const int channels = columns - firstChannel;
    if (channels < 1)
        return importFailure(fileName, kFormat, headerLine, QStringLiteral("header"),
                             QStringLiteral("no channel columns besides the timestamp"));

    QVector<float> values;
    QVector<double> times;
    while ((status = reader.next()) == CsvRecordReader::Status::Record) {
        const auto &fields = reader.fields();
        if (int(fields.size()) != columns)
            return importFailure(fileName, kFormat, reader.line(), {},
                                 QStringLiteral("ragged row: %1 fields, the header has %2")
                                     .arg(fields.size()).arg(columns));
        if (hasTime) {
            const auto t = parseFloat64(fields[0]);
            if (!t || !std::isfinite(*t))
                return importFailure(fileName, kFormat, reader.line(), columnField(0, names[0]),
                                     QStringLiteral("'%1' is not a number").arg(fieldText(fields[0])));
            if (!times.isEmpty() && !(*t > times.last()))
                return importFailure(fileName, kFormat, reader.line(), columnField(0, names[0]),
                                     QStringLiteral("timestamps must increase: %1 after %2")
                                         .arg(*t).arg(times.last()));
            times.append(*t);
        }
        for (int c = firstChannel; c < columns; ++c) {
            const auto v = parseFloat32(fields[size_t(c)]);
            if (!v)
                return importFailure(fileName, kFormat, reader.line(), columnField(c, names[c]),
                                     QStringLiteral("'%1' is not a float32 number").arg(fieldText(fields[size_t(c)])));
            values.append(*v);
        }
    }
    if (status == CsvRecordReader::Status::Error)
        return importFailure(fileName, kFormat, reader.line(), {}, reader.errorMessage());
    const qint64 frames = values.size() / channels;
    if (frames == 0)
        return importFailure(fileName, kFormat, 0, {}, QStringLiteral("no data rows after the header"));

    double rate = options.sampleRateHz;
    if (times.size() >= 2) {
        QVector<double> intervals(times.size() - 1);
        for (int i = 1; i < times.size(); ++i)
            intervals[i - 1] = times[i] - times[i - 1];
        auto mid = intervals.begin() + intervals.size() / 2;
        std::nth_element(intervals.begin(), mid, intervals.end());
        rate = rateFromIntervalMs(*mid);
    }

    const QString label = options.label.isEmpty() ? labelFromFileName(fileName) : options.label;
    if (label.isEmpty())
        return importFailure(fileName, kFormat, 0, QStringLiteral("label"),
                             QStringLiteral("no label: name the file <label>.<anything>.csv or give a label"));

    Sample s;
    stampSample(s, fileName, label, options);
    s.sampleRateHz = rate;
    s.channels = names.mid(firstChannel);
    const QStringList channelUnits = units.mid(firstChannel);
    if (std::any_of(channelUnits.begin(), channelUnits.end(), [](const QString &u) { return !u.isEmpty(); }))
        s.units = channelUnits;
    s.data = Tensor::fromFloats(values, {frames, channels});

    FileImportResult r;
    r.file = fileName;
    r.format = kFormat;
    r.samples.append(std::move(s));
    return r;
}

} // namespace tinyml::io
