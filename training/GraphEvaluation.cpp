#include "GraphEvaluation.h"

#include "model/FloatExecutor.h"
#include "model/Int8Executor.h"

#include <QHash>
#include <QJsonObject>

#include <cmath>
#include <limits>

namespace tinyml::training {

std::optional<QVector<float>> runGraph(const model::Graph &graph, const TrainingData &data, QString *error)
{
    QVector<float> out;
    const int n = data.inputSize();
    if (graph.quantized) {
        model::Int8Executor exec;
        if (!exec.prepare(graph, error))
            return std::nullopt;
        for (int i = 0; i < data.count(); ++i) {
            auto y = exec.runFloat(QVector<float>(data.sample(i), data.sample(i) + n), error);
            if (!y)
                return std::nullopt;
            out += *y;
        }
    } else {
        model::FloatExecutor exec;
        if (!exec.prepare(graph, error))
            return std::nullopt;
        for (int i = 0; i < data.count(); ++i) {
            auto y = exec.run(QVector<float>(data.sample(i), data.sample(i) + n), error);
            if (!y)
                return std::nullopt;
            out += *y;
        }
    }
    return out;
}

std::optional<ClassificationMetrics> evaluateGraph(const model::Graph &graph, const TrainingData &data,
                                                   QString *error)
{
    auto out = runGraph(graph, data, error);
    if (!out)
        return std::nullopt;
    const int classes = data.count() ? out->size() / data.count() : 0;
    return computeMetrics(data.y, argmaxRows(*out, classes), data.labels);
}

std::optional<QVector<LayerSqnr>> layerSqnr(const model::Graph &floatGraph, const model::Graph &int8Graph,
                                            const TrainingData &data, int maxSamples, QString *error)
{
    model::FloatExecutor fexec;
    model::Int8Executor qexec;
    if (!fexec.prepare(floatGraph, error) || !qexec.prepare(int8Graph, error))
        return std::nullopt;
    fexec.setRecordIntermediates(true);
    qexec.setRecordIntermediates(true);
    const model::Graph &fg = fexec.graph();
    const model::Graph &qg = qexec.graph();
    QHash<QString, int> floatByName;
    for (int t = 0; t < fg.tensors.size(); ++t)
        floatByName.insert(fg.tensors[t].name, t);
    struct Acc { int qTensor, fTensor; double signal = 0, noise = 0; };
    QVector<LayerSqnr> layers;
    QVector<Acc> acc;
    for (const model::Node &n : qg.nodes) {
        const int qt = n.outputs[0];
        const int ft = floatByName.value(qg.tensors[qt].name, -1);
        if (ft < 0)
            continue;
        layers.append({n.name, model::opName(n.op), qg.tensors[qt].name, 0});
        acc.append({qt, ft});
    }
    const QVector<int> rows = representativeRows(data, maxSamples, 7);
    for (int r : rows) {
        const QVector<float> in(data.sample(r), data.sample(r) + data.inputSize());
        if (!fexec.run(in, error) || !qexec.runFloat(in, error))
            return std::nullopt;
        for (Acc &a : acc) {
            const QVector<float> &ref = fexec.tensorValues()[a.fTensor];
            const QVector<float> test = qexec.dequantizedTensor(a.qTensor);
            for (int k = 0; k < ref.size() && k < test.size(); ++k) {
                a.signal += double(ref[k]) * ref[k];
                a.noise += double(ref[k] - test[k]) * (ref[k] - test[k]);
            }
        }
    }
    for (int i = 0; i < layers.size(); ++i)
        layers[i].sqnrDb = acc[i].noise == 0 ? std::numeric_limits<double>::infinity()
                                             : 10 * std::log10(acc[i].signal / acc[i].noise);
    return layers;
}

QJsonArray layerSqnrJson(const QVector<LayerSqnr> &layers)
{
    QJsonArray a;
    for (const LayerSqnr &l : layers)
        a.append(QJsonObject{{QStringLiteral("node"), l.node},
                             {QStringLiteral("op"), l.op},
                             {QStringLiteral("tensor"), l.tensor},
                             {QStringLiteral("sqnr_db"), std::isfinite(l.sqnrDb) ? l.sqnrDb : 999.0}});
    return a;
}

} // namespace tinyml::training
