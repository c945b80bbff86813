// Integration: the real agent over a real pty, as the host agent program and on QEMU.
// These must run wherever the project builds: a missing agent binary, image or QEMU
// fails the test with the message that says how to get it; nothing is skipped.

#include "DeviceTestSupport.h"

#include "device/BoardRegistry.h"
#include "device/CaptureSession.h"
#include "device/VirtualBoard.h"
#include "store/ProjectStore.h"

#include "tm_frame.h"
#include "tm_protocol.h"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QTemporaryDir>
#include <QTimer>

#include <csignal>
#include <cstdio>

using namespace tinyml;
using namespace tinyml::test;

namespace {

const BoardDefinition &board(const QString &id)
{
    static BoardRegistry registry = [] {
        BoardRegistry r;
        QString error;
        EXPECT_TRUE(r.loadDefault(&error)) << error.toStdString();
        return r;
    }();
    static BoardDefinition missing;
    const BoardDefinition *b = registry.board(id);
    EXPECT_TRUE(b) << "no board " << id.toStdString();
    return b ? *b : missing;
}

class VirtualBoardTest : public ::testing::TestWithParam<const char *>
{
protected:
    std::unique_ptr<VirtualBoard> startBoard(bool realtime = false)
    {
        VirtualBoard::Options options;
        options.stateDirectory = m_state.path();
        options.realtime = realtime;
        auto vb = std::make_unique<VirtualBoard>(board(QString::fromLatin1(GetParam())), options);
        QString error;
        QElapsedTimer t;
        t.start();
        const bool ok = vb->start(&error);
        EXPECT_TRUE(ok) << error.toStdString();
        if (!ok)
            return nullptr;
        std::printf("[ board    ] %s up in %lld ms on %s\n", GetParam(), t.elapsed(),
                    qPrintable(vb->ptyPath()));
        return vb;
    }
    QTemporaryDir m_state;
};

std::string boardName(const ::testing::TestParamInfo<const char *> &info)
{
    return QString::fromLatin1(info.param).remove(QLatin1Char('-')).toStdString();
}

} // namespace

TEST_P(VirtualBoardTest, HelloAndInfo)
{
    auto vb = startBoard();
    ASSERT_TRUE(vb);
    const DeviceInfo &info = vb->link()->info();
    // BOARD_ID may be the registry id or the agent port name; both resolve to this board.
    BoardRegistry registry;
    QString loadError;
    ASSERT_TRUE(registry.loadDefault(&loadError)) << loadError.toStdString();
    const BoardDefinition *reported = registry.boardForAgentId(info.boardId);
    ASSERT_TRUE(reported) << "unknown BOARD_ID " << info.boardId.toStdString();
    EXPECT_EQ(reported->id, QString::fromLatin1(GetParam()));
    EXPECT_EQ(vb->link()->deviceId(), QString::fromLatin1(GetParam()));
    EXPECT_EQ(info.protocolVersion, int(TM_PROTOCOL_VERSION));
    EXPECT_FALSE(info.agentVersion.isEmpty());
    EXPECT_TRUE(info.hasCapability(TM_CAP_STREAMING));
    const DeviceSensorInfo *accel = info.sensorByName(QStringLiteral("accel"));
    ASSERT_TRUE(accel);
    EXPECT_EQ(accel->channelCount, 3);
    EXPECT_GE(accel->maxRateHz, 1000u);
    if (QString::fromLatin1(GetParam()).startsWith(QLatin1String("qemu"))) {
        EXPECT_EQ(info.counterKindName(), QStringLiteral("instructions"));
        EXPECT_EQ(info.counterResolution, 40u);
        EXPECT_EQ(info.clockHz, 25000000u);
    } else {
        EXPECT_EQ(info.counterKindName(), QStringLiteral("microseconds"));
    }
    QString error;
    EXPECT_TRUE(vb->link()->ping(QByteArrayLiteral("ping"), &error)) << error.toStdString();
    EXPECT_TRUE(vb->link()->refreshInfo(&error)) << error.toStdString();
}

TEST_P(VirtualBoardTest, SixtySecondsAt1kHzWithoutLoss)
{
    auto vb = startBoard();
    ASSERT_TRUE(vb);
    AgentLink *link = vb->link();
    qint64 frames = 0;
    qint64 lostInChunks = 0;
    qint64 nextIndex = 0;
    bool contiguous = true;
    bool ended = false;
    StreamEndReason reason = StreamEndReason::LinkLost;
    QObject::connect(link, &DeviceLink::streamChunk, [&](const StreamChunk &c) {
        contiguous = contiguous && c.firstIndex == nextIndex;
        nextIndex = c.firstIndex + c.frames();
        frames += c.frames();
        lostInChunks += c.lostBefore;
        EXPECT_EQ(c.data.shape.value(1), 3);
    });
    QObject::connect(link, &DeviceLink::streamEnded, [&](StreamEndReason r, qint64) { ended = true; reason = r; });
    QElapsedTimer t;
    t.start();
    QString error;
    ASSERT_TRUE(link->startStream({QStringLiteral("accel"), 1000, 60000}, &error)) << error.toStdString();
    ASSERT_TRUE(waitUntil([&] { return ended; }, 110000)) << "stream did not end; frames " << frames;
    std::printf("[ stream   ] %s: 60000 x 3 at 1 kHz in %.2f s (%.0f samples/s, %lld bytes)\n",
                GetParam(), t.nsecsElapsed() / 1e9, 60000 / (t.nsecsElapsed() / 1e9),
                link->statistics().bytesReceived);
    EXPECT_EQ(reason, StreamEndReason::Complete);
    EXPECT_EQ(frames, 60000);
    EXPECT_TRUE(contiguous);
    EXPECT_EQ(lostInChunks, 0);
    EXPECT_EQ(link->statistics().samplesLost, 0);
    EXPECT_EQ(link->statistics().decoderErrors(), 0);
}

TEST_P(VirtualBoardTest, InjectedGarbageAndCorruptFrameAreReportedAndTheLinkSurvives)
{
    auto vb = startBoard();
    ASSERT_TRUE(vb);
    AgentLink *link = vb->link();
    QVector<int> codes;
    QObject::connect(link, &AgentLink::deviceErrorReported, [&](int code, const QString &) { codes << code; });
    // Garbage, then a PING frame with one payload bit flipped (bad CRC).
    QByteArray corrupt = encodeAgentFrame(77, TM_OP_PING, QByteArrayLiteral("corrupt me"));
    corrupt[5] = char(corrupt[5] ^ 0x04);
    QString error;
    ASSERT_TRUE(link->send(QByteArrayLiteral("\x13\x37garbage bytes\xff\xfe") + corrupt, &error));
    ASSERT_TRUE(waitUntil([&] { return !codes.isEmpty(); }, 3000)) << "no unsolicited ERROR from the agent";
    EXPECT_TRUE(codes.contains(int(TM_ERR_BAD_CRC)) || codes.contains(int(TM_ERR_BAD_LENGTH)));
    EXPECT_GE(link->statistics().deviceErrors, 1);
    EXPECT_TRUE(link->ping(QByteArrayLiteral("still alive"), &error)) << error.toStdString();
}

TEST_P(VirtualBoardTest, LinkTestBadFrameIsCountedAndTheHostResynchronises)
{
    auto vb = startBoard();
    ASSERT_TRUE(vb);
    AgentLink *link = vb->link();
    QString error;
    ASSERT_TRUE(link->linkTest(64, &error)) << error.toStdString();
    EXPECT_GE(link->statistics().decoderErrors(), 1);
    EXPECT_TRUE(link->ping(QByteArrayLiteral("after link test"), &error)) << error.toStdString();
    EXPECT_TRUE(link->ping(QByteArray(1000, '\0'), &error)) << error.toStdString();
}

TEST_P(VirtualBoardTest, CaptureFiveSecondsAt100HzIntoAProject)
{
    auto vb = startBoard();
    ASSERT_TRUE(vb);
    QTemporaryDir dir;
    QString error;
    ProjectSettings settings;
    settings.name = QStringLiteral("capture");
    auto store = ProjectStore::create(dir.filePath(QStringLiteral("capture.tinyml")), settings, &error);
    ASSERT_TRUE(store) << error.toStdString();
    CaptureOptions options;
    options.label = QStringLiteral("wave");
    options.sensor = QStringLiteral("accel");
    options.rateHz = 100;
    options.durationS = 5;
    options.count = 2;
    CaptureSession capture(vb->link(), store.get(), options);
    ASSERT_TRUE(capture.run(60000, &error)) << error.toStdString();
    const CaptureResult &r = capture.result();
    std::printf("[ capture  ] %s: %lld frames, %lld lost, %lld bytes, %.2f s\n", GetParam(),
                r.framesReceived, r.framesLost, r.bytesReceived, r.seconds);
    EXPECT_EQ(r.framesReceived, 1000);
    EXPECT_EQ(r.framesLost, 0);
    ASSERT_EQ(r.sampleIds.size(), 2);
    for (qint64 id : r.sampleIds) {
        auto s = store->sample(id, &error);
        ASSERT_TRUE(s) << error.toStdString();
        EXPECT_EQ(s->data.shape, (QVector<qint64>{500, 3}));
        EXPECT_TRUE(s->complete);
        EXPECT_EQ(s->label, QStringLiteral("wave"));
        EXPECT_EQ(s->sampleRateHz, 100.0);
        EXPECT_EQ(s->channels.size(), 3);
        EXPECT_EQ(s->source, QStringLiteral("device:%1").arg(QString::fromLatin1(GetParam())));
    }
}

TEST_P(VirtualBoardTest, BoardKilledMidCaptureKeepsAnIncompleteSample)
{
    auto vb = startBoard(/*realtime=*/true);
    ASSERT_TRUE(vb);
    QTemporaryDir dir;
    QString error;
    auto store = ProjectStore::create(dir.filePath(QStringLiteral("unplug.tinyml")), ProjectSettings(), &error);
    ASSERT_TRUE(store) << error.toStdString();
    CaptureOptions options;
    options.label = QStringLiteral("idle");
    options.sensor = QStringLiteral("accel");
    options.rateHz = 100;
    options.durationS = 30;
    CaptureSession capture(vb->link(), store.get(), options);
    bool finished = false;
    QObject::connect(&capture, &CaptureSession::finished, [&](const CaptureResult &) { finished = true; });
    ASSERT_TRUE(capture.start(&error)) << error.toStdString();
    ASSERT_TRUE(waitUntil([&] { return capture.result().framesReceived >= 100; }, 20000));
    ASSERT_EQ(::kill(pid_t(vb->processId()), SIGKILL), 0);
    ASSERT_TRUE(waitUntil([&] { return finished; }, 10000)) << "capture did not notice the board died";
    const CaptureResult &r = capture.result();
    EXPECT_FALSE(r.complete);
    EXPECT_TRUE(r.error.contains(QStringLiteral("board lost"))) << r.error.toStdString();
    ASSERT_EQ(r.sampleIds.size(), 1);
    auto s = store->sample(r.sampleIds.first(), &error);
    ASSERT_TRUE(s) << error.toStdString();
    EXPECT_FALSE(s->complete);
    EXPECT_GE(s->frames(), 100);
    EXPECT_EQ(s->frames(), r.framesReceived);
    EXPECT_LT(s->frames(), 3000);
    vb.reset(); // reaps the killed process; no zombie left
}

INSTANTIATE_TEST_SUITE_P(Boards, VirtualBoardTest, ::testing::Values("host", "qemu-m4"), boardName);

TEST(VirtualBoardM7, HelloAndInfo)
{
    QTemporaryDir state;
    VirtualBoard::Options options;
    options.stateDirectory = state.path();
    VirtualBoard vb(board(QStringLiteral("qemu-m7")), options);
    QString error;
    ASSERT_TRUE(vb.start(&error)) << error.toStdString();
    EXPECT_EQ(vb.link()->deviceId(), QStringLiteral("qemu-m7"));
    EXPECT_EQ(vb.link()->info().cpu, QStringLiteral("cortex-m7"));
    EXPECT_EQ(vb.link()->info().counterKindName(), QStringLiteral("instructions"));
}

TEST(VirtualBoardErrors, MissingQemuAndImageSayHowToFixIt)
{
    VirtualBoard::Options options;
    options.qemuProgram = QStringLiteral("qemu-system-arm-does-not-exist");
    QTemporaryDir state;
    options.stateDirectory = state.path();
    VirtualBoard noQemu(board(QStringLiteral("qemu-m4")), options);
    QString error;
    EXPECT_FALSE(noQemu.start(&error));
    EXPECT_TRUE(error.contains(QStringLiteral("apt-get install qemu-system-arm"))) << error.toStdString();

    BoardDefinition ghost = board(QStringLiteral("qemu-m4"));
    ghost.agentImage = QStringLiteral("no-such-port/tinyml-agent.elf");
    VirtualBoard noImage(ghost, VirtualBoard::Options{state.path()});
    EXPECT_FALSE(noImage.start(&error));
    EXPECT_TRUE(error.contains(QStringLiteral("no-such-port/tinyml-agent.elf"))) << error.toStdString();
    EXPECT_TRUE(error.contains(QStringLiteral("tinyml-agent-firmware"))) << error.toStdString();
}

TEST(VirtualBoardLifecycle, DestroyingTheBoardLeavesNoProcess)
{
    qint64 pid = 0;
    {
        QTemporaryDir state;
        VirtualBoard::Options options;
        options.stateDirectory = state.path();
        VirtualBoard vb(board(QStringLiteral("qemu-m4")), options);
        QString error;
        ASSERT_TRUE(vb.start(&error)) << error.toStdString();
        pid = vb.processId();
        ASSERT_GT(pid, 0);
    }
    // Reaped: no process, not even a zombie, has that pid now.
    EXPECT_NE(::kill(pid_t(pid), 0), 0);
}

// The GUI starts boards with startAsync(): the event loop must keep running while QEMU boots
// and the agent answers HELLO, and a second click must not launch a second QEMU.
TEST(VirtualBoardAsync, StartsWithoutBlockingTheEventLoopAndOnlyOnce)
{
    QTemporaryDir state;
    VirtualBoard::Options options;
    options.stateDirectory = state.path();
    VirtualBoard vb(board(QStringLiteral("qemu-m4")), options);
    int startedCount = 0;
    QStringList failures;
    QEventLoop loop;
    QString pingError;
    bool pinged = false;
    QObject::connect(&vb, &VirtualBoard::started, &loop, [&] {
        ++startedCount;
        // A receiver may make blocking requests at once (the GUI sets the scenario and
        // starts the preview): started() must not arrive from inside the link's parsing.
        pinged = vb.link()->ping(QByteArrayLiteral("after started()"), &pingError);
        loop.quit();
    });
    QObject::connect(&vb, &VirtualBoard::failed, &loop, [&](const QString &m) {
        failures << m;
        loop.quit();
    });
    int ticks = 0;
    int ticksWhileStarting = 0;
    QTimer ticker;
    QObject::connect(&ticker, &QTimer::timeout, [&] {
        ++ticks;
        if (vb.isStarting())
            ++ticksWhileStarting;
    });
    ticker.start(5);

    QElapsedTimer t;
    t.start();
    ASSERT_TRUE(vb.startAsync());
    const qint64 returnedAfter = t.elapsed();
    EXPECT_TRUE(vb.isStarting());
    EXPECT_FALSE(vb.isRunning());
    EXPECT_EQ(vb.link(), nullptr);
    // A second start while the first runs is refused and launches nothing.
    EXPECT_FALSE(vb.startAsync());
    const qint64 pid = vb.processId();
    QTimer::singleShot(30000, &loop, &QEventLoop::quit);
    loop.exec();
    const qint64 bootMs = t.elapsed();
    ASSERT_TRUE(failures.isEmpty()) << failures.join(QLatin1Char('\n')).toStdString();
    ASSERT_EQ(startedCount, 1) << "no started() within 30 s";
    std::printf("[ async    ] startAsync returned after %lld ms, started() after %lld ms, %d ticks (%d while starting)\n",
                returnedAfter, bootMs, ticks, ticksWhileStarting);
    EXPECT_LT(returnedAfter, 200);
    // A start that blocked would let no tick through before started(); one at 5 ms a tick
    // over a boot of 50 ms or more gives several.
    EXPECT_GE(ticksWhileStarting, 2) << "the event loop did not run while the board booted";
    EXPECT_EQ(vb.processId(), pid) << "a second process replaced the first";
    EXPECT_TRUE(pinged) << pingError.toStdString();
    EXPECT_TRUE(vb.isRunning());
    EXPECT_FALSE(vb.isStarting());
    ASSERT_NE(vb.link(), nullptr);
    EXPECT_TRUE(vb.link()->info().cpu.startsWith(QStringLiteral("cortex-m4"))) << vb.link()->info().cpu.toStdString();
    EXPECT_EQ(vb.link()->info().counterKindName(), QStringLiteral("instructions"));
    // Running: another startAsync does nothing and emits nothing.
    EXPECT_FALSE(vb.startAsync());
    QCoreApplication::processEvents();
    EXPECT_EQ(startedCount, 1);
    EXPECT_TRUE(failures.isEmpty());
}

TEST(VirtualBoardAsync, MissingQemuGivesFailedWithTheInstallCommand)
{
    QTemporaryDir state;
    VirtualBoard::Options options;
    options.qemuProgram = QStringLiteral("qemu-system-arm-does-not-exist");
    options.stateDirectory = state.path();
    VirtualBoard vb(board(QStringLiteral("qemu-m4")), options);
    QStringList failures;
    int startedCount = 0;
    QObject::connect(&vb, &VirtualBoard::started, [&] { ++startedCount; });
    QObject::connect(&vb, &VirtualBoard::failed, [&](const QString &m) { failures << m; });
    ASSERT_TRUE(vb.startAsync());
    // Never from inside startAsync(): the caller hears the outcome from the event loop.
    EXPECT_TRUE(failures.isEmpty());
    QElapsedTimer t;
    t.start();
    while (failures.isEmpty() && t.elapsed() < 5000)
        QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 50);
    ASSERT_EQ(failures.size(), 1);
    EXPECT_TRUE(failures.first().contains(QStringLiteral("apt-get install qemu-system-arm")))
        << failures.first().toStdString();
    EXPECT_EQ(startedCount, 0);
    EXPECT_FALSE(vb.isStarting());
    EXPECT_FALSE(vb.isRunning());
}

TEST(VirtualBoardAsync, StopDuringStartCancelsAndLeavesNoProcess)
{
    QTemporaryDir state;
    VirtualBoard::Options options;
    options.stateDirectory = state.path();
    VirtualBoard vb(board(QStringLiteral("qemu-m4")), options);
    QStringList failures;
    int startedCount = 0;
    QObject::connect(&vb, &VirtualBoard::started, [&] { ++startedCount; });
    QObject::connect(&vb, &VirtualBoard::failed, [&](const QString &m) { failures << m; });
    ASSERT_TRUE(vb.startAsync());
    // Let QEMU get going (the pid exists once the process has started).
    QElapsedTimer t;
    t.start();
    while (vb.processId() <= 0 && t.elapsed() < 5000)
        QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 10);
    const qint64 pid = vb.processId();
    ASSERT_GT(pid, 0);
    ASSERT_TRUE(vb.isStarting());
    vb.stop();
    ASSERT_EQ(failures.size(), 1);
    EXPECT_TRUE(failures.first().contains(QStringLiteral("start cancelled"))) << failures.first().toStdString();
    EXPECT_NE(::kill(pid_t(pid), 0), 0) << "QEMU outlived the cancelled start";
    // Nothing of the cancelled start arrives later.
    t.restart();
    while (t.elapsed() < 1500)
        QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 50);
    EXPECT_EQ(startedCount, 0);
    EXPECT_EQ(failures.size(), 1);
    // And the board can start again afterwards.
    QString error;
    EXPECT_TRUE(vb.start(&error)) << error.toStdString();
}

TEST(VirtualBoardAsync, EmulatorThatCannotRunOrExitsEarlyGivesFailedWithWhy)
{
    QTemporaryDir state;
    auto failureOf = [&](const QString &program) {
        VirtualBoard::Options options;
        options.qemuProgram = program;
        options.stateDirectory = state.path();
        VirtualBoard vb(board(QStringLiteral("qemu-m4")), options);
        QStringList failures;
        QObject::connect(&vb, &VirtualBoard::failed, [&](const QString &m) { failures << m; });
        EXPECT_TRUE(vb.startAsync());
        EXPECT_TRUE(failures.isEmpty()) << "failed() came from inside startAsync()";
        QElapsedTimer t;
        t.start();
        while (failures.isEmpty() && t.elapsed() < 10000)
            QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 50);
        EXPECT_EQ(failures.size(), 1);
        EXPECT_FALSE(vb.isStarting());
        return failures.value(0);
    };
    // Executable but not a program: exec fails.
    const QString notAProgram = state.filePath(QStringLiteral("not-a-program"));
    {
        QFile f(notAProgram);
        ASSERT_TRUE(f.open(QIODevice::WriteOnly));
        f.write(QByteArray(64, '\0'));
    }
    QFile::setPermissions(notAProgram, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
    const QString cannot = failureOf(notAProgram);
    EXPECT_TRUE(cannot.startsWith(QStringLiteral("cannot start ") + notAProgram)) << cannot.toStdString();

    // Runs, prints something else and exits: the message carries its code and output.
    const QString quitter = state.filePath(QStringLiteral("quits-early"));
    {
        QFile f(quitter);
        ASSERT_TRUE(f.open(QIODevice::WriteOnly));
        f.write("#!/bin/sh\necho no pty for you\nexit 3\n");
    }
    QFile::setPermissions(quitter, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
    const QString early = failureOf(quitter);
    EXPECT_TRUE(early.contains(QStringLiteral("exited (code 3) without printing its pty path"))) << early.toStdString();
    EXPECT_TRUE(early.contains(QStringLiteral("no pty for you"))) << early.toStdString();
}
