#pragma once
// Builds small projects with known samples for the GUI tests and the screenshot tool.

#include "store/ProjectStore.h"

#include <QString>

#include <memory>

namespace tinyml::ui::test {

/// A 3-axis accelerometer recording: a sine per axis, `frames` frames at `rateHz`.
Sample motionSample(const QString &label, qint64 frames, double rateHz = 100.0, double phase = 0.0);
/// A 16 kHz clip: a tone sweep plus a little noise. `pitch` scales the sweep's frequencies
/// and `seed` draws the noise, so clips of one project can differ.
Sample audioSample(const QString &label, qint64 frames, double rateHz = 16000.0, double pitch = 1.0,
                   unsigned seed = 42);

/// A motion project at `path` with `perLabel` samples for each of idle/shake/circle/updown
/// (every fifth one in the test split).
std::unique_ptr<ProjectStore> createMotionProject(const QString &path, int perLabel, QString *error);

} // namespace tinyml::ui::test
