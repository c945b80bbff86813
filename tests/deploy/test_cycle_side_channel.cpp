// The cycle model's side channel (deploy/CycleSideChannel): the parser of the plugin's file
// (outside input: every bad line is refused with its line number and field) and the pairing
// of the agent's marks into runs and layers (firmware-agent/qemu-plugin/README.md).
#include "CycleSideChannel.h"
#include "Profiler.h"

#include <QJsonArray>
#include <QJsonObject>

#include <QFile>
#include <QTemporaryDir>

#include <gtest/gtest.h>

using namespace tinyml::deploy;

namespace {

const QByteArray kHeader =
    "tinyml-cycles format=1 core=m4 model=cortex-m4-trm-r0p1/1 ws=0 branches=exact flash=0x00000000+0x400000\n";

QByteArray mark(const char *kind, quint64 seq, quint64 cycles, quint64 insns)
{
    return QStringLiteral("mark kind=%1 seq=%2 cycles=%3 insns=%4 low=%5 high=%6\n")
        .arg(QLatin1String(kind)).arg(seq).arg(cycles).arg(insns).arg(cycles - cycles / 100).arg(cycles + cycles / 100)
        .toLatin1();
}

/// Parses text as a whole file; returns the error ("" when it parsed).
QString parseError(const QByteArray &text, CycleChannelChunk *chunk = nullptr)
{
    CycleChannelChunk c;
    QString error;
    const bool ok = parseCycleChannel(text, 1, QStringLiteral("cycles.txt"), nullptr, &c, &error);
    if (chunk)
        *chunk = c;
    EXPECT_EQ(ok, error.isEmpty()) << error.toStdString();
    return ok ? QString() : error;
}

void writeFile(const QString &path, const QByteArray &bytes, bool append = false)
{
    QFile f(path);
    ASSERT_TRUE(f.open(append ? QIODevice::Append : QIODevice::WriteOnly));
    f.write(bytes);
}

} // namespace

TEST(CycleSideChannel, ParsesTheHeaderMarksAndTotal)
{
    const QByteArray text = kHeader + mark("invoke_begin", 0, 1000, 600) + mark("invoke_end", 1, 5000, 2600)
                            + "unknown vaddr=0x000083fc size=4 hw1=f7ff hw2=bffe\n"
                            + "total cycles=6000 insns=3000 low=5900 high=6100 marks=2 taken=1 exceptions=0 cut=0 "
                              "flash_loads=0 unknown=0\n";
    CycleChannelChunk c;
    ASSERT_EQ(parseError(text, &c), QString());
    ASSERT_TRUE(c.header);
    EXPECT_EQ(c.header->format, 1);
    EXPECT_EQ(c.header->core, "m4");
    EXPECT_EQ(c.header->model, "cortex-m4-trm-r0p1/1");
    EXPECT_EQ(c.header->waitStates, 0);
    EXPECT_EQ(c.header->branches, "exact");
    ASSERT_EQ(c.marks.size(), 2);
    EXPECT_EQ(c.marks[0].kind, CycleMarkKind::InvokeBegin);
    EXPECT_EQ(c.marks[1].kind, CycleMarkKind::InvokeEnd);
    EXPECT_EQ(c.marks[1].seq, 1u);
    EXPECT_EQ(c.marks[1].cycles, 5000u);
    EXPECT_EQ(c.marks[1].insns, 2600u);
    EXPECT_EQ(c.marks[1].low, 4950u);
    EXPECT_EQ(c.marks[1].high, 5050u);
    EXPECT_EQ(c.marks[1].line, 3);
    EXPECT_TRUE(c.sawTotal);
    EXPECT_EQ(c.lines, 5);
    EXPECT_EQ(c.consumedBytes, text.size());
}

TEST(CycleSideChannel, IgnoresUnknownKeysAndRecordWords)
{
    // Later formats only add: keys and records this reader does not know are skipped.
    const QByteArray text =
        "tinyml-cycles format=2 core=m7 model=cortex-m7-rough/1 ws=3 branches=exact extra=yes\n"
        "mark kind=invoke_begin seq=4 cycles=10 insns=9 low=10 high=10 vcpu=0 note=x\n"
        "energy nj=17\n"
        "mark kind=someday seq=5 cycles=11 insns=10\n"
        "mark kind=invoke_end seq=6 cycles=20 insns=15 pc=0x1234\n";
    CycleChannelChunk c;
    ASSERT_EQ(parseError(text, &c), QString());
    EXPECT_EQ(c.header->format, 2);
    EXPECT_EQ(c.header->core, "m7");
    EXPECT_EQ(c.header->waitStates, 3);
    ASSERT_EQ(c.marks.size(), 3);
    EXPECT_EQ(c.marks[1].kind, CycleMarkKind::Unknown);
    // low/high default to cycles when absent
    EXPECT_EQ(c.marks[2].low, 20u);
    EXPECT_EQ(c.marks[2].high, 20u);
    const auto runs = pairInvokes(c.marks, nullptr);
    ASSERT_TRUE(runs);
    ASSERT_EQ(runs->size(), 1);
    EXPECT_EQ((*runs)[0].cycles, 10u);
    EXPECT_EQ((*runs)[0].insns, 6u);
}

TEST(CycleSideChannel, LeavesATruncatedLastLineForTheNextRead)
{
    const QByteArray whole = kHeader + mark("invoke_begin", 0, 100, 50);
    const QByteArray partial = "mark kind=invoke_end seq=1 cyc";
    CycleChannelChunk c;
    ASSERT_EQ(parseError(whole + partial, &c), QString());
    EXPECT_EQ(c.marks.size(), 1);
    EXPECT_EQ(c.consumedBytes, whole.size()) << "the unfinished line is not consumed";

    // The reader picks it up once the plugin has finished the line.
    QTemporaryDir dir;
    const QString path = dir.filePath("cycles.txt");
    writeFile(path, whole + partial);
    CycleSideChannel ch(path);
    QString error;
    auto marks = ch.readNew(&error);
    ASSERT_TRUE(marks) << error.toStdString();
    EXPECT_EQ(marks->size(), 1);
    EXPECT_EQ(ch.offset(), whole.size());
    writeFile(path, "les=900 insns=450\n", true);
    marks = ch.readNew(&error);
    ASSERT_TRUE(marks) << error.toStdString();
    ASSERT_EQ(marks->size(), 1);
    EXPECT_EQ((*marks)[0].kind, CycleMarkKind::InvokeEnd);
    EXPECT_EQ((*marks)[0].cycles, 900u);
    EXPECT_EQ((*marks)[0].line, 3);
}

TEST(CycleSideChannel, CatchUpSkipsEarlierMarks)
{
    QTemporaryDir dir;
    const QString path = dir.filePath("cycles.txt");
    writeFile(path, kHeader + mark("invoke_begin", 0, 100, 50) + mark("invoke_end", 1, 200, 90));
    CycleSideChannel ch(path);
    QString error;
    ASSERT_TRUE(ch.catchUp(&error)) << error.toStdString();
    ASSERT_TRUE(ch.header());
    EXPECT_EQ(ch.header()->model, "cortex-m4-trm-r0p1/1");
    writeFile(path, mark("invoke_begin", 2, 300, 100) + mark("invoke_end", 3, 450, 170), true);
    const auto marks = ch.readNew(&error);
    ASSERT_TRUE(marks) << error.toStdString();
    const auto runs = pairInvokes(*marks, &error);
    ASSERT_TRUE(runs) << error.toStdString();
    ASSERT_EQ(runs->size(), 1) << "only the run written after catchUp()";
    EXPECT_EQ((*runs)[0].cycles, 150u);
    EXPECT_EQ((*runs)[0].insns, 70u);

    // Nothing new: an empty list, not an error.
    const auto none = ch.readNew(&error);
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->isEmpty());
}

TEST(CycleSideChannel, RefusesGarbageNamingTheLine)
{
    struct Case {
        QByteArray text;
        const char *expect;
    };
    const QByteArray m0 = mark("invoke_begin", 0, 100, 50);
    const Case cases[] = {
        {"hello\n", "line 1: expected the header"},
        {QByteArray("\x7f" "ELF\x01\x02\n", 7), "line 1: holds bytes that are not printable"},
        {kHeader + "mark kind=invoke_begin seq=0 cycles=12a insns=5\n", "line 2: field cycles: \"12a\" is not a decimal number"},
        {kHeader + "mark kind=invoke_begin seq=0 cycles=-1 insns=5\n", "line 2: field cycles"},
        {kHeader + "mark kind=invoke_begin seq=0 insns=5\n", "line 2: field cycles is missing"},
        {kHeader + "mark seq=0 cycles=1 insns=5\n", "line 2: field kind is missing"},
        {kHeader + "mark kind=invoke_begin seq=0 cycles=1 cycles=2 insns=5\n", "line 2: field cycles given twice"},
        {kHeader + "mark kind=invoke_begin seq=0 cycles=1 insns\n", "line 2: \"insns\" is not key=value"},
        {kHeader + "mark kind=invoke_begin  seq=0 cycles=1 insns=1\n", "line 2: \"\" is not key=value"},
        {kHeader + "mark kind=invoke_begin seq=0 cycles=1" + QByteArray(1, '\0') + " insns=1\n", "line 2: holds bytes that are not printable"},
        {kHeader + "mark kind=invoke_begin seq=0 cycles=10 insns=5 low=11 high=12\n", "line 2: bounds low=11 cycles=10 high=12"},
        {kHeader + m0 + mark("invoke_end", 2, 200, 60), "line 3: mark seq=2 follows seq=0 (line 2)"},
        {kHeader + m0 + mark("invoke_end", 1, 99, 60), "line 3: cumulative cycles/insns went backwards"},
        {kHeader + m0 + kHeader, "line 3: a second header"},
        {"tinyml-cycles core=m4 model=x\n", "line 1: field format is missing"},
        {"tinyml-cycles format=1 model=x\n", "line 1: field core is missing"},
        {"tinyml-cycles format=1 core=m4 model=x ws=16\n", "line 1: field ws: 16 is larger than 15"},
        {kHeader + QByteArray(2000, 'a') + "\n", "line 2: longer than 1024 bytes"},
        {kHeader + QByteArray(2000, 'a'), "line 2: longer than 1024 bytes"},   // even unfinished
    };
    for (const Case &c : cases) {
        const QString error = parseError(c.text);
        EXPECT_TRUE(error.contains(QLatin1String(c.expect))) << "text: " << c.text.left(80).toStdString()
                                                              << "\nerror: " << error.toStdString();
        EXPECT_TRUE(error.startsWith(QLatin1String("cycles.txt: line "))) << error.toStdString();
    }
}

TEST(CycleSideChannel, RefusesHugeNumbers)
{
    // Beyond 2^53 a JSON double would round the count; far beyond, a naive conversion overflows.
    const QString limit = QString::number(kCycleChannelMaxValue);
    for (const QByteArray &n : {QByteArray("9007199254740993"), QByteArray("18446744073709551616"),
                                QByteArray(300, '9')}) {
        const QString error = parseError(kHeader + "mark kind=invoke_begin seq=0 cycles=" + n + " insns=1\n");
        EXPECT_TRUE(error.contains(QLatin1String("line 2: field cycles:"))) << error.toStdString();
        EXPECT_TRUE(error.contains(QStringLiteral("is larger than %1").arg(limit))) << error.toStdString();
    }
    EXPECT_EQ(parseError(kHeader + "mark kind=invoke_begin seq=0 cycles=9007199254740992 insns=1\n"), QString());
}

TEST(CycleSideChannel, ReaderReportsAShrunkOrMissingFile)
{
    QTemporaryDir dir;
    const QString path = dir.filePath("cycles.txt");
    QString error;
    CycleSideChannel missing(dir.filePath("none.txt"));
    EXPECT_FALSE(missing.readNew(&error));
    EXPECT_TRUE(error.contains("none.txt")) << error.toStdString();

    writeFile(path, kHeader + mark("invoke_begin", 0, 100, 50));
    CycleSideChannel ch(path);
    ASSERT_TRUE(ch.catchUp(&error));
    writeFile(path, kHeader);   // QEMU restarted and truncated it
    EXPECT_FALSE(ch.readNew(&error));
    EXPECT_TRUE(error.contains("shrank")) << error.toStdString();

    // A bad line leaves the reader where it was: fixing the file lets it go on.
    writeFile(path, kHeader + mark("invoke_begin", 0, 100, 50));
    CycleSideChannel again(path);
    ASSERT_TRUE(again.catchUp(&error));
    writeFile(path, "mark kind=invoke_end seq=1 cycles=x insns=1\n", true);
    EXPECT_FALSE(again.readNew(&error));
    EXPECT_TRUE(error.contains("line 3: field cycles")) << error.toStdString();
    EXPECT_EQ(again.offset(), kHeader.size() + mark("invoke_begin", 0, 100, 50).size());
}

TEST(CycleSideChannel, PairsInvokesAndRefusesBrokenSequences)
{
    CycleChannelChunk c;
    ASSERT_EQ(parseError(kHeader + mark("invoke_begin", 0, 100, 50) + mark("user", 1, 120, 60)
                             + mark("invoke_end", 2, 400, 200) + mark("invoke_begin", 3, 500, 260)
                             + mark("invoke_end", 4, 810, 420),
                         &c),
              QString());
    QString error;
    const auto runs = pairInvokes(c.marks, &error);
    ASSERT_TRUE(runs) << error.toStdString();
    ASSERT_EQ(runs->size(), 2);
    EXPECT_EQ((*runs)[0].cycles, 300u);
    EXPECT_EQ((*runs)[1].cycles, 310u);
    EXPECT_EQ((*runs)[1].insns, 160u);

    ASSERT_EQ(parseError(kHeader + mark("invoke_begin", 0, 100, 50) + mark("layer_end", 1, 120, 60), &c), QString());
    EXPECT_FALSE(pairInvokes(c.marks, &error));
    EXPECT_TRUE(error.contains("line 3 (layer_end seq=1): expected invoke_end")) << error.toStdString();
    ASSERT_EQ(parseError(kHeader + mark("invoke_begin", 0, 100, 50), &c), QString());
    EXPECT_FALSE(pairInvokes(c.marks, &error));
    EXPECT_TRUE(error.contains("line 2 (invoke_begin seq=0): invoke_begin without its invoke_end")) << error.toStdString();
    ASSERT_EQ(parseError(kHeader + mark("invoke_end", 0, 100, 50), &c), QString());
    EXPECT_FALSE(pairInvokes(c.marks, &error));
    EXPECT_TRUE(error.contains("expected invoke_begin")) << error.toStdString();
}

TEST(CycleSideChannel, SplitsLayerRunsExactlyAndKeepsTheMinimumPerLayer)
{
    // Two runs of a two-layer model. Run 1: begin 1000, layer 0 ends 1300, hook to 1415,
    // layer 1 ends 1915, hook to 2030, end 2050. Run 2 has a slower layer 0 and a faster layer 1.
    QByteArray text = kHeader;
    quint64 seq = 0;
    const auto add = [&](const char *kind, quint64 cycles) { text += mark(kind, seq++, cycles, cycles / 2); };
    add("invoke_begin", 1000);
    add("layer_end", 1300);
    add("layer_resume", 1415);
    add("layer_end", 1915);
    add("layer_resume", 2030);
    add("invoke_end", 2050);
    add("invoke_begin", 3000);
    add("layer_end", 3310);
    add("layer_resume", 3425);
    add("layer_end", 3915);
    add("layer_resume", 4030);
    add("invoke_end", 4050);
    CycleChannelChunk c;
    ASSERT_EQ(parseError(text, &c), QString());
    QString error;
    const auto split = pairLayerRuns(c.marks, 2, &error);
    ASSERT_TRUE(split) << error.toStdString();
    EXPECT_EQ(split->runs, 2);
    EXPECT_EQ(split->layerCycles, (QVector<quint64>{300, 490}));
    EXPECT_EQ(split->layerInsns, (QVector<quint64>{150, 245}));
    // The fastest run (1050 vs 1050: the first) split exactly into its parts.
    EXPECT_EQ(split->invokeCycles, 1050u);
    EXPECT_EQ(split->layerSumCycles, 800u);
    EXPECT_EQ(split->hookCycles, 230u);
    EXPECT_EQ(split->tailCycles, 20u);
    EXPECT_EQ(split->layerSumCycles + split->hookCycles + split->tailCycles, split->invokeCycles);

    // The wrong layer count, a missing resume, an unfinished run: errors naming the mark.
    EXPECT_FALSE(pairLayerRuns(c.marks, 3, &error));
    EXPECT_TRUE(error.contains("line 7 (invoke_end seq=5): expected layer_end (run 1, 3 layers per run)"))
        << error.toStdString();
    EXPECT_FALSE(pairLayerRuns(c.marks.mid(0, 8), 2, &error));
    EXPECT_TRUE(error.contains("line 8 (invoke_begin seq=6): the run it begins has no invoke_end")) << error.toStdString();
    QVector<CycleMark> noResume = c.marks.mid(0, 6);
    noResume.remove(2);
    EXPECT_FALSE(pairLayerRuns(noResume, 2, &error));
    EXPECT_TRUE(error.contains("expected layer_resume")) << error.toStdString();
    EXPECT_FALSE(pairLayerRuns({}, 2, &error));
    EXPECT_TRUE(error.contains("no layer-profile run")) << error.toStdString();
}

TEST(CycleSideChannel, LabelsSayEstimatedAndTheModel)
{
    EXPECT_EQ(cycleModelLabel("m4", 0), "estimated (Cortex-M4 timing model, zero wait states)");
    EXPECT_EQ(cycleModelLabel("cortex-m4", 5), "estimated (Cortex-M4 timing model, 5 flash wait states, no prefetch or cache modelled)");
    EXPECT_EQ(cycleModelLabel("m7", 0), "estimated (Cortex-M7 rough timing model, zero wait states)");
    EXPECT_EQ(normalizedCycleCore("Cortex-M4F"), "m4");
    EXPECT_EQ(normalizedCycleCore("cortex-m0plus"), "");
}

// Profiles are stored as JSON in the project: the estimate's keys round-trip, and a profile
// stored before them (no such keys) still loads, without an estimate.
TEST(ProfileResultCycles, JsonRoundTripAndOldProfilesLoad)
{
    ProfileResult r;
    r.board = "qemu-m4";
    r.counter = "instructions";
    r.layers = {LayerProfile{"conv", "conv2d", 100, 400, 0.016, 555}, LayerProfile{"fc", "fully_connected", 10, 40, 0.0016, 77}};
    r.hasCycleEstimate = true;
    r.cycleModel = {"m4", "cortex-m4-trm-r0p1/1", 0, 1, cycleModelLabel("m4", 0)};
    r.runCycles = {700, 690, 710};
    r.cyclesMin = 690;
    r.cyclesMedian = 700;
    r.cyclesMax = 710;
    r.cyclesLow = 680;
    r.cyclesHigh = 720;
    r.cyclesPerInstruction = 1.45;
    r.layerRunCycles = 900;
    r.layerHookCycles = 230;
    r.layerTailCycles = 20;
    r.onTarget = TargetLatency{"nucleo-l4r5zi", "STM32L4R5ZI", 120000000, 0.00575, 0.005833, 0.005917};
    const QJsonObject o = r.toJson();
    EXPECT_EQ(o["cycles_estimated"].toObject()["median"].toDouble(), 700.0);
    EXPECT_EQ(o["cycles_estimated"].toObject()["label"].toString(), "estimated (Cortex-M4 timing model, zero wait states)");
    EXPECT_EQ(o["layers"].toArray()[0].toObject()["cycles_estimated"].toDouble(), 555.0);
    EXPECT_EQ(o["latency_ms_on_target"].toObject()["part"].toString(), "STM32L4R5ZI");
    EXPECT_FALSE(o.contains("cycles_estimated_unavailable"));

    const ProfileResult back = ProfileResult::fromJson(o);
    EXPECT_TRUE(back.hasCycleEstimate);
    EXPECT_EQ(back.runCycles, r.runCycles);
    EXPECT_EQ(back.cyclesMin, 690u);
    EXPECT_EQ(back.cyclesMedian, 700u);
    EXPECT_EQ(back.cyclesMax, 710u);
    EXPECT_EQ(back.cyclesLow, 680u);
    EXPECT_EQ(back.cyclesHigh, 720u);
    EXPECT_EQ(back.cycleModel.model, "cortex-m4-trm-r0p1/1");
    EXPECT_EQ(back.cycleModel.format, 1);
    EXPECT_DOUBLE_EQ(back.cyclesPerInstruction, 1.45);
    EXPECT_EQ(back.layers[1].cyclesEstimated, 77u);
    EXPECT_EQ(back.layerHookCycles, 230u);
    ASSERT_TRUE(back.onTarget);
    EXPECT_EQ(back.onTarget->clockHz, 120000000u);
    EXPECT_DOUBLE_EQ(back.onTarget->medianMs, 0.005833);
    EXPECT_EQ(back.toJson(), o);

    // Before issue 15: no estimate keys at all.
    QJsonObject old = o;
    for (const char *k : {"cycles_estimated", "run_cycles_estimated", "cycle_model", "cycles_per_instruction",
                          "cycles_estimated_layer_profile", "latency_ms_on_target"})
        old.remove(QLatin1String(k));
    QJsonArray layers;
    for (const auto &v : o["layers"].toArray()) {
        QJsonObject l = v.toObject();
        l.remove("cycles_estimated");
        layers.append(l);
    }
    old["layers"] = layers;
    const ProfileResult legacy = ProfileResult::fromJson(old);
    EXPECT_FALSE(legacy.hasCycleEstimate);
    EXPECT_FALSE(legacy.onTarget);
    EXPECT_EQ(legacy.layers.size(), 2);
    EXPECT_EQ(legacy.layers[0].counter, 400u);
    EXPECT_EQ(legacy.toJson(), old) << "an old profile is written back as it was";

    // No estimate with a reason: the reason is kept.
    ProfileResult none;
    none.cyclesUnavailable = "switched off by TINYML_CYCLES_PLUGIN=off";
    const QJsonObject n = none.toJson();
    EXPECT_EQ(n["cycles_estimated_unavailable"].toString(), none.cyclesUnavailable);
    EXPECT_FALSE(n.contains("cycles_estimated"));
    EXPECT_EQ(ProfileResult::fromJson(n).cyclesUnavailable, none.cyclesUnavailable);
}
