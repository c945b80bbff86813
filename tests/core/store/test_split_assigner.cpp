#include <gtest/gtest.h>

#include "data/SplitAssigner.h"

#include <QCryptographicHash>
#include <QHash>

#include <algorithm>
#include <numeric>
#include <random>

using namespace tinyml;

namespace {

QString fakeChecksum(int i)
{
    return QString::fromLatin1(
        QCryptographicHash::hash(QByteArray::number(i), QCryptographicHash::Sha256).toHex());
}

int testCount(const QVector<QString> &labels, const QVector<Split> &splits, const QString &label)
{
    int n = 0;
    for (int i = 0; i < labels.size(); ++i)
        n += labels[i] == label && splits[i] == Split::Test;
    return n;
}

TEST(SplitAssigner, EachLabelSendsRoundedFifthToTest)
{
    QVector<QString> labels, sums;
    const QVector<QPair<QString, int>> sizes = {{"a", 50}, {"b", 7}, {"c", 3}, {"d", 1}, {"e", 2}};
    int next = 0;
    for (const auto &[label, n] : sizes)
        for (int i = 0; i < n; ++i) {
            labels.append(label);
            sums.append(fakeChecksum(next++));
        }
    const QVector<Split> splits = assignStratifiedSplits(labels, sums);
    ASSERT_EQ(splits.size(), labels.size());
    EXPECT_EQ(testCount(labels, splits, "a"), 10); // 0.2 * 50
    EXPECT_EQ(testCount(labels, splits, "b"), 1);  // 1.4
    EXPECT_EQ(testCount(labels, splits, "c"), 1);  // 0.6
    EXPECT_EQ(testCount(labels, splits, "d"), 0);  // 0.2
    EXPECT_EQ(testCount(labels, splits, "e"), 0);  // 0.4
}

TEST(SplitAssigner, SmallestChecksumsOfALabelGoToTest)
{
    const QVector<QString> labels = {"x", "x", "y", "x", "x", "x", "y", "y", "y", "y"};
    const QVector<QString> sums = {"c0", "a1", "00", "e3", "b2", "d4", "ff", "10", "f0", "20"};
    const QVector<Split> splits = assignStratifiedSplits(labels, sums, 0.2);
    const QVector<Split> expected = {Split::Train, Split::Test, Split::Test, Split::Train,
                                     Split::Train, Split::Train, Split::Train, Split::Train,
                                     Split::Train, Split::Train};
    EXPECT_EQ(splits, expected);
    const QVector<Split> forty = assignStratifiedSplits(labels, sums, 0.4);
    EXPECT_EQ(forty[1], Split::Test);  // a1
    EXPECT_EQ(forty[4], Split::Test);  // b2
    EXPECT_EQ(forty[2], Split::Test);  // 00
    EXPECT_EQ(forty[7], Split::Test);  // 10
    EXPECT_EQ(std::count(forty.begin(), forty.end(), Split::Test), 4);
}

TEST(SplitAssigner, SameSamplesInAnyOrderGetTheSameSplit)
{
    std::mt19937 rng(1234);
    QVector<QString> labels, sums;
    const QStringList names = {"idle", "wave", "shake", "tap"};
    for (int i = 0; i < 237; ++i) {
        labels.append(names[int(rng() % names.size())]);
        sums.append(fakeChecksum(i));
    }
    const QVector<Split> reference = assignStratifiedSplits(labels, sums);
    QHash<QString, Split> byChecksum;
    for (int i = 0; i < sums.size(); ++i)
        byChecksum.insert(sums[i], reference[i]);

    QVector<int> order(labels.size());
    std::iota(order.begin(), order.end(), 0);
    for (int round = 0; round < 5; ++round) {
        std::shuffle(order.begin(), order.end(), rng);
        QVector<QString> l, c;
        for (int i : order) {
            l.append(labels[i]);
            c.append(sums[i]);
        }
        const QVector<Split> shuffled = assignStratifiedSplits(l, c);
        int differ = 0;
        for (int i = 0; i < c.size(); ++i)
            differ += shuffled[i] != byChecksum.value(c[i]);
        EXPECT_EQ(differ, 0) << "round " << round;
    }
}

TEST(SplitAssigner, AddingOneSampleMovesAtMostOneOther)
{
    QVector<QString> labels(40, "a"), sums;
    for (int i = 0; i < 40; ++i)
        sums.append(fakeChecksum(i));
    const QVector<Split> before = assignStratifiedSplits(labels, sums);
    labels.append("a");
    sums.append(fakeChecksum(1000));
    const QVector<Split> after = assignStratifiedSplits(labels, sums);
    int moved = 0;
    for (int i = 0; i < 40; ++i)
        moved += before[i] != after[i];
    EXPECT_LE(moved, 1);
}

TEST(SplitAssigner, EdgeFractionsAndBadInput)
{
    const QVector<QString> labels = {"a", "a", "b"};
    const QVector<QString> sums = {"1", "2", "3"};
    const QVector<Split> none = assignStratifiedSplits(labels, sums, 0.0);
    EXPECT_EQ(std::count(none.begin(), none.end(), Split::Test), 0);
    const QVector<Split> all = assignStratifiedSplits(labels, sums, 1.0);
    EXPECT_EQ(std::count(all.begin(), all.end(), Split::Test), 3);
    EXPECT_TRUE(assignStratifiedSplits(labels, {"1"}).isEmpty());
    EXPECT_TRUE(assignStratifiedSplits({}, {}).isEmpty());
}

} // namespace

TEST(SplitForNewSamples, TopsUpTheLabelToTwentyPercentWithoutMovingOldSamples)
{
    // 8 train + 0 test already; 2 new: 10 in all -> 2 test, both new ones.
    QVector<Split> s = assignSplitsForNewSamples(8, 0, {"bb", "aa"});
    EXPECT_EQ(s, (QVector<Split>{Split::Test, Split::Test}));
    // 7 train + 2 test; 1 new: 10 in all -> 2 test already -> train.
    EXPECT_EQ(assignSplitsForNewSamples(7, 2, {"cc"}), (QVector<Split>{Split::Train}));
    // Empty label, 5 new: 1 test, the smallest checksum.
    s = assignSplitsForNewSamples(0, 0, {"e", "c", "a", "d", "b"});
    EXPECT_EQ(s.count(Split::Test), 1);
    EXPECT_EQ(s[2], Split::Test);
    // Too many tests already: nothing more goes to test.
    EXPECT_EQ(assignSplitsForNewSamples(0, 5, {"x", "y"}), (QVector<Split>{Split::Train, Split::Train}));
}
