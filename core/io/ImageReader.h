#pragma once
// PNG and JPEG images (decoded with QImage; Qt Gui is a private dependency of core/io,
// never Widgets). One file = one sample.
//
// Result: uint8 [height, width, channels]: 1 channel for grayscale images (8-bit gray, or
// a palette whose entries are all gray), else 3 channels RGB; alpha is dropped.
// Channels are named "gray" or "r", "g", "b".
// Label: options.label, else the name of the folder holding the file
// (`cats/0001.png` -> "cats"), the usual layout of image data sets.

#include "io/ImportResult.h"

namespace tinyml::io {

FileImportResult parseImage(const QByteArray &bytes, const QString &fileName,
                            const ImportOptions &options);

/// Encodes an image sample (uint8 [H, W, 1 or 3]) as PNG; empty on failure.
QByteArray encodePng(const Sample &sample, QString *error);

} // namespace tinyml::io
