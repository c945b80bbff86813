#pragma once
// Pure functions over sample data used by the dataset edits (no widgets).
// They belong in core/data; they live here until core offers them (requested).

#include "data/Sample.h"

#include <QString>
#include <QVector>

#include <optional>

namespace tinyml::ui {

/// Frames [begin, end) of a [frames, ...] tensor, any dtype.
std::optional<Tensor> sliceFrames(const Tensor &data, qint64 begin, qint64 end, QString *error);

/// Consecutive windows of windowFrames frames, each a new sample (id 0) carrying the
/// source's label, split, device, sensor, rate and channels; a shorter tail is dropped.
/// Empty with *error when the sample holds fewer than two windows.
QVector<Sample> splitIntoWindows(const Sample &sample, qint64 windowFrames, QString *error);

} // namespace tinyml::ui
