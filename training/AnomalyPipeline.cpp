#include "AnomalyPipeline.h"

#include "AnomalyModels.h"
#include "AutoencoderTrainer.h"
#include "Dataset.h"
#include "GraphEvaluation.h"
#include "TrainingPipeline.h"

#include "device/BoardRegistry.h"
#include "features/FeatureSet.h"

#include <QJsonArray>
#include <QHash>

#include <algorithm>
#include <cmath>
#include <random>

namespace tinyml::training {

namespace {

bool fail(QString *error, const QString &message)
{
    if (error)
        *error = message;
    return false;
}

QJsonArray floatArray(const QVector<float> &v)
{
    QJsonArray a;
    for (float x : v)
        a.append(double(x));
    return a;
}

QJsonValue optionalNumber(const std::optional<double> &v)
{
    return v && std::isfinite(*v) ? QJsonValue(*v) : QJsonValue(QJsonValue::Null);
}

/// Rows of data (by index) as one flat float vector.
QVector<float> gather(const TrainingData &data, const QVector<int> &rows)
{
    const int d = data.inputSize();
    QVector<float> out;
    out.reserve(qint64(rows.size()) * d);
    for (int r : rows)
        out.append(QVector<float>(data.sample(r), data.sample(r) + d));
    return out;
}

QVector<double> toDoubles(const QVector<float> &v)
{
    return QVector<double>(v.begin(), v.end());
}

QJsonObject historyJson(const QVector<EpochProgress> &history)
{
    QJsonArray loss, vloss, lr;
    for (const EpochProgress &p : history) {
        loss.append(p.loss);
        vloss.append(p.valLoss);
        lr.append(p.learningRate);
    }
    return {{QStringLiteral("loss"), loss}, {QStringLiteral("val_loss"), vloss}, {QStringLiteral("learning_rate"), lr}};
}

/// How alarms per hour follow from the rate, said in the JSON and the model next to the number.
const char *const kAlarmsPerHourRule =
    "false alarms per hour = FPR on the test split's normal samples x windows per hour; assumes each normal "
    "window scored above the threshold is one alarm (no averaging or suppression)";

QJsonValue streamJson(const std::optional<StreamWindowRate> &stream, const QString &noStreamReason)
{
    if (!stream)
        return noStreamReason.isEmpty() ? QJsonValue(QJsonValue::Null)
                                        : QJsonValue(QJsonObject{{QStringLiteral("none"), noStreamReason}});
    return QJsonObject{{QStringLiteral("windows_per_hour"), stream->windowsPerHour},
                       {QStringLiteral("basis"), stream->basis},
                       {QStringLiteral("rule"), QString::fromLatin1(kAlarmsPerHourRule)}};
}

} // namespace

std::optional<double> AnomalyOutcome::falseAlarmsPerHour() const
{
    if (!stream || !fpr)
        return std::nullopt;
    return training::falseAlarmsPerHour(*fpr, stream->windowsPerHour);
}

QString anomalyModelName(AnomalyModelKind kind)
{
    switch (kind) {
    case AnomalyModelKind::KMeans: return QStringLiteral("kmeans");
    case AnomalyModelKind::Gmm: return QStringLiteral("gmm");
    case AnomalyModelKind::Autoencoder: return QStringLiteral("autoencoder");
    case AnomalyModelKind::ConvAutoencoder: return QStringLiteral("conv-autoencoder");
    }
    return {};
}

std::optional<AnomalyModelKind> anomalyModelFromName(const QString &name)
{
    for (AnomalyModelKind k : {AnomalyModelKind::KMeans, AnomalyModelKind::Gmm, AnomalyModelKind::Autoencoder,
                              AnomalyModelKind::ConvAutoencoder})
        if (anomalyModelName(k) == name)
            return k;
    return std::nullopt;
}

bool isAnomalyGraph(const model::Graph &graph)
{
    return graph.meta.value(QStringLiteral("task")).toString() == QLatin1String("anomaly");
}

QJsonObject AnomalyOutcome::toJson() const
{
    QJsonArray perLabelJson;
    for (const PerLabel &l : perLabel)
        perLabelJson.append(QJsonObject{{QStringLiteral("label"), l.label},
                                        {QStringLiteral("anomalous"), l.count},
                                        {QStringLiteral("auc"), optionalNumber(l.auc)},
                                        {QStringLiteral("pr_auc"), optionalNumber(l.prAuc)},
                                        {QStringLiteral("tpr"), optionalNumber(l.tpr)}});
    QJsonObject j{{QStringLiteral("task"), QStringLiteral("anomaly")},
                  {QStringLiteral("model"), anomalyModelName(kind)},
                  {QStringLiteral("clusters"), isAutoencoderKind(kind) ? QJsonValue(QJsonValue::Null)
                                                                                    : QJsonValue(clusters)},
                  {QStringLiteral("clusters_automatic"), clustersAutomatic},
                  {QStringLiteral("normal_labels"), QJsonArray::fromStringList(normalLabels)},
                  {QStringLiteral("anomaly_labels"), QJsonArray::fromStringList(anomalyLabels)},
                  {QStringLiteral("counts"), QJsonObject{{QStringLiteral("train_normal"), trainNormal},
                                                         {QStringLiteral("validation_normal"), validationNormal},
                                                         {QStringLiteral("test_normal"), testNormal},
                                                         {QStringLiteral("test_anomalous"), testAnomalous}}},
                  {QStringLiteral("test_normal"), testNormal},
                  {QStringLiteral("test_anomalous"), testAnomalous},
                  {QStringLiteral("auc"), optionalNumber(test.auc)},
                  {QStringLiteral("pr_auc"), optionalNumber(test.prAuc)},
                  {QStringLiteral("threshold"), threshold},
                  {QStringLiteral("threshold_rule"), thresholdRule},
                  {QStringLiteral("threshold_source"), thresholdSource},
                  {QStringLiteral("tpr"), optionalNumber(tpr)},
                  {QStringLiteral("fpr"), optionalNumber(fpr)},
                  {QStringLiteral("false_alarms_per_hour"), optionalNumber(falseAlarmsPerHour())},
                  {QStringLiteral("max_false_alarms_per_hour"), optionalNumber(maxFalseAlarmsPerHour)},
                  {QStringLiteral("stream"), streamJson(stream, noStreamReason)},
                  {QStringLiteral("per_label"), perLabelJson},
                  {QStringLiteral("evaluation"), test.toJson()},
                  {QStringLiteral("parameters"), graph.parameterCount()},
                  {QStringLiteral("warnings"), QJsonArray::fromStringList(warnings)},
                  {QStringLiteral("run_id"), runId},
                  {QStringLiteral("model_id"), modelId}};
    if (isAutoencoderKind(kind)) {
        j.insert(QStringLiteral("epochs_run"), train.epochsRun);
        j.insert(QStringLiteral("best_epoch"), train.bestEpoch);
        j.insert(QStringLiteral("seconds_per_epoch"), train.secondsPerEpoch);
        j.insert(QStringLiteral("history"), historyJson(train.history));
        j.insert(QStringLiteral("autoencoder"), graph.meta.value(QStringLiteral("autoencoder")));
    }
    return j;
}

std::optional<AnomalyOutcome> trainAnomalyModel(const TrainingData &train, const TrainingData &test,
                                                const QVector<bool> &normal, const AnomalyTrainOptions &options,
                                                QString *error)
{
    const int d = train.inputSize();
    if (d <= 0 || train.x.size() != qint64(train.count()) * d || test.x.size() != qint64(test.count()) * test.inputSize()
        || (test.count() > 0 && test.inputSize() != d)) {
        fail(error, QStringLiteral("anomaly training: the train and test data have inconsistent shapes"));
        return std::nullopt;
    }
    if (normal.size() != train.labels.size() || !std::count(normal.begin(), normal.end(), true)) {
        fail(error, QStringLiteral("anomaly training needs at least one normal label"));
        return std::nullopt;
    }
    if (!(options.maxFpr >= 0 && options.maxFpr < 1)) {
        fail(error, QStringLiteral("the false-positive-rate budget %1 must be in [0, 1)").arg(options.maxFpr));
        return std::nullopt;
    }
    if (options.maxFalseAlarmsPerHour
        && !(std::isfinite(*options.maxFalseAlarmsPerHour) && *options.maxFalseAlarmsPerHour >= 0)) {
        fail(error, QStringLiteral("the false-alarm budget %1 per hour must be a finite number >= 0")
                        .arg(*options.maxFalseAlarmsPerHour));
        return std::nullopt;
    }
    auto isNormal = [&](int y) { return y >= 0 && y < normal.size() && normal[y]; };
    AnomalyOutcome out;
    out.maxFalseAlarmsPerHour = options.maxFalseAlarmsPerHour;
    out.kind = options.kind;
    for (int c = 0; c < normal.size(); ++c)
        if (normal[c])
            out.normalLabels.append(train.labels[c]);

    QVector<int> normalRows;
    for (int i = 0; i < train.count(); ++i)
        if (isNormal(train.y[i]))
            normalRows.append(i);
    if (normalRows.isEmpty()) {
        fail(error, QStringLiteral("the normal label(s) %1 have no samples in the train split")
                        .arg(out.normalLabels.join(QStringLiteral(", "))));
        return std::nullopt;
    }
    // Hold out validation rows (seeded shuffle); none when there are too few to spare.
    std::mt19937_64 rng(options.train.seed * 0x9E3779B97F4A7C15ULL + 3);
    std::shuffle(normalRows.begin(), normalRows.end(), rng);
    int nVal = int(normalRows.size() * std::clamp(options.validationFraction, 0.0, 0.9) + 0.5);
    if (normalRows.size() < 10)
        nVal = 0;
    QVector<int> valRows = normalRows.mid(0, nVal), fitRows = normalRows.mid(nVal);
    std::sort(valRows.begin(), valRows.end());
    std::sort(fitRows.begin(), fitRows.end());
    out.trainNormal = fitRows.size();
    out.validationNormal = valRows.size();
    const QVector<float> fitX = gather(train, fitRows), valX = gather(train, valRows);
    const int n = fitRows.size();

    model::Graph graph;
    qint64 tableBytes = 0;   // K-means / GMM parameters at one byte per value (the int8 estimate)
    switch (options.kind) {
    case AnomalyModelKind::KMeans:
    case AnomalyModelKind::Gmm: {
        const bool gmm = options.kind == AnomalyModelKind::Gmm;
        int k = options.clusters;
        if (k > 0 && k > n) {
            fail(error, QStringLiteral("%1 clusters need at least %1 normal training samples; there are %2")
                            .arg(k).arg(n));
            return std::nullopt;
        }
        if (k <= 0) {
            out.clustersAutomatic = true;
            k = gmm ? chooseGmmComponents(fitX, n, d, kAutoClustersMax, options.train.seed)
                    : chooseKMeansClusters(fitX, n, d, kAutoClustersMax, options.train.seed);
        }
        if (gmm) {
            auto m = fitGmm(fitX, n, d, k, options.train.seed, 1e-3, 200, 1e-6, error);
            if (!m)
                return std::nullopt;
            out.clusters = m->k;
            graph = gmmGraph(*m);
            tableBytes = qint64(m->k) * (2 * d + 4);
            graph.meta.insert(QStringLiteral("gmm"), QJsonObject{{QStringLiteral("components"), m->k},
                                                                 {QStringLiteral("em_iterations"), m->iterations},
                                                                 {QStringLiteral("variance_floor"), 1e-3},
                                                                 {QStringLiteral("mean_log_likelihood"),
                                                                  m->logLikelihoods.last()}});
        } else {
            auto m = fitKMeans(fitX, n, d, k, options.train.seed, 300, error);
            if (!m)
                return std::nullopt;
            out.clusters = m->k;
            graph = kmeansGraph(*m);
            tableBytes = qint64(m->k) * d;
            graph.meta.insert(QStringLiteral("kmeans"), QJsonObject{{QStringLiteral("clusters"), m->k},
                                                                    {QStringLiteral("iterations"), m->iterations},
                                                                    {QStringLiteral("inertia"), m->inertia}});
        }
        break;
    }
    case AnomalyModelKind::Autoencoder:
    case AnomalyModelKind::ConvAutoencoder: {
        const AutoencoderShape shape = AutoencoderShape::forInput(d, options.maxWeightBytes,
                                                                  options.kind == AnomalyModelKind::ConvAutoencoder);
        if (options.maxWeightBytes > 0 && shape.int8WeightBytes() > options.maxWeightBytes) {
            fail(error, QStringLiteral("an autoencoder on %1 features needs %2 bytes of int8 weights even with hidden "
                                       "layers of width %3, over the board's budget of %4 bytes: choose a feature "
                                       "block with fewer features (e.g. spectral)")
                            .arg(d).arg(shape.int8WeightBytes()).arg(shape.hidden).arg(options.maxWeightBytes));
            return std::nullopt;
        }
        AutoencoderResult r = trainAutoencoder(fitX, valX, shape, options.train);
        out.train = r.train;
        if (!r.train.ok) {
            fail(error, r.train.error);
            return std::nullopt;
        }
        graph = r.graph;
        break;
    }
    }
    if (options.maxWeightBytes > 0 && tableBytes > options.maxWeightBytes)
        out.warnings.append(QStringLiteral("the %1 model's %2 clusters x %3 features take about %4 bytes as int8, "
                                           "over the board's budget of %5 bytes: fewer features (e.g. a spectral "
                                           "block) or fewer clusters would fit")
                                .arg(anomalyModelName(options.kind)).arg(out.clusters).arg(d).arg(tableBytes)
                                .arg(options.maxWeightBytes));
    // The input keeps the features' own shape (NHWC order is the same flat order), so that whoever
    // feeds a classifier of these features feeds this model the same way.
    QVector<int> inShape = train.inputShape;
    inShape.prepend(1);
    graph.tensors[graph.inputs[0]].shape = inShape;
    if (!graph.inferShapes(error))
        return std::nullopt;

    // The stream's windows per hour turn a rate into alarms per hour (and a budget per hour back
    // into a rate) before the threshold is chosen.
    if (options.streamRate) {
        QString why;
        out.stream = options.streamRate(graph, &why);
        if (out.stream && !(out.stream->windowsPerHour > 0 && std::isfinite(out.stream->windowsPerHour))) {
            why = QStringLiteral("the stream gives %1 windows per hour").arg(out.stream->windowsPerHour);
            out.stream.reset();
        }
        if (!out.stream)
            out.noStreamReason = why.isEmpty() ? QStringLiteral("no continuous stream") : why;
    } else {
        out.noStreamReason = QStringLiteral("no stream rate given");
    }
    double maxFpr = options.maxFpr;
    QString budget = QStringLiteral("fpr<=%1").arg(options.maxFpr);
    if (options.maxFalseAlarmsPerHour) {
        if (!out.stream) {
            fail(error, QStringLiteral("a false-alarm budget per hour needs the windows per hour of a continuous "
                                       "stream, and this project has none (%1): give a false-positive rate instead")
                            .arg(out.noStreamReason));
            return std::nullopt;
        }
        const double fpr = fprForFalseAlarmsPerHour(*options.maxFalseAlarmsPerHour, out.stream->windowsPerHour);
        maxFpr = std::min(fpr, 1.0 - 1e-12);
        budget = QStringLiteral("false alarms/hour<=%1, i.e. fpr<=%2 at %3 windows per hour")
                     .arg(*options.maxFalseAlarmsPerHour)
                     .arg(fpr, 0, 'g', 4)
                     .arg(out.stream->windowsPerHour, 0, 'g', 6);
    }

    // Scores through the float executor: the host reference the int8 / device path will match.
    auto scoresOf = [&](const TrainingData &data, QVector<double> *normalScores, QVector<double> *anomalous,
                        QHash<int, QVector<double>> *byLabel) {
        auto s = runGraph(graph, data, error);
        if (!s)
            return false;
        for (int i = 0; i < data.count(); ++i) {
            if (isNormal(data.y[i])) {
                normalScores->append((*s)[i]);
            } else {
                anomalous->append((*s)[i]);
                if (byLabel)
                    (*byLabel)[data.y[i]].append((*s)[i]);
            }
        }
        return true;
    };
    QVector<double> testNormal, testAnomalous, valNormal, ignored;
    QHash<int, QVector<double>> byLabel;
    if (!scoresOf(test, &testNormal, &testAnomalous, &byLabel))
        return std::nullopt;
    for (int c = 0; c < test.labels.size(); ++c)
        if (byLabel.contains(c))
            out.anomalyLabels.append(test.labels[c]);
    TrainingData val = train.subset(valRows);
    if (!scoresOf(val, &valNormal, &ignored, nullptr))
        return std::nullopt;
    out.testNormal = testNormal.size();
    out.testAnomalous = testAnomalous.size();
    out.test = evaluateScores(testNormal, testAnomalous);

    if (!testNormal.isEmpty()) {
        out.threshold = *thresholdForFpr(testNormal, maxFpr);
        out.thresholdSource = QStringLiteral("test");
        out.thresholdRule = budget + QStringLiteral(" on the test split's normal scores");
    } else if (!valNormal.isEmpty()) {
        out.threshold = *thresholdForFpr(valNormal, maxFpr);
        out.thresholdSource = QStringLiteral("validation");
        out.thresholdRule = budget + QStringLiteral(" on the validation normal scores (the test split has none)");
        out.warnings.append(QStringLiteral("the test split has no normal samples: the threshold comes from the "
                                           "%1 held-out normal train samples, and no false-positive rate is measured")
                                .arg(valNormal.size()));
    } else {
        QVector<double> fitScores;
        TrainingData fit = train.subset(fitRows);
        if (!scoresOf(fit, &fitScores, &ignored, nullptr))
            return std::nullopt;
        out.threshold = *thresholdForFpr(fitScores, maxFpr);
        out.thresholdSource = QStringLiteral("train");
        out.thresholdRule = budget + QStringLiteral(" on the normal training scores (no test or validation normals)");
        out.warnings.append(QStringLiteral("no normal samples outside training: the threshold comes from the "
                                           "training scores and is optimistic"));
    }
    out.fpr = rateAbove(testNormal, out.threshold);
    if (options.maxFalseAlarmsPerHour && !testNormal.isEmpty() && maxFpr * testNormal.size() < 1 && maxFpr > 0)
        out.warnings.append(QStringLiteral("%1 false alarms per hour is a rate of %2 per window, below what the test "
                                           "split's %3 normal samples can measure (1/%3 = %4 alarms per hour): the "
                                           "threshold is the highest normal test score and the budget is not verified; "
                                           "measure it on a long normal recording")
                                .arg(*options.maxFalseAlarmsPerHour)
                                .arg(maxFpr, 0, 'g', 3)
                                .arg(testNormal.size())
                                .arg(out.stream->windowsPerHour / testNormal.size(), 0, 'g', 4));
    out.tpr = rateAbove(testAnomalous, out.threshold);
    for (int c = 0; c < test.labels.size(); ++c) {
        if (!byLabel.contains(c))
            continue;
        const AnomalyEvaluation e = evaluateScores(testNormal, byLabel[c]);
        out.perLabel.append({test.labels[c], int(byLabel[c].size()), e.auc, e.prAuc, rateAbove(byLabel[c], out.threshold)});
    }
    if (testAnomalous.isEmpty())
        out.warnings.append(QStringLiteral("the test split has no anomalous samples (labels other than %1): "
                                           "AUC is undefined and is not reported")
                                .arg(out.normalLabels.join(QStringLiteral(", "))));

    graph.meta.insert(QStringLiteral("task"), QStringLiteral("anomaly"));
    graph.meta.insert(QStringLiteral("anomaly_model"), anomalyModelName(options.kind));
    graph.meta.insert(QStringLiteral("normal_labels"), QJsonArray::fromStringList(out.normalLabels));
    graph.meta.insert(QStringLiteral("anomaly_labels"), QJsonArray::fromStringList(out.anomalyLabels));
    graph.meta.insert(QStringLiteral("threshold"), out.threshold);
    graph.meta.insert(QStringLiteral("threshold_rule"), out.thresholdRule);
    graph.meta.insert(QStringLiteral("max_fpr"), maxFpr);
    if (options.maxFalseAlarmsPerHour)
        graph.meta.insert(QStringLiteral("max_false_alarms_per_hour"), *options.maxFalseAlarmsPerHour);
    QJsonValue stream = streamJson(out.stream, out.noStreamReason);
    if (stream.isObject() && out.stream) {
        QJsonObject o = stream.toObject();
        o.insert(QStringLiteral("false_alarms_per_hour"), optionalNumber(out.falseAlarmsPerHour()));
        stream = o;
    }
    graph.meta.insert(QStringLiteral("stream"), stream);
    graph.meta.insert(QStringLiteral("score"), QStringLiteral("bigger is more anomalous; alarm when score > threshold"));
    graph.meta.insert(QStringLiteral("evaluation"),
                      QJsonObject{{QStringLiteral("auc"), optionalNumber(out.test.auc)},
                                  {QStringLiteral("pr_auc"), optionalNumber(out.test.prAuc)},
                                  {QStringLiteral("tpr"), optionalNumber(out.tpr)},
                                  {QStringLiteral("fpr"), optionalNumber(out.fpr)},
                                  {QStringLiteral("test_normal"), out.testNormal},
                                  {QStringLiteral("test_anomalous"), out.testAnomalous}});
    out.graph = graph;
    return out;
}

std::optional<AnomalyOutcome> trainAnomalyProject(ProjectStore &store, const AnomalyTrainOptions &options,
                                                  QString *error)
{
    if (options.normalLabels.isEmpty()) {
        fail(error, QStringLiteral("anomaly models need the normal label(s): give --normal LABEL[,LABEL...]"));
        return std::nullopt;
    }
    const ProjectSettings settings = store.settings();
    const features::FeatureParams params = features::featureParams(settings);
    auto set = features::computeFeatures(store, params, {}, error);
    if (!set)
        return std::nullopt;
    if (set->size() == 0) {
        fail(error, QStringLiteral("the project has no finished samples to compute features from"));
        return std::nullopt;
    }
    QVector<bool> normal(set->labelNames.size(), false);
    for (const QString &l : options.normalLabels) {
        const int c = set->labelNames.indexOf(l);
        if (c < 0) {
            fail(error, QStringLiteral("normal label \"%1\" is not a label of the project's samples (labels: %2)")
                            .arg(l, set->labelNames.join(QStringLiteral(", "))));
            return std::nullopt;
        }
        normal[c] = true;
    }
    TrainingData train = toTrainingData(set->subset(Split::Train));
    TrainingData test = toTrainingData(set->subset(Split::Test));
    train.labels = test.labels = set->labelNames;
    for (const QString &l : options.normalLabels) {
        const int c = set->labelNames.indexOf(l);
        if (!train.y.contains(c)) {
            fail(error, QStringLiteral("normal label \"%1\" has no samples in the train split").arg(l));
            return std::nullopt;
        }
    }
    // Standardise with the normal train rows' statistics: what "normal" looks like defines the
    // scale, anomalies must not stretch it.
    QVector<int> normalRows;
    for (int i = 0; i < train.count(); ++i)
        if (normal[train.y[i]])
            normalRows.append(i);
    QVector<float> mean, std;
    elementStats(train.subset(normalRows), &mean, &std);
    normalizeElements(train, mean, std);
    normalizeElements(test, mean, std);

    TrainingRun run;
    run.config = {{QStringLiteral("task"), QStringLiteral("anomaly")},
                  {QStringLiteral("model"), anomalyModelName(options.kind)},
                  {QStringLiteral("normal_labels"), QJsonArray::fromStringList(options.normalLabels)},
                  {QStringLiteral("clusters"), options.clusters},
                  {QStringLiteral("max_fpr"), options.maxFalseAlarmsPerHour ? QJsonValue(QJsonValue::Null)
                                                                            : QJsonValue(options.maxFpr)},
                  {QStringLiteral("max_false_alarms_per_hour"), optionalNumber(options.maxFalseAlarmsPerHour)},
                  {QStringLiteral("validation_fraction"), options.validationFraction},
                  {QStringLiteral("features"), params.toJson()},
                  {QStringLiteral("train"), QJsonObject{{QStringLiteral("epochs"), options.train.epochs},
                                                        {QStringLiteral("batch_size"), options.train.batchSize},
                                                        {QStringLiteral("learning_rate"), options.train.learningRate},
                                                        {QStringLiteral("patience"), options.train.patience},
                                                        {QStringLiteral("seed"), QString::number(options.train.seed)},
                                                        {QStringLiteral("threads"), options.train.threads}}},
                  {QStringLiteral("board"), settings.boardId}};
    run.status = TrainingStatus::Running;
    AnomalyTrainOptions opt = options;
    if (opt.maxWeightBytes == 0) {
        BoardRegistry registry;
        QString ignored;
        if (registry.loadDefault(&ignored))
            if (const BoardDefinition *b = registry.board(settings.boardId))
                opt.maxWeightBytes = ModelBudget::forBoard(b->ramBytes, b->flashBytes).maxWeightBytes;
    }
    run.config.insert(QStringLiteral("max_weight_bytes"), opt.maxWeightBytes);
    auto runId = store.addTrainingRun(run, error);
    if (!runId)
        return std::nullopt;

    // From here every way out that stores no model marks the run failed or cancelled.
    QString err;
    std::optional<AnomalyOutcome> out;
    try {
        out = trainAnomalyModel(train, test, normal, opt, &err);
    } catch (const std::exception &e) {
        err = QStringLiteral("training failed: %1").arg(QString::fromUtf8(e.what()).trimmed().section(QLatin1Char('\n'), 0, 0));
    }
    auto failRun = [&](bool cancelled) {
        QString ignored;
        store.updateTrainingRun(*runId, {{QStringLiteral("error"), err}},
                                cancelled ? TrainingStatus::Cancelled : TrainingStatus::Failed, &ignored);
        fail(error, err);
        return std::nullopt;
    };
    if (!out)
        return failRun(err == QLatin1String("cancelled"));
    out->runId = *runId;
    out->graph.meta.insert(QStringLiteral("input_normalization"),
                           QJsonObject{{QStringLiteral("mean"), floatArray(mean)}, {QStringLiteral("std"), floatArray(std)}});
    out->graph.meta.insert(QStringLiteral("features"), params.toJson());
    out->graph.meta.insert(QStringLiteral("training_run"), *runId);
    if (!out->graph.validate(&err))
        return failRun(false);

    StoredModel model;
    model.trainingRunId = *runId;
    model.kind = tinyml::ModelKind::Float;
    model.name = QStringLiteral("%1 anomaly (run %2)").arg(anomalyModelName(options.kind)).arg(*runId);
    model.graph = out->graph.serialize();
    model.metrics = {{QStringLiteral("task"), QStringLiteral("anomaly")},
                     {QStringLiteral("anomaly_model"), anomalyModelName(options.kind)},
                     {QStringLiteral("auc"), optionalNumber(out->test.auc)},
                     {QStringLiteral("pr_auc"), optionalNumber(out->test.prAuc)},
                     {QStringLiteral("threshold"), out->threshold},
                     {QStringLiteral("tpr"), optionalNumber(out->tpr)},
                     {QStringLiteral("fpr"), optionalNumber(out->fpr)},
                     {QStringLiteral("false_alarms_per_hour"), optionalNumber(out->falseAlarmsPerHour())},
                     {QStringLiteral("windows_per_hour"),
                      out->stream ? QJsonValue(out->stream->windowsPerHour) : QJsonValue(QJsonValue::Null)},
                     {QStringLiteral("weight_bytes"), out->graph.weightBytes()},
                     {QStringLiteral("parameters"), out->graph.parameterCount()},
                     {QStringLiteral("macs"), out->graph.macs()}};
    auto modelId = store.addModel(model, &err);
    if (!modelId)
        return failRun(false);
    out->modelId = *modelId;
    if (!store.updateTrainingRun(*runId, out->toJson(), TrainingStatus::Finished, error))
        return std::nullopt;
    return out;
}

} // namespace tinyml::training
