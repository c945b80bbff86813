/*
 * tm_dsp_raw.c — the raw block: window copy with optional mean removal and scaling.
 */
#include "tm_dsp_internal.h"

size_t tm_dsp_raw_output_size(const tm_dsp_raw_params_t *p)
{
    if (p == NULL || p->n_samples == 0 || p->n_axes == 0) {
        return 0;
    }
    return (size_t)p->n_samples * p->n_axes;
}

size_t tm_dsp_raw_get_buffer_size(const tm_dsp_raw_params_t *p)
{
    (void)p;
    return 0;
}

tm_dsp_status_t tm_dsp_raw(const tm_dsp_raw_params_t *p, const float *in, float *out,
                           const tm_dsp_buffer_t *scratch)
{
    (void)scratch;
    TM_DSP_PRECONDITION(in != NULL && out != NULL && tm_dsp_raw_output_size(p) > 0);
    TM_DSP_PRECONDITION(tm_dsp_finite(p->scale));
    const uint32_t n = p->n_samples, axes = p->n_axes;
    for (uint32_t a = 0; a < axes; ++a) {
        float mean = 0.0f;
        if (p->remove_mean) {
            for (uint32_t t = 0; t < n; ++t) {
                mean += in[(size_t)t * axes + a];
            }
            mean /= (float)n;
        }
        for (uint32_t t = 0; t < n; ++t) {
            const size_t i = (size_t)t * axes + a;
            out[i] = (in[i] - mean) * p->scale;
        }
    }
    return TM_DSP_OK;
}
