// Issue 18, item 8: a time series without a rate, long cells in messages, repeated imports,
// Edge Impulse files too large to parse, file names that are not UTF-8.
#include "IoTestFiles.h"

#include "io/CsvTableReader.h"
#include "io/CsvTimeSeriesReader.h"
#include "io/DatasetImporter.h"
#include "io/EdgeImpulseCodec.h"
#include "io/FileNameBytes.h"
#include "io/ImportDuplicates.h"

#include <QCborValue>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstdlib>

using namespace tinyml;
using namespace tinyml::io;
using iotest::expectFailure;
using iotest::writeFile;

TEST(CsvTimeSeriesBad, NoTimestampAndNoRateIsRefusedSayingWhatToAdd)
{
    expectFailure(parseTimeSeriesCsv("x,y\n1,2\n3,4\n", "idle.1.csv", {}), "idle.1.csv", 0, "header",
                  "no timestamp column and no sample rate");
    const FileImportResult r = parseTimeSeriesCsv("x,y\n1,2\n3,4\n", "idle.1.csv", {});
    EXPECT_TRUE(r.error->message.contains("--rate")) << r.error->toString().toStdString();
    // One row with a timestamp has no interval either.
    expectFailure(parseTimeSeriesCsv("timestamp,x\n0,1\n", "idle.1.csv", {}), "idle.1.csv", 0,
                  "column 1 'timestamp'", "no interval");
    // An explicit rate stores it.
    ImportOptions opt;
    opt.sampleRateHz = 50;
    const FileImportResult ok = parseTimeSeriesCsv("x,y\n1,2\n3,4\n", "idle.1.csv", opt);
    ASSERT_TRUE(ok.ok()) << ok.error->toString().toStdString();
    EXPECT_DOUBLE_EQ(ok.samples[0].sampleRateHz, 50.0);
}

TEST(CsvMessages, AHugeCellIsCutInTheMessage)
{
    const QByteArray cell(10 * 1024 * 1024, 'a');
    const QByteArray csv = "timestamp,x\n0,1\n10," + cell + "\n";
    const FileImportResult r = parseTimeSeriesCsv(csv, "idle.1.csv", {});
    expectFailure(r, "idle.1.csv", 3, "column 2 'x'", "is not a float32 number");
    const QString line = r.error->toString();
    EXPECT_LT(line.size(), 300) << "the whole cell was echoed";
    EXPECT_TRUE(line.contains(QString(80, 'a') + QStringLiteral("\u2026 (10485760 bytes)"))) << line.toStdString();

    // A header name and a table cell go through the same helper.
    const QByteArray name(5000, 'n');
    const FileImportResult h = parseTimeSeriesCsv("timestamp," + name + "," + name + "\n0,1,2\n", "a.b.csv", {});
    ASSERT_TRUE(h.error.has_value());
    EXPECT_LT(h.error->toString().size(), 300);
    EXPECT_TRUE(h.error->field.contains("(5000 bytes)")) << h.error->field.toStdString();
    const FileImportResult t = parseTableCsv("f,label,split\n1,a," + cell + "\n", "t.csv", {});
    ASSERT_TRUE(t.error.has_value());
    EXPECT_LT(t.error->toString().size(), 300);
    EXPECT_EQ(messageExcerpt("short"), "short");
}

TEST(ImportDuplicates, SkipsDataTheProjectHoldsAndRepeatsWithinOneImport)
{
    ImportOptions opt;
    opt.sampleRateHz = 100;
    auto parse = [&](const QByteArray &csv, const QString &name) { return parseTimeSeriesCsv(csv, name, opt); };
    QVector<FileImportResult> first{parse("x\n1\n2\n", "a.1.csv"), parse("x\n3\n4\n", "a.2.csv")};
    ASSERT_TRUE(first[0].ok() && first[1].ok());
    const QString storedSum = sha256Hex(first[0].samples[0].data.bytes);

    SampleChecksums known;
    known.insert(storedSum, {7, QStringLiteral("a")});
    // a.1 again (stored as sample 7), b.1 = a.2's data under another label (repeat within
    // the import), c.1 new, and a failed file that is left alone.
    QVector<FileImportResult> again{parse("x\n1\n2\n", "a.1.csv"), parse("x\n3\n4\n", "a.2.csv"),
                                    parse("x\n3\n4\n", "b.1.csv"), parse("x\n5\n6\n", "c.1.csv"),
                                    parse("x\nzz\n", "d.1.csv")};
    EXPECT_EQ(skipDuplicateSamples(again, known), 2);
    EXPECT_TRUE(again[0].ok());
    EXPECT_TRUE(again[0].samples.isEmpty());
    ASSERT_EQ(again[0].duplicates.size(), 1);
    EXPECT_EQ(again[0].duplicates[0].existingId, 7);
    EXPECT_EQ(again[0].duplicates[0].checksum, storedSum);
    EXPECT_EQ(again[1].samples.size(), 1);
    EXPECT_TRUE(again[1].duplicates.isEmpty());
    ASSERT_EQ(again[2].duplicates.size(), 1);
    EXPECT_EQ(again[2].duplicates[0].existingId, 0);
    EXPECT_EQ(again[2].duplicates[0].existingFile, "a.2.csv");
    EXPECT_EQ(again[2].duplicates[0].label, "b");
    EXPECT_EQ(again[2].duplicates[0].existingLabel, "a");
    EXPECT_EQ(again[3].samples.size(), 1);
    EXPECT_FALSE(again[4].ok());

    // Equal rows inside one table CSV are that file's content and stay.
    QVector<FileImportResult> table{parseTableCsv("f,label\n1,a\n1,a\n", "t.csv", {})};
    EXPECT_EQ(skipDuplicateSamples(table, {}), 0);
    EXPECT_EQ(table[0].samples.size(), 2);
}

TEST(ImportDuplicates, FitToProjectChecksTheProjectThenSkipsDuplicates)
{
    // What the GUI's Import data and the CLI's import do before storing: a 3-axis motion
    // project at 100 Hz holding one sample (id 4, label "idle").
    ProjectSettings settings;
    settings.templateName = QStringLiteral("motion");
    settings.sensor = QStringLiteral("accel");
    settings.sampleRateHz = 100;
    ImportOptions opt;
    opt.sampleRateHz = 100;
    auto parse = [&](const QByteArray &csv, const QString &name) { return parseTimeSeriesCsv(csv, name, opt); };
    const FileImportResult stored = parse("x,y,z\n1,2,3\n4,5,6\n", "idle.1.csv");
    ASSERT_TRUE(stored.ok());
    SampleInfo info;
    info.id = 4;
    info.label = QStringLiteral("idle");
    info.channels = {QStringLiteral("x"), QStringLiteral("y"), QStringLiteral("z")};
    info.checksum = sha256Hex(stored.samples[0].data.bytes);

    QVector<FileImportResult> results{parse("x,y,z\n1,2,3\n4,5,6\n", "shake.1.csv"), // same data as 4
                                      parse("x,y\n1,2\n", "two.1.csv"),               // 2 channels
                                      parse("x,y,z\n0,0,9\n1,1,9\n", "idle.2.csv"),  // new
                                      parse("x,y,z\nzz,0,0\n", "bad.1.csv")};         // already failed
    opt.sampleRateHz = 50;
    results << parse("x,y,z\n7,8,9\n", "slow.1.csv");                                 // 50 Hz
    const ProjectFit fit = fitToProject(results, settings, {info});
    EXPECT_EQ(fit.misfitFiles, 2);
    EXPECT_EQ(fit.duplicates, 1);
    EXPECT_TRUE(results[0].ok());
    EXPECT_TRUE(results[0].samples.isEmpty());
    ASSERT_EQ(results[0].duplicates.size(), 1);
    EXPECT_EQ(describeDuplicate(results[0].file, results[0].duplicates[0]),
              "shake.1.csv: skipped a sample labelled 'shake': the same data is already in sample 4, labelled 'idle'");
    ASSERT_FALSE(results[1].ok());
    EXPECT_EQ(results[1].error->field, "channels");
    EXPECT_EQ(results[2].samples.size(), 1);
    EXPECT_FALSE(results[3].ok());
    ASSERT_FALSE(results[4].ok());
    EXPECT_EQ(results[4].error->field, "sample_rate_hz");

    // --allow-duplicates: the project check still applies, the copy is kept.
    opt.sampleRateHz = 100;
    QVector<FileImportResult> again{parse("x,y,z\n1,2,3\n4,5,6\n", "idle.3.csv")};
    const ProjectFit allowed = fitToProject(again, settings, {info}, true);
    EXPECT_EQ(allowed.duplicates, 0);
    EXPECT_EQ(again[0].samples.size(), 1);
    SkippedDuplicate earlier;
    earlier.label = QStringLiteral("a");
    earlier.existingLabel = QStringLiteral("a");
    earlier.existingFile = QStringLiteral("a.2.csv");
    EXPECT_EQ(describeDuplicate("b.csv", earlier),
              "b.csv: skipped a sample labelled 'a': the same data is already in a.2.csv, earlier in this import");
}

TEST(EdgeImpulseBad, AFileOverTheSizeLimitIsRefusedNamingSizeLimitAndHowToRaiseIt)
{
    const QByteArray json = R"({"protected":{"ver":"v1","alg":"none"},"signature":")" + QByteArray(64, '0') +
                            R"(","payload":{"interval_ms":10,"sensors":[{"name":"x","units":"N/A"}],"values":[1,2,3]}})";
    ImportOptions opt;
    ASSERT_TRUE(parseEdgeImpulseJson(json, "a.1.json", opt).ok());
    opt.maxEdgeImpulseBytes = json.size() - 1;
    expectFailure(parseEdgeImpulseJson(json, "a.1.json", opt), "a.1.json", 0, "", "MiB limit");
    const FileImportResult r = parseEdgeImpulseJson(json, "a.1.json", opt);
    EXPECT_TRUE(r.error->message.contains("--max-ei-mb") && r.error->message.contains("TINYML_EI_MAX_MB"));
    opt.maxEdgeImpulseBytes = 10;
    expectFailure(parseEdgeImpulseCbor(QCborValue::fromJsonValue(QJsonDocument::fromJson(json).object()).toCbor(),
                                       "a.1.cbor", opt),
                  "a.1.cbor", 0, "", "MiB limit");

    EXPECT_EQ(defaultEdgeImpulseSizeLimit(), 64 * 1024 * 1024);
    qputenv("TINYML_EI_MAX_MB", "3");
    EXPECT_EQ(defaultEdgeImpulseSizeLimit(), 3 * 1024 * 1024);
    qputenv("TINYML_EI_MAX_MB", "junk");
    EXPECT_EQ(defaultEdgeImpulseSizeLimit(), 64 * 1024 * 1024);
    qunsetenv("TINYML_EI_MAX_MB");
    // Over the default: 64 MiB + 1 byte of spaces after a valid document.
    const QByteArray big = json + QByteArray(64 * 1024 * 1024 + 1 - json.size(), ' ');
    expectFailure(parseEdgeImpulseJson(big, "a.1.json", {}), "a.1.json", 0, "", "64.0 MiB, more than the 64 MiB limit");
}

#ifdef Q_OS_UNIX
TEST(ImportPathsBad, FileNamesThatAreNotUtf8AreNamedByTheirBytes)
{
    QTemporaryDir dir;
    writeFile(dir, "in/idle.1.csv", "timestamp,x\n0,1\n10,2\n");
    // Written through the raw name: Qt cannot spell it.
    const QByteArray rawDir = QFile::encodeName(dir.filePath("in"));
    const QByteArray raw = rawDir + "/idle.\xff" "2.csv";
    FILE *f = std::fopen(raw.constData(), "wb");
    ASSERT_TRUE(f);
    std::fputs("timestamp,x\n0,1\n10,2\n", f);
    std::fclose(f);

    // In a folder: not skipped in silence.
    const QVector<FileImportResult> folder = importPaths({dir.filePath("in")}, {});
    ASSERT_EQ(folder.size(), 2);
    int failed = 0;
    for (const FileImportResult &r : folder) {
        if (r.ok())
            continue;
        ++failed;
        EXPECT_TRUE(r.error->message.contains("\"idle.\\xFF2.csv\" is not valid UTF-8")) << r.error->toString().toStdString();
    }
    EXPECT_EQ(failed, 1);

    // Given directly, as Qt receives it from argv (the invalid byte decoded to U+FFFD).
    const QString given = QFile::decodeName(raw);
    const QVector<FileImportResult> direct = importPaths({given}, {});
    ASSERT_EQ(direct.size(), 1);
    ASSERT_FALSE(direct[0].ok());
    EXPECT_TRUE(direct[0].error->message.contains("\"idle.\\xFF2.csv\" is not valid UTF-8"))
        << direct[0].error->toString().toStdString();
    EXPECT_FALSE(direct[0].error->message.contains("no such file"));

    // A missing file whose given name does not decode says both.
    const QVector<FileImportResult> missing = importPaths({QFile::decodeName(rawDir + "/gone\xfe.csv")}, {});
    ASSERT_EQ(missing.size(), 1);
    EXPECT_TRUE(missing[0].error->message.contains("no such file or folder"));
    EXPECT_TRUE(missing[0].error->message.contains("not valid UTF-8"));
    EXPECT_EQ(describeNameBytes("a\x01\\b\xC3"), "a\\x01\\x5Cb\\xC3");
}
#endif
