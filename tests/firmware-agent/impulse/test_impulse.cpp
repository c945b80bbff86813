// The impulse (firmware-agent/impulse/include/tm_impulse.h) against the host: version-2
// packages built here byte by byte from deploy/MODEL_PACKAGE.md ("Version 2: the impulse")
// on top of a version-1 package from deploy::ModelPackageWriter. Checks every validation
// failure's status, that a spectral and an MFCC impulse compute exactly core's
// FeatureExtractor features on the same physical samples and exactly model::Int8Executor's
// scores on them, that a ring buffer's two segments give the one-segment result, and the
// post-processing (averaging, thresholds, background, suppression) on hand-computed sequences.

#include "DeployTestGraphs.h"
#include "ModelPackageWriter.h"
#include "data/Sample.h"
#include "features/FeatureExtractor.h"
#include "model/Int8Executor.h"

#include "tm_dsp.h"
#include "tm_frame.h"
#include "tm_impulse.h"
#include "tm_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <set>
#include <vector>

namespace {

using namespace tinyml;
using namespace tinyml::deploy::testing;

// ---- byte builders ------------------------------------------------------------------------

struct Bytes {
    std::vector<uint8_t> b;
    void u8(uint32_t v) { b.push_back(uint8_t(v)); }
    void u16(uint32_t v) { u8(v); u8(v >> 8); }
    void u32(uint32_t v) { u16(v); u16(v >> 16); }
    void f32(float f)
    {
        uint32_t bits;
        std::memcpy(&bits, &f, 4);
        u32(bits);
    }
};

/// The fields of an impulse section (MODEL_PACKAGE.md, "Impulse section").
struct Section {
    uint8_t magic[4] = {'T', 'M', 'I', 'P'};
    uint16_t version = 1;
    uint8_t sensorKind = 0, channels = 3;
    uint32_t rate = 100, window = 128, stride = 32;
    float rawScale = 0.000598550f;
    uint8_t dspBlock = TM_IMPULSE_DSP_SPECTRAL, reserved = 0;
    std::vector<uint8_t> dspParams;
    int dspParamsSizeDelta = 0;               ///< added to the true size in the field
    uint32_t featureCount = 0;
    uint32_t normFlags = 0;
    std::vector<float> mean, stdev;
    uint16_t classCount = 0, averageWindows = 1;
    uint32_t suppressionMs = 0;
    std::vector<float> thresholds;
    std::vector<uint8_t> classFlags;
    std::vector<uint8_t> extraPadding;        ///< appended after the normal padding
    int sectionSizeDelta = 0;

    std::vector<uint8_t> bytes() const
    {
        Bytes o;
        for (uint8_t c : magic)
            o.u8(c);
        o.u32(0); // section_size, below
        o.u16(version);
        o.u8(sensorKind);
        o.u8(channels);
        o.u32(rate);
        o.u32(window);
        o.u32(stride);
        o.f32(rawScale);
        o.u8(dspBlock);
        o.u8(reserved);
        o.u16(uint32_t(int(dspParams.size()) + dspParamsSizeDelta));
        o.b.insert(o.b.end(), dspParams.begin(), dspParams.end());
        o.u32(featureCount);
        o.u32(normFlags);
        for (float v : mean)
            o.f32(v);
        for (float v : stdev)
            o.f32(v);
        o.u16(classCount);
        o.u16(averageWindows);
        o.u32(suppressionMs);
        for (float v : thresholds)
            o.f32(v);
        for (uint8_t v : classFlags)
            o.u8(v);
        while (o.b.size() % 4)
            o.u8(0);
        o.b.insert(o.b.end(), extraPadding.begin(), extraPadding.end());
        const uint32_t size = uint32_t(int(o.b.size()) + sectionSizeDelta);
        for (int i = 0; i < 4; ++i)
            o.b[4 + i] = uint8_t(size >> (8 * i));
        return o.b;
    }
};

std::vector<uint8_t> spectralParams(uint32_t bands, uint32_t peaks, const std::vector<float> &edges)
{
    Bytes o;
    o.u32(bands);
    o.u32(peaks);
    o.u32(uint32_t(edges.size()));
    for (float e : edges)
        o.f32(e);
    return o.b;
}

std::vector<uint8_t> mfccParams(const features::MfccParams &m, bool mfcc = true)
{
    Bytes o;
    o.u32(uint32_t(m.mfe.frameLength));
    o.u32(uint32_t(m.mfe.frameStride));
    o.u32(uint32_t(m.mfe.nFilters));
    o.f32(m.mfe.lowHz);
    o.f32(m.mfe.highHz);
    o.f32(m.mfe.preEmphasis);
    o.f32(m.mfe.logFloor);
    if (mfcc) {
        o.u32(uint32_t(m.nCoeffs));
        o.u32(uint32_t(m.lifter));
    }
    return o.b;
}

QByteArray packageOf(const Graph &g)
{
    deploy::ModelPackageWriter w;
    QString err;
    auto pkg = w.write(g, &err);
    EXPECT_TRUE(pkg.has_value()) << err.toStdString();
    return pkg.value_or(QByteArray());
}

void fixCrc(QByteArray &b)
{
    tm_put_u32(reinterpret_cast<uint8_t *>(b.data()) + 12,
               tm_crc32(0, reinterpret_cast<const uint8_t *>(b.constData()) + 64, size_t(b.size() - 64)));
}

/// A version-1 package made version 2: the section appended, version, flags, total_size, CRC.
QByteArray withImpulse(QByteArray v1, const std::vector<uint8_t> &section, uint32_t flags = 1,
                       uint16_t version = 2)
{
    v1.append(reinterpret_cast<const char *>(section.data()), qsizetype(section.size()));
    uint8_t *b = reinterpret_cast<uint8_t *>(v1.data());
    b[4] = uint8_t(version);
    b[5] = uint8_t(version >> 8);
    tm_put_u32(b + 16, flags);
    tm_put_u32(b + 8, uint32_t(v1.size()));
    fixCrc(v1);
    return v1;
}

/// A package in 16-aligned memory, loaded, with its impulse.
struct Loaded {
    std::vector<uint32_t> words;
    tm_model_t model{};
    tm_impulse_t imp{};
    tm_model_status_t modelStatus = TM_MODEL_ERR_ARGUMENT;
    tm_impulse_status_t status = TM_IMPULSE_ERR_ARGUMENT;

    explicit Loaded(const QByteArray &pkg) : words(size_t(pkg.size()) / 4 + 4)
    {
        std::memcpy(words.data(), pkg.constData(), size_t(pkg.size()));
        modelStatus = tm_model_load(&model, reinterpret_cast<const uint8_t *>(words.data()),
                                    uint32_t(pkg.size()));
        if (modelStatus == TM_MODEL_OK)
            status = tm_impulse_load(&imp, &model);
    }
    Loaded(const Loaded &) = delete; // imp.model points at model
};

// ---- models ------------------------------------------------------------------------------

/// features[1, n] -> fc -> y[1, classes] (labels "c0".."c<k>").
Graph fcModel(int n, int classes, float inScale, int inZp)
{
    Graph g;
    const int x = act(g, "x", {1, n}, inScale, inZp);
    const int w = weights(g, "w", {classes, n}, classes), b = bias(g, "b", classes);
    const int y = act(g, "y", {1, classes}, 0.4f, 3);
    g.addNode(node(OpType::FullyConnected, "fc", {x, w, b}, y));
    g.inputs = {x};
    g.outputs = {y};
    for (int c = 0; c < classes; ++c)
        g.labels << QStringLiteral("c%1").arg(c);
    g.quantized = true;
    return g;
}

/// MFCC features [1, frames, coeffs, 1] -> reshape -> fc -> softmax over 3 classes.
Graph mfccModel(int frames, int coeffs)
{
    Graph g;
    const int n = frames * coeffs;
    const int x = act(g, "x", {1, frames, coeffs, 1}, 0.04f, 2);
    const int flat = act(g, "flat", {1, n}, 0.04f, 2);
    const int w = weights(g, "w", {3, n}, 3), b = bias(g, "b", 3);
    const int y = act(g, "y", {1, 3}, 0.6f, -5);
    const int p = act(g, "p", {1, 3}, 1.0f / 256.0f, -128);
    g.addNode(node(OpType::Reshape, "flatten", {x}, flat));
    g.addNode(node(OpType::FullyConnected, "fc", {flat, w, b}, y));
    g.addNode(node(OpType::Softmax, "softmax", {y}, p));
    g.inputs = {x};
    g.outputs = {p};
    g.labels = QStringList{"noise", "yes", "no"};
    g.quantized = true;
    return g;
}

// ---- the spectral fixture ----------------------------------------------------------------

constexpr int kSpecClasses = 4;
const std::vector<float> kEdges = {0.0f, 4.0f, 9.5f, 20.0f, 50.0f};

features::FeatureParams spectralHostParams()
{
    features::FeatureParams p;
    p.kind = features::BlockKind::Spectral;
    p.spectral.windowFrames = 128;
    p.spectral.sampleRateHz = 100.0f;
    p.spectral.nBands = 4;
    p.spectral.bandEdgesHz = QVector<float>(kEdges.begin(), kEdges.end());
    p.spectral.nPeaks = 2;
    return p;
}

int spectralFeatures() { return 3 * (3 + 4 + 2 * 2); } // 33

Section spectralSection()
{
    Section s;
    s.dspParams = spectralParams(4, 2, kEdges);
    s.featureCount = uint32_t(spectralFeatures());
    s.classCount = kSpecClasses;
    s.averageWindows = 3;
    s.suppressionMs = 500;
    s.thresholds = {0.0f, 0.5f, 0.25f, 1.0f};
    s.classFlags = {1, 0, 0, 0};
    return s;
}

QByteArray spectralV1() { return packageOf(fcModel(spectralFeatures(), kSpecClasses, 0.08f, -20)); }

// ---- the MFCC fixture --------------------------------------------------------------------

features::MfccParams mfccHost()
{
    features::MfccParams m;
    m.mfe.windowFrames = 16000;
    m.mfe.sampleRateHz = 16000.0f;
    m.mfe.frameLength = 400;
    m.mfe.frameStride = 160;
    m.mfe.nFilters = 40;
    m.mfe.lowHz = 20.0f;
    m.mfe.highHz = 0.0f;
    m.mfe.preEmphasis = 0.97f;
    m.mfe.logFloor = 1e-10f;
    m.nCoeffs = 13;
    m.lifter = 22;
    return m;
}

constexpr int kMfccFrames = 1 + (16000 - 400) / 160; // 98
constexpr int kMfccFeatures = kMfccFrames * 13;

std::vector<float> mfccMean()
{
    std::vector<float> v(kMfccFeatures);
    for (int k = 0; k < kMfccFeatures; ++k)
        v[size_t(k)] = k % 13 == 0 ? -60.0f : 0.25f * float(k % 7) - 0.5f;
    return v;
}

std::vector<float> mfccStd()
{
    std::vector<float> v(kMfccFeatures);
    for (int k = 0; k < kMfccFeatures; ++k)
        v[size_t(k)] = k % 13 == 0 ? 25.0f : 3.0f + 0.125f * float(k % 5);
    return v;
}

Section mfccSection()
{
    Section s;
    s.sensorKind = 1;
    s.channels = 1;
    s.rate = 16000;
    s.window = 16000;
    s.stride = 4000;
    s.rawScale = 1.0f / 32768.0f;
    s.dspBlock = TM_IMPULSE_DSP_MFCC;
    s.dspParams = mfccParams(mfccHost());
    s.featureCount = kMfccFeatures;
    s.normFlags = 1;
    s.mean = mfccMean();
    s.stdev = mfccStd();
    s.classCount = 3;
    s.averageWindows = 4;
    s.suppressionMs = 1000;
    s.thresholds = {0.6f, 0.7f, 0.7f};
    s.classFlags = {1, 0, 0};
    return s;
}

QByteArray mfccV1() { return packageOf(mfccModel(kMfccFrames, 13)); }

// ---- signals and the host path -----------------------------------------------------------

/// frames x channels int16, interleaved: sines of different frequencies plus noise.
std::vector<int16_t> signal(uint32_t frames, int channels, double rate, unsigned seed)
{
    std::mt19937 rng(seed);
    std::normal_distribution<double> noise(0.0, 900.0);
    std::vector<int16_t> v(size_t(frames) * size_t(channels));
    for (uint32_t t = 0; t < frames; ++t)
        for (int c = 0; c < channels; ++c) {
            const double f = 3.0 + 5.5 * c + (seed % 7);
            const double x = (2000.0 + 2500.0 * (seed % 5)) * std::sin(2.0 * M_PI * f * t / rate) + 3000.0 * (c - 1) + noise(rng);
            v[size_t(t) * size_t(channels) + size_t(c)] =
                int16_t(std::clamp(std::lround(x), -32768L, 32767L));
        }
    return v;
}

/// The sample the host stores for those raw values: float(raw) * scale (AgentProtocol.cpp).
Sample hostSample(const std::vector<int16_t> &raw, int channels, float scale, double rate)
{
    QVector<float> f(qsizetype(raw.size()));
    for (size_t i = 0; i < raw.size(); ++i)
        f[qsizetype(i)] = float(raw[i]) * scale;
    Sample s;
    s.id = 1;
    s.sampleRateHz = rate;
    s.data = Tensor::fromFloats(f, {qint64(raw.size()) / channels, channels});
    return s;
}

/// Documented quantization (tm_impulse.h step 4), done here in float.
QVector<qint8> quantizeLikeTheDoc(const QVector<float> &x, float scale, int zp)
{
    QVector<qint8> q(x.size());
    for (int k = 0; k < x.size(); ++k) {
        const float v = x[k] / scale;
        const long r = std::isnan(v) ? 0 : std::lround(std::clamp(v, -1000.0f, 1000.0f));
        q[k] = qint8(std::clamp<long>(r + zp, -128, 127));
    }
    return q;
}

struct Runner {
    const tm_impulse_t &imp;
    std::vector<uint32_t> work, arena;
    explicit Runner(const tm_impulse_t &i)
        : imp(i), work(tm_impulse_work_bytes(&i) / 4 + 1), arena(tm_model_arena_bytes(i.model) / 4 + 1)
    {
    }
    uint8_t *w() { return reinterpret_cast<uint8_t *>(work.data()); }
    /// Features the last run computed, normalised: the last feature_count floats of the work
    /// layout (tm_impulse.c).
    const float *features()
    {
        return reinterpret_cast<const float *>(w() + tm_impulse_work_bytes(&imp) - 4u * imp.feature_count);
    }
    tm_impulse_status_t run(const int16_t *a, uint32_t na, const int16_t *b, uint32_t nb, int8_t *scores)
    {
        std::memset(work.data(), 0xA5, work.size() * 4);
        std::memset(arena.data(), 0x5A, arena.size() * 4);
        return tm_impulse_run_window(&imp, a, na, b, nb, w(), work.size() * 4,
                                     reinterpret_cast<uint8_t *>(arena.data()),
                                     uint32_t(arena.size() * 4), scores, nullptr);
    }
};

/// Runs `windows` windows through the impulse and through the host (FeatureExtractor,
/// normalisation, quantization, Int8Executor); features and scores must be identical.
void expectSameAsHost(const QByteArray &pkg, const Graph &graph, const features::FeatureParams &fp,
                      const std::vector<float> &mean, const std::vector<float> &stdev, int windows)
{
    Loaded l(pkg);
    ASSERT_EQ(l.modelStatus, TM_MODEL_OK) << tm_model_status_name(l.modelStatus);
    ASSERT_EQ(l.status, TM_IMPULSE_OK) << tm_impulse_status_name(l.status);
    const tm_impulse_t &imp = l.imp;
    Runner r(imp);

    model::Int8Executor exec;
    QString err;
    ASSERT_TRUE(exec.prepare(graph, &err)) << err.toStdString();
    features::FeatureExtractor fx(fp);
    std::set<std::vector<int8_t>> outputs;
    for (int w = 0; w < windows; ++w) {
        const std::vector<int16_t> raw = signal(imp.window, imp.channels, imp.sample_rate_hz, unsigned(w) * 31u + 5u);
        const Sample s = hostSample(raw, imp.channels, imp.raw_scale, imp.sample_rate_hz);
        auto host = fx.extract(s, &err);
        ASSERT_TRUE(host.has_value()) << err.toStdString();
        // features, normalised as deploy/Profiler.cpp does
        QVector<float> features = host->toFloats();
        ASSERT_EQ(features.size(), qsizetype(imp.feature_count));
        if (!mean.empty())
            for (int k = 0; k < features.size(); ++k)
                features[k] = (features[k] - mean[size_t(k)]) / stdev[size_t(k)];
        const QVector<float> &hf = features;

        int8_t scores[TM_IMPULSE_MAX_CLASSES];
        ASSERT_EQ(r.run(raw.data(), imp.window, nullptr, 0, scores), TM_IMPULSE_OK);
        EXPECT_EQ(0, std::memcmp(r.features(), hf.constData(), 4u * imp.feature_count))
            << "window " << w << ": features differ from FeatureExtractor";

        const QVector<qint8> q = quantizeLikeTheDoc(hf, imp.in_scale, imp.in_zp);
        auto out = exec.run(q, &err);
        ASSERT_TRUE(out.has_value()) << err.toStdString();
        ASSERT_EQ(out->size(), qsizetype(imp.class_count));
        EXPECT_EQ(0, std::memcmp(scores, out->constData(), imp.class_count)) << "window " << w;

        // The window as a wrapped ring buffer: every split gives the same scores and features.
        for (uint32_t split : {0u, 1u, imp.window / 3, imp.window - 1, imp.window}) {
            int8_t two[TM_IMPULSE_MAX_CLASSES];
            ASSERT_EQ(r.run(raw.data(), split, raw.data() + size_t(split) * imp.channels,
                            imp.window - split, two),
                      TM_IMPULSE_OK);
            EXPECT_EQ(0, std::memcmp(two, scores, imp.class_count)) << "split " << split;
            EXPECT_EQ(0, std::memcmp(r.features(), features.constData(), 4u * imp.feature_count))
                << "split " << split;
        }
        outputs.insert(std::vector<int8_t>(scores, scores + imp.class_count));
    }
    // the scores are not constant (the comparison above can fail)
    EXPECT_GT(outputs.size(), size_t(windows) / 2) << "the windows' scores hardly differ";
}

// ---- tests: loading ------------------------------------------------------------------------

TEST(ImpulseLoad, ValidSectionsLoadWithTheirFields)
{
    Loaded l(withImpulse(spectralV1(), spectralSection().bytes()));
    ASSERT_EQ(l.modelStatus, TM_MODEL_OK) << tm_model_status_name(l.modelStatus);
    ASSERT_EQ(l.status, TM_IMPULSE_OK) << tm_impulse_status_name(l.status);
    EXPECT_EQ(l.model.version, 2);
    EXPECT_EQ(l.imp.model, &l.model);
    EXPECT_EQ(l.imp.channels, 3);
    EXPECT_EQ(l.imp.sample_rate_hz, 100u);
    EXPECT_EQ(l.imp.window, 128u);
    EXPECT_EQ(l.imp.stride, 32u);
    EXPECT_EQ(l.imp.raw_scale, 0.000598550f);
    EXPECT_EQ(l.imp.dsp_block, TM_IMPULSE_DSP_SPECTRAL);
    EXPECT_EQ(l.imp.dsp_params_size, 12u + 4u * 5u);
    EXPECT_EQ(l.imp.feature_count, 33u);
    EXPECT_EQ(l.imp.mean, nullptr);
    EXPECT_EQ(l.imp.class_count, 4);
    EXPECT_EQ(l.imp.average_windows, 3);
    EXPECT_EQ(l.imp.suppression_ms, 500u);
    EXPECT_EQ(l.imp.thresholds[1], 0.5f);
    EXPECT_EQ(l.imp.class_flags[0], 1);
    EXPECT_EQ(l.imp.in_scale, 0.08f);
    EXPECT_EQ(l.imp.in_zp, -20);
    EXPECT_EQ(l.imp.out_scale, 0.4f);
    EXPECT_EQ(l.imp.out_zp, 3);

    tm_impulse_post_params_t pp;
    tm_impulse_post_params(&l.imp, &pp);
    EXPECT_EQ(pp.suppression_samples, 50u); // 500 ms at 100 Hz
    EXPECT_EQ(pp.average_windows, 3);
    EXPECT_EQ(pp.thresholds, l.imp.thresholds);

    Loaded m(withImpulse(mfccV1(), mfccSection().bytes()));
    ASSERT_EQ(m.status, TM_IMPULSE_OK) << tm_impulse_status_name(m.status);
    EXPECT_NE(m.imp.mean, nullptr);
    EXPECT_EQ(m.imp.std[0], 25.0f);
    EXPECT_EQ(m.imp.feature_count, uint32_t(kMfccFeatures));
    // MFCC 1 s at 16 kHz: window 64000 B, scratch, features 5096 B.
    tm_dsp_mfcc_params_t cp{};
    cp.mfe = {16000, 16000.0f, 400, 160, 40, 20.0f, 0.0f, 0.97f, 1e-10f};
    cp.n_coeffs = 13;
    cp.lifter = 22;
    const size_t scratch = tm_dsp_mfcc_get_buffer_size(&cp);
    EXPECT_EQ(tm_impulse_work_bytes(&m.imp), 64000u + ((scratch + 15) & ~size_t(15)) + 4u * kMfccFeatures);
    std::printf("MFCC 1 s at 16 kHz: work %zu bytes (DSP scratch %zu), model arena %u bytes\n",
                tm_impulse_work_bytes(&m.imp), scratch, tm_model_arena_bytes(&m.model));
}

TEST(ImpulseLoad, VersionOnePackagesHaveNoImpulse)
{
    Loaded l(spectralV1());
    ASSERT_EQ(l.modelStatus, TM_MODEL_OK);
    EXPECT_EQ(l.model.version, 1);
    EXPECT_EQ(l.model.impulse, nullptr);
    EXPECT_EQ(l.model.impulse_size, 0u);
    EXPECT_EQ(l.status, TM_IMPULSE_ERR_NO_IMPULSE);
    EXPECT_EQ(l.imp.model, nullptr);
    EXPECT_EQ(tm_impulse_work_bytes(&l.imp), 0u);

    tm_impulse_t imp;
    EXPECT_EQ(tm_impulse_load(nullptr, &l.model), TM_IMPULSE_ERR_ARGUMENT);
    EXPECT_EQ(tm_impulse_load(&imp, nullptr), TM_IMPULSE_ERR_ARGUMENT);
    tm_model_t notLoaded{};
    EXPECT_EQ(tm_impulse_load(&imp, &notLoaded), TM_IMPULSE_ERR_ARGUMENT);
}

TEST(ImpulseLoad, PackageHeaderRulesOfVersionTwo)
{
    const QByteArray v1 = spectralV1();
    const std::vector<uint8_t> sec = spectralSection().bytes();
    auto status = [](const QByteArray &p) { return Loaded(p).modelStatus; };
    EXPECT_EQ(status(withImpulse(v1, sec)), TM_MODEL_OK);
    // HAS_IMPULSE required in version 2, forbidden in version 1, no other flag
    EXPECT_EQ(status(withImpulse(v1, sec, 0)), TM_MODEL_ERR_FLAGS);
    EXPECT_EQ(status(withImpulse(v1, sec, 3)), TM_MODEL_ERR_FLAGS);
    EXPECT_EQ(status(withImpulse(v1, {}, 1, 1)), TM_MODEL_ERR_FLAGS);
    EXPECT_EQ(status(withImpulse(v1, sec, 1, 3)), TM_MODEL_ERR_VERSION);
    // a version-1 package with bytes after the data
    EXPECT_EQ(status(withImpulse(v1, sec, 0, 1)), TM_MODEL_ERR_DATA_SIZE);
    // the section's head: magic and section_size = total - data end
    Section s = spectralSection();
    s.magic[3] = 'X';
    EXPECT_EQ(status(withImpulse(v1, s.bytes())), TM_MODEL_ERR_IMPULSE_SECTION);
    s = spectralSection();
    s.sectionSizeDelta = 4;
    EXPECT_EQ(status(withImpulse(v1, s.bytes())), TM_MODEL_ERR_IMPULSE_SECTION);
    s.sectionSizeDelta = -4;
    EXPECT_EQ(status(withImpulse(v1, s.bytes())), TM_MODEL_ERR_IMPULSE_SECTION);
    // fewer than 8 bytes after the data
    EXPECT_EQ(status(withImpulse(v1, {'T', 'M', 'I', 'P'})), TM_MODEL_ERR_DATA_SIZE);
    EXPECT_EQ(status(withImpulse(v1, {})), TM_MODEL_ERR_DATA_SIZE);
    // data_size moved: the section no longer starts where "TMIP" is
    QByteArray moved = withImpulse(v1, sec);
    tm_put_u32(reinterpret_cast<uint8_t *>(moved.data()) + 52,
               tm_get_u32(reinterpret_cast<const uint8_t *>(moved.constData()) + 52) + 4);
    fixCrc(moved);
    EXPECT_EQ(status(moved), TM_MODEL_ERR_IMPULSE_SECTION);
    EXPECT_STREQ(tm_model_status_name(TM_MODEL_ERR_IMPULSE_SECTION), "impulse section");

    // every truncation of a version-2 package is refused
    const QByteArray full = withImpulse(v1, sec);
    for (int len = 64; len < full.size(); len += 4) {
        QByteArray b = full.left(len);
        tm_put_u32(reinterpret_cast<uint8_t *>(b.data()) + 8, uint32_t(len));
        fixCrc(b);
        EXPECT_NE(status(b), TM_MODEL_OK) << len;
    }
}

/// One corrupted field of the section -> its status.
tm_impulse_status_t sectionStatus(const QByteArray &v1, const Section &s)
{
    Loaded l(withImpulse(v1, s.bytes()));
    EXPECT_EQ(l.modelStatus, TM_MODEL_OK) << tm_model_status_name(l.modelStatus);
    return l.status;
}

TEST(ImpulseLoad, EveryFieldHasItsStatus)
{
    const QByteArray v1 = spectralV1();
    auto check = [&](tm_impulse_status_t want, auto &&edit) {
        Section s = spectralSection();
        edit(s);
        return sectionStatus(v1, s) == want;
    };
#define EXPECT_STATUS(want, ...) EXPECT_TRUE(check(want, [](Section &s) { __VA_ARGS__; })) << #__VA_ARGS__
    EXPECT_STATUS(TM_IMPULSE_OK, (void)s);
    EXPECT_STATUS(TM_IMPULSE_ERR_VERSION, s.version = 3);
    // impulse_version 2 (issue 16) needs its anomaly part after class_flags
    EXPECT_STATUS(TM_IMPULSE_ERR_SIZE, s.version = 2);
    EXPECT_STATUS(TM_IMPULSE_ERR_VERSION, s.version = 0);
    EXPECT_STATUS(TM_IMPULSE_ERR_SENSOR, s.sensorKind = 2);
    EXPECT_STATUS(TM_IMPULSE_ERR_SENSOR, s.channels = 0);
    EXPECT_STATUS(TM_IMPULSE_ERR_SENSOR, s.channels = 4);
    EXPECT_STATUS(TM_IMPULSE_ERR_SENSOR, s.rate = 0);
    EXPECT_STATUS(TM_IMPULSE_ERR_WINDOW, s.window = 0);
    EXPECT_STATUS(TM_IMPULSE_ERR_WINDOW, s.stride = 0);
    EXPECT_STATUS(TM_IMPULSE_ERR_WINDOW, s.stride = 129);
    EXPECT_STATUS(TM_IMPULSE_ERR_WINDOW, s.window = s.stride = (1u << 24) + 1);
    EXPECT_STATUS(TM_IMPULSE_ERR_SENSOR, s.rawScale = 0.0f);
    EXPECT_STATUS(TM_IMPULSE_ERR_SENSOR, s.rawScale = -1.0f);
    EXPECT_STATUS(TM_IMPULSE_ERR_SENSOR, s.rawScale = std::numeric_limits<float>::infinity());
    EXPECT_STATUS(TM_IMPULSE_ERR_SENSOR, s.rawScale = std::numeric_limits<float>::quiet_NaN());
    EXPECT_STATUS(TM_IMPULSE_ERR_DSP_BLOCK, s.dspBlock = 4);
    EXPECT_STATUS(TM_IMPULSE_ERR_DSP_BLOCK, s.dspBlock = 200);
    EXPECT_STATUS(TM_IMPULSE_ERR_DSP_BLOCK, s.reserved = 1);
    // dsp_params: size vs the block, the block's own check
    EXPECT_STATUS(TM_IMPULSE_ERR_DSP_PARAMS, s.dspParams = spectralParams(4, 2, {0, 4, 9, 20}));
    EXPECT_STATUS(TM_IMPULSE_ERR_DSP_PARAMS, s.dspParams = spectralParams(4, 2, {0, 9, 4, 20, 50}));
    EXPECT_STATUS(TM_IMPULSE_ERR_DSP_PARAMS, s.dspParams = spectralParams(4, 2, {0, 4, 9, 20, 51}));
    EXPECT_STATUS(TM_IMPULSE_ERR_DSP_PARAMS, s.dspParams.resize(s.dspParams.size() - 4));
    EXPECT_STATUS(TM_IMPULSE_ERR_DSP_PARAMS, s.dspParams.push_back(0); s.dspParams.push_back(0));
    EXPECT_STATUS(TM_IMPULSE_ERR_DSP_PARAMS, s.window = s.stride = 3);            // spectral >= 4
    EXPECT_STATUS(TM_IMPULSE_ERR_SIZE, s.dspParamsSizeDelta = 4000);
    EXPECT_STATUS(TM_IMPULSE_ERR_DSP_PARAMS, s.dspBlock = TM_IMPULSE_DSP_MFCC);   // 32 bytes
    EXPECT_STATUS(TM_IMPULSE_ERR_DSP_PARAMS, s.dspBlock = TM_IMPULSE_DSP_RAW);
    // feature_count: != DSP output; DSP output != model input
    EXPECT_STATUS(TM_IMPULSE_ERR_FEATURES, s.featureCount = 34);
    EXPECT_STATUS(TM_IMPULSE_ERR_FEATURES, s.dspParams = spectralParams(4, 3, kEdges); s.featureCount = 39);
    // normalisation
    EXPECT_STATUS(TM_IMPULSE_ERR_NORMALISATION, s.normFlags = 2);
    auto norm = [](Section &s, float m, float sd) {
        s.normFlags = 1;
        s.mean.assign(33, 0.5f);
        s.stdev.assign(33, 2.0f);
        s.mean[7] = m;
        s.stdev[31] = sd;
    };
    EXPECT_STATUS(TM_IMPULSE_OK, s.normFlags = 1; s.mean.assign(33, 0.5f); s.stdev.assign(33, 2.0f));
    EXPECT_TRUE(check(TM_IMPULSE_ERR_NORMALISATION, [&](Section &s) { norm(s, 0.0f, 0.0f); }));
    EXPECT_TRUE(check(TM_IMPULSE_ERR_NORMALISATION, [&](Section &s) { norm(s, 0.0f, -1.0f); }));
    EXPECT_TRUE(check(TM_IMPULSE_ERR_NORMALISATION,
                      [&](Section &s) { norm(s, 0.0f, std::numeric_limits<float>::infinity()); }));
    EXPECT_TRUE(check(TM_IMPULSE_ERR_NORMALISATION,
                      [&](Section &s) { norm(s, std::numeric_limits<float>::quiet_NaN(), 1.0f); }));
    EXPECT_STATUS(TM_IMPULSE_ERR_SIZE, s.normFlags = 1);   // the arrays are missing
    // post-processing
    EXPECT_STATUS(TM_IMPULSE_ERR_POST, s.classCount = 3);  // != labels / model output
    EXPECT_STATUS(TM_IMPULSE_ERR_POST, s.classCount = 0; s.thresholds.clear(); s.classFlags.clear());
    EXPECT_STATUS(TM_IMPULSE_ERR_POST, s.averageWindows = 0);
    EXPECT_STATUS(TM_IMPULSE_ERR_POST, s.averageWindows = 33);
    EXPECT_STATUS(TM_IMPULSE_OK, s.averageWindows = 32);
    EXPECT_STATUS(TM_IMPULSE_ERR_POST, s.thresholds[2] = 1.5f);
    EXPECT_STATUS(TM_IMPULSE_ERR_POST, s.thresholds[2] = -0.25f);
    EXPECT_STATUS(TM_IMPULSE_ERR_POST, s.thresholds[2] = std::numeric_limits<float>::quiet_NaN());
    EXPECT_STATUS(TM_IMPULSE_ERR_POST, s.classFlags[3] = 2);
    // what follows class_flags: < 4 zero bytes of padding, nothing else
    EXPECT_STATUS(TM_IMPULSE_ERR_SIZE, s.extraPadding = {0, 0, 0, 0});
    EXPECT_STATUS(TM_IMPULSE_ERR_SIZE, s.thresholds.pop_back(); s.classFlags.pop_back());
#undef EXPECT_STATUS

    // padding bytes must be zero (3 classes: 1 byte of padding)
    const QByteArray three = packageOf(fcModel(33, 3, 0.08f, -20));
    Section s = spectralSection();
    s.classCount = 3;
    s.thresholds = {0.1f, 0.2f, 0.3f};
    s.classFlags = {0, 0, 0};
    EXPECT_EQ(sectionStatus(three, s), TM_IMPULSE_OK);
    s.extraPadding = {};
    std::vector<uint8_t> bytes = s.bytes();
    bytes.back() = 1;
    EXPECT_EQ(Loaded(withImpulse(three, bytes)).status, TM_IMPULSE_ERR_SIZE);
}

TEST(ImpulseLoad, OtherBlocksValidateTheirParameters)
{
    // MFE / MFCC / raw on a model sized for them
    const QByteArray v1 = mfccV1();
    Section s = mfccSection();
    EXPECT_EQ(sectionStatus(v1, s), TM_IMPULSE_OK);
    s.dspParams = mfccParams(mfccHost(), false);
    EXPECT_EQ(sectionStatus(v1, s), TM_IMPULSE_ERR_DSP_PARAMS); // mfcc needs 36 bytes
    s.dspBlock = TM_IMPULSE_DSP_MFE;
    EXPECT_EQ(sectionStatus(v1, s), TM_IMPULSE_ERR_FEATURES);   // 98 x 40 != 98 x 13
    s = mfccSection();
    features::MfccParams bad = mfccHost();
    bad.nCoeffs = 41;
    s.dspParams = mfccParams(bad);
    EXPECT_EQ(sectionStatus(v1, s), TM_IMPULSE_ERR_DSP_PARAMS);
    bad = mfccHost();
    bad.mfe.frameLength = 16001;
    s.dspParams = mfccParams(bad);
    EXPECT_EQ(sectionStatus(v1, s), TM_IMPULSE_ERR_DSP_PARAMS);
    s = mfccSection();
    s.mean[100] = std::numeric_limits<float>::infinity();
    EXPECT_EQ(sectionStatus(v1, s), TM_IMPULSE_ERR_NORMALISATION);

    // raw: 3 x 20 frames = 60 features
    const QByteArray raw = packageOf(fcModel(60, 2, 0.05f, 0));
    Section r;
    r.window = r.stride = 20;
    r.dspBlock = TM_IMPULSE_DSP_RAW;
    Bytes p;
    p.u32(1);
    p.f32(2.0f);
    p.u32(0);
    r.dspParams = p.b;
    r.featureCount = 60;
    r.classCount = 2;
    r.thresholds = {0.5f, 0.5f};
    r.classFlags = {0, 0};
    EXPECT_EQ(sectionStatus(raw, r), TM_IMPULSE_OK);
    r.dspParams[0] = 2; // remove_mean 0/1
    EXPECT_EQ(sectionStatus(raw, r), TM_IMPULSE_ERR_DSP_PARAMS);
    r.dspParams[0] = 1;
    r.dspParams[8] = 2; // as_sequence 0/1
    EXPECT_EQ(sectionStatus(raw, r), TM_IMPULSE_ERR_DSP_PARAMS);
    r.dspParams[8] = 0;
    r.dspParams[7] = 0x7F; r.dspParams[6] = 0x80; r.dspParams[5] = 0; r.dspParams[4] = 0; // +inf
    EXPECT_EQ(sectionStatus(raw, r), TM_IMPULSE_ERR_DSP_PARAMS);
}

/// The magic and section_size checks of tm_impulse_load itself (tm_model_load already refuses
/// such packages, so the section is handed over through a copy of the model).
TEST(ImpulseLoad, SectionHeadChecksOfTheImpulseReader)
{
    Loaded l(withImpulse(spectralV1(), spectralSection().bytes()));
    ASSERT_EQ(l.status, TM_IMPULSE_OK);
    std::vector<uint32_t> copy(l.model.impulse_size / 4);
    std::memcpy(copy.data(), l.model.impulse, l.model.impulse_size);
    uint8_t *sec = reinterpret_cast<uint8_t *>(copy.data());
    tm_model_t m = l.model;
    m.impulse = sec;
    tm_impulse_t imp;
    EXPECT_EQ(tm_impulse_load(&imp, &m), TM_IMPULSE_OK);
    sec[0] = 'X';
    EXPECT_EQ(tm_impulse_load(&imp, &m), TM_IMPULSE_ERR_MAGIC);
    sec[0] = 'T';
    tm_put_u32(sec + 4, m.impulse_size + 4);
    EXPECT_EQ(tm_impulse_load(&imp, &m), TM_IMPULSE_ERR_SIZE);
    tm_put_u32(sec + 4, m.impulse_size);
    m.impulse_size = 20;  // shorter than the fixed head
    tm_put_u32(sec + 4, 20);
    EXPECT_EQ(tm_impulse_load(&imp, &m), TM_IMPULSE_ERR_SIZE);
    m.impulse_size = 0;
    EXPECT_EQ(tm_impulse_load(&imp, &m), TM_IMPULSE_ERR_NO_IMPULSE);
    m.impulse_size = 6;
    EXPECT_EQ(tm_impulse_load(&imp, &m), TM_IMPULSE_ERR_SIZE);
    m.impulse_size = 2;
    EXPECT_EQ(tm_impulse_load(&imp, &m), TM_IMPULSE_ERR_MAGIC);

    // every shorter section (with a matching section_size) is refused, never read past
    for (uint32_t n = 8; n < l.model.impulse_size; n += 4) {
        std::vector<uint32_t> part(n / 4);
        std::memcpy(part.data(), l.model.impulse, n);
        tm_put_u32(reinterpret_cast<uint8_t *>(part.data()) + 4, n);
        m.impulse = reinterpret_cast<const uint8_t *>(part.data());
        m.impulse_size = n;
        EXPECT_NE(tm_impulse_load(&imp, &m), TM_IMPULSE_OK) << n;
    }
}

TEST(ImpulseLoad, StatusNamesAndCapabilities)
{
    EXPECT_STREQ(tm_impulse_status_name(TM_IMPULSE_OK), "ok");
    EXPECT_STREQ(tm_impulse_status_name(TM_IMPULSE_ERR_DSP_BLOCK), "dsp_block");
    EXPECT_STREQ(tm_impulse_status_name(TM_IMPULSE_ERR_NORMALISATION), "normalisation");
    EXPECT_STREQ(tm_impulse_status_name(TM_IMPULSE_ERR_MODEL), "model");
    EXPECT_STREQ(tm_impulse_status_name(TM_IMPULSE_ERR_COUNT_), "unknown");
    for (int s = 0; s < TM_IMPULSE_ERR_COUNT_; ++s)
        EXPECT_STRNE(tm_impulse_status_name(tm_impulse_status_t(s)), "unknown") << s;
    EXPECT_EQ(tm_impulse_dsp_supported_mask(), 0xFu);
    EXPECT_EQ(tm_impulse_post_supported_mask(), 0xFu);
}

// ---- tests: running --------------------------------------------------------------------------

TEST(ImpulseRun, SpectralMatchesFeatureExtractorAndInt8Executor)
{
    expectSameAsHost(withImpulse(spectralV1(), spectralSection().bytes()),
                     fcModel(spectralFeatures(), kSpecClasses, 0.08f, -20), spectralHostParams(), {}, {},
                     25);
}

TEST(ImpulseRun, SpectralWithNormalisationMatches)
{
    Section s = spectralSection();
    s.normFlags = 1;
    for (int k = 0; k < 33; ++k) {
        s.mean.push_back(0.01f * float(k));
        s.stdev.push_back(0.3f + 0.07f * float(k % 4));
    }
    expectSameAsHost(withImpulse(spectralV1(), s.bytes()), fcModel(33, kSpecClasses, 0.08f, -20),
                     spectralHostParams(), s.mean, s.stdev, 10);
}

TEST(ImpulseRun, MfccMatchesFeatureExtractorAndInt8Executor)
{
    features::FeatureParams fp;
    fp.kind = features::BlockKind::Mfcc;
    fp.mfcc = mfccHost();
    expectSameAsHost(withImpulse(mfccV1(), mfccSection().bytes()), mfccModel(kMfccFrames, 13), fp,
                     mfccMean(), mfccStd(), 4);
}

TEST(ImpulseRun, MfccReadsChannelZeroOfAMultiChannelSensor)
{
    // the same audio as channel 0 of a 2-channel sensor, garbage on channel 1
    Section s = mfccSection();
    s.channels = 2;
    Loaded one(withImpulse(mfccV1(), mfccSection().bytes()));
    Loaded two(withImpulse(mfccV1(), s.bytes()));
    ASSERT_EQ(one.status, TM_IMPULSE_OK);
    ASSERT_EQ(two.status, TM_IMPULSE_OK);
    const std::vector<int16_t> mono = signal(16000, 1, 16000, 3);
    std::vector<int16_t> stereo(32000);
    for (size_t t = 0; t < 16000; ++t) {
        stereo[2 * t] = mono[t];
        stereo[2 * t + 1] = int16_t(t * 7919u);
    }
    Runner r1(one.imp), r2(two.imp);
    int8_t a[4], b[4];
    ASSERT_EQ(r1.run(mono.data(), 16000, nullptr, 0, a), TM_IMPULSE_OK);
    ASSERT_EQ(r2.run(stereo.data(), 10000, stereo.data() + 20000, 6000, b), TM_IMPULSE_OK);
    EXPECT_EQ(0, std::memcmp(a, b, 3));
    EXPECT_EQ(0, std::memcmp(r1.features(), r2.features(), 4u * kMfccFeatures));
}

TEST(ImpulseRun, RingSegmentsGiveTheOneSegmentFeatures)
{
    Loaded l(withImpulse(spectralV1(), spectralSection().bytes()));
    ASSERT_EQ(l.status, TM_IMPULSE_OK);
    Runner r(l.imp);
    // a ring of 200 frames holding the window at frames 150..277 (wrapping at 200)
    const std::vector<int16_t> win = signal(128, 3, 100, 11);
    std::vector<int16_t> ring(600, 0x7777);
    for (size_t f = 0; f < 128; ++f)
        for (size_t c = 0; c < 3; ++c)
            ring[((150 + f) % 200) * 3 + c] = win[f * 3 + c];
    int8_t a[4], b[4];
    ASSERT_EQ(r.run(win.data(), 128, nullptr, 0, a), TM_IMPULSE_OK);
    std::vector<float> fa(r.features(), r.features() + 33);
    ASSERT_EQ(r.run(ring.data() + 450, 50, ring.data(), 78, b), TM_IMPULSE_OK);
    EXPECT_EQ(0, std::memcmp(a, b, 4));
    EXPECT_EQ(0, std::memcmp(fa.data(), r.features(), 33 * 4));
}

TEST(ImpulseRun, ArgumentsWorkBufferAndArena)
{
    Loaded l(withImpulse(spectralV1(), spectralSection().bytes()));
    ASSERT_EQ(l.status, TM_IMPULSE_OK);
    const tm_impulse_t &imp = l.imp;
    const std::vector<int16_t> win = signal(128, 3, 100, 1);
    const size_t wb = tm_impulse_work_bytes(&imp);
    // float window 128 x 3, spectral scratch (2 x 128 + 128 floats), 33 features
    EXPECT_EQ(wb, 1536u + 1536u + 132u);
    std::vector<uint32_t> work(wb / 4 + 2), arena(tm_model_arena_bytes(&l.model) / 4 + 2);
    uint8_t *w = reinterpret_cast<uint8_t *>(work.data());
    uint8_t *ar = reinterpret_cast<uint8_t *>(arena.data());
    const uint32_t as = tm_model_arena_bytes(&l.model);
    int8_t sc[4];
    EXPECT_EQ(tm_impulse_run_window(&imp, win.data(), 128, nullptr, 0, w, wb, ar, as, sc, nullptr), TM_IMPULSE_OK);
    EXPECT_EQ(tm_impulse_run_window(nullptr, win.data(), 128, nullptr, 0, w, wb, ar, as, sc, nullptr),
              TM_IMPULSE_ERR_ARGUMENT);
    EXPECT_EQ(tm_impulse_run_window(&imp, win.data(), 127, nullptr, 0, w, wb, ar, as, sc, nullptr),
              TM_IMPULSE_ERR_ARGUMENT);
    EXPECT_EQ(tm_impulse_run_window(&imp, win.data(), 100, nullptr, 28, w, wb, ar, as, sc, nullptr),
              TM_IMPULSE_ERR_ARGUMENT);
    EXPECT_EQ(tm_impulse_run_window(&imp, nullptr, 128, nullptr, 0, w, wb, ar, as, sc, nullptr),
              TM_IMPULSE_ERR_ARGUMENT);
    EXPECT_EQ(tm_impulse_run_window(&imp, win.data(), 128, nullptr, 0, w, wb, ar, as, nullptr, nullptr),
              TM_IMPULSE_ERR_ARGUMENT);
    EXPECT_EQ(tm_impulse_run_window(&imp, nullptr, 0, win.data(), 128, w, wb, ar, as, sc, nullptr), TM_IMPULSE_OK);
    EXPECT_EQ(tm_impulse_run_window(&imp, win.data(), 128, nullptr, 0, w, wb - 4, ar, as, sc, nullptr),
              TM_IMPULSE_ERR_WORK);
    EXPECT_EQ(tm_impulse_run_window(&imp, win.data(), 128, nullptr, 0, w + 2, wb, ar, as, sc, nullptr),
              TM_IMPULSE_ERR_WORK);
    EXPECT_EQ(tm_impulse_run_window(&imp, win.data(), 128, nullptr, 0, nullptr, wb, ar, as, sc, nullptr),
              TM_IMPULSE_ERR_WORK);
    EXPECT_EQ(tm_impulse_run_window(&imp, win.data(), 128, nullptr, 0, w, wb, ar, as - 4, sc, nullptr),
              TM_IMPULSE_ERR_WORK);
    EXPECT_EQ(tm_impulse_run_window(&imp, win.data(), 128, nullptr, 0, w, wb, ar + 2, as, sc, nullptr),
              TM_IMPULSE_ERR_WORK);

    // the clock: read before the DSP, after it and after the model
    struct Ticks {
        uint64_t t = 0;
    } ticks;
    tm_impulse_clock_t clock{};
    clock.now = [](void *ctx) { return static_cast<Ticks *>(ctx)->t += 10; };
    clock.ctx = &ticks;
    EXPECT_EQ(tm_impulse_run_window(&imp, win.data(), 128, nullptr, 0, w, wb, ar, as, sc, &clock), TM_IMPULSE_OK);
    EXPECT_EQ(ticks.t, 30u);
    EXPECT_EQ(clock.dsp_ticks, 10u);
    EXPECT_EQ(clock.model_ticks, 10u);
}

TEST(ImpulseRun, QuantizationRoundsHalfAwayAndClamps)
{
    // raw block, scale 1, model input scale 0.5, zero point 3: q = round(x / 0.5) + 3
    const QByteArray v1 = packageOf(fcModel(8, 2, 0.5f, 3));
    Section r;
    r.channels = 1;
    r.window = r.stride = 8;
    r.rawScale = 0.125f;
    r.dspBlock = TM_IMPULSE_DSP_RAW;
    Bytes p;
    p.u32(0);
    p.f32(1.0f);
    p.u32(0);
    r.dspParams = p.b;
    r.featureCount = 8;
    r.classCount = 2;
    r.thresholds = {0.0f, 0.0f};
    r.classFlags = {0, 0};
    Loaded l(withImpulse(v1, r.bytes()));
    ASSERT_EQ(l.status, TM_IMPULSE_OK) << tm_impulse_status_name(l.status);
    // x = raw / 8; x / 0.5 = raw / 4: 0.25 -> 0, 0.5 -> 1, -0.5 -> -1, 1.5 -> 2, -2.5 -> -3,
    // big values clamp to 127 / -128
    const std::vector<int16_t> raw = {1, 2, -2, 6, -10, 32767, -32768, 0};
    const std::vector<int8_t> want = {3, 4, 2, 5, 0, 127, -128, 3};
    Runner run(l.imp);
    int8_t sc[2];
    ASSERT_EQ(run.run(raw.data(), 8, nullptr, 0, sc), TM_IMPULSE_OK);
    // the model input is gone after the run (shared arena); recompute via Int8Executor
    model::Int8Executor exec;
    QString err;
    ASSERT_TRUE(exec.prepare(fcModel(8, 2, 0.5f, 3), &err));
    auto out = exec.run(QVector<qint8>(want.begin(), want.end()), &err);
    ASSERT_TRUE(out.has_value());
    EXPECT_EQ(0, std::memcmp(sc, out->constData(), 2));
    // and a different input gives different scores (the test can fail)
    auto other = exec.run(QVector<qint8>(8, 0), &err);
    EXPECT_NE(0, std::memcmp(other->constData(), out->constData(), 2));
}

// ---- tests: post-processing -------------------------------------------------------------------

struct Step {
    int8_t q[3];
    uint64_t end;
    uint8_t top, decision, flags;
    float score;
};

void runSteps(const tm_impulse_post_params_t &pp, const std::vector<Step> &steps)
{
    tm_impulse_post_state_t st;
    tm_impulse_post_reset(&st);
    for (size_t i = 0; i < steps.size(); ++i) {
        const Step &s = steps[i];
        tm_impulse_decision_t d;
        tm_impulse_post_step(&pp, &st, s.q, s.end, &d);
        EXPECT_EQ(d.top_class, s.top) << "step " << i;
        EXPECT_EQ(d.decision, s.decision) << "step " << i;
        EXPECT_EQ(d.flags, s.flags) << "step " << i;
        EXPECT_EQ(d.score, s.score) << "step " << i;
    }
}

TEST(ImpulsePost, AveragingThresholdsBackgroundSuppression)
{
    const float thr[3] = {0.5f, 0.5f, 0.5f};
    const uint8_t flags[3] = {TM_IMPULSE_CLASS_BACKGROUND, 0, 0};
    tm_impulse_post_params_t pp{};
    pp.class_count = 3;
    pp.average_windows = 2;
    pp.suppression_samples = 100;
    pp.thresholds = thr;
    pp.class_flags = flags;
    pp.out_scale = 1.0f / 256.0f;
    pp.out_zp = -128;
    const uint8_t U = TM_IMPULSE_UNCERTAIN, D = TM_IMPULSE_DETECTION, S = TM_IMPULSE_SUPPRESSED,
                  B = TM_IMPULSE_BACKGROUND;
    const float hi = 255.0f / 256.0f, half = 255.0f / 512.0f;
    runSteps(pp, {
        {{-128, 127, -128}, 100, 1, 1, D, hi},    // one window: class 1 detected
        {{-128, -128, 127}, 150, 1, U, 0, half},  // average of 2: tie 1/2 -> 1, 0.498 < 0.5
        {{-128, -128, 127}, 200, 2, 2, D, hi},    // class 2, first time
        {{-128, -128, 127}, 250, 2, 2, S, hi},    // 250 - 200 < 100
        {{-128, -128, 127}, 299, 2, 2, S, hi},    // 99 < 100
        {{-128, -128, 127}, 300, 2, 2, D, hi},    // 300 - 200 = 100: a new detection
        {{127, -128, -128}, 350, 0, U, 0, half},  // tie 0/2 -> 0, below threshold
        {{127, -128, -128}, 400, 0, 0, B, hi},    // background: never a detection
        {{-128, -128, 127}, 450, 0, U, 0, half},  // tie 0/2 again
        {{-128, -128, 127}, 460, 2, 2, D, hi},    // 460 - 300 >= 100
    });
}

TEST(ImpulsePost, ThresholdBoundaryZeroPointAndLongAverage)
{
    const float thr[2] = {0.25f, 0.75f};
    tm_impulse_post_params_t pp{};
    pp.class_count = 2;
    pp.average_windows = 4;
    pp.suppression_samples = 0;
    pp.thresholds = thr;
    pp.class_flags = nullptr;   // no background class
    pp.out_scale = 0.5f;
    pp.out_zp = 10;
    // scores (q - 10) * 0.5: sums over up to 4 windows, divided by the windows present
    struct S2 {
        int8_t q[2];
        uint8_t top, decision, flags;
        float score;
    };
    const std::vector<S2> seq = {
        {{11, 10}, 0, 0, TM_IMPULSE_DETECTION, 0.5f},         // 1*0.5/1
        {{10, 10}, 0, 0, TM_IMPULSE_DETECTION, 0.25f},        // sums 1,0 -> 0.5/2 = 0.25 = threshold
        {{10, 11}, 0, TM_IMPULSE_UNCERTAIN, 0, 1.0f * 0.5f / 3.0f}, // sums 1,1: tie -> 0; 0.1667 < 0.25
        {{9, 14}, 1, TM_IMPULSE_UNCERTAIN, 0, 5.0f * 0.5f / 4.0f},  // sums 0,5 -> 0.625 < 0.75
        {{10, 14}, 1, 1, TM_IMPULSE_DETECTION, 9.0f * 0.5f / 4.0f}, // oldest row (11,10) dropped: sums -1, 9
        {{-128, 127}, 1, 1, TM_IMPULSE_DETECTION, 126.0f * 0.5f / 4.0f}, // no suppression
    };
    tm_impulse_post_state_t st;
    tm_impulse_post_reset(&st);
    for (size_t i = 0; i < seq.size(); ++i) {
        tm_impulse_decision_t d;
        tm_impulse_post_step(&pp, &st, seq[i].q, 10 * i, &d);
        EXPECT_EQ(d.top_class, seq[i].top) << i;
        EXPECT_EQ(d.decision, seq[i].decision) << i;
        EXPECT_EQ(d.flags, seq[i].flags) << i;
        EXPECT_EQ(d.score, seq[i].score) << i;
    }
    EXPECT_EQ(st.filled, 4);

    // invalid parameters: uncertain, no state change beyond nothing
    tm_impulse_post_params_t bad = pp;
    bad.average_windows = 0;
    tm_impulse_decision_t d;
    tm_impulse_post_step(&bad, &st, seq[0].q, 0, &d);
    EXPECT_EQ(d.decision, TM_IMPULSE_UNCERTAIN);
    EXPECT_EQ(d.flags, 0);
}

TEST(ImpulsePost, SuppressionFromTheSectionIn64Bits)
{
    tm_impulse_t imp{};
    imp.class_count = 2;
    imp.average_windows = 1;
    imp.sample_rate_hz = 16000;
    imp.suppression_ms = 250;
    tm_impulse_post_params_t pp;
    tm_impulse_post_params(&imp, &pp);
    EXPECT_EQ(pp.suppression_samples, 4000u);
    imp.suppression_ms = 3000000;       // 3e6 ms x 16000 overflows 32 bits in the product
    tm_impulse_post_params(&imp, &pp);
    EXPECT_EQ(pp.suppression_samples, 48000000u);
    imp.suppression_ms = 0xFFFFFFFFu;
    imp.sample_rate_hz = 0xFFFFFFFFu;
    tm_impulse_post_params(&imp, &pp);
    EXPECT_EQ(pp.suppression_samples, 0xFFFFFFFFu);  // saturated
    imp.suppression_ms = 1;
    imp.sample_rate_hz = 999;
    tm_impulse_post_params(&imp, &pp);
    EXPECT_EQ(pp.suppression_samples, 0u);           // truncated
}

} // namespace
