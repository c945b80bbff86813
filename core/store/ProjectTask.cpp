#include "store/ProjectTask.h"

#include "store/ProjectStore.h"

#include <QThread>

namespace tinyml {

ProjectTask::ProjectTask(QObject *parent) : QObject(parent) {}

ProjectTask::~ProjectTask()
{
    cancelAndWait();
}

bool ProjectTask::start(const QString &projectPath, Job job)
{
    if (m_thread)
        return false;
    m_cancel = false;
    ++m_generation;
    m_ok = false;
    m_error.clear();
    m_thread = QThread::create([this, projectPath, job = std::move(job)] {
        QString error;
        bool ok = false;
        if (auto store = ProjectStore::open(projectPath, &error))
            ok = job(*store, &error);
        // Read by onThreadFinished() on the owner's thread after the thread has ended.
        m_ok = ok;
        m_error = error;
    });
    connect(m_thread, &QThread::finished, this, &ProjectTask::onThreadFinished);
    m_thread->start();
    return true;
}

void ProjectTask::cancelAndWait()
{
    if (!m_thread)
        return;
    m_cancel = true;
    disconnect(m_thread, nullptr, this, nullptr);
    m_thread->wait();
    delete m_thread;
    m_thread = nullptr;
    ++m_generation;
}

void ProjectTask::post(std::function<void()> fn)
{
    const int generation = m_generation.load();
    QMetaObject::invokeMethod(
        this,
        [this, generation, fn = std::move(fn)] {
            if (generation == m_generation.load())
                fn();
        },
        Qt::QueuedConnection);
}

void ProjectTask::onThreadFinished()
{
    m_thread->wait();
    m_thread->deleteLater();
    m_thread = nullptr;
    const bool cancelled = m_cancel.load() && !m_ok;
    Q_EMIT finished(m_ok, cancelled, m_error);
}

} // namespace tinyml
