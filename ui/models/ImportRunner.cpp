#include "models/ImportRunner.h"

#include "io/DatasetImporter.h"

#include <QEventLoop>
#include <QPointer>
#include <QProgressDialog>
#include <QThread>

#include <atomic>

namespace tinyml::ui {

ImportRun runImport(QWidget *parent, const QStringList &paths, const io::ImportOptions &options)
{
    ImportRun run;
    std::atomic<bool> cancel{false};
    QProgressDialog dialog(QObject::tr("Reading files…"), QObject::tr("Cancel"), 0, 0, parent);
    dialog.setWindowTitle(QObject::tr("Import data"));
    dialog.setWindowModality(Qt::WindowModal);
    dialog.setMinimumDuration(300);
    QObject::connect(&dialog, &QProgressDialog::canceled, &dialog, [&cancel] { cancel = true; });

    QPointer<QProgressDialog> guard(&dialog);
    QThread *worker = QThread::create([&] {
        run.results = io::importPaths(paths, options, [&](int done, int total) {
            QMetaObject::invokeMethod(guard.data(), [guard, done, total] {
                if (!guard)
                    return;
                guard->setMaximum(total);
                guard->setValue(done);
                guard->setLabelText(QObject::tr("Reading file %1 of %2…").arg(done + 1 > total ? total : done + 1).arg(total));
            }, Qt::QueuedConnection);
            return !cancel.load();
        });
    });
    QEventLoop loop;
    QObject::connect(worker, &QThread::finished, &loop, &QEventLoop::quit);
    worker->start();
    loop.exec();
    worker->wait();
    delete worker;
    run.cancelled = cancel.load();
    return run;
}

} // namespace tinyml::ui
