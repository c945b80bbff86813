// Issue 18, item 7: `tinyml capture --protocol lines` on a board that prints garbage must
// store nothing and say why; a stream that does not fit the project is refused; a short or
// gappy recording is kept as incomplete. The "board" is the master end of a real pty that this
// test writes to while the real CLI reads the slave end, as it would read a USB CDC port.
#include <gtest/gtest.h>

#include "CliRunner.h"
#include "store/ProjectStore.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>
#include <QThread>

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <functional>
#include <random>

using namespace tinyml;
using namespace tinyml::e2e;

namespace {

/// The board's end of a pty: raw, non-blocking; what the pty cannot take now is dropped
/// (a real UART drops bytes nobody reads, too).
class LineBoard
{
public:
    LineBoard()
    {
        m_master = posix_openpt(O_RDWR | O_NOCTTY);
        if (m_master < 0 || grantpt(m_master) != 0 || unlockpt(m_master) != 0)
            return;
        m_slave = QString::fromLocal8Bit(ptsname(m_master));
        fcntl(m_master, F_SETFL, fcntl(m_master, F_GETFL) | O_NONBLOCK);
        // The CLI started by QProcess must not inherit the master: a copy left open in the
        // child would keep the pty alive after unplug() and hide the hang-up from it.
        fcntl(m_master, F_SETFD, fcntl(m_master, F_GETFD) | FD_CLOEXEC);
        const int slave = ::open(ptsname(m_master), O_RDWR | O_NOCTTY);
        if (slave >= 0) {
            termios t;
            tcgetattr(slave, &t);
            cfmakeraw(&t);
            tcsetattr(slave, TCSANOW, &t);
            ::close(slave);
        }
    }
    ~LineBoard() { unplug(); }
    bool isValid() const { return m_master >= 0 && !m_slave.isEmpty(); }
    QString slavePath() const { return m_slave; }
    void write(const QByteArray &bytes)
    {
        qsizetype done = 0;
        while (m_master >= 0 && done < bytes.size()) {
            const ssize_t n = ::write(m_master, bytes.constData() + done, size_t(bytes.size() - done));
            if (n <= 0) {
                if (n < 0 && errno == EINTR)
                    continue;
                return;
            }
            done += n;
        }
    }
    /// The board goes away: the reader gets a hang-up.
    void unplug()
    {
        if (m_master >= 0)
            ::close(m_master);
        m_master = -1;
    }
    /// Whether process pid has the slave end open (the CLI opened the port).
    bool openedBy(qint64 pid) const
    {
        const QDir fds(QStringLiteral("/proc/%1/fd").arg(pid));
        for (const QString &fd : fds.entryList(QDir::NoDotAndDotDot | QDir::System | QDir::Files))
            if (QFileInfo(fds.filePath(fd)).symLinkTarget() == m_slave)
                return true;
        return false;
    }

private:
    int m_master = -1;
    QString m_slave;
};

class CliCaptureLines : public ::testing::Test {
protected:
    void SetUp() override
    {
        ASSERT_TRUE(board.isValid());
        proj = tmp.filePath(QStringLiteral("motion.tinyml"));
        // motion: a 3-axis accelerometer at 100 Hz, 2 s samples
        ASSERT_EQ(tinymlRun({"new", proj, "--template", "motion"}).exitCode, 0);
    }

    /// Runs `tinyml capture PROJECT --port <pty> --protocol lines --label x` + extra. Once the
    /// CLI has the port open, feed(step) is written every 2 ms for steps 0..steps-1; then the
    /// board is unplugged when unplugAfter is set, else it stays silent until the CLI exits.
    CliRun capture(const QStringList &extra, const std::function<QByteArray(int)> &feed, int steps,
                   bool unplugAfter)
    {
        QProcess p;
        p.start(QStringLiteral(TINYML_CLI),
                QStringList{"capture", proj, "--port", board.slavePath(), "--protocol", "lines", "--label", "x"} + extra);
        CliRun r;
        if (!p.waitForStarted(10000))
            return r;
        QElapsedTimer clock;
        clock.start();
        while (!board.openedBy(p.processId()) && p.state() == QProcess::Running && clock.elapsed() < 20000)
            p.waitForFinished(20);
        // The CLI clears what arrived before its stream started (right after the open).
        p.waitForFinished(500);
        int step = 0;
        while (p.state() == QProcess::Running && clock.elapsed() < 90000) {
            if (step < steps) {
                board.write(feed(step));
                ++step;
            } else if (unplugAfter) {
                board.unplug();
            }
            p.waitForFinished(2);
        }
        if (p.state() == QProcess::Running) {
            p.kill();
            p.waitForFinished(5000);
        }
        r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
        r.out = QString::fromUtf8(p.readAllStandardOutput());
        r.err = QString::fromUtf8(p.readAllStandardError());
        return r;
    }

    QVector<SampleInfo> samples() const
    {
        QString error;
        auto store = ProjectStore::open(proj, &error);
        EXPECT_TRUE(store) << error.toStdString();
        return store ? store->sampleInfos() : QVector<SampleInfo>{};
    }

    static QByteArray motionLine(int i)
    {
        return QByteArray::number(0.01 * i) + "," + QByteArray::number(-0.5 + 0.001 * i) + ",9.81\n";
    }

    LineBoard board;
    QTemporaryDir tmp;
    QString proj;
};

} // namespace

TEST_F(CliCaptureLines, RandomBytesStoreNothingAndSaySo)
{
    std::mt19937 rng(18);
    CliRun r = capture({"--seconds", "1"}, [&](int) {
        QByteArray junk(512, '\0');
        for (char &c : junk)
            c = char(rng() & 0xff);
        return junk;
    }, 5000, false);
    EXPECT_NE(r.exitCode, 0);
    EXPECT_NE(r.exitCode, -1) << "the capture did not end by itself";
    EXPECT_TRUE(r.err.contains("does not print lines of numbers")) << r.err.toStdString();
    EXPECT_TRUE(r.err.contains("Nothing stored")) << r.err.toStdString();
    EXPECT_TRUE(samples().isEmpty());
}

TEST_F(CliCaptureLines, TwoColumnsAreRefusedByAThreeAxisProject)
{
    CliRun r = capture({"--seconds", "1"}, [](int i) { return QByteArray::number(i) + ",2\n"; }, 400, false);
    EXPECT_NE(r.exitCode, 0);
    EXPECT_TRUE(r.err.contains("does not fit the project (channels)")) << r.err.toStdString();
    EXPECT_TRUE(r.err.contains("2 channels, but this motion project takes 3 channels")) << r.err.toStdString();
    EXPECT_TRUE(r.err.contains("nothing stored")) << r.err.toStdString();
    EXPECT_TRUE(samples().isEmpty());
}

TEST_F(CliCaptureLines, AFewLinesThenUnpluggedStoreNothing)
{
    // 6 lines, the first taken as partial: 5 well-formed lines, fewer than the 10 needed.
    CliRun r = capture({"--seconds", "1"}, [](int i) { return motionLine(i); }, 6, true);
    EXPECT_NE(r.exitCode, 0);
    EXPECT_NE(r.exitCode, -1) << "the capture did not notice the board left";
    EXPECT_TRUE(r.err.contains("board lost")) << r.err.toStdString();
    EXPECT_TRUE(r.err.contains("nothing stored")) << r.err.toStdString();
    EXPECT_TRUE(samples().isEmpty());
}

TEST_F(CliCaptureLines, AShortRecordingIsKeptAsIncomplete)
{
    CliRun r = capture({}, [](int i) { return motionLine(i); }, 60, true);
    EXPECT_NE(r.exitCode, 0);
    EXPECT_TRUE(r.err.contains("board lost")) << r.err.toStdString();
    EXPECT_TRUE(r.err.contains("stored sample")) << r.err.toStdString();
    const QVector<SampleInfo> s = samples();
    ASSERT_EQ(s.size(), 1);
    EXPECT_FALSE(s[0].complete);
    EXPECT_GE(s[0].frames, 10);
    EXPECT_LT(s[0].frames, 60);
    EXPECT_EQ(s[0].channels.size(), 3);
}

TEST_F(CliCaptureLines, GoodLinesMakeACompleteSampleAndGapsMakeItIncomplete)
{
    CliRun r = capture({"--json"}, [](int i) { return motionLine(i); }, 400, false);
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_EQ(r.json()["frames_received"].toInt(), 200);
    EXPECT_EQ(r.json()["frames_lost"].toInt(), 0);
    QVector<SampleInfo> s = samples();
    ASSERT_EQ(s.size(), 1);
    EXPECT_TRUE(s[0].complete);
    EXPECT_EQ(s[0].frames, 200);
    EXPECT_DOUBLE_EQ(s[0].sampleRateHz, 100.0);

    // Three lines of text in the middle of the recording are frames missing from it.
    r = capture({"--json"}, [](int i) { return i == 50 ? QByteArray("ERR\nERR\nsensor reset\n") : motionLine(i); },
                400, false);
    EXPECT_NE(r.exitCode, 0);
    EXPECT_EQ(r.json()["frames_lost"].toInt(), 3) << r.out.toStdString();
    EXPECT_TRUE(r.json()["error"].toString().contains("3 malformed lines")) << r.out.toStdString();
    s = samples();
    ASSERT_EQ(s.size(), 2);
    EXPECT_FALSE(s[1].complete);
    EXPECT_EQ(s[1].frames, 200);
}
