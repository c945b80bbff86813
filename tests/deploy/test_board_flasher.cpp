// BoardFlasher with the real board definitions and stand-in tools: executable shell scripts
// named like the boards' flashers, first (and only) on PATH, which record their arguments
// and print lines. The real tools cannot reach hardware here.
#include "BoardFlasher.h"

#include "device/BoardRegistry.h"
#include "device/VirtualBoard.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>
#include <QtEndian>

#include <gtest/gtest.h>

using namespace tinyml;
using namespace tinyml::deploy;

namespace
{

void ensureApp()
{
    if (!QCoreApplication::instance()) {
        static int argc = 1;
        static char name[] = "test_board_flasher";
        static char *argv[] = {name, nullptr};
        new QCoreApplication(argc, argv);
    }
}

class BoardFlasherTest : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        ensureApp();
        ASSERT_TRUE(tmp.isValid());
        QString error;
        ASSERT_TRUE(
            registry.loadDirectory(QStringLiteral(TINYML_SOURCE_DIR "/resources/boards"), &error))
            << error.toStdString();
        savedPath = qgetenv("PATH");
        // Only the stand-ins: a real openocd installed on the machine must not be found.
        qputenv("PATH", tmp.filePath(QStringLiteral("bin")).toLocal8Bit());
        QDir().mkpath(tmp.filePath(QStringLiteral("bin")));
        image = tmp.filePath(QStringLiteral("tinyml-agent.elf"));
        QFile f(image);
        ASSERT_TRUE(f.open(QIODevice::WriteOnly));
        f.write("\x7f"
                "ELF not really");
    }
    void TearDown() override { qputenv("PATH", savedPath); }

    const BoardDefinition &board(const char *id)
    {
        const BoardDefinition *b = registry.board(QString::fromLatin1(id));
        EXPECT_NE(b, nullptr) << id;
        return *b;
    }

    /// A stand-in tool: records its arguments (one per line) in <name>.argv, then runs body.
    void fakeTool(const QString &name, const QByteArray &body)
    {
        const QString path = tmp.filePath(QStringLiteral("bin/") + name);
        QFile f(path);
        ASSERT_TRUE(f.open(QIODevice::WriteOnly));
        f.write("#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > '" +
                argvFile(name).toLocal8Bit() + "'\n" + body);
        f.close();
        f.setPermissions(f.permissions() | QFile::ExeOwner | QFile::ExeGroup | QFile::ExeOther);
    }
    QString argvFile(const QString &name) const
    {
        return tmp.filePath(name + QStringLiteral(".argv"));
    }
    QStringList recordedArgs(const QString &name) const
    {
        QFile f(argvFile(name));
        if (!f.open(QIODevice::ReadOnly))
            return {};
        QStringList lines = QString::fromLocal8Bit(f.readAll()).split(QLatin1Char('\n'));
        if (!lines.isEmpty() && lines.last().isEmpty())
            lines.removeLast();
        return lines;
    }

    QTemporaryDir tmp;
    BoardRegistry registry;
    QByteArray savedPath;
    QString image;
};

TEST_F(BoardFlasherTest, MissingToolGivesTheInstallCommand)
{
    QString error;
    EXPECT_FALSE(BoardFlasher::plan(board("nucleo-l4r5zi"), image, {}, &error));
    EXPECT_TRUE(error.startsWith(
        QLatin1String("openocd not found on PATH; install it with: sudo apt-get install openocd")))
        << error.toStdString();
    EXPECT_TRUE(error.contains(QLatin1String(
        "pyocd (also not found): install it with: sudo apt-get install python3-pyocd")))
        << error.toStdString();

    // A hint that is not a package name is passed on as it is.
    EXPECT_FALSE(BoardFlasher::plan(board("rpi-pico"), image, {}, &error));
    EXPECT_TRUE(error.startsWith(QLatin1String(
        "picotool not found on PATH; install it: picotool (not packaged in Debian 12")))
        << error.toStdString();

    BoardFlasher flasher;
    const FlashResult r =
        flasher.run(board("arduino-nano-33-ble-sense"), image, QStringLiteral("/dev/ttyACM0"));
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error,
              QStringLiteral(
                  "bossac not found on PATH; install it with: sudo apt-get install bossa-cli"));
}

TEST_F(BoardFlasherTest, RefusesVirtualBoardsMissingImagesAndMissingPorts)
{
    fakeTool(QStringLiteral("bossac"), "exit 0\n");
    QString error;
    EXPECT_FALSE(BoardFlasher::plan(board("qemu-m4"), image, {}, &error));
    EXPECT_TRUE(error.contains(QLatin1String("agent protocol"))) << error.toStdString();
    EXPECT_FALSE(BoardFlasher::plan(board("arduino-nano-33-ble-sense"),
                                    tmp.filePath(QStringLiteral("nope.bin")),
                                    QStringLiteral("/dev/ttyACM0"), &error));
    EXPECT_TRUE(error.contains(QLatin1String("nope.bin")) &&
                error.contains(QLatin1String("not found")))
        << error.toStdString();
    EXPECT_FALSE(BoardFlasher::plan(board("arduino-nano-33-ble-sense"), image, {}, &error));
    EXPECT_TRUE(error.contains(QLatin1String("bossac needs the board's serial port")))
        << error.toStdString();
}

TEST_F(BoardFlasherTest, RunsTheToolWithSubstitutedArgumentsAndStreamsItsLines)
{
    fakeTool(QStringLiteral("openocd"),
             "echo 'Open On-Chip Debugger (stand-in)'\n"
             "printf 'Programming 10%%\\rProgramming 60%%\\rProgramming 100%%\\n'\n"
             "echo 'Info : flash size = 2048 KiB' >&2\n"
             "printf 'verified 4096 bytes'\n" // no final newline: still a line
             "exit 0\n");
    BoardFlasher flasher;
    QStringList signalled, called;
    QString commandLine;
    QObject::connect(&flasher, &BoardFlasher::outputLine,
                     [&](const QString &l) { signalled << l; });
    QObject::connect(&flasher, &BoardFlasher::started, [&](const QString &c) { commandLine = c; });
    const FlashResult r =
        flasher.run(board("nucleo-l4r5zi"), image, {}, [&](const QString &l) { called << l; });
    ASSERT_TRUE(r.ok) << r.error.toStdString();
    EXPECT_EQ(r.exitCode, 0);
    EXPECT_TRUE(r.error.isEmpty());
    EXPECT_EQ(r.plan.tool, QStringLiteral("openocd"));
    const QStringList expectedArgs{QStringLiteral("-f"), QStringLiteral("board/st_nucleo_l4.cfg"),
                                   QStringLiteral("-c"),
                                   QStringLiteral("program %1 verify reset exit").arg(image)};
    EXPECT_EQ(recordedArgs(QStringLiteral("openocd")), expectedArgs);
    EXPECT_EQ(r.plan.arguments, expectedArgs);
    EXPECT_TRUE(
        commandLine.startsWith(QLatin1String("openocd -f board/st_nucleo_l4.cfg -c 'program ")))
        << commandLine.toStdString();

    // stdout lines in order (progress split at '\r'); the stderr line somewhere among them.
    QStringList stdoutLines = signalled;
    stdoutLines.removeAll(QStringLiteral("Info : flash size = 2048 KiB"));
    EXPECT_EQ(
        stdoutLines,
        (QStringList{QStringLiteral("Open On-Chip Debugger (stand-in)"),
                     QStringLiteral("Programming 10%"), QStringLiteral("Programming 60%"),
                     QStringLiteral("Programming 100%"), QStringLiteral("verified 4096 bytes")}));
    EXPECT_EQ(signalled.size(), 6);
    EXPECT_EQ(called, signalled);
    EXPECT_EQ(r.lastLines, signalled);
}

TEST_F(BoardFlasherTest, FallsBackToAnAlternativeTool)
{
    fakeTool(QStringLiteral("pyocd"), "echo 'pyocd stand-in'\nexit 0\n");
    BoardFlasher flasher;
    const FlashResult r = flasher.run(board("nucleo-l4r5zi"), image, {});
    ASSERT_TRUE(r.ok) << r.error.toStdString();
    EXPECT_EQ(r.plan.tool, QStringLiteral("pyocd"));
    EXPECT_EQ(recordedArgs(QStringLiteral("pyocd")),
              (QStringList{QStringLiteral("flash"), QStringLiteral("-t"),
                           QStringLiteral("stm32l4r5zitx"), image}));
}

TEST_F(BoardFlasherTest, NonZeroExitShowsTheLastLinesAndWhatToCheck)
{
    QByteArray body;
    for (int i = 1; i <= 20; ++i)
        body += "echo 'line " + QByteArray::number(i) + "'\n";
    body += "echo 'No device found on /dev/ttyACM7' >&2\nexit 3\n";
    fakeTool(QStringLiteral("bossac"), body);
    BoardFlasher flasher;
    const FlashResult r =
        flasher.run(board("arduino-nano-33-ble-sense"), image, QStringLiteral("/dev/ttyACM7"));
    EXPECT_FALSE(r.ok);
    EXPECT_FALSE(r.cancelled);
    EXPECT_EQ(r.exitCode, 3);
    EXPECT_TRUE(
        recordedArgs(QStringLiteral("bossac")).contains(QStringLiteral("--port=/dev/ttyACM7")));
    EXPECT_EQ(r.lastLines.size(), BoardFlasher::kLastLines);
    EXPECT_EQ(r.lastLines.last(), QStringLiteral("No device found on /dev/ttyACM7"));
    EXPECT_FALSE(r.lastLines.contains(QStringLiteral("line 1")));
    EXPECT_TRUE(r.error.startsWith(QLatin1String("bossac exited with status 3. Its last output:")))
        << r.error.toStdString();
    EXPECT_TRUE(r.error.contains(QLatin1String("No device found on /dev/ttyACM7")));
    EXPECT_TRUE(r.error.contains(QLatin1String("connected by USB")));
    EXPECT_TRUE(r.error.contains(QLatin1String("is /dev/ttyACM7 the board's port")));
    EXPECT_TRUE(r.error.contains(QLatin1String("udev rules")));
}

TEST_F(BoardFlasherTest, CancelStopsTheTool)
{
    fakeTool(QStringLiteral("openocd"), "echo 'waiting for the target'\nexec /bin/sleep 30\n");
    BoardFlasher flasher;
    bool finished = false;
    FlashResult result;
    QObject::connect(&flasher, &BoardFlasher::outputLine, &flasher,
                     [&](const QString &) { flasher.cancel(); });
    QObject::connect(&flasher, &BoardFlasher::finished, [&](const FlashResult &r) {
        finished = true;
        result = r;
    });
    QString error;
    QElapsedTimer clock;
    clock.start();
    ASSERT_TRUE(flasher.start(board("nucleo-l4r5zi"), image, {}, &error)) << error.toStdString();
    EXPECT_TRUE(flasher.isRunning());
    EXPECT_FALSE(flasher.start(board("nucleo-l4r5zi"), image, {}, &error));
    EXPECT_TRUE(error.contains(QLatin1String("already running")));
    while (!finished && clock.elapsed() < 20000)
        QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 100);
    ASSERT_TRUE(finished);
    EXPECT_LT(clock.elapsed(), 10000);
    EXPECT_TRUE(result.cancelled);
    EXPECT_FALSE(result.ok);
    EXPECT_TRUE(result.error.contains(QLatin1String("cancelled")));
    EXPECT_FALSE(flasher.isRunning());
}

TEST_F(BoardFlasherTest, AlternativeToolsAreCheckedInTheBoardFile)
{
    QFile f(QStringLiteral(TINYML_SOURCE_DIR "/resources/boards/nucleo-l4r5zi.json"));
    ASSERT_TRUE(f.open(QIODevice::ReadOnly));
    QByteArray json = f.readAll();
    const QByteArray good = "{ \"tool\": \"pyocd\",";
    ASSERT_TRUE(json.contains(good));
    QString error;
    EXPECT_FALSE(BoardRegistry::parseBoard(QByteArray(json).replace(good, "{ \"tool\": 7,"),
                                           QStringLiteral("nucleo-l4r5zi.json"), &error));
    EXPECT_TRUE(error.contains(QLatin1String("flasher.alternative_tools[0].tool")))
        << error.toStdString();
    const QByteArray list = "\"alternative_tools\": [";
    ASSERT_TRUE(json.contains(list));
    EXPECT_FALSE(BoardRegistry::parseBoard(
        QByteArray(json).replace(list, "\"alternative_tools\": 3, \"x\": ["),
        QStringLiteral("nucleo-l4r5zi.json"), &error));
    EXPECT_TRUE(error.contains(QLatin1String("flasher.alternative_tools\": must be an array")))
        << error.toStdString();
}

TEST_F(BoardFlasherTest, RunGivesUpAfterItsTimeout)
{
    fakeTool(QStringLiteral("openocd"), "exec /bin/sleep 30\n");
    BoardFlasher flasher;
    QElapsedTimer clock;
    clock.start();
    const FlashResult r = flasher.run(board("nucleo-l4r5zi"), image, {}, {}, 300);
    EXPECT_LT(clock.elapsed(), 10000);
    EXPECT_FALSE(r.ok);
    EXPECT_TRUE(r.error.contains(QLatin1String("did not finish within"))) << r.error.toStdString();
}

#ifdef TINYML_HAVE_FIRMWARE
QString runTool(const QString &program, const QStringList &args)
{
    QProcess p;
    p.start(program, args);
    if (!p.waitForFinished(60000) || p.exitCode() != 0)
        return QStringLiteral("FAILED: ") + QString::fromLocal8Bit(p.readAllStandardError());
    return QString::fromLocal8Bit(p.readAllStandardOutput());
}

// The NUCLEO-L4R5ZI agent image (firmware-agent/ports/nucleo-l4r5zi) is built with the
// virtual boards' images; it cannot run here, so this checks what can be checked without
// the board: an Arm image whose vector table sits at the start of the STM32's flash, that
// fits the board's flash and RAM, handed to the board's flasher as it is.
TEST_F(BoardFlasherTest, NucleoAgentImageFitsTheBoardAndGoesToItsFlasher)
{
    qputenv("PATH", savedPath); // the Arm binutils
    const BoardDefinition &nucleo = board("nucleo-l4r5zi");
    QString error;
    const QString elf = AgentLocator::findImage(nucleo.agentImage, &error);
    ASSERT_FALSE(elf.isEmpty()) << error.toStdString();

    const QString header =
        runTool(QStringLiteral("arm-none-eabi-readelf"), {QStringLiteral("-h"), elf});
    EXPECT_TRUE(header.contains(QLatin1String("Machine:                           ARM")))
        << header.toStdString();
    const QString bin = tmp.filePath(QStringLiteral("agent.bin"));
    ASSERT_FALSE(runTool(QStringLiteral("arm-none-eabi-objcopy"),
                         {QStringLiteral("-O"), QStringLiteral("binary"), elf, bin})
                     .startsWith(QLatin1String("FAILED")));
    QFile f(bin);
    ASSERT_TRUE(f.open(QIODevice::ReadOnly));
    const QByteArray image = f.readAll();
    ASSERT_GE(image.size(), 8);
    const quint32 sp = qFromLittleEndian<quint32>(image.constData());
    const quint32 reset = qFromLittleEndian<quint32>(image.constData() + 4);
    EXPECT_GE(sp, 0x20000000u);
    EXPECT_LE(sp, 0x20000000u + nucleo.ramBytes);
    EXPECT_EQ(reset & 1u, 1u) << "Thumb bit";
    EXPECT_GE(reset, 0x08000000u);
    EXPECT_LT(reset, 0x08000000u + quint32(image.size()));
    EXPECT_LE(quint64(image.size()), nucleo.flashBytes);

    // berkeley format: text data bss dec hex filename
    const QStringList sizes = runTool(QStringLiteral("arm-none-eabi-size"), {elf})
                                  .split(QLatin1Char('\n'))
                                  .value(1)
                                  .split(QLatin1Char('\t'));
    ASSERT_GE(sizes.size(), 3);
    EXPECT_LE(sizes[1].trimmed().toULongLong() + sizes[2].trimmed().toULongLong(), nucleo.ramBytes);

    qputenv("PATH", tmp.filePath(QStringLiteral("bin")).toLocal8Bit());
    fakeTool(QStringLiteral("openocd"), "echo '** Programming Finished **'\nexit 0\n");
    BoardFlasher flasher;
    const FlashResult r = flasher.run(nucleo, elf, {});
    ASSERT_TRUE(r.ok) << r.error.toStdString();
    EXPECT_EQ(
        recordedArgs(QStringLiteral("openocd")).value(3),
        QStringLiteral("program %1 verify reset exit").arg(QFileInfo(elf).absoluteFilePath()));
}
#endif

} // namespace
