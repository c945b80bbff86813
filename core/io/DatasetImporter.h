#pragma once
// Entry point for importing files into a project: picks the format, reads the file with
// the matching reader and reports per file. Stores nothing: the caller (CLI, UI) adds the
// returned samples to its ProjectStore and assigns automatic splits.
//
// Format detection (options.format == "auto"):
//   .wav -> wav; .png/.jpg/.jpeg -> image; .cbor -> ei-cbor; .json -> ei-json
//   (.json/.cbor whose first byte says otherwise — '{' or a CBOR map — go to the other one);
//   .csv/.txt -> table CSV when the header has the label column (options.labelColumn) and
//   its first column is not a timestamp, else time-series CSV.
//   Any other extension: by content (RIFF/WAVE, PNG or JPEG signature, CBOR map, '{').
// options.format may force one: csv (table/time-series rule above), csv-timeseries,
// csv-table, wav, ei-json, ei-cbor, image.
//
// Threading: every function here is reentrant; run importPaths on a worker thread for
// large folders and report progress through the callback.

#include "io/ImportResult.h"

#include <QStringList>

#include <functional>

namespace tinyml::io {

/// The format importFile would use for this file (one of the names above), or an empty
/// string when it cannot tell. `head` is the file's first bytes (a few KB are enough).
QString detectFormat(const QString &path, const QByteArray &head, const ImportOptions &options);

/// Parses bytes already in memory as `format` ("auto" detects from fileName and bytes).
FileImportResult parseBytes(const QByteArray &bytes, const QString &fileName, const ImportOptions &options);

/// Reads and parses one file. A failure leaves samples empty and names file, line/field.
FileImportResult importFile(const QString &path, const ImportOptions &options);

/// Imports files and folders. Folders are walked recursively (sorted, hidden entries and
/// files with unknown extensions skipped); an image's label is its folder's name unless
/// options.label is set. A folder with nothing to import, or a missing path, yields one
/// failed result. progress(done, total) is called before the first file and after each;
/// returning false cancels, and the results so far are returned (fewer than total).
QVector<FileImportResult> importPaths(const QStringList &paths, const ImportOptions &options,
                                      const std::function<bool(int done, int total)> &progress = {});

/// Extensions (lowercase, no dot) that importPaths picks up inside folders.
QStringList importableExtensions();

/// The automatic train/test split of one import (CLI `--split auto`, the GUI's import):
/// label-stratified and deterministic (assignStratifiedSplits) over the samples of these
/// results, leaving alone files that carried their own split (table CSV split column).
void assignAutoSplits(QVector<FileImportResult> &results, double testFraction = 0.2);

} // namespace tinyml::io
