#include "pages/TrainingReport.h"

#include <QJsonArray>

#include <limits>

namespace tinyml::ui {

namespace {

QVector<double> doubles(const QJsonValue &v)
{
    QVector<double> out;
    for (const QJsonValue &x : v.toArray())
        out << x.toDouble();
    return out;
}

} // namespace

training::ClassificationMetrics metricsFromJson(const QJsonObject &json)
{
    training::ClassificationMetrics m;
    for (const QJsonValue &l : json.value(QStringLiteral("labels")).toArray())
        m.labels << l.toString();
    m.samples = json.value(QStringLiteral("samples")).toInt();
    m.accuracy = json.value(QStringLiteral("accuracy")).toDouble();
    m.macroF1 = json.value(QStringLiteral("macro_f1")).toDouble();
    for (const QJsonValue &c : json.value(QStringLiteral("per_class")).toArray()) {
        const QJsonObject o = c.toObject();
        m.precision << o.value(QStringLiteral("precision")).toDouble();
        m.recall << o.value(QStringLiteral("recall")).toDouble();
        m.f1 << o.value(QStringLiteral("f1")).toDouble();
    }
    for (const QJsonValue &row : json.value(QStringLiteral("confusion_matrix")).toArray()) {
        QVector<int> r;
        for (const QJsonValue &x : row.toArray())
            r << x.toInt();
        m.confusion << r;
    }
    return m;
}

TrainingReport trainingReport(const TrainingRun &run)
{
    TrainingReport r;
    const QJsonObject &m = run.metrics;
    r.runId = run.id;
    r.status = run.status;
    r.error = m.value(QStringLiteral("error")).toString();
    r.modelId = m.value(QStringLiteral("model_id")).toInteger();
    const QJsonObject model = m.value(QStringLiteral("model")).toObject();
    r.modelKind = model.value(QStringLiteral("kind")).toString();
    if (r.modelKind.isEmpty())
        r.modelKind = run.config.value(QStringLiteral("model")).toObject().value(QStringLiteral("kind")).toString();
    r.parameters = model.value(QStringLiteral("parameters")).toInteger();
    r.macs = model.value(QStringLiteral("macs")).toInteger();
    r.int8WeightBytes = model.value(QStringLiteral("int8_weight_bytes")).toInteger();
    r.int8ActivationBytes = model.value(QStringLiteral("int8_activation_bytes")).toInteger();
    r.epochsRun = m.value(QStringLiteral("epochs_run")).toInt();
    r.bestEpoch = m.value(QStringLiteral("best_epoch")).toInt();
    r.secondsPerEpoch = m.value(QStringLiteral("seconds_per_epoch")).toDouble();
    const QJsonObject h = m.value(QStringLiteral("history")).toObject();
    r.history.loss = doubles(h.value(QStringLiteral("loss")));
    r.history.accuracy = doubles(h.value(QStringLiteral("accuracy")));
    r.history.valLoss = doubles(h.value(QStringLiteral("val_loss")));
    r.history.valAccuracy = doubles(h.value(QStringLiteral("val_accuracy")));
    if (r.epochsRun == 0)
        r.epochsRun = r.history.epochs();
    r.test = metricsFromJson(m.value(QStringLiteral("test")).toObject());
    return r;
}

QuantizeReport quantizeReport(const QJsonObject &m, qint64 modelId)
{
    QuantizeReport r;
    r.modelId = modelId;
    r.floatAccuracy = m.value(QStringLiteral("float_accuracy")).toDouble();
    r.int8Accuracy = m.value(QStringLiteral("int8_accuracy")).toDouble();
    r.accuracyDrop = m.value(QStringLiteral("accuracy_drop")).toDouble();
    r.ptqAccuracy = m.value(QStringLiteral("ptq_int8_accuracy")).toDouble();
    r.qatApplied = m.value(QStringLiteral("qat_applied")).toBool();
    const QJsonObject bytes = m.value(QStringLiteral("weight_bytes")).toObject();
    r.floatWeightBytes = bytes.value(QStringLiteral("float")).toInteger();
    r.int8WeightBytes = bytes.value(QStringLiteral("int8")).toInteger();
    r.calibration = m.value(QStringLiteral("calibration")).toString();
    for (const QJsonValue &v : m.value(QStringLiteral("layers")).toArray()) {
        const QJsonObject o = v.toObject();
        training::LayerSqnr l;
        l.node = o.value(QStringLiteral("node")).toString();
        l.op = o.value(QStringLiteral("op")).toString();
        l.tensor = o.value(QStringLiteral("tensor")).toString();
        // JSON has no infinity: layerSqnrJson() writes an exact layer as 999 dB.
        const double db = o.value(QStringLiteral("sqnr_db")).toDouble();
        l.sqnrDb = db >= 999.0 ? std::numeric_limits<double>::infinity() : db;
        r.layers << l;
    }
    r.int8 = metricsFromJson(m.value(QStringLiteral("int8")).toObject());
    return r;
}

} // namespace tinyml::ui
