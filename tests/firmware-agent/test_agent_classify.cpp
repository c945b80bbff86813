// The agent's sensor sources and continuous-classification requests on a fake port
// (PROTOCOL.md "Continuous classification and sensor replay"): scenario scripts switch at the
// right frames and end with REPLAY_END, replay files come back exactly, bad files are named,
// CLASSIFY_START refuses what it cannot run, INFO reports the impulse. The classification
// itself on a version-2 package: test_agent_impulse.cpp.
#include <gtest/gtest.h>

#include <cmath>

#include "agent_test_support.h"

using namespace tmtest;

namespace {

struct Stream {
    std::vector<int16_t> values; ///< sample-major, in index order
    uint32_t samples = 0;
    int endReason = -1;
    uint32_t endCount = 0;
    bool contiguous = true;
};

/// Runs the paced fake clock in 10 ms steps until STREAM_END (or maxMs), collecting data.
Stream runStream(AgentHarness &h, int channels, int maxMs = 20000)
{
    Stream s;
    for (int t = 0; t <= maxMs && s.endReason < 0; t += 10) {
        h.fake.nowUs += 10000;
        h.fake.out.bytes.clear();
        tm_agent_poll(h.agent.get());
        h.fake.out.parse();
        for (const Frame &f : h.fake.out.frames) {
            if (f.op == TM_OP_STREAM_DATA) {
                uint32_t first = tm_get_u32(&f.payload[1]);
                uint16_t n = tm_get_u16(&f.payload[5]);
                s.contiguous &= first == s.samples;
                for (size_t i = 0; i < size_t(n) * channels; ++i)
                    s.values.push_back(int16_t(tm_get_u16(&f.payload[7 + 2 * i])));
                s.samples += n;
            } else if (f.op == TM_OP_STREAM_END) {
                s.endCount = tm_get_u32(&f.payload[1]);
                s.endReason = f.payload[5];
            }
        }
    }
    return s;
}

Bytes streamStart(uint8_t sensor, uint32_t rate, uint32_t n = 0, uint16_t spf = 0)
{
    return cat({{sensor}, u32le(rate), u32le(n), u16le(spf)});
}

Bytes scriptStep(uint8_t scenario, uint32_t ms) { return cat({{scenario}, u32le(ms)}); }

/// Standard deviation of channel c over frames [a, b).
double stdDev(const std::vector<int16_t> &v, int channels, int c, size_t a, size_t b)
{
    double sum = 0, sq = 0;
    for (size_t i = a; i < b; ++i) {
        double x = v[i * channels + c];
        sum += x;
        sq += x * x;
    }
    double n = double(b - a), m = sum / n;
    return std::sqrt(std::max(0.0, sq / n - m * m));
}

Bytes replayRequest(uint8_t sensor, const std::string &name)
{
    Bytes b(2 + name.size());
    b[0] = sensor;
    b[1] = TM_REPLAY_FILE;
    std::memcpy(b.data() + 2, name.data(), name.size());
    return b;
}

TEST(AgentSource, ScriptSwitchesScenariosAtFrameBoundariesAndEnds)
{
    AgentHarness h;
    // accel scenarios: 0 idle, 1 shake, 2 circle ... ; 1 s idle, 0.5 s shake, 0.5 s idle
    Frame r = h.request(TM_OP_SENSOR_SCRIPT, cat({{0}, u16le(3), scriptStep(0, 1000),
                                                  scriptStep(1, 500), scriptStep(0, 500)}));
    ASSERT_EQ(r.op, TM_OP_SENSOR_SCRIPT | TM_OP_REPLY);
    ASSERT_EQ(r.payload.size(), 4u);
    EXPECT_EQ(tm_get_u32(r.payload.data()), 200u); // at the default 100 Hz

    tm_sim_sensor_t ref;
    tm_sim_accel_init(&ref, 0);
    for (uint32_t rate : {100u, 50u}) {
        SCOPED_TRACE(rate);
        ASSERT_EQ(h.request(TM_OP_STREAM_START, streamStart(0, rate)).op,
                  TM_OP_STREAM_START | TM_OP_REPLY);
        Stream s = runStream(h, 3);
        const size_t b1 = rate, b2 = rate * 3 / 2, end = rate * 2;
        EXPECT_EQ(s.endReason, TM_STREAM_END_REPLAY_END);
        EXPECT_EQ(s.endCount, end);
        ASSERT_EQ(s.samples, end);
        EXPECT_TRUE(s.contiguous);
        // idle: tremor and noise of a few LSB x 10; shake: +-10 m/s^2 = +-5000 LSB on x
        const size_t w = rate / 10;
        EXPECT_LT(stdDev(s.values, 3, 0, b1 - w, b1), 100.0);
        EXPECT_GT(stdDev(s.values, 3, 0, b1, b1 + w), 1000.0);
        EXPECT_GT(stdDev(s.values, 3, 0, b2 - w, b2), 1000.0);
        EXPECT_LT(stdDev(s.values, 3, 0, b2, b2 + w), 100.0);
        // exactly: the simulator driven by hand with the same seed and switches
        ref.base.start(&ref.base, rate);
        std::vector<int16_t> expect(end * 3);
        const size_t bounds[4] = {0, b1, b2, end};
        const char *names[3] = {"idle", "shake", "idle"};
        for (int k = 0; k < 3; ++k) {
            ref.base.set_scenario(&ref.base, names[k], std::strlen(names[k]));
            ref.base.read(&ref.base, expect.data() + bounds[k] * 3, uint32_t(bounds[k + 1] - bounds[k]));
        }
        EXPECT_EQ(s.values, expect);
    }
    // a stream with n_samples shorter than the script completes normally
    ASSERT_EQ(h.request(TM_OP_STREAM_START, streamStart(0, 100, 30)).op,
              TM_OP_STREAM_START | TM_OP_REPLY);
    Stream s = runStream(h, 3);
    EXPECT_EQ(s.endReason, TM_STREAM_END_COMPLETE);
    EXPECT_EQ(s.samples, 30u);
    // count 0 clears the script: the stream runs until stopped
    ASSERT_EQ(h.request(TM_OP_SENSOR_SCRIPT, cat({{0}, u16le(0)})).op,
              TM_OP_SENSOR_SCRIPT | TM_OP_REPLY);
    ASSERT_EQ(h.request(TM_OP_STREAM_START, streamStart(0, 100)).op,
              TM_OP_STREAM_START | TM_OP_REPLY);
    s = runStream(h, 3, 3000);
    EXPECT_EQ(s.endReason, -1);
    EXPECT_GE(s.samples, 290u);
}

TEST(AgentSource, ScriptErrors)
{
    AgentHarness h;
    Frame r = h.request(TM_OP_SENSOR_SCRIPT, cat({{0}, u16le(1), scriptStep(5, 100)}));
    ASSERT_EQ(r.op, TM_OP_ERROR);
    EXPECT_EQ(r.errorCode(), TM_ERR_NO_SCENARIO);
    EXPECT_NE(r.errorMessage().find("scenario index 5"), std::string::npos) << r.errorMessage();
    r = h.request(TM_OP_SENSOR_SCRIPT, cat({{0}, u16le(257)}));
    EXPECT_EQ(r.errorCode(), TM_ERR_BAD_ARGUMENT);
    r = h.request(TM_OP_SENSOR_SCRIPT, cat({{0}, u16le(2), scriptStep(0, 100)}));
    EXPECT_EQ(r.errorCode(), TM_ERR_BAD_LENGTH);
    r = h.request(TM_OP_SENSOR_SCRIPT, cat({{7}, u16le(1), scriptStep(0, 100)}));
    EXPECT_EQ(r.errorCode(), TM_ERR_NO_SENSOR);
    r = h.request(TM_OP_SENSOR_SCRIPT, {0, 1});
    EXPECT_EQ(r.errorCode(), TM_ERR_BAD_LENGTH);
    // busy while a stream runs
    ASSERT_EQ(h.request(TM_OP_STREAM_START, streamStart(1, 16000)).op,
              TM_OP_STREAM_START | TM_OP_REPLY);
    r = h.request(TM_OP_SENSOR_SCRIPT, cat({{0}, u16le(1), scriptStep(0, 100)}));
    EXPECT_EQ(r.errorCode(), TM_ERR_BUSY);
    r = h.request(TM_OP_SENSOR_REPLAY, {0, 0});
    EXPECT_EQ(r.errorCode(), TM_ERR_BUSY);
}

TEST(AgentSource, ReplayPlaysTheFileExactly)
{
    AgentHarness h;
    h.withReplay();
    std::vector<int16_t> values;
    for (int i = 0; i < 3 * 250; ++i)
        values.push_back(int16_t(i * 97 - 30000));
    Bytes file;
    for (int16_t v : values) {
        file.push_back(uint8_t(uint16_t(v)));
        file.push_back(uint8_t(uint16_t(v) >> 8));
    }
    h.replayFiles.files["rec/accel.raw"] = file;

    Frame r = h.request(TM_OP_SENSOR_REPLAY, replayRequest(0, "rec/accel.raw"));
    ASSERT_EQ(r.op, TM_OP_SENSOR_REPLAY | TM_OP_REPLY) << r.errorMessage();
    EXPECT_EQ(tm_get_u32(r.payload.data()), 250u);
    for (int round = 0; round < 2; ++round) { // every STREAM_START plays from the first frame
        ASSERT_EQ(h.request(TM_OP_STREAM_START, streamStart(0, 400)).op,
                  TM_OP_STREAM_START | TM_OP_REPLY);
        Stream s = runStream(h, 3);
        EXPECT_EQ(s.endReason, TM_STREAM_END_REPLAY_END);
        EXPECT_EQ(s.endCount, 250u);
        EXPECT_TRUE(s.contiguous);
        EXPECT_EQ(s.values, values);
    }
    // the microphone is not replayed
    ASSERT_EQ(h.request(TM_OP_STREAM_START, streamStart(1, 16000, 100)).op,
              TM_OP_STREAM_START | TM_OP_REPLY);
    EXPECT_EQ(runStream(h, 1).endReason, TM_STREAM_END_COMPLETE);
    // mode 0 ends the replay
    r = h.request(TM_OP_SENSOR_REPLAY, {0, TM_REPLAY_OFF});
    ASSERT_EQ(r.op, TM_OP_SENSOR_REPLAY | TM_OP_REPLY);
    ASSERT_EQ(h.request(TM_OP_STREAM_START, streamStart(0, 100, 300)).op,
              TM_OP_STREAM_START | TM_OP_REPLY);
    Stream s = runStream(h, 3);
    EXPECT_EQ(s.endReason, TM_STREAM_END_COMPLETE);
    EXPECT_EQ(s.samples, 300u);
    // a replay does not survive HELLO: the next host would take it for the sensor
    ASSERT_EQ(h.request(TM_OP_SENSOR_REPLAY, replayRequest(0, "rec/accel.raw")).op,
              TM_OP_SENSOR_REPLAY | TM_OP_REPLY);
    ASSERT_EQ(h.request(TM_OP_HELLO, u16le(TM_PROTOCOL_VERSION)).op, TM_OP_HELLO | TM_OP_REPLY);
    ASSERT_EQ(h.request(TM_OP_STREAM_START, streamStart(0, 100, 300)).op,
              TM_OP_STREAM_START | TM_OP_REPLY);
    EXPECT_EQ(runStream(h, 3).samples, 300u);
}

TEST(AgentSource, ReplayRefusesBadFiles)
{
    AgentHarness h;
    Frame r = h.request(TM_OP_SENSOR_REPLAY, replayRequest(0, "x.raw"));
    EXPECT_EQ(r.errorCode(), TM_ERR_NOT_SUPPORTED) << "a port without file access";
    h.withReplay();
    h.replayFiles.files["seven.raw"] = Bytes(7, 1);
    h.replayFiles.files["empty.raw"] = Bytes();
    h.replayFiles.files["mono.raw"] = Bytes(10, 2);

    r = h.request(TM_OP_SENSOR_REPLAY, replayRequest(0, "missing.raw"));
    EXPECT_EQ(r.errorCode(), TM_ERR_BAD_ARGUMENT);
    EXPECT_NE(r.errorMessage().find("missing.raw"), std::string::npos) << r.errorMessage();
    r = h.request(TM_OP_SENSOR_REPLAY, replayRequest(0, "seven.raw"));
    EXPECT_EQ(r.errorCode(), TM_ERR_BAD_ARGUMENT);
    EXPECT_NE(r.errorMessage().find("seven.raw"), std::string::npos) << r.errorMessage();
    EXPECT_NE(r.errorMessage().find("multiple of 6"), std::string::npos) << r.errorMessage();
    r = h.request(TM_OP_SENSOR_REPLAY, replayRequest(0, "empty.raw"));
    EXPECT_EQ(r.errorCode(), TM_ERR_BAD_ARGUMENT);
    EXPECT_NE(r.errorMessage().find("empty.raw is empty"), std::string::npos) << r.errorMessage();
    // 10 bytes: 5 mono frames, but not whole 3-axis frames
    EXPECT_EQ(h.request(TM_OP_SENSOR_REPLAY, replayRequest(0, "mono.raw")).errorCode(),
              TM_ERR_BAD_ARGUMENT);
    r = h.request(TM_OP_SENSOR_REPLAY, replayRequest(1, "mono.raw"));
    ASSERT_EQ(r.op, TM_OP_SENSOR_REPLAY | TM_OP_REPLY);
    EXPECT_EQ(tm_get_u32(r.payload.data()), 5u);
    EXPECT_EQ(h.request(TM_OP_SENSOR_REPLAY, replayRequest(4, "mono.raw")).errorCode(),
              TM_ERR_NO_SENSOR);
    EXPECT_EQ(h.request(TM_OP_SENSOR_REPLAY, {0, 2, 'a'}).errorCode(), TM_ERR_BAD_ARGUMENT);
    EXPECT_EQ(h.request(TM_OP_SENSOR_REPLAY, {0, 1}).errorCode(), TM_ERR_BAD_ARGUMENT);
    EXPECT_EQ(h.request(TM_OP_SENSOR_REPLAY, {0}).errorCode(), TM_ERR_BAD_LENGTH);
}

TEST(AgentClassify, StartWithoutAModelAndBadRequests)
{
    AgentHarness h;
    Frame r = h.request(TM_OP_CLASSIFY_START, cat({{0xFF}, u32le(0), {0}}));
    ASSERT_EQ(r.op, TM_OP_ERROR);
    EXPECT_EQ(r.errorCode(), TM_ERR_NO_MODEL);
    EXPECT_EQ(h.request(TM_OP_CLASSIFY_START, cat({{0xFF}, u32le(0)})).errorCode(),
              TM_ERR_BAD_LENGTH);
    EXPECT_EQ(h.request(TM_OP_CLASSIFY_START, cat({{0xFF}, u32le(0), {2}})).errorCode(),
              TM_ERR_BAD_ARGUMENT);
    // STOP without a classification: the empty reply and no CLASSIFY_END
    auto frames = h.exchange(TM_OP_CLASSIFY_STOP);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].op, TM_OP_CLASSIFY_STOP | TM_OP_REPLY);
    EXPECT_EQ(h.request(TM_OP_CLASSIFY_STOP, {1}).errorCode(), TM_ERR_BAD_LENGTH);
    // a slot that is not a package
    Bytes junk(100, 0x42);
    uint32_t crc = tm_crc32(0, junk.data(), junk.size());
    ASSERT_EQ(h.request(TM_OP_MODEL_BEGIN, cat({u32le(100), u32le(crc)})).op,
              TM_OP_MODEL_BEGIN | TM_OP_REPLY);
    ASSERT_EQ(h.request(TM_OP_MODEL_CHUNK, cat({u32le(0), junk})).op, TM_OP_MODEL_CHUNK | TM_OP_REPLY);
    ASSERT_EQ(h.request(TM_OP_MODEL_COMMIT).op, TM_OP_MODEL_COMMIT | TM_OP_REPLY);
    r = h.request(TM_OP_CLASSIFY_START, cat({{0xFF}, u32le(0), {0}}));
    EXPECT_EQ(r.errorCode(), TM_ERR_NO_MODEL);
    EXPECT_NE(r.errorMessage().find("not a valid model package"), std::string::npos)
        << r.errorMessage();
}

TEST(AgentClassify, InfoReportsTheImpulseAndCapabilities)
{
    AgentHarness h;
    Frame r = h.request(TM_OP_HELLO, u16le(TM_PROTOCOL_VERSION));
    auto info = parseInfo(r.payload);
    uint32_t caps = tm_get_u32(info.find(TM_INFO_CAPABILITIES)->second.data());
    EXPECT_TRUE(caps & TM_CAP_CLASSIFY);
    EXPECT_FALSE(caps & TM_CAP_SENSOR_REPLAY) << "the plain fake port reads no files";
    ASSERT_EQ(info.count(TM_INFO_IMPULSE), 1u);
    const Bytes &imp = info.find(TM_INFO_IMPULSE)->second;
    ASSERT_EQ(imp.size(), 18u);
    EXPECT_EQ(tm_get_u16(imp.data()), TM_IMPULSE_FORMAT_VERSION);
    EXPECT_EQ(tm_get_u32(&imp[2]), tm_impulse_dsp_supported_mask());
    EXPECT_EQ(tm_get_u32(&imp[6]), tm_impulse_post_supported_mask());
    EXPECT_EQ(tm_get_u32(&imp[10]), TM_AGENT_RING_VALUES);
    EXPECT_EQ(tm_get_u32(&imp[14]), TM_AGENT_IMPULSE_WORK_BYTES);
    const Bytes &fmt = info.find(TM_INFO_MODEL_FORMAT)->second;
    EXPECT_EQ(tm_get_u16(fmt.data()), 2u);

    AgentHarness h2;
    h2.withReplay();
    r = h2.request(TM_OP_GET_INFO);
    info = parseInfo(r.payload);
    caps = tm_get_u32(info.find(TM_INFO_CAPABILITIES)->second.data());
    EXPECT_TRUE(caps & TM_CAP_SENSOR_REPLAY);
}

} // namespace
