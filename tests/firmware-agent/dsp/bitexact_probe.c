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
    err |= tm_nn_conv2d_s8(NULL, &cvp, &q, &in, q8, &f, w8, NULL, &o, o8);
    hashes[BITEXACT_CONV] = fnv1a(o8, 800);

    const tm_nn_softmax_params_t smp = {0.1f, 1.0f};
    err |= tm_nn_softmax_s8(&smp, q8, 64, 40, o8);
    hashes[BITEXACT_SOFTMAX] = fnv1a(o8, 64 * 40);
    return err == 0 ? 0 : -1;
}
