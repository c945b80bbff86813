// Truth CSV: the exact header, numbers, order, overlap and label checks, each error naming
// file, line and field.
#include "stream/GroundTruth.h"

#include <gtest/gtest.h>

using namespace tinyml;
using namespace tinyml::stream;

namespace {

const QStringList kLabels = {QStringLiteral("idle"), QStringLiteral("shake"), QStringLiteral("circle")};

io::ImportError refuse(const QByteArray &csv, const QStringList &labels = kLabels)
{
    io::ImportError e;
    auto t = GroundTruth::parseCsv(csv, QStringLiteral("truth.csv"), labels, &e);
    EXPECT_FALSE(t.has_value()) << csv.toStdString();
    EXPECT_EQ(e.file, QStringLiteral("truth.csv"));
    return e;
}

} // namespace

TEST(GroundTruth, ParsesSortsAndAcceptsCrlfQuotesAndBlankLines)
{
    const QByteArray csv = "\xEF\xBB\xBFstart_s,end_s,label\r\n"
                           "9.5,11.5,\"circle\"\r\n"
                           "\r\n"
                           "3,5,shake\r\n"
                           "5,6.25,shake\r\n"
                           "\r\n\r\n";
    io::ImportError e;
    auto t = GroundTruth::parseCsv(csv, QStringLiteral("truth.csv"), kLabels, &e);
    ASSERT_TRUE(t) << e.toString().toStdString();
    ASSERT_EQ(t->events().size(), 3);
    EXPECT_DOUBLE_EQ(t->events()[0].startS, 3.0);
    EXPECT_EQ(t->events()[0].line, 4);
    EXPECT_DOUBLE_EQ(t->events()[1].startS, 5.0); // touching is not overlapping
    EXPECT_DOUBLE_EQ(t->events()[1].endS, 6.25);
    EXPECT_EQ(t->events()[2].label, QStringLiteral("circle"));
    EXPECT_EQ(t->events()[2].line, 2);
    EXPECT_DOUBLE_EQ(t->eventSeconds(), 2 + 1.25 + 2);
    EXPECT_EQ(t->labels(), (QStringList{QStringLiteral("shake"), QStringLiteral("circle")}));
}

TEST(GroundTruth, HeaderOnlyIsAnEmptyTruth)
{
    io::ImportError e;
    auto t = GroundTruth::parseCsv("start_s,end_s,label\n", QStringLiteral("t.csv"), {}, &e);
    ASSERT_TRUE(t);
    EXPECT_TRUE(t->isEmpty());
}

TEST(GroundTruth, RefusesOtherHeaders)
{
    EXPECT_TRUE(refuse("end_s,start_s,label\n1,2,shake\n").message.contains(QStringLiteral("header")));
    EXPECT_EQ(refuse("start_s,end_s,label,score\n1,2,shake,3\n").line, 1);
    EXPECT_EQ(refuse("1,2,shake\n").line, 1); // no header at all
    EXPECT_TRUE(refuse("").message.contains(QStringLiteral("empty")));
    // Case does not matter.
    io::ImportError e;
    EXPECT_TRUE(GroundTruth::parseCsv("Start_S,END_S,Label\n1,2,shake\n", QStringLiteral("t.csv"), kLabels, &e));
}

TEST(GroundTruth, NumbersNameLineAndField)
{
    auto e = refuse("start_s,end_s,label\n1,2,shake\nabc,4,shake\n");
    EXPECT_EQ(e.line, 3);
    EXPECT_EQ(e.field, QStringLiteral("start_s"));
    EXPECT_TRUE(e.message.contains(QStringLiteral("abc")));
    e = refuse("start_s,end_s,label\n1,inf,shake\n");
    EXPECT_EQ(e.field, QStringLiteral("end_s"));
    e = refuse("start_s,end_s,label\nnan,2,shake\n");
    EXPECT_EQ(e.field, QStringLiteral("start_s"));
    e = refuse("start_s,end_s,label\n-1,2,shake\n");
    EXPECT_EQ(e.field, QStringLiteral("start_s"));
    EXPECT_TRUE(e.message.contains(QStringLiteral("negative")));
    e = refuse("start_s,end_s,label\n2,2,shake\n");
    EXPECT_EQ(e.field, QStringLiteral("end_s"));
    e = refuse("start_s,end_s,label\n3,2,shake\n");
    EXPECT_EQ(e.line, 2);
    EXPECT_EQ(e.field, QStringLiteral("end_s"));
    e = refuse("start_s,end_s,label\n1,2\n");
    EXPECT_EQ(e.line, 2);
    e = refuse("start_s,end_s,label\n1,2,shake,extra\n");
    EXPECT_TRUE(e.message.contains(QStringLiteral("4 fields")));
    e = refuse("start_s,end_s,label\n1,2,\n");
    EXPECT_EQ(e.field, QStringLiteral("label"));
}

TEST(GroundTruth, OverlapNamesBothLines)
{
    // Line 4 starts inside line 2's event although line 3 (sorted between them) does not.
    const auto e = refuse("start_s,end_s,label\n1,10,shake\n12,13,circle\n4,5,circle\n");
    EXPECT_EQ(e.line, 4);
    EXPECT_TRUE(e.message.contains(QStringLiteral("line 2"))) << e.message.toStdString();
    EXPECT_EQ(e.toString().left(11), QStringLiteral("truth.csv:4"));
    // Nested in the other order of lines: reported at the later line, naming the earlier.
    const auto f = refuse("start_s,end_s,label\n4,5,circle\n1,10,shake\n");
    EXPECT_EQ(f.line, 3);
    EXPECT_TRUE(f.message.contains(QStringLiteral("line 2")));
}

TEST(GroundTruth, UnknownLabel)
{
    const auto e = refuse("start_s,end_s,label\n1,2,wave\n");
    EXPECT_EQ(e.line, 2);
    EXPECT_EQ(e.field, QStringLiteral("label"));
    EXPECT_TRUE(e.message.contains(QStringLiteral("wave")));
    EXPECT_TRUE(e.message.contains(QStringLiteral("shake")));
    io::ImportError none;
    EXPECT_TRUE(GroundTruth::parseCsv("start_s,end_s,label\n1,2,wave\n", QStringLiteral("t"), {}, &none));
}

TEST(GroundTruth, CsvRoundTrip)
{
    GroundTruth t({TruthEvent{0.1, 0.3, QStringLiteral("a,b"), 0}, TruthEvent{0.3, 1.0 / 3.0 + 1, QStringLiteral("c"), 0}});
    io::ImportError e;
    auto back = GroundTruth::parseCsv(t.toCsv(), QStringLiteral("t"), {}, &e);
    ASSERT_TRUE(back) << e.toString().toStdString();
    ASSERT_EQ(back->events().size(), 2);
    EXPECT_EQ(back->events()[0].label, QStringLiteral("a,b"));
    EXPECT_EQ(back->events()[1].endS, 1.0 / 3.0 + 1);
}

TEST(GroundTruth, ByteOrderMarkAfterSpaceReadsTheSameWrittenBack)
{
    // Found by fuzz_stream_text: whitespace, a BOM, then a label with a tab. The label is
    // quoted when written, so the BOM came first in the field on the second read.
    const QByteArray csv = "start_s,end_s,label\r\n3,5,\t\xEF\xBB\xBF\t\ts\tx\t\n";
    io::ImportError e;
    auto t = GroundTruth::parseCsv(csv, QStringLiteral("t"), {}, &e);
    ASSERT_TRUE(t) << e.toString().toStdString();
    ASSERT_EQ(t->events().size(), 1);
    EXPECT_EQ(t->events()[0].label, QStringLiteral("s\tx"));
    auto back = GroundTruth::parseCsv(t->toCsv(), QStringLiteral("t"), {}, &e);
    ASSERT_TRUE(back) << e.toString().toStdString();
    ASSERT_EQ(back->events().size(), 1);
    EXPECT_EQ(back->events()[0].label, t->events()[0].label);
}

TEST(GroundTruth, MissingFileNamesIt)
{
    io::ImportError e;
    EXPECT_FALSE(GroundTruth::loadCsv(QStringLiteral("/nonexistent/truth.csv"), {}, &e));
    EXPECT_EQ(e.file, QStringLiteral("/nonexistent/truth.csv"));
}
