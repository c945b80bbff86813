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
#include "store/ProjectStore.h"

#include <QHash>
#include <QStringList>

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

/// The checksums of a project's stored samples, for skipDuplicateSamples.
SampleChecksums checksumsOf(const QVector<SampleInfo> &stored);

/// One line for a skipped duplicate, for the user: "FILE: a sample labelled 'L' is already in
/// sample N" (or "in FILE2, earlier in this import"), adding "labelled 'M'" when the label
/// differs (a labelling conflict the user must see).
QString describeDuplicate(const QString &file, const SkippedDuplicate &duplicate);

/// What fitToProject did to an import.
struct ProjectFit {
    int misfitFiles = 0;      ///< results turned into failures by checkAgainstProject
    int duplicates = 0;       ///< samples left out by skipDuplicateSamples
};

/// The checks every import into a project makes, in this order (the CLI's `import`, the GUI's
/// Import data): each successful result against the project (checkAgainstProject with
/// expectationFor(settings, stored)), then, unless allowDuplicates, samples whose data the
/// project or an earlier file already holds are left out (skipDuplicateSamples).
ProjectFit fitToProject(QVector<FileImportResult> &results, const ProjectSettings &settings,
                        const QVector<SampleInfo> &stored, bool allowDuplicates = false);

} // namespace tinyml::io
