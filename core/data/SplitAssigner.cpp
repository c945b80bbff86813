#include "data/SplitAssigner.h"

#include <QHash>

#include <algorithm>
#include <cmath>
#include <numeric>

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

QVector<Split> assignSplitsForNewSamples(int existingTrain, int existingTest,
                                         const QVector<QString> &newChecksums, double testFraction)
{
    testFraction = std::clamp(testFraction, 0.0, 1.0);
    const int total = existingTrain + existingTest + int(newChecksums.size());
    const int wantTest = int(std::llround(testFraction * total));
    int needTest = std::max(0, wantTest - existingTest);
    QVector<int> order(newChecksums.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int b) { return newChecksums[a] < newChecksums[b]; });
    QVector<Split> out(newChecksums.size(), Split::Train);
    for (int i : order) {
        if (needTest <= 0)
            break;
        out[i] = Split::Test;
        --needTest;
    }
    return out;
}

} // namespace tinyml
