// The whole impulse on the virtual Cortex-M4 (qemu-m4, batch speed): per-window cost of each
// stage and the highest sensor rate the agent's continuous mode sustains without overruns.
//
//  1. Per-window cost split into DSP / model / post (median counter of the CLASSIFY_RESULTs,
//     ms at the board's clock, % of the stride = CPU duty cycle) for the motion pipeline
//     (accel 3 axes 100 Hz, 2 s window, 0.5 s stride, spectral 4 bands 3 peaks, the trainer's
//     MLP 39-64-32-4) and the keyword pipeline (mic 16 kHz, 1 s window, 0.5 s stride, MFCC
//     49 x 10, ModelZoo's DS-CNN for a 49 x 10 x 1 input with 4 classes). The baseline row of
//     each table is the cheapest pipeline measured in the same run. 1b: the keyword DSP with one
//     parameter changed at a time (FFT length, filters, no DCT) against the default MFCC.
//  2. Rate sweep of the accelerometer (100 .. 4000 Hz, the window stays 2 s so its frames
//     grow): duty cycle, overruns and frames lost over ~30 windows per rate, for the spectral
//     pipeline and for a raw pipeline (raw block as a sequence, a global average pool + dense
//     model: the data path alone). A rate the Flasher or CLASSIFY_START refuses says why; the
//     largest rate the Flasher accepts is then found by bisection and run too.
//
// The models have the real layer shapes and deterministic pseudo-random weights: the cost of
// an int8 layer does not depend on its weight values. The sensors follow SENSOR_SCRIPT scenarios
// (the simulated signal), so every window does real work.
//
// On QEMU (-icount shift=0) the counter is instructions, not cycles; the images hold the CPU
// for 40x a window's instructions so the sensor meets a 25 MHz core executing one instruction
// per cycle (firmware-agent/PROTOCOL.md, "Board speed on an emulator").
//
//   bench_impulse_device [windows_cost=20] [windows_sweep=30]

#include "DeployTestGraphs.h"
#include "Flasher.h"
#include "ImpulseSpec.h"
#include "ModelPackageWriter.h"

#include "device/AgentLink.h"
#include "device/BoardRegistry.h"
#include "device/VirtualBoard.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QTemporaryDir>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

using namespace tinyml;
using namespace tinyml::deploy;
using namespace tinyml::deploy::testing;

namespace {

/// FullyConnected, with the ReLU fused as the quantizer leaves it.
Node dense(const QString &name, QVector<int> inputs, int output, bool relu)
{
    Node n = node(OpType::FullyConnected, name, std::move(inputs), output);
    if (relu)
        n.activation = Activation::Relu;
    return n;
}

/// The trainer's motion default (ModelZoo mlp, width 64): features -> 64 -> 32 -> classes, softmax.
Graph motionMlp(int features, const QStringList &labels)
{
    Graph g;
    const int classes = int(labels.size());
    const int x = act(g, "features", {1, features});
    const int h1 = act(g, "h1", {1, 64});
    g.addNode(dense("fc1", {x, weights(g, "w1", {64, features}, 64), bias(g, "b1", 64)}, h1, true));
    const int h2 = act(g, "h2", {1, 32});
    g.addNode(dense("fc2", {h1, weights(g, "w2", {32, 64}, 32), bias(g, "b2", 32)}, h2, true));
    const int logits = act(g, "logits", {1, classes}, 0.1f, 0);
    g.addNode(dense("fc3", {h2, weights(g, "w3", {classes, 32}, classes), bias(g, "b3", classes)}, logits, false));
    const int y = act(g, "probs", {1, classes}, 1.0f / 256.0f, -128);
    g.addNode(node(OpType::Softmax, "softmax", {logits}, y));
    g.inputs = {x};
    g.outputs = {y};
    g.labels = labels;
    g.quantized = true;
    return g;
}

/// ModelZoo's dscnn (width 64, 4 blocks) for a 49 x 10 x 1 input: conv 10x4 stride 2 with
/// same padding -> 25 x 5 x 64, 4 x (depthwise 3x3 + pointwise 64), global average pool, dense,
/// softmax. The layers of DeployTestGraphs' dsCnnKeyword with a head of `labels.size()` classes.
Graph keywordDsCnn(const QStringList &labels, int coeffs = 10)
{
    auto conv = [](OpType op, const QString &name, QVector<int> inputs, int output, int k0, int k1, int stride,
                   int padTop, int padLeft, int padBottom, int padRight) {
        Node n = node(op, name, std::move(inputs), output);
        n.strideH = n.strideW = stride;
        n.padTop = padTop;
        n.padLeft = padLeft;
        n.padBottom = padBottom;
        n.padRight = padRight;
        n.kernelH = k0;
        n.kernelW = k1;
        n.activation = Activation::Relu;
        return n;
    };
    const int classes = int(labels.size());
    Graph g;
    // Same padding of the 10x4 stride-2 convolution: 49 -> 25 rows (pad 4 + 5); W -> ceil(W / 2).
    const int w = (coeffs + 1) / 2, padW = std::max(0, (w - 1) * 2 + 4 - coeffs);
    const int x = act(g, "mfcc", {1, 49, coeffs, 1});
    int h = act(g, "conv1", {1, 25, w, 64});
    g.addNode(conv(OpType::Conv2D, "conv1", {x, weights(g, "w_conv1", {64, 10, 4, 1}, 64), bias(g, "b_conv1", 64)}, h,
                   10, 4, 2, 4, padW / 2, 5, padW - padW / 2));
    for (int i = 1; i <= 4; ++i) {
        const QString s = QString::number(i);
        const int d = act(g, "dw" + s, {1, 25, w, 64});
        g.addNode(conv(OpType::DepthwiseConv2D, "dw" + s,
                       {h, weights(g, "w_dw" + s, {1, 3, 3, 64}, 64), bias(g, "b_dw" + s, 64)}, d, 3, 3, 1, 1, 1, 1, 1));
        const int p = act(g, "pw" + s, {1, 25, w, 64});
        g.addNode(conv(OpType::Conv2D, "pw" + s,
                       {d, weights(g, "w_pw" + s, {64, 1, 1, 64}, 64), bias(g, "b_pw" + s, 64)}, p, 1, 1, 1, 0, 0, 0, 0));
        h = p;
    }
    const int pooled = act(g, "pool", {1, 64});
    g.addNode(node(OpType::GlobalAvgPool, "pool", {h}, pooled));
    const int logits = act(g, "logits", {1, classes}, 0.1f, 0);
    g.addNode(dense("fc", {pooled, weights(g, "w_fc", {classes, 64}, classes), bias(g, "b_fc", classes)}, logits, false));
    const int y = act(g, "probs", {1, classes}, 1.0f / 256.0f, -128);
    g.addNode(node(OpType::Softmax, "softmax", {logits}, y));
    g.inputs = {x};
    g.outputs = {y};
    g.labels = labels;
    g.quantized = true;
    return g;
}

/// The raw data path: raw block as a sequence [1, 1, T, 3], global average pool, dense.
Graph rawGap(int frames, const QStringList &labels)
{
    Graph g;
    const int classes = int(labels.size());
    const int x = act(g, "raw", {1, 1, frames, 3});
    const int pooled = act(g, "pool", {1, 3});
    g.addNode(node(OpType::GlobalAvgPool, "pool", {x}, pooled));
    const int logits = act(g, "logits", {1, classes}, 0.1f, 0);
    g.addNode(dense("fc", {pooled, weights(g, "w", {classes, 3}, classes), bias(g, "b", classes)}, logits, false));
    const int y = act(g, "probs", {1, classes}, 1.0f / 256.0f, -128);
    g.addNode(node(OpType::Softmax, "softmax", {logits}, y));
    g.inputs = {x};
    g.outputs = {y};
    g.labels = labels;
    g.quantized = true;
    return g;
}

void setNormalization(Graph &g, int features, double mean, double std)
{
    QJsonArray m, s;
    for (int k = 0; k < features; ++k) {
        m.append(mean);
        s.append(std);
    }
    g.meta.insert(QStringLiteral("input_normalization"), QJsonObject{{QStringLiteral("mean"), m}, {QStringLiteral("std"), s}});
}

const QStringList kMotionLabels{QStringLiteral("idle"), QStringLiteral("shake"), QStringLiteral("circle"),
                                QStringLiteral("updown")};
const QStringList kKeywordLabels{QStringLiteral("_silence"), QStringLiteral("_unknown"), QStringLiteral("yes"),
                                 QStringLiteral("no")};

/// Spectral motion impulse at `rateHz`: 2 s window, 0.5 s stride, 4 bands, 3 peaks.
Graph motionGraph(int rateHz)
{
    features::FeatureParams f;
    f.kind = features::BlockKind::Spectral;
    f.spectral.windowFrames = 2 * rateHz;
    f.spectral.sampleRateHz = float(rateHz);
    f.spectral.nBands = 4;
    f.spectral.nPeaks = 3;
    const int n = 3 * (3 + 4 + 2 * 3);
    Graph g = motionMlp(n, kMotionLabels);
    g.meta.insert(QStringLiteral("features"), f.toJson());
    setNormalization(g, n, 0.5, 2.0);
    return g;
}

Graph rawGraph(int rateHz)
{
    features::FeatureParams f;
    f.kind = features::BlockKind::Raw;
    f.raw.windowFrames = 2 * rateHz;
    f.raw.asSequence = true;
    Graph g = rawGap(2 * rateHz, kMotionLabels);
    g.meta.insert(QStringLiteral("features"), f.toJson());
    return g;
}

/// MFCC 49 x 10 (the audio template's defaults) into the 4-class DS-CNN; the variants of the
/// DSP table change one parameter (49 frames stay: 1 + (16000 - frameLength) / 320 = 49 for a
/// frameLength of 512 too), or take the MFE block (49 x nFilters, no DCT).
Graph keywordGraph(int frameLength = 640, int nFilters = 40, bool mfe = false)
{
    features::FeatureParams f;
    f.kind = mfe ? features::BlockKind::Mfe : features::BlockKind::Mfcc;
    features::MfeParams &m = mfe ? f.mfe : f.mfcc.mfe;
    m.windowFrames = 16000;
    m.sampleRateHz = 16000;
    m.frameLength = frameLength;
    m.frameStride = 320;
    m.nFilters = nFilters;
    f.mfcc.nCoeffs = 10;
    const int coeffs = mfe ? nFilters : 10;
    Graph g = keywordDsCnn(kKeywordLabels, coeffs);
    g.meta.insert(QStringLiteral("features"), f.toJson());
    setNormalization(g, 49 * coeffs, -2.0, 4.0);
    return g;
}

struct Packaged {
    ImpulseSpec spec;
    QByteArray package;
};

std::optional<Packaged> package(const Graph &g, const QString &templateName, int rateHz, quint32 strideFrames,
                                const DeviceSensorInfo &sensor, QString *error)
{
    ProjectSettings settings;
    settings.templateName = templateName;
    settings.sampleRateHz = rateHz;
    ImpulseSensor s = ImpulseSensor::fromDevice(sensor);
    s.rateHz = 0; // the block's or project's rate decides, as LiveClassifier does
    ImpulseOptions options;
    options.strideFrames = strideFrames;
    auto spec = impulseSpecFor(g, settings, s, options, error);
    if (!spec)
        return std::nullopt;
    ModelPackageWriter writer;
    writer.setImpulse(*spec);
    auto bytes = writer.write(g, error);
    if (!bytes)
        return std::nullopt;
    return Packaged{*spec, *bytes};
}

double median(QVector<double> v)
{
    if (v.isEmpty())
        return 0;
    std::sort(v.begin(), v.end());
    const int n = int(v.size());
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

struct Run {
    QString refused;                  ///< non-empty: the package or CLASSIFY_START was refused
    ImpulseSpec spec;
    qint64 packageBytes = 0;
    ClassifyStartReply format;
    QVector<ClassifyResult> results;
    ClassifyEnd end;
    bool ended = false;
    double wallS = 0;
    // Medians per window in instructions (counter ticks x resolution).
    double dsp = 0, model = 0, post = 0;
    double total() const { return dsp + model + post; }
};

class Bench
{
public:
    explicit Bench(VirtualBoard *board) : m_board(board), m_link(board->link())
    {
        const DeviceInfo &info = m_link->info();
        m_resolution = qMax<quint32>(1, info.counterResolution);
        m_clockHz = info.clockHz ? info.clockHz : board->board().clockHz;
    }

    double ms(double instructions) const { return m_clockHz ? instructions * 1000.0 / double(m_clockHz) : 0.0; }
    quint64 clockHz() const { return m_clockHz; }

    /// Flashes the impulse, points the sensor at `script`, classifies maxWindows windows.
    Run run(const Graph &g, const QString &templateName, const QString &sensorName, int rateHz, quint32 strideFrames,
            const QVector<SensorScriptStep> &script, quint32 maxWindows)
    {
        Run r;
        QString error;
        const DeviceSensorInfo *sensor = m_link->info().sensorByName(sensorName);
        if (!sensor) {
            r.refused = QStringLiteral("the board reports no %1").arg(sensorName);
            return r;
        }
        auto pkg = package(g, templateName, rateHz, strideFrames, *sensor, &error);
        if (!pkg) {
            r.refused = QStringLiteral("package: ") + error;
            return r;
        }
        r.spec = pkg->spec;
        r.packageBytes = pkg->package.size();
        if (!Flasher::flash(m_link, pkg->package, false, {}, &error)) {
            r.refused = QStringLiteral("flash: ") + error;
            return r;
        }
        if (!m_link->setSensorScript(sensor->name, script, &error)) {
            r.refused = QStringLiteral("script: ") + error;
            return r;
        }
        auto c1 = QObject::connect(m_link, &AgentLink::classifyResult, [&](const ClassifyResult &x) { r.results << x; });
        auto c2 = QObject::connect(m_link, &AgentLink::classifyEnded, [&](const ClassifyEnd &e) {
            r.end = e;
            r.ended = true;
        });
        QElapsedTimer t;
        t.start();
        auto format = m_link->startClassification(sensor->name, maxWindows, false, &error);
        if (!format) {
            r.refused = QStringLiteral("CLASSIFY_START: ") + error;
        } else {
            r.format = *format;
            while (!r.ended && m_link->isOpen() && t.elapsed() < 30 * 60 * 1000)
                QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 100);
            if (!r.ended) {
                m_link->stopClassification();
                QElapsedTimer s;
                s.start();
                while (!r.ended && m_link->isOpen() && s.elapsed() < 10000)
                    QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 100);
            }
        }
        r.wallS = t.nsecsElapsed() / 1e9;
        QObject::disconnect(c1);
        QObject::disconnect(c2);
        QVector<double> dsp, mdl, post;
        for (const ClassifyResult &x : r.results) {
            dsp << double(x.dspTicks) * m_resolution;
            mdl << double(x.modelTicks) * m_resolution;
            post << double(x.postTicks) * m_resolution;
        }
        r.dsp = median(dsp);
        r.model = median(mdl);
        r.post = median(post);
        return r;
    }

private:
    VirtualBoard *m_board;
    AgentLink *m_link;
    quint32 m_resolution = 1;
    quint64 m_clockHz = 0;
};

QVector<SensorScriptStep> cycle(int scenarios, quint32 stepMs, int steps)
{
    QVector<SensorScriptStep> s;
    for (int i = 0; i < steps; ++i)
        s.append({i % scenarios, stepMs});
    return s;
}

QString endText(const Run &r)
{
    if (!r.ended)
        return QStringLiteral("no CLASSIFY_END");
    return r.end.reason == ClassifyEnd::kLinkLost ? QStringLiteral("link lost") : streamEndReasonName(r.end.reason);
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const quint32 costWindows = argc > 1 ? quint32(std::atoi(argv[1])) : 20u;
    const quint32 sweepWindows = argc > 2 ? quint32(std::atoi(argv[2])) : 30u;

    BoardRegistry registry;
    QString error;
    if (!registry.loadDefault(&error) || !registry.board(QStringLiteral("qemu-m4"))) {
        std::fprintf(stderr, "boards: %s\n", qPrintable(error.isEmpty() ? QStringLiteral("no qemu-m4") : error));
        return 1;
    }
    QTemporaryDir stateDir;
    VirtualBoard::Options options;
    options.stateDirectory = stateDir.path();
    options.realtime = false;
    VirtualBoard board(*registry.board(QStringLiteral("qemu-m4")), options);
    if (!board.start(&error)) {
        std::fprintf(stderr, "qemu-m4: %s\n", qPrintable(error));
        return 1;
    }
    const DeviceInfo &info = board.link()->info();
    if (!info.impulse) {
        std::fprintf(stderr, "qemu-m4: the agent reports no INFO IMPULSE\n");
        return 1;
    }
    Bench bench(&board);
    const QString header =
        QStringLiteral("%1, `%2`, qemu-m4 at batch speed (counter: %3, %4 per tick, %5 MHz); "
                       "instructions under -icount shift=0 (virtual board): not cycles")
            .arg(QDateTime::currentDateTime().toString(QStringLiteral("yyyy-MM-dd HH:mm")),
                 QCoreApplication::arguments().join(QLatin1Char(' ')), info.counterKindName())
            .arg(info.counterResolution)
            .arg(double(bench.clockHz()) / 1e6, 0, 'f', 0);

    // ---- 1. per-window cost ---------------------------------------------------------------
    struct CostRow {
        const char *name;
        Run run;
    };
    QVector<CostRow> cost;
    // accel scenarios: idle, shake, circle, updown, walk; 2 s each, longer than the windows need.
    cost.append({"motion: spectral + MLP", bench.run(motionGraph(100), QStringLiteral("motion"), QStringLiteral("accel"), 100, 50,
                                                     cycle(5, 2000, 16), costWindows)});
    // mic scenarios: silence, noise, tone, chirp, twotone.
    cost.append({"keyword: MFCC + DS-CNN", bench.run(keywordGraph(), QStringLiteral("audio"), QStringLiteral("mic"), 16000, 8000,
                                                     cycle(5, 1000, 2 * int(costWindows) + 4), costWindows)});
    std::printf("Part 1: per-window cost on qemu-m4 (median over the windows)\n%s\n\n", qPrintable(header));
    for (const CostRow &c : cost) {
        const Run &r = c.run;
        if (!r.refused.isEmpty()) {
            std::printf("%s: refused: %s\n\n", c.name, qPrintable(r.refused));
            continue;
        }
        const double strideMs = 1000.0 * r.format.stride / r.format.rateHz;
        std::printf("%s: %u Hz x %d ch, window %u frames, stride %u (%.0f ms), %d windows, %u overruns, "
                    "package %lld B, end %s, wall %.1f s\n",
                    c.name, r.format.rateHz, r.spec.channels, r.format.window, r.format.stride, strideMs,
                    int(r.results.size()), r.ended ? r.end.overruns : 0u, qlonglong(r.packageBytes),
                    qPrintable(endText(r)), r.wallS);
        std::printf("  %-8s %14s %12s %14s\n", "stage", "instructions", qPrintable(QStringLiteral("ms @%1MHz").arg(double(bench.clockHz()) / 1e6)),
                    "% of stride");
        const struct {
            const char *n;
            double v;
        } stages[] = {{"DSP", r.dsp}, {"model", r.model}, {"post", r.post}, {"total", r.total()}};
        for (const auto &s : stages)
            std::printf("  %-8s %14.0f %12.3f %13.2f%%\n", s.n, s.v, bench.ms(s.v), 100.0 * bench.ms(s.v) / strideMs);
        std::printf("\n");
    }
    if (cost.size() == 2 && cost[0].run.refused.isEmpty() && cost[1].run.refused.isEmpty() && cost[0].run.total() > 0)
        std::printf("keyword / motion total per window: x%.1f (motion is the baseline)\n\n",
                    cost[1].run.total() / cost[0].run.total());

    // ---- 1b. where the keyword DSP goes: one parameter changed at a time ----------------------
    struct Variant {
        const char *name;
        Graph graph;
    };
    const Variant variants[] = {
        {"MFCC 640/320, 40 filters, 10 coeffs (FFT 1024)", keywordGraph()},
        {"frameLength 512 (FFT 512), 49 x 10", keywordGraph(512)},
        {"20 filters, 49 x 10", keywordGraph(640, 20)},
        {"MFE 640/320, 40 filters (no DCT), 49 x 40", keywordGraph(640, 40, true)},
    };
    std::printf("Part 1b: keyword DSP variants (mic 16 kHz, 1 s window, 0.5 s stride, %u windows each; "
                "the first row is the baseline)\n%s\n\n",
                5u, qPrintable(header));
    std::printf("  %-50s %13s %11s %9s %12s %9s %9s %9s\n", "DSP block", "DSP instr", "DSP ms", "vs base",
                "model instr", "duty", "windows", "overruns");
    double baseDsp = 0;
    for (const Variant &v : variants) {
        Run r = bench.run(v.graph, QStringLiteral("audio"), QStringLiteral("mic"), 16000, 8000, cycle(5, 1000, 14), 5);
        if (!r.refused.isEmpty()) {
            std::printf("  %-50s refused: %s\n", v.name, qPrintable(r.refused));
            continue;
        }
        if (baseDsp == 0)
            baseDsp = r.dsp;
        std::printf("  %-50s %13.0f %11.2f %8.2fx %12.0f %8.1f%% %9d %9u\n", v.name, r.dsp, bench.ms(r.dsp), r.dsp / baseDsp,
                    r.model, 100.0 * bench.ms(r.total()) / 500.0, int(r.results.size()), r.ended ? r.end.overruns : 0u);
    }
    std::printf("\n");

    // ---- 2. rate sweep ----------------------------------------------------------------------
    // 2000 .. 2800 between the brief's 1600 and 3200 find where the work buffer stops.
    const int rates[] = {100, 200, 400, 800, 1600, 2000, 2400, 2800, 3200, 4000};
    std::printf("Part 2: accelerometer rate sweep, window 2 s, stride 0.5 s, %u windows per rate (continuous mode)\n"
                "%s\nagent ring %u int16 values (%u frames of 3 axes), work buffer %u bytes\n\n",
                sweepWindows, qPrintable(header), info.impulse->ringValues, info.impulse->ringValues / 3,
                info.impulse->workBytes);
    struct Pipe {
        const char *name;
        Graph (*graph)(int);
    };
    const Pipe pipes[] = {{"spectral + MLP", motionGraph}, {"raw + avg pool (data path)", rawGraph}};
    for (const Pipe &p : pipes) {
        std::printf("%s\n  %6s %7s %12s %12s %10s %8s %9s %8s %11s %8s  %s\n", p.name, "rate", "window", "DSP instr",
                    "model instr", "total ms", "duty", "windows", "overruns", "frames lost", "wall s", "end");
        int best = 0;
        double baseTotal = 0;
        QString firstRefusal;
        for (int rate : rates) {
            // 5 scenarios x 4 s, repeated: longer than sweepWindows strides plus the overruns.
            Run r = bench.run(p.graph(rate), QStringLiteral("motion"), QStringLiteral("accel"), rate, quint32(rate / 2),
                              cycle(5, 4000, 4 + int(sweepWindows) / 2 * 3), sweepWindows);
            if (!r.refused.isEmpty()) {
                std::printf("  %6d %7d  refused: %s\n", rate, 2 * rate, qPrintable(r.refused));
                if (firstRefusal.isEmpty())
                    firstRefusal = QStringLiteral("; %1 Hz and up refused (%2)").arg(rate).arg(r.refused.section(QLatin1Char(':'), 0, 0));
                continue;
            }
            const double strideMs = 1000.0 * r.format.stride / r.format.rateHz;
            const double totalMs = bench.ms(r.total());
            if (baseTotal == 0)
                baseTotal = r.total();
            const quint32 overruns = r.ended ? r.end.overruns : (r.results.isEmpty() ? 0 : r.results.last().overruns);
            std::printf("  %6u %7u %12.0f %12.0f %10.2f %7.1f%% %9d %8u %11u %8.1f  %s, x%.1f vs %d Hz\n", r.format.rateHz,
                        r.format.window, r.dsp, r.model, totalMs, 100.0 * totalMs / strideMs, int(r.results.size()),
                        overruns, r.ended ? r.end.framesLost : 0u, r.wallS, qPrintable(endText(r)),
                        baseTotal > 0 ? r.total() / baseTotal : 0.0, rates[0]);
            if (overruns == 0 && r.ended && r.results.size() >= int(sweepWindows) && rate > best)
                best = rate;
        }
        // Between the last rate that ran and the first refused one: the largest even rate
        // (stride = rate / 2 frames) whose package the Flasher's checks accept, then run it.
        if (best && !firstRefusal.isEmpty()) {
            const DeviceSensorInfo *accel = info.sensorByName(QStringLiteral("accel"));
            auto fits = [&](int rate) {
                QString e;
                auto pkg = package(p.graph(rate), QStringLiteral("motion"), rate, quint32(rate / 2), *accel, &e);
                auto req = pkg ? packageRequirements(pkg->package, &e) : std::nullopt;
                return req && checkPackageFits(info, *req, QStringLiteral("qemu-m4")).isEmpty();
            };
            int lo = best, hi = best;
            for (int rate : rates)
                if (rate > best) {
                    hi = rate;
                    break;
                }
            while (hi - lo > 2) {
                const int mid = (lo + hi) / 4 * 2;
                (fits(mid) ? lo : hi) = mid;
            }
            if (lo > best) {
                Run r = bench.run(p.graph(lo), QStringLiteral("motion"), QStringLiteral("accel"), lo, quint32(lo / 2),
                                  cycle(5, 4000, 4 + int(sweepWindows) / 2 * 3), sweepWindows);
                const double totalMs = bench.ms(r.total());
                const quint32 overruns = r.ended ? r.end.overruns : 0u;
                if (r.refused.isEmpty()) {
                    std::printf("  %6u %7u %12.0f %12.0f %10.2f %7.1f%% %9d %8u %11u %8.1f  %s, the largest rate that fits\n",
                                r.format.rateHz, r.format.window, r.dsp, r.model, totalMs,
                                100.0 * totalMs / (1000.0 * r.format.stride / r.format.rateHz), int(r.results.size()),
                                overruns, r.ended ? r.end.framesLost : 0u, r.wallS, qPrintable(endText(r)));
                    if (overruns == 0 && r.ended && r.results.size() >= int(sweepWindows))
                        best = lo;
                } else {
                    std::printf("  %6d %7d  refused: %s\n", lo, 2 * lo, qPrintable(r.refused));
                }
            }
        }
        if (best)
            std::printf("  highest rate with 0 overruns over %u windows: %d Hz%s\n\n", sweepWindows, best, qPrintable(firstRefusal));
        else
            std::printf("  no rate ran %u windows without overruns\n\n", sweepWindows);
    }
    return 0;
}
