// Replay recordings: WAV / time-series CSV / project sample -> the raw int16 file the
// agent's SENSOR_REPLAY plays; rate and channel checks; saturation counted.
#include "stream/ReplayRecording.h"

#include <QFile>
#include <QTemporaryDir>
#include <QtEndian>

#include <gtest/gtest.h>

using namespace tinyml;
using namespace tinyml::stream;

namespace {

QByteArray le16(quint16 v) { QByteArray b(2, 0); qToLittleEndian(v, b.data()); return b; }
QByteArray le32(quint32 v) { QByteArray b(4, 0); qToLittleEndian(v, b.data()); return b; }

QByteArray wav16(quint16 channels, quint32 rate, const QVector<qint16> &values)
{
    QByteArray pcm;
    for (qint16 v : values)
        pcm += le16(quint16(v));
    const quint16 align = quint16(channels * 2);
    const QByteArray fmt = le16(1) + le16(channels) + le32(rate) + le32(rate * align) + le16(align) + le16(16);
    const QByteArray chunks = "fmt " + le32(quint32(fmt.size())) + fmt + "data" + le32(quint32(pcm.size())) + pcm;
    return "RIFF" + le32(quint32(4 + chunks.size())) + "WAVE" + chunks;
}

const ReplayTarget kMic{16000, 1, 1.0f / 32768.0f, QStringLiteral("mic")};
const ReplayTarget kAccel{100, 3, 0.002f, QStringLiteral("accel")};

} // namespace

TEST(ReplayRecording, WavRoundTripsToTheSameInt16)
{
    const QVector<qint16> values = {0, 1, -1, 32767, -32768, 12345, -4321};
    io::ImportError e;
    auto rec = ReplayRecording::fromBytes(wav16(1, 16000, values), QStringLiteral("kw.wav"), kMic, &e);
    ASSERT_TRUE(rec) << e.toString().toStdString();
    EXPECT_EQ(rec->frames(), values.size());
    EXPECT_EQ(rec->channels(), 1);
    EXPECT_DOUBLE_EQ(rec->durationS(), double(values.size()) / 16000.0);
    EXPECT_EQ(rec->clippedValues(), 0);
    EXPECT_TRUE(rec->clippingWarning().isEmpty());
    ASSERT_EQ(rec->rawBytes().size(), values.size() * 2);
    for (int i = 0; i < values.size(); ++i) {
        EXPECT_EQ(rec->rawValue(i, 0), values[i]);
        EXPECT_EQ(qFromLittleEndian<qint16>(rec->rawBytes().constData() + 2 * i), values[i]);
    }
    EXPECT_EQ(rec->samples(), values);
}

TEST(ReplayRecording, WrongRateAndChannelsNameFileAndField)
{
    io::ImportError e;
    EXPECT_FALSE(ReplayRecording::fromBytes(wav16(1, 8000, {1, 2}), QStringLiteral("slow.wav"), kMic, &e));
    EXPECT_EQ(e.file, QStringLiteral("slow.wav"));
    EXPECT_EQ(e.field, QStringLiteral("rate"));
    EXPECT_EQ(e.message, QStringLiteral("8000 Hz, the impulse needs 16000 Hz"));
    EXPECT_FALSE(ReplayRecording::fromBytes(wav16(2, 16000, {1, 2}), QStringLiteral("stereo.wav"), kMic, &e));
    EXPECT_EQ(e.field, QStringLiteral("channels"));
    EXPECT_EQ(e.message, QStringLiteral("2 channels, the mic has 1"));
    EXPECT_EQ(e.toString(), QStringLiteral("stereo.wav: channels: 2 channels, the mic has 1"));
    // A broken WAV keeps the reader's own error.
    EXPECT_FALSE(ReplayRecording::fromBytes("RIFF", QStringLiteral("bad.wav"), kMic, &e));
    EXPECT_EQ(e.file, QStringLiteral("bad.wav"));
    EXPECT_FALSE(e.message.isEmpty());
    // An empty recording is refused (the agent refuses an empty file too).
    EXPECT_FALSE(ReplayRecording::fromBytes(wav16(1, 16000, {}), QStringLiteral("empty.wav"), kMic, &e));
}

TEST(ReplayRecording, CsvConvertsPhysicalUnitsAndCountsClipping)
{
    const QByteArray csv = "timestamp,accX (m/s2),accY (m/s2),accZ (m/s2)\n"
                           "0,1.0,-0.001,9.81\n"
                           "10,100,-100,0.0031\n"
                           "20,65.534,-65.536,-0.0031\n";
    io::ImportError e;
    auto rec = ReplayRecording::fromBytes(csv, QStringLiteral("walk.csv"), kAccel, &e);
    ASSERT_TRUE(rec) << e.toString().toStdString();
    EXPECT_EQ(rec->frames(), 3);
    EXPECT_EQ(rec->rawValue(0, 0), 500);
    EXPECT_EQ(rec->rawValue(0, 1), -1);      // -0.5 rounds away from zero
    EXPECT_EQ(rec->rawValue(0, 2), 4905);
    EXPECT_EQ(rec->rawValue(1, 0), 32767);   // clipped
    EXPECT_EQ(rec->rawValue(1, 1), -32768);  // clipped
    EXPECT_EQ(rec->rawValue(1, 2), 2);       // 1.55 -> 2
    EXPECT_EQ(rec->rawValue(2, 0), 32767);   // 32766.997: in range, not clipped
    EXPECT_EQ(rec->rawValue(2, 1), -32768);
    EXPECT_EQ(rec->rawValue(2, 2), -2);
    EXPECT_EQ(rec->clippedValues(), 2);
    EXPECT_TRUE(rec->clippingWarning().contains(QStringLiteral("clipped 2 of 9")));

    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("replay.raw"));
    QString error;
    ASSERT_TRUE(rec->writeRaw(path, &error)) << error.toStdString();
    QFile f(path);
    ASSERT_TRUE(f.open(QIODevice::ReadOnly));
    EXPECT_EQ(f.readAll(), rec->rawBytes());
}

TEST(ReplayRecording, CsvRateChecks)
{
    io::ImportError e;
    // 50 Hz instead of 100.
    EXPECT_FALSE(ReplayRecording::fromBytes("timestamp,x,y,z\n0,1,2,3\n20,1,2,3\n40,1,2,3\n",
                                            QStringLiteral("slow.csv"), kAccel, &e));
    EXPECT_EQ(e.field, QStringLiteral("rate"));
    EXPECT_EQ(e.message, QStringLiteral("50 Hz, the impulse needs 100 Hz"));
    // No time column: the rate is unknown.
    // The CSV reader refuses it at the header (issue 18: no rate and no timestamp).
    EXPECT_FALSE(ReplayRecording::fromBytes("x,y,z\n1,2,3\n", QStringLiteral("norate.csv"), kAccel, &e));
    EXPECT_EQ(e.field, QStringLiteral("header"));
    EXPECT_TRUE(e.message.contains(QStringLiteral("timestamp")));
    // One channel for a 3-axis sensor.
    EXPECT_FALSE(ReplayRecording::fromBytes("timestamp,x\n0,1\n10,2\n", QStringLiteral("one.csv"), kAccel, &e));
    EXPECT_EQ(e.message, QStringLiteral("1 channel, the accel has 3"));
}

TEST(ReplayRecording, ProjectSample)
{
    Sample s;
    s.sampleRateHz = 100.05; // within 0.1 %
    s.data = Tensor::fromFloats({0.002f, 0.004f, 0.006f, 0.0f, 0.0f, 0.0f}, {2, 3});
    io::ImportError e;
    auto rec = ReplayRecording::fromSample(s, QStringLiteral("sample 12"), kAccel, &e);
    ASSERT_TRUE(rec) << e.toString().toStdString();
    EXPECT_EQ(rec->rawValue(0, 0), 1);
    EXPECT_EQ(rec->rawValue(0, 2), 3);
    EXPECT_EQ(rec->source(), QStringLiteral("sample 12"));
    s.data = Tensor::fromFloats({0.0f, std::numeric_limits<float>::quiet_NaN(), 0.0f}, {1, 3});
    EXPECT_FALSE(ReplayRecording::fromSample(s, QStringLiteral("sample 13"), kAccel, &e));
    EXPECT_EQ(e.file, QStringLiteral("sample 13"));
    EXPECT_EQ(e.field, QStringLiteral("values"));
    EXPECT_TRUE(e.message.contains(QStringLiteral("frame 0, channel 1")));
}

TEST(ReplayRecording, MissingFileNamesIt)
{
    io::ImportError e;
    EXPECT_FALSE(ReplayRecording::load(QStringLiteral("/nonexistent/a.wav"), kMic, &e));
    EXPECT_EQ(e.file, QStringLiteral("/nonexistent/a.wav"));
}
