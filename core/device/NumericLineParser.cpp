#include "device/NumericLineParser.h"

#include <charconv>
#include <cmath>
#include <map>

namespace tinyml {

void NumericLineParser::configure(int channels, double rateHz, bool dropFirstLine)
{
    *this = NumericLineParser();
    m_wantChannels = qMax(0, channels);
    m_wantRate = rateHz > 0 ? rateHz : 0;
    m_dropFirst = dropFirstLine;
}

void NumericLineParser::feed(const char *data, qsizetype size, qint64 timestampUs)
{
    const char *p = data;
    const char *end = data + size;
    while (p < end) {
        const char *nl = static_cast<const char *>(memchr(p, '\n', size_t(end - p)));
        const char *stop = nl ? nl : end;
        if (!m_lineTooLong) {
            if (m_line.size() + (stop - p) > kMaxLineBytes) {
                m_lineTooLong = true;
                m_line.clear();
            } else {
                m_line.append(p, stop - p);
            }
        }
        if (!nl)
            return;
        p = nl + 1;
        const bool first = !m_seenNewline;
        m_seenNewline = true;
        if (first && m_dropFirst) {
            if (!m_line.isEmpty() || m_lineTooLong)
                ++m_partialDropped;
        } else if (m_lineTooLong) {
            ++m_malformed;
        } else {
            handleLine(m_line.constData(), m_line.constData() + m_line.size(), timestampUs);
        }
        m_line.clear();
        m_lineTooLong = false;
    }
}

void NumericLineParser::finish()
{
    if (!m_line.isEmpty() || m_lineTooLong)
        ++m_partialDropped;
    m_line.clear();
    m_lineTooLong = false;
    if (!m_detected && !m_detectLines.isEmpty())
        finishDetection();
}

std::optional<QVector<float>> NumericLineParser::parseLine(const char *begin, const char *end)
{
    QVector<float> values;
    const char *p = begin;
    auto isSep = [](char c) { return c == ',' || c == ' ' || c == '\t' || c == '\r' || c == ';'; };
    while (p < end) {
        while (p < end && isSep(*p))
            ++p;
        if (p == end)
            break;
        const char *start = p;
        if (*start == '+') // from_chars rejects a leading '+', printf("%+f") emits it
            ++start;
        float v = 0;
        const auto res = std::from_chars(start, end, v);
        if (res.ec != std::errc() || (res.ptr < end && !isSep(*res.ptr)) || !std::isfinite(v))
            return std::nullopt;
        values.push_back(v);
        p = res.ptr;
    }
    if (values.isEmpty())
        return std::nullopt;
    return values;
}

double NumericLineParser::roundRate(double hz)
{
    if (!(hz > 0) || !std::isfinite(hz))
        return 0;
    static const double common[] = {1, 2, 5, 10, 12.5, 16, 20, 25, 40, 50, 60, 62.5, 100, 104,
                                    125, 200, 208, 250, 400, 416, 500, 800, 833, 1000, 1600,
                                    2000, 3200, 4000, 6400, 8000, 11025, 16000, 22050, 32000,
                                    44100, 48000};
    for (double c : common)
        if (std::fabs(hz - c) <= 0.03 * c)
            return c;
    const double magnitude = std::pow(10.0, std::floor(std::log10(hz)) - 1);
    return std::round(hz / magnitude) * magnitude;
}

void NumericLineParser::handleLine(const char *begin, const char *end, qint64 t)
{
    // Blank lines (a board printing "\r\n\r\n") are not samples and not errors.
    bool blank = true;
    for (const char *q = begin; q < end && blank; ++q)
        blank = (*q == ' ' || *q == '\t' || *q == '\r');
    if (blank)
        return;
    auto values = parseLine(begin, end);
    if (!values) {
        ++m_malformed;
        return;
    }
    if (!m_detected) {
        m_detectLines.push_back({*values, t});
        const qint64 span = t - m_detectLines.first().t;
        const bool rateKnown = m_wantRate > 0;
        if ((rateKnown && m_detectLines.size() >= 3)
            || (m_detectLines.size() >= kDetectMinLines && span >= kDetectWindowUs))
            finishDetection();
        return;
    }
    if (values->size() != m_channels) {
        ++m_malformed;
        return;
    }
    ++m_accepted;
    m_out += *values;
}

void NumericLineParser::finishDetection()
{
    // The channel count most lines agree on; the others are malformed.
    if (m_wantChannels > 0) {
        m_channels = m_wantChannels;
    } else {
        std::map<int, int> votes;
        for (const Pending &l : std::as_const(m_detectLines))
            ++votes[int(l.values.size())];
        int best = 0, bestVotes = 0;
        for (const auto &[count, n] : votes)
            if (n > bestVotes) {
                best = count;
                bestVotes = n;
            }
        m_channels = best;
    }
    if (m_wantRate > 0) {
        m_rate = m_wantRate;
    } else if (m_detectLines.size() >= 2) {
        const double span = double(m_detectLines.last().t - m_detectLines.first().t) / 1e6;
        m_rate = span > 0 ? roundRate(double(m_detectLines.size() - 1) / span) : 0;
    }
    m_detected = true;
    for (const Pending &l : std::as_const(m_detectLines)) {
        if (l.values.size() != m_channels) {
            ++m_malformed;
            continue;
        }
        ++m_accepted;
        m_out += l.values;
    }
    m_detectLines.clear();
}

QVector<float> NumericLineParser::takeValues()
{
    QVector<float> out;
    out.swap(m_out);
    return out;
}

} // namespace tinyml
