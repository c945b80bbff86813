/*
 * tm_dsp_math.h — deterministic float32 elementary functions for the DSP blocks.
 *
 * glibc and newlib disagree in the last bit of sinf/cosf/expf/logf, so features computed
 * with libm on the host and on the device would not compare bit for bit. These functions
 * use only IEEE-754 basic operations (+, -, *, /, integer<->float conversion, bit moves),
 * which x86-64 SSE and the Cortex-M4F FPU both round correctly. Build every file that uses
 * them with -ffp-contract=off: a fused multiply-add on one target and not the other would
 * change the bits (the M4F has VFMA).
 *
 * Accuracy (measured against double-precision libm by tests/firmware-agent/dsp):
 *   tm_dsp_sinf, tm_dsp_cosf  |x| <= 1e6: absolute error <= 1.2e-7 (reduction by k*pi/2
 *                             in float up to |x| = 6000, in double beyond, exact in both);
 *                             |x| > 1e6 or non-finite: NaN.
 *   tm_dsp_expf               relative error <= 1.5e-7 for x in [-87, 88.7];
 *                             x < -87: 0 (never returns subnormals); x > 88.72: +inf.
 *   tm_dsp_logf               absolute error <= 6e-8 for x in [0.5, 2], relative <= 1.2e-7
 *                             elsewhere (subnormals included); x = 0: -inf; x < 0 or NaN:
 *                             NaN; +inf: +inf.
 *   tm_dsp_log10f             logf(x) * (1 / ln 10): relative error <= 2e-7 (absolute for
 *                             |result| < 1).
 *   tm_dsp_sqrtf              exact (correctly rounded IEEE square root).
 *
 * Usage:
 *     float s, c;
 *     tm_dsp_sincosf(2.0f * TM_DSP_PI_F * k / n, &s, &c);
 */
#ifndef TM_DSP_MATH_H
#define TM_DSP_MATH_H

#ifdef __cplusplus
extern "C" {
#endif

#define TM_DSP_PI_F 3.14159265358979323846f

float tm_dsp_sinf(float x);
float tm_dsp_cosf(float x);
/** sin and cos of the same argument with one range reduction. */
void tm_dsp_sincosf(float x, float *sin_out, float *cos_out);
float tm_dsp_expf(float x);
float tm_dsp_logf(float x);
float tm_dsp_log10f(float x);
/** IEEE-754 requires the square root to be correctly rounded, so the hardware VSQRT.F32
 *  of the M4F, SSE sqrtss and every conforming libm sqrtf return the same bits; this is
 *  __builtin_sqrtf (build with -fno-math-errno so no errno-setting libm call remains). */
float tm_dsp_sqrtf(float x);

#ifdef __cplusplus
}
#endif

#endif /* TM_DSP_MATH_H */
