/*
 * tm_nn_opt_fully_connected.c — optimized fully connected layer, bit-exact with
 * tm_nn_fully_connected.c. Each input row is expanded once into scratch as int16 with the
 * zero point subtracted (lanes of each group of four stored 0, 2, 1, 3, as the conv columns),
 * then four filter rows at a time are accumulated against it: per 4 inputs, one LDRD of
 * scratch, 4 filter reads, 8 SXTB16 and 8 SMLAD for 16 multiply-accumulates (the rows left
 * over, out_c % 4, go two at a time).
 */
#include <stddef.h>

#include "tm_nn_simd.h"

int32_t tm_nn_opt_fully_connected_s8_get_buffer_size(const tm_nn_dims_t *filter_dims)
{
    if (filter_dims == NULL || filter_dims->n <= 0 || filter_dims->c <= 0) {
        return 0;
    }
    /* One input row as int16. */
    const int64_t bytes = ((int64_t)filter_dims->c * 2 + 3) & ~(int64_t)3;
    return bytes > INT32_MAX ? -1 : (int32_t)bytes;
}

static void expand_row(const int8_t *src, int32_t depth, int32_t zp, int16_t *dst)
{
    const uint32_t zp2 = tm_nn_pack16(zp, zp);
    const int32_t d16 = depth & ~15, d4 = depth & ~3;
    int32_t i = 0;
    /* dst is scratch, 4-byte aligned: the stores pair up (STRD). */
    for (; i < d16; i += 16) {
        const uint32_t w0 = tm_nn_read_u32(src + i), w1 = tm_nn_read_u32(src + i + 4);
        const uint32_t w2 = tm_nn_read_u32(src + i + 8), w3 = tm_nn_read_u32(src + i + 12);
        uint32_t *const d = (uint32_t *)(void *)(dst + i);
        d[0] = tm_nn_ssub16(tm_nn_sxtb16(w0), zp2);
        d[1] = tm_nn_ssub16(tm_nn_sxtb16_ror8(w0), zp2);
        d[2] = tm_nn_ssub16(tm_nn_sxtb16(w1), zp2);
        d[3] = tm_nn_ssub16(tm_nn_sxtb16_ror8(w1), zp2);
        d[4] = tm_nn_ssub16(tm_nn_sxtb16(w2), zp2);
        d[5] = tm_nn_ssub16(tm_nn_sxtb16_ror8(w2), zp2);
        d[6] = tm_nn_ssub16(tm_nn_sxtb16(w3), zp2);
        d[7] = tm_nn_ssub16(tm_nn_sxtb16_ror8(w3), zp2);
    }
    for (; i < d4; i += 4) {
        const uint32_t w = tm_nn_read_u32(src + i);
        tm_nn_write_u32(dst + i, tm_nn_ssub16(tm_nn_sxtb16(w), zp2));
        tm_nn_write_u32(dst + i + 2, tm_nn_ssub16(tm_nn_sxtb16_ror8(w), zp2));
    }
    for (; i < depth; ++i) {
        dst[i] = (int16_t)(src[i] - zp);
    }
}

typedef struct {
    int32_t a0, a1;
} acc2_t;

/* Four values of x against the filter rows w0 and w0 + step. */
static inline void mac_group(acc2_t *a, const int16_t **x, const int8_t *w0, int32_t step)
{
    uint32_t xe, xo;
    tm_nn_load2(x, &xe, &xo);
    uint32_t w = tm_nn_read_u32(w0);
    a->a0 = tm_nn_smlad(tm_nn_sxtb16_ror8(w), xo, tm_nn_smlad(tm_nn_sxtb16(w), xe, a->a0));
    w = tm_nn_read_u32(w0 + step);
    a->a1 = tm_nn_smlad(tm_nn_sxtb16_ror8(w), xo, tm_nn_smlad(tm_nn_sxtb16(w), xe, a->a1));
}

/* acc.a0 += x . row w0, acc.a1 += x . row (w0 + step). Two rows keep every value of the
 * loop in a register (four rows would not fit beside the pointers). */
static void mac_1x2(const int16_t *x, int32_t depth, const int8_t *w0, int32_t step, acc2_t *acc)
{
    acc2_t a = *acc;
    int32_t groups = depth >> 2;
    if (groups & 1) {
        mac_group(&a, &x, w0, step);
        w0 += 4;
    }
    for (groups >>= 1; groups > 0; --groups) {
        mac_group(&a, &x, w0, step);
        mac_group(&a, &x, w0 + 4, step);
        w0 += 8;
    }
    for (int32_t i = 0; i < (depth & 3); ++i) {
        a.a0 = tm_nn_add_wrap_s32(a.a0, x[i] * w0[i]);
        a.a1 = tm_nn_add_wrap_s32(a.a1, x[i] * w0[step + i]);
    }
    *acc = a;
}

typedef struct {
    int32_t a0, a1, a2, a3;
} acc4_t;

/* Four values of x (advancing x) against the rows p, p + step, q, q + step (advancing p, q). */
static inline void mac_group4(acc4_t *a, const int16_t **x, const int8_t **p, const int8_t **q,
                              int32_t step)
{
    uint32_t xe, xo;
    tm_nn_load2(x, &xe, &xo);
    uint32_t w = tm_nn_read_u32(*p);
    a->a0 = tm_nn_smlad(tm_nn_sxtb16_ror8(w), xo, tm_nn_smlad(tm_nn_sxtb16(w), xe, a->a0));
    w = tm_nn_read_u32(*p + step);
    a->a1 = tm_nn_smlad(tm_nn_sxtb16_ror8(w), xo, tm_nn_smlad(tm_nn_sxtb16(w), xe, a->a1));
    w = tm_nn_read_u32(*q);
    a->a2 = tm_nn_smlad(tm_nn_sxtb16_ror8(w), xo, tm_nn_smlad(tm_nn_sxtb16(w), xe, a->a2));
    w = tm_nn_read_u32(*q + step);
    a->a3 = tm_nn_smlad(tm_nn_sxtb16_ror8(w), xo, tm_nn_smlad(tm_nn_sxtb16(w), xe, a->a3));
    *p += 4;
    *q += 4;
}

#if TM_NN_HAVE_DSP && defined(__OPTIMIZE__)
/* One LDR + 2 SXTB16 + 2 SMLAD of a row: w is the row's 4 filter bytes, e / o the input pairs. */
#define TM_FC_ROW(acc, addr)                                                                       \
    "ldr %[w], " addr "\n\t"                                                                       \
    "sxtb16 %[t], %[w], ror #8\n\t"                                                                \
    "sxtb16 %[w], %[w]\n\t"                                                                        \
    "smlad %[" acc "], %[w], %[xe], %[" acc "]\n\t"                                                \
    "smlad %[" acc "], %[t], %[xo], %[" acc "]\n\t"
#define TM_FC_GROUP                                                                                \
    "ldrd %[xe], %[xo], [%[x]], #8\n\t" TM_FC_ROW("a1", "[%[p], %[step]]")                         \
        TM_FC_ROW("a0", "[%[p]], #4") TM_FC_ROW("a3", "[%[q], %[step]]")                           \
            TM_FC_ROW("a2", "[%[q]], #4")
#endif

/* Rows w0, w0 + step, w0 + 2 step, w0 + 3 step against x. The input pairs are read once for
 * the four rows; on the DSP build the loop over four groups at a time is one inline-assembly
 * statement: per 128 multiply-accumulates 8 LDRD, 32 LDR, 64 SXTB16, 64 SMLAD, CMP and BNE
 * (groups left over, depth / 4 % 8, take the C loop).
 * It needs 13 registers (4 sums, 2 input pairs, 2 unpacked weights, 2 row pointers, the
 * row step, the input pointer and its end), so it also builds with a frame pointer (r7). */
static inline void mac_1x4(const int16_t *x, int32_t depth, const int8_t *w0, int32_t step,
                           acc4_t *acc)
{
    acc4_t a = *acc;
    const int8_t *p = w0, *q = w0 + 2 * step;
    int32_t groups = depth >> 2;
#if TM_NN_HAVE_DSP && defined(__OPTIMIZE__)
    for (; groups & 7; --groups) {
        mac_group4(&a, &x, &p, &q, step);
    }
    if (groups > 0) {
        const int16_t *const end = x + 4 * groups;
        uint32_t xe, xo, w, t;
        __asm__ volatile(
            "1:\n\t" TM_FC_GROUP TM_FC_GROUP TM_FC_GROUP TM_FC_GROUP TM_FC_GROUP TM_FC_GROUP
                TM_FC_GROUP TM_FC_GROUP "cmp %[x], %[end]\n\t"
            "bne 1b"
            : [a0] "+r"(a.a0), [a1] "+r"(a.a1), [a2] "+r"(a.a2), [a3] "+r"(a.a3), [x] "+r"(x),
              [p] "+r"(p), [q] "+r"(q), [xe] "=&r"(xe), [xo] "=&r"(xo), [w] "=&r"(w), [t] "=&r"(t)
            : [step] "r"(step), [end] "r"(end)
            : "cc", "memory");
    }
#else
    for (; groups > 0; --groups) {
        mac_group4(&a, &x, &p, &q, step);
    }
#endif
    for (int32_t i = 0; i < (depth & 3); ++i) {
        a.a0 = tm_nn_add_wrap_s32(a.a0, x[i] * p[i]);
        a.a1 = tm_nn_add_wrap_s32(a.a1, x[i] * p[step + i]);
        a.a2 = tm_nn_add_wrap_s32(a.a2, x[i] * q[i]);
        a.a3 = tm_nn_add_wrap_s32(a.a3, x[i] * q[step + i]);
    }
    *acc = a;
}

typedef struct {
    const int32_t *multiplier, *shift; /* of the pass's first output */
    int32_t zp, lo, hi;
    uint32_t zp21; /* 2 zp + 1, modulo 2^32 */
    int full;      /* [lo, hi] is the whole int8 range */
} out_params_t;

/* Any multiplier and shift: the general form, and TFLite's own function for an INT32_MIN
 * multiplier (only reachable by hand-made parameters). */
__attribute__((noinline)) static void fc_out_general(int32_t acc, int32_t m, int32_t shift,
                                                     const out_params_t *op, int8_t *out)
{
    int32_t v;
    if (m == INT32_MIN) {
        v = tm_nn_multiply_by_quantized_multiplier(acc, m, shift);
    } else {
        const tm_nn_requant_t rq = tm_nn_requant_make(m, shift);
        v = tm_nn_requant_general(acc, &rq);
    }
    v = tm_nn_add_wrap_s32(v, op->zp);
    *out = (int8_t)(v < op->lo ? op->lo : (v > op->hi ? op->hi : v));
}

/* One output in the output form of the requantization (tm_nn_requant_mm_t), decoded here
 * instead of from a table built per call (with one input row every channel is used once, so
 * a table would cost as much again): base = 2^(r-1) + zp 2^r = (2 zp + 1) << (r - 1) with
 * r - 1 = ~shift. full: the activation is the whole int8 range (one SSAT). Other
 * multipliers and shifts take fc_out_general. */
static inline void fc_out(int32_t acc, int32_t m, int32_t shift, uint32_t zp21, int full,
                          const out_params_t *op, int8_t *out)
{
    if (!tm_nn_requant_mm_ok(m, shift)) {
        fc_out_general(acc, m, shift, op, out);
        return;
    }
    const tm_nn_requant_mm_t q = {m, tm_nn_s32_from_u32(zp21 << (uint32_t)~shift), -shift};
    const int32_t v = tm_nn_requant_mm(acc, &q);
    if (full) {
        *out = (int8_t)tm_nn_ssat8(v);
    } else {
        *out = (int8_t)(v < op->lo ? op->lo : (v > op->hi ? op->hi : v));
    }
}

/* Outputs o .. o + 3 of one row, requantized. Not inlined: the caller's values stay out of
 * the registers the assembly loop needs, and the requantization has every register free.
 * The parameters are read into locals first: the byte stores could alias them otherwise. */
__attribute__((noinline)) static void pass_1x4(const int16_t *x, int32_t depth, const int8_t *w0,
                                               const int32_t *bias, const out_params_t *op,
                                               int8_t *out)
{
    acc4_t a = {0, 0, 0, 0};
    if (bias != NULL) {
        a = (acc4_t){bias[0], bias[1], bias[2], bias[3]};
    }
    mac_1x4(x, depth, w0, depth, &a);
    const int32_t *const m = op->multiplier, *const s = op->shift;
    const uint32_t zp21 = op->zp21;
    if (op->full) {
        fc_out(a.a0, m[0], s[0], zp21, 1, op, out);
        fc_out(a.a1, m[1], s[1], zp21, 1, op, out + 1);
        fc_out(a.a2, m[2], s[2], zp21, 1, op, out + 2);
        fc_out(a.a3, m[3], s[3], zp21, 1, op, out + 3);
    } else {
        fc_out(a.a0, m[0], s[0], zp21, 0, op, out);
        fc_out(a.a1, m[1], s[1], zp21, 0, op, out + 1);
        fc_out(a.a2, m[2], s[2], zp21, 0, op, out + 2);
        fc_out(a.a3, m[3], s[3], zp21, 0, op, out + 3);
    }
}

#if TM_NN_HAVE_DSP && defined(__OPTIMIZE__)
/* The arguments of fc_passes_m4, read and updated through one pointer (the offsets are
 * written in its assembly; the static assertions keep them true). */
typedef struct {
    const int16_t *x;             /*  0: the expanded input row */
    int32_t x_bytes;              /*  4: 2 depth */
    const int8_t *filter;         /*  8 */
    int32_t depth;                /* 12 */
    const int32_t *bias;          /* 16: the pass's four biases (zeros when there are none) */
    int32_t bias_step;            /* 20: 16, or 0 without biases */
    const int32_t *multiplier;    /* 24: the pass's first channel */
    const int32_t *shift;         /* 28 */
    int8_t *out;                  /* 32 */
    int32_t unused;               /* 36 */
    uint32_t zp21;                /* 40: 2 zp + 1 */
    int32_t passes;               /* 44 */
    int32_t fallback;             /* 48: set when some output was skipped */
} fc_passes_t;
_Static_assert(offsetof(fc_passes_t, x_bytes) == 4 && offsetof(fc_passes_t, depth) == 12 &&
                   offsetof(fc_passes_t, bias_step) == 20 && offsetof(fc_passes_t, shift) == 28 &&
                   offsetof(fc_passes_t, zp21) == 40 && offsetof(fc_passes_t, passes) == 44 &&
                   offsetof(fc_passes_t, fallback) == 48 && sizeof(void *) == 4,
               "fc_passes_m4 reads these offsets");

/* One filter row of a group, literal registers: r9 the row's 4 bytes, r10 the odd half,
 * r7 / r8 the input pairs. */
#define TM_FC_ROW_R(acc, addr)                                                                     \
    "ldr r9, " addr "\n\t"                                                                         \
    "sxtb16 r10, r9, ror #8\n\t"                                                                   \
    "sxtb16 r9, r9\n\t"                                                                            \
    "smlad " acc ", r9, r7, " acc "\n\t"                                                           \
    "smlad " acc ", r10, r8, " acc "\n\t"
#define TM_FC_GROUP_R                                                                              \
    "ldrd r7, r8, [r4], #8\n\t" TM_FC_ROW_R("r1", "[r5, r11]") TM_FC_ROW_R("r0", "[r5], #4")       \
        TM_FC_ROW_R("r3", "[r6, r11]") TM_FC_ROW_R("r2", "[r6], #4")
/* One output in the output form, accumulator acc: the multiplier (r9) and shift (r10) from
 * their arrays (r7, r8), r - 1 = ~shift (r10), the base (2 zp + 1) << (r - 1) (r11), QADD,
 * SMMLAR, the shift by r as ASR by r - 1 and SSAT's own ASR #1 (floor of floor), and the
 * byte at r12: 13 instructions. A channel without that form branches to its stub 8<n>
 * (after the return; the same test as tm_nn_requant_mm_ok), which skips the byte and sets
 * the fallback flag; the caller then
 * computes those outputs again in C. */
#define TM_FC_OUT_R(acc, n)                                                                        \
    "ldr r9, [r7], #4\n\t"                                                                         \
    "ldr r10, [r8], #4\n\t"                                                                        \
    "cmp r9, #0x40000000\n\t"                                                                      \
    "blt 8" #n "f\n\t"                                                                             \
    "cmn r10, #21\n\t"                                                                             \
    "bcc 8" #n "f\n\t"                                                                             \
    "mvn r10, r10\n\t"                                                                             \
    "lsl r11, r4, r10\n\t"                                                                         \
    "add r11, r11, " acc ", asr #31\n\t"                                                           \
    "qadd " acc ", " acc ", " acc "\n\t"                                                           \
    "smmlar " acc ", " acc ", r9, r11\n\t"                                                         \
    "asr " acc ", " acc ", r10\n\t"                                                                \
    "ssat " acc ", #8, " acc ", asr #1\n\t"                                                                \
    "strb " acc ", [r12]\n\t"                                                                      \
    "9" #n ":\n\t"                                                                                 \
    "add r12, r12, #1\n\t"
#define TM_FC_STUB_R(n) "8" #n ":\n\tmov r11, #1\n\tstr r11, [lr, #48]\n\tb 9" #n "b\n\t"

/* Every four-row pass of one input row, for depth a multiple of 32 (whole iterations of the
 * eight-group loop) and the whole int8 range, as one assembly function with every register
 * its own (r0-r3 the sums, r4 the input, r5 / r6 rows 0 and 2, r7 / r8 the input pairs,
 * r9 / r10 the weights, r11 the row step, r12 the input's end, lr the arguments): per pass
 * the biases, the MAC loop (per 128 multiply-accumulates 8 LDRD, 32 LDR, 64 SXTB16,
 * 64 SMLAD, CMP and BNE), the rows moved on and the four outputs requantized, about 80
 * instructions besides the loop. */
__attribute__((naked, noipa)) static void fc_passes_m4(fc_passes_t *args)
{
    (void)args;
    __asm__ volatile(
        "push {r4-r11, lr}\n\t"
        "mov lr, r0\n\t"
        "ldr r5, [lr, #8]\n\t"
        "ldr r11, [lr, #12]\n\t"
        "add r6, r5, r11, lsl #1\n\t"
        "0:\n\t"
        "ldr r9, [lr, #16]\n\t"
        "ldrd r0, r1, [r9]\n\t"
        "ldrd r2, r3, [r9, #8]\n\t"
        "ldr r10, [lr, #20]\n\t"
        "add r9, r9, r10\n\t"
        "str r9, [lr, #16]\n\t"
        "ldr r4, [lr, #0]\n\t"
        "ldr r12, [lr, #4]\n\t"
        "add r12, r4, r12\n\t"
        "1:\n\t" TM_FC_GROUP_R TM_FC_GROUP_R TM_FC_GROUP_R TM_FC_GROUP_R TM_FC_GROUP_R
            TM_FC_GROUP_R TM_FC_GROUP_R TM_FC_GROUP_R
        "cmp r4, r12\n\t"
        "bne 1b\n\t"
        /* r5 and r6 are one row further on; the next pass starts four rows on. */
        "add r5, r5, r11, lsl #1\n\t"
        "add r5, r5, r11\n\t"
        "add r6, r6, r11, lsl #1\n\t"
        "add r6, r6, r11\n\t"
        "ldr r7, [lr, #24]\n\t"
        "ldr r8, [lr, #28]\n\t"
        "ldr r12, [lr, #32]\n\t"
        "ldr r4, [lr, #40]\n\t" TM_FC_OUT_R("r0", 0) TM_FC_OUT_R("r1", 1) TM_FC_OUT_R("r2", 2)
            TM_FC_OUT_R("r3", 3)
        "str r7, [lr, #24]\n\t"
        "str r8, [lr, #28]\n\t"
        "str r12, [lr, #32]\n\t"
        "ldr r11, [lr, #12]\n\t"
        "ldr r9, [lr, #44]\n\t"
        "subs r9, r9, #1\n\t"
        "str r9, [lr, #44]\n\t"
        "bne 0b\n\t"
        "pop {r4-r11, pc}\n\t" TM_FC_STUB_R(0) TM_FC_STUB_R(1) TM_FC_STUB_R(2) TM_FC_STUB_R(3));
}
#endif

tm_nn_status_t tm_nn_opt_fully_connected_s8(const tm_nn_context_t *ctx,
                                            const tm_nn_fc_params_t *params,
                                            const tm_nn_per_channel_quant_t *quant,
                                            const tm_nn_dims_t *input_dims, const int8_t *input,
                                            const tm_nn_dims_t *filter_dims, const int8_t *filter,
                                            const int32_t *bias, const tm_nn_dims_t *output_dims,
                                            int8_t *output)
{
    int32_t batches = 0;
    const tm_nn_status_t st = tm_nn_check_fc(params, quant, input_dims, input, filter_dims, filter,
                                             output_dims, output, &batches);
    if (st != TM_NN_OK) {
        return st;
    }
    const int32_t depth = filter_dims->c;
    const int32_t out_c = filter_dims->n;
    const int32_t need = tm_nn_opt_fully_connected_s8_get_buffer_size(filter_dims);
    TM_NN_PRECONDITION(need >= 0);
    TM_NN_PRECONDITION_BUFFER(ctx, need);
    TM_NN_PRECONDITION(((uintptr_t)ctx->buf & 3u) == 0);
    int16_t *const x = (int16_t *)ctx->buf;
    for (int32_t b = 0; b < batches; ++b) {
        expand_row(input + (size_t)b * depth, depth, params->input_zero_point, x);
        int8_t *out = output + (size_t)b * out_c;
        int32_t o = 0;
        const int32_t zp = params->output_zero_point;
        const int32_t lo = params->activation.min, hi = params->activation.max;
        out_params_t op = {quant->multiplier, quant->shift, zp, lo, hi,
                           2u * (uint32_t)zp + 1u, lo == -128 && hi == 127};
#if TM_NN_HAVE_DSP && defined(__OPTIMIZE__)
        if (out_c >= 4 && (depth & 31) == 0 && op.full && ((uintptr_t)bias & 3u) == 0) {
            const int32_t n4 = out_c & ~3;
            static const int32_t no_bias[4] = {0, 0, 0, 0};
            fc_passes_t args = {x,        2 * depth,   filter,       depth,
                                bias != NULL ? bias : no_bias,  bias != NULL ? 16 : 0,
                                op.multiplier, op.shift, out, 0, op.zp21, n4 / 4, 0};
            fc_passes_m4(&args);
            if (*(volatile int32_t *)&args.fallback) {
                /* The outputs whose channel lacks the output form (only hand-made
                 * parameters): their bytes were skipped, so their sums again, in C. */
                for (int32_t c = 0; c < n4; ++c) {
                    const int32_t m = op.multiplier[c], sh = op.shift[c];
                    if (tm_nn_requant_mm_ok(m, sh)) {
                        continue;
                    }
                    /* From the input bytes: x holds each group of four in the order
                     * (0, 2, 1, 3). */
                    uint32_t acc = bias != NULL ? (uint32_t)bias[c] : 0u;
                    const int8_t *const w = filter + (size_t)c * depth;
                    const int8_t *const in = input + (size_t)b * depth;
                    for (int32_t i = 0; i < depth; ++i) {
                        acc += (uint32_t)((in[i] - params->input_zero_point) * w[i]);
                    }
                    fc_out_general(tm_nn_s32_from_u32(acc), m, sh, &op, out + c);
                }
            }
            o = n4;
        }
#endif
        for (; o + 4 <= out_c; o += 4, op.multiplier += 4, op.shift += 4) {
            pass_1x4(x, depth, filter + (size_t)o * depth, bias != NULL ? bias + o : NULL, &op,
                     out + o);
        }
        op.multiplier = quant->multiplier + o;
        op.shift = quant->shift + o;
        for (; o < out_c; o += 2) {
            const int pair = o + 1 < out_c;
            /* A lone last row is read twice (step 0) and its second result dropped. */
            acc2_t a = {bias != NULL ? bias[o] : 0, bias != NULL && pair ? bias[o + 1] : 0};
            mac_1x2(x, depth, filter + (size_t)o * depth, pair ? depth : 0, &a);
            fc_out(a.a0, op.multiplier[0], op.shift[0], op.zp21, op.full, &op, out + o);
            if (pair) {
                fc_out(a.a1, op.multiplier[1], op.shift[1], op.zp21, op.full, &op, out + o + 1);
            }
            op.multiplier += 2;
            op.shift += 2;
        }
    }
    return TM_NN_OK;
}
