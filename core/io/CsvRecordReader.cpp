#include "io/CsvRecordReader.h"

#include <cstring>

namespace tinyml::io {

CsvRecordReader::CsvRecordReader(const QByteArray &bytes)
    : m_data(bytes.constData()), m_size(bytes.size())
{
    if (m_size >= 3 && bytes.startsWith("\xEF\xBB\xBF"))
        m_pos = 3;
}

char CsvRecordReader::detectSeparator(std::string_view line)
{
    int counts[3] = {0, 0, 0};
    const char seps[3] = {',', ';', '\t'};
    bool quoted = false;
    for (char c : line) {
        if (c == '"')
            quoted = !quoted;
        else if (!quoted)
            for (int i = 0; i < 3; ++i)
                counts[i] += c == seps[i];
    }
    int best = 0;
    for (int i = 1; i < 3; ++i)
        if (counts[i] > counts[best])
            best = i;
    return seps[best];
}

CsvRecordReader::Status CsvRecordReader::next()
{
    while (m_pos < m_size) {
        const char *begin = m_data + m_pos;
        const void *nl = std::memchr(begin, '\n', size_t(m_size - m_pos));
        const char *end = nl ? static_cast<const char *>(nl) : m_data + m_size;
        m_pos = (end - m_data) + 1;
        ++m_line;
        std::string_view line(begin, size_t(end - begin));
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        if (line.find_first_not_of(" \t") == std::string_view::npos)
            continue;
        if (!m_separator)
            m_separator = detectSeparator(line);
        return split(line) ? Status::Record : Status::Error;
    }
    return Status::End;
}

bool CsvRecordReader::split(std::string_view line)
{
    m_fields.clear();
    m_unescaped.clear();
    size_t i = 0;
    const size_t n = line.size();
    while (true) {
        size_t start = i;
        while (start < n && line[start] == ' ')
            ++start;
        if (start < n && line[start] == '"') {
            std::string text;
            bool escaped = false;
            size_t j = start + 1;
            bool closed = false;
            for (; j < n; ++j) {
                if (line[j] == '"') {
                    if (j + 1 < n && line[j + 1] == '"') {
                        text += '"';
                        escaped = true;
                        ++j;
                    } else {
                        closed = true;
                        break;
                    }
                } else {
                    text += line[j];
                }
            }
            if (!closed) {
                m_error = QStringLiteral("unterminated quoted field");
                return false;
            }
            size_t k = j + 1;
            while (k < n && line[k] == ' ')
                ++k;
            if (k < n && line[k] != m_separator) {
                m_error = QStringLiteral("text after a closing quote");
                return false;
            }
            if (escaped) {
                m_unescaped.push_back(std::move(text));
                m_fields.push_back(m_unescaped.back());
            } else {
                m_fields.push_back(line.substr(start + 1, j - start - 1));
            }
            if (k >= n)
                return true;
            i = k + 1;
        } else {
            const size_t sep = line.find(m_separator, i);
            if (sep == std::string_view::npos) {
                m_fields.push_back(line.substr(i));
                return true;
            }
            m_fields.push_back(line.substr(i, sep - i));
            i = sep + 1;
        }
    }
}

QStringList CsvRecordReader::headerOf(const QByteArray &bytes)
{
    CsvRecordReader reader(bytes);
    QStringList names;
    if (reader.next() == Status::Record)
        for (std::string_view f : reader.fields())
            names << fieldText(f);
    return names;
}

QString fieldText(std::string_view field)
{
    // QString::fromUtf8 drops one byte-order mark at the very start of its input, so a
    // field holding whitespace and then a BOM would read differently once written back
    // without that whitespace. Leading BOMs go with the whitespace: the same text either way.
    QString s = QString::fromUtf8(field.data(), qsizetype(field.size())).trimmed();
    while (s.startsWith(QChar(0xFEFF)))
        s = s.mid(1).trimmed();
    return s;
}

} // namespace tinyml::io
