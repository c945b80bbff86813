#include "IoTestFiles.h"

#include "io/DatasetExporter.h"
#include "io/DatasetImporter.h"

#include <cmath>
#include <limits>

using namespace tinyml;
using namespace tinyml::io;
using iotest::sameBits;

namespace {

const QVector<float> kAwkward = {1e-30f, -0.0f, 3.4e38f, 0.1f, -3.4028235e38f, 1.17549435e-38f,
                                 1.4e-45f, 16777217.f, -1.f / 3.f, 0.0f, 123456.789f, 2.5e-7f};

Sample timeSeries(qint64 id, const QString &label, double rate)
{
    Sample s;
    s.id = id;
    s.label = label;
    s.sampleRateHz = rate;
    s.channels = {"accX", "accY", "accZ"};
    s.units = {"m/s2", "", "g"};
    s.device = "qemu-m4";
    s.data = Tensor::fromFloats(kAwkward, {4, 3});
    return s;
}

QVector<Sample> importAll(const QStringList &files, const ImportOptions &opt = {})
{
    QVector<Sample> out;
    for (const FileImportResult &r : importPaths(files, opt)) {
        EXPECT_TRUE(r.ok()) << r.error->toString().toStdString();
        out += r.samples;
    }
    return out;
}

void expectSameTimeSeries(const Sample &back, const Sample &orig)
{
    EXPECT_EQ(back.label, orig.label);
    EXPECT_EQ(back.channels, orig.channels);
    EXPECT_EQ(back.data.dtype, DType::Float32);
    EXPECT_EQ(back.data.shape, orig.data.shape);
    EXPECT_TRUE(sameBits(back.data.toFloats(), orig.data.toFloats())) << back.source.toStdString();
    EXPECT_NEAR(back.sampleRateHz, orig.sampleRateHz, 1e-9 * orig.sampleRateHz);
}

} // namespace

class ExportRoundTrip : public ::testing::TestWithParam<const char *> {};

TEST_P(ExportRoundTrip, TimeSeriesFloat32BitExact)
{
    const QString format = GetParam();
    const QVector<Sample> samples = {timeSeries(7, "idle", 100), timeSeries(8, "wave", 44100),
                                     timeSeries(9, "up.down/left%", 16000), timeSeries(0, "idle", 62.5)};
    QTemporaryDir dir;
    QStringList written;
    QString error;
    ASSERT_TRUE(exportSamples(samples, dir.filePath("out"), format, {}, &written, &error)) << error.toStdString();
    ASSERT_EQ(written.size(), 4);
    const QString ext = format == "csv" ? ".csv" : format == "ei-json" ? ".json" : ".cbor";
    EXPECT_TRUE(written[0].endsWith("/idle.7" + ext)) << written[0].toStdString();
    EXPECT_TRUE(written[3].endsWith("/idle.4" + ext)) << written[3].toStdString(); // id 0: position

    const QVector<Sample> back = importAll(written);
    ASSERT_EQ(back.size(), 4);
    for (int i = 0; i < 4; ++i) {
        expectSameTimeSeries(back[i], samples[i]);
        EXPECT_EQ(back[i].units, samples[i].units);
    }
    EXPECT_DOUBLE_EQ(back[1].sampleRateHz, 44100.0);
    EXPECT_TRUE(std::signbit(back[0].data.toFloats()[1]));
    if (format != "csv") {
        EXPECT_EQ(back[0].device, "qemu-m4");
    }
}

INSTANTIATE_TEST_SUITE_P(Formats, ExportRoundTrip, ::testing::Values("csv", "ei-json", "ei-cbor"));

TEST(Export, SignedEdgeImpulseReadsBackWithTheKeyOnly)
{
    QTemporaryDir dir;
    QStringList written;
    QString error;
    ASSERT_TRUE(exportSamples({timeSeries(1, "idle", 50)}, dir.path(), "ei-json", "k3y", &written, &error));
    ImportOptions opt;
    opt.hmacKey = "k3y";
    EXPECT_TRUE(importFile(written[0], opt).ok());
    opt.hmacKey = "wrong";
    EXPECT_FALSE(importFile(written[0], opt).ok());
}

TEST(Export, CsvWithoutRateHasNoTimestampColumn)
{
    Sample s = timeSeries(3, "idle", 0);
    s.units.clear();
    QTemporaryDir dir;
    QStringList written;
    QString error;
    ASSERT_TRUE(exportSamples({s}, dir.path(), "csv", {}, &written, &error)) << error.toStdString();
    QFile f(written[0]);
    ASSERT_TRUE(f.open(QIODevice::ReadOnly));
    EXPECT_TRUE(f.readLine().startsWith("accX,accY,accZ"));
    // Reading it back needs the rate the file cannot carry (issue 18, item 8).
    EXPECT_FALSE(importFile(written[0], {}).ok());
    ImportOptions withRate;
    withRate.sampleRateHz = 25;
    const FileImportResult r = importFile(written[0], withRate);
    ASSERT_TRUE(r.ok()) << r.error->toString().toStdString();
    s.sampleRateHz = 25;
    expectSameTimeSeries(r.samples[0], s);
    s.sampleRateHz = 0;
    EXPECT_TRUE(r.samples[0].units.isEmpty());
    // EI files need a rate.
    EXPECT_FALSE(exportSamples({s}, dir.path(), "ei-cbor", {}, &written, &error));
    EXPECT_TRUE(error.contains("sample 3"));
}

TEST(Export, TablesGoToOneDatasetCsvWithSplits)
{
    QVector<Sample> rows;
    for (int i = 0; i < 6; ++i) {
        Sample s;
        s.id = 100 + i;
        s.label = i % 2 ? "on, off" : "idle";
        s.split = i < 4 ? Split::Train : Split::Test;
        s.channels = {"mean", "rms", "peak freq"};
        s.data = Tensor::fromFloats({kAwkward[i], kAwkward[i + 3], kAwkward[i + 6]}, {3});
        rows << s;
    }
    for (const char *format : {"csv", "ei-json"}) {
        QTemporaryDir dir;
        QStringList written;
        QString error;
        ASSERT_TRUE(exportSamples(rows, dir.path(), format, {}, &written, &error)) << error.toStdString();
        ASSERT_EQ(written.size(), 1);
        EXPECT_TRUE(written[0].endsWith("/dataset.csv"));
        const FileImportResult r = importFile(written[0], {});
        ASSERT_TRUE(r.ok()) << r.error->toString().toStdString();
        EXPECT_EQ(r.format, "csv-table");
        ASSERT_EQ(r.samples.size(), rows.size());
        for (int i = 0; i < rows.size(); ++i) {
            EXPECT_EQ(r.samples[i].label, rows[i].label);
            EXPECT_EQ(r.samples[i].split, rows[i].split);
            EXPECT_EQ(r.samples[i].channels, rows[i].channels);
            EXPECT_TRUE(sameBits(r.samples[i].data.toFloats(), rows[i].data.toFloats()));
        }
    }
}

TEST(Export, ImagesGoToLabelFoldersAsPng)
{
    Sample img;
    img.id = 5;
    img.label = "cats";
    img.channels = {"r", "g", "b"};
    img.data.dtype = DType::UInt8;
    img.data.shape = {2, 2, 3};
    img.data.bytes = QByteArray("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\xff", 12);
    QTemporaryDir dir;
    QStringList written;
    QString error;
    ASSERT_TRUE(exportSamples({img}, dir.path(), "csv", {}, &written, &error)) << error.toStdString();
    EXPECT_TRUE(written[0].endsWith("/cats/5.png"));
    const QVector<Sample> back = importAll({dir.path()});
    ASSERT_EQ(back.size(), 1);
    EXPECT_EQ(back[0].label, "cats");
    EXPECT_EQ(back[0].data.shape, img.data.shape);
    EXPECT_EQ(back[0].data.bytes, img.data.bytes);
}

TEST(Export, RefusesWhatCannotBeWritten)
{
    QTemporaryDir dir;
    QString error;
    EXPECT_FALSE(exportSamples({timeSeries(1, "a", 10)}, dir.path(), "xml", {}, nullptr, &error));
    EXPECT_TRUE(error.contains("unknown export format"));
    Sample bad = timeSeries(2, "a", 10);
    bad.data.bytes.chop(4);
    EXPECT_FALSE(exportSamples({bad}, dir.path(), "csv", {}, nullptr, &error));
    EXPECT_TRUE(error.contains("sample 2"));
    Sample nan = timeSeries(3, "a", 10);
    reinterpret_cast<float *>(nan.data.bytes.data())[0] = std::numeric_limits<float>::quiet_NaN();
    EXPECT_FALSE(exportSamples({nan}, dir.path(), "ei-json", {}, nullptr, &error));
    EXPECT_TRUE(error.contains("NaN"));
}
