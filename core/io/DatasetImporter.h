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
#include "store/ProjectStore.h"

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

/// What a project takes: the kind of data, the channel count and the rate. A sample that
/// does not fit could never share a feature block and a model with the others.
struct SampleExpectation {
    QString templateName;     ///< motion | audio | image | tabular; empty: no check at all
    int channels = 0;         ///< time series and table rows; 0: any
    double sampleRateHz = 0;  ///< time series; 0: any
    QString channelsFrom;     ///< where channels comes from, for messages ("the accel sensor")
};

/// The expectation of a project with these settings and samples: the modality from the
/// template; the channel count most complete samples have, or when there are none the
/// template's sensor (motion: 3-axis accelerometer, audio: 1 microphone); the rate from
/// the settings (streamed templates only).
SampleExpectation expectationFor(const ProjectSettings &settings, const QVector<SampleInfo> &samples);

/// Refuses a result whose samples do not fit the expectation: the result becomes a failure
/// naming the file, the field ("channels", "sample_rate_hz", "format") and the reason, with
/// no samples (a file imports whole or not at all). A rate within 2 % passes (timestamps
/// jitter); a sample of unknown rate (0) passes the rate check.
void checkAgainstProject(FileImportResult &result, const SampleExpectation &expect);

/// Extensions (lowercase, no dot) that importPaths picks up inside folders.
QStringList importableExtensions();

/// The automatic train/test split of one import (CLI `--split auto`, the GUI's import):
/// label-stratified and deterministic (assignStratifiedSplits) over the samples of these
/// results, leaving alone files that carried their own split (table CSV split column).
void assignAutoSplits(QVector<FileImportResult> &results, double testFraction = 0.2);

} // namespace tinyml::io
