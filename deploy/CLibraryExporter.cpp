#include "CLibraryExporter.h"

#include "ImpulseReplay.h"
#include "KernelScratch.h"
#include "LiveClassifier.h"
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
    /// The impulse's files (firmware-agent/impulse and dsp), exported only with an impulse.
    QStringList impulseSources, impulseHeaders, impulseIncludeDirs, impulseCompileOptions;
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
        m.impulseSources = list("impulse_sources");
        m.impulseHeaders = list("impulse_headers");
        m.impulseIncludeDirs = list("impulse_include_dirs");
        m.impulseCompileOptions = list("impulse_compile_options");
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
    qint64 impulseWorkBytes = 0;  ///< tm_impulse_work_bytes, with an impulse
};

std::optional<ModelFacts> modelFacts(const Graph &source, const std::optional<ImpulseSpec> &impulse,
                                     QString *error)
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
    writer.setImpulse(impulse);
    QString writeError;
    auto package = writer.write(g, &writeError);
    if (!package) {
        fail(error, QStringLiteral("cannot build the model package%1: %2")
                        .arg(impulse ? QStringLiteral(" with its impulse") : QString(), writeError));
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
    if (impulse) {
        // The device's impulse loader (tm_impulse_load, through the host replay) checks the
        // impulse section against the model and sizes the work buffer the library reserves.
        ImpulseReplay replay;
        QString loadError;
        if (!replay.load(f.package, &loadError)) {
            fail(error, QStringLiteral("the firmware's impulse loader refuses the package: %1")
                            .arg(loadError));
            return std::nullopt;
        }
        f.impulseWorkBytes = replay.workBytes();
        f.arenaBytes = std::max(f.arenaBytes, replay.arenaBytes());
    }
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

/** Name of a status code the tinyml_* functions return ("ok", "crc", ...). */
const char *tinyml_status_name(int rc);

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

/** 1 when this library carries the model's whole impulse (the tinyml_impulse_* API below). */
#define TINYML_HAS_IMPULSE @HAS_IMPULSE@
@IMPULSE_API@
#ifdef __cplusplus
}
#endif

#endif /* TINYML_MODEL_H */
)TM";

/* The impulse part of tinyml_model.h (only in exports with an impulse). */
const char *const kImpulseApi = R"TM(
/* ---- The impulse: raw sensor samples in, one decision per window out ----------------------
 * What the model was trained on, run continuously: the sensor's raw int16 samples (channels
 * interleaved, frame after frame) -> windows of TINYML_WINDOW_FRAMES frames every
 * TINYML_STRIDE_FRAMES frames -> the @BLOCK@ feature block -> normalisation -> the int8 model
 * -> post-processing (averaging over @AVERAGE@ window(s), per-class thresholds, suppression of
 * a repeated detection within @SUPPRESSION_MS@ ms, background classes never detected).
 * The same C code as the workbench's host replay and its agent: equal samples give equal
 * decisions, bit for bit.
 *
 * Usage:
 *     static void on_decision(const tinyml_decision_t *d, void *user)
 *     {
 *         if (d->flags & TINYML_DETECTION)
 *             printf("%s at frame %lu\n", tinyml_label(d->decision), (unsigned long)d->window_end);
 *     }
 *     ...
 *     if (tinyml_impulse_init() != 0) { ... }          // once; tinyml_status_name(rc)
 *     tinyml_impulse_set_callback(on_decision, NULL);
 *     for (;;) {
 *         int16_t block[32 * TINYML_CHANNELS];          // any number of frames per call
 *         read_sensor(block, 32);                       // at TINYML_SAMPLE_RATE_HZ
 *         if (tinyml_impulse_push(block, 32) < 0) { ... }
 *     }
 * Feed the samples in the sensor's raw unit: physical value = raw * TINYML_RAW_SCALE
 * (@RAW_UNIT@), as the workbench's recordings were converted. Frames are counted from
 * tinyml_impulse_init() / tinyml_impulse_reset(); window k ends at frame
 * TINYML_WINDOW_FRAMES + k * TINYML_STRIDE_FRAMES (one past its last frame).
 *
 * Status codes: 0 = ok; 1..99 = a tm_model_status_t (loading or running the model);
 * TINYML_IMPULSE_STATUS_BASE + a tm_impulse_status_t (tm_impulse.h); tinyml_status_name()
 * gives the name of either. Not reentrant, no heap: static buffers sized at export (arena, work buffer,
 * ring). */
#define TINYML_SENSOR_KIND @SENSOR_KIND@            /* 0 accelerometer, 1 microphone */
#define TINYML_CHANNELS @CHANNELS@
#define TINYML_SAMPLE_RATE_HZ @SAMPLE_RATE@u
#define TINYML_WINDOW_FRAMES @WINDOW@u
#define TINYML_STRIDE_FRAMES @STRIDE@u
#define TINYML_RAW_SCALE @RAW_SCALE@
#define TINYML_CLASS_COUNT @CLASS_COUNT@
/** decision when the averaged top score is below its class threshold */
#define TINYML_UNCERTAIN 0xFFu
/** flags of a decision */
#define TINYML_DETECTION 0x01u   /* a new detection of `decision` (an event) */
#define TINYML_SUPPRESSED 0x02u  /* a class again within its suppression time: no event */
#define TINYML_BACKGROUND 0x04u  /* a background class: never an event */
/** Work buffer of one window (float window, DSP scratch, features): tm_impulse_work_bytes(). */
#ifndef TINYML_IMPULSE_WORK_BYTES
#define TINYML_IMPULSE_WORK_BYTES @WORK_BYTES@
#endif
/** The sample ring tinyml_impulse_push() keeps, in frames. */
#define TINYML_RING_FRAMES (TINYML_WINDOW_FRAMES + TINYML_STRIDE_FRAMES)
#define TINYML_IMPULSE_STATUS_BASE 100

typedef struct {
    uint64_t window_end;               /**< one past the window's last frame */
    uint8_t top_class;                 /**< argmax of the averaged scores */
    uint8_t decision;                  /**< top_class, or TINYML_UNCERTAIN */
    uint8_t flags;                     /**< TINYML_DETECTION / _SUPPRESSED / _BACKGROUND */
    float score;                       /**< averaged score of top_class, 0..1 for softmax */
    int8_t scores[TINYML_CLASS_COUNT]; /**< this window's int8 model outputs (see
                                            tinyml_dequantize_output) */
} tinyml_decision_t;

/** Called by tinyml_impulse_push() for every window, in order, on the caller's thread. It
 *  must not call tinyml_impulse_push() itself. */
typedef void (*tinyml_decision_cb)(const tinyml_decision_t *d, void *user);

/** Loads the model (tinyml_init) and its impulse, checks the static buffers, resets the stream.
 *  Call once before the other tinyml_impulse_* calls. */
int tinyml_impulse_init(void);

/** Forgets the buffered samples and the post-processing history; frames count from 0 again. */
void tinyml_impulse_reset(void);

/** The function tinyml_impulse_push() calls per window (NULL: none). */
void tinyml_impulse_set_callback(tinyml_decision_cb cb, void *user);

/** Appends `frames` frames (TINYML_CHANNELS int16 values each, interleaved) and computes every
 *  window they complete. Returns the number of windows computed (>= 0), or minus a status
 *  code; after an error, call tinyml_impulse_reset(). */
int tinyml_impulse_push(const int16_t *samples, uint32_t frames);

/** One window given whole (TINYML_WINDOW_FRAMES frames, interleaved), as the next window of the
 *  stream: its window_end advances by TINYML_STRIDE_FRAMES, the post-processing carries on.
 *  Use either this or tinyml_impulse_push() between resets. Returns 0 or a status code. */
int tinyml_impulse_run_window(const int16_t *window, tinyml_decision_t *out);
)TM";

/* The impulse part of tinyml_model.c. */
const char *const kImpulseSource = R"TM(
/* ---- the impulse (tm_impulse.h) ------------------------------------------------------- */
#include "tm_impulse.h"

static tm_impulse_t tinyml_imp;
static int tinyml_imp_ready;
static tm_impulse_post_params_t tinyml_post_params;
static tm_impulse_post_state_t tinyml_post;
/* float window + DSP scratch + features of one window */
static uint32_t tinyml_work[(TINYML_IMPULSE_WORK_BYTES + 3) / 4] TINYML_MODEL_ALIGNED;
static int16_t tinyml_ring[TINYML_RING_FRAMES * TINYML_CHANNELS];
static uint32_t tinyml_ring_head;    /* ring frame the next sample frame goes to */
static uint64_t tinyml_frames;       /* frames received since the reset */
static uint64_t tinyml_next_end;     /* window_end of the next window */
static tinyml_decision_cb tinyml_cb;
static void *tinyml_cb_user;

void tinyml_impulse_reset(void)
{
    tinyml_ring_head = 0;
    tinyml_frames = 0;
    tinyml_next_end = TINYML_WINDOW_FRAMES;
    tm_impulse_post_reset(&tinyml_post);
}

int tinyml_impulse_init(void)
{
    tm_impulse_status_t s;
    int rc;
    tinyml_imp_ready = 0;
    rc = tinyml_init();
    if (rc != 0)
        return rc;
    s = tm_impulse_load(&tinyml_imp, &tinyml_model);
    if (s != TM_IMPULSE_OK)
        return TINYML_IMPULSE_STATUS_BASE + (int)s;
    /* the constants above and the static buffers were made for this package */
    if (tinyml_imp.channels != TINYML_CHANNELS || tinyml_imp.sample_rate_hz != TINYML_SAMPLE_RATE_HZ)
        return TINYML_IMPULSE_STATUS_BASE + (int)TM_IMPULSE_ERR_SENSOR;
    if (tinyml_imp.window != TINYML_WINDOW_FRAMES || tinyml_imp.stride != TINYML_STRIDE_FRAMES)
        return TINYML_IMPULSE_STATUS_BASE + (int)TM_IMPULSE_ERR_WINDOW;
    if (tinyml_imp.class_count != TINYML_CLASS_COUNT)
        return TINYML_IMPULSE_STATUS_BASE + (int)TM_IMPULSE_ERR_POST;
    if (tm_impulse_work_bytes(&tinyml_imp) > sizeof tinyml_work)
        return TINYML_IMPULSE_STATUS_BASE + (int)TM_IMPULSE_ERR_WORK;
    tm_impulse_post_params(&tinyml_imp, &tinyml_post_params);
    tinyml_impulse_reset();
    tinyml_imp_ready = 1;
    return 0;
}

void tinyml_impulse_set_callback(tinyml_decision_cb cb, void *user)
{
    tinyml_cb = cb;
    tinyml_cb_user = user;
}

/* The window ending at tinyml_next_end, given as up to two segments, then its decision. */
static int tinyml_impulse_window(const int16_t *seg_a, uint32_t n_a, const int16_t *seg_b,
                                 uint32_t n_b, tinyml_decision_t *out)
{
    tm_impulse_decision_t d;
    tm_impulse_status_t s = tm_impulse_run_window(
        &tinyml_imp, seg_a, n_a, seg_b, n_b, (uint8_t *)tinyml_work, sizeof tinyml_work,
        tinyml_arena, (uint32_t)sizeof tinyml_arena, out->scores, NULL);
    if (s != TM_IMPULSE_OK)
        return TINYML_IMPULSE_STATUS_BASE + (int)s;
    tm_impulse_post_step(&tinyml_post_params, &tinyml_post, out->scores, tinyml_next_end, &d);
    out->window_end = tinyml_next_end;
    out->top_class = d.top_class;
    out->decision = d.decision;
    out->flags = d.flags;
    out->score = d.score;
    tinyml_next_end += TINYML_STRIDE_FRAMES;
    return 0;
}

int tinyml_impulse_push(const int16_t *samples, uint32_t frames)
{
    int windows = 0;
    if (!tinyml_imp_ready || (samples == NULL && frames > 0))
        return -(TINYML_IMPULSE_STATUS_BASE + (int)TM_IMPULSE_ERR_ARGUMENT);
    while (frames > 0) {
        /* Copy up to the end of the ring and up to the next window's end: the frames a
         * pending window needs are never overwritten (it needs the last WINDOW frames, and
         * the ring holds WINDOW + STRIDE). */
        uint32_t n = frames;
        const uint64_t missing = tinyml_next_end - tinyml_frames;
        if (n > TINYML_RING_FRAMES - tinyml_ring_head)
            n = TINYML_RING_FRAMES - tinyml_ring_head;
        if ((uint64_t)n > missing)
            n = (uint32_t)missing;
        memcpy(tinyml_ring + (size_t)tinyml_ring_head * TINYML_CHANNELS, samples,
               (size_t)n * TINYML_CHANNELS * sizeof(int16_t));
        samples += (size_t)n * TINYML_CHANNELS;
        frames -= n;
        tinyml_frames += n;
        tinyml_ring_head += n;
        if (tinyml_ring_head == TINYML_RING_FRAMES)
            tinyml_ring_head = 0;
        if (tinyml_frames == tinyml_next_end) {
            /* the window is the WINDOW frames before the head, wrapping around the ring */
            tinyml_decision_t d;
            const uint32_t start =
                (tinyml_ring_head + TINYML_RING_FRAMES - TINYML_WINDOW_FRAMES) % TINYML_RING_FRAMES;
            const uint32_t n_a = TINYML_RING_FRAMES - start < TINYML_WINDOW_FRAMES
                                     ? TINYML_RING_FRAMES - start
                                     : TINYML_WINDOW_FRAMES;
            const int rc = tinyml_impulse_window(tinyml_ring + (size_t)start * TINYML_CHANNELS, n_a,
                                                 tinyml_ring, TINYML_WINDOW_FRAMES - n_a, &d);
            if (rc != 0)
                return -rc;
            if (windows < 0x7fffffff)
                ++windows;
            if (tinyml_cb != NULL)
                tinyml_cb(&d, tinyml_cb_user);
        }
    }
    return windows;
}

int tinyml_impulse_run_window(const int16_t *window, tinyml_decision_t *out)
{
    if (!tinyml_imp_ready || window == NULL || out == NULL)
        return TINYML_IMPULSE_STATUS_BASE + (int)TM_IMPULSE_ERR_ARGUMENT;
    return tinyml_impulse_window(window, TINYML_WINDOW_FRAMES, NULL, 0, out);
}

const char *tinyml_status_name(int rc)
{
    if (rc >= TINYML_IMPULSE_STATUS_BASE)
        return tm_impulse_status_name((tm_impulse_status_t)(rc - TINYML_IMPULSE_STATUS_BASE));
    return tm_model_status_name((tm_model_status_t)rc);
}
)TM";

/* Without an impulse, tinyml_status_name() still names the model's codes. */
const char *const kModelStatusName = R"TM(
const char *tinyml_status_name(int rc)
{
    return tm_model_status_name((tm_model_status_t)rc);
}
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

const char *const kImpulseExampleMain =
    R"TM(/* Example: the impulse on a recording. Reads raw int16 samples (little-endian,
 * TINYML_CHANNELS values per frame interleaved, at TINYML_SAMPLE_RATE_HZ) from the file given
 * on the command line - or, without one, makes a synthetic test signal - pushes them into
 * tinyml_impulse_push() in chunks of varying size, as a sensor driver would, and prints one
 * line per window:
 *   window <window_end> top <class> decision <class|uncertain> flags <f> score <float>
 *   bits <score's IEEE-754 bits, hex> scores <int8 per class>[ detected <label>]
 * Exit status 0 when every push succeeded.
 * Generated by TinyML Workbench: @DESCRIPTION@ */
#include <stdio.h>
#include <string.h>

#include "tinyml_model.h"

/* chunk sizes in frames, cycled: single frames, odd sizes, more than the ring at once */
static const uint32_t chunk_frames[] = {1, 7, 3, 64, 13, 250, 2, 31, 97, 5, 1000, 17};
#define MAX_CHUNK 1000u

static unsigned char chunk_bytes[MAX_CHUNK * TINYML_CHANNELS * 2];
static int16_t chunk_samples[MAX_CHUNK * TINYML_CHANNELS];
static unsigned long windows_seen, detections;

/* A uint64_t in decimal, without relying on printf's long long support (newlib-nano). */
static const char *u64_text(uint64_t v, char *buf)
{
    char *p = buf + 20;
    *p = 0;
    do {
        *--p = (char)('0' + (int)(v % 10u));
        v /= 10u;
    } while (v != 0);
    return p;
}

static void on_decision(const tinyml_decision_t *d, void *user)
{
    char num[21];
    uint32_t bits;
    int i;
    (void)user;
    memcpy(&bits, &d->score, sizeof bits);
    printf("window %s top %u decision ", u64_text(d->window_end, num), (unsigned)d->top_class);
    if (d->decision == TINYML_UNCERTAIN)
        printf("uncertain");
    else
        printf("%u", (unsigned)d->decision);
    printf(" flags %u score %.6f bits %08lx scores", (unsigned)d->flags, (double)d->score,
           (unsigned long)bits);
    for (i = 0; i < TINYML_CLASS_COUNT; ++i)
        printf(" %d", (int)d->scores[i]);
    if (d->flags & TINYML_DETECTION) {
        const char *label = tinyml_label(d->decision);
        printf(" detected %s", label != NULL ? label : "?");
        ++detections;
    }
    printf("\n");
    ++windows_seen;
}

/* A deterministic test signal when no recording is given: a slow and a fast triangle wave per
 * channel over a little noise, the fast one switched on and off every few windows. */
static void synthetic(uint64_t first_frame, uint32_t frames, int16_t *out)
{
    static uint32_t rng = 0x2545f491u;
    uint32_t f;
    int c;
    for (f = 0; f < frames; ++f) {
        const uint64_t t = first_frame + f;
        const int on = (int)((t / (4u * TINYML_WINDOW_FRAMES)) % 2u);
        for (c = 0; c < TINYML_CHANNELS; ++c) {
            const int slow = (int)((t * (3u + (unsigned)c)) % 200u) - 100;
            const int fast = (int)((t * (37u + (unsigned)c)) % 40u) - 20;
            rng = rng * 1664525u + 1013904223u;
            out[f * TINYML_CHANNELS + c] = (int16_t)(40 * (slow < 0 ? -slow : slow) - 2000 +
                                                     (on ? 300 * fast : 0) +
                                                     (int)(rng >> 24) - 128);
        }
    }
}

int main(int argc, char **argv)
{
    FILE *in = NULL;
    uint64_t pushed = 0;
    uint64_t total = 64u * TINYML_STRIDE_FRAMES + TINYML_WINDOW_FRAMES; /* synthetic length */
    unsigned chunk = 0;
    int rc = tinyml_impulse_init();
    if (rc != 0) {
        printf("tinyml_impulse_init failed: %d (%s)\n", rc, tinyml_status_name(rc));
        return 1;
    }
    tinyml_impulse_set_callback(on_decision, NULL);
    if (argc > 1) {
        in = fopen(argv[1], "rb");
        if (in == NULL) {
            printf("%s: cannot open\n", argv[1]);
            return 1;
        }
        printf("recording: %s\n", argv[1]);
    } else {
        printf("no recording given: a synthetic test signal of %lu frames\n", (unsigned long)total);
    }
    printf("impulse: %u channel(s) at %u Hz, window %u frames, stride %u frames, %d classes\n",
           (unsigned)TINYML_CHANNELS, (unsigned)TINYML_SAMPLE_RATE_HZ,
           (unsigned)TINYML_WINDOW_FRAMES, (unsigned)TINYML_STRIDE_FRAMES, TINYML_CLASS_COUNT);
    for (;;) {
        uint32_t want = chunk_frames[chunk++ % (sizeof chunk_frames / sizeof chunk_frames[0])];
        uint32_t got, i;
        if (in != NULL) {
            const size_t frame_bytes = 2u * TINYML_CHANNELS;
            got = (uint32_t)(fread(chunk_bytes, 1, (size_t)want * frame_bytes, in) / frame_bytes);
            for (i = 0; i < got * TINYML_CHANNELS; ++i)
                chunk_samples[i] = (int16_t)(uint16_t)(chunk_bytes[2 * i] |
                                                       (uint16_t)(chunk_bytes[2 * i + 1] << 8));
        } else {
            got = total - pushed < want ? (uint32_t)(total - pushed) : want;
            synthetic(pushed, got, chunk_samples);
        }
        if (got == 0)
            break;
        rc = tinyml_impulse_push(chunk_samples, got);
        if (rc < 0) {
            printf("tinyml_impulse_push failed: %d (%s)\n", -rc, tinyml_status_name(-rc));
            return 1;
        }
        pushed += got;
    }
    if (in != NULL)
        fclose(in);
    printf("windows: %lu detections: %lu\n", windows_seen, detections);
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
@EXAMPLE_TEXT@

Cross-compile for a Cortex-M (arm-none-eabi-gcc):
  cmake -S . -B build-arm -DCMAKE_TOOLCHAIN_FILE=cmake/arm-none-eabi.cmake
  cmake --build build-arm
or without CMake, compile every .c file listed in CMakeLists.txt with
  arm-none-eabi-gcc -std=c99 -O2 -mcpu=cortex-m4 -mthumb@COMPILE_OPTIONS@ @INCLUDE_FLAGS@ -c FILE.c
and link the objects into your firmware (add -lm).
Keep -ffp-contract=off: contracted multiply-adds would change the last bit of the runtime's
float code (feature extraction, parameter set-up); the int8 kernels are integer only.
@IMPULSE_README@
runtime/ is the workbench's firmware runtime (package reader, interpreter, int8 kernels@RUNTIME_EXTRA@),
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

const char *const kImpulseArduinoSketch =
    R"TM(// @NAME@ example: the impulse, run continuously. Reads the sensor at TINYML_SAMPLE_RATE_HZ
// (replace read_sensor() with your sensor's driver; physical value = raw * TINYML_RAW_SCALE),
// pushes the samples in blocks and prints every detection with the time per block.
// Generated by TinyML Workbench: @DESCRIPTION@
#include <tinyml_model.h>

static const uint32_t kBlockFrames = 16;
static int16_t block[kBlockFrames * TINYML_CHANNELS];
static int init_status = -1;
static uint32_t frame_counter;

// A stand-in signal so the sketch runs without a sensor: replace with your driver.
static void read_sensor(int16_t *frame)
{
  for (int c = 0; c < TINYML_CHANNELS; ++c)
    frame[c] = (int16_t)((int)((frame_counter * (7u + c)) % 200u) * 40 - 4000);
  ++frame_counter;
}

static void on_decision(const tinyml_decision_t *d, void *)
{
  if (!(d->flags & TINYML_DETECTION))
    return;
  Serial.print("detected ");
  Serial.print(tinyml_label(d->decision));
  Serial.print(" score ");
  Serial.print(d->score, 3);
  Serial.print(" at frame ");
  Serial.println((unsigned long)d->window_end);
}

void setup()
{
  Serial.begin(115200);
  while (!Serial) {
  }
  init_status = tinyml_impulse_init();
  if (init_status != 0) {
    Serial.print("tinyml_impulse_init failed: ");
    Serial.println(tinyml_status_name(init_status));
    return;
  }
  tinyml_impulse_set_callback(on_decision, nullptr);
}

void loop()
{
  if (init_status != 0) {
    delay(1000);
    return;
  }
  const unsigned long period_us = 1000000UL / TINYML_SAMPLE_RATE_HZ;
  for (uint32_t f = 0; f < kBlockFrames; ++f) {
    read_sensor(block + f * TINYML_CHANNELS);
    delayMicroseconds(period_us);
  }
  const unsigned long t0 = micros();
  const int rc = tinyml_impulse_push(block, kBlockFrames);
  const unsigned long us = micros() - t0;
  if (rc < 0) {
    Serial.print("tinyml_impulse_push failed: ");
    Serial.println(tinyml_status_name(-rc));
    tinyml_impulse_reset();
  } else if (rc > 0) {
    Serial.print("windows: ");
    Serial.print(rc);
    Serial.print(" microseconds: ");
    Serial.println(us);
  }
}
)TM";

const char *const kImpulseReadme = R"TM(
The impulse (package version 2): the model runs on raw sensor samples, continuously.
  Sensor: @SENSOR_NAME@, @CHANNELS@ channel(s) at @SAMPLE_RATE@ Hz, raw int16 x @RAW_SCALE_TEXT@
  Window: @WINDOW@ frames, a new window every @STRIDE@ frames; feature block: @BLOCK@
  Post-processing: average of @AVERAGE@ window(s), thresholds @THRESHOLDS@, suppression
  @SUPPRESSION_MS@ ms, background classes: @BACKGROUND@
  RAM (static): arena @ARENA_BYTES@ + work buffer @WORK_BYTES@ + ring @RING_BYTES@ bytes.
API (include/tinyml_model.h, next to the model-only calls above):
  int tinyml_impulse_init(void);                                once; 0 = ok
  void tinyml_impulse_set_callback(tinyml_decision_cb cb, void *user);
  int tinyml_impulse_push(const int16_t *samples, uint32_t frames);
      raw samples, channels interleaved, any number of frames per call; calls cb once per
      complete window with a tinyml_decision_t {window_end, top_class, decision (a class or
      TINYML_UNCERTAIN), flags (TINYML_DETECTION / _SUPPRESSED / _BACKGROUND), score,
      scores[]}; returns the windows computed, or minus a status code
  int tinyml_impulse_run_window(const int16_t *window, tinyml_decision_t *out);
      one whole window (instead of push)
  void tinyml_impulse_reset(void);
Usage:
  static void on_decision(const tinyml_decision_t *d, void *user)
  {
      if (d->flags & TINYML_DETECTION)
          printf("%s\n", tinyml_label(d->decision));
  }
  tinyml_impulse_init();
  tinyml_impulse_set_callback(on_decision, NULL);
  for (;;) { read_sensor(block, n); tinyml_impulse_push(block, n); }
The example reads a recording of raw int16 samples (little-endian, interleaved):
  ./build/@NAME@_example recording.raw
and prints one line per window; the workbench's host replay gives the same decisions, bit for
bit. Without a file it runs on a synthetic test signal. The impulse's float code (DSP blocks)
needs -ffp-contract=off -fno-math-errno for bit-exact results (CMakeLists.txt sets them).
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
    return m.sources + m.headers + m.impulseSources + m.impulseHeaders;
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

    const bool withImpulse = options.impulse.has_value();
    auto facts = modelFacts(graph, options.impulse, error);
    if (!facts)
        return std::nullopt;

    LibraryExport out;
    out.packageBytes = facts->package.size();
    out.arenaBytes = facts->arenaBytes;
    out.inputSize = facts->inputSize;
    out.outputSize = facts->outputSize;
    out.package = facts->package;
    out.impulse = options.impulse;
    if (withImpulse) {
        out.impulseWorkBytes = facts->impulseWorkBytes;
        out.ringBytes = qint64(options.impulse->windowFrames + options.impulse->strideFrames) *
                        options.impulse->channels * 2;
    }
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
    v[QStringLiteral("HAS_IMPULSE")] = withImpulse ? QStringLiteral("1") : QStringLiteral("0");
    v[QStringLiteral("IMPULSE_README")] = QString();
    v[QStringLiteral("RUNTIME_EXTRA")] = QString();
    v[QStringLiteral("EXAMPLE_TEXT")] = QStringLiteral(
        "It prints the output bytes and the top class, and checks them against the workbench's "
        "host\nint8 reference (exit status 0 = identical).");
    if (withImpulse) {
        const ImpulseSpec &imp = *options.impulse;
        const bool mic = imp.sensorKind == ImpulseSensorKind::Microphone;
        QStringList thresholds, background;
        for (int c = 0; c < imp.classCount(); ++c) {
            thresholds << QStringLiteral("%1 %2").arg(imp.labels[c]).arg(double(imp.post.thresholds.value(c)));
            if (imp.post.background.value(c))
                background << imp.labels[c];
        }
        v[QStringLiteral("BLOCK")] = features::blockKindName(imp.features.kind);
        v[QStringLiteral("AVERAGE")] = QString::number(imp.post.averageWindows);
        v[QStringLiteral("SUPPRESSION_MS")] = QString::number(imp.post.suppressionMs);
        v[QStringLiteral("RAW_UNIT")] =
            mic ? QStringLiteral("full scale = 1.0") : QStringLiteral("acceleration in g");
        v[QStringLiteral("SENSOR_KIND")] = QString::number(int(imp.sensorKind));
        v[QStringLiteral("SENSOR_NAME")] =
            mic ? QStringLiteral("microphone") : QStringLiteral("accelerometer");
        v[QStringLiteral("CHANNELS")] = QString::number(imp.channels);
        v[QStringLiteral("SAMPLE_RATE")] = QString::number(imp.sampleRateHz);
        v[QStringLiteral("WINDOW")] = QString::number(imp.windowFrames);
        v[QStringLiteral("STRIDE")] = QString::number(imp.strideFrames);
        v[QStringLiteral("RAW_SCALE")] = floatLiteral(imp.rawScale);
        v[QStringLiteral("RAW_SCALE_TEXT")] = QString::number(double(imp.rawScale), 'g', 9);
        v[QStringLiteral("CLASS_COUNT")] = QString::number(imp.classCount());
        v[QStringLiteral("WORK_BYTES")] = QString::number(out.impulseWorkBytes);
        v[QStringLiteral("RING_BYTES")] = QString::number(out.ringBytes);
        v[QStringLiteral("THRESHOLDS")] = commentText(thresholds.join(QStringLiteral(", ")));
        v[QStringLiteral("BACKGROUND")] = background.isEmpty()
                                              ? QStringLiteral("none")
                                              : commentText(background.join(QStringLiteral(", ")));
        v[QStringLiteral("EXAMPLE_TEXT")] = QStringLiteral(
            "In this export the example runs the impulse on a recording (see below).");
        v[QStringLiteral("RUNTIME_EXTRA")] = QStringLiteral(", impulse, DSP blocks");
        // IMPULSE_API and IMPULSE_README are filled with the values above first.
        v[QStringLiteral("IMPULSE_API")] = fill(QString::fromUtf8(kImpulseApi), v);
        v[QStringLiteral("IMPULSE_README")] = fill(QString::fromUtf8(kImpulseReadme), v);
    } else {
        v[QStringLiteral("IMPULSE_API")] = QString();
    }

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
                      (fill(QString::fromUtf8(kApiSource), v) +
                       QString::fromUtf8(withImpulse ? kImpulseSource : kModelStatusName))
                          .toUtf8()});
    pieces.push_back({QStringLiteral("src"), QStringLiteral("src/model_data.h"),
                      fill(QString::fromUtf8(kDataHeader), v).toUtf8()});
    pieces.push_back({QStringLiteral("src"), QStringLiteral("src/model_data.c"), data.toUtf8()});
    QStringList runtimeSources;
    QStringList runtimeList = manifest.sources + manifest.headers;
    QStringList includeDirs = manifest.includeDirs;
    QStringList compileOptions = manifest.compileOptions;
    if (withImpulse) {
        if (manifest.impulseSources.isEmpty()) {
            fail(error, QStringLiteral("the impulse runtime is not embedded in this build "
                                       "(resource manifest without impulse_sources)"));
            return std::nullopt;
        }
        runtimeList += manifest.impulseSources + manifest.impulseHeaders;
        includeDirs += manifest.impulseIncludeDirs;
        compileOptions += manifest.impulseCompileOptions;
        includeDirs.removeDuplicates();
        compileOptions.removeDuplicates();
    }
    for (const QString &rel : runtimeList) {
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
        for (const QString &dir : includeDirs) {
            includeLines += QStringLiteral("  PUBLIC runtime/%1\n").arg(dir);
            includeFlags += QStringLiteral(" -Iruntime/%1").arg(dir);
        }
        includeLines.chop(1);
        QString options;
        for (const QString &o : compileOptions)
            options += QLatin1Char(' ') + o;
        v[QStringLiteral("SOURCES")] = sourceLines;
        v[QStringLiteral("INCLUDE_DIRS")] = includeLines;
        v[QStringLiteral("COMPILE_OPTIONS")] = options;
        v[QStringLiteral("INCLUDE_FLAGS")] = QStringLiteral("-Iinclude -Isrc") + includeFlags;
        for (const Piece &p : pieces)
            out.files.push_back({root + p.path, p.bytes});
        out.files.push_back(
            {root + QStringLiteral("example/main.c"),
             fill(QString::fromUtf8(withImpulse ? kImpulseExampleMain : kExampleMain), v).toUtf8()});
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
                             fill(QString::fromUtf8(withImpulse ? kImpulseArduinoSketch
                                                                : kArduinoSketch),
                                  v)
                                 .toUtf8()});
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
    if (!opt.impulse && !opt.modelOnly) {
        // A model trained on a streaming block goes out with its impulse; image models and
        // models without recorded features keep the model-only export.
        const QJsonObject fp = graph->meta.value(QStringLiteral("features")).toObject();
        const auto params =
            fp.isEmpty() ? std::nullopt : features::FeatureParams::fromJson(fp, nullptr);
        if (params && params->kind != features::BlockKind::Image) {
            QString impulseError;
            auto impulse = buildImpulsePackage(store, stored->id, nullptr, &impulseError);
            if (!impulse) {
                fail(error, QStringLiteral("model %1: its impulse cannot be exported: %2 "
                                           "(export the network alone with the model-only option)")
                                .arg(stored->id)
                                .arg(impulseError));
                return std::nullopt;
            }
            opt.impulse = impulse->spec;
        }
    }
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
