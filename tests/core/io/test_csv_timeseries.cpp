#include "IoTestFiles.h"

#include "io/CsvTimeSeriesReader.h"
#include "io/DatasetImporter.h"

using namespace tinyml;
using namespace tinyml::io;
using iotest::expectFailure;
using iotest::writeFile;

TEST(CsvTimeSeries, TimestampUnitsLabelFromFileName)
{
    QTemporaryDir dir;
    const QString path = writeFile(dir, "idle.sample01.csv",
                                   "timestamp,accX (m/s2),accY (m/s2)\n"
                                   "0,1.5,-2\n"
                                   "10,0.25,3e2\n"
                                   "20,-0.125,1e-3\n");
    const FileImportResult r = importFile(path, {});
    ASSERT_TRUE(r.ok()) << r.error->toString().toStdString();
    EXPECT_EQ(r.format, "csv-timeseries");
    ASSERT_EQ(r.samples.size(), 1);
    const Sample &s = r.samples[0];
    EXPECT_EQ(s.label, "idle");
    EXPECT_EQ(s.source, path);
    EXPECT_EQ(s.split, Split::Train);
    EXPECT_DOUBLE_EQ(s.sampleRateHz, 100.0);
    EXPECT_EQ(s.channels, (QStringList{"accX", "accY"}));
    EXPECT_EQ(s.units, (QStringList{"m/s2", "m/s2"}));
    EXPECT_EQ(s.data.dtype, DType::Float32);
    EXPECT_EQ(s.data.shape, (QVector<qint64>{3, 2}));
    EXPECT_TRUE(s.data.isConsistent());
    EXPECT_EQ(s.data.toFloats(), (QVector<float>{1.5f, -2.f, 0.25f, 300.f, -0.125f, 1e-3f}));
    EXPECT_TRUE(s.created.isValid());
    EXPECT_EQ(s.created.timeSpec(), Qt::UTC);
    EXPECT_TRUE(s.checksum.isEmpty());
}

TEST(CsvTimeSeries, RateFromMedianIntervalIgnoresOneJitteryGap)
{
    const QByteArray csv = "time,x\n0,1\n20,2\n40,3\n65,4\n80,5\n";
    const FileImportResult r = parseTimeSeriesCsv(csv, "walk.a.csv", {});
    ASSERT_TRUE(r.ok());
    EXPECT_DOUBLE_EQ(r.samples[0].sampleRateHz, 50.0);
    EXPECT_TRUE(r.samples[0].units.isEmpty());
}

TEST(CsvTimeSeries, NoTimestampUsesOptionRateSemicolonTabCrlfBomQuotes)
{
    ImportOptions opt;
    opt.sampleRateHz = 62.5;
    opt.label = "wave";
    opt.split = Split::Test;
    const FileImportResult semi = parseTimeSeriesCsv("\xEF\xBB\xBFx;y\r\n1;2\r\n\r\n3;4\r\n", "a.csv", opt);
    ASSERT_TRUE(semi.ok()) << semi.error->toString().toStdString();
    EXPECT_EQ(semi.samples[0].label, "wave");
    EXPECT_EQ(semi.samples[0].split, Split::Test);
    EXPECT_DOUBLE_EQ(semi.samples[0].sampleRateHz, 62.5);
    EXPECT_EQ(semi.samples[0].channels, (QStringList{"x", "y"}));
    EXPECT_EQ(semi.samples[0].data.toFloats(), (QVector<float>{1, 2, 3, 4}));

    const FileImportResult tab = parseTimeSeriesCsv("\"gyro, x\"\t\"say \"\"hi\"\"\"\n+1\t 2 \n", "a.csv", opt);
    ASSERT_TRUE(tab.ok()) << tab.error->toString().toStdString();
    EXPECT_EQ(tab.samples[0].channels, (QStringList{"gyro, x", "say \"hi\""}));
    EXPECT_EQ(tab.samples[0].data.shape, (QVector<qint64>{1, 2}));
}

// ---- bad files: each names the file and line/field, and imports nothing ----------------

TEST(CsvTimeSeriesBad, EmptyFile)
{
    QTemporaryDir dir;
    const QString path = writeFile(dir, "idle.1.csv", "");
    expectFailure(importFile(path, {}), path, 0, "", "empty file");
    expectFailure(parseTimeSeriesCsv("\n  \n", "idle.1.csv", {}), "idle.1.csv", 0, "", "empty file");
}

TEST(CsvTimeSeriesBad, MissingHeader)
{
    expectFailure(parseTimeSeriesCsv("\n0,1,2\n10,1,2\n", "idle.1.csv", {}), "idle.1.csv", 2, "header",
                  "missing header");
}

TEST(CsvTimeSeriesBad, NonNumericCellNamesLineAndColumn)
{
    const FileImportResult r =
        parseTimeSeriesCsv("timestamp,accX,accY\n0,1,2\n10,1,abc\n", "idle.1.csv", {});
    expectFailure(r, "idle.1.csv", 3, "column 3 'accY'", "'abc' is not");
    EXPECT_EQ(r.error->toString(), "idle.1.csv:3: column 3 'accY': 'abc' is not a float32 number");
}

TEST(CsvTimeSeriesBad, RaggedRow)
{
    expectFailure(parseTimeSeriesCsv("t,x,y\n1,2,3\n4,5\n6,7,8\n", "idle.1.csv", {}), "idle.1.csv", 3, "",
                  "ragged row: 2 fields, the header has 3");
}

TEST(CsvTimeSeriesBad, NonMonotonicTimestamps)
{
    expectFailure(parseTimeSeriesCsv("timestamp,x\n0,1\n10,2\n10,3\n", "idle.1.csv", {}), "idle.1.csv", 4,
                  "timestamp", "must increase");
    expectFailure(parseTimeSeriesCsv("timestamp,x\n0,1\n10,2\n5,3\n", "idle.1.csv", {}), "idle.1.csv", 4,
                  "timestamp", "must increase");
}

TEST(CsvTimeSeriesBad, NoLabel)
{
    // "data.csv" has no `label.` prefix and no label option was given.
    expectFailure(parseTimeSeriesCsv("timestamp,x\n0,1\n", "/tmp/data.csv", {}), "/tmp/data.csv", 0, "label",
                  "no label");
}

TEST(CsvTimeSeriesBad, HeaderOnlyUnterminatedQuoteDuplicateAndOutOfRange)
{
    expectFailure(parseTimeSeriesCsv("timestamp,x\n", "a.b.csv", {}), "a.b.csv", 0, "", "no data rows");
    expectFailure(parseTimeSeriesCsv("x,y\n1,\"2\n", "a.b.csv", {}), "a.b.csv", 2, "", "unterminated");
    expectFailure(parseTimeSeriesCsv("x,x\n1,2\n", "a.b.csv", {}), "a.b.csv", 1, "column 2", "duplicate");
    expectFailure(parseTimeSeriesCsv("x\n1e39\n", "a.b.csv", {}), "a.b.csv", 2, "'x'", "float32");
    expectFailure(parseTimeSeriesCsv("timestamp\n1\n", "a.b.csv", {}), "a.b.csv", 1, "header", "no channel");
}

TEST(CsvTimeSeries, TinyValuesUnderflowToSubnormalOrZero)
{
    ImportOptions opt;
    opt.sampleRateHz = 100; // no timestamp column: a rate must be given (issue 18, item 8)
    const FileImportResult r = parseTimeSeriesCsv("x\n1e-40\n1e-50\n-1e-50\n", "a.b.csv", opt);
    ASSERT_TRUE(r.ok()) << r.error->toString().toStdString();
    const QVector<float> v = r.samples[0].data.toFloats();
    EXPECT_EQ(v[0], 1e-40f);
    EXPECT_EQ(v[1], 0.0f);
    EXPECT_TRUE(std::signbit(v[2]));
}

TEST(CsvTimeSeriesBad, NanAndInfinityAreRefusedNamingLineAndColumn)
{
    // std::from_chars reads these spellings; none may reach a sample (issue 18, item 2).
    for (const char *cell : {"nan", "NaN", "-nan", "inf", "-inf", "+inf", "infinity", "-Infinity"}) {
        const QByteArray csv = QByteArray("timestamp,accX,accY\n0,1,2\n10,3,") + cell + "\n20,5,6\n";
        const FileImportResult r = parseTimeSeriesCsv(csv, "idle.1.csv", {});
        ASSERT_TRUE(r.error.has_value()) << cell << " was accepted";
        expectFailure(r, "idle.1.csv", 3, "column 3 'accY'", "is not a finite number");
        EXPECT_TRUE(r.error->toString().contains(QString::fromLatin1(cell).trimmed().remove('+')))
            << r.error->toString().toStdString();
    }
    expectFailure(parseTimeSeriesCsv("timestamp,x\n0,1\nnan,2\n", "idle.1.csv", {}), "idle.1.csv", 3, "timestamp",
                  "'nan' is not a finite number");
    expectFailure(parseTimeSeriesCsv("timestamp,x\n0,1\ninf,2\n", "idle.1.csv", {}), "idle.1.csv", 3, "timestamp",
                  "'inf' is not a finite number");
    // Through the importer too: a bad file imports nothing.
    QTemporaryDir dir;
    const QString path = writeFile(dir, "idle.nan.csv", "x,y\n1,2\n-inf,4\n");
    const FileImportResult r = importFile(path, {});
    expectFailure(r, path, 3, "column 1 'x'", "'-inf' is not a finite number");
    EXPECT_TRUE(r.samples.isEmpty());
}
