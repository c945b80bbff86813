#pragma once
// Data acquisition: pick and connect a device (virtual boards are started here), see its
// INFO, watch every channel live, and record labelled samples into the project.
//
// Device I/O runs in the links' event-driven QSerialPort in the GUI thread; storing runs
// in CaptureSession (core/device), chunk by chunk. This page only wires and presents.

#include "device/DeviceLink.h"

#include <QPointer>
#include <QVector>
#include <QWidget>

#include <memory>

class QComboBox;
class QDoubleSpinBox;
class QFormLayout;
class QLabel;
class QListWidget;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTimer;
class QToolButton;

namespace tinyml {
class AgentLink;
class CaptureSession;
class VirtualBoard;
struct CaptureResult;
}

namespace tinyml::ui {

class LivePlot;
class ProjectSession;

class AcquisitionPage : public QWidget
{
    Q_OBJECT
public:
    enum class State { Disconnected, Connecting, Connected, Countdown, Recording };
    Q_ENUM(State)

    explicit AcquisitionPage(QWidget *parent = nullptr);
    ~AcquisitionPage() override;

    void setSession(ProjectSession *session);

    // --- device ----------------------------------------------------------------------
    void refreshDevices();
    /// Picks a virtual board by id, or a serial port by its name. False when not listed.
    bool selectDevice(const QString &boardIdOrPort);
    /// Connects to the picked device. A serial port opens (and handshakes) before this
    /// returns. A virtual board only begins to start: the page shows "Starting…" with
    /// Cancel, the window stays live, and connectFinished() follows. True when connected
    /// or starting; a call while a board is starting does nothing more.
    bool connectDevice(QString *error = nullptr);
    /// Cancels a virtual board that is still starting (the Cancel button).
    void cancelConnect();
    /// A virtual board is booting (connectDevice() returned, connectFinished() not yet).
    bool isStartingBoard() const;
    void disconnectDevice();
    bool isConnected() const;
    State state() const { return m_state; }
    DeviceLink *link() const { return m_link; }
    VirtualBoard *virtualBoard() const { return m_virtual.get(); }
    /// false: virtual boards run at batch speed (tests); default true, paced like a sensor.
    void setRealtime(bool realtime) { m_realtime = realtime; }

    // --- recording --------------------------------------------------------------------
    void setLabel(const QString &label);
    QString label() const;
    void setSampleLength(double seconds);
    void setCountdownSeconds(int seconds) { m_countdownSeconds = seconds; }
    bool isRecording() const { return m_state == State::Countdown || m_state == State::Recording; }

    LivePlot *livePlot() const { return m_plot; }
    QString boardStatusText() const;

public Q_SLOTS:
    /// Ctrl+R: the countdown, then a recording of the chosen length.
    void startRecording();
    /// Esc / Ctrl+.: cancels the countdown, or ends the recording (kept, marked cut short).
    void stopRecording();
    /// Ctrl+L: the next label of the project.
    void nextLabel();
    /// Starts the live preview again after another page borrowed the link and stopped it
    /// (the Deployment page, to profile). Nothing happens unless the page is connected and
    /// idle (no countdown or recording) and the link is quiet.
    void resumePreview();
    /// While held, the live preview does not start (by itself or by resumePreview()): another
    /// page (Live) has the link for a run that starts with nested requests, during which a
    /// queued resume must not grab it. Releasing does not start the preview.
    void holdPreview(bool hold) { m_previewHeld = hold; }

Q_SIGNALS:
    void boardStatusChanged(const QString &text, bool connected);
    void recordingFinished(const QVector<qint64> &sampleIds, bool complete);
    /// The outcome of every connectDevice(): ok, or the message the banner shows
    /// (also for Cancel).
    void connectFinished(bool ok, const QString &message);

private:
    void setState(State state);
    void onConnected();
    void onConnectionLost(const QString &message);
    void onStreamStarted(const tinyml::StreamFormat &format);
    void onChunk(const tinyml::StreamChunk &chunk);
    void onCaptureFinished(const tinyml::CaptureResult &result);
    void beginCapture();
    void startPreview();
    void stopPreview();
    void applySensorChoice();
    void fillDeviceInfo();
    void clearDeviceInfo();
    void showBanner(const QString &text, bool warning);
    void hideBanner();
    void updateControls();
    void reloadLabels();
    void addRecentPlaceholder();
    void updateLinkStatistics();
    int projectSensorIndex() const;
    void teardownLink();
    bool failConnect(const QString &message, QString *errorOut);
    void attachLink();

    ProjectSession *m_session = nullptr;
    State m_state = State::Disconnected;
    bool m_realtime = true;
    int m_countdownSeconds = 3;
    int m_countdownLeft = 0;

    std::unique_ptr<VirtualBoard> m_virtual;
    std::unique_ptr<DeviceLink> m_ownedLink;   ///< serial links; virtual ones belong to m_virtual
    QPointer<DeviceLink> m_link;
    AgentLink *m_agent = nullptr;              ///< m_link when it speaks the agent protocol
    std::unique_ptr<CaptureSession> m_capture;
    bool m_previewing = false;
    bool m_previewHeld = false;
    bool m_captureWaitsForStop = false;
    qint64 m_streamFrames = 0;                 ///< frames since the current stream started

    // widgets
    QComboBox *m_device;
    QToolButton *m_refresh;
    QComboBox *m_baud;
    QPushButton *m_connect;
    QLabel *m_connectionState;
    QFormLayout *m_infoForm;
    QLabel *m_infoPlaceholder;
    QComboBox *m_label;
    QComboBox *m_sensor;
    QDoubleSpinBox *m_rate;
    QDoubleSpinBox *m_length;
    QComboBox *m_scenario;
    QPushButton *m_record;
    QLabel *m_countdown;
    QProgressBar *m_progress;
    QLabel *m_recordHint;
    QLabel *m_linkStats;
    QLabel *m_banner;
    LivePlot *m_plot;
    QListWidget *m_recent;
    QTimer *m_countdownTimer;
    QProgressBar *m_startProgress;             ///< busy bar while a virtual board starts
};

} // namespace tinyml::ui
