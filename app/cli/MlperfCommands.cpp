// tinyml mlperf: the MLPerf Tiny runner's performance and accuracy procedures against a DUT
// that speaks the EEMBC text protocol: the TinyML agent on a virtual board (the project's model
// is flashed first) or any board on --port (ours after `tinyml flash`, or a third party's).
#include "BoardConnection.h"
#include "CliCommands.h"

#include "Flasher.h"
#include "ModelPackageWriter.h"

#include "device/MlperfBenchmark.h"
#include "device/MlperfLink.h"
#include "io/MlperfDataset.h"
#include "model/Graph.h"
#include "store/ProjectStore.h"

#include <QCommandLineParser>
#include <QJsonArray>
#include <QRandomGenerator>
#include <QTextStream>

#include <memory>

namespace tinyml::cli {

namespace {

const QString kCommand = QStringLiteral("mlperf");

/// A fixed pseudo-random input for performance runs without a data set: the same bytes every
/// run, so two runs time the same work.
QByteArray syntheticInput(qint64 bytes)
{
    QRandomGenerator rng(0x4d4c5046u); // "MLPF"
    QByteArray out(bytes, Qt::Uninitialized);
    for (qint64 i = 0; i < bytes; ++i)
        out[i] = char(rng.bounded(256));
    return out;
}

QJsonArray floatsJson(const QVector<float> &v)
{
    QJsonArray a;
    for (float f : v)
        a.append(double(f));
    return a;
}

int cmdMlperf(const QStringList &args)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Run the MLPerf Tiny runner's procedure against a DUT speaking the EEMBC text protocol.\n"
        "--board ID (a virtual board): the project's int8 model is flashed first.\n"
        "--port PATH: the DUT runs the model it has (flash ours with `tinyml flash`).\n"
        "performance: five windows of `infer N W%`, each at least --min-window-s on the DUT's clock;\n"
        "  throughput = N / window seconds, reported as the median of the windows.\n"
        "accuracy: every input of --dataset (y_labels.csv + raw files) run once; top-1, or the\n"
        "  ROC AUC for anomaly detection (ad01): class 1 (anomaly) positive, a higher score more\n"
        "  anomalous. Beside it, auc_runner_average: what the official runner's main.py prints as\n"
        "  \"Simplified average ROC AUC\" (mean over classes 0 and 1 with columns score, 1 - score);\n"
        "  for a reconstruction-error score and ad01's labels (0 normal, 1 anomaly) it is about\n"
        "  1 - auc, because the runner reads a high score as class 0."));
    addBoardOptions(p);
    p.addOption({QStringLiteral("mode"), QStringLiteral("performance or accuracy"), QStringLiteral("MODE")});
    p.addOption({QStringLiteral("dataset"), QStringLiteral("MLPerf data set folder (y_labels.csv and raw input files)"),
                 QStringLiteral("DIR")});
    p.addOption({QStringLiteral("min-window-s"), QStringLiteral("shortest performance window in seconds (default 10, as the runner)"),
                 QStringLiteral("S"), QStringLiteral("10")});
    p.addOption({QStringLiteral("warmup"), QStringLiteral("warm-up inferences per window (default 1, the runner's kws01 script)"),
                 QStringLiteral("N"), QStringLiteral("1")});
    int code = 0;
    if (!parseOrReport(p, args, kCommand, 1, &code))
        return code;
    const bool json = p.isSet(QStringLiteral("json"));
    const QString mode = p.value(QStringLiteral("mode"));
    if (mode != QLatin1String("performance") && mode != QLatin1String("accuracy"))
        return usageError(kCommand, QStringLiteral("--mode must be performance or accuracy"));
    if (p.isSet(QStringLiteral("board")) == p.isSet(QStringLiteral("port")))
        return usageError(kCommand, QStringLiteral("give exactly one of --board or --port"));
    bool ok = false;
    const double minWindowS = p.value(QStringLiteral("min-window-s")).toDouble(&ok);
    if (!ok || !(minWindowS > 0) || minWindowS > 3600)
        return usageError(kCommand, QStringLiteral("--min-window-s must be a number of seconds above 0 (at most 3600)"));
    const int warmups = p.value(QStringLiteral("warmup")).toInt(&ok);
    if (!ok || warmups < 0 || warmups > 1000)
        return usageError(kCommand, QStringLiteral("--warmup must be 0 to 1000"));
    if (mode == QLatin1String("accuracy") && !p.isSet(QStringLiteral("dataset")))
        return usageError(kCommand, QStringLiteral("--mode accuracy needs --dataset DIR"));

    // The project's model: flashed onto a virtual board; on --port it only tells the input size.
    QString error;
    auto store = openProjectToRead(p.positionalArguments().first(), &error);
    if (!store)
        return fail(error);
    std::optional<StoredModel> stored = pickModel(*store, p, &error);
    if (!stored && (p.isSet(QStringLiteral("board")) || p.isSet(QStringLiteral("model"))))
        return fail(error);
    std::optional<model::Graph> graph;
    qint64 inputBytes = 0;
    int outputCount = 0;
    if (stored) {
        graph = model::Graph::deserialize(stored->graph, &error);
        if (!graph)
            return fail(QStringLiteral("model %1: %2").arg(stored->id).arg(error));
        inputBytes = graph->tensors[graph->inputs[0]].elementCount();
        outputCount = int(graph->tensors[graph->outputs[0]].elementCount());
    }

    std::optional<io::MlperfDataset> dataset;
    if (p.isSet(QStringLiteral("dataset"))) {
        io::ImportError dsError;
        dataset = io::MlperfDataset::open(p.value(QStringLiteral("dataset")), inputBytes, &dsError);
        if (!dataset)
            return fail(dsError.toString());
    } else if (inputBytes <= 0) {
        return fail(QStringLiteral("the project has no int8 model to size a performance input: give --dataset DIR"));
    }

    // Connect. A virtual board is started and flashed over the agent protocol, then its port is
    // handed to the MLPerf link (one owner of a serial port at a time).
    Connection c;
    MlperfLink link;
    QString portName;
    QString boardId;
    bool virtualBoard = false;
    if (p.isSet(QStringLiteral("board"))) {
        if (!connectBoard(p, kCommand, json, &c, &code))
            return code;
        deploy::ModelPackageWriter writer;
        auto package = writer.write(*graph, &error);
        if (!package)
            return fail(QStringLiteral("model %1 cannot be packaged: %2").arg(stored->id).arg(error));
        // The benchmark id its name implies (kws01 for a keyword model), as `tinyml flash` gives
        // it: the agent then answers it to `profile%` like a reference DUT.
        auto outcome = deploy::Flasher::flash(c.link, *package, p.isSet(QStringLiteral("force")), {}, &error,
                                              deploy::defaultBenchmarkId(stored->name));
        if (!outcome)
            return fail(error);
        if (!json)
            QTextStream(stderr) << (outcome->uploaded ? "Flashed" : "Already on the board:") << " model " << stored->id
                                << " (" << stored->name << ") to " << c.definition.id << "\n";
        portName = c.board->ptyPath();
        // The host agent keeps its own pty end open: that is the DUT, not another user.
        link.setPortSharedWith(c.board->processId());
        boardId = c.definition.id;
        virtualBoard = true;
        c.link->close();
    } else {
        portName = p.value(QStringLiteral("port"));
        link.setBaudRate(p.value(QStringLiteral("baud")).toInt());
    }
    link.setPortName(portName);
    if (!link.open(&error))
        return fail(QStringLiteral("%1: %2").arg(portName, error));
    auto dutName = link.name(&error);
    if (!dutName)
        return fail(QStringLiteral("%1 does not answer the MLPerf `name%` command: %2").arg(portName, error));
    auto profile = link.profile(&error);
    if (!profile)
        return fail(QStringLiteral("%1: %2").arg(portName, error));
    const QString benchmarkId = MlperfLink::benchmarkId(*profile);
    // ad01 scores with one output; a DUT that names its benchmark settles it for third-party models.
    const bool anomaly = benchmarkId == QLatin1String("ad01") || outputCount == 1;
    if (boardId.isEmpty())
        boardId = *dutName;
    const QString clockNote = virtualBoard
        ? QStringLiteral("DUT clock (m-lap-us-) of virtual board %1: QEMU counts instructions, not cycles")
              .arg(boardId)
        : QStringLiteral("DUT clock (m-lap-us-)");

    QJsonObject o{{QStringLiteral("mode"), mode},
                  {QStringLiteral("dut"), *dutName},
                  {QStringLiteral("board"), boardId},
                  {QStringLiteral("port"), portName},
                  {QStringLiteral("profile"), QJsonArray::fromStringList(*profile)},
                  {QStringLiteral("benchmark"), benchmarkId},
                  {QStringLiteral("clock"), clockNote}};
    if (stored) {
        o.insert(QStringLiteral("model_id"), double(stored->id));
        o.insert(QStringLiteral("model_name"), stored->name);
    }
    QTextStream err(stderr);
    QTextStream out(stdout);
    MlperfBenchmark bench(&link);

    if (mode == QLatin1String("performance")) {
        QVector<QByteArray> inputs;
        if (dataset) {
            for (int i = 0; i < dataset->size() && inputs.size() < 5; ++i) {
                io::ImportError readError;
                auto in = dataset->inputs(i, &readError);
                if (!in)
                    return fail(readError.toString());
                inputs << in->first();
            }
        } else {
            inputs << syntheticInput(inputBytes);
        }
        MlperfPerformanceOptions options;
        options.minWindowS = minWindowS;
        options.warmups = warmups;
        if (!json)
            err << "Performance on " << *dutName << ": 5 windows of at least " << minWindowS << " s each\n" << Qt::flush;
        auto result = bench.runPerformance(inputs, options, [&](int i, const MlperfWindow &w) {
            if (!json)
                err << QStringLiteral("  window %1: %2 inferences (+%3 warm-up) in %4 s: %5 inf./s (host %6 s)\n")
                           .arg(i + 1).arg(w.runs).arg(w.warmups).arg(double(w.elapsedUs) / 1e6, 0, 'f', 3)
                           .arg(w.throughput, 0, 'f', 3).arg(w.wallSeconds, 0, 'f', 1) << Qt::flush;
        }, &error);
        if (!result)
            return fail(error);
        QJsonArray windows;
        for (const MlperfWindow &w : result->windows)
            windows.append(QJsonObject{{QStringLiteral("inferences"), double(w.runs)},
                                       {QStringLiteral("warmups"), w.warmups},
                                       {QStringLiteral("elapsed_us"), double(w.elapsedUs)},
                                       {QStringLiteral("throughput"), w.throughput},
                                       {QStringLiteral("host_seconds"), w.wallSeconds}});
        o.insert(QStringLiteral("windows"), windows);
        o.insert(QStringLiteral("min_window_s"), minWindowS);
        o.insert(QStringLiteral("median_throughput"), result->medianThroughput);
        o.insert(QStringLiteral("latency_ms"), result->latencyMs);
        if (json) {
            printJson(o);
        } else {
            out << QStringLiteral("Median throughput %1 inf./s (%2 ms per inference), %3\n")
                       .arg(result->medianThroughput, 0, 'f', 3).arg(result->latencyMs, 0, 'f', 3).arg(clockNote);
        }
        return Ok;
    }

    if (!json)
        err << "Accuracy on " << *dutName << ": " << dataset->size() << " files from " << dataset->directory() << "\n" << Qt::flush;
    int lastTenth = -1;
    auto result = bench.runAccuracy(*dataset, anomaly, [&](int done, int total) {
        const int tenth = done * 10 / qMax(1, total);
        if (!json && tenth != lastTenth)
            err << "  " << done << " of " << total << " files\n" << Qt::flush;
        lastTenth = tenth;
    }, &error);
    if (!result)
        return fail(error);
    QJsonArray files;
    for (const MlperfFileResult &f : result->files)
        files.append(QJsonObject{{QStringLiteral("file"), f.file},
                                 {QStringLiteral("class"), f.label},
                                 {QStringLiteral("predicted"), f.predicted},
                                 {QStringLiteral("inferences"), f.inferences},
                                 {QStringLiteral("results"), floatsJson(f.scores)}});
    o.insert(QStringLiteral("files"), files);
    o.insert(QStringLiteral("file_count"), result->files.size());
    o.insert(QStringLiteral("results_source"), result->resultsFromInferReply ? QStringLiteral("infer reply")
                                                                             : QStringLiteral("results%"));
    if (anomaly) {
        if (result->auc) {
            o.insert(QStringLiteral("auc"), *result->auc);
            if (result->runnerAuc)
                o.insert(QStringLiteral("auc_runner_average"), *result->runnerAuc);
        } else
            o.insert(QStringLiteral("auc_unavailable"), QStringLiteral("the data set needs classes 0 (normal) and 1 (anomaly)"));
    } else {
        o.insert(QStringLiteral("top1"), result->top1);
        o.insert(QStringLiteral("correct"), result->correct);
    }
    if (json) {
        printJson(o);
    } else if (anomaly) {
        if (result->auc) {
            out << QStringLiteral("ROC AUC %1 over %2 files (class 1 = anomaly, a higher score = more anomalous)\n")
                       .arg(*result->auc, 0, 'f', 4).arg(result->files.size());
            if (result->runnerAuc)
                out << QStringLiteral("The official runner's \"Simplified average ROC AUC\" of the same scores: %1 "
                                      "(it reads a high score as class 0; see `tinyml mlperf --help`)\n")
                           .arg(*result->runnerAuc, 0, 'f', 4);
        } else
            out << "ROC AUC unavailable: the data set needs classes 0 (normal) and 1 (anomaly)\n";
    } else {
        out << QStringLiteral("Top-1 accuracy %1 % (%2 of %3 files)\n")
                   .arg(100.0 * result->top1, 0, 'f', 2).arg(result->correct).arg(result->files.size());
    }
    return Ok;
}

} // namespace

QList<Command> mlperfCommands()
{
    return {
        {kCommand,
         QStringLiteral("mlperf PROJECT (--board ID | --port PATH) --mode performance|accuracy [--dataset DIR] "
                        "[--min-window-s S] [--json]"),
         QStringLiteral("MLPerf Tiny runner procedure: median throughput over 5 windows, or top-1 / AUC"), cmdMlperf},
    };
}

} // namespace tinyml::cli
