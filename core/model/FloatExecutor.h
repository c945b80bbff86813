#pragma once
// Runs a float graph on the host with plain C++ loops: the reference the int8 model is
// compared with (accuracy, per-layer SQNR). Not fast, and not meant to be.
//
// Threading: one executor per thread; prepare() copies the graph, so the caller's graph
// may change or go away afterwards.

#include "model/Graph.h"

#include <QString>
#include <QVector>

#include <optional>

namespace tinyml::model {

class FloatExecutor
{
public:
    /// Copies the graph, infers its shapes and validates it. Every op of OpType is supported.
    /// Fails for quantized graphs and for non-Float32 tensors.
    bool prepare(const Graph &graph, QString *error);
    bool isPrepared() const { return m_prepared; }
    /// The prepared graph with inferred shapes.
    const Graph &graph() const { return m_graph; }

    /// input: the graph input's elements in NHWC order (elementCount of the input tensor).
    /// Returns the graph output's elements.
    std::optional<QVector<float>> run(const QVector<float> &input, QString *error = nullptr);

    /// When on, run() keeps every activation tensor (graph input and every node output).
    void setRecordIntermediates(bool on) { m_record = on; }
    /// After run(): values per tensor index; empty for constants, and for every tensor but
    /// the output when recording is off.
    const QVector<QVector<float>> &tensorValues() const { return m_values; }

private:
    bool m_prepared = false;
    bool m_record = false;
    Graph m_graph;
    QVector<QVector<float>> m_values;
    QVector<QVector<float>> m_constants;   ///< decoded constant data per tensor index
};

} // namespace tinyml::model
