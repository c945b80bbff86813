#pragma once
// Runs core/io's importPaths on a worker thread behind a modal progress dialog with
// Cancel, so a folder of thousands of WAVs never freezes the window. Returns the
// results read so far (all of them unless cancelled).

#include "io/ImportResult.h"

#include <QStringList>
#include <QVector>

class QWidget;

namespace tinyml::ui {

struct ImportRun {
    QVector<io::FileImportResult> results;
    bool cancelled = false;
};

ImportRun runImport(QWidget *parent, const QStringList &paths, const io::ImportOptions &options);

} // namespace tinyml::ui
