// Motion gestures from the firmware's accelerometer simulator (the virtual board's generator):
// spectral features through core's FeatureExtractor (the C DSP) + MLP, and raw windows + 1-D
// CNN, both learnt to >= 0.9 with int8 (Int8Executor, the firmware kernels) within one
// percentage point of float; quantization-aware fine-tuning keeps the accuracy.
#include "TrainingTestData.h"

#include "GraphEvaluation.h"
#include "ModelZoo.h"
#include "Trainer.h"
#include "TrainingPipeline.h"

#include "features/FeatureExtractor.h"

#include <gtest/gtest.h>

using namespace tinyml;
using namespace tinyml::training;

namespace {

constexpr int kFrames = 200;   // 2 s at 100 Hz

struct MotionSet {
    QVector<Sample> train, test;
};

const MotionSet &motion()
{
    static const MotionSet set{testdata::motionSamples(40, kFrames, 1, Split::Train),
                               testdata::motionSamples(15, kFrames, 2, Split::Test)};
    return set;
}

TrainingData spectral(const QVector<Sample> &samples)
{
    features::FeatureParams p;
    p.kind = features::BlockKind::Spectral;
    p.spectral.windowFrames = kFrames;
    p.spectral.sampleRateHz = 100;
    features::FeatureExtractor ex(p);
    TrainingData d;
    d.labels = testdata::motionLabels();
    for (const Sample &s : samples) {
        QString err;
        auto t = ex.extract(s, &err);
        EXPECT_TRUE(t) << err.toStdString();
        if (!t)
            continue;
        d.inputShape = {int(t->elementCount())};
        d.x += t->toFloats();
        d.y.append(testdata::motionLabels().indexOf(s.label));
    }
    return d;
}

void normalise(TrainingData &train, TrainingData &test)
{
    QVector<float> mean, std;
    elementStats(train, &mean, &std);
    normalizeElements(train, mean, std);
    normalizeElements(test, mean, std);
}

struct Outcome {
    double floatAcc = 0, int8Acc = 0;
};

Outcome trainAndQuantize(Architecture kind, TrainingData train, TrainingData test, int epochs, const char *tag,
                         std::unique_ptr<Trainer> *keep = nullptr)
{
    normalise(train, test);
    QString err;
    auto spec = buildModelSpec(kind, train.inputShape, train.classCount(), ModelBudget{}, "motion", &err);
    EXPECT_TRUE(spec) << err.toStdString();
    auto trainer = std::make_unique<Trainer>(*spec, 1);
    TrainOptions o;
    o.epochs = epochs;
    o.seed = 1;
    const TrainResult r = trainer->fit(train, o);
    EXPECT_TRUE(r.ok) << r.error.toStdString();
    ProjectQuantizeOptions qo;
    qo.qatThreshold = -1;
    auto q = quantizeModel(trainer->exportGraph(train.labels), train, test, qo, &err);
    EXPECT_TRUE(q) << err.toStdString();
    if (!q)
        return {};
    std::printf("[%s] %d epochs (%.3f s/epoch)  float %.4f  int8 %.4f  weights %lld -> %lld bytes\n", tag,
                r.epochsRun, r.secondsPerEpoch, q->floatTest.accuracy, q->int8Test.accuracy, q->floatWeightBytes,
                q->int8WeightBytes);
    for (const LayerSqnr &l : q->sqnr)
        std::printf("    %-22s %-18s %6.1f dB\n", qPrintable(l.node), qPrintable(l.op), l.sqnrDb);
    if (keep)
        *keep = std::move(trainer);
    return {q->floatTest.accuracy, q->int8Test.accuracy};
}

} // namespace

TEST(Motion, SpectralFeaturesMlp)
{
    const Outcome o = trainAndQuantize(Architecture::Mlp, spectral(motion().train), spectral(motion().test), 60,
                                       "motion spectral mlp");
    EXPECT_GE(o.floatAcc, 0.9);
    EXPECT_GE(o.int8Acc, o.floatAcc - 0.01);
}

TEST(Motion, RawWindowsCnn1dAndQat)
{
    TrainingData train = testdata::motionSequences(motion().train), test = testdata::motionSequences(motion().test);
    std::unique_ptr<Trainer> trainer;
    const Outcome o = trainAndQuantize(Architecture::Cnn1d, train, test, 25, "motion raw cnn1d", &trainer);
    EXPECT_GE(o.floatAcc, 0.9);
    EXPECT_GE(o.int8Acc, o.floatAcc - 0.01);
    ASSERT_TRUE(trainer);

    // QAT: BN folded, fake-quant fine-tuning, re-quantized; accuracy holds.
    normalise(train, test);
    TrainOptions to;
    to.seed = 2;
    QatOptions qat;
    qat.epochs = 2;
    const TrainResult r = trainer->fineTuneQuantAware(train, to, qat);
    ASSERT_TRUE(r.ok) << r.error.toStdString();
    const model::Graph folded = trainer->exportGraph(train.labels);
    for (const model::Node &n : folded.nodes)
        EXPECT_NE(n.op, model::OpType::BatchNorm);
    QString err;
    auto q = quantizeGraph(folded, train, QuantizeOptions{}, &err);
    ASSERT_TRUE(q) << err.toStdString();
    auto m = evaluateGraph(*q, test, &err);
    ASSERT_TRUE(m) << err.toStdString();
    std::printf("[motion raw cnn1d] after QAT int8 %.4f\n", m->accuracy);
    EXPECT_GE(m->accuracy, 0.9);
}
