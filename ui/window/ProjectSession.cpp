#include "window/ProjectSession.h"

#include "store/ProjectStore.h"

#include <QFileInfo>
#include <QUndoStack>

namespace tinyml::ui {

ProjectSession::ProjectSession(std::unique_ptr<ProjectStore> store, QObject *parent)
    : QObject(parent), m_store(std::move(store)), m_undo(new QUndoStack(this))
{
    Q_ASSERT(m_store);
}

ProjectSession::~ProjectSession()
{
    // Commands reference the store: drop them before it goes.
    m_undo->clear();
}

QString ProjectSession::path() const
{
    return m_store->path();
}

QString ProjectSession::displayName() const
{
    const QString name = m_store->settings().name;
    return name.isEmpty() ? QFileInfo(path()).completeBaseName() : name;
}

ProjectSettings ProjectSession::settings() const
{
    return m_store->settings();
}

QStringList ProjectSession::labels() const
{
    QStringList labels = m_store->settings().labels;
    for (const DatasetCounts::Row &row : m_store->counts().perLabel)
        if (!row.label.isEmpty() && !labels.contains(row.label))
            labels << row.label;
    return labels;
}

QString ProjectSession::templateName() const
{
    return m_store->settings().templateName;
}

QString ProjectSession::boardId() const
{
    return m_store->settings().boardId;
}

QString ProjectSession::defaultSensor() const
{
    return m_store->settings().sensor;
}

double ProjectSession::defaultRateHz() const
{
    return m_store->settings().sampleRateHz;
}

double ProjectSession::defaultLengthS() const
{
    return m_store->settings().sampleLengthS;
}

void ProjectSession::notifySamplesChanged()
{
    Q_EMIT samplesChanged();
}

void ProjectSession::notifySettingsChanged()
{
    Q_EMIT settingsChanged();
}

void ProjectSession::reportError(const QString &message)
{
    Q_EMIT errorOccurred(message);
}

} // namespace tinyml::ui
