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

/// A motion project on `boardId` whose samples are captured from that virtual board's own
/// simulated accelerometer: `perLabel` samples of `seconds` per scenario idle/shake/circle/
/// updown (the board runs at batch speed), so a model trained on it recognises what the
/// board's sensor and scenario scripts produce. Every fifth sample goes to the test split.
std::unique_ptr<ProjectStore> createCapturedMotionProject(const QString &path, const QString &boardId, int perLabel,
                                                          double seconds, QString *error);

/// A recording of the store's own samples played one after another (time-series CSV,
/// `timestamp,x,y,z` in ms at the samples' 100 Hz), one sample per entry of `labels` (the
/// n-th use of a label takes its n-th sample), and its truth file: every non-idle sample is an
/// event. False with *error when a label has too few samples or a file cannot be written.
bool writeMotionSession(const ProjectStore &store, const QStringList &labels, const QString &csvPath,
                        const QString &truthPath, QString *error);

/// Trains the project's default model (`epochs`, fixed seed, one thread) and quantizes it to
/// int8, as the Training page does. Returns the int8 model's id, 0 with *error on failure.
qint64 trainInt8Model(ProjectStore &store, int epochs, QString *error);

} // namespace tinyml::ui::test
