// The device's package reader and interpreter (tm_model.h) against the host: packages
// written by deploy::ModelPackageWriter load, and run to exactly the bytes of
// model::Int8Executor; corrupted packages are refused by tm_model_load exactly when
// deploy::ModelPackageReader refuses them; the agent runs an uploaded package.

#include "DeployTestGraphs.h"
#include "Flasher.h"
#include "ModelPackageReader.h"
#include "ModelPackageWriter.h"
#include "agent_test_support.h"
#include "model/Int8Executor.h"

#include "tm_agent.h"
#include "tm_frame.h"
#include "tm_model.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <set>

namespace {

using namespace tinyml;
using namespace tinyml::deploy::testing;
using namespace tmtest;

/// conv (stride 2) -> depthwise 3x3 ReLU6 -> GAP -> fc -> softmax
Graph kws()
{
    Graph g;
    const int x = act(g, "x", {1, 10, 8, 2});
    const int w1 = weights(g, "w1", {6, 3, 3, 2}, 6), b1 = bias(g, "b1", 6);
    const int h1 = act(g, "h1", {1, 5, 4, 6}, 0.06f, -7);
    const int w2 = weights(g, "w2", {1, 3, 3, 6}, 6), b2 = bias(g, "b2", 6);
    const int h2 = act(g, "h2", {1, 5, 4, 6}, 0.04f, -128);
    const int gap = act(g, "gap", {1, 1, 1, 6}, 0.04f, -128);
    const int w3 = weights(g, "w3", {4, 6}, 4), b3 = bias(g, "b3", 4);
    const int y = act(g, "y", {1, 4}, 0.15f, 3);
    const int p = act(g, "p", {1, 4}, 1.0f / 256.0f, -128);
    Node c1 = conv3x3("conv", {x, w1, b1}, h1);
    c1.strideH = c1.strideW = 2;
    c1.padBottom = c1.padRight = 0;
    g.addNode(c1);
    Node dw = conv3x3("dw", {h1, w2, b2}, h2);
    dw.op = OpType::DepthwiseConv2D;
    dw.activation = Activation::Relu6;
    g.addNode(dw);
    g.addNode(node(OpType::GlobalAvgPool, "gap", {h2}, gap));
    g.addNode(node(OpType::FullyConnected, "fc", {gap, w3, b3}, y));
    g.addNode(node(OpType::Softmax, "softmax", {y}, p));
    g.inputs = {x};
    g.outputs = {p};
    g.labels = QStringList{"yes", "no", "up", "down"};
    g.quantized = true;
    return g;
}

/// x -> conv a, x -> maxpool-free branch: concat(a, relu(x)) with requantization, clip,
/// avg pool, reshape, fc
Graph concatGraph()
{
    Graph g;
    const int x = act(g, "x", {1, 6, 6, 2});
    const int w1 = weights(g, "w1", {3, 3, 3, 2}, 3), b1 = bias(g, "b1", 3);
    const int a = act(g, "a", {1, 6, 6, 3}, 0.07f, 2);
    const int r = act(g, "r", {1, 6, 6, 2});
    const int c = act(g, "c", {1, 6, 6, 5}, 0.09f, -1);
    const int cl = act(g, "cl", {1, 6, 6, 5}, 0.09f, -1);
    const int mp = act(g, "mp", {1, 3, 3, 5}, 0.09f, -1);
    const int ap = act(g, "ap", {1, 2, 2, 5}, 0.09f, -1);
    const int flat = act(g, "flat", {1, 20}, 0.09f, -1);
    const int w3 = weights(g, "w3", {3, 20}, 3);
    const int y = act(g, "y", {1, 3}, 0.2f, 0);
    g.addNode(conv3x3("conv", {x, w1, b1}, a));
    g.addNode(node(OpType::Relu, "relu", {x}, r));
    g.addNode(node(OpType::Concat, "concat", {a, r}, c));
    Node clip = node(OpType::Clip, "clip", {c}, cl);
    clip.clipMin = -1.0f;
    clip.clipMax = 2.0f;
    g.addNode(clip);
    Node m = node(OpType::MaxPool2D, "maxpool", {cl}, mp);
    m.kernelH = m.kernelW = m.strideH = m.strideW = 2;
    g.addNode(m);
    Node av = node(OpType::AvgPool2D, "avgpool", {mp}, ap);
    av.kernelH = av.kernelW = 2;
    g.addNode(av);
    g.addNode(node(OpType::Reshape, "flatten", {ap}, flat));
    g.addNode(node(OpType::FullyConnected, "fc", {flat, w3}, y));
    g.inputs = {x};
    g.outputs = {y};
    g.quantized = true;
    return g;
}

QByteArray packageOf(const Graph &g)
{
    deploy::ModelPackageWriter w;
    QString err;
    auto pkg = w.write(g, &err);
    EXPECT_TRUE(pkg.has_value()) << err.toStdString();
    return pkg.value_or(QByteArray());
}

/// 4-byte aligned copy of a package, as flash would hold it.
struct Aligned {
    std::vector<uint32_t> words;
    uint32_t size = 0;
    explicit Aligned(const QByteArray &b) : words(size_t(b.size()) / 4 + 1), size(uint32_t(b.size()))
    {
        std::memcpy(words.data(), b.constData(), size_t(b.size()));
    }
    const uint8_t *data() const { return reinterpret_cast<const uint8_t *>(words.data()); }
};

void fixCrc(QByteArray &b)
{
    if (b.size() < 64)
        return;
    tm_put_u32(reinterpret_cast<uint8_t *>(b.data()) + 12,
               tm_crc32(0, reinterpret_cast<const uint8_t *>(b.constData()) + 64, size_t(b.size() - 64)));
}

tm_model_status_t load(const QByteArray &b)
{
    Aligned a(b);
    tm_model_t m;
    return tm_model_load(&m, a.data(), a.size);
}

void expectSameAsHost(const Graph &graph, int samples)
{
    const QByteArray pkg = packageOf(graph);
    ASSERT_FALSE(pkg.isEmpty());
    Aligned a(pkg);
    tm_model_t m;
    ASSERT_EQ(tm_model_load(&m, a.data(), a.size), TM_MODEL_OK);
    const uint32_t arenaBytes = tm_model_arena_bytes(&m);
    ASSERT_GT(arenaBytes, 0u);
    std::vector<uint32_t> arena(arenaBytes / 4 + 1);
    uint8_t *ar = reinterpret_cast<uint8_t *>(arena.data());

    model::Int8Executor exec;
    QString err;
    ASSERT_TRUE(exec.prepare(graph, &err)) << err.toStdString();
    const int inCount = int(exec.graph().tensors[exec.graph().inputs[0]].elementCount());
    std::mt19937 rng(1234);
    std::uniform_int_distribution<int> byte(-128, 127);
    for (int s = 0; s < samples; ++s) {
        QVector<qint8> in(inCount);
        for (auto &v : in)
            v = qint8(s == 0 ? -128 : s == 1 ? 127 : byte(rng));
        uint32_t inBytes = 0, outBytes = 0;
        int8_t *din = tm_model_input(&m, ar, &inBytes);
        ASSERT_EQ(inBytes, uint32_t(inCount));
        // garbage in the arena must not matter
        std::memset(ar, 0x5A, arenaBytes);
        std::memcpy(din, in.constData(), inBytes);
        std::vector<uint32_t> layers;
        auto cb = [](void *user, uint32_t index, uint32_t) {
            static_cast<std::vector<uint32_t> *>(user)->push_back(index);
        };
        ASSERT_EQ(tm_model_invoke(&m, ar, arenaBytes, cb, &layers), TM_MODEL_OK);
        EXPECT_EQ(layers.size(), size_t(graph.nodes.size()));
        const int8_t *dout = tm_model_output(&m, ar, &outBytes);
        auto host = exec.run(in, &err);
        ASSERT_TRUE(host.has_value()) << err.toStdString();
        ASSERT_EQ(outBytes, uint32_t(host->size()));
        EXPECT_EQ(0, std::memcmp(dout, host->constData(), outBytes)) << "sample " << s;
    }
    // too small an arena is refused, not overrun
    EXPECT_EQ(tm_model_invoke(&m, ar, arenaBytes - 4, nullptr, nullptr), TM_MODEL_ERR_ARENA);
}

TEST(ModelInterpreter, KwsGraphMatchesInt8Executor) { expectSameAsHost(kws(), 50); }
TEST(ModelInterpreter, ChainGraphMatchesInt8Executor) { expectSameAsHost(chain(), 30); }
TEST(ModelInterpreter, BranchGraphMatchesInt8Executor) { expectSameAsHost(branch(), 30); }
TEST(ModelInterpreter, ConcatGraphMatchesInt8Executor) { expectSameAsHost(concatGraph(), 30); }

TEST(ModelInterpreter, TruncatedPackagesAreRefused)
{
    const QByteArray pkg = packageOf(kws());
    for (int len = 0; len < pkg.size(); ++len) {
        const tm_model_status_t s = load(pkg.left(len));
        EXPECT_NE(s, TM_MODEL_OK) << "length " << len;
        EXPECT_EQ(s, len < 64 ? TM_MODEL_ERR_TRUNCATED : TM_MODEL_ERR_TOTAL_SIZE) << len;
    }
    // truncated with a consistent total_size and CRC: a section check fails
    for (int len = 64; len < pkg.size(); len += 4) {
        QByteArray b = pkg.left(len);
        tm_put_u32(reinterpret_cast<uint8_t *>(b.data()) + 8, uint32_t(len));
        fixCrc(b);
        EXPECT_NE(load(b), TM_MODEL_OK) << len;
    }
    tm_model_t m;
    EXPECT_EQ(tm_model_load(&m, nullptr, 100), TM_MODEL_ERR_ARGUMENT);
    EXPECT_EQ(tm_model_arena_bytes(&m), 0u);
    EXPECT_EQ(tm_model_invoke(&m, nullptr, 0, nullptr, nullptr), TM_MODEL_ERR_NOT_LOADED);
}

TEST(ModelInterpreter, HeaderFieldsHaveTheirStatus)
{
    const QByteArray pkg = packageOf(kws());
    auto patched = [&](int at, uint32_t v, int bytes, bool crc = true) {
        QByteArray b = pkg;
        for (int i = 0; i < bytes; ++i)
            b[at + i] = char(v >> (8 * i));
        if (crc)
            fixCrc(b);
        return load(b);
    };
    EXPECT_EQ(load(pkg), TM_MODEL_OK);
    EXPECT_EQ(patched(0, 'X', 1), TM_MODEL_ERR_MAGIC);
    EXPECT_EQ(patched(4, 3, 2), TM_MODEL_ERR_VERSION);
    EXPECT_EQ(patched(4, 2, 2), TM_MODEL_ERR_FLAGS);   // version 2 needs HAS_IMPULSE
    EXPECT_EQ(patched(6, 48, 2), TM_MODEL_ERR_HEADER_SIZE);
    EXPECT_EQ(patched(8, uint32_t(pkg.size()) + 4, 4), TM_MODEL_ERR_TOTAL_SIZE);
    EXPECT_EQ(patched(12, 0, 4, false), TM_MODEL_ERR_CRC);
    EXPECT_EQ(patched(16, 1, 4), TM_MODEL_ERR_FLAGS);
    EXPECT_EQ(patched(62, 1, 2), TM_MODEL_ERR_RESERVED);
    EXPECT_EQ(patched(20, 2, 4), TM_MODEL_ERR_ARENA_ALIGNMENT);
    EXPECT_EQ(patched(20, 1u << 20, 4), TM_MODEL_ERR_ARENA_SIZE);
    EXPECT_EQ(patched(24, 68, 4), TM_MODEL_ERR_TENSOR_TABLE_OFFSET);
    EXPECT_EQ(patched(28, 0xFFFF, 2), TM_MODEL_ERR_TENSOR_COUNT);
    EXPECT_EQ(patched(32, 0xFFFFFFFCu, 4), TM_MODEL_ERR_OP_TABLE_OFFSET);
    EXPECT_EQ(patched(30, 0, 2), TM_MODEL_ERR_OP_COUNT);
    EXPECT_EQ(patched(36, 0xFFFFFFFCu, 4), TM_MODEL_ERR_OP_TABLE_SIZE);
    EXPECT_EQ(patched(40, 0xFFFFFFF0u, 4), TM_MODEL_ERR_LABELS_OFFSET);
    EXPECT_EQ(patched(44, 0xFFFFFFFCu, 4), TM_MODEL_ERR_LABELS_SIZE);
    EXPECT_EQ(patched(48, 0, 4), TM_MODEL_ERR_DATA_OFFSET);
    EXPECT_EQ(patched(52, 0xFFFFFFFCu, 4), TM_MODEL_ERR_DATA_SIZE);
    EXPECT_EQ(patched(60, 5, 2), TM_MODEL_ERR_LABEL);
    EXPECT_EQ(patched(56, 0xFFFF, 2), TM_MODEL_ERR_INPUT_TENSOR);
    EXPECT_EQ(patched(58, 0xFFFF, 2), TM_MODEL_ERR_OUTPUT_TENSOR);
    // tensor 0 record: dtype, rank
    EXPECT_EQ(patched(64, 9, 1), TM_MODEL_ERR_TENSOR_DTYPE);
    EXPECT_EQ(patched(65, 5, 1), TM_MODEL_ERR_TENSOR_RANK);
    EXPECT_EQ(patched(66, 2, 1), TM_MODEL_ERR_TENSOR_FLAGS);
    EXPECT_EQ(patched(68, 0, 4), TM_MODEL_ERR_TENSOR_DIMS);
    EXPECT_EQ(patched(88, 0, 4), TM_MODEL_ERR_TENSOR_BYTES);
    EXPECT_EQ(patched(92, 0x7FC00000u, 4), TM_MODEL_ERR_TENSOR_SCALE);
    EXPECT_EQ(patched(96, 200, 4), TM_MODEL_ERR_TENSOR_ZERO_POINT);
    EXPECT_STREQ(tm_model_status_name(TM_MODEL_ERR_CRC), "header.crc32");
    EXPECT_STREQ(tm_model_status_name(TM_MODEL_ERR_COUNT_), "unknown");
}

/// Every single-byte change (CRC made consistent again): the device refuses exactly the
/// packages the host reader refuses; what the host accepts the device loads or refuses with
/// its kernel shape check only.
TEST(ModelInterpreter, AgreesWithTheHostReaderOnCorruptions)
{
    for (const Graph &g : {kws(), concatGraph()}) {
        const QByteArray pkg = packageOf(g);
        std::mt19937 rng(7);
        int hostRejects = 0;
        for (int at = 0; at < pkg.size(); ++at) {
            if (at >= 12 && at < 16)
                continue;
            for (int variant = 0; variant < 3; ++variant) {
                QByteArray b = pkg;
                const uint8_t v = variant == 0 ? 0xFF : variant == 1 ? 0x01 : uint8_t(rng() | 1);
                b[at] = char(uint8_t(b[at]) ^ v);
                fixCrc(b);
                QString err;
                const bool hostOk = deploy::ModelPackageReader::read(b, &err).has_value();
                const tm_model_status_t s = load(b);
                if (hostOk) {
                    EXPECT_TRUE(s == TM_MODEL_OK || s == TM_MODEL_ERR_OP_SHAPE)
                        << "byte " << at << ": device status " << tm_model_status_name(s);
                } else {
                    ++hostRejects;
                    EXPECT_NE(s, TM_MODEL_OK) << "byte " << at << ": host says " << err.toStdString();
                }
                if (s == TM_MODEL_OK) {
                    // whatever loads also runs within its arena without a kernel failure
                    Aligned a(b);
                    tm_model_t m;
                    ASSERT_EQ(tm_model_load(&m, a.data(), a.size), TM_MODEL_OK);
                    std::vector<uint32_t> arena(tm_model_arena_bytes(&m) / 4 + 1);
                    const tm_model_status_t r =
                        tm_model_invoke(&m, reinterpret_cast<uint8_t *>(arena.data()),
                                        uint32_t(arena.size() * 4), nullptr, nullptr);
                    EXPECT_TRUE(r == TM_MODEL_OK || r == TM_MODEL_ERR_KERNEL);
                }
            }
        }
        EXPECT_GT(hostRejects, 0);
    }
}

// ---- the agent -------------------------------------------------------------------------

Frame uploadPackage(AgentHarness &h, const QByteArray &pkg)
{
    const uint32_t crc = tm_crc32(0, reinterpret_cast<const uint8_t *>(pkg.constData()), size_t(pkg.size()));
    EXPECT_EQ(h.request(TM_OP_MODEL_BEGIN, cat({u32le(uint32_t(pkg.size())), u32le(crc)})).op,
              TM_OP_MODEL_BEGIN | TM_OP_REPLY);
    for (int off = 0; off < pkg.size(); off += 900) {
        const int n = std::min(900, int(pkg.size()) - off);
        Bytes chunk = u32le(uint32_t(off));
        chunk.insert(chunk.end(), pkg.constData() + off, pkg.constData() + off + n);
        EXPECT_EQ(h.request(TM_OP_MODEL_CHUNK, chunk).op, TM_OP_MODEL_CHUNK | TM_OP_REPLY);
    }
    return h.request(TM_OP_MODEL_COMMIT);
}

uint32_t capabilities(AgentHarness &h)
{
    Frame info = h.request(TM_OP_GET_INFO);
    const Bytes &p = info.payload;
    for (size_t i = 0; i + 2 <= p.size(); i += 2u + p[i + 1])
        if (p[i] == TM_INFO_CAPABILITIES)
            return tm_get_u32(&p[i + 2]);
    return 0;
}

TEST(AgentInterpreter, UploadSetInputInvokeGetOutputMatchesInt8Executor)
{
    AgentHarness h;
    EXPECT_FALSE(capabilities(h) & TM_CAP_INFERENCE);
    const Graph g = kws();
    ASSERT_EQ(uploadPackage(h, packageOf(g)).op, TM_OP_MODEL_COMMIT | TM_OP_REPLY);
    EXPECT_TRUE(capabilities(h) & TM_CAP_INFERENCE);

    model::Int8Executor exec;
    QString err;
    ASSERT_TRUE(exec.prepare(g, &err));
    std::mt19937 rng(99);
    for (int s = 0; s < 5; ++s) {
        QVector<qint8> in(10 * 8 * 2);
        for (auto &v : in)
            v = qint8(int(rng() % 256) - 128);
        Bytes payload = u32le(0);
        payload.insert(payload.end(), in.constData(), in.constData() + in.size());
        ASSERT_EQ(h.request(TM_OP_SET_INPUT, payload).op, TM_OP_SET_INPUT | TM_OP_REPLY);
        h.fake.nowUs += 5;
        Frame inv = h.request(TM_OP_INVOKE);
        ASSERT_EQ(inv.op, TM_OP_INVOKE | TM_OP_REPLY);
        EXPECT_EQ(inv.payload.size(), 8u);
        Frame out = h.request(TM_OP_GET_OUTPUT, cat({u32le(0), u16le(4)}));
        ASSERT_EQ(out.op, TM_OP_GET_OUTPUT | TM_OP_REPLY);
        auto host = exec.run(in, &err);
        ASSERT_TRUE(host.has_value());
        EXPECT_EQ(out.payload, Bytes(host->constData(), host->constData() + host->size()));
    }
    // the buffers are the model's tensors now
    EXPECT_EQ(h.request(TM_OP_GET_OUTPUT, cat({u32le(0), u16le(5)})).errorCode(), TM_ERR_BAD_ARGUMENT);
    EXPECT_EQ(h.request(TM_OP_SET_INPUT, cat({u32le(160), {1}})).errorCode(), TM_ERR_BAD_ARGUMENT);

    Frame bench = h.request(TM_OP_BENCHMARK, u32le(7));
    ASSERT_EQ(bench.op, TM_OP_BENCHMARK | TM_OP_REPLY);
    ASSERT_EQ(bench.payload.size(), 28u);
    EXPECT_EQ(tm_get_u32(bench.payload.data()), 7u);
    const uint32_t mn = tm_get_u32(&bench.payload[4]), med = tm_get_u32(&bench.payload[12]),
                   mx = tm_get_u32(&bench.payload[20]);
    EXPECT_LE(mn, med);
    EXPECT_LE(med, mx);
    EXPECT_EQ(h.request(TM_OP_BENCHMARK, u32le(TM_AGENT_BENCH_MAX_RUNS + 1)).errorCode(),
              TM_ERR_BAD_ARGUMENT);

    // MLPerf text commands run the model too, answering as the reference DUT firmware does:
    // infer ends with the outputs (the official runner never sends results%)
    h.fake.nowUs = 123456;
    h.fake.out.bytes.clear();
    h.feedText("infer 3 1%");
    h.fake.out.parse();
    const std::string inferText = h.fake.out.text;
    EXPECT_EQ(inferText.rfind("m-warmup-start-1\r\nm-warmup-done\r\nm-infer-start-3\r\n"
                              "m-lap-us-123456\r\nm-lap-us-123456\r\nm-infer-done\r\nm-results-[",
                              0),
              0u)
        << inferText;
    EXPECT_NE(inferText.find("]\r\nm-ready\r\n"), std::string::npos);
    h.fake.out.bytes.clear();
    h.feedText("results%");
    h.fake.out.parse();
    EXPECT_EQ(h.fake.out.text.rfind("m-results-[", 0), 0u) << h.fake.out.text;
    EXPECT_NE(h.fake.out.text.find("]\r\nm-ready\r\n"), std::string::npos);
    // the same outputs as at the end of infer
    EXPECT_NE(inferText.find(h.fake.out.text), std::string::npos) << h.fake.out.text;

    // on a QEMU board the counter counts instructions (40 per tick); a lap is in the
    // microseconds `tinyml profile` reports, instructions at the nominal 25 MHz:
    // 123456 ticks = 4938240 instructions = 197529 us (not QEMU's virtual 4938 us)
    h.fake.port.board.counter_kind = TM_COUNTER_INSTRUCTIONS;
    h.fake.port.board.counter_resolution = 40;
    h.fake.port.board.counter_hz = 25000000;
    h.fake.port.board.clock_hz = 25000000;
    h.fake.out.bytes.clear();
    h.feedText("infer 1 0%");
    h.fake.out.parse();
    EXPECT_NE(h.fake.out.text.find("m-lap-us-197529\r\nm-lap-us-197529\r\n"), std::string::npos)
        << h.fake.out.text;
    // a board with a cycle counter at its core clock: cycles / clock
    h.fake.port.board.counter_kind = TM_COUNTER_CYCLES;
    h.fake.port.board.counter_resolution = 1;
    h.fake.port.board.counter_hz = 120000000;
    h.fake.port.board.clock_hz = 120000000;
    h.fake.nowUs = 120000000ull * 3600 * 24 * 30 + 60; // a month of cycles: no overflow
    h.fake.out.bytes.clear();
    h.feedText("infer 1 0%");
    h.fake.out.parse();
    EXPECT_NE(h.fake.out.text.find("m-lap-us-2592000000000\r\n"), std::string::npos)
        << h.fake.out.text;
    h.fake.port.board.counter_kind = TM_COUNTER_MICROSECONDS;
    h.fake.port.board.counter_resolution = 1;
    h.fake.port.board.counter_hz = 1000000;
    h.fake.port.board.clock_hz = 25000000;

    // the model survives a restart of the agent
    tm_agent_init(h.agent.get(), &h.fake.port);
    EXPECT_TRUE(capabilities(h) & TM_CAP_INFERENCE);
    EXPECT_EQ(h.request(TM_OP_INVOKE).op, TM_OP_INVOKE | TM_OP_REPLY);
}

// What `tinyml flash` sends with MODEL_COMMIT is what the agent accepts.
TEST(AgentInterpreter, BenchmarkIdsTheFlasherSendsAreTheAgents)
{
    using deploy::checkBenchmarkId;
    using deploy::defaultBenchmarkId;
    for (const char *ok : {"kws01", "vww01", "ic01", "ad01", "kws01.v2", "A_b-9"})
        EXPECT_TRUE(checkBenchmarkId(QString::fromLatin1(ok)).isEmpty()) << ok;
    for (const char *bad : {"", "kws01abcd", "kws]01", "kw s", "kws%", "kws\xc3\xa9"})
        EXPECT_FALSE(checkBenchmarkId(QString::fromUtf8(bad)).isEmpty()) << bad;
    EXPECT_TRUE(checkBenchmarkId(QStringLiteral("kws]01")).contains(QStringLiteral("']'")));

    EXPECT_EQ(defaultBenchmarkId(QStringLiteral("kws01 int8")), QStringLiteral("kws01"));
    EXPECT_EQ(defaultBenchmarkId(QStringLiteral("my-VWW02")), QStringLiteral("vww02"));
    EXPECT_EQ(defaultBenchmarkId(QStringLiteral("ds-cnn (int8, QAT)")), QStringLiteral("kws01"));
    EXPECT_EQ(defaultBenchmarkId(QStringLiteral("Keyword spotter")), QStringLiteral("kws01"));
    EXPECT_EQ(defaultBenchmarkId(QStringLiteral("person detector")), QStringLiteral("vww01"));
    EXPECT_EQ(defaultBenchmarkId(QStringLiteral("ToyCar autoencoder")), QStringLiteral("ad01"));
    EXPECT_EQ(defaultBenchmarkId(QStringLiteral("resnet8 cifar10")), QStringLiteral("ic01"));
    EXPECT_EQ(defaultBenchmarkId(QStringLiteral("motion-cnn1d")), QString());
    EXPECT_EQ(defaultBenchmarkId(QStringLiteral("basic1d")), QString()); // "ic" inside a word is no id
    for (const char *name : {"kws01 int8", "my-VWW02", "ds-cnn", "ToyCar autoencoder"}) {
        const QString id = defaultBenchmarkId(QString::fromLatin1(name));
        EXPECT_TRUE(checkBenchmarkId(id).isEmpty()) << name;
        // and the agent takes it at MODEL_COMMIT
        AgentHarness h;
        const QByteArray pkg = packageOf(kws());
        EXPECT_EQ(h.request(TM_OP_MODEL_BEGIN,
                            cat({u32le(uint32_t(pkg.size())),
                                 u32le(tm_crc32(0, reinterpret_cast<const uint8_t *>(pkg.constData()),
                                                size_t(pkg.size())))})).op,
                  TM_OP_MODEL_BEGIN | TM_OP_REPLY);
        Bytes chunk = u32le(0);
        chunk.insert(chunk.end(), pkg.constData(), pkg.constData() + pkg.size());
        ASSERT_LE(pkg.size(), 2000);
        EXPECT_EQ(h.request(TM_OP_MODEL_CHUNK, chunk).op, TM_OP_MODEL_CHUNK | TM_OP_REPLY);
        const QByteArray idBytes = id.toLatin1();
        EXPECT_EQ(h.request(TM_OP_MODEL_COMMIT, Bytes(idBytes.begin(), idBytes.end())).op,
                  TM_OP_MODEL_COMMIT | TM_OP_REPLY) << name;
        h.fake.out.bytes.clear();
        h.feedText("profile%");
        h.fake.out.parse();
        EXPECT_NE(h.fake.out.text.find("m-model-[" + idBytes.toStdString() + "]"), std::string::npos)
            << h.fake.out.text;
    }
}

TEST(AgentInterpreter, InvalidPackageOrSmallArenaCannotRun)
{
    AgentHarness h;
    QByteArray junk(300, 'j');
    ASSERT_EQ(uploadPackage(h, junk).op, TM_OP_MODEL_COMMIT | TM_OP_REPLY);
    Frame inv = h.request(TM_OP_INVOKE);
    EXPECT_EQ(inv.errorCode(), TM_ERR_NO_MODEL);
    EXPECT_EQ(inv.errorMessage(), "active slot is not a valid model package: header.magic");
    EXPECT_FALSE(capabilities(h) & TM_CAP_INFERENCE);

    h.fake.port.arena_size = 16;
    ASSERT_EQ(uploadPackage(h, packageOf(kws())).op, TM_OP_MODEL_COMMIT | TM_OP_REPLY);
    EXPECT_EQ(h.request(TM_OP_INVOKE).errorCode(), TM_ERR_MODEL_TOO_LARGE);
    EXPECT_EQ(h.request(TM_OP_BENCHMARK, u32le(2)).errorCode(), TM_ERR_MODEL_TOO_LARGE);
    EXPECT_FALSE(capabilities(h) & TM_CAP_INFERENCE);
}

// ---- the interpreter's op list ---------------------------------------------------------
// INFO MODEL_FORMAT tells the host which op codes it may flash. These tests hold that list
// against what tm_model_load/tm_model_invoke actually do with packages using each code.

/// A small graph that uses `op` (int8, written by deploy's writer), or an empty graph when
/// this test has none for it.
Graph graphUsing(int code)
{
    Graph g;
    const int x = act(g, "x", {1, 4, 4, 3});
    int y = -1;
    switch (OpType(code)) {
    case OpType::Conv2D: {
        const int w = weights(g, "w", {2, 3, 3, 3}, 2), b = bias(g, "b", 2);
        y = act(g, "y", {1, 4, 4, 2}, 0.07f, 1);
        g.addNode(conv3x3("op", {x, w, b}, y));
        break;
    }
    case OpType::DepthwiseConv2D: {
        const int w = weights(g, "w", {1, 3, 3, 3}, 3), b = bias(g, "b", 3);
        y = act(g, "y", {1, 4, 4, 3}, 0.07f, 1);
        Node n = conv3x3("op", {x, w, b}, y);
        n.op = OpType::DepthwiseConv2D;
        g.addNode(n);
        break;
    }
    case OpType::FullyConnected: {
        const int w = weights(g, "w", {5, 48}, 5), b = bias(g, "b", 5);
        y = act(g, "y", {1, 5}, 0.2f, 0);
        g.addNode(node(OpType::FullyConnected, "op", {x, w, b}, y));
        break;
    }
    case OpType::MaxPool2D:
    case OpType::AvgPool2D: {
        y = act(g, "y", {1, 2, 2, 3});
        Node n = node(OpType(code), "op", {x}, y);
        n.kernelH = n.kernelW = n.strideH = n.strideW = 2;
        g.addNode(n);
        break;
    }
    case OpType::GlobalAvgPool:
        y = act(g, "y", {1, 1, 1, 3});
        g.addNode(node(OpType::GlobalAvgPool, "op", {x}, y));
        break;
    case OpType::Add: {
        const int r = act(g, "r", {1, 4, 4, 3});
        y = act(g, "y", {1, 4, 4, 3}, 0.08f, -10);
        g.addNode(node(OpType::Relu, "relu", {x}, r));
        g.addNode(node(OpType::Add, "op", {x, r}, y));
        break;
    }
    case OpType::Relu:
    case OpType::Relu6:
        y = act(g, "y", {1, 4, 4, 3});
        g.addNode(node(OpType(code), "op", {x}, y));
        break;
    case OpType::Reshape:
        y = act(g, "y", {1, 48});
        g.addNode(node(OpType::Reshape, "op", {x}, y));
        break;
    case OpType::Softmax:
        y = act(g, "y", {1, 4, 4, 3}, 1.0f / 256.0f, -128);
        g.addNode(node(OpType::Softmax, "op", {x}, y));
        break;
    case OpType::Concat: {
        const int r = act(g, "r", {1, 4, 4, 3});
        y = act(g, "y", {1, 4, 4, 6}, 0.06f, -2); // both inputs requantized
        g.addNode(node(OpType::Relu, "relu", {x}, r));
        g.addNode(node(OpType::Concat, "op", {x, r}, y));
        break;
    }
    case OpType::Clip: {
        y = act(g, "y", {1, 4, 4, 3});
        Node n = node(OpType::Clip, "op", {x}, y);
        n.clipMin = -1.0f;
        n.clipMax = 2.0f;
        g.addNode(n);
        break;
    }
    case OpType::KMeansScore:
    case OpType::GmmScore: {
        // Tables in x's integer domain (scale 0.05, zero point -3), with one entry at the 2^20
        // bound: that component's sum saturates, which must not change which one is nearest.
        QVector<qint32> centers(3 * 48), invVars(3 * 48);
        for (int i = 0; i < centers.size(); ++i) {
            centers[i] = qint32((i * 53) % 301) - 150;
            invVars[i] = qint32((i * 29) % 2001);
        }
        centers[100] = 1 << 20;
        TensorDesc c = TensorDesc::constantInt32("centers", {3, 48}, centers, {0.05f});
        c.zeroPoints = {-3};
        const int ci = g.addTensor(c);
        if (code == int(OpType::KMeansScore)) {
            y = act(g, "y", {1, 1}, 10.0f, -128);
            g.addNode(node(OpType::KMeansScore, "op", {x, ci}, y));
        } else {
            const int iv = g.addTensor(TensorDesc::constantInt32("iv", {3, 48}, invVars, {0.001f}));
            const int off = g.addTensor(TensorDesc::constantInt32("off", {3}, {100000000, -100000000, INT32_MIN},
                                                                  {1.25e-6f}));
            y = act(g, "y", {1, 1}, 5.0f, -100);
            g.addNode(node(OpType::GmmScore, "op", {x, ci, iv, off}, y));
        }
        break;
    }
    case OpType::SquaredError: {
        // The reconstruction error of x against relu(x) (the same quantization, as the rule wants).
        const int r = act(g, "r", {1, 4, 4, 3});
        y = act(g, "y", {1, 1}, 0.05f, -128);
        g.addNode(node(OpType::Relu, "relu", {x}, r));
        g.addNode(node(OpType::SquaredError, "op", {r, x}, y));
        break;
    }
    case OpType::BatchNorm: // float only: the writer refuses it
    default:
        return {};
    }
    g.inputs = {x};
    g.outputs = {y};
    g.quantized = true;
    return g;
}

/// The op codes in a package's op table, read from the bytes (MODEL_PACKAGE.md layout).
std::set<int> opCodesIn(const QByteArray &pkg)
{
    const auto *b = reinterpret_cast<const uint8_t *>(pkg.constData());
    std::set<int> codes;
    uint32_t at = tm_get_u32(b + 32);
    for (uint32_t i = 0, n = tm_get_u16(b + 30); i < n; ++i) {
        codes.insert(tm_get_u16(b + at));
        at += tm_get_u16(b + at + 2);
    }
    return codes;
}

/// The op codes the agent's INFO MODEL_FORMAT record lists.
std::set<int> listedByAgent()
{
    AgentHarness h;
    const Frame info = h.request(TM_OP_GET_INFO);
    const auto tlv = parseInfo(info.payload);
    const auto it = tlv.find(TM_INFO_MODEL_FORMAT);
    EXPECT_NE(it, tlv.end());
    if (it == tlv.end() || it->second.size() < 2)
        return {};
    EXPECT_EQ(tm_get_u16(it->second.data()), TM_AGENT_MODEL_FORMAT_VERSION);
    std::set<int> codes(it->second.begin() + 2, it->second.end());
    EXPECT_EQ(codes.size(), it->second.size() - 2) << "an op code is listed twice";
    return codes;
}

TEST(InterpreterOps, AgentListsExactlyWhatTmModelSupports)
{
    const std::set<int> listed = listedByAgent();
    EXPECT_FALSE(listed.empty());
    for (uint32_t code = 0; code <= 0xFFFF; ++code)
        EXPECT_EQ(listed.count(int(code)) == 1, tm_model_op_supported(code) != 0)
            << "op code " << code;
}

TEST(InterpreterOps, EveryListedOpLoadsAndRunsLikeTheHost)
{
    for (int code : listedByAgent()) {
        SCOPED_TRACE("op code " + std::to_string(code));
        const Graph g = graphUsing(code);
        ASSERT_FALSE(g.nodes.isEmpty())
            << "the agent lists op code " << code
            << " but this test has no package using it: add one to graphUsing()";
        const QByteArray pkg = packageOf(g);
        ASSERT_FALSE(pkg.isEmpty());
        ASSERT_EQ(opCodesIn(pkg).count(code), 1u) << "the writer did not keep the op";
        expectSameAsHost(g, 8);
    }
}

TEST(InterpreterOps, EveryUnlistedOpIsRefusedAtLoad)
{
    const std::set<int> listed = listedByAgent();
    // Packages the writer can make but the agent does not list must not load.
    for (int code = 0; code < 64; ++code) {
        if (listed.count(code))
            continue;
        const Graph g = graphUsing(code);
        if (g.nodes.isEmpty())
            continue;
        deploy::ModelPackageWriter w;
        QString err;
        const auto pkg = w.write(g, &err);
        if (pkg)
            EXPECT_EQ(load(*pkg), TM_MODEL_ERR_OP_CODE)
                << "op code " << code << " loads but is not listed";
    }
    // Every other u16 code, patched into a valid one-op package: refused by the op code check,
    // not by a later one, so no code is half supported.
    QByteArray pkg = packageOf(graphUsing(int(OpType::Relu)));
    ASSERT_FALSE(pkg.isEmpty());
    ASSERT_EQ(load(pkg), TM_MODEL_OK);
    const uint32_t opAt = tm_get_u32(reinterpret_cast<const uint8_t *>(pkg.constData()) + 32);
    for (uint32_t code = 0; code <= 0xFFFF; ++code) {
        if (listed.count(int(code)))
            continue;
        tm_put_u16(reinterpret_cast<uint8_t *>(pkg.data()) + opAt, uint16_t(code));
        fixCrc(pkg);
        ASSERT_EQ(load(pkg), TM_MODEL_ERR_OP_CODE) << "op code " << code;
    }
}

} // namespace
