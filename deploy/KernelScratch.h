#pragma once
// RAM a model package needs on the device: the planned activation arena (rounded to 16
// bytes, as tm_model_arena_bytes places it) plus the largest kernel scratch of any op
// (rounded to 4). The host build runs the reference kernels and a Cortex-M with the DSP
// extension the optimized ones (firmware-agent/nn/src/tm_nn_select.c); their scratch needs
// differ, so this takes the larger of the two for every op. Used by the Flasher's fit check
// and by the C library export, whose static arena must fit either kernel set.
//
// Threading: a pure function.

#include <QByteArray>
#include <QString>

#include <optional>

namespace tinyml::deploy {

/// Arena + scratch in bytes; nullopt with *error when the package does not read.
std::optional<qint64> deviceArenaBytes(const QByteArray &package, QString *error);

} // namespace tinyml::deploy
