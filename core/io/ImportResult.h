#pragma once
// Result types shared by every importer in core/io. Importers produce plain Samples;
// storing them is the caller's business (the CLI, the UI), so nothing here knows the store.

#include "data/Sample.h"

#include <QByteArray>
#include <QString>
#include <QVector>

#include <optional>

namespace tinyml::io {

/// Where and why a file was rejected. A rejected file contributes no samples.
struct ImportError {
    QString file;
    int line = 0;      ///< 1-based text line; 0 when the format has no lines (WAV, CBOR, images)
    QString field;     ///< column, JSON/CBOR path or binary field ("fmt.bitsPerSample"); may be empty
    QString message;
    /// "file:line: field: message"; the line and field parts are left out when unknown.
    QString toString() const;
};

struct ImportOptions {
    QString label;                 ///< overrides the label found in the file name / folder
    std::optional<Split> split;    ///< default Train; table CSV rows may carry their own split
    QString format = QStringLiteral("auto"); ///< auto | csv | csv-timeseries | csv-table | wav | ei-json | ei-cbor | image
    QString labelColumn = QStringLiteral("label"); ///< table CSV
    QByteArray hmacKey;            ///< when set, Edge Impulse files must carry a valid HS256 signature
    double sampleRateHz = 0;       ///< time-series CSV without a timestamp column
    /// Largest Edge Impulse JSON/CBOR file read, in bytes; 0: $TINYML_EI_MAX_MB MiB, else 64 MiB.
    /// Their parse holds the whole document tree, about 10x the file size in memory.
    qint64 maxEdgeImpulseBytes = 0;
};

/// A sample of a file that was not imported because the project (or an earlier file of the
/// same import) already holds the same data (skipDuplicateSamples).
struct SkippedDuplicate {
    QString label;            ///< this file's label for it
    QString checksum;         ///< hex SHA-256 of the data bytes
    qint64 existingId = 0;    ///< the project's sample with the same data; 0: an earlier file
    QString existingLabel;    ///< that sample's label (may differ from label)
    QString existingFile;     ///< the earlier file of this import, when existingId is 0
};

struct FileImportResult {
    QString file;
    QString format;                ///< the format actually used ("csv-timeseries", "wav", ...)
    QVector<Sample> samples;       ///< empty when error is set
    std::optional<ImportError> error;
    bool splitFromFile = false;    ///< the file assigned train/test itself (table CSV split column)
    QVector<SkippedDuplicate> duplicates; ///< samples left out as copies of stored data

    bool ok() const { return !error.has_value(); }
};

/// Helpers every reader uses to build its result.
FileImportResult importFailure(const QString &file, const QString &format, int line,
                               const QString &field, const QString &message);

/// Label for a file: options.label, else the Edge Impulse file-name convention
/// `label.anything.ext` (text before the first dot, percent-decoded so that the exporter
/// can write labels containing dots or slashes). A name with a single dot ("data.csv")
/// has no label prefix. Returns an empty string when there is none.
QString labelFromFileName(const QString &fileName);
/// The inverse used by the exporter: percent-encodes everything but [A-Za-z0-9_-] and
/// characters outside ASCII, so that labelFromFileName(encodeLabelForFileName(l) + ".1.csv") == l.
QString encodeLabelForFileName(const QString &label);

/// A cell, name or other text of the user's file as it may appear inside a message: up to
/// maxChars characters, longer text cut there and followed by "… (N bytes)" with its UTF-8
/// size, so that a 10 MB cell cannot flood the error line (every CSV message goes through it).
QString messageExcerpt(const QString &text, int maxChars = 80);

/// Sample defaults every importer applies: source, created (now, UTC), split, label.
void stampSample(Sample &sample, const QString &fileName, const QString &label,
                 const ImportOptions &options);

} // namespace tinyml::io
