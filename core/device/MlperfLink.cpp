#include "device/MlperfLink.h"

#include <QEventLoop>
#include <QPointer>
#include <QTimer>

namespace tinyml {

MlperfLink::MlperfLink(QObject *parent) : DeviceLink(parent) {}

void MlperfLink::handleBytes(const QByteArray &bytes)
{
    m_buffer.append(bytes);
    qsizetype nl;
    while ((nl = m_buffer.indexOf('\n')) >= 0) {
        QByteArray raw = m_buffer.left(nl);
        m_buffer.remove(0, nl + 1);
        // A DUT that also speaks a binary protocol may leave 0x00 and frame bytes on the
        // line: keep only the text from the last NUL on.
        const qsizetype nul = raw.lastIndexOf('\0');
        if (nul >= 0)
            raw = raw.mid(nul + 1);
        const QString line = QString::fromLatin1(raw).trimmed();
        if (line.isEmpty())
            continue;
        ++m_stats.framesReceived;
        Q_EMIT lineReceived(line);
        if (!m_waiting)
            continue;
        if (line == QLatin1String("m-ready")) {
            m_ready = true;
            continue;
        }
        if (auto e = bracketValue(line, QStringLiteral("e")); e) {
            m_current.errors << *e;
        } else if (line.startsWith(QLatin1String("e-"))) {
            m_current.errors << line.mid(2);
        }
        m_current.lines << line;
    }
    if (m_buffer.size() > 65536) { // a DUT that never sends a newline
        m_buffer.clear();
        ++m_stats.malformedLines;
    }
}

std::optional<MlperfReply> MlperfLink::command(const QString &cmd, int timeoutMs, QString *error)
{
    m_current = {};
    m_ready = false;
    m_waiting = true;
    m_buffer.clear();
    QString sendError;
    // The leading NUL ends any half-received text command on the DUT side.
    if (!send(QByteArray(1, '\0') + cmd.toLatin1() + '%', &sendError)) {
        m_waiting = false;
        if (error)
            *error = sendError;
        return std::nullopt;
    }
    QEventLoop loop;
    QTimer timer;
    timer.setSingleShot(true);
    connect(&timer, &QTimer::timeout, &loop, &QEventLoop::quit);
    auto onBytes = connect(this, &DeviceLink::dataReceived, &loop, [&] {
        if (m_ready)
            loop.quit();
    }, Qt::QueuedConnection);
    auto onLost = connect(this, &DeviceLink::connectionLost, &loop, &QEventLoop::quit);
    timer.start(timeoutMs);
    QPointer<MlperfLink> self(this);
    if (!m_ready)
        loop.exec();
    if (!self)
        return std::nullopt;
    disconnect(onBytes);
    disconnect(onLost);
    m_waiting = false;
    m_lastReply = m_current;
    if (!m_ready) {
        ++m_stats.timeouts;
        if (error)
            *error = isOpen() ? tr("`%1%` got no m-ready from %2 within %3 ms").arg(cmd, portName()).arg(timeoutMs)
                              : tr("`%1%`: %2").arg(cmd, lastError());
        return std::nullopt;
    }
    if (!m_current.errors.isEmpty()) {
        if (error)
            *error = tr("`%1%` failed: %2").arg(cmd, m_current.errors.join(QStringLiteral("; ")));
        return std::nullopt;
    }
    return m_current;
}

std::optional<QString> MlperfLink::bracketValue(const QString &line, const QString &key)
{
    const QString prefix = key + QStringLiteral("-[");
    if (!line.startsWith(prefix) || !line.endsWith(QLatin1Char(']')))
        return std::nullopt;
    return line.mid(prefix.size(), line.size() - prefix.size() - 1);
}

std::optional<qint64> MlperfLink::lapMicroseconds(const QString &line)
{
    static const QString prefix = QStringLiteral("m-lap-us-");
    if (!line.startsWith(prefix))
        return std::nullopt;
    bool ok = false;
    const qint64 v = line.mid(prefix.size()).toLongLong(&ok);
    if (!ok || v < 0)
        return std::nullopt;
    return v;
}

std::optional<QVector<float>> MlperfLink::parseResults(const QString &line)
{
    auto inner = bracketValue(line, QStringLiteral("m-results"));
    if (!inner)
        return std::nullopt;
    QVector<float> values;
    if (inner->trimmed().isEmpty())
        return values;
    for (const QString &field : inner->split(QLatin1Char(','))) {
        bool ok = false;
        const float v = field.trimmed().toFloat(&ok);
        if (!ok)
            return std::nullopt;
        values << v;
    }
    return values;
}

std::optional<QString> MlperfLink::name(QString *error)
{
    auto reply = command(QStringLiteral("name"), kDefaultTimeoutMs, error);
    if (!reply)
        return std::nullopt;
    for (const QString &line : reply->lines)
        if (auto v = bracketValue(line, QStringLiteral("m-name-dut")))
            return v;
    if (error)
        *error = tr("`name%` reply has no m-name-dut-[...] line");
    return std::nullopt;
}

std::optional<QStringList> MlperfLink::profile(QString *error)
{
    auto reply = command(QStringLiteral("profile"), kDefaultTimeoutMs, error);
    if (!reply)
        return std::nullopt;
    QStringList fields;
    for (const QString &line : reply->lines) {
        const qsizetype open = line.indexOf(QLatin1String("-["));
        if (line.startsWith(QLatin1String("m-")) && open > 0 && line.endsWith(QLatin1Char(']')))
            fields << line.mid(2, open - 2) + QLatin1Char('=') + line.mid(open + 2, line.size() - open - 3);
    }
    return fields;
}

bool MlperfLink::loadInput(const QByteArray &bytes, QString *error)
{
    if (!command(QStringLiteral("db load %1").arg(bytes.size()), kDefaultTimeoutMs, error))
        return false;
    for (qsizetype off = 0; off < bytes.size(); off += kHexChunkBytes) {
        const QString hex = QString::fromLatin1(bytes.mid(off, kHexChunkBytes).toHex());
        if (!command(QStringLiteral("db %1").arg(hex), kDefaultTimeoutMs, error))
            return false;
    }
    return true;
}

std::optional<MlperfInference> MlperfLink::infer(int runs, int warmups, int timeoutMs, QString *error)
{
    auto reply = command(QStringLiteral("infer %1 %2").arg(runs).arg(warmups), timeoutMs, error);
    if (!reply)
        return std::nullopt;
    MlperfInference out;
    for (const QString &line : reply->lines) {
        if (auto us = lapMicroseconds(line))
            out.lapsUs << *us;
        else if (auto r = parseResults(line))
            out.results = *r;
    }
    return out;
}

std::optional<qint64> MlperfInference::elapsedUs() const
{
    if (lapsUs.size() < 2)
        return std::nullopt;
    return lapsUs[1] - lapsUs[0];
}

QString MlperfLink::benchmarkId(const QStringList &profileFields)
{
    for (const QString &f : profileFields)
        if (f.startsWith(QLatin1String("model=")))
            return f.mid(6);
    return {};
}

std::optional<QVector<float>> MlperfLink::results(QString *error)
{
    auto reply = command(QStringLiteral("results"), kDefaultTimeoutMs, error);
    if (!reply)
        return std::nullopt;
    for (const QString &line : reply->lines)
        if (auto v = parseResults(line))
            return v;
    if (error)
        *error = tr("`results%` reply has no parsable m-results-[...] line");
    return std::nullopt;
}

} // namespace tinyml
