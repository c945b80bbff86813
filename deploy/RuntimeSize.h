#pragma once
// Flash taken by the model runtime on a board: the interpreter (tm_model.c) and the int8
// kernels (tm_nn_*), measured from the agent image the board runs. Profiles report
// flash = package + this.
//
// The figure is the sum of st_size over the ELF symbol table's functions and constant
// objects in read-only allocated sections that belong to those files: local symbols by the
// STT_FILE entry before them ("tm_model*.c", "tm_nn*.c"), global ones by their name prefix
// ("tm_model_", "tm_nn_"). ELF32 and ELF64, little-endian; every offset, size and index
// is checked against the bytes before it is read (fuzz target: tests/fuzz/device).
//
// Threading: plain functions; runtimeSizeFor may be called from any thread.

#include <QByteArray>
#include <QString>

#include <optional>

namespace tinyml {
struct BoardDefinition;
}

namespace tinyml::deploy {

struct RuntimeSize {
    qint64 bytes = 0;             ///< 0 when unknown
    int symbols = 0;              ///< symbols counted
    QString source;               ///< where the number comes from, or why there is none
};

/// Measures an ELF image's runtime bytes; errors name the ELF field that is out of bounds.
std::optional<RuntimeSize> runtimeSizeFromElf(const QByteArray &elf, QString *error);

/// The board's agent image (virtual boards: AgentLocator; the host agent: its executable),
/// measured. Real boards without a local image: bytes 0 and a source saying so. The image is
/// read once per path, modification time and size (thread-safe cache); a rebuilt image is
/// read again.
RuntimeSize runtimeSizeFor(const BoardDefinition &board);

} // namespace tinyml::deploy
