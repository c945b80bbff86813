#pragma once
// LineLink: any board that prints one line of comma/space/tab separated numbers per
// sample (Edge Impulse "data forwarder" convention). Channel count and sample rate are
// detected from the first second of lines unless given. Threading: see DeviceLink.h.

#include "device/DeviceLink.h"
#include "device/NumericLineParser.h"

#include <QElapsedTimer>

namespace tinyml {

class LineLink : public DeviceLink
{
    Q_OBJECT
public:
    explicit LineLink(QObject *parent = nullptr);

    /// 0 = detect (the default). Set before startStream().
    void setChannelCount(int channels) { m_channels = channels; }
    /// Names for the detected channels; default "ch0", "ch1", ...
    void setChannelNames(const QStringList &names) { m_channelNames = names; }

    /// Starts interpreting lines (what the board prints cannot be commanded):
    /// request.rateHz 0 = detect from arrival times; request.frames 0 = until stopStream().
    /// streamStarted is emitted once detection has finished.
    bool startStream(const StreamRequest &request, QString *error) override;
    void stopStream() override;
    StreamFormat streamFormat() const override { return m_format; }
    bool isStreaming() const override { return m_streaming; }
    const NumericLineParser &parser() const { return m_parser; }

protected:
    void handleBytes(const QByteArray &bytes) override;
    void handleClosing() override;

private:
    void emitRows();
    void endStream(StreamEndReason reason);

    int m_channels = 0;
    QStringList m_channelNames;
    NumericLineParser m_parser;
    QElapsedTimer m_clock;
    bool m_streaming = false;
    bool m_announced = false;
    qint64 m_wanted = 0;
    qint64 m_emitted = 0;
    StreamFormat m_format;
};

} // namespace tinyml
