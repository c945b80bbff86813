#pragma once
// Ground truth of a continuous stream: the events a detector should find, with their times.
//
// Truth CSV (the CLI's --truth, the calibration's input):
//
//     start_s,end_s,label
//     3.0,5.0,shake
//     "9.5",11.5,"circle"
//
// - The header must be exactly the three columns start_s, end_s, label (any case, in this
//   order; ',' ';' or tab as CsvRecordReader detects). Any other layout is refused, so a
//   file with swapped or extra columns cannot be misread silently.
// - Rows: start_s >= 0 and end_s > start_s, finite decimal seconds; a non-empty label that is
//   one of the known labels (the model's) when such a list is given. An event is [start, end).
// - Events may touch but not overlap (an error names both lines). Rows need not be sorted.
// - CRLF, a UTF-8 BOM, blank lines and double-quoted fields are accepted (CsvRecordReader).
// Errors are io::ImportError: file, line, field ("start_s", "end_s", "label") and message.

#include "io/ImportResult.h"

#include <QByteArray>
#include <QString>
#include <QStringList>
#include <QVector>

#include <optional>

namespace tinyml::stream {

/// One event of the truth: [startS, endS) seconds from the stream's start.
struct TruthEvent {
    double startS = 0;
    double endS = 0;
    QString label;
    int line = 0;                 ///< line in the truth file (0 when generated)

    double durationS() const { return endS - startS; }
};

class GroundTruth
{
public:
    GroundTruth() = default;
    /// Events sorted by start (callers that build events by hand, e.g. ScenarioScript).
    explicit GroundTruth(QVector<TruthEvent> events);

    /// Parses a truth CSV. knownLabels empty: any non-empty label is accepted.
    static std::optional<GroundTruth> parseCsv(const QByteArray &bytes, const QString &fileName,
                                               const QStringList &knownLabels, io::ImportError *error);
    /// Reads and parses a file (a missing or unreadable file is an error naming it).
    static std::optional<GroundTruth> loadCsv(const QString &path, const QStringList &knownLabels,
                                              io::ImportError *error);

    /// Sorted by start time.
    const QVector<TruthEvent> &events() const { return m_events; }
    bool isEmpty() const { return m_events.isEmpty(); }
    /// The distinct labels, in order of first appearance.
    QStringList labels() const;
    /// Sum of the event durations (seconds).
    double eventSeconds() const;
    /// The CSV form parseCsv reads (shortest round-tripping decimals).
    QByteArray toCsv() const;

private:
    QVector<TruthEvent> m_events;
};

} // namespace tinyml::stream
