// Issue 18, item 8: `tinyml-workbench` answers --help and --version without a display, and a
// --screenshot run on a project it cannot open ends with the reason instead of waiting for
// someone to close a message box.
#include <gtest/gtest.h>

#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>

namespace {

struct WorkbenchRun {
    bool finished = false;
    int exitCode = -1;
    QString out, err;
};

WorkbenchRun workbench(const QStringList &args, const QProcessEnvironment &env, int timeoutMs = 60000)
{
    QProcess p;
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(TINYML_WORKBENCH), args);
    WorkbenchRun r;
    r.finished = p.waitForStarted(10000) && p.waitForFinished(timeoutMs);
    if (!r.finished) {
        p.kill();
        p.waitForFinished(5000);
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = QString::fromLocal8Bit(p.readAllStandardOutput());
    r.err = QString::fromLocal8Bit(p.readAllStandardError());
    return r;
}

/// No X11, no Wayland, no platform plugin chosen: a terminal on a headless machine.
QProcessEnvironment withoutDisplay()
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const char *name : {"DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"})
        env.remove(QString::fromLatin1(name));
    return env;
}

} // namespace

TEST(WorkbenchCommandLine, HelpAndVersionNeedNoDisplay)
{
    for (const QString &flag : {QStringLiteral("--help"), QStringLiteral("-h")}) {
        SCOPED_TRACE(flag.toStdString());
        const WorkbenchRun r = workbench({flag}, withoutDisplay());
        ASSERT_TRUE(r.finished);
        EXPECT_EQ(r.exitCode, 0) << r.err.toStdString();
        EXPECT_TRUE(r.out.contains(QStringLiteral("--screenshot <FILE>"))) << r.out.toStdString();
        EXPECT_TRUE(r.out.contains(QStringLiteral("[PROJECT]"))) << r.out.toStdString();
    }
    const WorkbenchRun v = workbench({QStringLiteral("--version")}, withoutDisplay());
    ASSERT_TRUE(v.finished);
    EXPECT_EQ(v.exitCode, 0) << v.err.toStdString();
    EXPECT_TRUE(v.out.startsWith(QStringLiteral("tinyml-workbench "))) << v.out.toStdString();
}

TEST(WorkbenchCommandLine, ScreenshotOfAProjectThatCannotBeOpenedFailsWithTheReason)
{
    QTemporaryDir dir;
    ASSERT_TRUE(dir.isValid());
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    // Keep the run's settings (recent projects) away from the user's.
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), dir.filePath(QStringLiteral("config")));
    env.insert(QStringLiteral("XDG_DATA_HOME"), dir.filePath(QStringLiteral("data")));

    const QString garbage = dir.filePath(QStringLiteral("garbage.tinyml"));
    {
        QFile f(garbage);
        ASSERT_TRUE(f.open(QIODevice::WriteOnly));
        f.write(QByteArray(4096, 'x'));
    }
    for (const QString &project : {dir.filePath(QStringLiteral("missing.tinyml")), garbage}) {
        SCOPED_TRACE(project.toStdString());
        const QString png = dir.filePath(QStringLiteral("shot.png"));
        const WorkbenchRun r = workbench({QStringLiteral("--screenshot"), png, project}, env);
        ASSERT_TRUE(r.finished) << "tinyml-workbench --screenshot did not end within 60 s";
        EXPECT_NE(r.exitCode, 0);
        EXPECT_TRUE(r.err.contains(QStringLiteral("tinyml-workbench: cannot open %1: ").arg(project))) << r.err.toStdString();
        EXPECT_FALSE(QFileInfo::exists(png));
    }
}
