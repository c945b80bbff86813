#include "BoardFlasher.h"

#include <QEventLoop>
#include <QFileInfo>
#include <QPointer>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTimer>

namespace tinyml::deploy
{

namespace
{

bool fail(QString *error, const QString &message)
{
    if (error)
        *error = message;
    return false;
}

QString quoted(const QString &arg)
{
    static const QRegularExpression plain(QStringLiteral("^[A-Za-z0-9_./=:,+@%-]+$"));
    if (plain.match(arg).hasMatch())
        return arg;
    QString s = arg;
    s.replace(QLatin1Char('\''), QLatin1String("'\\''"));
    return QLatin1Char('\'') + s + QLatin1Char('\'');
}

QString commandLine(const FlashPlan &p)
{
    QStringList parts{quoted(p.tool)};
    for (const QString &a : p.arguments)
        parts << quoted(a);
    return parts.join(QLatin1Char(' '));
}

} // namespace

BoardFlasher::BoardFlasher(QObject *parent) : QObject(parent)
{
}

BoardFlasher::~BoardFlasher()
{
    if (m_process && m_process->state() != QProcess::NotRunning) {
        m_process->disconnect(this);
        m_process->kill();
        m_process->waitForFinished(3000);
    }
}

QString BoardFlasher::installAdvice(const QString &installHint)
{
    static const QRegularExpression packages(
        QStringLiteral("^[a-z0-9][a-z0-9.+-]*( [a-z0-9][a-z0-9.+-]*)*$"));
    const QString hint = installHint.trimmed();
    if (hint.isEmpty())
        return QStringLiteral("install it and put it on PATH");
    if (packages.match(hint).hasMatch())
        return QStringLiteral("install it with: sudo apt-get install %1").arg(hint);
    return QStringLiteral("install it: %1").arg(hint);
}

std::optional<FlashPlan> BoardFlasher::plan(const BoardDefinition &board, const QString &image,
                                            const QString &port, QString *error)
{
    if (board.isVirtual || board.flasherTool.isEmpty()) {
        fail(error,
             QStringLiteral("board %1 has no flasher tool in %2: %3")
                 .arg(board.id, QFileInfo(board.filePath).fileName(),
                      board.isVirtual
                          ? QStringLiteral("a virtual board is flashed over the agent protocol")
                          : QStringLiteral("add \"flasher\": {\"tool\", \"args\", \"install\"}")));
        return std::nullopt;
    }
    if (image.isEmpty()) {
        fail(error, QStringLiteral("no firmware image to flash onto %1").arg(board.id));
        return std::nullopt;
    }
    if (!QFileInfo(image).isFile()) {
        fail(error, QStringLiteral("firmware image %1 not found").arg(image));
        return std::nullopt;
    }

    QVector<FlasherCommand> candidates{
        {board.flasherTool, board.flasherArgs, board.flasherInstallHint}};
    candidates += board.alternativeFlasherCommands;
    const FlasherCommand *chosen = nullptr;
    QString program;
    for (const FlasherCommand &c : candidates) {
        program = QStandardPaths::findExecutable(c.tool);
        if (!program.isEmpty()) {
            chosen = &c;
            break;
        }
    }
    if (!chosen) {
        QString message = QStringLiteral("%1 not found on PATH; %2")
                              .arg(board.flasherTool, installAdvice(board.flasherInstallHint));
        for (int i = 1; i < candidates.size(); ++i)
            message += QStringLiteral("\nor use %1 (also not found): %2")
                           .arg(candidates[i].tool, installAdvice(candidates[i].installHint));
        fail(error, message);
        return std::nullopt;
    }

    FlashPlan p;
    p.tool = chosen->tool;
    p.program = program;
    p.installHint = chosen->installHint;
    p.port = port;
    const QString imagePath = QFileInfo(image).absoluteFilePath();
    for (QString a : chosen->args) {
        if (a.contains(QLatin1String("{port}")))
            p.usesPort = true;
        a.replace(QLatin1String("{image}"), imagePath);
        a.replace(QLatin1String("{port}"), port);
        p.arguments << a;
    }
    if (p.usesPort && port.isEmpty()) {
        fail(error,
             QStringLiteral("%1 needs the board's serial port: pass it (--port /dev/ttyACM0)")
                 .arg(p.tool));
        return std::nullopt;
    }
    return p;
}

bool BoardFlasher::start(const BoardDefinition &board, const QString &image, const QString &port,
                         QString *error)
{
    if (isRunning())
        return fail(error, QStringLiteral("a flash is already running (%1)").arg(m_plan.tool));
    auto p = plan(board, image, port, error);
    if (!p)
        return false;
    m_plan = *p;
    m_result = FlashResult{};
    m_result.plan = m_plan;
    m_partial[0].clear();
    m_partial[1].clear();
    m_tail.clear();
    m_cancelled = false;
    m_done = false;

    delete m_process;
    m_process = new QProcess(this);
    connect(m_process, &QProcess::readyReadStandardOutput, this,
            [this] { readChannel(QProcess::StandardOutput); });
    connect(m_process, &QProcess::readyReadStandardError, this,
            [this] { readChannel(QProcess::StandardError); });
    connect(m_process, &QProcess::finished, this, &BoardFlasher::onFinished);
    connect(m_process, &QProcess::errorOccurred, this, &BoardFlasher::onError);
    Q_EMIT started(commandLine(m_plan));
    m_process->start(m_plan.program, m_plan.arguments);
    return true;
}

void BoardFlasher::cancel()
{
    if (!isRunning())
        return;
    m_cancelled = true;
    m_process->terminate();
    QPointer<QProcess> process = m_process;
    QTimer::singleShot(2000, this, [process] {
        if (process && process->state() != QProcess::NotRunning)
            process->kill();
    });
}

bool BoardFlasher::isRunning() const
{
    return m_process && !m_done;
}

FlashResult BoardFlasher::run(const BoardDefinition &board, const QString &image,
                              const QString &port,
                              const std::function<void(const QString &line)> &onLine, int timeoutMs)
{
    QString error;
    if (!start(board, image, port, &error)) {
        FlashResult r;
        r.error = error;
        return r;
    }
    QMetaObject::Connection lines;
    if (onLine)
        lines = connect(this, &BoardFlasher::outputLine, this, onLine);
    QEventLoop loop;
    connect(this, &BoardFlasher::finished, &loop, &QEventLoop::quit);
    bool timedOut = false;
    QTimer timer;
    timer.setSingleShot(true);
    connect(&timer, &QTimer::timeout, this, [&] {
        timedOut = true;
        cancel();
    });
    timer.start(timeoutMs);
    if (!m_done)
        loop.exec();
    disconnect(lines);
    if (timedOut) {
        m_result.error =
            QStringLiteral("%1 did not finish within %2 s and was stopped; the board may need a "
                           "power cycle")
                .arg(m_plan.tool)
                .arg(timeoutMs / 1000);
    }
    return m_result;
}

void BoardFlasher::readChannel(QProcess::ProcessChannel channel)
{
    m_process->setReadChannel(channel);
    QByteArray &buffer = m_partial[channel == QProcess::StandardOutput ? 0 : 1];
    buffer += m_process->readAll();
    qsizetype start = 0;
    for (qsizetype i = 0; i < buffer.size(); ++i) {
        if (buffer[i] == '\n' || buffer[i] == '\r') {
            emitLine(QString::fromLocal8Bit(buffer.mid(start, i - start)));
            start = i + 1;
        }
    }
    buffer.remove(0, start);
}

void BoardFlasher::emitLine(const QString &line)
{
    const QString text = line.trimmed().isEmpty() ? QString() : line;
    if (text.isEmpty())
        return;
    m_tail << text;
    while (m_tail.size() > kLastLines)
        m_tail.removeFirst();
    Q_EMIT outputLine(text);
}

void BoardFlasher::flushPartial()
{
    for (QByteArray &b : m_partial) {
        if (!b.isEmpty())
            emitLine(QString::fromLocal8Bit(b));
        b.clear();
    }
}

void BoardFlasher::onFinished(int exitCode, QProcess::ExitStatus status)
{
    readChannel(QProcess::StandardOutput);
    readChannel(QProcess::StandardError);
    flushPartial();
    m_result.exitCode = status == QProcess::NormalExit ? exitCode : -1;
    m_result.cancelled = m_cancelled;
    m_result.ok = !m_cancelled && status == QProcess::NormalExit && exitCode == 0;
    if (m_cancelled) {
        m_result.error =
            QStringLiteral(
                "%1 was cancelled; the board may hold a partly written image: flash it again")
                .arg(m_plan.tool);
    } else if (!m_result.ok) {
        QString what =
            status == QProcess::NormalExit
                ? QStringLiteral("%1 exited with status %2").arg(m_plan.tool).arg(exitCode)
                : QStringLiteral("%1 crashed").arg(m_plan.tool);
        if (!m_tail.isEmpty())
            what += QStringLiteral(". Its last output:\n  ") + m_tail.join(QStringLiteral("\n  "));
        QStringList checks{
            QStringLiteral("is the board connected by USB and powered (and its debugger/bootloader "
                           "not held by another program: IDE, serial monitor, debugger)?")};
        if (m_plan.usesPort)
            checks << QStringLiteral(
                          "is %1 the board's port (tinyml devices lists them; some boards show a "
                          "different port in bootloader mode)?")
                          .arg(m_plan.port);
        checks << QStringLiteral(
            "can you open the device (permissions: join the dialout and plugdev groups, or "
            "install the board's udev rules, then log in again)?");
        what += QStringLiteral("\nCheck: ") + checks.join(QStringLiteral("\n       "));
        m_result.error = what;
    }
    finish();
}

void BoardFlasher::onError(QProcess::ProcessError error)
{
    if (error != QProcess::FailedToStart)
        return; // crashes and the rest end in finished()
    m_result.exitCode = -1;
    m_result.ok = false;
    m_result.error = QStringLiteral("%1 could not be started (%2): %3; %4")
                         .arg(m_plan.tool, m_plan.program, m_process->errorString(),
                              installAdvice(m_plan.installHint));
    finish();
}

void BoardFlasher::finish()
{
    if (m_done)
        return;
    m_done = true;
    m_result.lastLines = m_tail;
    Q_EMIT finished(m_result);
}

} // namespace tinyml::deploy
