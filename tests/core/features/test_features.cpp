#include <gtest/gtest.h>

#include "features/FeatureExtractor.h"
#include "features/FeatureParams.h"
#include "features/FeatureSet.h"
#include "store/ProjectStore.h"
#include "tm_dsp.h"

#include <QCoreApplication>
#include <QTemporaryDir>

#include <cmath>
#include <limits>

using namespace tinyml;
using namespace tinyml::features;

namespace {

std::string str(const QString &s) { return s.toStdString(); }

Sample timeSeries(const QVector<float> &values, int channels, double rateHz, const QString &label = "a")
{
    Sample s;
    s.id = 7;
    s.label = label;
    s.sampleRateHz = rateHz;
    for (int c = 0; c < channels; ++c)
        s.channels.append(QStringLiteral("ch%1").arg(c));
    s.data = Tensor::fromFloats(values, {values.size() / channels, channels});
    return s;
}

// --- parameters ------------------------------------------------------------------------------

TEST(FeatureParams, JsonRoundTripAndHash)
{
    for (BlockKind kind : {BlockKind::Raw, BlockKind::Spectral, BlockKind::Mfe, BlockKind::Mfcc, BlockKind::Image}) {
        FeatureParams p;
        p.kind = kind;
        p.raw.windowFrames = 50;
        p.spectral.nBands = 2;
        p.spectral.bandEdgesHz = {0, 5, 25};
        p.mfcc.nCoeffs = 13;
        p.mfe.nFilters = 32;
        p.image.channels = 3;
        p.image.bilinear = false;
        QString error;
        const auto back = FeatureParams::fromJson(p.toJson(), &error);
        ASSERT_TRUE(back) << str(error);
        EXPECT_EQ(back->toJson(), p.toJson()) << str(blockKindName(kind));
        EXPECT_EQ(back->hash(), p.hash());
    }
    FeatureParams a;
    a.kind = BlockKind::Mfcc;
    FeatureParams b = a;
    EXPECT_EQ(a.hash(), b.hash());
    EXPECT_EQ(a.hash().size(), 64);
    b.mfcc.nCoeffs = 13;
    EXPECT_NE(a.hash(), b.hash());
    // Parameters of inactive blocks do not change the features, so not the hash either.
    FeatureParams c = a;
    c.raw.windowFrames = 99;
    EXPECT_EQ(a.hash(), c.hash());

    QString error;
    EXPECT_FALSE(FeatureParams::fromJson(QJsonObject{{"block", "wavelet"}}, &error));
    EXPECT_TRUE(error.contains("wavelet")) << str(error);
    EXPECT_FALSE(FeatureParams::fromJson(
        QJsonObject{{"block", "mfcc"}, {"mfcc", QJsonObject{{"frameLength", 2.5}}}}, &error));
    EXPECT_TRUE(error.contains("mfcc.frameLength")) << str(error);
}

TEST(FeatureParams, DefaultsPerTemplate)
{
    ProjectSettings s;
    s.templateName = "audio";
    s.sampleRateHz = 16000;
    s.sampleLengthS = 1;
    FeatureParams p = featureParams(s);
    EXPECT_EQ(p.kind, BlockKind::Mfcc);
    EXPECT_EQ(p.mfcc.mfe.frameLength, 640);
    EXPECT_EQ(p.mfcc.mfe.frameStride, 320);
    EXPECT_EQ(p.mfcc.mfe.nFilters, 40);
    EXPECT_EQ(p.mfcc.nCoeffs, 10);
    QString error;
    const auto shape = FeatureExtractor(p).outputShape(16000, 1, &error);
    ASSERT_TRUE(shape) << str(error);
    EXPECT_EQ(*shape, (QVector<qint64>{1, 49, 10, 1}));  // 1 + (16000 - 640) / 320

    s.templateName = "motion";
    s.sampleRateHz = 100;
    s.sampleLengthS = 2;
    p = featureParams(s);
    EXPECT_EQ(p.kind, BlockKind::Spectral);
    EXPECT_EQ(p.spectral.windowFrames, 200);
    // 3 axes x (rms, mean, std + 4 bands + 3 peaks x 2)
    EXPECT_EQ(*FeatureExtractor(p).outputShape(200, 3, &error), (QVector<qint64>{1, 3 * 13}));

    s.templateName = "image";
    p = featureParams(s);
    EXPECT_EQ(p.kind, BlockKind::Image);
    EXPECT_EQ(*FeatureExtractor(p).outputShape(0, 0, &error), (QVector<qint64>{1, 32, 32, 1}));

    s.templateName = "tabular";
    EXPECT_EQ(featureParams(s).kind, BlockKind::Raw);

    // Stored parameters win over the defaults.
    FeatureParams mine;
    mine.kind = BlockKind::Mfe;
    setFeatureParams(s, mine);
    EXPECT_EQ(featureParams(s).kind, BlockKind::Mfe);
}

// --- extraction -----------------------------------------------------------------------------------

TEST(FeatureExtractor, RawWindowsCutAndPad)
{
    FeatureParams p;
    p.kind = BlockKind::Raw;
    p.raw.windowFrames = 3;
    p.raw.scale = 2.0f;
    FeatureExtractor e(p);
    QString error;
    // 4 frames x 2 channels: cut to the first 3 frames.
    auto t = e.extract(timeSeries({1, 10, 2, 20, 3, 30, 4, 40}, 2, 100), &error);
    ASSERT_TRUE(t) << str(error);
    EXPECT_EQ(t->shape, (QVector<qint64>{1, 6}));
    EXPECT_EQ(t->toFloats(), (QVector<float>{2, 20, 4, 40, 6, 60}));
    // 2 frames: zero-padded at the end.
    t = e.extract(timeSeries({1, 10, 2, 20}, 2, 100), &error);
    ASSERT_TRUE(t) << str(error);
    EXPECT_EQ(t->toFloats(), (QVector<float>{2, 20, 4, 40, 0, 0}));

    p.raw.asSequence = true;
    p.raw.removeMean = true;
    p.raw.scale = 1.0f;
    FeatureExtractor seq(p);
    t = seq.extract(timeSeries({1, 10, 2, 20, 3, 60}, 2, 100), &error);
    ASSERT_TRUE(t) << str(error);
    EXPECT_EQ(t->shape, (QVector<qint64>{1, 1, 3, 2}));
    EXPECT_EQ(t->toFloats(), (QVector<float>{-1, -20, 0, -10, 1, 30}));

    // A tabular row [F] is one frame of F channels, taken as given.
    FeatureParams tab;
    Sample row;
    row.data = Tensor::fromFloats({0.5f, -1, 3}, {3});
    t = FeatureExtractor(tab).extract(row, &error);
    ASSERT_TRUE(t) << str(error);
    EXPECT_EQ(t->shape, (QVector<qint64>{1, 3}));
    EXPECT_EQ(t->toFloats(), (QVector<float>{0.5f, -1, 3}));
}

TEST(FeatureExtractor, SpectralStatisticsOfKnownSignals)
{
    FeatureParams p;
    p.kind = BlockKind::Spectral;
    p.spectral.windowFrames = 64;
    p.spectral.nBands = 2;
    p.spectral.nPeaks = 1;
    FeatureExtractor e(p);
    // axis 0: constant 3; axis 1: +-2 alternating (mean 0, rms 2, all power at fs/2 - a
    // spectral edge, no interior peak needed).
    QVector<float> v;
    for (int t = 0; t < 64; ++t) {
        v.append(3.0f);
        v.append(t % 2 ? -2.0f : 2.0f);
    }
    QString error;
    const auto f = e.extract(timeSeries(v, 2, 50), &error);
    ASSERT_TRUE(f) << str(error);
    ASSERT_EQ(f->shape, (QVector<qint64>{1, 2 * (3 + 2 + 2)}));
    const QVector<float> x = f->toFloats();
    EXPECT_NEAR(x[0], 3.0f, 1e-5f);   // rms
    EXPECT_NEAR(x[1], 3.0f, 1e-5f);   // mean
    EXPECT_NEAR(x[2], 0.0f, 1e-5f);   // std
    EXPECT_NEAR(x[3] + x[4], 0.0f, 1e-6f);  // mean removed: no power
    EXPECT_NEAR(x[7], 2.0f, 1e-5f);   // rms
    EXPECT_NEAR(x[8], 0.0f, 1e-5f);   // mean
    EXPECT_NEAR(x[9], 2.0f, 1e-5f);   // std
    EXPECT_NEAR(x[10], 0.0f, 1e-3f);  // lower band [0, 12.5) Hz: nothing
    EXPECT_GT(x[11], 1.0f);           // upper band holds the alternation

    Sample noRate = timeSeries(v, 2, 0);
    EXPECT_FALSE(e.extract(noRate, &error));
    EXPECT_TRUE(error.contains("sample rate")) << str(error);
}

TEST(FeatureExtractor, MfccWrapsTheDspBlockWithPadding)
{
    FeatureParams p;
    p.kind = BlockKind::Mfcc;
    FeatureExtractor e(p);
    // 0.75 s of a 440 Hz tone at 16 kHz: zero-padded to the 1 s window.
    QVector<float> tone(12000);
    for (int i = 0; i < tone.size(); ++i)
        tone[i] = 0.5f * std::sin(2.0f * 3.14159265f * 440.0f * float(i) / 16000.0f);
    QString error;
    const auto f = e.extract(timeSeries(tone, 1, 16000), &error);
    ASSERT_TRUE(f) << str(error);
    EXPECT_EQ(f->shape, (QVector<qint64>{1, 49, 10, 1}));

    // The same through tm_dsp_mfcc directly, on the explicitly padded signal.
    QVector<float> padded = tone;
    padded.resize(16000);
    tm_dsp_mfcc_params_t cp{};
    cp.mfe.n_samples = 16000;
    cp.mfe.sample_rate_hz = 16000;
    cp.mfe.frame_length = 640;
    cp.mfe.frame_stride = 320;
    cp.mfe.n_filters = 40;
    cp.mfe.low_hz = 20;
    cp.mfe.high_hz = 0;
    cp.mfe.pre_emphasis = 0.97f;
    cp.mfe.log_floor = 1e-10f;
    cp.n_coeffs = 10;
    cp.lifter = 0;
    QVector<float> scratch(int(tm_dsp_mfcc_get_buffer_size(&cp) / 4 + 1));
    tm_dsp_buffer_t buf{scratch.data(), size_t(scratch.size()) * 4};
    QVector<float> direct(int(tm_dsp_mfcc_output_size(&cp)));
    ASSERT_EQ(tm_dsp_mfcc(&cp, padded.constData(), direct.data(), &buf), TM_DSP_OK);
    EXPECT_EQ(f->toFloats(), direct);
    // The padded tail frames differ from the tone frames.
    EXPECT_NE(f->toFloats().mid(0, 10), f->toFloats().mid(48 * 10, 10));

    EXPECT_FALSE(e.extract(timeSeries(tone, 1, 8000), &error));
    EXPECT_TRUE(error.contains("8000") && error.contains("16000")) << str(error);
}

TEST(FeatureExtractor, ImageResizeAndGrey)
{
    FeatureParams p;
    p.kind = BlockKind::Image;
    p.image.width = 2;
    p.image.height = 1;
    p.image.channels = 1;
    p.image.bilinear = false;
    Sample img;
    // 1x2 RGB: pure red, pure white
    img.data.dtype = DType::UInt8;
    img.data.shape = {1, 2, 3};
    img.data.bytes = QByteArray("\xff\x00\x00\xff\xff\xff", 6);
    QString error;
    const auto f = FeatureExtractor(p).extract(img, &error);
    ASSERT_TRUE(f) << str(error);
    EXPECT_EQ(f->shape, (QVector<qint64>{1, 1, 2, 1}));
    const QVector<float> v = f->toFloats();
    EXPECT_NEAR(v[0], 0.299f, 0.003f);  // BT.601 luma of red
    EXPECT_NEAR(v[1], 1.0f, 0.003f);
    Sample notImage = timeSeries({1, 2}, 1, 100);
    EXPECT_FALSE(FeatureExtractor(p).extract(notImage, &error));
}

// --- feature sets and the cache -------------------------------------------------------------------

class FeatureSetTest : public ::testing::Test
{
protected:
    static void SetUpTestSuite()
    {
        if (!QCoreApplication::instance()) {
            static int argc = 1;
            static char arg0[] = "test_core_features";
            static char *argv[] = {arg0, nullptr};
            new QCoreApplication(argc, argv);
        }
    }
    void SetUp() override
    {
        ASSERT_TRUE(dir.isValid());
        ProjectSettings s;
        s.name = "features";
        s.templateName = "tabular";
        s.labels = {"zeta", "alpha"};
        QString error;
        store = ProjectStore::create(dir.filePath("f.tinyml"), s, &error);
        ASSERT_TRUE(store) << str(error);
        QVector<Sample> samples;
        for (int i = 0; i < 6; ++i) {
            Sample smp = timeSeries({float(i), float(2 * i), float(i * i)}, 3, 0, i % 2 ? "alpha" : "zeta");
            smp.data.shape = {1, 3};
            smp.split = i < 4 ? Split::Train : Split::Test;
            samples.append(smp);
        }
        Sample other = timeSeries({9, 9, 9}, 3, 0, "beta");
        other.data.shape = {1, 3};
        other.split = Split::Test;
        samples.append(other);
        ASSERT_TRUE(store->addSamples(samples, &error)) << str(error);
        for (const Sample &smp : samples)
            ids.append(smp.id);
    }
    QTemporaryDir dir;
    std::unique_ptr<ProjectStore> store;
    QVector<qint64> ids;
};

TEST_F(FeatureSetTest, ComputesCachesAndInvalidates)
{
    FeatureParams p;  // raw, as given
    QString error;
    int calls = 0;
    auto set = computeFeatures(*store, p, [&](int done, int total) {
        ++calls;
        EXPECT_EQ(total, 7);
        EXPECT_EQ(done, calls);
        return true;
    }, &error);
    ASSERT_TRUE(set) << str(error);
    EXPECT_EQ(calls, 7);
    EXPECT_EQ(set->size(), 7);
    EXPECT_EQ(set->computed, 7);
    EXPECT_EQ(set->featureShape, (QVector<qint64>{1, 3}));
    EXPECT_EQ(set->labelNames, (QStringList{"zeta", "alpha", "beta"}));  // settings order, then others
    EXPECT_EQ(set->labels, (QVector<int>{0, 1, 0, 1, 0, 1, 2}));
    EXPECT_EQ(set->rowVector(3), (QVector<float>{3, 6, 9}));
    EXPECT_EQ(set->sampleIds, ids);
    EXPECT_EQ(store->cachedFeatureCount(), 7);

    const FeatureSet test = set->subset(Split::Test);
    EXPECT_EQ(test.size(), 3);
    EXPECT_EQ(test.rowVector(0), (QVector<float>{4, 8, 16}));
    EXPECT_EQ(test.labels, (QVector<int>{0, 1, 2}));

    // Second run: everything from the cache.
    set = computeFeatures(*store, p, {}, &error);
    ASSERT_TRUE(set) << str(error);
    EXPECT_EQ(set->computed, 0);
    EXPECT_EQ(set->rowVector(3), (QVector<float>{3, 6, 9}));

    // Edited sample: its checksum changed, so it alone is recomputed.
    ASSERT_TRUE(store->replaceData(ids[3], Tensor::fromFloats({-1, -2, -3}, {1, 3}), &error)) << str(error);
    set = computeFeatures(*store, p, {}, &error);
    ASSERT_TRUE(set) << str(error);
    EXPECT_EQ(set->computed, 1);
    EXPECT_EQ(set->rowVector(3), (QVector<float>{-1, -2, -3}));

    // New parameters: all recomputed, the old rows dropped.
    p.raw.scale = 10;
    set = computeFeatures(*store, p, {}, &error);
    ASSERT_TRUE(set) << str(error);
    EXPECT_EQ(set->computed, 7);
    EXPECT_EQ(set->rowVector(1), (QVector<float>{10, 20, 10}));
    EXPECT_EQ(store->cachedFeatureCount(), 7);

    // Deleting a sample drops its cached row with it.
    ASSERT_TRUE(store->removeSamples({ids[0]}, &error)) << str(error);
    EXPECT_EQ(store->cachedFeatureCount(), 6);
}

TEST_F(FeatureSetTest, CancelKeepsWhatWasComputed)
{
    FeatureParams p;
    QString error;
    const auto set = computeFeatures(*store, p, [](int done, int) { return done < 3; }, &error);
    EXPECT_FALSE(set);
    EXPECT_EQ(error, "cancelled");
    EXPECT_EQ(store->cachedFeatureCount(), 3);
    const auto again = computeFeatures(*store, p, {}, &error);
    ASSERT_TRUE(again) << str(error);
    EXPECT_EQ(again->computed, 4);
}

TEST_F(FeatureSetTest, MismatchedShapesAreReported)
{
    // Issue 18 item 7: one odd sample is reported and left out; the project still computes.
    Sample wide = timeSeries({1, 2, 3, 4}, 4, 0);
    wide.data.shape = {1, 4};
    QString error;
    ASSERT_TRUE(store->addSample(wide, &error)) << str(error);
    const auto set = computeFeatures(*store, FeatureParams{}, {}, &error);
    ASSERT_TRUE(set) << str(error);
    EXPECT_EQ(set->size(), 7);
    EXPECT_FALSE(set->sampleIds.contains(wide.id));
    ASSERT_EQ(set->skipped.size(), 1);
    EXPECT_EQ(set->skipped[0].sampleId, wide.id);
    EXPECT_TRUE(set->skipped[0].reason.contains("4 channel")) << str(set->skipped[0].reason);
}

TEST_F(FeatureSetTest, BadSamplesAreSkippedWithTheirReasonAndTheRestComputes)
{
    // Issue 18 item 7: half-saved, incomplete, too short, NaN and wrong-channel samples used to
    // be counted (or to fail the whole project); each is now skipped, named, with its reason.
    ProjectSettings s;
    s.name = "motion";
    s.templateName = "motion";
    s.labels = {"idle", "shake"};
    QString error;
    auto motion = ProjectStore::create(dir.filePath("m.tinyml"), s, &error);
    ASSERT_TRUE(motion) << str(error);
    auto wave = [](int frames, int channels, float phase) {
        QVector<float> v;
        for (int t = 0; t < frames; ++t)
            for (int c = 0; c < channels; ++c)
                v.append(std::sin(0.3f * float(t) + phase + float(c)));
        return v;
    };
    QVector<Sample> good;
    for (int i = 0; i < 4; ++i)
        good.append(timeSeries(wave(100, 3, float(i)), 3, 100, i % 2 ? "shake" : "idle"));
    Sample shortOne = timeSeries(wave(7, 3, 0), 3, 100, "shake");      // random bytes on a lines port
    Sample oneAxis = timeSeries(wave(100, 1, 0), 1, 100, "shake");     // wrong channel count
    QVector<float> nan = wave(100, 3, 1);
    nan[3 * 40 + 2] = std::numeric_limits<float>::quiet_NaN();
    Sample withNan = timeSeries(nan, 3, 100, "idle");
    Sample cut = timeSeries(wave(100, 3, 2), 3, 100, "idle");
    cut.complete = false;
    QVector<Sample> all = good;
    all << shortOne << oneAxis << withNan << cut;
    ASSERT_TRUE(motion->addSamples(all, &error)) << str(error);
    Sample meta = timeSeries({}, 3, 100, "idle");
    meta.data.shape = {0, 3};
    const auto streaming = motion->beginSample(meta, &error);
    ASSERT_TRUE(streaming) << str(error);
    ASSERT_TRUE(motion->appendFrames(*streaming, Tensor::fromFloats(wave(10, 3, 0), {10, 3}), &error)) << str(error);

    FeatureParams p;
    p.kind = BlockKind::Spectral;
    p.spectral.windowFrames = 100;
    const auto set = computeFeatures(*motion, p, {}, &error);
    ASSERT_TRUE(set) << str(error);
    QVector<qint64> goodIds;
    for (const Sample &g : all.mid(0, 4))
        goodIds << g.id;
    EXPECT_EQ(set->sampleIds, goodIds);
    QHash<qint64, QString> reasons;
    for (const auto &k : set->skipped)
        reasons.insert(k.sampleId, k.reason);
    ASSERT_EQ(reasons.size(), 5);
    EXPECT_TRUE(reasons[all[4].id].contains("too short: 7 frames")) << str(reasons[all[4].id]);
    EXPECT_TRUE(reasons[all[5].id].contains("1 channel(s), the project's samples have 3")) << str(reasons[all[5].id]);
    EXPECT_TRUE(reasons[all[6].id].contains("NaN") && reasons[all[6].id].contains("frame 40, channel 2"))
        << str(reasons[all[6].id]);
    EXPECT_TRUE(reasons[all[7].id].contains("incomplete")) << str(reasons[all[7].id]);
    EXPECT_TRUE(reasons[*streaming].contains("still being recorded")) << str(reasons[*streaming]);
}

// --- PCA ----------------------------------------------------------------------------------------

TEST(Pca, RecoversKnownAxesAndVariances)
{
    // t * (1, 1) + s * (1, -1) with uncorrelated t and s: principal axes (1,1)/sqrt2 with
    // variance 2 var(t) = 5 and (1,-1)/sqrt2 with 2 var(s) = 0.5 (n - 1 denominator).
    const float t[] = {-2, -1, 0, 1, 2};
    const float s[] = {0.5f, -0.5f, 0, -0.5f, 0.5f};
    QVector<float> v;
    for (int i = 0; i < 5; ++i) {
        v.append(t[i] + s[i] + 3);  // offset: the mean is removed
        v.append(t[i] - s[i] - 1);
    }
    const Projection2D p = projectPca2D(v, 5, 2);
    const double r = 1 / std::sqrt(2.0);
    ASSERT_EQ(p.points.size(), 5);
    EXPECT_NEAR(p.mean[0], 3, 1e-9);
    EXPECT_NEAR(p.mean[1], -1, 1e-9);
    EXPECT_NEAR(p.explained1, 5.0, 1e-6);
    EXPECT_NEAR(p.explained2, 0.5, 1e-6);
    EXPECT_NEAR(p.axis1[0], r, 1e-6);
    EXPECT_NEAR(p.axis1[1], r, 1e-6);
    EXPECT_NEAR(p.axis2[0], r, 1e-6);   // largest component positive; ties: the first
    EXPECT_NEAR(p.axis2[1], -r, 1e-6);
    for (int i = 0; i < 5; ++i) {
        EXPECT_NEAR(p.points[i].x, t[i] * std::sqrt(2.0), 1e-5);
        EXPECT_NEAR(p.points[i].y, s[i] * std::sqrt(2.0), 1e-5);
    }
    // Deterministic: the same input gives the same bits.
    const Projection2D again = projectPca2D(v, 5, 2);
    EXPECT_EQ(again.points[3].x, p.points[3].x);
    EXPECT_EQ(again.points[3].y, p.points[3].y);
    EXPECT_TRUE(projectPca2D({}, 0, 3).points.isEmpty());
}

} // namespace
