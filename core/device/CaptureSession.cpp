#include "device/CaptureSession.h"

#include "device/LineLink.h"
#include "io/DatasetImporter.h"
#include "store/ProjectStore.h"

#include <QEventLoop>
#include <QTimer>

#include <cmath>

namespace tinyml {

namespace {
const int kResultMetaType = qRegisterMetaType<CaptureResult>();
/// After the stream was accepted, this many malformed lines times the preroll with no
/// well-formed line between them: the board stopped printing numbers (reset, baud change).
constexpr qint64 kMalformedRunFactor = 4;
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
    m_lineStream = qobject_cast<LineLink *>(m_link.data()) != nullptr;
    m_accepted = false;
    m_preroll.clear();
    m_prerollFrames = 0;
    m_malformedAtStart = m_link->statistics().malformedLines;
    m_malformedCounted = 0;
    m_malformedInARow = 0;
    m_clock.start();
    for (const auto &c : std::as_const(m_connections))
        disconnect(c);
    m_connections = {
        connect(m_link, &DeviceLink::streamStarted, this, &CaptureSession::onStreamStarted),
        connect(m_link, &DeviceLink::streamChunk, this, &CaptureSession::onChunk),
        connect(m_link, &DeviceLink::streamEnded, this, &CaptureSession::onStreamEnded),
        connect(m_link, &DeviceLink::connectionLost, this, &CaptureSession::onConnectionLost),
        connect(m_link, &DeviceLink::linkError, this, &CaptureSession::onLinkError),
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

qint64 CaptureSession::framesNeededFirst() const
{
    if (!m_lineStream)
        return 1;
    return qBound(qint64(1), qint64(m_options.minConsistentLines), m_framesPerSample * m_options.count);
}

void CaptureSession::onLinkError()
{
    if (m_running && m_lineStream)
        checkLines();
}

bool CaptureSession::checkLines()
{
    if (!m_lineStream || !m_link)
        return true;
    const qint64 malformed = m_link->statistics().malformedLines - m_malformedAtStart;
    m_result.malformedLines = malformed;
    const qint64 fresh = malformed - m_malformedCounted;
    if (fresh <= 0)
        return true;
    m_malformedCounted = malformed;
    m_malformedInARow += fresh;
    const qint64 need = framesNeededFirst();
    if (!m_accepted) {
        // Until the stream is accepted nothing is stored; garbage fails it early.
        const qint64 good = m_prerollFrames;
        if (malformed >= need && malformed > good) {
            finish(tr("%1 does not print lines of numbers: %2 of the %3 lines received were not numbers "
                      "(or not the stream's channel count); check the port, the baud rate and --protocol. "
                      "Nothing stored")
                       .arg(m_link->portName()).arg(malformed).arg(malformed + good));
            return false;
        }
        return true;
    }
    // Each malformed line is a frame missing from the recording.
    m_result.framesLost += fresh;
    m_sampleLost += fresh;
    if (m_malformedInARow >= kMalformedRunFactor * need) {
        finish(tr("%1 stopped printing lines of numbers (%2 malformed lines in a row); kept %3 frames, "
                  "sample marked incomplete")
                   .arg(m_link->portName()).arg(m_malformedInARow).arg(m_result.framesReceived));
        return false;
    }
    return true;
}

bool CaptureSession::acceptStream()
{
    if (m_options.checkProject) {
        io::FileImportResult candidate;
        candidate.file = m_link ? m_link->portName() : QString();
        candidate.format = QStringLiteral("device");
        Sample s;
        s.data.dtype = DType::Float32;
        s.data.shape = {0, m_channels};
        s.sampleRateHz = m_format.rateHz > 0 ? m_format.rateHz : m_options.rateHz;
        candidate.samples << s;
        io::checkAgainstProject(candidate, io::expectationFor(m_store->settings(), m_store->sampleInfos()));
        if (!candidate.ok()) {
            finish(tr("the stream from %1 does not fit the project (%2): %3; nothing stored")
                       .arg(candidate.file, candidate.error->field, candidate.error->message));
            return false;
        }
    }
    m_accepted = true;
    // Malformed lines from here on are gaps in the recording.
    m_malformedInARow = 0;
    return true;
}

void CaptureSession::storeFrames(const float *values, qint64 frames)
{
    qint64 offset = 0;
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
    if (!checkLines())
        return;
    m_malformedInARow = 0;
    m_result.framesLost += chunk.lostBefore;
    m_sampleLost += chunk.lostBefore;
    const float *values = chunk.data.floatData();
    const qint64 frames = chunk.frames();
    const qint64 total = m_framesPerSample * m_options.count;
    if (!m_accepted) {
        // Held in memory until the stream has proved itself and fits the project.
        m_preroll.append(QList<float>(values, values + frames * m_channels));
        m_prerollFrames += frames;
        if (m_prerollFrames < framesNeededFirst())
            return;
        if (!checkLines() || !acceptStream())
            return;
        QVector<float> held;
        held.swap(m_preroll);
        const qint64 heldFrames = m_prerollFrames;
        m_prerollFrames = 0;
        storeFrames(held.constData(), heldFrames);
    } else {
        storeFrames(values, frames);
    }
    if (!m_running)
        return;
    Q_EMIT progress(m_result.framesReceived, total);
    if (m_result.sampleIds.size() >= m_options.count) {
        // Done. An agent ends its stream by itself; a line board is told to stop, after
        // finish() has disconnected: its "stream stopped" is not a capture cut short.
        const QPointer<DeviceLink> link = m_link;
        const bool stopLines = m_lineStream && m_result.framesReceived >= total;
        finish(m_result.framesLost > 0
                   ? (m_result.malformedLines > 0
                          ? tr("%1 frames were lost (%2 malformed lines); the samples are marked incomplete")
                                .arg(m_result.framesLost).arg(m_result.malformedLines)
                          : tr("%1 frames were lost on the link; the samples are marked incomplete").arg(m_result.framesLost))
                   : QString());
        // Only locals from here: a finished() handler may have deleted this session.
        if (stopLines && link && link->isStreaming())
            link->stopStream();
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
    if (m_sampleId == 0 && m_result.sampleIds.isEmpty())
        finish(tr("board lost mid-capture (%1)").arg(message));
    else
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
    if (!m_accepted && m_prerollFrames > 0 && !error.isEmpty() && !error.contains(QLatin1String("nothing stored"), Qt::CaseInsensitive))
        m_result.error += tr("; only %1 well-formed lines had arrived, fewer than the %2 needed before "
                             "anything is stored: nothing stored")
                              .arg(m_prerollFrames).arg(framesNeededFirst());
    m_preroll.clear();
    m_prerollFrames = 0;
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
        const qint64 held = m_accepted ? 0 : m_prerollFrames;
        const bool lines = m_lineStream;
        cancel();
        m_result.error = tr("capture timed out after %1 ms; kept %2 frames").arg(timeoutMs).arg(m_result.framesReceived);
        if (lines && !m_accepted)
            m_result.error += tr(" (%1 well-formed lines arrived, %2 malformed; %3 needed before anything is "
                                 "stored): nothing stored")
                                  .arg(held).arg(m_result.malformedLines).arg(framesNeededFirst());
        m_result.complete = false;
    }
    if (!m_result.complete && error)
        *error = m_result.error;
    return m_result.complete;
}

} // namespace tinyml
