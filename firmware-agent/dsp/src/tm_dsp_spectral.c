/*
 * tm_dsp_spectral.c — per-axis statistics, band powers and spectral peaks (motion).
 */
#include "tm_dsp_internal.h"

static uint32_t fft_length_of(const tm_dsp_spectral_params_t *p)
{
    return tm_dsp_next_pow2(p->n_samples);
}

static int params_valid(const tm_dsp_spectral_params_t *p)
{
    if (p == NULL || p->n_samples < 4 || p->n_axes == 0 || fft_length_of(p) == 0) {
        return 0;
    }
    if (!(p->sample_rate_hz > 0.0f) || !tm_dsp_finite(p->sample_rate_hz)) {
        return 0;
    }
    if (p->n_bands > 4096 || p->n_peaks > 4096) {
        return 0;
    }
    if (p->band_edges_hz != NULL) {
        const float nyquist = 0.5f * p->sample_rate_hz;
        for (uint32_t b = 0; b <= p->n_bands; ++b) {
            const float e = p->band_edges_hz[b];
            if (!(e >= 0.0f && e <= nyquist)) {
                return 0;
            }
            if (b > 0 && !(e > p->band_edges_hz[b - 1])) {
                return 0;
            }
        }
    }
    return 1;
}

size_t tm_dsp_spectral_output_size(const tm_dsp_spectral_params_t *p)
{
    if (!params_valid(p)) {
        return 0;
    }
    return (size_t)p->n_axes * (3u + p->n_bands + 2u * p->n_peaks);
}

size_t tm_dsp_spectral_get_buffer_size(const tm_dsp_spectral_params_t *p)
{
    if (!params_valid(p)) {
        return 0;
    }
    /* twiddles (n), FFT buffer (n), window (n_samples) */
    return (2u * (size_t)fft_length_of(p) + p->n_samples) * sizeof(float);
}

/* Index of the highest local maximum of power[1 .. m-1] ranking after the peak
 * (below, below_bin) — or any, when below_bin is 0; 0 if there is none. O(m) per peak,
 * which is cheaper than sorting for the handful of peaks a feature vector holds. */
static uint32_t next_peak(const float *power, uint32_t m, float below, uint32_t below_bin)
{
    uint32_t best = 0;
    for (uint32_t k = 1; k < m; ++k) {
        const float v = power[k];
        if (!(v > power[k - 1] && v >= power[k + 1])) {
            continue;
        }
        /* Candidates rank strictly after the previous peak: lower power, or the same
         * power at a higher bin. */
        if (below_bin != 0 && !(v < below || (v == below && k > below_bin))) {
            continue;
        }
        if (best == 0 || v > power[best]) {
            best = k;
        }
    }
    return best;
}

tm_dsp_status_t tm_dsp_spectral(const tm_dsp_spectral_params_t *p, const float *in,
                                float *out, const tm_dsp_buffer_t *scratch)
{
    TM_DSP_PRECONDITION(in != NULL && out != NULL && params_valid(p));
    const size_t needed = tm_dsp_spectral_get_buffer_size(p);
    TM_DSP_PRECONDITION_BUFFER(scratch, needed);

    const uint32_t n = p->n_samples, axes = p->n_axes, nfft = fft_length_of(p);
    const uint32_t m = nfft / 2;
    const float fs = p->sample_rate_hz;
    const float bin_hz = fs / (float)nfft;
    float *tw = (float *)scratch->buf;
    float *buf = tw + nfft;
    float *win = buf + nfft;
    tm_dsp_rfft_twiddles(nfft, tw);
    tm_dsp_hann_periodic(win, n);
    float win_energy = 0.0f;
    for (uint32_t t = 0; t < n; ++t) {
        win_energy += win[t] * win[t];
    }
    const float norm = 1.0f / ((float)nfft * win_energy);
    const uint32_t per_axis = 3u + p->n_bands + 2u * p->n_peaks;

    for (uint32_t a = 0; a < axes; ++a) {
        float *o = out + (size_t)a * per_axis;
        float sum = 0.0f, sum_sq = 0.0f;
        for (uint32_t t = 0; t < n; ++t) {
            const float x = in[(size_t)t * axes + a];
            sum += x;
            sum_sq += x * x;
        }
        const float mean = sum / (float)n;
        float var = 0.0f;
        for (uint32_t t = 0; t < n; ++t) {
            const float d = in[(size_t)t * axes + a] - mean;
            buf[t] = d * win[t];
            var += d * d;
        }
        o[0] = tm_dsp_sqrtf(sum_sq / (float)n);
        o[1] = mean;
        o[2] = tm_dsp_sqrtf(var / (float)n);

        for (uint32_t t = n; t < nfft; ++t) {
            buf[t] = 0.0f;
        }
        tm_dsp_rfft(buf, nfft, tw);
        tm_dsp_rfft_power(buf, nfft);
        for (uint32_t k = 0; k <= m; ++k) {
            buf[k] *= (k == 0 || k == m) ? norm : 2.0f * norm;
        }

        float *bands = o + 3;
        for (uint32_t b = 0; b < p->n_bands; ++b) {
            float lo, hi;
            if (p->band_edges_hz != NULL) {
                lo = p->band_edges_hz[b];
                hi = p->band_edges_hz[b + 1];
            } else {
                lo = 0.5f * fs * (float)b / (float)p->n_bands;
                hi = 0.5f * fs * (float)(b + 1) / (float)p->n_bands;
            }
            const int last = b + 1 == p->n_bands;
            float acc = 0.0f;
            for (uint32_t k = 0; k <= m; ++k) {
                const float f = (float)k * bin_hz;
                if (f >= lo && (f < hi || (last && f <= hi))) {
                    acc += buf[k];
                }
            }
            bands[b] = acc;
        }

        float *peaks = bands + p->n_bands;
        float prev_power = 0.0f;
        uint32_t prev_bin = 0;
        for (uint32_t i = 0; i < p->n_peaks; ++i) {
            const uint32_t k = next_peak(buf, m, prev_power, prev_bin);
            if (k == 0) {
                peaks[2 * i] = 0.0f;
                peaks[2 * i + 1] = 0.0f;
                continue;
            }
            prev_power = buf[k];
            prev_bin = k;
            /* Gaussian interpolation: a Hann-windowed sinusoid's main lobe is close to a
             * parabola in log power. Needs all three bins positive. */
            float delta = 0.0f;
            if (buf[k - 1] > 0.0f && buf[k + 1] > 0.0f) {
                const float l0 = tm_dsp_logf(buf[k - 1]);
                const float l1 = tm_dsp_logf(buf[k]);
                const float l2 = tm_dsp_logf(buf[k + 1]);
                const float den = l0 - 2.0f * l1 + l2;
                if (den < 0.0f) {
                    delta = 0.5f * (l0 - l2) / den;
                    if (delta > 0.5f) {
                        delta = 0.5f;
                    } else if (delta < -0.5f) {
                        delta = -0.5f;
                    }
                }
            }
            peaks[2 * i] = ((float)k + delta) * bin_hz;
            peaks[2 * i + 1] = buf[k];
        }
    }
    return TM_DSP_OK;
}
