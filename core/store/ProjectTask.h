#pragma once
// Runs one long job (features, training, quantization) on a worker thread with its own
// ProjectStore opened on the project's file, so the owner's store is never touched from the
// worker (ProjectStore is per-thread; SQLite WAL lets both work on the file). The workbench's
// pages and deploy::Profiler use it to keep such work off the GUI thread.
//
// Threading contract: start(), cancel(), isRunning() and the signals belong to the thread
// the task lives on (the owner's; it needs a running event loop there to deliver finished()).
// The job runs on the worker; from there it may call only isCancelled(), cancelFlag() and
// post(). Whatever the job writes into state it captured is safe to read in the slot
// connected to finished(): the worker has ended by then.

#include <QObject>
#include <QString>

#include <atomic>
#include <functional>

class QThread;

namespace tinyml {

class ProjectStore;

class ProjectTask : public QObject
{
    Q_OBJECT
public:
    /// Returns false with *error on failure; a cancelled job returns false too.
    using Job = std::function<bool(ProjectStore &store, QString *error)>;

    explicit ProjectTask(QObject *parent = nullptr);
    /// Cancels and waits for a running job.
    ~ProjectTask() override;

    /// False when a job is already running.
    bool start(const QString &projectPath, Job job);
    bool isRunning() const { return m_thread != nullptr; }
    /// Asks the job to stop (it polls isCancelled() or hands cancelFlag() to the pipeline).
    void cancel() { m_cancel = true; }
    /// Cancels and blocks until the worker has ended (finished() is not emitted then).
    void cancelAndWait();

    // --- worker side ------------------------------------------------------------------
    bool isCancelled() const { return m_cancel.load(); }
    std::atomic<bool> *cancelFlag() { return &m_cancel; }
    /// Runs fn on the owner's thread (queued); dropped when this object is gone or the job was
    /// abandoned with cancelAndWait() in the meantime.
    void post(std::function<void()> fn);

Q_SIGNALS:
    /// Emitted (on the owner's thread) by jobs that post their progress:
    /// post([=] { Q_EMIT progressed(...); }).
    void progressed(int done, int total);
    /// cancelled: the job stopped because cancel() was called.
    void finished(bool ok, bool cancelled, const QString &error);

private:
    void onThreadFinished();

    QThread *m_thread = nullptr;
    std::atomic<int> m_generation{0};   ///< bumped per start() and cancelAndWait()
    std::atomic<bool> m_cancel{false};
    bool m_ok = false;
    QString m_error;
};

} // namespace tinyml
