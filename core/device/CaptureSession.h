#pragma once
// CaptureSession: streams from a DeviceLink into the project store as the data arrives.
// Each sample is begun at its first chunk, appended in small transactions (every ~100 ms
// of data or 256 frames, whichever comes first) and finished at the end, so an unplugged
// board loses at most the chunk in flight; the sample is then kept with complete=false.
//
// Before the first sample is stored the stream must fit the project (channel count and rate,
// io::checkAgainstProject, as an import must). A line board (LineLink) must also prove that
// it prints lines of numbers: nothing is stored until options.minConsistentLines well-formed
// lines have arrived, and the capture fails with nothing stored as soon as malformed lines
// outnumber them (random bytes, a wrong baud rate, a board printing text). Malformed lines
// after that are gaps in the recording: they count as lost frames and mark the sample
// incomplete.
//
// Threading: a QObject of the link's thread; the ProjectStore must belong to it too.
//
//     CaptureSession capture(link, store, {"wave", "accel", 100, 5.0});
//     capture.start(&err);                // returns at once; finished() at the end
//     // or: capture.run(60000, &err);    // a local event loop until finished

#include "data/Sample.h"
#include "device/DeviceLink.h"

#include <QElapsedTimer>
#include <QObject>
#include <QPointer>
#include <QVector>

namespace tinyml {

class ProjectStore;

struct CaptureOptions {
    QString label;
    QString sensor;               ///< empty = the device's first sensor
    double rateHz = 0;            ///< 0 = the sensor's default (LineLink: detected)
    double durationS = 1.0;       ///< per sample
    int count = 1;                ///< consecutive samples from one stream
    Split split = Split::Train;
    int flushFrames = 256;        ///< commit at least this often...
    double flushSeconds = 0.1;    ///< ...or after this much data
    /// Line boards: well-formed lines needed (at most the capture's frames) before anything
    /// is stored. A capture that ends with fewer stores nothing.
    int minConsistentLines = 10;
    /// Refuse a stream whose channel count or rate does not fit the project's samples and
    /// settings (io::expectationFor), before anything is stored.
    bool checkProject = true;
};

struct CaptureResult {
    QVector<qint64> sampleIds;    ///< in capture order
    qint64 framesReceived = 0;
    qint64 framesLost = 0;        ///< line boards: includes malformed lines mid-recording
    qint64 malformedLines = 0;    ///< line boards: lines that were not numbers, whole capture
    qint64 bytesReceived = 0;     ///< on the link, framing included
    double seconds = 0;           ///< wall clock, start to finish
    bool complete = false;        ///< every sample finished with all its frames
    QString error;                ///< empty when complete
};

class CaptureSession : public QObject
{
    Q_OBJECT
public:
    CaptureSession(DeviceLink *link, ProjectStore *store, const CaptureOptions &options,
                   QObject *parent = nullptr);
    ~CaptureSession() override;

    /// Starts the stream; returns false when it could not start (nothing stored).
    bool start(QString *error);
    /// Stops early: the sample in progress is stored with complete=false.
    void cancel();
    /// start() and a local event loop until finished or timeoutMs. Returns result().complete.
    bool run(int timeoutMs, QString *error);

    bool isRunning() const { return m_running; }
    const CaptureResult &result() const { return m_result; }
    qint64 framesPerSample() const { return m_framesPerSample; }

Q_SIGNALS:
    void progress(qint64 framesReceived, qint64 framesTotal);
    void sampleStored(qint64 sampleId, bool complete);
    void finished(const tinyml::CaptureResult &result);

private:
    void onStreamStarted(const StreamFormat &format);
    void onChunk(const StreamChunk &chunk);
    void onStreamEnded(StreamEndReason reason, qint64 framesSent);
    void onConnectionLost(const QString &message);
    void onLinkError();
    bool checkLines();
    bool acceptStream();
    void storeFrames(const float *values, qint64 frames);
    qint64 framesNeededFirst() const;
    bool beginSample(QString *error);
    bool flush(QString *error);
    bool finishSample(bool complete, QString *error);
    void finish(const QString &error);
    void computeFramesPerSample(double rateHz);

    QPointer<DeviceLink> m_link;
    ProjectStore *m_store;
    CaptureOptions m_options;
    CaptureResult m_result;
    bool m_running = false;
    StreamFormat m_format;
    qint64 m_framesPerSample = 0;
    qint64 m_sampleId = 0;        ///< 0 = no sample open
    qint64 m_sampleFrames = 0;    ///< frames in the open sample, flushed or buffered
    qint64 m_sampleLost = 0;
    int m_channels = 0;
    QVector<float> m_buffer;      ///< frames not yet committed
    qint64 m_flushEvery = 256;
    qint64 m_bytesAtStart = 0;
    bool m_lineStream = false;    ///< a LineLink: the line checks apply
    bool m_accepted = false;      ///< the stream fits the project and may be stored
    QVector<float> m_preroll;     ///< frames held until the stream is accepted
    qint64 m_prerollFrames = 0;
    qint64 m_malformedAtStart = 0;
    qint64 m_malformedCounted = 0; ///< malformed lines already counted (as lost or preroll)
    qint64 m_malformedInARow = 0;  ///< since the last well-formed chunk
    QElapsedTimer m_clock;
    QVector<QMetaObject::Connection> m_connections;
};

} // namespace tinyml

Q_DECLARE_METATYPE(tinyml::CaptureResult)
