#include "CLibraryExporter.h"

#include "KernelScratch.h"
#include "ModelPackageReader.h"
#include "ModelPackageWriter.h"
#include "features/FeatureSet.h"
#include "model/Int8Executor.h"
#include "store/ProjectStore.h"

#include "tm_model.h"
#include "tm_nn_variants.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSet>

#include <zip.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

// Q_INIT_RESOURCE must be called at global scope, and a static library's resources are only
// linked in when something references them.
static void initExportRuntimeResource()
{
    Q_INIT_RESOURCE(export_runtime);
}

namespace tinyml::deploy
{

namespace
{

using model::Graph;

const QString kResourceRoot = QStringLiteral(":/tinyml-export/runtime/");

struct RuntimeManifest {
    QStringList sources, headers, includeDirs, compileOptions;
};

RuntimeManifest runtimeManifest()
{
    static const RuntimeManifest manifest = [] {
        initExportRuntimeResource();
        RuntimeManifest m;
        QFile f(kResourceRoot + QStringLiteral("manifest.json"));
        if (!f.open(QIODevice::ReadOnly))
            return m;
        const QJsonObject o = QJsonDocument::fromJson(f.readAll()).object();
        auto list = [&](const char *key) {
            QStringList out;
            for (const QJsonValue &v : o.value(QLatin1String(key)).toArray())
                out << v.toString();
            return out;
        };
        m.sources = list("sources");
        m.headers = list("headers");
        m.includeDirs = list("include_dirs");
        m.compileOptions = list("compile_options");
        return m;
    }();
    return manifest;
}

bool fail(QString *error, const QString &message)
{
    if (error)
        *error = message;
    return false;
}

/// A C float literal that reads back as exactly f.
QString floatLiteral(float f)
{
    QString s = QString::number(double(f), 'g', 9);
    if (!s.contains(QLatin1Char('.')) && !s.contains(QLatin1Char('e')) &&
        !s.contains(QLatin1String("inf")))
        s += QStringLiteral(".0");
    return s + QLatin1Char('f');
}

/// A C string literal: printable ASCII as is, everything else as 3-digit octal escapes
/// (which, unlike \x, cannot swallow a following character).
QString cString(const QString &text)
{
    QString out = QStringLiteral("\"");
    for (const char c : text.toUtf8()) {
        const auto u = static_cast<unsigned char>(c);
        if (u == '"' || u == '\\')
            out += QLatin1String("\\") + QLatin1Char(char(u));
        else if (u >= 0x20 && u < 0x7f && u != '?') // '?' could start a trigraph
            out += QLatin1Char(char(u));
        else
            out += QStringLiteral("\\%1").arg(uint(u), 3, 8, QLatin1Char('0'));
    }
    return out + QLatin1Char('"');
}

/// Text safe inside a /* */ comment and a C++ // comment: one line, no "*/".
QString commentText(const QString &text)
{
    QString s = text.simplified();
    s.replace(QLatin1String("*/"), QLatin1String("* /"));
    return s;
}

QString int8List(const QVector<qint8> &v, const QString &indent)
{
    QString out;
    for (int i = 0; i < v.size(); ++i) {
        if (i % 16 == 0)
            out += (i ? QStringLiteral(",\n") : QString()) + indent;
        else
            out += QLatin1String(", ");
        out += QString::number(int(v[i]));
    }
    return out;
}

QString byteList(const QByteArray &b, const QString &indent)
{
    static const char hex[] = "0123456789abcdef";
    QString out;
    out.reserve(b.size() * 6 + b.size() / 16 * (indent.size() + 1));
    for (int i = 0; i < b.size(); ++i) {
        if (i % 16 == 0)
            out += (i ? QStringLiteral(",\n") : QString()) + indent;
        else
            out += QLatin1String(", ");
        const auto u = static_cast<unsigned char>(b[i]);
        out += QLatin1String("0x");
        out += QLatin1Char(hex[u >> 4]);
        out += QLatin1Char(hex[u & 15]);
    }
    return out;
}

QString shapeText(const QVector<int> &shape)
{
    QStringList parts;
    for (int d : shape)
        parts << QString::number(d);
    return QLatin1Char('[') + parts.join(QStringLiteral(", ")) + QLatin1Char(']');
}

/// Deterministic example input when no real sample is at hand: spread over the int8 range.
QVector<qint8> patternInput(qint64 n)
{
    QVector<qint8> v(static_cast<int>(n));
    quint32 x = 0x2545f491u;
    for (qint8 &e : v) {
        x = x * 1664525u + 1013904223u;
        e = qint8(int((x >> 24) & 0xff) - 128);
    }
    return v;
}

struct ModelFacts {
    QByteArray package;
    qint64 arenaBytes = 0;
    QVector<int> inputShape, outputShape;
    qint64 inputSize = 0, outputSize = 0;
    float inputScale = 1, outputScale = 1;
    int inputZeroPoint = 0, outputZeroPoint = 0;
    QStringList labels;
    QVector<float> mean, stddev; ///< input normalisation of the features, when the model has one
};

std::optional<ModelFacts> modelFacts(const Graph &source, QString *error)
{
    if (!source.quantized) {
        fail(error, QStringLiteral("the model is a float model: export a quantized (int8) model; "
                                   "run `tinyml quantize` first"));
        return std::nullopt;
    }
    Graph g = source;
    if (!g.inferShapes(error))
        return std::nullopt;
    ModelPackageWriter writer;
    QString writeError;
    auto package = writer.write(g, &writeError);
    if (!package) {
        fail(error, QStringLiteral("cannot build the model package: %1").arg(writeError));
        return std::nullopt;
    }
    // The device's own loader decides the arena size (activations + kernel scratch) and
    // refuses anything the interpreter cannot run, so the export never ships a package the
    // library would reject at tinyml_init().
    std::vector<quint32> aligned((size_t(package->size()) + 3) / 4);
    std::memcpy(aligned.data(), package->constData(), size_t(package->size()));
    tm_model_t m;
    const tm_model_status_t status = tm_model_load(
        &m, reinterpret_cast<const uint8_t *>(aligned.data()), uint32_t(package->size()));
    if (status != TM_MODEL_OK) {
        fail(error,
             QStringLiteral("the firmware's model loader refuses the package: %1 (status %2)")
                 .arg(QString::fromLatin1(tm_model_status_name(status)))
                 .arg(int(status)));
        return std::nullopt;
    }
    const auto eitherSet = deviceArenaBytes(*package, error);
    if (!eitherSet)
        return std::nullopt;
    ModelFacts f;
    f.package = *package;
    f.arenaBytes = std::max<qint64>(tm_model_arena_bytes(&m), *eitherSet);
    const model::TensorDesc &in = g.tensors[g.inputIndex()];
    const model::TensorDesc &out = g.tensors[g.outputIndex()];
    f.inputShape = in.shape;
    f.outputShape = out.shape;
    f.inputSize = in.elementCount();
    f.outputSize = out.elementCount();
    f.inputScale = in.scales.value(0, 1.0f);
    f.inputZeroPoint = in.zeroPoints.value(0, 0);
    f.outputScale = out.scales.value(0, 1.0f);
    f.outputZeroPoint = out.zeroPoints.value(0, 0);
    f.labels = g.labels;
    const QJsonObject norm = g.meta.value(QStringLiteral("input_normalization")).toObject();
    for (const QJsonValue &v : norm.value(QStringLiteral("mean")).toArray())
        f.mean << float(v.toDouble());
    for (const QJsonValue &v : norm.value(QStringLiteral("std")).toArray())
        f.stddev << float(v.toDouble());
    if (f.mean.size() != f.inputSize || f.stddev.size() != f.inputSize)
        f.mean.clear(), f.stddev.clear();
    return f;
}

// ---------------------------------------------------------------------------------------
// Generated files. Fixed text is kept as raw strings with @KEY@ placeholders.

QString fill(QString text, const QHash<QString, QString> &values)
{
    for (auto it = values.begin(); it != values.end(); ++it)
        text.replace(QLatin1Char('@') + it.key() + QLatin1Char('@'), it.value());
    return text;
}

const char *const kApiHeader = R"TM(/*
 * tinyml_model.h - @DESCRIPTION@
 * Generated by TinyML Workbench. Input @INPUT_SHAPE@ int8 (NHWC), output @OUTPUT_SHAPE@ int8.
 *
 * Usage:
 *     int8_t input[TINYML_MODEL_INPUT_SIZE], output[TINYML_MODEL_OUTPUT_SIZE];
 *     if (tinyml_init() != 0) { ... }            // once: validates the embedded model
 *     ... fill input (see tinyml_quantize_input / tinyml_prepare_input) ...
 *     if (tinyml_invoke(input, output) != 0) { ... }
 *     // output[i] is the int8 score of class i: tinyml_label(i),
 *     // real value = TINYML_MODEL_OUTPUT_SCALE * (output[i] - TINYML_MODEL_OUTPUT_ZERO_POINT)
 *
 * The functions return 0 on success, otherwise a tm_model_status_t value (tm_model.h;
 * tm_model_status_name() gives its name). Not reentrant: one model, one static arena.
 */
#ifndef TINYML_MODEL_H
#define TINYML_MODEL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Elements (= bytes, int8) of the input and output tensors. */
#define TINYML_MODEL_INPUT_SIZE @INPUT_SIZE@
#define TINYML_MODEL_OUTPUT_SIZE @OUTPUT_SIZE@
/** Quantization: real = scale * (q - zero_point). */
#define TINYML_MODEL_INPUT_SCALE @INPUT_SCALE@
#define TINYML_MODEL_INPUT_ZERO_POINT (@INPUT_ZERO_POINT@)
#define TINYML_MODEL_OUTPUT_SCALE @OUTPUT_SCALE@
#define TINYML_MODEL_OUTPUT_ZERO_POINT (@OUTPUT_ZERO_POINT@)
/** Class names known to tinyml_label(). */
#define TINYML_MODEL_LABEL_COUNT @LABEL_COUNT@
/** RAM the interpreter works in (activations + kernel scratch), a static buffer in
 *  tinyml_model.c. Computed by the firmware's own loader from the package at export. */
#ifndef TINYML_MODEL_ARENA_BYTES
#define TINYML_MODEL_ARENA_BYTES @ARENA_BYTES@
#endif
/** 1 when the model was trained on normalised features (see tinyml_prepare_input). */
#define TINYML_MODEL_HAS_NORMALIZATION @HAS_NORMALIZATION@

/** Validates the embedded model package with the runtime's loader (CRC, bounds, every op).
 *  Call once before tinyml_invoke(). */
int tinyml_init(void);

/** Runs the model. input: TINYML_MODEL_INPUT_SIZE int8 values (NHWC); output receives
 *  TINYML_MODEL_OUTPUT_SIZE int8 values. */
int tinyml_invoke(const int8_t *input, int8_t *output);

/** Name of output class i, or NULL when i is out of range or the model has no names. */
const char *tinyml_label(int i);

/** Optional helper: features (float, TINYML_MODEL_INPUT_SIZE, the project's feature block
 *  output) -> normalised with the model's mean/std when it has them -> int8 input. */
void tinyml_prepare_input(const float *features, int8_t *input);

/** One float to the input's int8 value, exactly as the workbench quantizes (round half away
 *  from zero, then clamp). */
static inline int8_t tinyml_quantize_input(float x)
{
    double v = (double)x / (double)TINYML_MODEL_INPUT_SCALE;
    long q;
    if (v != v)
        v = 0;
    if (v > 1e9)
        v = 1e9;
    if (v < -1e9)
        v = -1e9;
    q = (long)(v >= 0 ? v + 0.5 : v - 0.5) + TINYML_MODEL_INPUT_ZERO_POINT;
    return (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);
}

static inline float tinyml_dequantize_output(int8_t q)
{
    return TINYML_MODEL_OUTPUT_SCALE * (float)((int)q - TINYML_MODEL_OUTPUT_ZERO_POINT);
}

#ifdef __cplusplus
}
#endif

#endif /* TINYML_MODEL_H */
)TM";

const char *const kDataHeader =
    R"TM(/* model_data.h - the model package (TMPK, deploy/MODEL_PACKAGE.md) as a C array.
 * Generated by TinyML Workbench: @DESCRIPTION@ */
#ifndef TINYML_MODEL_DATA_H
#define TINYML_MODEL_DATA_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TINYML_MODEL_PACKAGE_BYTES @PACKAGE_BYTES@u

/* The runtime reads the package in place: it must stay 4-byte aligned (16 for the kernels'
 * preferred alignment of weights). */
#if defined(__GNUC__) || defined(__clang__)
#define TINYML_MODEL_ALIGNED __attribute__((aligned(16)))
#elif defined(_MSC_VER)
#define TINYML_MODEL_ALIGNED __declspec(align(16))
#else
#define TINYML_MODEL_ALIGNED
#endif

extern const uint8_t tinyml_model_package[TINYML_MODEL_PACKAGE_BYTES];
/* NULL-terminated list of class names */
extern const char *const tinyml_model_labels[];
/* Feature normalisation (mean, std per input element); NULL when the model has none. */
extern const float *const tinyml_model_input_mean;
extern const float *const tinyml_model_input_std;

#ifdef __cplusplus
}
#endif

#endif /* TINYML_MODEL_DATA_H */
)TM";

const char *const kApiSource =
    R"TM(/* tinyml_model.c - the three-function API over the TinyML Workbench runtime (tm_model.h).
 * Generated by TinyML Workbench: @DESCRIPTION@ */
#include "tinyml_model.h"

#include "model_data.h"
#include "tm_model.h"
#include "tm_nn_variants.h"

#include <string.h>

static tm_model_t tinyml_model;
/* The interpreter keeps every activation here; no heap is used. */
static uint8_t tinyml_arena[TINYML_MODEL_ARENA_BYTES] TINYML_MODEL_ALIGNED;

int tinyml_init(void)
{
    uint32_t in_bytes = 0, out_bytes = 0;
    tm_model_status_t s = tm_model_load(&tinyml_model, tinyml_model_package, TINYML_MODEL_PACKAGE_BYTES);
    if (s != TM_MODEL_OK)
        return (int)s;
    if (tm_model_arena_bytes(&tinyml_model) > sizeof tinyml_arena) {
        tinyml_model.loaded = 0;
        return (int)TM_MODEL_ERR_ARENA;
    }
    (void)tm_model_input(&tinyml_model, tinyml_arena, &in_bytes);
    (void)tm_model_output(&tinyml_model, tinyml_arena, &out_bytes);
    if (in_bytes != TINYML_MODEL_INPUT_SIZE || out_bytes != TINYML_MODEL_OUTPUT_SIZE) {
        tinyml_model.loaded = 0;
        return (int)TM_MODEL_ERR_OP_SHAPE;
    }
    return 0;
}

int tinyml_invoke(const int8_t *input, int8_t *output)
{
    uint32_t bytes = 0;
    int8_t *in;
    const int8_t *out;
    tm_model_status_t s;
    if (!tinyml_model.loaded)
        return (int)TM_MODEL_ERR_NOT_LOADED;
    if (input == NULL || output == NULL)
        return (int)TM_MODEL_ERR_ARGUMENT;
    /* the arena is reused between tensors: the input is copied in before every run */
    in = tm_model_input(&tinyml_model, tinyml_arena, &bytes);
    memcpy(in, input, bytes);
    s = tm_model_invoke(&tinyml_model, tinyml_arena, sizeof tinyml_arena, NULL, NULL);
    if (s != TM_MODEL_OK)
        return (int)s;
    out = tm_model_output(&tinyml_model, tinyml_arena, &bytes);
    memcpy(output, out, bytes);
    return 0;
}

const char *tinyml_label(int i)
{
    if (i < 0 || i >= TINYML_MODEL_LABEL_COUNT)
        return NULL;
    return tinyml_model_labels[i];
}

void tinyml_prepare_input(const float *features, int8_t *input)
{
    int i;
    for (i = 0; i < TINYML_MODEL_INPUT_SIZE; ++i) {
        float x = features[i];
        if (tinyml_model_input_mean != NULL)
            x = (x - tinyml_model_input_mean[i]) / tinyml_model_input_std[i];
        input[i] = tinyml_quantize_input(x);
    }
}
)TM";

const char *const kExampleMain =
    R"TM(/* Example: runs the model once on an embedded input and prints the output bytes and the top
 * class. Exit status 0 when the output equals the host int8 reference computed at export.
 * Generated by TinyML Workbench: @DESCRIPTION@ */
#include <stdio.h>
#include <string.h>

#include "tinyml_model.h"
#include "tm_model.h"
#include "tm_nn_variants.h"

/* @INPUT_SOURCE@ */
static const int8_t example_input[TINYML_MODEL_INPUT_SIZE] = {
@INPUT_VALUES@
};

/* The workbench's host int8 reference (model::Int8Executor, the same C kernels) on example_input. */
static const int8_t expected_output[TINYML_MODEL_OUTPUT_SIZE] = {
@EXPECTED_VALUES@
};

int main(void)
{
    int8_t output[TINYML_MODEL_OUTPUT_SIZE];
    int i, top = 0, rc;
    const char *label;

    rc = tinyml_init();
    if (rc != 0) {
        printf("tinyml_init failed: %d (%s)\n", rc, tm_model_status_name((tm_model_status_t)rc));
        return 1;
    }
    rc = tinyml_invoke(example_input, output);
    if (rc != 0) {
        printf("tinyml_invoke failed: %d (%s)\n", rc, tm_model_status_name((tm_model_status_t)rc));
        return 1;
    }
    printf("output:");
    for (i = 0; i < TINYML_MODEL_OUTPUT_SIZE; ++i) {
        printf(" %d", output[i]);
        if (output[i] > output[top])
            top = i;
    }
    printf("\n");
    label = tinyml_label(top);
    printf("top: %d %s %.4f\n", top, label != NULL ? label : "(no label)",
           (double)tinyml_dequantize_output(output[top]));
    if (memcmp(output, expected_output, sizeof output) != 0) {
        printf("host reference: MISMATCH\n");
        return 2;
    }
    printf("host reference: match\n");
    return 0;
}
)TM";

const char *const kCMakeLists = R"TM(# @NAME@: @DESCRIPTION@
# Generated by TinyML Workbench. A static library (the model, the API in include/ and the
# runtime copied from the workbench's firmware) and an example program.
#   host:   cmake -S . -B build && cmake --build build && ./build/@NAME@_example
#   Arm:    cmake -S . -B build-arm -DCMAKE_TOOLCHAIN_FILE=cmake/arm-none-eabi.cmake
#           cmake --build build-arm
# In your own CMake project: add_subdirectory(@NAME@) and link @NAME@.
cmake_minimum_required(VERSION 3.13)
project(@NAME@ C)

add_library(@NAME@ STATIC
@SOURCES@)
target_include_directories(@NAME@
  PUBLIC include src
@INCLUDE_DIRS@)
set_target_properties(@NAME@ PROPERTIES C_STANDARD 99 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
if(CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
  # The flags the workbench compiles these kernels with, for outputs bit-exact with its
  # host int8 reference.
  target_compile_options(@NAME@ PRIVATE@COMPILE_OPTIONS@)
endif()
if(NOT MSVC)
  target_link_libraries(@NAME@ PUBLIC m)   # frexp in the requantization set-up
endif()

option(@UPPER_NAME@_EXAMPLE "Build the example program" ON)
if(@UPPER_NAME@_EXAMPLE)
  add_executable(@NAME@_example example/main.c)
  target_link_libraries(@NAME@_example PRIVATE @NAME@)
endif()
)TM";

const char *const kToolchain =
    R"TM(# Cross-compiling with the GNU Arm Embedded toolchain (Debian: gcc-arm-none-eabi
# libnewlib-arm-none-eabi). Set TINYML_ARM_FLAGS for your core, e.g. Cortex-M4F with FPU:
#   -DTINYML_ARM_FLAGS="-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16"
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(TINYML_ARM_FLAGS "-mcpu=cortex-m4 -mthumb" CACHE STRING "CPU flags for arm-none-eabi-gcc")
set(CMAKE_C_FLAGS_INIT "${TINYML_ARM_FLAGS}")
# The example links against newlib's stub system calls; firmware brings its own startup,
# linker script and retargeted printf.
set(CMAKE_EXE_LINKER_FLAGS_INIT "--specs=nosys.specs")
)TM";

const char *const kReadme = R"TM(@NAME@ - @DESCRIPTION@
Generated by TinyML Workbench.

Model: input @INPUT_SHAPE@ int8, output @OUTPUT_SHAPE@ int8, package @PACKAGE_BYTES@ bytes
(flash), arena @ARENA_BYTES@ bytes (RAM, static). Classes: @LABELS@

API (include/tinyml_model.h):
  int tinyml_init(void);                                  once; 0 = ok
  int tinyml_invoke(const int8_t *input, int8_t *output); int8 in, int8 scores out
  const char *tinyml_label(int i);                        class name of output i
Inputs are the project's features (its feature block), normalised with the model's mean/std
when it has them, then quantized: tinyml_prepare_input() does both.

Build and run the example on the host (CMake >= 3.13, a C99 compiler):
  cmake -S . -B build && cmake --build build && ./build/@NAME@_example
It prints the output bytes and the top class, and checks them against the workbench's host
int8 reference (exit status 0 = identical).

Cross-compile for a Cortex-M (arm-none-eabi-gcc):
  cmake -S . -B build-arm -DCMAKE_TOOLCHAIN_FILE=cmake/arm-none-eabi.cmake
  cmake --build build-arm
or without CMake, compile every .c file listed in CMakeLists.txt with
  arm-none-eabi-gcc -std=c99 -O2 -mcpu=cortex-m4 -mthumb -ffp-contract=off @INCLUDE_FLAGS@ -c FILE.c
and link the objects into your firmware (add -lm).
Keep -ffp-contract=off: the softmax kernel computes in float, and contracted multiply-adds
change its last bit.

runtime/ is the workbench's firmware runtime (package reader, interpreter, int8 kernels),
copied unchanged. Licence: GPL-3.0-or-later, like TinyML Workbench.
)TM";

const char *const kArduinoSketch =
    R"TM(// @NAME@ example: runs the model once a second on an embedded input and prints the
// output bytes, the top class and the time per inference.
// Generated by TinyML Workbench: @DESCRIPTION@
#include <tinyml_model.h>

// @INPUT_SOURCE@
static const int8_t example_input[TINYML_MODEL_INPUT_SIZE] = {
@INPUT_VALUES@
};

// The workbench's host int8 reference on example_input.
static const int8_t expected_output[TINYML_MODEL_OUTPUT_SIZE] = {
@EXPECTED_VALUES@
};

static int8_t output[TINYML_MODEL_OUTPUT_SIZE];
static int init_status = -1;

void setup()
{
  Serial.begin(115200);
  while (!Serial) {
  }
  init_status = tinyml_init();
  if (init_status != 0) {
    Serial.print("tinyml_init failed: ");
    Serial.println(init_status);
  }
}

void loop()
{
  if (init_status != 0) {
    delay(1000);
    return;
  }
  const unsigned long t0 = micros();
  const int rc = tinyml_invoke(example_input, output);
  const unsigned long us = micros() - t0;
  if (rc != 0) {
    Serial.print("tinyml_invoke failed: ");
    Serial.println(rc);
    delay(1000);
    return;
  }
  int top = 0;
  bool same = true;
  Serial.print("output:");
  for (int i = 0; i < TINYML_MODEL_OUTPUT_SIZE; ++i) {
    Serial.print(' ');
    Serial.print(output[i]);
    if (output[i] > output[top])
      top = i;
    if (output[i] != expected_output[i])
      same = false;
  }
  Serial.println();
  const char *label = tinyml_label(top);
  Serial.print("top: ");
  Serial.print(top);
  Serial.print(' ');
  Serial.println(label != nullptr ? label : "(no label)");
  Serial.print("host reference: ");
  Serial.println(same ? "match" : "MISMATCH");
  Serial.print("microseconds: ");
  Serial.println(us);
  delay(1000);
}
)TM";

const char *const kLibraryProperties = R"TM(name=@NAME@
version=@VERSION@
author=TinyML Workbench (generated)
maintainer=@MAINTAINER@
sentence=@SENTENCE@
paragraph=Int8 model exported by TinyML Workbench with its runtime (package reader, interpreter, int8 kernels). Input @INPUT_SHAPE@, output @OUTPUT_SHAPE@, arena @ARENA_BYTES@ bytes of RAM.
category=Data Processing
url=@URL@
architectures=*
includes=tinyml_model.h
)TM";

QString cmakeUpper(const QString &name)
{
    QString s = name.toUpper();
    s.replace(QLatin1Char('-'), QLatin1Char('_'));
    return s;
}

} // namespace

QStringList CLibraryExporter::runtimeFiles()
{
    const RuntimeManifest m = runtimeManifest();
    return m.sources + m.headers;
}

QByteArray CLibraryExporter::runtimeFile(const QString &relativePath)
{
    initExportRuntimeResource();
    QFile f(kResourceRoot + relativePath);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return f.readAll();
}

std::optional<LibraryExport>
CLibraryExporter::build(const Graph &graph, const LibraryExportOptions &options, QString *error)
{
    const bool arduino = options.layout == LibraryLayout::Arduino;
    const QString name = options.name.isEmpty() ? (arduino ? QStringLiteral("TinyMLModel")
                                                           : QStringLiteral("tinyml_model"))
                                                : options.name;
    static const QRegularExpression validName(QStringLiteral("^[A-Za-z][A-Za-z0-9_-]{0,62}$"));
    if (!validName.match(name).hasMatch()) {
        fail(error,
             QStringLiteral(
                 "library name \"%1\": use a letter, then letters, digits, '_' or '-' (at most 63)")
                 .arg(name));
        return std::nullopt;
    }
    const RuntimeManifest manifest = runtimeManifest();
    if (manifest.sources.isEmpty()) {
        fail(error,
             QStringLiteral(
                 "the firmware runtime is not embedded in this build (resource manifest missing)"));
        return std::nullopt;
    }

    auto facts = modelFacts(graph, error);
    if (!facts)
        return std::nullopt;

    LibraryExport out;
    out.packageBytes = facts->package.size();
    out.arenaBytes = facts->arenaBytes;
    out.inputSize = facts->inputSize;
    out.outputSize = facts->outputSize;
    out.exampleInput = options.exampleInput;
    out.exampleInputSource = options.exampleInputSource;
    if (out.exampleInput.isEmpty()) {
        out.exampleInput = patternInput(facts->inputSize);
        out.exampleInputSource = QStringLiteral("A fixed pseudo-random input (not a real sample).");
    } else if (out.exampleInput.size() != facts->inputSize) {
        fail(error, QStringLiteral("example input has %1 values; the model's input %2 has %3")
                        .arg(out.exampleInput.size())
                        .arg(shapeText(facts->inputShape))
                        .arg(facts->inputSize));
        return std::nullopt;
    }
    model::Int8Executor reference;
    QString runError;
    if (!reference.prepare(graph, &runError)) {
        fail(error,
             QStringLiteral("the host int8 reference cannot run the model: %1").arg(runError));
        return std::nullopt;
    }
    auto expected = reference.run(out.exampleInput, &runError);
    if (!expected) {
        fail(error, QStringLiteral("the host int8 reference failed on the example input: %1")
                        .arg(runError));
        return std::nullopt;
    }
    out.expectedOutput = *expected;

    const QString description =
        commentText(options.modelDescription.isEmpty() ? QStringLiteral("int8 model")
                                                       : options.modelDescription);
    QStringList labelNames;
    for (const QString &l : facts->labels)
        labelNames << l;

    QHash<QString, QString> v;
    v[QStringLiteral("NAME")] = name;
    v[QStringLiteral("UPPER_NAME")] = cmakeUpper(name);
    v[QStringLiteral("DESCRIPTION")] = description;
    v[QStringLiteral("INPUT_SHAPE")] = shapeText(facts->inputShape);
    v[QStringLiteral("OUTPUT_SHAPE")] = shapeText(facts->outputShape);
    v[QStringLiteral("INPUT_SIZE")] = QString::number(facts->inputSize);
    v[QStringLiteral("OUTPUT_SIZE")] = QString::number(facts->outputSize);
    v[QStringLiteral("INPUT_SCALE")] = floatLiteral(facts->inputScale);
    v[QStringLiteral("INPUT_ZERO_POINT")] = QString::number(facts->inputZeroPoint);
    v[QStringLiteral("OUTPUT_SCALE")] = floatLiteral(facts->outputScale);
    v[QStringLiteral("OUTPUT_ZERO_POINT")] = QString::number(facts->outputZeroPoint);
    v[QStringLiteral("LABEL_COUNT")] = QString::number(facts->labels.size());
    v[QStringLiteral("ARENA_BYTES")] = QString::number(facts->arenaBytes);
    v[QStringLiteral("PACKAGE_BYTES")] = QString::number(facts->package.size());
    v[QStringLiteral("HAS_NORMALIZATION")] =
        facts->mean.isEmpty() ? QStringLiteral("0") : QStringLiteral("1");
    v[QStringLiteral("INPUT_SOURCE")] = commentText(out.exampleInputSource);
    v[QStringLiteral("INPUT_VALUES")] = int8List(out.exampleInput, QStringLiteral("    "));
    v[QStringLiteral("EXPECTED_VALUES")] = int8List(out.expectedOutput, QStringLiteral("    "));
    v[QStringLiteral("LABELS")] = labelNames.isEmpty()
                                      ? QStringLiteral("(none)")
                                      : commentText(labelNames.join(QStringLiteral(", ")));
    v[QStringLiteral("VERSION")] = QStringLiteral("%1.0.0").arg(std::max(1, options.version));
    v[QStringLiteral("MAINTAINER")] = commentText(options.maintainer);
    v[QStringLiteral("URL")] = commentText(options.url);
    v[QStringLiteral("SENTENCE")] =
        QStringLiteral("Runs the int8 model \"%1\" exported by TinyML Workbench.").arg(description);

    // model_data.c
    QString data =
        QStringLiteral("/* model_data.c - generated by TinyML Workbench: %1\n"
                       " * TMPK model package, %2 bytes. Do not edit: export again instead. */\n"
                       "#include \"model_data.h\"\n\n#include <stddef.h>\n\n"
                       "const uint8_t tinyml_model_package[TINYML_MODEL_PACKAGE_BYTES] "
                       "TINYML_MODEL_ALIGNED = {\n")
            .arg(description)
            .arg(facts->package.size());
    data += byteList(facts->package, QStringLiteral("    "));
    data += QStringLiteral("\n};\n\nconst char *const tinyml_model_labels[] = {");
    for (const QString &l : facts->labels)
        data += cString(l) + QStringLiteral(", ");
    data += QStringLiteral("NULL};\n\n");
    if (facts->mean.isEmpty()) {
        data += QStringLiteral("const float *const tinyml_model_input_mean = NULL;\n"
                               "const float *const tinyml_model_input_std = NULL;\n");
    } else {
        auto floats = [](const QVector<float> &values) {
            QString s;
            for (int i = 0; i < values.size(); ++i)
                s += (i % 8 == 0 ? QStringLiteral("\n    ") : QStringLiteral(" ")) +
                     floatLiteral(values[i]) + QLatin1Char(',');
            return s;
        };
        data += QStringLiteral("static const float input_mean[] = {%1\n};\nstatic const float "
                               "input_std[] = {%2\n};\n"
                               "const float *const tinyml_model_input_mean = input_mean;\n"
                               "const float *const tinyml_model_input_std = input_std;\n")
                    .arg(floats(facts->mean), floats(facts->stddev));
    }

    // The generated and the runtime files, by role, then placed per layout.
    struct Piece {
        QString role; ///< "api" (public header), "src", "runtime", "example", "meta"
        QString path; ///< C-library path below the folder
        QByteArray bytes;
    };
    QVector<Piece> pieces;
    pieces.push_back({QStringLiteral("api"), QStringLiteral("include/tinyml_model.h"),
                      fill(QString::fromUtf8(kApiHeader), v).toUtf8()});
    pieces.push_back({QStringLiteral("src"), QStringLiteral("src/tinyml_model.c"),
                      fill(QString::fromUtf8(kApiSource), v).toUtf8()});
    pieces.push_back({QStringLiteral("src"), QStringLiteral("src/model_data.h"),
                      fill(QString::fromUtf8(kDataHeader), v).toUtf8()});
    pieces.push_back({QStringLiteral("src"), QStringLiteral("src/model_data.c"), data.toUtf8()});
    QStringList runtimeSources;
    for (const QString &rel : manifest.sources + manifest.headers) {
        const QByteArray bytes = runtimeFile(rel);
        if (bytes.isEmpty()) {
            fail(error,
                 QStringLiteral("runtime file %1 is missing from the embedded resources").arg(rel));
            return std::nullopt;
        }
        pieces.push_back({QStringLiteral("runtime"), QStringLiteral("runtime/") + rel, bytes});
        if (rel.endsWith(QLatin1String(".c")))
            runtimeSources << QStringLiteral("runtime/") + rel;
    }

    const QString root = name + QLatin1Char('/');
    if (!arduino) {
        QStringList sources = {QStringLiteral("src/tinyml_model.c"),
                               QStringLiteral("src/model_data.c")};
        sources += runtimeSources;
        QString sourceLines, includeLines, includeFlags;
        for (const QString &s : sources)
            sourceLines += QStringLiteral("  %1\n").arg(s);
        sourceLines.chop(1);
        for (const QString &dir : manifest.includeDirs) {
            includeLines += QStringLiteral("  PUBLIC runtime/%1\n").arg(dir);
            includeFlags += QStringLiteral(" -Iruntime/%1").arg(dir);
        }
        includeLines.chop(1);
        QString options;
        for (const QString &o : manifest.compileOptions)
            options += QLatin1Char(' ') + o;
        v[QStringLiteral("SOURCES")] = sourceLines;
        v[QStringLiteral("INCLUDE_DIRS")] = includeLines;
        v[QStringLiteral("COMPILE_OPTIONS")] = options;
        v[QStringLiteral("INCLUDE_FLAGS")] = QStringLiteral("-Iinclude -Isrc") + includeFlags;
        for (const Piece &p : pieces)
            out.files.push_back({root + p.path, p.bytes});
        out.files.push_back({root + QStringLiteral("example/main.c"),
                             fill(QString::fromUtf8(kExampleMain), v).toUtf8()});
        out.files.push_back({root + QStringLiteral("CMakeLists.txt"),
                             fill(QString::fromUtf8(kCMakeLists), v).toUtf8()});
        out.files.push_back(
            {root + QStringLiteral("cmake/arm-none-eabi.cmake"), QByteArray(kToolchain)});
        out.files.push_back(
            {root + QStringLiteral("README.txt"), fill(QString::fromUtf8(kReadme), v).toUtf8()});
    } else {
        // Arduino compiles src/ recursively but puts only src/ itself on the include path,
        // so every file goes flat into src/: names must not collide.
        QSet<QString> seen;
        for (const Piece &p : pieces) {
            const QString base = QFileInfo(p.path).fileName();
            if (seen.contains(base)) {
                fail(error,
                     QStringLiteral(
                         "two runtime files are named %1: the Arduino layout needs unique names")
                         .arg(base));
                return std::nullopt;
            }
            seen.insert(base);
            out.files.push_back({root + QStringLiteral("src/") + base, p.bytes});
        }
        const QString example = name + QStringLiteral("Example");
        out.files.push_back({root + QStringLiteral("examples/%1/%1.ino").arg(example),
                             fill(QString::fromUtf8(kArduinoSketch), v).toUtf8()});
        out.files.push_back({root + QStringLiteral("library.properties"),
                             fill(QString::fromUtf8(kLibraryProperties), v).toUtf8()});
    }
    return out;
}

std::optional<LibraryExport> CLibraryExporter::exportGraph(const Graph &graph,
                                                           const QString &zipPath,
                                                           const LibraryExportOptions &options,
                                                           QString *error)
{
    auto out = build(graph, options, error);
    if (!out || !writeZip(zipPath, out->files, error))
        return std::nullopt;
    return out;
}

std::optional<LibraryExport> CLibraryExporter::exportProject(ProjectStore &store, qint64 modelId,
                                                             const QString &zipPath,
                                                             const LibraryExportOptions &options,
                                                             QString *error)
{
    QString storeError;
    std::optional<StoredModel> stored = modelId > 0
                                            ? store.model(modelId, &storeError)
                                            : store.latestModel(ModelKind::Int8, &storeError);
    if (!stored) {
        if (modelId > 0)
            fail(error, QStringLiteral("model %1: not in %2%3")
                            .arg(modelId)
                            .arg(QFileInfo(store.path()).fileName())
                            .arg(storeError.isEmpty() ? QString()
                                                      : QStringLiteral(" (%1)").arg(storeError)));
        else if (storeError.isEmpty() || storeError.contains(QLatin1String("no int8 model")))
            fail(error,
                 QStringLiteral(
                     "%1 has no int8 model yet: train and quantize one first (`tinyml train`, "
                     "`tinyml quantize`)")
                     .arg(QFileInfo(store.path()).fileName()));
        else
            fail(error, storeError);
        return std::nullopt;
    }
    if (stored->kind != ModelKind::Int8) {
        fail(error,
             QStringLiteral(
                 "model %1 (\"%2\") is a float model: export an int8 model (run `tinyml quantize`, "
                 "then pass its id)")
                 .arg(stored->id)
                 .arg(stored->name));
        return std::nullopt;
    }
    QString graphError;
    auto graph = Graph::deserialize(stored->graph, &graphError);
    if (!graph) {
        fail(error, QStringLiteral("model %1: its stored graph cannot be read: %2")
                        .arg(stored->id)
                        .arg(graphError));
        return std::nullopt;
    }
    LibraryExportOptions opt = options;
    if (opt.modelDescription.isEmpty())
        opt.modelDescription = QStringLiteral("model %1 \"%2\" of project %3")
                                   .arg(stored->id)
                                   .arg(stored->name, QFileInfo(store.path()).completeBaseName());
    if (opt.exampleInput.isEmpty()) {
        // A real test sample makes the example meaningful: its top class should be its label.
        const QJsonObject fp = graph->meta.value(QStringLiteral("features")).toObject();
        std::optional<features::FeatureParams> params =
            fp.isEmpty()
                ? std::optional<features::FeatureParams>(features::featureParams(store.settings()))
                : features::FeatureParams::fromJson(fp, nullptr);
        QString featureError;
        std::optional<features::FeatureSet> set;
        if (params)
            set = features::computeFeatures(store, *params, {}, &featureError);
        model::Int8Executor exec;
        if (set && set->size() > 0 && exec.prepare(*graph, nullptr)) {
            int row = 0;
            for (int i = 0; i < set->size(); ++i)
                if (set->splits[i] == Split::Test) {
                    row = i;
                    break;
                }
            QVector<float> x = set->rowVector(row);
            const QJsonObject norm =
                graph->meta.value(QStringLiteral("input_normalization")).toObject();
            const QJsonArray mean = norm.value(QStringLiteral("mean")).toArray();
            const QJsonArray sd = norm.value(QStringLiteral("std")).toArray();
            if (mean.size() == x.size() && sd.size() == x.size())
                for (int i = 0; i < x.size(); ++i)
                    x[i] = (x[i] - float(mean[i].toDouble())) / float(sd[i].toDouble());
            const qint64 inputSize = exec.graph().tensors[exec.graph().inputIndex()].elementCount();
            if (x.size() == inputSize) {
                opt.exampleInput = exec.quantizeInput(x);
                opt.exampleInputSource =
                    QStringLiteral("Features of %1 sample %2, labelled \"%3\".")
                        .arg(set->splits[row] == Split::Test ? QStringLiteral("test")
                                                             : QStringLiteral("train"))
                        .arg(set->sampleIds[row])
                        .arg(set->labelNames.value(set->labels[row]));
            }
        }
    }
    auto out = exportGraph(*graph, zipPath, opt, error);
    if (out)
        out->modelId = stored->id;
    return out;
}

bool CLibraryExporter::writeZip(const QString &path, const QVector<ExportedFile> &files,
                                QString *error)
{
    const QFileInfo info(path);
    const QFileInfo dir(info.absolutePath());
    if (!dir.exists())
        return fail(error,
                    QStringLiteral("%1: folder %2 does not exist").arg(path, dir.filePath()));
    if (!dir.isDir() || !dir.isWritable() ||
        (info.exists() && (!info.isFile() || !info.isWritable())))
        return fail(
            error,
            QStringLiteral("%1: cannot write here (permission denied or not a file)").arg(path));

    int zerr = 0;
    zip_t *za = zip_open(QFile::encodeName(path).constData(), ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    if (!za) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, zerr);
        const QString why = QString::fromUtf8(zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return fail(error, QStringLiteral("%1: cannot create the zip: %2").arg(path, why));
    }
    // A fixed time (2026-01-01 00:00 local) keeps equal exports byte-identical.
    const time_t stamp = 1767225600;
    for (const ExportedFile &f : files) {
        // libzip reads the buffer at zip_close(): f.bytes outlives it.
        zip_source_t *src =
            zip_source_buffer(za, f.bytes.constData(), zip_uint64_t(f.bytes.size()), 0);
        const zip_int64_t index = src ? zip_file_add(za, f.path.toUtf8().constData(), src,
                                                     ZIP_FL_ENC_UTF_8 | ZIP_FL_OVERWRITE)
                                      : -1;
        if (index < 0) {
            const QString why = QString::fromUtf8(zip_strerror(za));
            if (src)
                zip_source_free(src);
            zip_discard(za);
            return fail(error, QStringLiteral("%1: cannot add %2: %3").arg(path, f.path, why));
        }
        zip_file_set_mtime(za, zip_uint64_t(index), stamp, 0);
    }
    if (zip_close(za) != 0) {
        const QString why = QString::fromUtf8(zip_strerror(za));
        zip_discard(za);
        return fail(error, QStringLiteral("%1: cannot write the zip: %2").arg(path, why));
    }
    return true;
}

std::optional<QVector<ExportedFile>> CLibraryExporter::readZip(const QString &path, QString *error)
{
    int zerr = 0;
    zip_t *za = zip_open(QFile::encodeName(path).constData(), ZIP_RDONLY, &zerr);
    if (!za) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, zerr);
        fail(error, QStringLiteral("%1: cannot open the zip: %2")
                        .arg(path, QString::fromUtf8(zip_error_strerror(&ze))));
        zip_error_fini(&ze);
        return std::nullopt;
    }
    QVector<ExportedFile> files;
    const zip_int64_t n = zip_get_num_entries(za, 0);
    for (zip_int64_t i = 0; i < n; ++i) {
        zip_stat_t st;
        zip_stat_init(&st);
        zip_file_t *zf = nullptr;
        if (zip_stat_index(za, zip_uint64_t(i), 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE) ||
            st.size > zip_uint64_t(512) * 1024 * 1024 ||
            !(zf = zip_fopen_index(za, zip_uint64_t(i), 0))) {
            fail(error, QStringLiteral("%1: entry %2: %3")
                            .arg(path)
                            .arg(i)
                            .arg(QString::fromUtf8(zip_strerror(za))));
            zip_discard(za);
            return std::nullopt;
        }
        ExportedFile f;
        f.path = QString::fromUtf8(st.name);
        f.bytes.resize(qsizetype(st.size));
        const zip_int64_t got = zip_fread(zf, f.bytes.data(), st.size);
        zip_fclose(zf);
        if (got != zip_int64_t(st.size)) {
            fail(error, QStringLiteral("%1: entry %2 is truncated or corrupt").arg(path, f.path));
            zip_discard(za);
            return std::nullopt;
        }
        files.push_back(f);
    }
    zip_discard(za);
    return files;
}

} // namespace tinyml::deploy
