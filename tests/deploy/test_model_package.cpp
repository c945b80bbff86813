#include "DeployTestGraphs.h"
#include "ModelPackageFormat.h"
#include "ModelPackageReader.h"
#include "ModelPackageWriter.h"

#include "tm_frame.h"
#include "tm_nn.h"

#include <QtEndian>

#include <gtest/gtest.h>

#include <cstring>

using namespace tinyml::deploy;
using namespace tinyml::deploy::testing;
namespace pk = tinyml::deploy::package;

namespace {

QByteArray packageOf(const Graph &g, PackageStats *stats = nullptr)
{
    ModelPackageWriter writer;
    QString error;
    const auto bytes = writer.write(g, &error);
    EXPECT_TRUE(bytes.has_value()) << error.toStdString();
    if (stats)
        *stats = writer.stats();
    return bytes.value_or(QByteArray());
}

void resealCrc(QByteArray &b)
{
    const quint32 crc = tm_crc32(0, reinterpret_cast<const uint8_t *>(b.constData()) + pk::kHeaderSize,
                                 size_t(b.size()) - pk::kHeaderSize);
    qToLittleEndian(crc, b.data() + pk::kCrcAt);
}

QString readError(const QByteArray &b)
{
    QString error;
    const auto pkg = ModelPackageReader::read(b, &error);
    return pkg ? QString() : error;
}

void expectRoundTrip(Graph g)
{
    PackageStats stats;
    const QByteArray bytes = packageOf(g, &stats);
    QString error;
    ASSERT_TRUE(g.inferShapes(&error)) << error.toStdString();
    const auto plan = planArena(g, &error);
    ASSERT_TRUE(plan.has_value());
    const auto pkg = ModelPackageReader::read(bytes, &error);
    ASSERT_TRUE(pkg.has_value()) << error.toStdString();

    EXPECT_EQ(stats.packageBytes, bytes.size());
    EXPECT_EQ(stats.weightBytes, g.weightBytes());
    EXPECT_EQ(stats.arenaBytes, plan->arenaBytes);
    EXPECT_EQ(stats.arenaLowerBound, plan->lowerBound);
    EXPECT_EQ(pkg->arenaBytes, quint32(plan->arenaBytes));
    EXPECT_EQ(pkg->inputTensor, g.inputIndex());
    EXPECT_EQ(pkg->outputTensor, g.outputIndex());
    EXPECT_EQ(pkg->labels, g.labels);

    ASSERT_EQ(pkg->tensors.size(), g.tensors.size());
    for (int t = 0; t < g.tensors.size(); ++t) {
        const TensorDesc &d = g.tensors[t];
        const PackageTensor &p = pkg->tensors[t];
        SCOPED_TRACE(d.name.toStdString());
        EXPECT_EQ(p.dtype, d.dtype);
        EXPECT_EQ(p.shape, d.shape);
        EXPECT_EQ(p.constant, d.isConstant());
        EXPECT_EQ(p.scale, d.scales[0]);
        EXPECT_EQ(p.zeroPoint, d.zeroPoints[0]);
        EXPECT_EQ(p.channelScales, d.scales.size() > 1 ? d.scales : QVector<float>{});
        if (d.isConstant()) {
            EXPECT_EQ(p.data, d.data);
            EXPECT_EQ(p.location % 4, 0u);
        } else {
            EXPECT_EQ(qint64(p.location), plan->offsets[t]);
        }
    }
    ASSERT_EQ(pkg->ops.size(), g.nodes.size());
    for (int i = 0; i < g.nodes.size(); ++i) {
        const Node &n = g.nodes[i];
        const PackageOp &op = pkg->ops[i];
        SCOPED_TRACE(n.name.toStdString());
        EXPECT_EQ(op.op, n.op);
        EXPECT_EQ(op.activation, n.activation);
        EXPECT_EQ(op.inputs, n.inputs);
        EXPECT_EQ(op.outputs, n.outputs);
        if (n.op == OpType::Conv2D || n.op == OpType::FullyConnected) {
            // Requantization precomputed exactly as Int8Executor / the device expect.
            const bool fc = n.op == OpType::FullyConnected;
            const TensorDesc &x = g.tensors[n.inputs[0]], &w = g.tensors[n.inputs[1]], &y = g.tensors[n.outputs[0]];
            const int cout = y.shape.last();
            ASSERT_EQ(op.params[fc ? 4 : 9], cout);
            EXPECT_EQ(op.params[0], x.zeroPoints[0]);
            EXPECT_EQ(op.params[1], y.zeroPoints[0]);
            const QVector<qint32> mult = pkg->int32Array(quint32(op.params[fc ? 6 : 10]), cout);
            const QVector<qint32> shift = pkg->int32Array(quint32(op.params[fc ? 7 : 11]), cout);
            ASSERT_EQ(mult.size(), cout);
            ASSERT_EQ(shift.size(), cout);
            for (int c = 0; c < cout; ++c) {
                int32_t m = 0, s = 0;
                ASSERT_EQ(tm_nn_quantize_multiplier(double(x.scales[0]) * double(w.scales[c]) / double(y.scales[0]), &m, &s), TM_NN_OK);
                EXPECT_EQ(mult[c], m);
                EXPECT_EQ(shift[c], s);
            }
            if (!fc) {
                EXPECT_EQ(op.params[2], n.strideH);
                EXPECT_EQ(op.params[4], n.padTop);
                EXPECT_EQ(op.params[7], y.zeroPoints[0]);   // fused ReLU clamp starts at zp_out
                EXPECT_EQ(op.params[8], 127);
            }
        }
        if (tinyml::model::isAnomalyScoreOp(n.op)) {
            // out_zp, multiplier, shift of u / s_y (u from Graph.h's rules), as Int8Executor uses.
            const TensorDesc &x = g.tensors[n.inputs[0]], &y = g.tensors[n.outputs[0]];
            double u = double(x.scales[0]) * double(x.scales[0]);
            if (n.op == OpType::GmmScore)
                u = u * double(g.tensors[n.inputs[2]].scales[0]) / 2.0;
            if (n.op == OpType::SquaredError)
                u /= double(x.elementCount());
            int32_t m = 0, sh = 0;
            ASSERT_EQ(tm_nn_quantize_multiplier(u / double(y.scales[0]), &m, &sh), TM_NN_OK);
            EXPECT_EQ(op.params, (QVector<qint32>{y.zeroPoints[0], m, sh}));
        }
        if (n.op == OpType::Add) {
            tm_nn_add_params_t a;
            const TensorDesc &x1 = g.tensors[n.inputs[0]], &x2 = g.tensors[n.inputs[1]], &y = g.tensors[n.outputs[0]];
            ASSERT_EQ(tm_nn_add_prepare(x1.scales[0], x1.zeroPoints[0], x2.scales[0], x2.zeroPoints[0],
                                        y.scales[0], y.zeroPoints[0], &a), TM_NN_OK);
            EXPECT_EQ(op.params, (QVector<qint32>{a.input1_zero_point, a.input2_zero_point, a.output_zero_point,
                                                  a.left_shift, a.input1_multiplier, a.input1_shift,
                                                  a.input2_multiplier, a.input2_shift, a.output_multiplier,
                                                  a.output_shift, -128, 127}));
        }
    }
}

} // namespace

TEST(ModelPackage, ChainRoundTrips) { expectRoundTrip(chain()); }

// Anomaly scores (op codes 14-16): int32 tables in the data section, three parameters each.
TEST(ModelPackage, AnomalyScoreOpsRoundTrip)
{
    for (OpType op : {OpType::KMeansScore, OpType::GmmScore, OpType::SquaredError}) {
        SCOPED_TRACE(tinyml::model::opName(op).toStdString());
        Graph g;
        const int x = act(g, "x", {1, 6}, 0.05f, -3);
        const int y = act(g, "y", {1, 1}, 0.5f, -128);
        TensorDesc c = TensorDesc::constantInt32("c", {2, 6}, {1, -2, 3, 400, -500, 6, 7, 8, 9, 10, 11, -1000}, {0.05f});
        c.zeroPoints = {-3};
        if (op == OpType::SquaredError) {
            const int r = act(g, "r", {1, 6}, 0.05f, -3);
            g.addNode(node(OpType::Relu, "relu", {x}, r));
            g.addNode(node(op, "score", {r, x}, y));
        } else if (op == OpType::KMeansScore) {
            g.addNode(node(op, "score", {x, g.addTensor(c)}, y));
        } else {
            const int ci = g.addTensor(c);
            const int iv = g.addTensor(TensorDesc::constantInt32("iv", {2, 6}, QVector<qint32>(12, 1000), {0.001f}));
            const int off = g.addTensor(TensorDesc::constantInt32("off", {2}, {-5000000, 7}, {1.25e-6f}));
            g.addNode(node(op, "score", {x, ci, iv, off}, y));
        }
        g.inputs = {x};
        g.outputs = {y};
        g.labels = {"anomaly_score"};
        g.quantized = true;
        expectRoundTrip(g);
        // The reader refuses a score op record with another parameter count.
        ModelPackageWriter w;
        QString error;
        auto bytes = w.write(g, &error);
        ASSERT_TRUE(bytes) << error.toStdString();
        const auto *b = reinterpret_cast<const uint8_t *>(bytes->constData());
        uint32_t at = tm_get_u32(b + 32);
        if (op == OpType::SquaredError)
            at += tm_get_u16(b + at + 2);   // past the Relu
        ASSERT_EQ(tm_get_u16(b + at), uint16_t(op));
        QByteArray bad = *bytes;
        tm_put_u16(reinterpret_cast<uint8_t *>(bad.data()) + at + 2, uint16_t(tm_get_u16(b + at + 2) - 4));
        tm_put_u32(reinterpret_cast<uint8_t *>(bad.data()) + 12,
                   tm_crc32(0, reinterpret_cast<const uint8_t *>(bad.constData()) + 64, size_t(bad.size() - 64)));
        EXPECT_FALSE(ModelPackageReader::read(bad, &error));
        EXPECT_TRUE(error.contains("record_size")) << error.toStdString();
    }
}

TEST(ModelPackage, BranchWithAddReshapeSoftmaxRoundTrips) { expectRoundTrip(branch()); }

TEST(ModelPackage, HeaderLayoutIsTheSpecified)
{
    const QByteArray b = packageOf(chain());
    ASSERT_GE(b.size(), 64);
    EXPECT_EQ(b.left(4), QByteArray("TMPK"));
    EXPECT_EQ(qFromLittleEndian<quint16>(b.constData() + 4), 1);
    EXPECT_EQ(qFromLittleEndian<quint16>(b.constData() + 6), 64);
    EXPECT_EQ(qFromLittleEndian<quint32>(b.constData() + 8), quint32(b.size()));
    EXPECT_EQ(qFromLittleEndian<quint32>(b.constData() + 48) % 16, 0u);   // data section start
}

TEST(ModelPackage, EveryCorruptedHeaderByteIsRejected)
{
    const QByteArray good = packageOf(chain());
    ASSERT_TRUE(readError(good).isEmpty()) << readError(good).toStdString();
    for (int i = 0; i < int(pk::kHeaderSize); ++i) {
        for (const char mask : {char(0x01), char(0x80), char(0xFF)}) {
            QByteArray b = good;
            b[i] = char(b[i] ^ mask);
            EXPECT_FALSE(readError(b).isEmpty()) << "byte " << i << " mask " << int(quint8(mask));
        }
    }
}

TEST(ModelPackage, CorruptedHeaderFieldsAreNamed)
{
    const QByteArray good = packageOf(chain());
    const struct { int at; int width; const char *field; } fields[] = {
        {pk::kMagicAt, 4, "magic"},           {pk::kVersionAt, 2, "version"},
        {pk::kHeaderSizeAt, 2, "header_size"}, {pk::kTotalSizeAt, 4, "total_size"},
        {pk::kCrcAt, 4, "crc32"},             {pk::kFlagsAt, 4, "flags"},
        {pk::kArenaSizeAt, 4, "arena_size"},  {pk::kTensorTableOffsetAt, 4, "tensor_table_offset"},
        {pk::kTensorCountAt, 2, "tensor_count"}, {pk::kOpCountAt, 2, "op_count"},
        {pk::kOpTableOffsetAt, 4, "op_table_offset"}, {pk::kOpTableSizeAt, 4, "op_table_size"},
        {pk::kLabelsOffsetAt, 4, "labels_offset"}, {pk::kLabelsSizeAt, 4, "labels_size"},
        {pk::kDataOffsetAt, 4, "data_offset"}, {pk::kDataSizeAt, 4, "data_size"},
        {pk::kInputTensorAt, 2, "input_tensor"}, {pk::kOutputTensorAt, 2, "output_tensor"},
        {pk::kLabelCountAt, 2, "label_count"}, {pk::kReservedAt, 2, "reserved"},
    };
    for (const auto &f : fields) {
        QByteArray b = good;
        b[f.at] = char(b[f.at] ^ 0x03);   // the low byte (little-endian): a small change
        const QString error = readError(b);
        EXPECT_TRUE(error.contains(QLatin1String(f.field))) << f.field << ": " << error.toStdString();
    }
}

TEST(ModelPackage, TruncationAtEveryLengthIsRejected)
{
    const QByteArray good = packageOf(branch());
    for (int n = 0; n < good.size(); ++n)
        EXPECT_FALSE(readError(good.left(n)).isEmpty()) << "length " << n;
}

TEST(ModelPackage, BodyCorruptionFailsTheCrc)
{
    const QByteArray good = packageOf(branch());
    for (int i = int(pk::kHeaderSize); i < good.size(); i += 7) {
        QByteArray b = good;
        b[i] = char(b[i] ^ 0x10);
        EXPECT_TRUE(readError(b).contains("crc32")) << "byte " << i;
    }
}

TEST(ModelPackage, RecordFieldsAreCheckedEvenWithAValidCrc)
{
    const QByteArray good = packageOf(chain());
    const qint64 tensor0 = pk::kHeaderSize;
    {   // activation offset past the arena
        QByteArray b = good;
        qToLittleEndian<quint32>(0x100000u, b.data() + tensor0 + 20);
        resealCrc(b);
        EXPECT_TRUE(readError(b).contains("tensors[0].offset")) << readError(b).toStdString();
    }
    {   // unknown dtype
        QByteArray b = good;
        b[tensor0] = 0;
        resealCrc(b);
        EXPECT_TRUE(readError(b).contains("tensors[0].dtype")) << readError(b).toStdString();
    }
    {   // op code that cannot be packaged (BatchNorm)
        QByteArray b = good;
        const quint32 opsAt = qFromLittleEndian<quint32>(b.constData() + pk::kOpTableOffsetAt);
        qToLittleEndian<quint16>(11, b.data() + opsAt);
        resealCrc(b);
        EXPECT_TRUE(readError(b).contains("ops[0].op")) << readError(b).toStdString();
    }
    {   // op input index out of range
        QByteArray b = good;
        const quint32 opsAt = qFromLittleEndian<quint32>(b.constData() + pk::kOpTableOffsetAt);
        qToLittleEndian<quint16>(999, b.data() + opsAt + pk::kOpRecordHeaderSize);
        resealCrc(b);
        EXPECT_TRUE(readError(b).contains("ops[0].inputs")) << readError(b).toStdString();
    }
}

TEST(ModelPackage, WriterRefusesFloatGraphs)
{
    Graph g = chain();
    g.quantized = false;
    ModelPackageWriter writer;
    QString error;
    EXPECT_FALSE(writer.write(g, &error).has_value());
    EXPECT_FALSE(error.isEmpty());
}
