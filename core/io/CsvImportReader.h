#pragma once
// What the two CSV importers (time series, table) share: a header row of unique names, then
// data rows exactly as wide as the header. Every failure comes back as a FileImportResult
// naming the file, the line and the column ("column 3 'accZ'"), the same way in both.
//
//     CsvImportReader csv(bytes, fileName, format);
//     QStringList names;
//     if (!csv.readHeader(&names) || !csv.setColumnNames(names))
//         return csv.failure();
//     while (csv.nextRow()) {
//         const auto v = csv.float32(1);
//         if (!v)
//             return csv.failure();
//     }
//     if (csv.failed())
//         return csv.failure();

#include "io/CsvRecordReader.h"
#include "io/ImportResult.h"

#include <optional>

namespace tinyml::io {

class CsvImportReader
{
public:
    CsvImportReader(const QByteArray &bytes, const QString &fileName, const QString &format);

    /// Reads the header row into its trimmed fields. Fails on a malformed or empty text and
    /// on a first row of numbers (no header at all).
    bool readHeader(QStringList *fields);
    /// The names failures call the columns by (the header texts, or what the importer made of
    /// them); each must be non-empty and unique.
    bool setColumnNames(const QStringList &names);

    /// Reads the next data row; false at the end of the text, or on a malformed or ragged row
    /// (then failed()).
    bool nextRow();
    const std::vector<std::string_view> &fields() const { return m_reader.fields(); }
    QString text(int column) const { return fieldText(m_reader.fields()[size_t(column)]); }
    /// text(column) shortened for a message (messageExcerpt).
    QString excerpt(int column) const { return messageExcerpt(text(column)); }
    /// The row's field as a finite float32; nullopt after recording the failure (not a number,
    /// out of the float32 range, NaN or infinity).
    std::optional<float> float32(int column);

    bool failed() const { return m_failure.has_value(); }
    /// The failure recorded by the calls above.
    FileImportResult failure() const;
    /// Failures the importer finds itself: in the current row, in the header row, or in the
    /// file as a whole (no line).
    FileImportResult rowFailure(int column, const QString &message) const;
    FileImportResult headerFailure(const QString &message) const;
    FileImportResult fileFailure(const QString &field, const QString &message) const;
    /// "column 1 'timestamp'": how messages name a column.
    QString headerFieldName(int column) const { return columnField(column); }

private:
    QString columnField(int column) const;
    bool fail(int line, const QString &field, const QString &message);

    CsvRecordReader m_reader;
    QString m_fileName;
    QString m_format;
    int m_headerLine = 0;
    size_t m_columns = 0;
    QStringList m_names;
    std::optional<FileImportResult> m_failure;
};

} // namespace tinyml::io
