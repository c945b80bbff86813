// LineLink and its parser: "data forwarder" text over a real pty.

#include "DeviceTestSupport.h"

#include "device/LineLink.h"
#include "device/NumericLineParser.h"

#include <QElapsedTimer>
#include <QTimer>

using namespace tinyml;
using namespace tinyml::test;

TEST(NumericLineParserTest, ParsesCommaSpaceTabSeparatedNumbers)
{
    const char *line = "1.5, -2\t3e2  +4";
    auto v = NumericLineParser::parseLine(line, line + strlen(line));
    ASSERT_TRUE(v);
    EXPECT_EQ(*v, (QVector<float>{1.5f, -2.0f, 300.0f, 4.0f}));
    const char *bad = "1.0,abc,3";
    EXPECT_FALSE(NumericLineParser::parseLine(bad, bad + strlen(bad)));
    const char *unit = "12.5ms";
    EXPECT_FALSE(NumericLineParser::parseLine(unit, unit + strlen(unit)));
    const char *empty = " , ";
    EXPECT_FALSE(NumericLineParser::parseLine(empty, empty + strlen(empty)));
}

TEST(NumericLineParserTest, RoundsRatesSensibly)
{
    EXPECT_DOUBLE_EQ(NumericLineParser::roundRate(98.7), 100.0);
    EXPECT_DOUBLE_EQ(NumericLineParser::roundRate(16110), 16000.0);
    EXPECT_DOUBLE_EQ(NumericLineParser::roundRate(33.2), 33.0);
    EXPECT_DOUBLE_EQ(NumericLineParser::roundRate(61.0), 60.0);
    EXPECT_DOUBLE_EQ(NumericLineParser::roundRate(0), 0.0);
}

TEST(NumericLineParserTest, DropsPartialLinesAndCountsMalformedOnes)
{
    NumericLineParser p;
    p.configure(0, 50); // rate given: detection needs only the channel count
    const QByteArray text = QByteArrayLiteral("5,6\n1,2,3\n4 5 6\n7\t8\t9\r\nbad line\n1,2\n10,11,12\n13,14");
    p.feed(text.constData(), text.size(), 0);
    p.finish();
    EXPECT_TRUE(p.detected());
    EXPECT_EQ(p.channelCount(), 3);
    EXPECT_EQ(p.partialLinesDropped(), 2); // "5,6" (first) and "13,14" (unterminated)
    EXPECT_EQ(p.malformedLines(), 2);      // "bad line" and the 2-channel "1,2"
    EXPECT_EQ(p.takeValues(), (QVector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
}

TEST(NumericLineParserTest, DetectsRateFromArrivalTimes)
{
    NumericLineParser p;
    p.configure(0, 0);
    QByteArray line = QByteArrayLiteral("0.1,0.2\n");
    p.feed("junk\n", 5, 0);
    for (int i = 0; i <= 130; ++i) // 50 Hz for 2.6 s
        p.feed(line.constData(), line.size(), qint64(i) * 20000);
    ASSERT_TRUE(p.detected());
    EXPECT_EQ(p.channelCount(), 2);
    EXPECT_DOUBLE_EQ(p.rateHz(), 50.0);
    EXPECT_EQ(p.linesAccepted(), 131);
}

TEST(LineLinkPty, DetectsChannelsAndRateFromARealPort)
{
    PtyDevice pty;
    ASSERT_TRUE(pty.isValid());
    LineLink link;
    link.setPortName(pty.slavePath());
    QString error;
    ASSERT_TRUE(link.open(&error)) << error.toStdString();
    StreamFormat format;
    bool started = false;
    qint64 frames = 0;
    QVector<float> values;
    QObject::connect(&link, &DeviceLink::streamStarted, [&](const StreamFormat &f) { format = f; started = true; });
    QObject::connect(&link, &DeviceLink::streamChunk, [&](const StreamChunk &c) {
        frames += c.frames();
        values += c.data.toFloats();
    });
    ASSERT_TRUE(link.startStream({}, &error)) << error.toStdString();

    // A board printing 100 lines/s: a partial line first (we "plugged in" mid-line),
    // tab- and space-separated lines, and one malformed line.
    int i = 0;
    QTimer timer;
    QObject::connect(&timer, &QTimer::timeout, [&] {
        QByteArray out;
        if (i == 0)
            out += "3,4\n"; // the tail of a line in progress
        if (i == 50)
            out += "ERR sensor timeout\n";
        const char sep = (i % 3 == 0) ? ',' : (i % 3 == 1 ? '\t' : ' ');
        out += QByteArray::number(i) + sep + QByteArray::number(i * 2) + sep + "-1.25\n";
        pty.write(out);
        ++i;
    });
    timer.start(10);
    ASSERT_TRUE(waitUntil([&] { return started && frames >= 150; }, 10000));
    timer.stop();
    EXPECT_EQ(format.channels.size(), 3);
    // Timer jitter under load: accept a near-100 Hz estimate.
    EXPECT_NEAR(format.rateHz, 100.0, 25.0);
    EXPECT_EQ(link.statistics().malformedLines, 1);
    EXPECT_FLOAT_EQ(values[0], 0.0f);
    EXPECT_FLOAT_EQ(values[2], -1.25f);
    EXPECT_FLOAT_EQ(values[3 * 10 + 1], 20.0f);
}

TEST(LineLinkPty, StopsAfterTheRequestedFramesWithAGivenRate)
{
    PtyDevice pty;
    LineLink link;
    link.setPortName(pty.slavePath());
    QString error;
    ASSERT_TRUE(link.open(&error));
    qint64 frames = 0;
    bool complete = false;
    QObject::connect(&link, &DeviceLink::streamChunk, [&](const StreamChunk &c) { frames += c.frames(); });
    QObject::connect(&link, &DeviceLink::streamEnded, [&](StreamEndReason r, qint64) { complete = r == StreamEndReason::Complete; });
    ASSERT_TRUE(link.startStream({QString(), 200, 25}, &error));
    QByteArray text = "partial\n";
    for (int n = 0; n < 40; ++n)
        text += QByteArray::number(n) + " 1\n";
    pty.write(text);
    ASSERT_TRUE(waitUntil([&] { return complete; }, 5000));
    EXPECT_EQ(frames, 25);
    EXPECT_EQ(link.streamFormat().rateHz, 200.0);
}
