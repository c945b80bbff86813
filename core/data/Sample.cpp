#include "data/Sample.h"

#include <QCryptographicHash>

#include <cstring>

namespace tinyml {

int dtypeSize(DType t)
{
    switch (t) {
    case DType::Float32: return 4;
    case DType::Int16: return 2;
    case DType::UInt8: return 1;
    case DType::Int8: return 1;
    case DType::Int32: return 4;
    }
    return 0;
}

QString dtypeName(DType t)
{
    switch (t) {
    case DType::Float32: return QStringLiteral("float32");
    case DType::Int16: return QStringLiteral("int16");
    case DType::UInt8: return QStringLiteral("uint8");
    case DType::Int8: return QStringLiteral("int8");
    case DType::Int32: return QStringLiteral("int32");
    }
    return QStringLiteral("unknown");
}

std::optional<DType> dtypeFromName(const QString &name)
{
    for (DType t : {DType::Float32, DType::Int16, DType::UInt8, DType::Int8, DType::Int32})
        if (dtypeName(t) == name)
            return t;
    return std::nullopt;
}

QString splitName(Split s)
{
    return s == Split::Train ? QStringLiteral("train") : QStringLiteral("test");
}

std::optional<Split> splitFromName(const QString &name)
{
    if (name == QLatin1String("train"))
        return Split::Train;
    if (name == QLatin1String("test"))
        return Split::Test;
    return std::nullopt;
}

qint64 Tensor::elementCount() const
{
    if (shape.isEmpty())
        return 0;
    qint64 n = 1;
    for (qint64 d : shape)
        n *= d;
    return n;
}

Tensor Tensor::fromFloats(const QVector<float> &values, QVector<qint64> shape)
{
    Tensor t;
    t.dtype = DType::Float32;
    t.shape = std::move(shape);
    t.bytes = QByteArray(reinterpret_cast<const char *>(values.constData()),
                         values.size() * static_cast<qsizetype>(sizeof(float)));
    return t;
}

QVector<float> Tensor::toFloats() const
{
    const qint64 n = isConsistent() ? elementCount() : 0;
    QVector<float> out(n);
    const char *p = bytes.constData();
    for (qint64 i = 0; i < n; ++i) {
        switch (dtype) {
        case DType::Float32: std::memcpy(&out[i], p + 4 * i, 4); break;
        case DType::Int16: { int16_t v; std::memcpy(&v, p + 2 * i, 2); out[i] = v; break; }
        case DType::UInt8: out[i] = static_cast<uint8_t>(p[i]); break;
        case DType::Int8: out[i] = static_cast<int8_t>(p[i]); break;
        case DType::Int32: { int32_t v; std::memcpy(&v, p + 4 * i, 4); out[i] = float(v); break; }
        }
    }
    return out;
}

QString sha256Hex(const QByteArray &bytes)
{
    return QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex());
}

} // namespace tinyml
