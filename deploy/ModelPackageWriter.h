#pragma once
// Compiles an int8 graph into the device's model package (deploy/MODEL_PACKAGE.md): tensor
// table with the arena plan, op records with every kernel parameter precomputed on the host
// (requantization multipliers and shifts through tm_nn_quantize_multiplier, add parameters
// through tm_nn_add_prepare, activation clamps), constants aligned for the kernels, labels.
// The parameters are computed exactly as model::Int8Executor computes them, so the device
// runs the numbers the host int8 reference runs.
//
// With an impulse (setImpulse) the package is version 2: the impulse section follows the data
// section (MODEL_PACKAGE.md, "Version 2: the impulse"). Without one it is version 1, byte for
// byte what earlier builds wrote.
//
// Threading: one writer per thread.

#include "ArenaPlanner.h"
#include "ImpulseSpec.h"
#include "model/Graph.h"

#include <QByteArray>
#include <QString>
#include <QStringList>

#include <optional>

namespace tinyml::deploy {

struct PackageStats {
    qint64 packageBytes = 0;
    qint64 weightBytes = 0;     ///< constant tensor bytes (weights, biases) in the data section
    qint64 arenaBytes = 0;
    qint64 arenaLowerBound = 0;
    qint64 impulseBytes = 0;    ///< the impulse section (0 in version 1)
    /// The anomaly model's own arena_size when the impulse carries one (0 otherwise): the two
    /// models use the arena in turn, so a board needs max(arenaBytes, anomalyArenaBytes).
    qint64 anomalyArenaBytes = 0;
};

/// The impulse section of a version-2 package for spec (MODEL_PACKAGE.md "Impulse section"),
/// after spec.validate(modelInputs, modelOutputs); nullopt with the reason otherwise.
/// sectionOffset: where the section starts in the package (data_offset + data_size); only an
/// anomaly part depends on it (its nested package starts 16-aligned in the package).
std::optional<QByteArray> impulseSectionBytes(const ImpulseSpec &spec, qint64 modelInputs, qint64 modelOutputs,
                                              QString *error, quint32 sectionOffset = 0);

class ModelPackageWriter
{
public:
    /// Plans the arena with options and writes the graph with its own labels.
    std::optional<QByteArray> write(const model::Graph &graph, QString *error,
                                    const ArenaPlanOptions &options = {});
    /// Writes with the given labels and a plan made by planArena() for this graph (after
    /// inferShapes()). The graph must be quantized and pass model::Int8Executor::prepare().
    /// Errors name the node or tensor and the field.
    std::optional<QByteArray> write(const model::Graph &graph, const QStringList &labels,
                                    const ArenaPlan &plan, QString *error);
    /// The impulse the next writes carry (version 2); nullopt: a model alone (version 1).
    /// Its labels must be the labels written; it is checked against the model's input and
    /// output sizes (ImpulseSpec::validate).
    void setImpulse(std::optional<ImpulseSpec> impulse) { m_impulse = std::move(impulse); }
    const std::optional<ImpulseSpec> &impulse() const { return m_impulse; }
    /// Sizes of the last successful write.
    const PackageStats &stats() const { return m_stats; }

private:
    PackageStats m_stats;
    std::optional<ImpulseSpec> m_impulse;
};

} // namespace tinyml::deploy
