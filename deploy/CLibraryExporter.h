#pragma once
// Exports an int8 model as source code for the user's own firmware: the model package as a
// C array, the firmware's runtime (package reader, int8 interpreter and kernels, copied
// verbatim from firmware-agent/ and embedded in this library), a three-function API header
// and an example that runs one embedded input and checks the output against the host int8
// reference (model::Int8Executor).
//
// Two layouts, both one folder in a zip:
//  - C library: <name>/CMakeLists.txt (static library + example), include/tinyml_model.h,
//    src/ (tinyml_model.c, model_data.c/.h), runtime/ (the firmware tree: src/, include/,
//    nn/), example/main.c, cmake/arm-none-eabi.cmake, README.txt;
//  - Arduino library (1.5 format): <name>/library.properties, src/ (every file flattened,
//    since Arduino only puts src/ itself on the include path), examples/<Name>Example/*.ino.
//
// The API (tinyml_model.h): int tinyml_init(void); int tinyml_invoke(const int8_t *input,
// int8_t *output); const char *tinyml_label(int i); plus constants for the input/output
// sizes and quantization and the arena size (a static buffer sized from the package).
//
// A model whose feature block streams (raw, spectral, mfe, mfcc) is exported with its whole
// impulse: the package is version 2 (deploy/MODEL_PACKAGE.md, the impulse section), the
// runtime adds firmware-agent/impulse and firmware-agent/dsp, and tinyml_model.h adds the
// streaming API over tm_impulse.h: tinyml_impulse_init / _set_callback / _push (raw int16
// sensor samples in chunks of any size; a ring buffer computes every complete window and
// calls the callback with its decision) / _run_window / _reset, with the impulse's constants
// (TINYML_WINDOW_FRAMES, TINYML_STRIDE_FRAMES, TINYML_SAMPLE_RATE_HZ, TINYML_CHANNELS,
// TINYML_CLASS_COUNT, ...) and static buffers sized at export. Its decisions equal
// ImpulseReplay::run's on the same samples, bit for bit. The example then reads a raw int16
// recording (or makes a synthetic one), pushes it in chunks of varying size and prints one
// line per window. Image models (and models without recorded features) keep the model-only
// export (package version 1).
//
// Threading: plain functions; exportProject reads the store on the calling thread.

#include "ImpulseSpec.h"

#include "model/Graph.h"

#include <QByteArray>
#include <QString>
#include <QStringList>
#include <QVector>

#include <optional>

namespace tinyml
{
class ProjectStore;
}

namespace tinyml::deploy
{

enum class LibraryLayout { CLibrary, Arduino };

struct LibraryExportOptions {
    LibraryLayout layout = LibraryLayout::CLibrary;
    /// Folder name inside the zip (and the Arduino library name). Empty: "tinyml_model"
    /// for the C library, "TinyMLModel" for Arduino. Letters, digits, '_' and '-' only.
    QString name;
    /// The example's input (graph input elements, int8, NHWC). Empty: exportProject takes
    /// the first test-split sample's features; exportGraph a fixed pseudo-random pattern.
    QVector<qint8> exampleInput;
    QString exampleInputSource; ///< where exampleInput comes from, for the example's comment
    QString modelDescription;   ///< provenance for the generated files' header comment
    int version = 1;            ///< library.properties version major
    QString maintainer = QStringLiteral("TinyML Workbench user"); ///< library.properties
    /// library.properties url. A generated library has no public home; the licence of the
    /// runtime it carries is the most useful link.
    QString url = QStringLiteral("https://www.gnu.org/licenses/gpl-3.0.html");
    /// The impulse to export with the model (package version 2 + the streaming API). build()
    /// and exportGraph() export it when set; exportProject() sets it itself from the project
    /// (buildImpulsePackage) when the model's feature block streams, unless modelOnly.
    std::optional<ImpulseSpec> impulse;
    /// exportProject(): export the int8 network alone (package version 1) even when the model
    /// has an impulse.
    bool modelOnly = false;
};

struct ExportedFile {
    QString path; ///< inside the zip, '/'-separated, starts with the folder
    QByteArray bytes;
};

struct LibraryExport {
    QVector<ExportedFile> files;
    qint64 modelId = 0;
    qint64 packageBytes = 0;
    qint64 arenaBytes = 0; ///< TINYML_MODEL_ARENA_BYTES: activations + kernel scratch
    qint64 inputSize = 0;
    qint64 outputSize = 0;
    QVector<qint8> exampleInput;
    QVector<qint8> expectedOutput; ///< model::Int8Executor on exampleInput
    QString exampleInputSource;
    QByteArray package;            ///< the embedded model package (version 2 with an impulse)
    std::optional<ImpulseSpec> impulse; ///< set when the export carries the impulse
    qint64 impulseWorkBytes = 0;   ///< TINYML_IMPULSE_WORK_BYTES (tm_impulse_work_bytes)
    qint64 ringBytes = 0;          ///< the sample ring: (window + stride) frames x channels x 2
};

class CLibraryExporter
{
  public:
    /// Builds the files for a quantized graph. Errors: a float graph, a graph the package
    /// writer or the device's own loader (tm_model_load) refuses, a bad name or input size.
    static std::optional<LibraryExport> build(const model::Graph &graph,
                                              const LibraryExportOptions &options, QString *error);

    /// build() + writeZip(zipPath).
    static std::optional<LibraryExport> exportGraph(const model::Graph &graph,
                                                    const QString &zipPath,
                                                    const LibraryExportOptions &options,
                                                    QString *error);

    /// Exports a project's int8 model: modelId, or the newest int8 model when modelId <= 0.
    /// A model whose recorded feature block streams goes out with its impulse (the project's
    /// impulse options, buildImpulsePackage in LiveClassifier.h) unless options.modelOnly or
    /// options.impulse is already set. Errors name the model id (unknown, not int8, an
    /// impulse that cannot be built) or the file.
    static std::optional<LibraryExport> exportProject(ProjectStore &store, qint64 modelId,
                                                      const QString &zipPath,
                                                      const LibraryExportOptions &options,
                                                      QString *error);

    /// The firmware runtime files embedded in this build: paths relative to firmware-agent/
    /// ("src/tm_model.c", "nn/include/tm_nn.h", ...): the model runtime's sources and headers,
    /// then the impulse's ("impulse/src/tm_impulse.c", "dsp/src/tm_dsp_fft.c", ...; exported
    /// only with an impulse).
    static QStringList runtimeFiles();
    static QByteArray runtimeFile(const QString &relativePath);

    /// Writes files into a new zip at path (replacing it); fails with the file name and
    /// libzip's reason. Entries get a fixed time stamp so equal inputs give equal zips.
    static bool writeZip(const QString &path, const QVector<ExportedFile> &files, QString *error);
    /// Reads every entry of a zip (for checks and tests).
    static std::optional<QVector<ExportedFile>> readZip(const QString &path, QString *error);
};

} // namespace tinyml::deploy
