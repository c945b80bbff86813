#include "data/SplitAssigner.h"

#include <QHash>

#include <algorithm>
#include <cmath>

namespace tinyml {

QVector<Split> assignStratifiedSplits(const QVector<QString> &labels,
                                      const QVector<QString> &checksums,
                                      double testFraction)
{
    if (labels.size() != checksums.size())
        return {};
    testFraction = std::clamp(testFraction, 0.0, 1.0);

    QHash<QString, QVector<qsizetype>> byLabel;
    for (qsizetype i = 0; i < labels.size(); ++i)
        byLabel[labels[i]].append(i);

    QVector<Split> splits(labels.size(), Split::Train);
    for (auto it = byLabel.begin(); it != byLabel.end(); ++it) {
        QVector<qsizetype> &members = it.value();
        // The index tie-break only orders byte-identical samples, which are
        // interchangeable, so the split does not depend on the input order.
        std::sort(members.begin(), members.end(), [&](qsizetype a, qsizetype b) {
            const int c = QString::compare(checksums[a], checksums[b], Qt::CaseInsensitive);
            return c != 0 ? c < 0 : a < b;
        });
        const qsizetype testCount = std::llround(testFraction * double(members.size()));
        for (qsizetype k = 0; k < testCount; ++k)
            splits[members[k]] = Split::Test;
    }
    return splits;
}

} // namespace tinyml
