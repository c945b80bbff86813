/*
 * bitexact_probe.c — see bitexact_probe.h. Build with -ffp-contract=off like the blocks:
 * the input synthesis below is float arithmetic too.
 */
#include "bitexact_probe.h"

#include <string.h>

#include "tm_dsp.h"
#include "tm_nn.h"

static uint32_t lcg_state;

static uint32_t lcg_next(void)
{
    lcg_state = lcg_state * 1664525u + 1013904223u;
    return lcg_state;
}

/* Uniform in [-1, 1), exact from integers. */
static float frand(void)
{
    return (float)(lcg_next() >> 8) / 16777216.0f * 2.0f - 1.0f;
}

static uint32_t fnv1a(const void *p, size_t n)
{
    const uint8_t *b = (const uint8_t *)p;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; ++i) {
        h ^= b[i];
        h *= 16777619u;
    }
    return h;
}

/* Large buffers are static: the device stack is small. */
static float sig[16000], out[40000], scratch[20000];
static uint8_t img[96 * 96 * 3];
static int8_t q8[4096], w8[4096], o8[4096];
/* Kernel scratch: the optimized kernels the Cortex-M builds pick need some (im2col columns,
 * a depthwise plane); each call gets its kernel's _get_buffer_size(), checked to fit. */
static int32_t nn_scratch[2048];

static tm_nn_context_t nn_ctx(int32_t bytes, int *err)
{
    tm_nn_context_t c = {nn_scratch, bytes};
    if (bytes < 0 || bytes > (int32_t)sizeof nn_scratch) {
        *err |= 1;
        c.size = 0;
    }
    return c;
}

static const char *const names[BITEXACT_COUNT] = {
    "math", "raw", "spectral", "mfe", "mfcc", "image", "conv", "softmax",
    "image_s8", "conv_strided", "depthwise", "fully_connected", "max_pool", "avg_pool", "add",
    "conv_1x1", "conv_kws", "depthwise_3x3", "depthwise_3x3_s2", "fc_odd", "max_pool_odd",
    "depthwise_3x3_relu", "depthwise_3x3_wide", "fc_passes", "fc_passes_nobias",
    "conv_motion", "conv_first_clamped", "conv_c2_nobias",
};

const char *bitexact_probe_name(int i)
{
    return i >= 0 && i < BITEXACT_COUNT ? names[i] : NULL;
}

/* Random int8 over the full range, and per-channel requantization for real multipliers
 * base * (c + 1). */
static void fill_s8(int8_t *p, int n)
{
    for (int i = 0; i < n; ++i) {
        p[i] = (int8_t)(lcg_next() >> 24);
    }
}

static int per_channel(double base, int n, int32_t *mult, int32_t *shift)
{
    int err = 0;
    for (int c = 0; c < n; ++c) {
        err |= tm_nn_quantize_multiplier(base * (c + 1), &mult[c], &shift[c]);
    }
    return err;
}

/* Biases in [-2^15, 2^15) with the int32 extremes in channels 0 and 1: those accumulators
 * overflow, and host and device must agree on what that gives (tm_nn wraps modulo 2^32). */
static void fill_bias(int32_t *b, int n)
{
    for (int c = 0; c < n; ++c) {
        b[c] = (int32_t)(lcg_next() >> 16) - 32768;
    }
    b[0] = INT32_MAX;
    b[1] = INT32_MIN;
}

/* Blocks added after the first hashes were recorded, on their own PRNG stream. */
static int probe_appended(uint32_t hashes[BITEXACT_COUNT])
{
    int err = 0;
    lcg_state = 987654321u;
    int32_t mult[16], shift[16], bias[16];

    const tm_dsp_image_params_t ip = {96, 96, 3, 30, 34, 1, TM_DSP_RESIZE_NEAREST};
    err |= tm_dsp_image_s8(&ip, img, o8, NULL);
    hashes[BITEXACT_IMAGE_S8] = fnv1a(o8, 30 * 34);

    fill_s8(q8, 4096);
    fill_s8(w8, 4096);

    /* conv: [1, 11, 13, 5] * [12, 3, 3, 5], stride 2, dilation 2, padding 2 -> [1, 6, 7, 12] */
    err |= per_channel(0.0004, 12, mult, shift);
    fill_bias(bias, 12);
    const tm_nn_per_channel_quant_t q = {mult, shift};
    tm_nn_conv_params_t cvp;
    memset(&cvp, 0, sizeof cvp);
    cvp.input_zero_point = 17;
    cvp.output_zero_point = -20;
    cvp.stride.h = cvp.stride.w = 2;
    cvp.dilation.h = cvp.dilation.w = 2;
    cvp.padding.h = cvp.padding.w = 2;
    cvp.depth_multiplier = 1;
    cvp.activation.min = -20;
    cvp.activation.max = 127;
    {
        const tm_nn_dims_t in = {1, 11, 13, 5}, f = {12, 3, 3, 5}, o = {1, 6, 7, 12};
        const tm_nn_context_t ctx = nn_ctx(tm_nn_conv2d_s8_get_buffer_size(&in, &f), &err);
        err |= tm_nn_conv2d_s8(&ctx, &cvp, &q, &in, q8, &f, w8, bias, &o, o8);
        hashes[BITEXACT_CONV_STRIDED] = fnv1a(o8, 6 * 7 * 12);
    }

    /* depthwise: [2, 12, 12, 6], depth multiplier 2, 3x3, stride 2, padding 1 -> [2, 6, 6, 12] */
    err |= per_channel(0.003, 12, mult, shift);
    fill_bias(bias, 12);
    cvp.input_zero_point = -9;
    cvp.output_zero_point = 4;
    cvp.dilation.h = cvp.dilation.w = 1;
    cvp.padding.h = cvp.padding.w = 1;
    cvp.depth_multiplier = 2;
    cvp.activation.min = -128;
    {
        const tm_nn_dims_t in = {2, 12, 12, 6}, f = {1, 3, 3, 12}, o = {2, 6, 6, 12};
        const tm_nn_context_t ctx =
            nn_ctx(tm_nn_depthwise_conv2d_s8_get_buffer_size(&in, &f), &err);
        err |= tm_nn_depthwise_conv2d_s8(&ctx, &cvp, &q, &in, q8, &f, w8, bias, &o, o8);
        hashes[BITEXACT_DEPTHWISE] = fnv1a(o8, 2 * 6 * 6 * 12);
    }

    /* fully connected: 3 batches of 96 -> 16 outputs */
    err |= per_channel(0.0002, 16, mult, shift);
    fill_bias(bias, 16);
    {
        tm_nn_fc_params_t fcp;
        memset(&fcp, 0, sizeof fcp);
        fcp.input_zero_point = 31;
        fcp.output_zero_point = -5;
        fcp.activation.min = -128;
        fcp.activation.max = 127;
        const tm_nn_dims_t in = {3, 1, 1, 96}, f = {16, 1, 1, 96}, o = {3, 1, 1, 16};
        const tm_nn_context_t ctx = nn_ctx(tm_nn_fully_connected_s8_get_buffer_size(&f), &err);
        err |= tm_nn_fully_connected_s8(&ctx, &fcp, &q, &in, q8, &f, w8, bias, &o, o8);
        hashes[BITEXACT_FULLY_CONNECTED] = fnv1a(o8, 3 * 16);
    }

    /* pooling: [1, 16, 16, 8], 3x3 window, stride 2, padding 1 -> [1, 8, 8, 8] */
    tm_nn_pool_params_t pp;
    memset(&pp, 0, sizeof pp);
    pp.stride.h = pp.stride.w = 2;
    pp.padding.h = pp.padding.w = 1;
    pp.filter.h = pp.filter.w = 3;
    pp.activation.min = -100;
    pp.activation.max = 120;
    {
        const tm_nn_dims_t in = {1, 16, 16, 8}, o = {1, 8, 8, 8};
        err |= tm_nn_max_pool_s8(&pp, &in, q8, &o, o8);
        hashes[BITEXACT_MAX_POOL] = fnv1a(o8, 8 * 8 * 8);
        const tm_nn_context_t ctx = nn_ctx(tm_nn_avg_pool_s8_get_buffer_size(&o), &err);
        err |= tm_nn_avg_pool_s8(&ctx, &pp, &in, q8, &o, o8);
        hashes[BITEXACT_AVG_POOL] = fnv1a(o8, 8 * 8 * 8);
    }

    tm_nn_add_params_t ap;
    err |= tm_nn_add_prepare(0.05, -7, 0.08, 12, 0.1, 3, &ap);
    err |= tm_nn_add_s8(&ap, q8, w8, o8, 4096);
    hashes[BITEXACT_ADD] = fnv1a(o8, 4096);
    return err;
}

/* The fast paths of the optimized kernels, on their own PRNG stream. */
static int probe_fast_paths(uint32_t hashes[BITEXACT_COUNT])
{
    int err = 0;
    lcg_state = 24681357u;
    int32_t mult[32], shift[32], bias[32];
    fill_s8(q8, 4096);
    fill_s8(w8, 4096);
    const tm_nn_per_channel_quant_t q = {mult, shift};
    tm_nn_conv_params_t cvp;
    memset(&cvp, 0, sizeof cvp);
    cvp.stride.h = cvp.stride.w = 1;
    cvp.dilation.h = cvp.dilation.w = 1;
    cvp.depth_multiplier = 1;

    /* 1x1: [1, 7, 5, 21] * [13, 1, 1, 21] -> [1, 7, 5, 13], ReLU */
    err |= per_channel(0.0011, 13, mult, shift);
    fill_bias(bias, 13);
    cvp.input_zero_point = -128;
    cvp.output_zero_point = -100;
    cvp.activation.min = -100;
    cvp.activation.max = 127;
    {
        const tm_nn_dims_t in = {1, 7, 5, 21}, f = {13, 1, 1, 21}, o = {1, 7, 5, 13};
        const tm_nn_context_t ctx = nn_ctx(tm_nn_conv2d_s8_get_buffer_size(&in, &f), &err);
        err |= tm_nn_conv2d_s8(&ctx, &cvp, &q, &in, q8, &f, w8, bias, &o, o8);
        hashes[BITEXACT_CONV_1X1] = fnv1a(o8, 7 * 5 * 13);
    }

    /* keyword-spotting first layer: [1, 49, 10, 1] * [8, 10, 4, 1], stride 2, padding (4, 1)
     * -> [1, 25, 5, 8] */
    err |= per_channel(0.002, 8, mult, shift);
    fill_bias(bias, 8);
    cvp.input_zero_point = 6;
    cvp.output_zero_point = 2;
    cvp.stride.h = cvp.stride.w = 2;
    cvp.padding.h = 4;
    cvp.padding.w = 1;
    cvp.activation.min = -128;
    {
        const tm_nn_dims_t in = {1, 49, 10, 1}, f = {8, 10, 4, 1}, o = {1, 25, 5, 8};
        const tm_nn_context_t ctx = nn_ctx(tm_nn_conv2d_s8_get_buffer_size(&in, &f), &err);
        err |= tm_nn_conv2d_s8(&ctx, &cvp, &q, &in, q8, &f, w8, bias, &o, o8);
        hashes[BITEXACT_CONV_KWS] = fnv1a(o8, 25 * 5 * 8);
    }

    /* depthwise 3x3: [1, 9, 7, 18] -> [1, 9, 7, 18] stride 1, and -> [1, 5, 4, 18] stride 2 */
    err |= per_channel(0.004, 18, mult, shift);
    fill_bias(bias, 18);
    cvp.input_zero_point = 11;
    cvp.output_zero_point = -3;
    cvp.padding.h = cvp.padding.w = 1;
    cvp.stride.h = cvp.stride.w = 1;
    cvp.activation.min = -3;
    {
        const tm_nn_dims_t in = {1, 9, 7, 18}, f = {1, 3, 3, 18}, o = {1, 9, 7, 18};
        const tm_nn_context_t ctx =
            nn_ctx(tm_nn_depthwise_conv2d_s8_get_buffer_size(&in, &f), &err);
        err |= tm_nn_depthwise_conv2d_s8(&ctx, &cvp, &q, &in, q8, &f, w8, bias, &o, o8);
        hashes[BITEXACT_DEPTHWISE_3X3] = fnv1a(o8, 9 * 7 * 18);
    }
    cvp.stride.h = cvp.stride.w = 2;
    cvp.activation.min = -128;
    {
        const tm_nn_dims_t in = {1, 9, 7, 18}, f = {1, 3, 3, 18}, o = {1, 5, 4, 18};
        const tm_nn_context_t ctx =
            nn_ctx(tm_nn_depthwise_conv2d_s8_get_buffer_size(&in, &f), &err);
        err |= tm_nn_depthwise_conv2d_s8(&ctx, &cvp, &q, &in, q8, &f, w8, bias, &o, o8);
        hashes[BITEXACT_DEPTHWISE_3X3_S2] = fnv1a(o8, 5 * 4 * 18);
    }

    /* fully connected 77 -> 11, two batches */
    err |= per_channel(0.0009, 11, mult, shift);
    fill_bias(bias, 11);
    {
        tm_nn_fc_params_t fcp;
        memset(&fcp, 0, sizeof fcp);
        fcp.input_zero_point = -77;
        fcp.output_zero_point = 9;
        fcp.activation.min = -128;
        fcp.activation.max = 100;
        const tm_nn_dims_t in = {2, 1, 1, 77}, f = {11, 1, 1, 77}, o = {2, 1, 1, 11};
        const tm_nn_context_t ctx = nn_ctx(tm_nn_fully_connected_s8_get_buffer_size(&f), &err);
        err |= tm_nn_fully_connected_s8(&ctx, &fcp, &q, &in, q8, &f, w8, bias, &o, o8);
        hashes[BITEXACT_FC_ODD] = fnv1a(o8, 2 * 11);
    }

    /* max pool [1, 9, 9, 11], 2x2 stride 2 -> [1, 4, 4, 11], clamped to [-50, 90] */
    {
        tm_nn_pool_params_t pp;
        memset(&pp, 0, sizeof pp);
        pp.stride.h = pp.stride.w = 2;
        pp.filter.h = pp.filter.w = 2;
        pp.activation.min = -50;
        pp.activation.max = 90;
        const tm_nn_dims_t in = {1, 9, 9, 11}, o = {1, 4, 4, 11};
        err |= tm_nn_max_pool_s8(&pp, &in, q8, &o, o8);
        hashes[BITEXACT_MAX_POOL_ODD] = fnv1a(o8, 4 * 4 * 11);
    }

    /* depthwise 3x3 stride 1 with ReLU as a model has it (output zero point -128, the whole
     * int8 range): [1, 12, 10, 8] and [1, 5, 27, 5], padding 1 */
    err |= per_channel(0.003, 8, mult, shift);
    fill_bias(bias, 8);
    cvp.input_zero_point = -5;
    cvp.output_zero_point = -128;
    cvp.padding.h = cvp.padding.w = 1;
    cvp.stride.h = cvp.stride.w = 1;
    cvp.dilation.h = cvp.dilation.w = 1;
    cvp.depth_multiplier = 1;
    cvp.activation.min = -128;
    cvp.activation.max = 127;
    {
        const tm_nn_dims_t in = {1, 12, 10, 8}, f = {1, 3, 3, 8}, o = {1, 12, 10, 8};
        const tm_nn_context_t ctx =
            nn_ctx(tm_nn_depthwise_conv2d_s8_get_buffer_size(&in, &f), &err);
        err |= tm_nn_depthwise_conv2d_s8(&ctx, &cvp, &q, &in, q8, &f, w8, bias, &o, o8);
        hashes[BITEXACT_DEPTHWISE_3X3_RELU] = fnv1a(o8, 12 * 10 * 8);
    }
    err |= per_channel(0.006, 5, mult, shift);
    {
        const tm_nn_dims_t in = {1, 5, 27, 5}, f = {1, 3, 3, 5}, o = {1, 5, 27, 5};
        const tm_nn_context_t ctx =
            nn_ctx(tm_nn_depthwise_conv2d_s8_get_buffer_size(&in, &f), &err);
        err |= tm_nn_depthwise_conv2d_s8(&ctx, &cvp, &q, &in, q8, &f, w8, bias, &o, o8);
        hashes[BITEXACT_DEPTHWISE_3X3_WIDE] = fnv1a(o8, 5 * 27 * 5);
    }

    /* fully connected 128 -> 22, two batches, the whole int8 range: five four-row passes
     * (depth a multiple of 32) and two rows after them; channel 3 has a scale above 0.5
     * (shift 0) and channel 9 one below 2^-22, so both need the general form */
    err |= per_channel(0.0007, 22, mult, shift);
    err |= tm_nn_quantize_multiplier(0.8, &mult[3], &shift[3]);
    err |= tm_nn_quantize_multiplier(3e-8, &mult[9], &shift[9]);
    fill_bias(bias, 22);
    {
        tm_nn_fc_params_t fcp;
        memset(&fcp, 0, sizeof fcp);
        fcp.input_zero_point = 13;
        fcp.output_zero_point = -7;
        fcp.activation.min = -128;
        fcp.activation.max = 127;
        const tm_nn_dims_t in = {2, 1, 1, 128}, f = {22, 1, 1, 128}, o = {2, 1, 1, 22};
        const tm_nn_context_t ctx = nn_ctx(tm_nn_fully_connected_s8_get_buffer_size(&f), &err);
        err |= tm_nn_fully_connected_s8(&ctx, &fcp, &q, &in, q8, &f, w8, bias, &o, o8);
        hashes[BITEXACT_FC_PASSES] = fnv1a(o8, 2 * 22);
        err |= tm_nn_fully_connected_s8(&ctx, &fcp, &q, &in, q8, &f, w8, NULL, &o, o8);
        hashes[BITEXACT_FC_PASSES_NOBIAS] = fnv1a(o8, 2 * 22);
    }
    return err;
}

/* conv2d shapes of first layers (1 to 3 input channels), on their own PRNG stream. */
static int probe_first_layers(uint32_t hashes[BITEXACT_COUNT])
{
    int err = 0;
    lcg_state = 55555u;
    int32_t mult[16], shift[16], bias[16];
    fill_s8(q8, 4096);
    fill_s8(w8, 4096);
    const tm_nn_per_channel_quant_t q = {mult, shift};
    tm_nn_conv_params_t cvp;
    memset(&cvp, 0, sizeof cvp);
    cvp.dilation.h = cvp.dilation.w = 1;
    cvp.depth_multiplier = 1;

    /* motion first layer: [1, 1, 125, 3] * [16, 1, 5, 3], padding (0, 2) -> [1, 1, 125, 16],
     * ReLU as the trainer fuses it (output zero point -128, whole int8 range) */
    err |= per_channel(0.003, 16, mult, shift);
    fill_bias(bias, 16);
    cvp.input_zero_point = -5;
    cvp.output_zero_point = -128;
    cvp.stride.h = cvp.stride.w = 1;
    cvp.padding.h = 0;
    cvp.padding.w = 2;
    cvp.activation.min = -128;
    cvp.activation.max = 127;
    {
        const tm_nn_dims_t in = {1, 1, 125, 3}, f = {16, 1, 5, 3}, o = {1, 1, 125, 16};
        const tm_nn_context_t ctx = nn_ctx(tm_nn_conv2d_s8_get_buffer_size(&in, &f), &err);
        err |= tm_nn_conv2d_s8(&ctx, &cvp, &q, &in, q8, &f, w8, bias, &o, o8);
        hashes[BITEXACT_CONV_MOTION] = fnv1a(o8, 125 * 16);
    }

    /* [2, 9, 7, 3] * [7, 3, 3, 3], stride 2, padding (1, 1) -> [2, 5, 4, 7], clamped to
     * [-20, 90] (the requantization table instead of the output form) */
    err |= per_channel(0.0015, 7, mult, shift);
    fill_bias(bias, 7);
    cvp.input_zero_point = 21;
    cvp.output_zero_point = -20;
    cvp.stride.h = cvp.stride.w = 2;
    cvp.padding.h = cvp.padding.w = 1;
    cvp.activation.min = -20;
    cvp.activation.max = 90;
    {
        const tm_nn_dims_t in = {2, 9, 7, 3}, f = {7, 3, 3, 3}, o = {2, 5, 4, 7};
        const tm_nn_context_t ctx = nn_ctx(tm_nn_conv2d_s8_get_buffer_size(&in, &f), &err);
        err |= tm_nn_conv2d_s8(&ctx, &cvp, &q, &in, q8, &f, w8, bias, &o, o8);
        hashes[BITEXACT_CONV_FIRST_CLAMPED] = fnv1a(o8, 2 * 5 * 4 * 7);
    }

    /* [1, 4, 6, 2] * [5, 2, 3, 2], stride (1, 2), padding (0, 1) -> [1, 3, 3, 5], no bias:
     * an odd pixel count (the last pixel alone) and an odd channel count */
    err |= per_channel(0.004, 5, mult, shift);
    cvp.input_zero_point = -128;
    cvp.output_zero_point = 3;
    cvp.stride.h = 1;
    cvp.stride.w = 2;
    cvp.padding.h = 0;
    cvp.padding.w = 1;
    cvp.activation.min = -128;
    cvp.activation.max = 127;
    {
        const tm_nn_dims_t in = {1, 4, 6, 2}, f = {5, 2, 3, 2}, o = {1, 3, 3, 5};
        const tm_nn_context_t ctx = nn_ctx(tm_nn_conv2d_s8_get_buffer_size(&in, &f), &err);
        err |= tm_nn_conv2d_s8(&ctx, &cvp, &q, &in, q8, &f, w8, NULL, &o, o8);
        hashes[BITEXACT_CONV_C2_NOBIAS] = fnv1a(o8, 3 * 3 * 5);
    }
    return err;
}

int bitexact_probe(uint32_t hashes[BITEXACT_COUNT])
{
    int err = 0;
    tm_dsp_buffer_t s = {scratch, sizeof scratch};
    lcg_state = 12345u;
    for (int i = 0; i < 16000; ++i) {
        sig[i] = 0.3f * tm_dsp_sinf(0.05f * (float)i) + 0.1f * frand();
    }

    uint32_t mh = 2166136261u;
    for (int i = 0; i < 20000; ++i) {
        const float x = (float)i * 0.37f - 3000.0f;
        float m[6];
        m[0] = tm_dsp_sinf(x);
        m[1] = tm_dsp_cosf(x);
        m[2] = tm_dsp_expf(x * 0.01f);
        m[3] = tm_dsp_logf((float)i * 0.731f + 1e-3f);
        m[4] = tm_dsp_log10f((float)i + 0.5f);
        m[5] = tm_dsp_sqrtf((float)i * 1.3f);
        mh ^= fnv1a(m, sizeof m);
        mh *= 16777619u;
    }
    hashes[BITEXACT_MATH] = mh;

    const tm_dsp_raw_params_t rp = {1000, 3, 0.25f, 1};
    err |= tm_dsp_raw(&rp, sig, out, &s);
    hashes[BITEXACT_RAW] = fnv1a(out, 3000 * sizeof(float));

    const tm_dsp_spectral_params_t sp = {200, 3, 100.0f, 6, NULL, 3};
    err |= tm_dsp_spectral(&sp, sig, out, &s);
    hashes[BITEXACT_SPECTRAL] = fnv1a(out, tm_dsp_spectral_output_size(&sp) * sizeof(float));

    const tm_dsp_mfe_params_t mp = {16000, 16000.0f, 400, 160, 40, 20.0f, 0.0f, 0.97f, 1e-10f};
    err |= tm_dsp_mfe(&mp, sig, out, &s);
    hashes[BITEXACT_MFE] = fnv1a(out, tm_dsp_mfe_output_size(&mp) * sizeof(float));

    const tm_dsp_mfcc_params_t cp = {mp, 13, 22};
    err |= tm_dsp_mfcc(&cp, sig, out, &s);
    hashes[BITEXACT_MFCC] = fnv1a(out, tm_dsp_mfcc_output_size(&cp) * sizeof(float));

    for (size_t i = 0; i < sizeof img; ++i) {
        img[i] = (uint8_t)lcg_next();
    }
    const tm_dsp_image_params_t ip = {96, 96, 3, 48, 40, 1, TM_DSP_RESIZE_BILINEAR};
    err |= tm_dsp_image(&ip, img, out, &s);
    hashes[BITEXACT_IMAGE] = fnv1a(out, 48 * 40 * sizeof(float));

    for (int i = 0; i < 4096; ++i) {
        q8[i] = (int8_t)(frand() * 127.0f);
        w8[i] = (int8_t)(frand() * 127.0f);
    }
    int32_t mult[8], shift[8];
    for (int c = 0; c < 8; ++c) {
        err |= tm_nn_quantize_multiplier(0.0007 * (c + 1), &mult[c], &shift[c]);
    }
    const tm_nn_per_channel_quant_t q = {mult, shift};
    tm_nn_conv_params_t cvp;
    memset(&cvp, 0, sizeof cvp);
    cvp.input_zero_point = -3;
    cvp.output_zero_point = 5;
    cvp.stride.h = cvp.stride.w = 1;
    cvp.dilation.h = cvp.dilation.w = 1;
    cvp.padding.h = cvp.padding.w = 1;
    cvp.depth_multiplier = 1;
    cvp.activation.min = -128;
    cvp.activation.max = 127;
    const tm_nn_dims_t in = {1, 10, 10, 4}, f = {8, 3, 3, 4}, o = {1, 10, 10, 8};
    const tm_nn_context_t ctx = nn_ctx(tm_nn_conv2d_s8_get_buffer_size(&in, &f), &err);
    err |= tm_nn_conv2d_s8(&ctx, &cvp, &q, &in, q8, &f, w8, NULL, &o, o8);
    hashes[BITEXACT_CONV] = fnv1a(o8, 800);

    const tm_nn_softmax_params_t smp = {0.1f, 1.0f};
    err |= tm_nn_softmax_s8(&smp, q8, 64, 40, o8);
    hashes[BITEXACT_SOFTMAX] = fnv1a(o8, 64 * 40);

    err |= probe_appended(hashes);
    err |= probe_fast_paths(hashes);
    err |= probe_first_layers(hashes);
    return err == 0 ? 0 : -1;
}
