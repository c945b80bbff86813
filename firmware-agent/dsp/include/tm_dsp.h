/*
 * tm_dsp.h — feature blocks of the firmware agent (portable C99, float32).
 *
 * The same code computes features on the device and, linked by the host, for training, so
 * a model sees identical inputs in both places. Blocks are bit-exact between x86-64 gcc and
 * arm-none-eabi-gcc (Cortex-M4F) when built with -ffp-contract=off -fno-math-errno: they
 * call no libm function (see tm_dsp_math.h) and every sum runs in a fixed order.
 *
 * Every block has the same shape of API:
 *     size_t tm_dsp_<block>_output_size(const params *p);       // floats (or bytes) out, 0 = invalid
 *     size_t tm_dsp_<block>_get_buffer_size(const params *p);   // scratch bytes
 *     tm_dsp_status_t tm_dsp_<block>(const params *p, const in_t *in, out_t *out,
 *                                    const tm_dsp_buffer_t *scratch);
 * The caller owns input, output and scratch; nothing allocates. scratch may be NULL when
 * the buffer size is 0.
 *
 * Input windows of sensor data are time-major with axes interleaved:
 *     Format: [N_SAMPLES, N_AXES], float32 (sample t of axis a at in[t * N_AXES + a]).
 *
 * Usage (MFCC of one second of 16 kHz audio):
 *     tm_dsp_mfcc_params_t p = {0};
 *     p.mfe.n_samples = 16000; p.mfe.sample_rate_hz = 16000.0f;
 *     p.mfe.frame_length = 400; p.mfe.frame_stride = 160; p.mfe.n_filters = 40;
 *     p.mfe.low_hz = 20.0f; p.mfe.high_hz = 0.0f;    // 0 = Nyquist
 *     p.mfe.pre_emphasis = 0.97f; p.mfe.log_floor = 1e-10f;
 *     p.n_coeffs = 13; p.lifter = 22;
 *     static float scratch[...];  // >= tm_dsp_mfcc_get_buffer_size(&p) bytes
 *     tm_dsp_buffer_t buf = { scratch, sizeof scratch };
 *     float out[...];             // tm_dsp_mfcc_output_size(&p) floats = 98 x 13
 *     if (tm_dsp_mfcc(&p, audio, out, &buf) != TM_DSP_OK) { ... }
 */
#ifndef TM_DSP_H
#define TM_DSP_H

#include <stddef.h>
#include <stdint.h>

#include "tm_dsp_fft.h"
#include "tm_dsp_math.h"
#include "tm_dsp_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------
 * raw: the window itself, optionally normalised
 * ------------------------------------------------------------------------------------- */

typedef struct {
    uint32_t n_samples;   /**< >= 1 */
    uint32_t n_axes;      /**< >= 1 */
    float scale;          /**< multiplies every value after mean removal */
    int remove_mean;      /**< non-zero: subtract each axis' mean first */
} tm_dsp_raw_params_t;

/** n_samples * n_axes. */
size_t tm_dsp_raw_output_size(const tm_dsp_raw_params_t *p);
/** 0: the block needs no scratch. */
size_t tm_dsp_raw_get_buffer_size(const tm_dsp_raw_params_t *p);
/** out[t, a] = (in[t, a] - mean_a) * scale, mean_a = 0 unless remove_mean.
 *  In and out: Format [N_SAMPLES, N_AXES], float32; out may equal in. */
tm_dsp_status_t tm_dsp_raw(const tm_dsp_raw_params_t *p, const float *in, float *out,
                           const tm_dsp_buffer_t *scratch);

/* ---------------------------------------------------------------------------------------
 * spectral: per-axis statistics and spectrum features (motion)
 * ------------------------------------------------------------------------------------- */

typedef struct {
    uint32_t n_samples;          /**< window length, >= 4 */
    uint32_t n_axes;             /**< >= 1 */
    float sample_rate_hz;        /**< > 0 */
    uint32_t n_bands;            /**< band powers per axis, may be 0 */
    /** n_bands + 1 ascending edges in Hz within [0, fs/2]; band b is [e_b, e_b+1) (the last
     *  includes fs/2). NULL: n_bands equal-width bands from 0 to fs/2. */
    const float *band_edges_hz;
    uint32_t n_peaks;            /**< spectral peaks reported per axis, may be 0 */
} tm_dsp_spectral_params_t;

/** Features per axis = 3 + n_bands + 2 * n_peaks; returns n_axes times that. */
size_t tm_dsp_spectral_output_size(const tm_dsp_spectral_params_t *p);
/** Scratch bytes: FFT buffer and twiddles (2 * fft_length floats) and the window. */
size_t tm_dsp_spectral_get_buffer_size(const tm_dsp_spectral_params_t *p);
/** Per axis a, writes at out[a * per_axis]:
 *    rms = sqrt(mean(x^2)), mean, std = sqrt(mean((x - mean)^2)),
 *    band_power[n_bands], then n_peaks pairs (frequency_hz, power).
 *  The spectrum: mean removed, periodic Hann window w (w[t] = 0.5 - 0.5 cos(2 pi t / N)),
 *  zero-padded to fft_length = the next power of two >= n_samples, one-sided power
 *  P[k] = c_k |X[k]|^2 / (fft_length * sum_t w[t]^2) with c_k = 2 for 0 < k < fft_length/2
 *  and 1 otherwise. So a sine of amplitude A gives total power about A^2 / 2.
 *  band_power[b] = sum of P[k] over bins whose frequency k fs / fft_length lies in band b.
 *  Peaks are local maxima of P over 0 < k < fft_length/2 (P[k] > P[k-1], P[k] >= P[k+1]),
 *  highest first, ties to the lower frequency; frequency refined by Gaussian (log-parabolic)
 *  interpolation over the three bins; power is P at the peak bin. Missing peaks are (0, 0).
 *  In: Format [N_SAMPLES, N_AXES], float32. Out: Format [N_AXES, per_axis], float32. */
tm_dsp_status_t tm_dsp_spectral(const tm_dsp_spectral_params_t *p, const float *in,
                                float *out, const tm_dsp_buffer_t *scratch);

/* ---------------------------------------------------------------------------------------
 * MFE (log mel filterbank energies) and MFCC (audio, one axis)
 * ------------------------------------------------------------------------------------- */

typedef struct {
    uint32_t n_samples;      /**< signal length, >= frame_length */
    float sample_rate_hz;    /**< > 0 */
    uint32_t frame_length;   /**< samples per frame, >= 2; fft_length = next power of two */
    uint32_t frame_stride;   /**< samples between frame starts, >= 1 */
    uint32_t n_filters;      /**< mel filters, >= 1 */
    float low_hz;            /**< lower edge of the first filter, >= 0 */
    float high_hz;           /**< upper edge of the last filter, <= fs/2; 0 means fs/2 */
    float pre_emphasis;      /**< y[t] = x[t] - a x[t-1] over the whole signal; 0 = off */
    float log_floor;         /**< energies are clamped to >= log_floor before ln, > 0 */
} tm_dsp_mfe_params_t;

/** n_frames * n_filters with n_frames = 1 + (n_samples - frame_length) / frame_stride. */
size_t tm_dsp_mfe_output_size(const tm_dsp_mfe_params_t *p);
size_t tm_dsp_mfe_get_buffer_size(const tm_dsp_mfe_params_t *p);
/** Log mel filterbank energies. Per frame: pre-emphasis (the first sample of the signal
 *  is kept as is), periodic Hann window, zero padding to fft_length, power spectrum
 *  P[k] = |X[k]|^2 / fft_length, then n_filters triangular filters whose corner points
 *  are equally spaced on the HTK mel scale mel(f) = 2595 log10(1 + f / 700) between low_hz
 *  and high_hz; filter j rises from point j to j+1 and falls to j+2, weighted at the bin
 *  frequencies k fs / fft_length (no normalisation to unit area). out = ln(max(E, floor)).
 *  In: Format [N_SAMPLES], float32. Out: Format [N_FRAMES, N_FILTERS], float32. */
tm_dsp_status_t tm_dsp_mfe(const tm_dsp_mfe_params_t *p, const float *in, float *out,
                           const tm_dsp_buffer_t *scratch);

typedef struct {
    tm_dsp_mfe_params_t mfe;
    uint32_t n_coeffs;   /**< cepstral coefficients kept, 1 <= n_coeffs <= n_filters */
    uint32_t lifter;     /**< L: c_i *= 1 + (L / 2) sin(pi i / L); 0 = no liftering */
} tm_dsp_mfcc_params_t;

/** n_frames * n_coeffs. */
size_t tm_dsp_mfcc_output_size(const tm_dsp_mfcc_params_t *p);
size_t tm_dsp_mfcc_get_buffer_size(const tm_dsp_mfcc_params_t *p);
/** MFE rows, then the orthonormal DCT-II over the n_filters log energies
 *  c_i = s_i sum_j e_j cos(pi i (2j + 1) / (2 n_filters)), s_0 = sqrt(1/n_filters),
 *  s_i = sqrt(2/n_filters), keeping i < n_coeffs, then optional liftering.
 *  In: Format [N_SAMPLES], float32. Out: Format [N_FRAMES, N_COEFFS], float32. */
tm_dsp_status_t tm_dsp_mfcc(const tm_dsp_mfcc_params_t *p, const float *in, float *out,
                            const tm_dsp_buffer_t *scratch);

/* ---------------------------------------------------------------------------------------
 * image: resize, colour conversion and scaling (camera frames)
 * ------------------------------------------------------------------------------------- */

typedef enum {
    TM_DSP_RESIZE_NEAREST = 0,
    TM_DSP_RESIZE_BILINEAR = 1,
} tm_dsp_resize_t;

typedef struct {
    uint32_t in_width, in_height;    /**< >= 1 */
    uint32_t in_channels;            /**< 1 (grey) or 3 (RGB) */
    uint32_t out_width, out_height;  /**< >= 1 */
    uint32_t out_channels;           /**< 1 or 3; 3 -> 1 converts to grey, 1 -> 3 replicates */
    tm_dsp_resize_t resize;
} tm_dsp_image_params_t;

/** out_height * out_width * out_channels. */
size_t tm_dsp_image_output_size(const tm_dsp_image_params_t *p);
/** 0: the block needs no scratch. */
size_t tm_dsp_image_get_buffer_size(const tm_dsp_image_params_t *p);
/** Resize with pixel centres aligned (source coordinate (d + 0.5) * in / out - 0.5):
 *  nearest picks source index floor((2d + 1) * in / (2 out)) in integer arithmetic;
 *  bilinear interpolates the two neighbours per axis, clamping at the borders.
 *  Grey = 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601 luma), computed after resizing.
 *  Output value v in [0, 255] is written as v / 255 (float [0, 1]).
 *  In: Format [H_IN, W_IN, C_IN], uint8. Out: Format [H_OUT, W_OUT, C_OUT], float32. */
tm_dsp_status_t tm_dsp_image(const tm_dsp_image_params_t *p, const uint8_t *in, float *out,
                             const tm_dsp_buffer_t *scratch);
/** As tm_dsp_image, written as int8 round_half_up(v) - 128, i.e. quantized with scale
 *  1/255 and zero point -128 (what int8 image models expect).
 *  Out: Format [H_OUT, W_OUT, C_OUT], int8. */
tm_dsp_status_t tm_dsp_image_s8(const tm_dsp_image_params_t *p, const uint8_t *in,
                                int8_t *out, const tm_dsp_buffer_t *scratch);

#ifdef __cplusplus
}
#endif

#endif /* TM_DSP_H */
