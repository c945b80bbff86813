// The portable agent core on a fake port: requests in, captured frames out (PROTOCOL.md).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>

#include "agent_test_support.h"
#include "tm_flash_image.h"

using namespace tmtest;

namespace {

uint32_t u32at(const Bytes &b, size_t i) { return tm_get_u32(&b[i]); }

TEST(Agent, HelloReturnsInfoWithBoardAndSensors)
{
    AgentHarness h;
    Frame r = h.request(TM_OP_HELLO, u16le(TM_PROTOCOL_VERSION));
    ASSERT_EQ(r.op, TM_OP_HELLO | TM_OP_REPLY);
    bool ok = false;
    auto info = parseInfo(r.payload, &ok);
    ASSERT_TRUE(ok);
    EXPECT_EQ(tm_get_u16(info.find(TM_INFO_PROTOCOL_VERSION)->second.data()), TM_PROTOCOL_VERSION);
    EXPECT_EQ(str(info.find(TM_INFO_BOARD_ID)->second), "fake-board");
    EXPECT_EQ(str(info.find(TM_INFO_CPU)->second), "cortex-m4f");
    EXPECT_EQ(str(info.find(TM_INFO_AGENT_VERSION)->second), TM_AGENT_VERSION);
    const Bytes &counter = info.find(TM_INFO_COUNTER)->second;
    ASSERT_EQ(counter.size(), 5u);
    EXPECT_EQ(counter[0], TM_COUNTER_MICROSECONDS);
    EXPECT_EQ(u32at(counter, 1), 1u);
    uint32_t caps = u32at(info.find(TM_INFO_CAPABILITIES)->second, 0);
    EXPECT_TRUE(caps & TM_CAP_STREAMING);
    EXPECT_TRUE(caps & TM_CAP_MODEL_UPLOAD);
    EXPECT_TRUE(caps & TM_CAP_MLPERF_TEXT);
    EXPECT_TRUE(caps & TM_CAP_SCENARIOS);
    EXPECT_FALSE(caps & TM_CAP_INFERENCE);
    EXPECT_EQ(u32at(info.find(TM_INFO_FLASH_FREE)->second, 0), FakePort::kSlotSize);
    const Bytes &slots = info.find(TM_INFO_MODEL_SLOTS)->second;
    EXPECT_EQ(slots[0], 2);
    EXPECT_EQ(u32at(slots, 1), FakePort::kSlotSize);
    EXPECT_EQ(info.count(TM_INFO_SIMULATOR), 1u);
    EXPECT_EQ(info.count(TM_INFO_BUILD), 1u);

    // SENSOR records: accelerometer (id 0) and microphone (id 1)
    auto range = info.equal_range(TM_INFO_SENSOR);
    std::vector<Bytes> sensors;
    for (auto it = range.first; it != range.second; ++it)
        sensors.push_back(it->second);
    ASSERT_EQ(sensors.size(), 2u);
    const Bytes &acc = sensors[0];
    EXPECT_EQ(acc[0], 0);
    EXPECT_EQ(acc[1], TM_SENSOR_ACCELEROMETER);
    EXPECT_EQ(acc[2], TM_DTYPE_INT16);
    EXPECT_EQ(acc[3], 3);
    float scale;
    std::memcpy(&scale, &acc[4], 4);
    EXPECT_FLOAT_EQ(scale, 0.002f);
    size_t i = 20;
    std::string name(acc.begin() + long(i) + 1, acc.begin() + long(i) + 1 + acc[i]);
    EXPECT_EQ(name, "accel");
    i += 1u + acc[i];
    std::vector<std::string> chans;
    for (int c = 0; c < 3; ++c) {
        chans.emplace_back(acc.begin() + long(i) + 1, acc.begin() + long(i) + 1 + acc[i]);
        i += 1u + acc[i];
        i += 1u + acc[i]; // unit
    }
    EXPECT_EQ(i, acc.size());
    EXPECT_EQ(chans, (std::vector<std::string>{"x", "y", "z"}));
    const Bytes &mic = sensors[1];
    EXPECT_EQ(mic[0], 1);
    EXPECT_EQ(mic[1], TM_SENSOR_MICROPHONE);
    EXPECT_EQ(mic[3], 1);
    EXPECT_EQ(u32at(mic, 12), 16000u); // max rate

    // SCENARIOS: the required ones are listed
    auto sc = info.equal_range(TM_INFO_SCENARIOS);
    std::map<int, std::vector<std::string>> scen;
    for (auto it = sc.first; it != sc.second; ++it) {
        const Bytes &v = it->second;
        for (size_t k = 1; k < v.size(); k += 1u + v[k])
            scen[v[0]].emplace_back(v.begin() + long(k) + 1, v.begin() + long(k) + 1 + v[k]);
    }
    for (const char *s : {"idle", "shake", "circle", "updown"})
        EXPECT_NE(std::find(scen[0].begin(), scen[0].end(), s), scen[0].end()) << s;
    for (const char *s : {"silence", "noise", "tone", "chirp"})
        EXPECT_NE(std::find(scen[1].begin(), scen[1].end(), s), scen[1].end()) << s;

    // GET_INFO returns the same TLVs
    Frame g = h.request(TM_OP_GET_INFO);
    EXPECT_EQ(g.payload, r.payload);
}

TEST(Agent, PingEchoes)
{
    AgentHarness h;
    Bytes big(TM_MAX_PAYLOAD, 0);
    for (size_t i = 0; i < big.size(); ++i)
        big[i] = uint8_t(i * 7);
    Frame r = h.request(TM_OP_PING, big);
    EXPECT_EQ(r.op, TM_OP_PING | TM_OP_REPLY);
    EXPECT_EQ(r.payload, big);
}

TEST(Agent, UnknownOpAndBadLengths)
{
    AgentHarness h;
    for (uint8_t op : {uint8_t(0x00), uint8_t(0x1C), uint8_t(0x40), uint8_t(0x7F), uint8_t(0x81)}) {
        Frame r = h.request(op);
        ASSERT_EQ(r.op, TM_OP_ERROR) << int(op);
        EXPECT_EQ(r.payload[0], op);
        EXPECT_EQ(r.errorCode(), TM_ERR_UNKNOWN_OP);
    }
    struct Case {
        uint8_t op;
        Bytes payload;
    };
    const Case cases[] = {
        {TM_OP_HELLO, {}},
        {TM_OP_HELLO, {1, 0, 0}},
        {TM_OP_GET_INFO, {1}},
        {TM_OP_RESET, {1}},
        {TM_OP_SET_SCENARIO, {0}},
        {TM_OP_STREAM_START, {0, 1, 2}},
        {TM_OP_STREAM_STOP, {0}},
        {TM_OP_MODEL_BEGIN, {1, 2, 3}},
        {TM_OP_MODEL_CHUNK, {0, 0}},
        {TM_OP_MODEL_COMMIT, Bytes(TM_BENCHMARK_ID_MAX + 1, 'a')}, // benchmark id too long
        {TM_OP_MODEL_INFO, {1, 0}},
        {TM_OP_SET_INPUT, {0}},
        {TM_OP_INVOKE, {0}},
        {TM_OP_GET_OUTPUT, {0, 0, 0, 0}},
        {TM_OP_BENCHMARK, {1}},
        {TM_OP_SET_SENSOR_SEED, {0, 1}},
        {TM_OP_LINK_TEST, {}},
        {TM_OP_CLASSIFY_START, {0xFF}},
        {TM_OP_CLASSIFY_STOP, {0}},
        {TM_OP_SENSOR_REPLAY, {0}},
        {TM_OP_SENSOR_SCRIPT, {0, 1}},
        {TM_OP_TELEMETRY, {}},
        {TM_OP_TELEMETRY, {0, 0}},
    };
    for (const Case &c : cases) {
        Frame r = h.request(c.op, c.payload);
        ASSERT_EQ(r.op, TM_OP_ERROR) << int(c.op);
        EXPECT_EQ(r.payload[0], c.op);
        EXPECT_EQ(r.errorCode(), TM_ERR_BAD_LENGTH) << int(c.op);
        EXPECT_FALSE(r.errorMessage().empty());
    }
    EXPECT_EQ(h.fake.resets, 0);
}

TEST(Agent, StreamStartValidates)
{
    AgentHarness h;
    auto start = [&](uint8_t sensor, uint32_t rate, uint32_t n, uint16_t spf) {
        return h.request(TM_OP_STREAM_START, cat({{sensor}, u32le(rate), u32le(n), u16le(spf)}));
    };
    EXPECT_EQ(start(0, 0, 0, 0).errorCode(), TM_ERR_RATE_UNSUPPORTED);
    EXPECT_EQ(start(0, 100000, 0, 0).errorCode(), TM_ERR_RATE_UNSUPPORTED);
    EXPECT_EQ(start(1, 100, 0, 0).errorCode(), TM_ERR_RATE_UNSUPPORTED);
    EXPECT_EQ(start(7, 100, 0, 0).errorCode(), TM_ERR_NO_SENSOR);
    EXPECT_EQ(start(0, 100, 0, 5000).errorCode(), TM_ERR_BAD_ARGUMENT);
    EXPECT_EQ(h.request(TM_OP_SET_SCENARIO, {0, 'x'}).errorCode(), TM_ERR_NO_SCENARIO);
    EXPECT_EQ(h.request(TM_OP_SET_SCENARIO, {9, 'i', 'd', 'l', 'e'}).errorCode(), TM_ERR_NO_SENSOR);
    EXPECT_EQ(h.request(TM_OP_SET_SENSOR_SEED, cat({{5}, u32le(1)})).errorCode(), TM_ERR_NO_SENSOR);

    Frame ok = start(0, 100, 0, 0);
    ASSERT_EQ(ok.op, TM_OP_STREAM_START | TM_OP_REPLY);
    EXPECT_EQ(start(1, 16000, 0, 0).errorCode(), TM_ERR_BUSY);
}

TEST(Agent, PicksFrameSizeForLatencyAndSize)
{
    AgentHarness h;
    for (uint8_t sensor : {0, 1}) {
        const tm_sensor_desc_t *d = h.fake.port.sensors[sensor]->desc;
        for (uint32_t rate : {d->min_rate_hz, 50u, 100u, 1000u, 4000u, 16000u}) {
            if (rate < d->min_rate_hz || rate > d->max_rate_hz)
                continue;
            uint16_t spf = tm_agent_pick_samples_per_frame(d, rate);
            size_t bytes = TM_STREAM_HEADER + size_t(spf) * d->channels * 2 + TM_FRAME_OVERHEAD;
            EXPECT_LE(bytes, 520u) << rate;
            if (rate >= TM_STREAM_MIN_FRAME_RATE)
                EXPECT_GE(double(rate) / spf, 20.0 - 1e-9) << rate;
            else
                EXPECT_EQ(spf, 1) << rate; // slow sensors: every sample at once
        }
    }
}

// Paced streaming driven by the fake clock: indices are contiguous, n_samples honoured.
TEST(Agent, StreamRunsPacedAndCompletes)
{
    AgentHarness h;
    Frame r = h.request(TM_OP_STREAM_START, cat({{0}, u32le(1000), u32le(1234), u16le(0)}));
    ASSERT_EQ(r.op, TM_OP_STREAM_START | TM_OP_REPLY);
    uint16_t spf = tm_get_u16(&r.payload[5]);
    EXPECT_EQ(spf, 50);
    h.fake.out.bytes.clear();
    uint32_t expect = 0;
    bool ended = false;
    for (int ms = 0; ms < 3000 && !ended; ++ms) {
        h.fake.nowUs += 1000;
        EXPECT_LE(tm_agent_next_deadline(h.agent.get()), h.fake.nowUs + 51000u);
        tm_agent_poll(h.agent.get());
        h.fake.out.parse();
        for (const Frame &f : h.fake.out.frames) {
            if (f.op == TM_OP_STREAM_DATA) {
                EXPECT_EQ(f.payload[0], 0);
                EXPECT_EQ(tm_get_u32(&f.payload[1]), expect);
                uint16_t n = tm_get_u16(&f.payload[5]);
                EXPECT_EQ(f.payload.size(), TM_STREAM_HEADER + n * 6u);
                expect += n;
            } else if (f.op == TM_OP_STREAM_END) {
                EXPECT_EQ(tm_get_u32(&f.payload[1]), 1234u);
                EXPECT_EQ(f.payload[5], TM_STREAM_END_COMPLETE);
                ended = true;
            }
        }
        h.fake.out.bytes.clear();
        // a frame is sent no later than the sample that completes it
        EXPECT_GE(expect + spf, std::min<uint32_t>(1234u, uint32_t(h.fake.nowUs / 1000)));
    }
    EXPECT_TRUE(ended);
    EXPECT_EQ(expect, 1234u);
    EXPECT_EQ(tm_agent_next_deadline(h.agent.get()), UINT64_MAX);
}

TEST(Agent, StreamStopRepliesThenEnds)
{
    AgentHarness h;
    h.request(TM_OP_STREAM_START, cat({{1}, u32le(16000), u32le(0), u16le(0)}));
    h.fake.nowUs += 100000;
    tm_agent_poll(h.agent.get());
    auto frames = h.exchange(TM_OP_STREAM_STOP);
    ASSERT_GE(frames.size(), 2u);
    EXPECT_EQ(frames[0].op, TM_OP_STREAM_STOP | TM_OP_REPLY);
    EXPECT_EQ(frames[1].op, TM_OP_STREAM_END);
    EXPECT_EQ(frames[1].payload[5], TM_STREAM_END_STOPPED);
}

TEST(Agent, StreamOverrunWhenTheLinkStalls)
{
    AgentHarness h;
    h.request(TM_OP_STREAM_START, cat({{0}, u32le(1000), u32le(0), u16le(0)}));
    h.fake.txReady = false;
    h.fake.out.bytes.clear();
    for (int i = 0; i < 20; ++i) {
        h.fake.nowUs += 100000;
        tm_agent_poll(h.agent.get());
    }
    h.fake.out.parse();
    ASSERT_FALSE(h.fake.out.frames.empty());
    const Frame &end = h.fake.out.frames.back();
    EXPECT_EQ(end.op, TM_OP_STREAM_END);
    EXPECT_EQ(end.payload[5], TM_STREAM_END_OVERRUN);
}

TEST(Agent, FastPortStreamsAsTheLinkAllows)
{
    AgentHarness h;
    h.fake.port.paced = 0;
    h.request(TM_OP_STREAM_START, cat({{1}, u32le(16000), u32le(16000), u16le(0)}));
    h.fake.out.bytes.clear();
    for (int i = 0; i < 100; ++i)
        tm_agent_poll(h.agent.get()); // no time passes at all
    h.fake.out.parse();
    ASSERT_FALSE(h.fake.out.frames.empty());
    EXPECT_EQ(h.fake.out.frames.back().op, TM_OP_STREAM_END);
    EXPECT_EQ(tm_get_u32(&h.fake.out.frames.back().payload[1]), 16000u);
}

TEST(Agent, HelloEndsARunningStream)
{
    AgentHarness h;
    h.request(TM_OP_STREAM_START, cat({{0}, u32le(100), u32le(0), u16le(0)}));
    auto frames = h.exchange(TM_OP_HELLO, u16le(1));
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_EQ(frames[0].op, TM_OP_HELLO | TM_OP_REPLY);
    EXPECT_EQ(frames[1].op, TM_OP_STREAM_END);
    EXPECT_EQ(frames[1].payload[5], TM_STREAM_END_STOPPED);
}

// ---- model upload ------------------------------------------------------------------

Bytes package(size_t n, uint8_t salt)
{
    Bytes p(n);
    for (size_t i = 0; i < n; ++i)
        p[i] = uint8_t(i * 31 + salt);
    return p;
}

struct ModelInfo {
    uint8_t active, valid;
    uint32_t size, crc;
};
ModelInfo modelInfo(AgentHarness &h)
{
    Frame r = h.request(TM_OP_MODEL_INFO);
    EXPECT_EQ(r.op, TM_OP_MODEL_INFO | TM_OP_REPLY);
    EXPECT_EQ(r.payload.size(), 10u);
    return {r.payload[0], r.payload[1], tm_get_u32(&r.payload[2]), tm_get_u32(&r.payload[6])};
}

// Upload pkg announcing crc; stop after `chunks` chunks (-1: all, then commit).
Frame upload(AgentHarness &h, const Bytes &pkg, uint32_t crc, int chunks = -1,
             const std::string &benchmarkId = {})
{
    Frame b = h.request(TM_OP_MODEL_BEGIN, cat({u32le(uint32_t(pkg.size())), u32le(crc)}));
    EXPECT_EQ(b.op, TM_OP_MODEL_BEGIN | TM_OP_REPLY);
    int sent = 0;
    for (size_t off = 0; off < pkg.size() && (chunks < 0 || sent < chunks); off += 1000, ++sent) {
        size_t n = std::min<size_t>(1000, pkg.size() - off);
        Bytes chunk = u32le(uint32_t(off));
        chunk.insert(chunk.end(), pkg.begin() + long(off), pkg.begin() + long(off + n));
        Frame c = h.request(TM_OP_MODEL_CHUNK, chunk);
        EXPECT_EQ(c.op, TM_OP_MODEL_CHUNK | TM_OP_REPLY);
        EXPECT_EQ(tm_get_u32(c.payload.data()), off + n);
    }
    if (chunks >= 0)
        return {};
    return h.request(TM_OP_MODEL_COMMIT, Bytes(benchmarkId.begin(), benchmarkId.end()));
}

TEST(AgentModel, UploadCommitAndPersist)
{
    AgentHarness h;
    EXPECT_EQ(modelInfo(h).active, TM_SLOT_NONE);
    EXPECT_EQ(h.request(TM_OP_INVOKE).errorCode(), TM_ERR_NO_MODEL);

    Bytes a = package(5000, 1);
    Frame c = upload(h, a, tm_crc32(0, a.data(), a.size()));
    ASSERT_EQ(c.op, TM_OP_MODEL_COMMIT | TM_OP_REPLY);
    EXPECT_EQ(c.payload[0], 0);
    ModelInfo mi = modelInfo(h);
    EXPECT_EQ(mi.active, 0);
    EXPECT_EQ(mi.valid, 1);
    EXPECT_EQ(mi.size, 5000u);
    EXPECT_EQ(mi.crc, tm_crc32(0, a.data(), a.size()));
    EXPECT_TRUE(h.fake.hasPersisted);

    // a second model goes to slot B
    Bytes b = package(7000, 2);
    c = upload(h, b, tm_crc32(0, b.data(), b.size()));
    EXPECT_EQ(c.payload[0], 1);
    EXPECT_EQ(modelInfo(h).active, 1);

    // committed bytes that are not a model package: stored, but nothing to run
    // (test_model_interpreter.cpp runs real packages)
    Frame inv = h.request(TM_OP_INVOKE);
    EXPECT_EQ(inv.errorCode(), TM_ERR_NO_MODEL);
    EXPECT_EQ(inv.errorMessage(), "active slot is not a valid model package: header.magic");
    EXPECT_EQ(h.request(TM_OP_BENCHMARK, u32le(10)).errorCode(), TM_ERR_NO_MODEL);

    // restart the agent on the same "flash": the model survives
    tm_agent_init(h.agent.get(), &h.fake.port);
    mi = modelInfo(h);
    EXPECT_EQ(mi.active, 1);
    EXPECT_EQ(mi.size, 7000u);

    // corrupted flash of the active slot: fall back to the other valid slot
    h.fake.slots[1][10] ^= 0xFF;
    tm_agent_init(h.agent.get(), &h.fake.port);
    mi = modelInfo(h);
    EXPECT_EQ(mi.active, 0);
    EXPECT_EQ(mi.size, 5000u);
}

TEST(AgentModel, CrcMismatchKeepsThePreviousModel)
{
    AgentHarness h;
    Bytes a = package(3000, 1);
    ASSERT_EQ(upload(h, a, tm_crc32(0, a.data(), a.size())).op, TM_OP_MODEL_COMMIT | TM_OP_REPLY);
    Bytes b = package(4000, 9);
    Frame c = upload(h, b, tm_crc32(0, b.data(), b.size()) ^ 1u);
    EXPECT_EQ(c.op, TM_OP_ERROR);
    EXPECT_EQ(c.errorCode(), TM_ERR_MODEL_CRC);
    ModelInfo mi = modelInfo(h);
    EXPECT_EQ(mi.active, 0);
    EXPECT_EQ(mi.size, 3000u);
    EXPECT_EQ(mi.crc, tm_crc32(0, a.data(), a.size()));
    // the failed upload is over
    EXPECT_EQ(h.request(TM_OP_MODEL_COMMIT).errorCode(), TM_ERR_UPLOAD_SEQUENCE);
}

TEST(AgentModel, InterruptedUploadKeepsThePreviousModel)
{
    AgentHarness h;
    Bytes a = package(3000, 1);
    const uint32_t crcA = tm_crc32(0, a.data(), a.size());
    ASSERT_EQ(upload(h, a, crcA).op, TM_OP_MODEL_COMMIT | TM_OP_REPLY);

    // BEGIN + some chunks, then nothing: the agent restarts
    Bytes b = package(9000, 5);
    upload(h, b, tm_crc32(0, b.data(), b.size()), 3);
    tm_agent_init(h.agent.get(), &h.fake.port);
    ModelInfo mi = modelInfo(h);
    EXPECT_EQ(mi.active, 0);
    EXPECT_EQ(mi.crc, crcA);

    // BEGIN + some chunks, then a new BEGIN of another package
    upload(h, b, tm_crc32(0, b.data(), b.size()), 2);
    EXPECT_EQ(modelInfo(h).crc, crcA);
    Bytes c = package(2500, 7);
    ASSERT_EQ(upload(h, c, tm_crc32(0, c.data(), c.size())).op, TM_OP_MODEL_COMMIT | TM_OP_REPLY);
    mi = modelInfo(h);
    EXPECT_EQ(mi.active, 1);
    EXPECT_EQ(mi.crc, tm_crc32(0, c.data(), c.size()));
}

TEST(AgentModel, UploadSequenceErrors)
{
    AgentHarness h;
    EXPECT_EQ(h.request(TM_OP_MODEL_CHUNK, cat({u32le(0), {1, 2}})).errorCode(),
              TM_ERR_UPLOAD_SEQUENCE);
    EXPECT_EQ(h.request(TM_OP_MODEL_COMMIT).errorCode(), TM_ERR_UPLOAD_SEQUENCE);
    EXPECT_EQ(h.request(TM_OP_MODEL_BEGIN, cat({u32le(FakePort::kSlotSize + 1), u32le(0)})).errorCode(),
              TM_ERR_MODEL_TOO_LARGE);
    EXPECT_EQ(h.request(TM_OP_MODEL_BEGIN, cat({u32le(0), u32le(0)})).errorCode(),
              TM_ERR_BAD_ARGUMENT);
    ASSERT_EQ(h.request(TM_OP_MODEL_BEGIN, cat({u32le(10), u32le(0)})).op,
              TM_OP_MODEL_BEGIN | TM_OP_REPLY);
    Frame skip = h.request(TM_OP_MODEL_CHUNK, cat({u32le(4), {1, 2}}));
    EXPECT_EQ(skip.errorCode(), TM_ERR_UPLOAD_SEQUENCE);
    EXPECT_NE(skip.errorMessage().find(" 0"), std::string::npos);
    EXPECT_EQ(h.request(TM_OP_MODEL_CHUNK, cat({u32le(0), Bytes(11, 1)})).errorCode(),
              TM_ERR_BAD_ARGUMENT);
    EXPECT_EQ(h.request(TM_OP_MODEL_CHUNK, cat({u32le(0), Bytes(4, 1)})).op,
              TM_OP_MODEL_CHUNK | TM_OP_REPLY);
    EXPECT_EQ(h.request(TM_OP_MODEL_COMMIT).errorCode(), TM_ERR_UPLOAD_SEQUENCE); // incomplete
    // streaming and uploading do not mix
    h.request(TM_OP_STREAM_START, cat({{0}, u32le(100), u32le(0), u16le(0)}));
    EXPECT_EQ(h.request(TM_OP_MODEL_BEGIN, cat({u32le(10), u32le(0)})).errorCode(), TM_ERR_BUSY);
}

TEST(AgentModel, InputAndOutputBuffers)
{
    AgentHarness h;
    EXPECT_EQ(h.request(TM_OP_SET_INPUT, cat({u32le(0), {1, 2, 3}})).op, TM_OP_SET_INPUT | TM_OP_REPLY);
    EXPECT_EQ(h.agent->input[2], 3);
    EXPECT_EQ(h.request(TM_OP_SET_INPUT, cat({u32le(TM_AGENT_INPUT_BYTES - 1), {1, 2}})).errorCode(),
              TM_ERR_BAD_ARGUMENT);
    Frame out = h.request(TM_OP_GET_OUTPUT, cat({u32le(0), u16le(16)}));
    EXPECT_EQ(out.payload.size(), 16u);
    EXPECT_EQ(h.request(TM_OP_GET_OUTPUT, cat({u32le(TM_AGENT_OUTPUT_BYTES), u16le(1)})).errorCode(),
              TM_ERR_BAD_ARGUMENT);
    EXPECT_EQ(h.request(TM_OP_BENCHMARK, u32le(0)).errorCode(), TM_ERR_BAD_ARGUMENT);
}

// ---- link errors -------------------------------------------------------------------

TEST(AgentLink, CorruptedFrameTriggersRateLimitedError)
{
    AgentHarness h;
    Bytes f = encodeFrame(5, TM_OP_PING, {1, 2, 3});
    f[3] ^= 0x40; // payload byte: CRC mismatch
    h.fake.out.bytes.clear();
    h.feed(f);
    h.fake.out.parse();
    ASSERT_EQ(h.fake.out.frames.size(), 1u);
    const Frame &e = h.fake.out.frames[0];
    EXPECT_EQ(e.op, TM_OP_ERROR);
    EXPECT_EQ(e.seq, 0);
    EXPECT_EQ(e.payload[0], 0);
    EXPECT_EQ(e.errorCode(), TM_ERR_BAD_CRC);

    // within 100 ms: no second report
    h.fake.out.bytes.clear();
    h.fake.nowUs += 50000;
    h.feedText(std::string("\x05garbage", 8));
    h.feed({0});
    h.fake.out.parse();
    EXPECT_TRUE(h.fake.out.frames.empty());

    // later: reported again, as BAD_LENGTH for a non-CRC problem (too short)
    h.fake.nowUs += 60000;
    h.feed({0x02, 0x01, 0x00});
    h.fake.out.parse();
    ASSERT_EQ(h.fake.out.frames.size(), 1u);
    EXPECT_EQ(h.fake.out.frames[0].errorCode(), TM_ERR_BAD_LENGTH);

    // and a valid frame right after still works
    EXPECT_EQ(h.request(TM_OP_PING, {9}).payload, Bytes{9});
}

TEST(AgentLink, OverlongInputIsDroppedAndReported)
{
    AgentHarness h;
    Bytes junk(TM_MAX_ENCODED_FRAME + 10, 0x01);
    h.feed(junk);
    h.feed({0});
    h.fake.out.parse();
    ASSERT_EQ(h.fake.out.frames.size(), 1u);
    EXPECT_EQ(h.fake.out.frames[0].errorCode(), TM_ERR_BAD_LENGTH);
    EXPECT_EQ(h.request(TM_OP_PING, {1}).payload, Bytes{1});
}

TEST(AgentLink, LinkTestSendsGarbageABadFrameThenTheReply)
{
    AgentHarness h;
    h.fake.out.bytes.clear();
    uint8_t s = h.seq;
    h.feed(encodeFrame(h.seq++, TM_OP_LINK_TEST, {40}));
    h.fake.out.parse();
    EXPECT_EQ(h.fake.out.badFrames, 2); // the garbage, then the frame with a wrong CRC
    ASSERT_EQ(h.fake.out.frames.size(), 1u);
    EXPECT_EQ(h.fake.out.frames[0].seq, s);
    EXPECT_EQ(h.fake.out.frames[0].op, TM_OP_LINK_TEST | TM_OP_REPLY);
    EXPECT_TRUE(h.fake.out.frames[0].payload.empty());
}

TEST(AgentLink, ResetRepliesThenResets)
{
    AgentHarness h;
    h.request(TM_OP_STREAM_START, cat({{0}, u32le(100), u32le(0), u16le(0)}));
    Frame r = h.request(TM_OP_RESET);
    EXPECT_EQ(r.op, TM_OP_RESET | TM_OP_REPLY);
    EXPECT_EQ(h.fake.resets, 1);
    EXPECT_FALSE(h.agent->stream.active); // the agent restarted itself
    EXPECT_EQ(h.request(TM_OP_PING, {1}).payload, Bytes{1});
}

// ---- MLPerf text commands ----------------------------------------------------------

std::string text(AgentHarness &h, const std::string &cmd)
{
    h.fake.out.bytes.clear();
    h.feedText(cmd);
    h.fake.out.parse();
    return h.fake.out.text;
}

TEST(AgentText, NameProfileUnknown)
{
    AgentHarness h;
    EXPECT_EQ(text(h, "name%"), "m-name-dut-[fake-board]\r\nm-ready\r\n");
    EXPECT_EQ(text(h, "profile%"),
              "m-profile-[tinyml-agent-" TM_AGENT_VERSION "]\r\nm-model-[none]\r\nm-ready\r\n");
    EXPECT_EQ(text(h, "bogus%"), "e-[unknown command bogus]\r\nm-ready\r\n");
    EXPECT_EQ(text(h, "\r\nname%"), "m-name-dut-[fake-board]\r\nm-ready\r\n");
    EXPECT_EQ(text(h, "infer 10 1%"), "e-[no model loaded]\r\nm-ready\r\n");
    EXPECT_EQ(text(h, "results%"), "e-[no model loaded]\r\nm-ready\r\n");
}

TEST(AgentText, DbLoadAndData)
{
    AgentHarness h;
    std::string tooBig = "db load " + std::to_string(TM_AGENT_INPUT_BYTES + 1) + "%";
    EXPECT_EQ(text(h, tooBig).substr(0, 3), "e-[");
    EXPECT_EQ(text(h, "db 0102%").substr(0, 3), "e-["); // no db load first
    // the reference DUT firmware's answer to db load
    EXPECT_EQ(text(h, "db load 4%"), "m-[Expecting 4 bytes]\r\nm-ready\r\n");
    EXPECT_EQ(text(h, "db 0aff%"), "m-ready\r\n");
    EXPECT_EQ(text(h, "db 1B2c%"), "m-load-done\r\nm-ready\r\n");
    EXPECT_EQ(h.agent->input[0], 0x0A);
    EXPECT_EQ(h.agent->input[1], 0xFF);
    EXPECT_EQ(h.agent->input[3], 0x2C);
    EXPECT_EQ(text(h, "db 00%").substr(0, 3), "e-["); // more than announced
    EXPECT_EQ(text(h, "db 0%").substr(0, 3), "e-[");  // odd digit count
}

TEST(AgentText, TextAndFramesShareTheLine)
{
    AgentHarness h;
    // a runner's text never grows the frame decoder into an overflow report
    std::string many;
    for (int i = 0; i < 2000; ++i)
        many += "name%";
    h.feedText(many);
    h.fake.out.parse();
    EXPECT_TRUE(h.fake.out.frames.empty());
    // and a frame after text (with the 0x00 a host sends first) still decodes
    h.fake.out.bytes.clear();
    h.feed({0});
    EXPECT_EQ(h.request(TM_OP_PING, {7}).payload, Bytes{7});

    // a frame whose COBS code or seq byte is '%' is never cut by the text parser
    for (int seq = 0; seq < 256; ++seq) {
        Bytes f = encodeFrame(uint8_t(seq), TM_OP_PING, Bytes(36, 0x41)); // code byte 0x27
        h.fake.out.bytes.clear();
        h.feed(f);
        h.fake.out.parse();
        ASSERT_EQ(h.fake.out.frames.size(), 1u) << seq;
        EXPECT_EQ(h.fake.out.frames[0].seq, seq);
        EXPECT_TRUE(h.fake.out.text.empty()) << seq;
    }
    // COBS code byte '%': the first zero sits 36 bytes into the decoded frame
    Bytes zeroAt36(34, 0x41);
    zeroAt36.push_back(0);
    zeroAt36.push_back(0x41);
    for (int seq = 1; seq < 256; ++seq) {
        Bytes f = encodeFrame(uint8_t(seq), TM_OP_PING, zeroAt36);
        ASSERT_EQ(f[0], '%');
        h.fake.out.bytes.clear();
        h.feed(f);
        h.fake.out.parse();
        ASSERT_EQ(h.fake.out.frames.size(), 1u) << seq;
        EXPECT_EQ(h.fake.out.frames[0].payload, zeroAt36);
    }
    // a frame after a text reply is preceded by a delimiter on the device side
    text(h, "name%");
    h.fake.out.bytes.clear();
    h.feedText("name%");
    h.feed(encodeFrame(h.seq++, TM_OP_PING, {3}));
    h.fake.out.parse();
    ASSERT_EQ(h.fake.out.frames.size(), 1u);
    EXPECT_EQ(h.fake.out.frames[0].payload, Bytes{3});
}

TEST(AgentText, SlotWithoutAValidPackage)
{
    AgentHarness h;
    Bytes a = package(100, 3);
    ASSERT_EQ(upload(h, a, tm_crc32(0, a.data(), a.size())).op, TM_OP_MODEL_COMMIT | TM_OP_REPLY);
    EXPECT_EQ(text(h, "infer 1 0%"),
              "e-[active slot is not a valid model package: header.magic]\r\nm-ready\r\n");
    EXPECT_EQ(text(h, "results%"),
              "e-[active slot is not a valid model package: header.magic]\r\nm-ready\r\n");
    // committed without a benchmark id (an older host): named by CRC
    char crcName[40];
    std::snprintf(crcName, sizeof crcName, "m-model-[package-%08x]", tm_crc32(0, a.data(), a.size()));
    EXPECT_NE(text(h, "profile%").find(crcName), std::string::npos);
}

TEST(AgentText, BenchmarkIdFromModelCommit)
{
    AgentHarness h;
    h.fake.persistent = true;
    Bytes a = package(100, 3), b = package(120, 4);
    // refused ids change nothing: the upload is still pending and commits afterwards
    Frame bad = upload(h, a, tm_crc32(0, a.data(), a.size()), -1, "kws]01");
    EXPECT_EQ(bad.errorCode(), TM_ERR_BAD_ARGUMENT);
    EXPECT_NE(bad.errorMessage().find("benchmark id"), std::string::npos) << bad.errorMessage();
    EXPECT_EQ(h.request(TM_OP_MODEL_COMMIT, Bytes{'k', 'w', 's', '%'}).errorCode(), TM_ERR_BAD_ARGUMENT);
    EXPECT_EQ(h.request(TM_OP_MODEL_COMMIT, Bytes{'k', 'w', 's', '0', '1'}).op,
              TM_OP_MODEL_COMMIT | TM_OP_REPLY);
    EXPECT_EQ(text(h, "profile%"),
              "m-profile-[tinyml-agent-" TM_AGENT_VERSION "]\r\nm-model-[kws01]\r\nm-ready\r\n");
    // each slot keeps its own id; the longest id is 8 characters
    ASSERT_EQ(upload(h, b, tm_crc32(0, b.data(), b.size()), -1, "vww01.v2").op,
              TM_OP_MODEL_COMMIT | TM_OP_REPLY);
    EXPECT_NE(text(h, "profile%").find("\r\nm-model-[vww01.v2]\r\n"), std::string::npos);
    // MODEL_INFO with flag 0x01 adds [u8 len] id; without a payload it is the 10 bytes of old
    Frame mi = h.request(TM_OP_MODEL_INFO, {1});
    ASSERT_EQ(mi.op, TM_OP_MODEL_INFO | TM_OP_REPLY);
    ASSERT_EQ(mi.payload.size(), 19u);
    EXPECT_EQ(mi.payload[0], 1);
    EXPECT_EQ(mi.payload[10], 8);
    EXPECT_EQ(std::string(mi.payload.begin() + 11, mi.payload.end()), "vww01.v2");
    EXPECT_EQ(h.request(TM_OP_MODEL_INFO).payload.size(), 10u);
    EXPECT_EQ(h.request(TM_OP_MODEL_INFO, {4}).errorCode(), TM_ERR_BAD_ARGUMENT);
    EXPECT_STREQ(h.fake.persisted.slot[0].benchmark_id, "kws01");
    EXPECT_STREQ(h.fake.persisted.slot[1].benchmark_id, "vww01.v2");
    // the id survives a restart (the port persisted the table)
    tm_agent_init(h.agent.get(), &h.fake.port);
    EXPECT_NE(text(h, "profile%").find("\r\nm-model-[vww01.v2]\r\n"), std::string::npos);
    // a persisted id that is none (a port's own storage) is not printed
    std::memcpy(h.fake.persisted.slot[1].benchmark_id, "vw]w\xff\x01xyz", TM_BENCHMARK_ID_MAX + 1);
    tm_agent_init(h.agent.get(), &h.fake.port);
    EXPECT_NE(text(h, "profile%").find("\r\nm-model-[package-"), std::string::npos);
    // a new upload without an id does not inherit the old slot's id
    ASSERT_EQ(upload(h, a, tm_crc32(0, a.data(), a.size())).op, TM_OP_MODEL_COMMIT | TM_OP_REPLY);
    EXPECT_NE(text(h, "profile%").find("m-model-[package-"), std::string::npos);
    mi = h.request(TM_OP_MODEL_INFO, {1});
    ASSERT_EQ(mi.payload.size(), 11u);
    EXPECT_EQ(mi.payload[10], 0);
}

TEST(AgentText, FlashHeaderKeepsBenchmarkIds)
{
    tm_slot_table_t t{};
    t.active = 1;
    t.slot[0] = {1, 100, 0x11223344u, "ad01"};
    t.slot[1] = {1, 200, 0x55667788u, "kws01abc"};
    uint8_t hd[TM_FLASH_HEADER_BYTES];
    tm_flash_header_encode(&t, 4096, hd);
    EXPECT_EQ(std::string(reinterpret_cast<char *>(hd + 40), 8), std::string("ad01\0\0\0\0", 8));
    EXPECT_EQ(std::string(reinterpret_cast<char *>(hd + 48), 8), "kws01abc");
    for (int i = 56; i < 60; ++i)
        EXPECT_EQ(hd[i], 0) << i; // reserved for a later anti-rollback counter
    tm_slot_table_t back{};
    ASSERT_EQ(tm_flash_header_decode(hd, 4096, &back), TM_OK);
    EXPECT_STREQ(back.slot[0].benchmark_id, "ad01");
    EXPECT_STREQ(back.slot[1].benchmark_id, "kws01abc");
    EXPECT_EQ(back.slot[1].crc, 0x55667788u);

    // an image written before the ids (zeros at 40..55) loads with no id
    std::memset(hd + 40, 0, 16);
    tm_put_u32(hd + 60, tm_crc32(0, hd, 60));
    ASSERT_EQ(tm_flash_header_decode(hd, 4096, &back), TM_OK);
    EXPECT_STREQ(back.slot[0].benchmark_id, "");
    EXPECT_STREQ(back.slot[1].benchmark_id, "");
    EXPECT_EQ(back.slot[0].size, 100u);

    // bytes that are no id (a character outside the set, or text after a zero) are dropped
    std::memcpy(hd + 40, "kw]s\0\0\0\0ab\0cd\0\0\0", 16);
    tm_put_u32(hd + 60, tm_crc32(0, hd, 60));
    ASSERT_EQ(tm_flash_header_decode(hd, 4096, &back), TM_OK);
    EXPECT_STREQ(back.slot[0].benchmark_id, "");
    EXPECT_STREQ(back.slot[1].benchmark_id, "");
}

} // namespace
