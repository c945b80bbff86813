#pragma once
// Live: the project's impulse classifying a stream — a simulated board sensor, a replayed
// recording or a scenario script — with its ground truth when there is a truth file. Two
// tabs: Live classification (LiveClassificationView) and Calibration (CalibrationView).
//
// The page runs nothing itself: Start and Stop emit startRequested / stopRequested, Run
// calibration and Cancel emit calibrateRequested / cancelCalibrationRequested; the owner
// (LiveController) runs the stream or the sweep, feeds both views (liveView(),
// calibrationView()) and reports back with setRunning / setCalibrating. Start needs an open
// project with an int8 model; a calibration also needs a recording and its truth file (the
// Replay file and Truth pickers).
//
// An anomaly model (graph meta "task": "anomaly") has one score instead of classes: the
// Anomaly score panel above the tabs plots the device's score per window against the model's
// threshold and counts alarms (runs of windows above it). It shows when the project's newest
// int8 model is an anomaly model; the owner feeds it with addLiveWindow().

#include <QVector>
#include <QWidget>

#include <optional>

class QCustomPlot;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QProgressBar;
class QSpinBox;
class QLineEdit;
class QPushButton;
class QTabWidget;
class QToolButton;

namespace tinyml::deploy {
struct LiveWindow;
}

namespace tinyml::ui {

class CalibrationView;
class LiveClassificationView;
class ProjectSession;

class LivePage : public QWidget
{
    Q_OBJECT
public:
    /// Where the stream comes from (the source picker's entries, in this order).
    enum class Source { SimulatedSensor, ReplayFile, ScenarioScript };
    Q_ENUM(Source)

    explicit LivePage(QWidget *parent = nullptr);

    void setSession(ProjectSession *session);   ///< nullptr: no project (Start disabled)
    /// The stream started (true) or ended (false): Start/Stop and the pickers follow.
    void setRunning(bool running);
    bool isRunning() const { return m_running; }
    /// Re-reads whether the project has an int8 model (the Training page adds them).
    void reloadModels();
    bool hasModel() const { return m_hasModel; }

    Source source() const;
    void setSource(Source source);
    QString sourcePath() const;
    void setSourcePath(const QString &path);
    QString truthPath() const;
    void setTruthPath(const QString &path);
    /// How long the board's own (simulated) sensor is classified, seconds (default 30).
    /// Replays and scripts run to their end.
    int seconds() const;
    void setSeconds(int seconds);
    /// One line under the controls: what the stream is doing, or why it stopped.
    void setStatus(const QString &text);
    QString status() const;

    // --- anomaly score ----------------------------------------------------------------------
    /// Shows the Anomaly score panel with this threshold (score units), or hides it (nullopt:
    /// the model is a classifier). reloadModels() sets it from the newest int8 model.
    void setAnomalyThreshold(std::optional<double> threshold);
    std::optional<double> anomalyThreshold() const { return m_anomalyThreshold; }
    /// One window of the running stream: plotted when it carries an anomaly score (its
    /// threshold replaces the panel's), ignored otherwise.
    void addLiveWindow(const tinyml::deploy::LiveWindow &window);
    /// Empties the score plot and the alarm count (a new run; setRunning(true) calls it).
    void clearAnomalyScores();
    int alarmCount() const { return m_alarms; }
    /// The class decision shown beside the anomaly score when the classifier runs with an
    /// anomaly model ("" for an anomaly model alone).
    QString lastClassText() const { return m_lastClass; }
    int anomalyWindowCount() const { return int(m_scoreT.size()); }
    QWidget *anomalyPanel() const { return m_anomalyPanel; }
    /// Graphs: 0 the score per window, 1 the threshold line, 2 the alarm onsets.
    QCustomPlot *anomalyPlot() const { return m_anomalyPlot; }
    QLabel *alarmLabel() const { return m_alarmLabel; }

    // --- calibration ----------------------------------------------------------------------
    /// The sweep is running (true) or ended (false): Run / Cancel and the progress bar follow.
    void setCalibrating(bool calibrating);
    bool isCalibrating() const { return m_calibrating; }
    /// Host replay progress of the running sweep.
    void setCalibrationProgress(qint64 done, qint64 total);
    /// One line above the curve: what the sweep is doing, what it found, or why it failed.
    void setCalibrationStatus(const QString &text);
    QString calibrationStatus() const;
    /// The false-activation budget the operating point must meet, per hour (default 1).
    double maxFalseActivationsPerHour() const;
    void setMaxFalseActivationsPerHour(double perHour);

    LiveClassificationView *liveView() const { return m_live; }
    CalibrationView *calibrationView() const { return m_calibration; }
    QTabWidget *tabs() const { return m_tabs; }
    QPushButton *startButton() const { return m_start; }
    QPushButton *stopButton() const { return m_stop; }
    QComboBox *sourceCombo() const { return m_source; }
    QSpinBox *secondsSpin() const { return m_seconds; }
    QPushButton *calibrateButton() const { return m_calibrate; }
    QPushButton *cancelCalibrationButton() const { return m_cancelCalibration; }
    QProgressBar *calibrationProgress() const { return m_calibrationProgress; }
    QDoubleSpinBox *maxFarSpin() const { return m_maxFar; }

Q_SIGNALS:
    /// Start pressed. `path`: the replay file or scenario script (empty for the simulated
    /// sensor); `truthPath`: the truth file, empty when none.
    void startRequested(tinyml::ui::LivePage::Source source, const QString &path, const QString &truthPath);
    void stopRequested();
    /// Run calibration pressed: sweep the post-processing on `recording` against `truthPath`.
    void calibrateRequested(const QString &recording, const QString &truthPath, double maxFalseActivationsPerHour);
    void cancelCalibrationRequested();

protected:
    void showEvent(QShowEvent *event) override;

private:
    void updateControls();
    void updateAnomalyPlot();
    void browseSource();
    void browseTruth();

    ProjectSession *m_session = nullptr;
    QLabel *m_subtitle;
    QComboBox *m_source;
    QLineEdit *m_path;
    QToolButton *m_browse;
    QLineEdit *m_truth;
    QToolButton *m_browseTruth;
    QPushButton *m_start;
    QPushButton *m_stop;
    QLabel *m_secondsLabel;
    QSpinBox *m_seconds;
    QLabel *m_status;
    QDoubleSpinBox *m_maxFar;
    QPushButton *m_calibrate;
    QPushButton *m_cancelCalibration;
    QProgressBar *m_calibrationProgress;
    QLabel *m_calibrationStatus;
    QTabWidget *m_tabs;
    LiveClassificationView *m_live;
    CalibrationView *m_calibration;
    bool m_running = false;
    bool m_calibrating = false;
    QString m_statusNote;          ///< setStatus's text; shown unless Start is disabled for a reason
    QString m_calibrationNote;     ///< setCalibrationStatus's text; empty: show why Run is disabled
    bool m_hasModel = false;

    QWidget *m_anomalyPanel;
    QCustomPlot *m_anomalyPlot;
    QLabel *m_alarmLabel;
    std::optional<double> m_anomalyThreshold;
    QVector<double> m_scoreT, m_score, m_alarmT, m_alarmScore;
    int m_alarms = 0, m_alarmWindows = 0;
    /// Classifier + anomaly model (issue 16): the class of the last window, shown beside its score.
    QString m_lastClass;
};

} // namespace tinyml::ui
