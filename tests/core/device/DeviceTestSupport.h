#pragma once
// Test support for the device tests: a QCoreApplication for event loops, and a real
// pseudo-terminal pair whose master end plays the device (no mocks: the link under test
// opens the slave with QSerialPort exactly as it opens a USB CDC port).

#include <QByteArray>
#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QObject>
#include <QSocketNotifier>
#include <QString>
#include <QThread>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>

namespace tinyml::test {

class QtApplicationEnvironment : public ::testing::Environment
{
public:
    void SetUp() override
    {
        if (!QCoreApplication::instance()) {
            static int argc = 1;
            static char name[] = "tinyml-device-tests";
            static char *argv[] = {name, nullptr};
            m_app = new QCoreApplication(argc, argv);
        }
    }
    void TearDown() override
    {
        delete m_app;
        m_app = nullptr;
    }

private:
    QCoreApplication *m_app = nullptr;
};

/// Spins the event loop until pred() holds or timeoutMs passes. Returns pred().
inline bool waitUntil(const std::function<bool()> &pred, int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    while (!pred()) {
        if (deadline.hasExpired())
            return false;
        QCoreApplication::processEvents(QEventLoop::AllEvents, 10);
        if (!pred())
            QThread::usleep(200);
    }
    return true;
}

/// The device end of a pty. Writes are queued and flushed as the pty accepts them, so a
/// large write never blocks the event loop that the link under test needs to read.
class PtyDevice : public QObject
{
public:
    PtyDevice()
    {
        m_master = posix_openpt(O_RDWR | O_NOCTTY);
        if (m_master < 0 || grantpt(m_master) != 0 || unlockpt(m_master) != 0)
            return;
        m_slavePath = QString::fromLocal8Bit(ptsname(m_master));
        fcntl(m_master, F_SETFL, fcntl(m_master, F_GETFL) | O_NONBLOCK);
        // Raw from the start, so nothing written before the link configures it is cooked.
        const int slave = ::open(ptsname(m_master), O_RDWR | O_NOCTTY);
        if (slave >= 0) {
            termios t;
            tcgetattr(slave, &t);
            cfmakeraw(&t);
            tcsetattr(slave, TCSANOW, &t);
            ::close(slave);
        }
        m_readNotifier = new QSocketNotifier(m_master, QSocketNotifier::Read, this);
        connect(m_readNotifier, &QSocketNotifier::activated, this, [this] { readAvailable(); });
        m_writeNotifier = new QSocketNotifier(m_master, QSocketNotifier::Write, this);
        m_writeNotifier->setEnabled(false);
        connect(m_writeNotifier, &QSocketNotifier::activated, this, [this] { flush(); });
    }
    ~PtyDevice() override { closeMaster(); }

    bool isValid() const { return m_master >= 0 && !m_slavePath.isEmpty(); }
    QString slavePath() const { return m_slavePath; }

    void write(const QByteArray &bytes)
    {
        m_pending += bytes;
        flush();
    }
    bool allWritten() const { return m_pending.isEmpty(); }
    QByteArray received() const { return m_received; }
    QByteArray takeReceived() { QByteArray r = m_received; m_received.clear(); return r; }
    /// Called with every chunk the link writes (the scripted device's brain).
    std::function<void(const QByteArray &)> onReceived;

    /// Unplugs the "board": the slave reads EIO from now on.
    void closeMaster()
    {
        delete m_readNotifier;
        m_readNotifier = nullptr;
        delete m_writeNotifier;
        m_writeNotifier = nullptr;
        if (m_master >= 0)
            ::close(m_master);
        m_master = -1;
    }

private:
    void readAvailable()
    {
        char buf[4096];
        for (;;) {
            const ssize_t n = ::read(m_master, buf, sizeof buf);
            if (n <= 0)
                break;
            const QByteArray chunk(buf, int(n));
            m_received += chunk;
            if (onReceived)
                onReceived(chunk);
        }
    }
    void flush()
    {
        while (!m_pending.isEmpty() && m_master >= 0) {
            const ssize_t n = ::write(m_master, m_pending.constData(), size_t(m_pending.size()));
            if (n <= 0)
                break;
            m_pending.remove(0, n);
        }
        if (m_writeNotifier)
            m_writeNotifier->setEnabled(!m_pending.isEmpty());
    }

    int m_master = -1;
    QString m_slavePath;
    QSocketNotifier *m_readNotifier = nullptr;
    QSocketNotifier *m_writeNotifier = nullptr;
    QByteArray m_pending;
    QByteArray m_received;
};

} // namespace tinyml::test
