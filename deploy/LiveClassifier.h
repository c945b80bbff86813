#pragma once
// The whole impulse running on a board: package the model with its impulse (version 2), flash
// it, point the board's sensor at its source (its own simulation, a replayed recording or a
// scenario script), run the agent's continuous classification, and measure what a product needs:
// decisions per window, stream metrics against ground truth, the per-window cost of each stage,
// the CPU duty cycle and an estimated battery life. At the end the same C pipeline is replayed on
// the host over exactly the samples the device saw, and every window is compared bit for bit.
//
// Used by `tinyml classify` (blocking, with an event loop) and by the Live page.
//
// Threading: a LiveClassifier lives on the link's thread; start() sets up with blocking requests
// (nested event loops), the stream then runs on the event loop; every signal is emitted there.

#include "Calibration.h"
#include "ImpulseReplay.h"
#include "ImpulseSpec.h"

#include "device/AgentProtocol.h"
#include "device/BoardRegistry.h"
#include "stream/GroundTruth.h"
#include "stream/StreamMetrics.h"

#include <QJsonObject>
#include <QObject>
#include <QString>
#include <QVector>

#include <memory>
#include <optional>

namespace tinyml {
class AgentLink;
class ProjectStore;
struct StreamChunk;
} // namespace tinyml

namespace tinyml::deploy {

/// The model's impulse for a board: impulseSpecFor() with the board's sensor (from INFO when a
/// link is given) and the project's impulse options, then a version-2 package.
struct ImpulsePackage {
    ImpulseSpec spec;
    QByteArray package;
    qint64 modelId = 0;
    QString modelName;
    DeviceSensorInfo sensor;          ///< the board's sensor (id -1: not known, no board)
    /// An anomaly model (graph meta "task": "anomaly"): its one output is a score, bigger =
    /// more anomalous, and an alarm is a window whose score exceeds the saved threshold
    /// (meta "threshold", in the score's units). The device's class post-processing does not
    /// apply to it.
    bool anomaly = false;
    double anomalyThreshold = 0;
    /// Anomaly model: its normal labels (meta "normal_labels"). In a script or a truth file
    /// they are the background; every other event is an anomaly ("anomaly" in the metrics,
    /// against the alarm onsets).
    QStringList normalLabels;
    /// A classifier with an anomaly model beside it (spec.anomaly set, impulse_version 2): every
    /// window gives the class decision and the anomaly model's int8 score with its alarm.
    std::optional<qint64> anomalyModelId;
    QString anomalyModelName;
};
/// anomalyModelId: an int8 anomaly model of the project to run after the classifier on the same
/// features (impulseAnomalyFor's checks; refused when modelId is itself an anomaly model).
std::optional<ImpulsePackage> buildImpulsePackage(const ProjectStore &store, qint64 modelId,
                                                  const DeviceInfo *device, QString *error,
                                                  std::optional<qint64> anomalyModelId = std::nullopt);
/// The project's newest int8 anomaly model (metrics "task": "anomaly"), or nullopt with the reason.
std::optional<qint64> newestAnomalyModel(const ProjectStore &store, QString *error);

/// Calibration of a model's impulse on a recording: host replay (the device's C pipeline), the
/// sweep of Calibration.h against the truth, and optionally the operating point saved into the
/// project's impulse options. Blocking; run it off the GUI thread (it reads the store only
/// before the replay and writes it only when saving, from the calling thread).
struct RecordingCalibration {
    CalibrationResult result;
    int windows = 0;
    int events = 0;
    double recordingS = 0;
    double replayS = 0;                ///< wall-clock seconds the host replay took
    QString clippingWarning;           ///< the recording clipped when converted to int16
    bool saved = false;
    QJsonObject toJson() const;        ///< result.toJson() plus the fields above
};
std::optional<RecordingCalibration> calibrateOnRecording(ProjectStore &store, qint64 modelId,
                                                         const QString &recordingPath, const QString &truthPath,
                                                         double maxFalseActivationsPerHour, bool save,
                                                         const ReplayOptions &replayOptions, QString *error);

struct LiveClassifyOptions {
    enum class Source { Sensor, Replay, Script };
    Source source = Source::Sensor;
    QString path;                     ///< the recording (Replay: a WAV/CSV file, or "sample:ID") or script
    QString truthPath;                ///< truth CSV; empty: none (a script brings its own)
    double seconds = 0;               ///< 0: until the replay/script ends (Sensor needs > 0)
    bool forceFlash = false;
    /// Signed packages that may carry the impulse's package (signedPackagesBeside()): a
    /// provisioned board gets the matching one, or nothing (Flasher::flash refuses first).
    QVector<QByteArray> signedPackages;
    /// Where the agent opens a relative replay file (VirtualBoard::stateDirectory()); empty:
    /// replays are refused (a real board cannot read the host's files).
    QString replayDirectory;
    double batteryMah = 225;          ///< the battery the life estimate is for
    QString batteryName = QStringLiteral("CR2032");
    /// Compare every window with the host replay at the end.
    bool hostReplay = true;
    /// An anomaly model to run beside the classifier (buildImpulsePackage); nullopt: none.
    std::optional<qint64> anomalyModelId;
};

/// An anomaly model's window: the device's int8 score dequantized, against the threshold.
struct LiveAnomaly {
    float score = 0;
    double threshold = 0;
    bool alarm = false;               ///< score > threshold
    bool alarmOnset = false;          ///< alarm, and the window before was not (one alarm)
};

/// One window as the live view shows it.
struct LiveWindow {
    ClassifyResult device;
    double tS = 0;                    ///< window end in seconds from the start
    QVector<float> scores;            ///< dequantized raw model outputs, one per class
    QString label;                    ///< decision label, empty when uncertain ("alarm": anomaly)
    std::optional<LiveAnomaly> anomaly;  ///< set for an anomaly model only
};

struct LiveClassifyReport {
    QString board;
    qint64 modelId = 0;
    QString source;                   ///< "simulated sensor", "replay of <file>", "script <file>"
    bool simulated = true;            ///< the samples came from a simulation or a replay
    QStringList labels;
    quint32 rateHz = 0, window = 0, stride = 0;
    int windows = 0;
    quint32 overruns = 0, framesLost = 0;
    QString endReason;
    QVector<LiveWindow> detections;   ///< windows whose decision was a new detection (anomaly: alarm onsets)
    /// Anomaly model: the threshold, alarms (onsets: runs of consecutive alarm windows) and
    /// windows in alarm, and the largest score seen.
    bool anomaly = false;
    double anomalyThreshold = 0;
    int alarms = 0, alarmWindows = 0;
    double maxAnomalyScore = 0;
    /// Classifier + anomaly model: the anomaly model's id and every window (class and score).
    std::optional<qint64> anomalyModelId;
    QVector<LiveWindow> perWindow;
    std::optional<stream::StreamMetricsResult> metrics;
    QString counter;                  ///< "instructions", "cycles", "microseconds"
    quint64 counterResolution = 1;
    quint64 clockHz = 0;
    double dspCounter = 0, modelCounter = 0, postCounter = 0;  ///< median per window, counter units
    double dspMs = 0, modelMs = 0, postMs = 0;                 ///< the same in ms on the board's clock
    double dutyCycle = 0;             ///< (dsp + model + post) / stride
    std::optional<double> averageCurrentMa, batteryLifeDays;   ///< estimated
    QString batteryNote;              ///< what the estimate rests on, or why there is none
    int windowsCompared = 0;
    int hostReplayEqualWindows = 0;
    QString hostReplayNote;           ///< why windows were not compared, when some were not
    QJsonObject toJson() const;
};

class LiveClassifier : public QObject
{
    Q_OBJECT
public:
    explicit LiveClassifier(QObject *parent = nullptr);
    ~LiveClassifier() override;

    /// Builds and flashes the impulse package, sets the sensor's source and starts the
    /// classification. False with *error (naming the file, line or field) when anything is
    /// refused; nothing is then running. The link must stay open until finished()/failed().
    bool start(ProjectStore *store, qint64 modelId, AgentLink *link, const BoardDefinition &board,
               const LiveClassifyOptions &options, QString *error);
    /// Asks the board to stop; finished() follows.
    void stop();
    bool isRunning() const;

    const ImpulseSpec &spec() const;
    /// The ground truth in use (from the truth file or the script); empty when none.
    const stream::GroundTruth &truth() const;

Q_SIGNALS:
    void stageChanged(const QString &text);
    void windowReceived(const tinyml::deploy::LiveWindow &window);
    /// Raw sensor frames as the device saw them (physical units, interleaved).
    void samplesReceived(qint64 firstFrame, const QVector<float> &values, int channels);
    /// Running metrics over the truth events that have started so far.
    void metricsUpdated(const tinyml::stream::StreamMetricsResult &metrics);
    void finished(const tinyml::deploy::LiveClassifyReport &report);
    void failed(const QString &message);

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace tinyml::deploy

Q_DECLARE_METATYPE(tinyml::deploy::LiveWindow)
Q_DECLARE_METATYPE(tinyml::deploy::LiveClassifyReport)
