// Trainer and model zoo: a table-like data set (three Gaussian blobs in 8-D) is learnt and
// survives int8; the same seed gives the same weights; every zoo model exports to a float
// graph that FloatExecutor runs like libtorch (1e-4).
#include "TrainingTestData.h"

#include "GraphEvaluation.h"
#include "ModelZoo.h"
#include "Trainer.h"
#include "TrainingPipeline.h"

#include <gtest/gtest.h>

#include <QTemporaryDir>

#include <limits>
#include <random>

using namespace tinyml;
using namespace tinyml::training;

namespace {

TrainOptions fastOptions(int epochs)
{
    TrainOptions o;
    o.epochs = epochs;
    o.threads = 2;
    o.seed = 3;
    return o;
}

void expectTorchEqualsFloatExecutor(const Trainer &trainer, const TrainingData &data, double tol = 1e-4)
{
    const model::Graph g = trainer.exportGraph(data.labels);
    QString err;
    model::Graph checked = g;
    ASSERT_TRUE(checked.inferShapes(&err) && checked.validate(&err)) << err.toStdString();
    const QVector<float> torchOut = trainer.predict(data);
    auto graphOut = runGraph(g, data, &err);
    ASSERT_TRUE(graphOut) << err.toStdString();
    ASSERT_EQ(graphOut->size(), torchOut.size());
    double maxDiff = 0;
    for (int k = 0; k < torchOut.size(); ++k)
        maxDiff = std::max(maxDiff, double(std::abs(torchOut[k] - (*graphOut)[k])));
    EXPECT_LE(maxDiff, tol) << architectureName(trainer.spec().kind).toStdString();
}

TrainingData randomImages(QVector<int> shape, int n, int classes, std::uint32_t seed)
{
    std::mt19937 rng(seed);
    std::normal_distribution<float> d(0.0f, 1.0f);
    TrainingData data;
    data.inputShape = shape;
    for (int c = 0; c < classes; ++c)
        data.labels << QStringLiteral("c%1").arg(c);
    for (int i = 0; i < n; ++i) {
        for (int k = 0; k < data.inputSize(); ++k)
            data.x.append(d(rng) + (k % classes == i % classes ? 1.0f : 0.0f));
        data.y.append(i % classes);
    }
    return data;
}

} // namespace

TEST(ModelZoo, AutoPicksByShapeAndFitsTheBudget)
{
    EXPECT_EQ(chooseArchitecture({12}, "tabular"), Architecture::Mlp);
    EXPECT_EQ(chooseArchitecture({1, 200, 3}, "motion"), Architecture::Cnn1d);
    EXPECT_EQ(chooseArchitecture({49, 10, 1}, "audio"), Architecture::DsCnn);
    EXPECT_EQ(chooseArchitecture({32, 32, 1}, "image"), Architecture::Cnn2d);
    QString err;
    auto big = buildModelSpec(Architecture::DsCnn, {49, 10, 1}, 12, ModelBudget{}, "audio", &err);
    ASSERT_TRUE(big) << err.toStdString();
    ModelBudget tight;
    tight.maxWeightBytes = 6000;
    tight.maxActivationBytes = 16000;
    auto small = buildModelSpec(Architecture::DsCnn, {49, 10, 1}, 12, tight, "audio", &err);
    ASSERT_TRUE(small) << err.toStdString();
    EXPECT_LT(small->int8WeightBytes(), big->int8WeightBytes());
    EXPECT_LE(small->int8WeightBytes(), tight.maxWeightBytes);
    tight.maxWeightBytes = 100;
    EXPECT_FALSE(buildModelSpec(Architecture::DsCnn, {49, 10, 1}, 12, tight, "audio", &err));
    EXPECT_TRUE(err.contains(QStringLiteral("weight bytes"))) << err.toStdString();
    EXPECT_FALSE(buildModelSpec(Architecture::Cnn1d, {24}, 3, ModelBudget{}, {}, &err));
    // JSON round trip.
    auto back = ModelSpec::fromJson(big->toJson(), &err);
    ASSERT_TRUE(back) << err.toStdString();
    EXPECT_EQ(back->toJson(), big->toJson());
}

TEST(Trainer, LearnsBlobsAndInt8StaysWithinOnePoint)
{
    TrainingData train = testdata::blobs(200, 11), test = testdata::blobs(100, 12);
    QVector<float> mean, std;
    elementStats(train, &mean, &std);
    normalizeElements(train, mean, std);
    normalizeElements(test, mean, std);
    QString err;
    auto spec = buildModelSpec(Architecture::Auto, train.inputShape, 3, ModelBudget{}, "tabular", &err);
    ASSERT_TRUE(spec) << err.toStdString();
    EXPECT_EQ(spec->kind, Architecture::Mlp);
    Trainer trainer(*spec, 1);
    int epochsSeen = 0;
    TrainOptions o = fastOptions(40);
    o.onEpoch = [&](const EpochProgress &p) {
        ++epochsSeen;
        EXPECT_GT(p.seconds, 0);
        EXPECT_GE(p.valAccuracy, 0);
    };
    const TrainResult r = trainer.fit(train, o);
    ASSERT_TRUE(r.ok) << r.error.toStdString();
    EXPECT_EQ(epochsSeen, r.epochsRun);
    EXPECT_EQ(r.validation.confusion.size(), 3);
    const ClassificationMetrics m = trainer.evaluate(test);
    EXPECT_GE(m.accuracy, 0.9);
    for (double f1 : m.f1)
        EXPECT_GE(f1, 0.85);

    expectTorchEqualsFloatExecutor(trainer, test);

    ProjectQuantizeOptions qo;
    qo.qatThreshold = -1;   // measure PTQ alone
    auto q = quantizeModel(trainer.exportGraph(train.labels), train, test, qo, &err);
    ASSERT_TRUE(q) << err.toStdString();
    std::printf("[blobs mlp] float %.4f  int8 %.4f  weights %lld -> %lld bytes\n", q->floatTest.accuracy,
                q->int8Test.accuracy, q->floatWeightBytes, q->int8WeightBytes);
    EXPECT_NEAR(q->floatTest.accuracy, m.accuracy, 1e-9);   // FloatExecutor agrees with torch
    EXPECT_GE(q->int8Test.accuracy, q->floatTest.accuracy - 0.01);
    EXPECT_LT(q->int8WeightBytes * 3, q->floatWeightBytes);
    for (const LayerSqnr &l : q->sqnr)
        EXPECT_GT(l.sqnrDb, 15) << l.tensor.toStdString();
}

TEST(Trainer, SameSeedSameWeights)
{
    const TrainingData train = testdata::blobs(60, 5);
    QString err;
    auto spec = buildModelSpec(Architecture::Mlp, train.inputShape, 3, ModelBudget{}, {}, &err);
    ASSERT_TRUE(spec);
    auto run = [&](std::uint64_t seed) {
        Trainer t(*spec, seed);
        TrainOptions o = fastOptions(4);
        o.seed = seed;
        EXPECT_TRUE(t.fit(train, o).ok);
        return t.flatParameters();
    };
    const QVector<float> a = run(7), b = run(7), c = run(8);
    ASSERT_FALSE(a.isEmpty());
    EXPECT_EQ(a, b);
    EXPECT_NE(a, c);
}

TEST(Trainer, CancelStopsTraining)
{
    const TrainingData train = testdata::blobs(60, 5);
    QString err;
    auto spec = buildModelSpec(Architecture::Mlp, train.inputShape, 3, ModelBudget{}, {}, &err);
    Trainer t(*spec, 1);
    std::atomic<bool> cancel{false};
    TrainOptions o = fastOptions(50);
    o.cancel = &cancel;
    o.onEpoch = [&](const EpochProgress &p) {
        if (p.epoch == 2)
            cancel = true;
    };
    const TrainResult r = t.fit(train, o);
    EXPECT_FALSE(r.ok);
    EXPECT_TRUE(r.cancelled);
    EXPECT_EQ(r.epochsRun, 2);
}

TEST(Trainer, EveryZooModelExportsExactly)
{
    struct Case { Architecture kind; QVector<int> shape; };
    const Case cases[] = {{Architecture::Mlp, {1, 16, 2}},
                          {Architecture::Cnn1d, {1, 64, 3}},
                          {Architecture::Cnn2d, {12, 10, 2}},
                          {Architecture::DsCnn, {25, 10, 1}}};
    for (const Case &c : cases) {
        SCOPED_TRACE(architectureName(c.kind).toStdString());
        const TrainingData data = randomImages(c.shape, 24, 3, 17);
        QString err;
        auto spec = buildModelSpec(c.kind, c.shape, 3, ModelBudget{}, "audio", &err);
        ASSERT_TRUE(spec) << err.toStdString();
        Trainer t(*spec, 2);
        TrainOptions o = fastOptions(2);   // BatchNorm statistics move away from 0 / 1
        o.validationFraction = 0;
        ASSERT_TRUE(t.fit(data, o).ok);
        expectTorchEqualsFloatExecutor(t, data);
        // A graph feeds back into torch with the same function.
        auto back = Trainer::fromGraph(t.exportGraph(data.labels), &err);
        ASSERT_TRUE(back) << err.toStdString();
        const QVector<float> a = t.predict(data), b = back->predict(data);
        for (int k = 0; k < a.size(); ++k)
            EXPECT_FLOAT_EQ(a[k], b[k]);
    }
}

// Issue 18, item 3: batch size 1 used to skip every batch (BatchNorm needs two samples in
// training mode) and "succeed" with the untrained weights.
TEST(TrainerOptions, BatchSizeOneTrainsWithBatchNorm)
{
    struct Case { Architecture kind; QVector<int> shape; };
    // The CNN has BatchNorm (a DS-CNN has the same layers, only slower to train); the MLP none.
    const Case cases[] = {{Architecture::Mlp, {8}}, {Architecture::Cnn1d, {1, 32, 3}}};
    for (const Case &c : cases) {
        SCOPED_TRACE(architectureName(c.kind).toStdString());
        const TrainingData data = c.shape.size() == 1 ? testdata::blobs(20, 5) : randomImages(c.shape, 24, 3, 17);
        QString err;
        auto spec = buildModelSpec(c.kind, c.shape, 3, ModelBudget{}, "audio", &err);
        ASSERT_TRUE(spec) << err.toStdString();
        Trainer t(*spec, 2);
        const QVector<float> before = t.flatParameters();
        TrainOptions o = fastOptions(3);
        o.batchSize = 1;
        o.validationFraction = 0;
        const TrainResult r = t.fit(data, o);
        ASSERT_TRUE(r.ok) << r.error.toStdString();
        ASSERT_EQ(r.history.size(), 3);
        EXPECT_GT(r.history.last().loss, 0);                      // batches were seen
        EXPECT_LT(r.history.last().loss, r.history.first().loss); // and learnt from
        EXPECT_GT(r.history.last().accuracy, 0.6);                // (chance is 1/3)
        EXPECT_NE(t.flatParameters(), before);
        expectTorchEqualsFloatExecutor(t, data);    // BatchNorm export still matches
    }
}

TEST(TrainerOptions, OutOfRangeOptionsAreErrorsNotExceptions)
{
    const TrainingData train = testdata::blobs(20, 5);
    QString err;
    auto spec = buildModelSpec(Architecture::Mlp, train.inputShape, 3, ModelBudget{}, {}, &err);
    ASSERT_TRUE(spec);
    auto fit = [&](auto edit) {
        Trainer t(*spec, 1);
        TrainOptions o = fastOptions(2);
        edit(o);
        TrainResult r;
        EXPECT_NO_THROW(r = t.fit(train, o));
        EXPECT_FALSE(r.ok);
        return r.error.toStdString();
    };
    const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
    for (double lr : {nan, inf, -inf, 1e308, 0.0, -1e-3}) {
        SCOPED_TRACE(lr);
        EXPECT_NE(fit([&](TrainOptions &o) { o.learningRate = lr; }).find("learning rate"), std::string::npos);
    }
    EXPECT_NE(fit([](TrainOptions &o) { o.threads = 10000; }).find("threads 10000 is out of range"),
              std::string::npos);
    EXPECT_NE(fit([](TrainOptions &o) { o.epochs = 0; }).find("epochs"), std::string::npos);
    EXPECT_NE(fit([](TrainOptions &o) { o.batchSize = 0; }).find("batch size"), std::string::npos);
}

TEST(TrainerOptions, NonFiniteLossEndsTheRunWithAnError)
{
    TrainingData train = testdata::blobs(20, 5);
    train.x[7] = std::numeric_limits<float>::quiet_NaN();
    QString err;
    auto spec = buildModelSpec(Architecture::Mlp, train.inputShape, 3, ModelBudget{}, {}, &err);
    ASSERT_TRUE(spec);
    Trainer t(*spec, 1);
    const TrainResult r = t.fit(train, fastOptions(3));
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.toStdString().find("training diverged: the loss became NaN in epoch 1"), std::string::npos)
        << r.error.toStdString();
}

// A project whose data poisons the loss: nothing is stored as the latest model and the run is
// marked failed, not left 'running'.
TEST(TrainerOptions, DivergedProjectRunIsFailedAndStoresNoModel)
{
    QTemporaryDir dir;
    ProjectSettings settings;
    settings.name = QStringLiteral("nan");
    settings.templateName = QStringLiteral("tabular");
    settings.labels = {QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c")};
    QString err;
    auto store = ProjectStore::create(dir.filePath(QStringLiteral("p.tinyml")), settings, &err);
    ASSERT_TRUE(store) << err.toStdString();
    const TrainingData blobs = testdata::blobs(12, 5);
    QVector<Sample> samples;
    for (int i = 0; i < blobs.count(); ++i) {
        Sample s;
        s.label = blobs.labels[blobs.y[i]];
        s.split = i % 4 == 0 ? Split::Test : Split::Train;
        s.source = QStringLiteral("test");
        for (int k = 0; k < 8; ++k)
            s.channels << QStringLiteral("f%1").arg(k);
        QVector<float> x = blobs.x.mid(i * 8, 8);
        // Finite values (features no longer let inf through) whose normalisation overflows:
        // mean = -FLT_MAX / (train count), so FLT_MAX - mean is beyond float and the input is inf.
        if (i == 5)
            x[2] = std::numeric_limits<float>::max();
        if (i == 6 || i == 7)
            x[2] = -std::numeric_limits<float>::max();
        s.data = Tensor::fromFloats(x, {8});
        samples.append(s);
    }
    ASSERT_TRUE(store->addSamples(samples, &err)) << err.toStdString();
    ProjectTrainOptions opt;
    opt.train = fastOptions(2);
    auto out = trainProject(*store, opt, &err);
    ASSERT_FALSE(out.has_value());
    EXPECT_NE(err.toStdString().find("training diverged"), std::string::npos) << err.toStdString();
    EXPECT_FALSE(store->latestModel(ModelKind::Float).has_value());
    const QVector<TrainingRun> runs = store->trainingRuns();
    ASSERT_EQ(runs.size(), 1);
    EXPECT_EQ(runs[0].status, TrainingStatus::Failed);
    EXPECT_TRUE(runs[0].metrics.value(QStringLiteral("error")).toString().contains(QStringLiteral("diverged")));
}
