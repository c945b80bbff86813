#include "io/CsvImportReader.h"

#include "io/FloatText.h"

#include <QSet>

#include <cmath>

namespace tinyml::io {

CsvImportReader::CsvImportReader(const QByteArray &bytes, const QString &fileName,
                                 const QString &format)
    : m_reader(bytes), m_fileName(fileName), m_format(format)
{
}

bool CsvImportReader::readHeader(QStringList *fields)
{
    const auto status = m_reader.next();
    if (status == CsvRecordReader::Status::Error)
        return fail(m_reader.line(), {}, m_reader.errorMessage());
    if (status == CsvRecordReader::Status::End)
        return fail(0, {}, QStringLiteral("empty file: a header row is required"));
    m_headerLine = m_reader.line();
    m_columns = m_reader.fields().size();
    bool allNumeric = true;
    fields->clear();
    for (std::string_view f : m_reader.fields()) {
        allNumeric = allNumeric && parseFloat64(f).has_value();
        *fields << fieldText(f);
    }
    if (allNumeric)
        return fail(m_headerLine, QStringLiteral("header"),
                    QStringLiteral("missing header row: the first row holds numbers"));
    return true;
}

bool CsvImportReader::setColumnNames(const QStringList &names)
{
    m_names = names;
    QSet<QString> seen;
    for (int i = 0; i < names.size(); ++i) {
        if (names[i].isEmpty())
            return fail(m_headerLine, columnField(i), QStringLiteral("empty column name"));
        if (seen.contains(names[i]))
            return fail(m_headerLine, columnField(i), QStringLiteral("duplicate column name"));
        seen.insert(names[i]);
    }
    return true;
}

bool CsvImportReader::nextRow()
{
    const auto status = m_reader.next();
    if (status == CsvRecordReader::Status::End)
        return false;
    if (status == CsvRecordReader::Status::Error)
        return fail(m_reader.line(), {}, m_reader.errorMessage());
    if (m_reader.fields().size() != m_columns)
        return fail(m_reader.line(), {},
                    QStringLiteral("ragged row: %1 fields, the header has %2")
                        .arg(m_reader.fields().size())
                        .arg(m_columns));
    return true;
}

std::optional<float> CsvImportReader::float32(int column)
{
    const auto v = parseFloat32(m_reader.fields()[size_t(column)]);
    if (!v) {
        m_failure =
            rowFailure(column, QStringLiteral("'%1' is not a float32 number").arg(excerpt(column)));
    } else if (!std::isfinite(*v)) {
        // from_chars reads "nan" and "inf"; a non-finite value would poison normalisation
        // and training (loss nan) far from here, so it is refused where the user can see it.
        m_failure = rowFailure(
            column, QStringLiteral("'%1' is not a finite number (NaN and infinity are not allowed)")
                        .arg(excerpt(column)));
        return std::nullopt;
    }
    return v;
}

FileImportResult CsvImportReader::failure() const
{
    if (m_failure)
        return *m_failure;
    return fileFailure({}, QStringLiteral("internal error: no failure recorded"));
}

FileImportResult CsvImportReader::rowFailure(int column, const QString &message) const
{
    return importFailure(m_fileName, m_format, m_reader.line(), columnField(column), message);
}

FileImportResult CsvImportReader::headerFailure(const QString &message) const
{
    return importFailure(m_fileName, m_format, m_headerLine, QStringLiteral("header"), message);
}

FileImportResult CsvImportReader::fileFailure(const QString &field, const QString &message) const
{
    return importFailure(m_fileName, m_format, 0, field, message);
}

QString CsvImportReader::columnField(int column) const
{
    return QStringLiteral("column %1 '%2'").arg(column + 1).arg(messageExcerpt(m_names.value(column)));
}

bool CsvImportReader::fail(int line, const QString &field, const QString &message)
{
    m_failure = importFailure(m_fileName, m_format, line, field, message);
    return false;
}

} // namespace tinyml::io
