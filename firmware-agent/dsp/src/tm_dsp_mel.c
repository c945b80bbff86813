/*
 * tm_dsp_mel.c — MFE (log mel filterbank energies) and MFCC.
 */
#include "tm_dsp_internal.h"

#define MAX_FILTERS 1024u

static float high_hz_of(const tm_dsp_mfe_params_t *p)
{
    return p->high_hz == 0.0f ? 0.5f * p->sample_rate_hz : p->high_hz;
}

static int mfe_params_valid(const tm_dsp_mfe_params_t *p)
{
    if (p == NULL || p->frame_length < 2 || p->n_samples < p->frame_length ||
        p->frame_stride == 0 || p->n_filters == 0 || p->n_filters > MAX_FILTERS) {
        return 0;
    }
    if (tm_dsp_next_pow2(p->frame_length) == 0) {
        return 0;
    }
    const float fs = p->sample_rate_hz;
    if (!(fs > 0.0f) || !tm_dsp_finite(fs)) {
        return 0;
    }
    const float hi = high_hz_of(p);
    if (!(p->low_hz >= 0.0f && p->low_hz < hi && hi <= 0.5f * fs)) {
        return 0;
    }
    if (!(p->pre_emphasis >= 0.0f && p->pre_emphasis < 1.0f)) {
        return 0;
    }
    return p->log_floor > 0.0f && tm_dsp_finite(p->log_floor);
}

static uint32_t n_frames_of(const tm_dsp_mfe_params_t *p)
{
    return 1u + (p->n_samples - p->frame_length) / p->frame_stride;
}

/* Scratch floats of the MFE part: twiddles, FFT buffer, window, filter corner points. */
static size_t mfe_scratch_floats(const tm_dsp_mfe_params_t *p)
{
    const uint32_t nfft = tm_dsp_next_pow2(p->frame_length);
    return 2u * (size_t)nfft + p->frame_length + (p->n_filters + 2u);
}

size_t tm_dsp_mfe_output_size(const tm_dsp_mfe_params_t *p)
{
    return mfe_params_valid(p) ? (size_t)n_frames_of(p) * p->n_filters : 0;
}

size_t tm_dsp_mfe_get_buffer_size(const tm_dsp_mfe_params_t *p)
{
    return mfe_params_valid(p) ? mfe_scratch_floats(p) * sizeof(float) : 0;
}

static float hz_to_mel(float hz)
{
    return 2595.0f * tm_dsp_log10f(1.0f + hz / 700.0f);
}

static float mel_to_hz(float mel)
{
    /* 10^(mel / 2595) = exp(mel * ln(10) / 2595) */
    return 700.0f * (tm_dsp_expf(mel * (2.30258509f / 2595.0f)) - 1.0f);
}

/* Per-call tables of the MFE part, carved out of the scratch buffer. */
typedef struct {
    uint32_t nfft;
    float *tw;
    float *buf;
    float *win;
    float *hz; /* n_filters + 2 filter corner frequencies */
} mfe_work_t;

static mfe_work_t mfe_setup(const tm_dsp_mfe_params_t *p, float *scratch)
{
    mfe_work_t w;
    w.nfft = tm_dsp_next_pow2(p->frame_length);
    w.tw = scratch;
    w.buf = w.tw + w.nfft;
    w.win = w.buf + w.nfft;
    w.hz = w.win + p->frame_length;
    tm_dsp_rfft_twiddles(w.nfft, w.tw);
    tm_dsp_hann_periodic(w.win, p->frame_length);
    const float hi = high_hz_of(p);
    const float mel_lo = hz_to_mel(p->low_hz);
    const float mel_hi = hz_to_mel(hi);
    const uint32_t last = p->n_filters + 1u;
    w.hz[0] = p->low_hz;
    for (uint32_t j = 1; j < last; ++j) {
        w.hz[j] = mel_to_hz(mel_lo + (mel_hi - mel_lo) * (float)j / (float)last);
    }
    w.hz[last] = hi;
    return w;
}

/* Log mel energies of frame f into out[0 .. n_filters). */
static void mfe_frame(const tm_dsp_mfe_params_t *p, const mfe_work_t *w, const float *in,
                      uint32_t f, float *out)
{
    const uint32_t start = f * p->frame_stride;
    const uint32_t nfft = w->nfft, m = nfft / 2;
    const float a = p->pre_emphasis;
    for (uint32_t t = 0; t < p->frame_length; ++t) {
        const uint32_t i = start + t;
        float x = in[i];
        if (a != 0.0f && i > 0) {
            x = x - a * in[i - 1];
        }
        w->buf[t] = x * w->win[t];
    }
    for (uint32_t t = p->frame_length; t < nfft; ++t) {
        w->buf[t] = 0.0f;
    }
    tm_dsp_rfft(w->buf, nfft, w->tw);
    tm_dsp_rfft_power(w->buf, nfft);
    const float inv_nfft = 1.0f / (float)nfft;
    const float bin_hz = p->sample_rate_hz / (float)nfft;

    for (uint32_t j = 0; j < p->n_filters; ++j) {
        const float fl = w->hz[j], fc = w->hz[j + 1], fr = w->hz[j + 2];
        uint32_t k = (uint32_t)(fl / bin_hz);
        uint32_t k_end = (uint32_t)(fr / bin_hz) + 1u;
        if (k_end > m + 1u) {
            k_end = m + 1u;
        }
        float e = 0.0f;
        for (; k < k_end; ++k) {
            const float fk = (float)k * bin_hz;
            float weight;
            if (fk > fl && fk <= fc) {
                weight = (fk - fl) / (fc - fl);
            } else if (fk > fc && fk < fr) {
                weight = (fr - fk) / (fr - fc);
            } else {
                continue;
            }
            e += weight * (w->buf[k] * inv_nfft);
        }
        out[j] = tm_dsp_logf(e > p->log_floor ? e : p->log_floor);
    }
}

tm_dsp_status_t tm_dsp_mfe(const tm_dsp_mfe_params_t *p, const float *in, float *out,
                           const tm_dsp_buffer_t *scratch)
{
    TM_DSP_PRECONDITION(in != NULL && out != NULL && mfe_params_valid(p));
    TM_DSP_PRECONDITION_BUFFER(scratch, tm_dsp_mfe_get_buffer_size(p));
    const mfe_work_t w = mfe_setup(p, (float *)scratch->buf);
    const uint32_t frames = n_frames_of(p);
    for (uint32_t f = 0; f < frames; ++f) {
        mfe_frame(p, &w, in, f, out + (size_t)f * p->n_filters);
    }
    return TM_DSP_OK;
}

static int mfcc_params_valid(const tm_dsp_mfcc_params_t *p)
{
    return p != NULL && mfe_params_valid(&p->mfe) && p->n_coeffs >= 1 &&
           p->n_coeffs <= p->mfe.n_filters && p->lifter <= 10000u;
}

size_t tm_dsp_mfcc_output_size(const tm_dsp_mfcc_params_t *p)
{
    return mfcc_params_valid(p) ? (size_t)n_frames_of(&p->mfe) * p->n_coeffs : 0;
}

size_t tm_dsp_mfcc_get_buffer_size(const tm_dsp_mfcc_params_t *p)
{
    if (!mfcc_params_valid(p)) {
        return 0;
    }
    /* MFE tables, one row of log energies, the DCT matrix and the lifter weights. */
    const size_t nf = p->mfe.n_filters;
    return (mfe_scratch_floats(&p->mfe) + nf + (size_t)p->n_coeffs * nf + p->n_coeffs) *
           sizeof(float);
}

tm_dsp_status_t tm_dsp_mfcc(const tm_dsp_mfcc_params_t *p, const float *in, float *out,
                            const tm_dsp_buffer_t *scratch)
{
    TM_DSP_PRECONDITION(in != NULL && out != NULL && mfcc_params_valid(p));
    TM_DSP_PRECONDITION_BUFFER(scratch, tm_dsp_mfcc_get_buffer_size(p));
    const uint32_t nf = p->mfe.n_filters, nc = p->n_coeffs;
    float *base = (float *)scratch->buf;
    const mfe_work_t w = mfe_setup(&p->mfe, base);
    float *log_e = base + mfe_scratch_floats(&p->mfe);
    float *dct = log_e + nf;
    float *lift = dct + (size_t)nc * nf;

    /* dct[i][j] = s_i cos(pi i (2j + 1) / (2 nf)); the integer angle is reduced modulo
     * 4 nf (one period) first so the float argument stays below 2 pi. */
    const float s0 = tm_dsp_sqrtf(1.0f / (float)nf);
    const float s1 = tm_dsp_sqrtf(2.0f / (float)nf);
    for (uint32_t i = 0; i < nc; ++i) {
        for (uint32_t j = 0; j < nf; ++j) {
            /* i < 1024 and 2j + 1 < 2048: the product fits in 32 bits. */
            const uint32_t q = (i * (2u * j + 1u)) % (4u * nf);
            const float angle = TM_DSP_PI_F * (float)q / (float)(2u * nf);
            dct[(size_t)i * nf + j] = (i == 0 ? s0 : s1) * tm_dsp_cosf(angle);
        }
        lift[i] = p->lifter == 0
                      ? 1.0f
                      : 1.0f + 0.5f * (float)p->lifter *
                                   tm_dsp_sinf(TM_DSP_PI_F * (float)i / (float)p->lifter);
    }

    const uint32_t frames = n_frames_of(&p->mfe);
    for (uint32_t f = 0; f < frames; ++f) {
        mfe_frame(&p->mfe, &w, in, f, log_e);
        float *o = out + (size_t)f * nc;
        for (uint32_t i = 0; i < nc; ++i) {
            const float *row = dct + (size_t)i * nf;
            float acc = 0.0f;
            for (uint32_t j = 0; j < nf; ++j) {
                acc += row[j] * log_e[j];
            }
            o[i] = acc * lift[i];
        }
    }
    return TM_DSP_OK;
}
