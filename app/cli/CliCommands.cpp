#include "CliCommands.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QJsonDocument>
#include <QSocketNotifier>
#include <QTextStream>

#include <algorithm>
#include <vector>

#ifdef Q_OS_UNIX
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <unistd.h>
#endif

namespace tinyml::cli {

void printJson(const QJsonObject &object)
{
    QTextStream(stdout) << QJsonDocument(object).toJson(QJsonDocument::Indented);
}

int fail(const QString &message)
{
    QString line = message.simplified();
    QTextStream(stderr) << "tinyml: error: " << line << "\n";
    return Failed;
}

int usageError(const QString &command, const QString &message)
{
    QTextStream(stderr) << "tinyml " << command << ": " << message << "\n"
                        << "Try `tinyml " << command << " --help`.\n";
    return Usage;
}

bool parseOrReport(QCommandLineParser &parser, const QStringList &args, const QString &command,
                   int expectedPositional, int *exitCode)
{
    parser.addHelpOption();
    if (!parser.parse(args)) {
        *exitCode = usageError(command, parser.errorText());
        return false;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        QTextStream(stdout) << parser.helpText();
        *exitCode = Ok;
        return false;
    }
    const int got = parser.positionalArguments().size();
    if (expectedPositional >= 0 ? got != expectedPositional : got < -expectedPositional) {
        *exitCode = usageError(command, QStringLiteral("wrong number of arguments"));
        return false;
    }
    return true;
}

// --- stop signals ---------------------------------------------------------------------------

namespace {

std::vector<std::function<void(int)> *> &stopHandlers()
{
    static std::vector<std::function<void(int)> *> handlers;
    return handlers;
}

int g_stopSignal = 0;

#ifdef Q_OS_UNIX
int g_pipe[2] = {-1, -1};
volatile sig_atomic_t g_armed = 0;    ///< a StopHandler is alive
volatile sig_atomic_t g_pending = 0;  ///< a signal was passed on and not handled yet

void restoreDefaultAndRaise(int sig)
{
    std::signal(sig, SIG_DFL);
    ::raise(sig);
}

// Async-signal-safe: only write(), signal() and raise().
extern "C" void onStopSignal(int sig)
{
    if (!g_armed || g_pending || g_pipe[1] < 0) {
        // Nobody to stop cleanly, or the user insists: the default action (the process ends;
        // a virtual board dies with it through PR_SET_PDEATHSIG).
        restoreDefaultAndRaise(sig);
        return;
    }
    g_pending = sig;
    const int saved = errno;
    const char byte = char(sig);
    [[maybe_unused]] const ssize_t n = ::write(g_pipe[1], &byte, 1);
    errno = saved;
}

void dispatchStopSignal()
{
    char byte = 0;
    if (::read(g_pipe[0], &byte, 1) != 1)
        return;
    const int sig = byte;
    g_stopSignal = sig;
    if (stopHandlers().empty()) {
        restoreDefaultAndRaise(sig);
        return;
    }
    (*stopHandlers().back())(sig); // g_pending stays set: a second signal ends the process
}
#endif

} // namespace

void installStopSignals()
{
#ifdef Q_OS_UNIX
    if (g_pipe[0] >= 0)
        return;
    if (::pipe(g_pipe) != 0)
        return; // no clean stop then, but the default actions still work
    for (int fd : g_pipe) {
        ::fcntl(fd, F_SETFD, FD_CLOEXEC); // not inherited by QEMU or the host agent
        ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    }
    auto *notifier = new QSocketNotifier(g_pipe[0], QSocketNotifier::Read, QCoreApplication::instance());
    QObject::connect(notifier, &QSocketNotifier::activated, notifier, [] { dispatchStopSignal(); });
    struct sigaction sa {};
    sa.sa_handler = onStopSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (int sig : {SIGINT, SIGTERM, SIGHUP})
        ::sigaction(sig, &sa, nullptr);
#endif
}

int stopSignal() { return g_stopSignal; }

QString signalName(int signal)
{
#ifdef Q_OS_UNIX
    switch (signal) {
    case SIGINT: return QStringLiteral("SIGINT");
    case SIGTERM: return QStringLiteral("SIGTERM");
    case SIGHUP: return QStringLiteral("SIGHUP");
    default: break;
    }
#endif
    return QStringLiteral("signal %1").arg(signal);
}

StopHandler::StopHandler(std::function<void(int)> onStop) : m_onStop(std::move(onStop))
{
    stopHandlers().push_back(&m_onStop);
#ifdef Q_OS_UNIX
    g_armed = 1;
#endif
}

StopHandler::~StopHandler()
{
    auto &handlers = stopHandlers();
    handlers.erase(std::remove(handlers.begin(), handlers.end(), &m_onStop), handlers.end());
#ifdef Q_OS_UNIX
    g_armed = handlers.empty() ? 0 : 1;
#endif
}

static QList<Command> allCommands()
{
    QList<Command> all;
    all += projectCommands();
    all += dataCommands();
    all += sampleCommands();
    all += deviceCommands();
    all += deployCommands();
    all += impulseCommands();
    all += firmwareCommands();
    all += keyCommands();
    all += mlperfCommands();
    all += predictCommands();
    all += modelCardCommands();
    all += fleetCommands();
    all += telemetryCommands();
#ifdef TINYML_HAVE_TRAINING
    all += trainingCommands();
#endif
    return all;
}

static void printUsage(QTextStream &out)
{
    out << "usage: tinyml <command> [options]\n\n"
           "TinyML Workbench on the command line: capture, import, train, quantize, flash, "
           "profile, classify.\n\ncommands:\n";
    const QList<Command> commands = allCommands();
    int width = 0;
    for (const Command &c : commands)
        width = qMax(width, int(c.name.size()));
    // Every name gets at least two blanks before its summary, however long it is.
    for (const Command &c : commands)
        out << "  " << c.name.leftJustified(width + 2) << c.summary << "\n";
    out << "\n`tinyml <command> --help` describes a command's options.\n";
}

int run(const QStringList &arguments)
{
    QTextStream out(stdout);
    if (arguments.size() < 2 || arguments[1] == QLatin1String("--help") ||
        arguments[1] == QLatin1String("-h") || arguments[1] == QLatin1String("help")) {
        printUsage(out);
        return arguments.size() < 2 ? Usage : Ok;
    }
    if (arguments[1] == QLatin1String("--version")) {
        out << "tinyml " << TINYML_VERSION << "\n";
        return Ok;
    }
    const QString name = arguments[1];
    for (const Command &c : allCommands()) {
        if (c.name == name) {
            QStringList rest = arguments.mid(2);
            rest.prepend(QStringLiteral("tinyml ") + name);
            return c.run(rest);
        }
    }
    QTextStream(stderr) << "tinyml: unknown command '" << name << "'\n";
    printUsage(out);
    return Usage;
}

} // namespace tinyml::cli
