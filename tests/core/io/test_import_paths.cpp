#include "IoTestFiles.h"

#include "io/DatasetImporter.h"

using namespace tinyml;
using namespace tinyml::io;
using iotest::writeFile;

TEST(ImportPaths, BatchKeepsGoodFilesAndReportsBadOnesPerFile)
{
    QTemporaryDir dir;
    writeFile(dir, "set/idle.1.csv", "timestamp,x\n0,1\n10,2\n");
    writeFile(dir, "set/idle.2.csv", "timestamp,x\n0,1\n10,oops\n");
    writeFile(dir, "set/sub/wave.3.csv", "timestamp,x\n0,1\n10,2\n");
    writeFile(dir, "set/README.md", "not data");
    writeFile(dir, "set/.hidden.1.csv", "garbage");
    const QString missing = dir.filePath("nope.csv");

    QVector<QPair<int, int>> calls;
    const QVector<FileImportResult> results =
        importPaths({dir.filePath("set"), missing}, {}, [&](int done, int total) {
            calls.append({done, total});
            return true;
        });
    ASSERT_EQ(results.size(), 4);
    // The missing path is reported first (it is known before any file is read).
    EXPECT_EQ(results[0].file, missing);
    EXPECT_FALSE(results[0].ok());
    EXPECT_TRUE(results[1].ok());
    EXPECT_EQ(results[1].samples[0].label, "idle");
    ASSERT_FALSE(results[2].ok());
    EXPECT_EQ(results[2].error->line, 3);
    EXPECT_TRUE(results[2].samples.isEmpty());
    EXPECT_TRUE(results[3].ok());
    EXPECT_EQ(results[3].samples[0].label, "wave");
    EXPECT_EQ(calls, (QVector<QPair<int, int>>{{0, 3}, {1, 3}, {2, 3}, {3, 3}}));
}

TEST(ImportPaths, ProgressCanCancel)
{
    QTemporaryDir dir;
    for (int i = 0; i < 5; ++i)
        writeFile(dir, QStringLiteral("d/a.%1.csv").arg(i), "x\n1\n");
    const QVector<FileImportResult> results =
        importPaths({dir.filePath("d")}, {}, [](int done, int) { return done < 2; });
    EXPECT_EQ(results.size(), 2);
}

TEST(ImportPaths, DetectionByContentForUnknownExtensions)
{
    EXPECT_EQ(detectFormat("a.bin", QByteArray("RIFF\0\0\0\0WAVEfmt ", 16), {}), "wav");
    EXPECT_EQ(detectFormat("a.bin", "\x89PNG\r\n\x1a\n....", {}), "image");
    EXPECT_EQ(detectFormat("a.bin", "  {\"protected\":", {}), "ei-json");
    EXPECT_EQ(detectFormat("a.bin", "\xA3\x69protected", {}), "ei-cbor");
    EXPECT_EQ(detectFormat("a.json", "\xA3\x69protected", {}), "ei-cbor");
    EXPECT_EQ(detectFormat("a.bin", "hello", {}), "");
    const FileImportResult r = parseBytes("hello", "a.bin", {});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error->toString(), "a.bin: unrecognised file type");
}
