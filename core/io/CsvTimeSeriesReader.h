#pragma once
// Time-series CSV: one file = one sample (the Edge Impulse CSV convention).
//
//     timestamp,accX (m/s2),accY (m/s2),accZ (m/s2)
//     0,-9.81,0.03,1.21
//     10,-9.83,0.04,1.27
//
// - A header row is required. The first column is a time axis in milliseconds when it is
//   named `timestamp`, `time` or `timestamp_ms` (any case); timestamps must increase and the
//   sample rate is 1000 / median interval. Without one (or with a single row),
//   options.sampleRateHz is used; when that is 0 too the file is refused, saying so,
//   because a sample stored without a rate cannot be windowed or replayed.
// - Every other column is a numeric channel; "name (unit)" gives the channel's unit.
// - Label: options.label, else the file-name prefix (`idle.01.csv` -> "idle").
// Result: one Sample, float32 [frames, channels].

#include "io/ImportResult.h"

#include <QPair>

namespace tinyml::io {

FileImportResult parseTimeSeriesCsv(const QByteArray &bytes, const QString &fileName,
                                    const ImportOptions &options);

/// "accX (m/s2)" -> {"accX", "m/s2"}; "accX" -> {"accX", ""}.
QPair<QString, QString> splitChannelHeader(const QString &header);
/// True for the names a time column may have (after splitChannelHeader).
bool isTimestampColumnName(const QString &name);

/// A sample rate from a period, snapped to the integer rate when it is one up to rounding
/// noise of the text (so 44100 Hz written as 0.0226757... ms reads back as 44100).
double rateFromIntervalMs(double intervalMs);

} // namespace tinyml::io
