#pragma once
// Splits CSV text into records for the two CSV readers.
//
// Rules: UTF-8 (a leading BOM is skipped); records end at '\n' (a preceding '\r' is dropped);
// blank lines are skipped but counted, so line() is the line a user sees in an editor.
// Fields may be enclosed in double quotes ("a,b" and "say ""hi""" work); a quoted field
// cannot span lines. The separator is taken from the header row: whichever of ',', ';'
// and tab splits it into the most fields (comma on a tie), then used for every row.

#include <QByteArray>
#include <QString>
#include <QStringList>

#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace tinyml::io {

class CsvRecordReader
{
public:
    enum class Status { Record, End, Error };

    explicit CsvRecordReader(const QByteArray &bytes);

    /// Reads the next non-blank record. The first call detects the separator.
    Status next();
    /// 1-based line of the record last returned.
    int line() const { return m_line; }
    /// Fields of the record last returned; valid until the next call.
    const std::vector<std::string_view> &fields() const { return m_fields; }
    /// Why next() returned Error (e.g. an unterminated quote).
    QString errorMessage() const { return m_error; }
    char separator() const { return m_separator; }

    /// The header row's fields (trimmed), or empty when the text has no record.
    static QStringList headerOf(const QByteArray &bytes);

private:
    static char detectSeparator(std::string_view line);
    bool split(std::string_view line);

    const char *m_data;
    qsizetype m_size;
    qsizetype m_pos = 0;
    int m_line = 0;
    char m_separator = 0;
    std::vector<std::string_view> m_fields;
    std::deque<std::string> m_unescaped; ///< storage for quoted fields containing ""
    QString m_error;
};

/// Trimmed UTF-8 text of a field.
QString fieldText(std::string_view field);

} // namespace tinyml::io
