#include "IoTestFiles.h"

#include "io/DatasetImporter.h"
#include "io/ImageReader.h"

#include <QBuffer>
#include <QImage>
#include <QImageWriter>

using namespace tinyml;
using namespace tinyml::io;
using iotest::expectFailure;
using iotest::writeFile;

namespace {

QByteArray encoded(const QImage &image, const char *format)
{
    QByteArray out;
    QBuffer buffer(&out);
    buffer.open(QIODevice::WriteOnly);
    EXPECT_TRUE(image.save(&buffer, format));
    return out;
}

QImage rgbTestImage()
{
    QImage image(3, 2, QImage::Format_RGB888);
    for (int y = 0; y < 2; ++y)
        for (int x = 0; x < 3; ++x)
            image.setPixel(x, y, qRgb(10 * x, 100 + y, 200 + x + y));
    return image;
}

} // namespace

TEST(Images, PngRgbFromFolderIsLabelledByFolder)
{
    QTemporaryDir dir;
    const QString path = writeFile(dir, "cats/0001.png", encoded(rgbTestImage(), "PNG"));
    const FileImportResult r = importFile(path, {});
    ASSERT_TRUE(r.ok()) << r.error->toString().toStdString();
    EXPECT_EQ(r.format, "image");
    const Sample &s = r.samples[0];
    EXPECT_EQ(s.label, "cats");
    EXPECT_EQ(s.data.dtype, DType::UInt8);
    EXPECT_EQ(s.data.shape, (QVector<qint64>{2, 3, 3}));
    EXPECT_EQ(s.channels, (QStringList{"r", "g", "b"}));
    const auto *p = reinterpret_cast<const uchar *>(s.data.bytes.constData());
    // pixel (x=2, y=1): r=20, g=101, b=203
    EXPECT_EQ(p[(1 * 3 + 2) * 3 + 0], 20);
    EXPECT_EQ(p[(1 * 3 + 2) * 3 + 1], 101);
    EXPECT_EQ(p[(1 * 3 + 2) * 3 + 2], 203);
}

TEST(Images, GrayscaleKeepsOneChannelAndJpegDecodes)
{
    QImage gray(5, 4, QImage::Format_Grayscale8);
    gray.fill(77);
    const FileImportResult g = parseImage(encoded(gray, "PNG"), "/data/digits/seven.png", {});
    ASSERT_TRUE(g.ok()) << g.error->toString().toStdString();
    EXPECT_EQ(g.samples[0].label, "digits");
    EXPECT_EQ(g.samples[0].data.shape, (QVector<qint64>{4, 5, 1}));
    EXPECT_EQ(uchar(g.samples[0].data.bytes[7]), 77);

    ImportOptions opt;
    opt.label = "sky";
    const FileImportResult j = parseImage(encoded(rgbTestImage(), "JPEG"), "/data/x/a.jpg", opt);
    ASSERT_TRUE(j.ok()) << j.error->toString().toStdString();
    EXPECT_EQ(j.samples[0].label, "sky");
    EXPECT_EQ(j.samples[0].data.shape, (QVector<qint64>{2, 3, 3}));
}

TEST(ImagesBad, CorruptPng)
{
    QByteArray png = encoded(rgbTestImage(), "PNG");
    png.truncate(png.size() / 2);
    QTemporaryDir dir;
    const QString path = writeFile(dir, "cats/broken.png", png);
    expectFailure(importFile(path, {}), path, 0, "", "cannot decode PNG");
}

TEST(ImagesBad, CorruptJpeg)
{
    QByteArray jpg = encoded(rgbTestImage(), "JPEG");
    jpg = jpg.left(20);
    expectFailure(parseImage(jpg, "/d/cats/a.jpg", {}), "/d/cats/a.jpg", 0, "", "cannot decode");
}

TEST(ImagesBad, EmptyFileAndTextNamedPng)
{
    QTemporaryDir dir;
    const QString empty = writeFile(dir, "cats/empty.png", "");
    expectFailure(importFile(empty, {}), empty, 0, "", "empty file");
    const QString text = writeFile(dir, "cats/text.png", "hello, I am not an image");
    expectFailure(importFile(text, {}), text, 0, "", "not a PNG or JPEG");
}

TEST(ImagesBad, EmptyFolder)
{
    QTemporaryDir dir;
    QDir(dir.path()).mkpath("cats");
    const QString folder = dir.filePath("cats");
    const QVector<FileImportResult> results = importPaths({folder}, {});
    ASSERT_EQ(results.size(), 1);
    expectFailure(results[0], folder, 0, "", "no importable files");
}

TEST(ImagesBad, HugeDimensionsAreRefusedBeforeDecoding)
{
    // A valid PNG signature and IHDR claiming 100000 x 100000 pixels, nothing after.
    QByteArray png("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x01\x86\xa0\x00\x01\x86\xa0\x08\x02\x00\x00\x00", 29);
    png += QByteArray(4, '\0'); // CRC (wrong, but the size is read first)
    const FileImportResult r = parseImage(png, "/d/cats/huge.png", {});
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(r.samples.isEmpty());
    EXPECT_EQ(r.error->file, "/d/cats/huge.png");
}

// --- issue 18, item 5: a damaged image imports nothing; a huge one says its size -------------

namespace {

/// Big enough that a cut keeps whole MCU rows: libjpeg then decodes the top part and only
/// warns ("Premature end of JPEG file"), which is how truncated JPEGs used to import.
QImage texturedImage(int w, int h)
{
    QImage image(w, h, QImage::Format_RGB888);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
            image.setPixel(x, y, qRgb((x * 7 + y * 3) % 256, (x * y) % 256, (x ^ y) % 256));
    return image;
}

} // namespace

TEST(ImagesBad, TruncatedJpegImportsNothing)
{
    const QByteArray jpg = encoded(texturedImage(128, 128), "JPEG");
    for (const double keep : {0.9, 0.6, 0.3}) {
        QTemporaryDir dir;
        const QString path = writeFile(dir, "cats/cut.jpg", jpg.left(qsizetype(jpg.size() * keep)));
        const QVector<FileImportResult> results = importPaths({dir.filePath("cats")}, {});
        ASSERT_EQ(results.size(), 1);
        expectFailure(results[0], path, 0, "", "truncated");
    }
    // The whole file still imports, also with bytes after the end marker (some cameras).
    EXPECT_TRUE(parseImage(jpg, "/d/cats/whole.jpg", {}).ok());
    EXPECT_TRUE(parseImage(jpg + QByteArray(100, '\0'), "/d/cats/padded.jpg", {}).ok());

    // Progressive: several scans with tables between them; whole it imports, cut it does not.
    QByteArray progressive;
    {
        QBuffer buffer(&progressive);
        buffer.open(QIODevice::WriteOnly);
        QImageWriter writer(&buffer, "jpeg");
        writer.setProgressiveScanWrite(true);
        ASSERT_TRUE(writer.write(texturedImage(128, 128)));
    }
    ASSERT_GT(progressive.count(QByteArray("\xFF\xDA", 2)), 1); // more than one scan
    const FileImportResult whole = parseImage(progressive, "/d/cats/prog.jpg", {});
    EXPECT_TRUE(whole.ok()) << whole.error->toString().toStdString();
    expectFailure(parseImage(progressive.left(progressive.size() * 2 / 3), "/d/cats/prog-cut.jpg", {}),
                  "/d/cats/prog-cut.jpg", 0, "", "truncated");
}

TEST(ImagesBad, JpegWithDamagedScanDataImportsNothing)
{
    QByteArray jpg = encoded(texturedImage(128, 128), "JPEG");
    // Overwrite a stretch of entropy-coded data with markers libjpeg skips with a warning
    // ("Corrupt JPEG data: N extraneous bytes before marker").
    const int sos = int(jpg.indexOf(QByteArray("\xFF\xDA", 2)));
    ASSERT_GT(sos, 0);
    for (int i = sos + 400; i < sos + 420; ++i)
        jpg[i] = char(0xFF);
    jpg[sos + 420] = char(0xD3);
    const FileImportResult r = parseImage(jpg, "/d/cats/damaged.jpg", {});
    // The structure is intact: only libjpeg's warning tells, and it is quoted.
    expectFailure(r, "/d/cats/damaged.jpg", 0, "", "Corrupt JPEG data");
}

TEST(ImagesBad, TruncatedOrDamagedPngImportsNothing)
{
    const QByteArray png = encoded(texturedImage(64, 64), "PNG");
    // Only the IEND chunk missing: every pixel is there, the file is still cut short.
    expectFailure(parseImage(png.left(png.size() - 12), "/d/cats/noend.png", {}),
                  "/d/cats/noend.png", 0, "", "truncated");
    expectFailure(parseImage(png.left(png.size() * 3 / 4), "/d/cats/cut.png", {}),
                  "/d/cats/cut.png", 0, "", "");
    QByteArray flipped = png;
    flipped[png.size() / 2] = char(flipped[png.size() / 2] ^ 0x55);
    expectFailure(parseImage(flipped, "/d/cats/flipped.png", {}), "/d/cats/flipped.png", 0, "", "");
}

TEST(ImagesBad, TenThousandSquarePngSaysItsSizeAndTheLimit)
{
    // A valid IHDR (with its CRC) claiming 10000 x 10000 RGB, then nothing: the size must be
    // refused before decoding, saying the size and the limit.
    const QByteArray ihdr("IHDR\x00\x00\x27\x10\x00\x00\x27\x10\x08\x02\x00\x00\x00", 17);
    quint32 crc = 0xFFFFFFFFu;
    for (char ch : ihdr) {
        crc ^= uchar(ch);
        for (int k = 0; k < 8; ++k)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    crc ^= 0xFFFFFFFFu;
    QByteArray png("\x89PNG\r\n\x1a\n\x00\x00\x00\x0d", 12);
    png += ihdr;
    for (int shift = 24; shift >= 0; shift -= 8)
        png += char((crc >> shift) & 0xFF);
    const FileImportResult r = parseImage(png, "/d/cats/huge.png", {});
    expectFailure(r, "/d/cats/huge.png", 0, "size", "10000 x 10000");
    EXPECT_TRUE(r.error->message.contains(QStringLiteral("limit"))) << r.error->message.toStdString();
    EXPECT_TRUE(r.error->message.contains(QStringLiteral("8192 x 8192"))) << r.error->message.toStdString();
}
