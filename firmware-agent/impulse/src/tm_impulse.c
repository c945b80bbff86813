/*
 * tm_impulse.c — the whole impulse (tm_impulse.h): impulse section reader, window ->
 * features -> int8 model, and the post-processing.
 *
 * Bit-exactness with the host: the float window is built exactly as the host stores a
 * recorded sample (float(raw) * scale, core/device/AgentProtocol.cpp) and cut as
 * core/features/FeatureExtractor.cpp does (all channels interleaved for raw and spectral,
 * channel 0 alone for mfe and mfcc); the DSP blocks are the host's own C code; normalisation
 * is (x - mean) / std in float as deploy/Profiler.cpp does; every other step is integer
 * arithmetic or a single float operation per value. Build with -ffp-contract=off.
 *
 * Reading the section: every field is bounds checked against section_size (64-bit offsets)
 * before it is read; integers are read byte by byte (tm_get_u16/u32); the f32 arrays (mean,
 * std, thresholds, band edges) are used in place through float pointers — they are 4-aligned
 * because the package is 4-aligned (tm_model_load), the data section size is a multiple of 4
 * and every length before them in the section is a multiple of 4 (MODEL_PACKAGE.md).
 */
#include "tm_impulse.h"

#include <string.h>

#include "tm_dsp.h"
#include "tm_frame.h"

/* Offsets in the impulse section (deploy/MODEL_PACKAGE.md, "Impulse section"). */
enum {
    IP_MAGIC = 0,
    IP_SECTION_SIZE = 4,
    IP_VERSION = 8,
    IP_SENSOR_KIND = 10,
    IP_CHANNELS = 11,
    IP_RATE = 12,
    IP_WINDOW = 16,
    IP_STRIDE = 20,
    IP_RAW_SCALE = 24,
    IP_DSP_BLOCK = 28,
    IP_RESERVED = 29,
    IP_DSP_PARAMS_SIZE = 30,
    IP_DSP_PARAMS = 32,
    /* dsp params sizes per block */
    IP_RAW_PARAMS = 12,
    IP_SPECTRAL_PARAMS_MIN = 12,
    IP_MFE_PARAMS = 28,
    IP_MFCC_PARAMS = 36,
    /* model package tensor record */
    PK_TENSOR_RECORD = 48
};

/* Largest window (frames): every byte count below then fits 32 bits on the device, where
 * size_t is 32 bits wide (MODEL_PACKAGE.md, window_samples). */
#define IP_MAX_WINDOW (1u << 24)

/* Work buffer parts start at multiples of 16 bytes (from the buffer's start). */
#define IP_WORK_ALIGN 16u

#define CHECK(cond, status)                                                                  \
    do {                                                                                     \
        if (!(cond))                                                                         \
            return (status);                                                                 \
    } while (0)

/* ---- helpers --------------------------------------------------------------------------- */

static float f32_of(const uint8_t *p)
{
    const uint32_t bits = tm_get_u32(p);
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* Finite (not inf, not NaN), on the bit pattern: no dependence on the FPU's classification. */
static int bits_finite(uint32_t bits) { return (bits & 0x7F800000u) != 0x7F800000u; }
static int f32_finite_at(const uint8_t *p) { return bits_finite(tm_get_u32(p)); }

static uint64_t align_up64(uint64_t v, uint64_t a) { return (v + a - 1u) / a * a; }

/* The DSP block's parameters, decoded from the section (valid only after dsp_decode()). */
typedef struct {
    tm_dsp_raw_params_t raw;
    tm_dsp_spectral_params_t spectral;
    tm_dsp_mfcc_params_t mfcc; /* mfe: mfcc.mfe */
} dsp_params_t;

/* Fills d from imp's block code and parameter bytes (sizes already checked by load). */
static void dsp_decode(const tm_impulse_t *imp, dsp_params_t *d)
{
    const uint8_t *p = imp->dsp_params;
    memset(d, 0, sizeof *d);
    switch (imp->dsp_block) {
    case TM_IMPULSE_DSP_RAW:
        d->raw.n_samples = imp->window;
        d->raw.n_axes = imp->channels;
        d->raw.remove_mean = tm_get_u32(p) != 0;
        d->raw.scale = f32_of(p + 4);
        break;
    case TM_IMPULSE_DSP_SPECTRAL:
        d->spectral.n_samples = imp->window;
        d->spectral.n_axes = imp->channels;
        d->spectral.sample_rate_hz = (float)imp->sample_rate_hz;
        d->spectral.n_bands = tm_get_u32(p);
        d->spectral.n_peaks = tm_get_u32(p + 4);
        d->spectral.band_edges_hz = tm_get_u32(p + 8) ? (const float *)(const void *)(p + 12)
                                                      : NULL;
        break;
    case TM_IMPULSE_DSP_MFE:
    case TM_IMPULSE_DSP_MFCC:
        d->mfcc.mfe.n_samples = imp->window;
        d->mfcc.mfe.sample_rate_hz = (float)imp->sample_rate_hz;
        d->mfcc.mfe.frame_length = tm_get_u32(p);
        d->mfcc.mfe.frame_stride = tm_get_u32(p + 4);
        d->mfcc.mfe.n_filters = tm_get_u32(p + 8);
        d->mfcc.mfe.low_hz = f32_of(p + 12);
        d->mfcc.mfe.high_hz = f32_of(p + 16);
        d->mfcc.mfe.pre_emphasis = f32_of(p + 20);
        d->mfcc.mfe.log_floor = f32_of(p + 24);
        if (imp->dsp_block == TM_IMPULSE_DSP_MFCC) {
            d->mfcc.n_coeffs = tm_get_u32(p + 28);
            d->mfcc.lifter = tm_get_u32(p + 32);
        }
        break;
    default:
        break;
    }
}

static size_t dsp_output_size(const tm_impulse_t *imp, const dsp_params_t *d)
{
    switch (imp->dsp_block) {
    case TM_IMPULSE_DSP_RAW: return tm_dsp_raw_output_size(&d->raw);
    case TM_IMPULSE_DSP_SPECTRAL: return tm_dsp_spectral_output_size(&d->spectral);
    case TM_IMPULSE_DSP_MFE: return tm_dsp_mfe_output_size(&d->mfcc.mfe);
    case TM_IMPULSE_DSP_MFCC: return tm_dsp_mfcc_output_size(&d->mfcc);
    default: return 0;
    }
}

static size_t dsp_buffer_size(const tm_impulse_t *imp, const dsp_params_t *d)
{
    switch (imp->dsp_block) {
    case TM_IMPULSE_DSP_RAW: return tm_dsp_raw_get_buffer_size(&d->raw);
    case TM_IMPULSE_DSP_SPECTRAL: return tm_dsp_spectral_get_buffer_size(&d->spectral);
    case TM_IMPULSE_DSP_MFE: return tm_dsp_mfe_get_buffer_size(&d->mfcc.mfe);
    case TM_IMPULSE_DSP_MFCC: return tm_dsp_mfcc_get_buffer_size(&d->mfcc);
    default: return 0;
    }
}

/* Floats per frame of the float window: mfe and mfcc read channel 0 only. */
static uint32_t window_axes(const tm_impulse_t *imp)
{
    return imp->dsp_block == TM_IMPULSE_DSP_MFE || imp->dsp_block == TM_IMPULSE_DSP_MFCC
               ? 1u
               : imp->channels;
}

/* Work buffer layout: [float window][DSP scratch][features], each part 16-aligned from the
 * buffer's start; the features are last, so they sit at work_bytes - 4 * feature_count. */
typedef struct {
    uint64_t scratch_at, scratch_bytes, anomaly_at, features_at, total;
} work_layout_t;

/* With an anomaly model its int8 input (feature_count bytes) sits between the DSP scratch and
 * the features: it is quantized from the DSP output before the classifier's normalisation
 * overwrites it, and copied into the arena once the classifier is done with it. */
static void work_layout(const tm_impulse_t *imp, const dsp_params_t *d, work_layout_t *w)
{
    const uint64_t window_bytes = (uint64_t)imp->window * window_axes(imp) * sizeof(float);
    w->scratch_at = align_up64(window_bytes, IP_WORK_ALIGN);
    w->scratch_bytes = dsp_buffer_size(imp, d);
    w->anomaly_at = align_up64(w->scratch_at + w->scratch_bytes, IP_WORK_ALIGN);
    const uint64_t anomaly_bytes = imp->has_anomaly ? imp->feature_count : 0u;
    w->features_at = align_up64(w->anomaly_at + anomaly_bytes, IP_WORK_ALIGN);
    w->total = w->features_at + (uint64_t)imp->feature_count * sizeof(float);
}

/* ---- load ------------------------------------------------------------------------------ */

uint32_t tm_impulse_dsp_supported_mask(void)
{
    return (1u << TM_IMPULSE_DSP_RAW) | (1u << TM_IMPULSE_DSP_SPECTRAL) |
           (1u << TM_IMPULSE_DSP_MFE) | (1u << TM_IMPULSE_DSP_MFCC);
}

uint32_t tm_impulse_post_supported_mask(void)
{
    return TM_IMPULSE_POST_AVERAGE | TM_IMPULSE_POST_THRESHOLD | TM_IMPULSE_POST_SUPPRESSION |
           TM_IMPULSE_POST_BACKGROUND;
}

/* The block's parameter bytes: size, then the fields the section itself constrains. */
static tm_impulse_status_t check_dsp_params(const tm_impulse_t *imp)
{
    const uint8_t *p = imp->dsp_params;
    const uint32_t n = imp->dsp_params_size;
    switch (imp->dsp_block) {
    case TM_IMPULSE_DSP_RAW:
        CHECK(n == IP_RAW_PARAMS, TM_IMPULSE_ERR_DSP_PARAMS);
        CHECK(tm_get_u32(p) <= 1u && f32_finite_at(p + 4) && tm_get_u32(p + 8) <= 1u,
              TM_IMPULSE_ERR_DSP_PARAMS);
        break;
    case TM_IMPULSE_DSP_SPECTRAL: {
        CHECK(n >= IP_SPECTRAL_PARAMS_MIN, TM_IMPULSE_ERR_DSP_PARAMS);
        const uint64_t bands = tm_get_u32(p), edges = tm_get_u32(p + 8);
        CHECK(edges == 0 || edges == bands + 1u, TM_IMPULSE_ERR_DSP_PARAMS);
        CHECK((uint64_t)n == IP_SPECTRAL_PARAMS_MIN + 4u * edges, TM_IMPULSE_ERR_DSP_PARAMS);
        break;
    }
    case TM_IMPULSE_DSP_MFE:
        CHECK(n == IP_MFE_PARAMS, TM_IMPULSE_ERR_DSP_PARAMS);
        break;
    case TM_IMPULSE_DSP_MFCC:
        CHECK(n == IP_MFCC_PARAMS, TM_IMPULSE_ERR_DSP_PARAMS);
        break;
    default:
        return TM_IMPULSE_ERR_DSP_BLOCK;
    }
    dsp_params_t d;
    dsp_decode(imp, &d);
    CHECK(dsp_output_size(imp, &d) != 0, TM_IMPULSE_ERR_DSP_PARAMS);
    return TM_IMPULSE_OK;
}

/* Element count and quantization of a model tensor (int8: elements = bytes). */
static void tensor_info(const tm_model_t *m, uint16_t index, uint32_t *elements, float *scale,
                        int32_t *zp)
{
    const uint8_t *r = m->tensors + (size_t)index * PK_TENSOR_RECORD;
    *elements = tm_get_u32(r + 24);
    *scale = f32_of(r + 28);
    *zp = (int32_t)tm_get_u32(r + 32);
}

/* Version 2's anomaly part after class_flags (MODEL_PACKAGE.md "Impulse section, version 2"):
 * zero padding to 4, u32 anomaly_flags, f32 threshold, [f32 mean, f32 std], u32 package_size,
 * zero padding to a 16-aligned package offset, the nested version-1 package. */
static tm_impulse_status_t load_anomaly(tm_impulse_t *imp, const tm_model_t *model,
                                        const uint8_t *s, uint64_t size, uint64_t *at_io)
{
    uint64_t at = *at_io;
    for (; at % 4u != 0; ++at)
        CHECK(at < size && s[at] == 0, TM_IMPULSE_ERR_SIZE);
    CHECK(at + 8u <= size, TM_IMPULSE_ERR_SIZE);
    const uint32_t flags = tm_get_u32(s + at);
    CHECK((flags & ~1u) == 0, TM_IMPULSE_ERR_ANOMALY);
    CHECK(f32_finite_at(s + at + 4), TM_IMPULSE_ERR_ANOMALY);
    imp->anomaly_threshold = f32_of(s + at + 4);
    at += 8;
    if (flags & 1u) {
        const uint64_t bytes = (uint64_t)imp->feature_count * 4u;
        CHECK(at + 2u * bytes <= size, TM_IMPULSE_ERR_SIZE);
        imp->anomaly_mean = (const float *)(const void *)(s + at);
        imp->anomaly_std = (const float *)(const void *)(s + at + bytes);
        for (uint64_t k = 0; k < imp->feature_count; ++k) {
            const uint8_t *m = s + at + 4u * k, *sd = m + bytes;
            CHECK(f32_finite_at(m) && f32_finite_at(sd) && f32_of(sd) > 0.0f,
                  TM_IMPULSE_ERR_ANOMALY);
        }
        at += 2u * bytes;
    }
    CHECK(at + 4u <= size, TM_IMPULSE_ERR_SIZE);
    const uint32_t pkg_size = tm_get_u32(s + at);
    at += 4;
    const uint64_t base = (uint64_t)(s - model->pkg);
    for (; (base + at) % 16u != 0; ++at)
        CHECK(at < size && s[at] == 0, TM_IMPULSE_ERR_SIZE);
    CHECK(pkg_size >= 64u && at + pkg_size <= size, TM_IMPULSE_ERR_SIZE);
    CHECK(tm_model_load(&imp->anomaly, s + at, pkg_size) == TM_MODEL_OK &&
              imp->anomaly.version == 1u,
          TM_IMPULSE_ERR_ANOMALY);
    uint32_t in_elements = 0, out_elements = 0;
    tensor_info(&imp->anomaly, imp->anomaly.input_tensor, &in_elements, &imp->anomaly_in_scale,
                &imp->anomaly_in_zp);
    tensor_info(&imp->anomaly, imp->anomaly.output_tensor, &out_elements,
                &imp->anomaly_out_scale, &imp->anomaly_out_zp);
    CHECK(in_elements == imp->feature_count && out_elements == 1u, TM_IMPULSE_ERR_ANOMALY);
    imp->has_anomaly = 1;
    *at_io = at + pkg_size;
    return TM_IMPULSE_OK;
}

static tm_impulse_status_t load(tm_impulse_t *imp, const tm_model_t *model)
{
    const uint8_t *s = model->impulse;
    const uint64_t size = model->impulse_size;
    CHECK(s != NULL && size != 0, TM_IMPULSE_ERR_NO_IMPULSE);
    CHECK(((uintptr_t)s & 3u) == 0, TM_IMPULSE_ERR_ARGUMENT);
    CHECK(size >= 4 && memcmp(s + IP_MAGIC, "TMIP", 4) == 0, TM_IMPULSE_ERR_MAGIC);
    CHECK(size >= 8 && size % 4u == 0 && tm_get_u32(s + IP_SECTION_SIZE) == size,
          TM_IMPULSE_ERR_SIZE);
    /* The fixed head up to dsp_params. */
    CHECK(size >= IP_DSP_PARAMS, TM_IMPULSE_ERR_SIZE);
    const uint16_t version = tm_get_u16(s + IP_VERSION);
    CHECK(version >= 1u && version <= TM_IMPULSE_FORMAT_VERSION, TM_IMPULSE_ERR_VERSION);

    imp->sensor_kind = s[IP_SENSOR_KIND];
    imp->channels = s[IP_CHANNELS];
    imp->sample_rate_hz = tm_get_u32(s + IP_RATE);
    CHECK(imp->sensor_kind <= 1u && imp->channels >= 1u &&
              imp->channels <= TM_IMPULSE_MAX_CHANNELS && imp->sample_rate_hz >= 1u,
          TM_IMPULSE_ERR_SENSOR);

    imp->window = tm_get_u32(s + IP_WINDOW);
    imp->stride = tm_get_u32(s + IP_STRIDE);
    CHECK(imp->window >= 1u && imp->window <= IP_MAX_WINDOW && imp->stride >= 1u &&
              imp->stride <= imp->window,
          TM_IMPULSE_ERR_WINDOW);

    const uint32_t scale_bits = tm_get_u32(s + IP_RAW_SCALE);
    imp->raw_scale = f32_of(s + IP_RAW_SCALE);
    CHECK(bits_finite(scale_bits) && imp->raw_scale > 0.0f, TM_IMPULSE_ERR_SENSOR);

    imp->dsp_block = s[IP_DSP_BLOCK];
    CHECK(imp->dsp_block < 32u && (tm_impulse_dsp_supported_mask() >> imp->dsp_block) & 1u,
          TM_IMPULSE_ERR_DSP_BLOCK);
    CHECK(s[IP_RESERVED] == 0, TM_IMPULSE_ERR_DSP_BLOCK);

    /* dsp_params, then feature_count and norm_flags (8 bytes) must fit. */
    imp->dsp_params_size = tm_get_u16(s + IP_DSP_PARAMS_SIZE);
    uint64_t at = IP_DSP_PARAMS;
    CHECK(at + imp->dsp_params_size + 8u <= size, TM_IMPULSE_ERR_SIZE);
    CHECK(imp->dsp_params_size % 4u == 0, TM_IMPULSE_ERR_DSP_PARAMS);
    imp->dsp_params = s + at;
    tm_impulse_status_t st = check_dsp_params(imp);
    if (st != TM_IMPULSE_OK)
        return st;
    at += imp->dsp_params_size;

    dsp_params_t d;
    dsp_decode(imp, &d);
    uint32_t in_elements = 0, out_elements = 0;
    tensor_info(model, model->input_tensor, &in_elements, &imp->in_scale, &imp->in_zp);
    tensor_info(model, model->output_tensor, &out_elements, &imp->out_scale, &imp->out_zp);
    imp->feature_count = tm_get_u32(s + at);
    CHECK((uint64_t)imp->feature_count == (uint64_t)dsp_output_size(imp, &d) &&
              imp->feature_count == in_elements,
          TM_IMPULSE_ERR_FEATURES);
    at += 4;

    const uint32_t norm_flags = tm_get_u32(s + at);
    at += 4;
    CHECK((norm_flags & ~1u) == 0, TM_IMPULSE_ERR_NORMALISATION);
    if (norm_flags & 1u) {
        const uint64_t bytes = (uint64_t)imp->feature_count * 4u;
        CHECK(at + 2u * bytes <= size, TM_IMPULSE_ERR_SIZE);
        imp->mean = (const float *)(const void *)(s + at);
        imp->std = (const float *)(const void *)(s + at + bytes);
        for (uint64_t k = 0; k < imp->feature_count; ++k) {
            const uint8_t *m = s + at + 4u * k, *sd = m + bytes;
            CHECK(f32_finite_at(m) && f32_finite_at(sd) && f32_of(sd) > 0.0f,
                  TM_IMPULSE_ERR_NORMALISATION);
        }
        at += 2u * bytes;
    }

    /* post-processing: class_count, average_windows, suppression_ms, then the arrays. */
    CHECK(at + 8u <= size, TM_IMPULSE_ERR_SIZE);
    imp->class_count = tm_get_u16(s + at);
    imp->average_windows = tm_get_u16(s + at + 2);
    imp->suppression_ms = tm_get_u32(s + at + 4);
    at += 8;
    CHECK(imp->class_count >= 1u && imp->class_count <= TM_IMPULSE_MAX_CLASSES &&
              imp->class_count == model->label_count && imp->class_count == out_elements,
          TM_IMPULSE_ERR_POST);
    CHECK(imp->average_windows >= 1u && imp->average_windows <= TM_IMPULSE_MAX_AVERAGE,
          TM_IMPULSE_ERR_POST);
    CHECK(at + 5u * (uint64_t)imp->class_count <= size, TM_IMPULSE_ERR_SIZE);
    imp->thresholds = (const float *)(const void *)(s + at);
    for (uint32_t c = 0; c < imp->class_count; ++c) {
        const float t = f32_of(s + at + 4u * c);
        CHECK(f32_finite_at(s + at + 4u * c) && t >= 0.0f && t <= 1.0f, TM_IMPULSE_ERR_POST);
    }
    at += 4u * (uint64_t)imp->class_count;
    imp->class_flags = s + at;
    for (uint32_t c = 0; c < imp->class_count; ++c)
        CHECK((imp->class_flags[c] & ~TM_IMPULSE_CLASS_BACKGROUND) == 0, TM_IMPULSE_ERR_POST);
    at += imp->class_count;

    if (version >= 2u) {
        st = load_anomaly(imp, model, s, size, &at);
        if (st != TM_IMPULSE_OK)
            return st;
    }

    /* Zero padding to section_size, fewer than 4 bytes: anything else is a size mismatch. */
    CHECK(size - at < 4u, TM_IMPULSE_ERR_SIZE);
    for (; at < size; ++at)
        CHECK(s[at] == 0, TM_IMPULSE_ERR_SIZE);

    /* The work buffer's byte count must fit 32 bits (the device's size_t). */
    work_layout_t w;
    work_layout(imp, &d, &w);
    CHECK(w.total <= 0xFFFFFFFFu, TM_IMPULSE_ERR_WINDOW);
    return TM_IMPULSE_OK;
}

tm_impulse_status_t tm_impulse_load(tm_impulse_t *imp, const tm_model_t *model)
{
    if (imp == NULL)
        return TM_IMPULSE_ERR_ARGUMENT;
    memset(imp, 0, sizeof *imp);
    if (model == NULL || !model->loaded)
        return TM_IMPULSE_ERR_ARGUMENT;
    tm_impulse_t t;
    memset(&t, 0, sizeof t);
    const tm_impulse_status_t s = load(&t, model);
    if (s != TM_IMPULSE_OK)
        return s;
    t.model = model;
    *imp = t;
    return TM_IMPULSE_OK;
}

size_t tm_impulse_work_bytes(const tm_impulse_t *imp)
{
    if (imp == NULL || imp->model == NULL)
        return 0;
    dsp_params_t d;
    dsp_decode(imp, &d);
    work_layout_t w;
    work_layout(imp, &d, &w);
    return (size_t)w.total;
}

/* ---- run ------------------------------------------------------------------------------- */

/* round half away from zero of x / in_scale, plus the zero point, clamped to int8; NaN gives
 * the zero point. v is clamped to +-1000 first (exact, and far outside int8 after any zero
 * point), so the truncation below is defined and v - (float)i is exact. */
static int8_t quantize(float x, float in_scale, int32_t zp)
{
    float v = x / in_scale;
    if (v != v)
        return (int8_t)zp;
    if (v > 1000.0f)
        v = 1000.0f;
    else if (v < -1000.0f)
        v = -1000.0f;
    int32_t i = (int32_t)v; /* toward zero */
    const float frac = v - (float)i;
    if (frac >= 0.5f)
        ++i;
    else if (frac <= -0.5f)
        --i;
    int32_t q = i + zp;
    if (q < -128)
        q = -128;
    else if (q > 127)
        q = 127;
    return (int8_t)q;
}

static uint64_t now(const tm_impulse_clock_t *clock)
{
    return clock && clock->now ? clock->now(clock->ctx) : 0u;
}

/* Frames of one segment into the float window, as the host stores them: float(raw) * scale.
 * axes 1 takes channel 0 of each frame. */
static void convert(const int16_t *seg, uint32_t frames, uint32_t channels, uint32_t axes,
                    float scale, float *dst)
{
    for (uint32_t f = 0; f < frames; ++f)
        for (uint32_t a = 0; a < axes; ++a)
            dst[(size_t)f * axes + a] = (float)seg[(size_t)f * channels + a] * scale;
}

tm_impulse_status_t tm_impulse_run_window(const tm_impulse_t *imp, const int16_t *seg_a,
                                          uint32_t n_a, const int16_t *seg_b, uint32_t n_b,
                                          uint8_t *work, size_t work_bytes, uint8_t *arena,
                                          uint32_t arena_size, int8_t *scores,
                                          tm_impulse_clock_t *clock)
{
    return tm_impulse_run_window_anomaly(imp, seg_a, n_a, seg_b, n_b, work, work_bytes, arena,
                                         arena_size, scores, NULL, clock);
}

uint32_t tm_impulse_arena_bytes(const tm_impulse_t *imp)
{
    if (imp == NULL || imp->model == NULL)
        return 0;
    const uint32_t c = tm_model_arena_bytes(imp->model);
    const uint32_t a = imp->has_anomaly ? tm_model_arena_bytes(&imp->anomaly) : 0u;
    return c > a ? c : a;
}

int tm_impulse_anomaly_alarm(const tm_impulse_t *imp, int8_t score)
{
    if (imp == NULL || !imp->has_anomaly)
        return 0;
    const float v = (float)((int32_t)score - imp->anomaly_out_zp) * imp->anomaly_out_scale;
    return v > imp->anomaly_threshold;
}

tm_impulse_status_t tm_impulse_run_window_anomaly(const tm_impulse_t *imp, const int16_t *seg_a,
                                                  uint32_t n_a, const int16_t *seg_b,
                                                  uint32_t n_b, uint8_t *work, size_t work_bytes,
                                                  uint8_t *arena, uint32_t arena_size,
                                                  int8_t *scores, int8_t *anomaly,
                                                  tm_impulse_clock_t *clock)
{
    CHECK(imp != NULL && imp->model != NULL && imp->model->loaded && scores != NULL,
          TM_IMPULSE_ERR_ARGUMENT);
    CHECK((uint64_t)n_a + n_b == imp->window, TM_IMPULSE_ERR_ARGUMENT);
    CHECK((n_a == 0 || seg_a != NULL) && (n_b == 0 || seg_b != NULL), TM_IMPULSE_ERR_ARGUMENT);
    const tm_model_t *m = imp->model;

    dsp_params_t d;
    dsp_decode(imp, &d);
    work_layout_t w;
    work_layout(imp, &d, &w);
    CHECK(work != NULL && ((uintptr_t)work & 3u) == 0 && (uint64_t)work_bytes >= w.total,
          TM_IMPULSE_ERR_WORK);
    CHECK(arena != NULL && ((uintptr_t)arena & 3u) == 0 &&
              arena_size >= tm_model_arena_bytes(m),
          TM_IMPULSE_ERR_WORK);

    const uint64_t t0 = now(clock);
    float *window = (float *)(void *)work;
    float *features = (float *)(void *)(work + w.features_at);
    tm_dsp_buffer_t scratch = {w.scratch_bytes ? work + w.scratch_at : NULL,
                               (size_t)w.scratch_bytes};
    const uint32_t axes = window_axes(imp);
    convert(seg_a, n_a, imp->channels, axes, imp->raw_scale, window);
    convert(seg_b, n_b, imp->channels, axes, imp->raw_scale, window + (size_t)n_a * axes);

    tm_dsp_status_t ds;
    switch (imp->dsp_block) {
    case TM_IMPULSE_DSP_RAW: ds = tm_dsp_raw(&d.raw, window, features, &scratch); break;
    case TM_IMPULSE_DSP_SPECTRAL:
        ds = tm_dsp_spectral(&d.spectral, window, features, &scratch);
        break;
    case TM_IMPULSE_DSP_MFE: ds = tm_dsp_mfe(&d.mfcc.mfe, window, features, &scratch); break;
    case TM_IMPULSE_DSP_MFCC: ds = tm_dsp_mfcc(&d.mfcc, window, features, &scratch); break;
    default: ds = TM_DSP_ARG_ERROR; break;
    }
    CHECK(ds == TM_DSP_OK, TM_IMPULSE_ERR_DSP);

    uint32_t in_bytes = 0;
    int8_t *in = tm_model_input(m, arena, &in_bytes);
    CHECK(in != NULL && in_bytes == imp->feature_count, TM_IMPULSE_ERR_MODEL);
    /* Normalised in place: after the run the work buffer's last feature_count floats hold
     * the model's float input (tests compare them with the host's bit for bit). */
    const int run_anomaly = imp->has_anomaly && anomaly != NULL;
    CHECK(!run_anomaly || arena_size >= tm_model_arena_bytes(&imp->anomaly), TM_IMPULSE_ERR_WORK);
    int8_t *anomaly_in = (int8_t *)(void *)(work + w.anomaly_at);
    for (uint32_t k = 0; k < imp->feature_count; ++k) {
        if (run_anomaly) {
            float xa = features[k];
            if (imp->anomaly_mean != NULL)
                xa = (xa - imp->anomaly_mean[k]) / imp->anomaly_std[k];
            anomaly_in[k] = quantize(xa, imp->anomaly_in_scale, imp->anomaly_in_zp);
        }
        if (imp->mean != NULL)
            features[k] = (features[k] - imp->mean[k]) / imp->std[k];
        in[k] = quantize(features[k], imp->in_scale, imp->in_zp);
    }
    const uint64_t t1 = now(clock);

    CHECK(tm_model_invoke(m, arena, arena_size, NULL, NULL) == TM_MODEL_OK,
          TM_IMPULSE_ERR_MODEL);
    uint32_t out_bytes = 0;
    const int8_t *out = tm_model_output(m, arena, &out_bytes);
    CHECK(out != NULL && out_bytes >= imp->class_count, TM_IMPULSE_ERR_MODEL);
    memcpy(scores, out, imp->class_count);

    if (run_anomaly) {
        /* The classifier's tensors are dead now: the anomaly model takes the same arena. */
        const tm_model_t *am = &imp->anomaly;
        uint32_t a_in = 0, a_out = 0;
        int8_t *ain = tm_model_input(am, arena, &a_in);
        CHECK(ain != NULL && a_in == imp->feature_count, TM_IMPULSE_ERR_MODEL);
        memcpy(ain, anomaly_in, imp->feature_count);
        CHECK(tm_model_invoke(am, arena, arena_size, NULL, NULL) == TM_MODEL_OK,
              TM_IMPULSE_ERR_MODEL);
        const int8_t *aout = tm_model_output(am, arena, &a_out);
        CHECK(aout != NULL && a_out >= 1u, TM_IMPULSE_ERR_MODEL);
        *anomaly = aout[0];
    }
    const uint64_t t2 = now(clock);
    if (clock != NULL) {
        clock->dsp_ticks = t1 - t0;
        clock->model_ticks = t2 - t1;
    }
    return TM_IMPULSE_OK;
}

int8_t tm_impulse_input_at(const tm_impulse_t *imp, const uint8_t *work, uint32_t k)
{
    dsp_params_t d;
    dsp_decode(imp, &d);
    work_layout_t w;
    work_layout(imp, &d, &w);
    const float *features = (const float *)(const void *)(work + w.features_at);
    return quantize(features[k], imp->in_scale, imp->in_zp);
}

/* ---- post-processing ------------------------------------------------------------------- */

void tm_impulse_post_params(const tm_impulse_t *imp, tm_impulse_post_params_t *pp)
{
    if (pp == NULL)
        return;
    memset(pp, 0, sizeof *pp);
    if (imp == NULL)
        return;
    pp->class_count = imp->class_count;
    pp->average_windows = imp->average_windows;
    const uint64_t samples = (uint64_t)imp->suppression_ms * imp->sample_rate_hz / 1000u;
    pp->suppression_samples = samples > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)samples;
    pp->thresholds = imp->thresholds;
    pp->class_flags = imp->class_flags;
    pp->out_scale = imp->out_scale;
    pp->out_zp = imp->out_zp;
}

void tm_impulse_post_reset(tm_impulse_post_state_t *s)
{
    if (s != NULL)
        memset(s, 0, sizeof *s);
}

void tm_impulse_post_step(const tm_impulse_post_params_t *pp, tm_impulse_post_state_t *s,
                          const int8_t *scores, uint64_t window_end,
                          tm_impulse_decision_t *out)
{
    if (out == NULL)
        return;
    out->top_class = 0;
    out->decision = TM_IMPULSE_UNCERTAIN;
    out->flags = 0;
    out->score = 0.0f;
    if (pp == NULL || s == NULL || scores == NULL || pp->class_count < 1u ||
        pp->class_count > TM_IMPULSE_MAX_CLASSES || pp->average_windows < 1u ||
        pp->average_windows > TM_IMPULSE_MAX_AVERAGE)
        return;
    const uint32_t classes = pp->class_count, depth = pp->average_windows;

    /* A state left by a run with more windows: keep its newest rows' positions valid. */
    if (s->head >= depth)
        s->head = 0;
    memcpy(s->history[s->head], scores, classes);
    s->head = (uint16_t)((s->head + 1u) % depth);
    if (s->filled < depth)
        ++s->filled;
    if (s->filled > depth)
        s->filled = (uint16_t)depth;
    const uint32_t n = s->filled;

    /* Integer sums over the newest n rows (exact, so the order does not matter). */
    int32_t best_sum = 0;
    uint32_t top = 0;
    for (uint32_t c = 0; c < classes; ++c) {
        int32_t sum = 0;
        for (uint32_t k = 0; k < n; ++k) {
            const uint32_t row = (s->head + depth - 1u - k) % depth;
            sum += (int32_t)s->history[row][c] - pp->out_zp;
        }
        if (c == 0 || sum > best_sum) {
            best_sum = sum;
            top = c;
        }
    }
    const float score = (float)best_sum * pp->out_scale / (float)n;
    out->top_class = (uint8_t)top;
    out->score = score;
    const float threshold = pp->thresholds ? pp->thresholds[top] : 0.0f;
    if (score < threshold)
        return;
    out->decision = (uint8_t)top;
    if (pp->class_flags != NULL && (pp->class_flags[top] & TM_IMPULSE_CLASS_BACKGROUND)) {
        out->flags = TM_IMPULSE_BACKGROUND;
        return;
    }
    if (s->has_last[top] && window_end - s->last_detection[top] < pp->suppression_samples) {
        out->flags = TM_IMPULSE_SUPPRESSED;
        return;
    }
    out->flags = TM_IMPULSE_DETECTION;
    s->has_last[top] = 1;
    s->last_detection[top] = window_end;
}

const char *tm_impulse_status_name(tm_impulse_status_t s)
{
    static const char *const names[TM_IMPULSE_ERR_COUNT_] = {
        "ok",       "argument",   "no_impulse", "magic",         "size", "version",
        "sensor",   "window",     "dsp_block",  "dsp_params",    "features",
        "normalisation", "post",  "work",       "dsp",           "model", "anomaly"};
    return (unsigned)s < TM_IMPULSE_ERR_COUNT_ ? names[s] : "unknown";
}
