// The agent protocol's pure parts: INFO TLVs, stream decoding, loss counting, framing.

#include "device/AgentProtocol.h"

#include "tm_frame.h"
#include "tm_protocol.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace tinyml;

namespace {

DeviceInfo sampleInfo()
{
    DeviceInfo info;
    info.protocolVersion = 1;
    info.agentVersion = QStringLiteral("0.1.0");
    info.boardId = QStringLiteral("qemu-m4");
    info.cpu = QStringLiteral("cortex-m4f");
    info.clockHz = 25000000;
    info.ramBytes = 4u << 20;
    info.flashBytes = 4u << 20;
    info.ramFree = 200000;
    info.flashFree = 1u << 20;
    info.counterKind = TM_COUNTER_INSTRUCTIONS;
    info.counterResolution = 40;
    info.capabilities = TM_CAP_STREAMING | TM_CAP_SCENARIOS;
    DeviceSensorInfo accel;
    accel.id = 0;
    accel.kind = TM_SENSOR_ACCELEROMETER;
    accel.dtype = TM_DTYPE_INT16;
    accel.channelCount = 3;
    accel.scale = 0.01f;
    accel.minRateHz = 1;
    accel.maxRateHz = 1000;
    accel.defaultRateHz = 100;
    accel.name = QStringLiteral("accel");
    accel.channels = QStringList{QStringLiteral("x"), QStringLiteral("y"), QStringLiteral("z")};
    accel.units = QStringList{QStringLiteral("m/s2"), QStringLiteral("m/s2"), QStringLiteral("m/s2")};
    accel.scenarios = QStringList{QStringLiteral("idle"), QStringLiteral("wave")};
    DeviceSensorInfo mic;
    mic.id = 1;
    mic.kind = TM_SENSOR_MICROPHONE;
    mic.dtype = TM_DTYPE_FLOAT32;
    mic.channelCount = 1;
    mic.scale = 1.0f;
    mic.minRateHz = 16000;
    mic.maxRateHz = 16000;
    mic.defaultRateHz = 16000;
    mic.name = QStringLiteral("mic");
    mic.channels = QStringList{QStringLiteral("audio")};
    mic.units = QStringList{QStringLiteral("1")};
    info.sensors = {accel, mic};
    info.simulator = QStringLiteral("simulated sensors");
    info.build = QStringLiteral("gcc 12");
    info.modelSlots = 2;
    info.modelSlotBytes = 1u << 20;
    return info;
}

QByteArray streamPayload(int sensor, quint32 first, const QVector<qint16> &values, int channels)
{
    QByteArray p(7, 0);
    auto *b = reinterpret_cast<uint8_t *>(p.data());
    b[0] = uint8_t(sensor);
    tm_put_u32(b + 1, first);
    tm_put_u16(b + 5, uint16_t(values.size() / channels));
    for (qint16 v : values) {
        uint8_t t[2];
        tm_put_u16(t, uint16_t(v));
        p.append(reinterpret_cast<char *>(t), 2);
    }
    return p;
}

} // namespace

TEST(DeviceInfoParsing, RoundTripsEveryField)
{
    const DeviceInfo in = sampleInfo();
    QString error;
    auto out = parseDeviceInfo(encodeDeviceInfo(in), &error);
    ASSERT_TRUE(out) << error.toStdString();
    EXPECT_EQ(out->protocolVersion, 1);
    EXPECT_EQ(out->agentVersion, QStringLiteral("0.1.0"));
    EXPECT_EQ(out->boardId, QStringLiteral("qemu-m4"));
    EXPECT_EQ(out->cpu, QStringLiteral("cortex-m4f"));
    EXPECT_EQ(out->clockHz, 25000000u);
    EXPECT_EQ(out->ramFree, 200000u);
    EXPECT_EQ(out->counterKindName(), QStringLiteral("instructions"));
    EXPECT_EQ(out->counterResolution, 40u);
    EXPECT_TRUE(out->hasCapability(TM_CAP_SCENARIOS));
    EXPECT_FALSE(out->hasCapability(TM_CAP_INFERENCE));
    ASSERT_EQ(out->sensors.size(), 2);
    const DeviceSensorInfo &accel = out->sensors[0];
    EXPECT_EQ(accel.name, QStringLiteral("accel"));
    EXPECT_EQ(accel.channelCount, 3);
    EXPECT_FLOAT_EQ(accel.scale, 0.01f);
    EXPECT_EQ(accel.maxRateHz, 1000u);
    EXPECT_EQ(accel.channels.join(','), QStringLiteral("x,y,z"));
    EXPECT_EQ(accel.units.value(2), QStringLiteral("m/s2"));
    EXPECT_EQ(accel.scenarios.join(','), QStringLiteral("idle,wave"));
    EXPECT_EQ(out->sensors[1].dtype, int(TM_DTYPE_FLOAT32));
    EXPECT_EQ(out->simulator, QStringLiteral("simulated sensors"));
    EXPECT_EQ(out->modelSlots, 2);
    EXPECT_EQ(out->unknownTags, 0);
}

TEST(DeviceInfoParsing, UnknownTagIsSkippedByLength)
{
    QByteArray tlv = encodeDeviceInfo(sampleInfo());
    // A tag from a future agent, in the middle: 200, length 3, three bytes.
    tlv.insert(4, QByteArray::fromHex("c803aabbcc"));
    QString error;
    auto out = parseDeviceInfo(tlv, &error);
    ASSERT_TRUE(out) << error.toStdString();
    EXPECT_EQ(out->unknownTags, 1);
    EXPECT_EQ(out->boardId, QStringLiteral("qemu-m4"));
}

TEST(DeviceInfoParsing, TruncatedRecordIsAnErrorNamingTheTag)
{
    const QByteArray tlv = encodeDeviceInfo(sampleInfo());
    QString error;
    // Cut inside the BOARD_ID record (after PROTOCOL_VERSION and AGENT_VERSION).
    const int cut = 4 + 2 + 5 + 2 + 3;
    EXPECT_FALSE(parseDeviceInfo(tlv.left(cut), &error));
    EXPECT_TRUE(error.contains(QStringLiteral("BOARD_ID"))) << error.toStdString();
    EXPECT_TRUE(error.contains(QStringLiteral("truncated"))) << error.toStdString();
    EXPECT_FALSE(parseDeviceInfo(QByteArray::fromHex("05"), &error));
}

TEST(DeviceInfoParsing, ShortKnownValueIsAnError)
{
    QString error;
    // CLOCK_HZ with a 2-byte value.
    EXPECT_FALSE(parseDeviceInfo(QByteArray::fromHex("05021234"), &error));
    EXPECT_TRUE(error.contains(QStringLiteral("CLOCK_HZ"))) << error.toStdString();
}

TEST(StreamDecoding, ScalesInt16ToPhysicalUnits)
{
    const DeviceInfo info = sampleInfo();
    QString error;
    auto data = decodeStreamData(streamPayload(0, 10, {100, -200, 981, 1, 2, 3}, 3), info, &error);
    ASSERT_TRUE(data) << error.toStdString();
    EXPECT_EQ(data->firstIndex, 10u);
    EXPECT_EQ(data->frames, 2);
    ASSERT_EQ(data->data.shape, (QVector<qint64>{2, 3}));
    ASSERT_TRUE(data->data.isConsistent());
    const float *f = data->data.floatData();
    EXPECT_FLOAT_EQ(f[0], 1.0f);
    EXPECT_FLOAT_EQ(f[1], -2.0f);
    EXPECT_FLOAT_EQ(f[2], 9.81f);
    EXPECT_FLOAT_EQ(f[5], 0.03f);
}

TEST(StreamDecoding, RejectsWrongLengthAndUnknownSensor)
{
    const DeviceInfo info = sampleInfo();
    QString error;
    QByteArray p = streamPayload(0, 0, {1, 2, 3}, 3);
    p.chop(1);
    EXPECT_FALSE(decodeStreamData(p, info, &error));
    EXPECT_TRUE(error.contains(QStringLiteral("need"))) << error.toStdString();
    EXPECT_FALSE(decodeStreamData(streamPayload(7, 0, {1, 2, 3}, 3), info, &error));
    EXPECT_FALSE(decodeStreamData(QByteArray(3, 0), info, &error));
}

TEST(StreamLoss, GapsAreCountedAndDuplicatesIgnored)
{
    StreamLossCounter loss;
    EXPECT_EQ(loss.add(0, 10), 0);
    EXPECT_EQ(loss.add(10, 10), 0);
    EXPECT_EQ(loss.add(25, 10), 5);   // 20..24 missing
    EXPECT_EQ(loss.add(35, 5), 0);
    EXPECT_EQ(loss.add(30, 5), 0);    // a repeat
    EXPECT_EQ(loss.duplicates(), 1);
    EXPECT_EQ(loss.lost(), 5);
    EXPECT_EQ(loss.received(), 35);
    EXPECT_EQ(loss.nextIndex(), 40);
    EXPECT_EQ(loss.lostAtEnd(40), 0);
    EXPECT_EQ(loss.lostAtEnd(48), 8); // STREAM_END says 48 sent
}

TEST(StreamLoss, FirstBlockNotAtZeroCountsTheMissingStart)
{
    StreamLossCounter loss;
    EXPECT_EQ(loss.add(3, 4), 3);
    EXPECT_EQ(loss.lost(), 3);
}

TEST(StreamLoss, IndexWrapsAroundU32)
{
    StreamLossCounter loss;
    // Join a stream just before its u32 index wraps (everything before counts as lost).
    EXPECT_EQ(loss.add(0xFFFFFFF0u, 12), qint64(0xFFFFFFF0u));
    EXPECT_EQ(loss.add(0xFFFFFFFCu, 8), 0); // crosses 2^32
    EXPECT_EQ(loss.add(4, 2), 0);           // wrapped index 4 == 2^32 + 4
    EXPECT_EQ(loss.add(8, 2), 2);           // a real gap after the wrap
    EXPECT_EQ(loss.nextIndex(), (qint64(1) << 32) + 10);
    EXPECT_EQ(loss.lost(), qint64(0xFFFFFFF0u) + 2);
}

TEST(AgentStreamParserTest, DecodesFramesAcrossArbitrarySplitsAndCountsErrors)
{
    AgentStreamParser parser;
    QVector<AgentFrame> frames;
    QVector<AgentStreamParser::Error> errors;
    parser.setFrameHandler([&](const AgentFrame &f) { frames << f; });
    parser.setErrorHandler([&](AgentStreamParser::Error e) { errors << e; });

    QByteArray wire = QByteArrayLiteral("boot banner\r\n"); // text between frames is harmless
    wire += encodeAgentFrame(1, TM_OP_PING | TM_OP_REPLY, QByteArrayLiteral("abc"));
    QByteArray bad = encodeAgentFrame(2, TM_OP_PING | TM_OP_REPLY, QByteArrayLiteral("xyz"));
    bad[3] = char(bad[3] ^ 0x01); // corrupt one payload byte: CRC mismatch
    wire += bad;
    wire += encodeAgentFrame(3, TM_OP_LOG, QByteArray(2000, 'L'));
    for (int i = 0; i < wire.size(); i += 7)
        parser.feed(wire.mid(i, 7));
    ASSERT_EQ(frames.size(), 2);
    EXPECT_EQ(frames[0].seq, 1);
    EXPECT_EQ(frames[0].payload, QByteArrayLiteral("abc"));
    EXPECT_EQ(frames[1].payload.size(), 2000);
    // The banner fails COBS or is too short; the corrupted frame fails its CRC.
    EXPECT_EQ(parser.crcErrors(), 1u);
    EXPECT_GE(errors.size(), 2);
    EXPECT_EQ(parser.framesOk(), 2u);
}

TEST(AgentStreamParserTest, OversizedRunWithoutDelimiterIsAnOverflowThenResyncs)
{
    AgentStreamParser parser;
    int frames = 0;
    parser.setFrameHandler([&](const AgentFrame &) { ++frames; });
    parser.feed(QByteArray(int(TM_MAX_ENCODED_FRAME) + 100, 'x'));
    parser.feed(encodeAgentFrame(9, TM_OP_PING | TM_OP_REPLY, {}));
    EXPECT_EQ(parser.overflows(), 1u);
    EXPECT_EQ(frames, 1);
}

TEST(AgentFraming, EncodeStartsWithFlushByteAndRefusesOversizedPayload)
{
    const QByteArray f = encodeAgentFrame(5, TM_OP_HELLO, helloPayload());
    ASSERT_FALSE(f.isEmpty());
    EXPECT_EQ(f.front(), '\0');
    EXPECT_EQ(f.back(), '\0');
    EXPECT_TRUE(encodeAgentFrame(5, TM_OP_PING, QByteArray(int(TM_MAX_PAYLOAD) + 1, 'a')).isEmpty());
    EXPECT_EQ(opName(TM_OP_STREAM_START | TM_OP_REPLY), QStringLiteral("STREAM_START reply"));
    EXPECT_EQ(agentErrorName(TM_ERR_BAD_CRC), QStringLiteral("BAD_CRC"));
}
