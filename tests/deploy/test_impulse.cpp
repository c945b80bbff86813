// The impulse on the host side: ImpulseSpec (builder, JSON), package version 2 (writer,
// reader, every corrupted field refused by name), host replay against the C API window by
// window, calibration on a hand-computed score sequence, and the Flasher's refusals.
#include "Calibration.h"
#include "DeployTestGraphs.h"
#include "Flasher.h"
#include "ImpulseReplay.h"
#include "ImpulseSpec.h"
#include "ModelPackageFormat.h"
#include "ModelPackageReader.h"
#include "ModelPackageWriter.h"

#include "device/AgentProtocol.h"
#include "tm_frame.h"
#include "tm_impulse.h"
#include "tm_model.h"

#include <QCryptographicHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSet>
#include <QtEndian>

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <new>

using namespace tinyml;
using namespace tinyml::deploy;
using namespace tinyml::deploy::testing;
namespace pk = tinyml::deploy::package;

namespace {

std::string str(const QString &s) { return s.toStdString(); }

/// MFE features 8 frames x 8 filters = 64 values = chain()'s input [1,8,8,1]:
/// frame 64, stride 32 -> window 64 + 7 * 32 = 288 samples at 8 kHz.
features::FeatureParams mfe64()
{
    features::FeatureParams p;
    p.kind = features::BlockKind::Mfe;
    p.mfe.windowFrames = 288;
    p.mfe.sampleRateHz = 8000;
    p.mfe.frameLength = 64;
    p.mfe.frameStride = 32;
    p.mfe.nFilters = 8;
    p.mfe.lowHz = 50;
    p.mfe.highHz = 0;
    return p;
}

/// chain() (10 labels, "idle" first) trained on mfe64() with a normalisation.
Graph keywordGraph()
{
    Graph g = chain();
    g.meta.insert(QStringLiteral("features"), mfe64().toJson());
    QJsonArray mean, std;
    for (int k = 0; k < 64; ++k) {
        mean.append(-6.0 + 0.05 * k);
        std.append(1.5 + 0.01 * k);
    }
    g.meta.insert(QStringLiteral("input_normalization"), QJsonObject{{QStringLiteral("mean"), mean}, {QStringLiteral("std"), std}});
    return g;
}

ProjectSettings audioSettings()
{
    ProjectSettings s;
    s.templateName = QStringLiteral("audio");
    s.sampleRateHz = 8000;
    return s;
}

/// The keyword impulse; the replay tests below use a stride of a quarter window (72 frames).
ImpulseSpec keywordSpec(std::optional<ImpulseOptions> options = std::nullopt)
{
    QString error;
    if (!options) {
        options = ImpulseOptions{};
        options->strideFrames = 72;
    }
    auto spec = impulseSpecFor(keywordGraph(), audioSettings(), ImpulseSensor{}, *options, &error);
    EXPECT_TRUE(spec) << str(error);
    return spec.value_or(ImpulseSpec{});
}

QByteArray packageWith(const Graph &g, const std::optional<ImpulseSpec> &impulse)
{
    ModelPackageWriter writer;
    writer.setImpulse(impulse);
    QString error;
    auto bytes = writer.write(g, &error);
    EXPECT_TRUE(bytes) << str(error);
    return bytes.value_or(QByteArray());
}

void resealCrc(QByteArray &b)
{
    const quint32 crc = tm_crc32(0, reinterpret_cast<const uint8_t *>(b.constData()) + pk::kHeaderSize,
                                 size_t(b.size()) - pk::kHeaderSize);
    qToLittleEndian(crc, b.data() + pk::kCrcAt);
}

quint32 u32At(const QByteArray &b, qint64 at) { return qFromLittleEndian<quint32>(b.constData() + at); }

/// 16-byte aligned copy of a package for the C loader.
struct Aligned {
    explicit Aligned(const QByteArray &b)
        : size(size_t(b.size())), data(static_cast<uint8_t *>(::operator new(size + 16, std::align_val_t(16))))
    {
        std::memcpy(data, b.constData(), size);
    }
    explicit Aligned(size_t n) : size(n), data(static_cast<uint8_t *>(::operator new(n + 16, std::align_val_t(16)))) {}
    ~Aligned() { ::operator delete(data, std::align_val_t(16)); }
    size_t size;
    uint8_t *data;
};

/// 1 s at 8 kHz: a rising tone over low noise with two louder bursts, deterministic.
QVector<qint16> recording(int frames, int channels = 1)
{
    QVector<qint16> v(frames * channels);
    uint32_t rng = 12345;
    for (int t = 0; t < frames; ++t) {
        const double f = 200.0 + 3000.0 * t / frames;
        const double burst = (t / 1000) % 3 == 1 ? 9000.0 : 1500.0;
        for (int c = 0; c < channels; ++c) {
            rng ^= rng << 13; rng ^= rng >> 17; rng ^= rng << 5;
            const double noise = double(int(rng % 2001) - 1000);
            v[t * channels + c] = qint16(std::lround(burst * std::sin(2 * M_PI * f * t / 8000.0 + c) + noise));
        }
    }
    return v;
}

} // namespace

// --- ImpulseSpec -------------------------------------------------------------------------------

TEST(ImpulseSpec, BuilderTakesTheModelsFeaturesAndDefaults)
{
    const ImpulseSpec s = keywordSpec(ImpulseOptions{});
    EXPECT_EQ(s.sensorKind, ImpulseSensorKind::Microphone);
    EXPECT_EQ(s.channels, 1);
    EXPECT_EQ(s.sampleRateHz, 8000u);
    EXPECT_EQ(s.windowFrames, 288u);
    EXPECT_EQ(s.strideFrames, 144u);                       // window / 2 for audio blocks
    EXPECT_FLOAT_EQ(s.rawScale, 1.0f / 32768.0f);
    EXPECT_EQ(s.featureCount(), 64);
    EXPECT_EQ(s.normMean.size(), 64);
    EXPECT_FLOAT_EQ(s.normStd[3], 1.53f);
    EXPECT_EQ(s.post.averageWindows, 1);
    EXPECT_EQ(s.post.suppressionMs, 36u);                  // 288 frames at 8 kHz
    ASSERT_EQ(s.post.thresholds.size(), 10);
    EXPECT_FLOAT_EQ(s.post.thresholds[4], 0.6f);
    ASSERT_EQ(s.post.background.size(), 10);
    EXPECT_TRUE(s.post.background[0]);                     // "idle"
    EXPECT_FALSE(s.post.background[1]);                    // "wave"
    EXPECT_EQ(s.validate(64, 10), QString());

    // Options (extra["impulse"]) override the defaults; the raw scale comes from INFO.
    ImpulseOptions o;
    o.strideFrames = 100;
    o.averageWindows = 3;
    o.suppressionMs = 1000;
    o.threshold = 0.8f;
    o.classThresholds.insert(QStringLiteral("tap"), 0.4f);
    o.backgroundLabels = QStringList{QStringLiteral("down")};
    ImpulseSensor sensor;
    sensor.rawScale = 0.5f / 32768.0f;
    QString error;
    auto t = impulseSpecFor(keywordGraph(), audioSettings(), sensor, o, &error);
    ASSERT_TRUE(t) << str(error);
    EXPECT_EQ(t->strideFrames, 100u);
    EXPECT_EQ(t->post.averageWindows, 3);
    EXPECT_EQ(t->post.suppressionMs, 1000u);
    EXPECT_FLOAT_EQ(t->post.thresholds[0], 0.8f);
    EXPECT_FLOAT_EQ(t->post.thresholds[3], 0.4f);
    EXPECT_FALSE(t->post.background[0]);
    EXPECT_TRUE(t->post.background[7]);
    EXPECT_FLOAT_EQ(t->rawScale, 0.5f / 32768.0f);
}

TEST(ImpulseSpec, BackgroundLabelRule)
{
    for (const char *yes : {"idle", "Noise", "_noise", "BACKGROUND", "_unknown", "unknown", "silence", " Idle "})
        EXPECT_TRUE(isBackgroundLabel(QString::fromLatin1(yes))) << yes;
    for (const char *no : {"yes", "idler", "noisy", "__noise", "no_idle", ""})
        EXPECT_FALSE(isBackgroundLabel(QString::fromLatin1(no))) << no;
}

TEST(ImpulseSpec, BuilderRefusesBlocksThatCannotStream)
{
    QString error;
    Graph g = keywordGraph();
    features::FeatureParams img;
    img.kind = features::BlockKind::Image;
    g.meta.insert(QStringLiteral("features"), img.toJson());
    EXPECT_FALSE(impulseSpecFor(g, audioSettings(), {}, {}, &error));
    EXPECT_TRUE(error.contains(QStringLiteral("image block"))) << str(error);

    features::FeatureParams whole = mfe64();
    whole.mfe.windowFrames = 0;
    g.meta.insert(QStringLiteral("features"), whole.toJson());
    EXPECT_FALSE(impulseSpecFor(g, audioSettings(), {}, {}, &error));
    EXPECT_TRUE(error.contains(QStringLiteral("windowFrames 0"))) << str(error);

    // Features that do not give the model's input size.
    features::FeatureParams wrong = mfe64();
    wrong.mfe.nFilters = 9;
    g.meta.insert(QStringLiteral("features"), wrong.toJson());
    EXPECT_FALSE(impulseSpecFor(g, audioSettings(), {}, {}, &error));
    EXPECT_TRUE(error.contains(QStringLiteral("impulse.feature_count"))) << str(error);
}

TEST(ImpulseSpec, RawBlockDerivesChannelsFromTheModel)
{
    Graph g = branch();   // 64 inputs, labels a b c
    features::FeatureParams raw;
    raw.kind = features::BlockKind::Raw;
    raw.raw.windowFrames = 32;
    g.meta.insert(QStringLiteral("features"), raw.toJson());
    ProjectSettings motion;
    motion.sampleRateHz = 100;
    QString error;
    auto s = impulseSpecFor(g, motion, {}, {}, &error);
    ASSERT_TRUE(s) << str(error);
    EXPECT_EQ(s->sensorKind, ImpulseSensorKind::Accelerometer);
    EXPECT_EQ(s->channels, 2);
    EXPECT_EQ(s->sampleRateHz, 100u);
    EXPECT_EQ(s->strideFrames, 8u);
    EXPECT_EQ(s->post.suppressionMs, 320u);
    EXPECT_FLOAT_EQ(s->rawScale, kDefaultAccelRawScale);
    EXPECT_FALSE(s->post.background.contains(true));

    ImpulseSensor three;
    three.channels = 3;
    EXPECT_FALSE(impulseSpecFor(g, motion, three, {}, &error));
    EXPECT_TRUE(error.contains(QStringLiteral("2 channels, the sensor has 3"))) << str(error);
}

TEST(ImpulseSpec, JsonRoundTrips)
{
    const ImpulseSpec s = keywordSpec();
    QString error;
    auto back = ImpulseSpec::fromJson(s.toJson(), &error);
    ASSERT_TRUE(back) << str(error);
    EXPECT_TRUE(*back == s);

    ImpulseOptions o;
    o.strideFrames = 50;
    o.threshold = 0.75f;
    o.classThresholds.insert(QStringLiteral("yes"), 0.5f);
    o.backgroundLabels = QStringList{QStringLiteral("_noise")};
    ProjectSettings settings;
    setImpulseOptions(settings, o);
    auto read = impulseOptions(settings, &error);
    ASSERT_TRUE(read) << str(error);
    EXPECT_EQ(read->strideFrames, o.strideFrames);
    EXPECT_EQ(read->threshold, o.threshold);
    EXPECT_EQ(read->classThresholds, o.classThresholds);
    EXPECT_EQ(read->backgroundLabels, o.backgroundLabels);
    EXPECT_FALSE(read->averageWindows);

    settings.extra.insert(QStringLiteral("impulse"), QJsonObject{{QStringLiteral("average_windows"), 40}});
    EXPECT_FALSE(impulseOptions(settings, &error));
    EXPECT_TRUE(error.contains(QStringLiteral("average_windows"))) << str(error);
}

// --- package version 2 -------------------------------------------------------------------------

TEST(ImpulsePackage, Version1IsByteIdenticalToThePreviousWriter)
{
    // SHA-256 of the packages the writer produced before version 2 existed (same graphs).
    const QByteArray a = packageWith(chain(), std::nullopt);
    const QByteArray b = packageWith(branch(), std::nullopt);
    EXPECT_EQ(a.size(), 2508);
    EXPECT_EQ(QCryptographicHash::hash(a, QCryptographicHash::Sha256).toHex(),
              QByteArray("b349db217362c7993be29f4780d453de408be5aa8bb98dc5d8e2d542abe180bc"));
    EXPECT_EQ(b.size(), 2160);
    EXPECT_EQ(QCryptographicHash::hash(b, QCryptographicHash::Sha256).toHex(),
              QByteArray("c521a892b525ada4f1e80d9dd2d29ee2425582edde60fd0d8240a3037a827085"));
    QString error;
    auto pkg = ModelPackageReader::read(a, &error);
    ASSERT_TRUE(pkg) << str(error);
    EXPECT_EQ(pkg->version, 1);
    EXPECT_FALSE(pkg->impulse);
}

TEST(ImpulsePackage, Version2RoundTrips)
{
    const ImpulseSpec spec = keywordSpec();
    const QByteArray v1 = packageWith(keywordGraph(), std::nullopt);
    const QByteArray v2 = packageWith(keywordGraph(), spec);
    EXPECT_EQ(qFromLittleEndian<quint16>(v2.constData() + pk::kVersionAt), 2);
    EXPECT_EQ(u32At(v2, pk::kFlagsAt), pk::kFlagHasImpulse);
    EXPECT_EQ(u32At(v2, pk::kTotalSizeAt), quint32(v2.size()));
    const quint32 dataEnd = u32At(v2, pk::kDataOffsetAt) + u32At(v2, pk::kDataSizeAt);
    EXPECT_EQ(dataEnd % 4, 0u);
    EXPECT_EQ(std::memcmp(v2.constData() + dataEnd, "TMIP", 4), 0);
    EXPECT_EQ(u32At(v2, dataEnd + pk::kImpSectionSizeAt), quint32(v2.size()) - dataEnd);
    // The model part is version 1's, byte for byte (after the header).
    EXPECT_EQ(v2.mid(pk::kHeaderSize, dataEnd - pk::kHeaderSize), v1.mid(pk::kHeaderSize));

    QString error;
    auto pkg = ModelPackageReader::read(v2, &error);
    ASSERT_TRUE(pkg) << str(error);
    EXPECT_EQ(pkg->version, 2);
    ASSERT_TRUE(pkg->impulse);
    EXPECT_TRUE(*pkg->impulse == spec) << QJsonDocument(pkg->impulse->toJson()).toJson().toStdString();
    EXPECT_EQ(pkg->impulseOffset, dataEnd);

    // Other blocks round-trip too (spectral with band edges, mfcc, raw).
    Graph g = branch();
    features::FeatureParams raw;
    raw.kind = features::BlockKind::Raw;
    raw.raw.windowFrames = 32;
    raw.raw.removeMean = true;
    raw.raw.scale = 0.25f;
    raw.raw.asSequence = true;
    g.meta.insert(QStringLiteral("features"), raw.toJson());
    ProjectSettings motion;
    motion.sampleRateHz = 100;
    auto rawSpec = impulseSpecFor(g, motion, {}, {}, &error);
    ASSERT_TRUE(rawSpec) << str(error);
    auto rawPkg = ModelPackageReader::read(packageWith(g, rawSpec), &error);
    ASSERT_TRUE(rawPkg && rawPkg->impulse) << str(error);
    EXPECT_TRUE(*rawPkg->impulse == *rawSpec);

    // spectral: 2 channels x (3 + 4 bands + 2 x 2 peaks) = 22 values; a [1,22] -> [1,3] model.
    Graph s;
    const int x = act(s, "x", {1, 22});
    const int w = weights(s, "w", {3, 22}, 3), bb = bias(s, "b", 3);
    const int y = act(s, "y", {1, 3}, 0.1f, 0);
    s.addNode(node(OpType::FullyConnected, "fc", {x, w, bb}, y));
    s.inputs = {x};
    s.outputs = {y};
    s.labels = QStringList{"idle", "shake", "circle"};
    s.quantized = true;
    features::FeatureParams sp;
    sp.kind = features::BlockKind::Spectral;
    sp.spectral.windowFrames = 64;
    sp.spectral.nBands = 4;
    sp.spectral.nPeaks = 2;
    sp.spectral.bandEdgesHz = {0, 5, 10, 20, 50};
    s.meta.insert(QStringLiteral("features"), sp.toJson());
    auto spSpec = impulseSpecFor(s, motion, {}, {}, &error);
    ASSERT_TRUE(spSpec) << str(error);
    EXPECT_EQ(spSpec->channels, 2);
    auto spPkg = ModelPackageReader::read(packageWith(s, spSpec), &error);
    ASSERT_TRUE(spPkg && spPkg->impulse) << str(error);
    EXPECT_TRUE(*spPkg->impulse == *spSpec);
}

TEST(ImpulsePackage, WriterRefusesAnImpulseThatDoesNotFitTheModel)
{
    ImpulseSpec spec = keywordSpec();
    spec.labels.removeLast();
    spec.post.thresholds.removeLast();
    spec.post.background.removeLast();
    ModelPackageWriter writer;
    writer.setImpulse(spec);
    QString error;
    EXPECT_FALSE(writer.write(keywordGraph(), &error));
    EXPECT_TRUE(error.contains(QStringLiteral("impulse.labels"))) << str(error);

    spec = keywordSpec();
    spec.strideFrames = 289;
    writer.setImpulse(spec);
    EXPECT_FALSE(writer.write(keywordGraph(), &error));
    EXPECT_TRUE(error.contains(QStringLiteral("impulse.stride_samples"))) << str(error);
}

TEST(ImpulsePackage, ReaderRefusesEachCorruptedField)
{
    const QByteArray good = packageWith(keywordGraph(), keywordSpec());
    const qint64 at = u32At(good, pk::kDataOffsetAt) + u32At(good, pk::kDataSizeAt);   // section start
    const qint64 params = at + pk::kImpDspParamsAt;
    const qint64 featureCountAt = params + pk::kDspMfeParamsSize;
    const qint64 normAt = featureCountAt + 4;
    const qint64 meanAt = normAt + 4, stdAt = meanAt + 4 * 64;
    const qint64 classCountAt = stdAt + 4 * 64, averageAt = classCountAt + 2;
    const qint64 thresholdsAt = averageAt + 6, flagsAt = thresholdsAt + 4 * 10;

    struct Case {
        const char *what;
        std::function<void(QByteArray &)> corrupt;
        const char *field;
    };
    auto u8 = [](qint64 off, quint8 v) { return [=](QByteArray &b) { b[off] = char(v); }; };
    auto u16 = [](qint64 off, quint16 v) { return [=](QByteArray &b) { qToLittleEndian(v, b.data() + off); }; };
    auto u32 = [](qint64 off, quint32 v) { return [=](QByteArray &b) { qToLittleEndian(v, b.data() + off); }; };
    auto f32 = [](qint64 off, float f) {
        return [=](QByteArray &b) {
            quint32 bits;
            std::memcpy(&bits, &f, 4);
            qToLittleEndian(bits, b.data() + off);
        };
    };
    const std::vector<Case> cases = {
        {"version 3", u16(pk::kVersionAt, 3), "header.version"},
        {"v2 without HAS_IMPULSE", u32(pk::kFlagsAt, 0), "header.flags"},
        {"unknown flag", u32(pk::kFlagsAt, 3), "header.flags"},
        {"magic", u8(at + 3, 'X'), "impulse.magic"},
        {"section size", u32(at + pk::kImpSectionSizeAt, quint32(good.size() - at - 4)), "impulse.section_size"},
        {"impulse version", u16(at + pk::kImpVersionAt, 3), "impulse.impulse_version"},
        {"sensor kind", u8(at + pk::kImpSensorKindAt, 2), "impulse.sensor_kind"},
        {"channels 0", u8(at + pk::kImpChannelsAt, 0), "impulse.channels"},
        {"channels 4", u8(at + pk::kImpChannelsAt, 4), "impulse.channels"},
        {"rate 0", u32(at + pk::kImpSampleRateAt, 0), "impulse.sample_rate_hz"},
        {"window 0", u32(at + pk::kImpWindowAt, 0), "impulse.window_samples"},
        {"stride 0", u32(at + pk::kImpStrideAt, 0), "impulse.stride_samples"},
        {"stride > window", u32(at + pk::kImpStrideAt, 289), "impulse.stride_samples"},
        {"raw scale 0", f32(at + pk::kImpRawScaleAt, 0.0f), "impulse.raw_scale"},
        {"raw scale NaN", f32(at + pk::kImpRawScaleAt, std::nanf("")), "impulse.raw_scale"},
        {"image block", u8(at + pk::kImpDspBlockAt, 4), "impulse.dsp_block"},
        {"params size", u16(at + pk::kImpDspParamsSizeAt, 24), "impulse.dsp_params_size"},
        {"mfe -> mfcc block", u8(at + pk::kImpDspBlockAt, 3), "impulse.dsp_params_size"},
        {"frame longer than the window", u32(params, 1000), "impulse.dsp_params"},
        {"feature count", u32(featureCountAt, 63), "impulse.feature_count"},
        {"window changes the feature count", u32(at + pk::kImpWindowAt, 320), "impulse.feature_count"},
        {"norm flags", u32(normAt, 2), "impulse.norm_flags"},
        {"mean inf", f32(meanAt + 8, INFINITY), "impulse.mean"},
        {"std 0", f32(stdAt + 12, 0.0f), "impulse.std"},
        {"std negative", f32(stdAt, -1.0f), "impulse.std"},
        {"class count", u16(classCountAt, 9), "impulse.class_count"},
        {"class count 0", u16(classCountAt, 0), "impulse.class_count"},
        {"average 0", u16(averageAt, 0), "impulse.average_windows"},
        {"average 33", u16(averageAt, 33), "impulse.average_windows"},
        {"threshold 1.5", f32(thresholdsAt + 8, 1.5f), "impulse.thresholds"},
        {"threshold NaN", f32(thresholdsAt, std::nanf("")), "impulse.thresholds"},
        {"class flags", u8(flagsAt + 2, 2), "impulse.class_flags"},
        {"padding", u8(flagsAt + 10, 1), "impulse.padding"},
    };
    // The section ends 2 bytes after the 10 class flags (padding to 4): the padding case is real.
    ASSERT_EQ(good.size() - (flagsAt + 10), 2);
    for (const Case &c : cases) {
        QByteArray b = good;
        c.corrupt(b);
        resealCrc(b);
        QString error;
        EXPECT_FALSE(ModelPackageReader::read(b, &error)) << c.what;
        EXPECT_TRUE(error.startsWith(QLatin1String(c.field))) << c.what << ": " << str(error);
        // The device's loaders refuse it as well (model part or impulse section).
        Aligned a(b);
        tm_model_t m;
        tm_impulse_t imp;
        const bool modelOk = tm_model_load(&m, a.data, uint32_t(a.size)) == TM_MODEL_OK;
        EXPECT_FALSE(modelOk && tm_impulse_load(&imp, &m) == TM_IMPULSE_OK) << c.what << " passes the C loaders";
    }
    // A truncated section (package cut, header fixed up) is refused too.
    QByteArray cut = good.left(good.size() - 44);
    qToLittleEndian(quint32(cut.size()), cut.data() + pk::kTotalSizeAt);
    qToLittleEndian(quint32(cut.size() - at), cut.data() + at + pk::kImpSectionSizeAt);
    resealCrc(cut);
    QString error;
    EXPECT_FALSE(ModelPackageReader::read(cut, &error));
    EXPECT_TRUE(error.startsWith(QLatin1String("impulse.section_size"))) << str(error);
}

// --- host replay -------------------------------------------------------------------------------

TEST(ImpulseReplay, EqualsTheCApiWindowByWindowOnAnyThreadCount)
{
    ImpulseSpec spec = keywordSpec();
    spec.post.averageWindows = 2;
    spec.post.suppressionMs = 50;
    for (float &t : spec.post.thresholds)
        t = 0.2f;
    const QByteArray package = packageWith(keywordGraph(), spec);
    ImpulseReplay replay;
    QString error;
    ASSERT_TRUE(replay.load(package, &error)) << str(error);
    EXPECT_TRUE(replay.spec() == spec);

    const QVector<qint16> rec = recording(8000);
    const qint64 windows = replay.windowCount(8000);
    EXPECT_EQ(windows, 1 + (8000 - 288) / 72);
    ReplayOptions one;
    one.threads = 1;
    auto r1 = replay.run(rec, 1, one, &error);
    ASSERT_TRUE(r1) << str(error);
    ReplayOptions two;
    two.threads = 2;
    QVector<qint64> progress;
    two.progress = [&](qint64 done, qint64 total) {
        EXPECT_EQ(total, windows);
        progress.append(done);
    };
    auto r2 = replay.run(rec, 1, two, &error);
    ASSERT_TRUE(r2) << str(error);
    ASSERT_EQ(r1->scores.windows(), windows);
    EXPECT_EQ(r1->scores.windowEnds, r2->scores.windowEnds);
    EXPECT_EQ(r1->scores.scores, r2->scores.scores);
    EXPECT_EQ(r1->decisions, r2->decisions);
    ASSERT_FALSE(progress.isEmpty());
    EXPECT_EQ(progress.last(), windows);

    // The reference: the C API called directly, the window given as a wrapped ring (two
    // segments) on odd windows, post-processing step by step.
    Aligned pkg(package);
    tm_model_t model;
    ASSERT_EQ(tm_model_load(&model, pkg.data, uint32_t(pkg.size)), TM_MODEL_OK);
    tm_impulse_t imp;
    ASSERT_EQ(tm_impulse_load(&imp, &model), TM_IMPULSE_OK);
    Aligned arena(tm_model_arena_bytes(&model)), work(tm_impulse_work_bytes(&imp));
    tm_impulse_post_params_t pp;
    tm_impulse_post_params(&imp, &pp);
    tm_impulse_post_state_t state;
    tm_impulse_post_reset(&state);
    QVector<qint16> ring(288 + 72);
    QSet<QByteArray> distinct;
    int detections = 0;
    for (qint64 k = 0; k < windows; ++k) {
        const quint64 end = 288 + quint64(k) * 72;
        EXPECT_EQ(r1->scores.windowEnds[int(k)], end);
        int8_t scores[TM_IMPULSE_MAX_CLASSES];
        tm_impulse_status_t s;
        if (k % 2 == 0) {
            s = tm_impulse_run_window(&imp, rec.constData() + end - 288, 288, nullptr, 0, work.data, work.size,
                                      arena.data, uint32_t(arena.size), scores, nullptr);
        } else {
            // frames [end-288, end) stored in a ring of 360 frames starting at index (end-288) % 360
            const int start = int((end - 288) % 360);
            for (int i = 0; i < 288; ++i)
                ring[(start + i) % 360] = rec[int(end) - 288 + i];
            const uint32_t nA = uint32_t(std::min(288, 360 - start));
            s = tm_impulse_run_window(&imp, ring.constData() + start, nA, nA < 288 ? ring.constData() : nullptr,
                                      288 - nA, work.data, work.size, arena.data, uint32_t(arena.size), scores, nullptr);
        }
        ASSERT_EQ(s, TM_IMPULSE_OK) << "window " << k;
        const QByteArray row(reinterpret_cast<const char *>(scores), 10);
        EXPECT_EQ(row, QByteArray(reinterpret_cast<const char *>(r1->scores.window(int(k))), 10)) << "window " << k;
        distinct.insert(row);
        tm_impulse_decision_t d;
        tm_impulse_post_step(&pp, &state, scores, end, &d);
        const ImpulseDecision &h = r1->decisions[int(k)];
        EXPECT_EQ(h.topClass, d.top_class) << "window " << k;
        EXPECT_EQ(h.decision, d.decision) << "window " << k;
        EXPECT_EQ(h.flags, d.flags) << "window " << k;
        EXPECT_EQ(h.score, d.score) << "window " << k;
        detections += (d.flags & TM_IMPULSE_DETECTION) ? 1 : 0;
    }
    // The signal must move the model, or the comparison proves little.
    EXPECT_GT(distinct.size(), 3);

    // rerunPost with the package's own parameters gives the same decisions.
    EXPECT_EQ(rerunPost(r1->scores, replay.postConfig()), r1->decisions);

    // Bad input: a recording of the wrong channel count; cancellation.
    EXPECT_FALSE(replay.run(recording(1000, 3), 3, one, &error));
    EXPECT_TRUE(error.contains(QStringLiteral("3 channels, the impulse reads 1"))) << str(error);
    std::atomic<bool> cancel{true};
    ReplayOptions cancelled;
    cancelled.cancel = &cancel;
    EXPECT_FALSE(replay.run(rec, 1, cancelled, &error));
    EXPECT_EQ(error, QStringLiteral("cancelled"));
    auto shorter = replay.run(recording(100), 1, one, &error);
    ASSERT_TRUE(shorter) << str(error);
    EXPECT_EQ(shorter->scores.windows(), 0);
}

TEST(ImpulseReplay, RefusesVersion1Packages)
{
    ImpulseReplay replay;
    QString error;
    EXPECT_FALSE(replay.load(packageWith(keywordGraph(), std::nullopt), &error));
    EXPECT_TRUE(error.contains(QStringLiteral("no impulse"))) << str(error);
}

// --- calibration -------------------------------------------------------------------------------

namespace {

/// Two classes ("_noise" background, "yes"), 20 windows one second apart (rate 1000 Hz,
/// stride 1000), scores in hundredths (out_scale 0.01, zero point 0): "yes" p[i], noise 100 - p[i].
/// Events: windows 2-3, 10-11 and 14.
ReplayScores handScores()
{
    const int p[20] = {10, 10, 80, 95, 10, 10, 75, 10, 10, 10, 60, 65, 10, 10, 92, 10, 10, 10, 10, 10};
    ReplayScores s;
    s.classCount = 2;
    for (int i = 0; i < 20; ++i) {
        s.windowEnds.append(quint64(1000 * (i + 1)));
        s.scores.append(qint8(100 - p[i]));
        s.scores.append(qint8(p[i]));
    }
    return s;
}

PostConfig handConfig()
{
    PostConfig c;
    c.outScale = 0.01f;
    c.outZeroPoint = 0;
    c.sampleRateHz = 1000;
    c.post.thresholds = {0.5f, 0.5f};
    c.post.background = {true, false};
    return c;
}

/// A "yes" detection in an event's windows recalls it; any other is a false activation.
/// Non-event time: 15 windows of 1 s, so one false activation is 240 per hour.
StreamScore handScorer(const ReplayScores &, const QVector<ImpulseDecision> &d)
{
    const QVector<QVector<int>> events = {{2, 3}, {10, 11}, {14}};
    int recalled = 0, falseActivations = 0;
    QVector<bool> hit(events.size(), false);
    for (int i = 0; i < d.size(); ++i) {
        if (!(d[i].flags & kDecisionDetection))
            continue;
        bool inEvent = false;
        for (int e = 0; e < events.size(); ++e)
            if (events[e].contains(i)) {
                hit[e] = true;
                inEvent = true;
            }
        falseActivations += inEvent ? 0 : 1;
    }
    for (bool h : hit)
        recalled += h ? 1 : 0;
    return {falseActivations * 3600.0 / 15.0, 1.0 - recalled / 3.0};
}

const CalibrationPoint *findPoint(const CalibrationResult &r, float t, int avg, quint32 supp)
{
    for (const CalibrationPoint &p : r.points)
        if (p.threshold == t && p.averageWindows == avg && p.suppressionMs == supp)
            return &p;
    return nullptr;
}

} // namespace

TEST(ImpulseCalibration, HandComputedSweepAndOperatingPoint)
{
    CalibrationGrid grid;
    grid.thresholds = {0.5f, 0.7f, 0.9f};
    grid.averageWindows = {1, 2};
    grid.suppressionMs = {0, 2000};
    QString error;
    auto r = calibrate(handScores(), handConfig(), handScorer, grid, 1.0, &error);
    ASSERT_TRUE(r) << str(error);
    ASSERT_EQ(r->points.size(), 12);
    // {threshold, average, suppression} -> {false activations (x 240/h), FRR in thirds}, by hand:
    struct Expect { float t; int avg; quint32 supp; int fa; int missed; };
    const Expect expected[] = {
        {0.5f, 1, 0, 1, 0},    {0.5f, 1, 2000, 1, 0}, {0.5f, 2, 0, 2, 0},    {0.5f, 2, 2000, 0, 0},
        {0.7f, 1, 0, 1, 1},    {0.7f, 1, 2000, 1, 1}, {0.7f, 2, 0, 0, 2},    {0.7f, 2, 2000, 0, 2},
        {0.9f, 1, 0, 0, 1},    {0.9f, 1, 2000, 0, 1}, {0.9f, 2, 0, 0, 3},    {0.9f, 2, 2000, 0, 3},
    };
    for (const Expect &e : expected) {
        const CalibrationPoint *p = findPoint(*r, e.t, e.avg, e.supp);
        ASSERT_TRUE(p) << e.t << " " << e.avg << " " << e.supp;
        EXPECT_DOUBLE_EQ(p->falseActivationsPerHour, 240.0 * e.fa) << e.t << " " << e.avg << " " << e.supp;
        EXPECT_NEAR(p->falseRejectionRate, e.missed / 3.0, 1e-12) << e.t << " " << e.avg << " " << e.supp;
    }
    // Averaging two windows and 2 s of suppression find every event with no false activation.
    EXPECT_TRUE(r->withinLimit);
    EXPECT_EQ(r->operatingPoint.threshold, 0.5f);
    EXPECT_EQ(r->operatingPoint.averageWindows, 2);
    EXPECT_EQ(r->operatingPoint.suppressionMs, 2000u);
    ASSERT_EQ(r->curve.size(), 1);   // (0, 0) dominates everything
    EXPECT_EQ(r->curve[0].averageWindows, 2);

    // Without averaging: FA 0 only at threshold 0.9 (FRR 1/3); the tie between suppression 0
    // and 2000 goes to the shorter one.
    grid.averageWindows = {1};
    r = calibrate(handScores(), handConfig(), handScorer, grid, 1.0, &error);
    ASSERT_TRUE(r) << str(error);
    EXPECT_TRUE(r->withinLimit);
    EXPECT_EQ(r->operatingPoint.threshold, 0.9f);
    EXPECT_EQ(r->operatingPoint.suppressionMs, 0u);
    EXPECT_NEAR(r->operatingPoint.falseRejectionRate, 1.0 / 3.0, 1e-12);
    ASSERT_EQ(r->curve.size(), 2);   // (0, 1/3) then (240, 0)
    EXPECT_EQ(r->curve[0].falseActivationsPerHour, 0.0);
    EXPECT_EQ(r->curve[1].falseActivationsPerHour, 240.0);
    EXPECT_EQ(r->curve[1].falseRejectionRate, 0.0);
    // Allowing one false activation per 15 s: FRR 0 at 0.5.
    r = calibrate(handScores(), handConfig(), handScorer, grid, 240.0, &error);
    ASSERT_TRUE(r) << str(error);
    EXPECT_EQ(r->operatingPoint.threshold, 0.5f);
    EXPECT_EQ(r->operatingPoint.falseRejectionRate, 0.0);

    const QJsonObject json = r->toJson();
    EXPECT_EQ(json.value(QStringLiteral("operating_point")).toObject().value(QStringLiteral("threshold")).toDouble(), 0.5);
    EXPECT_EQ(json.value(QStringLiteral("curve")).toArray().size(), r->curve.size());

    // The operating point goes into the project's impulse options.
    const ImpulseOptions o = withOperatingPoint(ImpulseOptions{}, r->operatingPoint);
    EXPECT_EQ(o.threshold, 0.5f);
    EXPECT_EQ(o.averageWindows, 1);
    EXPECT_EQ(o.suppressionMs, 0u);
}

TEST(ImpulseCalibration, StreamMetricsScorerOnTheSameSequence)
{
    // The hand sequence's events in seconds: windows end at i + 1 s.
    const stream::GroundTruth truth({{2.5, 4.0, QStringLiteral("yes"), 2},
                                     {10.5, 12.0, QStringLiteral("yes"), 3},
                                     {14.5, 15.0, QStringLiteral("yes"), 4}});
    const DecisionScorer scorer = streamMetricsScorer(truth, {QStringLiteral("_noise"), QStringLiteral("yes")}, 1000, 20.0, 0.0);
    CalibrationGrid grid;
    grid.thresholds = {0.5f, 0.7f, 0.9f};
    grid.averageWindows = {1, 2};
    grid.suppressionMs = {0, 2000};
    QString error;
    auto r = calibrate(handScores(), handConfig(), scorer, grid, 1.0, &error);
    ASSERT_TRUE(r) << str(error);
    // Non-event time 20 - 3.5 = 16.5 s; a repeated detection inside an event is a duplicate.
    const CalibrationPoint *p = findPoint(*r, 0.5f, 1, 0);
    ASSERT_TRUE(p);
    EXPECT_DOUBLE_EQ(p->falseActivationsPerHour, 3600.0 / 16.5);
    EXPECT_EQ(p->falseRejectionRate, 0.0);
    p = findPoint(*r, 0.5f, 2, 0);
    ASSERT_TRUE(p);
    EXPECT_DOUBLE_EQ(p->falseActivationsPerHour, 2 * 3600.0 / 16.5);
    p = findPoint(*r, 0.7f, 2, 2000);
    ASSERT_TRUE(p);
    EXPECT_NEAR(p->falseRejectionRate, 2.0 / 3.0, 1e-12);
    EXPECT_TRUE(r->withinLimit);
    EXPECT_EQ(r->operatingPoint.threshold, 0.5f);
    EXPECT_EQ(r->operatingPoint.averageWindows, 2);
    EXPECT_EQ(r->operatingPoint.suppressionMs, 2000u);
}

TEST(ImpulseCalibration, OperatingPointTieBreaksAndParetoFront)
{
    auto pt = [](float t, int avg, quint32 supp, double far, double frr) {
        CalibrationPoint p;
        p.threshold = t;
        p.averageWindows = avg;
        p.suppressionMs = supp;
        p.falseActivationsPerHour = far;
        p.falseRejectionRate = frr;
        return p;
    };
    const QVector<CalibrationPoint> points = {
        pt(0.40f, 1, 0, 0.9, 0.10),   // lowest FRR within the limit, but more false activations
        pt(0.50f, 1, 0, 0.5, 0.10),   // same FRR, fewer false activations
        pt(0.60f, 1, 0, 0.5, 0.10),   // same FRR and FAR, higher threshold: chosen
        pt(0.60f, 2, 0, 0.5, 0.10),   // same, more averaging
        pt(0.30f, 1, 0, 3.0, 0.00),   // over the limit
        pt(0.90f, 1, 0, 0.0, 0.50),
        pt(0.95f, 1, 0, 0.0, 0.60),   // dominated
    };
    bool within = false;
    const CalibrationPoint c = chooseOperatingPoint(points, 1.0, &within);
    EXPECT_TRUE(within);
    EXPECT_EQ(c.threshold, 0.60f);
    EXPECT_EQ(c.averageWindows, 1);

    const CalibrationPoint none = chooseOperatingPoint({pt(0.5f, 1, 0, 5.0, 0.1), pt(0.7f, 1, 0, 2.0, 0.3)}, 1.0, &within);
    EXPECT_FALSE(within);
    EXPECT_EQ(none.threshold, 0.7f);

    const QVector<CalibrationPoint> front = paretoFront(points);
    ASSERT_EQ(front.size(), 3);
    EXPECT_EQ(front[0].threshold, 0.90f);   // (0, 0.5)
    EXPECT_EQ(front[1].threshold, 0.60f);   // (0.5, 0.1), the preferred of the equal ones
    EXPECT_EQ(front[2].threshold, 0.30f);   // (3, 0)

    // Default grid: 14 thresholds 0.30..0.95.
    const CalibrationGrid grid;
    ASSERT_EQ(grid.thresholds.size(), 14);
    EXPECT_EQ(grid.thresholds.first(), 0.30f);
    EXPECT_EQ(grid.thresholds.last(), 0.95f);
}

// --- Flasher -----------------------------------------------------------------------------------

namespace {

DeviceInfo impulseAgent()
{
    DeviceInfo info;
    info.boardId = QStringLiteral("qemu-m4");
    info.agentVersion = QStringLiteral("test");
    info.modelSlots = 2;
    info.modelSlotBytes = 1 << 20;
    info.flashFree = 1 << 20;
    info.ramFree = 1 << 20;
    info.modelFormatVersion = 2;
    for (int op = 0; op <= int(OpType::Clip); ++op)
        if (op != int(OpType::BatchNorm))
            info.supportedOps.append(op);
    ImpulseCapabilities cap;
    cap.formatVersion = 1;
    cap.dspMask = 0xF;
    cap.postMask = 0xF;
    cap.ringValues = 32768;
    cap.workBytes = 1 << 16;
    info.impulse = cap;
    return info;
}

} // namespace

TEST(ImpulseFlasher, RefusesWhatTheAgentCannotRun)
{
    ImpulseSpec spec = keywordSpec();   // mfe, 288 + 72 frames x 1 channel, background "idle"
    spec.post.averageWindows = 3;
    const QByteArray package = packageWith(keywordGraph(), spec);
    QString error;
    auto req = packageRequirements(package, &error);
    ASSERT_TRUE(req) << str(error);
    ASSERT_TRUE(req->impulse);
    EXPECT_EQ(req->formatVersion, 2);
    EXPECT_EQ(req->impulse->dspBlock, int(features::BlockKind::Mfe));
    EXPECT_EQ(req->impulse->postFeatures, 0xFu);
    EXPECT_GT(req->impulse->workBytes, 288 * 4);

    const DeviceInfo ok = impulseAgent();
    EXPECT_EQ(checkPackageFits(ok, *req, QStringLiteral("qemu-m4")), QString());

    DeviceInfo old = ok;
    old.impulse.reset();
    EXPECT_TRUE(checkPackageFits(old, *req, QStringLiteral("qemu-m4"))
                    .startsWith(QStringLiteral("the agent on qemu-m4 cannot run impulses: update the firmware")));
    // A version-1 package still goes onto an agent without impulses.
    auto v1 = packageRequirements(packageWith(keywordGraph(), std::nullopt), &error);
    ASSERT_TRUE(v1) << str(error);
    EXPECT_EQ(checkPackageFits(old, *v1, QStringLiteral("qemu-m4")), QString());

    DeviceInfo noMfe = ok;
    noMfe.impulse->dspMask = 0x9;   // raw, mfcc
    const QString mfe = checkPackageFits(noMfe, *req, QStringLiteral("qemu-m4"));
    EXPECT_TRUE(mfe.contains(QStringLiteral("lacks the mfe DSP block"))) << str(mfe);
    EXPECT_TRUE(mfe.contains(QStringLiteral("it runs: raw, mfcc"))) << str(mfe);

    DeviceInfo noAverage = ok;
    noAverage.impulse->postMask = TM_IMPULSE_POST_THRESHOLD | TM_IMPULSE_POST_SUPPRESSION | TM_IMPULSE_POST_BACKGROUND;
    const QString avg = checkPackageFits(noAverage, *req, QStringLiteral("qemu-m4"));
    EXPECT_TRUE(avg.contains(QStringLiteral("lacks the post-processing score averaging"))) << str(avg);

    DeviceInfo noBackground = ok;
    noBackground.impulse->postMask = 0x7;
    EXPECT_TRUE(checkPackageFits(noBackground, *req, QStringLiteral("qemu-m4")).contains(QStringLiteral("background classes")));

    DeviceInfo smallRing = ok;
    smallRing.impulse->ringValues = 359;   // window 288 + stride 72 = 360 frames needed
    const QString ring = checkPackageFits(smallRing, *req, QStringLiteral("qemu-m4"));
    EXPECT_TRUE(ring.contains(QStringLiteral("= 360 samples"))) << str(ring);
    EXPECT_TRUE(ring.contains(QStringLiteral("ring of 359 samples"))) << str(ring);
    smallRing.impulse->ringValues = 360;
    EXPECT_EQ(checkPackageFits(smallRing, *req, QStringLiteral("qemu-m4")), QString());

    DeviceInfo smallWork = ok;
    smallWork.impulse->workBytes = quint32(req->impulse->workBytes - 4);
    const QString work = checkPackageFits(smallWork, *req, QStringLiteral("qemu-m4"));
    EXPECT_TRUE(work.contains(QStringLiteral("work buffer"))) << str(work);

    DeviceInfo newerSection = ok;
    newerSection.impulse->formatVersion = 0;
    EXPECT_TRUE(checkPackageFits(newerSection, *req, QStringLiteral("qemu-m4")).contains(QStringLiteral("impulse section is version 1")));

    DeviceInfo v1Agent = ok;
    v1Agent.modelFormatVersion = 1;
    EXPECT_TRUE(checkPackageFits(v1Agent, *req, QStringLiteral("qemu-m4")).contains(QStringLiteral("format version 2")));
}
