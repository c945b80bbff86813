// Training time per epoch: libtorch through training/Trainer against PyTorch in Python
// (bench_training.py) on the same model (the same ModelSpec), data, batch size, optimizer and
// thread count, in one run. Prints a table with the ratio (libtorch / PyTorch; < 1 is faster).
//
//   bench_training [--threads N] [--epochs N]
#include "ModelZoo.h"
#include "Trainer.h"

#include <QCoreApplication>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

#include <algorithm>
#include <cstdio>
#include <random>

using namespace tinyml::training;

namespace {

struct Case {
    const char *name;
    Architecture kind;
    QVector<int> shape;
    int classes;
    int count;
};

TrainingData makeData(const Case &c)
{
    std::mt19937 rng(42);
    std::normal_distribution<float> d(0.0f, 1.0f);
    TrainingData data;
    data.inputShape = c.shape;
    for (int k = 0; k < c.classes; ++k)
        data.labels << QStringLiteral("c%1").arg(k);
    data.x.reserve(qint64(c.count) * data.inputSize());
    for (int i = 0; i < c.count; ++i) {
        for (int k = 0; k < data.inputSize(); ++k)
            data.x.append(d(rng) + (k % c.classes == i % c.classes ? 0.5f : 0.0f));
        data.y.append(i % c.classes);
    }
    return data;
}

double median(QVector<double> v)
{
    if (v.isEmpty())
        return 0;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    int threads = 2, epochs = 4;
    const QStringList args = app.arguments();
    for (int i = 1; i + 1 < args.size(); ++i) {
        if (args[i] == QLatin1String("--threads"))
            threads = args[i + 1].toInt();
        if (args[i] == QLatin1String("--epochs"))
            epochs = std::max(2, args[i + 1].toInt());
    }
    const int batch = 32;
    const double lr = 1e-3;
    const Case cases[] = {
        {"mlp (tabular 32-D)", Architecture::Mlp, {32}, 4, 20000},
        {"cnn1d (motion 200x3)", Architecture::Cnn1d, {1, 200, 3}, 4, 2000},
        {"dscnn (kws 49x10 mfcc)", Architecture::DsCnn, {49, 10, 1}, 12, 1000},
    };
    QTemporaryDir dir;
    std::printf("Training time per epoch, batch %d, %d threads, median of epochs 2..%d (epoch 1 warms up)\n\n",
                batch, threads, epochs);
    std::printf("%-24s %9s %8s %14s %14s %8s\n", "model", "params", "samples", "libtorch s/ep", "pytorch s/ep",
                "ratio");
    bool allOk = true;
    for (const Case &c : cases) {
        const TrainingData data = makeData(c);
        QString err;
        auto spec = buildModelSpec(c.kind, c.shape, c.classes, ModelBudget{}, QStringLiteral("audio"), &err);
        if (!spec) {
            std::fprintf(stderr, "%s: %s\n", c.name, qPrintable(err));
            return 1;
        }
        TrainOptions o;
        o.epochs = epochs;
        o.batchSize = batch;
        o.learningRate = lr;
        o.schedule = TrainOptions::Schedule::Constant;
        o.validationFraction = 0;
        o.patience = 0;
        o.classWeights = false;
        o.augment = false;
        o.threads = threads;
        Trainer trainer(*spec, 1);
        const TrainResult r = trainer.fit(data, o);
        if (!r.ok) {
            std::fprintf(stderr, "%s: %s\n", c.name, qPrintable(r.error));
            return 1;
        }
        QVector<double> ours;
        for (int e = 1; e < r.history.size(); ++e)
            ours << r.history[e].seconds;

        // The same case for PyTorch.
        const QString xPath = dir.filePath(QStringLiteral("x.f32")), yPath = dir.filePath(QStringLiteral("y.i32"));
        QFile xf(xPath), yf(yPath);
        xf.open(QIODevice::WriteOnly);
        xf.write(reinterpret_cast<const char *>(data.x.constData()), data.x.size() * 4);
        xf.close();
        yf.open(QIODevice::WriteOnly);
        yf.write(reinterpret_cast<const char *>(data.y.constData()), data.y.size() * 4);
        yf.close();
        const QString casePath = dir.filePath(QStringLiteral("case.json"));
        QFile cf(casePath);
        cf.open(QIODevice::WriteOnly);
        cf.write(QJsonDocument(QJsonObject{{QStringLiteral("spec"), spec->toJson()},
                                           {QStringLiteral("data"), xPath},
                                           {QStringLiteral("labels"), yPath},
                                           {QStringLiteral("count"), data.count()},
                                           {QStringLiteral("batch_size"), batch},
                                           {QStringLiteral("epochs"), epochs},
                                           {QStringLiteral("threads"), threads},
                                           {QStringLiteral("lr"), lr}})
                     .toJson());
        cf.close();
        QProcess py;
        py.start(QStringLiteral("/usr/bin/python3"), {QStringLiteral(TINYML_BENCH_SCRIPT), casePath});
        double theirs = 0;
        if (py.waitForFinished(1800000) && py.exitCode() == 0) {
            QVector<double> t;
            const auto arr = QJsonDocument::fromJson(py.readAllStandardOutput()).object()
                                 .value(QStringLiteral("seconds_per_epoch")).toArray();
            for (int e = 1; e < arr.size(); ++e)
                t << arr[e].toDouble();
            theirs = median(t);
        } else {
            std::fprintf(stderr, "%s: PyTorch run failed (needs python3-torch): %s\n", c.name,
                         py.readAllStandardError().constData());
            allOk = false;
        }
        const double mine = median(ours);
        std::printf("%-24s %9lld %8d %14.3f %14.3f %8s\n", c.name, spec->parameterCount(), data.count(), mine, theirs,
                    theirs > 0 ? qPrintable(QString::number(mine / theirs, 'f', 2)) : "n/a");
        std::fflush(stdout);
    }
    std::printf("\nratio = libtorch / PyTorch (< 1: the workbench trains faster)\n");
    return allOk ? 0 : 1;
}
