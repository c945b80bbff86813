// MlperfDataset: y_labels.csv rows and the raw files they name; every error names the file,
// the line and the field.
#include "IoTestFiles.h"

#include "io/MlperfDataset.h"

using namespace tinyml::io;

namespace {

std::optional<QVector<MlperfSample>> parse(const QByteArray &text, ImportError *e)
{
    return MlperfDataset::parseLabels(text, QStringLiteral("y_labels.csv"), e);
}

void expectParseError(const QByteArray &text, int line, const QString &field, const QString &messagePart)
{
    ImportError e;
    EXPECT_FALSE(parse(text, &e)) << text.toStdString();
    EXPECT_EQ(e.file, QStringLiteral("y_labels.csv"));
    EXPECT_EQ(e.line, line) << e.toString().toStdString();
    EXPECT_EQ(e.field, field) << e.toString().toStdString();
    EXPECT_TRUE(e.message.contains(messagePart, Qt::CaseInsensitive)) << e.toString().toStdString();
}

} // namespace

TEST(MlperfDatasetLabels, ParsesRunnerRows)
{
    ImportError e;
    auto s = parse("tst_000000_Stop_7.bin, 12, 0\r\ntst_000001_Left_2.bin,12,11\n\n", &e);
    ASSERT_TRUE(s) << e.toString().toStdString();
    ASSERT_EQ(s->size(), 2);
    EXPECT_EQ((*s)[0].file, QStringLiteral("tst_000000_Stop_7.bin"));
    EXPECT_EQ((*s)[0].classes, 12);
    EXPECT_EQ((*s)[0].label, 0);
    EXPECT_EQ((*s)[1].label, 11);
    EXPECT_EQ((*s)[1].line, 2);
    EXPECT_EQ((*s)[1].bytesToSend, 0);
}

TEST(MlperfDatasetLabels, HeaderQuotesAndWindowFields)
{
    ImportError e;
    auto s = parse("\xEF\xBB\xBF" "file,classes,class,bytes_to_send,stride\n\"normal_id_01.bin\",2,0,2560,512\n", &e);
    ASSERT_TRUE(s) << e.toString().toStdString();
    ASSERT_EQ(s->size(), 1);
    EXPECT_EQ((*s)[0].file, QStringLiteral("normal_id_01.bin"));
    EXPECT_EQ((*s)[0].bytesToSend, 2560);
    EXPECT_EQ((*s)[0].stride, 512);
    EXPECT_EQ((*s)[0].line, 2);
}

TEST(MlperfDatasetLabels, BadRowsNameLineAndField)
{
    expectParseError("a.bin,12,0\nb.bin,12\n", 2, QString(), QStringLiteral("has 2 fields"));
    expectParseError("a.bin,twelve,0\n", 1, QStringLiteral("classes"), QStringLiteral("'twelve'"));
    expectParseError("a.bin,0,0\n", 1, QStringLiteral("classes"), QStringLiteral("class count"));
    expectParseError("a.bin,12,12\n", 1, QStringLiteral("class"), QStringLiteral("from 0 to 11"));
    expectParseError("a.bin,12,-1\n", 1, QStringLiteral("class"), QStringLiteral("'-1'"));
    expectParseError(" ,12,1\n", 1, QStringLiteral("file"), QStringLiteral("empty"));
    expectParseError("../etc/passwd,12,1\n", 1, QStringLiteral("file"), QStringLiteral("inside the data set folder"));
    expectParseError("/etc/passwd,12,1\n", 1, QStringLiteral("file"), QStringLiteral("inside the data set folder"));
    expectParseError("a.bin,2,0,0,512\n", 1, QStringLiteral("bytes_to_send"), QStringLiteral("'0'"));
    expectParseError("a.bin,2,0,2560,x\n", 1, QStringLiteral("stride"), QStringLiteral("'x'"));
    expectParseError("a.bin,12,0\nb.bin,10,0\n", 2, QStringLiteral("classes"), QStringLiteral("differs"));
    expectParseError("a.bin,12,99999999999999999999\n", 1, QStringLiteral("class"), QStringLiteral("from 0 to 11"));
    expectParseError("\n\n", 0, QString(), QStringLiteral("no sample rows"));
    expectParseError(QByteArray("a.bin,12,0\nb\0in,12,0\n", 22), 2, QString(), QStringLiteral("NUL"));
}

TEST(MlperfDatasetFolder, OpensAndChecksFiles)
{
    QTemporaryDir dir;
    ASSERT_TRUE(dir.isValid());
    iotest::writeFile(dir, QStringLiteral("a.bin"), QByteArray(490, 1));
    iotest::writeFile(dir, QStringLiteral("sub/b.bin"), QByteArray(490, 2));
    iotest::writeFile(dir, QStringLiteral("y_labels.csv"), "a.bin, 12, 3\nsub/b.bin, 12, 4\n");
    ImportError e;
    auto d = MlperfDataset::open(dir.path(), 490, &e);
    ASSERT_TRUE(d) << e.toString().toStdString();
    EXPECT_EQ(d->size(), 2);
    auto in = d->inputs(1, &e);
    ASSERT_TRUE(in);
    ASSERT_EQ(in->size(), 1);
    EXPECT_EQ(in->first(), QByteArray(490, 2));
}

TEST(MlperfDatasetFolder, MissingOrMisfitFilesAreNamed)
{
    QTemporaryDir dir;
    iotest::writeFile(dir, QStringLiteral("a.bin"), QByteArray(490, 1));
    iotest::writeFile(dir, QStringLiteral("short.bin"), QByteArray(100, 1));
    const QString labels = dir.filePath(QStringLiteral("y_labels.csv"));
    ImportError e;

    iotest::writeFile(dir, QStringLiteral("y_labels.csv"), "a.bin,12,3\nmissing.bin,12,4\n");
    EXPECT_FALSE(MlperfDataset::open(dir.path(), 490, &e));
    EXPECT_EQ(e.file, labels);
    EXPECT_EQ(e.line, 2);
    EXPECT_EQ(e.field, QStringLiteral("file"));
    EXPECT_TRUE(e.message.contains(QStringLiteral("'missing.bin' does not exist"))) << e.toString().toStdString();

    iotest::writeFile(dir, QStringLiteral("y_labels.csv"), "short.bin,12,3\n");
    EXPECT_FALSE(MlperfDataset::open(dir.path(), 490, &e));
    EXPECT_EQ(e.line, 1);
    EXPECT_TRUE(e.message.contains(QStringLiteral("100 bytes, but the model's input has 490"))) << e.toString().toStdString();
    EXPECT_TRUE(MlperfDataset::open(dir.path(), 0, &e)) << e.toString().toStdString(); // size unknown: accepted

    QDir(dir.path()).mkdir(QStringLiteral("folder.bin"));
    iotest::writeFile(dir, QStringLiteral("y_labels.csv"), "folder.bin,12,3\n");
    EXPECT_FALSE(MlperfDataset::open(dir.path(), 0, &e));
    EXPECT_TRUE(e.message.contains(QStringLiteral("not a regular file"))) << e.toString().toStdString();

    QFile::remove(labels);
    EXPECT_FALSE(MlperfDataset::open(dir.path(), 0, &e));
    EXPECT_EQ(e.file, labels);
    EXPECT_TRUE(e.message.contains(QStringLiteral("missing"))) << e.toString().toStdString();

    EXPECT_FALSE(MlperfDataset::open(dir.filePath(QStringLiteral("a.bin")), 0, &e));
    EXPECT_TRUE(e.message.contains(QStringLiteral("not a folder"))) << e.toString().toStdString();
}

TEST(MlperfDatasetFolder, AnomalyWindows)
{
    QByteArray data;
    for (int i = 0; i < 10; ++i)
        data += char(i);
    const auto w = MlperfDataset::windows(data, 4, 3);
    ASSERT_EQ(w.size(), 3); // starts 0, 3, 6; a window at 9 would not fit
    EXPECT_EQ(w[0], data.mid(0, 4));
    EXPECT_EQ(w[2], data.mid(6, 4));
    EXPECT_TRUE(MlperfDataset::windows(data, 11, 1).isEmpty());
    EXPECT_TRUE(MlperfDataset::windows(data, 0, 1).isEmpty());

    QTemporaryDir dir;
    iotest::writeFile(dir, QStringLiteral("n.bin"), data);
    iotest::writeFile(dir, QStringLiteral("y_labels.csv"), "n.bin,2,0,4,3\n");
    ImportError e;
    auto d = MlperfDataset::open(dir.path(), 4, &e);
    ASSERT_TRUE(d) << e.toString().toStdString();
    auto in = d->inputs(0, &e);
    ASSERT_TRUE(in);
    EXPECT_EQ(in->size(), 3);
    EXPECT_FALSE(MlperfDataset::open(dir.path(), 8, &e));
    EXPECT_EQ(e.field, QStringLiteral("bytes_to_send"));
}
