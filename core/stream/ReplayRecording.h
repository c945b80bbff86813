#pragma once
// A recording prepared for the agent's SENSOR_REPLAY: the file the simulated sensor plays
// instead of its simulation (firmware-agent/PROTOCOL.md, "Continuous classification and
// sensor replay").
//
//     ReplayTarget target{16000, 1, 1.0f / 32768, "mic"};      // from INFO SENSOR + the impulse
//     io::ImportError err;
//     auto rec = ReplayRecording::load("keywords.wav", target, &err);
//     if (!rec) fail(err.toString());         // "keywords.wav: rate: 8000 Hz, the impulse needs 16000 Hz"
//     rec->writeRaw(QDir(board.stateDirectory()).filePath("replay-mic.raw"), &msg);
//     link->setSensorReplay("mic", "replay-mic.raw", &msg);
//
// Sources: a WAV (io::parseWav: PCM normalised to [-1, 1)), a time-series CSV
// (io::parseTimeSeriesCsv: physical units, rate from its timestamps), or a project Sample
// (float32 [frames, channels], physical units). The rate must match the target's within
// 0.1 % (the agent plays the file at the requested rate, it does not resample), and the
// channel count exactly.
// Conversion: raw = round(x / rawScale) (half away from zero), saturated to int16; saturated
// values are counted (clippedValues) and never silent. A non-finite value is an error.
// File: raw little-endian int16, channels interleaved, no header.

#include "data/Sample.h"
#include "io/ImportResult.h"

#include <QByteArray>
#include <QString>

#include <optional>

namespace tinyml::stream {

/// What the sensor and the impulse need.
struct ReplayTarget {
    double rateHz = 0;            ///< the impulse's rate (the rate the sensor will run at)
    int channels = 0;             ///< the sensor's channel count
    float rawScale = 1.0f;        ///< INFO SENSOR scale: physical = raw × scale
    QString sensorName;           ///< for messages ("mic")
};

class ReplayRecording
{
public:
    /// By extension: .wav, else .csv (time-series CSV). Errors name the file and the field
    /// ("rate", "channels", "values") or the reader's own line and column.
    static std::optional<ReplayRecording> load(const QString &path, const ReplayTarget &target,
                                               io::ImportError *error);
    /// From bytes already read (fileName for messages and the format by extension).
    static std::optional<ReplayRecording> fromBytes(const QByteArray &bytes, const QString &fileName,
                                                    const ReplayTarget &target, io::ImportError *error);
    /// From a project sample; sourceName names it in errors ("sample 12").
    static std::optional<ReplayRecording> fromSample(const Sample &sample, const QString &sourceName,
                                                     const ReplayTarget &target, io::ImportError *error);

    QString source() const { return m_source; }
    double rateHz() const { return m_rateHz; }
    int channels() const { return m_channels; }
    qint64 frames() const { return m_channels > 0 ? m_raw.size() / (2 * m_channels) : 0; }
    double durationS() const { return m_rateHz > 0 ? double(frames()) / m_rateHz : 0.0; }
    /// Values saturated at -32768 or 32767 by the conversion.
    qint64 clippedValues() const { return m_clipped; }
    /// "clipped 12 of 48000 values (0.025 %) ..." or empty when nothing was clipped.
    QString clippingWarning() const;
    /// The SENSOR_REPLAY file: int16 little-endian, interleaved.
    const QByteArray &rawBytes() const { return m_raw; }
    /// One raw value (frame, channel), for host replay of exactly what the device plays.
    qint16 rawValue(qint64 frame, int channel) const;
    /// All raw values, interleaved (frames() x channels()), as the device plays them.
    QVector<qint16> samples() const;

    /// Writes rawBytes() to path (atomically: a reader never sees half a file).
    bool writeRaw(const QString &path, QString *error) const;

private:
    QString m_source;
    double m_rateHz = 0;
    int m_channels = 0;
    qint64 m_clipped = 0;
    QByteArray m_raw;
};

} // namespace tinyml::stream
