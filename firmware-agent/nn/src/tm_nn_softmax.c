/*
 * tm_nn_softmax.c — reference int8 softmax, float inside, deterministic across targets.
 */
#include <string.h>

#include "tm_nn_internal.h"

/* exp(x) for x in [-87, 0] using only IEEE-exact basic operations, so every target that
 * honours -ffp-contract=off computes the same bits (libm expf differs between glibc and
 * newlib in the last bit). x = k ln2 + r, |r| <= ln2/2; exp(r) by its degree-7 Taylor
 * polynomial (truncation error < 6e-9 relative); 2^k by building the exponent bits.
 * Below -87 the result would approach the subnormal range: return 0 instead, which keeps
 * flush-to-zero settings of the FPU from mattering. */
float tm_nn_softmax_expf(float x)
{
    if (x < -87.0f) {
        return 0.0f;
    }
    const float kf = x * 1.44269504f;
    const int32_t k = (int32_t)(kf < 0.0f ? kf - 0.5f : kf + 0.5f);
    /* ln2 split so that k * LN2_HI is exact for |k| < 2^12. */
    const float r = (x - (float)k * 0.693115234375f) - (float)k * 3.19461833e-05f;
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    const uint32_t bits = (uint32_t)(k + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

tm_nn_status_t tm_nn_ref_softmax_s8(const tm_nn_softmax_params_t *params, const int8_t *input,
                                int32_t rows, int32_t row_size, int8_t *output)
{
    TM_NN_PRECONDITION(params != NULL && input != NULL && output != NULL);
    TM_NN_PRECONDITION(rows > 0 && row_size > 0);
    TM_NN_PRECONDITION((int64_t)rows * row_size <= TM_NN_MAX_ELEMENTS);
    /* The negated test also rejects NaN. */
    TM_NN_PRECONDITION(!(params->input_scale <= 0.0f) && !(params->beta <= 0.0f));
    const float coeff = params->beta * params->input_scale;
    /* Differences reach -255: keep the exponent argument finite. */
    TM_NN_PRECONDITION(coeff < 1.0e30f);

    for (int32_t r = 0; r < rows; ++r) {
        const int8_t *in = input + (size_t)r * row_size;
        int8_t *out = output + (size_t)r * row_size;
        int32_t max_q = -128;
        for (int32_t i = 0; i < row_size; ++i) {
            if (in[i] > max_q) {
                max_q = in[i];
            }
        }
        float sum = 0.0f;
        for (int32_t i = 0; i < row_size; ++i) {
            sum += tm_nn_softmax_expf(coeff * (float)((int32_t)in[i] - max_q));
        }
        /* The maximum contributes exp(0) = 1, so sum >= 1. */
        for (int32_t i = 0; i < row_size; ++i) {
            const float p = tm_nn_softmax_expf(coeff * (float)((int32_t)in[i] - max_q)) / sum;
            int32_t q = (int32_t)(p * 256.0f + 0.5f) - 128;
            out[i] = (int8_t)(q > 127 ? 127 : q);
        }
    }
    return TM_NN_OK;
}
