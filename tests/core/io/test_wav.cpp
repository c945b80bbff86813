#include "IoTestFiles.h"

#include "io/DatasetImporter.h"
#include "io/WavReader.h"

#include <QtEndian>

#include <limits>

using namespace tinyml;
using namespace tinyml::io;
using iotest::expectFailure;
using iotest::writeFile;

namespace {

QByteArray le16(quint16 v)
{
    QByteArray b(2, 0);
    qToLittleEndian(v, b.data());
    return b;
}

QByteArray le32(quint32 v)
{
    QByteArray b(4, 0);
    qToLittleEndian(v, b.data());
    return b;
}

QByteArray chunk(const QByteArray &id, const QByteArray &body, quint32 declaredSize = 0xFFFFFFFFu)
{
    QByteArray c = id + le32(declaredSize == 0xFFFFFFFFu ? quint32(body.size()) : declaredSize) + body;
    if (body.size() % 2)
        c += '\0';
    return c;
}

QByteArray fmtBody(quint16 tag, quint16 channels, quint32 rate, quint16 bits)
{
    const quint16 align = quint16(channels * (bits / 8));
    return le16(tag) + le16(channels) + le32(rate) + le32(rate * align) + le16(align) + le16(bits);
}

QByteArray riff(const QByteArray &chunks)
{
    return "RIFF" + le32(quint32(4 + chunks.size())) + "WAVE" + chunks;
}

QByteArray wav(quint16 tag, quint16 channels, quint32 rate, quint16 bits, const QByteArray &pcm)
{
    return riff(chunk("fmt ", fmtBody(tag, channels, rate, bits)) + chunk("data", pcm));
}

} // namespace

TEST(Wav, Pcm16MonoValuesAreIntOver32768)
{
    const QVector<qint16> ints = {0, 1, -1, 32767, -32768, 12345};
    QByteArray pcm;
    for (qint16 v : ints)
        pcm += le16(quint16(v));
    QTemporaryDir dir;
    const QString path = writeFile(dir, "yes.0001.wav", wav(1, 1, 16000, 16, pcm));
    const FileImportResult r = importFile(path, {});
    ASSERT_TRUE(r.ok()) << r.error->toString().toStdString();
    EXPECT_EQ(r.format, "wav");
    const Sample &s = r.samples[0];
    EXPECT_EQ(s.label, "yes");
    EXPECT_DOUBLE_EQ(s.sampleRateHz, 16000.0);
    EXPECT_EQ(s.channels, QStringList{"audio"});
    EXPECT_EQ(s.data.shape, (QVector<qint64>{6, 1}));
    QVector<float> expected;
    for (qint16 v : ints)
        expected << float(v) / 32768.0f;
    EXPECT_EQ(s.data.toFloats(), expected);
}

TEST(Wav, Pcm8Pcm24Pcm32AndFloat)
{
    {
        const QByteArray pcm("\x00\x80\xFF\x40", 4);
        const FileImportResult r = parseWav(wav(1, 2, 8000, 8, pcm), "a.b.wav", {});
        ASSERT_TRUE(r.ok()) << r.error->toString().toStdString();
        EXPECT_EQ(r.samples[0].data.shape, (QVector<qint64>{2, 2}));
        EXPECT_EQ(r.samples[0].channels, (QStringList{"audio0", "audio1"}));
        EXPECT_EQ(r.samples[0].data.toFloats(),
                  (QVector<float>{-128 / 128.f, 0.f, 127 / 128.f, (64 - 128) / 128.f}));
    }
    {
        // 24-bit little endian: 0x000001 = 1, 0xFFFFFF = -1, 0x800000 = -8388608, 0x7FFFFF
        const QByteArray pcm("\x01\x00\x00\xFF\xFF\xFF\x00\x00\x80\xFF\xFF\x7F", 12);
        const FileImportResult r = parseWav(wav(1, 1, 48000, 24, pcm), "a.b.wav", {});
        ASSERT_TRUE(r.ok()) << r.error->toString().toStdString();
        EXPECT_EQ(r.samples[0].data.toFloats(),
                  (QVector<float>{1 / 8388608.f, -1 / 8388608.f, -1.f, 8388607 / 8388608.f}));
    }
    {
        const QByteArray pcm = le32(quint32(qint32(-2147483647 - 1))) + le32(0x40000000u);
        const FileImportResult r = parseWav(wav(1, 1, 8000, 32, pcm), "a.b.wav", {});
        ASSERT_TRUE(r.ok());
        EXPECT_EQ(r.samples[0].data.toFloats(), (QVector<float>{-1.f, 0.5f}));
    }
    {
        const QVector<float> values = {0.25f, -0.75f, 1e-7f};
        QByteArray pcm(reinterpret_cast<const char *>(values.constData()), 12);
        const FileImportResult r = parseWav(wav(3, 1, 22050, 32, pcm), "a.b.wav", {});
        ASSERT_TRUE(r.ok());
        EXPECT_EQ(r.samples[0].data.toFloats(), values);
    }
}

TEST(Wav, ExtensibleAndUnknownOddChunksAreWalked)
{
    // WAVE_FORMAT_EXTENSIBLE, 16-bit stereo, KSDATAFORMAT_SUBTYPE_PCM.
    QByteArray fmt = fmtBody(0xFFFE, 2, 44100, 16) + le16(22) + le16(16) + le32(3) +
                     QByteArray("\x01\x00\x00\x00\x00\x00\x10\x00\x80\x00\x00\xAA\x00\x38\x9B\x71", 16);
    const QByteArray pcm = le16(16384) + le16(quint16(-16384)) + le16(0) + le16(8192);
    const QByteArray bytes = riff(chunk("LIST", "odd") + chunk("fmt ", fmt) + chunk("junk", "x") +
                                  chunk("data", pcm) + chunk("smpl", "tail"));
    const FileImportResult r = parseWav(bytes, "clap.x.wav", {});
    ASSERT_TRUE(r.ok()) << r.error->toString().toStdString();
    EXPECT_DOUBLE_EQ(r.samples[0].sampleRateHz, 44100.0);
    EXPECT_EQ(r.samples[0].data.shape, (QVector<qint64>{2, 2}));
    EXPECT_EQ(r.samples[0].data.toFloats(), (QVector<float>{0.5f, -0.5f, 0.f, 0.25f}));
}

TEST(WavBad, TruncatedHeader)
{
    QTemporaryDir dir;
    const QString path = writeFile(dir, "yes.1.wav", "RIFF\x10\x00");
    expectFailure(importFile(path, {}), path, 0, "header", "truncated");
}

TEST(WavBad, BadRiffMagic)
{
    QByteArray bytes = wav(1, 1, 8000, 16, le16(1));
    bytes[0] = 'X';
    expectFailure(parseWav(bytes, "yes.1.wav", {}), "yes.1.wav", 0, "RIFF.id", "not a RIFF");
    bytes = wav(1, 1, 8000, 16, le16(1));
    bytes.replace(8, 4, "AVI ");
    expectFailure(parseWav(bytes, "yes.1.wav", {}), "yes.1.wav", 0, "RIFF.format", "not a WAVE");
}

TEST(WavBad, UnsupportedFormatTag)
{
    expectFailure(parseWav(wav(2, 1, 8000, 16, le16(1)), "yes.1.wav", {}), "yes.1.wav", 0, "fmt.formatTag",
                  "0x0002");
}

TEST(WavBad, DataChunkOverrunsFile)
{
    const QByteArray bytes = riff(chunk("fmt ", fmtBody(1, 1, 8000, 16)) + chunk("data", le16(7), 1000));
    const FileImportResult r = parseWav(bytes, "yes.1.wav", {});
    expectFailure(r, "yes.1.wav", 0, "data.size", "exceeds the file");
    EXPECT_TRUE(r.error->message.contains("1000"));
}

TEST(WavBad, ZeroChannels)
{
    QByteArray fmt = fmtBody(1, 1, 8000, 16);
    fmt.replace(2, 2, le16(0));
    expectFailure(parseWav(riff(chunk("fmt ", fmt) + chunk("data", le16(1))), "yes.1.wav", {}), "yes.1.wav", 0,
                  "fmt.channels", "zero channels");
}

TEST(WavBad, TwelveBits)
{
    QByteArray fmt = fmtBody(1, 1, 8000, 16);
    fmt.replace(14, 2, le16(12));
    expectFailure(parseWav(riff(chunk("fmt ", fmt) + chunk("data", le16(1))), "yes.1.wav", {}), "yes.1.wav", 0,
                  "fmt.bitsPerSample", "12 bits");
}

TEST(WavBad, MissingChunksShortFmtAndNoFrames)
{
    expectFailure(parseWav(riff(chunk("fmt ", fmtBody(1, 1, 8000, 16))), "yes.1.wav", {}), "yes.1.wav", 0, "data",
                  "no data chunk");
    expectFailure(parseWav(riff(chunk("data", le16(1)) + chunk("fmt ", fmtBody(1, 1, 8000, 16))), "yes.1.wav", {}),
                  "yes.1.wav", 0, "data", "before the fmt");
    expectFailure(parseWav(riff(chunk("fmt ", "short") + chunk("data", le16(1))), "yes.1.wav", {}), "yes.1.wav", 0,
                  "fmt.size", "at least 16");
    expectFailure(parseWav(wav(1, 2, 8000, 16, le16(1)), "yes.1.wav", {}), "yes.1.wav", 0, "data",
                  "no audio frames");
    expectFailure(parseWav(wav(1, 1, 0, 16, le16(1)), "yes.1.wav", {}), "yes.1.wav", 0, "fmt.sampleRate", "zero");
    expectFailure(parseWav(wav(1, 1, 8000, 16, le16(1)), "nolabel.wav", {}), "nolabel.wav", 0, "label", "no label");
}

TEST(WavBad, FloatNanAndInfinityAreRefusedNamingFrameAndChannel)
{
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const float inf = std::numeric_limits<float>::infinity();
    {
        // Stereo float32: value 3 is frame 1, channel 1.
        const QVector<float> values = {0.25f, -0.5f, 0.125f, nan, 0.f, 0.f};
        const QByteArray pcm(reinterpret_cast<const char *>(values.constData()), int(values.size() * 4));
        const FileImportResult r = parseWav(wav(3, 2, 16000, 32, pcm), "a.b.wav", {});
        expectFailure(r, "a.b.wav", 0, "data", "sample 3 (frame 1, channel 1) is NaN");
    }
    {
        const QVector<float> values = {0.f, -inf};
        const QByteArray pcm(reinterpret_cast<const char *>(values.constData()), 8);
        expectFailure(parseWav(wav(3, 1, 16000, 32, pcm), "a.b.wav", {}), "a.b.wav", 0, "data",
                      "sample 1 (frame 1, channel 0) is infinite");
    }
    {
        // A float64 beyond the float32 range would become infinity.
        const QVector<double> values = {0.5, 1e300};
        const QByteArray pcm(reinterpret_cast<const char *>(values.constData()), 16);
        expectFailure(parseWav(wav(3, 1, 16000, 64, pcm), "a.b.wav", {}), "a.b.wav", 0, "data",
                      "sample 1 (frame 1, channel 0) is infinite");
    }
}
