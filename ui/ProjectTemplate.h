#pragma once
// What each kind of project starts with: the defaults the new-project wizard offers.
// The CLI keeps its own copy in app/cli/ProjectCommands.cpp until core grows one table
// for both (requested from core/store).

#include <QString>
#include <QStringList>
#include <QVector>

namespace tinyml::ui {

struct ProjectTemplate {
    QString id;               ///< motion | audio | image | tabular (ProjectSettings::templateName)
    QString title;            ///< "Motion / gesture"
    QString description;      ///< one line for the wizard
    QString iconName;         ///< resource name under :/icons
    QString sensor;           ///< default sensor, empty when data is imported, not streamed
    double sampleRateHz = 0;
    double sampleLengthS = 0;
    QStringList labels;

    bool isStreamed() const { return sampleRateHz > 0; }

    static const QVector<ProjectTemplate> &all();
    /// The template with that id, or the first (motion) when unknown.
    static const ProjectTemplate &byId(const QString &id);
};

} // namespace tinyml::ui
