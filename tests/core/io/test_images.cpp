#include "IoTestFiles.h"

#include "io/DatasetImporter.h"
#include "io/ImageReader.h"

#include <QBuffer>
#include <QImage>

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
