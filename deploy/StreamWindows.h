#pragma once
// Windows per hour of a project's continuous stream for a model: the impulse the model would
// be deployed in (impulseSpecFor with the project's stride choice) scores one window every
// stride frames. Used for false alarms per hour (anomaly training, CLI and Anomaly page).

#include "model/Graph.h"
#include "store/ProjectStore.h"

#include <QString>

#include <optional>

namespace tinyml::deploy {

struct StreamWindows {
    double windowsPerHour = 0;
    QString basis; ///< how it was computed, for users: "3600 s x R Hz / stride S frames (...) = W windows per hour"
};

/// nullopt and *why when the project has no stream for this model (e.g. a table).
std::optional<StreamWindows> streamWindowsPerHour(const ProjectSettings &settings, const model::Graph &graph,
                                                  QString *why);

} // namespace tinyml::deploy
