/*
 * tm_nn_opt_conv.c — optimized conv2d and depthwise conv2d, bit-exact with tm_nn_conv.c.
 *
 * conv2d: each pair of output pixels is unrolled (im2col) into two int16 columns of
 * K = KH * KW * C_IN values with the input zero point already subtracted (padding taps
 * become 0), then every pair of output channels is accumulated against both columns at
 * once. When the filter's int16 copy fits in 16 KiB of scratch (expand_filter, made once per
 * call), per 4 values of K that is 4 column reads, 4 filter reads and 8 SMLAD for 16
 * multiply-accumulates; larger filters are read as int8 (2 reads and 4 SXTB16 instead of 4
 * reads). A 1x1 filter skips the tap loop (its column is one input pixel).
 * Small-channel layers (C_IN not a multiple of 4: first layers) take the padded path
 * instead when its copies fit (conv_plan): the input is copied once per call as int16 with
 * the zero point subtracted and the padding 0, each filter row padded with zero weights to
 * whole groups of 4, so a column is a word copy of KH runs, with no bounds checks and no
 * per-value work. When every channel's requantization has the output form
 * (tm_nn_requant_mm_t) and the clamp is the whole int8 range, the requantization runs right
 * after each channel pair's groups (mac_requant_pixels), with no accumulator rows.
 *
 * depthwise 3x3 (depth multiplier 1, no dilation): four channels at a time are copied from
 * one 32-bit read per input pixel (SXTB16) into four int16 planes in scratch, with the raw
 * input values; the padding holds the input zero point and sum(w) * zero point comes off the
 * bias once per channel. Then per channel every output is six 32-bit reads of its plane and
 * six multiply-accumulates against the weights packed as (w0, w1), (w2, 0) per filter row
 * (for stride 1 one inline-assembly statement covers the channel's whole plane on the device;
 * the probe in tests/firmware-agent/dsp checks it against the reference). All accumulators
 * of the channel come first, their requantization second. Other depthwise shapes take a
 * direct loop with the window clipped once per output pixel.
 *
 * All sums are modulo 2^32 like the reference's, so their order does not change the bytes.
 */
#include <stddef.h>

#include "tm_nn_simd.h"

/* ---- conv2d ------------------------------------------------------------------------------ */

/* The two columns share one buffer, interleaved by groups of four values so that one
 * pointer walks both: group g of column j starts at 8 g + 4 j. Inside a group the lanes are
 * stored (0, 2, 1, 3): one 32-bit read then pairs with SXTB16 of filter bytes 0 and 2, the
 * next with SXTB16 ROR 8 (bytes 1 and 3). The last K % 4 values of both columns follow the
 * groups, column 0's first, in order. */
typedef struct {
    int32_t k;    /* column length, KH * KW * C_IN */
    int32_t k4;   /* k rounded down to a multiple of 4 */
    int32_t zp;   /* input zero point */
    uint32_t zp2; /* the zero point in both int16 lanes */
    /* For the MAC loop: whether the number of groups is odd, where the groups end in the
     * buffer, and the K % 4 values after them. */
    int32_t odd_group;
    const int16_t *groups_end;
    int32_t tail;
} column_t;

static inline int32_t col_pos(const column_t *cl, int32_t j, int32_t k)
{
    if (k < cl->k4) {
        return ((k & ~3) << 1) | (j << 2) | ((k & 1) << 1) | ((k >> 1) & 1);
    }
    return 2 * cl->k4 + j * (cl->k - cl->k4) + (k - cl->k4);
}

/* Column j's values k0 .. k0 + n - 1 from n input bytes. */
static void expand(const column_t *cl, int32_t j, const int8_t *src, int32_t n, int32_t k0,
                   int16_t *col)
{
    int32_t i = 0;
    if ((k0 & 3) == 0) {
        int16_t *dst = col + 2 * k0 + 4 * j;
        for (; i + 4 <= n && k0 + i + 4 <= cl->k4; i += 4, dst += 8) {
            const uint32_t w = tm_nn_read_u32(src + i);
            tm_nn_write_u32(dst, tm_nn_ssub16(tm_nn_sxtb16(w), cl->zp2));
            tm_nn_write_u32(dst + 2, tm_nn_ssub16(tm_nn_sxtb16_ror8(w), cl->zp2));
        }
    }
    for (; i < n; ++i) {
        col[col_pos(cl, j, k0 + i)] = (int16_t)(src[i] - cl->zp);
    }
}

static void zero_fill(const column_t *cl, int32_t j, int32_t n, int32_t k0, int16_t *col)
{
    for (int32_t i = 0; i < n; ++i) {
        col[col_pos(cl, j, k0 + i)] = 0;
    }
}

typedef struct {
    const tm_nn_conv_params_t *p;
    int32_t in_h, in_w, in_c, k_h, k_w;
} geometry_t;

/* Column j of the buffer from output pixel (oy, ox). */
static void im2col(const geometry_t *g, const column_t *cl, const int8_t *in_b, int32_t oy,
                   int32_t ox, int32_t j, int16_t *col)
{
    const int32_t y0 = oy * g->p->stride.h - g->p->padding.h;
    const int32_t x0 = ox * g->p->stride.w - g->p->padding.w;
    if (g->k_h == 1 && g->k_w == 1) { /* padding is 0 then: always inside */
        expand(cl, j, in_b + ((size_t)y0 * g->in_w + x0) * g->in_c, g->in_c, 0, col);
        return;
    }
    const int32_t dh = g->p->dilation.h, dw = g->p->dilation.w;
    const int32_t row_len = g->k_w * g->in_c;
    int32_t k = 0;
    for (int32_t ky = 0; ky < g->k_h; ++ky, k += row_len) {
        const int32_t iy = y0 + ky * dh;
        if (iy < 0 || iy >= g->in_h) {
            zero_fill(cl, j, row_len, k, col);
            continue;
        }
        const int8_t *row = in_b + (size_t)iy * g->in_w * g->in_c;
        if (dw == 1 && x0 >= 0 && x0 + g->k_w <= g->in_w) { /* one contiguous run */
            expand(cl, j, row + (size_t)x0 * g->in_c, row_len, k, col);
            continue;
        }
        for (int32_t kx = 0; kx < g->k_w; ++kx) {
            const int32_t ix = x0 + kx * dw;
            if (ix < 0 || ix >= g->in_w) {
                zero_fill(cl, j, g->in_c, k + kx * g->in_c, col);
            } else {
                expand(cl, j, row + (size_t)ix * g->in_c, g->in_c, k + kx * g->in_c, col);
            }
        }
    }
}

typedef struct {
    int32_t a00, a01, a10, a11;
} acc2x2_t;

/* One group of four values of both columns against both filter rows (w0 and w0 + step):
 * two LDRD of both columns' pairs, two filter words, four SXTB16 and eight SMLAD for
 * 16 MACs. */
static inline void mac_group(acc2x2_t *a, const int16_t **col, const int8_t *w0, int32_t step)
{
    uint32_t x0e, x0o, x1e, x1o;
    tm_nn_load4(col, &x0e, &x0o, &x1e, &x1o);
    uint32_t w = tm_nn_read_u32(w0);
    uint32_t we = tm_nn_sxtb16(w), wo = tm_nn_sxtb16_ror8(w);
    a->a00 = tm_nn_smlad(wo, x0o, tm_nn_smlad(we, x0e, a->a00));
    a->a01 = tm_nn_smlad(wo, x1o, tm_nn_smlad(we, x1e, a->a01));
    w = tm_nn_read_u32(w0 + step);
    we = tm_nn_sxtb16(w);
    wo = tm_nn_sxtb16_ror8(w);
    a->a10 = tm_nn_smlad(wo, x0o, tm_nn_smlad(we, x0e, a->a10));
    a->a11 = tm_nn_smlad(wo, x1o, tm_nn_smlad(we, x1e, a->a11));
}

/* a<r><j> += column j . filter row r, for both columns and the filter rows at w0 (r = 0)
 * and w0 + step (r = 1). Everything that depends only on K comes precomputed in cl, so the
 * call costs almost nothing beyond its groups. */
__attribute__((noinline)) static void mac_2x2(const column_t *cl, const int16_t *col,
                                              const int8_t *w0, int32_t step, acc2x2_t *acc)
{
    acc2x2_t a = *acc;
    if (cl->odd_group) {
        mac_group(&a, &col, w0, step);
        w0 += 4;
    }
    /* Two groups per iteration: the loop's own instructions then cost half as much. */
    while (col < cl->groups_end) {
        mac_group(&a, &col, w0, step);
        mac_group(&a, &col, w0 + 4, step);
        w0 += 8;
    }
    if (cl->tail != 0) {
        const int32_t tail = cl->tail;
        for (int32_t i = 0; i < tail; ++i) {
            const int32_t x0 = col[i], x1 = col[tail + i], f0 = w0[i], f1 = w0[step + i];
            a.a00 = tm_nn_add_wrap_s32(a.a00, x0 * f0);
            a.a01 = tm_nn_add_wrap_s32(a.a01, x1 * f0);
            a.a10 = tm_nn_add_wrap_s32(a.a10, x0 * f1);
            a.a11 = tm_nn_add_wrap_s32(a.a11, x1 * f1);
        }
    }
    *acc = a;
}

/* Bytes of the int16 copy of the filter (see expand_filter) for n output channels of k
 * values, 0 when the copy is not made: past TM_NN_CONV_FILTER_COPY_MAX the kernel reads the
 * int8 filter directly, so that large layers do not need a large arena. */
#define TM_NN_CONV_FILTER_COPY_MAX 16384
static int64_t filter_copy_bytes(int64_t n, int64_t k)
{
    const int64_t bytes = 2 * (k & ~(int64_t)3) * ((n + 1) & ~(int64_t)1);
    return bytes <= TM_NN_CONV_FILTER_COPY_MAX ? bytes : 0;
}

/* Largest padded int16 input copy (bytes, bound below) the padded path may use. */
#define TM_NN_CONV_PADDED_INPUT_MAX 4096

/* What a conv2d call with these dims may use of its scratch. The padded path (input channels
 * not a multiple of 4, so a pixel's channels do not fill whole groups, and not 1x1): the
 * input is copied once per call as int16, zero point subtracted and padding zero, so each
 * filter row of a column is a plain copy of whole groups. Each filter row is padded to
 * row4 values with zero weights for that (the column then takes row4 - row_len values past
 * the row, which meet those zeros), so a column holds KH * row4 values and the filter copy
 * as many per channel. get_buffer_size has no padding or stride, so the copy is bounded by
 * what tm_nn_check_conv allows: padding < KH (KW) and every window starts inside the input,
 * hence at most IN_H + 2 (KH - 1) rows and IN_W + 2 (KW - 1) columns, plus 4 values of
 * slack for the last row's rounding up. */
typedef struct {
    int32_t row_len;    /* KW * C_IN, one filter row */
    int32_t row4;       /* row_len rounded up to a multiple of 4 */
    int32_t padded;     /* the padded path fits (dilation 1 decides at the call) */
    int64_t col_values; /* values per column: K, or KH * row4 for the padded path */
    int64_t fcopy_bytes;
    int64_t pad_bytes; /* bound of the padded input copy, 4-byte multiple */
} conv_plan_t;

static conv_plan_t conv_plan(const tm_nn_dims_t *in, const tm_nn_dims_t *f)
{
    conv_plan_t pl;
    const int64_t k = (int64_t)f->h * f->w * f->c;
    pl.row_len = f->w * f->c;
    pl.row4 = (pl.row_len + 3) & ~3;
    pl.padded = 0;
    pl.col_values = k;
    pl.fcopy_bytes = filter_copy_bytes(f->n, k);
    pl.pad_bytes = 0;
    if (in != NULL && in->h > 0 && in->w > 0 && in->c == f->c && (f->c & 3) != 0 &&
        (f->h > 1 || f->w > 1)) {
        const int64_t kp = (int64_t)f->h * pl.row4;
        const int64_t fcopy = 2 * kp * (((int64_t)f->n + 1) & ~(int64_t)1);
        const int64_t values =
            ((int64_t)in->h + 2 * (f->h - 1)) * ((int64_t)in->w + 2 * (f->w - 1)) * f->c + 4;
        const int64_t pad = (2 * values + 3) & ~(int64_t)3;
        if (fcopy <= TM_NN_CONV_FILTER_COPY_MAX && pad <= TM_NN_CONV_PADDED_INPUT_MAX) {
            pl.padded = 1;
            pl.col_values = kp;
            pl.fcopy_bytes = fcopy;
            pl.pad_bytes = pad;
        }
    }
    return pl;
}

int32_t tm_nn_opt_conv2d_s8_get_buffer_size(const tm_nn_dims_t *input_dims,
                                            const tm_nn_dims_t *filter_dims)
{
    if (filter_dims == NULL || filter_dims->n <= 0 || filter_dims->h <= 0 || filter_dims->w <= 0 ||
        filter_dims->c <= 0) {
        return 0;
    }
    /* The requantization table, two int32 accumulator rows of C_OUT, two int16 columns, the
     * int16 filter copy, then the padded input (conv_plan). */
    const conv_plan_t pl = conv_plan(input_dims, filter_dims);
    const int64_t bytes = ((int64_t)sizeof(tm_nn_requant_t) + 8) * filter_dims->n +
                          4 * pl.col_values + pl.fcopy_bytes + pl.pad_bytes;
    return bytes > INT32_MAX - 3 ? -1 : (int32_t)bytes;
}

/* The filter's groups of four values as int16, laid out for mac_2x2_copy: per pair of
 * output channels (a lone last channel paired with itself), per group g, the SXTB16 and
 * SXTB16 ROR 8 halves of channel 2p's word g, then those of channel 2p + 1. The MAC loop
 * then reads two words per channel and group instead of one word and two SXTB16: 12
 * instructions per 16 MACs instead of 16. */
static void expand_filter(const int8_t *filter, int32_t n, int32_t k, int32_t k4, int16_t *copy)
{
    uint32_t *dst = (uint32_t *)(void *)copy;
    for (int32_t oc = 0; oc < n; oc += 2) {
        const int8_t *r0 = filter + (size_t)oc * k;
        const int8_t *r1 = oc + 1 < n ? r0 + k : r0;
        for (int32_t i = 0; i < k4; i += 4, dst += 4) {
            const uint32_t w0 = tm_nn_read_u32(r0 + i), w1 = tm_nn_read_u32(r1 + i);
            dst[0] = tm_nn_sxtb16(w0);
            dst[1] = tm_nn_sxtb16_ror8(w0);
            dst[2] = tm_nn_sxtb16(w1);
            dst[3] = tm_nn_sxtb16_ror8(w1);
        }
    }
}

/* One group of both columns against the copied filter words of both channels: four LDRD
 * and eight SMLAD for 16 MACs. */
static inline void mac_group_copy(acc2x2_t *a, const int16_t **col, const int16_t **w)
{
    uint32_t x0e, x0o, x1e, x1o, we, wo;
    tm_nn_load4(col, &x0e, &x0o, &x1e, &x1o);
    tm_nn_load2(w, &we, &wo);
    a->a00 = tm_nn_smlad(wo, x0o, tm_nn_smlad(we, x0e, a->a00));
    a->a01 = tm_nn_smlad(wo, x1o, tm_nn_smlad(we, x1e, a->a01));
    tm_nn_load2(w, &we, &wo);
    a->a10 = tm_nn_smlad(wo, x0o, tm_nn_smlad(we, x0e, a->a10));
    a->a11 = tm_nn_smlad(wo, x1o, tm_nn_smlad(we, x1e, a->a11));
}

/* Every output channel of one pixel pair from the filter copy: acc0[oc] (column 0) and
 * acc1[oc] (column 1) = bias + column . filter row oc. One call per pixel pair, with the
 * filter copy walked by one pointer from pair to pair: the per-pair work outside the groups
 * is the bias, the four stores and the loop test. */
__attribute__((noinline)) static void mac_pixels_copy(const column_t *cl, const int16_t *col,
                                                      const int16_t *fcopy, const int8_t *filter,
                                                      const int32_t *bias, int32_t out_c,
                                                      int32_t *acc0, int32_t *acc1)
{
    const int16_t *wc = fcopy;
    const int16_t *const groups_end = cl->groups_end;
    for (int32_t oc = 0; oc < out_c; oc += 2) {
        const int pair = oc + 1 < out_c;
        const int32_t b0 = bias != NULL ? bias[oc] : 0;
        const int32_t b1 = bias != NULL && pair ? bias[oc + 1] : 0;
        acc2x2_t a = {b0, b0, b1, b1};
        const int16_t *c = col;
        if (cl->odd_group) {
            mac_group_copy(&a, &c, &wc);
        }
        while (c < groups_end) {
            mac_group_copy(&a, &c, &wc);
            mac_group_copy(&a, &c, &wc);
        }
        if (cl->tail != 0) {
            const int32_t tail = cl->tail, step = pair ? cl->k : 0;
            const int8_t *w0 = filter + (size_t)oc * cl->k + cl->k4;
            for (int32_t i = 0; i < tail; ++i) {
                const int32_t x0 = c[i], x1 = c[tail + i], f0 = w0[i], f1 = w0[step + i];
                a.a00 = tm_nn_add_wrap_s32(a.a00, x0 * f0);
                a.a01 = tm_nn_add_wrap_s32(a.a01, x1 * f0);
                a.a10 = tm_nn_add_wrap_s32(a.a10, x0 * f1);
                a.a11 = tm_nn_add_wrap_s32(a.a11, x1 * f1);
            }
        }
        acc0[oc] = a.a00;
        acc1[oc] = a.a01;
        if (pair) {
            acc0[oc + 1] = a.a10;
            acc1[oc + 1] = a.a11;
        }
    }
}

/* The padded path's filter copy, laid out like expand_filter's but with the values of a
 * group in plain order, (v0, v1) and (v2, v3), to pair with the padded path's columns, and
 * each filter row padded to row4 values with zero weights. */
static void expand_filter_rows(const int8_t *filter, int32_t n, int32_t k_h, int32_t row_len,
                               int32_t row4, int16_t *dst)
{
    const int32_t k = k_h * row_len;
    for (int32_t oc = 0; oc < n; oc += 2) {
        const int8_t *r0 = filter + (size_t)oc * k;
        const int8_t *r1 = oc + 1 < n ? r0 + k : r0;
        for (int32_t ky = 0; ky < k_h; ++ky, r0 += row_len, r1 += row_len) {
            int32_t i = 0;
            for (; i + 4 <= row_len; i += 4, dst += 8) {
                const uint32_t w0 = tm_nn_read_u32(r0 + i), w1 = tm_nn_read_u32(r1 + i);
                const uint32_t e0 = tm_nn_sxtb16(w0), o0 = tm_nn_sxtb16_ror8(w0);
                const uint32_t e1 = tm_nn_sxtb16(w1), o1 = tm_nn_sxtb16_ror8(w1);
                tm_nn_write_u32(dst, tm_nn_pkhbt(e0, o0));
                tm_nn_write_u32(dst + 2, tm_nn_pkhtb(o0, e0));
                tm_nn_write_u32(dst + 4, tm_nn_pkhbt(e1, o1));
                tm_nn_write_u32(dst + 6, tm_nn_pkhtb(o1, e1));
            }
            if (i < row4) {
                for (int32_t t = 0; t < 4; ++t) {
                    dst[t] = (int16_t)(i + t < row_len ? r0[i + t] : 0);
                    dst[4 + t] = (int16_t)(i + t < row_len ? r1[i + t] : 0);
                }
                dst += 8;
            }
        }
    }
}

/* n input bytes minus the zero point into n int16 values, in order. */
static void widen_row(const int8_t *src, int32_t n, int32_t zp, int16_t *dst)
{
    const uint32_t zp2 = tm_nn_pack16(zp, zp);
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const uint32_t w = tm_nn_read_u32(src + i);
        const uint32_t e = tm_nn_sxtb16(w), o = tm_nn_sxtb16_ror8(w);
        tm_nn_write_u32(dst + i, tm_nn_ssub16(tm_nn_pkhbt(e, o), zp2));
        tm_nn_write_u32(dst + i + 2, tm_nn_ssub16(tm_nn_pkhtb(o, e), zp2));
    }
    for (; i < n; ++i) {
        dst[i] = (int16_t)(src[i] - zp);
    }
}

/* The input rows and columns the windows reach, as int16 with the zero point subtracted
 * and the padding 0: hp rows of wp pixels, padded row py = input row py - padding.h. Four
 * zero values follow (the last window row's rounding up to whole groups reads them). */
static void pad_input(const geometry_t *g, const int8_t *in_b, int32_t hp, int32_t wp, int16_t *dst)
{
    const int32_t c = g->in_c, pitch = wp * c;
    const int32_t left = g->p->padding.w * c;
    const int32_t xn = g->in_w < wp - g->p->padding.w ? g->in_w : wp - g->p->padding.w;
    const int32_t n = xn * c;
    for (int32_t py = 0; py < hp; ++py, dst += pitch) {
        const int32_t iy = py - g->p->padding.h;
        if (iy < 0 || iy >= g->in_h) {
            memset(dst, 0, (size_t)pitch * sizeof *dst);
            continue;
        }
        memset(dst, 0, (size_t)left * sizeof *dst);
        widen_row(in_b + (size_t)iy * g->in_w * c, n, g->p->input_zero_point, dst + left);
        memset(dst + left + n, 0, (size_t)(pitch - left - n) * sizeof *dst);
    }
    memset(dst, 0, 4 * sizeof *dst);
}

/* Both columns from the padded input, the windows' first values at s0 and s1: per filter
 * row, groups whole groups copied word by word (unaligned reads are fine on M4/M7; no LDRD,
 * which needs alignment). */
__attribute__((noinline)) static void im2col_padded(const int16_t *s0, const int16_t *s1,
                                                    int32_t pitch, int32_t rows, int32_t groups,
                                                    int16_t *col)
{
    for (int32_t r = 0; r < rows; ++r, s0 += pitch, s1 += pitch) {
        const int16_t *a = s0, *b = s1;
        for (int32_t i = 0; i < groups; ++i, a += 4, b += 4, col += 8) {
            tm_nn_write_u32(col, tm_nn_read_u32(a));
            tm_nn_write_u32(col + 2, tm_nn_read_u32(a + 2));
            tm_nn_write_u32(col + 4, tm_nn_read_u32(b));
            tm_nn_write_u32(col + 6, tm_nn_read_u32(b + 2));
        }
    }
}

/* One output channel for mac_requant_pixels: its bias (0 without) and its requantization in
 * the output form, read together. */
typedef struct {
    int32_t bias;
    tm_nn_requant_mm_t q;
} out_channel_t;

/* clamp(tm_nn_requant_mm(a)) of one output into *o, the whole int8 range. */
static inline void requant_mm_store(int32_t a, const tm_nn_requant_mm_t *q, int8_t *o)
{
    *o = (int8_t)tm_nn_ssat8(tm_nn_requant_mm(a, q));
}

/* Both columns against the filter copy of one channel pair at *wc (advanced past it),
 * the accumulators started at b0 (row 0) and b1 (row 1). odd_group is a constant in each
 * caller, so the loop is a plain do-while (at least two groups when their count is even,
 * since K >= 4 here). */
static inline __attribute__((always_inline)) acc2x2_t
mac_pair_copy(const int16_t *col, const int16_t *groups_end, const int odd_group,
              const int16_t **wc, int32_t b0, int32_t b1)
{
    acc2x2_t a = {b0, b0, b1, b1};
    const int16_t *c = col;
    if (odd_group) {
        mac_group_copy(&a, &c, wc);
        while (c < groups_end) {
            mac_group_copy(&a, &c, wc);
            mac_group_copy(&a, &c, wc);
        }
    } else {
        do {
            mac_group_copy(&a, &c, wc);
            mac_group_copy(&a, &c, wc);
        } while (c < groups_end);
    }
    return a;
}

static inline __attribute__((always_inline)) void
mac_requant_channels(const int16_t *col, const int16_t *groups_end, const int odd_group,
                     const int16_t *wc, const out_channel_t *ch, int32_t out_c, int8_t *o,
                     int32_t delta)
{
    const out_channel_t *const pairs_end = ch + (out_c & ~1);
    for (; ch < pairs_end; ch += 2, o += 2) {
        const acc2x2_t a = mac_pair_copy(col, groups_end, odd_group, &wc, ch[0].bias, ch[1].bias);
        const tm_nn_requant_mm_t q0 = ch[0].q, q1 = ch[1].q;
        requant_mm_store(a.a00, &q0, o);
        requant_mm_store(a.a01, &q0, o + delta);
        requant_mm_store(a.a10, &q1, o + 1);
        requant_mm_store(a.a11, &q1, o + delta + 1);
    }
    if (out_c & 1) { /* the copy pairs the lone last channel with itself */
        const acc2x2_t a = mac_pair_copy(col, groups_end, odd_group, &wc, ch->bias, ch->bias);
        const tm_nn_requant_mm_t q0 = ch->q;
        requant_mm_store(a.a00, &q0, o);
        requant_mm_store(a.a01, &q0, o + delta);
    }
}

/* mac_pixels_copy with the requantization folded in (output form, whole int8 range): each
 * channel pair's four accumulators are requantized right after their groups, so there are
 * no accumulator rows, and each channel's constants are read once for both pixels (into
 * locals: gcc would read them again after every byte store, which may alias them). Pixel 0's
 * outputs go to o, pixel 1's to o + delta (delta 0 for a lone last pixel). K >= 4, no tail. */
__attribute__((noinline)) static void mac_requant_pixels(const column_t *cl, const int16_t *col,
                                                         const int16_t *fcopy,
                                                         const out_channel_t *ch, int32_t out_c,
                                                         int8_t *o, int32_t delta)
{
    if (cl->odd_group) {
        mac_requant_channels(col, cl->groups_end, 1, fcopy, ch, out_c, o, delta);
    } else {
        mac_requant_channels(col, cl->groups_end, 0, fcopy, ch, out_c, o, delta);
    }
}

/* The padded path's loop over pixel pairs (conv_plan): the input copied once per batch
 * item, then per pair two column copies, every channel from the filter copy, and the
 * requantization. */
static void conv_padded(const geometry_t *g, const conv_plan_t *pl, const int8_t *input,
                        const int8_t *filter, const int32_t *bias, const tm_nn_dims_t *in_dims,
                        const tm_nn_dims_t *out_dims, const tm_nn_requant_t *rq, int fast,
                        const out_channel_t *ch, int32_t *acc_rows, int16_t *col,
                        int16_t *fcopy, int16_t *pad, int8_t *output)
{
    const tm_nn_conv_params_t *p = g->p;
    const int32_t out_w = out_dims->w, out_c = out_dims->c;
    const int32_t hp = (out_dims->h - 1) * p->stride.h + g->k_h;
    const int32_t wp = (out_w - 1) * p->stride.w + g->k_w;
    const int32_t pitch = wp * g->in_c;
    const int32_t step_y = p->stride.h * pitch, step_x = p->stride.w * g->in_c;
    const int32_t groups = pl->row4 >> 2;
    column_t cl;
    cl.k = g->k_h * pl->row4;
    cl.k4 = cl.k;
    cl.zp = 0;
    cl.zp2 = 0;
    cl.odd_group = (cl.k >> 2) & 1;
    cl.groups_end = col + 2 * cl.k;
    cl.tail = 0;
    expand_filter_rows(filter, out_c, g->k_h, pl->row_len, pl->row4, fcopy);
    const int32_t zp_out = p->output_zero_point;
    const int32_t lo = p->activation.min, hi = p->activation.max;
    const int32_t pixels = out_dims->h * out_w;
    for (int32_t b = 0; b < in_dims->n; ++b) {
        pad_input(g, input + (size_t)b * g->in_h * g->in_w * g->in_c, hp, wp, pad);
        int8_t *out_b = output + (size_t)b * pixels * out_c;
        int32_t oy = 0, ox = 0;
        for (int32_t px = 0; px < pixels; px += 2) {
            const int16_t *s0 = pad + (size_t)oy * step_y + (size_t)ox * step_x;
            const int two = px + 1 < pixels;
            if (two && ++ox == out_w) {
                ox = 0;
                ++oy;
            }
            /* A lone last pixel fills both columns and is stored once. */
            const int16_t *s1 = pad + (size_t)oy * step_y + (size_t)ox * step_x;
            if (++ox == out_w) {
                ox = 0;
                ++oy;
            }
            im2col_padded(s0, s1, pitch, g->k_h, groups, col);
            int8_t *o0 = out_b + (size_t)px * out_c;
            if (ch != NULL) {
                mac_requant_pixels(&cl, col, fcopy, ch, out_c, o0, two ? out_c : 0);
                continue;
            }
            mac_pixels_copy(&cl, col, fcopy, filter, bias, out_c, acc_rows, acc_rows + out_c);
            tm_nn_requant_row(acc_rows, 0, rq, 1, fast, out_c, zp_out, lo, hi, o0, 1);
            if (two) {
                tm_nn_requant_row(acc_rows + out_c, 0, rq, 1, fast, out_c, zp_out, lo, hi,
                                  o0 + out_c, 1);
            }
        }
    }
}

/* Every channel's bias and requantization in the output form in buf (the table's place:
 * 16 bytes per channel instead of 20) when all have that form and the clamp is the whole
 * int8 range, else NULL (the caller then builds the table there). */
static const out_channel_t *output_form_table(const tm_nn_conv_params_t *p,
                                              const tm_nn_per_channel_quant_t *quant,
                                              const int32_t *bias, int32_t n, void *buf)
{
    out_channel_t *const ch = (out_channel_t *)buf;
    if (p->activation.min != -128 || p->activation.max != 127) {
        return NULL;
    }
    for (int32_t c = 0; c < n; ++c) {
        if (!tm_nn_requant_mm_make(quant->multiplier[c], quant->shift[c], p->output_zero_point,
                                   &ch[c].q)) {
            return NULL;
        }
        ch[c].bias = bias != NULL ? bias[c] : 0;
    }
    return ch;
}

tm_nn_status_t tm_nn_opt_conv2d_s8(const tm_nn_context_t *ctx, const tm_nn_conv_params_t *params,
                                   const tm_nn_per_channel_quant_t *quant,
                                   const tm_nn_dims_t *input_dims, const int8_t *input,
                                   const tm_nn_dims_t *filter_dims, const int8_t *filter,
                                   const int32_t *bias, const tm_nn_dims_t *output_dims,
                                   int8_t *output)
{
    TM_NN_PRECONDITION(input != NULL && filter != NULL && output != NULL);
    const tm_nn_status_t st = tm_nn_check_conv(params, quant, input_dims, filter_dims, output_dims);
    if (st != TM_NN_OK) {
        return st;
    }
    TM_NN_PRECONDITION(filter_dims->c == input_dims->c && output_dims->c == filter_dims->n);
    const int32_t need = tm_nn_opt_conv2d_s8_get_buffer_size(input_dims, filter_dims);
    TM_NN_PRECONDITION(need >= 0);
    TM_NN_PRECONDITION_BUFFER(ctx, need);
    TM_NN_PRECONDITION(((uintptr_t)ctx->buf & 3u) == 0);
    if (tm_nn_quant_needs_reference(quant, output_dims->c)) {
        return tm_nn_ref_conv2d_s8(NULL, params, quant, input_dims, input, filter_dims, filter,
                                   bias, output_dims, output);
    }

    const geometry_t g = {params,        input_dims->h,  input_dims->w,
                          input_dims->c, filter_dims->h, filter_dims->w};
    const conv_plan_t pl = conv_plan(input_dims, filter_dims);
    tm_nn_requant_t *const rq = (tm_nn_requant_t *)ctx->buf;
    int32_t *const acc_rows = (int32_t *)(rq + output_dims->c);
    int16_t *const col = (int16_t *)(acc_rows + 2 * output_dims->c);
    int16_t *const fcopy_area = col + 2 * pl.col_values;
    if (pl.padded && params->dilation.h == 1 && params->dilation.w == 1) {
        /* tm_nn_check_conv keeps the reached area inside conv_plan's bound; checked anyway. */
        const int64_t hp = (int64_t)(output_dims->h - 1) * params->stride.h + filter_dims->h;
        const int64_t wp = (int64_t)(output_dims->w - 1) * params->stride.w + filter_dims->w;
        TM_NN_PRECONDITION(2 * (hp * wp * input_dims->c + 4) <= pl.pad_bytes);
        const out_channel_t *ch = output_form_table(params, quant, bias, output_dims->c, ctx->buf);
        const int fast = ch == NULL ? tm_nn_requant_table(quant, output_dims->c, rq) : 0;
        conv_padded(&g, &pl, input, filter, bias, input_dims, output_dims, rq, fast, ch, acc_rows,
                    col, fcopy_area, (int16_t *)(void *)((int8_t *)fcopy_area + pl.fcopy_bytes),
                    output);
        return TM_NN_OK;
    }

    column_t cl;
    cl.k = filter_dims->h * filter_dims->w * filter_dims->c;
    cl.k4 = cl.k & ~3;
    cl.zp = params->input_zero_point;
    cl.zp2 = tm_nn_pack16(cl.zp, cl.zp);
    cl.odd_group = (cl.k4 >> 2) & 1;
    cl.groups_end = col + 2 * cl.k4;
    cl.tail = cl.k - cl.k4;
    int16_t *const fcopy = filter_copy_bytes(output_dims->c, cl.k) > 0 ? fcopy_area : NULL;
    if (fcopy != NULL) {
        expand_filter(filter, output_dims->c, cl.k, cl.k4, fcopy);
    }
    /* With the filter copy and no K % 4 tail, the requantization goes into the MAC loop
     * (mac_requant_pixels) when the output form applies. */
    const out_channel_t *ch =
        fcopy != NULL && cl.tail == 0
            ? output_form_table(params, quant, bias, output_dims->c, ctx->buf)
            : NULL;
    const int fast = ch == NULL ? tm_nn_requant_table(quant, output_dims->c, rq) : 0;
    const int32_t zp_out = params->output_zero_point;
    const int32_t lo = params->activation.min, hi = params->activation.max;

    const int32_t out_w = output_dims->w, out_c = output_dims->c;
    const int32_t pixels = output_dims->h * out_w;
    for (int32_t b = 0; b < input_dims->n; ++b) {
        const int8_t *in_b = input + (size_t)b * g.in_h * g.in_w * g.in_c;
        int8_t *out_b = output + (size_t)b * pixels * out_c;
        for (int32_t px = 0; px < pixels; px += 2) {
            const int two = px + 1 < pixels;
            /* A lone last pixel fills both columns and is stored once. */
            im2col(&g, &cl, in_b, px / out_w, px % out_w, 0, col);
            im2col(&g, &cl, in_b, (px + two) / out_w, (px + two) % out_w, 1, col);
            int8_t *o0 = out_b + (size_t)px * out_c;
            int8_t *o1 = o0 + out_c;
            if (ch != NULL) {
                mac_requant_pixels(&cl, col, fcopy, ch, out_c, o0, two ? out_c : 0);
                continue;
            }
            if (fcopy != NULL) {
                mac_pixels_copy(&cl, col, fcopy, filter, bias, out_c, acc_rows, acc_rows + out_c);
            } else {
                for (int32_t oc = 0; oc < out_c; oc += 2) {
                    const int pair = oc + 1 < out_c;
                    const int8_t *w0 = filter + (size_t)oc * cl.k;
                    const int32_t b0 = bias != NULL ? bias[oc] : 0;
                    const int32_t b1 = bias != NULL && pair ? bias[oc + 1] : 0;
                    acc2x2_t acc = {b0, b0, b1, b1};
                    /* A lone channel: row oc twice. */
                    mac_2x2(&cl, col, w0, pair ? cl.k : 0, &acc);
                    acc_rows[oc] = acc.a00;
                    acc_rows[out_c + oc] = acc.a01;
                    if (pair) {
                        acc_rows[oc + 1] = acc.a10;
                        acc_rows[out_c + oc + 1] = acc.a11;
                    }
                }
            }
            /* Requantized row by row afterwards: the MAC loop above keeps its registers. */
            tm_nn_requant_row(acc_rows, 0, rq, 1, fast, out_c, zp_out, lo, hi, o0, 1);
            if (two) {
                tm_nn_requant_row(acc_rows + out_c, 0, rq, 1, fast, out_c, zp_out, lo, hi, o1, 1);
            }
        }
    }
    return TM_NN_OK;
}

/* ---- depthwise conv2d --------------------------------------------------------------------- */

/* The 3x3 path's plane: rows (out_h - 1) * stride_h + 3 and columns (out_w - 1) * stride_w + 4
 * (one spare column lets the third tap of a row be read as a pair). With stride 1 the pitch
 * is the next of 8, 16, 32, 64 or 128 values, so that the assembly can reach the three rows
 * through constant offsets (dw3x3_pitch). The checks of tm_nn_check_conv bound rows and
 * columns by in_h + 4 and in_w + 5. */
static int is_dw3x3(const tm_nn_dims_t *in, const tm_nn_dims_t *f)
{
    return f->h == 3 && f->w == 3 && f->c == in->c;
}

/* Planes the 3x3 path fills per pass: four channels from one 32-bit read per pixel. */
static int32_t dw3x3_planes(const tm_nn_dims_t *in)
{
    return in->c >= 4 ? 4 : 1;
}

/* The plane pitch for columns cols: a power of two from 8 to 128 when cols fits, else cols. */
static int32_t dw3x3_pitch(int32_t cols)
{
    for (int32_t p = 8; p <= 128; p *= 2) {
        if (cols <= p) {
            return p;
        }
    }
    return cols;
}

int32_t tm_nn_opt_depthwise_conv2d_s8_get_buffer_size(const tm_nn_dims_t *input_dims,
                                                      const tm_nn_dims_t *filter_dims)
{
    if (input_dims == NULL || filter_dims == NULL || input_dims->h <= 0 || input_dims->w <= 0 ||
        !is_dw3x3(input_dims, filter_dims)) {
        return 0;
    }
    /* The int32 accumulators of one channel's output plane (at most (in_h + 2) x (in_w + 2)
     * with padding < 3), then up to four int16 input planes, 4-byte aligned. */
    const int64_t pitch = dw3x3_pitch(input_dims->w + 5);
    const int64_t bytes = 4 * ((int64_t)input_dims->h + 2) * ((int64_t)input_dims->w + 2) +
                          2 * (int64_t)dw3x3_planes(input_dims) * ((int64_t)input_dims->h + 4) *
                              ((pitch + 1) & ~(int64_t)1);
    return bytes > INT32_MAX - 3 ? -1 : (int32_t)((bytes + 3) & ~(int64_t)3);
}

/* The weights of one channel packed for the window: per filter row (w0, w1) and (w1, w2). */
typedef struct {
    uint32_t w01[3], w12[3];
} dw3x3_weights_t;

/* Output ox of a row: its window at r0 (rows r0, r0 + pw, r0 + 2 pw), without bias. */
static inline int32_t dw3x3_window(const int16_t *r0, int32_t pw, const dw3x3_weights_t *w)
{
    int32_t acc = 0;
    for (int32_t ky = 0; ky < 3; ++ky, r0 += pw) {
        acc = tm_nn_smlad(tm_nn_read_u32(r0), w->w01[ky], acc);
        acc = tm_nn_smlabb(tm_nn_pack16(r0[2], 0), w->w12[ky] >> 16, acc);
    }
    return acc;
}

#if TM_NN_HAVE_DSP && defined(__OPTIMIZE__)
/* The arguments of the stride-1 plane functions, read through lr (offsets in the assembly,
 * checked below). */
typedef struct {
    const int16_t *plane; /*  0 */
    int32_t *out;         /*  4: the accumulators */
    int32_t pair_bytes;   /*  8: 8 x (out_w / 2) */
    uint32_t w[6];        /* 12: w01 and w12 of filter rows 0, 1, 2 */
    int32_t odd;          /* 36: out_w is odd */
    int32_t rstep;        /* 40: bytes from the end of a row's pairs to the next row */
    int32_t estep;        /* 44: 4 out_w */
    int32_t *out_end;     /* 48 */
} dw3x3_plane_args_t;
_Static_assert(offsetof(dw3x3_plane_args_t, w) == 12 && offsetof(dw3x3_plane_args_t, odd) == 36 &&
                   offsetof(dw3x3_plane_args_t, out_end) == 48 && sizeof(void *) == 4,
               "the plane functions read these offsets");

/* Filter row k of two neighbouring outputs: r2 = (v0, v1), r3 = (v2, v3) of the row,
 * r0 += w0 v0 + w1 v1 + w2 v2, r1 += w0 v1 + w1 v2 + w2 v3 (4 multiply-accumulates for 6
 * MACs); wa / wb hold the row's (w0, w1) and (w1, w2). */
#define TM_DW_TAPS(wa, wb)                                                                         \
    "smlad r0, r2, " wa ", r0\n\t"                                                                 \
    "smlad r1, r3, " wb ", r1\n\t"                                                                 \
    "smlabt r0, r3, " wb ", r0\n\t"                                                                \
    "smlatb r1, r2, " wa ", r1\n\t"
#define TM_DW_SINGLE(wa, wb) "smlad r0, r2, " wa ", r0\n\tsmlabt r0, r3, " wb ", r0\n\t"

/* Stride 1 over a plane PB bytes wide (a constant, so the three rows are immediate offsets
 * of one pointer), as an assembly function with every register its own (r0 / r1 the sums,
 * r2 / r3 the pairs, r4 the plane, r5 the accumulators, r6 the row's end, r7-r12 the weights,
 * lr the arguments), so that it builds under any optimisation level and frame-pointer
 * choice: every output pair of a row is 3 LDRD, 12 multiply-accumulates, one STRD and the
 * loop test, 9 instructions per output; an odd last output of a row takes 3 LDRD, 6
 * multiply-accumulates and a STR; the row step reads its values through lr. */
#define TM_DW_PLANE_FN(PB)                                                                         \
    __attribute__((naked, noipa)) static void dw3x3_plane_m4_##PB(const dw3x3_plane_args_t *args) \
    {                                                                                              \
        (void)args;                                                                                \
        __asm__ volatile("push {r4-r11, lr}\n\t"                                                  \
                         "mov lr, r0\n\t"                                                          \
                         "ldrd r4, r5, [lr]\n\t"                                                   \
                         "ldr r6, [lr, #8]\n\t"                                                    \
                         "add r6, r5, r6\n\t"                                                      \
                         "ldrd r7, r8, [lr, #12]\n\t"                                              \
                         "ldrd r9, r10, [lr, #20]\n\t"                                             \
                         "ldrd r11, r12, [lr, #28]\n\t"                                            \
                         "1:\n\t"                                                                  \
                         "ldrd r2, r3, [r4], #4\n\t"                                               \
                         "smuad r0, r2, r7\n\t"                                                    \
                         "smuad r1, r3, r8\n\t"                                                    \
                         "smlabt r0, r3, r8, r0\n\t"                                               \
                         "smlatb r1, r2, r7, r1\n\t"                                               \
                         "ldrd r2, r3, [r4, #" #PB " - 4]\n\t" TM_DW_TAPS("r9", "r10")             \
                         "ldrd r2, r3, [r4, #2 * " #PB " - 4]\n\t" TM_DW_TAPS("r11", "r12")        \
                         "strd r0, r1, [r5], #8\n\t"                                               \
                         "cmp r5, r6\n\t"                                                          \
                         "bne 1b\n\t"                                                              \
                         "ldr r2, [lr, #36]\n\t"                                                   \
                         "cbz r2, 2f\n\t"                                                          \
                         "ldrd r2, r3, [r4]\n\t"                                                   \
                         "smuad r0, r2, r7\n\t"                                                    \
                         "smlabt r0, r3, r8, r0\n\t"                                               \
                         "ldrd r2, r3, [r4, #" #PB "]\n\t" TM_DW_SINGLE("r9", "r10")               \
                         "ldrd r2, r3, [r4, #2 * " #PB "]\n\t" TM_DW_SINGLE("r11", "r12")          \
                         "str r0, [r5], #4\n\t"                                                    \
                         "2:\n\t"                                                                  \
                         "ldr r2, [lr, #40]\n\t"                                                   \
                         "add r4, r4, r2\n\t"                                                      \
                         "ldr r2, [lr, #44]\n\t"                                                   \
                         "add r6, r6, r2\n\t"                                                      \
                         "ldr r2, [lr, #48]\n\t"                                                   \
                         "cmp r5, r2\n\t"                                                          \
                         "bne 1b\n\t"                                                              \
                         "pop {r4-r11, pc}");                                                     \
    }
TM_DW_PLANE_FN(16)
TM_DW_PLANE_FN(32)
TM_DW_PLANE_FN(64)
TM_DW_PLANE_FN(128)
TM_DW_PLANE_FN(256)
#endif

/* Stride 1: every row of the output plane, a[oy * out_w + ox] = the window at plane row oy,
 * column ox, the plane pw values wide. */
static void dw3x3_plane_s1(const int16_t *plane, int32_t pw, int32_t out_h, int32_t out_w,
                           const dw3x3_weights_t *w, int32_t *a)
{
#if TM_NN_HAVE_DSP && defined(__OPTIMIZE__)
    if (out_w >= 2 && (pw & (pw - 1)) == 0 && pw >= 8 && pw <= 128 &&
        ((uintptr_t)plane & 3u) == 0 && ((uintptr_t)a & 3u) == 0) {
        const dw3x3_plane_args_t args = {plane,
                                         a,
                                         8 * (out_w / 2),
                                         {w->w01[0], w->w12[0], w->w01[1], w->w12[1], w->w01[2],
                                          w->w12[2]},
                                         out_w & 1,
                                         2 * pw - 2 * (out_w & ~1),
                                         4 * out_w,
                                         a + (size_t)out_h * out_w};
        switch (pw) {
        case 8: dw3x3_plane_m4_16(&args); break;
        case 16: dw3x3_plane_m4_32(&args); break;
        case 32: dw3x3_plane_m4_64(&args); break;
        case 64: dw3x3_plane_m4_128(&args); break;
        default: dw3x3_plane_m4_256(&args); break;
        }
        return;
    }
#endif
    for (int32_t oy = 0; oy < out_h; ++oy) {
        const int16_t *r0 = plane + (size_t)oy * pw;
        for (int32_t ox = 0; ox < out_w; ++ox) {
            *a++ = dw3x3_window(r0 + ox, pw, w);
        }
    }
}

#if TM_NN_HAVE_DSP && defined(__OPTIMIZE__)
/* tm_nn_requant_mm_row for one channel's plane (one table entry) with the whole int8 range,
 * two outputs per iteration, n >= 2 even, acc 4-byte aligned (LDRD): 9 instructions per output. */
static inline void dw3x3_requant_pairs(const int32_t *acc, int32_t bias, const tm_nn_requant_mm_t *q,
                                       int32_t n, int8_t *out, int32_t out_stride)
{
    const int32_t *const end = acc + n;
    int32_t x0, x1, t0, t1;
    __asm__ volatile("1:\n\t"
                     "ldrd %[x0], %[x1], [%[p]], #8\n\t"
                     "add %[x0], %[x0], %[bias]\n\t"
                     "add %[x1], %[x1], %[bias]\n\t"
                     "qadd %[t0], %[x0], %[x0]\n\t"
                     "add %[x0], %[base], %[x0], asr #31\n\t"
                     "smmlar %[t0], %[t0], %[m], %[x0]\n\t"
                     "qadd %[t1], %[x1], %[x1]\n\t"
                     "add %[x1], %[base], %[x1], asr #31\n\t"
                     "smmlar %[t1], %[t1], %[m], %[x1]\n\t"
                     "asr %[t0], %[t0], %[r]\n\t"
                     "asr %[t1], %[t1], %[r]\n\t"
                     "ssat %[t0], #8, %[t0]\n\t"
                     "ssat %[t1], #8, %[t1]\n\t"
                     "strb %[t0], [%[o]]\n\t"
                     "strb %[t1], [%[o], %[st]]\n\t"
                     "add %[o], %[o], %[st], lsl #1\n\t"
                     "cmp %[p], %[end]\n\t"
                     "bne 1b"
                     : [p] "+r"(acc), [o] "+r"(out), [x0] "=&r"(x0), [x1] "=&r"(x1),
                       [t0] "=&r"(t0), [t1] "=&r"(t1)
                     : [bias] "r"(bias), [base] "r"(q->base), [m] "r"(q->multiplier),
                       [r] "r"(q->r), [st] "r"(out_stride), [end] "r"(end)
                     : "cc", "memory");
}
#endif

/* The low 16 bits of v into *d, as they are (one STRH). */
static inline void put16(int16_t *d, uint32_t v)
{
    const uint16_t h = (uint16_t)v;
    memcpy(d, &h, sizeof h);
}

/* Channel c's windows over its plane (raw input values, padding = the input zero point) and
 * their requantization. sum(w (x - zp)) = sum(w x) - zp sum(w) modulo 2^32, so the zero point
 * goes into the bias once per channel instead of into every plane value. */
static void dw3x3_channel(const tm_nn_conv_params_t *p, const tm_nn_per_channel_quant_t *quant,
                          const int8_t *filter, const int32_t *bias, const tm_nn_dims_t *out,
                          int32_t ch, int32_t c, const int16_t *plane, int32_t pw, int32_t *accs,
                          int8_t *out_b)
{
    const int32_t sh = p->stride.h, sw = p->stride.w;
    const int8_t *f = filter + c;
    dw3x3_weights_t w;
    int32_t wsum = 0;
    for (int32_t ky = 0; ky < 3; ++ky, f += 3 * ch) {
        w.w01[ky] = tm_nn_pack16(f[0], f[ch]);
        w.w12[ky] = tm_nn_pack16(f[ch], f[2 * ch]);
        wsum += f[0] + f[ch] + f[2 * ch];
    }
    const int32_t b = tm_nn_s32_from_u32((uint32_t)(bias != NULL ? bias[c] : 0) -
                                         (uint32_t)p->input_zero_point * (uint32_t)wsum);
    /* First every accumulator of the channel's plane, then their requantization: each loop
     * keeps its own values in registers. */
    if (sh == 1 && sw == 1) {
        dw3x3_plane_s1(plane, pw, out->h, out->w, &w, accs);
    } else {
        int32_t *a = accs;
        for (int32_t oy = 0; oy < out->h; ++oy) {
            const int16_t *r0 = plane + (size_t)oy * sh * pw;
            for (int32_t ox = 0; ox < out->w; ++ox) {
                *a++ = dw3x3_window(r0 + (size_t)ox * sw, pw, &w);
            }
        }
    }
    const int32_t n = out->h * out->w;
    const int32_t lo = p->activation.min, hi = p->activation.max;
    tm_nn_requant_mm_t mm;
    if (tm_nn_requant_mm_make(quant->multiplier[c], quant->shift[c], p->output_zero_point, &mm)) {
        int32_t done = 0;
#if TM_NN_HAVE_DSP && defined(__OPTIMIZE__)
        if (lo == -128 && hi == 127 && n >= 2 && ((uintptr_t)accs & 3u) == 0) {
            done = n & ~1;
            dw3x3_requant_pairs(accs, b, &mm, done, out_b + c, ch);
        }
#endif
        tm_nn_requant_mm_row(accs + done, b, &mm, 0, n - done, lo, hi, out_b + c + (size_t)done * ch,
                             ch);
        return;
    }
    const tm_nn_requant_t rq = tm_nn_requant_make(quant->multiplier[c], quant->shift[c]);
    tm_nn_requant_row(accs, b, &rq, 0, rq.fast_shift >= 0, n, p->output_zero_point, lo, hi,
                      out_b + c, ch);
}

/* Pixels [0, n) of rows [0, rows) of the input (row after row src_row bytes apart), four
 * channels from one 32-bit read each (SXTB16 gives channels (c, c + 2), with ROR 8 (c + 1,
 * c + 3)), into four planes ps values apart (rows pw values apart, starting at d); two pixels
 * per step so that each plane gets one 32-bit store (PKHBT / PKHTB). One call per four
 * channels: the row loop is inside. */
__attribute__((noinline)) static void dw3x3_copy4(const int8_t *src, int32_t ch, int32_t n,
                                                  int32_t rows, int32_t src_row, int16_t *d,
                                                  int32_t pw, int32_t ps)
{
    for (int32_t y = 0; y < rows; ++y, src += src_row, d += pw) {
        const int8_t *s = src;
        int16_t *p = d, *p2 = d + 2 * (size_t)ps;
        int16_t *const end = d + (n & ~1);
        for (; p < end; s += 2 * ch, p += 2, p2 += 2) {
            const uint32_t v0 = tm_nn_read_u32(s), v1 = tm_nn_read_u32(s + ch);
            const uint32_t e0 = tm_nn_sxtb16(v0), o0 = tm_nn_sxtb16_ror8(v0);
            const uint32_t e1 = tm_nn_sxtb16(v1), o1 = tm_nn_sxtb16_ror8(v1);
            tm_nn_write_u32(p, tm_nn_pkhbt(e0, e1));
            tm_nn_write_u32(p + ps, tm_nn_pkhbt(o0, o1));
            tm_nn_write_u32(p2, tm_nn_pkhtb(e1, e0));
            tm_nn_write_u32(p2 + ps, tm_nn_pkhtb(o1, o0));
        }
        if (n & 1) {
            const uint32_t v = tm_nn_read_u32(s);
            const uint32_t e = tm_nn_sxtb16(v), o = tm_nn_sxtb16_ror8(v);
            put16(p, e);
            put16(p + ps, o);
            put16(p2, e >> 16);
            put16(p2 + ps, o >> 16);
        }
    }
}

static void depthwise_3x3(const tm_nn_conv_params_t *p, const tm_nn_per_channel_quant_t *quant,
                          const tm_nn_dims_t *in, const int8_t *input, const int8_t *filter,
                          const int32_t *bias, const tm_nn_dims_t *out, int8_t *output,
                          void *scratch)
{
    int32_t *const accs = (int32_t *)scratch;
    int16_t *const planes = (int16_t *)(accs + (size_t)(in->h + 2) * (in->w + 2));
    const int32_t ch = in->c, sh = p->stride.h, sw = p->stride.w;
    const int32_t ph = (out->h - 1) * sh + 3;
    const int32_t cols = (out->w - 1) * sw + 4;
    /* Even, so that every plane starts 4-byte aligned. */
    const int32_t pw = sh == 1 && sw == 1 ? dw3x3_pitch(cols) : (cols + 1) & ~1;
    const int32_t n_planes = dw3x3_planes(in);
    const size_t plane_size = (size_t)ph * pw;
    /* Plane (py, px) holds input (py - padding.h, px - padding.w); the input rows and columns
     * the plane reaches are [0, y_n) and [0, x_n). The rest is padding: the zero point once,
     * and the channels only ever rewrite the inside. */
    const int32_t y_n = in->h < ph - p->padding.h ? in->h : ph - p->padding.h;
    const int32_t x_n = in->w < cols - p->padding.w ? in->w : cols - p->padding.w;
    const int16_t zp = (int16_t)p->input_zero_point;
    for (size_t i = 0; i < plane_size * n_planes; ++i) {
        planes[i] = zp;
    }
    const int32_t c4 = n_planes == 4 ? ch & ~3 : 0;
    const size_t first = (size_t)p->padding.h * pw + p->padding.w;
    for (int32_t b = 0; b < in->n; ++b) {
        const int8_t *in_b = input + (size_t)b * in->h * in->w * ch;
        int8_t *out_b = output + (size_t)b * out->h * out->w * ch;
        int32_t c = 0;
        for (; c < c4; c += 4) {
            dw3x3_copy4(in_b + c, ch, x_n, y_n, in->w * ch, planes + first, pw,
                        (int32_t)plane_size);
            for (int32_t k = 0; k < 4; ++k) {
                dw3x3_channel(p, quant, filter, bias, out, ch, c + k, planes + k * plane_size, pw,
                              accs, out_b);
            }
        }
        for (; c < ch; ++c) {
            for (int32_t iy = 0; iy < y_n; ++iy) {
                int16_t *row = planes + first + (size_t)iy * pw;
                const int8_t *src = in_b + (size_t)iy * in->w * ch + c;
                for (int32_t ix = 0; ix < x_n; ++ix, src += ch) {
                    row[ix] = *src;
                }
            }
            dw3x3_channel(p, quant, filter, bias, out, ch, c, planes, pw, accs, out_b);
        }
    }
}

static void depthwise_generic(const tm_nn_conv_params_t *p, const tm_nn_per_channel_quant_t *quant,
                              const tm_nn_dims_t *in, const int8_t *input, const tm_nn_dims_t *f,
                              const int8_t *filter, const int32_t *bias, const tm_nn_dims_t *out,
                              int8_t *output)
{
    const int32_t in_c = in->c, out_c = out->c, dm = p->depth_multiplier;
    const int32_t zp = p->input_zero_point;
    for (int32_t b = 0; b < in->n; ++b) {
        const int8_t *in_b = input + (size_t)b * in->h * in->w * in_c;
        int8_t *o = output + (size_t)b * out->h * out->w * out_c;
        for (int32_t oy = 0; oy < out->h; ++oy) {
            const int32_t y0 = oy * p->stride.h - p->padding.h;
            int32_t ky0 = 0, ky1 = f->h;
            while (ky0 < ky1 && y0 + ky0 * p->dilation.h < 0) {
                ++ky0;
            }
            while (ky1 > ky0 && y0 + (ky1 - 1) * p->dilation.h >= in->h) {
                --ky1;
            }
            for (int32_t ox = 0; ox < out->w; ++ox, o += out_c) {
                const int32_t x0 = ox * p->stride.w - p->padding.w;
                int32_t kx0 = 0, kx1 = f->w;
                while (kx0 < kx1 && x0 + kx0 * p->dilation.w < 0) {
                    ++kx0;
                }
                while (kx1 > kx0 && x0 + (kx1 - 1) * p->dilation.w >= in->w) {
                    --kx1;
                }
                for (int32_t oc = 0; oc < out_c; ++oc) {
                    const int8_t *src = in_b + oc / dm;
                    int32_t acc = bias != NULL ? bias[oc] : 0;
                    for (int32_t ky = ky0; ky < ky1; ++ky) {
                        const int32_t iy = y0 + ky * p->dilation.h;
                        const int8_t *srow = src + (size_t)iy * in->w * in_c;
                        const int8_t *frow = filter + (size_t)ky * f->w * out_c + oc;
                        for (int32_t kx = kx0; kx < kx1; ++kx) {
                            const int32_t ix = x0 + kx * p->dilation.w;
                            acc = tm_nn_add_wrap_s32(acc, (srow[(size_t)ix * in_c] - zp) *
                                                              frow[(size_t)kx * out_c]);
                        }
                    }
                    const tm_nn_requant_t rq =
                        tm_nn_requant_make(quant->multiplier[oc], quant->shift[oc]);
                    o[oc] = tm_nn_clamp_s8(
                        tm_nn_add_wrap_s32(tm_nn_requant(acc, &rq), p->output_zero_point),
                        &p->activation);
                }
            }
        }
    }
}

tm_nn_status_t tm_nn_opt_depthwise_conv2d_s8(const tm_nn_context_t *ctx,
                                             const tm_nn_conv_params_t *params,
                                             const tm_nn_per_channel_quant_t *quant,
                                             const tm_nn_dims_t *input_dims, const int8_t *input,
                                             const tm_nn_dims_t *filter_dims, const int8_t *filter,
                                             const int32_t *bias, const tm_nn_dims_t *output_dims,
                                             int8_t *output)
{
    TM_NN_PRECONDITION(input != NULL && filter != NULL && output != NULL);
    const tm_nn_status_t st = tm_nn_check_conv(params, quant, input_dims, filter_dims, output_dims);
    if (st != TM_NN_OK) {
        return st;
    }
    TM_NN_PRECONDITION(params->depth_multiplier >= 1 && filter_dims->n == 1);
    TM_NN_PRECONDITION((int64_t)input_dims->c * params->depth_multiplier == filter_dims->c);
    TM_NN_PRECONDITION(output_dims->c == filter_dims->c);
    const int32_t need = tm_nn_opt_depthwise_conv2d_s8_get_buffer_size(input_dims, filter_dims);
    TM_NN_PRECONDITION(need >= 0);
    TM_NN_PRECONDITION_BUFFER(ctx, need);
    if (tm_nn_quant_needs_reference(quant, output_dims->c)) {
        return tm_nn_ref_depthwise_conv2d_s8(NULL, params, quant, input_dims, input, filter_dims,
                                             filter, bias, output_dims, output);
    }
    if (is_dw3x3(input_dims, filter_dims) && params->dilation.h == 1 && params->dilation.w == 1) {
        TM_NN_PRECONDITION(((uintptr_t)ctx->buf & 3u) == 0);
        depthwise_3x3(params, quant, input_dims, input, filter, bias, output_dims, output,
                      ctx->buf);
    } else {
        depthwise_generic(params, quant, input_dims, input, filter_dims, filter, bias, output_dims,
                          output);
    }
    return TM_NN_OK;
}
