#pragma once
// Automatic train/test split, stratified by label and deterministic.
//
// Scheme: within each label, samples are ordered by checksum (hex SHA-256 of the data),
// then by their position in the input only to break ties between byte-identical samples.
// The first round(testFraction * n) of that order go to Test, the rest to Train.
// round() is half away from zero, so 0.2 of 3 samples is 1 and 0.2 of 2 is 0.
//
// Why this scheme:
//  - deterministic: the same samples give the same split on every machine and in every
//    insertion order (a SHA-256 is as good as a random draw, but reproducible);
//  - stratified: every label gets its own round(testFraction * n) test samples;
//  - stable: adding one sample moves at most one other sample between train and test,
//    so a re-split after a capture session does not reshuffle the whole data set.

#include "data/Sample.h"

#include <QString>
#include <QVector>

namespace tinyml {

/// labels[i] and checksums[i] describe sample i; returns one Split per sample, same order.
/// testFraction is clamped to [0, 1]. labels and checksums must have the same size
/// (an empty vector is returned otherwise).
QVector<Split> assignStratifiedSplits(const QVector<QString> &labels,
                                      const QVector<QString> &checksums,
                                      double testFraction = 0.2);

/// Splits samples of ONE label that join a label already holding existingTrain + existingTest
/// samples, without moving those: new samples go to Test (in checksum order) until the label
/// holds round(testFraction * total) test samples, the rest to Train. Deterministic.
QVector<Split> assignSplitsForNewSamples(int existingTrain, int existingTest,
                                         const QVector<QString> &newChecksums,
                                         double testFraction = 0.2);

} // namespace tinyml
