#pragma once
// Parses "data forwarder" text: one line of comma/space/tab separated numbers per sample
// (the Edge Impulse convention), detecting the channel count and the sample rate.
// Pure: bytes and arrival times in, rows out. LineLink feeds it from a serial port; the
// fuzz target feeds it arbitrary bytes.

#include <QByteArray>
#include <QVector>

#include <optional>

namespace tinyml {

class NumericLineParser
{
public:
    /// Longest accepted line; a longer run without newline is dropped as malformed.
    static constexpr int kMaxLineBytes = 4096;
    /// How long the rate detection watches line arrivals, and at least how many lines.
    static constexpr qint64 kDetectWindowUs = 1'000'000;
    static constexpr int kDetectMinLines = 5;

    /// channels / rateHz 0 = detect. dropFirstLine: the port was opened mid-line, so the
    /// first line is assumed partial.
    void configure(int channels, double rateHz, bool dropFirstLine = true);

    /// Bytes that arrived at timestampUs (a monotonic clock).
    void feed(const char *data, qsizetype size, qint64 timestampUs);
    /// End of input: the unterminated last line is partial and dropped.
    void finish();

    bool detected() const { return m_detected; }
    int channelCount() const { return m_channels; }
    double rateHz() const { return m_rate; }

    /// Rows parsed since the last call, row-major [frames, channelCount()], available
    /// once detected().
    QVector<float> takeValues();
    qint64 pendingFrames() const { return m_channels > 0 ? m_out.size() / m_channels : 0; }

    qint64 linesAccepted() const { return m_accepted; }
    qint64 malformedLines() const { return m_malformed; }
    qint64 partialLinesDropped() const { return m_partialDropped; }
    /// Malformed lines since the last call (for a link to report them).
    qint64 takeNewMalformed() { const qint64 n = m_malformed - m_reportedMalformed; m_reportedMalformed = m_malformed; return n; }

    /// One line to numbers; nullopt when any field is not a number or there is none.
    static std::optional<QVector<float>> parseLine(const char *begin, const char *end);
    /// Snaps a measured rate to a common sensor rate within 3 %, otherwise rounds it to
    /// two significant digits (so 98.7 Hz reads 100 Hz and 33.2 Hz reads 33 Hz).
    static double roundRate(double measuredHz);

private:
    void handleLine(const char *begin, const char *end, qint64 timestampUs);
    void finishDetection();

    int m_wantChannels = 0;
    double m_wantRate = 0;
    bool m_dropFirst = true;
    bool m_seenNewline = false;
    QByteArray m_line;
    bool m_lineTooLong = false;

    bool m_detected = false;
    int m_channels = 0;
    double m_rate = 0;
    struct Pending { QVector<float> values; qint64 t; };
    QVector<Pending> m_detectLines;
    QVector<float> m_out;
    qint64 m_accepted = 0;
    qint64 m_malformed = 0;
    qint64 m_reportedMalformed = 0;
    qint64 m_partialDropped = 0;
};

} // namespace tinyml
