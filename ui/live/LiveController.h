#pragma once
// Runs what the Live page asks for, so the page stays presentation only:
//  - Start: the project's newest int8 model's impulse on the window's board through
//    deploy::LiveClassifier (the board's simulated sensor for the page's duration, a replayed
//    recording or a scenario script), every window, metric and the final report fed into the
//    LiveClassificationView as plain rows (LiveRows.h). A replay's own samples are drawn as
//    the signal, advancing with the windows (the board sends no raw samples for a replay).
//  - Run calibration: deploy::calibrateOnRecording on a worker (ProjectTask: its own store,
//    nothing saved there), the sweep into the CalibrationView; Save operating point stores the
//    chosen point's post-processing in the project's impulse options, undoable.
//
// The board: like the Deployment page, the link belongs to the Data acquisition page and the
// window hands it over (setDevice). With no board and a virtual project board, Start asks the
// window to start it (connectRequested, then boardStartFinished). A live preview on the link
// is stopped for the run and released afterwards (previewReleased).
//
// Threading: GUI thread; the calibration's host replay runs on the ProjectTask's worker.

#include "LiveClassifier.h"

#include <QObject>
#include <QPointer>

#include <memory>
#include <optional>

namespace tinyml {
class AgentLink;
class DeviceLink;
class ProjectTask;
class VirtualBoard;
struct BoardDefinition;
namespace stream {
class ReplayRecording;
}
} // namespace tinyml

namespace tinyml::ui {

class LivePage;
class ProjectSession;

class LiveController : public QObject
{
    Q_OBJECT
public:
    /// Connects to the page's requests; the page must outlive this object or be its parent's.
    explicit LiveController(LivePage *page, QObject *parent = nullptr);
    ~LiveController() override;

    /// nullptr: no project. A run in progress is stopped and abandoned, a calibration cancelled.
    void setSession(ProjectSession *session);
    /// The window's current board (see DeploymentPage::setDevice).
    void setDevice(DeviceLink *link, VirtualBoard *virtualBoard);
    /// The start connectRequested() asked for has ended; a waiting Start goes on or says why not.
    void boardStartFinished(bool ok, const QString &message);

    /// Start with the page's source, file, truth and duration. False when it cannot start (the
    /// page's status says why); true when running or waiting for the board / the preview.
    bool start();
    /// Stop: the board ends the stream and the report follows (finished).
    void stop();
    /// Running, or waiting for the board or the preview to stop.
    bool isRunning() const;

    bool startCalibration(const QString &recording, const QString &truthPath, double maxFalseActivationsPerHour);
    void cancelCalibration();
    bool isCalibrating() const;
    /// Saves the point (index into the last sweep's points) into the project's impulse options
    /// (one undo step). False with *error when there is no such point or the store refuses.
    bool saveOperatingPoint(int index, QString *error);

    /// The newest int8 model of the project (what Start and calibration use); 0: none.
    qint64 modelId() const;
    /// The last finished run's report.
    const std::optional<deploy::LiveClassifyReport> &report() const { return m_report; }
    /// The last sweep.
    const std::optional<deploy::RecordingCalibration> &calibration() const { return m_calibration; }

Q_SIGNALS:
    /// No board is connected and the project's board is virtual: the window starts it.
    void connectRequested();
    void cancelConnectRequested();
    void runningChanged(bool running);
    /// A run ended: ok = finished with a report (also after Stop), false = failed or not started.
    void runFinished(bool ok);
    /// The live preview this controller stopped may stream again.
    void previewReleased();
    /// true: the preview must not start until false (a run owns the link).
    void previewHeld(bool held);
    void calibrationFinished(bool ok);

private:
    AgentLink *agentLink() const;
    const BoardDefinition *currentBoard() const;
    void continueWithBoard();
    void beginRun();
    void endRun(bool ok);
    void resetClassifier();
    void releasePreview();
    void onWindow(const deploy::LiveWindow &window);
    void onSamples(qint64 firstFrame, const QVector<float> &values, int channels);
    void onMetrics(const stream::StreamMetricsResult &metrics);
    void onFinished(const deploy::LiveClassifyReport &report);
    void onFailed(const QString &message);
    void feedRecordingUpTo(qint64 frame);
    double ticksToMs(quint32 ticks) const;
    void showCalibration(const deploy::RecordingCalibration &calibration, const QString &recording,
                         const QString &truthPath);

    LivePage *m_page;
    ProjectSession *m_session = nullptr;
    QPointer<DeviceLink> m_link;
    QPointer<VirtualBoard> m_virtual;
    deploy::LiveClassifier *m_classifier = nullptr;
    ProjectTask *m_task;

    // the run
    bool m_waitingForBoard = false;
    bool m_requestingBoard = false;
    QString m_boardStartMessage;
    bool m_waitingForStream = false;
    bool m_stopRequested = false;
    bool m_starting = false;          ///< inside LiveClassifier::start (nested event loops)
    QStringList m_labels;
    double m_rateHz = 0;
    bool m_counterMicroseconds = false;   ///< the host agent's wall clock; else cycles/instructions
    quint64 m_counterResolution = 1;
    quint64 m_clockHz = 0;
    std::unique_ptr<stream::ReplayRecording> m_recording;   ///< a replay's samples, for the signal
    float m_recordingScale = 1.0f;
    qint64 m_signalFrames = 0;        ///< recording frames already drawn
    int m_windows = 0;
    int m_detections = 0;
    quint32 m_overruns = 0;
    double m_lastT = 0;
    std::optional<stream::StreamMetricsResult> m_metrics;
    std::optional<deploy::LiveClassifyReport> m_report;

    // the sweep
    std::optional<deploy::RecordingCalibration> m_calibration;
};

} // namespace tinyml::ui
