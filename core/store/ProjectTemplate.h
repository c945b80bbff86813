#pragma once
// What each kind of project starts with: one table for the new-project wizard and
// `tinyml new --template`.

#include <QString>
#include <QStringList>
#include <QVector>

namespace tinyml {

struct ProjectTemplate {
    QString id;               ///< motion | audio | image | tabular | vibration (ProjectSettings::templateName)
    QString title;            ///< "Motion / gesture"
    QString description;      ///< one line for the wizard
    QString iconName;         ///< resource name under :/icons
    QString sensor;           ///< default sensor, empty when data is imported, not streamed
    double sampleRateHz = 0;
    double sampleLengthS = 0;
    QStringList labels;       ///< the wizard's suggestion (the CLI takes --labels)

    bool isStreamed() const { return sampleRateHz > 0; }

    static const QVector<ProjectTemplate> &all();
    /// The template with that id, or nullptr.
    static const ProjectTemplate *find(const QString &id);
    /// The template with that id, or the first (motion) when unknown.
    static const ProjectTemplate &byId(const QString &id);
    /// "motion, audio, image, tabular, vibration", for messages.
    static QString idList();
};

} // namespace tinyml
