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

    /// Uploads a model package: MODEL_BEGIN, MODEL_CHUNKs, MODEL_COMMIT.
    /// progress(bytesSent, total) after each chunk. Returns the active slot or -1.
    int uploadModel(const QByteArray &package, const std::function<void(qint64, qint64)> &progress,
                    QString *error);

    // --- model and inference (blocking helpers; replies bounds-checked) -------------------
    /// MODEL_INFO: the active slot's size and CRC.
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

Q_SIGNALS:
    void replyReceived(int seq, const tinyml::AgentReply &reply);
    void requestFailed(int seq, const QString &message);
    /// An unsolicited ERROR: the agent dropped a frame the host sent (BAD_CRC / BAD_LENGTH).
    void deviceErrorReported(int code, const QString &message);
    void logReceived(const QString &text);

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
    void failRequest(quint8 seq, const QString &message);
    void failAllPending(const QString &message);
    const DeviceSensorInfo *resolveSensor(const QString &name, QString *error) const;

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
};

} // namespace tinyml

Q_DECLARE_METATYPE(tinyml::AgentReply)
