#include "io/ImportDuplicates.h"

#include "io/DatasetImporter.h"

namespace tinyml::io {

int skipDuplicateSamples(QVector<FileImportResult> &results, const SampleChecksums &known)
{
    struct Earlier {
        QString file;
        QString label;
    };
    QHash<QString, Earlier> earlier; // samples kept from earlier files of this import
    int skipped = 0;
    for (FileImportResult &r : results) {
        if (!r.ok())
            continue;
        QVector<Sample> kept;
        kept.reserve(r.samples.size());
        QHash<QString, Earlier> fromThisFile;
        for (Sample &s : r.samples) {
            const QString sum = sha256Hex(s.data.bytes);
            SkippedDuplicate d;
            d.label = s.label;
            d.checksum = sum;
            const auto stored = known.constFind(sum);
            if (stored != known.cend() && !sum.isEmpty()) {
                d.existingId = stored->id;
                d.existingLabel = stored->label;
            } else if (const auto e = earlier.constFind(sum); e != earlier.cend()) {
                d.existingFile = e->file;
                d.existingLabel = e->label;
            } else {
                fromThisFile.insert(sum, {r.file, s.label});
                kept.append(std::move(s));
                continue;
            }
            r.duplicates.append(d);
            ++skipped;
        }
        r.samples = std::move(kept);
        earlier.insert(fromThisFile);
    }
    return skipped;
}

SampleChecksums checksumsOf(const QVector<SampleInfo> &stored)
{
    SampleChecksums known;
    for (const SampleInfo &i : stored)
        if (!i.checksum.isEmpty())
            known.insert(i.checksum, {i.id, i.label});
    return known;
}

QString describeDuplicate(const QString &file, const SkippedDuplicate &d)
{
    const QString where = d.existingId ? QStringLiteral("sample %1").arg(d.existingId)
                                       : QStringLiteral("%1, earlier in this import").arg(d.existingFile);
    QString line = QStringLiteral("%1: skipped a sample labelled '%2': the same data is already in %3")
                       .arg(file, messageExcerpt(d.label), where);
    if (d.label != d.existingLabel)
        line += QStringLiteral(", labelled '%1'").arg(messageExcerpt(d.existingLabel));
    return line;
}

ProjectFit fitToProject(QVector<FileImportResult> &results, const ProjectSettings &settings,
                        const QVector<SampleInfo> &stored, bool allowDuplicates)
{
    ProjectFit fit;
    const SampleExpectation expectation = expectationFor(settings, stored);
    for (FileImportResult &r : results) {
        const bool wasOk = r.ok();
        checkAgainstProject(r, expectation);
        if (wasOk && !r.ok())
            ++fit.misfitFiles;
    }
    if (!allowDuplicates)
        fit.duplicates = skipDuplicateSamples(results, checksumsOf(stored));
    return fit;
}

} // namespace tinyml::io
