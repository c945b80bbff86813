#include "device/DeviceLink.h"

#include "device/BoardLock.h"

namespace tinyml {

namespace {
const int kMetaTypes = [] {
    qRegisterMetaType<StreamChunk>();
    qRegisterMetaType<StreamFormat>();
    qRegisterMetaType<DeviceLink::State>();
    qRegisterMetaType<StreamEndReason>();
    return 0;
}();
} // namespace

DeviceLink::DeviceLink(QObject *parent) : QObject(parent)
{
    (void)kMetaTypes;
}

DeviceLink::~DeviceLink()
{
    // Subclasses have already been destroyed here, so handleClosing() must not run:
    // just release the port.
    if (m_port) {
        m_port->disconnect(this);
        m_port->close();
    }
}

bool DeviceLink::open(QString *error)
{
    if (m_state == State::Open)
        return true;
    if (m_portName.isEmpty()) {
        if (error)
            *error = tr("no serial port given");
        return false;
    }
    // Two readers of one port each get part of the bytes: refuse, naming the other user.
    QList<qint64> shared;
    if (m_sharedWith > 0)
        shared << m_sharedWith;
    if (const auto user = portUser(m_portName, shared)) {
        const QString message = tr("port %1 is in use by %2").arg(m_portName, user->text());
        m_lastError = message;
        if (error)
            *error = message;
        return false;
    }
    delete m_port;
    m_port = new QSerialPort(this);
    m_port->setPortName(m_portName);
    if (!m_port->open(QIODevice::ReadWrite)) {
        QString message = tr("cannot open %1: %2").arg(m_portName, m_port->errorString());
        // Qt's own lock file (LCK..<port>) of another process, e.g. one of another user.
        if (m_port->error() == QSerialPort::PermissionError)
            if (const auto holder = portLockFileHolder(m_portName))
                message = tr("port %1 is in use by %2").arg(m_portName, holder->text());
        m_lastError = message;
        if (error)
            *error = message;
        delete m_port;
        m_port = nullptr;
        return false;
    }
    // A pty ignores these; a UART needs them. Failures on a pty are harmless.
    m_port->setBaudRate(m_baudRate);
    m_port->setDataBits(QSerialPort::Data8);
    m_port->setParity(QSerialPort::NoParity);
    m_port->setStopBits(QSerialPort::OneStop);
    m_port->setFlowControl(QSerialPort::NoFlowControl);
    m_port->clearError();
    connect(m_port, &QSerialPort::readyRead, this, &DeviceLink::onReadyRead);
    connect(m_port, &QSerialPort::errorOccurred, this, &DeviceLink::onPortError);
    m_stats = {};
    m_lastError.clear();
    setState(State::Open);
    handleOpened();
    return true;
}

void DeviceLink::close()
{
    if (!m_port)
        return;
    handleClosing();
    m_port->disconnect(this);
    m_port->close();
    m_port->deleteLater();
    m_port = nullptr;
    setState(State::Closed);
}

bool DeviceLink::send(const QByteArray &bytes, QString *error)
{
    if (!m_port || m_state != State::Open) {
        if (error)
            *error = tr("link to %1 is not open").arg(m_portName);
        return false;
    }
    const qint64 written = m_port->write(bytes);
    if (written != bytes.size()) {
        if (error)
            *error = tr("write to %1 failed: %2").arg(m_portName, m_port->errorString());
        return false;
    }
    m_stats.bytesSent += written;
    return true;
}

bool DeviceLink::startStream(const StreamRequest &, QString *error)
{
    if (error)
        *error = tr("this link does not stream sensor data");
    return false;
}

void DeviceLink::stopStream() {}

void DeviceLink::setState(State state)
{
    if (m_state == state)
        return;
    m_state = state;
    Q_EMIT stateChanged(state);
}

void DeviceLink::reportLinkError(const QString &message)
{
    m_lastError = message;
    Q_EMIT linkError(message);
}

void DeviceLink::onReadyRead()
{
    if (!m_port)
        return;
    const QByteArray bytes = m_port->readAll();
    if (bytes.isEmpty())
        return;
    m_stats.bytesReceived += bytes.size();
    Q_EMIT dataReceived(bytes);
    handleBytes(bytes);
}

void DeviceLink::onPortError(QSerialPort::SerialPortError portError)
{
    if (portError == QSerialPort::NoError || !m_port)
        return;
    const QString message = m_port->errorString();
    // A pty whose other end closed reads EIO, which Qt reports as ResourceError (some
    // versions as ReadError); either way the device is gone and reads would spin.
    if (portError == QSerialPort::ResourceError || portError == QSerialPort::ReadError) {
        // Drain what the device sent before it vanished: it belongs to the capture.
        const QByteArray rest = m_port->readAll();
        if (!rest.isEmpty()) {
            m_stats.bytesReceived += rest.size();
            Q_EMIT dataReceived(rest);
            handleBytes(rest);
        }
        const QString lost = tr("connection to %1 lost: %2").arg(m_portName, message);
        m_lastError = lost;
        close();
        setState(State::Failed);
        Q_EMIT connectionLost(lost);
        return;
    }
    m_port->clearError();
    reportLinkError(tr("%1: %2").arg(m_portName, message));
}

} // namespace tinyml
