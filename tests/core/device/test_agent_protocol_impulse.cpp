// Host side of continuous classification and sensor replay (PROTOCOL.md ops 0x13..0x16,
// unsolicited 0x43/0x44, INFO tag 18): exact byte layouts, every malformed length refused,
// and AgentLink's signals over a real pty against a scripted device.
#include "DeviceTestSupport.h"

#include "device/AgentLink.h"
#include "device/AgentProtocol.h"

#include "tm_frame.h"
#include "tm_protocol.h"

#include <cstring>

using namespace tinyml;
using namespace tinyml::test;

namespace {

QByteArray bytes(std::initializer_list<int> v)
{
    QByteArray b;
    for (int x : v)
        b.append(char(x));
    return b;
}

void putU32(QByteArray &b, quint32 v) { uint8_t t[4]; tm_put_u32(t, v); b.append(reinterpret_cast<char *>(t), 4); }
void putU16(QByteArray &b, quint16 v) { uint8_t t[2]; tm_put_u16(t, v); b.append(reinterpret_cast<char *>(t), 2); }

QByteArray resultPayload(quint32 windowEnd, int top, int decision, int flags, int classes, float score,
                         quint32 overruns, const QVector<qint8> &raw)
{
    QByteArray b;
    putU32(b, windowEnd);
    b.append(char(top)).append(char(decision)).append(char(flags)).append(char(classes));
    quint32 bits;
    std::memcpy(&bits, &score, 4);
    putU32(b, bits);
    putU32(b, 1000); // dsp
    putU32(b, 2000); // model
    putU32(b, 30);   // post
    putU32(b, overruns);
    for (qint8 v : raw)
        b.append(char(v));
    return b;
}

QByteArray endPayload(quint32 windows, quint32 overruns, quint32 lost, int reason)
{
    QByteArray b;
    putU32(b, windows);
    putU32(b, overruns);
    putU32(b, lost);
    b.append(char(reason));
    return b;
}

QByteArray startReply(int sensor, quint32 rate, quint32 window, quint32 stride, quint16 classes, quint32 ring)
{
    QByteArray b;
    b.append(char(sensor));
    putU32(b, rate);
    putU32(b, window);
    putU32(b, stride);
    putU16(b, classes);
    putU32(b, ring);
    return b;
}

} // namespace

TEST(AgentProtocolImpulse, ConstantsMatchPROTOCOL)
{
    EXPECT_EQ(TM_OP_CLASSIFY_START, 0x13);
    EXPECT_EQ(TM_OP_CLASSIFY_STOP, 0x14);
    EXPECT_EQ(TM_OP_SENSOR_REPLAY, 0x15);
    EXPECT_EQ(TM_OP_SENSOR_SCRIPT, 0x16);
    EXPECT_EQ(TM_OP_CLASSIFY_RESULT, 0x43);
    EXPECT_EQ(TM_OP_CLASSIFY_END, 0x44);
    EXPECT_EQ(TM_INFO_IMPULSE, 18);
    EXPECT_EQ(TM_CAP_CLASSIFY, 1u << 6);
    EXPECT_EQ(TM_CAP_SENSOR_REPLAY, 1u << 7);
    EXPECT_EQ(TM_STREAM_END_REPLAY_END, 3);
    EXPECT_EQ(opName(TM_OP_CLASSIFY_START | TM_OP_REPLY), QStringLiteral("CLASSIFY_START reply"));
    EXPECT_EQ(opName(TM_OP_CLASSIFY_RESULT), QStringLiteral("CLASSIFY_RESULT"));
    EXPECT_EQ(opName(TM_OP_SENSOR_SCRIPT), QStringLiteral("SENSOR_SCRIPT"));
    EXPECT_EQ(streamEndReasonName(TM_STREAM_END_REPLAY_END), QStringLiteral("replay end"));
    EXPECT_EQ(streamEndReasonName(9), QStringLiteral("reason 9"));
}

TEST(AgentProtocolImpulse, RequestPayloads)
{
    EXPECT_EQ(classifyStartPayload(0xFF, 0x01020304, TM_CLASSIFY_RAW), bytes({0xFF, 4, 3, 2, 1, 1}));
    EXPECT_EQ(sensorReplayPayload(1, TM_REPLAY_FILE, QStringLiteral("replay-mic.raw")),
              QByteArray("\x01\x01replay-mic.raw", 16));
    EXPECT_EQ(sensorReplayPayload(1, TM_REPLAY_OFF, QStringLiteral("ignored")), bytes({1, 0}));
    EXPECT_EQ(sensorScriptPayload(0, {{0, 5000}, {2, 0x01020304}}),
              bytes({0, 2, 0, 0, 0x88, 0x13, 0, 0, 2, 4, 3, 2, 1}));
    EXPECT_EQ(sensorScriptPayload(0, {}), bytes({0, 0, 0}));
    EXPECT_TRUE(sensorScriptPayload(0, QVector<SensorScriptStep>(257, {0, 1})).isEmpty());
    EXPECT_EQ(sensorScriptPayload(0, QVector<SensorScriptStep>(256, {0, 1})).size(), 3 + 256 * 5);
    EXPECT_TRUE(sensorScriptPayload(0, {{256, 1}}).isEmpty());
}

TEST(AgentProtocolImpulse, ClassifyStartReply)
{
    QString error;
    auto r = parseClassifyStartReply(startReply(0, 100, 200, 50, 4, 300), &error);
    ASSERT_TRUE(r) << error.toStdString();
    EXPECT_EQ(r->sensorId, 0);
    EXPECT_EQ(r->rateHz, 100u);
    EXPECT_EQ(r->window, 200u);
    EXPECT_EQ(r->stride, 50u);
    EXPECT_EQ(r->classCount, 4);
    EXPECT_EQ(r->ringFrames, 300u);
    EXPECT_FALSE(parseClassifyStartReply(startReply(0, 100, 200, 50, 4, 300).left(18), &error));
    EXPECT_TRUE(error.contains(QStringLiteral("18 bytes"))) << error.toStdString();
    EXPECT_FALSE(parseClassifyStartReply(startReply(0, 100, 200, 50, 4, 300) + 'x', &error));
    EXPECT_FALSE(parseClassifyStartReply(startReply(0, 100, 200, 50, 4, 249), &error));
    EXPECT_TRUE(error.contains(QStringLiteral("ring"))) << error.toStdString();
    EXPECT_FALSE(parseClassifyStartReply(startReply(0, 100, 200, 0, 4, 300), &error));
    EXPECT_FALSE(parseClassifyStartReply(startReply(0, 0, 200, 50, 4, 300), &error));
    EXPECT_FALSE(parseClassifyStartReply(startReply(0, 100, 200, 50, 0, 300), &error));
}

TEST(AgentProtocolImpulse, ClassifyResult)
{
    QString error;
    auto r = decodeClassifyResult(resultPayload(250, 2, 2, ClassifyResult::kDetection, 3, 0.875f, 7, {-128, 5, 127}), &error);
    ASSERT_TRUE(r) << error.toStdString();
    EXPECT_EQ(r->windowEnd, 250u);
    EXPECT_EQ(r->topClass, 2);
    EXPECT_EQ(r->decision, 2);
    EXPECT_TRUE(r->isDetection());
    EXPECT_FALSE(r->isUncertain());
    EXPECT_FLOAT_EQ(r->score, 0.875f);
    EXPECT_EQ(r->dspTicks, 1000u);
    EXPECT_EQ(r->modelTicks, 2000u);
    EXPECT_EQ(r->postTicks, 30u);
    EXPECT_EQ(r->overruns, 7u);
    EXPECT_EQ(r->raw, (QVector<qint8>{-128, 5, 127}));

    auto u = decodeClassifyResult(resultPayload(300, 1, 0xFF, 0, 3, 0.4f, 0, {0, 0, 0}), &error);
    ASSERT_TRUE(u) << error.toStdString();
    EXPECT_TRUE(u->isUncertain());

    // Length must follow class_count exactly.
    EXPECT_FALSE(decodeClassifyResult(resultPayload(1, 0, 0, 0, 3, 0, 0, {1, 2}), &error));
    EXPECT_TRUE(error.contains(QStringLiteral("3 classes"))) << error.toStdString();
    EXPECT_FALSE(decodeClassifyResult(resultPayload(1, 0, 0, 0, 3, 0, 0, {1, 2, 3, 4}), &error));
    EXPECT_FALSE(decodeClassifyResult(resultPayload(1, 0, 0, 0, 3, 0, 0, {}).left(27), &error));
    EXPECT_TRUE(error.contains(QStringLiteral("header"))) << error.toStdString();
    // Indices in range; a detection names a class.
    EXPECT_FALSE(decodeClassifyResult(resultPayload(1, 3, 0, 0, 3, 0, 0, {1, 2, 3}), &error));
    EXPECT_FALSE(decodeClassifyResult(resultPayload(1, 0, 3, 0, 3, 0, 0, {1, 2, 3}), &error));
    EXPECT_FALSE(decodeClassifyResult(resultPayload(1, 0, 0xFF, ClassifyResult::kDetection, 3, 0, 0, {1, 2, 3}), &error));
    EXPECT_FALSE(decodeClassifyResult(resultPayload(1, 0, 0, 0, 0, 0, 0, {}), &error));
}

TEST(AgentProtocolImpulse, ClassifyEndAndFrameCounts)
{
    QString error;
    auto e = decodeClassifyEnd(endPayload(40, 2, 150, TM_STREAM_END_REPLAY_END), &error);
    ASSERT_TRUE(e) << error.toStdString();
    EXPECT_EQ(e->windowsSent, 40u);
    EXPECT_EQ(e->overruns, 2u);
    EXPECT_EQ(e->framesLost, 150u);
    EXPECT_EQ(e->reason, int(TM_STREAM_END_REPLAY_END));
    EXPECT_FALSE(decodeClassifyEnd(endPayload(1, 0, 0, 0).left(12), &error));
    EXPECT_FALSE(decodeClassifyEnd(endPayload(1, 0, 0, 0) + 'x', &error));

    auto n = parseFrameCountReply(bytes({0x10, 0x27, 0, 0}), TM_OP_SENSOR_REPLAY | TM_OP_REPLY, &error);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 10000u);
    EXPECT_FALSE(parseFrameCountReply(bytes({1, 2, 3}), TM_OP_SENSOR_SCRIPT | TM_OP_REPLY, &error));
    EXPECT_TRUE(error.startsWith(QStringLiteral("SENSOR_SCRIPT reply has 3 bytes"))) << error.toStdString();
}

TEST(AgentProtocolImpulse, InfoImpulseTagRoundTripsAndIsOptional)
{
    DeviceInfo info;
    info.protocolVersion = 1;
    info.capabilities = TM_CAP_STREAMING | TM_CAP_CLASSIFY | TM_CAP_SENSOR_REPLAY;
    QString error;
    auto without = parseDeviceInfo(encodeDeviceInfo(info), &error);
    ASSERT_TRUE(without) << error.toStdString();
    EXPECT_FALSE(without->impulse);
    EXPECT_TRUE(without->hasCapability(TM_CAP_CLASSIFY));
    EXPECT_TRUE(without->hasCapability(TM_CAP_SENSOR_REPLAY));

    info.impulse = ImpulseCapabilities{1, 0x0B, 0x0F, 48000, 65536};
    const QByteArray tlv = encodeDeviceInfo(info);
    auto with = parseDeviceInfo(tlv, &error);
    ASSERT_TRUE(with) << error.toStdString();
    ASSERT_TRUE(with->impulse);
    EXPECT_EQ(with->impulse->formatVersion, 1);
    EXPECT_EQ(with->impulse->dspMask, 0x0Bu);
    EXPECT_TRUE(with->impulse->hasDspBlock(3));
    EXPECT_FALSE(with->impulse->hasDspBlock(2));
    EXPECT_FALSE(with->impulse->hasDspBlock(40));
    EXPECT_TRUE(with->impulse->hasPostFeature(3));
    EXPECT_EQ(with->impulse->ringValues, 48000u);
    EXPECT_EQ(with->impulse->workBytes, 65536u);
    EXPECT_EQ(with->unknownTags, 0);

    // The record's exact bytes: tag 18, length 18, u16 + 4 x u32.
    const int at = int(tlv.indexOf(bytes({18, 18, 1, 0, 0x0B, 0, 0, 0, 0x0F, 0, 0, 0})));
    ASSERT_GE(at, 0);
    // A short IMPULSE record is an error naming the tag.
    QByteArray shortTlv = bytes({18, 4, 1, 0, 0, 0});
    EXPECT_FALSE(parseDeviceInfo(shortTlv, &error));
    EXPECT_TRUE(error.contains(QStringLiteral("IMPULSE"))) << error.toStdString();
}

namespace {

/// A device that classifies: answers CLASSIFY_START with a format, sends three results and a
/// CLASSIFY_END; answers SENSOR_REPLAY / SENSOR_SCRIPT with frame counts.
class ClassifyingAgent
{
public:
    explicit ClassifyingAgent(PtyDevice &pty) : m_pty(pty)
    {
        m_parser.setFrameHandler([this](const AgentFrame &f) { handle(f); });
        pty.onReceived = [this](const QByteArray &b) { m_parser.feed(b); };
    }
    QByteArray lastReplay, lastScript, lastStart;
    bool stopReceived = false;

private:
    void reply(quint8 seq, quint8 op, const QByteArray &payload)
    {
        m_pty.write(encodeAgentFrame(seq, op | TM_OP_REPLY, payload));
    }
    void handle(const AgentFrame &f)
    {
        switch (f.op) {
        case TM_OP_HELLO: {
            DeviceInfo info;
            info.protocolVersion = 1;
            info.boardId = QStringLiteral("classifier");
            info.capabilities = TM_CAP_CLASSIFY | TM_CAP_SENSOR_REPLAY;
            info.impulse = ImpulseCapabilities{1, 1, 0xF, 4096, 8192};
            DeviceSensorInfo accel;
            accel.id = 3;
            accel.channelCount = 3;
            accel.scale = 0.002f;
            accel.defaultRateHz = 100;
            accel.name = QStringLiteral("accel");
            accel.channels = QStringList{QStringLiteral("x"), QStringLiteral("y"), QStringLiteral("z")};
            accel.units = QStringList{QStringLiteral("g"), QStringLiteral("g"), QStringLiteral("g")};
            accel.scenarios = QStringList{QStringLiteral("idle"), QStringLiteral("shake")};
            info.sensors = {accel};
            reply(f.seq, f.op, encodeDeviceInfo(info));
            return;
        }
        case TM_OP_CLASSIFY_START:
            lastStart = f.payload;
            reply(f.seq, f.op, startReply(3, 100, 200, 50, 3, 400));
            // Results follow the reply at once (often in the same read on the host).
            m_pty.write(encodeAgentFrame(0, TM_OP_CLASSIFY_RESULT, resultPayload(200, 0, 0, 0, 3, 0.9f, 0, {100, -100, -100})));
            m_pty.write(encodeAgentFrame(0, TM_OP_CLASSIFY_RESULT, resultPayload(250, 1, 1, 1, 3, 0.8f, 0, {-100, 90, -100})));
            m_pty.write(encodeAgentFrame(0, TM_OP_CLASSIFY_RESULT, resultPayload(400, 1, 1, 2, 3, 0.7f, 2, {-100, 80, -100})));
            return;
        case TM_OP_CLASSIFY_STOP:
            stopReceived = true;
            reply(f.seq, f.op, {});
            // Claims 4 windows while 3 were sent: the link reports the missing one.
            m_pty.write(encodeAgentFrame(0, TM_OP_CLASSIFY_END, endPayload(4, 2, 100, TM_STREAM_END_STOPPED)));
            return;
        case TM_OP_SENSOR_REPLAY: {
            lastReplay = f.payload;
            QByteArray r;
            putU32(r, 48000);
            reply(f.seq, f.op, r);
            return;
        }
        case TM_OP_SENSOR_SCRIPT: {
            lastScript = f.payload;
            QByteArray r;
            putU32(r, 700);
            reply(f.seq, f.op, r);
            return;
        }
        default:
            return;
        }
    }
    PtyDevice &m_pty;
    AgentStreamParser m_parser;
};

} // namespace

TEST(AgentProtocolImpulse, AgentLinkClassifiesReplaysAndScripts)
{
    PtyDevice pty;
    ASSERT_TRUE(pty.isValid());
    ClassifyingAgent agent(pty);
    AgentLink link;
    link.setPortName(pty.slavePath());
    QString error;
    ASSERT_TRUE(link.open(&error) && link.handshake(3, 200, &error)) << error.toStdString();
    ASSERT_TRUE(link.info().impulse);
    EXPECT_EQ(link.info().impulse->ringValues, 4096u);

    auto frames = link.setSensorReplay(QStringLiteral("accel"), QStringLiteral("replay-accel.raw"), &error);
    ASSERT_TRUE(frames) << error.toStdString();
    EXPECT_EQ(*frames, 48000u);
    EXPECT_EQ(agent.lastReplay, QByteArray("\x03\x01replay-accel.raw", 18));
    ASSERT_TRUE(link.clearSensorReplay(QStringLiteral("accel"), &error)) << error.toStdString();
    EXPECT_EQ(agent.lastReplay, bytes({3, 0}));

    auto total = link.setSensorScript(QStringLiteral("accel"), {{0, 5000}, {1, 2000}}, &error);
    ASSERT_TRUE(total) << error.toStdString();
    EXPECT_EQ(*total, 700u);
    EXPECT_EQ(agent.lastScript.size(), 3 + 2 * 5);
    // A scenario index past INFO's list is refused before anything is sent.
    EXPECT_FALSE(link.setSensorScript(QStringLiteral("accel"), {{2, 1000}}, &error));
    EXPECT_TRUE(error.contains(QStringLiteral("scenario index 2"))) << error.toStdString();

    QVector<ClassifyResult> results;
    std::optional<ClassifyEnd> ended;
    QStringList linkErrors;
    QObject::connect(&link, &AgentLink::classifyResult, [&](const ClassifyResult &r) { results << r; });
    QObject::connect(&link, &AgentLink::classifyEnded, [&](const ClassifyEnd &e) { ended = e; });
    QObject::connect(&link, &DeviceLink::linkError, [&](const QString &m) { linkErrors << m; });
    auto format = link.startClassification({}, 0, true, &error);
    ASSERT_TRUE(format) << error.toStdString();
    EXPECT_EQ(agent.lastStart, bytes({0xFF, 0, 0, 0, 0, 1}));
    EXPECT_EQ(format->window, 200u);
    EXPECT_TRUE(link.isClassifying());
    ASSERT_TRUE(waitUntil([&] { return results.size() == 3; }, 5000));
    EXPECT_EQ(results[1].windowEnd, 250u);
    EXPECT_TRUE(results[1].isDetection());
    EXPECT_EQ(results[2].overruns, 2u);
    link.stopClassification();
    ASSERT_TRUE(waitUntil([&] { return ended.has_value(); }, 5000));
    EXPECT_TRUE(agent.stopReceived);
    EXPECT_EQ(ended->windowsSent, 4u);
    EXPECT_EQ(ended->reason, int(TM_STREAM_END_STOPPED));
    EXPECT_FALSE(link.isClassifying());
    EXPECT_TRUE(linkErrors.join('\n').contains(QStringLiteral("1 of 4 classification results"))) << linkErrors.join('\n').toStdString();
}

TEST(AgentProtocolImpulse, LinkClosedDuringClassificationEndsIt)
{
    PtyDevice pty;
    ClassifyingAgent agent(pty);
    AgentLink link;
    link.setPortName(pty.slavePath());
    QString error;
    ASSERT_TRUE(link.open(&error) && link.handshake(3, 200, &error)) << error.toStdString();
    std::optional<ClassifyEnd> ended;
    int results = 0;
    QObject::connect(&link, &AgentLink::classifyResult, [&](const ClassifyResult &) { ++results; });
    QObject::connect(&link, &AgentLink::classifyEnded, [&](const ClassifyEnd &e) { ended = e; });
    ASSERT_TRUE(link.startClassification(QStringLiteral("accel"), 10, false, &error)) << error.toStdString();
    EXPECT_EQ(agent.lastStart, bytes({3, 10, 0, 0, 0, 0}));
    ASSERT_TRUE(waitUntil([&] { return results == 3; }, 5000));
    link.close();
    ASSERT_TRUE(ended);
    EXPECT_EQ(ended->reason, ClassifyEnd::kLinkLost);
    EXPECT_EQ(ended->windowsSent, 3u);
    EXPECT_EQ(ended->overruns, 2u);
}
