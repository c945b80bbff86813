#pragma once
// Host-side reader and validator of the model package (deploy/MODEL_PACKAGE.md). Checks
// every header field, offset, count and size against the bytes it has before reading them,
// the CRC, and each record's fields; errors name the section and field. The device's C reader
// performs the same checks in the same order, without allocating. Reads version 1 (a model)
// and version 2 (a model and its impulse section, checked in MODEL_PACKAGE.md's order after
// the model part, as tm_impulse_load() does on the device).
//
// Threading: plain functions over const data.

#include "ImpulseSpec.h"
#include "model/Graph.h"

#include <QByteArray>
#include <QString>
#include <QStringList>
#include <QVector>

#include <optional>

namespace tinyml::deploy {

struct PackageTensor {
    DType dtype = DType::Int8;
    QVector<int> shape;
    bool constant = false;
    quint32 location = 0;           ///< arena offset (activations) or data offset (constants)
    quint32 bytes = 0;
    float scale = 1.0f;
    int zeroPoint = 0;
    QVector<float> channelScales;   ///< per-channel scales; empty when per tensor
    QByteArray data;                ///< constants: their bytes
};

struct PackageOp {
    model::OpType op = model::OpType::Reshape;
    model::Activation activation = model::Activation::None;
    QVector<int> inputs, outputs;
    QVector<qint32> params;         ///< as MODEL_PACKAGE.md lists them for the op code
};

struct ModelPackage {
    quint16 version = 0;
    quint32 arenaBytes = 0;
    int inputTensor = -1, outputTensor = -1;
    QVector<PackageTensor> tensors;
    QVector<PackageOp> ops;
    QStringList labels;
    QByteArray data;                ///< the data section
    /// Version 2: the impulse section, parsed (labels = the package's labels).
    std::optional<ImpulseSpec> impulse;
    quint32 impulseOffset = 0;      ///< byte offset of the impulse section (0: none)
    /// count int32 values at offset of the data section (already bounds-checked for the
    /// multiplier/shift arrays the ops reference).
    QVector<qint32> int32Array(quint32 offset, int count) const;
};

class ModelPackageReader
{
public:
    static std::optional<ModelPackage> read(const QByteArray &bytes, QString *error);
};

} // namespace tinyml::deploy
