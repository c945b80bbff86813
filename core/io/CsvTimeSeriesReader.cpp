#include "io/CsvTimeSeriesReader.h"

#include "io/CsvImportReader.h"
#include "io/FloatText.h"

#include <QRegularExpression>

#include <algorithm>
#include <cmath>

namespace tinyml::io {

namespace {
const QString kFormat = QStringLiteral("csv-timeseries");
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
    CsvImportReader csv(bytes, fileName, kFormat);
    QStringList headers;
    if (!csv.readHeader(&headers))
        return csv.failure();
    QStringList names, units;
    for (const QString &h : headers) {
        const auto nu = splitChannelHeader(h);
        names << nu.first;
        units << nu.second;
    }
    if (!csv.setColumnNames(names))
        return csv.failure();
    const bool hasTime = isTimestampColumnName(names.first());
    const int firstChannel = hasTime ? 1 : 0;
    const int columns = names.size();
    const int channels = columns - firstChannel;
    if (channels < 1)
        return csv.headerFailure(QStringLiteral("no channel columns besides the timestamp"));

    QVector<float> values;
    QVector<double> times;
    while (csv.nextRow()) {
        if (hasTime) {
            const auto t = parseFloat64(csv.fields()[0]);
            if (!t)
                return csv.rowFailure(0, QStringLiteral("'%1' is not a number").arg(csv.excerpt(0)));
            if (!std::isfinite(*t))
                return csv.rowFailure(0, QStringLiteral("'%1' is not a finite number (NaN and infinity are not allowed)")
                                             .arg(csv.excerpt(0)));
            if (!times.isEmpty() && !(*t > times.last()))
                return csv.rowFailure(0, QStringLiteral("timestamps must increase: %1 after %2")
                                             .arg(*t)
                                             .arg(times.last()));
            times.append(*t);
        }
        for (int c = firstChannel; c < columns; ++c) {
            const auto v = csv.float32(c);
            if (!v)
                return csv.failure();
            values.append(*v);
        }
    }
    if (csv.failed())
        return csv.failure();
    const qint64 frames = values.size() / channels;
    if (frames == 0)
        return csv.fileFailure({}, QStringLiteral("no data rows after the header"));

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
        return csv.fileFailure(
            QStringLiteral("label"),
            QStringLiteral("no label: name the file <label>.<anything>.csv or give a label"));

    // A sample without a rate breaks windowing, features and replay far from here, and
    // nothing later can tell what it should have been: refuse it now and say what to add.
    if (!(rate > 0)) {
        if (hasTime)
            return csv.fileFailure(
                csv.headerFieldName(0),
                QStringLiteral("one data row gives no interval between timestamps, so no sample rate; "
                               "add rows or give the rate (tinyml import --rate HZ)"));
        return csv.fileFailure(
            QStringLiteral("header"),
            QStringLiteral("no timestamp column and no sample rate given: add a first column "
                           "'timestamp' in milliseconds, or give the rate (tinyml import --rate HZ)"));
    }

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
