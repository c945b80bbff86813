// The MLPerf runner procedure (MlperfBenchmark) and its arithmetic: pure functions, and the
// procedure against a scripted EEMBC DUT with a simulated clock on a real pty.

#include "DeviceTestSupport.h"

#include "device/MlperfBenchmark.h"

#include <QTemporaryDir>

#include <cmath>

using namespace tinyml;
using namespace tinyml::test;

namespace {

/// An EEMBC DUT whose inference takes usPerRun on its clock. Its "model" answers the class
/// given by the first loaded byte (mod classes). With resultsInInfer it prints m-results in
/// the infer reply (the current runner protocol), otherwise only on `results%`.
class ClockedDut
{
public:
    ClockedDut(PtyDevice &pty, qint64 usPerRun, bool resultsInInfer) : m_pty(pty), usPerRun(usPerRun), resultsInInfer(resultsInInfer)
    {
        pty.onReceived = [this](const QByteArray &b) { feed(b); };
    }
    qint64 usPerRun;
    bool resultsInInfer;
    int classes = 3;
    qint64 clockUs = 5000000;
    QByteArray loaded;
    QList<QByteArray> inferCommands;
    int resultsCommands = 0;
    /// After this many infer commands, runs take usPerRunLater (a DUT that speeds up).
    int changeAfter = -1;
    qint64 usPerRunLater = 0;

private:
    void say(const QByteArray &line) { m_pty.write(line + "\r\n"); }
    void feed(const QByteArray &bytes)
    {
        for (char c : bytes) {
            if (c == '\0') {
                m_cmd.clear();
            } else if (c == '%') {
                handle(m_cmd);
                m_cmd.clear();
            } else {
                m_cmd += c;
            }
        }
    }
    QByteArray resultsLine() const
    {
        const int cls = loaded.isEmpty() ? 0 : quint8(loaded[0]) % classes;
        QByteArray line = "m-results-[";
        for (int i = 0; i < classes; ++i)
            line += (i ? "," : "") + QByteArray(i == cls ? "0.900000" : "0.050000");
        return line + "]";
    }
    void handle(const QByteArray &cmd)
    {
        if (cmd == "name") {
            say("m-name-dut-[clocked-dut]");
        } else if (cmd == "profile") {
            say("m-profile-[clocked-0.1]");
            say("m-model-[kws01]");
        } else if (cmd.startsWith("db load ")) {
            m_expected = cmd.mid(8).toInt();
            loaded.clear();
            say("m-load-done");
        } else if (cmd.startsWith("db ")) {
            loaded += QByteArray::fromHex(cmd.mid(3));
            if (loaded.size() >= m_expected)
                say("m-load-done");
        } else if (cmd.startsWith("infer ")) {
            inferCommands << cmd;
            if (changeAfter >= 0 && inferCommands.size() > changeAfter)
                usPerRun = usPerRunLater;
            const QList<QByteArray> parts = cmd.split(' ');
            const qint64 runs = parts.value(1).toLongLong();
            const qint64 warm = parts.value(2).toLongLong();
            clockUs += warm * usPerRun;
            say("m-lap-us-" + QByteArray::number(clockUs));
            clockUs += runs * usPerRun;
            say("m-lap-us-" + QByteArray::number(clockUs));
            if (resultsInInfer)
                say(resultsLine());
            say("m-infer-done");
        } else if (cmd == "results") {
            ++resultsCommands;
            say(resultsLine());
        } else {
            say("e-[unknown command " + cmd + "]");
        }
        say("m-ready");
    }
    PtyDevice &m_pty;
    QByteArray m_cmd;
    int m_expected = 0;
};

QString writeDataset(const QTemporaryDir &dir, const QVector<QPair<quint8, int>> &files)
{
    QByteArray labels;
    for (int i = 0; i < files.size(); ++i) {
        const QString name = QStringLiteral("s%1.bin").arg(i);
        QFile f(dir.filePath(name));
        if (!f.open(QIODevice::WriteOnly))
            ADD_FAILURE() << "cannot write " << name.toStdString();
        f.write(QByteArray(490, char(files[i].first)));
        labels += name.toUtf8() + ", 3, " + QByteArray::number(files[i].second) + "\n";
    }
    QFile l(dir.filePath(QStringLiteral("y_labels.csv")));
    if (!l.open(QIODevice::WriteOnly))
        ADD_FAILURE() << "cannot write y_labels.csv";
    l.write(labels);
    return dir.path();
}

} // namespace

TEST(MlperfArithmetic, ThroughputAndMedian)
{
    EXPECT_DOUBLE_EQ(mlperf::throughput(10, 2000000), 5.0);
    EXPECT_DOUBLE_EQ(mlperf::throughput(4000, 10000000), 400.0);
    EXPECT_EQ(mlperf::throughput(10, 0), 0.0);
    EXPECT_EQ(mlperf::throughput(0, 100), 0.0);
    EXPECT_DOUBLE_EQ(mlperf::median({5.0, 1.0, 4.0, 2.0, 3.0}), 3.0);
    EXPECT_DOUBLE_EQ(mlperf::median({4.0, 1.0, 3.0, 2.0}), 2.5);
    EXPECT_EQ(mlperf::median({}), 0.0);
}

TEST(MlperfArithmetic, RunsForWindow)
{
    // 10 s at 2.5 ms per run: 4000 runs, plus 5 % margin.
    EXPECT_EQ(mlperf::runsForWindow(2500.0, 10.0, 10), 4200);
    // A slow model still gets the runner's minimum of 10 runs.
    EXPECT_EQ(mlperf::runsForWindow(5e6, 10.0, 10), 10);
    EXPECT_EQ(mlperf::runsForWindow(0.0, 10.0, 10), 10);
    EXPECT_LE(mlperf::runsForWindow(1e-6, 3600.0, 1), qint64(2000000000));
}

TEST(MlperfArithmetic, ArgmaxMajorityMean)
{
    EXPECT_EQ(mlperf::argmax({0.1f, 0.7f, 0.7f, 0.2f}), 1); // first of equal maxima
    EXPECT_EQ(mlperf::argmax({}), -1);
    EXPECT_EQ(mlperf::majorityClass({2, 1, 2, 1}), 1);      // tie: the smaller class
    EXPECT_EQ(mlperf::majorityClass({3, 3, 0}), 3);
    EXPECT_EQ(mlperf::majorityClass({}), -1);
    EXPECT_EQ(mlperf::meanScores({{1.0f, 2.0f}, {3.0f, 4.0f}}), (QVector<float>{2.0f, 3.0f}));
    EXPECT_TRUE(mlperf::meanScores({{1.0f}, {1.0f, 2.0f}}).isEmpty());
}

TEST(MlperfArithmetic, RocAuc)
{
    // Perfectly separated: every anomaly scores above every normal file.
    auto perfect = mlperf::rocAuc({0.1, 0.2, 0.3, 0.8, 0.9}, {0, 0, 0, 1, 1});
    ASSERT_TRUE(perfect);
    EXPECT_NEAR(*perfect, 1.0, 1e-9);
    // Inverted scores.
    auto inverted = mlperf::rocAuc({0.9, 0.8, 0.1, 0.2}, {0, 0, 1, 1});
    ASSERT_TRUE(inverted);
    EXPECT_NEAR(*inverted, 0.0, 0.02);
    // One anomaly and one normal file score high, the others low: no better than chance.
    auto mixed = mlperf::rocAuc({0.0, 1.0, 0.0, 1.0}, {0, 1, 1, 0});
    ASSERT_TRUE(mixed);
    // Threshold > 0: positives among {1.0 (label 1), 1.0 (label 0)} -> tpr 0.5, fpr 0.5, up to 0.99;
    // at 1.00 none. Trapezoids: (1,1)->(0.5,0.5): 0.375; (0.5,0.5)->(0,0): 0.125.
    EXPECT_NEAR(*mixed, 0.5, 1e-9);
    EXPECT_FALSE(mlperf::rocAuc({0.1, 0.2}, {0, 0}));   // no anomaly
    EXPECT_FALSE(mlperf::rocAuc({0.1, 0.2}, {0, 2}));   // not a 0/1 label
    EXPECT_FALSE(mlperf::rocAuc({0.1}, {0, 1}));        // sizes differ
}

TEST(MlperfArithmetic, RunnerAverageAucReadsAHighScoreAsClassZero)
{
    // Worked by hand from the runner's definition. Scores 0, 1, 2, 3 normalise to 0, 1/3, 2/3,
    // ~1 (the range gets 1e-10); files of class 1 score 2 and 3, class 0 score 0 and 1.
    // Class 0 (column = score): above t in (0, 1/3) are 1/3 (class 0) and the two class 1
    // files -> tpr 0.5, fpr 1; for t in [1/3, 2/3): tpr 0, fpr 1; for t in [2/3, ~1): tpr 0,
    // fpr 0.5; then 0, 0. Points (1,1) (1,.5) (1,0) (.5,0) (0,0): area 0.
    // Class 1 (column = 1 - score: ~0, 1/3, 2/3, 1 for the scores 3, 2, 1, 0): the class 1
    // files hold the low values, symmetric to class 0: area 0. Mean 0.
    const QVector<double> separable{0, 1, 2, 3};
    const QVector<int> labels{0, 0, 1, 1};
    auto runner = mlperf::runnerAverageAuc(separable, labels);
    ASSERT_TRUE(runner);
    EXPECT_NEAR(*runner, 0.0, 1e-9);
    auto ours = mlperf::rocAuc(separable, labels);
    ASSERT_TRUE(ours);
    EXPECT_NEAR(*ours, 1.0, 1e-9);
    // Negated scores: the runner's reading is then the separable one.
    auto flipped = mlperf::runnerAverageAuc({3, 2, 1, 0}, labels);
    ASSERT_TRUE(flipped);
    EXPECT_NEAR(*flipped, 1.0, 1e-9);
    EXPECT_FALSE(mlperf::runnerAverageAuc({0.1, 0.2}, {1, 1}));
    EXPECT_FALSE(mlperf::runnerAverageAuc({0.1, 0.2}, {0, 3}));
}

class MlperfBenchmarkPty : public ::testing::TestWithParam<bool>
{
};

TEST_P(MlperfBenchmarkPty, FiveWindowsOfAtLeastTheMinimum)
{
    PtyDevice pty;
    ASSERT_TRUE(pty.isValid());
    ClockedDut dut(pty, 2500, GetParam());
    MlperfLink link;
    link.setPortName(pty.slavePath());
    QString error;
    ASSERT_TRUE(link.open(&error)) << error.toStdString();
    MlperfBenchmark bench(&link);
    MlperfPerformanceOptions options;
    options.minWindowS = 0.5;
    int reported = 0;
    auto r = bench.runPerformance({QByteArray(490, 7)}, options, [&](int i, const MlperfWindow &w) {
        EXPECT_EQ(i, reported++);
        EXPECT_GE(w.elapsedUs, 500000);
    }, &error);
    ASSERT_TRUE(r) << error.toStdString();
    ASSERT_EQ(r->windows.size(), 5);
    EXPECT_EQ(reported, 5);
    EXPECT_DOUBLE_EQ(r->calibrationUsPerRun, 2500.0);
    for (const MlperfWindow &w : r->windows) {
        EXPECT_EQ(w.runs, 210); // 0.5 s / 2.5 ms = 200, +5 %
        EXPECT_EQ(w.warmups, 1);
        EXPECT_EQ(w.elapsedUs, 210 * 2500);
        EXPECT_DOUBLE_EQ(w.throughput, 400.0);
    }
    EXPECT_DOUBLE_EQ(r->medianThroughput, 400.0);
    EXPECT_DOUBLE_EQ(r->latencyMs, 2.5);
    // One calibration run, then five windows with the warm-up.
    ASSERT_EQ(dut.inferCommands.size(), 6);
    EXPECT_EQ(dut.inferCommands[0], QByteArray("infer 1 0"));
    EXPECT_EQ(dut.inferCommands[1], QByteArray("infer 210 1"));
}

INSTANTIATE_TEST_SUITE_P(ResultsInInferOrNot, MlperfBenchmarkPty, ::testing::Bool());

TEST(MlperfBenchmarkPtyClock, ShortWindowIsRunAgainLonger)
{
    PtyDevice pty;
    ClockedDut dut(pty, 10000, true);
    dut.changeAfter = 1;       // after calibration the DUT runs 4x faster
    dut.usPerRunLater = 2500;
    MlperfLink link;
    link.setPortName(pty.slavePath());
    QString error;
    ASSERT_TRUE(link.open(&error)) << error.toStdString();
    MlperfBenchmark bench(&link);
    MlperfPerformanceOptions options;
    options.minWindowS = 0.5;
    auto r = bench.runPerformance({QByteArray(16, 1)}, options, {}, &error);
    ASSERT_TRUE(r) << error.toStdString();
    ASSERT_EQ(r->windows.size(), 5);
    for (const MlperfWindow &w : r->windows) {
        EXPECT_GE(w.elapsedUs, 500000);
        EXPECT_DOUBLE_EQ(w.throughput, 400.0);
    }
    // calibration, one short window (53 runs = 132.5 ms), then the longer ones
    EXPECT_EQ(dut.inferCommands[1], QByteArray("infer 53 1"));
    EXPECT_EQ(dut.inferCommands.size(), 7);
}

TEST(MlperfBenchmarkPtyClock, ClockThatNeverAdvancesIsAnError)
{
    PtyDevice pty;
    ClockedDut dut(pty, 0, true); // a clock that never moves
    MlperfLink link;
    link.setPortName(pty.slavePath());
    QString error;
    ASSERT_TRUE(link.open(&error));
    MlperfBenchmark bench(&link);
    EXPECT_FALSE(bench.runPerformance({QByteArray(4, 1)}, {}, {}, &error));
    EXPECT_TRUE(error.contains(QStringLiteral("did not advance"))) << error.toStdString();
}

TEST_P(MlperfBenchmarkPty, AccuracyTop1OverADataset)
{
    QTemporaryDir dir;
    ASSERT_TRUE(dir.isValid());
    // The DUT predicts first byte % 3: files 0,1,2 right, file 3 (byte 4 -> class 1) labelled 2.
    writeDataset(dir, {{0, 0}, {1, 1}, {2, 2}, {4, 2}});
    io::ImportError dsError;
    auto dataset = io::MlperfDataset::open(dir.path(), 490, &dsError);
    ASSERT_TRUE(dataset) << dsError.toString().toStdString();

    PtyDevice pty;
    ClockedDut dut(pty, 2500, GetParam());
    MlperfLink link;
    link.setPortName(pty.slavePath());
    QString error;
    ASSERT_TRUE(link.open(&error));
    MlperfBenchmark bench(&link);
    auto r = bench.runAccuracy(*dataset, false, {}, &error);
    ASSERT_TRUE(r) << error.toStdString();
    ASSERT_EQ(r->files.size(), 4);
    EXPECT_EQ(r->correct, 3);
    EXPECT_DOUBLE_EQ(r->top1, 0.75);
    EXPECT_EQ(r->files[3].predicted, 1);
    EXPECT_EQ(r->resultsFromInferReply, GetParam());
    EXPECT_EQ(dut.resultsCommands, GetParam() ? 0 : 4);
    for (const QByteArray &c : dut.inferCommands)
        EXPECT_EQ(c, QByteArray("infer 1 0"));
}

TEST(MlperfBenchmarkPtyClock, AccuracyOutputCountMustMatchClasses)
{
    QTemporaryDir dir;
    writeDataset(dir, {{0, 0}});
    io::ImportError dsError;
    auto dataset = io::MlperfDataset::open(dir.path(), 0, &dsError);
    ASSERT_TRUE(dataset) << dsError.toString().toStdString();
    PtyDevice pty;
    ClockedDut dut(pty, 2500, true);
    dut.classes = 12;
    MlperfLink link;
    link.setPortName(pty.slavePath());
    QString error;
    ASSERT_TRUE(link.open(&error));
    MlperfBenchmark bench(&link);
    EXPECT_FALSE(bench.runAccuracy(*dataset, false, {}, &error));
    EXPECT_TRUE(error.contains(QStringLiteral("12 outputs"))) << error.toStdString();
    EXPECT_TRUE(error.contains(QStringLiteral("3 classes"))) << error.toStdString();
}
