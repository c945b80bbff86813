#pragma once
// One input for a stored model, read from a file the user names (`tinyml predict`).
//
// Two kinds of file:
//  - a tensor: the model's input as it is, no feature block, no normalisation:
//      raw bytes        its size must be the input's element count (int8) or 4x it (float32,
//                       little-endian); an int8 model given float32 data quantizes it with the
//                       input's scale and zero point (round half away from zero, clamped);
//      .npy             NumPy format 1.0, 2.0 or 3.0, C order, dtype |i1 (int8), <f4, >f4,
//                       <f8, >f8, <i2 or >i2 (converted to float32); the shape's element count
//                       must equal the input's (any shape: (490,) or (1, 49, 10, 1));
//      a CSV row        FILE.csv:ROW picks data row ROW (1-based, after the header), default
//                       the first; a first line that is not all numbers is the header, and its
//                       `label` and `split` columns (any case) are left out (the label is kept
//                       as the row's expected class); every other cell must be a number;
//  - a sample: a WAV, a time-series CSV (a header whose first column is timestamp/time/
//    timestamp_ms, or any CSV with ModelInputFormat::Sample), an image or an Edge Impulse
//    JSON/CBOR file, read by the importers (io/DatasetImporter.h), checked against the project's
//    channels and rate, then run through the model's feature block (features/FeatureExtractor,
//    the device's DSP code) and normalised with the model's statistics, as training and the
//    profiler's host reference do.
// Int8 models get int8 values (given, or quantized from float ones); float models float values.
// A float model given int8 data is refused (it has no scale to read them with).
//
// Every error names the file and, where there is one, the line and the field (ImportError).
// Threading: plain functions, reentrant.

#include "features/FeatureParams.h"
#include "io/DatasetImporter.h"
#include "io/ImportResult.h"
#include "model/Graph.h"
#include "store/ProjectStore.h"

#include <QByteArray>
#include <QString>
#include <QVector>

#include <optional>

namespace tinyml::io {

/// What one input of a model must be, and how samples become one.
struct ModelInputSpec {
    qint64 elements = 0;              ///< element count of the graph input
    QVector<int> shape;               ///< the graph input's shape (for messages)
    bool int8 = false;                ///< int8 graph: the input is int8 with scale / zeroPoint
    float scale = 1.0f;
    int zeroPoint = 0;
    features::FeatureParams features; ///< the block a sample goes through
    QVector<float> normMean, normStd; ///< empty: no normalisation; else `elements` each
    double sampleRateHz = 0;          ///< rate of a time-series CSV without a time column
    SampleExpectation expectation;    ///< the project's channels and rate (empty: no check)

    /// The graph's input, its meta "features" (else the project's feature parameters) and
    /// "input_normalization" (as the profiler and the impulse read them). Errors name the field.
    static std::optional<ModelInputSpec> forGraph(const model::Graph &graph, const ProjectSettings &settings,
                                                  QString *error);
};

/// How to read a file: Auto decides by content, extension and size (ModelInput.h's rules).
enum class ModelInputFormat { Auto, RawInt8, RawFloat32, Npy, CsvRow, Sample };
/// "auto", "int8", "float32", "npy", "row", "sample".
std::optional<ModelInputFormat> modelInputFormatFromName(const QString &name);
QString modelInputFormatName(ModelInputFormat format);

struct ModelInput {
    QString source;                   ///< the argument as given ("x.csv:3" for a row)
    QString format;                   ///< "raw int8", "raw float32", "npy <f4", "csv row 3", "wav sample", ...
    QString note;                     ///< how the file became the model's input, for the user
    QString expectedLabel;            ///< a row's label cell or a sample's label; may be empty
    QVector<qint8> int8;              ///< int8 models: the input
    QVector<float> values;            ///< float models: the input; int8 models: the float values
                                      ///< before quantization (empty when the file held int8)
};

/// Reads one input for spec. `argument` is a path, or PATH:ROW for a CSV row.
std::optional<ModelInput> readModelInput(const QString &argument, const ModelInputSpec &spec,
                                         ModelInputFormat format, ImportError *error);

// --- the parsers, for tests and fuzzing ---------------------------------------------------

/// A .npy file's header.
struct NpyHeader {
    int major = 0, minor = 0;
    QString descr;                    ///< as written, e.g. "<f4"
    char kind = 0;                    ///< 'i' (signed int) or 'f'
    int itemSize = 0;                 ///< 1, 2, 4 or 8
    bool bigEndian = false;
    QVector<qint64> shape;            ///< empty: a scalar (one element)
    qint64 elementCount = 1;
    qint64 dataOffset = 0;            ///< where the data starts
};
/// Largest .npy header accepted (NumPy writes a few dozen bytes; 3.0 allows 4 GB).
constexpr qint64 kMaxNpyHeaderBytes = 64 * 1024;
/// Largest input file read (raw, .npy, CSV, sample).
constexpr qint64 kMaxModelInputFileBytes = 64 * 1024 * 1024;

/// Parses the magic, version, header length and the header dict ('descr', 'fortran_order',
/// 'shape'); refuses Fortran order, unknown dtypes and keys, and a data size that differs
/// from shape x item size. Errors name file and field ("magic", "version", "header_len",
/// "descr", "fortran_order", "shape", "data").
std::optional<NpyHeader> parseNpyHeader(const QByteArray &bytes, const QString &file, ImportError *error);
/// The data of a parsed .npy as float32 values (every dtype) and, for |i1, as int8 too.
struct NpyData {
    NpyHeader header;
    QVector<float> floats;
    QVector<qint8> int8;              ///< only for int8 data
};
std::optional<NpyData> readNpy(const QByteArray &bytes, const QString &file, ImportError *error);

/// One row of a CSV of numbers.
struct CsvNumberRow {
    int row = 0;                      ///< 1-based data row
    int line = 0;                     ///< its line in the file
    QStringList columns;              ///< the header's names of the value columns (empty: no header)
    QVector<float> values;
    QString label;                    ///< the `label` cell, when the header has that column
};
/// Data row `row` (1-based; 0 = the first). Errors name file, line and column.
std::optional<CsvNumberRow> parseCsvRow(const QByteArray &bytes, const QString &file, int row, ImportError *error);

} // namespace tinyml::io
