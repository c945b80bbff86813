#include "features/FeatureParams.h"

#include <QCryptographicHash>
#include <QJsonArray>
#include <QJsonDocument>

#include <cmath>

namespace tinyml::features {
namespace {

// Bumped when an extractor change alters features for unchanged parameters, so caches
// computed by an older build are recomputed.
constexpr int kFeatureCodeVersion = 1;

bool fail(QString *error, const QString &message)
{
    if (error)
        *error = message;
    return false;
}

QJsonObject mfeJson(const MfeParams &p)
{
    return QJsonObject{
        {QStringLiteral("windowFrames"), p.windowFrames},
        {QStringLiteral("sampleRateHz"), double(p.sampleRateHz)},
        {QStringLiteral("frameLength"), p.frameLength},
        {QStringLiteral("frameStride"), p.frameStride},
        {QStringLiteral("nFilters"), p.nFilters},
        {QStringLiteral("lowHz"), double(p.lowHz)},
        {QStringLiteral("highHz"), double(p.highHz)},
        {QStringLiteral("preEmphasis"), double(p.preEmphasis)},
        {QStringLiteral("logFloor"), double(p.logFloor)},
    };
}

/// Reads members present in o into the referenced fields; integers must be whole numbers.
class JsonFields
{
public:
    JsonFields(const QJsonObject &o, const QString &block) : m_o(o), m_block(block) {}
    void integer(const char *key, int &field, int min, int max)
    {
        const QJsonValue v = m_o.value(QLatin1String(key));
        if (v.isUndefined() || !m_error.isEmpty())
            return;
        const double d = v.toDouble(std::nan(""));
        if (!v.isDouble() || d != std::floor(d) || d < min || d > max) {
            m_error = QStringLiteral("%1.%2 must be a whole number in [%3, %4]").arg(m_block, QLatin1String(key)).arg(min).arg(max);
            return;
        }
        field = int(d);
    }
    void real(const char *key, float &field, double min, double max)
    {
        const QJsonValue v = m_o.value(QLatin1String(key));
        if (v.isUndefined() || !m_error.isEmpty())
            return;
        const double d = v.toDouble(std::nan(""));
        if (!v.isDouble() || !(d >= min && d <= max)) {
            m_error = QStringLiteral("%1.%2 must be a number in [%3, %4]").arg(m_block, QLatin1String(key)).arg(min).arg(max);
            return;
        }
        field = float(d);
    }
    void boolean(const char *key, bool &field)
    {
        const QJsonValue v = m_o.value(QLatin1String(key));
        if (v.isUndefined() || !m_error.isEmpty())
            return;
        if (!v.isBool()) {
            m_error = QStringLiteral("%1.%2 must be true or false").arg(m_block, QLatin1String(key));
            return;
        }
        field = v.toBool();
    }
    const QString &error() const { return m_error; }

private:
    QJsonObject m_o;
    QString m_block;
    QString m_error;
};

constexpr int kMaxFrames = 1 << 24;

void readMfe(JsonFields &f, MfeParams &p)
{
    f.integer("windowFrames", p.windowFrames, 0, kMaxFrames);
    f.real("sampleRateHz", p.sampleRateHz, 0, 1e7);
    f.integer("frameLength", p.frameLength, 2, 1 << 16);
    f.integer("frameStride", p.frameStride, 1, 1 << 16);
    f.integer("nFilters", p.nFilters, 1, 1024);
    f.real("lowHz", p.lowHz, 0, 1e7);
    f.real("highHz", p.highHz, 0, 1e7);
    f.real("preEmphasis", p.preEmphasis, 0, 1);
    f.real("logFloor", p.logFloor, 1e-38, 1);
}

} // namespace

QString blockKindName(BlockKind kind)
{
    switch (kind) {
    case BlockKind::Raw: return QStringLiteral("raw");
    case BlockKind::Spectral: return QStringLiteral("spectral");
    case BlockKind::Mfe: return QStringLiteral("mfe");
    case BlockKind::Mfcc: return QStringLiteral("mfcc");
    case BlockKind::Image: return QStringLiteral("image");
    }
    return QStringLiteral("raw");
}

std::optional<BlockKind> blockKindFromName(const QString &name)
{
    for (BlockKind k : {BlockKind::Raw, BlockKind::Spectral, BlockKind::Mfe, BlockKind::Mfcc, BlockKind::Image})
        if (blockKindName(k) == name)
            return k;
    return std::nullopt;
}

QJsonObject FeatureParams::toJson() const
{
    QJsonObject block;
    switch (kind) {
    case BlockKind::Raw:
        block = {{QStringLiteral("windowFrames"), raw.windowFrames},
                 {QStringLiteral("removeMean"), raw.removeMean},
                 {QStringLiteral("scale"), double(raw.scale)},
                 {QStringLiteral("asSequence"), raw.asSequence}};
        break;
    case BlockKind::Spectral: {
        QJsonArray edges;
        for (float e : spectral.bandEdgesHz)
            edges.append(double(e));
        block = {{QStringLiteral("windowFrames"), spectral.windowFrames},
                 {QStringLiteral("sampleRateHz"), double(spectral.sampleRateHz)},
                 {QStringLiteral("nBands"), spectral.nBands},
                 {QStringLiteral("bandEdgesHz"), edges},
                 {QStringLiteral("nPeaks"), spectral.nPeaks}};
        break;
    }
    case BlockKind::Mfe:
        block = mfeJson(mfe);
        break;
    case BlockKind::Mfcc:
        block = mfeJson(mfcc.mfe);
        block.insert(QStringLiteral("nCoeffs"), mfcc.nCoeffs);
        block.insert(QStringLiteral("lifter"), mfcc.lifter);
        break;
    case BlockKind::Image:
        block = {{QStringLiteral("width"), image.width},
                 {QStringLiteral("height"), image.height},
                 {QStringLiteral("channels"), image.channels},
                 {QStringLiteral("resize"), image.bilinear ? QStringLiteral("bilinear") : QStringLiteral("nearest")}};
        break;
    }
    return QJsonObject{{QStringLiteral("block"), blockKindName(kind)}, {blockKindName(kind), block}};
}

std::optional<FeatureParams> FeatureParams::fromJson(const QJsonObject &json, QString *error)
{
    const QString name = json.value(QStringLiteral("block")).toString();
    const auto kind = blockKindFromName(name);
    if (!kind) {
        fail(error, QStringLiteral("feature block \"%1\" unknown (raw, spectral, mfe, mfcc, image)").arg(name));
        return std::nullopt;
    }
    FeatureParams p;
    p.kind = *kind;
    const QJsonObject o = json.value(name).toObject();
    JsonFields f(o, name);
    switch (p.kind) {
    case BlockKind::Raw:
        f.integer("windowFrames", p.raw.windowFrames, 0, kMaxFrames);
        f.boolean("removeMean", p.raw.removeMean);
        f.real("scale", p.raw.scale, -1e30, 1e30);
        f.boolean("asSequence", p.raw.asSequence);
        break;
    case BlockKind::Spectral:
        f.integer("windowFrames", p.spectral.windowFrames, 0, kMaxFrames);
        f.real("sampleRateHz", p.spectral.sampleRateHz, 0, 1e7);
        f.integer("nBands", p.spectral.nBands, 0, 256);
        f.integer("nPeaks", p.spectral.nPeaks, 0, 64);
        if (o.contains(QStringLiteral("bandEdgesHz"))) {
            p.spectral.bandEdgesHz.clear();
            for (const QJsonValue &v : o.value(QStringLiteral("bandEdgesHz")).toArray())
                p.spectral.bandEdgesHz.append(float(v.toDouble()));
            if (!p.spectral.bandEdgesHz.isEmpty() && p.spectral.bandEdgesHz.size() != p.spectral.nBands + 1) {
                fail(error, QStringLiteral("spectral.bandEdgesHz needs nBands + 1 = %1 edges, has %2")
                                .arg(p.spectral.nBands + 1).arg(p.spectral.bandEdgesHz.size()));
                return std::nullopt;
            }
        }
        break;
    case BlockKind::Mfe:
        readMfe(f, p.mfe);
        break;
    case BlockKind::Mfcc:
        readMfe(f, p.mfcc.mfe);
        f.integer("nCoeffs", p.mfcc.nCoeffs, 1, 1024);
        f.integer("lifter", p.mfcc.lifter, 0, 1024);
        break;
    case BlockKind::Image: {
        f.integer("width", p.image.width, 1, 4096);
        f.integer("height", p.image.height, 1, 4096);
        f.integer("channels", p.image.channels, 1, 3);
        const QString resize = o.value(QStringLiteral("resize")).toString(QStringLiteral("bilinear"));
        if (resize != QLatin1String("bilinear") && resize != QLatin1String("nearest")) {
            fail(error, QStringLiteral("image.resize must be \"bilinear\" or \"nearest\""));
            return std::nullopt;
        }
        p.image.bilinear = resize == QLatin1String("bilinear");
        if (p.image.channels == 2) {
            fail(error, QStringLiteral("image.channels must be 1 (grey) or 3 (RGB)"));
            return std::nullopt;
        }
        break;
    }
    }
    if (!f.error().isEmpty()) {
        fail(error, f.error());
        return std::nullopt;
    }
    return p;
}

QString FeatureParams::hash() const
{
    QByteArray canonical = QByteArrayLiteral("tinyml-features-v") + QByteArray::number(kFeatureCodeVersion) + ':';
    canonical += QJsonDocument(toJson()).toJson(QJsonDocument::Compact);   // keys come sorted
    return QString::fromLatin1(QCryptographicHash::hash(canonical, QCryptographicHash::Sha256).toHex());
}

FeatureParams FeatureParams::defaultsFor(const ProjectSettings &settings)
{
    FeatureParams p;
    const double rate = settings.sampleRateHz;
    const double length = settings.sampleLengthS;
    const QString t = settings.templateName;
    if (t == QLatin1String("motion")) {
        p.kind = BlockKind::Spectral;
        if (rate > 0 && length > 0)
            p.spectral.windowFrames = int(std::lround(rate * length));
    } else if (t == QLatin1String("audio")) {
        p.kind = BlockKind::Mfcc;
        MfeParams &m = p.mfcc.mfe;
        if (rate > 0) {
            m.sampleRateHz = float(rate);
            m.frameLength = int(std::lround(0.040 * rate));   // 40 ms
            m.frameStride = int(std::lround(0.020 * rate));   // 20 ms
            m.windowFrames = int(std::lround(rate * (length > 0 ? length : 1.0)));
        }
    } else if (t == QLatin1String("image")) {
        p.kind = BlockKind::Image;
    } else {
        p.kind = BlockKind::Raw;
    }
    return p;
}

FeatureParams featureParams(const ProjectSettings &settings)
{
    const QJsonValue v = settings.extra.value(QStringLiteral("features"));
    if (v.isObject())
        if (auto p = FeatureParams::fromJson(v.toObject(), nullptr))
            return *p;
    return FeatureParams::defaultsFor(settings);
}

void setFeatureParams(ProjectSettings &settings, const FeatureParams &params)
{
    settings.extra.insert(QStringLiteral("features"), params.toJson());
}

} // namespace tinyml::features
