#include "device/AgentProtocol.h"

#include "tm_frame.h"
#include "tm_protocol.h"

#include <cstdlib>
#include <cstring>
#include <vector>

namespace tinyml {

namespace {

/// Bounds-checked little-endian reader over one TLV value or payload.
class Reader
{
public:
    Reader(const uint8_t *p, int n) : m_p(p), m_n(n) {}
    bool ok() const { return m_ok; }
    int remaining() const { return m_n - m_pos; }
    bool need(int k)
    {
        if (!m_ok || remaining() < k)
            m_ok = false;
        return m_ok;
    }
    quint8 u8() { return need(1) ? m_p[m_pos++] : 0; }
    quint16 u16()
    {
        if (!need(2))
            return 0;
        const quint16 v = tm_get_u16(m_p + m_pos);
        m_pos += 2;
        return v;
    }
    quint32 u32()
    {
        if (!need(4))
            return 0;
        const quint32 v = tm_get_u32(m_p + m_pos);
        m_pos += 4;
        return v;
    }
    float f32()
    {
        const quint32 bits = u32();
        float f;
        std::memcpy(&f, &bits, 4);
        return f;
    }
    QString str(int len)
    {
        if (!need(len))
            return {};
        const QString s = QString::fromUtf8(reinterpret_cast<const char *>(m_p + m_pos), len);
        m_pos += len;
        return s;
    }
    QString lenStr() { const int len = u8(); return str(len); }
    QString rest() { return str(remaining()); }

private:
    const uint8_t *m_p;
    int m_n;
    int m_pos = 0;
    bool m_ok = true;
};

QString tagName(int tag)
{
    switch (tag) {
    case TM_INFO_PROTOCOL_VERSION: return QStringLiteral("PROTOCOL_VERSION");
    case TM_INFO_AGENT_VERSION: return QStringLiteral("AGENT_VERSION");
    case TM_INFO_BOARD_ID: return QStringLiteral("BOARD_ID");
    case TM_INFO_CPU: return QStringLiteral("CPU");
    case TM_INFO_CLOCK_HZ: return QStringLiteral("CLOCK_HZ");
    case TM_INFO_RAM_BYTES: return QStringLiteral("RAM_BYTES");
    case TM_INFO_FLASH_BYTES: return QStringLiteral("FLASH_BYTES");
    case TM_INFO_RAM_FREE: return QStringLiteral("RAM_FREE");
    case TM_INFO_FLASH_FREE: return QStringLiteral("FLASH_FREE");
    case TM_INFO_COUNTER: return QStringLiteral("COUNTER");
    case TM_INFO_CAPABILITIES: return QStringLiteral("CAPABILITIES");
    case TM_INFO_SENSOR: return QStringLiteral("SENSOR");
    case TM_INFO_SIMULATOR: return QStringLiteral("SIMULATOR");
    case TM_INFO_SCENARIOS: return QStringLiteral("SCENARIOS");
    case TM_INFO_BUILD: return QStringLiteral("BUILD");
    case TM_INFO_MODEL_SLOTS: return QStringLiteral("MODEL_SLOTS");
    case TM_INFO_MODEL_FORMAT: return QStringLiteral("MODEL_FORMAT");
    case TM_INFO_IMPULSE: return QStringLiteral("IMPULSE");
    case TM_INFO_SECURITY: return QStringLiteral("SECURITY");
    }
    return QStringLiteral("tag %1").arg(tag);
}

void putU8(QByteArray &b, quint8 v) { b.append(char(v)); }
void putU16(QByteArray &b, quint16 v) { uint8_t t[2]; tm_put_u16(t, v); b.append(reinterpret_cast<char *>(t), 2); }
void putU32(QByteArray &b, quint32 v) { uint8_t t[4]; tm_put_u32(t, v); b.append(reinterpret_cast<char *>(t), 4); }
void putF32(QByteArray &b, float f) { quint32 v; std::memcpy(&v, &f, 4); putU32(b, v); }
void putLenStr(QByteArray &b, const QString &s) { const QByteArray u = s.toUtf8().left(255); putU8(b, quint8(u.size())); b.append(u); }
void putTlv(QByteArray &out, int tag, const QByteArray &value)
{
    putU8(out, quint8(tag));
    putU8(out, quint8(qMin<qsizetype>(value.size(), 255)));
    out.append(value.left(255));
}

} // namespace

const DeviceSensorInfo *DeviceInfo::sensorById(int id) const
{
    for (const DeviceSensorInfo &s : sensors)
        if (s.id == id)
            return &s;
    return nullptr;
}

const DeviceSensorInfo *DeviceInfo::sensorByName(const QString &name) const
{
    for (const DeviceSensorInfo &s : sensors)
        if (s.name == name)
            return &s;
    // Projects say "accel" / "mic"; an agent may spell out "accelerometer" / "microphone".
    for (const DeviceSensorInfo &s : sensors)
        if (s.shortName() == name)
            return &s;
    return nullptr;
}

QString DeviceSensorInfo::shortName() const
{
    switch (kind) {
    case TM_SENSOR_ACCELEROMETER: return QStringLiteral("accel");
    case TM_SENSOR_MICROPHONE: return QStringLiteral("mic");
    }
    return name;
}

QString DeviceInfo::counterKindName() const
{
    switch (counterKind) {
    case TM_COUNTER_CYCLES: return QStringLiteral("cycles");
    case TM_COUNTER_INSTRUCTIONS: return QStringLiteral("instructions");
    case TM_COUNTER_MICROSECONDS: return QStringLiteral("microseconds");
    }
    return QStringLiteral("unknown");
}

std::optional<DeviceInfo> parseDeviceInfo(const QByteArray &tlv, QString *error)
{
    DeviceInfo info;
    const auto *p = reinterpret_cast<const uint8_t *>(tlv.constData());
    const int n = int(tlv.size());
    int pos = 0;
    auto fail = [&](const QString &why) -> std::optional<DeviceInfo> {
        if (error)
            *error = why;
        return std::nullopt;
    };
    QVector<QPair<int, QStringList>> scenarioRecords;
    while (pos < n) {
        if (n - pos < 2)
            return fail(QStringLiteral("INFO truncated at offset %1: record header needs 2 bytes, %2 left")
                            .arg(pos).arg(n - pos));
        const int tag = p[pos];
        const int len = p[pos + 1];
        if (pos + 2 + len > n)
            return fail(QStringLiteral("INFO truncated at offset %1: %2 says %3 bytes, %4 left")
                            .arg(pos).arg(tagName(tag)).arg(len).arg(n - pos - 2));
        Reader r(p + pos + 2, len);
        switch (tag) {
        case TM_INFO_PROTOCOL_VERSION: info.protocolVersion = r.u16(); break;
        case TM_INFO_AGENT_VERSION: info.agentVersion = r.rest(); break;
        case TM_INFO_BOARD_ID: info.boardId = r.rest(); break;
        case TM_INFO_CPU: info.cpu = r.rest(); break;
        case TM_INFO_CLOCK_HZ: info.clockHz = r.u32(); break;
        case TM_INFO_RAM_BYTES: info.ramBytes = r.u32(); break;
        case TM_INFO_FLASH_BYTES: info.flashBytes = r.u32(); break;
        case TM_INFO_RAM_FREE: info.ramFree = r.u32(); break;
        case TM_INFO_FLASH_FREE: info.flashFree = r.u32(); break;
        case TM_INFO_COUNTER:
            info.counterKind = r.u8();
            info.counterResolution = r.u32();
            break;
        case TM_INFO_CAPABILITIES: info.capabilities = r.u32(); break;
        case TM_INFO_SENSOR: {
            DeviceSensorInfo s;
            s.id = r.u8();
            s.kind = r.u8();
            s.dtype = r.u8();
            s.channelCount = r.u8();
            s.scale = r.f32();
            s.minRateHz = r.u32();
            s.maxRateHz = r.u32();
            s.defaultRateHz = r.u32();
            s.name = r.lenStr();
            for (int c = 0; c < s.channelCount && r.ok(); ++c) {
                s.channels << r.lenStr();
                s.units << r.lenStr();
            }
            if (r.ok() && s.dtype != TM_DTYPE_INT16 && s.dtype != TM_DTYPE_FLOAT32)
                return fail(QStringLiteral("INFO SENSOR %1 at offset %2: unknown dtype %3")
                                .arg(s.name).arg(pos).arg(s.dtype));
            if (r.ok() && s.channelCount == 0)
                return fail(QStringLiteral("INFO SENSOR %1 at offset %2: no channels").arg(s.name).arg(pos));
            if (r.ok())
                info.sensors.push_back(s);
            break;
        }
        case TM_INFO_SIMULATOR: info.simulator = r.rest(); break;
        case TM_INFO_SCENARIOS: {
            const int sensor = r.u8();
            QStringList names;
            while (r.ok() && r.remaining() > 0)
                names << r.lenStr();
            scenarioRecords.push_back({sensor, names});
            break;
        }
        case TM_INFO_BUILD: info.build = r.rest(); break;
        case TM_INFO_MODEL_SLOTS:
            info.modelSlots = r.u8();
            info.modelSlotBytes = r.u32();
            break;
        case TM_INFO_MODEL_FORMAT:
            info.modelFormatVersion = r.u16();
            info.supportedOps.clear();
            while (r.ok() && r.remaining() > 0)
                info.supportedOps.append(r.u8());
            break;
        case TM_INFO_IMPULSE: {
            ImpulseCapabilities c;
            c.formatVersion = r.u16();
            c.dspMask = r.u32();
            c.postMask = r.u32();
            c.ringValues = r.u32();
            c.workBytes = r.u32();
            if (r.ok())
                info.impulse = c;
            break;
        }
        case TM_INFO_SECURITY: {
            DeviceSecurity sec;
            const int provisioned = r.u8();
            QByteArray id;
            for (int i = 0; i < 8; ++i)
                id.append(char(r.u8()));
            sec.antiRollbackCounter = r.u32();
            sec.activePackageVersion = r.u32();
            sec.lastCheckTicks = r.u32();
            if (r.ok() && provisioned > 1)
                return fail(QStringLiteral("INFO SECURITY at offset %1: provisioned flag %2, expected 0 or 1")
                                .arg(pos).arg(provisioned));
            sec.provisioned = provisioned == 1;
            if (sec.provisioned)
                sec.keyId = QString::fromLatin1(id.toHex());
            if (r.ok())
                info.security = sec;
            break;
        }
        default:
            ++info.unknownTags; // a newer agent: skip by length, as the protocol promises
            break;
        }
        if (!r.ok())
            return fail(QStringLiteral("INFO %1 at offset %2: value of %3 bytes is too short")
                            .arg(tagName(tag)).arg(pos).arg(len));
        pos += 2 + len;
    }
    for (const auto &rec : scenarioRecords)
        for (DeviceSensorInfo &s : info.sensors)
            if (s.id == rec.first)
                s.scenarios += rec.second;
    return info;
}

QByteArray encodeDeviceInfo(const DeviceInfo &info)
{
    QByteArray out;
    auto u32v = [](quint32 v) { QByteArray b; putU32(b, v); return b; };
    { QByteArray b; putU16(b, quint16(info.protocolVersion)); putTlv(out, TM_INFO_PROTOCOL_VERSION, b); }
    putTlv(out, TM_INFO_AGENT_VERSION, info.agentVersion.toUtf8());
    putTlv(out, TM_INFO_BOARD_ID, info.boardId.toUtf8());
    putTlv(out, TM_INFO_CPU, info.cpu.toUtf8());
    putTlv(out, TM_INFO_CLOCK_HZ, u32v(info.clockHz));
    putTlv(out, TM_INFO_RAM_BYTES, u32v(info.ramBytes));
    putTlv(out, TM_INFO_FLASH_BYTES, u32v(info.flashBytes));
    putTlv(out, TM_INFO_RAM_FREE, u32v(info.ramFree));
    putTlv(out, TM_INFO_FLASH_FREE, u32v(info.flashFree));
    if (info.counterKind >= 0) {
        QByteArray b; putU8(b, quint8(info.counterKind)); putU32(b, info.counterResolution);
        putTlv(out, TM_INFO_COUNTER, b);
    }
    putTlv(out, TM_INFO_CAPABILITIES, u32v(info.capabilities));
    for (const DeviceSensorInfo &s : info.sensors) {
        QByteArray b;
        putU8(b, quint8(s.id)); putU8(b, quint8(s.kind)); putU8(b, quint8(s.dtype));
        putU8(b, quint8(s.channelCount)); putF32(b, s.scale);
        putU32(b, s.minRateHz); putU32(b, s.maxRateHz); putU32(b, s.defaultRateHz);
        putLenStr(b, s.name);
        for (int c = 0; c < s.channelCount; ++c) {
            putLenStr(b, s.channels.value(c));
            putLenStr(b, s.units.value(c));
        }
        putTlv(out, TM_INFO_SENSOR, b);
        if (!s.scenarios.isEmpty()) {
            QByteArray sc; putU8(sc, quint8(s.id));
            for (const QString &name : s.scenarios)
                putLenStr(sc, name);
            putTlv(out, TM_INFO_SCENARIOS, sc);
        }
    }
    if (!info.simulator.isEmpty())
        putTlv(out, TM_INFO_SIMULATOR, info.simulator.toUtf8());
    putTlv(out, TM_INFO_BUILD, info.build.toUtf8());
    if (info.modelSlots > 0) {
        QByteArray b; putU8(b, quint8(info.modelSlots)); putU32(b, info.modelSlotBytes);
        putTlv(out, TM_INFO_MODEL_SLOTS, b);
    }
    if (info.modelFormatVersion > 0) {
        QByteArray b; putU16(b, quint16(info.modelFormatVersion));
        for (int op : info.supportedOps)
            putU8(b, quint8(op));
        putTlv(out, TM_INFO_MODEL_FORMAT, b);
    }
    if (info.impulse) {
        QByteArray b; putU16(b, quint16(info.impulse->formatVersion));
        putU32(b, info.impulse->dspMask); putU32(b, info.impulse->postMask);
        putU32(b, info.impulse->ringValues); putU32(b, info.impulse->workBytes);
        putTlv(out, TM_INFO_IMPULSE, b);
    }
    if (info.security) {
        QByteArray b;
        putU8(b, info.security->provisioned ? 1 : 0);
        QByteArray id = QByteArray::fromHex(info.security->keyId.toLatin1());
        id.resize(8, '\0');
        b.append(id);
        putU32(b, info.security->antiRollbackCounter);
        putU32(b, info.security->activePackageVersion);
        putU32(b, info.security->lastCheckTicks);
        putTlv(out, TM_INFO_SECURITY, b);
    }
    return out;
}

std::optional<StreamData> decodeStreamData(const QByteArray &payload, const DeviceInfo &info,
                                           QString *error)
{
    auto fail = [&](const QString &why) -> std::optional<StreamData> {
        if (error)
            *error = why;
        return std::nullopt;
    };
    if (payload.size() < 7)
        return fail(QStringLiteral("STREAM_DATA of %1 bytes is shorter than its 7-byte header")
                        .arg(payload.size()));
    const auto *p = reinterpret_cast<const uint8_t *>(payload.constData());
    StreamData out;
    out.sensorId = p[0];
    out.firstIndex = tm_get_u32(p + 1);
    out.frames = tm_get_u16(p + 5);
    const DeviceSensorInfo *sensor = info.sensorById(out.sensorId);
    if (!sensor)
        return fail(QStringLiteral("STREAM_DATA for sensor %1, which INFO does not list").arg(out.sensorId));
    const qsizetype expected = 7 + qsizetype(out.frames) * sensor->sampleBytes();
    if (payload.size() != expected)
        return fail(QStringLiteral("STREAM_DATA for sensor %1: %2 frames of %3 channels need %4 bytes, got %5")
                        .arg(sensor->name).arg(out.frames).arg(sensor->channelCount)
                        .arg(expected).arg(payload.size()));
    const int values = out.frames * sensor->channelCount;
    out.data.dtype = DType::Float32;
    out.data.shape = {out.frames, sensor->channelCount};
    out.data.bytes.resize(qsizetype(values) * 4);
    auto *dst = reinterpret_cast<float *>(out.data.bytes.data());
    const uint8_t *src = p + 7;
    if (sensor->dtype == TM_DTYPE_INT16) {
        for (int i = 0; i < values; ++i)
            dst[i] = float(int16_t(tm_get_u16(src + 2 * i))) * sensor->scale;
    } else {
        for (int i = 0; i < values; ++i) {
            const quint32 bits = tm_get_u32(src + 4 * i);
            float f;
            std::memcpy(&f, &bits, 4);
            dst[i] = f * sensor->scale;
        }
    }
    return out;
}

std::optional<StreamEnd> decodeStreamEnd(const QByteArray &payload, QString *error)
{
    if (payload.size() < 6) {
        if (error)
            *error = QStringLiteral("STREAM_END of %1 bytes is shorter than 6").arg(payload.size());
        return std::nullopt;
    }
    const auto *p = reinterpret_cast<const uint8_t *>(payload.constData());
    return StreamEnd{p[0], tm_get_u32(p + 1), p[5]};
}

QString streamEndReasonName(int reason)
{
    switch (reason) {
    case TM_STREAM_END_COMPLETE: return QStringLiteral("complete");
    case TM_STREAM_END_STOPPED: return QStringLiteral("stopped");
    case TM_STREAM_END_OVERRUN: return QStringLiteral("overrun");
    case TM_STREAM_END_REPLAY_END: return QStringLiteral("replay end");
    }
    return QStringLiteral("reason %1").arg(reason);
}

std::optional<AgentError> decodeAgentError(const QByteArray &payload)
{
    if (payload.size() < 3)
        return std::nullopt;
    const auto *p = reinterpret_cast<const uint8_t *>(payload.constData());
    return AgentError{p[0], tm_get_u16(p + 1), QString::fromUtf8(payload.mid(3))};
}

QString agentErrorName(int code)
{
    static const char *const names[] = {"OK", "BAD_CRC", "UNKNOWN_OP", "BAD_LENGTH",
                                        "BAD_ARGUMENT", "BUSY", "NO_SENSOR", "RATE_UNSUPPORTED",
                                        "NO_MODEL", "MODEL_TOO_LARGE", "MODEL_CRC",
                                        "UPLOAD_SEQUENCE", "NOT_SUPPORTED", "INTERNAL",
                                        "NO_SCENARIO", "UNSIGNED", "WRONG_KEY", "BAD_SIGNATURE",
                                        "SIGNED_MALFORMED", "ROLLBACK", "ALREADY_PROVISIONED",
                                        "NOT_PROVISIONED", "NO_PREVIOUS_MODEL"};
    if (code >= 0 && code < int(sizeof names / sizeof names[0]))
        return QString::fromLatin1(names[code]);
    return QStringLiteral("error %1").arg(code);
}

QString signedUploadRefusal(const AgentError &error, const UploadedPackage &package,
                            const std::optional<DeviceSecurity> &board)
{
    const QString boardKey = board && board->provisioned ? board->keyId : QString();
    const QString trusts = boardKey.isEmpty() ? QStringLiteral("the board's key")
                                              : QStringLiteral("key %1").arg(boardKey);
    switch (error.code) {
    case TM_ERR_UNSIGNED:
        return QStringLiteral("the board is provisioned (it trusts %1) and refuses unsigned packages: sign the "
                              "package with `tinyml sign` and flash the signed file; the previous model "
                              "keeps running").arg(trusts);
    case TM_ERR_WRONG_KEY:
        return QStringLiteral("package signed by key %1, the board trusts %2: sign with the key the board was "
                              "provisioned with; the previous model keeps running")
            .arg(package.keyId.isEmpty() ? QStringLiteral("(unknown)") : package.keyId, trusts);
    case TM_ERR_BAD_SIGNATURE:
        return QStringLiteral("the signature does not match the package: the file was modified after it was "
                              "signed (or damaged); the previous model keeps running");
    case TM_ERR_SIGNED_MALFORMED:
        return QStringLiteral("the package's signature block is malformed (%1); the previous model keeps running")
            .arg(error.message);
    case TM_ERR_ROLLBACK: {
        const QString boardVersion = board ? QString::number(board->antiRollbackCounter) : QStringLiteral("counter");
        return QStringLiteral("package version %1 is older than the board's %2 (anti-rollback): sign it with a "
                              "version of at least %2; the previous model keeps running")
            .arg(package.version ? QString::number(package.version) : QStringLiteral("(unknown)"), boardVersion);
    }
    case TM_ERR_ALREADY_PROVISIONED:
        return QStringLiteral("the board is already provisioned and locked to %1; it cannot take another key")
            .arg(trusts);
    case TM_ERR_NOT_PROVISIONED:
        return QStringLiteral("the board has no device identity: provision it first with `tinyml provision` "
                              "(a board provisioned before attestation gets one by provisioning again)");
    default:
        return {};
    }
}

quint32 agentCrc32(const QByteArray &bytes)
{
    return tm_crc32(0, reinterpret_cast<const uint8_t *>(bytes.constData()), size_t(bytes.size()));
}

std::optional<QString> parseProvisionReply(const QByteArray &payload, QString *error)
{
    if (payload.size() != 8) {
        if (error)
            *error = QStringLiteral("PROVISION reply has %1 bytes, expected the 8-byte key id (PROTOCOL.md)")
                         .arg(payload.size());
        return std::nullopt;
    }
    return QString::fromLatin1(payload.toHex());
}

std::optional<ProvisionIdentityReply> parseProvisionIdentityReply(const QByteArray &payload, QString *error)
{
    if (payload.size() != 40) {
        if (error)
            *error = QStringLiteral("PROVISION reply has %1 bytes, expected the 8-byte key id and the 32-byte device "
                                    "public key (PROTOCOL.md)")
                         .arg(payload.size());
        return std::nullopt;
    }
    return ProvisionIdentityReply{QString::fromLatin1(payload.left(8).toHex()), payload.mid(8)};
}

QString opName(int op)
{
    const bool reply = (op & TM_OP_REPLY) != 0 && op != TM_OP_ERROR;
    const int base = reply ? (op & ~int(TM_OP_REPLY)) : op;
    QString name;
    switch (base) {
    case TM_OP_HELLO: name = QStringLiteral("HELLO"); break;
    case TM_OP_GET_INFO: name = QStringLiteral("GET_INFO"); break;
    case TM_OP_PING: name = QStringLiteral("PING"); break;
    case TM_OP_RESET: name = QStringLiteral("RESET"); break;
    case TM_OP_SET_SCENARIO: name = QStringLiteral("SET_SCENARIO"); break;
    case TM_OP_STREAM_START: name = QStringLiteral("STREAM_START"); break;
    case TM_OP_STREAM_STOP: name = QStringLiteral("STREAM_STOP"); break;
    case TM_OP_MODEL_BEGIN: name = QStringLiteral("MODEL_BEGIN"); break;
    case TM_OP_MODEL_CHUNK: name = QStringLiteral("MODEL_CHUNK"); break;
    case TM_OP_MODEL_COMMIT: name = QStringLiteral("MODEL_COMMIT"); break;
    case TM_OP_MODEL_INFO: name = QStringLiteral("MODEL_INFO"); break;
    case TM_OP_SET_INPUT: name = QStringLiteral("SET_INPUT"); break;
    case TM_OP_INVOKE: name = QStringLiteral("INVOKE"); break;
    case TM_OP_GET_OUTPUT: name = QStringLiteral("GET_OUTPUT"); break;
    case TM_OP_BENCHMARK: name = QStringLiteral("BENCHMARK"); break;
    case TM_OP_SET_SENSOR_SEED: name = QStringLiteral("SET_SENSOR_SEED"); break;
    case TM_OP_LINK_TEST: name = QStringLiteral("LINK_TEST"); break;
    case TM_OP_LAYER_PROFILE: name = QStringLiteral("LAYER_PROFILE"); break;
    case TM_OP_CLASSIFY_START: name = QStringLiteral("CLASSIFY_START"); break;
    case TM_OP_CLASSIFY_STOP: name = QStringLiteral("CLASSIFY_STOP"); break;
    case TM_OP_SENSOR_REPLAY: name = QStringLiteral("SENSOR_REPLAY"); break;
    case TM_OP_SENSOR_SCRIPT: name = QStringLiteral("SENSOR_SCRIPT"); break;
    case TM_OP_PROVISION: name = QStringLiteral("PROVISION"); break;
    case TM_OP_ATTEST: name = QStringLiteral("ATTEST"); break;
    case TM_OP_MODEL_REVERT: name = QStringLiteral("MODEL_REVERT"); break;
    case TM_OP_MODEL_CONFIRM: name = QStringLiteral("MODEL_CONFIRM"); break;
    case TM_OP_TELEMETRY: name = QStringLiteral("TELEMETRY"); break;
    case TM_OP_STREAM_DATA: name = QStringLiteral("STREAM_DATA"); break;
    case TM_OP_STREAM_END: name = QStringLiteral("STREAM_END"); break;
    case TM_OP_LOG: name = QStringLiteral("LOG"); break;
    case TM_OP_CLASSIFY_RESULT: name = QStringLiteral("CLASSIFY_RESULT"); break;
    case TM_OP_CLASSIFY_END: name = QStringLiteral("CLASSIFY_END"); break;
    case TM_OP_ERROR: name = QStringLiteral("ERROR"); break;
    default: name = QStringLiteral("0x%1").arg(base, 2, 16, QLatin1Char('0')); break;
    }
    return reply ? name + QStringLiteral(" reply") : name;
}

qint64 StreamLossCounter::add(quint32 firstIndex, int frames)
{
    qint64 index = firstIndex;
    if (m_started) {
        // Unwrap the u32 index into the 64-bit running index nearest to the expectation.
        const qint64 base = m_next & ~qint64(0xFFFFFFFF);
        index = base + firstIndex;
        if (index < m_next - (qint64(1) << 31))
            index += qint64(1) << 32;
        else if (index > m_next + (qint64(1) << 31) && index >= (qint64(1) << 32))
            index -= qint64(1) << 32;
    }
    qint64 gap = 0;
    if (!m_started) {
        gap = index; // a stream starts at index 0: anything before the first block is lost
        m_started = true;
    } else if (index > m_next) {
        gap = index - m_next;
    } else if (index < m_next) {
        ++m_duplicates;
        const qint64 end = index + frames;
        if (end > m_next) { // partial overlap: keep only what is new
            m_received += end - m_next;
            m_next = end;
        }
        return 0;
    }
    m_lost += gap;
    m_received += frames;
    m_next = index + frames;
    return gap;
}

qint64 StreamLossCounter::lostAtEnd(quint32 samplesSent) const
{
    // samplesSent is u32 too: compare modulo 2^32 against the running index.
    const qint64 tail = qint64(quint32(samplesSent - quint32(m_next)));
    return tail < (qint64(1) << 31) ? tail : 0;
}

struct AgentStreamParser::Impl {
    std::vector<uint8_t> buffer = std::vector<uint8_t>(TM_MAX_ENCODED_FRAME);
    tm_frame_decoder_t decoder{};
    Impl() { tm_frame_decoder_init(&decoder, buffer.data(), buffer.size()); }
};

AgentStreamParser::AgentStreamParser() : d(std::make_unique<Impl>()) {}
AgentStreamParser::~AgentStreamParser() = default;

void AgentStreamParser::reset()
{
    tm_frame_decoder_init(&d->decoder, d->buffer.data(), d->buffer.size());
}

void AgentStreamParser::feed(const char *data, qsizetype size)
{
    tm_frame_t frame;
    for (qsizetype i = 0; i < size; ++i) {
        const tm_frame_status_t status =
            tm_frame_decoder_push(&d->decoder, uint8_t(data[i]), &frame);
        switch (status) {
        case TM_FRAME_NONE:
            break;
        case TM_FRAME_READY:
            if (m_onFrame) {
                AgentFrame f;
                f.seq = frame.seq;
                f.op = frame.op;
                f.payload = QByteArray(reinterpret_cast<const char *>(frame.payload),
                                       frame.payload_len);
                m_onFrame(f);
            }
            break;
        case TM_FRAME_ERR_CRC: if (m_onError) m_onError(Error::Crc); break;
        case TM_FRAME_ERR_COBS: if (m_onError) m_onError(Error::Cobs); break;
        case TM_FRAME_ERR_SHORT: if (m_onError) m_onError(Error::Short); break;
        case TM_FRAME_ERR_OVERFLOW: if (m_onError) m_onError(Error::Overflow); break;
        }
    }
}

quint64 AgentStreamParser::framesOk() const { return d->decoder.frames_ok; }
quint64 AgentStreamParser::crcErrors() const { return d->decoder.crc_errors; }
quint64 AgentStreamParser::cobsErrors() const { return d->decoder.cobs_errors; }
quint64 AgentStreamParser::shortFrames() const { return d->decoder.short_frames; }
quint64 AgentStreamParser::overflows() const { return d->decoder.overflows; }

QString AgentStreamParser::errorName(Error e)
{
    switch (e) {
    case Error::Crc: return QStringLiteral("CRC mismatch");
    case Error::Cobs: return QStringLiteral("invalid COBS");
    case Error::Short: return QStringLiteral("frame too short");
    case Error::Overflow: return QStringLiteral("oversized frame (no delimiter)");
    }
    return {};
}

QByteArray encodeAgentFrame(quint8 seq, quint8 op, const QByteArray &payload)
{
    QByteArray out(qsizetype(TM_MAX_ENCODED_FRAME) + 1, Qt::Uninitialized);
    out[0] = 0;
    const size_t n = tm_frame_encode(seq, op, reinterpret_cast<const uint8_t *>(payload.constData()),
                                     size_t(payload.size()),
                                     reinterpret_cast<uint8_t *>(out.data()) + 1, TM_MAX_ENCODED_FRAME);
    if (n == 0)
        return {};
    out.truncate(qsizetype(n) + 1);
    return out;
}

QByteArray helloPayload()
{
    QByteArray b;
    putU16(b, TM_PROTOCOL_VERSION);
    return b;
}

QByteArray streamStartPayload(int sensorId, quint32 rateHz, quint32 nSamples, quint16 samplesPerFrame)
{
    QByteArray b;
    putU8(b, quint8(sensorId));
    putU32(b, rateHz);
    putU32(b, nSamples);
    putU16(b, samplesPerFrame);
    return b;
}

// --- model and inference replies ----------------------------------------------------------

namespace {
template <typename T>
std::optional<T> replyFail(QString *error, const QString &why)
{
    if (error)
        *error = why;
    return std::nullopt;
}
} // namespace

std::optional<ModelSlotInfo> parseModelInfoReply(const QByteArray &payload, QString *error)
{
    if (payload.size() != 10)
        return replyFail<ModelSlotInfo>(error, QStringLiteral("MODEL_INFO reply has %1 bytes, expected 10")
                                                   .arg(payload.size()));
    Reader r(reinterpret_cast<const uint8_t *>(payload.constData()), int(payload.size()));
    ModelSlotInfo m;
    m.activeSlot = r.u8();
    m.valid = r.u8() != 0;
    m.size = r.u32();
    m.crc = r.u32();
    if (m.activeSlot == TM_SLOT_NONE_VALUE)
        m.activeSlot = -1;
    if (m.valid && m.activeSlot < 0)
        return replyFail<ModelSlotInfo>(error, QStringLiteral("MODEL_INFO reply says valid without an active slot"));
    return m;
}

std::optional<ModelSlotInfo> parseModelInfoTrialReply(const QByteArray &payload, QString *error)
{
    if (payload.size() != 11)
        return replyFail<ModelSlotInfo>(error, QStringLiteral("MODEL_INFO reply with trial flag has %1 bytes, "
                                                              "expected 11")
                                                   .arg(payload.size()));
    auto m = parseModelInfoReply(payload.left(10), error);
    if (!m)
        return std::nullopt;
    const quint8 trial = quint8(payload[10]);
    if (trial > 1)
        return replyFail<ModelSlotInfo>(error, QStringLiteral("MODEL_INFO trial flag is %1, expected 0 or 1").arg(trial));
    if (trial && !m->valid)
        return replyFail<ModelSlotInfo>(error, QStringLiteral("MODEL_INFO reply says on trial without a model"));
    m->onTrial = trial != 0;
    return m;
}

std::optional<int> parseModelRevertReply(const QByteArray &payload, QString *error)
{
    if (payload.size() != 1)
        return replyFail<int>(error, QStringLiteral("MODEL_REVERT reply has %1 bytes, expected 1").arg(payload.size()));
    const int slot = quint8(payload[0]);
    if (slot > 1)
        return replyFail<int>(error, QStringLiteral("MODEL_REVERT reply names slot %1, expected 0 or 1").arg(slot));
    return slot;
}

std::optional<quint64> parseInvokeReply(const QByteArray &payload, QString *error)
{
    if (payload.size() != 8)
        return replyFail<quint64>(error, QStringLiteral("INVOKE reply has %1 bytes, expected 8").arg(payload.size()));
    Reader r(reinterpret_cast<const uint8_t *>(payload.constData()), 8);
    const quint64 lo = r.u32();
    const quint64 hi = r.u32();
    return lo | (hi << 32);
}

std::optional<LayerProfileReply> parseLayerProfileReply(const QByteArray &payload, QString *error)
{
    Reader r(reinterpret_cast<const uint8_t *>(payload.constData()), int(payload.size()));
    LayerProfileReply out;
    out.layerCount = r.u16();
    out.firstLayer = r.u16();
    const int n = r.u16();
    if (!r.ok())
        return replyFail<LayerProfileReply>(error, QStringLiteral("LAYER_PROFILE reply of %1 bytes is shorter than its 6-byte header")
                                                       .arg(payload.size()));
    if (r.remaining() != 8 * n)
        return replyFail<LayerProfileReply>(error, QStringLiteral("LAYER_PROFILE reply announces %1 layers but carries %2 bytes of counters")
                                                       .arg(n).arg(r.remaining()));
    if (out.firstLayer + n > out.layerCount || (n == 0 && out.firstLayer < out.layerCount))
        return replyFail<LayerProfileReply>(error, QStringLiteral("LAYER_PROFILE reply: layers %1..%2 are outside the model's %3")
                                                       .arg(out.firstLayer).arg(out.firstLayer + n - 1).arg(out.layerCount));
    out.counters.reserve(n);
    for (int i = 0; i < n; ++i) {
        const quint64 lo = r.u32();
        const quint64 hi = r.u32();
        out.counters.append(lo | (hi << 32));
    }
    return out;
}

QByteArray layerProfilePayload(quint32 runs, quint16 firstLayer)
{
    QByteArray b;
    putU32(b, runs);
    putU16(b, firstLayer);
    return b;
}

// --- continuous classification and sensor replay ----------------------------------------

QByteArray classifyStartPayload(int sensorId, quint32 maxWindows, quint8 flags)
{
    QByteArray b;
    putU8(b, quint8(sensorId));
    putU32(b, maxWindows);
    putU8(b, flags);
    return b;
}

std::optional<ClassifyStartReply> parseClassifyStartReply(const QByteArray &payload, QString *error)
{
    constexpr int kSize = 1 + 4 + 4 + 4 + 2 + 4;
    if (payload.size() != kSize)
        return replyFail<ClassifyStartReply>(error, QStringLiteral("CLASSIFY_START reply has %1 bytes, expected %2")
                                                        .arg(payload.size()).arg(kSize));
    Reader r(reinterpret_cast<const uint8_t *>(payload.constData()), kSize);
    ClassifyStartReply out;
    out.sensorId = r.u8();
    out.rateHz = r.u32();
    out.window = r.u32();
    out.stride = r.u32();
    out.classCount = r.u16();
    out.ringFrames = r.u32();
    if (out.rateHz == 0 || out.window == 0 || out.stride == 0 || out.classCount == 0)
        return replyFail<ClassifyStartReply>(error, QStringLiteral("CLASSIFY_START reply: rate %1 Hz, window %2, stride %3, %4 classes: none may be 0")
                                                        .arg(out.rateHz).arg(out.window).arg(out.stride).arg(out.classCount));
    if (quint64(out.ringFrames) < quint64(out.window) + out.stride)
        return replyFail<ClassifyStartReply>(error, QStringLiteral("CLASSIFY_START reply: ring of %1 frames is smaller than window %2 + stride %3")
                                                        .arg(out.ringFrames).arg(out.window).arg(out.stride));
    return out;
}

std::optional<ClassifyResult> decodeClassifyResult(const QByteArray &payload, QString *error)
{
    constexpr int kHeader = 4 + 1 + 1 + 1 + 1 + 4 + 4 * 4;
    if (payload.size() < kHeader)
        return replyFail<ClassifyResult>(error, QStringLiteral("CLASSIFY_RESULT of %1 bytes is shorter than its %2-byte header")
                                                    .arg(payload.size()).arg(kHeader));
    Reader r(reinterpret_cast<const uint8_t *>(payload.constData()), int(payload.size()));
    ClassifyResult out;
    out.windowEnd = r.u32();
    out.topClass = r.u8();
    out.decision = r.u8();
    out.flags = r.u8();
    out.classCount = r.u8();
    out.score = r.f32();
    out.dspTicks = r.u32();
    out.modelTicks = r.u32();
    out.postTicks = r.u32();
    out.overruns = r.u32();
    out.hasAnomaly = payload.size() == kHeader + out.classCount + 2;
    if (payload.size() != kHeader + out.classCount && !out.hasAnomaly)
        return replyFail<ClassifyResult>(error, QStringLiteral("CLASSIFY_RESULT announces %1 classes: needs %2 bytes (%3 with an "
                                                               "anomaly score), got %4")
                                                    .arg(out.classCount).arg(kHeader + out.classCount)
                                                    .arg(kHeader + out.classCount + 2).arg(payload.size()));
    if (out.classCount == 0 || out.topClass >= out.classCount)
        return replyFail<ClassifyResult>(error, QStringLiteral("CLASSIFY_RESULT: top class %1 is outside the %2 classes")
                                                    .arg(out.topClass).arg(out.classCount));
    if (out.decision != ClassifyResult::kUncertain && out.decision >= out.classCount)
        return replyFail<ClassifyResult>(error, QStringLiteral("CLASSIFY_RESULT: decision %1 is neither a class (of %2) nor 0xFF")
                                                    .arg(out.decision).arg(out.classCount));
    if (out.isDetection() && out.isUncertain())
        return replyFail<ClassifyResult>(error, QStringLiteral("CLASSIFY_RESULT: a detection flagged on an uncertain decision"));
    out.raw.resize(out.classCount);
    for (int i = 0; i < out.classCount; ++i)
        out.raw[i] = qint8(r.u8());
    if (out.hasAnomaly) {
        out.anomalyScore = qint8(r.u8());
        const quint8 alarm = r.u8();
        if (alarm > 1)
            return replyFail<ClassifyResult>(error, QStringLiteral("CLASSIFY_RESULT: anomaly alarm %1 is neither 0 nor 1").arg(alarm));
        out.anomalyAlarm = alarm == 1;
    }
    return out;
}

std::optional<ClassifyEnd> decodeClassifyEnd(const QByteArray &payload, QString *error)
{
    constexpr int kSize = 4 + 4 + 4 + 1;
    if (payload.size() != kSize)
        return replyFail<ClassifyEnd>(error, QStringLiteral("CLASSIFY_END has %1 bytes, expected %2")
                                                 .arg(payload.size()).arg(kSize));
    Reader r(reinterpret_cast<const uint8_t *>(payload.constData()), kSize);
    ClassifyEnd out;
    out.windowsSent = r.u32();
    out.overruns = r.u32();
    out.framesLost = r.u32();
    out.reason = r.u8();
    return out;
}

QByteArray sensorReplayPayload(int sensorId, int mode, const QString &fileName)
{
    QByteArray b;
    putU8(b, quint8(sensorId));
    putU8(b, quint8(mode));
    if (mode == TM_REPLAY_FILE)
        b.append(fileName.toUtf8());
    return b;
}

QByteArray sensorScriptPayload(int sensorId, const QVector<SensorScriptStep> &steps)
{
    if (steps.size() > int(TM_SCRIPT_MAX_STEPS))
        return {};
    QByteArray b;
    putU8(b, quint8(sensorId));
    putU16(b, quint16(steps.size()));
    for (const SensorScriptStep &step : steps) {
        if (step.scenario < 0 || step.scenario > 0xFF)
            return {};
        putU8(b, quint8(step.scenario));
        putU32(b, step.durationMs);
    }
    return b;
}

std::optional<quint32> parseFrameCountReply(const QByteArray &payload, int op, QString *error)
{
    if (payload.size() != 4)
        return replyFail<quint32>(error, QStringLiteral("%1 reply has %2 bytes, expected 4")
                                             .arg(opName(op & ~int(TM_OP_REPLY))).arg(payload.size()));
    return tm_get_u32(reinterpret_cast<const uint8_t *>(payload.constData()));
}

// ---- TELEMETRY ----------------------------------------------------------------------

double TelemetrySummary::meanTopScore() const
{
    return windows ? double(topSum) * double(outScale) / double(windows) : 0.0;
}

QByteArray telemetryPayload(bool reset, TelemetrySummary::Source source)
{
    quint8 flags = reset ? TM_TELEMETRY_RESET : 0;
    if (source == TelemetrySummary::kInvoke)
        flags |= TM_TELEMETRY_SOURCE_INVOKE;
    return QByteArray(1, char(flags));
}

std::optional<TelemetrySummary> parseTelemetryReply(const QByteArray &payload, QString *error)
{
    using R = TelemetrySummary;
    const int n = int(payload.size());
    if (n < int(TM_TELEMETRY_HEADER_BYTES))
        return replyFail<R>(error, QStringLiteral("TELEMETRY reply has %1 bytes, expected at least %2")
                                       .arg(n).arg(TM_TELEMETRY_HEADER_BYTES));
    Reader r(reinterpret_cast<const uint8_t *>(payload.constData()), n);
    R t;
    t.layout = r.u8();
    if (t.layout != int(TM_TELEMETRY_LAYOUT))
        return replyFail<R>(error, QStringLiteral("TELEMETRY reply layout %1, this host reads %2 (update the host)")
                                       .arg(t.layout).arg(TM_TELEMETRY_LAYOUT));
    t.source = r.u8();
    if (t.source > 1)
        return replyFail<R>(error, QStringLiteral("TELEMETRY reply: source %1, expected 0 or 1").arg(t.source));
    const quint8 flags = r.u8();
    if (flags & ~0x03u)
        return replyFail<R>(error, QStringLiteral("TELEMETRY reply: unknown flags 0x%1").arg(flags, 2, 16, QLatin1Char('0')));
    t.anomaly = flags & 0x01u;
    t.hasImpulse = flags & 0x02u;
    const int classes = r.u8();
    if (classes > int(TM_TELEMETRY_MAX_CLASSES))
        return replyFail<R>(error, QStringLiteral("TELEMETRY reply: class_count %1 above %2")
                                       .arg(classes).arg(TM_TELEMETRY_MAX_CLASSES));
    t.packageCrc = r.u32();
    t.windows = r.u32();
    t.uncertain = r.u32();
    const quint64 lo = r.u32();
    const quint64 hi = r.u32();
    t.topSum = qint64(lo | (hi << 32));
    t.outScale = r.f32();
    t.outZeroPoint = qint32(r.u32());
    t.inputCount = r.u32();
    const int features = r.u16();
    t.featureStride = r.u16();
    if (features > int(TM_TELEMETRY_MAX_FEATURES))
        return replyFail<R>(error, QStringLiteral("TELEMETRY reply: feature_count %1 above %2")
                                       .arg(features).arg(TM_TELEMETRY_MAX_FEATURES));
    if (features > 0 && (t.featureStride == 0 || quint64(features - 1) * t.featureStride >= t.inputCount))
        return replyFail<R>(error, QStringLiteral("TELEMETRY reply: %1 features of stride %2 do not fit %3 input elements")
                                       .arg(features).arg(t.featureStride).arg(t.inputCount));
    if (t.uncertain > t.windows)
        return replyFail<R>(error, QStringLiteral("TELEMETRY reply: %1 uncertain of %2 windows")
                                       .arg(t.uncertain).arg(t.windows));
    const qint64 expected = qint64(TM_TELEMETRY_HEADER_BYTES) + 4LL * classes + 16LL * features
                            + (t.anomaly ? 4LL * TM_TELEMETRY_ANOMALY_BINS : 0);
    if (n != expected)
        return replyFail<R>(error, QStringLiteral("TELEMETRY reply has %1 bytes, its header announces %2")
                                       .arg(n).arg(expected));
    quint64 histTotal = 0;
    for (int c = 0; c < classes; ++c) {
        t.classHistogram.append(r.u32());
        histTotal += t.classHistogram.last();
    }
    for (int k = 0; k < features; ++k) {
        const quint64 a = r.u32();
        const quint64 b = r.u32();
        t.featureSum.append(qint64(a | (b << 32)));
    }
    for (int k = 0; k < features; ++k) {
        const quint64 a = r.u32();
        const quint64 b = r.u32();
        t.featureSumSq.append(a | (b << 32));
    }
    quint64 anomalyTotal = 0;
    if (t.anomaly)
        for (quint32 b = 0; b < TM_TELEMETRY_ANOMALY_BINS; ++b) {
            t.anomalyHistogram.append(r.u32());
            anomalyTotal += t.anomalyHistogram.last();
        }
    if (!r.ok())
        return replyFail<R>(error, QStringLiteral("TELEMETRY reply truncated"));
    if (histTotal > t.windows)
        return replyFail<R>(error, QStringLiteral("TELEMETRY reply: class histogram holds %1 of %2 windows")
                                       .arg(histTotal).arg(t.windows));
    if (t.anomaly && anomalyTotal != t.windows)
        return replyFail<R>(error, QStringLiteral("TELEMETRY reply: anomaly histogram holds %1 of %2 windows")
                                       .arg(anomalyTotal).arg(t.windows));
    for (int k = 0; k < features; ++k) {
        // |q| <= 128 per window bounds both sums
        const quint64 w = t.windows;
        if (quint64(std::llabs(t.featureSum[k])) > 128ULL * w || t.featureSumSq[k] > 16384ULL * w)
            return replyFail<R>(error, QStringLiteral("TELEMETRY reply: feature %1 sums exceed %2 int8 windows")
                                           .arg(k).arg(w));
    }
    return t;
}

} // namespace tinyml
