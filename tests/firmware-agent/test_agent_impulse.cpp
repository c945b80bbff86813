// Continuous classification on the agent (PROTOCOL.md "Continuous classification and sensor
// replay") with a version-2 package: a model written by deploy::ModelPackageWriter plus an
// impulse section appended by hand (MODEL_PACKAGE.md "Version 2: the impulse"), so the test
// pins the section's bytes independently of the writer. The agent's windows, raw scores and
// decisions must equal tm_impulse_run_window / tm_impulse_post_step called directly on the
// same samples.
#include "DeployTestGraphs.h"
#include "ModelPackageWriter.h"
#include "agent_test_support.h"

#include "tm_impulse.h"

#include <gtest/gtest.h>

#include <cstring>

namespace {

using namespace tinyml;
using namespace tinyml::deploy::testing;
using namespace tmtest;

constexpr uint32_t kWindow = 20, kStride = 5, kRate = 100, kChannels = 3, kClasses = 3;

/// raw features (20 frames x 3 axes = 60) -> fully connected -> 3 scores
Graph motionModel()
{
    Graph g;
    const int x = act(g, "x", {1, int(kWindow * kChannels)}, 0.05f, -3);
    const int w = weights(g, "w", {int(kClasses), int(kWindow * kChannels)}, int(kClasses));
    const int b = bias(g, "b", int(kClasses));
    const int y = act(g, "y", {1, int(kClasses)}, 0.15f, 3);
    g.addNode(node(OpType::FullyConnected, "fc", {x, w, b}, y));
    g.inputs = {x};
    g.outputs = {y};
    g.labels = QStringList{"idle", "shake", "circle"};
    g.quantized = true;
    return g;
}

void putF32(Bytes &b, float f)
{
    uint32_t u;
    std::memcpy(&u, &f, 4);
    Bytes v = u32le(u);
    b.insert(b.end(), v.begin(), v.end());
}
void putU32(Bytes &b, uint32_t v)
{
    Bytes x = u32le(v);
    b.insert(b.end(), x.begin(), x.end());
}
void putU16(Bytes &b, uint16_t v)
{
    b.push_back(uint8_t(v));
    b.push_back(uint8_t(v >> 8));
}

/// The impulse section: accelerometer, 3 axes at 100 Hz, window 20, stride 5, raw block,
/// normalisation, averaging over 2 windows, 200 ms suppression, class 0 background.
Bytes impulseSection()
{
    Bytes s = {'T', 'M', 'I', 'P', 0, 0, 0, 0};
    putU16(s, 1);                   // impulse_version
    s.push_back(0);                 // accelerometer
    s.push_back(uint8_t(kChannels));
    putU32(s, kRate);
    putU32(s, kWindow);
    putU32(s, kStride);
    putF32(s, 0.002f);              // raw_scale
    s.push_back(0);                 // dsp_block raw
    s.push_back(0);
    putU16(s, 12);                  // raw params: remove_mean, scale, as_sequence
    putU32(s, 0);
    putF32(s, 1.0f);
    putU32(s, 0);
    putU32(s, kWindow * kChannels); // feature_count
    putU32(s, 1);                   // normalisation present
    for (uint32_t k = 0; k < kWindow * kChannels; ++k)
        putF32(s, k % 3 == 2 ? 9.8f : 0.0f);
    for (uint32_t k = 0; k < kWindow * kChannels; ++k)
        putF32(s, 4.0f);
    putU16(s, uint16_t(kClasses));
    putU16(s, 2);                   // average_windows
    putU32(s, 200);                 // suppression_ms
    for (uint32_t c = 0; c < kClasses; ++c)
        putF32(s, 0.3f);
    s.push_back(1);                 // class 0 is background
    s.push_back(0);
    s.push_back(0);
    while (s.size() % 4)
        s.push_back(0);
    tm_put_u32(&s[4], uint32_t(s.size()));
    return s;
}

Bytes v1Package()
{
    deploy::ModelPackageWriter w;
    QString err;
    auto pkg = w.write(motionModel(), &err);
    EXPECT_TRUE(pkg.has_value()) << err.toStdString();
    if (!pkg)
        return {};
    return Bytes(pkg->begin(), pkg->end());
}

/// v1 + impulse section: version 2, flags HAS_IMPULSE, total_size and CRC updated.
Bytes v2Package()
{
    Bytes p = v1Package();
    if (p.size() < 64)
        return {};
    Bytes s = impulseSection();
    p.insert(p.end(), s.begin(), s.end());
    tm_put_u16(&p[4], 2);
    tm_put_u32(&p[16], 1);
    tm_put_u32(&p[8], uint32_t(p.size()));
    tm_put_u32(&p[12], tm_crc32(0, p.data() + 64, p.size() - 64));
    return p;
}

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

/// A recording of n 3-axis frames: a quiet stretch, then a shake-like oscillation.
std::vector<int16_t> recording(uint32_t frames)
{
    std::vector<int16_t> v;
    uint32_t x = 12345;
    for (uint32_t i = 0; i < frames; ++i) {
        const double amp = i < frames / 2 ? 50.0 : 4000.0;
        for (uint32_t c = 0; c < kChannels; ++c) {
            x = x * 1103515245u + 12345u;
            double base = c == 2 ? 4903.0 : 0.0; // gravity on z, raw
            double s = amp * std::sin(0.9 * i + c) + double(int(x >> 16) % 41 - 20);
            v.push_back(int16_t(base + s));
        }
    }
    return v;
}

Bytes fileOf(const std::vector<int16_t> &v)
{
    Bytes b;
    for (int16_t s : v)
        putU16(b, uint16_t(s));
    return b;
}

struct Result {
    uint32_t windowEnd;
    uint8_t top, decision, flags;
    float score;
    uint32_t overruns;
    std::vector<int8_t> raw;
};

struct ClassifyRun {
    std::vector<Result> results;
    std::vector<int16_t> rawSamples;
    bool rawContiguous = true;
    uint32_t rawFrames = 0;
    int endReason = -1;
    uint32_t endWindows = 0, endOverruns = 0, endLost = 0;
};

void collect(ClassifyRun &run, const std::vector<Frame> &frames)
{
    for (const Frame &f : frames) {
        if (f.op == TM_OP_CLASSIFY_RESULT) {
            ASSERT_GE(f.payload.size(), 28u);
            Result r;
            r.windowEnd = tm_get_u32(&f.payload[0]);
            r.top = f.payload[4];
            r.decision = f.payload[5];
            r.flags = f.payload[6];
            const uint8_t cc = f.payload[7];
            uint32_t bits = tm_get_u32(&f.payload[8]);
            std::memcpy(&r.score, &bits, 4);
            r.overruns = tm_get_u32(&f.payload[24]);
            ASSERT_EQ(f.payload.size(), 28u + cc);
            for (uint8_t c = 0; c < cc; ++c)
                r.raw.push_back(int8_t(f.payload[28 + c]));
            run.results.push_back(r);
        } else if (f.op == TM_OP_STREAM_DATA) {
            const uint32_t first = tm_get_u32(&f.payload[1]);
            const uint16_t n = tm_get_u16(&f.payload[5]);
            run.rawContiguous &= first == run.rawFrames;
            for (size_t i = 0; i < size_t(n) * kChannels; ++i)
                run.rawSamples.push_back(int16_t(tm_get_u16(&f.payload[7 + 2 * i])));
            run.rawFrames += n;
        } else if (f.op == TM_OP_CLASSIFY_END) {
            ASSERT_EQ(f.payload.size(), 13u);
            run.endWindows = tm_get_u32(&f.payload[0]);
            run.endOverruns = tm_get_u32(&f.payload[4]);
            run.endLost = tm_get_u32(&f.payload[8]);
            run.endReason = f.payload[12];
        }
    }
}

ClassifyRun poll(AgentHarness &h, int steps, uint64_t stepUs)
{
    ClassifyRun run;
    for (int i = 0; i < steps && run.endReason < 0; ++i) {
        h.fake.nowUs += stepUs;
        h.fake.out.bytes.clear();
        tm_agent_poll(h.agent.get());
        h.fake.out.parse();
        collect(run, h.fake.out.frames);
    }
    return run;
}

/// What the device must have computed: the C pipeline called directly on the samples.
std::vector<Result> hostReplay(const Bytes &pkg, const std::vector<int16_t> &samples)
{
    std::vector<uint32_t> aligned(pkg.size() / 4 + 1);
    std::memcpy(aligned.data(), pkg.data(), pkg.size());
    tm_model_t model;
    EXPECT_EQ(tm_model_load(&model, reinterpret_cast<const uint8_t *>(aligned.data()),
                            uint32_t(pkg.size())),
              TM_MODEL_OK);
    tm_impulse_t imp;
    EXPECT_EQ(tm_impulse_load(&imp, &model), TM_IMPULSE_OK);
    std::vector<uint32_t> work(tm_impulse_work_bytes(&imp) / 4 + 1);
    std::vector<uint32_t> arena(tm_model_arena_bytes(&model) / 4 + 1);
    tm_impulse_post_params_t pp;
    tm_impulse_post_params(&imp, &pp);
    tm_impulse_post_state_t post;
    tm_impulse_post_reset(&post);
    std::vector<Result> out;
    const uint32_t frames = uint32_t(samples.size() / kChannels);
    for (uint32_t end = kWindow; end <= frames; end += kStride) {
        int8_t scores[TM_IMPULSE_MAX_CLASSES];
        EXPECT_EQ(tm_impulse_run_window(&imp, samples.data() + (end - kWindow) * kChannels, kWindow,
                                        nullptr, 0, reinterpret_cast<uint8_t *>(work.data()),
                                        work.size() * 4, reinterpret_cast<uint8_t *>(arena.data()),
                                        uint32_t(arena.size() * 4), scores, nullptr),
                  TM_IMPULSE_OK);
        tm_impulse_decision_t d;
        tm_impulse_post_step(&pp, &post, scores, end, &d);
        Result r{end, d.top_class, d.decision, d.flags, d.score, 0,
                 std::vector<int8_t>(scores, scores + kClasses)};
        out.push_back(r);
    }
    return out;
}

void expectSame(const std::vector<Result> &device, const std::vector<Result> &host)
{
    ASSERT_EQ(device.size(), host.size());
    for (size_t k = 0; k < host.size(); ++k) {
        SCOPED_TRACE(k);
        EXPECT_EQ(device[k].windowEnd, kWindow + k * kStride);
        EXPECT_EQ(device[k].windowEnd, host[k].windowEnd);
        EXPECT_EQ(device[k].raw, host[k].raw);
        EXPECT_EQ(device[k].top, host[k].top);
        EXPECT_EQ(device[k].decision, host[k].decision);
        EXPECT_EQ(device[k].flags, host[k].flags);
        EXPECT_EQ(device[k].score, host[k].score);
        EXPECT_EQ(device[k].overruns, 0u);
    }
}

TEST(AgentImpulse, VersionOnePackageHasNoImpulse)
{
    AgentHarness h;
    upload(h, v1Package());
    Frame r = h.request(TM_OP_CLASSIFY_START, cat({{0xFF}, u32le(0), {0}}));
    ASSERT_EQ(r.op, TM_OP_ERROR);
    EXPECT_EQ(r.errorCode(), TM_ERR_NOT_SUPPORTED);
    EXPECT_EQ(r.errorMessage(), "package has no impulse section");
    // and the model itself still runs
    EXPECT_EQ(h.request(TM_OP_INVOKE).op, TM_OP_INVOKE | TM_OP_REPLY);
}

TEST(AgentImpulse, ReplayedFileClassifiesLikeTheHostCall)
{
    const Bytes pkg = v2Package();
    ASSERT_FALSE(pkg.empty());
    const std::vector<int16_t> samples = recording(203);
    const std::vector<Result> host = hostReplay(pkg, samples);
    ASSERT_EQ(host.size(), 37u); // window ends 20, 25, ..., 200
    EXPECT_NE(host.front().raw, host.back().raw) << "the recording must move the scores";

    for (int paced : {0, 1}) {
        SCOPED_TRACE(paced ? "paced" : "fast");
        AgentHarness h;
        h.withReplay();
        h.fake.port.paced = paced;
        h.replayFiles.files["motion.raw"] = fileOf(samples);
        upload(h, pkg);
        Frame r = h.request(TM_OP_SENSOR_REPLAY, {0, 1, 'm', 'o', 't', 'i', 'o', 'n', '.', 'r', 'a', 'w'});
        ASSERT_EQ(r.op, TM_OP_SENSOR_REPLAY | TM_OP_REPLY) << r.errorMessage();
        r = h.request(TM_OP_CLASSIFY_START, cat({{0xFF}, u32le(0), {TM_CLASSIFY_RAW}}));
        ASSERT_EQ(r.op, TM_OP_CLASSIFY_START | TM_OP_REPLY) << r.errorMessage();
        ASSERT_EQ(r.payload.size(), 19u);
        EXPECT_EQ(r.payload[0], 0);
        EXPECT_EQ(tm_get_u32(&r.payload[1]), kRate);
        EXPECT_EQ(tm_get_u32(&r.payload[5]), kWindow);
        EXPECT_EQ(tm_get_u32(&r.payload[9]), kStride);
        EXPECT_EQ(tm_get_u16(&r.payload[13]), kClasses);
        EXPECT_EQ(tm_get_u32(&r.payload[15]), TM_AGENT_RING_VALUES / kChannels);
        // busy while it runs
        EXPECT_EQ(h.request(TM_OP_STREAM_START, cat({{0}, u32le(100), u32le(0), u16le(0)})).errorCode(),
                  TM_ERR_BUSY);
        EXPECT_EQ(h.request(TM_OP_CLASSIFY_START, cat({{0xFF}, u32le(0), {0}})).errorCode(),
                  TM_ERR_BUSY);
        EXPECT_EQ(h.request(TM_OP_MODEL_BEGIN, cat({u32le(10), u32le(0)})).errorCode(), TM_ERR_BUSY);

        ClassifyRun run = poll(h, 1000, 10000); // 10 ms steps: at 100 Hz one frame per step
        EXPECT_EQ(run.endReason, TM_STREAM_END_REPLAY_END);
        EXPECT_EQ(run.endWindows, 37u);
        EXPECT_EQ(run.endOverruns, 0u);
        EXPECT_EQ(run.endLost, 0u);
        expectSame(run.results, host);
        // the raw samples: every frame of every window once, exactly the file's
        EXPECT_TRUE(run.rawContiguous);
        ASSERT_EQ(run.rawFrames, 200u);
        EXPECT_TRUE(std::equal(run.rawSamples.begin(), run.rawSamples.end(), samples.begin()));
    }
}

TEST(AgentImpulse, MaxWindowsStopAndHello)
{
    AgentHarness h;
    upload(h, v2Package());
    // the simulated accelerometer, 5 windows
    Frame r = h.request(TM_OP_CLASSIFY_START, cat({{0}, u32le(5), {0}}));
    ASSERT_EQ(r.op, TM_OP_CLASSIFY_START | TM_OP_REPLY) << r.errorMessage();
    ClassifyRun run = poll(h, 1000, 10000);
    EXPECT_EQ(run.endReason, TM_STREAM_END_COMPLETE);
    EXPECT_EQ(run.endWindows, 5u);
    ASSERT_EQ(run.results.size(), 5u);
    EXPECT_EQ(run.results.back().windowEnd, kWindow + 4 * kStride);
    // the microphone is not the impulse's sensor
    EXPECT_EQ(h.request(TM_OP_CLASSIFY_START, cat({{1}, u32le(0), {0}})).errorCode(), TM_ERR_NO_SENSOR);
    // STOP: the reply, then CLASSIFY_END reason 1
    ASSERT_EQ(h.request(TM_OP_CLASSIFY_START, cat({{0xFF}, u32le(0), {0}})).op,
              TM_OP_CLASSIFY_START | TM_OP_REPLY);
    poll(h, 30, 10000);
    auto frames = h.exchange(TM_OP_CLASSIFY_STOP);
    ASSERT_GE(frames.size(), 2u);
    EXPECT_EQ(frames[0].op, TM_OP_CLASSIFY_STOP | TM_OP_REPLY);
    EXPECT_EQ(frames.back().op, TM_OP_CLASSIFY_END);
    EXPECT_EQ(frames.back().payload[12], TM_STREAM_END_STOPPED);
    // HELLO ends a running classification
    ASSERT_EQ(h.request(TM_OP_CLASSIFY_START, cat({{0xFF}, u32le(0), {0}})).op,
              TM_OP_CLASSIFY_START | TM_OP_REPLY);
    frames = h.exchange(TM_OP_HELLO, u16le(TM_PROTOCOL_VERSION));
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_EQ(frames[0].op, TM_OP_HELLO | TM_OP_REPLY);
    EXPECT_EQ(frames[1].op, TM_OP_CLASSIFY_END);
    EXPECT_EQ(frames[1].payload[12], TM_STREAM_END_STOPPED);
}

TEST(AgentImpulse, OverrunsAreCountedNeverSilent)
{
    AgentHarness h;
    upload(h, v2Package());
    ASSERT_EQ(h.request(TM_OP_CLASSIFY_START, cat({{0}, u32le(0), {0}})).op,
              TM_OP_CLASSIFY_START | TM_OP_REPLY);
    const uint32_t ring = TM_AGENT_RING_VALUES / kChannels;
    // the agent is not polled for 2 ring lengths: the oldest frames are overwritten
    const uint32_t due = 2 * ring;
    h.fake.nowUs += uint64_t(due) * 1000000u / kRate;
    h.fake.out.bytes.clear();
    tm_agent_poll(h.agent.get());
    h.fake.out.parse();
    ClassifyRun run;
    collect(run, h.fake.out.frames);
    // windows whose first frame (5k) is older than due - ring are overruns
    const uint32_t oldest = due - ring;
    const uint32_t skipped = (oldest + kStride - 1) / kStride;
    ASSERT_FALSE(run.results.empty());
    EXPECT_EQ(run.results[0].overruns, skipped);
    EXPECT_EQ(run.results[0].windowEnd, skipped * kStride + kWindow);
    auto frames = h.exchange(TM_OP_CLASSIFY_STOP);
    collect(run, frames);
    EXPECT_EQ(run.endOverruns, skipped);
    EXPECT_EQ(run.endLost, skipped * kStride) << "no computed window saw those frames";
}

} // namespace
