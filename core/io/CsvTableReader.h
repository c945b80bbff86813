#pragma once
// Table CSV: one row = one sample (tabular data sets).
//
//     f0,f1,f2,label,split
//     0.5,1.25,-3,walk,train
//
// - A header row is required; the label column is options.labelColumn (default `label`,
//   matched ignoring case). Without a label column every row gets options.label (an error
//   when that is empty too).
// - An optional `split` column holds train/training or test/testing; empty cells take
//   options.split (default train).
// - Every other column is a numeric feature. Result: one Sample per row, float32 [features],
//   channels = feature names, sampleRateHz = 0.

#include "io/ImportResult.h"

namespace tinyml::io {

FileImportResult parseTableCsv(const QByteArray &bytes, const QString &fileName,
                               const ImportOptions &options);

} // namespace tinyml::io
