// Issue 18, item 8: a 1-D model imported from ONNX as [N, C, L] is exported with the user's
// shape [N, C, L], not as the IR's 2-D view [N, C, 1, L], and computes the same.
#include "GraphEvaluation.h"
#include "OnnxExporter.h"
#include "OnnxImporter.h"

#include <onnx/onnx_pb.h>

#include <gtest/gtest.h>

#include <QProcess>
#include <QTemporaryDir>

#include <vector>

using namespace tinyml;
using namespace tinyml::training;

namespace {

std::vector<int64_t> inputDims(const QByteArray &bytes)
{
    onnx::ModelProto m;
    EXPECT_TRUE(m.ParseFromArray(bytes.constData(), bytes.size()));
    std::vector<int64_t> dims;
    if (m.graph().input_size() > 0)
        for (const auto &d : m.graph().input(0).type().tensor_type().shape().dim())
            dims.push_back(d.dim_value());
    return dims;
}

} // namespace

TEST(OnnxRank, OneDimensionalModelKeepsItsInputShape)
{
    QTemporaryDir dir;
    QProcess py;
    py.start(QStringLiteral("/usr/bin/python3"), {QStringLiteral(TINYML_SOURCE_DIR "/tests/training/make_torch_onnx.py"), dir.path()});
    ASSERT_TRUE(py.waitForStarted() && py.waitForFinished(300000) && py.exitCode() == 0)
        << "make_torch_onnx.py (needs Debian's python3-torch): " << py.readAllStandardError().toStdString();

    QString err;
    auto g = importOnnxFile(dir.filePath(QStringLiteral("conv1d.onnx")), {}, &err);
    ASSERT_TRUE(g) << err.toStdString();
    auto bytes = exportOnnx(*g, &err);
    ASSERT_TRUE(bytes) << err.toStdString();
    EXPECT_EQ(inputDims(*bytes), (std::vector<int64_t>{1, 3, 32}));
    ASSERT_TRUE(checkOnnx(*bytes, &err)) << err.toStdString();

    // Imported again it is the same model: same IR input, same outputs.
    auto back = importOnnx(*bytes, {}, &err);
    ASSERT_TRUE(back) << err.toStdString();
    EXPECT_EQ(back->tensors[back->inputs[0]].shape, g->tensors[g->inputs[0]].shape);
    TrainingData data;
    data.inputShape = g->tensors[g->inputs[0]].shape.mid(1);
    for (int i = 0; i < data.inputSize(); ++i)
        data.x.append(float((i * 7) % 13) / 13.0f - 0.5f);
    data.y = {0};
    auto a = runGraph(*g, data, &err);
    auto b = runGraph(*back, data, &err);
    ASSERT_TRUE(a && b) << err.toStdString();
    ASSERT_EQ(a->size(), b->size());
    for (int i = 0; i < a->size(); ++i)
        EXPECT_NEAR((*a)[i], (*b)[i], 1e-5) << i;

    // 2-D models keep [N, C, H, W].
    auto cnn = importOnnxFile(dir.filePath(QStringLiteral("cnn_gap.onnx")), {}, &err);
    ASSERT_TRUE(cnn) << err.toStdString();
    auto cnnBytes = exportOnnx(*cnn, &err);
    ASSERT_TRUE(cnnBytes) << err.toStdString();
    EXPECT_EQ(inputDims(*cnnBytes).size(), 4u);
}
