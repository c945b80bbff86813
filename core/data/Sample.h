#pragma once
// Plain data types shared by the store, the importers, the device links and the UI.
// No Qt Widgets, no libtorch: these cross every layer.

#include <QByteArray>
#include <QDateTime>
#include <QString>
#include <QStringList>
#include <QVector>

#include <cstdint>
#include <optional>

namespace tinyml {

/// Element type of a stored array. Persisted as an integer in project files: append-only.
enum class DType : int {
    Float32 = 0,
    Int16 = 1,
    UInt8 = 2,
    Int8 = 3,
    Int32 = 4,
};

int dtypeSize(DType t);
QString dtypeName(DType t);                       ///< "float32", "int16", ...
std::optional<DType> dtypeFromName(const QString &name);

/// Which part of the data set a sample belongs to. Persisted as text ("train"/"test").
enum class Split { Train, Test };
QString splitName(Split s);
std::optional<Split> splitFromName(const QString &name);

/// A dense little-endian array with explicit dtype and shape.
/// Layouts used across the project:
///  - time series (motion, audio): [frames, channels], float32 in physical units
///    (audio: PCM normalised to [-1, 1));
///  - tabular rows: [features], float32;
///  - images: [height, width, channels], uint8.
struct Tensor {
    DType dtype = DType::Float32;
    QVector<qint64> shape;
    QByteArray bytes;

    qint64 elementCount() const;
    bool isConsistent() const { return bytes.size() == elementCount() * dtypeSize(dtype); }
    const float *floatData() const { return reinterpret_cast<const float *>(bytes.constData()); }
    static Tensor fromFloats(const QVector<float> &values, QVector<qint64> shape);
    QVector<float> toFloats() const; ///< converts any dtype to float (no scaling)
};

/// One labelled sample as it lives in the project.
struct Sample {
    qint64 id = 0;                  ///< 0 until stored
    QString label;
    Split split = Split::Train;
    QString source;                 ///< file path, or "device:<board id>"
    QString device;                 ///< board id / device type, may be empty
    QString sensor;                 ///< sensor name ("accel", "mic"), may be empty
    QDateTime created;              ///< UTC
    double sampleRateHz = 0;        ///< 0 for non-time-series data
    QStringList channels;           ///< channel / feature names
    QStringList units;              ///< one per channel, may be empty
    Tensor data;
    bool complete = true;           ///< false: capture was cut short (board lost)
    QString checksum;               ///< hex SHA-256 of data.bytes; set by the store

    qint64 frames() const { return data.shape.isEmpty() ? 0 : data.shape.first(); }
};

QString sha256Hex(const QByteArray &bytes);

} // namespace tinyml
