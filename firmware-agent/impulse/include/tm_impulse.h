/*
 * tm_impulse.h — the whole impulse: sensor window -> DSP block -> normalisation -> int8 model
 * -> post-processing -> decision. Portable C99, the same code on the device (the agent's
 * continuous mode, the exported C library) and on the host (host replay and calibration in
 * deploy/), so the host reproduces the device's decisions bit for bit. Build with
 * -ffp-contract=off -fno-math-errno like the DSP blocks (tm_dsp.h).
 *
 * The impulse is read from the impulse section of a model package, version 2
 * (deploy/MODEL_PACKAGE.md, "Impulse section"). tm_model_load() validates the model part;
 * tm_impulse_load() validates the impulse section against the loaded model.
 *
 * Per window (tm_impulse_run_window):
 *   1. raw int16 samples, Format [WINDOW, CHANNELS] time-major, interleaved, given as one or
 *      two contiguous segments (a ring buffer that wraps), are converted to float
 *      x = (float)raw * raw_scale (the sensor's physical unit, as the host stores samples);
 *   2. the DSP block (tm_dsp_raw / spectral / mfe / mfcc; mfe and mfcc read channel 0 only)
 *      turns the window into feature_count floats;
 *   3. normalisation, when present: x' = (x - mean[k]) / std[k] (float, as the profiler does);
 *   4. quantization to the model's input: q = clamp(round_half_away(x' / in_scale) + in_zp)
 *      in float arithmetic (a NaN gives in_zp);
 *   5. tm_model_invoke(); the int8 output (class_count scores) is copied out.
 * Post-processing (tm_impulse_post_step) is separate so calibration can re-run it over
 * recorded scores with other parameters.
 *
 * Nothing allocates. The caller owns the model arena (tm_model_arena_bytes()) and a work
 * buffer of tm_impulse_work_bytes() bytes (4-byte aligned) for the float window, the DSP
 * scratch and the features.
 *
 * Usage:
 *     tm_model_t model; tm_impulse_t imp;
 *     if (tm_model_load(&model, pkg, size) != TM_MODEL_OK) ...
 *     if (tm_impulse_load(&imp, &model) != TM_IMPULSE_OK) ...      // needs a v2 package
 *     static uint32_t work[...];   // >= tm_impulse_work_bytes(&imp) bytes
 *     tm_impulse_post_state_t post; tm_impulse_post_reset(&post);
 *     int8_t scores[TM_IMPULSE_MAX_CLASSES];
 *     tm_impulse_run_window(&imp, seg_a, n_a, seg_b, n_b, (uint8_t *)work, sizeof work,
 *                           arena, arena_size, scores, NULL);
 *     tm_impulse_post_params_t pp; tm_impulse_post_params(&imp, &pp);
 *     tm_impulse_decision_t d;
 *     tm_impulse_post_step(&pp, &post, scores, window_end_index, &d);
 *     if (d.flags & TM_IMPULSE_DETECTION) ... d.decision is the class index
 */
#ifndef TM_IMPULSE_H
#define TM_IMPULSE_H

#include <stddef.h>
#include <stdint.h>

#include "tm_model.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Newest impulse section format version this code reads (MODEL_PACKAGE.md); it reads the
 *  older ones too. 1: one model; 2: a classifier and an anomaly model (the anomaly part). */
#define TM_IMPULSE_FORMAT_VERSION 2u
/** Most classes the post-processing handles. */
#define TM_IMPULSE_MAX_CLASSES 32u
/** Most windows averaged. */
#define TM_IMPULSE_MAX_AVERAGE 32u
/** Most channels a window has. */
#define TM_IMPULSE_MAX_CHANNELS 3u
/** decision value when the averaged top score is below its class threshold. */
#define TM_IMPULSE_UNCERTAIN 0xFFu

/** DSP block codes in the impulse section: features::BlockKind values. Append-only. */
typedef enum {
    TM_IMPULSE_DSP_RAW = 0,
    TM_IMPULSE_DSP_SPECTRAL = 1,
    TM_IMPULSE_DSP_MFE = 2,
    TM_IMPULSE_DSP_MFCC = 3
    /* 4 = image: not a streaming block, refused in an impulse */
} tm_impulse_dsp_t;

/** Bit i set: DSP block code i is compiled in (INFO IMPULSE reports it). */
uint32_t tm_impulse_dsp_supported_mask(void);
/** Post-processing features compiled in (INFO IMPULSE): bits of tm_impulse_post_feature_t. */
typedef enum {
    TM_IMPULSE_POST_AVERAGE = 1u << 0,
    TM_IMPULSE_POST_THRESHOLD = 1u << 1,
    TM_IMPULSE_POST_SUPPRESSION = 1u << 2,
    TM_IMPULSE_POST_BACKGROUND = 1u << 3
} tm_impulse_post_feature_t;
uint32_t tm_impulse_post_supported_mask(void);

/** Status of tm_impulse_load / tm_impulse_run_window. Append-only. */
typedef enum {
    TM_IMPULSE_OK = 0,
    TM_IMPULSE_ERR_ARGUMENT = 1,      /**< null pointer, model not loaded */
    TM_IMPULSE_ERR_NO_IMPULSE = 2,    /**< the package has no impulse section (v1 package) */
    TM_IMPULSE_ERR_MAGIC = 3,         /**< section does not start with "TMIP" */
    TM_IMPULSE_ERR_SIZE = 4,          /**< section_size / a length inside runs past the end */
    TM_IMPULSE_ERR_VERSION = 5,       /**< impulse_version unknown */
    TM_IMPULSE_ERR_SENSOR = 6,        /**< sensor_kind, channels or sample_rate_hz */
    TM_IMPULSE_ERR_WINDOW = 7,        /**< window_samples or stride_samples */
    TM_IMPULSE_ERR_DSP_BLOCK = 8,     /**< block code not compiled in / not a streaming block */
    TM_IMPULSE_ERR_DSP_PARAMS = 9,    /**< the block refuses its parameters */
    TM_IMPULSE_ERR_FEATURES = 10,     /**< feature_count != DSP output != model input size */
    TM_IMPULSE_ERR_NORMALISATION = 11,/**< flags, or a std that is not finite and > 0 */
    TM_IMPULSE_ERR_POST = 12,         /**< class_count != label count / model output,
                                           average_windows, thresholds, class flags */
    TM_IMPULSE_ERR_WORK = 13,         /**< work buffer or arena too small / misaligned */
    TM_IMPULSE_ERR_DSP = 14,          /**< the DSP block failed at run time */
    TM_IMPULSE_ERR_MODEL = 15,        /**< tm_model_invoke failed */
    TM_IMPULSE_ERR_ANOMALY = 16,      /**< version 2: the anomaly part (flags, threshold,
                                           normalisation, nested package, its input/output) */
    TM_IMPULSE_ERR_COUNT_ = 17
} tm_impulse_status_t;

/** Short constant name of a status ("dsp_block", "normalisation", ...). */
const char *tm_impulse_status_name(tm_impulse_status_t s);

/** A loaded impulse: parsed parameters and pointers into the package. Read-only for callers. */
typedef struct {
    const tm_model_t *model;
    uint8_t sensor_kind;          /**< tm_sensor_kind_t (0 accelerometer, 1 microphone) */
    uint8_t channels;             /**< 1..TM_IMPULSE_MAX_CHANNELS */
    uint8_t dsp_block;            /**< tm_impulse_dsp_t */
    uint32_t sample_rate_hz;
    uint32_t window;              /**< samples (frames) per window */
    uint32_t stride;              /**< samples between window ends, 1..window */
    float raw_scale;              /**< physical = raw * raw_scale */
    const uint8_t *dsp_params;    /**< the block's parameter bytes (MODEL_PACKAGE.md) */
    uint32_t dsp_params_size;
    uint32_t feature_count;
    const float *mean;            /**< NULL: no normalisation */
    const float *std;
    uint16_t class_count;
    uint16_t average_windows;     /**< 1..TM_IMPULSE_MAX_AVERAGE */
    uint32_t suppression_ms;
    const float *thresholds;      /**< class_count, each in [0, 1] */
    const uint8_t *class_flags;   /**< class_count, bit 0 = background */
    float in_scale;               /**< model input quantization */
    int32_t in_zp;
    float out_scale;              /**< model output quantization */
    int32_t out_zp;
    /* appended for impulse_version 2: the anomaly model run on the same features */
    uint8_t has_anomaly;          /**< 1: the section carries an anomaly model */
    float anomaly_threshold;      /**< alarm: dequantized score > threshold */
    const float *anomaly_mean;    /**< its own normalisation; NULL: none */
    const float *anomaly_std;
    float anomaly_in_scale;       /**< its input quantization */
    int32_t anomaly_in_zp;
    float anomaly_out_scale;      /**< its one-element output */
    int32_t anomaly_out_zp;
    tm_model_t anomaly;           /**< the nested version-1 package, loaded in place */
} tm_impulse_t;

/** class_flags bits. */
#define TM_IMPULSE_CLASS_BACKGROUND 0x01u

/** Validates the impulse section of the package model was loaded from. */
tm_impulse_status_t tm_impulse_load(tm_impulse_t *imp, const tm_model_t *model);

/** Work-buffer bytes tm_impulse_run_window() needs (float window + DSP scratch + features). */
size_t tm_impulse_work_bytes(const tm_impulse_t *imp);

/** Optional timing of the stages: now() is read before the DSP, after it, after the model and
 *  (by tm_impulse_post_step's caller) after the post-processing; deltas in the port's ticks. */
typedef struct {
    uint64_t (*now)(void *ctx);
    void *ctx;
    uint64_t dsp_ticks;           /**< out: conversion + DSP + normalisation + quantization */
    uint64_t model_ticks;         /**< out: tm_model_invoke (both models when an anomaly
                                       score is asked for) */
} tm_impulse_clock_t;

/** Runs one window. Samples: seg_a (n_a frames) then seg_b (n_b frames), n_a + n_b == window,
 *  each frame `channels` int16 values. seg_b may be NULL when n_b == 0. scores receives
 *  class_count int8 model outputs. clock may be NULL. */
tm_impulse_status_t tm_impulse_run_window(const tm_impulse_t *imp, const int16_t *seg_a,
                                          uint32_t n_a, const int16_t *seg_b, uint32_t n_b,
                                          uint8_t *work, size_t work_bytes, uint8_t *arena,
                                          uint32_t arena_size, int8_t *scores,
                                          tm_impulse_clock_t *clock);

/** As tm_impulse_run_window; with an anomaly model (has_anomaly) and anomaly != NULL the
 *  anomaly model then runs in the same arena (after the classifier, whose scores are copied
 *  out first) on the same DSP features with its own normalisation and input quantization
 *  (x_a = (x - anomaly_mean[k]) / anomaly_std[k], quantized as step 4), and *anomaly receives
 *  its int8 score. The arena must hold either model (tm_impulse_arena_bytes). Without an
 *  anomaly model *anomaly is left unchanged. */
tm_impulse_status_t tm_impulse_run_window_anomaly(const tm_impulse_t *imp, const int16_t *seg_a,
                                                  uint32_t n_a, const int16_t *seg_b,
                                                  uint32_t n_b, uint8_t *work, size_t work_bytes,
                                                  uint8_t *arena, uint32_t arena_size,
                                                  int8_t *scores, int8_t *anomaly,
                                                  tm_impulse_clock_t *clock);

/** Arena bytes both models need in turn: the larger tm_model_arena_bytes() (the classifier's
 *  alone without an anomaly model). */
uint32_t tm_impulse_arena_bytes(const tm_impulse_t *imp);

/** 1 when the anomaly score is an alarm: (float)(score - anomaly_out_zp) * anomaly_out_scale
 *  > anomaly_threshold; 0 otherwise and without an anomaly model. */
int tm_impulse_anomaly_alarm(const tm_impulse_t *imp, int8_t score);

/** Element k (< feature_count) of the int8 model input of the last window run with this work
 *  buffer: the normalised feature left in work, quantized again exactly as the run did (drift
 *  telemetry reads it after the model, whose arena may have reused the input tensor). */
int8_t tm_impulse_input_at(const tm_impulse_t *imp, const uint8_t *work, uint32_t k);

/* ---- post-processing ----------------------------------------------------------------- */

/** Post-processing parameters (from the package, or swept by calibration). */
typedef struct {
    uint16_t class_count;
    uint16_t average_windows;     /**< 1..TM_IMPULSE_MAX_AVERAGE */
    uint32_t suppression_samples; /**< no second detection of a class within this many samples */
    const float *thresholds;      /**< class_count */
    const uint8_t *class_flags;   /**< class_count; NULL: no background class */
    float out_scale;
    int32_t out_zp;
} tm_impulse_post_params_t;

/** The package's post-processing parameters (suppression_ms converted at sample_rate_hz:
 *  suppression_samples = suppression_ms * rate / 1000, in 64-bit integer arithmetic). */
void tm_impulse_post_params(const tm_impulse_t *imp, tm_impulse_post_params_t *pp);

typedef struct {
    int8_t history[TM_IMPULSE_MAX_AVERAGE][TM_IMPULSE_MAX_CLASSES];
    uint16_t filled;              /**< windows in history, <= average_windows */
    uint16_t head;                /**< next row to write */
    uint8_t has_last[TM_IMPULSE_MAX_CLASSES];
    uint64_t last_detection[TM_IMPULSE_MAX_CLASSES]; /**< window end index of the last one */
} tm_impulse_post_state_t;

void tm_impulse_post_reset(tm_impulse_post_state_t *s);

/** flags of a decision. */
#define TM_IMPULSE_DETECTION 0x01u   /**< a new detection of `decision` (counts as an event) */
#define TM_IMPULSE_SUPPRESSED 0x02u  /**< decision is a class, but within its suppression time */
#define TM_IMPULSE_BACKGROUND 0x04u  /**< decision is a background class: never a detection */

typedef struct {
    uint8_t top_class;            /**< argmax of the averaged scores (lowest index on ties) */
    uint8_t decision;             /**< top_class, or TM_IMPULSE_UNCERTAIN */
    uint8_t flags;                /**< TM_IMPULSE_DETECTION / SUPPRESSED / BACKGROUND */
    float score;                  /**< averaged, dequantized score of top_class */
} tm_impulse_decision_t;

/** One window's post-processing. The averaged score of class c over the last n windows
 *  (n = min(filled, average_windows) after adding this one) is
 *      (float)(sum of (q - out_zp)) * out_scale / (float)n,
 *  the argmax is taken on the integer sums. score < thresholds[top] -> UNCERTAIN, flags 0.
 *  Otherwise decision = top; a background class gets BACKGROUND; a class detected at
 *  end index e with window_end - e < suppression_samples gets SUPPRESSED; else DETECTION and
 *  the class's last detection becomes window_end. */
void tm_impulse_post_step(const tm_impulse_post_params_t *pp, tm_impulse_post_state_t *s,
                          const int8_t *scores, uint64_t window_end,
                          tm_impulse_decision_t *out);

#ifdef __cplusplus
}
#endif

#endif /* TM_IMPULSE_H */
