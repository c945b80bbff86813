/*
 * tm_dsp_fft.c — radix-2 real FFT: an n/2-point complex FFT plus the split step.
 */
#include "tm_dsp_internal.h"

static int is_valid_length(uint32_t n)
{
    return n >= 2 && n <= TM_DSP_FFT_MAX_LENGTH && (n & (n - 1)) == 0;
}

uint32_t tm_dsp_rfft_twiddle_count(uint32_t n)
{
    return is_valid_length(n) ? n : 0;
}

tm_dsp_status_t tm_dsp_rfft_twiddles(uint32_t n, float *twiddles)
{
    TM_DSP_PRECONDITION(twiddles != NULL && is_valid_length(n));
    const float step = 2.0f * TM_DSP_PI_F / (float)n;
    for (uint32_t k = 0; k < n / 2; ++k) {
        tm_dsp_sincosf((float)k * step, &twiddles[2 * k + 1], &twiddles[2 * k]);
    }
    return TM_DSP_OK;
}

void tm_dsp_hann_periodic(float *w, uint32_t n)
{
    const float step = 2.0f * TM_DSP_PI_F / (float)n;
    for (uint32_t t = 0; t < n; ++t) {
        w[t] = 0.5f - 0.5f * tm_dsp_cosf((float)t * step);
    }
}

/* In-place complex FFT of m points stored re, im interleaved; twiddle W_m^j is entry
 * j * (n / len) of the n-point table, since W_len^j = W_n^(j n / len). */
static void complex_fft(float *z, uint32_t m, uint32_t n, const float *tw)
{
    /* Bit-reversal permutation. */
    for (uint32_t i = 1, j = 0; i < m; ++i) {
        uint32_t bit = m >> 1;
        for (; j & bit; bit >>= 1) {
            j ^= bit;
        }
        j ^= bit;
        if (i < j) {
            float t = z[2 * i];
            z[2 * i] = z[2 * j];
            z[2 * j] = t;
            t = z[2 * i + 1];
            z[2 * i + 1] = z[2 * j + 1];
            z[2 * j + 1] = t;
        }
    }
    for (uint32_t len = 2; len <= m; len <<= 1) {
        const uint32_t half = len >> 1;
        const uint32_t stride = n / len;
        for (uint32_t i = 0; i < m; i += len) {
            for (uint32_t j = 0; j < half; ++j) {
                const float c = tw[2 * (j * stride)];
                const float s = tw[2 * (j * stride) + 1];
                float *u = &z[2 * (i + j)];
                float *v = &z[2 * (i + j + half)];
                /* v * (c - i s) */
                const float vr = v[0] * c + v[1] * s;
                const float vi = v[1] * c - v[0] * s;
                v[0] = u[0] - vr;
                v[1] = u[1] - vi;
                u[0] = u[0] + vr;
                u[1] = u[1] + vi;
            }
        }
    }
}

tm_dsp_status_t tm_dsp_rfft(float *buf, uint32_t n, const float *twiddles)
{
    TM_DSP_PRECONDITION(buf != NULL && twiddles != NULL && is_valid_length(n));
    const uint32_t m = n / 2;
    /* The even samples are the real parts and the odd ones the imaginary parts of an
     * m-point complex signal z; Z = E + i O where E, O are the DFTs of the even and odd
     * samples, so E[k] = (Z[k] + conj Z[m-k]) / 2 and O[k] = (Z[k] - conj Z[m-k]) / 2i. */
    complex_fft(buf, m, n, twiddles);

    const float z0r = buf[0], z0i = buf[1];
    buf[0] = z0r + z0i; /* X[0] */
    buf[1] = z0r - z0i; /* X[m] */
    for (uint32_t k = 1; k <= m / 2; ++k) {
        const uint32_t mk = m - k;
        const float ar = buf[2 * k], ai = buf[2 * k + 1];
        const float br = buf[2 * mk], bi = -buf[2 * mk + 1]; /* conj Z[m-k] */
        const float er = 0.5f * (ar + br), ei = 0.5f * (ai + bi);
        /* O = (a - b) / 2i = (ai - bi) / 2 - i (ar - br) / 2 */
        const float or_ = 0.5f * (ai - bi), oi = -0.5f * (ar - br);
        const float c = twiddles[2 * k], s = twiddles[2 * k + 1];
        /* W^k O with W^k = c - i s */
        const float wr = or_ * c + oi * s;
        const float wi = oi * c - or_ * s;
        /* X[k] = E + W O; X[m-k] = conj(E - W O) */
        buf[2 * k] = er + wr;
        buf[2 * k + 1] = ei + wi;
        if (mk != k) {
            buf[2 * mk] = er - wr;
            buf[2 * mk + 1] = wi - ei;
        }
    }
    return TM_DSP_OK;
}

tm_dsp_status_t tm_dsp_rfft_power(float *buf, uint32_t n)
{
    TM_DSP_PRECONDITION(buf != NULL && is_valid_length(n));
    const uint32_t m = n / 2;
    const float x0 = buf[0], xm = buf[1];
    buf[0] = x0 * x0;
    /* P[k] goes to index k, read from 2k and 2k+1: index k held X[k/2] (or X[m] for
     * k = 1), which is already consumed, so increasing k is safe in place. */
    for (uint32_t k = 1; k < m; ++k) {
        const float re = buf[2 * k], im = buf[2 * k + 1];
        buf[k] = re * re + im * im;
    }
    buf[m] = xm * xm;
    return TM_DSP_OK;
}
