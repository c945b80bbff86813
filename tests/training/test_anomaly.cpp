// Anomaly models on the host (issue 16): K-means, the diagonal GMM, ROC / PR areas, the
// threshold from a false-positive-rate budget, the three score ops in the IR and the float
// executor, and the quantizer's refusal. Expected values are worked out by hand in comments.
#include <gtest/gtest.h>

#include "AnomalyMetrics.h"
#include "AnomalyModels.h"
#include "AnomalyPipeline.h"
#include "AutoencoderTrainer.h"
#include "GraphEvaluation.h"
#include "Quantizer.h"

#include "model/FloatExecutor.h"
#include "model/Graph.h"
#include "model/QuantizationMath.h"

#include <QJsonObject>

#include <atomic>
#include <cmath>
#include <random>

using namespace tinyml;
using namespace tinyml::training;
using namespace tinyml::model;

namespace {

/// n rows around each centre (Gaussian, per-dimension std sigma), in centre order.
QVector<float> blobs(const QVector<QVector<float>> &centres, int n, float sigma, std::uint64_t seed)
{
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> g(0.0f, sigma);
    QVector<float> x;
    for (const auto &c : centres)
        for (int i = 0; i < n; ++i)
            for (float v : c)
                x.append(v + g(rng));
    return x;
}

} // namespace

TEST(AnomalyKMeans, FindsPlantedClustersAndTheElbowPicksTheirNumber)
{
    const QVector<QVector<float>> centres{{0, 0}, {10, 0}, {0, 10}};
    const QVector<float> x = blobs(centres, 100, 0.5f, 7);
    auto m = fitKMeans(x, 300, 2, 3, 1);
    ASSERT_TRUE(m);
    for (const auto &c : centres) {
        double best = 1e9;
        for (int k = 0; k < 3; ++k)
            best = std::min(best, std::hypot(m->centroids[2 * k] - c[0], m->centroids[2 * k + 1] - c[1]));
        // The mean of 100 points with std 0.5 is within 0.05 * a few of the centre.
        EXPECT_LT(best, 0.25) << "centre (" << c[0] << ", " << c[1] << ")";
    }
    // Inertia ~ n * d * sigma^2 = 300 * 2 * 0.25 = 150.
    EXPECT_NEAR(m->inertia, 150, 40);
    QVector<double> inertias;
    EXPECT_EQ(chooseKMeansClusters(x, 300, 2, 8, 1, &inertias), 3);
    EXPECT_EQ(inertias.size(), 8);
    // Deterministic: the same seed, the same centroids.
    auto again = fitKMeans(x, 300, 2, 3, 1);
    EXPECT_EQ(again->centroids, m->centroids);
    // K beyond the rows is an error, not a crash.
    QString error;
    EXPECT_FALSE(fitKMeans(x.mid(0, 4), 2, 2, 3, 1, 300, &error));
    EXPECT_FALSE(error.isEmpty());
}

TEST(AnomalyGmm, EveryEmStepRaisesTheLikelihoodAndBicFindsTheComponents)
{
    // Two blobs of different spread, then EM run to the iteration cap (tolerance below 0).
    QVector<float> x = blobs({{0, 0}}, 150, 0.5f, 3) + blobs({{4, 1}}, 150, 1.5f, 4);
    auto m = fitGmm(x, 300, 2, 2, 5, 1e-3, 60, -1.0);
    ASSERT_TRUE(m);
    ASSERT_EQ(m->logLikelihoods.size(), 61);
    for (int i = 1; i < m->logLikelihoods.size(); ++i)
        EXPECT_GE(m->logLikelihoods[i], m->logLikelihoods[i - 1] - 1e-10) << "step " << i;
    EXPECT_GT(m->logLikelihoods.last(), m->logLikelihoods.first());
    double wsum = 0;
    for (double w : m->weights)
        wsum += w;
    EXPECT_NEAR(wsum, 1.0, 1e-9);
    // The wide component's variance is near 1.5^2, the narrow one's near 0.5^2.
    const int wide = m->variances[0] > m->variances[2] ? 0 : 1;
    EXPECT_NEAR(m->variances[wide * 2], 2.25, 0.6);
    EXPECT_NEAR(m->variances[(1 - wide) * 2], 0.25, 0.1);
    EXPECT_EQ(chooseGmmComponents(x, 300, 2, 6, 5), 2);
}

TEST(AnomalyGmm, HardNllBoundsTheExactNll)
{
    QVector<float> x = blobs({{0, 0, 0}, {3, 3, 0}, {0, 3, 3}}, 60, 0.8f, 9);
    auto m = fitGmm(x, 180, 3, 3, 2);
    ASSERT_TRUE(m);
    ASSERT_EQ(m->k, 3);
    std::mt19937_64 rng(11);
    std::uniform_real_distribution<float> u(-4, 7);
    for (int i = 0; i < 500; ++i) {
        const float p[3] = {u(rng), u(rng), u(rng)};
        const double hard = m->hardNll(p), exact = m->exactNll(p);
        // sum_k a_k >= max_k a_k and <= K max_k a_k, so exact <= hard <= exact + ln K.
        EXPECT_GE(hard, exact - 1e-9);
        EXPECT_LE(hard, exact + std::log(3.0) + 1e-9);
    }
}

TEST(AnomalyMetrics, RocAndPrAreasOfHandComputedCases)
{
    // Normal {0.1, 0.4, 0.5}, anomalous {0.5, 0.8, 0.9}. Of the 9 (anomalous, normal) pairs the
    // anomalous score is higher in 8 and tied in 1 (0.5 / 0.5): AUC = (8 + 0.5) / 9 = 17/18.
    // The sweep: 0.9 -> (fpr 0, tpr 1/3), 0.8 -> (0, 2/3), 0.5 -> (1/3, 1) (the tie: one
    // diagonal step), 0.4 -> (2/3, 1), 0.1 -> (1, 1).
    // AP = sum (dRecall * precision) = 1/3 * 1 + 1/3 * 1 + 1/3 * 3/4 = 11/12.
    AnomalyEvaluation e = evaluateScores({0.1, 0.4, 0.5}, {0.5, 0.8, 0.9});
    ASSERT_TRUE(e.auc && e.prAuc);
    EXPECT_NEAR(*e.auc, 17.0 / 18.0, 1e-12);
    EXPECT_NEAR(*e.prAuc, 11.0 / 12.0, 1e-12);
    ASSERT_EQ(e.curve.size(), 6);
    EXPECT_TRUE(std::isinf(e.curve.first().threshold));
    EXPECT_NEAR(e.curve[3].fpr, 1.0 / 3, 1e-12);
    EXPECT_NEAR(e.curve[3].tpr, 1.0, 1e-12);
    EXPECT_DOUBLE_EQ(e.curve[3].threshold, 0.4);   // alarms for score > 0.4 flag 0.5 and up
    EXPECT_NEAR(e.curve[3].precision, 0.75, 1e-12);

    // Perfectly separated: AUC 1, AP 1. Reversed: AUC 0, AP = 1/3 * 1/4 + 1/3 * 2/5 + 1/3 * 3/6.
    EXPECT_DOUBLE_EQ(*evaluateScores({1, 2, 3}, {4, 5, 6}).auc, 1.0);
    EXPECT_DOUBLE_EQ(*evaluateScores({1, 2, 3}, {4, 5, 6}).prAuc, 1.0);
    EXPECT_DOUBLE_EQ(*evaluateScores({4, 5, 6}, {1, 2, 3}).auc, 0.0);
    EXPECT_NEAR(*evaluateScores({4, 5, 6}, {1, 2, 3}).prAuc, (0.25 + 0.4 + 0.5) / 3, 1e-12);
    // Everything tied: one diagonal step, AUC 1/2, precision = the anomalous share (2 of 5).
    AnomalyEvaluation tied = evaluateScores({7, 7, 7}, {7, 7});
    EXPECT_DOUBLE_EQ(*tied.auc, 0.5);
    EXPECT_DOUBLE_EQ(*tied.prAuc, 0.4);

    // One class missing: no areas, no curve, but the histogram.
    AnomalyEvaluation none = evaluateScores({1, 2, 3}, {});
    EXPECT_FALSE(none.auc);
    EXPECT_FALSE(none.prAuc);
    EXPECT_TRUE(none.curve.isEmpty());
    int counted = 0;
    for (int c : none.histogram.normal)
        counted += c;
    EXPECT_EQ(counted, 3);
    EXPECT_TRUE(none.toJson().value("auc").isNull());
}

TEST(AnomalyMetrics, ThresholdMeetsTheFalsePositiveBudget)
{
    QVector<double> normal;
    for (int i = 1; i <= 100; ++i)
        normal.append(i);
    // 5 % of 100: m = 5 scores may lie above; sorted high to low the 6th is 95 (96..100 above).
    EXPECT_DOUBLE_EQ(*thresholdForFpr(normal, 0.05), 95);
    EXPECT_DOUBLE_EQ(*rateAbove(normal, 95), 0.05);
    // No false positive allowed: the highest normal score.
    EXPECT_DOUBLE_EQ(*thresholdForFpr(normal, 0.0), 100);
    EXPECT_DOUBLE_EQ(*rateAbove(normal, 100), 0.0);
    // 1 % of 300 is 3 (not 2.9999...): the 4th highest of 1..300 is 297.
    QVector<double> n300;
    for (int i = 1; i <= 300; ++i)
        n300.append(i);
    EXPECT_DOUBLE_EQ(*thresholdForFpr(n300, 0.01), 297);
    // Ties: with 10 normal scores all 1.0 any budget gives 1.0, and no score lies above it.
    EXPECT_DOUBLE_EQ(*thresholdForFpr(QVector<double>(10, 1.0), 0.5), 1.0);
    EXPECT_FALSE(thresholdForFpr({}, 0.01));
    EXPECT_FALSE(rateAbove({}, 1.0));
}

TEST(AnomalyOps, FloatExecutorMatchesTheFormulas)
{
    // K-means: centroids (0,0) and (3,4); x = (3,0): squared distances 9 and 16 -> 9.
    KMeansModel km;
    km.k = 2;
    km.d = 2;
    km.centroids = {0, 0, 3, 4};
    Graph g = kmeansGraph(km);
    FloatExecutor exec;
    QString error;
    ASSERT_TRUE(exec.prepare(g, &error)) << error.toStdString();
    EXPECT_FLOAT_EQ((*exec.run({3, 0}))[0], 9.0f);
    EXPECT_FLOAT_EQ((*exec.run({3, 4}))[0], 0.0f);

    // GMM: one component per axis-aligned Gaussian; compare with hardNll (the direct formula).
    GmmModel gm;
    gm.k = 2;
    gm.d = 2;
    gm.weights = {0.25, 0.75};
    gm.means = {0, 0, 2, -1};
    gm.variances = {1, 4, 0.5, 2};
    // Component 0 at x = (0,0): -ln 0.25 + 1/2 (ln(2 pi) + ln 1 + ln(2 pi) + ln 4) + 0.
    const double expected0 = -std::log(0.25) + 0.5 * (2 * std::log(2 * M_PI) + std::log(4.0));
    EXPECT_NEAR(gm.offsets()[0], expected0, 1e-12);
    g = gmmGraph(gm);
    ASSERT_TRUE(exec.prepare(g, &error)) << error.toStdString();
    for (const QVector<float> &x : {QVector<float>{0, 0}, QVector<float>{2, -1}, QVector<float>{1.5f, 3}}) {
        const double direct = gm.hardNll(x.constData());
        EXPECT_NEAR((*exec.run(x))[0], direct, 1e-5 * std::max(1.0, std::abs(direct)));
    }

    // SquaredError: input (1,2,3,4) against a constant-free path: reconstruction = relu(input - 2)
    // is built as Add with a constant; mean((x - relu(x - 2))^2) for x = (1,2,3,4):
    // relu(-1,0,1,2) = (0,0,1,2); differences (1,2,2,2); squares 1+4+4+4 = 13; mean 3.25.
    Graph s;
    const int in = s.addTensor(TensorDesc::activation("input", {1, 4}));
    const int minus2 = s.addTensor(TensorDesc::constantFloat("minus2", {1, 4}, {-2, -2, -2, -2}));
    const int shifted = s.addTensor(TensorDesc::activation("shifted", {1, 4}));
    const int out = s.addTensor(TensorDesc::activation("anomaly_score", {1, 1}));
    Node add;
    add.op = OpType::Add;
    add.name = "shift";
    add.activation = Activation::Relu;
    add.inputs = {in, minus2};
    add.outputs = {shifted};
    s.addNode(add);
    Node se;
    se.op = OpType::SquaredError;
    se.name = "error";
    se.inputs = {shifted, in};
    se.outputs = {out};
    s.addNode(se);
    s.inputs = {in};
    s.outputs = {out};
    ASSERT_TRUE(exec.prepare(s, &error)) << error.toStdString();
    EXPECT_FLOAT_EQ((*exec.run({1, 2, 3, 4}))[0], 3.25f);
}

TEST(AnomalyOps, GraphRoundTripAndShapeErrors)
{
    GmmModel gm;
    gm.k = 3;
    gm.d = 2;
    gm.weights = {0.2, 0.3, 0.5};
    gm.means = {0, 0, 1, 1, -1, 2};
    gm.variances = {1, 1, 2, 0.5, 1, 3};
    Graph g = gmmGraph(gm);
    QString error;
    ASSERT_TRUE(g.inferShapes(&error)) << error.toStdString();
    const QByteArray bytes = g.serialize();
    auto back = Graph::deserialize(bytes, &error);
    ASSERT_TRUE(back) << error.toStdString();
    EXPECT_EQ(back->serialize(), bytes);
    ASSERT_EQ(back->nodes.size(), 1);
    EXPECT_EQ(back->nodes[0].op, OpType::GmmScore);
    EXPECT_EQ(opName(OpType::GmmScore), "gmm_score");
    for (OpType op : {OpType::KMeansScore, OpType::GmmScore, OpType::SquaredError}) {
        EXPECT_EQ(opFromName(opName(op)), op);
        EXPECT_TRUE(isAnomalyScoreOp(op));
    }
    EXPECT_FALSE(isAnomalyScoreOp(OpType::Softmax));

    // An op code past the last one is refused by number.
    QByteArray bad = bytes;
    const int opAt = bad.indexOf(QByteArray("gmm_score")) - 8;   // u32 op, then str length
    ASSERT_GT(opAt, 0);
    bad[opAt] = char(int(kLastOpType) + 1);
    EXPECT_FALSE(Graph::deserialize(bad, &error));
    EXPECT_TRUE(error.contains("op 17 unknown")) << error.toStdString();

    // Offsets of the wrong length, centroids of the wrong width: errors name the tensor.
    Graph wrong = g;
    wrong.tensors[wrong.tensorIndex("offsets")] = TensorDesc::constantFloat("offsets", {2}, {1, 2});
    EXPECT_FALSE(wrong.validate(&error));
    EXPECT_TRUE(error.contains("offsets")) << error.toStdString();
    KMeansModel km;
    km.k = 1;
    km.d = 2;
    km.centroids = {0, 0};
    Graph k = kmeansGraph(km);
    k.tensors[k.tensorIndex("centroids")] = TensorDesc::constantFloat("centroids", {1, 3}, {0, 0, 0});
    EXPECT_FALSE(k.validate(&error));
    EXPECT_TRUE(error.contains("centroids") && error.contains("[K,2]")) << error.toStdString();
}

TEST(AnomalyOps, QuantizedScoresFollowTheFloatScores)
{
    // K-means (K = 2) and a 2-component GMM on 3 features; calibration on normal rows; the int8
    // score (dequantized) tracks the float one, and the int8 tables follow Graph.h's rules.
    std::mt19937_64 rng(7);
    std::normal_distribution<float> g(0, 1);
    TrainingData calib;
    calib.inputShape = {3};
    calib.labels = {"normal"};
    for (int i = 0; i < 200; ++i) {
        for (int f = 0; f < 3; ++f)
            calib.x.append(g(rng) + (i % 2 ? 1.5f : -1.5f));
        calib.y.append(0);
    }
    KMeansModel km;
    km.k = 2;
    km.d = 3;
    km.centroids = {-1.5, -1.5, -1.5, 1.5, 1.5, 1.5};
    auto gm = fitGmm(calib.x, 200, 3, 2, 1);
    ASSERT_TRUE(gm);
    for (const Graph &fg : {kmeansGraph(km), gmmGraph(*gm)}) {
        Graph f = fg;
        f.tensors[f.inputs[0]].shape = {1, 3};
        QString error;
        ASSERT_TRUE(f.inferShapes(&error)) << error.toStdString();
        auto q = quantizeGraph(f, calib, {}, &error);
        ASSERT_TRUE(q) << error.toStdString();
        SCOPED_TRACE(model::opName(q->nodes.last().op).toStdString());
        EXPECT_TRUE(q->quantized);
        EXPECT_EQ(q->tensors[q->nodes.last().inputs[1]].dtype, DType::Int32);
        EXPECT_TRUE(q->meta.value("quantization").toObject().contains("anomaly_headroom"));
        auto fs = runGraph(f, calib, &error);
        auto qs = runGraph(*q, calib, &error);
        ASSERT_TRUE(fs && qs) << error.toStdString();
        const QuantParams yq{q->tensors[q->outputs[0]].scales[0], q->tensors[q->outputs[0]].zeroPoints[0]};
        double fmax = 0;
        for (float v : *fs)
            fmax = std::max(fmax, double(v));
        // Inside the calibrated range the int8 score is the float one to within a few output steps
        // (the input's own rounding moves the distance a little).
        for (int i = 0; i < fs->size(); ++i)
            EXPECT_NEAR((*qs)[i], (*fs)[i], 3.0 * yq.scale + 0.05 * std::abs((*fs)[i])) << i;
        // The score range holds twice the normal calibration scores' range (headroom).
        EXPECT_GE(double(yq.scale) * (127 - yq.zeroPoint), 1.9 * fmax);
    }
}

TEST(AnomalyPipeline, KMeansAndGmmSeparateAShiftedBlob)
{
    // 6 features; normal ~ N(0, 1); anomalies shifted by 2 in three features.
    auto make = [](int normal, int anomalous, std::uint64_t seed) {
        TrainingData d;
        d.inputShape = {6};
        d.labels = {"normal", "fault"};
        std::mt19937_64 rng(seed);
        std::normal_distribution<float> g(0, 1);
        for (int i = 0; i < normal + anomalous; ++i) {
            const bool a = i >= normal;
            for (int f = 0; f < 6; ++f)
                d.x.append(g(rng) + (a && f < 3 ? 2.0f : 0.0f));
            d.y.append(a ? 1 : 0);
        }
        return d;
    };
    const TrainingData train = make(300, 60, 1), test = make(100, 40, 2);
    for (AnomalyModelKind kind : {AnomalyModelKind::KMeans, AnomalyModelKind::Gmm}) {
        SCOPED_TRACE(anomalyModelName(kind).toStdString());
        AnomalyTrainOptions o;
        o.kind = kind;
        o.normalLabels = {"normal"};
        o.maxFpr = 0.05;
        QString error;
        auto out = trainAnomalyModel(train, test, {true, false}, o, &error);
        ASSERT_TRUE(out) << error.toStdString();
        // Fitted on the normal train rows only: 300 minus the 15 % validation hold-out.
        EXPECT_EQ(out->trainNormal + out->validationNormal, 300);
        EXPECT_EQ(out->validationNormal, 45);
        EXPECT_EQ(out->testNormal, 100);
        EXPECT_EQ(out->testAnomalous, 40);
        ASSERT_TRUE(out->test.auc);
        EXPECT_GE(*out->test.auc, 0.95);
        EXPECT_EQ(out->thresholdSource, "test");
        ASSERT_TRUE(out->fpr);
        EXPECT_LE(*out->fpr, 0.05);
        EXPECT_EQ(out->anomalyLabels, QStringList{"fault"});
        // One anomalous label: its own AUC is the overall one.
        ASSERT_EQ(out->perLabel.size(), 1);
        EXPECT_EQ(out->perLabel[0].label, "fault");
        EXPECT_EQ(out->perLabel[0].count, 40);
        EXPECT_DOUBLE_EQ(*out->perLabel[0].auc, *out->test.auc);
        EXPECT_EQ(out->graph.meta.value("task").toString(), "anomaly");
        EXPECT_EQ(out->graph.labels, QStringList{"anomaly_score"});
        EXPECT_TRUE(isAnomalyGraph(out->graph));
    }

    // A test split with normal samples only: no AUC, a warning, the threshold still set.
    TrainingData normalOnly = make(50, 0, 3);
    AnomalyTrainOptions o;
    o.normalLabels = {"normal"};
    QString error;
    auto out = trainAnomalyModel(train, normalOnly, {true, false}, o, &error);
    ASSERT_TRUE(out) << error.toStdString();
    EXPECT_FALSE(out->test.auc);
    EXPECT_FALSE(out->tpr);
    EXPECT_TRUE(out->toJson().value("auc").isNull());
    EXPECT_FALSE(out->warnings.filter("AUC is undefined").isEmpty());

    // No test normals: the threshold comes from the validation hold-out, said in a warning.
    TrainingData anomalousOnly = make(0, 20, 4);
    out = trainAnomalyModel(train, anomalousOnly, {true, false}, o, &error);
    ASSERT_TRUE(out) << error.toStdString();
    EXPECT_EQ(out->thresholdSource, "validation");
    EXPECT_FALSE(out->fpr);
    EXPECT_FALSE(out->warnings.isEmpty());

    // No normal train rows: an error naming the label.
    EXPECT_FALSE(trainAnomalyModel(make(0, 20, 5), test, {true, false}, o, &error));
    EXPECT_TRUE(error.contains("normal")) << error.toStdString();
}

TEST(AnomalyPipeline, AFalseAlarmBudgetPerHourBecomesARateThroughTheStreamsWindows)
{
    auto make = [](int normal, int anomalous, std::uint64_t seed) {
        TrainingData d;
        d.inputShape = {4};
        d.labels = {"normal", "fault"};
        std::mt19937_64 rng(seed);
        std::normal_distribution<float> g(0, 1);
        for (int i = 0; i < normal + anomalous; ++i) {
            for (int f = 0; f < 4; ++f)
                d.x.append(g(rng) + (i >= normal && f < 2 ? 1.5f : 0.0f));
            d.y.append(i >= normal ? 1 : 0);
        }
        return d;
    };
    const TrainingData train = make(200, 0, 3), test = make(100, 30, 4);
    AnomalyTrainOptions o;
    o.kind = AnomalyModelKind::KMeans;
    o.clusters = 1;
    o.normalLabels = {"normal"};
    // 7200 windows per hour (100 Hz, stride 50): 360 alarms per hour is a rate of 5 %.
    int calls = 0;
    o.streamRate = [&](const tinyml::model::Graph &graph, QString *) {
        ++calls;
        EXPECT_EQ(graph.tensors[graph.inputs[0]].elementCount(), 4);
        return std::optional<StreamWindowRate>(StreamWindowRate{7200.0, "100 Hz / stride 50"});
    };
    o.maxFalseAlarmsPerHour = 360;
    QString error;
    auto out = trainAnomalyModel(train, test, {true, false}, o, &error);
    ASSERT_TRUE(out) << error.toStdString();
    EXPECT_EQ(calls, 1);
    ASSERT_TRUE(out->fpr);
    // The same threshold as a 5 % rate budget: 5 of the 100 normal test scores above it.
    EXPECT_DOUBLE_EQ(*out->fpr, 0.05);
    ASSERT_TRUE(out->falseAlarmsPerHour());
    EXPECT_DOUBLE_EQ(*out->falseAlarmsPerHour(), 360.0);
    AnomalyTrainOptions byRate = o;
    byRate.maxFalseAlarmsPerHour.reset();
    byRate.maxFpr = 0.05;
    auto same = trainAnomalyModel(train, test, {true, false}, byRate, &error);
    ASSERT_TRUE(same) << error.toStdString();
    EXPECT_DOUBLE_EQ(same->threshold, out->threshold);
    EXPECT_TRUE(out->thresholdRule.contains("false alarms/hour<=360")) << out->thresholdRule.toStdString();
    const QJsonObject j = out->toJson();
    EXPECT_DOUBLE_EQ(j["false_alarms_per_hour"].toDouble(), 360.0);
    EXPECT_DOUBLE_EQ(j["max_false_alarms_per_hour"].toDouble(), 360.0);
    EXPECT_DOUBLE_EQ(j["stream"].toObject()["windows_per_hour"].toDouble(), 7200.0);
    const QJsonObject meta = out->graph.meta.value("stream").toObject();
    EXPECT_DOUBLE_EQ(meta["false_alarms_per_hour"].toDouble(), 360.0);
    EXPECT_DOUBLE_EQ(out->graph.meta.value("max_false_alarms_per_hour").toDouble(), 360.0);
    EXPECT_TRUE(out->warnings.isEmpty()) << out->warnings.join("; ").toStdString();

    // A budget under one test sample's share cannot be verified: said in a warning.
    o.maxFalseAlarmsPerHour = 36;   // 0.5 % of 100 samples
    out = trainAnomalyModel(train, test, {true, false}, o, &error);
    ASSERT_TRUE(out) << error.toStdString();
    EXPECT_DOUBLE_EQ(*out->fpr, 0.0);
    ASSERT_EQ(out->warnings.size(), 1);
    EXPECT_TRUE(out->warnings[0].contains("not verified")) << out->warnings[0].toStdString();

    // No stream: the per-hour budget is refused with the reason; a rate budget still works.
    o.streamRate = [](const tinyml::model::Graph &, QString *why) {
        *why = "the raw block has windowFrames 0";
        return std::optional<StreamWindowRate>();
    };
    EXPECT_FALSE(trainAnomalyModel(train, test, {true, false}, o, &error));
    EXPECT_TRUE(error.contains("windowFrames 0")) << error.toStdString();
    o.maxFalseAlarmsPerHour = -1;
    EXPECT_FALSE(trainAnomalyModel(train, test, {true, false}, o, &error));
    EXPECT_TRUE(error.contains("must be a finite number")) << error.toStdString();
    o.maxFalseAlarmsPerHour.reset();
    out = trainAnomalyModel(train, test, {true, false}, o, &error);
    ASSERT_TRUE(out) << error.toStdString();
    EXPECT_FALSE(out->falseAlarmsPerHour());
    EXPECT_EQ(out->toJson()["stream"].toObject()["none"].toString(), "the raw block has windowFrames 0");
}

TEST(AnomalyPipeline, ConvAutoencoderLearnsSmoothSpectraAndQuantizes)
{
    // 32 features that vary smoothly along the feature axis (two slow cosines of random amplitude
    // and phase, like neighbouring spectral bands); the anomalies add a ripple that alternates from
    // feature to feature over 8 of them. The conv encoder shares its weights along the axis.
    const int d = 32;
    std::mt19937_64 rng(31);
    std::normal_distribution<float> g(0, 1);
    std::uniform_real_distribution<float> u(0, 2 * float(M_PI));
    auto make = [&](int normal, int anomalous) {
        TrainingData data;
        data.inputShape = {d};
        data.labels = {"normal", "ripple"};
        for (int i = 0; i < normal + anomalous; ++i) {
            const float a = g(rng), b = g(rng), p = u(rng), q = u(rng);
            const int at = int(u(rng) / (2 * float(M_PI)) * (d - 8));
            for (int f = 0; f < d; ++f) {
                float v = a * std::cos(2 * float(M_PI) * f / d + p) + 0.7f * b * std::cos(4 * float(M_PI) * f / d + q)
                          + 0.05f * g(rng);
                if (i >= normal && f >= at && f < at + 8)
                    v += (f % 2 ? 0.6f : -0.6f);
                data.x.append(v);
            }
            data.y.append(i >= normal ? 1 : 0);
        }
        return data;
    };
    const TrainingData train = make(500, 0), test = make(100, 40);
    AnomalyTrainOptions o;
    o.kind = AnomalyModelKind::ConvAutoencoder;
    o.normalLabels = {"normal"};
    o.train.epochs = 120;
    o.train.patience = 15;
    o.train.seed = 2;
    QString error;
    auto ae = trainAnomalyModel(train, test, {true, false}, o, &error);
    ASSERT_TRUE(ae) << error.toStdString();
    EXPECT_EQ(anomalyModelName(ae->kind), "conv-autoencoder");
    ASSERT_TRUE(ae->test.auc);
    EXPECT_GE(*ae->test.auc, 0.9);
    // Reshape [1,1,32,1] -> conv 1x3 stride 2 (8 ch, 16 positions) -> conv (16 ch, 8 positions)
    // -> FC 128 -> 8 -> FC 64 -> FC 32 -> SquaredError against the input.
    const Graph &g0 = ae->graph;
    EXPECT_EQ(g0.meta.value("autoencoder").toObject().value("encoder").toString(), "conv1d");
    ASSERT_GE(g0.nodes.size(), 5);
    EXPECT_EQ(g0.nodes[0].op, OpType::Reshape);
    EXPECT_EQ(g0.nodes[1].op, OpType::Conv2D);
    EXPECT_EQ(g0.nodes[1].strideW, 2);
    EXPECT_EQ(g0.tensors[g0.nodes[3].outputs[0]].shape, (QVector<int>{1, 1, 8, 16}));
    EXPECT_EQ(g0.nodes.last().op, OpType::SquaredError);
    EXPECT_EQ(g0.nodes.last().inputs[1], g0.inputs[0]);
    const AutoencoderShape shape = AutoencoderShape::forInput(d, 0, true);
    EXPECT_EQ(shape.convLength2(), 8);
    EXPECT_EQ(g0.parameterCount(), shape.parameterCount());
    // The exported graph computes what torch trained: its mean score on normal rows is the
    // order of the best epoch's validation loss (the same MSE, on other normal rows).
    auto trainScores = runGraph(g0, train, &error);
    ASSERT_TRUE(trainScores) << error.toStdString();
    double mean = 0;
    for (float v : *trainScores)
        mean += v / trainScores->size();
    const double best = ae->train.history[ae->train.bestEpoch - 1].valLoss;
    EXPECT_NEAR(mean, best, 0.3 * best) << "graph " << mean << " torch " << best;

    // int8 with the existing kernels: the int8 scores keep the AUC.
    auto q = quantizeGraph(g0, train, {}, &error);
    ASSERT_TRUE(q) << error.toStdString();
    auto qs = runGraph(*q, test, &error);
    ASSERT_TRUE(qs) << error.toStdString();
    QVector<double> qn, qa;
    for (int i = 0; i < test.count(); ++i)
        (test.y[i] ? qa : qn).append((*qs)[i]);
    const AnomalyEvaluation qe = evaluateScores(qn, qa);
    ASSERT_TRUE(qe.auc);
    EXPECT_GE(*qe.auc, *ae->test.auc - 0.05) << "int8 " << *qe.auc << " float " << *ae->test.auc;
    RecordProperty("float_auc", QString::number(*ae->test.auc, 'f', 4).toStdString());
    RecordProperty("int8_auc", QString::number(*qe.auc, 'f', 4).toStdString());
    RecordProperty("graph_mean_score_vs_torch_val_loss",
                   QStringLiteral("%1 / %2").arg(mean, 0, 'g', 4).arg(best, 0, 'g', 4).toStdString());
}

TEST(AnomalyPipeline, AutoencoderLearnsCorrelationsThatDistancesMiss)
{
    // 8 features driven by 2 latent factors plus a little noise; the anomalies flip the sign of
    // two features, which keeps every feature's distribution but breaks the correlations. A
    // distance to the normal mean barely sees it; the reconstruction error does.
    std::mt19937_64 rng(21);
    std::normal_distribution<float> g(0, 1);
    float w[8][2];
    for (auto &row : w)
        for (float &v : row)
            v = g(rng);
    auto make = [&](int normal, int anomalous) {
        TrainingData d;
        d.inputShape = {8};
        d.labels = {"normal", "broken"};
        for (int i = 0; i < normal + anomalous; ++i) {
            const float z0 = g(rng), z1 = g(rng);
            for (int f = 0; f < 8; ++f) {
                float v = w[f][0] * z0 + w[f][1] * z1 + 0.1f * g(rng);
                d.x.append(i >= normal && (f == 0 || f == 5) ? -v : v);
            }
            d.y.append(i >= normal ? 1 : 0);
        }
        return d;
    };
    const TrainingData train = make(400, 0), test = make(100, 40);
    AnomalyTrainOptions o;
    o.kind = AnomalyModelKind::Autoencoder;
    o.normalLabels = {"normal"};
    o.train.epochs = 150;
    o.train.patience = 15;
    o.train.seed = 4;
    int epochsSeen = 0;
    o.train.onEpoch = [&](const EpochProgress &p) { epochsSeen = p.epoch; };
    QString error;
    auto ae = trainAnomalyModel(train, test, {true, false}, o, &error);
    ASSERT_TRUE(ae) << error.toStdString();
    EXPECT_EQ(epochsSeen, ae->train.epochsRun);
    EXPECT_GT(ae->train.bestEpoch, 0);
    EXPECT_LT(ae->train.history[ae->train.bestEpoch - 1].valLoss, ae->train.history.first().valLoss);
    ASSERT_TRUE(ae->test.auc);
    EXPECT_GE(*ae->test.auc, 0.9);
    // Shape rule: H = max(16, 2 D) = 16, B = D / 4 = 2; the graph ends in SquaredError.
    const QJsonObject shape = ae->graph.meta.value("autoencoder").toObject();
    EXPECT_EQ(shape.value("hidden").toInt(), 16);
    EXPECT_EQ(shape.value("bottleneck").toInt(), 2);
    EXPECT_EQ(ae->graph.nodes.last().op, OpType::SquaredError);
    EXPECT_EQ(ae->graph.nodes.last().inputs[1], ae->graph.inputs[0]);
    // A budget narrows the hidden layers: D = 2000 gives H = 128 (about 0.5 MB of int8 weights),
    // 64 KiB allows H = 8 (2 x 2000 x 8 plus the rest), 16 KiB nothing (H stays at its floor 8).
    EXPECT_EQ(AutoencoderShape::forInput(2000).hidden, 128);
    EXPECT_EQ(AutoencoderShape::forInput(2000, 64 * 1024).hidden, 8);
    EXPECT_LE(AutoencoderShape::forInput(2000, 64 * 1024).int8WeightBytes(), 64 * 1024);
    EXPECT_GT(AutoencoderShape::forInput(2000, 16 * 1024).int8WeightBytes(), 16 * 1024);
    AnomalyTrainOptions tight = o;
    tight.maxWeightBytes = 100;
    EXPECT_FALSE(trainAnomalyModel(train, test, {true, false}, tight, &error));
    EXPECT_TRUE(error.contains("budget of 100 bytes")) << error.toStdString();

    o.kind = AnomalyModelKind::KMeans;
    o.clusters = 1;
    auto km = trainAnomalyModel(train, test, {true, false}, o, &error);
    ASSERT_TRUE(km) << error.toStdString();
    EXPECT_LT(*km->test.auc, *ae->test.auc - 0.1);

    // Same seed, same weights; a set cancel flag ends the run as cancelled.
    o.kind = AnomalyModelKind::Autoencoder;
    o.train.epochs = 3;
    AutoencoderResult a = trainAutoencoder(train.x, {}, AutoencoderShape::forInput(8), o.train), b = trainAutoencoder(train.x, {}, AutoencoderShape::forInput(8), o.train);
    ASSERT_TRUE(a.train.ok && b.train.ok) << a.train.error.toStdString();
    EXPECT_EQ(a.graph.serialize(), b.graph.serialize());
    std::atomic<bool> cancel{true};
    o.train.cancel = &cancel;
    AutoencoderResult c = trainAutoencoder(train.x, {}, AutoencoderShape::forInput(8), o.train);
    EXPECT_FALSE(c.train.ok);
    EXPECT_TRUE(c.train.cancelled);
    o.train.cancel = nullptr;
    o.train.learningRate = std::nan("");
    EXPECT_FALSE(trainAutoencoder(train.x, {}, AutoencoderShape::forInput(8), o.train).train.ok);
}
