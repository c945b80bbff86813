// The non-widget parts of the UI: live ring buffer and its min/max decimation, the
// preview spectrogram, and the slicing behind crop / split into windows.
#include "models/SampleSlicing.h"
#include "plots/SignalRingBuffer.h"
#include "plots/Spectrogram.h"

#include <gtest/gtest.h>

#include <QtMath>

using namespace tinyml;
using namespace tinyml::ui;

TEST(SignalRingBuffer, KeepsTheNewestFramesAcrossWrapAround)
{
    SignalRingBuffer b;
    b.reset(2, 5);
    QVector<float> v;
    for (int i = 0; i < 7; ++i)
        v << float(i) << float(-i);
    b.append(v.constData(), 3);
    b.append(v.constData() + 6, 4);
    EXPECT_EQ(b.size(), 5);
    EXPECT_EQ(b.totalFrames(), 7);
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(b.at(i, 0), float(i + 2));
        EXPECT_EQ(b.at(i, 1), float(-(i + 2)));
    }
}

TEST(SignalRingBuffer, MinMaxDecimationKeepsEveryPeak)
{
    SignalRingBuffer b;
    const int frames = 16000;
    b.reset(1, frames);
    QVector<float> v(frames, 0.0f);
    v[1234] = 5.0f;     // one-sample spikes must survive 16000 -> 2 x 100 points
    v[9876] = -7.0f;
    b.append(v.constData(), frames);
    QVector<double> keys, values;
    b.decimateMinMax(0, 100, keys, values);
    EXPECT_LE(keys.size(), 200);
    EXPECT_EQ(*std::max_element(values.cbegin(), values.cend()), 5.0);
    EXPECT_EQ(*std::min_element(values.cbegin(), values.cend()), -7.0);
    EXPECT_TRUE(std::is_sorted(keys.cbegin(), keys.cend()));
    EXPECT_NE(keys.indexOf(1234.0), -1);
    EXPECT_NE(keys.indexOf(9876.0), -1);
}

TEST(SignalRingBuffer, FewFramesAreShownAsTheyAre)
{
    SignalRingBuffer b;
    b.reset(3, 100);
    const float frame[3] = {1, 2, 3};
    b.append(frame, 1);
    QVector<double> keys, values;
    b.decimateMinMax(2, 500, keys, values);
    ASSERT_EQ(keys.size(), 1);
    EXPECT_EQ(values[0], 3.0);
}

TEST(Spectrogram, ToneLandsInItsBin)
{
    const double rate = 16000, tone = 1000;
    QVector<float> x(4096);
    for (int i = 0; i < x.size(); ++i)
        x[i] = float(qSin(2 * M_PI * tone * i / rate));
    const Spectrogram s = computeSpectrogram(x.constData(), int(x.size()), rate, 256, 128);
    ASSERT_EQ(s.bins, 129);
    EXPECT_EQ(s.frames, 1 + (4096 - 256) / 128);
    const int expected = int(tone / s.binHz + 0.5);
    for (int f = 0; f < s.frames; ++f) {
        int best = 0;
        for (int b = 1; b < s.bins; ++b)
            if (s.at(f, b) > s.at(f, best))
                best = b;
        EXPECT_EQ(best, expected) << "frame " << f;
    }
}

TEST(SampleSlicing, SliceKeepsDtypeAndChannels)
{
    QVector<float> v;
    for (int i = 0; i < 30; ++i)
        v << float(i);
    const Tensor t = Tensor::fromFloats(v, {10, 3});
    QString error;
    auto s = sliceFrames(t, 2, 5, &error);
    ASSERT_TRUE(s) << error.toStdString();
    EXPECT_EQ(s->shape, (QVector<qint64>{3, 3}));
    EXPECT_EQ(s->toFloats().first(), 6.0f);
    EXPECT_EQ(s->toFloats().last(), 14.0f);
    EXPECT_FALSE(sliceFrames(t, 5, 5, &error));
    EXPECT_FALSE(sliceFrames(t, 0, 11, &error));
}

TEST(SampleSlicing, WindowsDropTheShortTail)
{
    Sample s;
    s.id = 7;
    s.label = QStringLiteral("shake");
    s.split = Split::Test;
    s.sampleRateHz = 100;
    s.created = QDateTime(QDate(2026, 1, 1), QTime(0, 0), Qt::UTC);
    QVector<float> v(250);
    s.data = Tensor::fromFloats(v, {250, 1});
    QString error;
    const QVector<Sample> w = splitIntoWindows(s, 100, &error);
    ASSERT_EQ(w.size(), 2) << error.toStdString();
    for (const Sample &x : w) {
        EXPECT_EQ(x.id, 0);
        EXPECT_EQ(x.label, s.label);
        EXPECT_EQ(x.split, Split::Test);
        EXPECT_EQ(x.frames(), 100);
    }
    EXPECT_EQ(w[1].created, s.created.addMSecs(1000));
    EXPECT_TRUE(splitIntoWindows(s, 200, &error).isEmpty());
}
