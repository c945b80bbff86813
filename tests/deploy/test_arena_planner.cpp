#include "ArenaPlanner.h"
#include "DeployTestGraphs.h"

#include <gtest/gtest.h>

using namespace tinyml::deploy;
using namespace tinyml::deploy::testing;

namespace {

ArenaPlan planOf(Graph g, ArenaPlanOptions options = {})
{
    QString error;
    EXPECT_TRUE(g.inferShapes(&error)) << error.toStdString();
    const auto plan = planArena(g, &error, options);
    EXPECT_TRUE(plan.has_value()) << error.toStdString();
    return plan.value_or(ArenaPlan{});
}

/// Every pair of activation tensors whose lifetimes intersect and that are not one buffer
/// must occupy disjoint bytes; every tensor lies inside the arena at an aligned offset.
void expectNoLiveOverlap(const Graph &g, const ArenaPlan &p)
{
    for (int i = 0; i < g.tensors.size(); ++i) {
        if (p.offsets[i] < 0)
            continue;
        EXPECT_EQ(p.offsets[i] % p.alignment, 0) << g.tensors[i].name.toStdString();
        EXPECT_LE(p.offsets[i] + p.bytes[i], p.arenaBytes) << g.tensors[i].name.toStdString();
        for (int j = i + 1; j < g.tensors.size(); ++j) {
            if (p.offsets[j] < 0 || p.buffer[i] == p.buffer[j])
                continue;
            const bool liveTogether = p.firstStep[i] <= p.lastStep[j] && p.firstStep[j] <= p.lastStep[i];
            const bool memoryOverlaps = p.offsets[i] < p.offsets[j] + p.bytes[j] && p.offsets[j] < p.offsets[i] + p.bytes[i];
            EXPECT_FALSE(liveTogether && memoryOverlaps)
                << g.tensors[i].name.toStdString() << " and " << g.tensors[j].name.toStdString();
        }
    }
}

} // namespace

TEST(ArenaPlanner, ChainPeakIsTheLargestAdjacentPair)
{
    const Graph g = chain();
    const ArenaPlan p = planOf(g);
    // x 64, h1 256, h2 128, y 10 -> 12 aligned; live pairs per step: 64+256, 256+128, 128+12.
    const qint64 expected = std::max({64 + 256, 256 + 128, 128 + 12});
    EXPECT_EQ(p.lowerBound, expected);
    EXPECT_EQ(p.arenaBytes, expected);
    EXPECT_EQ(p.offsets[g.tensorIndex("w1")], -1);   // constants are not in the arena
    EXPECT_EQ(p.firstStep[g.tensorIndex("x")], 0);
    EXPECT_EQ(p.lastStep[g.tensorIndex("y")], 2);
    expectNoLiveOverlap(g, p);
}

TEST(ArenaPlanner, SixteenByteAlignmentRoundsEveryBuffer)
{
    const Graph g = chain();
    const ArenaPlan p = planOf(g, {16, true});
    EXPECT_EQ(p.lowerBound, 256 + 128);
    EXPECT_EQ(p.arenaBytes, 256 + 128);
    expectNoLiveOverlap(g, p);
}

TEST(ArenaPlanner, BranchKeepsTheSkipTensorAliveAndAddWorksInPlace)
{
    Graph g = branch();
    const ArenaPlan p = planOf(g);
    const int a = g.tensorIndex("a"), b = g.tensorIndex("b"), s = g.tensorIndex("s"), flat = g.tensorIndex("flat");
    EXPECT_EQ(p.lastStep[a], 2);                      // read again by the add
    EXPECT_EQ(p.buffer[s], p.buffer[a]);              // add writes over a, which dies there
    EXPECT_EQ(p.buffer[flat], p.buffer[s]);           // reshape is an alias
    EXPECT_NE(p.buffer[b], p.buffer[a]);
    // Buffers: {a,s,flat} 256 over steps 0..4, b 256 over 1..2, x 64, y 4, p 4:
    // steps 1 and 2 hold 256 + 256.
    EXPECT_EQ(p.lowerBound, 512);
    EXPECT_EQ(p.arenaBytes, 512);
    expectNoLiveOverlap(g, p);
}

TEST(ArenaPlanner, WithoutInPlaceTheAddNeedsAThirdBuffer)
{
    const Graph g = branch();
    const ArenaPlan p = planOf(g, {4, false});
    EXPECT_EQ(p.lowerBound, 3 * 256);                 // a, b and s live at the add
    EXPECT_EQ(p.arenaBytes, 3 * 256);
    expectNoLiveOverlap(g, p);
}

TEST(ArenaPlanner, InPlaceNeverClobbersATensorReadLater)
{
    // relu(a) while a is still read by the add: the relu must not take a's bytes.
    Graph g;
    const int x = act(g, "x", {1, 4, 4, 1});
    const int w = weights(g, "w", {4, 3, 3, 1}, 4), bb = bias(g, "b", 4);
    const int a = act(g, "a", {1, 4, 4, 4});
    const int r = act(g, "r", {1, 4, 4, 4});
    const int s = act(g, "s", {1, 4, 4, 4});
    g.addNode(conv3x3("conv", {x, w, bb}, a));
    g.addNode(node(OpType::Relu, "relu", {a}, r));
    g.addNode(node(OpType::Add, "add", {a, r}, s));
    g.inputs = {x};
    g.outputs = {s};
    g.quantized = true;
    const ArenaPlan p = planOf(g);
    EXPECT_NE(p.buffer[r], p.buffer[a]);
    EXPECT_EQ(p.buffer[s], p.buffer[a]);              // both inputs die at the add: first taken
    EXPECT_EQ(p.arenaBytes, 2 * 64);
    expectNoLiveOverlap(g, p);
}

TEST(ArenaPlanner, LowerBoundNeverExceedsTheArenaOnRandomGraphs)
{
    // Random chains with skip connections: x -> conv ... where each add reads the previous
    // tensor and a random earlier one of the same shape.
    for (int seed = 1; seed <= 40; ++seed) {
        Graph g;
        quint32 rng = quint32(seed) * 2654435761u;
        auto next = [&] { rng = rng * 1664525u + 1013904223u; return rng >> 8; };
        const int c = 1 + int(next() % 4);
        QVector<int> live = {act(g, "x", {1, 6, 6, c})};
        for (int i = 0; i < 8; ++i) {
            const int out = act(g, QStringLiteral("t%1").arg(i), {1, 6, 6, c});
            if (live.size() > 1 && next() % 2) {
                const int other = live[int(next() % quint32(live.size() - 1))];
                g.addNode(node(OpType::Add, QStringLiteral("add%1").arg(i), {live.last(), other}, out));
            } else if (next() % 2) {
                g.addNode(node(OpType::Relu, QStringLiteral("relu%1").arg(i), {live.last()}, out));
            } else {
                const int w = weights(g, QStringLiteral("w%1").arg(i), {c, 3, 3, c}, c);
                g.addNode(conv3x3(QStringLiteral("conv%1").arg(i), {live.last(), w}, out));
            }
            live.append(out);
        }
        g.inputs = {live.first()};
        g.outputs = {live.last()};
        g.quantized = true;
        for (const bool inPlace : {true, false}) {
            const ArenaPlan p = planOf(g, {4, inPlace});
            EXPECT_LE(p.lowerBound, p.arenaBytes) << "seed " << seed;
            EXPECT_GT(p.lowerBound, 0);
            expectNoLiveOverlap(g, p);
        }
    }
}

TEST(ArenaPlanner, RejectsATensorReadBeforeItIsProduced)
{
    Graph g = chain();
    g.nodes.swapItemsAt(0, 1);
    QString error;
    EXPECT_FALSE(planArena(g, &error).has_value());
    EXPECT_TRUE(error.contains("h1")) << error.toStdString();
}
