#pragma once
// Writes samples to files the importers read back to the same samples (float32 values
// bit-exact, same labels, channels, units and, for tables, splits).
//
// Layout in `dir`, by kind of sample:
//  - time series (2-D [frames, channels]):
//      csv     -> `<label>.<id>.csv`: a `timestamp` column (ms) when the rate is known,
//                 then one column per channel, "name (unit)" when a unit is set;
//      ei-json -> `<label>.<id>.json`, ei-cbor -> `<label>.<id>.cbor` (Edge Impulse data
//                 acquisition format, HS256-signed when hmacKey is set, else alg "none").
//    The label is percent-encoded in the file name when it holds characters other than
//    letters, digits, '_' and '-' (the importer decodes it).
//  - tables (1-D float32 [features], no sample rate): all rows in one `dataset.csv`
//    with the feature columns, then `label` and `split`; every table sample must have the
//    same feature names. Written for every format, since EI files hold time series only.
//  - images (uint8 [H, W, 1|3]): `<label>/<id>.png` (the folder name is the label).
// <id> is the sample's id, or its 1-based position when the id is 0.
// The split of time series and images is not part of the files.

#include "data/Sample.h"

#include <QByteArray>
#include <QString>
#include <QStringList>
#include <QVector>

namespace tinyml::io {

/// format: "csv", "ei-json" or "ei-cbor". Creates dir if needed. Appends each written file's
/// path to *written (when given). Stops at the first failure: returns false, sets *error
/// naming the sample, and leaves the files written so far (listed in *written).
bool exportSamples(const QVector<Sample> &samples, const QString &dir, const QString &format,
                   const QByteArray &hmacKey, QStringList *written, QString *error);

} // namespace tinyml::io
