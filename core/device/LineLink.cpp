#include "device/LineLink.h"

namespace tinyml {

LineLink::LineLink(QObject *parent) : DeviceLink(parent) {}

bool LineLink::startStream(const StreamRequest &request, QString *error)
{
    if (!isOpen()) {
        if (error)
            *error = tr("link to %1 is not open").arg(portName());
        return false;
    }
    // Whatever arrived before the stream started is stale, and the port may have been
    // opened mid-line: the parser drops the first (partial) line.
    port()->clear(QSerialPort::Input);
    m_parser.configure(m_channels, request.rateHz, true);
    m_clock.start();
    m_streaming = true;
    m_announced = false;
    m_wanted = request.frames;
    m_emitted = 0;
    m_format = StreamFormat{QStringLiteral("lines"), request.rateHz, {}, {}};
    return true;
}

void LineLink::stopStream()
{
    if (!m_streaming)
        return;
    m_parser.finish();
    emitRows();
    if (m_streaming)
        endStream(StreamEndReason::Stopped);
}

void LineLink::handleClosing()
{
    if (!m_streaming)
        return;
    m_parser.finish();
    emitRows();
    if (m_streaming)
        endStream(StreamEndReason::LinkLost);
}

void LineLink::endStream(StreamEndReason reason)
{
    m_streaming = false;
    Q_EMIT streamEnded(reason, m_emitted);
}

void LineLink::handleBytes(const QByteArray &bytes)
{
    if (!m_streaming)
        return;
    m_parser.feed(bytes.constData(), bytes.size(), m_clock.nsecsElapsed() / 1000);
    emitRows();
}

void LineLink::emitRows()
{
    const qint64 malformed = m_parser.takeNewMalformed();
    if (malformed > 0) {
        m_stats.malformedLines += malformed;
        reportLinkError(tr("%1 malformed line(s) from %2 (%3 so far)")
                            .arg(malformed).arg(portName()).arg(m_stats.malformedLines));
    }
    if (!m_parser.detected())
        return;
    const int channels = m_parser.channelCount();
    if (!m_announced) {
        m_announced = true;
        m_format.rateHz = m_parser.rateHz();
        m_format.channels.clear();
        for (int c = 0; c < channels; ++c)
            m_format.channels << (c < m_channelNames.size() ? m_channelNames[c]
                                                            : QStringLiteral("ch%1").arg(c));
        Q_EMIT streamStarted(m_format);
    }
    QVector<float> values = m_parser.takeValues();
    if (values.isEmpty() || channels <= 0)
        return;
    qint64 frames = values.size() / channels;
    if (m_wanted > 0 && m_emitted + frames > m_wanted) {
        frames = m_wanted - m_emitted;
        values.resize(frames * channels);
    }
    if (frames > 0) {
        StreamChunk chunk;
        chunk.firstIndex = m_emitted;
        chunk.data = Tensor::fromFloats(values, {frames, channels});
        m_emitted += frames;
        m_stats.framesReceived += frames;
        m_stats.samplesReceived += frames;
        Q_EMIT streamChunk(chunk);
    }
    if (m_wanted > 0 && m_emitted >= m_wanted)
        endStream(StreamEndReason::Complete);
}

} // namespace tinyml
