// TELEMETRY (drift summaries, issue 17) through AgentLink against the real agent programs, the
// host agent and the QEMU Cortex-M4 image: after N INVOKEs of seeded inputs and a run of
// CLASSIFY windows of a replayed recording, the summaries equal what the host computes from the
// same inputs and outputs (the impulse run on the host for the windows), integer for integer;
// a reset read zeroes them, and a commit or a revert starts a new summary.

#include "DeviceTestSupport.h"

#include "DeployTestGraphs.h"
#include "ModelPackageWriter.h"
#include "device/AgentLink.h"
#include "fleet/Drift.h"
#include "device/BoardRegistry.h"
#include "device/VirtualBoard.h"

#include "tm_frame.h"
#include "tm_impulse.h"
#include "tm_model.h"
#include "tm_protocol.h"

#include <QFile>
#include <QTemporaryDir>

#include <cmath>
#include <cstring>
#include <memory>
#include <random>

using namespace tinyml;
using namespace tinyml::test;
using namespace tinyml::deploy::testing;

namespace {

constexpr int kWindow = 20, kStride = 5, kRate = 100, kChannels = 3, kClasses = 3;
constexpr int kFeatures = kWindow * kChannels;
constexpr float kOutScale = 0.15f, kThreshold = 0.3f;
constexpr int kOutZp = 3;

const BoardDefinition &board(const QString &id)
{
    static BoardRegistry registry = [] {
        BoardRegistry r;
        QString error;
        EXPECT_TRUE(r.loadDefault(&error)) << error.toStdString();
        return r;
    }();
    static BoardDefinition missing;
    const BoardDefinition *b = registry.board(id);
    EXPECT_TRUE(b) << "no board " << id.toStdString();
    return b ? *b : missing;
}

Graph motionModel(int seed)
{
    Graph g;
    const int x = act(g, "x", {1, kFeatures}, 0.05f, -3);
    const int w = weights(g, "w", {kClasses, kFeatures}, kClasses);
    const int b = bias(g, "b", kClasses);
    const int y = act(g, "y", {1, kClasses}, kOutScale + 0.05f * float(seed), kOutZp);
    g.addNode(node(OpType::FullyConnected, "fc", {x, w, b}, y));
    g.inputs = {x};
    g.outputs = {y};
    g.labels = QStringList{"idle", "shake", "circle"};
    g.quantized = true;
    return g;
}

void putU16(QByteArray &b, quint16 v) { b.append(char(v)).append(char(v >> 8)); }
void putU32(QByteArray &b, quint32 v)
{
    for (int k = 0; k < 4; ++k)
        b.append(char(quint8(v >> (8 * k))));
}
void putF32(QByteArray &b, float f)
{
    quint32 u;
    std::memcpy(&u, &f, 4);
    putU32(b, u);
}

/// Impulse section (MODEL_PACKAGE.md "Version 2"): accelerometer 3 axes at 100 Hz, window 20,
/// stride 5, raw block, normalisation, no averaging, thresholds 0.3.
QByteArray impulseSection()
{
    QByteArray s("TMIP\0\0\0\0", 8);
    putU16(s, 1);
    s.append(char(0)).append(char(kChannels));
    putU32(s, kRate);
    putU32(s, kWindow);
    putU32(s, kStride);
    putF32(s, 0.002f);
    s.append(char(0)).append(char(0));
    putU16(s, 12);
    putU32(s, 0);
    putF32(s, 1.0f);
    putU32(s, 0);
    putU32(s, kFeatures);
    putU32(s, 1);
    for (int k = 0; k < kFeatures; ++k)
        putF32(s, k % 3 == 2 ? 9.8f : 0.0f);
    for (int k = 0; k < kFeatures; ++k)
        putF32(s, 4.0f);
    putU16(s, kClasses);
    putU16(s, 1);   // average_windows
    putU32(s, 0);   // suppression_ms
    for (int c = 0; c < kClasses; ++c)
        putF32(s, kThreshold);
    s.append(char(0)).append(char(0)).append(char(0));
    while (s.size() % 4)
        s.append(char(0));
    tm_put_u32(reinterpret_cast<uint8_t *>(s.data()) + 4, quint32(s.size()));
    return s;
}

QByteArray package(int seed, bool withImpulse)
{
    deploy::ModelPackageWriter w;
    QString err;
    auto pkg = w.write(motionModel(seed), &err);
    EXPECT_TRUE(pkg.has_value()) << err.toStdString();
    if (!pkg || !withImpulse)
        return pkg.value_or(QByteArray());
    QByteArray p = *pkg;
    p.append(impulseSection());
    auto *d = reinterpret_cast<uint8_t *>(p.data());
    tm_put_u16(d + 4, 2);
    tm_put_u32(d + 16, 1);
    tm_put_u32(d + 8, quint32(p.size()));
    tm_put_u32(d + 12, tm_crc32(0, d + 64, size_t(p.size()) - 64));
    return p;
}

/// What the host expects of a run of windows: the same sums the agent keeps.
struct Expected {
    quint32 windows = 0, uncertain = 0;
    qint64 topSum = 0;
    QVector<quint32> hist = QVector<quint32>(kClasses, 0);
    QVector<qint64> sum = QVector<qint64>(kFeatures, 0);
    QVector<quint64> sumSq = QVector<quint64>(kFeatures, 0);

    void addScores(int top, const QVector<qint8> &raw, bool uncertainWindow)
    {
        ++windows;
        uncertain += uncertainWindow ? 1 : 0;
        topSum += raw[top] - kOutZp;
        hist[top]++;
    }
};

class AgentTelemetry : public ::testing::TestWithParam<const char *>
{
protected:
    AgentLink *start()
    {
        VirtualBoard::Options options;
        options.stateDirectory = m_state.path();
        m_board = std::make_unique<VirtualBoard>(board(QString::fromLatin1(GetParam())), options);
        QString error;
        EXPECT_TRUE(m_board->start(&error)) << error.toStdString();
        return m_board->isRunning() ? m_board->link() : nullptr;
    }
    TelemetrySummary read(AgentLink *link, bool reset, TelemetrySummary::Source source)
    {
        QString error;
        auto t = link->telemetry(reset, &error, source);
        EXPECT_TRUE(t) << error.toStdString();
        return t.value_or(TelemetrySummary{});
    }
    QTemporaryDir m_state;
    std::unique_ptr<VirtualBoard> m_board;
};

TEST_P(AgentTelemetry, SummariesEqualTheHostsCountsResetAndFollowThePackage)
{
    AgentLink *link = start();
    ASSERT_TRUE(link);
    ASSERT_TRUE(link->supportsTelemetry());
    QString error;
    const QByteArray pkg = package(0, true);
    ASSERT_GE(link->uploadModel(pkg, {}, &error), 0) << error.toStdString();

    // INVOKE: 40 seeded inputs
    std::mt19937 rng(17);
    std::uniform_int_distribution<int> q(-128, 127);
    Expected inv;
    for (int n = 0; n < 40; ++n) {
        QByteArray in(kFeatures, 0);
        for (int k = 0; k < kFeatures; ++k) {
            in[k] = char(q(rng));
            inv.sum[k] += qint8(in[k]);
            inv.sumSq[k] += quint64(int(qint8(in[k])) * int(qint8(in[k])));
        }
        ASSERT_TRUE(link->setInput(in, &error)) << error.toStdString();
        ASSERT_TRUE(link->invoke(5000, &error)) << error.toStdString();
        auto out = link->getOutput(kClasses, &error);
        ASSERT_TRUE(out) << error.toStdString();
        QVector<qint8> raw;
        int top = 0;
        for (int c = 0; c < kClasses; ++c) {
            raw << qint8((*out)[c]);
            if (raw[c] > raw[top])
                top = c;
        }
        inv.addScores(top, raw, float(raw[top] - kOutZp) * kOutScale < kThreshold);
    }
    TelemetrySummary t = read(link, false, TelemetrySummary::kInvoke);
    EXPECT_EQ(t.source, int(TelemetrySummary::kInvoke));
    EXPECT_EQ(t.packageCrc, agentCrc32(pkg));
    EXPECT_TRUE(t.hasImpulse);
    EXPECT_FALSE(t.anomaly);
    EXPECT_EQ(t.windows, 40u);
    EXPECT_EQ(t.uncertain, inv.uncertain);
    EXPECT_EQ(t.topSum, inv.topSum);
    EXPECT_EQ(t.classHistogram, inv.hist);
    EXPECT_EQ(t.inputCount, quint32(kFeatures));
    EXPECT_EQ(t.featureStride, 1);
    EXPECT_EQ(t.featureSum, inv.sum);
    EXPECT_EQ(t.featureSumSq, inv.sumSq);
    EXPECT_EQ(t.outZeroPoint, kOutZp);
    EXPECT_FLOAT_EQ(t.outScale, kOutScale);
    // the INVOKEs did not touch the CLASSIFY summary
    EXPECT_EQ(read(link, false, TelemetrySummary::kClassify).windows, 0u);

    // CLASSIFY: 12 windows of the board's accelerometer replaying a seeded recording, so the
    // host can run the same windows through the impulse and sum the model inputs itself
    const bool replay = link->info().hasCapability(TM_CAP_SENSOR_REPLAY);
    if (QString::fromLatin1(GetParam()) == QLatin1String("host"))
        EXPECT_TRUE(replay);
    constexpr int kFrames = 200;
    std::vector<int16_t> recording(size_t(kFrames) * kChannels);
    std::uniform_int_distribution<int> sample(-3000, 3000);
    for (int16_t &v : recording)
        v = int16_t(sample(rng));
    QString accel;
    for (const DeviceSensorInfo &s : link->info().sensors)
        if (s.kind == TM_SENSOR_ACCELEROMETER && accel.isEmpty())
            accel = s.name;
    if (replay) {
        QFile f(m_board->stateDirectory() + QStringLiteral("/telemetry-accel.raw"));
        ASSERT_TRUE(f.open(QIODevice::WriteOnly));
        QByteArray bytes;
        for (int16_t v : recording)
            bytes.append(char(quint16(v) & 0xFF)).append(char(quint16(v) >> 8));
        f.write(bytes);
        f.close();
        ASSERT_TRUE(link->setSensorReplay(accel, QStringLiteral("telemetry-accel.raw"), &error)) << error.toStdString();
    }
    QVector<ClassifyResult> results;
    std::optional<ClassifyEnd> ended;
    QObject::connect(link, &AgentLink::classifyResult, [&](const ClassifyResult &r) { results << r; });
    QObject::connect(link, &AgentLink::classifyEnded, [&](const ClassifyEnd &e) { ended = e; });
    ASSERT_TRUE(link->startClassification({}, 12, false, &error)) << error.toStdString();
    ASSERT_TRUE(waitUntil([&] { return ended.has_value(); }, 60000));
    ASSERT_EQ(results.size(), 12);
    Expected cls;
    for (const ClassifyResult &r : results)
        cls.addScores(r.topClass, r.raw, r.decision == ClassifyResult::kUncertain);
    if (replay) {
        // the same impulse code on the host, window by window: raw scores and the int8 inputs
        tm_model_t model;
        ASSERT_EQ(tm_model_load(&model, reinterpret_cast<const uint8_t *>(pkg.constData()), quint32(pkg.size())),
                  TM_MODEL_OK);
        tm_impulse_t imp;
        ASSERT_EQ(tm_impulse_load(&imp, &model), TM_IMPULSE_OK);
        std::vector<uint32_t> work((tm_impulse_work_bytes(&imp) + 3) / 4);
        std::vector<uint32_t> arena((tm_model_arena_bytes(&model) + 3) / 4);
        for (const ClassifyResult &r : results) {
            ASSERT_GE(r.windowEnd, quint32(kWindow));
            ASSERT_LE(r.windowEnd, quint32(kFrames));
            int8_t scores[TM_IMPULSE_MAX_CLASSES];
            ASSERT_EQ(tm_impulse_run_window(&imp, recording.data() + size_t(r.windowEnd - kWindow) * kChannels, kWindow,
                                            nullptr, 0, reinterpret_cast<uint8_t *>(work.data()), work.size() * 4,
                                            reinterpret_cast<uint8_t *>(arena.data()), quint32(arena.size() * 4),
                                            scores, nullptr),
                      TM_IMPULSE_OK);
            for (int c = 0; c < kClasses; ++c)
                EXPECT_EQ(scores[c], r.raw[c]) << "window ending " << r.windowEnd;
            for (int k = 0; k < kFeatures; ++k) {
                const int q = tm_impulse_input_at(&imp, reinterpret_cast<const uint8_t *>(work.data()), quint32(k));
                cls.sum[k] += q;
                cls.sumSq[k] += quint64(q * q);
            }
        }
    }
    t = read(link, true, TelemetrySummary::kClassify);
    EXPECT_EQ(t.source, int(TelemetrySummary::kClassify));
    EXPECT_EQ(t.windows, 12u);
    EXPECT_EQ(t.uncertain, cls.uncertain);
    EXPECT_EQ(t.topSum, cls.topSum);
    EXPECT_EQ(t.classHistogram, cls.hist);
    ASSERT_EQ(t.featureSum.size(), kFeatures);
    if (replay) {
        EXPECT_EQ(t.featureSum, cls.sum);
        EXPECT_EQ(t.featureSumSq, cls.sumSq);
    }
    if (replay)
        ASSERT_TRUE(link->clearSensorReplay(accel, &error)) << error.toStdString();

    // the reset read zeroed CLASSIFY only
    t = read(link, false, TelemetrySummary::kClassify);
    EXPECT_EQ(t.windows, 0u);
    EXPECT_EQ(t.classHistogram, QVector<quint32>(kClasses, 0));
    EXPECT_EQ(t.featureSumSq, QVector<quint64>(kFeatures, 0));
    EXPECT_EQ(read(link, true, TelemetrySummary::kInvoke).windows, 40u);
    EXPECT_EQ(read(link, false, TelemetrySummary::kInvoke).windows, 0u);

    // a commit starts a new summary of the new package
    ASSERT_TRUE(link->setInput(QByteArray(kFeatures, 5), &error)) << error.toStdString();
    ASSERT_TRUE(link->invoke(5000, &error)) << error.toStdString();
    EXPECT_EQ(read(link, false, TelemetrySummary::kInvoke).windows, 1u);
    const QByteArray other = package(1, false);
    ASSERT_GE(link->uploadModel(other, {}, &error), 0) << error.toStdString();
    t = read(link, false, TelemetrySummary::kInvoke);
    EXPECT_EQ(t.windows, 0u);
    EXPECT_EQ(t.packageCrc, agentCrc32(other));
    EXPECT_FALSE(t.hasImpulse);

    // and a revert too
    ASSERT_TRUE(link->setInput(QByteArray(kFeatures, 5), &error)) << error.toStdString();
    ASSERT_TRUE(link->invoke(5000, &error)) << error.toStdString();
    ASSERT_TRUE(link->revertModel(&error)) << error.toStdString();
    t = read(link, false, TelemetrySummary::kInvoke);
    EXPECT_EQ(t.windows, 0u);
    EXPECT_EQ(t.packageCrc, agentCrc32(pkg));

    // unknown flags are refused by the agent
    EXPECT_FALSE(link->request(TM_OP_TELEMETRY, QByteArray(1, char(0x80)), 1000, &error));
    EXPECT_TRUE(error.contains(QStringLiteral("unknown TELEMETRY flags"))) << error.toStdString();
}

std::string boardName(const ::testing::TestParamInfo<const char *> &info)
{
    return QString::fromLatin1(info.param).remove(QLatin1Char('-')).toStdString();
}

INSTANTIATE_TEST_SUITE_P(Boards, AgentTelemetry, ::testing::Values("host", "qemu-m4"), boardName);

/// The parser refuses replies whose counts do not add up.
TEST(AgentTelemetryReplies, ParserChecksLayoutSizesAndTotals)
{
    QByteArray p(int(TM_TELEMETRY_HEADER_BYTES), 0);
    p[0] = char(TM_TELEMETRY_LAYOUT);
    p[3] = 2; // two classes
    auto *d = reinterpret_cast<uint8_t *>(p.data());
    tm_put_u32(d + 8, 3);  // windows
    tm_put_u32(d + 32, 4); // input elements
    tm_put_u16(d + 36, 1);
    tm_put_u16(d + 38, 1);
    QString error;
    EXPECT_FALSE(parseTelemetryReply(p, &error));
    EXPECT_TRUE(error.contains(QStringLiteral("announces"))) << error.toStdString();
    QByteArray body(8 + 16, 0);
    body[0] = 2;
    body[4] = 1;
    body[8] = char(0xFA); // sum -6 ...
    for (int k = 9; k < 16; ++k)
        body[k] = char(0xFF);
    body[16] = 12; // ... sum of squares 12
    auto t = parseTelemetryReply(p + body, &error);
    ASSERT_TRUE(t) << error.toStdString();
    EXPECT_EQ(t->classHistogram, (QVector<quint32>{2, 1}));
    EXPECT_EQ(t->featureSum, QVector<qint64>{-6});
    EXPECT_EQ(t->featureSumSq, QVector<quint64>{12});
    body[0] = 3; // 4 of 3 windows
    EXPECT_FALSE(parseTelemetryReply(p + body, &error));
    EXPECT_TRUE(error.contains(QStringLiteral("class histogram"))) << error.toStdString();
    QByteArray bad = p + body;
    bad[0] = 2;
    EXPECT_FALSE(parseTelemetryReply(bad, &error));
    EXPECT_TRUE(error.contains(QStringLiteral("layout 2"))) << error.toStdString();
}

/// The drift arithmetic on numbers worked out by hand.
TEST(DriftMath, PsiValuesAndTheAnomalyHistogram)
{
    using namespace tinyml::deploy::fleet;
    // (0.25 - 0.5) ln(0.5) + (0.75 - 0.5) ln(1.5)
    EXPECT_NEAR(populationStabilityIndex({0.5, 0.5}, {0.25, 0.75}), 0.25 * std::log(2.0) + 0.25 * std::log(1.5), 1e-12);
    EXPECT_NEAR(normalPsi(3.0, 2.0, 3.0, 2.0), 0.0, 1e-9);
    EXPECT_LT(normalPsi(0.0, 10.0, 1.0, 10.0), 0.1);   // a tenth of a sigma
    EXPECT_GT(normalPsi(0.0, 10.0, 30.0, 10.0), 0.25); // three sigma
    EXPECT_GT(normalPsi(0.0, 0.0, 1.0, 0.0), 0.25);    // constant feature: std floored at 0.5

    DriftReference ref;
    ref.inputCount = 2;
    ref.elements = {0, 1};
    ref.mean = {0.0, 0.0};
    ref.std = {10.0, 10.0};
    ref.labels = {QStringLiteral("score")};
    ref.classShare = {1.0};
    ref.anomalyShare = QVector<double>(16, 0.0);
    ref.anomalyShare[8] = 1.0; // every training score in [0, 16)
    TelemetrySummary t;
    t.windows = 4;
    t.anomaly = true;
    t.inputCount = 2;
    t.featureStride = 1;
    t.classHistogram = {4};
    t.featureSum = {0, 0};
    t.featureSumSq = {400, 400}; // std 10
    t.anomalyHistogram = QVector<quint32>(16, 0);
    t.anomalyHistogram[8] = 2;
    t.anomalyHistogram[15] = 2;
    QString error;
    auto r = compareDrift(ref, t, &error);
    ASSERT_TRUE(r) << error.toStdString();
    EXPECT_NEAR(r->classPsi, 0.0, 1e-12);
    EXPECT_NEAR(r->maxFeaturePsi, 0.0, 1e-9);
    ASSERT_TRUE(r->hasAnomalyPsi);
    // bin 8: (0.5 - 1) ln 0.5; bin 15: (0.5 - 1e-4) ln(0.5 / 1e-4)
    EXPECT_NEAR(r->anomalyPsi, 0.5 * std::log(2.0) + (0.5 - 1e-4) * std::log(0.5 / 1e-4), 1e-9);
    EXPECT_DOUBLE_EQ(r->psi, r->anomalyPsi);
    EXPECT_TRUE(r->significant());
    EXPECT_EQ(r->toJson()[QStringLiteral("level")].toString(), QStringLiteral("significant"));
    t.featureStride = 2;
    EXPECT_FALSE(compareDrift(ref, t, &error));
    EXPECT_TRUE(error.contains(QStringLiteral("stride"))) << error.toStdString();
}

} // namespace
