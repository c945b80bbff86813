#include "device/AgentLink.h"

#include "tm_frame.h"
#include "tm_protocol.h"

#include <QEventLoop>
#include <QPointer>

namespace tinyml {

namespace {
const int kReplyMetaType = qRegisterMetaType<AgentReply>();
const int kClassifyResultMetaType = qRegisterMetaType<ClassifyResult>();
const int kClassifyEndMetaType = qRegisterMetaType<ClassifyEnd>();
}

AgentLink::AgentLink(QObject *parent) : DeviceLink(parent)
{
    (void)kReplyMetaType;
    (void)kClassifyResultMetaType;
    (void)kClassifyEndMetaType;
    m_parser.setFrameHandler([this](const AgentFrame &f) { handleFrame(f); });
    m_parser.setErrorHandler([this](AgentStreamParser::Error e) { handleDecoderError(e); });
}

AgentLink::~AgentLink()
{
    for (const Pending &p : std::as_const(m_pending))
        delete p.timer;
}

QString AgentLink::deviceId() const
{
    if (!m_deviceId.isEmpty())
        return m_deviceId;
    return m_hasInfo && !m_info.boardId.isEmpty() ? m_info.boardId : portName();
}

void AgentLink::handleOpened()
{
    m_parser.reset();
    m_streaming = false;
    m_classifying = false;
    m_loss.reset();
}

void AgentLink::handleClosing()
{
    if (m_streaming) {
        m_streaming = false;
        Q_EMIT streamEnded(StreamEndReason::LinkLost, m_loss.nextIndex());
    }
    if (m_classifying) {
        m_classifying = false;
        ClassifyEnd end;
        end.windowsSent = m_classifyWindows;
        end.overruns = m_classifyOverruns;
        end.reason = ClassifyEnd::kLinkLost;
        Q_EMIT classifyEnded(end);
    }
    failAllPending(tr("link to %1 closed").arg(portName()));
}

int AgentLink::sendRequest(quint8 op, const QByteArray &payload, int timeoutMs, QString *error)
{
    if (payload.size() > int(TM_MAX_PAYLOAD)) {
        if (error)
            *error = tr("%1 payload of %2 bytes exceeds %3").arg(opName(op)).arg(payload.size()).arg(TM_MAX_PAYLOAD);
        return -1;
    }
    // seq 0 is what the agent uses for unsolicited errors; skip it and seqs still in flight.
    quint8 seq = m_nextSeq;
    for (int i = 0; i < 255 && (seq == 0 || m_pending.contains(seq)); ++i)
        seq = quint8(seq + 1);
    if (seq == 0 || m_pending.contains(seq)) {
        if (error)
            *error = tr("too many requests in flight");
        return -1;
    }
    m_nextSeq = quint8(seq + 1);
    if (!send(encodeAgentFrame(seq, op, payload), error))
        return -1;
    ++m_stats.framesSent;
    Pending pending;
    pending.op = op;
    pending.timer = new QTimer(this);
    pending.timer->setSingleShot(true);
    connect(pending.timer, &QTimer::timeout, this, [this, seq, op, timeoutMs] {
        ++m_stats.timeouts;
        failRequest(seq, tr("%1 timed out after %2 ms (no reply from %3)")
                             .arg(opName(op)).arg(timeoutMs).arg(portName()));
    });
    pending.timer->start(timeoutMs);
    m_pending.insert(seq, pending);
    return seq;
}

std::optional<AgentReply> AgentLink::request(quint8 op, const QByteArray &payload, int timeoutMs,
                                             QString *error)
{
    m_lastAgentError.reset();
    std::optional<AgentReply> result;
    QString failure;
    bool done = false;
    QEventLoop loop;
    int seq = -1;
    const auto onReply = connect(this, &AgentLink::replyReceived, &loop,
                                 [&](int s, const AgentReply &reply) {
                                     if (s != seq)
                                         return;
                                     result = reply;
                                     done = true;
                                     loop.quit();
                                 });
    const auto onFail = connect(this, &AgentLink::requestFailed, &loop,
                                [&](int s, const QString &message) {
                                    if (s != seq)
                                        return;
                                    failure = message;
                                    done = true;
                                    loop.quit();
                                });
    seq = sendRequest(op, payload, timeoutMs, &failure);
    if (seq < 0) {
        done = true;
    }
    QPointer<AgentLink> self(this);
    if (!done)
        loop.exec();
    if (!self) { // destroyed while we waited; nothing of this may be touched
        if (error)
            *error = QStringLiteral("link destroyed during request");
        return std::nullopt;
    }
    disconnect(onReply);
    disconnect(onFail);
    if (!result && error)
        *error = failure;
    return result;
}

void AgentLink::failRequest(quint8 seq, const QString &message)
{
    auto it = m_pending.find(seq);
    if (it == m_pending.end())
        return;
    it->timer->deleteLater();
    m_pending.erase(it);
    Q_EMIT requestFailed(seq, message);
}

void AgentLink::failAllPending(const QString &message)
{
    const auto seqs = m_pending.keys();
    for (quint8 seq : seqs)
        failRequest(seq, message);
}

bool AgentLink::handshake(int attempts, int timeoutMs, QString *error)
{
    QString lastError;
    for (int i = 0; i < qMax(1, attempts); ++i) {
        if (!isOpen()) {
            lastError = tr("link to %1 is not open").arg(portName());
            break;
        }
        auto reply = request(TM_OP_HELLO, helloPayload(), timeoutMs, &lastError);
        if (!reply) {
            if (m_lastAgentError) // the agent answered, just not with INFO: retrying won't help
                break;
            continue;
        }
        QString parseError;
        auto info = parseDeviceInfo(reply->payload, &parseError);
        if (!info) {
            lastError = tr("HELLO reply from %1: %2").arg(portName(), parseError);
            break;
        }
        m_info = *info;
        m_hasInfo = true;
        // Drop whatever the handshake retries left in flight (replies to earlier HELLOs).
        failAllPending(tr("superseded by a later HELLO"));
        return true;
    }
    if (error)
        *error = tr("no agent answered HELLO on %1 after %2 attempts: %3")
                     .arg(portName()).arg(qMax(1, attempts)).arg(lastError);
    return false;
}

bool AgentLink::refreshInfo(QString *error)
{
    auto reply = request(TM_OP_GET_INFO, {}, kDefaultTimeoutMs, error);
    if (!reply)
        return false;
    auto info = parseDeviceInfo(reply->payload, error);
    if (!info)
        return false;
    m_info = *info;
    m_hasInfo = true;
    return true;
}

bool AgentLink::ping(const QByteArray &bytes, QString *error)
{
    auto reply = request(TM_OP_PING, bytes, kDefaultTimeoutMs, error);
    if (!reply)
        return false;
    if (reply->payload != bytes) {
        if (error)
            *error = tr("PING reply differs from the request (%1 vs %2 bytes)")
                         .arg(reply->payload.size()).arg(bytes.size());
        return false;
    }
    return true;
}

const DeviceSensorInfo *AgentLink::resolveSensor(const QString &name, QString *error) const
{
    if (!m_hasInfo) {
        if (error)
            *error = tr("no INFO from the device yet: handshake first");
        return nullptr;
    }
    if (m_info.sensors.isEmpty()) {
        if (error)
            *error = tr("board %1 reports no sensors").arg(m_info.boardId);
        return nullptr;
    }
    if (name.isEmpty())
        return &m_info.sensors.first();
    const DeviceSensorInfo *s = m_info.sensorByName(name);
    if (!s && error) {
        QStringList names;
        for (const DeviceSensorInfo &x : m_info.sensors)
            names << x.name;
        *error = tr("board %1 has no sensor \"%2\" (it has: %3)")
                     .arg(m_info.boardId, name, names.join(QStringLiteral(", ")));
    }
    return s;
}

bool AgentLink::setScenario(const QString &sensor, const QString &scenario, QString *error)
{
    const DeviceSensorInfo *s = resolveSensor(sensor, error);
    if (!s)
        return false;
    QByteArray payload;
    payload.append(char(s->id));
    payload.append(scenario.toUtf8());
    return request(TM_OP_SET_SCENARIO, payload, kDefaultTimeoutMs, error).has_value();
}

bool AgentLink::setSensorSeed(const QString &sensor, quint32 seed, QString *error)
{
    const DeviceSensorInfo *s = resolveSensor(sensor, error);
    if (!s)
        return false;
    QByteArray payload(5, 0);
    payload[0] = char(s->id);
    tm_put_u32(reinterpret_cast<uint8_t *>(payload.data()) + 1, seed);
    return request(TM_OP_SET_SENSOR_SEED, payload, kDefaultTimeoutMs, error).has_value();
}

bool AgentLink::linkTest(int garbageBytes, QString *error)
{
    QByteArray payload(1, char(quint8(qBound(0, garbageBytes, 255))));
    return request(TM_OP_LINK_TEST, payload, kDefaultTimeoutMs, error).has_value();
}

int AgentLink::uploadModel(const QByteArray &package,
                           const std::function<void(qint64, qint64)> &progress, QString *error,
                           const QByteArray &benchmarkId)
{
    QByteArray begin(8, 0);
    auto *b = reinterpret_cast<uint8_t *>(begin.data());
    tm_put_u32(b, quint32(package.size()));
    tm_put_u32(b + 4, tm_crc32(0, reinterpret_cast<const uint8_t *>(package.constData()),
                               size_t(package.size())));
    if (!request(TM_OP_MODEL_BEGIN, begin, kDefaultTimeoutMs, error))
        return -1;
    const int chunkBytes = int(TM_MAX_PAYLOAD) - 4;
    for (qint64 offset = 0; offset < package.size(); offset += chunkBytes) {
        QByteArray chunk(4, 0);
        tm_put_u32(reinterpret_cast<uint8_t *>(chunk.data()), quint32(offset));
        chunk.append(package.mid(offset, chunkBytes));
        // Writing a flash page can take a while on a real board.
        if (!request(TM_OP_MODEL_CHUNK, chunk, 5000, error))
            return -1;
        if (progress)
            progress(qMin<qint64>(offset + chunkBytes, package.size()), package.size());
    }
    // a provisioned board verifies the signature first: ~25 ms plus ~1.6 ms per KiB at 80 MHz
    const int commitTimeoutMs = 5000 + int(package.size() / 256);
    auto reply = request(TM_OP_MODEL_COMMIT, benchmarkId, commitTimeoutMs, error);
    if (!reply)
        return -1;
    if (reply->payload.size() < 1) {
        if (error)
            *error = tr("MODEL_COMMIT reply is empty");
        return -1;
    }
    return quint8(reply->payload[0]);
}

std::optional<QString> AgentLink::provision(const QByteArray &publicKey, QString *error)
{
    if (publicKey.size() != 32) {
        if (error)
            *error = tr("PROVISION needs a 32-byte Ed25519 public key, got %1 bytes").arg(publicKey.size());
        return std::nullopt;
    }
    if (m_hasInfo && !m_info.hasCapability(TM_CAP_SIGNED_PACKAGES)) {
        if (error)
            *error = tr("the agent on %1 cannot be provisioned: it does not take signed packages (INFO "
                        "CAPABILITIES bit 8; an older agent, or a board without storage for a key)")
                         .arg(deviceId());
        return std::nullopt;
    }
    // the key is checked (decoded as a curve point) before it is stored: allow for the work
    auto reply = requestProvision(publicKey, 5000, error);
    if (!reply)
        return std::nullopt;
    auto keyId = parseProvisionReply(reply->payload, error);
    if (!keyId)
        return std::nullopt;
    if (!refreshInfo(error))
        return std::nullopt;
    return keyId;
}

std::optional<ProvisionIdentityReply> AgentLink::provisionWithIdentity(const QByteArray &publicKey,
                                                                   const QByteArray &identitySeed, QString *error)
{
    if (publicKey.size() != 32 || identitySeed.size() != 32) {
        if (error)
            *error = tr("PROVISION with an identity needs a 32-byte public key and a 32-byte seed, got %1 and %2 bytes")
                         .arg(publicKey.size())
                         .arg(identitySeed.size());
        return std::nullopt;
    }
    if (m_hasInfo && !m_info.hasCapability(TM_CAP_ATTESTATION)) {
        if (error)
            *error = tr("the agent on %1 cannot keep a device identity (INFO CAPABILITIES bit 9 clear: an agent "
                        "older than attestation, or a board without storage for it)")
                         .arg(deviceId());
        return std::nullopt;
    }
    // the key is decoded and the identity's public key computed before they are stored
    auto reply = requestProvision(publicKey + identitySeed, 10000, error);
    if (!reply)
        return std::nullopt;
    auto parsed = parseProvisionIdentityReply(reply->payload, error);
    if (!parsed)
        return std::nullopt;
    if (!refreshInfo(error))
        return std::nullopt;
    return parsed;
}

std::optional<AgentReply> AgentLink::requestProvision(const QByteArray &payload, int timeoutMs, QString *error)
{
    auto reply = request(TM_OP_PROVISION, payload, timeoutMs, error);
    if (!reply && m_lastAgentError && m_lastAgentError->requestOp == TM_OP_PROVISION) {
        const AgentError refused = *m_lastAgentError;
        QString ignored;
        std::optional<DeviceSecurity> board;
        if (refreshInfo(&ignored))
            board = m_info.security;
        m_lastAgentError = refused;
        const QString why = signedUploadRefusal(refused, {}, board);
        if (!why.isEmpty() && error)
            *error = why;
    }
    return reply;
}

bool AgentLink::requireCapability(quint32 bit, const QString &what, QString *error) const
{
    if (!m_hasInfo || m_info.hasCapability(bit))
        return true;
    if (error)
        *error = tr("this agent cannot %1 (update the agent): %2 does not announce it (INFO CAPABILITIES)")
                     .arg(what, deviceId());
    return false;
}

bool AgentLink::supportsRevert() const
{
    return m_hasInfo && m_info.hasCapability(TM_CAP_MODEL_REVERT);
}

std::optional<int> AgentLink::revertModel(QString *error)
{
    if (!requireCapability(TM_CAP_MODEL_REVERT, tr("revert"), error))
        return std::nullopt;
    // on a provisioned board the previous package's signature is checked again first
    auto reply = request(TM_OP_MODEL_REVERT, {}, 15000, error);
    if (!reply) {
        if (m_lastAgentError && m_lastAgentError->requestOp == TM_OP_MODEL_REVERT && error) {
            if (m_lastAgentError->code == TM_ERR_UNKNOWN_OP)
                *error = tr("this agent cannot revert (update the agent): %1 does not know MODEL_REVERT")
                             .arg(deviceId());
            else if (m_lastAgentError->code == TM_ERR_NO_PREVIOUS_MODEL)
                *error = tr("%1 keeps its model: %2").arg(deviceId(), m_lastAgentError->message);
        }
        return std::nullopt;
    }
    auto slot = parseModelRevertReply(reply->payload, error);
    if (!slot)
        return std::nullopt;
    if (!refreshInfo(error))
        return std::nullopt;
    return slot;
}

bool AgentLink::confirmModel(QString *error)
{
    if (!requireCapability(TM_CAP_MODEL_REVERT, tr("confirm a model"), error))
        return false;
    auto reply = request(TM_OP_MODEL_CONFIRM, {}, 5000, error);
    if (!reply) {
        if (m_lastAgentError && m_lastAgentError->requestOp == TM_OP_MODEL_CONFIRM && error) {
            if (m_lastAgentError->code == TM_ERR_UNKNOWN_OP)
                *error = tr("this agent cannot confirm a model (update the agent): %1 does not know MODEL_CONFIRM")
                             .arg(deviceId());
            else if (m_lastAgentError->code == TM_ERR_NO_MODEL)
                *error = tr("the board has no model to confirm (flash one first)");
        }
        return false;
    }
    if (!reply->payload.isEmpty()) {
        if (error)
            *error = tr("MODEL_CONFIRM reply has %1 bytes, expected none").arg(reply->payload.size());
        return false;
    }
    return true;
}

bool AgentLink::supportsAttestation() const
{
    return m_hasInfo && m_info.hasCapability(TM_CAP_ATTESTATION);
}

std::optional<QByteArray> AgentLink::attest(const QByteArray &nonce, QString *error)
{
    if (nonce.size() != 32) {
        if (error)
            *error = tr("ATTEST needs a %1-byte nonce, got %2 bytes").arg(32).arg(nonce.size());
        return std::nullopt;
    }
    if (m_hasInfo && !m_info.hasCapability(TM_CAP_ATTESTATION)) {
        if (error)
            *error = tr("the agent on %1 cannot attest (INFO CAPABILITIES bit 9 clear: an agent older than "
                        "attestation, or a board without storage for a device identity)")
                         .arg(deviceId());
        return std::nullopt;
    }
    // one signature plus SHA-512 of the image (first time after boot) and of the package:
    // a few tens of millions of instructions at most on the virtual board
    auto reply = request(TM_OP_ATTEST, nonce, 15000, error);
    if (!reply) {
        if (m_lastAgentError && m_lastAgentError->requestOp == TM_OP_ATTEST) {
            const QString why = signedUploadRefusal(*m_lastAgentError, {}, std::nullopt);
            if (!why.isEmpty() && error)
                *error = why;
        }
        return std::nullopt;
    }
    return reply->payload;
}

bool AgentLink::supportsTelemetry() const
{
    return m_hasInfo && m_info.hasCapability(TM_CAP_TELEMETRY);
}

std::optional<TelemetrySummary> AgentLink::telemetry(bool reset, QString *error,
                                                     TelemetrySummary::Source source)
{
    if (!requireCapability(TM_CAP_TELEMETRY, tr("report drift telemetry"), error))
        return std::nullopt;
    auto reply = request(TM_OP_TELEMETRY, telemetryPayload(reset, source), kDefaultTimeoutMs, error);
    if (!reply) {
        if (m_lastAgentError && m_lastAgentError->requestOp == TM_OP_TELEMETRY
            && m_lastAgentError->code == TM_ERR_UNKNOWN_OP && error)
            *error = tr("this agent cannot report drift telemetry (update the agent): %1 does not know TELEMETRY")
                         .arg(deviceId());
        return std::nullopt;
    }
    return parseTelemetryReply(reply->payload, error);
}

std::optional<ModelSlotInfo> AgentLink::modelInfo(QString *error)
{
    if (supportsRevert()) {
        auto reply = request(TM_OP_MODEL_INFO, QByteArray(1, char(TM_MODEL_INFO_TRIAL)), kDefaultTimeoutMs, error);
        if (!reply)
            return std::nullopt;
        return parseModelInfoTrialReply(reply->payload, error);
    }
    auto reply = request(TM_OP_MODEL_INFO, {}, kDefaultTimeoutMs, error);
    if (!reply)
        return std::nullopt;
    return parseModelInfoReply(reply->payload, error);
}

bool AgentLink::setInput(const QByteArray &bytes, QString *error)
{
    const int chunkBytes = int(TM_MAX_PAYLOAD) - 4;
    for (qsizetype offset = 0; offset < bytes.size() || offset == 0; offset += chunkBytes) {
        QByteArray payload(4, 0);
        tm_put_u32(reinterpret_cast<uint8_t *>(payload.data()), quint32(offset));
        payload.append(bytes.mid(offset, chunkBytes));
        if (!request(TM_OP_SET_INPUT, payload, kDefaultTimeoutMs, error))
            return false;
        if (bytes.isEmpty())
            break;
    }
    return true;
}

std::optional<quint64> AgentLink::invoke(int timeoutMs, QString *error)
{
    auto reply = request(TM_OP_INVOKE, {}, timeoutMs, error);
    if (!reply)
        return std::nullopt;
    return parseInvokeReply(reply->payload, error);
}

std::optional<QByteArray> AgentLink::getOutput(int bytes, QString *error)
{
    QByteArray out;
    const int chunkBytes = int(TM_MAX_PAYLOAD);
    for (int offset = 0; offset < bytes; offset += chunkBytes) {
        const int n = qMin(chunkBytes, bytes - offset);
        QByteArray payload(6, 0);
        auto *p = reinterpret_cast<uint8_t *>(payload.data());
        tm_put_u32(p, quint32(offset));
        tm_put_u16(p + 4, quint16(n));
        auto reply = request(TM_OP_GET_OUTPUT, payload, kDefaultTimeoutMs, error);
        if (!reply)
            return std::nullopt;
        if (reply->payload.size() != n) {
            if (error)
                *error = tr("GET_OUTPUT returned %1 bytes, asked for %2").arg(reply->payload.size()).arg(n);
            return std::nullopt;
        }
        out += reply->payload;
    }
    return out;
}

std::optional<QVector<quint64>> AgentLink::layerProfile(int runs, int timeoutMs, QString *error)
{
    QVector<quint64> counters;
    int layers = -1;
    while (layers < 0 || counters.size() < layers) {
        auto reply = request(TM_OP_LAYER_PROFILE, layerProfilePayload(quint32(runs), quint16(counters.size())),
                             timeoutMs, error);
        if (!reply)
            return std::nullopt;
        auto page = parseLayerProfileReply(reply->payload, error);
        if (!page)
            return std::nullopt;
        if ((layers >= 0 && page->layerCount != layers) || page->firstLayer != counters.size()
            || (page->counters.isEmpty() && page->layerCount > 0)) {
            if (error)
                *error = tr("LAYER_PROFILE pages do not line up (layer %1 of %2)").arg(page->firstLayer).arg(page->layerCount);
            return std::nullopt;
        }
        layers = page->layerCount;
        counters += page->counters;
    }
    return counters;
}

bool AgentLink::startStream(const StreamRequest &req, QString *error)
{
    const DeviceSensorInfo *sensor = resolveSensor(req.sensor, error);
    if (!sensor)
        return false;
    const quint32 rate = req.rateHz > 0 ? quint32(qRound(req.rateHz)) : sensor->defaultRateHz;
    // Set up before sending: data frames can follow the reply in the same read.
    m_loss.reset();
    m_streamSensor = sensor->id;
    m_streamFormat = StreamFormat{sensor->shortName(), double(rate), sensor->channels, sensor->units};
    m_streaming = true;
    const quint32 frames = quint32(qBound<qint64>(0, req.frames, 0xFFFFFFFF));
    if (!request(TM_OP_STREAM_START, streamStartPayload(sensor->id, rate, frames), kDefaultTimeoutMs,
                 error)) {
        m_streaming = false;
        m_streamSensor = -1;
        return false;
    }
    return true;
}

void AgentLink::stopStream()
{
    if (!m_streaming || !isOpen())
        return;
    // Fire and forget: the reply and the STREAM_END arrive through the event loop.
    sendRequest(TM_OP_STREAM_STOP, {}, kDefaultTimeoutMs, nullptr);
}

void AgentLink::handleBytes(const QByteArray &bytes)
{
    m_parser.feed(bytes);
}

void AgentLink::handleDecoderError(AgentStreamParser::Error e)
{
    switch (e) {
    case AgentStreamParser::Error::Crc: ++m_stats.crcErrors; break;
    case AgentStreamParser::Error::Cobs: ++m_stats.cobsErrors; break;
    case AgentStreamParser::Error::Short: ++m_stats.shortFrames; break;
    case AgentStreamParser::Error::Overflow: ++m_stats.overflows; break;
    }
    reportLinkError(tr("dropped a frame from %1: %2").arg(portName(), AgentStreamParser::errorName(e)));
}

void AgentLink::handleFrame(const AgentFrame &frame)
{
    ++m_stats.framesReceived;
    switch (frame.op) {
    case TM_OP_STREAM_DATA:
        handleStreamData(frame);
        return;
    case TM_OP_STREAM_END:
        handleStreamEnd(frame);
        return;
    case TM_OP_CLASSIFY_RESULT:
        handleClassifyResult(frame);
        return;
    case TM_OP_CLASSIFY_END:
        handleClassifyEnd(frame);
        return;
    case TM_OP_LOG:
        Q_EMIT logReceived(QString::fromUtf8(frame.payload));
        return;
    case TM_OP_ERROR: {
        const auto err = decodeAgentError(frame.payload);
        const AgentError e = err.value_or(AgentError{0, TM_ERR_BAD_LENGTH, QStringLiteral("malformed ERROR frame")});
        if (frame.seq != 0 && m_pending.contains(frame.seq)) {
            m_lastAgentError = e;
            failRequest(frame.seq, tr("%1 failed: %2: %3")
                                       .arg(opName(m_pending.value(frame.seq).op), agentErrorName(e.code), e.message));
            return;
        }
        // Unsolicited: the agent dropped something we sent. Report, keep going.
        ++m_stats.deviceErrors;
        Q_EMIT deviceErrorReported(e.code, e.message);
        reportLinkError(tr("%1 dropped a frame from the host: %2%3")
                            .arg(deviceId(), agentErrorName(e.code),
                                 e.message.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(e.message)));
        return;
    }
    default:
        break;
    }
    if ((frame.op & TM_OP_REPLY) == 0)
        return; // an unknown unsolicited frame from a newer agent
    auto it = m_pending.find(frame.seq);
    if (it == m_pending.end() || (it->op | TM_OP_REPLY) != frame.op)
        return; // a late reply to a request that already timed out
    it->timer->deleteLater();
    m_pending.erase(it);
    AgentReply reply{frame.seq, frame.op, frame.payload};
    if (frame.op == (TM_OP_STREAM_START | TM_OP_REPLY) && frame.payload.size() >= 5) {
        const auto *p = reinterpret_cast<const uint8_t *>(frame.payload.constData());
        m_streamFormat.rateHz = tm_get_u32(p + 1);
        Q_EMIT streamStarted(m_streamFormat);
    }
    Q_EMIT replyReceived(frame.seq, reply);
}

void AgentLink::handleStreamData(const AgentFrame &frame)
{
    QString error;
    auto data = decodeStreamData(frame.payload, m_info, &error);
    if (!data) {
        reportLinkError(tr("bad stream data from %1: %2").arg(deviceId(), error));
        return;
    }
    StreamChunk chunk;
    chunk.sensorId = data->sensorId;
    chunk.lostBefore = m_loss.add(data->firstIndex, data->frames);
    chunk.firstIndex = m_loss.nextIndex() - data->frames;
    chunk.data = std::move(data->data);
    m_stats.samplesReceived += data->frames;
    m_stats.samplesLost += chunk.lostBefore;
    if (chunk.lostBefore > 0)
        reportLinkError(tr("%1 samples lost before index %2 (stream from %3)")
                            .arg(chunk.lostBefore).arg(chunk.firstIndex).arg(deviceId()));
    Q_EMIT streamChunk(chunk);
}

void AgentLink::handleStreamEnd(const AgentFrame &frame)
{
    QString error;
    auto end = decodeStreamEnd(frame.payload, &error);
    if (!end) {
        reportLinkError(tr("bad STREAM_END from %1: %2").arg(deviceId(), error));
        return;
    }
    const qint64 tail = m_loss.lostAtEnd(end->samplesSent);
    m_stats.samplesLost += tail;
    m_streaming = false;
    m_streamSensor = -1;
    StreamEndReason reason = StreamEndReason::Complete;
    if (end->reason == TM_STREAM_END_STOPPED)
        reason = StreamEndReason::Stopped;
    else if (end->reason == TM_STREAM_END_OVERRUN)
        reason = StreamEndReason::Overrun;
    else if (end->reason == TM_STREAM_END_REPLAY_END)
        reason = StreamEndReason::ReplayEnd;
    if (tail > 0)
        reportLinkError(tr("%1 samples at the end of the stream never arrived").arg(tail));
    if (reason == StreamEndReason::Overrun)
        reportLinkError(tr("%1 ended the stream: its UART could not keep up (overrun)").arg(deviceId()));
    Q_EMIT streamEnded(reason, end->samplesSent);
}

std::optional<ClassifyStartReply> AgentLink::startClassification(const QString &sensor, quint32 maxWindows,
                                                                 bool sendRaw, QString *error)
{
    int sensorId = TM_CLASSIFY_ANY_SENSOR;
    if (!sensor.isEmpty()) {
        const DeviceSensorInfo *s = resolveSensor(sensor, error);
        if (!s)
            return std::nullopt;
        sensorId = s->id;
    }
    // Set up before sending: results (and raw frames) can follow the reply in the same read.
    m_loss.reset();
    m_classifying = true;
    m_classifyWindows = 0;
    m_classifyOverruns = 0;
    m_classifyFormat.reset();
    auto reply = request(TM_OP_CLASSIFY_START,
                         classifyStartPayload(sensorId, maxWindows, sendRaw ? quint8(TM_CLASSIFY_RAW) : quint8(0)),
                         kDefaultTimeoutMs, error);
    std::optional<ClassifyStartReply> format;
    if (reply)
        format = parseClassifyStartReply(reply->payload, error);
    if (!format) {
        if (reply) // the agent runs but the host cannot read it: stop it rather than leave it running
            sendRequest(TM_OP_CLASSIFY_STOP, {}, kDefaultTimeoutMs, nullptr);
        m_classifying = false;
        return std::nullopt;
    }
    m_classifyFormat = format;
    return format;
}

void AgentLink::stopClassification()
{
    if (!m_classifying || !isOpen())
        return;
    sendRequest(TM_OP_CLASSIFY_STOP, {}, kDefaultTimeoutMs, nullptr);
}

std::optional<quint32> AgentLink::setSensorReplay(const QString &sensor, const QString &fileName,
                                                  QString *error)
{
    const DeviceSensorInfo *s = resolveSensor(sensor, error);
    if (!s)
        return std::nullopt;
    const QByteArray payload = sensorReplayPayload(s->id, TM_REPLAY_FILE, fileName);
    if (fileName.isEmpty() || payload.size() > int(TM_MAX_PAYLOAD)) {
        if (error)
            *error = tr("replay file name \"%1\" is empty or too long").arg(fileName);
        return std::nullopt;
    }
    // Opening and sizing a file through semihosting takes a moment on QEMU.
    auto reply = request(TM_OP_SENSOR_REPLAY, payload, 5000, error);
    if (!reply)
        return std::nullopt;
    return parseFrameCountReply(reply->payload, reply->op, error);
}

bool AgentLink::clearSensorReplay(const QString &sensor, QString *error)
{
    const DeviceSensorInfo *s = resolveSensor(sensor, error);
    if (!s)
        return false;
    return request(TM_OP_SENSOR_REPLAY, sensorReplayPayload(s->id, TM_REPLAY_OFF, {}), kDefaultTimeoutMs,
                   error).has_value();
}

std::optional<quint32> AgentLink::setSensorScript(const QString &sensor, const QVector<SensorScriptStep> &steps,
                                                  QString *error)
{
    const DeviceSensorInfo *s = resolveSensor(sensor, error);
    if (!s)
        return std::nullopt;
    if (steps.size() > int(TM_SCRIPT_MAX_STEPS)) {
        if (error)
            *error = tr("a scenario script has at most %1 steps, this one %2").arg(TM_SCRIPT_MAX_STEPS).arg(steps.size());
        return std::nullopt;
    }
    for (const SensorScriptStep &step : steps) {
        if (step.scenario < 0 || step.scenario >= s->scenarios.size()) {
            if (error)
                *error = tr("scenario index %1 is outside sensor %2's %3 scenarios")
                             .arg(step.scenario).arg(s->name).arg(s->scenarios.size());
            return std::nullopt;
        }
    }
    auto reply = request(TM_OP_SENSOR_SCRIPT, sensorScriptPayload(s->id, steps), kDefaultTimeoutMs, error);
    if (!reply)
        return std::nullopt;
    return parseFrameCountReply(reply->payload, reply->op, error);
}

void AgentLink::handleClassifyResult(const AgentFrame &frame)
{
    QString error;
    auto result = decodeClassifyResult(frame.payload, &error);
    if (!result) {
        reportLinkError(tr("bad CLASSIFY_RESULT from %1: %2").arg(deviceId(), error));
        return;
    }
    ++m_classifyWindows;
    m_classifyOverruns = result->overruns;
    Q_EMIT classifyResult(*result);
}

void AgentLink::handleClassifyEnd(const AgentFrame &frame)
{
    QString error;
    auto end = decodeClassifyEnd(frame.payload, &error);
    if (!end) {
        reportLinkError(tr("bad CLASSIFY_END from %1: %2").arg(deviceId(), error));
        return;
    }
    m_classifying = false;
    if (end->windowsSent > m_classifyWindows)
        reportLinkError(tr("%1 of %2 classification results from %3 never arrived")
                            .arg(end->windowsSent - m_classifyWindows).arg(end->windowsSent).arg(deviceId()));
    Q_EMIT classifyEnded(*end);
}

} // namespace tinyml
