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

/// INFO tag 18 IMPULSE: what the agent's continuous classification can run.
struct ImpulseCapabilities {
    int formatVersion = 0;        ///< impulse section version the agent reads (TM_IMPULSE_FORMAT_VERSION)
    quint32 dspMask = 0;          ///< bit i: DSP block code i is compiled in
    quint32 postMask = 0;         ///< bit 0 averaging, 1 thresholds, 2 suppression, 3 background classes
    quint32 ringValues = 0;       ///< ring capacity in int16 values (window x channels must fit)
    quint32 workBytes = 0;        ///< impulse work-buffer bytes

    bool hasDspBlock(int code) const { return code >= 0 && code < 32 && (dspMask & (1u << code)) != 0; }
    bool hasPostFeature(int bit) const { return bit >= 0 && bit < 32 && (postMask & (1u << bit)) != 0; }
};

/// INFO tag 19 SECURITY: the board's signed-package state (CAPABILITIES bit 8).
struct DeviceSecurity {
    bool provisioned = false;
    QString keyId;                ///< 16 hex digits of the provisioned key; empty when not
    quint32 antiRollbackCounter = 0; ///< lowest package version the board commits
    quint32 activePackageVersion = 0; ///< signed version of the active slot; 0: none/unsigned
    quint32 lastCheckTicks = 0;   ///< counter ticks of the last signature check (0: none)
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
    /// IMPULSE: present when the agent runs impulses continuously (CAPABILITIES bit 6).
    std::optional<ImpulseCapabilities> impulse;
    /// SECURITY: present when the agent takes signed packages (CAPABILITIES bit 8).
    std::optional<DeviceSecurity> security;
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
/// tm_stream_end_t as a word for messages: "complete", "stopped", "overrun", "replay end";
/// unknown values read "reason <n>".
QString streamEndReasonName(int reason);

struct AgentError {
    int requestOp = 0;
    int code = 0;                 ///< tm_error_t
    QString message;
};
std::optional<AgentError> decodeAgentError(const QByteArray &payload);
QString agentErrorName(int code);  ///< "BAD_CRC", ...

/// The package being flashed, as the host read it from its signature block (empty keyId and
/// version 0 for a bare package): what an upload refusal's message names.
struct UploadedPackage {
    QString keyId;
    quint32 version = 0;
};

/// An English sentence naming the cause of a refused MODEL_COMMIT or PROVISION (UNSIGNED,
/// WRONG_KEY, BAD_SIGNATURE, SIGNED_MALFORMED, ROLLBACK, ALREADY_PROVISIONED), from the error,
/// what the host knows of the package and the board's INFO SECURITY ("package signed by key X,
/// the board trusts key Y"). Empty for other errors (their "<OP> failed: ..." text stands).
QString signedUploadRefusal(const AgentError &error, const UploadedPackage &package,
                            const std::optional<DeviceSecurity> &board);

/// CRC-32 as the agent computes it (MODEL_BEGIN, MODEL_INFO).
quint32 agentCrc32(const QByteArray &bytes);

/// PROVISION's reply: the 8-byte key id as 16 hex digits.
std::optional<QString> parseProvisionReply(const QByteArray &payload, QString *error);

/// PROVISION's reply when the request carried a device identity seed (64-byte payload): the
/// key id, then the device identity public key the board holds (the one just written, or the
/// one it already had: an identity is written once).
struct ProvisionIdentityReply {
    QString keyId;              ///< 16 hex digits
    QByteArray devicePublicKey; ///< 32 bytes
};
std::optional<ProvisionIdentityReply> parseProvisionIdentityReply(const QByteArray &payload, QString *error);
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
    /// MODEL_INFO flag 0x02 (agents with MODEL_REVERT): the active slot was committed since the
    /// last MODEL_CONFIRM and MODEL_REVERT can return to the model before it. False for
    /// replies without the flag (older agents).
    bool onTrial = false;
};
/// TM_SLOT_NONE of tm_port.h, as MODEL_INFO sends it.
constexpr int TM_SLOT_NONE_VALUE = 0xFF;
std::optional<ModelSlotInfo> parseModelInfoReply(const QByteArray &payload, QString *error);
/// MODEL_INFO reply to flags TM_MODEL_INFO_TRIAL (0x02): the 10 bytes above, then the u8
/// trial flag (0 or 1).
std::optional<ModelSlotInfo> parseModelInfoTrialReply(const QByteArray &payload, QString *error);
/// MODEL_REVERT reply: the slot active again (0 or 1).
std::optional<int> parseModelRevertReply(const QByteArray &payload, QString *error);
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

// --- continuous classification and sensor replay (PROTOCOL.md, ops 0x13..0x16, 0x43/0x44) ---
// The new payloads have fixed layouts: a payload of any other length is refused, naming
// the op and both lengths (CLASSIFY_RESULT's length follows from its class_count).

/// CLASSIFY_START request. sensorId TM_CLASSIFY_ANY_SENSOR (0xFF): the first sensor of the
/// impulse's kind; maxWindows 0: until CLASSIFY_STOP or the end of a replay/script;
/// flags: TM_CLASSIFY_RAW to also receive the windows' frames as STREAM_DATA.
QByteArray classifyStartPayload(int sensorId, quint32 maxWindows, quint8 flags);

/// CLASSIFY_START reply.
struct ClassifyStartReply {
    int sensorId = 0;
    quint32 rateHz = 0;
    quint32 window = 0;           ///< frames per window
    quint32 stride = 0;           ///< frames between window ends
    int classCount = 0;
    quint32 ringFrames = 0;
};
/// Refuses a zero rate, window, stride or class count, and a ring smaller than window + stride.
std::optional<ClassifyStartReply> parseClassifyStartReply(const QByteArray &payload, QString *error);

/// CLASSIFY_RESULT: one window's decision (unsolicited). Flag bits are tm_impulse.h's.
struct ClassifyResult {
    static constexpr quint8 kDetection = 0x01;   ///< TM_IMPULSE_DETECTION: a new detection
    static constexpr quint8 kSuppressed = 0x02;  ///< TM_IMPULSE_SUPPRESSED
    static constexpr quint8 kBackground = 0x04;  ///< TM_IMPULSE_BACKGROUND
    static constexpr int kUncertain = 0xFF;      ///< TM_IMPULSE_UNCERTAIN

    quint32 windowEnd = 0;        ///< frame index one past the window's last frame
    int topClass = 0;
    int decision = kUncertain;    ///< class index or kUncertain
    quint8 flags = 0;
    int classCount = 0;
    float score = 0;              ///< averaged score of topClass
    quint32 dspTicks = 0;         ///< COUNTER ticks: conversion, DSP, normalisation, quantization
    quint32 modelTicks = 0;
    quint32 postTicks = 0;
    quint32 overruns = 0;         ///< overrun windows so far
    QVector<qint8> raw;           ///< classCount raw int8 model outputs
    /// Appended when the package carries an anomaly model (2 more bytes): its int8 score and
    /// the alarm (score above the package's threshold).
    bool hasAnomaly = false;
    qint8 anomalyScore = 0;
    bool anomalyAlarm = false;

    bool isDetection() const { return (flags & kDetection) != 0; }
    bool isUncertain() const { return decision == kUncertain; }
};
/// Checks the length against class_count (+ 2 with an anomaly score), top_class < class_count and the decision
/// (a class index or 0xFF); a detection must name a class.
std::optional<ClassifyResult> decodeClassifyResult(const QByteArray &payload, QString *error);

/// CLASSIFY_END (unsolicited) after CLASSIFY_STOP, max_windows, a replay's end or HELLO.
struct ClassifyEnd {
    /// reason: AgentLink reports this when the link closed during a classification.
    static constexpr int kLinkLost = -1;
    quint32 windowsSent = 0;
    quint32 overruns = 0;
    quint32 framesLost = 0;
    int reason = 0;               ///< tm_stream_end_t, or kLinkLost
};
std::optional<ClassifyEnd> decodeClassifyEnd(const QByteArray &payload, QString *error);

/// SENSOR_REPLAY request: mode TM_REPLAY_FILE plays fileName (UTF-8, relative to the
/// agent's working directory), TM_REPLAY_OFF ends a replay (fileName ignored).
QByteArray sensorReplayPayload(int sensorId, int mode, const QString &fileName);

/// One SENSOR_SCRIPT step: an index into the sensor's SCENARIOS list and a duration.
struct SensorScriptStep {
    int scenario = 0;
    quint32 durationMs = 0;
};
/// SENSOR_SCRIPT request; no steps clears the script. Returns an empty array when the step
/// count exceeds TM_SCRIPT_MAX_STEPS or a scenario index does not fit in a u8.
QByteArray sensorScriptPayload(int sensorId, const QVector<SensorScriptStep> &steps);

/// SENSOR_REPLAY and SENSOR_SCRIPT replies: one u32 frame count. `op` names the reply in
/// the error ("SENSOR_REPLAY").
std::optional<quint32> parseFrameCountReply(const QByteArray &payload, int op, QString *error);

/// TELEMETRY reply (layout 1, PROTOCOL.md "Drift telemetry"): one source's running summary
/// since the active package became active or the last reset. All counts are exact integers.
struct TelemetrySummary {
    enum Source { kClassify = 0, kInvoke = 1 };
    int layout = 0;
    int source = kClassify;
    bool hasImpulse = false;           ///< the package has an impulse (thresholds apply)
    bool anomaly = false;              ///< one-output model: anomalyHistogram is present
    quint32 packageCrc = 0;            ///< CRC-32 of the active package; 0: none
    quint32 windows = 0;
    quint32 uncertain = 0;
    qint64 topSum = 0;                 ///< sum of (q_top - outZeroPoint)
    float outScale = 0.0f;
    qint32 outZeroPoint = 0;
    quint32 inputCount = 0;            ///< int8 model-input elements
    int featureStride = 0;             ///< summarised element k is input element k * stride
    QVector<quint32> classHistogram;   ///< top class counts, <= 32 classes
    QVector<qint64> featureSum;        ///< per summarised element, of the int8 input
    QVector<quint64> featureSumSq;
    QVector<quint32> anomalyHistogram; ///< 16 bins of 16 int8 codes: bin (q + 128) / 16
    /// Mean dequantized top score (topSum * outScale / windows); 0 without windows.
    double meanTopScore() const;
    double uncertainShare() const { return windows ? double(uncertain) / windows : 0.0; }
};
/// TELEMETRY request payload: flags TM_TELEMETRY_RESET / TM_TELEMETRY_SOURCE_INVOKE.
QByteArray telemetryPayload(bool reset, TelemetrySummary::Source source);
/// Checks the layout version, every count against the bytes and the histograms' totals
/// against windows.
std::optional<TelemetrySummary> parseTelemetryReply(const QByteArray &payload, QString *error);

} // namespace tinyml
