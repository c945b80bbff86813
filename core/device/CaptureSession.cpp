#include "device/CaptureSession.h"

#include "store/ProjectStore.h"

#include <QEventLoop>
#include <QTimer>

#include <cmath>

namespace tinyml {

namespace {
const int kResultMetaType = qRegisterMetaType<CaptureResult>();
}

CaptureSession::CaptureSession(DeviceLink *link, ProjectStore *store, const CaptureOptions &options,
                               QObject *parent)
    : QObject(parent), m_link(link), m_store(store), m_options(options)
{
    (void)kResultMetaType;
}

CaptureSession::~CaptureSession()
{
    if (m_running)
        cancel();
    for (const auto &c : std::as_const(m_connections))
        disconnect(c);
}

void CaptureSession::computeFramesPerSample(double rateHz)
{
    m_framesPerSample = qMax<qint64>(1, qint64(std::llround(rateHz * m_options.durationS)));
    m_flushEvery = qBound(qint64(1), qint64(std::ceil(rateHz * m_options.flushSeconds)),
                          qint64(qMax(1, m_options.flushFrames)));
}

bool CaptureSession::start(QString *error)
{
    if (m_running) {
        if (error)
            *error = tr("capture already running");
        return false;
    }
    if (!m_link || !m_store || !m_link->isOpen()) {
        if (error)
            *error = tr("capture needs an open device link and a project");
        return false;
    }
    if (m_options.count < 1 || !(m_options.durationS > 0)) {
        if (error)
            *error = tr("capture needs a positive duration and count");
        return false;
    }
    m_result = {};
    m_sampleId = 0;
    m_sampleFrames = 0;
    m_sampleLost = 0;
    m_buffer.clear();
    m_framesPerSample = 0;
    m_bytesAtStart = m_link->statistics().bytesReceived;
    m_clock.start();
    for (const auto &c : std::as_const(m_connections))
        disconnect(c);
    m_connections = {
        connect(m_link, &DeviceLink::streamStarted, this, &CaptureSession::onStreamStarted),
        connect(m_link, &DeviceLink::streamChunk, this, &CaptureSession::onChunk),
        connect(m_link, &DeviceLink::streamEnded, this, &CaptureSession::onStreamEnded),
        connect(m_link, &DeviceLink::connectionLost, this, &CaptureSession::onConnectionLost),
    };
    m_running = true;
    if (m_options.rateHz > 0)
        computeFramesPerSample(m_options.rateHz);
    StreamRequest request;
    request.sensor = m_options.sensor;
    request.rateHz = m_options.rateHz;
    // All samples come from one stream, sliced here; the device ends it when the last
    // frame is sent. When the rate is still to be detected the session stops the stream.
    request.frames = m_framesPerSample > 0 ? m_framesPerSample * m_options.count : 0;
    QString e;
    if (!m_link->startStream(request, &e)) {
        m_running = false;
        for (const auto &c : std::as_const(m_connections))
            disconnect(c);
        m_connections.clear();
        if (error)
            *error = tr("cannot start the stream: %1").arg(e);
        return false;
    }
    // The device may have chosen the rate (default rate); chunks may already be here.
    if (m_framesPerSample == 0 && m_link->streamFormat().rateHz > 0)
        onStreamStarted(m_link->streamFormat());
    return true;
}

void CaptureSession::onStreamStarted(const StreamFormat &format)
{
    m_format = format;
    if (m_framesPerSample == 0 && format.rateHz > 0)
        computeFramesPerSample(format.rateHz);
}

bool CaptureSession::beginSample(QString *error)
{
    if (m_format.channels.isEmpty() && m_link)
        m_format = m_link->streamFormat();
    Sample meta;
    meta.label = m_options.label;
    meta.split = m_options.split;
    const QString deviceId = m_link ? m_link->deviceId() : QString();
    meta.source = QStringLiteral("device:") + deviceId;
    meta.device = deviceId;
    meta.sensor = m_format.sensor.isEmpty() ? m_options.sensor : m_format.sensor;
    meta.created = QDateTime::currentDateTimeUtc();
    meta.sampleRateHz = m_format.rateHz > 0 ? m_format.rateHz : m_options.rateHz;
    meta.channels = m_format.channels;
    meta.units = m_format.units;
    meta.data.dtype = DType::Float32;
    meta.data.shape = {0, m_channels};
    meta.complete = false; // until finishSample says otherwise
    auto id = m_store->beginSample(meta, error);
    if (!id)
        return false;
    m_sampleId = *id;
    m_sampleFrames = 0;
    m_sampleLost = 0;
    return true;
}

bool CaptureSession::flush(QString *error)
{
    if (m_buffer.isEmpty() || m_sampleId == 0)
        return true;
    const qint64 frames = m_buffer.size() / m_channels;
    const Tensor chunk = Tensor::fromFloats(m_buffer, {frames, m_channels});
    m_buffer.clear();
    return m_store->appendFrames(m_sampleId, chunk, error);
}

bool CaptureSession::finishSample(bool complete, QString *error)
{
    if (m_sampleId == 0)
        return true;
    QString flushError;
    const bool flushed = flush(&flushError);
    const bool ok = m_store->finishSample(m_sampleId, complete && flushed, error);
    if (!flushed && error)
        *error = flushError;
    m_result.sampleIds << m_sampleId;
    Q_EMIT sampleStored(m_sampleId, complete && flushed && ok);
    m_sampleId = 0;
    return flushed && ok;
}

void CaptureSession::onChunk(const StreamChunk &chunk)
{
    if (!m_running)
        return;
    const qint64 channels = chunk.data.shape.value(1);
    if (channels <= 0)
        return;
    if (m_channels == 0)
        m_channels = int(channels);
    if (channels != m_channels) {
        finish(tr("the stream changed from %1 to %2 channels").arg(m_channels).arg(channels));
        return;
    }
    if (m_framesPerSample == 0) {
        if (m_link && m_link->streamFormat().rateHz > 0)
            onStreamStarted(m_link->streamFormat());
        if (m_framesPerSample == 0) {
            finish(tr("the device did not say its sample rate"));
            return;
        }
    }
    m_result.framesLost += chunk.lostBefore;
    m_sampleLost += chunk.lostBefore;
    const float *values = chunk.data.floatData();
    qint64 offset = 0;
    const qint64 frames = chunk.frames();
    const qint64 total = m_framesPerSample * m_options.count;
    QString error;
    while (offset < frames && m_running) {
        if (m_sampleId == 0) {
            if (m_result.sampleIds.size() >= m_options.count)
                break; // a LineLink keeps printing after the last sample
            if (!beginSample(&error)) {
                finish(tr("cannot store the capture: %1").arg(error));
                return;
            }
        }
        const qint64 take = qMin(frames - offset, m_framesPerSample - m_sampleFrames);
        const float *from = values + offset * m_channels;
        m_buffer.append(QList<float>(from, from + take * m_channels));
        offset += take;
        m_sampleFrames += take;
        m_result.framesReceived += take;
        if (m_buffer.size() / m_channels >= m_flushEvery && !flush(&error)) {
            finish(tr("cannot store the capture: %1").arg(error));
            return;
        }
        if (m_sampleFrames >= m_framesPerSample) {
            const bool whole = m_sampleLost == 0;
            if (!finishSample(whole, &error)) {
                finish(tr("cannot store the capture: %1").arg(error));
                return;
            }
        }
    }
    Q_EMIT progress(m_result.framesReceived, total);
    if (m_result.sampleIds.size() >= m_options.count) {
        // Done. An agent ends its stream by itself; a line board is told to stop.
        if (m_link && m_link->isStreaming() && m_result.framesReceived >= total
            && m_link->streamFormat().sensor == QLatin1String("lines"))
            m_link->stopStream();
        finish(m_result.framesLost > 0
                   ? tr("%1 frames were lost on the link; the samples are marked incomplete").arg(m_result.framesLost)
                   : QString());
    }
}

void CaptureSession::onStreamEnded(StreamEndReason reason, qint64 framesSent)
{
    if (!m_running)
        return;
    QString why;
    switch (reason) {
    case StreamEndReason::Complete: why = tr("the device ended the stream after %1 frames").arg(framesSent); break;
    case StreamEndReason::Stopped: why = tr("the stream was stopped"); break;
    case StreamEndReason::Overrun: why = tr("the device could not keep up (overrun)"); break;
    case StreamEndReason::ReplayEnd:
        why = tr("the sensor's replay file or scenario script ended after %1 frames").arg(framesSent);
        break;
    case StreamEndReason::LinkLost:
        // The port went away; DeviceLink has recorded why.
        onConnectionLost(m_link ? m_link->lastError() : tr("link closed"));
        return;
    }
    finish(tr("capture cut short: %1; kept %2 of %3 frames")
               .arg(why).arg(m_result.framesReceived).arg(m_framesPerSample * m_options.count));
}

void CaptureSession::onConnectionLost(const QString &message)
{
    if (!m_running)
        return;
    finish(tr("board lost mid-capture (%1); kept the %2 frames received, sample marked incomplete")
               .arg(message).arg(m_result.framesReceived));
}

void CaptureSession::cancel()
{
    if (!m_running)
        return;
    if (m_link && m_link->isStreaming())
        m_link->stopStream();
    finish(tr("capture cancelled; kept %1 frames").arg(m_result.framesReceived));
}

void CaptureSession::finish(const QString &error)
{
    if (!m_running)
        return;
    m_running = false;
    for (const auto &c : std::as_const(m_connections))
        disconnect(c);
    m_connections.clear();
    QString storeError;
    if (m_sampleId != 0)
        finishSample(false, &storeError);
    m_result.error = error;
    if (!storeError.isEmpty())
        m_result.error += (m_result.error.isEmpty() ? QString() : QStringLiteral("; ")) + storeError;
    m_result.complete = m_result.error.isEmpty()
                        && m_result.sampleIds.size() == m_options.count;
    m_result.seconds = double(m_clock.nsecsElapsed()) / 1e9;
    if (m_link)
        m_result.bytesReceived = m_link->statistics().bytesReceived - m_bytesAtStart;
    Q_EMIT finished(m_result);
}

bool CaptureSession::run(int timeoutMs, QString *error)
{
    QEventLoop loop;
    connect(this, &CaptureSession::finished, &loop, &QEventLoop::quit);
    QTimer timer;
    timer.setSingleShot(true);
    connect(&timer, &QTimer::timeout, &loop, &QEventLoop::quit);
    if (!start(error))
        return false;
    if (m_running) {
        timer.start(timeoutMs);
        loop.exec();
    }
    if (m_running) {
        cancel();
        m_result.error = tr("capture timed out after %1 ms; kept %2 frames").arg(timeoutMs).arg(m_result.framesReceived);
        m_result.complete = false;
    }
    if (!m_result.complete && error)
        *error = m_result.error;
    return m_result.complete;
}

} // namespace tinyml
