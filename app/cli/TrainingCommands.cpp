// tinyml features / train / quantize / export / import-model. Calls training/'s plain
// headers only (no torch headers in app/).
#include "CliCommands.h"

#include "AnomalyPipeline.h"
#include "OnnxExporter.h"
#include "OnnxImporter.h"
#include "TrainingPipeline.h"

#include "CLibraryExporter.h"
#include "ImpulseSpec.h"
#include "StreamWindows.h"
#include "features/FeatureExtractor.h"
#include "features/FeatureSet.h"
#include "model/tflite/TfliteExporter.h"
#include "model/tflite/TfliteImporter.h"
#include "store/ProjectStore.h"

#include <QCommandLineParser>
#include <QFileInfo>
#include <QJsonArray>
#include <QTextStream>
#include <QThread>

#include <cmath>

namespace tinyml::cli {

namespace {

using namespace tinyml::training;

QString shapeText(const QVector<int> &shape)
{
    QStringList parts;
    for (int d : shape)
        parts << QString::number(d);
    return QLatin1Char('[') + parts.join(QStringLiteral(", ")) + QLatin1Char(']');
}

QString percent(double v)
{
    return QString::number(100.0 * v, 'f', 2) + QLatin1Char('%');
}

void printMetrics(QTextStream &out, const QString &title, const ClassificationMetrics &m)
{
    out << title << ": accuracy " << percent(m.accuracy) << " on " << m.samples << " samples, macro F1 "
        << QString::number(m.macroF1, 'f', 3) << "\n";
    int width = 8;
    for (const QString &l : m.labels)
        width = std::max(width, int(l.size()) + 2);
    out << "  " << QStringLiteral("label").leftJustified(width) << "precision  recall  f1     | confusion (rows: true)\n";
    for (int c = 0; c < m.labels.size(); ++c) {
        out << "  " << m.labels[c].leftJustified(width) << QString::number(m.precision[c], 'f', 3).leftJustified(11)
            << QString::number(m.recall[c], 'f', 3).leftJustified(8) << QString::number(m.f1[c], 'f', 3).leftJustified(7)
            << "|";
        for (int j = 0; j < m.labels.size(); ++j)
            out << QString::number(m.confusion[c][j]).rightJustified(6);
        out << "\n";
    }
}

bool positiveInt(const QCommandLineParser &p, const QString &name, int *value, QString *error)
{
    if (!p.isSet(name))
        return true;
    bool ok = false;
    const int v = p.value(name).toInt(&ok);
    if (!ok || v <= 0) {
        *error = QStringLiteral("--%1 must be a positive integer").arg(name);
        return false;
    }
    *value = v;
    return true;
}

/// --NAME as an integer in [1, max]; unset leaves *value.
bool boundedInt(const QCommandLineParser &p, const QString &name, int max, const QString &why, int *value,
                QString *error)
{
    if (!positiveInt(p, name, value, error))
        return false;
    if (*value > max) {
        *error = QStringLiteral("--%1 %2 is too large: at most %3%4").arg(name).arg(*value).arg(max).arg(why);
        return false;
    }
    return true;
}

/// Runs a command and turns an exception escaping it (libtorch reports bad input with
/// c10::Error, whose text carries a C++ backtrace) into one error line and a non-zero exit,
/// instead of std::terminate's abort and core dump.
std::function<int(const QStringList &)> guarded(int (*command)(const QStringList &))
{
    return [command](const QStringList &args) {
        try {
            return command(args);
        } catch (const std::exception &e) {
            return fail(QStringLiteral("internal error: %1")
                            .arg(QString::fromUtf8(e.what()).trimmed().section(QLatin1Char('\n'), 0, 0)));
        }
    };
}

/// The feature parameters after `--block NAME` and `--set KEY=VALUE`s: a new block starts from its
/// defaults for the project; every key must be one of the block's own (the JSON field names of
/// FeatureParams), and the result passes the same validation as a project file's.
std::optional<features::FeatureParams> editFeatureParams(features::FeatureParams params,
                                                         const ProjectSettings &settings,
                                                         const QString &blockName,
                                                         const QStringList &assignments, QString *error)
{
    if (!blockName.isEmpty()) {
        const auto kind = features::blockKindFromName(blockName);
        if (!kind) {
            *error = QStringLiteral("--block %1: unknown block (raw, spectral, mfe, mfcc, image)").arg(blockName);
            return std::nullopt;
        }
        if (*kind != params.kind) {
            params = features::FeatureParams::defaultsFor(settings);
            params.kind = *kind;
        }
    }
    QJsonObject json = params.toJson();
    const QString name = features::blockKindName(params.kind);
    QJsonObject block = json.value(name).toObject();
    for (const QString &assignment : assignments) {
        const int eq = assignment.indexOf(QLatin1Char('='));
        const QString key = assignment.left(eq).trimmed();
        const QString text = eq < 0 ? QString() : assignment.mid(eq + 1).trimmed();
        if (eq <= 0 || text.isEmpty()) {
            *error = QStringLiteral("--set %1: write KEY=VALUE").arg(assignment);
            return std::nullopt;
        }
        if (!block.contains(key)) {
            *error = QStringLiteral("--set %1: the %2 block has no parameter \"%3\" (it has: %4)")
                         .arg(assignment, name, key, block.keys().join(QStringLiteral(", ")));
            return std::nullopt;
        }
        const QJsonValue old = block.value(key);
        QJsonValue value;
        bool ok = true;
        if (old.isBool()) {
            if (text == QLatin1String("true") || text == QLatin1String("1"))
                value = true;
            else if (text == QLatin1String("false") || text == QLatin1String("0"))
                value = false;
            else
                ok = false;
        } else if (old.isArray()) {
            QJsonArray items;
            for (const QString &part : text.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
                const double v = part.trimmed().toDouble(&ok);
                if (!ok || !std::isfinite(v))
                    break;
                items.append(v);
            }
            ok = ok && !items.isEmpty();
            value = items;
        } else if (old.isString()) {
            value = text;
        } else {
            const double v = text.toDouble(&ok);
            ok = ok && std::isfinite(v);
            value = v;
        }
        if (!ok) {
            *error = QStringLiteral("--set %1: \"%2\" is not a valid value for %3.%4")
                         .arg(assignment, text, name, key);
            return std::nullopt;
        }
        block.insert(key, value);
    }
    json.insert(name, block);
    auto result = features::FeatureParams::fromJson(json, error);
    if (!result)
        return std::nullopt;
    features::FeatureExtractor probe(*result);
    QString shapeError;
    // The project's default sample shape: motion projects have three axes, the others one channel.
    const int channels = settings.templateName == QLatin1String("motion") ? 3 : 1;
    const qint64 frames = qMax<qint64>(1, qRound64(settings.sampleRateHz * settings.sampleLengthS));
    if (!probe.outputShape(frames, channels, &shapeError)) {
        *error = QStringLiteral("the %1 block refuses these parameters: %2").arg(name, shapeError);
        return std::nullopt;
    }
    return result;
}

int cmdFeatures(const QStringList &args)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Compute the features of every sample with the project's feature block (the firmware's DSP code);\n"
        "rows are cached in the project and recomputed only when a sample or a parameter changes."));
    p.addPositionalArgument(QStringLiteral("PROJECT"), QStringLiteral("project file"));
    p.addOption({QStringLiteral("json"), QStringLiteral("print the result as JSON")});
    p.addOption({QStringLiteral("block"),
                 QStringLiteral("switch the project's feature block first (raw, spectral, mfe, mfcc, image); the "
                                "block starts from its defaults for this project"),
                 QStringLiteral("NAME")});
    p.addOption({QStringLiteral("set"),
                 QStringLiteral("set one parameter of the (new) block, e.g. --set nCoeffs=13 or "
                                "--set bandEdgesHz=0,5,10,25,50; repeatable"),
                 QStringLiteral("KEY=VALUE")});
    int code = 0;
    if (!parseOrReport(p, args, QStringLiteral("features"), 1, &code))
        return code;
    QString error;
    auto store = ProjectStore::open(p.positionalArguments()[0], &error);
    if (!store)
        return fail(error);
    const bool json = p.isSet(QStringLiteral("json"));
    if (p.isSet(QStringLiteral("block")) || p.isSet(QStringLiteral("set"))) {
        ProjectSettings settings = store->settings();
        auto changed = editFeatureParams(features::featureParams(settings), settings,
                                         p.value(QStringLiteral("block")), p.values(QStringLiteral("set")),
                                         &error);
        if (!changed)
            return usageError(QStringLiteral("features"), error);
        features::setFeatureParams(settings, *changed);
        if (!store->setSettings(settings, &error))
            return fail(error);
    }
    const features::FeatureParams params = features::featureParams(store->settings());
    QTextStream err(stderr);
    auto set = features::computeFeatures(*store, params, [&](int done, int total) {
        if (!json && (done == total || done % 50 == 0))
            err << "\rfeatures: " << done << "/" << total << Qt::flush;
        return true;
    }, &error);
    if (!json)
        err << "\n";
    if (!set)
        return fail(error);
    QVector<int> shape;
    for (qint64 d : set->featureShape)
        shape << int(d);
    int train = 0, test = 0;
    for (Split s : set->splits)
        (s == Split::Train ? train : test)++;
    QJsonArray skipped;
    for (const auto &k : set->skipped)
        skipped.append(QJsonObject{{QStringLiteral("id"), k.sampleId}, {QStringLiteral("reason"), k.reason}});
    if (json) {
        QJsonArray sh;
        for (int d : shape)
            sh.append(d);
        printJson({{QStringLiteral("block"), features::blockKindName(params.kind)},
                   {QStringLiteral("params"), params.toJson()},
                   {QStringLiteral("params_hash"), set->paramsHash},
                   {QStringLiteral("feature_shape"), sh},
                   {QStringLiteral("feature_size"), set->featureSize()},
                   {QStringLiteral("samples"), set->size()},
                   {QStringLiteral("train"), train},
                   {QStringLiteral("test"), test},
                   {QStringLiteral("computed"), set->computed},
                   {QStringLiteral("cached"), set->size() - set->computed},
                   {QStringLiteral("skipped"), skipped},
                   {QStringLiteral("labels"), QJsonArray::fromStringList(set->labelNames)}});
    } else {
        QTextStream(stdout) << "Features (" << features::blockKindName(params.kind) << "): " << set->size()
                            << " samples (" << train << " train, " << test << " test) of shape " << shapeText(shape)
                            << "; computed " << set->computed << ", from cache " << set->size() - set->computed << "\n";
    }
    // Bad samples are left out, not fatal: name each, so the user can fix or delete it.
    for (const auto &k : set->skipped)
        err << "tinyml: warning: skipped sample " << k.sampleId << ": " << k.reason << "\n";
    if (!set->skipped.isEmpty())
        err << "tinyml: " << set->skipped.size() << " sample(s) skipped; `tinyml samples " << p.positionalArguments()[0]
            << " list` shows them, `tinyml samples ... delete ID...` removes them\n";
    return Ok;
}

/// Windows per hour of the project's continuous stream for an anomaly model: the impulse the
/// model would be deployed in (deploy::impulseSpecFor, with the project's stride choice) scores
/// one window every stride frames.
std::optional<StreamWindowRate> projectStreamRate(const ProjectSettings &settings, const model::Graph &graph,
                                                  QString *why)
{
    auto w = deploy::streamWindowsPerHour(settings, graph, why);
    if (!w)
        return std::nullopt;
    return StreamWindowRate{w->windowsPerHour, w->basis};
}

/// train --model kmeans|gmm|autoencoder|conv-autoencoder: the anomaly part of cmdTrain, after the
/// shared options.
int trainAnomaly(const QCommandLineParser &p, AnomalyTrainOptions opt, bool json)
{
    QTextStream err(stderr);
    if (!json && isAutoencoderKind(opt.kind))
        opt.train.onEpoch = [&](const EpochProgress &e) {
            err << "epoch " << QString::number(e.epoch).rightJustified(3) << "/" << e.epochs << "  loss "
                << QString::number(e.loss, 'f', 5) << "  val_loss " << QString::number(e.valLoss, 'f', 5) << "  lr "
                << QString::number(e.learningRate, 'g', 3) << "  (" << QString::number(e.seconds, 'f', 2) << " s)\n"
                << Qt::flush;
        };
    QString error;
    auto store = ProjectStore::open(p.positionalArguments()[0], &error);
    if (!store)
        return fail(error);
    opt.streamRate = [settings = store->settings()](const model::Graph &graph, QString *why) {
        return projectStreamRate(settings, graph, why);
    };
    auto out = trainAnomalyProject(*store, opt, &error);
    if (!out)
        return fail(error);
    for (const QString &w : out->warnings)
        err << "tinyml: warning: " << w << "\n";
    if (json) {
        printJson(out->toJson());
        return Ok;
    }
    QTextStream o(stdout);
    const QString model = anomalyModelName(out->kind);
    o << "Trained " << model << " anomaly model";
    if (!isAutoencoderKind(out->kind))
        o << " (K = " << out->clusters
          << (out->clustersAutomatic ? (out->kind == AnomalyModelKind::Gmm ? QStringLiteral(", chosen by BIC")
                                                                          : QStringLiteral(", chosen by the elbow rule"))
                                     : QString())
          << ")";
    else
        o << " (" << out->train.epochsRun << " epochs, best " << out->train.bestEpoch << ")";
    o << " on " << out->trainNormal << " train samples of the normal label(s) "
      << out->normalLabels.join(QStringLiteral(", ")) << " (" << out->validationNormal
      << " more held out for validation); " << out->graph.parameterCount() << " parameters\n";
    o << "Test split: " << out->testNormal << " normal, " << out->testAnomalous << " anomalous";
    if (!out->anomalyLabels.isEmpty())
        o << " (" << out->anomalyLabels.join(QStringLiteral(", ")) << ")";
    o << "\n";
    if (out->test.auc)
        o << "ROC AUC " << QString::number(*out->test.auc, 'f', 4) << ", PR-AUC (average precision) "
          << QString::number(*out->test.prAuc, 'f', 4) << "\n";
    else
        o << "ROC AUC undefined: the test split needs both normal and anomalous samples\n";
    if (out->perLabel.size() > 1 && out->test.auc)
        for (const AnomalyOutcome::PerLabel &l : out->perLabel)
            o << "  " << l.label.leftJustified(16) << QString::number(l.count).rightJustified(5) << " samples  AUC "
              << QString::number(*l.auc, 'f', 4) << "  PR-AUC " << QString::number(*l.prAuc, 'f', 4) << "\n";
    o << "Threshold " << QString::number(out->threshold, 'g', 6) << " (" << out->thresholdRule << "; alarm when score > threshold)";
    if (out->tpr || out->fpr) {
        o << ":";
        if (out->tpr)
            o << " TPR " << percent(*out->tpr);
        if (out->fpr)
            o << (out->tpr ? "," : "") << " FPR " << percent(*out->fpr);
    }
    o << "\n";
    if (const auto perHour = out->falseAlarmsPerHour())
        o << "False alarms per hour of normal stream: " << QString::number(*perHour, 'g', 4) << " = FPR x "
          << out->stream->basis << " (one alarm per window above the threshold, no suppression)\n";
    else if (!out->stream)
        o << "False alarms per hour: not computed (" << out->noStreamReason << ")\n";
    o << "Stored run " << out->runId << ", float model " << out->modelId << "\n";
    return Ok;
}

int cmdTrain(const QStringList &args)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Train a model on the project's train split (libtorch) and evaluate it on the test split.\n"
        "The run and the float model are stored in the project.\n"
        "Anomaly models (--model kmeans | gmm | autoencoder | conv-autoencoder) learn the --normal\n"
        "labels' train samples only; the other labels evaluate them on the test split (ROC and PR curves with their areas) and the\n"
        "alarm threshold is set from the false-positive-rate budget --max-fpr, or from a budget in false\n"
        "alarms per hour of normal stream (--false-alarms-per-hour; windows per hour follow from the\n"
        "impulse's sample rate and stride: alarms/hour = FPR x windows/hour). The features are\n"
        "standardised with the normal train samples' mean and std."));
    p.addPositionalArgument(QStringLiteral("PROJECT"), QStringLiteral("project file"));
    p.addOption({QStringLiteral("model"),
                 QStringLiteral("classifiers: auto | mlp | cnn1d | cnn2d | dscnn; anomaly models (trained on the "
                                "--normal labels only): kmeans | gmm | autoencoder | conv-autoencoder"),
                 QStringLiteral("KIND"), QStringLiteral("auto")});
    p.addOption({QStringLiteral("normal"),
                 QStringLiteral("anomaly models: the normal label(s); every other label only evaluates"),
                 QStringLiteral("LABEL[,LABEL...]")});
    p.addOption({QStringLiteral("clusters"),
                 QStringLiteral("kmeans / gmm: clusters or mixture components (default: elbow rule / BIC over 1..8)"),
                 QStringLiteral("K")});
    p.addOption({QStringLiteral("max-fpr"),
                 QStringLiteral("anomaly models: false-positive-rate budget for the threshold (default 0.01)"),
                 QStringLiteral("RATE")});
    p.addOption({QStringLiteral("false-alarms-per-hour"),
                 QStringLiteral("anomaly models: threshold budget in false alarms per hour of normal stream "
                                "(= FPR x windows per hour from the impulse's stride; instead of --max-fpr)"),
                 QStringLiteral("N")});
    p.addOption({QStringLiteral("epochs"), QStringLiteral("maximum epochs (early stopping may end sooner)"), QStringLiteral("N")});
    p.addOption({QStringLiteral("seed"), QStringLiteral("random seed (same seed, same weights)"), QStringLiteral("N")});
    p.addOption({QStringLiteral("threads"), QStringLiteral("torch threads (default 2, at most 256)"), QStringLiteral("N")});
    p.addOption({QStringLiteral("batch-size"),
                 QStringLiteral("mini-batch size (default 32); 1 trains sample by sample with BatchNorm in eval mode"),
                 QStringLiteral("N")});
    p.addOption({QStringLiteral("learning-rate"), QStringLiteral("Adam learning rate (default 0.001, at most 10)"), QStringLiteral("LR")});
    p.addOption({QStringLiteral("json"), QStringLiteral("print the result as JSON (no per-epoch progress lines)")});
    int code = 0;
    if (!parseOrReport(p, args, QStringLiteral("train"), 1, &code))
        return code;
    ProjectTrainOptions opt;
    const auto anomalyKind = anomalyModelFromName(p.value(QStringLiteral("model")));
    auto kind = anomalyKind ? std::optional<Architecture>(Architecture::Auto)
                            : architectureFromName(p.value(QStringLiteral("model")));
    if (!kind)
        return usageError(QStringLiteral("train"),
                          QStringLiteral("--model must be auto, mlp, cnn1d, cnn2d, dscnn, kmeans, gmm, autoencoder or "
                                         "conv-autoencoder"));
    opt.kind = *kind;
    QString error;
    AnomalyTrainOptions anomaly;
    if (anomalyKind) {
        anomaly.kind = *anomalyKind;
        for (const QString &l : p.value(QStringLiteral("normal")).split(QLatin1Char(','), Qt::SkipEmptyParts))
            anomaly.normalLabels.append(l.trimmed());
        if (anomaly.normalLabels.isEmpty())
            return usageError(QStringLiteral("train"),
                              QStringLiteral("--model %1 is trained on normal data only: give --normal LABEL[,LABEL...]")
                                  .arg(anomalyModelName(anomaly.kind)));
        if (p.isSet(QStringLiteral("clusters"))) {
            if (isAutoencoderKind(anomaly.kind))
                return usageError(QStringLiteral("train"), QStringLiteral("--clusters applies to kmeans and gmm only"));
            if (!boundedInt(p, QStringLiteral("clusters"), kMaxAnomalyClusters, {}, &anomaly.clusters, &error))
                return usageError(QStringLiteral("train"), error);
        }
        if (p.isSet(QStringLiteral("max-fpr"))) {
            bool ok = false;
            anomaly.maxFpr = p.value(QStringLiteral("max-fpr")).toDouble(&ok);
            if (!ok || !(anomaly.maxFpr >= 0 && anomaly.maxFpr < 1))
                return usageError(QStringLiteral("train"), QStringLiteral("--max-fpr must be a rate in [0, 1), not %1")
                                                               .arg(p.value(QStringLiteral("max-fpr"))));
        }
        if (p.isSet(QStringLiteral("false-alarms-per-hour"))) {
            if (p.isSet(QStringLiteral("max-fpr")))
                return usageError(QStringLiteral("train"),
                                  QStringLiteral("--max-fpr and --false-alarms-per-hour are two ways to set one "
                                                 "threshold budget: give one of them"));
            bool ok = false;
            const double perHour = p.value(QStringLiteral("false-alarms-per-hour")).toDouble(&ok);
            if (!ok || !std::isfinite(perHour) || perHour < 0)
                return usageError(QStringLiteral("train"),
                                  QStringLiteral("--false-alarms-per-hour must be a finite number >= 0, not %1")
                                      .arg(p.value(QStringLiteral("false-alarms-per-hour"))));
            anomaly.maxFalseAlarmsPerHour = perHour;
        }
    } else {
        for (const char *name : {"normal", "clusters", "max-fpr", "false-alarms-per-hour"})
            if (p.isSet(QString::fromLatin1(name)))
                return usageError(QStringLiteral("train"),
                                  QStringLiteral("--%1 applies to the anomaly models (--model kmeans, gmm, autoencoder or "
                                                 "conv-autoencoder)")
                                      .arg(QString::fromLatin1(name)));
    }
    int seed = int(opt.train.seed);
    if (!boundedInt(p, QStringLiteral("epochs"), kMaxEpochs, {}, &opt.train.epochs, &error) ||
        !boundedInt(p, QStringLiteral("threads"), kMaxThreads,
                    QStringLiteral(" (this machine has %1 cores)").arg(QThread::idealThreadCount()),
                    &opt.train.threads, &error) ||
        !positiveInt(p, QStringLiteral("batch-size"), &opt.train.batchSize, &error))
        return usageError(QStringLiteral("train"), error);
    if (p.isSet(QStringLiteral("seed"))) {
        bool ok = false;
        seed = p.value(QStringLiteral("seed")).toInt(&ok);
        if (!ok || seed < 0)
            return usageError(QStringLiteral("train"), QStringLiteral("--seed must be a non-negative integer"));
    }
    opt.train.seed = std::uint64_t(seed);
    if (p.isSet(QStringLiteral("learning-rate"))) {
        bool ok = false;
        opt.train.learningRate = p.value(QStringLiteral("learning-rate")).toDouble(&ok);
        // toDouble reads "nan" and "inf"; !(x > 0) also catches NaN.
        if (!ok || !std::isfinite(opt.train.learningRate) || !(opt.train.learningRate > 0) ||
            opt.train.learningRate > kMaxLearningRate)
            return usageError(QStringLiteral("train"),
                              QStringLiteral("--learning-rate must be a finite number in (0, %1], not %2")
                                  .arg(kMaxLearningRate)
                                  .arg(p.value(QStringLiteral("learning-rate"))));
    }
    const bool json = p.isSet(QStringLiteral("json"));
    if (anomalyKind) {
        anomaly.train = opt.train;
        return trainAnomaly(p, anomaly, json);
    }
    QTextStream err(stderr);
    if (!json)
        opt.train.onEpoch = [&](const EpochProgress &e) {
            err << "epoch " << QString::number(e.epoch).rightJustified(3) << "/" << e.epochs << "  loss "
                << QString::number(e.loss, 'f', 4) << "  acc " << QString::number(e.accuracy, 'f', 3) << "  val_loss "
                << QString::number(e.valLoss, 'f', 4) << "  val_acc " << QString::number(e.valAccuracy, 'f', 3) << "  lr "
                << QString::number(e.learningRate, 'g', 3) << "  (" << QString::number(e.seconds, 'f', 2) << " s)\n"
                << Qt::flush;
        };
    auto store = ProjectStore::open(p.positionalArguments()[0], &error);
    if (!store)
        return fail(error);
    auto out = trainProject(*store, opt, &error);
    if (!out)
        return fail(error);
    if (json) {
        printJson(out->toJson());
        return Ok;
    }
    QTextStream o(stdout);
    o << "Trained " << architectureName(out->spec.kind) << " (" << out->spec.parameterCount() << " parameters, "
      << out->spec.macs() << " MACs, int8 " << out->spec.int8WeightBytes() << " B weights / "
      << out->spec.int8ActivationBytes() << " B activations) for " << out->result.epochsRun << " epochs (best "
      << out->result.bestEpoch << ", " << QString::number(out->result.secondsPerEpoch, 'f', 2) << " s/epoch)\n";
    printMetrics(o, QStringLiteral("Test (float)"), out->test);
    o << "Stored run " << out->runId << ", float model " << out->modelId << "\n";
    return Ok;
}

/// An anomaly model has one score, not classes: AUC and the operating point instead of accuracy.
/// A rate the split cannot define (no normal or no anomalous sample) is said to be undefined.
void printAnomalyQuantize(const QuantizeOutcome &out, const QString &calibration)
{
    const QJsonObject j = out.toJson();
    const QJsonObject f = j.value(QStringLiteral("float")).toObject(), i = j.value(QStringLiteral("int8")).toObject();
    const auto auc = [](const QJsonValue &v) {
        return v.isDouble() ? QString::number(v.toDouble(), 'f', 4) : QStringLiteral("undefined");
    };
    const auto rate = [](const QJsonValue &v) { return v.isDouble() ? percent(v.toDouble()) : QStringLiteral("undefined"); };
    const QString split = j.value(QStringLiteral("split")).toString();
    QTextStream o(stdout);
    o << "Quantized the anomaly model to int8 (" << calibration << " calibration, normal train samples only); on the "
      << split << " split (" << i.value(QStringLiteral("normal")).toInt() << " normal, "
      << i.value(QStringLiteral("anomalous")).toInt() << " anomalous):\n";
    o << "  ROC AUC  float " << auc(f.value(QStringLiteral("auc"))) << ", int8 " << auc(i.value(QStringLiteral("auc")))
      << "\n";
    o << "  PR-AUC   float " << auc(f.value(QStringLiteral("pr_auc"))) << ", int8 "
      << auc(i.value(QStringLiteral("pr_auc"))) << "\n";
    o << "  At the threshold " << QString::number(j.value(QStringLiteral("threshold")).toDouble(), 'g', 6)
      << " (alarm when score > threshold): float TPR " << rate(f.value(QStringLiteral("tpr"))) << ", FPR "
      << rate(f.value(QStringLiteral("fpr"))) << "; int8 TPR " << rate(i.value(QStringLiteral("tpr"))) << ", FPR "
      << rate(i.value(QStringLiteral("fpr"))) << "\n";
    if (!i.value(QStringLiteral("auc")).isDouble())
        o << "  AUC is undefined: the " << split << " split needs both normal and anomalous samples\n";
    o << "Weights: float " << out.floatWeightBytes << " B, int8 " << out.int8WeightBytes << " B\n";
    o << "Per-layer SQNR (float vs int8 intermediates, normal train samples):\n";
    for (const LayerSqnr &l : out.sqnr)
        o << "  " << l.node.leftJustified(24) << l.op.leftJustified(18)
          << (std::isfinite(l.sqnrDb) ? QString::number(l.sqnrDb, 'f', 1) + QStringLiteral(" dB") : QStringLiteral("exact")) << "\n";
    o << "Stored int8 model " << out.modelId << "\n";
}

int cmdQuantize(const QStringList &args)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Quantize the project's newest float model to int8 (TFLite scheme), evaluate float and int8 on the\n"
        "test split (int8 through the firmware's kernels) and fine-tune with quantization-aware training\n"
        "when int8 loses more than the threshold. The int8 model is stored in the project."));
    p.addPositionalArgument(QStringLiteral("PROJECT"), QStringLiteral("project file"));
    p.addOption({QStringLiteral("calibration"), QStringLiteral("minmax | percentile"), QStringLiteral("METHOD"), QStringLiteral("minmax")});
    p.addOption({QStringLiteral("percentile"), QStringLiteral("percentile calibration: keep this percent (default 99.99)"), QStringLiteral("P")});
    p.addOption({QStringLiteral("calibration-samples"), QStringLiteral("representative train samples (default 200)"), QStringLiteral("N")});
    p.addOption({QStringLiteral("qat-threshold"), QStringLiteral("accuracy drop (percentage points) that triggers QAT (default 1; negative: never)"), QStringLiteral("PP")});
    p.addOption({QStringLiteral("threads"), QStringLiteral("torch threads for QAT (default 2)"), QStringLiteral("N")});
    p.addOption({QStringLiteral("json"), QStringLiteral("print the result as JSON")});
    int code = 0;
    if (!parseOrReport(p, args, QStringLiteral("quantize"), 1, &code))
        return code;
    ProjectQuantizeOptions opt;
    auto cal = calibrationFromName(p.value(QStringLiteral("calibration")));
    if (!cal)
        return usageError(QStringLiteral("quantize"), QStringLiteral("--calibration must be minmax or percentile"));
    opt.quant.calibration = *cal;
    QString error;
    if (p.isSet(QStringLiteral("percentile"))) {
        bool ok = false;
        opt.quant.percentile = p.value(QStringLiteral("percentile")).toDouble(&ok);
        if (!ok || opt.quant.percentile <= 50 || opt.quant.percentile > 100)
            return usageError(QStringLiteral("quantize"), QStringLiteral("--percentile must be in (50, 100]"));
    }
    if (p.isSet(QStringLiteral("qat-threshold"))) {
        bool ok = false;
        const double pp = p.value(QStringLiteral("qat-threshold")).toDouble(&ok);
        if (!ok)
            return usageError(QStringLiteral("quantize"), QStringLiteral("--qat-threshold must be a number"));
        opt.qatThreshold = pp < 0 ? -1 : pp / 100.0;
    }
    if (!positiveInt(p, QStringLiteral("calibration-samples"), &opt.quant.calibrationSamples, &error) ||
        !boundedInt(p, QStringLiteral("threads"), kMaxThreads,
                    QStringLiteral(" (this machine has %1 cores)").arg(QThread::idealThreadCount()),
                    &opt.train.threads, &error))
        return usageError(QStringLiteral("quantize"), error);
    auto store = ProjectStore::open(p.positionalArguments()[0], &error);
    if (!store)
        return fail(error);
    auto out = quantizeProject(*store, opt, &error);
    if (!out)
        return fail(error);
    if (p.isSet(QStringLiteral("json"))) {
        printJson(out->toJson());
        return Ok;
    }
    if (out->int8Graph.meta.contains(QStringLiteral("int8_evaluation"))) {
        printAnomalyQuantize(*out, calibrationName(opt.quant.calibration));
        return Ok;
    }
    QTextStream o(stdout);
    o << "Quantized to int8 (" << calibrationName(opt.quant.calibration) << " calibration): float "
      << percent(out->floatTest.accuracy) << ", int8 " << percent(out->int8Test.accuracy) << " on the test split"
      << (out->qatApplied ? QStringLiteral(" (after QAT; PTQ gave %1)").arg(percent(out->ptqAccuracy)) : QString()) << "\n";
    o << "Weights: float " << out->floatWeightBytes << " B, int8 " << out->int8WeightBytes << " B\n";
    printMetrics(o, QStringLiteral("Test (int8)"), out->int8Test);
    o << "Per-layer SQNR (float vs int8 intermediates):\n";
    for (const LayerSqnr &l : out->sqnr)
        o << "  " << l.node.leftJustified(24) << l.op.leftJustified(18)
          << (std::isfinite(l.sqnrDb) ? QString::number(l.sqnrDb, 'f', 1) + QStringLiteral(" dB") : QStringLiteral("exact")) << "\n";
    o << "Stored int8 model " << out->modelId << "\n";
    return Ok;
}

/// export's --model: 0 when it is not given (the newest int8 model is exported); nullopt with the
/// usage error reported and its exit status in *exitCode when it is not a model id. (pickModel()
/// does not fit: --tflite exports float models too.)
std::optional<qint64> exportModelId(const QCommandLineParser &p, int *exitCode)
{
    if (!p.isSet(QStringLiteral("model")))
        return 0;
    bool ok = false;
    const qint64 id = p.value(QStringLiteral("model")).toLongLong(&ok);
    if (!ok || id <= 0) {
        *exitCode = usageError(QStringLiteral("export"), QStringLiteral("--model must be a model id (a positive integer)"));
        return std::nullopt;
    }
    return id;
}

/// export --c-library / --arduino: the int8 model as source code for the user's firmware.
int exportLibrary(const QCommandLineParser &p)
{
    const bool arduino = p.isSet(QStringLiteral("arduino"));
    deploy::LibraryExportOptions opt;
    opt.layout = arduino ? deploy::LibraryLayout::Arduino : deploy::LibraryLayout::CLibrary;
    opt.name = p.value(QStringLiteral("name"));
    opt.modelOnly = p.isSet(QStringLiteral("model-only"));
    int code = 0;
    const auto modelId = exportModelId(p, &code);
    if (!modelId)
        return code;
    QString error;
    auto store = ProjectStore::open(p.positionalArguments()[0], &error);
    if (!store)
        return fail(error);
    const QString file = p.value(arduino ? QStringLiteral("arduino") : QStringLiteral("c-library"));
    auto out = deploy::CLibraryExporter::exportProject(*store, *modelId, file, opt, &error);
    if (!out)
        return fail(error);
    const QString layout = arduino ? QStringLiteral("arduino") : QStringLiteral("c-library");
    if (p.isSet(QStringLiteral("json"))) {
        QJsonArray files;
        for (const deploy::ExportedFile &f : out->files)
            files.append(f.path);
        printJson({{QStringLiteral("file"), file},
                   {QStringLiteral("layout"), layout},
                   {QStringLiteral("model_id"), out->modelId},
                   {QStringLiteral("package_bytes"), out->packageBytes},
                   {QStringLiteral("arena_bytes"), out->arenaBytes},
                   {QStringLiteral("input_size"), out->inputSize},
                   {QStringLiteral("output_size"), out->outputSize},
                   {QStringLiteral("example_input"), out->exampleInputSource},
                   {QStringLiteral("impulse"), out->impulse.has_value()},
                   {QStringLiteral("impulse_work_bytes"), double(out->impulseWorkBytes)},
                   {QStringLiteral("ring_bytes"), double(out->ringBytes)},
                   {QStringLiteral("files"), files}});
        return Ok;
    }
    QTextStream(stdout) << "Wrote " << (arduino ? "an Arduino library" : "a C library") << " for int8 model "
                        << out->modelId << " to " << file << " (" << out->files.size() << " files; package "
                        << out->packageBytes << " bytes of flash, arena " << out->arenaBytes
                        << " bytes of RAM; example input: " << out->exampleInputSource << ")\n";
    if (out->impulse)
        QTextStream(stdout) << "  with its impulse: " << out->impulse->windowFrames << "-frame windows every "
                            << out->impulse->strideFrames << " frames at " << out->impulse->sampleRateHz
                            << " Hz; tinyml_impulse_push() streams raw samples, work buffer " << out->impulseWorkBytes
                            << " bytes, ring " << out->ringBytes << " bytes\n";
    return Ok;
}

/// export --tflite: an int8 (or, with --model, a float) model as a TensorFlow Lite flatbuffer.
int exportTfliteModel(const QCommandLineParser &p)
{
    int code = 0;
    const auto modelIdOption = exportModelId(p, &code);
    if (!modelIdOption)
        return code;
    const qint64 modelId = *modelIdOption;
    QString error;
    auto store = ProjectStore::open(p.positionalArguments()[0], &error);
    if (!store)
        return fail(error);
    const QString projectName = QFileInfo(store->path()).fileName();
    QString storeError;
    const std::optional<StoredModel> stored = modelId > 0 ? store->model(modelId, &storeError)
                                                          : store->latestModel(ModelKind::Int8, &storeError);
    if (!stored) {
        if (modelId > 0)
            return fail(QStringLiteral("model %1: not in %2%3").arg(modelId).arg(projectName,
                        storeError.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(storeError)));
        return fail(QStringLiteral("%1 has no int8 model yet: train and quantize one first (`tinyml train`, "
                                   "`tinyml quantize`)%2").arg(projectName,
                                   storeError.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(storeError)));
    }
    auto graph = model::Graph::deserialize(stored->graph, &error);
    if (!graph)
        return fail(QStringLiteral("model %1: its stored graph cannot be read: %2").arg(stored->id).arg(error));
    const QString file = p.value(QStringLiteral("tflite"));
    const QString kind = graph->quantized ? QStringLiteral("int8") : QStringLiteral("float");
    const QString description = QStringLiteral("TinyML Workbench %1 model %2 \"%3\" of %4")
                                    .arg(kind).arg(stored->id).arg(stored->name, projectName);
    model::tflite::TfliteExportInfo info;
    if (!model::tflite::writeTfliteFile(*graph, file, description, &error, &info))
        return fail(QStringLiteral("model %1: %2").arg(stored->id).arg(error));
    const qint64 bytes = QFileInfo(file).size();
    if (p.isSet(QStringLiteral("json"))) {
        printJson({{QStringLiteral("file"), file},
                   {QStringLiteral("model_id"), stored->id},
                   {QStringLiteral("kind"), kind},
                   {QStringLiteral("bytes"), bytes},
                   {QStringLiteral("operators"), info.operators},
                   {QStringLiteral("tensors"), info.tensors},
                   {QStringLiteral("operator_codes"), QJsonArray::fromStringList(info.operatorCodes)},
                   {QStringLiteral("input_type"), QLatin1String(info.floatInput || !graph->quantized ? "float32" : "int8")},
                   {QStringLiteral("output_type"), QLatin1String(info.floatOutput || !graph->quantized ? "float32" : "int8")}});
        return Ok;
    }
    QTextStream(stdout) << "Wrote " << kind << " model " << stored->id << " to " << file << " (TFLite, " << bytes
                        << " bytes, " << info.operators << " operators: " << info.operatorCodes.join(QStringLiteral(", "))
                        << "; " << (info.floatInput || !graph->quantized ? "float32" : "int8") << " input, "
                        << (info.floatOutput || !graph->quantized ? "float32" : "int8") << " output)\n";
    return Ok;
}

int cmdExport(const QStringList &args)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Export the project's newest model to ONNX (opset 13): the float model in NCHW layout, or with\n"
        "--int8 the int8 model in QDQ form (QuantizeLinear / DequantizeLinear around float ops).\n"
        "--c-library / --arduino write an int8 model as a zip of C sources for your own firmware: the\n"
        "model as a C array, the agent's runtime, tinyml_model.h (tinyml_init / tinyml_invoke /\n"
        "tinyml_label), a CMake file (host or arm-none-eabi-gcc) and an example that checks its output.\n"
        "A model with a streaming feature block carries its whole impulse (DSP, normalisation,\n"
        "post-processing): tinyml_impulse_push() takes raw sensor samples and calls back a decision per\n"
        "window; --model-only exports the network alone.\n"
        "--tflite writes the newest int8 model (or --model ID, int8 or float) as a TensorFlow Lite flatbuffer\n"
        "(schema 3; per-channel int8 weights, int8 activations, int32 biases, quantization copied exactly;\n"
        "a float model as float32 ops) for TFLite / TFLite Micro; ops with no TFLite equivalent (anomaly\n"
        "scores) are refused naming the node."));
    p.addPositionalArgument(QStringLiteral("PROJECT"), QStringLiteral("project file"));
    p.addOption({QStringLiteral("onnx"), QStringLiteral("output .onnx file"), QStringLiteral("FILE")});
    p.addOption({QStringLiteral("int8"), QStringLiteral("export the int8 model (QDQ)")});
    p.addOption({QStringLiteral("c-library"), QStringLiteral("output .zip: C library with CMake file and example"), QStringLiteral("FILE")});
    p.addOption({QStringLiteral("arduino"), QStringLiteral("output .zip: Arduino library (library.properties, src/, examples/)"), QStringLiteral("FILE")});
    p.addOption({QStringLiteral("tflite"), QStringLiteral("output .tflite file: the model as a TFLite flatbuffer"), QStringLiteral("FILE")});
    p.addOption({QStringLiteral("model"), QStringLiteral("model id for --c-library / --arduino (int8) and --tflite (int8 or float; default: the newest int8)"), QStringLiteral("ID")});
    p.addOption({QStringLiteral("name"), QStringLiteral("library folder name (default tinyml_model / TinyMLModel)"), QStringLiteral("NAME")});
    p.addOption({QStringLiteral("model-only"), QStringLiteral("export the int8 network without its impulse (--c-library / --arduino)")});
    p.addOption({QStringLiteral("json"), QStringLiteral("print the result as JSON (--c-library / --arduino / --tflite)")});
    int code = 0;
    if (!parseOrReport(p, args, QStringLiteral("export"), 1, &code))
        return code;
    const int targets = int(p.isSet(QStringLiteral("onnx"))) + int(p.isSet(QStringLiteral("c-library")))
                        + int(p.isSet(QStringLiteral("arduino"))) + int(p.isSet(QStringLiteral("tflite")));
    if (targets != 1)
        return usageError(QStringLiteral("export"),
                          QStringLiteral("give one of --onnx FILE, --c-library FILE.zip, --arduino FILE.zip or --tflite FILE"));
    if (p.isSet(QStringLiteral("tflite")))
        return exportTfliteModel(p);
    if (!p.isSet(QStringLiteral("onnx")))
        return exportLibrary(p);
    QString error;
    auto store = ProjectStore::open(p.positionalArguments()[0], &error);
    if (!store)
        return fail(error);
    const bool int8 = p.isSet(QStringLiteral("int8"));
    qint64 id = 0;
    auto graph = latestModelGraph(*store, int8, &id, &error);
    if (!graph)
        return fail(error);
    const QString file = p.value(QStringLiteral("onnx"));
    if (!writeOnnxFile(*graph, file, &error))
        return fail(error);
    QTextStream(stdout) << "Wrote " << (int8 ? "int8 (QDQ)" : "float") << " model " << id << " to " << file << " ("
                        << QFileInfo(file).size() << " bytes, checked with onnx::checker)\n";
    return Ok;
}

int cmdImportModel(const QStringList &args)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Import a float ONNX model (e.g. from torch.onnx.export) into the project as a float model,\n"
        "or a fully int8-quantized TFLite model (.tflite) as an int8 model.\n"
        "Unsupported ops are refused with their name and node (TFLite: operator index and version)."));
    p.addPositionalArgument(QStringLiteral("PROJECT"), QStringLiteral("project file"));
    p.addPositionalArgument(QStringLiteral("FILE"), QStringLiteral(".onnx or .tflite model"));
    p.addOption({QStringLiteral("name"), QStringLiteral("model name (default: the file name)"), QStringLiteral("NAME")});
    p.addOption({QStringLiteral("json"), QStringLiteral("print the result as JSON")});
    int code = 0;
    if (!parseOrReport(p, args, QStringLiteral("import-model"), 2, &code))
        return code;
    QString error;
    auto store = ProjectStore::open(p.positionalArguments()[0], &error);
    if (!store)
        return fail(error);
    const QString file = p.positionalArguments()[1];
    const bool tflite = file.endsWith(QStringLiteral(".tflite"), Qt::CaseInsensitive);
    auto graph = tflite ? model::tflite::importTfliteFile(file, &error) : importOnnxFile(file, {}, &error);
    if (!graph)
        return fail(error);
    const QStringList projectLabels = store->settings().labels;
    const int outputs = int(graph->tensors[graph->outputs[0]].elementCount());
    if (graph->labels.isEmpty() && projectLabels.size() == outputs)
        graph->labels = projectLabels;
    const QString name = p.isSet(QStringLiteral("name")) ? p.value(QStringLiteral("name")) : QFileInfo(file).fileName();
    auto id = storeImportedModel(*store, *graph, name, &error);
    if (!id)
        return fail(error);
    const QVector<int> inShape = graph->tensors[graph->inputs[0]].shape;
    if (p.isSet(QStringLiteral("json"))) {
        QJsonArray sh;
        for (int d : inShape)
            sh.append(d);
        printJson({{QStringLiteral("model_id"), *id},
                   {QStringLiteral("nodes"), graph->nodes.size()},
                   {QStringLiteral("input_shape"), sh},
                   {QStringLiteral("outputs"), outputs},
                   {QStringLiteral("parameters"), graph->parameterCount()},
                   {QStringLiteral("labels"), QJsonArray::fromStringList(graph->labels)}});
    } else {
        QTextStream(stdout) << "Imported " << file << " as " << (graph->quantized ? "int8" : "float") << " model "
                            << *id << ": " << graph->nodes.size()
                            << " nodes, input " << shapeText(inShape) << " (NHWC), " << outputs << " outputs, "
                            << graph->parameterCount() << " parameters\n";
        if (graph->labels.isEmpty())
            QTextStream(stderr) << "tinyml: warning: the model has " << outputs << " outputs but the project has "
                                << projectLabels.size() << " labels; the model carries no label names\n";
    }
    return Ok;
}

} // namespace

QList<Command> trainingCommands()
{
    return {
        {QStringLiteral("features"), QStringLiteral("features PROJECT [--block NAME] [--set KEY=VALUE ...] [--json]"),
         QStringLiteral("compute (and cache) the features of every sample"), guarded(cmdFeatures)},
        {QStringLiteral("train"), QStringLiteral("train PROJECT [--model auto|mlp|cnn1d|cnn2d|dscnn|kmeans|gmm|autoencoder|conv-autoencoder] "
                        "[--normal LABEL[,LABEL...]] [--clusters K] [--max-fpr RATE | --false-alarms-per-hour N] [--epochs N] [--seed N] "
                        "[--threads N] [--json]"),
         QStringLiteral("train a classifier or an anomaly model and evaluate it on the test split"), guarded(cmdTrain)},
        {QStringLiteral("quantize"), QStringLiteral("quantize PROJECT [--calibration minmax|percentile] [--json]"),
         QStringLiteral("int8 post-training quantization (+ QAT when needed), float vs int8"), guarded(cmdQuantize)},
        {QStringLiteral("export"),
         QStringLiteral("export PROJECT --onnx FILE [--int8] | --c-library FILE.zip | --arduino FILE.zip | --tflite FILE [--model ID]"),
         QStringLiteral("export a model to ONNX or TFLite, or an int8 model as a C / Arduino library"), guarded(cmdExport)},
        {QStringLiteral("import-model"), QStringLiteral("import-model PROJECT FILE.onnx|FILE.tflite [--name NAME] [--json]"),
         QStringLiteral("import a float ONNX model exported by PyTorch, or an int8 TFLite model"), guarded(cmdImportModel)},
    };
}

} // namespace tinyml::cli
