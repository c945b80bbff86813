#include "io/ImportDuplicates.h"

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

} // namespace tinyml::io
