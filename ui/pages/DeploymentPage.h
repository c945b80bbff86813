#pragma once
// Deployment & profiling: the one button, Flash & Profile. Picks an int8 model of the
// project and the board the window is connected to, hands both to deploy::Profiler, and
// draws what it reports while it runs (latency per run and histogram, per-layer cost,
// running on-device accuracy, energy). The finished profile goes into the project; stored
// profiles are listed, shown, compared side by side and deleted (undoable).
//
// The board link belongs to the Data acquisition page (the window hands it over through
// setDevice); this page only borrows it while profiling. Errors (no board, a model that
// does not fit, a link lost mid-run) appear in a banner on the page; the rest stays usable.

#include "Profiler.h"

#include <QPointer>
#include <QVector>
#include <QWidget>

#include <optional>

class QCheckBox;
class QComboBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QShortcut;
class QSpinBox;
class QTableWidget;
class QTabWidget;

namespace tinyml {
class AgentLink;
class DeviceLink;
class VirtualBoard;
struct BoardDefinition;
}

namespace tinyml::ui {

class ProfileCharts;
class ProjectSession;

class DeploymentPage : public QWidget
{
    Q_OBJECT
public:
    explicit DeploymentPage(QWidget *parent = nullptr);
    ~DeploymentPage() override;

    void setSession(ProjectSession *session);   ///< nullptr: no project (cancels a run)
    /// The window's current board: the link (an AgentLink when it speaks the agent
    /// protocol) and, for a virtual board, its launcher. nullptr: not connected.
    void setDevice(DeviceLink *link, VirtualBoard *virtualBoard);

    /// Flash & Profile. Returns false when it cannot start (the banner says why); true when
    /// it started, or starts once the acquisition page's live preview has stopped.
    bool startProfile();
    void cancel();
    /// The start connectRequested() asked for has ended (ok, or the message why not).
    /// A Flash & Profile that waited for it goes on, or shows why it cannot.
    void boardStartFinished(bool ok, const QString &message);
    bool isRunning() const;

    /// Shows one profile: the results table and every chart.
    void showResult(const deploy::ProfileResult &result);
    const std::optional<deploy::ProfileResult> &result() const { return m_result; }
    /// The results table as tab-separated text (what Copy puts on the clipboard).
    QString resultsText() const;
    void copyResults();

    void reloadModels();
    void reloadProfiles();
    /// Selects stored profiles by id (one: shown; two: compared).
    void selectProfiles(const QVector<qint64> &ids);
    QVector<qint64> selectedProfileIds() const;
    bool deleteSelectedProfiles();
    /// Writes the chosen int8 model as a C library (or an Arduino library) zip: the package
    /// as a C array, the firmware's runtime, a three-function API and an example.
    bool exportLibrary(bool arduino, const QString &zipPath);

    // widgets, for tests and screenshots
    QComboBox *modelCombo() const { return m_model; }
    QSpinBox *runsSpin() const { return m_runs; }
    QSpinBox *warmupSpin() const { return m_warmup; }
    QCheckBox *accuracyCheck() const { return m_accuracy; }
    /// "No target" (data: empty) and the real parts with a cycle model (data: board id);
    /// the estimated cycles are converted to ms at the chosen part's clock.
    QComboBox *targetCombo() const { return m_target; }
    QPushButton *profileButton() const { return m_profile; }
    QPushButton *cancelButton() const { return m_cancel; }
    QPushButton *connectButton() const { return m_connect; }
    QPushButton *copyButton() const { return m_copy; }
    QPushButton *deleteButton() const { return m_delete; }
    QPushButton *exportCButton() const { return m_exportC; }
    QPushButton *exportArduinoButton() const { return m_exportArduino; }
    QProgressBar *progressBar() const { return m_progress; }
    QLabel *boardLabel() const { return m_board; }
    QLabel *banner() const { return m_banner; }
    QLabel *statusLabel() const { return m_status; }
    ProfileCharts *charts() const { return m_charts; }
    QTableWidget *resultsTable() const { return m_results; }
    QTableWidget *profilesTable() const { return m_profiles; }
    QTableWidget *comparisonTable() const { return m_comparison; }
    QTabWidget *tabs() const { return m_tabs; }

Q_SIGNALS:
    /// No board is connected and the project's board is virtual: the window starts it
    /// (through the Data acquisition page), calls setDevice and, once the start has ended,
    /// boardStartFinished().
    void connectRequested();
    /// Cancel while the virtual board is still starting.
    void cancelConnectRequested();
    void runningChanged(bool running);
    /// A profile ended: ok = finished and stored.
    void profileFinished(bool ok);
    /// The acquisition page's live preview, which this page stopped to profile, may stream
    /// again: the profile ended (finished, failed or cancelled) or never started.
    void previewReleased();

protected:
    void showEvent(QShowEvent *event) override;

private:
    void restoreSettings();
    void storeSettings() const;
    void updateBoard();
    void updateControls();
    void showBanner(const QString &text);
    void hideBanner();
    void setStatus(const QString &text);
    const BoardDefinition *currentBoard() const;
    AgentLink *agentLink() const;
    void beginProfile();
    void onStage(const QString &stage);
    void onUploadProgress(qint64 sent, qint64 total);
    void onRun(int index, quint64 counter, double ms);
    void onLayers(const QVector<deploy::LayerProfile> &layers);
    void onAccuracy(int done, int total, int correct, int bitexact);
    void onEnergy(double microjoules, bool estimated, const QString &source);
    void onFinished(const deploy::ProfileResult &result);
    void onFailed(const QString &error);
    void reportFailure(const QString &error);
    void onCancelled();
    void endRun();
    void releasePreview();
    void onProfileSelectionChanged();
    void fillTable(const deploy::ProfileResult &result, bool live);
    void showComparison(const deploy::ProfileResult &a, qint64 idA, const deploy::ProfileResult &b, qint64 idB);
    void chooseExportFile(bool arduino);
    double hostInt8AccuracyOf(qint64 modelId) const;
    int testSampleCount() const;

    ProjectSession *m_session = nullptr;
    QPointer<DeviceLink> m_link;
    QPointer<VirtualBoard> m_virtual;
    deploy::Profiler *m_profiler;
    std::optional<deploy::ProfileResult> m_result;
    deploy::ProfileResult m_live;     ///< what the running profile has reported so far
    QVector<double> m_liveMs;
    std::optional<qint64> m_shownProfileId;
    bool m_waitingForBoard = false;
    bool m_requestingBoard = false;   ///< inside connectRequested()
    QString m_boardStartMessage;      ///< why the requested start failed   ///< Flash & Profile asked the window to connect
    bool m_waitingForStream = false;  ///< the acquisition preview is being stopped first
    bool m_stoppedPreview = false;    ///< this page stopped the preview; previewReleased() is owed
    bool m_linkLost = false;
    int m_plannedRuns = 0;
    QString m_stage;

    QLabel *m_summary;
    QLabel *m_banner;
    QComboBox *m_model;
    QLabel *m_board;
    QPushButton *m_connect;
    QSpinBox *m_runs;
    QSpinBox *m_warmup;
    QCheckBox *m_accuracy;
    QComboBox *m_target;
    QPushButton *m_profile;
    QPushButton *m_cancel;
    QPushButton *m_exportC = nullptr;
    QPushButton *m_exportArduino = nullptr;
    QProgressBar *m_progress;
    QLabel *m_status;
    ProfileCharts *m_charts;
    QTabWidget *m_tabs;
    QLabel *m_about;
    QTableWidget *m_results;
    QPushButton *m_copy;
    QTableWidget *m_profiles;
    QTableWidget *m_comparison;
    QPushButton *m_delete;
    QShortcut *m_profileShortcut;
};

} // namespace tinyml::ui
