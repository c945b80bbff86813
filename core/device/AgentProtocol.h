#pragma once
// The host side of the agent wire protocol (firmware-agent/PROTOCOL.md) as pure functions
// and classes over bytes: no ports, no event loop. AgentLink drives them; tests and the
// fuzz target call them directly. Framing itself is tm_frame.c, shared with the agent.

#include "data/Sample.h"

#include <QByteArray>
#include <QString>
#include <QStringList>
#include <QVector>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

namespace tinyml {

struct DeviceSensorInfo {
    int id = 0;
    int kind = 0;                 ///< tm_sensor_kind_t: 0 accelerometer, 1 microphone
    int dtype = 0;                ///< tm_sample_dtype_t: 0 int16, 1 float32
    int channelCount = 0;
    float scale = 1.0f;           ///< physical = raw * scale
    quint32 minRateHz = 0;
    quint32 maxRateHz = 0;
    quint32 defaultRateHz = 0;
    QString name;
    QStringList channels;
    QStringList units;
    QStringList scenarios;        ///< from SCENARIOS records naming this sensor
    int sampleBytes() const { return channelCount * (dtype == 1 ? 4 : 2); }
    /// The project's name for this kind of sensor ("accel", "mic"); name for other kinds.
    QString shortName() const;
};

/// What INFO (the HELLO / GET_INFO reply) says about a device.
struct DeviceInfo {
    int protocolVersion = 0;
    QString agentVersion;
    QString boardId;
    QString cpu;
    quint32 clockHz = 0;
    quint32 ramBytes = 0;
    quint32 flashBytes = 0;
    quint32 ramFree = 0;
    quint32 flashFree = 0;
    int counterKind = -1;         ///< tm_counter_kind_t; -1 when absent
    quint32 counterResolution = 0;
    quint32 capabilities = 0;     ///< tm_capability_t bits
    QVector<DeviceSensorInfo> sensors;
    QString simulator;            ///< non-empty: the sensors are simulated
    QString build;
    int modelSlots = 0;
    quint32 modelSlotBytes = 0;
    /// MODEL_FORMAT: the package version the interpreter reads (0: the agent does not say)
    /// and the op codes (model::OpType values) it runs.
    int modelFormatVersion = 0;
    QVector<int> supportedOps;
    int unknownTags = 0;          ///< records skipped because this host does not know them

    bool hasCapability(quint32 bit) const { return (capabilities & bit) != 0; }
    const DeviceSensorInfo *sensorById(int id) const;
    /// By INFO name, else by short name ("accel" finds an "accelerometer").
    const DeviceSensorInfo *sensorByName(const QString &name) const;
    /// "cycles", "instructions", "microseconds" (or "unknown").
    QString counterKindName() const;
};

/// Parses INFO TLVs. Unknown tags are skipped by length; a record running past the end
/// or a known tag with a malformed value is an error naming the tag and offset.
std::optional<DeviceInfo> parseDeviceInfo(const QByteArray &tlv, QString *error);

/// Builds INFO TLVs (tests, and the fuzz seed corpus).
QByteArray encodeDeviceInfo(const DeviceInfo &info);

/// A decoded STREAM_DATA payload.
struct StreamData {
    int sensorId = 0;
    quint32 firstIndex = 0;
    int frames = 0;
    Tensor data;                  ///< float32 [frames, channels], physical units
};

/// Decodes a STREAM_DATA payload using the sensor's dtype, channel count and scale.
std::optional<StreamData> decodeStreamData(const QByteArray &payload, const DeviceInfo &info,
                                           QString *error);

struct StreamEnd {
    int sensorId = 0;
    quint32 samplesSent = 0;
    int reason = 0;               ///< tm_stream_end_t
};
std::optional<StreamEnd> decodeStreamEnd(const QByteArray &payload, QString *error);

struct AgentError {
    int requestOp = 0;
    int code = 0;                 ///< tm_error_t
    QString message;
};
std::optional<AgentError> decodeAgentError(const QByteArray &payload);
QString agentErrorName(int code);  ///< "BAD_CRC", ...
QString opName(int op);            ///< "HELLO", "STREAM_DATA", "0x5a" ...

/// Counts frames missing from a stream from the sample index of each STREAM_DATA frame.
/// The index is u32 on the wire; the counter unwraps it into a 64-bit running index.
class StreamLossCounter
{
public:
    void reset() { *this = StreamLossCounter(); }
    /// Returns frames lost just before this block (0 when contiguous). A block that
    /// repeats or goes back (a duplicate) returns 0 and is counted in duplicates().
    qint64 add(quint32 firstIndex, int frames);
    qint64 lost() const { return m_lost; }
    qint64 received() const { return m_received; }
    qint64 duplicates() const { return m_duplicates; }
    qint64 nextIndex() const { return m_next; }
    /// Frames the device reports it sent but that never arrived (STREAM_END).
    qint64 lostAtEnd(quint32 samplesSent) const;

private:
    qint64 m_next = 0;
    qint64 m_lost = 0;
    qint64 m_received = 0;
    qint64 m_duplicates = 0;
    bool m_started = false;
};

/// One decoded unit of the receive byte stream.
struct AgentFrame {
    quint8 seq = 0;
    quint8 op = 0;
    QByteArray payload;
};

/// Turns received bytes into frames and decoder errors: a thin C++ face of
/// tm_frame_decoder_t with the statistics a link reports.
class AgentStreamParser
{
public:
    enum class Error { Crc, Cobs, Short, Overflow };
    using FrameHandler = std::function<void(const AgentFrame &)>;
    using ErrorHandler = std::function<void(Error)>;

    AgentStreamParser();
    ~AgentStreamParser();
    AgentStreamParser(const AgentStreamParser &) = delete;
    AgentStreamParser &operator=(const AgentStreamParser &) = delete;

    void setFrameHandler(FrameHandler handler) { m_onFrame = std::move(handler); }
    void setErrorHandler(ErrorHandler handler) { m_onError = std::move(handler); }
    void feed(const char *data, qsizetype size);
    void feed(const QByteArray &bytes) { feed(bytes.constData(), bytes.size()); }
    void reset();

    quint64 framesOk() const;
    quint64 crcErrors() const;
    quint64 cobsErrors() const;
    quint64 shortFrames() const;
    quint64 overflows() const;
    static QString errorName(Error e);

private:
    struct Impl;
    std::unique_ptr<Impl> d;
    FrameHandler m_onFrame;
    ErrorHandler m_onError;
};

/// A complete wire frame, preceded by one 0x00 that flushes line noise on the receiver.
QByteArray encodeAgentFrame(quint8 seq, quint8 op, const QByteArray &payload);

/// MODEL_INFO reply: the active slot and the package it holds.
struct ModelSlotInfo {
    int activeSlot = -1;          ///< -1: none
    bool valid = false;
    quint32 size = 0;
    quint32 crc = 0;              ///< CRC-32 (IEEE) of the whole package
};
/// TM_SLOT_NONE of tm_port.h, as MODEL_INFO sends it.
constexpr int TM_SLOT_NONE_VALUE = 0xFF;
std::optional<ModelSlotInfo> parseModelInfoReply(const QByteArray &payload, QString *error);
/// INVOKE reply: counter ticks of the inference.
std::optional<quint64> parseInvokeReply(const QByteArray &payload, QString *error);

/// LAYER_PROFILE reply: counters of layers firstLayer .. firstLayer + counters.size() - 1.
struct LayerProfileReply {
    int layerCount = 0;
    int firstLayer = 0;
    QVector<quint64> counters;
};
/// Checks the header against the bytes and the layer range against layerCount.
std::optional<LayerProfileReply> parseLayerProfileReply(const QByteArray &payload, QString *error);

// Request payload builders (little-endian, as PROTOCOL.md lists them).
QByteArray helloPayload();
QByteArray streamStartPayload(int sensorId, quint32 rateHz, quint32 nSamples,
                              quint16 samplesPerFrame = 0);
QByteArray layerProfilePayload(quint32 runs, quint16 firstLayer);

} // namespace tinyml
