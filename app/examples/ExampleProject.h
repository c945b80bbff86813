#pragma once
// Example projects shipped with the workbench (resources/examples/<id>/): an example.json
// with the project settings and a data/ folder of samples in an importable format.
// Creating a project from an example copies the data into a new project file the user
// owns; the shipped files are only read (they may sit in a read-only /usr/share).
//
// Where examples are found (first that exists): env TINYML_EXAMPLES_DIR,
// <app dir>/../share/tinyml-workbench/examples (installed), the source tree (compiled in).

#include <QString>
#include <QStringList>
#include <QVector>

namespace tinyml::examples {

struct ExampleInfo {
    QString id;          ///< folder name, e.g. "motion"
    QString title;
    QString description;
    QString directory;   ///< absolute path of the example folder
};

struct ExampleResult {
    QString projectPath;
    int samples = 0;
    int train = 0;
    int test = 0;
    QStringList labels;
};

/// The examples directory, or empty with *error naming the places searched.
QString examplesDirectory(QString *error = nullptr);

/// Reads <dir>/<id>/example.json. Errors name the file and the field.
bool readExample(const QString &exampleDir, ExampleInfo *info, QString *error);

/// Every example in examplesDirectory(), sorted by id.
QVector<ExampleInfo> listExamples(QString *error);

/// Creates projectPath (which must not exist) from example `id`: settings from example.json,
/// every file under data/ imported, the usual deterministic 80/20 train/test split. On
/// failure nothing is left behind and *error says which file or field was wrong.
bool createProjectFromExample(const QString &id, const QString &projectPath, ExampleResult *result,
                              QString *error);

/// A path for a new copy of the example in the user's projects folder
/// (~/TinyML Projects/<id>-example.tinyml, numbered when taken).
QString suggestedProjectPath(const QString &id);

} // namespace tinyml::examples
