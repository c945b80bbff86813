#pragma once
// MlperfDataset: an MLPerf Tiny data set folder as the EEMBC runner reads it. The folder holds
// `y_labels.csv`, one row per sample and no header:
//
//     file,classes,class[,bytes_to_send,stride]
//
// `file` is a raw input file in the same folder (e.g. 490 int8 MFCC bytes for kws01), `classes`
// the number of classes, `class` the true class (0-based). The two optional fields are used by
// ad01: the file is cut into windows of bytes_to_send bytes, stride bytes apart, and each
// window is one inference. A header row starting with `file` is accepted and skipped.
//
// Every check names the file, the 1-based line and the field. Thread-agnostic plain data.

#include "io/ImportResult.h"

#include <QByteArray>
#include <QString>
#include <QVector>

#include <optional>

namespace tinyml::io {

struct MlperfSample {
    QString file;          ///< as written in y_labels.csv, relative to the folder
    int classes = 0;
    int label = 0;         ///< the `class` field
    qint64 bytesToSend = 0;///< 0: the whole file is one input
    qint64 stride = 0;
    int line = 0;          ///< its line in y_labels.csv
};

class MlperfDataset
{
public:
    static constexpr const char *kLabelsFile = "y_labels.csv";
    /// Largest y_labels.csv and largest input file read (the biggest MLPerf Tiny input, vww01,
    /// is 27 KB; ad01 files are a few hundred KB).
    static constexpr qint64 kMaxLabelsBytes = 16 * 1024 * 1024;
    static constexpr qint64 kMaxInputBytes = 64 * 1024 * 1024;

    /// Parses the text of a y_labels.csv; sourceName is used in errors. Checks fields only,
    /// not the files they name.
    static std::optional<QVector<MlperfSample>> parseLabels(const QByteArray &text, const QString &sourceName,
                                                            ImportError *error);

    /// Reads dir/y_labels.csv and checks that every named file exists inside dir, is a regular
    /// file and, when expectedInputBytes > 0, has that size (or, for windowed rows, that
    /// bytes_to_send equals it and the file holds at least one window).
    static std::optional<MlperfDataset> open(const QString &dir, qint64 expectedInputBytes, ImportError *error);

    QString directory() const { return m_dir; }
    const QVector<MlperfSample> &samples() const { return m_samples; }
    int size() const { return int(m_samples.size()); }

    /// The inputs of sample i, one per inference: the whole file, or its windows.
    std::optional<QVector<QByteArray>> inputs(int i, ImportError *error) const;

    /// Cuts data into windows of bytesToSend bytes, stride apart (the runner's ad01 rule: a
    /// window starts at 0, stride, 2*stride ... while it fits entirely).
    static QVector<QByteArray> windows(const QByteArray &data, qint64 bytesToSend, qint64 stride);

private:
    QString m_dir;
    QVector<MlperfSample> m_samples;
};

} // namespace tinyml::io
