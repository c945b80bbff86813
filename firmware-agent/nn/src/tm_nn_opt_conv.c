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

int32_t tm_nn_opt_conv2d_s8_get_buffer_size(const tm_nn_dims_t *input_dims,
                                            const tm_nn_dims_t *filter_dims)
{
    (void)input_dims;
    if (filter_dims == NULL || filter_dims->n <= 0 || filter_dims->h <= 0 || filter_dims->w <= 0 ||
        filter_dims->c <= 0) {
        return 0;
    }
    /* The requantization table, two int32 accumulator rows of C_OUT, two int16 columns of
     * K values, then the int16 filter copy. */
    const int64_t k = (int64_t)filter_dims->h * filter_dims->w * filter_dims->c;
    const int64_t bytes = ((int64_t)sizeof(tm_nn_requant_t) + 8) * filter_dims->n + 4 * k +
                          filter_copy_bytes(filter_dims->n, k);
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
    column_t cl;
    cl.k = filter_dims->h * filter_dims->w * filter_dims->c;
    cl.k4 = cl.k & ~3;
    cl.zp = params->input_zero_point;
    cl.zp2 = tm_nn_pack16(cl.zp, cl.zp);
    tm_nn_requant_t *const rq = (tm_nn_requant_t *)ctx->buf;
    const int fast = tm_nn_requant_table(quant, output_dims->c, rq);
    int32_t *const acc_rows = (int32_t *)(rq + output_dims->c);
    int16_t *const col = (int16_t *)(acc_rows + 2 * output_dims->c);
    cl.odd_group = (cl.k4 >> 2) & 1;
    cl.groups_end = col + 2 * cl.k4;
    cl.tail = cl.k - cl.k4;
    int16_t *const fcopy = filter_copy_bytes(output_dims->c, cl.k) > 0 ? col + 2 * cl.k : NULL;
    if (fcopy != NULL) {
        expand_filter(filter, output_dims->c, cl.k, cl.k4, fcopy);
    }
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
 * (one spare zero column lets the third tap of a row be read as a pair with weight 0). The
 * checks of tm_nn_check_conv bound them by in_h + 4 and in_w + 5. */
static int is_dw3x3(const tm_nn_dims_t *in, const tm_nn_dims_t *f)
{
    return f->h == 3 && f->w == 3 && f->c == in->c;
}

/* Planes the 3x3 path fills per pass: four channels from one 32-bit read per pixel. */
static int32_t dw3x3_planes(const tm_nn_dims_t *in)
{
    return in->c >= 4 ? 4 : 1;
}

int32_t tm_nn_opt_depthwise_conv2d_s8_get_buffer_size(const tm_nn_dims_t *input_dims,
                                                      const tm_nn_dims_t *filter_dims)
{
    if (input_dims == NULL || filter_dims == NULL || input_dims->h <= 0 || input_dims->w <= 0 ||
        !is_dw3x3(input_dims, filter_dims)) {
        return 0;
    }
    /* The int32 accumulators of one channel's output plane (at most (in_h + 2) x (in_w + 2)
     * with padding < 3), then up to four int16 input planes. */
    const int64_t bytes = 4 * ((int64_t)input_dims->h + 2) * ((int64_t)input_dims->w + 2) +
                          2 * (int64_t)dw3x3_planes(input_dims) * ((int64_t)input_dims->h + 4) *
                              ((int64_t)input_dims->w + 5);
    return bytes > INT32_MAX - 3 ? -1 : (int32_t)((bytes + 3) & ~(int64_t)3);
}

/* One output row of one channel: a[ox] = the 3x3 window at r0 + ox * sw (rows r0,
 * r0 + pw, r0 + 2 pw) against the packed weights, without bias. */
static inline void dw3x3_row(const int16_t *r0, int32_t pw, int32_t sw, int32_t n,
                             const uint32_t w[6], int32_t *a)
{
    const uint32_t w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5];
    const int32_t *const end = a + n;
    while (a < end) {
        int32_t acc = tm_nn_smuad(tm_nn_read_u32(r0), w0);
        acc = tm_nn_smlad(tm_nn_read_u32(r0 + 2), w1, acc);
        acc = tm_nn_smlad(tm_nn_read_u32(r0 + pw), w2, acc);
        acc = tm_nn_smlad(tm_nn_read_u32(r0 + pw + 2), w3, acc);
        acc = tm_nn_smlad(tm_nn_read_u32(r0 + 2 * pw), w4, acc);
        *a++ = tm_nn_smlad(tm_nn_read_u32(r0 + 2 * pw + 2), w5, acc);
        r0 += sw;
    }
}

/* Stride 1: every row of the output plane, a[oy * out_w + ox] = the window at plane row oy,
 * column ox. The plane is out_w + 3 columns wide, so after a row the three row pointers are
 * 3 values short of the next row: the row loop is four adds and the test, with the
 * pointers and the accumulator pointer carried in registers from row to row. */
static void dw3x3_plane_s1(const int16_t *plane, int32_t out_h, int32_t out_w, const uint32_t w[6],
                           int32_t *a)
{
    const int32_t pw = out_w + 3;
#if TM_NN_HAVE_DSP && defined(__OPTIMIZE__)
    /* The row in C makes gcc keep the weights on the stack (it wants more registers than the
     * loop needs): written out, it is 6 LDR, 6 multiply-accumulates, one STR and the loop
     * test per output, and 9 instructions per row. The third taps of rows 0 and 1 share one
     * register (w2, w5) through SMULBB / SMLABT, so the statement needs 12 registers and
     * compiles at -O1 and up with or without a frame pointer (unoptimized builds take the C
     * loop). Same sums as dw3x3_row (modulo 2^32). */
    const uint32_t w25 = (w[1] & 0xFFFFu) | (w[3] << 16);
    const int16_t *r0 = plane, *r1 = plane + pw, *r2 = plane + 2 * pw;
    int32_t *end = a + out_w;
    /* In memory on purpose: the row step reads them, so nothing else stays live across the
     * statement. */
    volatile int32_t row_bytes = 4 * out_w;
    int32_t *volatile plane_end = a + (size_t)out_h * out_w;
    uint32_t t;
    int32_t acc;
    __asm__ volatile("1:\n\t"
                     "ldr %[t], [%[r0], #4]\n\t"
                     "smulbb %[acc], %[t], %[w25]\n\t"
                     "ldr %[t], [%[r0]], #2\n\t"
                     "smlad %[acc], %[t], %[w01], %[acc]\n\t"
                     "ldr %[t], [%[r1], #4]\n\t"
                     "smlabt %[acc], %[t], %[w25], %[acc]\n\t"
                     "ldr %[t], [%[r1]], #2\n\t"
                     "smlad %[acc], %[t], %[w34], %[acc]\n\t"
                     "ldr %[t], [%[r2], #4]\n\t"
                     "smlabb %[acc], %[t], %[w8], %[acc]\n\t"
                     "ldr %[t], [%[r2]], #2\n\t"
                     "smlad %[acc], %[t], %[w67], %[acc]\n\t"
                     "str %[acc], [%[a]], #4\n\t"
                     "cmp %[a], %[end]\n\t"
                     "bne 1b\n\t"
                     /* Next row: the pointers are 3 values short of it. */
                     "add %[r0], %[r0], #6\n\t"
                     "add %[r1], %[r1], #6\n\t"
                     "add %[r2], %[r2], #6\n\t"
                     "ldr %[t], %[rb]\n\t"
                     "add %[end], %[end], %[t]\n\t"
                     "ldr %[t], %[pe]\n\t"
                     "cmp %[a], %[t]\n\t"
                     "bne 1b"
                     : [r0] "+r"(r0), [r1] "+r"(r1), [r2] "+r"(r2), [a] "+r"(a), [end] "+r"(end),
                       [t] "=&r"(t), [acc] "=&r"(acc)
                     : [w01] "r"(w[0]), [w25] "r"(w25), [w34] "r"(w[2]), [w67] "r"(w[4]),
                       [w8] "r"(w[5]), [rb] "m"(row_bytes), [pe] "m"(plane_end)
                     : "cc", "memory");
#else
    for (int32_t oy = 0; oy < out_h; ++oy, a += out_w) {
        dw3x3_row(plane + (size_t)oy * pw, pw, 1, out_w, w, a);
    }
#endif
}

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
    const uint32_t w[6] = {tm_nn_pack16(f[0], f[ch]),          tm_nn_pack16(f[2 * ch], 0),
                           tm_nn_pack16(f[3 * ch], f[4 * ch]), tm_nn_pack16(f[5 * ch], 0),
                           tm_nn_pack16(f[6 * ch], f[7 * ch]), tm_nn_pack16(f[8 * ch], 0)};
    int32_t wsum = 0;
    for (int32_t t = 0; t < 9; ++t) {
        wsum += f[t * ch];
    }
    const uint32_t b =
        (uint32_t)(bias != NULL ? bias[c] : 0) - (uint32_t)p->input_zero_point * (uint32_t)wsum;
    /* First every accumulator of the channel's plane, then their requantization: each loop
     * keeps its own values in registers. */
    if (sh == 1 && sw == 1) {
        dw3x3_plane_s1(plane, out->h, out->w, w, accs);
    } else {
        for (int32_t oy = 0; oy < out->h; ++oy) {
            dw3x3_row(plane + (size_t)oy * sh * pw, pw, sw, out->w, w, accs + (size_t)oy * out->w);
        }
    }
    const tm_nn_requant_t rq = tm_nn_requant_make(quant->multiplier[c], quant->shift[c]);
    tm_nn_requant_row(accs, tm_nn_s32_from_u32(b), &rq, 0, rq.fast_shift >= 0, out->h * out->w,
                      p->output_zero_point, p->activation.min, p->activation.max, out_b + c, ch);
}

static void depthwise_3x3(const tm_nn_conv_params_t *p, const tm_nn_per_channel_quant_t *quant,
                          const tm_nn_dims_t *in, const int8_t *input, const int8_t *filter,
                          const int32_t *bias, const tm_nn_dims_t *out, int8_t *output,
                          void *scratch)
{
    int32_t *const accs = (int32_t *)scratch;
    int16_t *const planes = (int16_t *)(accs + (size_t)(in->h + 2) * (in->w + 2));
    const int32_t ch = in->c, sh = p->stride.h, sw = p->stride.w;
    const int32_t ph = (out->h - 1) * sh + 3, pw = (out->w - 1) * sw + 4;
    const int32_t n_planes = dw3x3_planes(in);
    const size_t plane_size = (size_t)ph * pw;
    /* Plane (py, px) holds input (py - padding.h, px - padding.w); the input rows and columns
     * the plane reaches are [0, y_n) and [0, x_n). The rest is padding: the zero point once,
     * and the channels only ever rewrite the inside. */
    const int32_t y_n = in->h < ph - p->padding.h ? in->h : ph - p->padding.h;
    const int32_t x_n = in->w < pw - p->padding.w ? in->w : pw - p->padding.w;
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
            /* Four channels per 32-bit read: SXTB16 gives channels (c, c + 2), with ROR 8
             * (c + 1, c + 3). */
            int16_t *const p0 = planes + first;
            for (int32_t iy = 0; iy < y_n; ++iy) {
                const size_t row = (size_t)iy * pw;
                const int8_t *src = in_b + (size_t)iy * in->w * ch + c;
                for (int32_t ix = 0; ix < x_n; ++ix, src += ch) {
                    const uint32_t v = tm_nn_read_u32(src);
                    const uint32_t e = tm_nn_sxtb16(v), o = tm_nn_sxtb16_ror8(v);
                    int16_t *const d = p0 + row + ix;
                    put16(d, e);
                    put16(d + plane_size, o);
                    put16(d + 2 * plane_size, e >> 16);
                    put16(d + 3 * plane_size, o >> 16);
                }
            }
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
