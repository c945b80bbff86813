/*
 * tm_dsp_fft.h — in-place radix-2 real FFT with a caller-owned twiddle table.
 *
 * An n-point real FFT runs as an n/2-point complex FFT followed by the usual split step.
 * The twiddle table holds cos/sin(2 pi k / n) for k < n/2, computed by this library's own
 * tm_dsp_sincosf so that host and device use identical coefficients.
 *
 * Usage:
 *     float tw[N], buf[N];                     // N a power of two, 2 <= N <= 65536
 *     tm_dsp_rfft_twiddles(N, tw);             // once
 *     ... fill buf with N real samples ...
 *     tm_dsp_rfft(buf, N, tw);                 // buf now holds the packed spectrum
 *     tm_dsp_rfft_power(buf, N);               // buf[0..N/2] = |X[k]|^2
 */
#ifndef TM_DSP_FFT_H
#define TM_DSP_FFT_H

#include <stdint.h>

#include "tm_dsp_status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TM_DSP_FFT_MAX_LENGTH 65536u

/** Number of floats of the twiddle table of an n-point real FFT (= n). */
uint32_t tm_dsp_rfft_twiddle_count(uint32_t n);

/** Fill twiddles[2k] = cos(2 pi k / n), twiddles[2k + 1] = sin(2 pi k / n), k < n/2.
 *  n must be a power of two in [2, TM_DSP_FFT_MAX_LENGTH]. */
tm_dsp_status_t tm_dsp_rfft_twiddles(uint32_t n, float *twiddles);

/** Forward real FFT, X[k] = sum_j x[j] exp(-2 pi i j k / n), unnormalised, in place.
 *  In:  buf[0..n) real samples.
 *  Out: buf[0] = X[0], buf[1] = X[n/2] (both real), buf[2k] + i buf[2k+1] = X[k] for
 *       0 < k < n/2 (the CMSIS-DSP arm_rfft_fast_f32 packing). */
tm_dsp_status_t tm_dsp_rfft(float *buf, uint32_t n, const float *twiddles);

/** Turn a packed spectrum from tm_dsp_rfft into the power |X[k]|^2 for k = 0..n/2,
 *  in place: buf[k] afterwards. */
tm_dsp_status_t tm_dsp_rfft_power(float *buf, uint32_t n);

#ifdef __cplusplus
}
#endif

#endif /* TM_DSP_FFT_H */
