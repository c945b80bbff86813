/*
 * tm_dsp_math.c — deterministic float32 sin, cos, exp, log, sqrt (see tm_dsp_math.h).
 */
#include <stdint.h>
#include <string.h>

#include "tm_dsp_math.h"

#if !defined(__GNUC__) && !defined(__clang__)
#include <math.h>
#endif

static uint32_t float_bits(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static float bits_float(uint32_t u)
{
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

static float nan_f(void)
{
    return bits_float(0x7fc00000u);
}

static float inf_f(void)
{
    return bits_float(0x7f800000u);
}

/* Round to nearest integer, ties away from zero; |x| < 2^31. */
static int32_t round_to_i32(float x)
{
    return (int32_t)(x < 0.0f ? x - 0.5f : x + 0.5f);
}

/* Minimax polynomials on [-pi/4, pi/4] (Cephes sinf/cosf coefficients). */
static float sin_poly(float r)
{
    const float z = r * r;
    return r + r * z * ((-1.9515295891e-4f * z + 8.3321608736e-3f) * z - 1.6666654611e-1f);
}

static float cos_poly(float r)
{
    const float z = r * r;
    return 1.0f - 0.5f * z +
           z * z * ((2.443315711809948e-5f * z - 1.388731625493765e-3f) * z +
                    4.166664568298827e-2f);
}

void tm_dsp_sincosf(float x, float *sin_out, float *cos_out)
{
    /* !(a <= b) is also true for NaN. */
    if (!(x <= 1.0e6f && x >= -1.0e6f)) {
        *sin_out = nan_f();
        *cos_out = nan_f();
        return;
    }
    int32_t k;
    float r;
    if (x <= 6000.0f && x >= -6000.0f) {
        k = round_to_i32(x * 0.636619772f);
        const float kf = (float)k;
        /* pi/2 in three parts with 8, 11 and 24 significant bits: kf * PIO2_1 and
         * kf * PIO2_2 are exact for |k| < 2^12 (|x| < 6400), so nothing is lost here. */
        r = ((x - kf * 1.5703125f) - kf * 4.837512969970703125e-4f) - kf * 7.549790126404332e-8f;
    } else {
        /* Larger arguments: the same idea in double (software double on the M4F, which is
         * IEEE-exact too): 33 + 20 significant bits keep k * PIO2_1 exact for k < 2^20. */
        const double xd = (double)x;
        const double kd = xd * 0.63661977236758134308;
        k = (int32_t)(kd < 0.0 ? kd - 0.5 : kd + 0.5);
        r = (float)((xd - (double)k * 1.57079632673412561417e+00) -
                    (double)k * 6.07710050650619224932e-11);
    }
    const float s = sin_poly(r);
    const float c = cos_poly(r);
    switch ((uint32_t)k & 3u) {
    case 0:
        *sin_out = s;
        *cos_out = c;
        break;
    case 1:
        *sin_out = c;
        *cos_out = -s;
        break;
    case 2:
        *sin_out = -s;
        *cos_out = -c;
        break;
    default:
        *sin_out = -c;
        *cos_out = s;
        break;
    }
}

float tm_dsp_sinf(float x)
{
    float s, c;
    tm_dsp_sincosf(x, &s, &c);
    return s;
}

float tm_dsp_cosf(float x)
{
    float s, c;
    tm_dsp_sincosf(x, &s, &c);
    return c;
}

float tm_dsp_expf(float x)
{
    if (x != x) {
        return x;
    }
    if (x > 88.7228394f) {
        return inf_f();
    }
    if (x < -87.0f) {
        /* Keep out of the subnormal range, where an FPU in flush-to-zero mode would differ. */
        return 0.0f;
    }
    const int32_t k = round_to_i32(x * 1.44269504f);
    const float kf = (float)k;
    /* ln2 in two parts; kf * LN2_HI is exact for |k| < 2^12. */
    const float r = (x - kf * 0.693115234375f) - kf * 3.19461833e-05f;
    /* exp(r), |r| <= 0.35: degree-7 Taylor, truncation < 6e-9 relative. */
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    /* 2^k built from exponent bits; k = 128 does not fit, so scale by 2^(k-1) then 2. */
    if (k > 127) {
        return p * bits_float((uint32_t)(k - 1 + 127) << 23) * 2.0f;
    }
    return p * bits_float((uint32_t)(k + 127) << 23);
}

float tm_dsp_logf(float x)
{
    uint32_t u = float_bits(x);
    if (x != x || x < 0.0f) {
        return nan_f();
    }
    if (x == 0.0f) {
        return -inf_f();
    }
    if (u == 0x7f800000u) {
        return x;
    }
    int32_t e = 0;
    if (u < 0x00800000u) {
        /* Subnormal: scale into the normal range first (exact). */
        x *= 8388608.0f; /* 2^23 */
        u = float_bits(x);
        e = -23;
    }
    e += (int32_t)(u >> 23) - 127;
    /* Mantissa m in [1, 2); fold to [sqrt(1/2), sqrt(2)) so that |f| <= 0.415. */
    float m = bits_float((u & 0x007fffffu) | 0x3f800000u);
    if (m > 1.41421356f) {
        m *= 0.5f;
        e += 1;
    }
    const float f = m - 1.0f; /* exact (Sterbenz) */
    /* ln(m) = 2 atanh(s), s = f / (2 + f), |s| <= 0.172: series to s^9, truncation
     * 2 s^11 / 11 < 7e-10. */
    const float s = f / (2.0f + f);
    const float z = s * s;
    const float t = z * (0.333333333f + z * (0.2f + z * (0.142857143f + z * 0.111111111f)));
    /* 2s (1 + t) rewritten with 2s = f - s f, so the large term f enters exactly. */
    const float log_m = f - s * (f - 2.0f * t);
    const float ef = (float)e;
    return ef * 0.693115234375f + (log_m + ef * 3.19461833e-05f);
}

float tm_dsp_log10f(float x)
{
    return tm_dsp_logf(x) * 0.434294482f;
}

float tm_dsp_sqrtf(float x)
{
#if defined(__GNUC__) || defined(__clang__)
    return __builtin_sqrtf(x);
#else
    /* Any conforming sqrtf is correctly rounded as well (declared in <math.h>). */
    return sqrtf(x);
#endif
}
