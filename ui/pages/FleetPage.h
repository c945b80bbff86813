#pragma once
// The Fleet stage (issue 17): the project's fleets (deploy/fleet/Fleet.h) with each member's
// board, what the last rollout left on it and whether it attests; Provision all, Attest all,
// a staged rollout of a signed int8 package (deploy/fleet/Rollout.h) with its stages, gates and
// per-member phases shown live, Abort / Resume of an unfinished rollout, a hand rollback of
// one member, and each member's drift (telemetry "psi") over time.
//
// Threading: everything that talks to boards runs on one worker QThread at a time. The worker
// opens its own ProjectStore on the project file (SQLite connections belong to their thread)
// and creates its MemberConnections (virtual boards, agent links) there; its log lines and
// per-member results come back as queued calls. The rollout view is re-read from the project
// file on a timer: Rollout writes its whole state there after every step.

#include "fleet/Rollout.h"

#include <QHash>
#include <QJsonObject>
#include <QString>
#include <QWidget>

#include <atomic>
#include <functional>

class QComboBox;
class QCustomPlot;
class QHBoxLayout;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QTableWidget;
class QThread;
class QTimer;

namespace tinyml {
class ProjectStore;
class BoardRegistry;
}

namespace tinyml::ui {

class ProjectSession;

class FleetPage : public QWidget
{
    Q_OBJECT
public:
    /// Columns of the members table.
    enum Column { MemberColumn, BoardColumn, PhaseColumn, VersionColumn, AttestedColumn, ColumnCount };

    explicit FleetPage(QWidget *parent = nullptr);
    ~FleetPage() override;

    void setSession(ProjectSession *session);   ///< nullptr: no project (waits for a running job)

    QString currentFleet() const;
    void selectFleet(const QString &name);
    /// Re-reads fleets, members, the newest rollout and telemetry from the project.
    void refresh();

    bool isRunning() const;
    /// Board work; false (and the log says why) when another job runs or no fleet is chosen.
    bool provisionAll();
    bool attestAll();
    /// Starts a rollout without the dialog (the dialog's choices).
    bool startRollout(qint64 modelId, const QString &packageFile, const QVector<int> &stages, double gateMinutes,
                      int samples);
    bool resumeRollout();
    bool abortRollout();
    /// Reverts the member to its previous slot (MODEL_REVERT), without asking.
    bool rollBackMember(const QString &member);
    /// Asks the running job to stop after the member step in progress.
    void stop();

    QComboBox *fleetCombo() const { return m_fleetCombo; }
    QTableWidget *membersTable() const { return m_members; }
    QPlainTextEdit *logView() const { return m_log; }
    QCustomPlot *driftPlot() const { return m_drift; }
    QLabel *driftStatus() const { return m_driftStatus; }
    QLabel *rolloutStatus() const { return m_rolloutTitle; }
    QPushButton *attestButton() const { return m_attest; }

Q_SIGNALS:
    void runningChanged(bool running);
    void jobFinished();

private:
    using Job = std::function<void(ProjectStore &store, const BoardRegistry &registry)>;
    bool runJob(const QString &title, Job job);
    /// A rollout job on the worker: act starts, resumes or aborts; its outcome (or failure:
    /// error) ends the log.
    using RolloutAction = std::function<std::optional<deploy::fleet::RolloutOutcome>(deploy::fleet::Rollout &,
                                                                                      const QString &fleet, QString *error)>;
    bool runRolloutJob(const QString &title, const QString &failure, RolloutAction act);
    void appendLog(const QString &line);
    void setAttested(const QString &member, const QString &text, const QString &tooltip, bool ok, quint32 version);
    void fillMembers();
    void fillRollout();
    void fillDrift();
    void updateButtons();
    void newFleetDialog();
    void rolloutDialog();
    void rollBackSelected();

    ProjectSession *m_session = nullptr;
    QLabel *m_subtitle = nullptr;
    QComboBox *m_fleetCombo;
    QPushButton *m_newFleet;
    QTableWidget *m_members;
    QPushButton *m_provision;
    QPushButton *m_attest;
    QPushButton *m_rollout;
    QPushButton *m_stop;
    QPushButton *m_resume;
    QPushButton *m_abort;
    QPushButton *m_rollBack;
    QLabel *m_rolloutTitle;
    QHBoxLayout *m_stageRow;
    QLabel *m_thresholds;
    QLabel *m_reason;
    QCustomPlot *m_drift;
    QLabel *m_driftStatus;
    QPlainTextEdit *m_log;
    QTimer *m_timer;
    QThread *m_thread = nullptr;
    std::atomic_bool m_stopRequested{false};
    /// Attestation results of this session, by member (the table keeps them across refreshes).
    struct Attested {
        QString text, tooltip;
        bool ok = false;
        quint32 version = 0;
    };
    QHash<QString, Attested> m_attested;
    QString m_rolloutShown;   ///< the state last drawn ("id status stage events"), to redraw on change only
};

} // namespace tinyml::ui
