#pragma once
// Live: the project's impulse classifying a stream — a simulated board sensor, a replayed
// recording or a scenario script — with its ground truth when there is a truth file. Two
// tabs: Live classification (LiveClassificationView) and Calibration (CalibrationView).
//
// The page runs nothing itself: Start and Stop emit startRequested / stopRequested, the
// window's owner runs the stream and feeds both views (liveView(), calibrationView()) and
// reports back with setRunning. Start needs an open project with an int8 model.

#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QTabWidget;
class QToolButton;

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
    /// One line under the controls: what the stream is doing, or why it stopped.
    void setStatus(const QString &text);

    LiveClassificationView *liveView() const { return m_live; }
    CalibrationView *calibrationView() const { return m_calibration; }
    QTabWidget *tabs() const { return m_tabs; }
    QPushButton *startButton() const { return m_start; }
    QPushButton *stopButton() const { return m_stop; }
    QComboBox *sourceCombo() const { return m_source; }

Q_SIGNALS:
    /// Start pressed. `path`: the replay file or scenario script (empty for the simulated
    /// sensor); `truthPath`: the truth file, empty when none.
    void startRequested(tinyml::ui::LivePage::Source source, const QString &path, const QString &truthPath);
    void stopRequested();

protected:
    void showEvent(QShowEvent *event) override;

private:
    void updateControls();
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
    QLabel *m_status;
    QTabWidget *m_tabs;
    LiveClassificationView *m_live;
    CalibrationView *m_calibration;
    bool m_running = false;
    bool m_hasModel = false;
};

} // namespace tinyml::ui
