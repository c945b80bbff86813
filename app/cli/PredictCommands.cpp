// tinyml predict: a stored model run on the host on inputs the user names (raw tensors, .npy,
// CSV rows, or samples through the model's feature block): int8 models through the int8
// reference executor (the firmware's own kernels, what the device must match bit for bit),
// float models (or --float) through the float executor.
#include "CliCommands.h"

#include "io/DatasetImporter.h"
#include "io/ModelInput.h"
#include "model/FloatExecutor.h"
#include "model/Graph.h"
#include "model/Int8Executor.h"
#include "store/ProjectStore.h"

#include <QCommandLineParser>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTextStream>

#include <algorithm>
#include <memory>

namespace tinyml::cli {

namespace {

const QString kCommand = QStringLiteral("predict");

struct PickedModel {
    StoredModel stored;
    model::Graph graph;
    QString note;          ///< how it was chosen, when not by --model
};

std::optional<PickedModel> loadModel(ProjectStore &store, qint64 id, QString *error)
{
    QString why;
    auto m = store.model(id, &why);
    if (!m) {
        *error = QStringLiteral("model %1: %2").arg(id).arg(why.isEmpty() ? QStringLiteral("the project has no such model (see `tinyml info`)") : why);
        return std::nullopt;
    }
    auto g = model::Graph::deserialize(m->graph, &why);
    if (!g) {
        *error = QStringLiteral("model %1: %2").arg(id).arg(why);
        return std::nullopt;
    }
    return PickedModel{*m, *g, {}};
}

/// --model, else the latest int8 model (what flash, profile and mlperf take), else the latest
/// float model; --float then swaps an int8 model for the float model it was quantized from.
std::optional<PickedModel> pickPredictModel(ProjectStore &store, const QCommandLineParser &p, QString *error)
{
    std::optional<PickedModel> picked;
    if (p.isSet(QStringLiteral("model"))) {
        bool ok = false;
        const qint64 id = p.value(QStringLiteral("model")).toLongLong(&ok);
        if (!ok || id <= 0) {
            *error = QStringLiteral("--model must be a model id (see `tinyml info`)");
            return std::nullopt;
        }
        picked = loadModel(store, id, error);
    } else {
        QString why;
        auto latest = store.latestModel(ModelKind::Int8, &why);
        QString note;
        if (!latest) {
            latest = store.latestModel(ModelKind::Float, &why);
            note = QStringLiteral("the project has no int8 model: its latest float model is run");
        }
        if (!latest) {
            *error = QStringLiteral("the project has no model: run `tinyml train` or `tinyml import-model` first");
            return std::nullopt;
        }
        picked = loadModel(store, latest->id, error);
        if (picked)
            picked->note = note;
    }
    if (!picked || !p.isSet(QStringLiteral("float")) || picked->stored.kind == ModelKind::Float)
        return picked;
    const qint64 floatId = picked->graph.meta.value(QStringLiteral("float_model")).toInteger();
    if (floatId <= 0) {
        *error = QStringLiteral("--float: model %1 (%2) has no float graph stored (it was imported as int8)")
                     .arg(picked->stored.id).arg(picked->stored.name);
        return std::nullopt;
    }
    QString why;
    auto floatModel = loadModel(store, floatId, &why);
    if (!floatModel || floatModel->stored.kind != ModelKind::Float) {
        *error = QStringLiteral("--float: model %1 was quantized from model %2, which the project no longer holds as a "
                                "float model").arg(picked->stored.id).arg(floatId);
        return std::nullopt;
    }
    floatModel->note = QStringLiteral("the float model int8 model %1 was quantized from").arg(picked->stored.id);
    return floatModel;
}

bool isAnomalyGraph(const model::Graph &g)
{
    return g.meta.value(QStringLiteral("task")).toString() == QLatin1String("anomaly") ||
           std::any_of(g.nodes.begin(), g.nodes.end(), [](const model::Node &n) { return model::isAnomalyScoreOp(n.op); });
}

struct Prediction {
    io::ModelInput input;
    QVector<float> outputs;
    QVector<qint8> outputsInt8;
    int topIndex = -1;
    QString topClass;
    double score = 0;
    std::optional<bool> aboveThreshold;
};

QJsonArray floatsJson(const QVector<float> &v)
{
    QJsonArray a;
    for (float f : v)
        a.append(double(f));
    return a;
}

QString valueText(double v) { return QString::number(v, 'g', 6); }

int cmdPredict(const QStringList &args)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Run a stored model on the host on one or more inputs and print its outputs and top class.\n"
        "An int8 model runs on the int8 reference executor (the firmware's own kernels: what the\n"
        "device must match bit for bit); a float model, or --float, on the float executor.\n"
        "INPUT is one of:\n"
        "  a raw file: the input's element count in bytes (int8) or 4x that (float32, little-endian);\n"
        "  a .npy array (|i1, <f4, <f8, <i2; C order; its element count must be the input's);\n"
        "  a CSV row: FILE.csv:ROW (data rows from 1; default the first), numbers only, a header line\n"
        "    detected, its label and split columns left out;\n"
        "  a sample (WAV, time-series CSV with a timestamp column, image, Edge Impulse JSON/CBOR): run\n"
        "    through the model's feature block and normalisation, as in training.\n"
        "Float data given to an int8 model is quantized with the input's scale and zero point.\n"
        "Tensors are the model's input as is: no feature block, no normalisation."));
    p.addPositionalArgument(QStringLiteral("PROJECT"), QStringLiteral("project file"));
    p.addPositionalArgument(QStringLiteral("INPUT"), QStringLiteral("input files (FILE.csv:ROW for a CSV row)"),
                            QStringLiteral("INPUT..."));
    p.addOption({QStringLiteral("model"),
                 QStringLiteral("model id (default: the project's latest int8 model, else its latest float model)"),
                 QStringLiteral("ID")});
    p.addOption({QStringLiteral("float"), QStringLiteral("run the float model an int8 model was quantized from")});
    p.addOption({QStringLiteral("as"),
                 QStringLiteral("read every INPUT as auto (default), int8, float32 (raw files), npy, row or sample"),
                 QStringLiteral("FORMAT"), QStringLiteral("auto")});
    p.addOption({QStringLiteral("json"), QStringLiteral("print a JSON array, one object per input")});
    int code = 0;
    if (!parseOrReport(p, args, kCommand, -2, &code))
        return code;
    const bool json = p.isSet(QStringLiteral("json"));
    const auto format = io::modelInputFormatFromName(p.value(QStringLiteral("as")));
    if (!format)
        return usageError(kCommand, QStringLiteral("--as must be auto, int8, float32, npy, row or sample"));

    QString error;
    const QStringList positional = p.positionalArguments();
    auto store = openProjectToRead(positional.first(), &error);
    if (!store)
        return fail(error);
    auto picked = pickPredictModel(*store, p, &error);
    if (!picked)
        return fail(error);
    const model::Graph &graph = picked->graph;
    const qint64 modelId = picked->stored.id;
    const ProjectSettings settings = store->settings();
    auto spec = io::ModelInputSpec::forGraph(graph, settings, &error);
    if (!spec)
        return fail(QStringLiteral("model %1: %2").arg(modelId).arg(error));
    spec->expectation = io::expectationFor(settings, store->sampleInfos());

    // Every input is read before anything runs: a bad file fails the command with no partial output.
    QVector<io::ModelInput> inputs;
    for (const QString &argument : positional.mid(1)) {
        io::ImportError readError;
        auto in = io::readModelInput(argument, *spec, *format, &readError);
        if (!in)
            return fail(readError.toString());
        inputs.append(*in);
    }

    std::unique_ptr<model::Int8Executor> int8Exec;
    std::unique_ptr<model::FloatExecutor> floatExec;
    if (graph.quantized) {
        int8Exec = std::make_unique<model::Int8Executor>();
        if (!int8Exec->prepare(graph, &error))
            return fail(QStringLiteral("model %1: %2").arg(modelId).arg(error));
    } else {
        floatExec = std::make_unique<model::FloatExecutor>();
        if (!floatExec->prepare(graph, &error))
            return fail(QStringLiteral("model %1: %2").arg(modelId).arg(error));
    }

    const bool anomaly = isAnomalyGraph(graph);
    std::optional<double> threshold;
    if (graph.meta.contains(QStringLiteral("threshold"))) {
        threshold = graph.meta.value(QStringLiteral("threshold")).toDouble();
    } else if (anomaly) {
        // The alarm threshold is saved with the float model; its int8 model points back to it.
        const qint64 floatId = graph.meta.value(QStringLiteral("float_model")).toInteger();
        if (auto f = floatId > 0 ? loadModel(*store, floatId, &error) : std::nullopt)
            if (f->graph.meta.contains(QStringLiteral("threshold")))
                threshold = f->graph.meta.value(QStringLiteral("threshold")).toDouble();
    }
    const int outputCount = int(graph.tensors[graph.outputIndex()].elementCount());
    QStringList labels = graph.labels;
    if (labels.size() != outputCount)
        labels = settings.labels.size() == outputCount ? settings.labels : QStringList();

    QVector<Prediction> results;
    for (const io::ModelInput &in : inputs) {
        Prediction r;
        r.input = in;
        if (int8Exec) {
            auto out = int8Exec->run(in.int8, &error);
            if (!out)
                return fail(QStringLiteral("%1: model %2: %3").arg(in.source).arg(modelId).arg(error));
            r.outputsInt8 = *out;
            r.outputs = int8Exec->dequantizeOutput(*out);
        } else {
            auto out = floatExec->run(in.values, &error);
            if (!out)
                return fail(QStringLiteral("%1: model %2: %3").arg(in.source).arg(modelId).arg(error));
            r.outputs = *out;
        }
        if (r.outputs.isEmpty())
            return fail(QStringLiteral("%1: model %2 gave no outputs").arg(in.source).arg(modelId));
        if (anomaly) {
            r.score = r.outputs.first();
            if (threshold)
                r.aboveThreshold = r.score > *threshold;
        } else {
            // The first of equal maxima, on the int8 values when there are some (dequantizing
            // with one positive scale keeps the order, and the device compares int8).
            r.topIndex = 0;
            for (int i = 1; i < r.outputs.size(); ++i) {
                const bool higher = r.outputsInt8.isEmpty() ? r.outputs[i] > r.outputs[r.topIndex]
                                                            : r.outputsInt8[i] > r.outputsInt8[r.topIndex];
                if (higher)
                    r.topIndex = i;
            }
            r.topClass = labels.value(r.topIndex);
            r.score = r.outputs[r.topIndex];
        }
        results.append(r);
    }

    const QString executor = graph.quantized ? QStringLiteral("int8 reference") : QStringLiteral("float");
    if (!picked->note.isEmpty())
        QTextStream(stderr) << "tinyml: note: " << picked->note << "\n";
    if (json) {
        QJsonArray array;
        for (const Prediction &r : results) {
            QJsonObject o{{QStringLiteral("input"), r.input.source},
                          {QStringLiteral("format"), r.input.format},
                          {QStringLiteral("note"), r.input.note},
                          {QStringLiteral("model_id"), double(modelId)},
                          {QStringLiteral("model_name"), picked->stored.name},
                          {QStringLiteral("executor"), executor},
                          {QStringLiteral("outputs"), floatsJson(r.outputs)},
                          {QStringLiteral("score"), r.score}};
            if (graph.quantized) {
                QJsonArray q;
                for (qint8 v : r.outputsInt8)
                    q.append(int(v));
                o.insert(QStringLiteral("outputs_int8"), q);
            } else {
                o.insert(QStringLiteral("outputs_int8"), QJsonValue::Null);
            }
            if (anomaly) {
                o.insert(QStringLiteral("task"), QStringLiteral("anomaly"));
                o.insert(QStringLiteral("top_class"), QJsonValue::Null);
                o.insert(QStringLiteral("top_index"), QJsonValue::Null);
                o.insert(QStringLiteral("threshold"), threshold ? QJsonValue(*threshold) : QJsonValue::Null);
                o.insert(QStringLiteral("above_threshold"),
                         r.aboveThreshold ? QJsonValue(*r.aboveThreshold) : QJsonValue::Null);
            } else {
                o.insert(QStringLiteral("top_index"), r.topIndex);
                o.insert(QStringLiteral("top_class"), r.topClass.isEmpty() ? QJsonValue::Null : QJsonValue(r.topClass));
            }
            if (!r.input.expectedLabel.isEmpty())
                o.insert(QStringLiteral("expected_label"), r.input.expectedLabel);
            array.append(o);
        }
        QTextStream(stdout) << QJsonDocument(array).toJson(QJsonDocument::Indented);
        return Ok;
    }

    QTextStream out(stdout);
    out << "Model " << modelId << " (" << picked->stored.name << "), " << executor << " executor";
    if (anomaly)
        out << ", anomaly score" << (threshold ? QStringLiteral(" (alarm when score > %1)").arg(valueText(*threshold))
                                               : QStringLiteral(" (no saved threshold)"));
    out << "\n";
    for (const Prediction &r : results) {
        out << r.input.source << ": ";
        if (anomaly) {
            out << "score " << valueText(r.score);
            if (r.aboveThreshold)
                out << (*r.aboveThreshold ? ", ANOMALY (above the threshold)" : ", normal (not above the threshold)");
        } else {
            out << (r.topClass.isEmpty() ? QStringLiteral("class %1").arg(r.topIndex)
                                         : QStringLiteral("%1 (class %2)").arg(r.topClass).arg(r.topIndex))
                << ", score " << valueText(r.score);
        }
        if (!r.input.expectedLabel.isEmpty())
            out << "  [expected " << r.input.expectedLabel << "]";
        out << "\n  input: " << r.input.note << "\n  outputs:";
        for (int i = 0; i < r.outputs.size(); ++i) {
            out << (i ? ", " : " ");
            if (!anomaly && !labels.value(i).isEmpty())
                out << labels.value(i) << " ";
            out << valueText(r.outputs[i]);
            if (!r.outputsInt8.isEmpty())
                out << " (int8 " << int(r.outputsInt8[i]) << ")";
        }
        out << "\n";
    }
    return Ok;
}

} // namespace

QList<Command> predictCommands()
{
    return {
        {kCommand, QStringLiteral("predict PROJECT [--model ID] [--float] [--as FORMAT] INPUT... [--json]"),
         QStringLiteral("run a stored model on the host on raw/.npy/CSV-row inputs or samples"), cmdPredict},
    };
}

} // namespace tinyml::cli
