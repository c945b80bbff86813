#include "io/CsvTableReader.h"

#include "io/CsvRecordReader.h"
#include "io/FloatText.h"

#include <QSet>

namespace tinyml::io {

namespace {
const QString kFormat = QStringLiteral("csv-table");

QString columnField(int index, const QString &name)
{
    return QStringLiteral("column %1 '%2'").arg(index + 1).arg(name);
}

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
    CsvRecordReader reader(bytes);
    auto status = reader.next();
    if (status == CsvRecordReader::Status::Error)
        return importFailure(fileName, kFormat, reader.line(), {}, reader.errorMessage());
    if (status == CsvRecordReader::Status::End)
        return importFailure(fileName, kFormat, 0, {}, QStringLiteral("empty file: a header row is required"));

    const int headerLine = reader.line();
    QStringList names;
    bool allNumeric = true;
    for (std::string_view f : reader.fields()) {
        allNumeric = allNumeric && parseFloat64(f).has_value();
        names << fieldText(f);
    }
    if (allNumeric)
        return importFailure(fileName, kFormat, headerLine, QStringLiteral("header"),
                             QStringLiteral("missing header row: the first row holds numbers"));

    const QString labelColumnName = options.labelColumn.isEmpty() ? QStringLiteral("label") : options.labelColumn;
    int labelColumn = -1, splitColumn = -1;
    QVector<int> featureColumns;
    QStringList featureNames;
    QSet<QString> seen;
    for (int i = 0; i < names.size(); ++i) {
        if (names[i].isEmpty())
            return importFailure(fileName, kFormat, headerLine, columnField(i, names[i]),
                                 QStringLiteral("empty column name"));
        if (seen.contains(names[i]))
            return importFailure(fileName, kFormat, headerLine, columnField(i, names[i]),
                                 QStringLiteral("duplicate column name"));
        seen.insert(names[i]);
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
        return importFailure(fileName, kFormat, headerLine, QStringLiteral("header"),
                             QStringLiteral("no label column '%1' and no label given").arg(labelColumnName));
    if (featureColumns.isEmpty())
        return importFailure(fileName, kFormat, headerLine, QStringLiteral("header"),
                             QStringLiteral("no feature columns"));

    const QDateTime now = QDateTime::currentDateTimeUtc();
    const qint64 featureCount = featureColumns.size();
    const size_t columns = size_t(names.size());
    QVector<Sample> samples;
    QVector<float> row(static_cast<qsizetype>(featureCount));
    while ((status = reader.next()) == CsvRecordReader::Status::Record) {
        const auto &fields = reader.fields();
        if (fields.size() != columns)
            return importFailure(fileName, kFormat, reader.line(), {},
                                 QStringLiteral("ragged row: %1 fields, the header has %2")
                                     .arg(fields.size()).arg(columns));
        for (qint64 k = 0; k < featureCount; ++k) {
            const int c = featureColumns[int(k)];
            const auto v = parseFloat32(fields[size_t(c)]);
            if (!v)
                return importFailure(fileName, kFormat, reader.line(), columnField(c, names[c]),
                                     QStringLiteral("'%1' is not a float32 number").arg(fieldText(fields[size_t(c)])));
            row[int(k)] = *v;
        }
        Sample s;
        s.label = labelColumn >= 0 ? fieldText(fields[size_t(labelColumn)]) : options.label;
        if (s.label.isEmpty())
            return importFailure(fileName, kFormat, reader.line(), columnField(labelColumn, names[labelColumn]),
                                 QStringLiteral("empty label"));
        s.split = options.split.value_or(Split::Train);
        if (splitColumn >= 0) {
            const QString cell = fieldText(fields[size_t(splitColumn)]);
            if (!cell.isEmpty()) {
                const auto split = splitFromCell(cell);
                if (!split)
                    return importFailure(fileName, kFormat, reader.line(), columnField(splitColumn, names[splitColumn]),
                                         QStringLiteral("'%1' is not train or test").arg(cell));
                s.split = *split;
            }
        }
        s.source = fileName;
        s.created = now;
        s.channels = featureNames;
        s.data = Tensor::fromFloats(row, {featureCount});
        samples.append(std::move(s));
    }
    if (status == CsvRecordReader::Status::Error)
        return importFailure(fileName, kFormat, reader.line(), {}, reader.errorMessage());
    if (samples.isEmpty())
        return importFailure(fileName, kFormat, 0, {}, QStringLiteral("no data rows after the header"));

    FileImportResult r;
    r.file = fileName;
    r.format = kFormat;
    r.samples = std::move(samples);
    r.splitFromFile = splitColumn >= 0;
    return r;
}

} // namespace tinyml::io
