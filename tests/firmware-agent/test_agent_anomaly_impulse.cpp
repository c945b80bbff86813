// Issue 16: a classifier and an anomaly model deployed together. The package is written by
// deploy::ModelPackageWriter (impulse_version 2, the anomaly model nested as a version-1
// package); the agent's CLASSIFY_RESULT then ends with the anomaly model's int8 score and the
// alarm bit, and both must equal deploy::ImpulseReplay (the same C pipeline on the host) window
// for window. Also: the host reader round trip, a one-model package staying impulse_version 1,
// and the refusals (an anomaly model of another input size, a second model that is no anomaly
// model, a corrupted anomaly part).
#include "DeployTestGraphs.h"
#include "ImpulseReplay.h"
#include "ImpulseSpec.h"
#include "ModelPackageReader.h"
#include "ModelPackageWriter.h"
#include "agent_test_support.h"

#include "tm_impulse.h"

#include <gtest/gtest.h>

#include "device/AgentProtocol.h"
#include "model/Int8Executor.h"

#include <QJsonObject>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace {

using namespace tinyml;
using namespace tinyml::deploy::testing;
using namespace tmtest;

constexpr uint32_t kWindow = 20, kStride = 5, kRate = 100, kChannels = 3, kClasses = 3;
constexpr int kFeatures = int(kWindow * kChannels);

/// raw features (60) -> fully connected -> 3 scores
Graph classifier(int inputs = kFeatures)
{
    Graph g;
    const int x = act(g, "x", {1, inputs}, 0.05f, -3);
    const int w = weights(g, "w", {int(kClasses), inputs}, int(kClasses));
    const int b = bias(g, "b", int(kClasses));
    const int y = act(g, "y", {1, int(kClasses)}, 0.15f, 3);
    g.addNode(node(OpType::FullyConnected, "fc", {x, w, b}, y));
    g.inputs = {x};
    g.outputs = {y};
    g.labels = QStringList{"idle", "shake", "circle"};
    g.quantized = true;
    return g;
}

/// x (inputs) -> squared distance to the nearer of two centroids: one at rest, one moving.
/// Its input quantization differs from the classifier's on purpose.
Graph kmeansAnomaly(int inputs = kFeatures, double threshold = 50.0)
{
    Graph g;
    const int x = act(g, "x", {1, inputs}, 0.04f, 5);
    QVector<qint32> centers(2 * inputs);
    for (int i = 0; i < inputs; ++i) {
        centers[i] = 5;                              // the normalised rest position
        centers[inputs + i] = 5 + ((i * 7) % 11) - 5; // some motion pattern
    }
    TensorDesc c = TensorDesc::constantInt32("centers", {2, inputs}, centers, {0.04f});
    c.zeroPoints = {5};
    const int ci = g.addTensor(c);
    const int y = act(g, "score", {1, 1}, 2.0f, -128);
    g.addNode(node(OpType::KMeansScore, "kmeans", {x, ci}, y));
    g.inputs = {x};
    g.outputs = {y};
    g.quantized = true;
    g.meta.insert(QStringLiteral("task"), QStringLiteral("anomaly"));
    g.meta.insert(QStringLiteral("threshold"), threshold);
    return g;
}

deploy::ImpulseSpec spec()
{
    deploy::ImpulseSpec s;
    s.sensorKind = deploy::ImpulseSensorKind::Accelerometer;
    s.channels = int(kChannels);
    s.sampleRateHz = kRate;
    s.windowFrames = kWindow;
    s.strideFrames = kStride;
    s.rawScale = 0.002f;
    s.features.kind = features::BlockKind::Raw;
    s.features.raw.windowFrames = int(kWindow);
    for (int k = 0; k < kFeatures; ++k) {
        s.normMean.append(k % 3 == 2 ? 9.8f : 0.0f);
        s.normStd.append(4.0f);
    }
    s.post.averageWindows = 2;
    s.post.suppressionMs = 200;
    s.post.thresholds = QVector<float>(int(kClasses), 0.3f);
    s.post.background = {true, false, false};
    s.labels = QStringList{"idle", "shake", "circle"};
    return s;
}

/// The anomaly part with its own normalisation (the normal data's statistics differ).
deploy::ImpulseAnomaly anomalyPart(double threshold)
{
    QString err;
    auto part = deploy::impulseAnomalyFor(classifier(), "model 1", kmeansAnomaly(kFeatures, threshold), "model 2", &err);
    EXPECT_TRUE(part.has_value()) << err.toStdString();
    if (!part)
        return {};
    part->normMean.clear();
    part->normStd.clear();
    for (int k = 0; k < kFeatures; ++k) {
        part->normMean.append(k % 3 == 2 ? 9.81f : 0.01f);
        part->normStd.append(0.5f);
    }
    return *part;
}

QByteArray writePackage(std::optional<deploy::ImpulseAnomaly> anomaly, QString *err)
{
    deploy::ImpulseSpec s = spec();
    s.anomaly = std::move(anomaly);
    deploy::ModelPackageWriter w;
    w.setImpulse(s);
    auto pkg = w.write(classifier(), err);
    return pkg ? *pkg : QByteArray();
}

Bytes bytesOf(const QByteArray &b) { return Bytes(b.begin(), b.end()); }

void upload(AgentHarness &h, const Bytes &pkg)
{
    const uint32_t crc = tm_crc32(0, pkg.data(), pkg.size());
    ASSERT_EQ(h.request(TM_OP_MODEL_BEGIN, cat({u32le(uint32_t(pkg.size())), u32le(crc)})).op,
              TM_OP_MODEL_BEGIN | TM_OP_REPLY);
    for (size_t off = 0; off < pkg.size(); off += 1024) {
        Bytes chunk(pkg.begin() + long(off), pkg.begin() + long(std::min(pkg.size(), off + 1024)));
        ASSERT_EQ(h.request(TM_OP_MODEL_CHUNK, cat({u32le(uint32_t(off)), chunk})).op,
                  TM_OP_MODEL_CHUNK | TM_OP_REPLY);
    }
    ASSERT_EQ(h.request(TM_OP_MODEL_COMMIT).op, TM_OP_MODEL_COMMIT | TM_OP_REPLY);
}

/// n 3-axis frames: quiet, then a shake-like oscillation, then quiet again.
std::vector<int16_t> recording(uint32_t frames)
{
    std::vector<int16_t> v;
    uint32_t x = 777;
    for (uint32_t i = 0; i < frames; ++i) {
        const double amp = (i > frames / 3 && i < 2 * frames / 3) ? 3000.0 : 40.0;
        for (uint32_t c = 0; c < kChannels; ++c) {
            x = x * 1103515245u + 12345u;
            const double base = c == 2 ? 4903.0 : 0.0;
            v.push_back(int16_t(base + amp * std::sin(0.7 * i + c) + double(int(x >> 16) % 41 - 20)));
        }
    }
    return v;
}

Bytes fileOf(const std::vector<int16_t> &v)
{
    Bytes b;
    for (int16_t s : v) {
        b.push_back(uint8_t(uint16_t(s)));
        b.push_back(uint8_t(uint16_t(s) >> 8));
    }
    return b;
}

struct DeviceWindow {
    uint32_t windowEnd = 0;
    uint8_t top = 0, decision = 0, flags = 0;
    float score = 0;
    std::vector<int8_t> raw;
    bool hasAnomaly = false;
    int8_t anomaly = 0;
    uint8_t alarm = 0;
};

/// Classifies the replayed file on the agent until CLASSIFY_END; CLASSIFY_RESULT parsed by length.
std::vector<DeviceWindow> classifyOnAgent(const Bytes &pkg, const std::vector<int16_t> &samples, int *endReason)
{
    std::vector<DeviceWindow> out;
    AgentHarness h;
    h.withReplay();
    h.fake.port.paced = 0;
    h.replayFiles.files["motion.raw"] = fileOf(samples);
    upload(h, pkg);
    Frame r = h.request(TM_OP_SENSOR_REPLAY, {0, 1, 'm', 'o', 't', 'i', 'o', 'n', '.', 'r', 'a', 'w'});
    EXPECT_EQ(r.op, TM_OP_SENSOR_REPLAY | TM_OP_REPLY) << r.errorMessage();
    r = h.request(TM_OP_CLASSIFY_START, cat({{0xFF}, u32le(0), {0}}));
    EXPECT_EQ(r.op, TM_OP_CLASSIFY_START | TM_OP_REPLY) << r.errorMessage();
    *endReason = -1;
    for (int step = 0; step < 2000 && *endReason < 0; ++step) {
        h.fake.nowUs += 10000;
        h.fake.out.bytes.clear();
        tm_agent_poll(h.agent.get());
        h.fake.out.parse();
        for (const Frame &f : h.fake.out.frames) {
            if (f.op == TM_OP_CLASSIFY_END) {
                *endReason = f.payload.at(12);
            } else if (f.op == TM_OP_CLASSIFY_RESULT) {
                DeviceWindow w;
                w.windowEnd = tm_get_u32(&f.payload[0]);
                w.top = f.payload[4];
                w.decision = f.payload[5];
                w.flags = f.payload[6];
                const uint8_t cc = f.payload[7];
                const uint32_t bits = tm_get_u32(&f.payload[8]);
                std::memcpy(&w.score, &bits, 4);
                for (uint8_t c = 0; c < cc; ++c)
                    w.raw.push_back(int8_t(f.payload[28 + c]));
                if (f.payload.size() == 28u + cc + 2u) {
                    w.hasAnomaly = true;
                    w.anomaly = int8_t(f.payload[28 + cc]);
                    w.alarm = f.payload[29 + cc];
                } else {
                    EXPECT_EQ(f.payload.size(), 28u + cc);
                }
                out.push_back(w);
            }
        }
    }
    return out;
}

std::optional<deploy::ReplayResult> hostReplay(const QByteArray &pkg, const std::vector<int16_t> &samples)
{
    deploy::ImpulseReplay replay;
    QString err;
    EXPECT_TRUE(replay.load(pkg, &err)) << err.toStdString();
    QVector<qint16> v(samples.begin(), samples.end());
    deploy::ReplayOptions ro;
    auto res = replay.run(v, int(kChannels), ro, &err);
    EXPECT_TRUE(res.has_value()) << err.toStdString();
    return res;
}

} // namespace

TEST(AgentAnomalyImpulse, PackageRoundTripsAndAOneModelPackageStaysVersionOne)
{
    QString err;
    const QByteArray one = writePackage(std::nullopt, &err);
    ASSERT_FALSE(one.isEmpty()) << err.toStdString();
    auto r1 = deploy::ModelPackageReader::read(one, &err);
    ASSERT_TRUE(r1.has_value()) << err.toStdString();
    ASSERT_TRUE(r1->impulse.has_value());
    EXPECT_FALSE(r1->impulse->anomaly.has_value());
    EXPECT_EQ(uint8_t(one.at(int(r1->impulseOffset) + 8)), 1u) << "impulse_version 1 without a second model";

    const deploy::ImpulseAnomaly part = anomalyPart(50.0);
    const QByteArray two = writePackage(part, &err);
    ASSERT_FALSE(two.isEmpty()) << err.toStdString();
    auto r2 = deploy::ModelPackageReader::read(two, &err);
    ASSERT_TRUE(r2.has_value()) << err.toStdString();
    ASSERT_TRUE(r2->impulse.has_value());
    EXPECT_EQ(uint8_t(two.at(int(r2->impulseOffset) + 8)), 2u);
    ASSERT_TRUE(r2->impulse->anomaly.has_value());
    EXPECT_EQ(*r2->impulse->anomaly, part);
    deploy::ImpulseSpec expected = spec();
    expected.anomaly = part;
    EXPECT_EQ(*r2->impulse, expected);
    // The model part is unchanged: the first data_offset + data_size bytes' tables equal.
    EXPECT_EQ(r1->tensors.size(), r2->tensors.size());
    EXPECT_EQ(r1->arenaBytes, r2->arenaBytes);
    {
        deploy::ImpulseSpec s = spec();
        s.anomaly = part;
        deploy::ModelPackageWriter w;
        w.setImpulse(s);
        ASSERT_TRUE(w.write(classifier(), &err).has_value()) << err.toStdString();
        EXPECT_EQ(w.stats().anomalyArenaBytes,
                  qint64(tm_get_u32(reinterpret_cast<const uint8_t *>(part.package.constData()) + 20)));
        EXPECT_GT(w.stats().anomalyArenaBytes, 0);
    }
    // The nested package sits 16-aligned in the outer one (kernels read its weights in place).
    const int nestedAt = two.indexOf(part.package);
    ASSERT_GT(nestedAt, 0);
    EXPECT_EQ(nestedAt % 16, 0);
}

TEST(AgentAnomalyImpulse, AgentGivesClassAndAnomalyScorePerWindowEqualToTheHostReplay)
{
    const std::vector<int16_t> samples = recording(303);
    QString err;
    // First pass: the scores of this recording, to put the threshold between quiet and moving.
    const QByteArray probe = writePackage(anomalyPart(0.0), &err);
    ASSERT_FALSE(probe.isEmpty()) << err.toStdString();
    auto first = hostReplay(probe, samples);
    ASSERT_TRUE(first.has_value());
    ASSERT_EQ(first->anomalyScores.size(), first->scores.windows());
    std::vector<int> q(first->anomalyScores.begin(), first->anomalyScores.end());
    std::sort(q.begin(), q.end());
    ASSERT_LT(q.front(), q.back()) << "the recording must move the anomaly score";
    const double threshold = 2.0 * ((q.front() + q.back()) / 2 + 128) + 1.0;   // in the score's float unit

    const QByteArray pkg = writePackage(anomalyPart(threshold), &err);
    ASSERT_FALSE(pkg.isEmpty()) << err.toStdString();
    auto host = hostReplay(pkg, samples);
    ASSERT_TRUE(host.has_value());
    const int windows = host->scores.windows();
    ASSERT_EQ(windows, int(1 + (303 - kWindow) / kStride));
    const int alarms = int(std::count(host->anomalyAlarms.begin(), host->anomalyAlarms.end(), true));
    EXPECT_GT(alarms, 0);
    EXPECT_LT(alarms, windows);
    std::printf("two-model impulse: %d windows, %d in alarm (threshold %.1f), device == host replay\n", windows,
                alarms, threshold);

    // Independently of the C pipeline: the raw block's features (float(raw) * raw_scale), the
    // anomaly model's own normalisation, then the host's int8 reference executor on its graph.
    {
        const deploy::ImpulseAnomaly part = anomalyPart(threshold);
        model::Graph ag = kmeansAnomaly(kFeatures, threshold);
        QString e;
        ASSERT_TRUE(ag.inferShapes(&e)) << e.toStdString();
        model::Int8Executor ex;
        ASSERT_TRUE(ex.prepare(ag, &e)) << e.toStdString();
        for (int k = 0; k < windows; ++k) {
            const int first = int(host->scores.windowEnds[k]) - int(kWindow);
            QVector<float> xa(kFeatures);
            for (int i = 0; i < kFeatures; ++i) {
                const float x = float(samples[size_t(first) * kChannels + size_t(i)]) * 0.002f;
                xa[i] = (x - part.normMean[i]) / part.normStd[i];
            }
            const auto out = ex.run(ex.quantizeInput(xa), &e);
            ASSERT_TRUE(out.has_value()) << e.toStdString();
            EXPECT_EQ(out->at(0), host->anomalyScores[k]) << "window " << k;
        }
    }

    int endReason = -1;
    const std::vector<DeviceWindow> device = classifyOnAgent(bytesOf(pkg), samples, &endReason);
    EXPECT_EQ(endReason, TM_STREAM_END_REPLAY_END);
    ASSERT_EQ(int(device.size()), windows);
    for (int k = 0; k < windows; ++k) {
        SCOPED_TRACE(k);
        const DeviceWindow &d = device[size_t(k)];
        EXPECT_EQ(d.windowEnd, host->scores.windowEnds[k]);
        EXPECT_EQ(d.raw, std::vector<int8_t>(host->scores.window(k), host->scores.window(k) + kClasses));
        EXPECT_EQ(int(d.top), host->decisions[k].topClass);
        EXPECT_EQ(int(d.decision), host->decisions[k].decision);
        EXPECT_EQ(d.flags, host->decisions[k].flags);
        EXPECT_EQ(d.score, host->decisions[k].score);
        ASSERT_TRUE(d.hasAnomaly);
        EXPECT_EQ(d.anomaly, host->anomalyScores[k]);
        EXPECT_EQ(d.alarm != 0, host->anomalyAlarms[k]);
        EXPECT_EQ(d.alarm != 0, 2.0 * (int(d.anomaly) + 128) > threshold);
    }

    // The classifier's outputs are those of the one-model package: the anomaly model does not
    // disturb them (shared arena, run after the class scores are copied out).
    const QByteArray alone = writePackage(std::nullopt, &err);
    auto hostAlone = hostReplay(alone, samples);
    ASSERT_TRUE(hostAlone.has_value());
    EXPECT_EQ(hostAlone->scores.scores, host->scores.scores);
    EXPECT_TRUE(hostAlone->anomalyScores.isEmpty());
    const std::vector<DeviceWindow> deviceAlone = classifyOnAgent(bytesOf(alone), samples, &endReason);
    ASSERT_EQ(int(deviceAlone.size()), windows);
    EXPECT_FALSE(deviceAlone.front().hasAnomaly) << "a one-model package keeps the old CLASSIFY_RESULT length";
}

TEST(AgentAnomalyImpulse, MismatchedOrNonAnomalySecondModelsAreRefused)
{
    QString err;
    // Another input size: both models are named.
    auto wrongSize = deploy::impulseAnomalyFor(classifier(), "model 4", kmeansAnomaly(30), "model 9", &err);
    EXPECT_FALSE(wrongSize.has_value());
    EXPECT_TRUE(err.contains("model 4") && err.contains("model 9") && err.contains("60") && err.contains("30"))
        << err.toStdString();
    // A classifier as the second model.
    auto notAnomaly = deploy::impulseAnomalyFor(classifier(), "model 4", classifier(), "model 5", &err);
    EXPECT_FALSE(notAnomaly.has_value());
    EXPECT_TRUE(err.contains("model 5 is not an anomaly model")) << err.toStdString();
    // Different feature parameters.
    Graph c = classifier(), a = kmeansAnomaly();
    c.meta.insert("features", QJsonObject{{"kind", "raw"}, {"windowFrames", 20}});
    a.meta.insert("features", QJsonObject{{"kind", "raw"}, {"windowFrames", 40}});
    EXPECT_FALSE(deploy::impulseAnomalyFor(c, "model 4", a, "model 6", &err).has_value());
    EXPECT_TRUE(err.contains("different feature parameters")) << err.toStdString();
    // No threshold.
    Graph noThreshold = kmeansAnomaly();
    noThreshold.meta.remove("threshold");
    EXPECT_FALSE(deploy::impulseAnomalyFor(classifier(), "model 4", noThreshold, "model 7", &err).has_value());
    EXPECT_TRUE(err.contains("threshold")) << err.toStdString();

    // Bytes that bypass impulseAnomalyFor: a nested model of another input size is refused by
    // the host reader and by the device's loader (through ImpulseReplay).
    deploy::ImpulseAnomaly bad = anomalyPart(10.0);
    bad.normMean.clear();
    bad.normStd.clear();
    deploy::ModelPackageWriter aw;
    bad.package = *aw.write(kmeansAnomaly(30), &err);
    const QByteArray pkg = writePackage(bad, &err);
    ASSERT_FALSE(pkg.isEmpty()) << err.toStdString();
    EXPECT_FALSE(deploy::ModelPackageReader::read(pkg, &err).has_value());
    EXPECT_TRUE(err.contains("impulse.anomaly_package") && err.contains("30")) << err.toStdString();
    deploy::ImpulseReplay replay;
    EXPECT_FALSE(replay.load(pkg, &err));
    EXPECT_TRUE(err.contains("anomaly")) << err.toStdString();

    // Corrupted anomaly_flags: host reader and device loader name the anomaly part.
    QByteArray flags = writePackage(anomalyPart(10.0), &err);
    auto ok = deploy::ModelPackageReader::read(flags, &err);
    ASSERT_TRUE(ok.has_value());
    // anomaly_flags follow class_flags padded to 4: find them from the section's end of post.
    const int at = int(ok->impulseOffset) + 32 + 12 + 8 + 8 * kFeatures + 8 + 4 * int(kClasses) + 4;
    ASSERT_EQ(tm_get_u32(reinterpret_cast<const uint8_t *>(flags.constData()) + at), 1u);
    tm_put_u32(reinterpret_cast<uint8_t *>(flags.data()) + at, 3u);
    tm_put_u32(reinterpret_cast<uint8_t *>(flags.data()) + 12,
               tm_crc32(0, reinterpret_cast<const uint8_t *>(flags.constData()) + 64, size_t(flags.size() - 64)));
    EXPECT_FALSE(deploy::ModelPackageReader::read(flags, &err).has_value());
    EXPECT_TRUE(err.contains("impulse.anomaly_flags")) << err.toStdString();
    std::vector<uint32_t> aligned(size_t(flags.size()) / 4 + 1);
    std::memcpy(aligned.data(), flags.constData(), size_t(flags.size()));
    tm_model_t m;
    ASSERT_EQ(tm_model_load(&m, reinterpret_cast<const uint8_t *>(aligned.data()), uint32_t(flags.size())), TM_MODEL_OK);
    tm_impulse_t imp;
    EXPECT_EQ(tm_impulse_load(&imp, &m), TM_IMPULSE_ERR_ANOMALY);
    EXPECT_STREQ(tm_impulse_status_name(TM_IMPULSE_ERR_ANOMALY), "anomaly");
}

TEST(AgentAnomalyImpulse, HostDecodesBothResultLayoutsByLength)
{
    Bytes p = cat({u32le(25), {1, 1, TM_IMPULSE_DETECTION, 3}, u32le(0x3F000000u), u32le(10), u32le(20), u32le(3),
                   u32le(0), {0x10, 0x7F, 0x80}});
    QString err;
    auto plain = decodeClassifyResult(QByteArray(reinterpret_cast<const char *>(p.data()), int(p.size())), &err);
    ASSERT_TRUE(plain.has_value()) << err.toStdString();
    EXPECT_FALSE(plain->hasAnomaly);
    p.push_back(0xF0);   // score -16
    p.push_back(1);      // alarm
    auto two = decodeClassifyResult(QByteArray(reinterpret_cast<const char *>(p.data()), int(p.size())), &err);
    ASSERT_TRUE(two.has_value()) << err.toStdString();
    EXPECT_TRUE(two->hasAnomaly);
    EXPECT_EQ(two->anomalyScore, -16);
    EXPECT_TRUE(two->anomalyAlarm);
    EXPECT_EQ(two->raw, (QVector<qint8>{0x10, 0x7F, qint8(-128)}));
    p.back() = 2;        // an alarm byte other than 0/1
    EXPECT_FALSE(decodeClassifyResult(QByteArray(reinterpret_cast<const char *>(p.data()), int(p.size())), &err));
    EXPECT_TRUE(err.contains("alarm")) << err.toStdString();
    p.pop_back();        // one byte too many for either layout
    EXPECT_FALSE(decodeClassifyResult(QByteArray(reinterpret_cast<const char *>(p.data()), int(p.size())), &err));
    EXPECT_TRUE(err.contains("with an anomaly score")) << err.toStdString();
}
