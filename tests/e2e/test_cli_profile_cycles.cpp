// Issue 15, part 2: estimated cycles reach the user. `tinyml profile --board qemu-m4` runs the
// virtual board under the cycle-model plugin (firmware-agent/qemu-plugin) and reports, beside
// the instruction counts, the estimated cycles per run and per layer, the cycles/instruction
// ratio and, with --target, the latency on a real part; always labelled as an estimate.
#include "CliRunner.h"

#include <QJsonArray>
#include <QProcess>
#include <QProcessEnvironment>
#include <QRegularExpression>
#include <QTemporaryDir>

#include <cmath>
#include <cstdio>

using namespace tinyml::e2e;

namespace {

const char *const kLabel = "estimated (Cortex-M4 timing model, zero wait states)";

CliRun tinymlRunWith(const QStringList &args, const QString &name, const QString &value)
{
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(name, value);
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(TINYML_CLI), args);
    p.waitForFinished(600000);
    CliRun r;
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

double sumOf(const QJsonArray &layers, const char *key)
{
    double s = 0;
    for (const auto &v : layers)
        s += v.toObject()[QLatin1String(key)].toDouble();
    return s;
}

/// The checks every profile with the Cortex-M4 cycle model must pass.
void expectCycleEstimate(const QJsonObject &p, int runs)
{
    ASSERT_TRUE(p.contains("cycles_estimated")) << "cycles_estimated_unavailable: "
                                                 << p["cycles_estimated_unavailable"].toString().toStdString();
    EXPECT_FALSE(p.contains("cycles_estimated_unavailable"));
    const QJsonObject c = p["cycles_estimated"].toObject();
    const double min = c["min"].toDouble(), median = c["median"].toDouble(), max = c["max"].toDouble();
    EXPECT_GT(min, 0.0);
    EXPECT_LE(min, median);
    EXPECT_LE(median, max);
    EXPECT_LE(c["low"].toDouble(), min);
    EXPECT_GE(c["high"].toDouble(), max);
    EXPECT_EQ(c["label"].toString(), kLabel);
    EXPECT_EQ(p["run_cycles_estimated"].toArray().size(), runs);

    const QJsonObject model = p["cycle_model"].toObject();
    EXPECT_EQ(model["core"].toString(), "m4");
    EXPECT_TRUE(model["model"].toString().startsWith("cortex-m4")) << model["model"].toString().toStdString();
    EXPECT_EQ(model["wait_states"].toInt(-1), 0);
    EXPECT_EQ(model["format"].toInt(), 1);
    EXPECT_EQ(model["label"].toString(), kLabel);
    EXPECT_TRUE(p["method"].toString().contains(kLabel)) << p["method"].toString().toStdString();

    // A Cortex-M4 retires at most one instruction per cycle; loads, MLA and branch refills cost
    // more, so int8 kernels land between 1 and a few cycles per instruction.
    const double cpi = p["cycles_per_instruction"].toDouble();
    EXPECT_GE(cpi, 1.0);
    EXPECT_LE(cpi, 4.0);
    // The same ratio from the agent's own counter (instructions, 40-instruction resolution,
    // plus two timer reads the marks exclude): within 2 %.
    const double instructions = p["latency_ms"].toObject()["median"].toDouble() * p["clock_hz"].toDouble() / 1000.0;
    EXPECT_NEAR(median / instructions, cpi, 0.02 * cpi);

    // Per layer: every layer has an estimate, and the layers add up to the whole.
    const QJsonArray layers = p["layers"].toArray();
    ASSERT_FALSE(layers.isEmpty());
    for (const auto &v : layers)
        EXPECT_GT(v.toObject()["cycles_estimated"].toDouble(), 0.0) << v.toObject()["name"].toString().toStdString();
    const double sum = sumOf(layers, "cycles_estimated");
    // LAYER_PROFILE's fastest run splits exactly (the marks are contiguous, plugin README
    // "Where the agent marks"): its layers + the hooks + after the last layer = its invoke;
    // each layer's minimum over the runs is at most that run's layer.
    const QJsonObject split = p["cycles_estimated_layer_profile"].toObject();
    const double hooks = split["hooks"].toDouble(), tail = split["after_last_layer"].toDouble();
    EXPECT_LE(sum, split["invoke"].toDouble() - hooks - tail + 0.5);
    // Against the INVOKE runs (no hook): a layer interval also holds the hook's call and
    // return outside its two marks (the call through the function pointer, the hook's
    // prologue/epilogue, the markers' BL/BX LR), and the INVOKE interval holds the interpreter's
    // exit after the last layer. The README puts a whole hook at about 115 cycles on the M4
    // model, its call/return part is smaller; bound: one hook's cost per layer plus one, i.e.
    // |sum - median| <= 115 * (layers + 1).
    const double bound = 115.0 * (layers.size() + 1);
    EXPECT_LE(std::abs(sum - median), bound)
        << "sum of layers " << sum << ", INVOKE median " << median << ", " << layers.size() << " layers";
    // The hooks (layer_end -> layer_resume) are about 115 cycles each, not more than a few hundred.
    EXPECT_GT(hooks, 0.0);
    EXPECT_LE(hooks, 400.0 * layers.size());
    std::printf("estimated cycles: median %.0f (%.0f..%.0f), %.3f cycles/instruction, layers sum %.0f, "
                "hooks %.0f, after last layer %.0f, %d layers\n",
                median, min, max, cpi, sum, hooks, tail, int(layers.size()));
}

class ProfileCycles : public ::testing::Test
{
protected:
    static void SetUpTestSuite()
    {
        s_tmp = new QTemporaryDir;
        // The virtual board keeps its flash file under XDG_DATA_HOME: keep this run's apart.
        qputenv("XDG_DATA_HOME", s_tmp->filePath("xdg").toUtf8());
        s_project = s_tmp->filePath("motion.tinyml");
        ASSERT_EQ(tinymlRun({"new", s_project, "--template", "motion", "--board", "qemu-m4"}).exitCode, 0);
        for (const char *g : {"idle", "shake", "circle", "updown"}) {
            CliRun r = tinymlRun({"capture", s_project, "--board", "qemu-m4", "--label", g, "--scenario", g,
                                  "--seconds", "2", "--count", "4", "--json"});
            ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
        }
        // Few epochs: the cycles of a model do not depend on how well it is trained.
        CliRun r = tinymlRun({"train", s_project, "--epochs", "5", "--seed", "3", "--json"});
        ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
        r = tinymlRun({"quantize", s_project, "--json"});
        ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    }
    static void TearDownTestSuite()
    {
        delete s_tmp;
        s_tmp = nullptr;
    }
    static QTemporaryDir *s_tmp;
    static QString s_project;
};
QTemporaryDir *ProfileCycles::s_tmp = nullptr;
QString ProfileCycles::s_project;

} // namespace

TEST_F(ProfileCycles, MotionModelOnQemuM4ReportsEstimatedCyclesPerRunAndPerLayerAndOnTheTarget)
{
    CliRun r = tinymlRun({"profile", s_project, "--board", "qemu-m4", "--runs", "7", "--warmup", "2",
                          "--no-accuracy", "--target", "nucleo-l4r5zi", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    const QJsonObject p = r.json();
    expectCycleEstimate(p, 7);
    // The instruction counts stay beside the estimate.
    EXPECT_EQ(p["counter"].toString(), "instructions");
    EXPECT_EQ(p["run_counters"].toArray().size(), 7);

    const QJsonObject t = p["latency_ms_on_target"].toObject();
    EXPECT_EQ(t["board"].toString(), "nucleo-l4r5zi");
    EXPECT_EQ(t["part"].toString(), "STM32L4R5ZI");
    EXPECT_EQ(t["clock_hz"].toDouble(), 120e6);
    EXPECT_EQ(t["label"].toString(), kLabel);
    const QJsonObject c = p["cycles_estimated"].toObject();
    for (const char *k : {"min", "median", "max"})
        EXPECT_NEAR(t[QLatin1String(k)].toDouble(), c[QLatin1String(k)].toDouble() / 120e6 * 1000.0, 1e-9) << k;

    // The text form: one line with the label, the ratio and the target.
    r = tinymlRun({"profile", s_project, "--board", "qemu-m4", "--runs", "3", "--no-accuracy", "--target",
                   "arduino-nano-33-ble-sense"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_TRUE(r.out.contains(QRegularExpression(
        "Estimated cycles \\(Cortex-M4 timing model, zero wait states\\): median \\d+ \\(\\d+\\.\\.\\d+\\), "
        "\\d+\\.\\d\\d cycles/instruction; on nRF52840 at 64 MHz: \\d+\\.\\d+ ms")))
        << r.out.toStdString();
    EXPECT_TRUE(r.out.contains("est. cycles")) << r.out.toStdString();

    // Without --target: cycles, no latency on a target.
    r = tinymlRun({"profile", s_project, "--board", "qemu-m4", "--runs", "3", "--no-accuracy", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_TRUE(r.json().contains("cycles_estimated"));
    EXPECT_FALSE(r.json().contains("latency_ms_on_target"));
}

TEST_F(ProfileCycles, WithoutThePluginTheProfileSaysWhyAndCountsTheSameInstructions)
{
    CliRun with = tinymlRun({"profile", s_project, "--board", "qemu-m4", "--runs", "3", "--no-accuracy", "--json"});
    ASSERT_EQ(with.exitCode, 0) << with.err.toStdString();
    CliRun without = tinymlRunWith({"profile", s_project, "--board", "qemu-m4", "--runs", "3", "--no-accuracy",
                                    "--target", "nucleo-l4r5zi", "--json"},
                                   "TINYML_CYCLES_PLUGIN", "off");
    ASSERT_EQ(without.exitCode, 0) << without.err.toStdString();
    const QJsonObject p = without.json();
    EXPECT_FALSE(p.contains("cycles_estimated"));
    EXPECT_FALSE(p.contains("latency_ms_on_target"));
    EXPECT_TRUE(p["cycles_estimated_unavailable"].toString().contains("TINYML_CYCLES_PLUGIN=off"))
        << p["cycles_estimated_unavailable"].toString().toStdString();
    // The plugin observes, it does not change what runs: the agent counts the same instructions
    // (its timer reads them in ticks of 40, whose phase may move a run by one tick).
    const double withMedian = with.json()["latency_ms"].toObject()["median"].toDouble();
    const double withoutMedian = p["latency_ms"].toObject()["median"].toDouble();
    EXPECT_NEAR(withoutMedian * 25e3, withMedian * 25e3, 40.0)
        << "instructions per run with the plugin " << withMedian * 25e3 << ", without " << withoutMedian * 25e3;

    CliRun text = tinymlRunWith({"profile", s_project, "--board", "qemu-m4", "--runs", "2", "--no-accuracy"},
                                "TINYML_CYCLES_PLUGIN", s_tmp->filePath("no-such-plugin.so"));
    ASSERT_EQ(text.exitCode, 0) << text.err.toStdString();
    EXPECT_TRUE(text.out.contains("Estimated cycles: unavailable: TINYML_CYCLES_PLUGIN=")) << text.out.toStdString();
    EXPECT_TRUE(text.out.contains("no-such-plugin.so: no such file")) << text.out.toStdString();
}

TEST_F(ProfileCycles, BadTargetsAreRefusedBeforeTheBoardStarts)
{
    // A Cortex-M4 part's ms from the Cortex-M7 model would be a number about another core.
    CliRun r = tinymlRun({"profile", s_project, "--board", "qemu-m7", "--target", "nucleo-l4r5zi", "--json"});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains("target nucleo-l4r5zi (STM32L4R5ZI) has a Cortex-M4 core, but virtual board qemu-m7 "
                               "models a Cortex-M7"))
        << r.err.toStdString();
    EXPECT_FALSE(r.err.contains("Starting virtual board")) << r.err.toStdString();

    r = tinymlRun({"profile", s_project, "--board", "qemu-m4", "--target", "rpi-pico"});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains("board rpi-pico is not a target part")) << r.err.toStdString();
    r = tinymlRun({"profile", s_project, "--board", "qemu-m4", "--target", "no-such-board"});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains("unknown board 'no-such-board'")) << r.err.toStdString();
    r = tinymlRun({"profile", s_project, "--board", "host", "--target", "nucleo-l4r5zi"});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains("board host has no cycle model")) << r.err.toStdString();
}

// The acceptance's second model: a DS-CNN keyword model (MFCC input, depthwise-separable
// blocks) on espeak-ng clips, few of them and few epochs (the cycles do not depend on accuracy).
TEST(ProfileCyclesKeyword, DsCnnOnQemuM4ReportsEstimatedCyclesPerLayer)
{
    QTemporaryDir tmp;
    qputenv("XDG_DATA_HOME", tmp.filePath("xdg").toUtf8());
    const QString data = tmp.filePath("audio");
    QProcess make;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("KW_CLIPS_PER_LABEL", "6");
    make.setProcessEnvironment(env);
    make.start(QStringLiteral("bash"), {QStringLiteral(TINYML_SOURCE_DIR "/tests/e2e/audio/make_keyword_data.sh"), data,
                                        QStringLiteral("1")});
    ASSERT_TRUE(make.waitForFinished(300000));
    ASSERT_EQ(make.exitCode(), 0) << make.readAllStandardError().toStdString()
                                  << " (espeak-ng and sox come with installers/debian-deps.sh)";
    const QString proj = tmp.filePath("kws.tinyml");
    ASSERT_EQ(tinymlRun({"new", proj, "--template", "audio", "--board", "qemu-m4", "--labels", "yes,no,go,noise"}).exitCode, 0);
    CliRun r = tinymlRun({"import", proj, data + "/train", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    r = tinymlRun({"train", proj, "--model", "dscnn", "--epochs", "2", "--seed", "1", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    r = tinymlRun({"quantize", proj, "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    r = tinymlRun({"profile", proj, "--board", "qemu-m4", "--runs", "3", "--warmup", "1", "--no-accuracy",
                   "--target", "nucleo-l4r5zi", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    const QJsonObject p = r.json();
    bool depthwise = false;
    for (const auto &v : p["layers"].toArray())
        depthwise = depthwise || v.toObject()["op"].toString().contains("depthwise");
    EXPECT_TRUE(depthwise) << "a DS-CNN has depthwise layers";
    expectCycleEstimate(p, 3);
    std::printf("DS-CNN: %.0f MACs, estimated %.3f ms on STM32L4R5ZI at 120 MHz\n", p["macs"].toDouble(),
                p["latency_ms_on_target"].toObject()["median"].toDouble());
}
