/*
 * tm_dsp_image.c — image block: resize (nearest / bilinear), grey conversion, scaling.
 */
#include "tm_dsp_internal.h"

#define MAX_SIDE 8192u

static int params_valid(const tm_dsp_image_params_t *p)
{
    return p != NULL && p->in_width >= 1 && p->in_width <= MAX_SIDE && p->in_height >= 1 &&
           p->in_height <= MAX_SIDE && p->out_width >= 1 && p->out_width <= MAX_SIDE &&
           p->out_height >= 1 && p->out_height <= MAX_SIDE &&
           (p->in_channels == 1 || p->in_channels == 3) &&
           (p->out_channels == 1 || p->out_channels == 3) &&
           (p->resize == TM_DSP_RESIZE_NEAREST || p->resize == TM_DSP_RESIZE_BILINEAR);
}

size_t tm_dsp_image_output_size(const tm_dsp_image_params_t *p)
{
    return params_valid(p) ? (size_t)p->out_height * p->out_width * p->out_channels : 0;
}

size_t tm_dsp_image_get_buffer_size(const tm_dsp_image_params_t *p)
{
    (void)p;
    return 0;
}

/* Source index for nearest neighbour: floor((d + 0.5) * in / out), in integers; sides
 * are at most 8192, so (2d + 1) * in < 2^27 fits in 32 bits. */
static uint32_t nearest_index(uint32_t d, uint32_t in, uint32_t out)
{
    const uint32_t i = ((2u * d + 1u) * in) / (2u * out);
    return i < in ? i : in - 1u;
}

/* Bilinear source position: lower index and weight of the upper neighbour. */
typedef struct {
    uint32_t i0;
    uint32_t i1;
    float frac;
} bilinear_tap_t;

static bilinear_tap_t bilinear_tap(uint32_t d, uint32_t in, uint32_t out)
{
    bilinear_tap_t t;
    float s = ((float)d + 0.5f) * (float)in / (float)out - 0.5f;
    if (s < 0.0f) {
        s = 0.0f;
    }
    const float max_s = (float)(in - 1u);
    if (s > max_s) {
        s = max_s;
    }
    t.i0 = (uint32_t)s;
    t.i1 = t.i0 + 1u < in ? t.i0 + 1u : t.i0;
    t.frac = s - (float)t.i0;
    return t;
}

/* Resized value of channel c at output pixel (y, x), in [0, 255]. */
static float sample(const tm_dsp_image_params_t *p, const uint8_t *in, uint32_t y, uint32_t x,
                    uint32_t c)
{
    const uint32_t w = p->in_width, ch = p->in_channels;
    if (p->resize == TM_DSP_RESIZE_NEAREST) {
        const uint32_t sy = nearest_index(y, p->in_height, p->out_height);
        const uint32_t sx = nearest_index(x, p->in_width, p->out_width);
        return (float)in[((size_t)sy * w + sx) * ch + c];
    }
    const bilinear_tap_t ty = bilinear_tap(y, p->in_height, p->out_height);
    const bilinear_tap_t tx = bilinear_tap(x, p->in_width, p->out_width);
    const float v00 = (float)in[((size_t)ty.i0 * w + tx.i0) * ch + c];
    const float v01 = (float)in[((size_t)ty.i0 * w + tx.i1) * ch + c];
    const float v10 = (float)in[((size_t)ty.i1 * w + tx.i0) * ch + c];
    const float v11 = (float)in[((size_t)ty.i1 * w + tx.i1) * ch + c];
    const float top = v00 + (v01 - v00) * tx.frac;
    const float bottom = v10 + (v11 - v10) * tx.frac;
    return top + (bottom - top) * ty.frac;
}

/* Output channel oc of pixel (y, x) in [0, 255], after colour conversion. */
static float pixel(const tm_dsp_image_params_t *p, const uint8_t *in, uint32_t y, uint32_t x,
                   uint32_t oc)
{
    if (p->in_channels == 3 && p->out_channels == 1) {
        const float r = sample(p, in, y, x, 0);
        const float g = sample(p, in, y, x, 1);
        const float b = sample(p, in, y, x, 2);
        return 0.299f * r + 0.587f * g + 0.114f * b;
    }
    return sample(p, in, y, x, p->in_channels == 1 ? 0u : oc);
}

tm_dsp_status_t tm_dsp_image(const tm_dsp_image_params_t *p, const uint8_t *in, float *out,
                             const tm_dsp_buffer_t *scratch)
{
    (void)scratch;
    TM_DSP_PRECONDITION(in != NULL && out != NULL && params_valid(p));
    size_t i = 0;
    for (uint32_t y = 0; y < p->out_height; ++y) {
        for (uint32_t x = 0; x < p->out_width; ++x) {
            for (uint32_t c = 0; c < p->out_channels; ++c) {
                out[i++] = pixel(p, in, y, x, c) / 255.0f;
            }
        }
    }
    return TM_DSP_OK;
}

tm_dsp_status_t tm_dsp_image_s8(const tm_dsp_image_params_t *p, const uint8_t *in,
                                int8_t *out, const tm_dsp_buffer_t *scratch)
{
    (void)scratch;
    TM_DSP_PRECONDITION(in != NULL && out != NULL && params_valid(p));
    size_t i = 0;
    for (uint32_t y = 0; y < p->out_height; ++y) {
        for (uint32_t x = 0; x < p->out_width; ++x) {
            for (uint32_t c = 0; c < p->out_channels; ++c) {
                int32_t v = (int32_t)(pixel(p, in, y, x, c) + 0.5f);
                if (v > 255) {
                    v = 255;
                }
                out[i++] = (int8_t)(v - 128);
            }
        }
    }
    return TM_DSP_OK;
}
