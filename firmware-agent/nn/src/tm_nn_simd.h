/*
 * tm_nn_simd.h — the Armv7E-M DSP instructions the optimized kernels use, each as a static
 * inline function: inline assembly where the compiler targets the DSP extension
 * (__ARM_FEATURE_DSP: Cortex-M4, M7, M33...), portable C with the same results elsewhere.
 * The host therefore runs the very C code of the optimized kernels, and the host tests
 * compare it with the reference kernels bit for bit; the device runs it with the
 * instructions. Not installed.
 *
 * Packed operands: a uint32_t holding two int16 lanes, lane 0 in bits [15:0].
 */
#ifndef TM_NN_SIMD_H
#define TM_NN_SIMD_H

#include <stdint.h>
#include <string.h>

#include "tm_nn_internal.h"

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#define TM_NN_HAVE_DSP 1
#else
#define TM_NN_HAVE_DSP 0
#endif

/** Lane k (0 or 1) of a packed pair, sign-extended. */
static inline int32_t tm_nn_lane16(uint32_t v, int k)
{
    const uint32_t h = (v >> (16 * k)) & 0xFFFFu;
    return h < 0x8000u ? (int32_t)h : (int32_t)h - 0x10000;
}

static inline uint32_t tm_nn_pack16(int32_t lo, int32_t hi)
{
    return ((uint32_t)lo & 0xFFFFu) | (((uint32_t)hi & 0xFFFFu) << 16);
}

/** Four bytes from any address (Cortex-M4/M7 LDR accepts unaligned addresses). */
static inline uint32_t tm_nn_read_u32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void tm_nn_write_u32(void *p, uint32_t v)
{
    memcpy(p, &v, sizeof v);
}

/** Four consecutive words from *p (4-byte aligned), *p advanced past them: two LDRD with
 *  post-increment on the device. As one asm statement it also keeps the compiler from
 *  hoisting the reads of later iterations, which costs registers the accumulators need.
 *  (Not LDM: its register list is a set ordered by register number, so the compiler's choice
 *  of registers would decide which word lands in which variable.) */
static inline void tm_nn_load4(const int16_t **p, uint32_t *a, uint32_t *b, uint32_t *c,
                               uint32_t *d)
{
#if TM_NN_HAVE_DSP
    const int16_t *q = *p;
    uint32_t r0, r1, r2, r3;
    __asm__ volatile("ldrd %[r0], %[r1], [%[q]], #8\n\tldrd %[r2], %[r3], [%[q]], #8"
                     : [q] "+r"(q), [r0] "=&r"(r0), [r1] "=&r"(r1), [r2] "=&r"(r2), [r3] "=&r"(r3)
                     : "m"(*(const uint32_t(*)[4])q));
    *p = q;
    *a = r0;
    *b = r1;
    *c = r2;
    *d = r3;
#else
    *a = tm_nn_read_u32(*p);
    *b = tm_nn_read_u32(*p + 2);
    *c = tm_nn_read_u32(*p + 4);
    *d = tm_nn_read_u32(*p + 6);
    *p += 8;
#endif
}

/** Two consecutive words from *p (4-byte aligned), *p advanced past them (LDRD with
 *  post-increment on the device, for the same reason as tm_nn_load4). */
static inline void tm_nn_load2(const int16_t **p, uint32_t *a, uint32_t *b)
{
#if TM_NN_HAVE_DSP
    const int16_t *q = *p;
    uint32_t r0, r1;
    __asm__ volatile("ldrd %[r0], %[r1], [%[q]], #8"
                     : [q] "+r"(q), [r0] "=&r"(r0), [r1] "=&r"(r1)
                     : "m"(*(const uint32_t(*)[2])q));
    *p = q;
    *a = r0;
    *b = r1;
#else
    *a = tm_nn_read_u32(*p);
    *b = tm_nn_read_u32(*p + 2);
    *p += 4;
#endif
}

/** SXTB16: bytes 0 and 2 of x, sign-extended to the two int16 lanes. */
static inline uint32_t tm_nn_sxtb16(uint32_t x)
{
#if TM_NN_HAVE_DSP
    uint32_t r;
    __asm__("sxtb16 %0, %1" : "=r"(r) : "r"(x));
    return r;
#else
    return tm_nn_pack16((int8_t)(x & 0xFFu), (int8_t)((x >> 16) & 0xFFu));
#endif
}

/** SXTB16 with ROR #8: bytes 1 and 3 of x, sign-extended to the two int16 lanes. */
static inline uint32_t tm_nn_sxtb16_ror8(uint32_t x)
{
#if TM_NN_HAVE_DSP
    uint32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
#else
    return tm_nn_pack16((int8_t)((x >> 8) & 0xFFu), (int8_t)((x >> 24) & 0xFFu));
#endif
}

/** SSUB16: lane-wise a - b, modulo 2^16 (no saturation; the kernels stay in range). */
static inline uint32_t tm_nn_ssub16(uint32_t a, uint32_t b)
{
#if TM_NN_HAVE_DSP
    uint32_t r;
    __asm__("ssub16 %0, %1, %2" : "=r"(r) : "r"(a), "r"(b) : "cc");
    return r;
#else
    return tm_nn_pack16(tm_nn_lane16(a, 0) - tm_nn_lane16(b, 0),
                        tm_nn_lane16(a, 1) - tm_nn_lane16(b, 1));
#endif
}

/** SMLAD: acc + a.lane0 * b.lane0 + a.lane1 * b.lane1, modulo 2^32 (the Q flag the
 *  instruction may set is never read). */
static inline int32_t tm_nn_smlad(uint32_t a, uint32_t b, int32_t acc)
{
#if TM_NN_HAVE_DSP
    int32_t r;
    __asm__("smlad %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
#else
    const uint32_t p0 = (uint32_t)(tm_nn_lane16(a, 0) * tm_nn_lane16(b, 0));
    const uint32_t p1 = (uint32_t)(tm_nn_lane16(a, 1) * tm_nn_lane16(b, 1));
    return tm_nn_s32_from_u32((uint32_t)acc + p0 + p1);
#endif
}

/** SMUAD: a.lane0 * b.lane0 + a.lane1 * b.lane1, modulo 2^32. */
static inline int32_t tm_nn_smuad(uint32_t a, uint32_t b)
{
#if TM_NN_HAVE_DSP
    int32_t r;
    __asm__("smuad %0, %1, %2" : "=r"(r) : "r"(a), "r"(b) : "cc");
    return r;
#else
    return tm_nn_smlad(a, b, 0);
#endif
}

/** SMLABB: acc + a.lane0 * b.lane0, modulo 2^32. */
static inline int32_t tm_nn_smlabb(uint32_t a, uint32_t b, int32_t acc)
{
#if TM_NN_HAVE_DSP
    int32_t r;
    __asm__("smlabb %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
#else
    return tm_nn_s32_from_u32((uint32_t)acc + (uint32_t)(tm_nn_lane16(a, 0) * tm_nn_lane16(b, 0)));
#endif
}

/** PKHBT: lane 0 of a, lane 0 of b as lane 1. */
static inline uint32_t tm_nn_pkhbt(uint32_t a, uint32_t b)
{
#if TM_NN_HAVE_DSP
    uint32_t r;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(a), "r"(b));
    return r;
#else
    return (a & 0xFFFFu) | (b << 16);
#endif
}

/** PKHTB: lane 1 of b as lane 0, lane 1 of a. */
static inline uint32_t tm_nn_pkhtb(uint32_t a, uint32_t b)
{
#if TM_NN_HAVE_DSP
    uint32_t r;
    __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(r) : "r"(a), "r"(b));
    return r;
#else
    return (a & 0xFFFF0000u) | (b >> 16);
#endif
}

/** Byte-wise signed maximum of four int8 lanes (SSUB8 sets the GE flags, SEL picks). */
static inline uint32_t tm_nn_max_s8x4(uint32_t a, uint32_t b)
{
#if TM_NN_HAVE_DSP
    uint32_t r, t;
    __asm__("ssub8 %1, %2, %3\n\tsel %0, %2, %3" : "=r"(r), "=&r"(t) : "r"(a), "r"(b) : "cc");
    return r;
#else
    uint32_t r = 0;
    for (int k = 0; k < 4; ++k) {
        const int8_t x = (int8_t)((a >> (8 * k)) & 0xFFu), y = (int8_t)((b >> (8 * k)) & 0xFFu);
        r |= (uint32_t)(uint8_t)(x >= y ? x : y) << (8 * k);
    }
    return r;
#endif
}

/** Saturate to int8 (SSAT #8). */
static inline int32_t tm_nn_ssat8(int32_t v)
{
#if TM_NN_HAVE_DSP
    int32_t r;
    __asm__("ssat %0, #8, %1" : "=r"(r) : "r"(v) : "cc");
    return r;
#else
    return v < -128 ? -128 : (v > 127 ? 127 : v);
#endif
}

/** One channel's requantization, decoded once per channel so that the per-output work is a
 *  multiply-accumulate, a shift and a clamp.
 *
 *  Fast form (fast_shift >= 0): multiplier in [0, 2^31) and shift in [-31, -1], which is
 *  every multiplier tm_nn_quantize_multiplier makes for a real scale in (0, 0.5) (its
 *  multipliers are 0 or in [2^30, 2^31)). With r = -shift >= 1 and x the accumulator,
 *  TFLite's RoundingDivideByPOT(SRDHM(x, m), r) is exactly
 *      floor((x m + 2^30 + 2^(30 + r) - [x < 0] 2^31) / 2^(31 + r)),
 *  the high word of that 64-bit sum shifted right by r - 1. Why:
 *  - m != INT32_MIN, so SRDHM never saturates, and its truncating (x m + nudge) / 2^31 is
 *    s = floor((x m + 2^30) / 2^31) for both signs of x m;
 *  - RoundingDivideByPOT(s, r) (remainder > half + [s < 0]) is floor((s + c) / 2^r) with
 *    the integer c = 2^(r-1) - [s < 0], and floor((floor(y) + c) / 2^r) = floor((y + c) / 2^r)
 *    folds the two divisions into one;
 *  - [x < 0] may stand for [s < 0]: with m >= 0 they differ only when x m is in [-2^30, 0),
 *    where s = 0 and both roundings give 0 (the sum stays in [0, 2^(30+r)));
 *  - |x m| < 2^62 and the constants are below 2^62, so the sum fits in int64.
 *  On the device that is two SMLAL into the preloaded rounding constant (round_hi:round_lo
 *  = 2^30 + 2^(30+r); the [x < 0] term as (x >>> 31) * INT32_MIN) and one ASR: 6
 *  instructions instead of about 14.
 *  General form (fast_shift < 0): any other multiplier except INT32_MIN (the kernels send
 *  those to the reference) and shifts > -1, computed as before. */
typedef struct {
    int32_t multiplier;
    int32_t shift;      /* as given, in [-31, 31] */
    int32_t fast_shift; /* r - 1 for the fast form, -1 for the general form */
    uint32_t round_lo;  /* fast form: 2^30 + 2^(30 + r), low and high words */
    int32_t round_hi;
} tm_nn_requant_t;

static inline tm_nn_requant_t tm_nn_requant_make(int32_t multiplier, int32_t shift)
{
    tm_nn_requant_t r;
    r.multiplier = multiplier;
    r.shift = shift;
    if (multiplier >= 0 && shift <= -1 && shift >= -31) {
        /* k = 2^30 + 2^(30 - shift) = 2^30 + 2^(31 + fast_shift), fast_shift in [0, 30], built
         * from 32-bit operations (a 64-bit variable shift is about 8 instructions on M4). */
        const int32_t fs = -shift - 1;
        r.fast_shift = fs;
        r.round_lo = (1u << 30) | (fs == 0 ? 1u << 31 : 0u);
        r.round_hi = (int32_t)((1u << fs) >> 1); /* 2^(fs - 1) for fs >= 1, < 2^30 */
    } else {
        r.fast_shift = -1;
        r.round_lo = 0;
        r.round_hi = 0;
    }
    return r;
}

/** The fast form (q->fast_shift >= 0), see tm_nn_requant_t. */
static inline int32_t tm_nn_requant_fast(int32_t x, const tm_nn_requant_t *q)
{
#if TM_NN_HAVE_DSP
    uint32_t lo = q->round_lo, t;
    int32_t hi = q->round_hi;
    __asm__("lsr %[t], %[x], #31\n\t"
            "smlal %[lo], %[hi], %[t], %[min]\n\t"
            "smlal %[lo], %[hi], %[x], %[m]\n\t"
            "asr %[hi], %[hi], %[s]"
            : [lo] "+&r"(lo), [hi] "+&r"(hi), [t] "=&r"(t)
            : [x] "r"(x), [m] "r"(q->multiplier), [min] "r"(INT32_MIN), [s] "r"(q->fast_shift));
    return hi;
#else
    const int64_t k = (int64_t)q->round_hi * 4294967296LL + (int64_t)q->round_lo;
    const int64_t b = (int64_t)x * q->multiplier + k - (x < 0 ? 2147483648LL : 0);
    return (int32_t)(b >> 32) >> q->fast_shift;
#endif
}

/** Exactly tm_nn_multiply_by_quantized_multiplier(acc, multiplier, shift) for every
 *  multiplier except INT32_MIN (the kernels send those to the reference path):
 *  - SRDHM's (ab + nudge) / 2^31 with truncating division equals floor((ab + 2^30) / 2^31)
 *    for both signs of ab, so one 64-bit add and an arithmetic shift compute it; with
 *    multiplier != INT32_MIN the saturating case cannot occur;
 *  - RoundingDivideByPOT: remainder > threshold, with threshold = half + (x < 0), is
 *    remainder + (x >> 31) > half; with right_shift 0 the mask is 0 and nothing changes. */
static inline int32_t tm_nn_requant_general(int32_t acc, const tm_nn_requant_t *q)
{
    const int32_t left_shift = q->shift > 0 ? q->shift : 0;
    const int32_t right_shift = q->shift > 0 ? 0 : -q->shift;
    const int32_t mask = (int32_t)(((uint32_t)1u << right_shift) - 1u);
    const int32_t x = tm_nn_s32_from_u32((uint32_t)acc << left_shift);
    const int32_t s = (int32_t)(((int64_t)x * q->multiplier + ((int64_t)1 << 30)) >> 31);
    const int32_t rem = (s & mask) + (s >> 31);
    return (s >> right_shift) + (rem > (mask >> 1) ? 1 : 0);
}

static inline int32_t tm_nn_requant(int32_t acc, const tm_nn_requant_t *q)
{
    return q->fast_shift >= 0 ? tm_nn_requant_fast(acc, q) : tm_nn_requant_general(acc, q);
}

/** q's channels 0 .. n-1 decoded into table (in kernel scratch): the per-output work then
 *  reads its channel's entry instead of decoding the shift again. Returns 1 when every
 *  entry has the fast form. */
static inline int tm_nn_requant_table(const tm_nn_per_channel_quant_t *q, int32_t n,
                                      tm_nn_requant_t *table)
{
    int fast = 1;
    for (int32_t c = 0; c < n; ++c) {
        table[c] = tm_nn_requant_make(q->multiplier[c], q->shift[c]);
        fast &= table[c].fast_shift >= 0;
    }
    return fast;
}

/** requant, + output zero point (modulo 2^32 like the reference), clamp to [lo, hi]. */
static inline int8_t tm_nn_requant_s8(int32_t acc, const tm_nn_requant_t *q, int32_t zp, int32_t lo,
                                      int32_t hi)
{
    int32_t v = tm_nn_add_wrap_s32(tm_nn_requant(acc, q), zp);
    v = v < lo ? lo : v;
    return (int8_t)(v > hi ? hi : v);
}

#if TM_NN_HAVE_DSP && defined(__OPTIMIZE__)
/** tm_nn_requant_row for one channel (table_stride 0) in the fast form with r >= 2 and the
 *  whole int8 range, n > 0. With r >= 2 the rounding constant minus [x < 0] 2^31 is
 *  (2^(r-2) - [x < 0]) : (2^30 | (x & 2^31)) as high : low word, built from x in three
 *  instructions without the constant's low word in a register; gcc's version of the C loop
 *  spills two of its values, this one keeps all 12 in registers: 13 instructions per output. */
static inline void tm_nn_requant_plane_dsp(const int32_t *acc, int32_t bias,
                                           const tm_nn_requant_t *q, int32_t n, int32_t zp,
                                           int8_t *out, int32_t out_stride)
{
    const int32_t *const end = acc + n;
    int32_t x, lo, hi;
    __asm__ volatile("1:\n\t"
                     "ldr %[x], [%[p]], #4\n\t"
                     "add %[x], %[x], %[bias]\n\t"
                     "and %[lo], %[x], #0x80000000\n\t"
                     "orr %[lo], %[lo], #0x40000000\n\t"
                     "add %[hi], %[khi], %[x], asr #31\n\t"
                     "smlal %[lo], %[hi], %[x], %[m]\n\t"
                     "asr %[hi], %[hi], %[s]\n\t"
                     "add %[hi], %[hi], %[zp]\n\t"
                     "ssat %[hi], #8, %[hi]\n\t"
                     "strb %[hi], [%[o]]\n\t"
                     "add %[o], %[o], %[st]\n\t"
                     "cmp %[p], %[end]\n\t"
                     "bne 1b"
                     : [p] "+r"(acc), [o] "+r"(out), [x] "=&r"(x), [lo] "=&r"(lo), [hi] "=&r"(hi)
                     : [bias] "r"(bias), [khi] "r"(q->round_hi), [m] "r"(q->multiplier),
                       [s] "r"(q->fast_shift), [zp] "r"(zp), [st] "r"(out_stride), [end] "r"(end)
                     : "cc", "memory");
}
#endif

/** out[c * out_stride] = tm_nn_requant_s8(acc[c] + bias, table[c], ...) for c < n (the bias
 *  added modulo 2^32, like every accumulation); table_stride 1
 *  walks the table with c (a row of channels), 0 keeps entry 0 (a plane of one channel).
 *  fast: every entry the loop reads has the fast form. One tight loop with nothing else
 *  live, so every value stays in a register; the clamp is one SSAT when the activation is
 *  the whole int8 range. */
static inline void tm_nn_requant_row(const int32_t *acc, int32_t bias, const tm_nn_requant_t *table,
                                     int32_t table_stride, int fast, int32_t n, int32_t zp,
                                     int32_t lo, int32_t hi, int8_t *out, int32_t out_stride)
{
    if (fast && lo == -128 && hi == 127) {
#if TM_NN_HAVE_DSP && defined(__OPTIMIZE__)
        if (table_stride == 0 && table->fast_shift >= 1 && n > 0) {
            tm_nn_requant_plane_dsp(acc, bias, table, n, zp, out, out_stride);
            return;
        }
#endif
        for (int32_t c = 0; c < n; ++c, table += table_stride, out += out_stride) {
            const int32_t a = tm_nn_add_wrap_s32(acc[c], bias);
            *out = (int8_t)tm_nn_ssat8(tm_nn_add_wrap_s32(tm_nn_requant_fast(a, table), zp));
        }
    } else if (fast) {
        for (int32_t c = 0; c < n; ++c, table += table_stride, out += out_stride) {
            int32_t v =
                tm_nn_add_wrap_s32(tm_nn_requant_fast(tm_nn_add_wrap_s32(acc[c], bias), table), zp);
            v = v < lo ? lo : v;
            *out = (int8_t)(v > hi ? hi : v);
        }
    } else {
        for (int32_t c = 0; c < n; ++c, table += table_stride, out += out_stride) {
            *out = tm_nn_requant_s8(tm_nn_add_wrap_s32(acc[c], bias), table, zp, lo, hi);
        }
    }
}

/** Output form of one channel's requantization: requantization, + output zero point and the
 *  clamp in one, for a multiplier m in [2^30, 2^31) and a shift in [-21, -1], which is every
 *  multiplier tm_nn_quantize_multiplier makes for a real scale in [2^-22, 0.5). Not exact
 *  before the clamp (so not for the inputs of ADD), exact after any clamp inside int8:
 *  clamp(zp + requant(x)) == clamp(tm_nn_requant_mm(x)). With r = -shift and
 *  base = 2^(r-1) + zp 2^r:
 *      tm_nn_requant_mm(x) = (base - [x < 0] + floor((sat(2x) m + 2^31) / 2^32)) >> r,
 *  sat(2x) being 2x saturated to int32 (QADD): on the device QADD, ADD (with x ASR #31),
 *  SMMLAR and ASR, four instructions besides the clamp (SSAT #8 for the whole int8 range).
 *  Why it is exact, from the fast form's identity (tm_nn_requant_t)
 *      requant(x) = floor((x m + 2^30 + 2^(30+r) - [x < 0] 2^31) / 2^(31+r)):
 *  - for |x| < 2^30, sat(2x) = 2x and floor((2x m + 2^31) / 2^32) = floor((x m + 2^30) / 2^31)
 *    = s; with v = x m + 2^30 - [x < 0] 2^31, floor(v / 2^31) = s - [x < 0], and adding the
 *    multiple 2^(r-1) 2^31 of 2^31 before the outer division by 2^r (floor of floor) gives
 *    requant(x) = floor((s - [x < 0] + 2^(r-1)) / 2^r); zp 2^r inside the floor adds zp;
 *  - for x >= 2^30, sat(2x) = 2^31 - 1 and the result is at least that of x = 2^30 - 1,
 *    whose requant is at least (2^30 - 1) 2^30 / 2^52 - 1/2 > 255 (m >= 2^30, r <= 21): both
 *    forms exceed 127 - zp, so both clamp to the top. For x <= -2^30, sat(2x) = -2^31 = 2 (-2^30)
 *    and both are at most requant(-2^30) <= -256: both clamp to the bottom;
 *  - no overflow: |zp 2^r| <= 2^28, 2^(r-1) <= 2^20 and |floor(...)| <= 2^30, so the high
 *    word fits in int32, and SMMLAR's 64-bit sum stays below 2^63. */
typedef struct {
    int32_t multiplier;
    int32_t base; /* 2^(r-1) + zp 2^r */
    int32_t r;    /* -shift, in [1, 21] */
} tm_nn_requant_mm_t;

/** 1 when (multiplier, shift) has the output form: multiplier in [2^30, 2^31), shift in
 *  [-21, -1] (one unsigned compare: exactly those shifts are >= 2^32 - 21). */
static inline int tm_nn_requant_mm_ok(int32_t multiplier, int32_t shift)
{
    return multiplier >= (1 << 30) && (uint32_t)shift >= (uint32_t)-21;
}

/** 1 and *q filled when (multiplier, shift) has the output form, else 0. */
static inline int tm_nn_requant_mm_make(int32_t multiplier, int32_t shift, int32_t zp,
                                        tm_nn_requant_mm_t *q)
{
    if (!tm_nn_requant_mm_ok(multiplier, shift)) {
        return 0;
    }
    const int32_t r = -shift;
    q->multiplier = multiplier;
    q->r = r;
    q->base = tm_nn_s32_from_u32((1u << (r - 1)) + ((uint32_t)zp << r));
    return 1;
}

/** zp + requant(x) before the clamp, see tm_nn_requant_mm_t (exact only after it). */
static inline int32_t tm_nn_requant_mm(int32_t x, const tm_nn_requant_mm_t *q)
{
#if TM_NN_HAVE_DSP
    int32_t t, k;
    __asm__("qadd %[t], %[x], %[x]\n\t"
            "add %[k], %[b], %[x], asr #31\n\t"
            "smmlar %[t], %[t], %[m], %[k]\n\t"
            "asr %[t], %[t], %[r]"
            : [t] "=&r"(t), [k] "=&r"(k)
            : [x] "r"(x), [b] "r"(q->base), [m] "r"(q->multiplier), [r] "r"(q->r)
            : "cc");
    return t;
#else
    int64_t d = 2 * (int64_t)x;
    d = d > INT32_MAX ? INT32_MAX : (d < INT32_MIN ? INT32_MIN : d);
    const int64_t k = (int64_t)q->base - (x < 0 ? 1 : 0);
    const int64_t sum = k * 4294967296LL + d * q->multiplier + 2147483648LL;
    return (int32_t)(sum >> 32) >> q->r;
#endif
}

/** q's channels 0 .. n-1 in the output form into table; 0 (table partly written) when some
 *  channel does not have it. */
static inline int tm_nn_requant_mm_table(const tm_nn_per_channel_quant_t *q, int32_t n, int32_t zp,
                                         tm_nn_requant_mm_t *table)
{
    for (int32_t c = 0; c < n; ++c) {
        if (!tm_nn_requant_mm_make(q->multiplier[c], q->shift[c], zp, &table[c])) {
            return 0;
        }
    }
    return 1;
}

/** out[c * out_stride] = clamp(tm_nn_requant_mm(acc[c] + bias, table[c * table_stride]), lo, hi)
 *  for c < n, the bias added modulo 2^32. */
static inline void tm_nn_requant_mm_row(const int32_t *acc, int32_t bias,
                                        const tm_nn_requant_mm_t *table, int32_t table_stride,
                                        int32_t n, int32_t lo, int32_t hi, int8_t *out,
                                        int32_t out_stride)
{
    if (lo == -128 && hi == 127) {
        for (int32_t c = 0; c < n; ++c, table += table_stride, out += out_stride) {
            *out = (int8_t)tm_nn_ssat8(tm_nn_requant_mm(tm_nn_add_wrap_s32(acc[c], bias), table));
        }
    } else {
        for (int32_t c = 0; c < n; ++c, table += table_stride, out += out_stride) {
            int32_t v = tm_nn_requant_mm(tm_nn_add_wrap_s32(acc[c], bias), table);
            v = v < lo ? lo : v;
            *out = (int8_t)(v > hi ? hi : v);
        }
    }
}

/** 1 when some channel's multiplier is INT32_MIN (only reachable by hand-made parameters). */
static inline int tm_nn_quant_needs_reference(const tm_nn_per_channel_quant_t *q, int32_t n)
{
    for (int32_t c = 0; c < n; ++c) {
        if (q->multiplier[c] == INT32_MIN) {
            return 1;
        }
    }
    return 0;
}

#endif /* TM_NN_SIMD_H */
