#include "ModelCard.h"

#include "Profiler.h"
#include "device/BoardRegistry.h"
#include "model/Graph.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QMap>

#include <algorithm>
#include <functional>

namespace tinyml::deploy {

namespace {

const QString kNotMeasured = QStringLiteral("not measured");
const QString kNotRecorded = QStringLiteral("not recorded");

// Fewer complete samples than this in a label is called out as a limit: a test split of a
// handful of samples moves by whole percentage points per sample.
constexpr int kFewSamples = 20;
// An int8 model that loses more than this (0.01 = one point) against its float model.
constexpr double kNotableDrop = 0.01;

QString percent(double v) { return QString::number(v * 100.0, 'f', 2) + QStringLiteral(" %"); }
// Four significant digits: host-agent latencies are microseconds, QEMU ones milliseconds.
QString ms(double v) { return QString::number(v, v >= 1000 ? 'f' : 'g', v >= 1000 ? 0 : 4) + QStringLiteral(" ms"); }
QString bytes(qint64 v) { return QString::number(v) + QStringLiteral(" B"); }

QString isoUtc(const QDateTime &t)
{
    return t.isValid() ? t.toUTC().toString(Qt::ISODate) : QString();
}

// --- what the store holds --------------------------------------------------------------------

const BoardDefinition *findBoard(const BoardRegistry *boards, const QString &id)
{
    return boards && !id.isEmpty() ? boards->board(id) : nullptr;
}

/// Where a sample came from. The device field wins (a file recorded on a known board, e.g.
/// the examples made on the virtual board, keeps it); a "device:<id>" source is a capture.
CardSourceRow classifySource(const SampleInfo &s, const BoardRegistry *boards)
{
    QString device = s.device;
    const bool captured = s.source.startsWith(QLatin1String("device:"));
    if (device.isEmpty() && captured)
        device = s.source.mid(7);
    CardSourceRow row;
    if (const BoardDefinition *b = findBoard(boards, device)) {
        if (b->isVirtual) {
            row.kind = QStringLiteral("simulated");
            row.origin = QStringLiteral("virtual board %1 (simulated or replayed sensor)%2")
                             .arg(b->id, captured ? QString() : QStringLiteral(", imported from files"));
        } else {
            row.kind = captured ? QStringLiteral("device capture") : QStringLiteral("imported file");
            row.origin = QStringLiteral("board %1 (%2)").arg(b->id, b->name);
        }
        return row;
    }
    if (captured) {
        row.kind = QStringLiteral("device capture");
        row.origin = QStringLiteral("device %1 (not a board of the registry)").arg(device);
    } else if (!device.isEmpty()) {
        row.kind = QStringLiteral("imported file");
        row.origin = QStringLiteral("device %1 (not a board of the registry)").arg(device);
    } else {
        row.kind = QStringLiteral("imported file");
        row.origin = QStringLiteral("file; device not recorded (simulated or real unknown)");
    }
    return row;
}

QStringList keyValues(const QJsonObject &o)
{
    QStringList out;
    for (auto it = o.begin(); it != o.end(); ++it) {
        const QJsonValue v = it.value();
        QString text;
        if (v.isObject() || v.isArray())
            text = QString::fromUtf8(QJsonDocument(v.isObject() ? QJsonDocument(v.toObject())
                                                                : QJsonDocument(v.toArray()))
                                         .toJson(QJsonDocument::Compact));
        else if (v.isBool())
            text = v.toBool() ? QStringLiteral("true") : QStringLiteral("false");
        else if (v.isDouble())
            text = QString::number(v.toDouble(), 'g', 10);
        else if (v.isNull())
            text = QStringLiteral("none");
        else
            text = v.toString();
        out << QStringLiteral("%1 = %2").arg(it.key(), text);
    }
    return out;
}

QString shapeText(const QVector<int> &shape)
{
    QStringList d;
    for (int v : shape)
        d << QString::number(v);
    return QStringLiteral("[%1]").arg(d.join(QStringLiteral(", ")));
}

QString timingOf(const ProfileResult &r, bool virtualBoard)
{
    if (r.counter == QLatin1String("instructions"))
        return QStringLiteral("QEMU instruction counts (-icount shift=0) converted at %1 Hz: not cycles, "
                              "not measured on silicon")
            .arg(r.clockHz);
    if (r.counter == QLatin1String("microseconds"))
        return virtualBoard ? QStringLiteral("wall-clock microseconds of the host agent process: not a "
                                             "microcontroller, not measured on silicon")
                            : QStringLiteral("the board's microsecond timer");
    if (r.counter == QLatin1String("cycles"))
        return QStringLiteral("the board's cycle counter (DWT->CYCCNT) at %1 Hz").arg(r.clockHz);
    return QStringLiteral("counter \"%1\"").arg(r.counter);
}

CardProfile cardProfile(const StoredProfile &sp, const BoardRegistry *boards)
{
    const ProfileResult r = ProfileResult::fromJson(sp.json);
    CardProfile p;
    p.id = sp.id;
    p.board = r.board.isEmpty() ? sp.boardId : r.board;
    p.boardName = r.boardName;
    const BoardDefinition *b = findBoard(boards, p.board);
    // A board the registry does not know is not assumed to be silicon either.
    p.virtualBoard = !b || b->isVirtual;
    p.created = r.createdUtc.isEmpty() ? isoUtc(sp.created) : r.createdUtc;
    p.counter = r.counter;
    p.timing = timingOf(r, p.virtualBoard);
    p.method = r.method;
    p.latencyMinMs = r.latencyMinMs;
    p.latencyMedianMs = r.latencyMedianMs;
    p.latencyMaxMs = r.latencyMaxMs;
    p.runs = r.runs;
    p.clockHz = r.clockHz;
    if (r.hasCycleEstimate) {
        p.cycles = QStringLiteral("%1 estimated cycles (median; %2 .. %3), %4")
                       .arg(r.cyclesMedian)
                       .arg(r.cyclesMin)
                       .arg(r.cyclesMax)
                       .arg(r.cycleModel.label.isEmpty() ? QStringLiteral("estimated by the cycle model")
                                                         : r.cycleModel.label);
        if (r.onTarget)
            p.onTarget = QStringLiteral("%1 (median, %2 .. %3 ms) on %4 at %5 Hz, estimated from the cycle model")
                             .arg(ms(r.onTarget->medianMs))
                             .arg(r.onTarget->minMs, 0, 'f', 3)
                             .arg(r.onTarget->maxMs, 0, 'f', 3)
                             .arg(r.onTarget->part.isEmpty() ? r.onTarget->board : r.onTarget->part)
                             .arg(r.onTarget->clockHz);
    } else {
        p.cyclesUnavailable = r.cyclesUnavailable;
    }
    p.arenaBytes = r.arenaBytes;
    p.packageBytes = r.packageBytes;
    p.flashBytes = r.flashBytes;
    p.runtimeBytes = r.runtimeBytes;
    p.runtimeSource = r.runtimeSource;
    p.energyUj = r.energyUj;
    p.energyEstimated = r.energyEstimated;
    p.energySource = r.energySource;
    p.outputsCompared = r.outputsCompared;
    p.bitexactOutputs = r.bitexactOutputs;
    return p;
}

QVector<CardClassMetrics> perClassOf(const QJsonObject &metrics)
{
    QVector<CardClassMetrics> out;
    for (const QJsonValue &v : metrics.value(QStringLiteral("per_class")).toArray()) {
        const QJsonObject o = v.toObject();
        out.append({o.value(QStringLiteral("label")).toString(), o.value(QStringLiteral("precision")).toDouble(),
                    o.value(QStringLiteral("recall")).toDouble(), o.value(QStringLiteral("f1")).toDouble(),
                    o.value(QStringLiteral("support")).toInt()});
    }
    return out;
}

CardFigure figure(const QJsonValue &v, const QString &source, const QString &missing)
{
    CardFigure f;
    if (v.isDouble()) {
        f.value = v.toDouble();
        f.source = source;
    } else {
        f.missing = missing;
    }
    return f;
}

void collectQuality(ModelCard &card, const StoredModel &m, const ProjectStore &store)
{
    const QJsonObject &mx = m.metrics;
    const QString noEval = QStringLiteral("%1: model %2 has no stored evaluation%3")
                               .arg(kNotMeasured)
                               .arg(m.id)
                               .arg(card.imported ? QStringLiteral(" (imported)") : QString());
    if (card.task == QLatin1String("anomaly")) {
        const QString split = mx.value(QStringLiteral("split")).toString();
        const QString where = QStringLiteral("on the %1 split, normal vs anomalous labels")
                                  .arg(split.isEmpty() ? QStringLiteral("evaluation") : split);
        if (card.modelKind == QLatin1String("int8")) {
            card.floatAuc = figure(mx.value(QStringLiteral("float_auc")),
                                   QStringLiteral("host float evaluation of model %1 %2").arg(card.floatModelId).arg(where), noEval);
            card.int8Auc = figure(mx.value(QStringLiteral("int8_auc")),
                                  QStringLiteral("host int8 evaluation (Int8Executor) of model %1 %2").arg(m.id).arg(where), noEval);
            card.tpr = figure(mx.value(QStringLiteral("tpr")),
                              QStringLiteral("host int8 evaluation at the threshold, %1").arg(where), noEval);
            card.fpr = figure(mx.value(QStringLiteral("fpr")),
                              QStringLiteral("host int8 evaluation at the threshold, %1").arg(where), noEval);
        } else {
            const QJsonObject e = mx.value(QStringLiteral("evaluation")).toObject();
            const QJsonValue auc = e.contains(QStringLiteral("auc")) ? e.value(QStringLiteral("auc")) : mx.value(QStringLiteral("auc"));
            card.floatAuc = figure(auc, QStringLiteral("host float evaluation of model %1").arg(m.id), noEval);
            card.tpr = figure(mx.value(QStringLiteral("tpr")),
                              QStringLiteral("host float evaluation of model %1 at the threshold").arg(m.id), noEval);
            card.fpr = figure(mx.value(QStringLiteral("fpr")),
                              QStringLiteral("host float evaluation of model %1 at the threshold").arg(m.id), noEval);
            card.int8Auc.missing = QStringLiteral("%1: model %2 is a float model (quantize it: tinyml quantize)").arg(kNotMeasured).arg(m.id);
        }
        return;
    }

    if (card.modelKind == QLatin1String("int8")) {
        const QJsonObject q = mx.value(QStringLiteral("int8")).toObject();
        const int n = q.value(QStringLiteral("samples")).toInt();
        // quantize evaluates on the test split, on the train split when the test split is empty.
        const QString data = n == store.counts().test
                                 ? QStringLiteral("the test split (%1 samples)").arg(n)
                                 : QStringLiteral("%1 samples (the test split when quantized, or the train split "
                                                  "if that was empty)").arg(n);
        card.floatAccuracy = figure(mx.value(QStringLiteral("float_accuracy")),
                                    QStringLiteral("host float evaluation (FloatExecutor) of float model %1 on %2")
                                        .arg(card.floatModelId).arg(data), noEval);
        card.int8Accuracy = figure(mx.value(QStringLiteral("int8_accuracy")),
                                   QStringLiteral("host int8 evaluation (Int8Executor, the device's kernels) of model %1 on %2")
                                       .arg(m.id).arg(data), noEval);
        card.perClass = perClassOf(q);
        if (!card.perClass.isEmpty())
            card.perClassSource = QStringLiteral("host int8 evaluation of model %1 on %2").arg(m.id).arg(data);
    } else {
        const QJsonObject t = mx.value(QStringLiteral("test")).toObject();
        const int n = t.value(QStringLiteral("samples")).toInt();
        if (mx.contains(QStringLiteral("float_accuracy")) && n == 0)
            card.floatAccuracy.missing = QStringLiteral("%1: the test split was empty when model %2 was trained").arg(kNotMeasured).arg(m.id);
        else
            card.floatAccuracy = figure(mx.value(QStringLiteral("float_accuracy")),
                                        QStringLiteral("host float evaluation (libtorch) of model %1 on the test split (%2 samples)")
                                            .arg(m.id).arg(n), noEval);
        card.int8Accuracy.missing = QStringLiteral("%1: model %2 is a float model (quantize it: tinyml quantize)").arg(kNotMeasured).arg(m.id);
        if (n > 0) {
            card.perClass = perClassOf(t);
            if (!card.perClass.isEmpty())
                card.perClassSource = QStringLiteral("host float evaluation of model %1 on the test split").arg(m.id);
        }
    }
}

void deriveLimits(ModelCard &card)
{
    QStringList &l = card.limits;
    int simulated = 0, unknown = 0, real = 0;
    for (const CardSourceRow &s : card.sources) {
        if (s.kind == QLatin1String("simulated"))
            simulated += s.samples;
        else if (s.origin.startsWith(QLatin1String("file; device not recorded")))
            unknown += s.samples;
        else
            real += s.samples;
    }
    if (simulated > 0 && unknown == 0 && real == 0)
        l << QStringLiteral("The data is simulated only (%1 samples from virtual boards): nothing shows how the model "
                            "does on a real sensor.").arg(simulated);
    else if (simulated > 0)
        l << QStringLiteral("%1 of %2 samples are simulated (virtual boards).").arg(simulated).arg(simulated + unknown + real);
    if (unknown > 0)
        l << QStringLiteral("%1 samples were imported from files without a recorded device: whether they are real or "
                            "simulated is not recorded.").arg(unknown);
    for (const CardLabelRow &r : card.labels) {
        if (r.train + r.test == 0)
            l << QStringLiteral("Label \"%1\" has no complete samples.").arg(r.label);
        else if (r.test == 0)
            l << QStringLiteral("Label \"%1\" has no test samples: its accuracy is not measured.").arg(r.label);
        else if (r.train + r.test < kFewSamples)
            l << QStringLiteral("Label \"%1\" has few samples (%2 train, %3 test): its figures rest on little data.")
                     .arg(r.label, QString::number(r.train), QString::number(r.test));
    }
    if (card.incomplete > 0)
        l << QStringLiteral("%1 incomplete samples (cut-off captures) are left out of every figure.").arg(card.incomplete);
    for (const QString &label : card.modelLabels) {
        const bool known = std::any_of(card.labels.begin(), card.labels.end(),
                                       [&](const CardLabelRow &r) { return r.label == label; });
        if (!known)
            l << QStringLiteral("The model's label \"%1\" has no samples in the project now.").arg(label);
    }
    if (card.floatAccuracy.value && card.int8Accuracy.value) {
        const double drop = *card.floatAccuracy.value - *card.int8Accuracy.value;
        if (drop > kNotableDrop)
            l << QStringLiteral("int8 quantization costs %1 percentage points of accuracy (float %2, int8 %3).")
                     .arg(drop * 100.0, 0, 'f', 2).arg(percent(*card.floatAccuracy.value), percent(*card.int8Accuracy.value));
    }
    if (card.floatAuc.value && card.int8Auc.value && *card.floatAuc.value - *card.int8Auc.value > kNotableDrop)
        l << QStringLiteral("int8 quantization lowers the AUC from %1 to %2.")
                 .arg(*card.floatAuc.value, 0, 'f', 4).arg(*card.int8Auc.value, 0, 'f', 4);
    if (!card.profile) {
        l << QStringLiteral("Not measured on any device: latency, memory, energy and on-device accuracy are unknown.");
    } else {
        const CardProfile &p = *card.profile;
        if (p.virtualBoard)
            l << QStringLiteral("Not measured on silicon: the newest profile ran on %1, a virtual board (%2).").arg(p.board, p.timing);
        if (p.energyEstimated)
            l << QStringLiteral("Energy is estimated from the board's power model, not measured with a power monitor.");
        if (p.outputsCompared > 0 && p.bitexactOutputs < p.outputsCompared)
            l << QStringLiteral("%1 of %2 outputs on the device differ from the host int8 reference.")
                     .arg(p.outputsCompared - p.bitexactOutputs).arg(p.outputsCompared);
    }
}

// --- rendering -------------------------------------------------------------------------------

/// The card as a few kinds of blocks, so that Markdown and HTML say the same thing.
struct Block {
    enum Kind { Heading, Paragraph, Facts, List, Table } kind = Paragraph;
    int level = 2;
    QString text;
    QVector<QPair<QString, QString>> facts;   ///< term, value
    QStringList items;
    QStringList header;
    QVector<QStringList> rows;
};

QString figureText(const CardFigure &f, const std::function<QString(double)> &format)
{
    if (f.value)
        return QStringLiteral("%1 (%2)").arg(format(*f.value), f.source);
    return f.missing.isEmpty() ? kNotMeasured : f.missing;
}

QString orNot(const QString &s, const QString &missing) { return s.isEmpty() ? missing : s; }

QString energyText(const CardProfile &p)
{
    const QString kind = p.energyEstimated ? QStringLiteral("estimated") : QStringLiteral("measured");
    QString source = orNot(p.energySource, QStringLiteral("source not recorded"));
    // The profiler's source text usually starts with the same word.
    if (!source.startsWith(kind, Qt::CaseInsensitive))
        source = QStringLiteral("%1: %2").arg(kind, source);
    return QStringLiteral("%1 µJ (%2)").arg(QString::number(p.energyUj, 'g', 4), source);
}

QVector<Block> blocks(const ModelCard &c)
{
    QVector<Block> b;
    auto heading = [&](const QString &t, int level = 2) {
        Block x;
        x.kind = Block::Heading;
        x.level = level;
        x.text = t;
        b << x;
    };
    auto para = [&](const QString &t) {
        Block x;
        x.kind = Block::Paragraph;
        x.text = t;
        b << x;
    };
    auto facts = [&](const QVector<QPair<QString, QString>> &f) {
        Block x;
        x.kind = Block::Facts;
        x.facts = f;
        b << x;
    };
    auto list = [&](const QStringList &items) {
        Block x;
        x.kind = Block::List;
        x.items = items;
        b << x;
    };
    auto table = [&](const QStringList &header, const QVector<QStringList> &rows) {
        Block x;
        x.kind = Block::Table;
        x.header = header;
        x.rows = rows;
        b << x;
    };

    heading(QStringLiteral("Model card: %1 (model %2)").arg(c.modelName, QString::number(c.modelId)), 1);
    facts({{QStringLiteral("Project"), QStringLiteral("%1 (%2)").arg(c.projectName, c.projectPath)},
           {QStringLiteral("Model"), QStringLiteral("%1, %2, created %3").arg(c.modelId).arg(c.modelKind, c.modelCreated)},
           {QStringLiteral("Task"), c.task},
           {QStringLiteral("Training run"), c.trainingRunId ? QString::number(c.trainingRunId)
                                                            : (c.imported ? QStringLiteral("none (imported model)") : kNotRecorded)},
           {QStringLiteral("Quantized from"), c.modelKind == QLatin1String("int8")
                                                  ? (c.floatModelId ? QStringLiteral("float model %1").arg(c.floatModelId) : kNotRecorded)
                                                  : QStringLiteral("n/a (float model)")},
           {QStringLiteral("Project board"), c.boardId},
           {QStringLiteral("Card generated"), QStringLiteral("%1 by tinyml %2").arg(c.generatedUtc, QStringLiteral(TINYML_VERSION))}});

    heading(QStringLiteral("Intended use"));
    para(c.intendedUse.isEmpty() ? QStringLiteral("not stated (set it with: tinyml model-card PROJECT --intended-use TEXT)")
                                 : c.intendedUse);

    heading(QStringLiteral("Data"));
    para(QStringLiteral("Complete samples in the project now: %1 train, %2 test; %3 incomplete (left out).")
             .arg(c.train).arg(c.test).arg(c.incomplete));
    QVector<QStringList> rows;
    for (const CardLabelRow &r : c.labels)
        rows << QStringList{r.label, QString::number(r.train), QString::number(r.test), QString::number(r.incomplete)};
    table({QStringLiteral("Label"), QStringLiteral("Train"), QStringLiteral("Test"), QStringLiteral("Incomplete")}, rows);
    rows.clear();
    for (const CardSourceRow &s : c.sources)
        rows << QStringList{s.kind, s.origin, QString::number(s.samples)};
    if (rows.isEmpty())
        para(QStringLiteral("Sources: no samples."));
    else
        table({QStringLiteral("Source"), QStringLiteral("Origin"), QStringLiteral("Samples")}, rows);
    facts({{QStringLiteral("Sensors"), c.sensors.isEmpty() ? kNotRecorded : c.sensors.join(QStringLiteral("; "))},
           {QStringLiteral("Model labels"), c.modelLabels.isEmpty() ? kNotRecorded : c.modelLabels.join(QStringLiteral(", "))}});

    heading(QStringLiteral("Preprocessing"));
    facts({{QStringLiteral("Feature block"), c.featureBlock.isEmpty() ? QStringLiteral("not recorded in the model") : c.featureBlock},
           {QStringLiteral("Parameters"), c.featureParams.isEmpty() ? kNotRecorded : c.featureParams.join(QStringLiteral(", "))},
           {QStringLiteral("Normalisation"), orNot(c.normalization, QStringLiteral("none recorded in the model"))},
           {QStringLiteral("Impulse (on device)"), c.impulse.isEmpty() ? QStringLiteral("project defaults (no impulse settings stored)")
                                                                        : c.impulse.join(QStringLiteral(", "))}});
    if (!c.operatingPoint.isEmpty()) {
        para(QStringLiteral("Anomaly operating point:"));
        list(c.operatingPoint);
    }

    heading(QStringLiteral("Architecture"));
    facts({{QStringLiteral("Kind"), c.architecture},
           {QStringLiteral("Input"), c.inputShape},
           {QStringLiteral("Outputs"), QString::number(c.outputs)},
           {QStringLiteral("Layers"), c.layers.join(QStringLiteral(", "))},
           {QStringLiteral("Parameters"), QString::number(c.parameters)},
           {QStringLiteral("MACs per inference"), QString::number(c.macs)},
           {QStringLiteral("Weights"), QStringLiteral("%1 (constant tensors of the stored graph)").arg(bytes(c.weightBytes))},
           {QStringLiteral("Quantization"), c.quantization.isEmpty() ? QStringLiteral("n/a") : c.quantization.join(QStringLiteral(", "))}});

    heading(QStringLiteral("Quality"));
    if (c.task == QLatin1String("anomaly")) {
        auto four = [](double v) { return QString::number(v, 'f', 4); };
        facts({{QStringLiteral("Float AUC"), figureText(c.floatAuc, four)},
               {QStringLiteral("int8 AUC"), figureText(c.int8Auc, four)},
               {QStringLiteral("True-positive rate"), figureText(c.tpr, percent)},
               {QStringLiteral("False-positive rate"), figureText(c.fpr, percent)},
               {QStringLiteral("On-device scores"), figureText(c.deviceAccuracy, percent)}});
    } else {
        facts({{QStringLiteral("Float accuracy"), figureText(c.floatAccuracy, percent)},
               {QStringLiteral("int8 accuracy"), figureText(c.int8Accuracy, percent)},
               {QStringLiteral("On-device accuracy"), figureText(c.deviceAccuracy, percent)}});
        if (c.perClass.isEmpty()) {
            para(QStringLiteral("Per-class metrics: not measured."));
        } else {
            para(QStringLiteral("Per-class metrics (%1):").arg(c.perClassSource));
            rows.clear();
            for (const CardClassMetrics &m : c.perClass)
                rows << QStringList{m.label, QString::number(m.precision, 'f', 4), QString::number(m.recall, 'f', 4),
                                    QString::number(m.f1, 'f', 4), QString::number(m.support)};
            table({QStringLiteral("Label"), QStringLiteral("Precision"), QStringLiteral("Recall"), QStringLiteral("F1"),
                   QStringLiteral("Support")}, rows);
        }
    }

    heading(QStringLiteral("Latency, memory, energy"));
    if (!c.profile) {
        para(QStringLiteral("Latency: %1. Memory (arena, flash): %1. Energy: %1. (%2)").arg(kNotMeasured, c.profileMissing));
    } else {
        const CardProfile &p = *c.profile;
        para(QStringLiteral("Newest of %1 stored profile(s): profile %2 on %3%4 at %5.")
                 .arg(c.profileCount).arg(p.id)
                 .arg(p.board, p.boardName.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(p.boardName), p.created));
        facts({{QStringLiteral("Latency"), QStringLiteral("%1 median (%2 .. %3) over %4 runs; %5")
                                               .arg(ms(p.latencyMedianMs), ms(p.latencyMinMs), ms(p.latencyMaxMs))
                                               .arg(p.runs).arg(p.timing)},
               {QStringLiteral("Method"), orNot(p.method, kNotRecorded)},
               {QStringLiteral("Estimated cycles"), p.cycles.isEmpty()
                                                        ? QStringLiteral("%1%2").arg(kNotMeasured,
                                                              p.cyclesUnavailable.isEmpty() ? QString() : QStringLiteral(": ") + p.cyclesUnavailable)
                                                        : p.cycles},
               {QStringLiteral("On a target part"), orNot(p.onTarget, QStringLiteral("not estimated"))},
               {QStringLiteral("Tensor arena (RAM)"), QStringLiteral("%1 (the package's planned arena)").arg(bytes(p.arenaBytes))},
               {QStringLiteral("Flash"), p.runtimeBytes > 0
                                             ? QStringLiteral("%1 = package %2 + runtime %3 (%4)")
                                                   .arg(bytes(p.flashBytes), bytes(p.packageBytes), bytes(p.runtimeBytes), p.runtimeSource)
                                             : QStringLiteral("package %1; runtime %2").arg(bytes(p.packageBytes), orNot(p.runtimeSource, kNotMeasured))},
               {QStringLiteral("Energy per inference"), energyText(p)}});
    }

    heading(QStringLiteral("Known limits"));
    QStringList limits = c.limits;
    if (!c.userLimits.isEmpty())
        limits << QStringLiteral("Stated by the user: %1").arg(c.userLimits);
    if (limits.isEmpty())
        para(QStringLiteral("none derived from the project's facts; none stated by the user"));
    else
        list(limits);

    heading(QStringLiteral("Signature"));
    if (c.signatures.isEmpty()) {
        para(orNot(c.signatureNote, QStringLiteral("not recorded")));
    } else {
        rows.clear();
        for (const CardSignature &s : c.signatures)
            rows << QStringList{s.keyId, QString::number(s.version), s.file, s.check};
        table({QStringLiteral("Key id"), QStringLiteral("Version"), QStringLiteral("File"), QStringLiteral("Check")}, rows);
        if (!c.signatureNote.isEmpty())
            para(c.signatureNote);
    }
    return b;
}

/// CommonMark backslash escapes for the punctuation that would start markup; newlines
/// become spaces so that user text cannot end a table row or start a heading.
QString md(const QString &text)
{
    QString out;
    out.reserve(text.size() + 8);
    for (int i = 0; i < text.size(); ++i) {
        const QChar ch = text[i];
        if (ch == QLatin1Char('\n') || ch == QLatin1Char('\r')) {
            out += QLatin1Char(' ');
            continue;
        }
        // An underscore inside a word never starts emphasis (CommonMark): fully_connected stays as it is.
        const bool intraword = ch == QLatin1Char('_') && i > 0 && i + 1 < text.size() &&
                               text[i - 1].isLetterOrNumber() && text[i + 1].isLetterOrNumber();
        if (!intraword && QStringLiteral("\\`*_[]<>|&#!").contains(ch))
            out += QLatin1Char('\\');
        out += ch;
    }
    return out;
}

QString html(const QString &text) { return text.toHtmlEscaped(); }

} // namespace

// --- collection ------------------------------------------------------------------------------

std::optional<ModelCard> collectModelCard(const ProjectStore &store, std::optional<qint64> modelId,
                                          const BoardRegistry *boards, QString *error)
{
    auto setError = [&](const QString &e) {
        if (error)
            *error = e;
        return std::nullopt;
    };
    const QVector<StoredModel> all = store.models();
    if (all.isEmpty())
        return setError(QStringLiteral("%1 has no models: train one (tinyml train) or import one (tinyml import-model) first")
                            .arg(store.path()));
    qint64 id = 0;
    if (modelId) {
        id = *modelId;
    } else {
        for (const StoredModel &m : all)
            if (m.kind == ModelKind::Int8)
                id = qMax(id, m.id);
        if (id == 0)
            for (const StoredModel &m : all)
                id = qMax(id, m.id);
    }
    QString e;
    auto m = store.model(id, &e);
    if (!m) {
        QStringList ids;
        for (const StoredModel &x : all)
            ids << QString::number(x.id);
        return setError(QStringLiteral("%1: no model %2 (models: %3)")
                            .arg(store.path(), QString::number(id), ids.join(QStringLiteral(", "))));
    }
    auto graph = model::Graph::deserialize(m->graph, &e);
    if (!graph)
        return setError(QStringLiteral("%1: model %2: %3").arg(store.path(), QString::number(id), e));

    ModelCard c;
    const ProjectSettings settings = store.settings();
    c.generatedUtc = QDateTime::currentDateTimeUtc().toString(Qt::ISODate);
    c.projectName = settings.name;
    c.projectPath = store.path();
    c.templateName = settings.templateName;
    c.boardId = settings.boardId;
    c.intendedUse = intendedUse(settings);
    c.userLimits = knownLimitsText(settings);

    c.modelId = m->id;
    c.modelName = m->name;
    c.modelKind = modelKindName(m->kind);
    c.modelCreated = isoUtc(m->created);
    c.trainingRunId = m->trainingRunId;
    c.floatModelId = graph->meta.value(QStringLiteral("float_model")).toInteger();
    c.imported = m->metrics.value(QStringLiteral("imported")).toBool();
    const bool anomaly = graph->meta.value(QStringLiteral("task")).toString() == QLatin1String("anomaly") ||
                         m->metrics.value(QStringLiteral("task")).toString() == QLatin1String("anomaly");
    c.task = anomaly ? QStringLiteral("anomaly") : QStringLiteral("classification");

    // data
    const DatasetCounts counts = store.counts();
    for (const DatasetCounts::Row &r : counts.perLabel)
        c.labels.append({r.label, r.train, r.test, r.incomplete});
    c.train = counts.train;
    c.test = counts.test;
    c.incomplete = counts.incomplete;
    QMap<QPair<QString, QString>, int> bySource;
    for (const SampleInfo &s : store.sampleInfos()) {
        const CardSourceRow row = classifySource(s, boards);
        bySource[qMakePair(row.kind, row.origin)] += 1;
    }
    for (auto it = bySource.begin(); it != bySource.end(); ++it)
        c.sources.append({it.key().first, it.key().second, it.value()});
    for (const SensorInfo &s : store.sensors()) {
        QStringList ch;
        for (int i = 0; i < s.channels.size(); ++i)
            ch << (i < s.units.size() && !s.units[i].isEmpty() ? QStringLiteral("%1 (%2)").arg(s.channels[i], s.units[i])
                                                                : s.channels[i]);
        c.sensors << QStringLiteral("%1: %2%3")
                         .arg(s.name.isEmpty() ? QStringLiteral("(unnamed)") : s.name, ch.join(QStringLiteral(", ")),
                              s.sampleRateHz > 0 ? QStringLiteral(" at %1 Hz").arg(s.sampleRateHz) : QString());
    }
    c.modelLabels = graph->labels;

    // preprocessing
    const QJsonObject fp = graph->meta.value(QStringLiteral("features")).toObject();
    c.featureBlock = fp.value(QStringLiteral("block")).toString();
    if (!c.featureBlock.isEmpty())
        c.featureParams = keyValues(fp.value(c.featureBlock).toObject());
    const QJsonObject norm = graph->meta.value(QStringLiteral("input_normalization")).toObject();
    if (!norm.isEmpty())
        c.normalization = QStringLiteral("per input element, (x - mean) / std with the train split's statistics "
                                         "(%1 values, kept in the model)")
                              .arg(norm.value(QStringLiteral("mean")).toArray().size());
    c.impulse = keyValues(settings.extra.value(QStringLiteral("impulse")).toObject());
    if (anomaly) {
        const QJsonValue t = graph->meta.value(QStringLiteral("threshold"));
        c.operatingPoint << (t.isDouble() ? QStringLiteral("alarm when score > %1").arg(t.toDouble(), 0, 'g', 8)
                                          : QStringLiteral("threshold %1").arg(kNotRecorded));
        for (const QString key : {QStringLiteral("threshold_rule"), QStringLiteral("max_fpr"),
                                  QStringLiteral("max_false_alarms_per_hour"), QStringLiteral("normal_labels"),
                                  QStringLiteral("anomaly_labels")})
            if (graph->meta.contains(key))
                c.operatingPoint << keyValues({{key, graph->meta.value(key)}});
    }

    // architecture
    const QJsonObject spec = graph->meta.value(QStringLiteral("spec")).toObject();
    c.architecture = spec.value(QStringLiteral("kind")).toString();
    if (c.architecture.isEmpty())
        c.architecture = graph->meta.value(QStringLiteral("anomaly_model")).toString();
    if (c.architecture.isEmpty())
        c.architecture = graph->meta.value(QStringLiteral("model_kind")).toString();
    if (c.architecture.isEmpty())
        c.architecture = c.imported ? QStringLiteral("imported graph") : kNotRecorded;
    const int in = graph->inputIndex();
    c.inputShape = in >= 0 ? shapeText(graph->tensors[in].shape) : kNotRecorded;
    const int out = graph->outputIndex();
    c.outputs = out >= 0 ? int(graph->tensors[out].elementCount()) : 0;
    QStringList order;
    QHash<QString, int> opCount;
    for (const model::Node &n : graph->nodes) {
        const QString op = model::opName(n.op);
        if (!opCount.contains(op))
            order << op;
        opCount[op] += 1;
    }
    for (const QString &op : order)
        c.layers << QStringLiteral("%1 x %2").arg(op).arg(opCount.value(op));
    c.parameters = graph->parameterCount();
    c.macs = graph->macs();
    c.weightBytes = graph->weightBytes();
    if (m->kind == ModelKind::Int8) {
        c.quantization << QStringLiteral("int8, per-channel symmetric weights, per-tensor asymmetric activations");
        const QJsonValue cal = m->metrics.value(QStringLiteral("calibration"));
        c.quantization << (cal.isObject() ? keyValues(cal.toObject()).join(QStringLiteral(", "))
                                          : QStringLiteral("calibration %1").arg(cal.isString() ? cal.toString() : kNotRecorded));
        if (m->metrics.contains(QStringLiteral("qat_applied")))
            c.quantization << (m->metrics.value(QStringLiteral("qat_applied")).toBool()
                                   ? QStringLiteral("quantization-aware fine-tuning applied")
                                   : QStringLiteral("post-training quantization only"));
    }

    collectQuality(c, *m, store);

    // performance: the newest stored profile of this model
    const QVector<StoredProfile> profiles = store.profiles(m->id);
    c.profileCount = int(profiles.size());
    if (!profiles.isEmpty()) {
        c.profile = cardProfile(profiles.last(), boards);
        const CardProfile &p = *c.profile;
        const ProfileResult r = ProfileResult::fromJson(profiles.last().json);
        if (r.isAnomaly() || anomaly) {
            c.deviceAccuracy.missing = p.outputsCompared > 0
                                           ? QStringLiteral("no accuracy for a score model: %1 of %2 device scores equal the host "
                                                            "int8 scores (profile %3 on %4)")
                                                 .arg(p.bitexactOutputs).arg(p.outputsCompared).arg(p.id).arg(p.board)
                                           : QStringLiteral("%1: profile %2 ran without the test split").arg(kNotMeasured).arg(p.id);
        } else if (p.outputsCompared > 0) {
            c.deviceAccuracy.value = r.deviceAccuracy;
            c.deviceAccuracy.source = QStringLiteral("on-device run of the test split (%1 samples) in profile %2 on %3 at %4; "
                                                     "%5 of %1 outputs bit-exact with the host int8 reference")
                                          .arg(p.outputsCompared).arg(p.id).arg(p.board, p.created).arg(p.bitexactOutputs);
        } else {
            c.deviceAccuracy.missing = QStringLiteral("%1: profile %2 ran without the test split (--no-accuracy)").arg(kNotMeasured).arg(p.id);
        }
    } else {
        c.profileMissing = m->kind == ModelKind::Int8
                               ? QStringLiteral("no profile of model %1 is stored: run tinyml profile PROJECT --model %1").arg(m->id)
                               : QStringLiteral("model %1 is a float model; only int8 models run on a device").arg(m->id);
        c.deviceAccuracy.missing = QStringLiteral("%1: %2").arg(kNotMeasured, c.profileMissing);
    }

    c.signatureNote = kNotRecorded;
    deriveLimits(c);
    return c;
}

// --- the user's text -------------------------------------------------------------------------

namespace {
QString cardText(const ProjectSettings &s, const QString &key)
{
    return s.extra.value(QStringLiteral("model_card")).toObject().value(key).toString();
}
void setCardText(ProjectSettings &s, const QString &key, const QString &text)
{
    QJsonObject o = s.extra.value(QStringLiteral("model_card")).toObject();
    if (text.trimmed().isEmpty())
        o.remove(key);
    else
        o.insert(key, text.trimmed());
    s.extra.insert(QStringLiteral("model_card"), o);
}
} // namespace

QString intendedUse(const ProjectSettings &settings) { return cardText(settings, QStringLiteral("intended_use")); }
void setIntendedUse(ProjectSettings &settings, const QString &text) { setCardText(settings, QStringLiteral("intended_use"), text); }
QString knownLimitsText(const ProjectSettings &settings) { return cardText(settings, QStringLiteral("known_limits")); }
void setKnownLimitsText(ProjectSettings &settings, const QString &text) { setCardText(settings, QStringLiteral("known_limits"), text); }

// --- output ----------------------------------------------------------------------------------

namespace {
QJsonValue figureJson(const CardFigure &f)
{
    if (f.value)
        return QJsonObject{{QStringLiteral("value"), *f.value}, {QStringLiteral("source"), f.source}};
    return QJsonObject{{QStringLiteral("value"), QJsonValue()}, {QStringLiteral("missing"), f.missing}};
}
} // namespace

QJsonObject ModelCard::toJson() const
{
    QJsonArray labelRows, sourceRows, classRows, sigRows;
    for (const CardLabelRow &r : labels)
        labelRows.append(QJsonObject{{QStringLiteral("label"), r.label}, {QStringLiteral("train"), r.train},
                                     {QStringLiteral("test"), r.test}, {QStringLiteral("incomplete"), r.incomplete}});
    for (const CardSourceRow &s : sources)
        sourceRows.append(QJsonObject{{QStringLiteral("kind"), s.kind}, {QStringLiteral("origin"), s.origin},
                                      {QStringLiteral("samples"), s.samples}});
    for (const CardClassMetrics &m : perClass)
        classRows.append(QJsonObject{{QStringLiteral("label"), m.label}, {QStringLiteral("precision"), m.precision},
                                     {QStringLiteral("recall"), m.recall}, {QStringLiteral("f1"), m.f1},
                                     {QStringLiteral("support"), m.support}});
    for (const CardSignature &s : signatures)
        sigRows.append(QJsonObject{{QStringLiteral("file"), s.file}, {QStringLiteral("key_id"), s.keyId},
                                   {QStringLiteral("version"), double(s.version)}, {QStringLiteral("check"), s.check}});
    QJsonObject o{
        {QStringLiteral("generated_utc"), generatedUtc},
        {QStringLiteral("project"), QJsonObject{{QStringLiteral("name"), projectName}, {QStringLiteral("path"), projectPath},
                                                {QStringLiteral("template"), templateName}, {QStringLiteral("board"), boardId}}},
        {QStringLiteral("model"), QJsonObject{{QStringLiteral("id"), modelId}, {QStringLiteral("name"), modelName},
                                              {QStringLiteral("kind"), modelKind}, {QStringLiteral("created"), modelCreated},
                                              {QStringLiteral("training_run"), trainingRunId},
                                              {QStringLiteral("float_model"), floatModelId},
                                              {QStringLiteral("imported"), imported}, {QStringLiteral("task"), task}}},
        {QStringLiteral("intended_use"), intendedUse.isEmpty() ? QJsonValue() : QJsonValue(intendedUse)},
        {QStringLiteral("data"), QJsonObject{{QStringLiteral("labels"), labelRows}, {QStringLiteral("train"), train},
                                             {QStringLiteral("test"), test}, {QStringLiteral("incomplete"), incomplete},
                                             {QStringLiteral("sources"), sourceRows},
                                             {QStringLiteral("sensors"), QJsonArray::fromStringList(sensors)},
                                             {QStringLiteral("model_labels"), QJsonArray::fromStringList(modelLabels)}}},
        {QStringLiteral("preprocessing"), QJsonObject{{QStringLiteral("feature_block"), featureBlock},
                                                      {QStringLiteral("parameters"), QJsonArray::fromStringList(featureParams)},
                                                      {QStringLiteral("normalization"), normalization},
                                                      {QStringLiteral("impulse"), QJsonArray::fromStringList(impulse)},
                                                      {QStringLiteral("operating_point"), QJsonArray::fromStringList(operatingPoint)}}},
        {QStringLiteral("architecture"), QJsonObject{{QStringLiteral("kind"), architecture}, {QStringLiteral("input_shape"), inputShape},
                                                     {QStringLiteral("outputs"), outputs},
                                                     {QStringLiteral("layers"), QJsonArray::fromStringList(layers)},
                                                     {QStringLiteral("parameters"), double(parameters)},
                                                     {QStringLiteral("macs"), double(macs)},
                                                     {QStringLiteral("weight_bytes"), double(weightBytes)},
                                                     {QStringLiteral("quantization"), QJsonArray::fromStringList(quantization)}}},
        {QStringLiteral("per_class"), QJsonObject{{QStringLiteral("source"), perClassSource}, {QStringLiteral("rows"), classRows}}},
        {QStringLiteral("known_limits"), QJsonArray::fromStringList(limits)},
        {QStringLiteral("user_limits"), userLimits.isEmpty() ? QJsonValue() : QJsonValue(userLimits)},
        {QStringLiteral("signatures"), sigRows},
        {QStringLiteral("signature_note"), signatureNote},
        {QStringLiteral("profile_count"), profileCount}};
    if (task == QLatin1String("anomaly")) {
        o.insert(QStringLiteral("float_auc"), figureJson(floatAuc));
        o.insert(QStringLiteral("int8_auc"), figureJson(int8Auc));
        o.insert(QStringLiteral("tpr"), figureJson(tpr));
        o.insert(QStringLiteral("fpr"), figureJson(fpr));
    } else {
        o.insert(QStringLiteral("float_accuracy"), figureJson(floatAccuracy));
        o.insert(QStringLiteral("int8_accuracy"), figureJson(int8Accuracy));
    }
    o.insert(QStringLiteral("device_accuracy"), figureJson(deviceAccuracy));
    if (profile) {
        const CardProfile &p = *profile;
        o.insert(QStringLiteral("profile"),
                 QJsonObject{{QStringLiteral("id"), p.id}, {QStringLiteral("board"), p.board},
                             {QStringLiteral("board_name"), p.boardName}, {QStringLiteral("virtual_board"), p.virtualBoard},
                             {QStringLiteral("created_utc"), p.created}, {QStringLiteral("counter"), p.counter},
                             {QStringLiteral("timing"), p.timing}, {QStringLiteral("method"), p.method},
                             {QStringLiteral("latency_ms"), QJsonObject{{QStringLiteral("min"), p.latencyMinMs},
                                                                        {QStringLiteral("median"), p.latencyMedianMs},
                                                                        {QStringLiteral("max"), p.latencyMaxMs}}},
                             {QStringLiteral("runs"), p.runs}, {QStringLiteral("clock_hz"), double(p.clockHz)},
                             {QStringLiteral("cycles_estimated"), p.cycles},
                             {QStringLiteral("cycles_unavailable"), p.cyclesUnavailable},
                             {QStringLiteral("on_target"), p.onTarget},
                             {QStringLiteral("arena_bytes"), double(p.arenaBytes)},
                             {QStringLiteral("package_bytes"), double(p.packageBytes)},
                             {QStringLiteral("flash_bytes"), double(p.flashBytes)},
                             {QStringLiteral("runtime_bytes"), double(p.runtimeBytes)},
                             {QStringLiteral("runtime_source"), p.runtimeSource},
                             {QStringLiteral("energy_uj"), p.energyUj}, {QStringLiteral("energy_estimated"), p.energyEstimated},
                             {QStringLiteral("energy_source"), p.energySource},
                             {QStringLiteral("outputs_compared"), p.outputsCompared},
                             {QStringLiteral("bitexact_outputs"), p.bitexactOutputs}});
    } else {
        o.insert(QStringLiteral("profile"), QJsonValue());
        o.insert(QStringLiteral("profile_missing"), profileMissing);
    }
    return o;
}

QString ModelCard::toMarkdown() const
{
    QString out;
    for (const Block &b : blocks(*this)) {
        switch (b.kind) {
        case Block::Heading:
            out += QString(b.level, QLatin1Char('#')) + QLatin1Char(' ') + md(b.text) + QStringLiteral("\n\n");
            break;
        case Block::Paragraph:
            out += md(b.text) + QStringLiteral("\n\n");
            break;
        case Block::Facts:
            for (const auto &f : b.facts)
                out += QStringLiteral("- **%1:** %2\n").arg(md(f.first), md(f.second));
            out += QLatin1Char('\n');
            break;
        case Block::List:
            for (const QString &i : b.items)
                out += QStringLiteral("- %1\n").arg(md(i));
            out += QLatin1Char('\n');
            break;
        case Block::Table: {
            QStringList h, sep;
            for (const QString &x : b.header) {
                h << md(x);
                sep << QStringLiteral("---");
            }
            out += QStringLiteral("| %1 |\n| %2 |\n").arg(h.join(QStringLiteral(" | ")), sep.join(QStringLiteral(" | ")));
            for (const QStringList &r : b.rows) {
                QStringList cells;
                for (const QString &x : r)
                    cells << md(x);
                out += QStringLiteral("| %1 |\n").arg(cells.join(QStringLiteral(" | ")));
            }
            out += QLatin1Char('\n');
            break;
        }
        }
    }
    return out;
}

QString ModelCard::toHtml() const
{
    QString out = QStringLiteral(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<title>%1</title>\n<style>\n"
        "body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;line-height:1.4;color:#222}\n"
        "table{border-collapse:collapse;margin:0.5em 0 1em}\n"
        "th,td{border:1px solid #bbb;padding:0.2em 0.6em;text-align:left;vertical-align:top}\n"
        "th{background:#eee}\ndt{font-weight:bold;float:left;clear:left;width:13em}\n"
        "dd{margin:0 0 0.3em 14em}\nh2{border-bottom:1px solid #ccc;margin-top:1.5em}\n"
        "</style>\n</head>\n<body>\n")
                      .arg(html(QStringLiteral("Model card: %1 (model %2)").arg(modelName, QString::number(modelId))));
    for (const Block &b : blocks(*this)) {
        switch (b.kind) {
        case Block::Heading:
            out += QStringLiteral("<h%1>%2</h%1>\n").arg(b.level).arg(html(b.text));
            break;
        case Block::Paragraph:
            out += QStringLiteral("<p>%1</p>\n").arg(html(b.text));
            break;
        case Block::Facts:
            out += QStringLiteral("<dl>\n");
            for (const auto &f : b.facts)
                out += QStringLiteral("<dt>%1</dt><dd>%2</dd>\n").arg(html(f.first), html(f.second));
            out += QStringLiteral("</dl>\n");
            break;
        case Block::List:
            out += QStringLiteral("<ul>\n");
            for (const QString &i : b.items)
                out += QStringLiteral("<li>%1</li>\n").arg(html(i));
            out += QStringLiteral("</ul>\n");
            break;
        case Block::Table:
            out += QStringLiteral("<table>\n<tr>");
            for (const QString &x : b.header)
                out += QStringLiteral("<th>%1</th>").arg(html(x));
            out += QStringLiteral("</tr>\n");
            for (const QStringList &r : b.rows) {
                out += QStringLiteral("<tr>");
                for (const QString &x : r)
                    out += QStringLiteral("<td>%1</td>").arg(html(x));
                out += QStringLiteral("</tr>\n");
            }
            out += QStringLiteral("</table>\n");
            break;
        }
    }
    out += QStringLiteral("</body>\n</html>\n");
    return out;
}

} // namespace tinyml::deploy
