#pragma once
// A scenario script for a simulated sensor (the accelerometer's gestures): what the agent's
// SENSOR_SCRIPT op plays, and the ground truth it implies.
//
//     # 5-minute motion test
//     idle 5
//     shake 2        # seconds, fractional allowed
//     idle 3.5
//     circle 2
//
// - One step per line: `<scenario> <seconds>`, separated by blanks; `#` starts a comment
//   (whole line or trailing); blank lines and CRLF are fine.
// - The scenario must be one of the sensor's SCENARIOS (INFO) — the list is passed in.
// - Seconds: a finite decimal > 0, kept in whole milliseconds (rounded to the nearest ms;
//   a duration that rounds to 0 ms, or exceeds the u32 milliseconds of the wire, is refused).
// - At most TM_SCRIPT_MAX_STEPS (256) steps, the agent's limit.
// Errors are io::ImportError with file, line and field ("scenario", "seconds").
//
// Timing follows PROTOCOL.md exactly: at rate R, step i lasts floor(duration_ms_i * R / 1000)
// frames and starts at the sum of the frames before it, so an event of the truth starts at
// frame F and ends at frame G: [F / R, G / R) seconds. Steps whose scenario is not a
// background scenario (default {"idle"}) are events labelled with the scenario's name;
// consecutive steps of one scenario merge into one event.

#include "device/AgentProtocol.h"
#include "io/ImportResult.h"
#include "stream/GroundTruth.h"

#include <QByteArray>
#include <QString>
#include <QStringList>
#include <QVector>

#include <optional>

namespace tinyml::stream {

struct ScriptStep {
    int scenario = 0;             ///< index into the scenario list the script was built with
    QString name;                 ///< the scenario's name
    quint32 durationMs = 0;
    int line = 0;                 ///< line in the script file (0 when generated)
};

class ScenarioScript
{
public:
    static constexpr int kMaxSteps = 256; ///< TM_SCRIPT_MAX_STEPS

    /// Parses script text. scenarios: the sensor's SCENARIOS list, in the agent's order.
    static std::optional<ScenarioScript> parse(const QByteArray &text, const QString &fileName,
                                               const QStringList &scenarios, io::ImportError *error);
    static std::optional<ScenarioScript> load(const QString &path, const QStringList &scenarios,
                                              io::ImportError *error);

    /// A deterministic gesture test: `events` gesture steps of 2 s (the gesture drawn from
    /// `gestures`), separated and framed by background steps whose lengths are drawn around
    /// their mean (about 3-5 s for 40 events in 300 s), in whole 100 ms steps, so the total
    /// is exactly totalS (rounded to the ms). Same seed, same script, on every platform.
    /// Fails (error set) when a name is not in `scenarios`, when the background gaps would
    /// be shorter than 1 s, or when the script would exceed kMaxSteps.
    static std::optional<ScenarioScript> randomGestures(quint32 seed, double totalS, int events,
                                                        const QStringList &gestures,
                                                        const QStringList &scenarios,
                                                        const QString &background = QStringLiteral("idle"),
                                                        QString *error = nullptr);

    const QVector<ScriptStep> &steps() const { return m_steps; }
    const QStringList &scenarios() const { return m_scenarios; }
    /// The SENSOR_SCRIPT steps (AgentLink::setSensorScript, sensorScriptPayload).
    QVector<SensorScriptStep> wireSteps() const;

    qint64 totalMs() const;
    /// Σ floor(duration_ms × rate / 1000): what SENSOR_SCRIPT replies at that rate.
    qint64 totalFrames(quint32 rateHz) const;
    /// totalFrames(rate) / rate.
    double totalSeconds(quint32 rateHz) const;
    /// The ground truth at this rate (see the header comment).
    GroundTruth groundTruth(quint32 rateHz,
                            const QStringList &background = {QStringLiteral("idle")}) const;
    /// Script text that parse() reads back to the same steps.
    QByteArray toText() const;

private:
    QVector<ScriptStep> m_steps;
    QStringList m_scenarios;
};

} // namespace tinyml::stream
