/*
 * tm_dsp_internal.h — shared by the DSP sources, not installed.
 */
#ifndef TM_DSP_INTERNAL_H
#define TM_DSP_INTERNAL_H

#include <stdint.h>

#include "tm_dsp.h"

/** Return TM_DSP_ARG_ERROR from the calling function when cond is false. Runs once per
 *  call, never per sample. */
#define TM_DSP_PRECONDITION(cond)                                                           \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            return TM_DSP_ARG_ERROR;                                                        \
        }                                                                                   \
    } while (0)

/** Return TM_DSP_BUFFER_ERROR unless scratch holds needed bytes, 4-byte aligned. */
#define TM_DSP_PRECONDITION_BUFFER(scratch, needed)                                         \
    do {                                                                                    \
        if ((needed) > 0 &&                                                                 \
            ((scratch) == NULL || (scratch)->buf == NULL || (scratch)->size < (needed) ||   \
             ((uintptr_t)(scratch)->buf & 3u) != 0)) {                                      \
            return TM_DSP_BUFFER_ERROR;                                                     \
        }                                                                                   \
    } while (0)

/** Smallest power of two >= n, or 0 when above TM_DSP_FFT_MAX_LENGTH. */
static inline uint32_t tm_dsp_next_pow2(uint32_t n)
{
    uint32_t p = 2;
    while (p < n) {
        if (p >= TM_DSP_FFT_MAX_LENGTH) {
            return 0;
        }
        p <<= 1;
    }
    return p;
}

/** True for finite x (false for NaN and +-inf) using comparisons only. */
static inline int tm_dsp_finite(float x)
{
    return x == x && x - x == 0.0f;
}

/** Periodic Hann window of length n: w[t] = 0.5 - 0.5 cos(2 pi t / n). */
void tm_dsp_hann_periodic(float *w, uint32_t n);

#endif /* TM_DSP_INTERNAL_H */
