#pragma once
// One abstract device link; one subclass per protocol (AgentLink, LineLink, MlperfLink).
//
// Threading contract: a DeviceLink is a QObject that lives in one thread. It owns a
// QSerialPort that runs in that thread's event loop; every method must be called from
// that thread and every signal is emitted from it. The blocking conveniences some
// subclasses offer (AgentLink::request) spin a local QEventLoop, so they must not be
// called from a slot that another local event loop of the same link is waiting in.
// To use a link from another thread, create it there (or moveToThread before open()).

#include "data/Sample.h"

#include <QObject>
#include <QSerialPort>
#include <QString>

namespace tinyml {

/// Counters of one link since open(). Decoder counters only move on AgentLink;
/// malformedLines only on LineLink / MlperfLink.
struct LinkStatistics {
    qint64 bytesReceived = 0;
    qint64 bytesSent = 0;
    qint64 framesReceived = 0;   ///< valid frames (AgentLink) or lines (text links)
    qint64 framesSent = 0;
    qint64 crcErrors = 0;        ///< local decoder: frames that failed their CRC
    qint64 cobsErrors = 0;       ///< local decoder: frames that were not valid COBS
    qint64 shortFrames = 0;      ///< local decoder: frames shorter than seq + op + crc
    qint64 overflows = 0;        ///< local decoder: runs of bytes longer than any frame
    qint64 deviceErrors = 0;     ///< unsolicited ERROR frames: the device dropped our frame
    qint64 timeouts = 0;         ///< requests that got no reply in time
    qint64 samplesReceived = 0;  ///< stream frames (one frame = one sample of all channels)
    qint64 samplesLost = 0;      ///< from gaps in the stream's sample index
    qint64 malformedLines = 0;   ///< text links: lines that did not parse
    qint64 decoderErrors() const { return crcErrors + cobsErrors + shortFrames + overflows; }
};

/// A block of streamed samples: data is float32 [frames, channels] in physical units.
struct StreamChunk {
    int sensorId = 0;
    qint64 firstIndex = 0;       ///< index of data's first frame since the stream started
    qint64 lostBefore = 0;       ///< frames missing between the previous chunk and this one
    Tensor data;
    qint64 frames() const { return data.shape.isEmpty() ? 0 : data.shape.first(); }
};

/// What a stream delivers, known once it started (AgentLink: from INFO and the
/// STREAM_START reply; LineLink: after detection).
struct StreamFormat {
    QString sensor;              ///< "accel", "mic"; "lines" for LineLink
    double rateHz = 0;
    QStringList channels;
    QStringList units;
};

/// Parameters of startStream(). Fields a link cannot honour are ignored (LineLink
/// cannot change what the board prints; rateHz 0 there means "detect").
struct StreamRequest {
    QString sensor;              ///< sensor name; empty = the device's first sensor
    double rateHz = 0;           ///< 0 = the sensor's default
    qint64 frames = 0;           ///< 0 = until stopStream()
};

/// Why a stream ended. ReplayEnd: the sensor's replay file or scenario script ended
/// (tm_stream_end_t 3); the data was a replay or a simulation.
enum class StreamEndReason { Complete, Stopped, Overrun, LinkLost, ReplayEnd };

class DeviceLink : public QObject
{
    Q_OBJECT
public:
    enum class State { Closed, Open, Failed };
    Q_ENUM(State)

    explicit DeviceLink(QObject *parent = nullptr);
    ~DeviceLink() override;

    /// portName: "/dev/ttyACM0", "/dev/pts/5", or anything QSerialPort accepts.
    void setPortName(const QString &portName) { m_portName = portName; }
    QString portName() const { return m_portName; }
    void setBaudRate(qint32 baud) { m_baudRate = baud; }
    /// A process that holds the port open by design (the emulator behind a virtual board's
    /// pty) and does not count as a second user.
    void setPortSharedWith(qint64 pid) { m_sharedWith = pid; }

    /// Opens the port (8N1, no flow control). A subclass handshake, if any, is separate.
    /// Refuses a port another process has open: "port P is in use by PID N (<command line>)"
    /// (QSerialPort alone would open a port a non-Qt program holds, and say only "Permission
    /// error while locking the device" for one a Qt program holds).
    virtual bool open(QString *error);
    virtual void close();
    bool isOpen() const { return m_state == State::Open; }
    State state() const { return m_state; }
    QString lastError() const { return m_lastError; }

    /// Raw write; protocol subclasses frame their own messages through it.
    bool send(const QByteArray &bytes, QString *error = nullptr);

    LinkStatistics statistics() const { return m_stats; }
    void resetStatistics() { m_stats = {}; }

    // --- streaming (AgentLink, LineLink); the default says "not supported" -----------
    virtual bool startStream(const StreamRequest &request, QString *error);
    virtual void stopStream();
    virtual StreamFormat streamFormat() const { return {}; }
    virtual bool isStreaming() const { return false; }
    /// A short name for "device:<id>" sample sources.
    virtual QString deviceId() const { return m_portName; }

Q_SIGNALS:
    void stateChanged(tinyml::DeviceLink::State state);
    /// Every byte read from the port, before protocol decoding (for raw consoles).
    void dataReceived(const QByteArray &bytes);
    /// A recoverable problem: a bad frame, a malformed line, a device-side error report.
    void linkError(const QString &message);
    /// The port is gone (board unplugged, pty closed, process died). The link is closed.
    void connectionLost(const QString &message);

    void streamStarted(const tinyml::StreamFormat &format);
    void streamChunk(const tinyml::StreamChunk &chunk);
    void streamEnded(tinyml::StreamEndReason reason, qint64 framesSent);

protected:
    /// Called with every chunk of bytes read, after statistics and dataReceived.
    virtual void handleBytes(const QByteArray &bytes) = 0;
    /// Called once the port is open, before open() returns.
    virtual void handleOpened() {}
    /// Called before the port closes (deliberately or because it was lost).
    virtual void handleClosing() {}

    void setState(State state);
    void reportLinkError(const QString &message);
    QSerialPort *port() { return m_port; }
    LinkStatistics m_stats;

private:
    void onReadyRead();
    void onPortError(QSerialPort::SerialPortError error);

    QSerialPort *m_port = nullptr;
    QString m_portName;
    qint32 m_baudRate = 115200;
    qint64 m_sharedWith = 0;
    State m_state = State::Closed;
    QString m_lastError;
};

} // namespace tinyml

Q_DECLARE_METATYPE(tinyml::StreamChunk)
Q_DECLARE_METATYPE(tinyml::StreamFormat)
