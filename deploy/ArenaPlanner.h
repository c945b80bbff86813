#pragma once
// Static memory planner for the activations of an int8 graph: every activation tensor gets
// an offset in one arena that the device interpreter owns (it allocates nothing at run time).
//
// Steps are node indices (Graph::nodes is topologically ordered). A tensor is live from the
// node that produces it to the last node that reads it, inclusive; graph inputs are live
// from step 0, graph outputs to the last step. Two tensors whose lifetimes intersect never
// share bytes, except through in-place reuse:
//  - Reshape: the output is the input's bytes (NHWC order is kept), always;
//  - Add, Relu, Relu6, Clip: the output takes the bytes of a same-sized input that dies at
//    that node (the kernels read element i before writing element i, so this is safe).
// Tensors sharing bytes form one buffer whose lifetime is the union of theirs.
// Placement: greedy, each buffer at the lowest aligned offset that overlaps no placed buffer
// with an intersecting lifetime, in a few orders (largest first, first use, longest lifetime,
// size x lifetime; ties as in ArenaPlanner.cpp); the smallest arena wins, the earlier order
// on a tie, and the search stops once an order reaches the lower bound.
//
// Threading: plain functions over const data.

#include "model/Graph.h"

#include <QString>
#include <QVector>

#include <optional>

namespace tinyml::deploy {

struct ArenaPlanOptions {
    int alignment = 4;          ///< power of two; every offset and buffer size is rounded to it
    bool inPlace = true;        ///< Reshape aliasing and elementwise in-place reuse
};

struct ArenaPlan {
    int alignment = 4;
    /// Per tensor index: arena offset in bytes, -1 for constants.
    QVector<qint64> offsets;
    /// Per tensor index: bytes of the tensor (elements * dtype size, unaligned); 0 for constants.
    QVector<qint64> bytes;
    /// Per tensor index: lifetime [firstStep, lastStep]; -1 for constants.
    QVector<int> firstStep, lastStep;
    /// Per tensor index: the buffer (alias group) it lives in, -1 for constants. Tensors of
    /// one buffer share their offset.
    QVector<int> buffer;
    qint64 arenaBytes = 0;      ///< end of the highest placed buffer
    /// max over steps of the aligned sizes of the buffers live at that step: no placement of
    /// these buffers can use less, so arenaBytes >= lowerBound always.
    qint64 lowerBound = 0;
};

/// Plans the activation arena of graph (shapes must be known: run inferShapes() first).
/// Errors name the tensor: unknown shape, a tensor no node produces that is not a graph
/// input, a bad alignment.
std::optional<ArenaPlan> planArena(const model::Graph &graph, QString *error,
                                   const ArenaPlanOptions &options = {});

} // namespace tinyml::deploy
