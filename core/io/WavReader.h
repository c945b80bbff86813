#pragma once
// RIFF/WAVE audio: one file = one sample.
//
// Accepts PCM 8 (unsigned), 16, 24 and 32 bit, IEEE float 32 and 64 bit, and
// WAVE_FORMAT_EXTENSIBLE with a PCM or float subformat; any channel count and rate (kept
// as-is, no resampling). Unknown chunks are skipped (with their pad byte when the size is
// odd); the RIFF size field is not trusted, because streaming writers leave it wrong.
// A trailing partial frame is dropped.
// Result: float32 [frames, channels] normalised to [-1, 1): int PCM / 2^(bits-1),
// 8-bit (v - 128) / 128. Channels are named "audio" (mono) or "audio0", "audio1", ...
// Label: options.label, else the file-name prefix (`yes.0001.wav` -> "yes").

#include "io/ImportResult.h"

namespace tinyml::io {

FileImportResult parseWav(const QByteArray &bytes, const QString &fileName,
                          const ImportOptions &options);

} // namespace tinyml::io
