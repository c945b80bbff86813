// Fuzzes everything the host reads from a device: the agent byte stream (frame decoder,
// then each decoded frame through the INFO, STREAM_DATA, STREAM_END and ERROR parsers
// and the loss counter, as AgentLink does; MODEL_INFO, INVOKE and LAYER_PROFILE replies;
// CLASSIFY_START replies, CLASSIFY_RESULT and CLASSIFY_END),
// and the data-forwarder line parser.
// Run longer by hand: fuzz_device_stream -max_total_time=600 corpus/

#include "device/AgentProtocol.h"
#include "device/MlperfLink.h"
#include "device/NumericLineParser.h"

#include "tm_protocol.h"

#include <cstddef>
#include <cstdint>

using namespace tinyml;

namespace {

DeviceInfo defaultInfo()
{
    DeviceInfo info;
    DeviceSensorInfo accel;
    accel.id = 0;
    accel.dtype = TM_DTYPE_INT16;
    accel.channelCount = 3;
    accel.scale = 0.01f;
    accel.name = QStringLiteral("accel");
    DeviceSensorInfo mic;
    mic.id = 1;
    mic.dtype = TM_DTYPE_FLOAT32;
    mic.channelCount = 1;
    mic.name = QStringLiteral("mic");
    info.sensors = {accel, mic};
    return info;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *bytes = reinterpret_cast<const char *>(data);
    // The first byte picks how the rest is split into reads, so chunk boundaries vary.
    const size_t chunk = 1 + data[0] % 64;

    DeviceInfo info = defaultInfo();
    StreamLossCounter loss;
    AgentStreamParser parser;
    parser.setFrameHandler([&](const AgentFrame &f) {
        QString error;
        switch (f.op) {
        case TM_OP_HELLO | TM_OP_REPLY:
        case TM_OP_GET_INFO | TM_OP_REPLY:
            if (auto parsed = parseDeviceInfo(f.payload, &error))
                if (!parsed->sensors.isEmpty())
                    info = *parsed;
            break;
        case TM_OP_STREAM_DATA:
            if (auto d = decodeStreamData(f.payload, info, &error)) {
                if (!d->data.isConsistent())
                    __builtin_trap();
                loss.add(d->firstIndex, d->frames);
            }
            break;
        case TM_OP_STREAM_END:
            if (auto e = decodeStreamEnd(f.payload, &error))
                (void)loss.lostAtEnd(e->samplesSent);
            break;
        case TM_OP_ERROR:
            (void)decodeAgentError(f.payload);
            break;
        case TM_OP_MODEL_INFO | TM_OP_REPLY:
            (void)parseModelInfoReply(f.payload, &error);
            if (auto m = parseModelInfoTrialReply(f.payload, &error))
                if (m->onTrial && !m->valid)
                    __builtin_trap();
            break;
        case TM_OP_MODEL_REVERT | TM_OP_REPLY:
            if (auto slot = parseModelRevertReply(f.payload, &error))
                if (*slot < 0 || *slot > 1)
                    __builtin_trap();
            break;
        case TM_OP_INVOKE | TM_OP_REPLY:
            (void)parseInvokeReply(f.payload, &error);
            break;
        case TM_OP_LAYER_PROFILE | TM_OP_REPLY:
            if (auto lp = parseLayerProfileReply(f.payload, &error))
                if (lp->firstLayer + lp->counters.size() > lp->layerCount)
                    __builtin_trap();
            break;
        case TM_OP_CLASSIFY_RESULT:
            if (auto r = decodeClassifyResult(f.payload, &error))
                if (r->raw.size() != r->classCount || r->topClass >= r->classCount)
                    __builtin_trap();
            break;
        case TM_OP_CLASSIFY_END:
            (void)decodeClassifyEnd(f.payload, &error);
            break;
        case TM_OP_CLASSIFY_START | TM_OP_REPLY:
            if (auto r = parseClassifyStartReply(f.payload, &error))
                if (quint64(r->ringFrames) < quint64(r->window) + r->stride)
                    __builtin_trap();
            break;
        default:
            (void)parseDeviceInfo(f.payload, &error);
            break;
        }
    });
    for (size_t off = 1; off < size; off += chunk)
        parser.feed(bytes + off, qsizetype(std::min(chunk, size - off)));

    // The same bytes as INFO TLVs directly (no framing in the way).
    QString error;
    (void)parseDeviceInfo(QByteArray(bytes + 1, qsizetype(size - 1)), &error);

    // And as model / inference reply payloads.
    const QByteArray payload(bytes + 1, qsizetype(size - 1));
    (void)parseModelInfoReply(payload, &error);
    (void)parseModelInfoTrialReply(payload, &error);
    (void)parseModelRevertReply(payload, &error);
    (void)parseInvokeReply(payload, &error);
    if (auto r = decodeClassifyResult(payload, &error))
        if (28 + r->raw.size() + (r->hasAnomaly ? 2 : 0) != payload.size())   // + score and alarm
            __builtin_trap();
    (void)decodeClassifyEnd(payload, &error);
    (void)parseClassifyStartReply(payload, &error);
    (void)parseFrameCountReply(payload, TM_OP_SENSOR_REPLAY | TM_OP_REPLY, &error);
    if (auto lp = parseLayerProfileReply(payload, &error))
        if (lp->firstLayer + lp->counters.size() > lp->layerCount || 6 + 8 * lp->counters.size() != payload.size())
            __builtin_trap();

    // And as data-forwarder text.
    NumericLineParser lines;
    lines.configure(data[0] & 1 ? 3 : 0, data[0] & 2 ? 100.0 : 0.0);
    qint64 t = 0;
    for (size_t off = 1; off < size; off += chunk) {
        lines.feed(bytes + off, qsizetype(std::min(chunk, size - off)), t);
        t += 7919;
        const QVector<float> values = lines.takeValues();
        if (lines.channelCount() > 0 && values.size() % lines.channelCount() != 0)
            __builtin_trap();
    }
    lines.finish();

    // MLPerf reply lines.
    const QString text = QString::fromLatin1(bytes + 1, qsizetype(size - 1));
    (void)MlperfLink::parseResults(text);
    (void)MlperfLink::lapMicroseconds(text);
    return 0;
}
