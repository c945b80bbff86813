#include "IoTestFiles.h"

#include "io/CsvTableReader.h"
#include "io/DatasetImporter.h"

#include <QElapsedTimer>

using namespace tinyml;
using namespace tinyml::io;
using iotest::expectFailure;
using iotest::writeFile;

TEST(CsvTable, RowsBecomeSamplesWithSplitColumn)
{
    QTemporaryDir dir;
    const QString path = writeFile(dir, "features.csv",
                                   "f0,f1,label,split\n"
                                   "0.5,1,walk,train\n"
                                   "-1,2.25,run,test\n"
                                   "3,4,run,\n");
    ImportOptions opt;
    opt.split = Split::Test;
    const FileImportResult r = importFile(path, opt);
    ASSERT_TRUE(r.ok()) << r.error->toString().toStdString();
    EXPECT_EQ(r.format, "csv-table");
    ASSERT_EQ(r.samples.size(), 3);
    EXPECT_EQ(r.samples[0].label, "walk");
    EXPECT_EQ(r.samples[0].split, Split::Train);
    EXPECT_EQ(r.samples[1].split, Split::Test);
    EXPECT_EQ(r.samples[2].split, Split::Test); // empty cell: the option
    EXPECT_EQ(r.samples[1].channels, (QStringList{"f0", "f1"}));
    EXPECT_EQ(r.samples[1].data.shape, (QVector<qint64>{2}));
    EXPECT_EQ(r.samples[1].data.toFloats(), (QVector<float>{-1.f, 2.25f}));
    EXPECT_DOUBLE_EQ(r.samples[1].sampleRateHz, 0.0);
    EXPECT_EQ(r.samples[2].source, path);
}

TEST(CsvTable, CustomLabelColumnAndDetection)
{
    ImportOptions opt;
    opt.labelColumn = "Class";
    EXPECT_EQ(detectFormat("x.csv", "a,b,class\n1,2,x\n", opt), "csv-table");
    EXPECT_EQ(detectFormat("x.csv", "timestamp,b,class\n1,2,3\n", opt), "csv-timeseries");
    EXPECT_EQ(detectFormat("x.csv", "a,b,label\n1,2,3\n", opt), "csv-timeseries");
    const FileImportResult r = parseBytes("a;class;b\n1;cat;2\n", "t.csv", opt);
    ASSERT_TRUE(r.ok()) << r.error->toString().toStdString();
    EXPECT_EQ(r.samples[0].label, "cat");
    EXPECT_EQ(r.samples[0].channels, (QStringList{"a", "b"}));
}

TEST(CsvTable, FiveThousandRowsTwentyFeaturesFast)
{
    QByteArray csv;
    for (int f = 0; f < 20; ++f)
        csv += "f" + QByteArray::number(f) + ",";
    csv += "label\n";
    for (int r = 0; r < 5000; ++r) {
        for (int f = 0; f < 20; ++f)
            csv += QByteArray::number(r * 0.5 + f) + ",";
        csv += (r % 3 ? "a" : "b") + QByteArray("\n");
    }
    QElapsedTimer timer;
    timer.start();
    const FileImportResult r = parseTableCsv(csv, "big.csv", {});
    const qint64 ms = timer.elapsed();
    ASSERT_TRUE(r.ok()) << r.error->toString().toStdString();
    ASSERT_EQ(r.samples.size(), 5000);
    EXPECT_LT(ms, 2000) << "5000 x 20 took " << ms << " ms";
    EXPECT_EQ(r.samples[4321].label, "a");
    EXPECT_EQ(r.samples[4321].data.shape, (QVector<qint64>{20}));
    EXPECT_EQ(r.samples[4321].data.toFloats()[7], float(4321 * 0.5 + 7));
    EXPECT_EQ(r.samples[4321].channels.size(), 20);
}

TEST(CsvTableBad, NoLabelColumn)
{
    ImportOptions opt;
    opt.format = "csv-table";
    expectFailure(parseBytes("a,b\n1,2\n", "t.csv", opt), "t.csv", 1, "header", "no label column 'label'");
    opt.label = "given"; // then every row takes the given label
    const FileImportResult r = parseBytes("a,b\n1,2\n", "t.csv", opt);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.samples[0].label, "given");
}

TEST(CsvTableBad, NonNumericFeature)
{
    expectFailure(parseTableCsv("a,b,label\n1,2,x\n1,two,x\n", "t.csv", {}), "t.csv", 3, "column 2 'b'",
                  "'two' is not");
}

TEST(CsvTableBad, RaggedRow)
{
    expectFailure(parseTableCsv("a,b,label\n1,2,x\n1,2,x,9\n", "t.csv", {}), "t.csv", 3, "", "ragged");
}

TEST(CsvTableBad, EmptyLabelCell)
{
    expectFailure(parseTableCsv("a,label\n1,x\n2, \n", "t.csv", {}), "t.csv", 3, "'label'", "empty label");
}

TEST(CsvTableBad, BadSplitValue)
{
    expectFailure(parseTableCsv("a,label,split\n1,x,validation\n", "t.csv", {}), "t.csv", 2, "'split'",
                  "not train or test");
}

TEST(CsvTableBad, MissingHeaderAndEmpty)
{
    expectFailure(parseTableCsv("1,2,3\n", "t.csv", {}), "t.csv", 1, "header", "missing header");
    expectFailure(parseTableCsv("", "t.csv", {}), "t.csv", 0, "", "empty");
    expectFailure(parseTableCsv("a,label\n", "t.csv", {}), "t.csv", 0, "", "no data rows");
    expectFailure(parseTableCsv("label,split\nx,train\n", "t.csv", {}), "t.csv", 1, "header", "no feature");
}

TEST(CsvTableBad, NanAndInfinityFeaturesAreRefused)
{
    expectFailure(parseTableCsv("a,b,label\n1,2,x\n1,nan,x\n", "t.csv", {}), "t.csv", 3, "column 2 'b'",
                  "'nan' is not a finite number");
    expectFailure(parseTableCsv("a,b,label\n1,2,x\n\n-inf,3,x\n", "t.csv", {}), "t.csv", 4, "column 1 'a'",
                  "'-inf' is not a finite number");
    expectFailure(parseTableCsv("label;a\nx;INF\n", "t.csv", {}), "t.csv", 2, "column 2 'a'",
                  "'INF' is not a finite number");
}
