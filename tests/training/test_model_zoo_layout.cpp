// The zoo models' parameters by name and shape, written out by hand. Stored models, ONNX
// export and quantization find tensors by these names ("l<layer index>.<field>"), so a
// change to how ModelZoo assembles its layers that renames, reorders or reshapes anything
// fails here. Names and shapes are read from the exported float graph, whose constants
// are the libtorch module tensors in registration order (weights in the IR's layout:
// conv [O, KH, KW, I], depthwise [1, KH, KW, C], dense [out, in]).
#include "ModelZoo.h"
#include "Trainer.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

using namespace tinyml;
using namespace tinyml::training;

namespace {

using Param = std::pair<std::string, std::vector<int>>;

std::vector<Param> exportedParameters(const Trainer &trainer)
{
    const model::Graph g = trainer.exportGraph({QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c"),
                                                QStringLiteral("d")});
    std::vector<Param> out;
    for (const model::TensorDesc &t : g.tensors)
        if (!t.data.isEmpty())
            out.emplace_back(t.name.toStdString(), std::vector<int>(t.shape.begin(), t.shape.end()));
    return out;
}

std::vector<std::string> layerKinds(const ModelSpec &spec)
{
    std::vector<std::string> out;
    for (const LayerSpec &l : spec.layers)
        out.push_back(layerKindName(l.kind).toStdString());
    return out;
}

/// "l<layer>.weight" of the given shape and "l<layer>.bias" of `bias` values.
std::vector<Param> weighted(int layer, std::vector<int> weight, int bias)
{
    const std::string p = "l" + std::to_string(layer);
    return {{p + ".weight", std::move(weight)}, {p + ".bias", {bias}}};
}

std::vector<Param> batchNorm(int layer, int channels)
{
    const std::string p = "l" + std::to_string(layer);
    return {{p + ".gamma", {channels}}, {p + ".beta", {channels}}, {p + ".mean", {channels}}, {p + ".var", {channels}}};
}

std::vector<Param> concat(std::initializer_list<std::vector<Param>> parts)
{
    std::vector<Param> out;
    for (const auto &p : parts)
        out.insert(out.end(), p.begin(), p.end());
    return out;
}

} // namespace

TEST(ModelZooLayout, DsCnnParametersByName)
{
    QString err;
    auto spec = buildModelSpec(Architecture::DsCnn, {49, 10, 1}, 4, ModelBudget{}, "audio", &err);
    ASSERT_TRUE(spec) << err.toStdString();

    const std::vector<std::string> kinds = {
        "conv2d", "batch_norm", "relu",
        "depthwise_conv2d", "batch_norm", "relu", "conv2d", "batch_norm", "relu",
        "depthwise_conv2d", "batch_norm", "relu", "conv2d", "batch_norm", "relu",
        "depthwise_conv2d", "batch_norm", "relu", "conv2d", "batch_norm", "relu",
        "depthwise_conv2d", "batch_norm", "relu", "conv2d", "batch_norm", "relu",
        "global_avg_pool", "dropout", "dense"};
    EXPECT_EQ(layerKinds(*spec), kinds);

    // 10x4 kernel, stride 2x2 (49 frames >= 20, 10 coefficients >= 8), padding 4x1.
    const LayerSpec &first = spec->layers[0];
    EXPECT_EQ(std::vector<int>({first.kernelH, first.kernelW, first.strideH, first.strideW, first.padH, first.padW}),
              std::vector<int>({10, 4, 2, 2, 4, 1}));

    std::vector<Param> expected = concat({weighted(0, {64, 10, 4, 1}, 64), batchNorm(1, 64)});
    // Four blocks of six layers from layer 3: depthwise, BN, ReLU, pointwise, BN, ReLU.
    for (int b : {3, 9, 15, 21})
        expected = concat({expected, weighted(b, {1, 3, 3, 64}, 64), batchNorm(b + 1, 64),
                           weighted(b + 3, {64, 1, 1, 64}, 64), batchNorm(b + 4, 64)});
    expected = concat({expected, weighted(29, {4, 64}, 4)});

    Trainer trainer(*spec, 1);
    EXPECT_EQ(exportedParameters(trainer), expected);
    // Sizes by hand: conv 10*4*64 + 64; per block depthwise 9*64 + 64 and pointwise
    // 64*64 + 64; 9 batch norms of 2*64 trainable values; dense 64*4 + 4.
    EXPECT_EQ(spec->parameterCount(), 2624 + 4 * (640 + 4160) + 9 * 128 + 260);
    EXPECT_EQ(spec->int8WeightBytes(), (2560 + 256) + 4 * ((576 + 256) + (4096 + 256)) + (256 + 16));
    // Output 24x5x64 everywhere before the pooling.
    EXPECT_EQ(spec->macs(), 24 * 5 * 64 * 40 + 4 * (24 * 5 * 64 * 9 + 24 * 5 * 64 * 64) + 64 * 4);
    EXPECT_EQ(spec->int8ActivationBytes(), 2 * 24 * 5 * 64);
    // Parameters plus the batch norms' running mean and variance, in registration order.
    EXPECT_EQ(trainer.flatParameters().size(), 23236 + 9 * 128);
}

TEST(ModelZooLayout, Cnn1dParametersByName)
{
    QString err;
    auto spec = buildModelSpec(Architecture::Cnn1d, {1, 128, 3}, 4, ModelBudget{}, "motion", &err);
    ASSERT_TRUE(spec) << err.toStdString();

    const std::vector<std::string> kinds = {
        "conv2d", "batch_norm", "relu", "max_pool",
        "conv2d", "batch_norm", "relu", "max_pool",
        "conv2d", "batch_norm", "relu",
        "global_avg_pool", "dropout", "dense"};
    EXPECT_EQ(layerKinds(*spec), kinds);
    // 128 samples < 256: the first convolution is not strided.
    EXPECT_EQ(spec->layers[0].strideW, 1);

    const std::vector<Param> expected =
        concat({weighted(0, {16, 1, 5, 3}, 16), batchNorm(1, 16), weighted(4, {32, 1, 5, 16}, 32), batchNorm(5, 32),
                weighted(8, {32, 1, 3, 32}, 32), batchNorm(9, 32), weighted(13, {4, 32}, 4)});

    Trainer trainer(*spec, 1);
    EXPECT_EQ(exportedParameters(trainer), expected);
    EXPECT_EQ(spec->parameterCount(), (240 + 16) + 32 + (2560 + 32) + 64 + (3072 + 32) + 64 + (128 + 4));
    EXPECT_EQ(spec->int8WeightBytes(), (240 + 64) + (2560 + 128) + (3072 + 128) + (128 + 16));
    EXPECT_EQ(spec->macs(), 128 * 16 * 15 + 64 * 32 * 80 + 32 * 32 * 96 + 128);
    EXPECT_EQ(spec->int8ActivationBytes(), 2 * 128 * 16);
    EXPECT_EQ(trainer.flatParameters().size(), 6244 + 2 * (16 + 32 + 32));

    // Long windows: the first convolution strides by 2 so activations stay in the arena.
    auto longSpec = buildModelSpec(Architecture::Cnn1d, {1, 256, 3}, 4, ModelBudget{}, "motion", &err);
    ASSERT_TRUE(longSpec) << err.toStdString();
    EXPECT_EQ(longSpec->layers[0].strideW, 2);
}

TEST(ModelZooLayout, Cnn2dAndMlpParametersByName)
{
    QString err;
    auto cnn = buildModelSpec(Architecture::Cnn2d, {32, 32, 1}, 4, ModelBudget{}, "image", &err);
    ASSERT_TRUE(cnn) << err.toStdString();
    EXPECT_EQ(layerKinds(*cnn), std::vector<std::string>({"conv2d", "batch_norm", "relu", "max_pool", "conv2d",
                                                          "batch_norm", "relu", "max_pool", "conv2d", "batch_norm",
                                                          "relu", "global_avg_pool", "dropout", "dense"}));
    const std::vector<Param> expected =
        concat({weighted(0, {16, 3, 3, 1}, 16), batchNorm(1, 16), weighted(4, {32, 3, 3, 16}, 32), batchNorm(5, 32),
                weighted(8, {32, 3, 3, 32}, 32), batchNorm(9, 32), weighted(13, {4, 32}, 4)});
    EXPECT_EQ(exportedParameters(Trainer(*cnn, 1)), expected);

    auto mlp = buildModelSpec(Architecture::Mlp, {12}, 4, ModelBudget{}, "tabular", &err);
    ASSERT_TRUE(mlp) << err.toStdString();
    EXPECT_EQ(layerKinds(*mlp), std::vector<std::string>({"dense", "relu", "dropout", "dense", "relu", "dense"}));
    EXPECT_EQ(exportedParameters(Trainer(*mlp, 1)),
              concat({weighted(0, {64, 12}, 64), weighted(3, {32, 64}, 32), weighted(5, {4, 32}, 4)}));
    EXPECT_EQ(mlp->macs(), 12 * 64 + 64 * 32 + 32 * 4);
}
