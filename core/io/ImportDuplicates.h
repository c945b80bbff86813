#pragma once
// Re-running an import must not double a data set silently: a sample whose data bytes
// (SHA-256, the checksum the project store keeps per sample) equal a stored sample's, or a
// sample of an earlier file of the same import, is left out and reported.
//
//     SampleChecksums known;
//     for (const SampleInfo &i : store.sampleInfos())
//         known.insert(i.checksum, {i.id, i.label});
//     const int skipped = skipDuplicateSamples(results, known);
//
// Rows of one table CSV are not compared with each other: equal feature rows in one file
// are that file's content, not a repeated import.

#include "io/ImportResult.h"

#include <QHash>

namespace tinyml::io {

struct KnownSample {
    qint64 id = 0;
    QString label;
};
/// Stored samples by checksum (hex SHA-256 of the data bytes); empty checksums are ignored.
using SampleChecksums = QHash<QString, KnownSample>;

/// Moves every duplicate sample of the successful results into result.duplicates (keeping
/// the others in order) and returns how many were left out. A result may end with no
/// samples and still be ok: its file was imported before.
int skipDuplicateSamples(QVector<FileImportResult> &results, const SampleChecksums &known);

} // namespace tinyml::io
