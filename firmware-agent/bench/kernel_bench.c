/*
 * kernel_bench.c — the int8 kernel benchmark of the virtual board (kernel-bench.elf).
 *
 * Runs every layer of three small models with the reference kernels (tm_nn_ref_*) and the
 * optimized ones (tm_nn_opt_*), then each whole model with each set, and prints one table
 * over Arm semihosting: MACs, instructions with each set, instructions per MAC and the
 * reference/optimized ratio, and whether both sets gave the same bytes.
 *   - DS-CNN keyword spotting on 49x10 MFCCs: conv 10x4 stride 2 -> 64 channels,
 *     4 x (depthwise 3x3 + pointwise 64 -> 64), global average pool, FC 64 -> 12, softmax;
 *   - a 1-D motion CNN on 125 samples x 3 axes (H = 1): conv k=5 -> 16, max pool 2,
 *     conv k=5 -> 32, global average pool, FC 32 -> 6, softmax;
 *   - an MLP 33 -> 20 -> 10 -> 4, softmax.
 * Weights, biases and inputs are deterministic pseudo-random int8/int32; requantization
 * multipliers come from tm_nn_quantize_multiplier like a real model's.
 *
 * Counting: under qemu-system-arm -icount shift=0 every guest instruction advances virtual
 * time by 1 ns, and CMSDK TIMER0 on the 25 MHz clock then ticks once per 40 instructions.
 * Each measurement repeats its layer until the optimized run spans >= 400 000 instructions
 * (the 40-instruction resolution is then below 0.01 %), and subtracts the same loop run with
 * an empty layer (the call, the dispatch and the timer reads), measured in the same run.
 * These are instruction counts, not cycles: a Cortex-M4 needs more cycles than instructions
 * (loads take 2, a taken branch 2-4). Estimated cycles come from the cycle-model plugin: every
 * timer read is marked (bench_marks.h) and `ninja kernel-bench` (kernel_bench_cycles.py) adds
 * the estimate of the same loops to each row.
 */
#include <stdint.h>
#include <string.h>

#include "mps2.h"
#include "tm_nn.h"
#include "tm_nn_variants.h"
#include "bench_marks.h"
#include "model_rows.h"
/* The optimized kernels' requantization (inline assembly on this core), for the check. */
#include "../nn/src/tm_nn_simd.h"

/* The image is built for this board only (ports/CMakeLists.txt). */
#define TM_BENCH_BOARD "qemu-mps2-an386 (Cortex-M4F)"

/* ---- output over semihosting ------------------------------------------------------------- */

enum { SYS_WRITE0 = 0x04, SYS_EXIT = 0x18 };
enum { ADP_STOPPED_APPLICATION_EXIT = 0x20026, ADP_STOPPED_RUN_TIME_ERROR = 0x20023 };

static int semihost(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static char line[160];
static int pos;

static void put(const char *s)
{
    while (*s != '\0' && pos < (int)sizeof line - 1) {
        line[pos++] = *s++;
    }
}

/* v right-aligned in width columns, with decimals digits after the point (v is scaled by
 * 10^decimals by the caller). */
static void put_num(uint64_t v, int width, int decimals)
{
    char d[24];
    int n = 0;
    do {
        d[n++] = (char)('0' + v % 10u);
        v /= 10u;
        if (n == decimals) {
            d[n++] = '.';
        }
    } while (v != 0 || n <= decimals);
    if (decimals > 0 && d[n - 1] == '.') {
        d[n++] = '0';
    }
    for (int i = n; i < width; ++i) {
        put(" ");
    }
    while (n > 0 && pos < (int)sizeof line - 1) {
        line[pos++] = d[--n];
    }
}

static void put_text(const char *s, int width)
{
    int n = (int)strlen(s);
    put(s);
    for (; n < width; ++n) {
        put(" ");
    }
}

static void flush(void)
{
    line[pos++] = '\n';
    line[pos] = '\0';
    semihost(SYS_WRITE0, line);
    pos = 0;
}

/* ---- data -------------------------------------------------------------------------------- */

static uint32_t lcg = 20261122u;

static uint32_t rnd(void)
{
    lcg = lcg * 1664525u + 1013904223u;
    return lcg;
}

#define MAX_CH 64
#define ACT_BYTES 8192
#define W_BYTES 16384

static int8_t weights[W_BYTES];
static int32_t biases[MAX_CH];
static int8_t act_in[ACT_BYTES], act_ref[ACT_BYTES], act_opt[ACT_BYTES];
static int8_t ping[ACT_BYTES], pong[ACT_BYTES];
static int32_t scratch[4096];

typedef enum { L_NONE, L_CONV, L_DW, L_FC, L_MAXPOOL, L_AVGPOOL, L_SOFTMAX } kind_t;

typedef struct {
    const char *name;
    kind_t kind;
    tm_nn_dims_t in, f,
        out; /* f: conv [C_OUT, KH, KW, C_IN], dw [1, KH, KW, C], fc [OUT, 1, 1, IN] */
    int32_t stride_h, stride_w, pad_h, pad_w;
    int32_t mult[MAX_CH], shift[MAX_CH];
} layer_t;

static int64_t count(const tm_nn_dims_t *d)
{
    return (int64_t)d->n * d->h * d->w * d->c;
}

/* Multiply-accumulates of one run (0 for layers without weights). */
static int64_t macs(const layer_t *l)
{
    switch (l->kind) {
    case L_CONV:
        return count(&l->out) * l->f.h * l->f.w * l->f.c;
    case L_DW:
        return count(&l->out) * l->f.h * l->f.w;
    case L_FC:
        return (int64_t)l->f.n * l->f.c;
    default:
        return 0;
    }
}

/* Per-channel multipliers of a layer whose accumulators span about +-2^(bits): outputs
 * then use most of the int8 range. */
static void prepare(layer_t *l, int32_t acc_bits)
{
    for (int32_t c = 0; c < l->out.c && c < MAX_CH; ++c) {
        const double real =
            (double)(100 + (int32_t)(rnd() % 40u)) / 100.0 / (double)((int64_t)1 << (acc_bits - 7));
        tm_nn_quantize_multiplier(real, &l->mult[c], &l->shift[c]);
    }
}

static int run_layer(const layer_t *l, int optimized, const int8_t *x, int8_t *y)
{
    const tm_nn_per_channel_quant_t q = {l->mult, l->shift};
    tm_nn_context_t ctx = {scratch, (int32_t)sizeof scratch};
    switch (l->kind) {
    case L_NONE:
        return 0;
    case L_CONV:
    case L_DW: {
        tm_nn_conv_params_t p;
        memset(&p, 0, sizeof p);
        p.input_zero_point = -5;
        p.output_zero_point = -128;
        p.stride.h = l->stride_h;
        p.stride.w = l->stride_w;
        p.padding.h = l->pad_h;
        p.padding.w = l->pad_w;
        p.dilation.h = p.dilation.w = 1;
        p.depth_multiplier = 1;
        p.activation.min = -128; /* fused ReLU: zero is -128 */
        p.activation.max = 127;
        if (l->kind == L_CONV) {
            return optimized ? tm_nn_opt_conv2d_s8(&ctx, &p, &q, &l->in, x, &l->f, weights, biases,
                                                   &l->out, y)
                             : tm_nn_ref_conv2d_s8(&ctx, &p, &q, &l->in, x, &l->f, weights, biases,
                                                   &l->out, y);
        }
        return optimized ? tm_nn_opt_depthwise_conv2d_s8(&ctx, &p, &q, &l->in, x, &l->f, weights,
                                                         biases, &l->out, y)
                         : tm_nn_ref_depthwise_conv2d_s8(&ctx, &p, &q, &l->in, x, &l->f, weights,
                                                         biases, &l->out, y);
    }
    case L_FC: {
        tm_nn_fc_params_t p;
        memset(&p, 0, sizeof p);
        p.input_zero_point = -128;
        p.output_zero_point = 3;
        p.activation.min = -128;
        p.activation.max = 127;
        return optimized ? tm_nn_opt_fully_connected_s8(&ctx, &p, &q, &l->in, x, &l->f, weights,
                                                        biases, &l->out, y)
                         : tm_nn_ref_fully_connected_s8(&ctx, &p, &q, &l->in, x, &l->f, weights,
                                                        biases, &l->out, y);
    }
    case L_MAXPOOL:
    case L_AVGPOOL: {
        tm_nn_pool_params_t p;
        memset(&p, 0, sizeof p);
        p.stride.h = l->stride_h;
        p.stride.w = l->stride_w;
        p.filter.h = l->f.h;
        p.filter.w = l->f.w;
        p.activation.min = -128;
        p.activation.max = 127;
        if (l->kind == L_MAXPOOL) {
            return optimized ? tm_nn_opt_max_pool_s8(&p, &l->in, x, &l->out, y)
                             : tm_nn_ref_max_pool_s8(&p, &l->in, x, &l->out, y);
        }
        return optimized ? tm_nn_opt_avg_pool_s8(&ctx, &p, &l->in, x, &l->out, y)
                         : tm_nn_ref_avg_pool_s8(&ctx, &p, &l->in, x, &l->out, y);
    }
    case L_SOFTMAX: {
        const tm_nn_softmax_params_t p = {0.0625f, 1.0f};
        const int32_t row = l->in.c, rows = (int32_t)(count(&l->in) / row);
        return optimized ? tm_nn_opt_softmax_s8(&p, x, rows, row, y)
                         : tm_nn_ref_softmax_s8(&p, x, rows, row, y);
    }
    }
    return -1;
}

/* ---- the models --------------------------------------------------------------------------- */

#define CONV(nm, ih, iw, ic, kh, kw, oc, oh, ow, sh, sw, ph, pw)                                   \
    {                                                                                              \
        nm, L_CONV, {1, ih, iw, ic}, {oc, kh, kw, ic}, {1, oh, ow, oc}, sh, sw, ph, pw, {0},       \
        {                                                                                          \
            0                                                                                      \
        }                                                                                          \
    }
#define DW(nm, ih, iw, c)                                                                          \
    {                                                                                              \
        nm, L_DW, {1, ih, iw, c}, {1, 3, 3, c}, {1, ih, iw, c}, 1, 1, 1, 1, {0},                   \
        {                                                                                          \
            0                                                                                      \
        }                                                                                          \
    }
#define FC(nm, in, out)                                                                            \
    {                                                                                              \
        nm, L_FC, {1, 1, 1, in}, {out, 1, 1, in}, {1, 1, 1, out}, 1, 1, 0, 0, {0},                 \
        {                                                                                          \
            0                                                                                      \
        }                                                                                          \
    }
#define POOL(nm, k, ih, iw, c, fh, fw, oh, ow, s)                                                  \
    {                                                                                              \
        nm, k, {1, ih, iw, c}, {1, fh, fw, c}, {1, oh, ow, c}, s, s, 0, 0, {0},                    \
        {                                                                                          \
            0                                                                                      \
        }                                                                                          \
    }
#define SOFTMAX(nm, n)                                                                             \
    {                                                                                              \
        nm, L_SOFTMAX, {1, 1, 1, n}, {1, 1, 1, n}, {1, 1, 1, n}, 1, 1, 0, 0, {0},                  \
        {                                                                                          \
            0                                                                                      \
        }                                                                                          \
    }

static layer_t dscnn[] = {
    CONV("kws conv1 10x4/2 1->64", 49, 10, 1, 10, 4, 64, 25, 5, 2, 2, 4, 1),
    DW("kws dw1 3x3 64", 25, 5, 64),
    CONV("kws pw1 1x1 64->64", 25, 5, 64, 1, 1, 64, 25, 5, 1, 1, 0, 0),
    DW("kws dw2 3x3 64", 25, 5, 64),
    CONV("kws pw2 1x1 64->64", 25, 5, 64, 1, 1, 64, 25, 5, 1, 1, 0, 0),
    DW("kws dw3 3x3 64", 25, 5, 64),
    CONV("kws pw3 1x1 64->64", 25, 5, 64, 1, 1, 64, 25, 5, 1, 1, 0, 0),
    DW("kws dw4 3x3 64", 25, 5, 64),
    CONV("kws pw4 1x1 64->64", 25, 5, 64, 1, 1, 64, 25, 5, 1, 1, 0, 0),
    POOL("kws avgpool 25x5", L_AVGPOOL, 25, 5, 64, 25, 5, 1, 1, 1),
    FC("kws fc 64->12", 64, 12),
    SOFTMAX("kws softmax 12", 12),
};

static layer_t motion[] = {
    CONV("motion conv1d k5 3->16", 1, 125, 3, 1, 5, 16, 1, 121, 1, 1, 0, 0),
    POOL("motion maxpool 2", L_MAXPOOL, 1, 121, 16, 1, 2, 1, 60, 2),
    CONV("motion conv1d k5 16->32", 1, 60, 16, 1, 5, 32, 1, 56, 1, 1, 0, 0),
    POOL("motion avgpool 56", L_AVGPOOL, 1, 56, 32, 1, 56, 1, 1, 1),
    FC("motion fc 32->6", 32, 6),
    SOFTMAX("motion softmax 6", 6),
};

static layer_t mlp[] = {
    FC("mlp fc 33->20", 33, 20),
    FC("mlp fc 20->10", 20, 10),
    FC("mlp fc 10->4", 10, 4),
    SOFTMAX("mlp softmax 4", 4),
};

/* Two more shapes for the kernels' general paths (no model runs them as a whole): a 3x3
 * convolution through im2col with padding, and a fully connected layer large enough to show
 * its steady state. */
static layer_t shapes[] = {
    CONV("conv 3x3 16->32 on 16x16", 16, 16, 16, 3, 3, 32, 16, 16, 1, 1, 1, 1),
    FC("fc 256->64", 256, 64),
};

typedef struct {
    const char *name; /* of the whole-model row; NULL: layers only */
    layer_t *layers;
    int count;
} model_t;

static const model_t models[] = {
    {"DS-CNN keyword spotting (whole model)", dscnn, (int)(sizeof dscnn / sizeof dscnn[0])},
    {"motion 1-D CNN (whole model)", motion, (int)(sizeof motion / sizeof motion[0])},
    {"MLP 33-20-10-4 (whole model)", mlp, (int)(sizeof mlp / sizeof mlp[0])},
    {NULL, shapes, (int)(sizeof shapes / sizeof shapes[0])},
};

/* ---- measuring --------------------------------------------------------------------------- */

static uint32_t marks_so_far;

/* Distinct from every other function (the plugin finds it by name), never inlined. */
__attribute__((noinline, used)) void tm_cycle_mark_user(void)
{
    __asm__ volatile("" : : "i"(5) : "memory");
}

uint32_t tm_bench_ticks(uint32_t *mark)
{
    *mark = marks_so_far++;
    tm_cycle_mark_user();
    return 0xFFFFFFFFu - MPS2_TIMER0->VALUE;
}

tm_bench_count_t tm_bench_per_run(tm_bench_count_t c, const tm_bench_count_t *base)
{
    const uint64_t b = base ? base->instr : 0u;
    const uint64_t reps = (uint64_t)c.reps;
    if (base) {
        c.base[0] = base->mark[0];
        c.base[1] = base->mark[1];
    }
    c.instr = c.instr > b ? (c.instr - b + reps / 2u) / reps : 0u;
    return c;
}

#define INSTRUCTIONS_PER_TICK 40u

static const layer_t empty_layer = {"", L_NONE, {1, 1, 1, 1}, {1, 1, 1, 1}, {1, 1, 1, 1}, 1, 1,
                                    0,  0,      {0},          {0}};

/* The optimized kernels' requantization (tm_nn_requant: its SMLAL form and its general
 * form, as inline assembly here) against tm_nn_multiply_by_quantized_multiplier for every
 * shift in [-31, 31], multipliers across [0, 2^31) and negative ones, and accumulators at the
 * int32 edges, around every power of two and pseudo-random. Returns the number of cases
 * that differ; *cases receives how many ran. */
static int32_t requant_check(int32_t *cases)
{
    static const int32_t mults[] = {
        0,         1,  (1 << 30) - 1, 1 << 30,      (1 << 30) + 1, 1518500250, 1999999999,
        INT32_MAX, -1, -(1 << 30),    INT32_MIN + 1};
    static int32_t xs[32 * 6 + 64];
    static int8_t row[32 * 6 + 64];
    const int32_t count = (int32_t)(sizeof xs / sizeof xs[0]);
    int32_t bad = 0, n = 0;
    for (int32_t shift = -31; shift <= 31; ++shift) {
        for (size_t i = 0; i < sizeof mults / sizeof mults[0]; ++i) {
            const tm_nn_requant_t q = tm_nn_requant_make(mults[i], shift);
            for (int32_t j = 0; j < count; ++j) {
                int32_t x;
                if (j < 32 * 6) { /* +-(2^e + d), d in {-1, 0, 1}; 2^31 - 1 and -2^31 at e = 31 */
                    const int32_t e = j / 6, d = j % 3 - 1;
                    const uint32_t p = ((uint32_t)1u << e) + (uint32_t)d;
                    x = (int32_t)((j / 3) % 2 ? 0u - p : p);
                } else {
                    x = (int32_t)rnd();
                }
                xs[j] = x;
                bad += tm_nn_requant(x, &q) !=
                       tm_nn_multiply_by_quantized_multiplier(x, mults[i], shift);
                ++n;
            }
            /* The same values through the one-channel row loop the depthwise kernel uses
             * (bias, output zero point, SSAT), against the reference's steps. */
            const int32_t bias = (int32_t)rnd() >> 8, zp = -100;
            tm_nn_requant_row(xs, bias, &q, 0, q.fast_shift >= 0, count, zp, -128, 127, row, 1);
            for (int32_t j = 0; j < count; ++j) {
                const int32_t a = (int32_t)((uint32_t)xs[j] + (uint32_t)bias);
                int32_t v =
                    (int32_t)((uint32_t)tm_nn_multiply_by_quantized_multiplier(a, mults[i], shift) +
                              (uint32_t)zp);
                v = v < -128 ? -128 : (v > 127 ? 127 : v);
                bad += row[j] != v;
                ++n;
            }
        }
    }
    *cases = n;
    return bad;
}

/* Instructions of reps runs of one layer, with the loop's marks; *status collects kernel
 * errors. */
static tm_bench_count_t measure_layer(const layer_t *l, int optimized, int32_t reps, int8_t *y,
                                      int *status)
{
    tm_bench_count_t c = {0, {0, 0}, {TM_BENCH_NO_MARK, TM_BENCH_NO_MARK}, reps};
    const uint32_t t0 = tm_bench_ticks(&c.mark[0]);
    for (int32_t r = 0; r < reps; ++r) {
        *status |= run_layer(l, optimized, act_in, y);
    }
    c.instr = (uint64_t)(uint32_t)(tm_bench_ticks(&c.mark[1]) - t0) * INSTRUCTIONS_PER_TICK;
    return c;
}

static int run_model(const model_t *m, int optimized, int8_t *result, int32_t *result_bytes)
{
    int status = 0;
    const int8_t *x = act_in;
    int8_t *bufs[2] = {ping, pong};
    for (int i = 0; i < m->count; ++i) {
        int8_t *y = bufs[i & 1];
        status |= run_layer(&m->layers[i], optimized, x, y);
        x = y;
    }
    const layer_t *last = &m->layers[m->count - 1];
    *result_bytes = (int32_t)count(&last->out);
    memcpy(result, x, (size_t)*result_bytes);
    return status;
}

static void print_header(void)
{
    put_text("layer", 40);
    put("        MACs  instr (ref)  instr (opt)  instr/MAC ref  instr/MAC opt  ref/opt  same");
    flush();
}

static void put_mark(uint32_t m)
{
    put(" ");
    if (m == TM_BENCH_NO_MARK) {
        put("-");
    } else {
        put_num(m, 0, 0);
    }
}

/* The recipe line of the row above (bench_marks.h). */
static void put_recipe(const char *which, const tm_bench_count_t *c)
{
    put(" ");
    put(which);
    put_mark(c->mark[0]);
    put_mark(c->mark[1]);
    put_mark(c->base[0]);
    put_mark(c->base[1]);
    put(" ");
    put_num((uint64_t)c->reps, 0, 0);
}

static void print_row(const char *name, int64_t n_macs, const tm_bench_count_t *ref_count,
                      const tm_bench_count_t *opt_count, int same)
{
    const uint64_t ref = ref_count->instr, opt = opt_count->instr;
    put_text(name, 40);
    put_num((uint64_t)n_macs, 12, 0);
    put_num(ref, 13, 0);
    put_num(opt, 13, 0);
    if (n_macs > 0) {
        put_num((ref * 100u + (uint64_t)n_macs / 2u) / (uint64_t)n_macs, 15, 2);
        put_num((opt * 100u + (uint64_t)n_macs / 2u) / (uint64_t)n_macs, 15, 2);
    } else {
        put("              -              -");
    }
    put_num(opt > 0 ? (ref * 100u + opt / 2u) / opt : 0u, 9, 2);
    put(same ? "  yes" : "  NO");
    flush();
    put("#cycles");
    put_recipe("ref", ref_count);
    put_recipe("opt", opt_count);
    flush();
}

int main(void)
{
    MPS2_TIMER0->CTRL = 0;
    MPS2_TIMER0->RELOAD = 0xFFFFFFFFu;
    MPS2_TIMER0->VALUE = 0xFFFFFFFFu;
    MPS2_TIMER0->CTRL = TIMER_CTRL_EN;

    for (int i = 0; i < W_BYTES; ++i) {
        weights[i] = (int8_t)(rnd() >> 24);
    }
    for (int i = 0; i < MAX_CH; ++i) {
        biases[i] = (int32_t)(rnd() >> 20) - 2048;
    }
    for (int i = 0; i < ACT_BYTES; ++i) {
        act_in[i] = (int8_t)(rnd() >> 24);
    }
    for (size_t m = 0; m < sizeof models / sizeof models[0]; ++m) {
        for (int i = 0; i < models[m].count; ++i) {
            layer_t *l = &models[m].layers[i];
            /* Random int8 products average about 2^12.4 in size; a sum of K of them
             * about 2^12.4 * sqrt(K). */
            const int64_t k = l->kind == L_DW ? 9
                              : (l->kind == L_CONV || l->kind == L_FC)
                                  ? (int64_t)l->f.h * l->f.w * l->f.c
                                  : 1;
            int32_t lg = 0;
            for (int64_t v = k; v > 1; v >>= 1) {
                ++lg;
            }
            prepare(l, 13 + lg / 2);
        }
    }

    int status = 0, all_same = 1;
    int32_t rq_cases = 0;
    const int32_t rq_bad = requant_check(&rq_cases);
    put("requantization check on the device: ");
    put_num((uint64_t)rq_cases, 0, 0);
    put(" cases, ");
    put_num((uint64_t)rq_bad, 0, 0);
    put(" differ from tm_nn_multiply_by_quantized_multiplier");
    flush();
    status |= rq_bad != 0;
    put("kernel-bench: int8 kernels on ");
    put(TM_BENCH_BOARD);
    put(", instructions under -icount shift=0 (TIMER0, 40 per tick), reference vs optimized");
    flush();
    print_header();
    for (size_t m = 0; m < sizeof models / sizeof models[0]; ++m) {
        for (int i = 0; i < models[m].count; ++i) {
            const layer_t *l = &models[m].layers[i];
            const int64_t work = macs(l) > 0 ? macs(l) : count(&l->in);
            const int32_t reps = (int32_t)(400000 / work + 1);
            const tm_bench_count_t empty = measure_layer(&empty_layer, 1, reps, act_opt, &status);
            const tm_bench_count_t ref =
                tm_bench_per_run(measure_layer(l, 0, reps, act_ref, &status), &empty);
            const tm_bench_count_t opt =
                tm_bench_per_run(measure_layer(l, 1, reps, act_opt, &status), &empty);
            const int same = memcmp(act_ref, act_opt, (size_t)count(&l->out)) == 0;
            all_same &= same;
            print_row(l->name, macs(l), &ref, &opt, same);
        }
    }
    for (size_t m = 0; m < sizeof models / sizeof models[0]; ++m) {
        if (models[m].name == NULL) {
            continue;
        }
        int64_t total = 0;
        for (int i = 0; i < models[m].count; ++i) {
            total += macs(&models[m].layers[i]);
        }
        int32_t n_ref = 0, n_opt = 0;
        const int32_t reps = (int32_t)(400000 / total + 1);
        tm_bench_count_t ref = {0, {0, 0}, {TM_BENCH_NO_MARK, TM_BENCH_NO_MARK}, reps};
        tm_bench_count_t opt = ref;
        uint32_t t0 = tm_bench_ticks(&ref.mark[0]);
        for (int32_t r = 0; r < reps; ++r) {
            status |= run_model(&models[m], 0, act_ref, &n_ref);
        }
        ref.instr = (uint64_t)(uint32_t)(tm_bench_ticks(&ref.mark[1]) - t0) * INSTRUCTIONS_PER_TICK;
        t0 = tm_bench_ticks(&opt.mark[0]);
        for (int32_t r = 0; r < reps; ++r) {
            status |= run_model(&models[m], 1, act_opt, &n_opt);
        }
        opt.instr = (uint64_t)(uint32_t)(tm_bench_ticks(&opt.mark[1]) - t0) * INSTRUCTIONS_PER_TICK;
        const int same = n_ref == n_opt && memcmp(act_ref, act_opt, (size_t)n_ref) == 0;
        all_same &= same;
        ref = tm_bench_per_run(ref, NULL);
        opt = tm_bench_per_run(opt, NULL);
        print_row(models[m].name, total, &ref, &opt, same);
    }
    status |= tm_bench_model_rows(print_row, &all_same); /* trainer packages, model_rows.c */
    put(status == 0 && all_same ? "kernel-bench status 0" : "kernel-bench status -1");
    flush();
    semihost(SYS_EXIT,
             (const void *)(uintptr_t)(status == 0 && all_same ? ADP_STOPPED_APPLICATION_EXIT
                                                               : ADP_STOPPED_RUN_TIME_ERROR));
    return status;
}
