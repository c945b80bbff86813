#include "io/CsvTableReader.h"

#include "io/CsvImportReader.h"

namespace tinyml::io {

namespace {
const QString kFormat = QStringLiteral("csv-table");

std::optional<Split> splitFromCell(const QString &text)
{
    const QString t = text.toLower();
    if (t == QLatin1String("train") || t == QLatin1String("training"))
        return Split::Train;
    if (t == QLatin1String("test") || t == QLatin1String("testing"))
        return Split::Test;
    return std::nullopt;
}
} // namespace

FileImportResult parseTableCsv(const QByteArray &bytes, const QString &fileName,
                               const ImportOptions &options)
{
    CsvImportReader csv(bytes, fileName, kFormat);
    QStringList names;
    if (!csv.readHeader(&names) || !csv.setColumnNames(names))
        return csv.failure();

    const QString labelColumnName = options.labelColumn.isEmpty() ? QStringLiteral("label") : options.labelColumn;
    int labelColumn = -1, splitColumn = -1;
    QVector<int> featureColumns;
    QStringList featureNames;
    for (int i = 0; i < names.size(); ++i) {
        if (labelColumn < 0 && names[i].compare(labelColumnName, Qt::CaseInsensitive) == 0) {
            labelColumn = i;
        } else if (splitColumn < 0 && names[i].compare(QLatin1String("split"), Qt::CaseInsensitive) == 0) {
            splitColumn = i;
        } else {
            featureColumns.append(i);
            featureNames << names[i];
        }
    }
    if (labelColumn < 0 && options.label.isEmpty())
        return csv.headerFailure(
            QStringLiteral("no label column '%1' and no label given").arg(messageExcerpt(labelColumnName)));
    if (featureColumns.isEmpty())
        return csv.headerFailure(QStringLiteral("no feature columns"));

    const QDateTime now = QDateTime::currentDateTimeUtc();
    const qint64 featureCount = featureColumns.size();
    QVector<Sample> samples;
    QVector<float> row(static_cast<qsizetype>(featureCount));
    while (csv.nextRow()) {
        for (qint64 k = 0; k < featureCount; ++k) {
            const auto v = csv.float32(featureColumns[int(k)]);
            if (!v)
                return csv.failure();
            row[int(k)] = *v;
        }
        Sample s;
        s.label = labelColumn >= 0 ? csv.text(labelColumn) : options.label;
        if (s.label.isEmpty())
            return csv.rowFailure(labelColumn, QStringLiteral("empty label"));
        s.split = options.split.value_or(Split::Train);
        if (splitColumn >= 0) {
            const QString cell = csv.text(splitColumn);
            if (!cell.isEmpty()) {
                const auto split = splitFromCell(cell);
                if (!split)
                    return csv.rowFailure(splitColumn,
                                          QStringLiteral("'%1' is not train or test").arg(messageExcerpt(cell)));
                s.split = *split;
            }
        }
        s.source = fileName;
        s.created = now;
        s.channels = featureNames;
        s.data = Tensor::fromFloats(row, {featureCount});
        samples.append(std::move(s));
    }
    if (csv.failed())
        return csv.failure();
    if (samples.isEmpty())
        return csv.fileFailure({}, QStringLiteral("no data rows after the header"));

    FileImportResult r;
    r.file = fileName;
    r.format = kFormat;
    r.samples = std::move(samples);
    r.splitFromFile = splitColumn >= 0;
    return r;
}

} // namespace tinyml::io
