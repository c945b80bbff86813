#include "TrainingPipeline.h"

#include "AnomalyMetrics.h"
#include "GraphEvaluation.h"

#include "device/BoardRegistry.h"

#include <QJsonArray>

#include <algorithm>
#include <cmath>

namespace tinyml::training {

namespace {

QJsonArray floatArray(const QVector<float> &v)
{
    QJsonArray a;
    for (float x : v)
        a.append(double(x));
    return a;
}

QVector<float> floatVector(const QJsonArray &a)
{
    QVector<float> v;
    v.reserve(a.size());
    for (const auto &x : a)
        v.append(float(x.toDouble()));
    return v;
}

void normalize(TrainingData &data, const QVector<float> &mean, const QVector<float> &std)
{
    normalizeElements(data, mean, std);
}

QJsonObject historyJson(const QVector<EpochProgress> &history)
{
    QJsonArray loss, acc, vloss, vacc, lr;
    for (const EpochProgress &p : history) {
        loss.append(p.loss);
        acc.append(p.accuracy);
        vloss.append(p.valLoss);
        vacc.append(p.valAccuracy);
        lr.append(p.learningRate);
    }
    return {{QStringLiteral("loss"), loss}, {QStringLiteral("accuracy"), acc},
            {QStringLiteral("val_loss"), vloss}, {QStringLiteral("val_accuracy"), vacc},
            {QStringLiteral("learning_rate"), lr}};
}

QJsonObject trainOptionsJson(const TrainOptions &o)
{
    return {{QStringLiteral("epochs"), o.epochs},
            {QStringLiteral("batch_size"), o.batchSize},
            {QStringLiteral("learning_rate"), o.learningRate},
            {QStringLiteral("schedule"), o.schedule == TrainOptions::Schedule::Cosine ? QStringLiteral("cosine")
                                         : o.schedule == TrainOptions::Schedule::Step ? QStringLiteral("step")
                                                                                      : QStringLiteral("constant")},
            {QStringLiteral("validation_fraction"), o.validationFraction},
            {QStringLiteral("patience"), o.patience},
            {QStringLiteral("class_weights"), o.classWeights},
            {QStringLiteral("augment"), o.augment},
            {QStringLiteral("seed"), QString::number(o.seed)},
            {QStringLiteral("threads"), o.threads}};
}

ModelBudget budgetFor(const ProjectSettings &settings)
{
    BoardRegistry registry;
    QString ignored;
    if (registry.loadDefault(&ignored))
        if (const BoardDefinition *b = registry.board(settings.boardId))
            return ModelBudget::forBoard(b->ramBytes, b->flashBytes);
    return ModelBudget{};
}

} // namespace

TrainingData toTrainingData(const features::FeatureSet &set)
{
    TrainingData d;
    QVector<qint64> shape = set.featureShape;
    if (shape.size() > 1 && shape.first() == 1)
        shape.removeFirst();
    for (qint64 s : shape)
        d.inputShape.append(int(s));
    d.x = set.values;
    d.y = set.labels;
    d.labels = set.labelNames;
    d.timeSeries = d.inputShape.size() == 3 && d.inputShape[0] == 1;
    return d;
}

void applyNormalization(const model::Graph &graph, TrainingData &data)
{
    const QJsonObject n = graph.meta.value(QStringLiteral("input_normalization")).toObject();
    if (n.isEmpty())
        return;
    normalize(data, floatVector(n.value(QStringLiteral("mean")).toArray()),
              floatVector(n.value(QStringLiteral("std")).toArray()));
}

std::optional<ProjectData> loadProjectData(ProjectStore &store, const std::optional<features::FeatureParams> &params,
                                           QString *error)
{
    ProjectData pd;
    pd.params = params ? *params : features::featureParams(store.settings());
    auto set = features::computeFeatures(store, pd.params, {}, error);
    if (!set)
        return std::nullopt;
    if (set->size() == 0) {
        if (error)
            *error = QStringLiteral("the project has no finished samples to compute features from");
        return std::nullopt;
    }
    pd.computed = set->computed;
    const features::FeatureSet trainSet = set->subset(Split::Train);
    trainSet.featureStats(&pd.mean, &pd.std);
    pd.train = toTrainingData(trainSet);
    pd.test = toTrainingData(set->subset(Split::Test));
    // Labels come from the whole set so that both splits index the same names.
    pd.train.labels = pd.test.labels = set->labelNames;
    normalize(pd.train, pd.mean, pd.std);
    normalize(pd.test, pd.mean, pd.std);
    return pd;
}

QJsonObject TrainOutcome::toJson() const
{
    return {{QStringLiteral("run_id"), runId},
            {QStringLiteral("model_id"), modelId},
            {QStringLiteral("model"), QJsonObject{{QStringLiteral("kind"), architectureName(spec.kind)},
                                                  {QStringLiteral("parameters"), spec.parameterCount()},
                                                  {QStringLiteral("macs"), spec.macs()},
                                                  {QStringLiteral("int8_weight_bytes"), spec.int8WeightBytes()},
                                                  {QStringLiteral("int8_activation_bytes"), spec.int8ActivationBytes()}}},
            {QStringLiteral("epochs_run"), result.epochsRun},
            {QStringLiteral("best_epoch"), result.bestEpoch},
            {QStringLiteral("seconds_per_epoch"), result.secondsPerEpoch},
            {QStringLiteral("history"), historyJson(result.history)},
            {QStringLiteral("validation"), result.validation.toJson()},
            {QStringLiteral("test"), test.toJson()},
            {QStringLiteral("float_accuracy"), test.accuracy}};
}

/// Trains the run out.runId (stored as running) and stores its float model; false with error
/// when no model was stored. The caller marks the run failed then.
static bool trainAndStore(ProjectStore &store, const ProjectTrainOptions &options, const ProjectData &data,
                          const ModelSpec &spec, TrainOutcome &out, QString *error)
{
    Trainer trainer(spec, options.train.seed);
    out.result = trainer.fit(data.train, options.train);
    if (!out.result.ok) {
        *error = out.result.error;
        return false;
    }
    if (data.test.count() > 0)
        out.test = trainer.evaluate(data.test, options.train.threads);
    out.floatGraph = trainer.exportGraph(data.train.labels);
    out.floatGraph.meta.insert(QStringLiteral("input_normalization"),
                               QJsonObject{{QStringLiteral("mean"), floatArray(data.mean)},
                                           {QStringLiteral("std"), floatArray(data.std)}});
    out.floatGraph.meta.insert(QStringLiteral("features"), data.params.toJson());
    out.floatGraph.meta.insert(QStringLiteral("training_run"), out.runId);
    if (!out.floatGraph.inferShapes(error) || !out.floatGraph.validate(error))
        return false;

    QJsonObject metrics = out.toJson();
    StoredModel model;
    model.trainingRunId = out.runId;
    model.kind = tinyml::ModelKind::Float;
    model.name = QStringLiteral("%1 (run %2)").arg(architectureName(spec.kind)).arg(out.runId);
    model.graph = out.floatGraph.serialize();
    model.metrics = {{QStringLiteral("float_accuracy"), out.test.accuracy},
                     {QStringLiteral("test"), out.test.toJson()},
                     {QStringLiteral("weight_bytes"), out.floatGraph.weightBytes()},
                     {QStringLiteral("parameters"), out.floatGraph.parameterCount()},
                     {QStringLiteral("macs"), out.floatGraph.macs()}};
    auto modelId = store.addModel(model, error);
    if (!modelId)
        return false;
    out.modelId = *modelId;
    metrics.insert(QStringLiteral("model_id"), out.modelId);
    return store.updateTrainingRun(out.runId, metrics, TrainingStatus::Finished, error);
}

std::optional<TrainOutcome> trainProject(ProjectStore &store, const ProjectTrainOptions &options, QString *error)
{
    const ProjectSettings settings = store.settings();
    auto data = loadProjectData(store, std::nullopt, error);
    if (!data)
        return std::nullopt;
    const ModelBudget budget = options.budget ? *options.budget : budgetFor(settings);
    auto spec = buildModelSpec(options.kind, data->train.inputShape, data->train.classCount(), budget,
                               settings.templateName, error);
    if (!spec)
        return std::nullopt;
    if (!data->train.isValid(error))
        return std::nullopt;

    TrainOutcome out;
    out.spec = *spec;
    TrainingRun run;
    run.config = {{QStringLiteral("model"), spec->toJson()},
                  {QStringLiteral("features"), data->params.toJson()},
                  {QStringLiteral("train"), trainOptionsJson(options.train)},
                  {QStringLiteral("budget"), QJsonObject{{QStringLiteral("max_weight_bytes"), budget.maxWeightBytes},
                                                         {QStringLiteral("max_activation_bytes"), budget.maxActivationBytes}}},
                  {QStringLiteral("board"), settings.boardId}};
    run.status = TrainingStatus::Running;
    auto runId = store.addTrainingRun(run, error);
    if (!runId)
        return std::nullopt;
    out.runId = *runId;

    // From here the run is 'running' in the project: every way out that stores no model marks
    // it failed (or cancelled), a libtorch exception included, so none stays 'running'.
    QString err;
    bool ok = false;
    try {
        ok = trainAndStore(store, options, *data, *spec, out, &err);
    } catch (const std::exception &e) {
        err = QStringLiteral("training failed: %1").arg(QString::fromUtf8(e.what()).trimmed().section(QLatin1Char('\n'), 0, 0));
    }
    if (!ok) {
        QString ignored;
        store.updateTrainingRun(out.runId, {{QStringLiteral("error"), err},
                                            {QStringLiteral("history"), historyJson(out.result.history)}},
                                out.result.cancelled ? TrainingStatus::Cancelled : TrainingStatus::Failed, &ignored);
        if (error)
            *error = err;
        return std::nullopt;
    }
    return out;
}

QJsonObject QuantizeOutcome::toJson() const
{
    QJsonObject q = int8Graph.meta.value(QStringLiteral("quantization")).toObject();
    if (int8Graph.meta.contains(QStringLiteral("int8_evaluation"))) {
        // Anomaly model: AUC / TPR / FPR of the int8 scores next to the float ones.
        const QJsonObject e = int8Graph.meta.value(QStringLiteral("int8_evaluation")).toObject();
        const QJsonObject f = e.value(QStringLiteral("float")).toObject(), i = e.value(QStringLiteral("int8")).toObject();
        return {{QStringLiteral("task"), QStringLiteral("anomaly")},
                {QStringLiteral("float_auc"), f.value(QStringLiteral("auc"))},
                {QStringLiteral("int8_auc"), i.value(QStringLiteral("auc"))},
                {QStringLiteral("auc"), i.value(QStringLiteral("auc"))},
                {QStringLiteral("pr_auc"), i.value(QStringLiteral("pr_auc"))},
                {QStringLiteral("tpr"), i.value(QStringLiteral("tpr"))},
                {QStringLiteral("fpr"), i.value(QStringLiteral("fpr"))},
                {QStringLiteral("threshold"), e.value(QStringLiteral("threshold"))},
                {QStringLiteral("split"), e.value(QStringLiteral("split"))},
                {QStringLiteral("float"), f},
                {QStringLiteral("int8"), i},
                {QStringLiteral("layers"), layerSqnrJson(sqnr)},
                {QStringLiteral("weight_bytes"), QJsonObject{{QStringLiteral("float"), floatWeightBytes},
                                                             {QStringLiteral("int8"), int8WeightBytes}}},
                {QStringLiteral("calibration"), q.value(QStringLiteral("calibration"))},
                {QStringLiteral("model_id"), modelId}};
    }
    return {{QStringLiteral("float_accuracy"), floatTest.accuracy},
            {QStringLiteral("int8_accuracy"), int8Test.accuracy},
            {QStringLiteral("split"), QStringLiteral("test")},   // what the accuracies were measured on
            {QStringLiteral("accuracy_drop"), floatTest.accuracy - int8Test.accuracy},
            {QStringLiteral("ptq_int8_accuracy"), ptqAccuracy},
            {QStringLiteral("qat_applied"), qatApplied},
            {QStringLiteral("float"), floatTest.toJson()},
            {QStringLiteral("int8"), int8Test.toJson()},
            {QStringLiteral("layers"), layerSqnrJson(sqnr)},
            {QStringLiteral("weight_bytes"), QJsonObject{{QStringLiteral("float"), floatWeightBytes},
                                                         {QStringLiteral("int8"), int8WeightBytes}}},
            {QStringLiteral("calibration"), q.value(QStringLiteral("calibration"))},
            {QStringLiteral("model_id"), modelId}};
}

std::optional<QuantizeOutcome> quantizeModel(const model::Graph &floatGraph, const TrainingData &train,
                                             const TrainingData &test, const ProjectQuantizeOptions &options,
                                             QString *error)
{
    QuantizeOutcome out;
    auto q = quantizeGraph(floatGraph, train, options.quant, error);
    if (!q)
        return std::nullopt;
    const TrainingData &evalData = test.count() ? test : train;
    auto fm = evaluateGraph(floatGraph, evalData, error);
    auto qm = fm ? evaluateGraph(*q, evalData, error) : std::nullopt;
    if (!qm)
        return std::nullopt;
    out.floatTest = *fm;
    out.int8Test = *qm;
    out.ptqAccuracy = qm->accuracy;
    out.int8Graph = *q;
    model::Graph sqnrReference = floatGraph;

    if (options.qatThreshold >= 0 && fm->accuracy - qm->accuracy > options.qatThreshold &&
        floatGraph.meta.contains(QStringLiteral("spec"))) {
        QString qatError;
        if (auto trainer = Trainer::fromGraph(floatGraph, &qatError)) {
            TrainResult r = trainer->fineTuneQuantAware(train, options.train, options.qat);
            if (r.ok) {
                model::Graph folded = trainer->exportGraph(floatGraph.labels);
                for (auto it = floatGraph.meta.begin(); it != floatGraph.meta.end(); ++it)
                    if (!folded.meta.contains(it.key()))
                        folded.meta.insert(it.key(), it.value());
                auto q2 = quantizeGraph(folded, train, options.quant, error);
                if (!q2)
                    return std::nullopt;
                auto qm2 = evaluateGraph(*q2, evalData, error);
                if (!qm2)
                    return std::nullopt;
                if (qm2->accuracy > qm->accuracy) {
                    out.int8Graph = *q2;
                    out.int8Test = *qm2;
                    out.qatApplied = true;
                    sqnrReference = folded;
                    out.int8Graph.meta.insert(QStringLiteral("qat"), QJsonObject{{QStringLiteral("epochs"), options.qat.epochs},
                                                                                  {QStringLiteral("learning_rate"), options.qat.learningRate}});
                }
            }
        }
    }
    auto layers = layerSqnr(sqnrReference, out.int8Graph, evalData, options.sqnrSamples, error);
    if (!layers)
        return std::nullopt;
    out.sqnr = *layers;
    out.floatWeightBytes = floatGraph.weightBytes();
    out.int8WeightBytes = out.int8Graph.weightBytes();
    return out;
}

namespace {

/// Float and int8 scores of an anomaly graph on one split, split into normal / anomalous by the
/// graph's meta "normal_labels".
bool anomalyScores(const model::Graph &graph, const TrainingData &data, const QStringList &normalLabels,
                   QVector<double> *normal, QVector<double> *anomalous, QString *error)
{
    auto s = runGraph(graph, data, error);
    if (!s)
        return false;
    for (int i = 0; i < data.count(); ++i) {
        const int y = data.y[i];
        const bool isNormal = y >= 0 && y < data.labels.size() && normalLabels.contains(data.labels[y]);
        (isNormal ? normal : anomalous)->append((*s)[i]);
    }
    return true;
}

QJsonValue optionalJson(const std::optional<double> &v) { return v ? QJsonValue(*v) : QJsonValue(); }

} // namespace

static std::optional<QuantizeOutcome> quantizeAnomalyModel(const model::Graph &floatGraph, const TrainingData &train,
                                                    const TrainingData &test, const ProjectQuantizeOptions &options,
                                                    QString *error)
{
    QStringList normalLabels;
    for (const QJsonValue &v : floatGraph.meta.value(QStringLiteral("normal_labels")).toArray())
        normalLabels.append(v.toString());
    if (normalLabels.isEmpty()) {
        if (error)
            *error = QStringLiteral("the anomaly model's meta has no \"normal_labels\": retrain it with `tinyml train "
                                    "--model ... --normal LABEL`");
        return std::nullopt;
    }
    // Calibrated on the normal train rows only: the model was fitted on them, and anomalies in
    // the train split serve only to evaluate.
    QVector<int> normalRows;
    for (int i = 0; i < train.count(); ++i) {
        const int y = train.y[i];
        if (y >= 0 && y < train.labels.size() && normalLabels.contains(train.labels[y]))
            normalRows.append(i);
    }
    if (normalRows.isEmpty()) {
        if (error)
            *error = QStringLiteral("no train samples of the normal label(s) %1 to calibrate with")
                         .arg(normalLabels.join(QStringLiteral(", ")));
        return std::nullopt;
    }
    const TrainingData calibration = train.subset(normalRows);
    QuantizeOutcome out;
    auto q = quantizeGraph(floatGraph, calibration, options.quant, error);
    if (!q)
        return std::nullopt;
    out.int8Graph = *q;
    out.ptqAccuracy = 0;
    const TrainingData &evalData = test.count() ? test : train;
    const double threshold = floatGraph.meta.value(QStringLiteral("threshold")).toDouble();
    QJsonObject evaluation{{QStringLiteral("split"), test.count() ? QStringLiteral("test") : QStringLiteral("train")},
                           {QStringLiteral("threshold"), threshold}};
    for (const bool int8 : {false, true}) {
        QVector<double> normal, anomalous;
        if (!anomalyScores(int8 ? *q : floatGraph, evalData, normalLabels, &normal, &anomalous, error))
            return std::nullopt;
        const AnomalyEvaluation e = evaluateScores(normal, anomalous);
        evaluation.insert(int8 ? QStringLiteral("int8") : QStringLiteral("float"),
                          QJsonObject{{QStringLiteral("auc"), optionalJson(e.auc)},
                                      {QStringLiteral("pr_auc"), optionalJson(e.prAuc)},
                                      {QStringLiteral("tpr"), optionalJson(rateAbove(anomalous, threshold))},
                                      {QStringLiteral("fpr"), optionalJson(rateAbove(normal, threshold))},
                                      {QStringLiteral("normal"), normal.size()},
                                      {QStringLiteral("anomalous"), anomalous.size()}});
    }
    out.int8Graph.meta.insert(QStringLiteral("int8_evaluation"), evaluation);
    auto layers = layerSqnr(floatGraph, out.int8Graph, calibration, options.sqnrSamples, error);
    if (!layers)
        return std::nullopt;
    out.sqnr = *layers;
    out.floatWeightBytes = floatGraph.weightBytes();
    out.int8WeightBytes = out.int8Graph.weightBytes();
    return out;
}

std::optional<model::Graph> latestModelGraph(ProjectStore &store, bool int8, qint64 *id, QString *error)
{
    auto m = store.latestModel(int8 ? tinyml::ModelKind::Int8 : tinyml::ModelKind::Float, error);
    if (!m) {
        if (error && error->isEmpty())
            *error = int8 ? QStringLiteral("the project has no int8 model: run `tinyml quantize` first")
                          : QStringLiteral("the project has no float model: run `tinyml train` or `tinyml import-model` first");
        return std::nullopt;
    }
    if (id)
        *id = m->id;
    return model::Graph::deserialize(m->graph, error);
}

std::optional<QuantizeOutcome> quantizeProject(ProjectStore &store, const ProjectQuantizeOptions &options,
                                               QString *error)
{
    qint64 floatId = 0;
    auto graph = latestModelGraph(store, false, &floatId, error);
    if (!graph)
        return std::nullopt;
    const bool anomaly = std::any_of(graph->nodes.begin(), graph->nodes.end(),
                                     [](const model::Node &n) { return model::isAnomalyScoreOp(n.op); });
    std::optional<features::FeatureParams> params;
    const QJsonObject fp = graph->meta.value(QStringLiteral("features")).toObject();
    if (!fp.isEmpty())
        params = features::FeatureParams::fromJson(fp, error);
    auto data = loadProjectData(store, params, error);
    if (!data)
        return std::nullopt;
    // The raw features of the split, normalised with the model's own statistics (not today's).
    auto raw = [&](TrainingData d) {
        const int n = d.inputSize();
        if (data->mean.size() == n)
            for (qint64 i = 0; i < d.x.size(); ++i)
                d.x[i] = d.x[i] * data->std[int(i % n)] + data->mean[int(i % n)];
        applyNormalization(*graph, d);
        return d;
    };
    std::optional<QuantizeOutcome> out;
    if (anomaly) {
        // One score, not one output per label: AUC / TPR / FPR instead of accuracy.
        out = quantizeAnomalyModel(*graph, raw(data->train), raw(data->test), options, error);
    } else {
        // An accuracy of a model whose outputs are not the project's classes means nothing.
        const qint64 outputs = graph->tensors[graph->outputs[0]].elementCount();
        if (outputs != data->train.classCount()) {
            if (error)
                *error = QStringLiteral("model %1 has %2 outputs but the project has %3 labels (%4): "
                                        "train or import a model with one output per label")
                             .arg(floatId)
                             .arg(outputs)
                             .arg(data->train.classCount())
                             .arg(data->train.labels.join(QStringLiteral(", ")));
            return std::nullopt;
        }
        out = quantizeModel(*graph, raw(data->train), raw(data->test), options, error);
    }
    if (!out)
        return std::nullopt;
    out->int8Graph.meta.insert(QStringLiteral("float_model"), floatId);
    StoredModel m;
    m.kind = tinyml::ModelKind::Int8;
    m.trainingRunId = graph->meta.value(QStringLiteral("training_run")).toInteger();
    m.name = QStringLiteral("int8 of model %1").arg(floatId);
    m.graph = out->int8Graph.serialize();
    m.metrics = out->toJson();
    auto id = store.addModel(m, error);
    if (!id)
        return std::nullopt;
    out->modelId = *id;
    return out;
}

std::optional<qint64> storeImportedModel(ProjectStore &store, const model::Graph &graph, const QString &name,
                                         QString *error)
{
    StoredModel m;
    m.kind = graph.quantized ? tinyml::ModelKind::Int8 : tinyml::ModelKind::Float;
    m.name = name;
    m.graph = graph.serialize();
    m.metrics = {{QStringLiteral("imported"), true},
                 {QStringLiteral("weight_bytes"), graph.weightBytes()},
                 {QStringLiteral("parameters"), graph.parameterCount()}};
    return store.addModel(m, error);
}

} // namespace tinyml::training
