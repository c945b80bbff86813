#pragma once
// AgentLink: the TinyML agent's binary protocol (firmware-agent/PROTOCOL.md) over a
// serial port. Threading: see DeviceLink.h — one thread, its event loop.
//
// Usage (blocking, e.g. the CLI):
//     AgentLink link; link.setPortName("/dev/pts/7");
//     if (!link.open(&err) || !link.handshake(20, 250, &err)) fail(err);
//     link.info().boardId;                              // from INFO TLVs
//     connect(&link, &DeviceLink::streamChunk, ...);
//     link.startStream({"accel", 100, 500}, &err);      // chunks arrive via the event loop
//
// Asynchronous: sendRequest() returns the seq; replyReceived / requestFailed carry it.

#include "device/AgentProtocol.h"
#include "device/DeviceLink.h"

#include <QHash>
#include <QTimer>

#include <functional>
#include <optional>

namespace tinyml {

struct AgentReply {
    quint8 seq = 0;
    quint8 op = 0;                ///< the request's op | 0x80
    QByteArray payload;
};

class AgentLink : public DeviceLink
{
    Q_OBJECT
public:
    static constexpr int kDefaultTimeoutMs = 1000;

    explicit AgentLink(QObject *parent = nullptr);
    ~AgentLink() override;

    // --- requests --------------------------------------------------------------------
    /// Sends a request; returns its seq (1..255) or -1 with *error. Exactly one of
    /// replyReceived(seq) / requestFailed(seq) follows (timeout, ERROR reply, link lost).
    int sendRequest(quint8 op, const QByteArray &payload, int timeoutMs = kDefaultTimeoutMs,
                    QString *error = nullptr);
    /// Blocking convenience: a local QEventLoop until the reply, an ERROR or the timeout.
    /// An ERROR reply returns nullopt; *error then reads "<OP> failed: <CODE>: <message>"
    /// and lastAgentError() holds the decoded error.
    std::optional<AgentReply> request(quint8 op, const QByteArray &payload, int timeoutMs,
                                      QString *error);
    std::optional<AgentError> lastAgentError() const { return m_lastAgentError; }

    /// HELLO, retried: QEMU drops guest output until the pty is open and the guest may
    /// still be booting, so the first HELLOs can go unanswered. Fills info().
    bool handshake(int attempts, int timeoutMs, QString *error);
    bool refreshInfo(QString *error);                 ///< GET_INFO
    const DeviceInfo &info() const { return m_info; }
    bool hasInfo() const { return m_hasInfo; }
    /// Used when INFO arrived another way (tests).
    void setInfo(const DeviceInfo &info) { m_info = info; m_hasInfo = true; }

    bool ping(const QByteArray &bytes, QString *error);
    bool setScenario(const QString &sensor, const QString &scenario, QString *error);
    bool setSensorSeed(const QString &sensor, quint32 seed, QString *error);
    /// LINK_TEST: the agent sends n garbage bytes and one bad-CRC frame, then replies.
    bool linkTest(int garbageBytes, QString *error);

    /// Uploads a model package (bare or signed): MODEL_BEGIN, MODEL_CHUNKs, MODEL_COMMIT with
    /// benchmarkId as its payload (empty: none). progress(bytesSent, total) after each chunk.
    /// Returns the active slot or -1; a refused commit leaves the previous model active and
    /// lastAgentError() says why (signedUploadRefusal() words the signed-package codes).
    int uploadModel(const QByteArray &package, const std::function<void(qint64, qint64)> &progress,
                    QString *error, const QByteArray &benchmarkId = {});

    /// PROVISION: locks the board to an Ed25519 public key (32 bytes); the same key again is
    /// accepted. Returns the key id the board reports (16 hex digits), then refreshes info()
    /// (its security state). A refusal: nullopt, *error in plain words (signedUploadRefusal).
    std::optional<QString> provision(const QByteArray &publicKey, QString *error);
    /// PROVISION with a device identity: publicKey (32 bytes) as for provision(), then the
    /// identity's 32-byte secret seed, which only the board keeps. The board writes the
    /// identity once: the reply names the device public key in force (the seed's, or the one
    /// the board already had). Needs INFO CAPABILITIES bit 9 (attestation).
    std::optional<ProvisionIdentityReply> provisionWithIdentity(const QByteArray &publicKey,
                                                                const QByteArray &identitySeed, QString *error);
    /// ATTEST: the board's signed statement (crypto/include/tm_attest.h, 320 bytes) over the
    /// 32-byte nonce, unchecked: crypto::verifyAttestation judges it. NOT_PROVISIONED and
    /// NOT_SUPPORTED come back as errors in plain words.
    std::optional<QByteArray> attest(const QByteArray &nonce, QString *error);
    /// INFO CAPABILITIES bit 9: the agent keeps a device identity and answers ATTEST.
    bool supportsAttestation() const;

    /// INFO CAPABILITIES bit 10: the agent answers MODEL_REVERT / MODEL_CONFIRM.
    bool supportsRevert() const;
    /// MODEL_REVERT: the model that was active before the last commit runs again, with the
    /// anti-rollback counter the board had then; persisted on the board before it replies.
    /// Allowed only while the last commit is on trial (not confirmed, no upload since). Returns
    /// the active slot, then refreshes info(). nullopt and *error saying why: the board's own
    /// reason for NO_PREVIOUS_MODEL ("nothing to revert to: ..."), or "this agent cannot
    /// revert (update the agent)".
    std::optional<int> revertModel(QString *error);
    /// MODEL_CONFIRM: the active model stays; revert is no longer possible. Confirming a model
    /// that is not on trial changes nothing (true).
    bool confirmModel(QString *error);

    /// INFO CAPABILITIES bit 11: the agent keeps drift summaries (TELEMETRY).
    bool supportsTelemetry() const;
    /// TELEMETRY: the running summary of `source` (CLASSIFY windows or INVOKE inputs) since
    /// the active package became active or the last reset; reset zeroes it after reading.
    std::optional<TelemetrySummary> telemetry(bool reset, QString *error,
                                              TelemetrySummary::Source source = TelemetrySummary::kClassify);
    // --- model and inference (blocking helpers; replies bounds-checked) -------------------
    /// MODEL_INFO: the active slot's size and CRC, and (agents with revert) whether it is on
    /// trial.
    std::optional<ModelSlotInfo> modelInfo(QString *error);
    /// SET_INPUT in chunks of one frame each.
    bool setInput(const QByteArray &bytes, QString *error);
    /// INVOKE: the counter ticks the inference took.
    std::optional<quint64> invoke(int timeoutMs, QString *error);
    /// GET_OUTPUT of `bytes` bytes, in chunks of one frame each.
    std::optional<QByteArray> getOutput(int bytes, QString *error);
    /// LAYER_PROFILE over every layer (paged): one counter per layer, min over `runs`.
    std::optional<QVector<quint64>> layerProfile(int runs, int timeoutMs, QString *error);

    // --- streaming (DeviceLink) --------------------------------------------------------
    /// Sends STREAM_START and waits for its reply. request.sensor is a sensor name from
    /// INFO (empty = first sensor); rateHz 0 = the sensor's default.
    bool startStream(const StreamRequest &request, QString *error) override;
    /// Sends STREAM_STOP without waiting; streamEnded follows with the STREAM_END frame.
    void stopStream() override;
    StreamFormat streamFormat() const override { return m_streamFormat; }
    bool isStreaming() const override { return m_streaming; }
    /// The registry id when set (VirtualBoard knows it), else INFO's BOARD_ID.
    QString deviceId() const override;
    void setDeviceId(const QString &id) { m_deviceId = id; }
    const StreamLossCounter &lossCounter() const { return m_loss; }

    // --- continuous classification and sensor replay (PROTOCOL.md ops 0x13..0x16) ---------
    /// CLASSIFY_START on `sensor` (an INFO name; empty = the first sensor of the impulse's
    /// kind, TM_CLASSIFY_ANY_SENSOR). maxWindows 0: until stopClassification() or the end of
    /// a replay/script. sendRaw: the windows' frames also arrive as streamChunk (the loss
    /// counter restarts). classifyResult / classifyEnded follow through the event loop.
    std::optional<ClassifyStartReply> startClassification(const QString &sensor, quint32 maxWindows,
                                                          bool sendRaw, QString *error);
    /// CLASSIFY_STOP without waiting; classifyEnded follows with the CLASSIFY_END frame.
    void stopClassification();
    bool isClassifying() const { return m_classifying; }
    /// The CLASSIFY_START reply of the running (or last) classification.
    std::optional<ClassifyStartReply> classifyFormat() const { return m_classifyFormat; }
    /// SENSOR_REPLAY mode 1: the sensor plays `fileName` (raw int16 LE, relative to the
    /// agent's working directory: VirtualBoard::stateDirectory() on a virtual board) from its
    /// next STREAM_START / CLASSIFY_START. Returns the file's frame count.
    std::optional<quint32> setSensorReplay(const QString &sensor, const QString &fileName,
                                           QString *error);
    /// SENSOR_REPLAY mode 0: the sensor goes back to its simulation.
    bool clearSensorReplay(const QString &sensor, QString *error);
    /// SENSOR_SCRIPT (no steps clears it). Returns the total frames at the default rate.
    std::optional<quint32> setSensorScript(const QString &sensor, const QVector<SensorScriptStep> &steps,
                                           QString *error);

Q_SIGNALS:
    void replyReceived(int seq, const tinyml::AgentReply &reply);
    void requestFailed(int seq, const QString &message);
    /// An unsolicited ERROR: the agent dropped a frame the host sent (BAD_CRC / BAD_LENGTH).
    void deviceErrorReported(int code, const QString &message);
    void logReceived(const QString &text);
    /// One CLASSIFY_RESULT (per window, in order).
    void classifyResult(const tinyml::ClassifyResult &result);
    /// CLASSIFY_END, or reason ClassifyEnd::kLinkLost when the link closed meanwhile.
    void classifyEnded(const tinyml::ClassifyEnd &end);

protected:
    void handleBytes(const QByteArray &bytes) override;
    void handleOpened() override;
    void handleClosing() override;

private:
    struct Pending {
        quint8 op = 0;
        QTimer *timer = nullptr;
    };
    void handleFrame(const AgentFrame &frame);
    void handleDecoderError(AgentStreamParser::Error e);
    void handleStreamData(const AgentFrame &frame);
    void handleStreamEnd(const AgentFrame &frame);
    void handleClassifyResult(const AgentFrame &frame);
    void handleClassifyEnd(const AgentFrame &frame);
    void failRequest(quint8 seq, const QString &message);
    void failAllPending(const QString &message);
    const DeviceSensorInfo *resolveSensor(const QString &name, QString *error) const;
    /// PROVISION with payload; a refusal is worded with signedUploadRefusal() after INFO is
    /// refreshed (the board's security state names the key in force).
    std::optional<AgentReply> requestProvision(const QByteArray &payload, int timeoutMs, QString *error);
    /// The "update the agent" error when INFO lacks capability bit, naming what.
    bool requireCapability(quint32 bit, const QString &what, QString *error) const;

    AgentStreamParser m_parser;
    QHash<quint8, Pending> m_pending;
    quint8 m_nextSeq = 1;
    DeviceInfo m_info;
    bool m_hasInfo = false;
    std::optional<AgentError> m_lastAgentError;
    QString m_deviceId;

    bool m_streaming = false;
    int m_streamSensor = -1;
    StreamFormat m_streamFormat;
    StreamLossCounter m_loss;

    bool m_classifying = false;
    std::optional<ClassifyStartReply> m_classifyFormat;
    quint32 m_classifyWindows = 0;   ///< CLASSIFY_RESULTs received in this classification
    quint32 m_classifyOverruns = 0;  ///< the last overrun count they carried
};

} // namespace tinyml

Q_DECLARE_METATYPE(tinyml::AgentReply)
Q_DECLARE_METATYPE(tinyml::ClassifyResult)
Q_DECLARE_METATYPE(tinyml::ClassifyEnd)
