/*
 * bitexact_probe.h — FNV-1a hashes of every DSP block's and a few int8 kernels' output on
 * fixed pseudo-random inputs. The same C runs on the host (test_dsp_bitexact) and on the
 * virtual board, so a hash mismatch pinpoints the block that lost host/device agreement.
 */
#ifndef BITEXACT_PROBE_H
#define BITEXACT_PROBE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    BITEXACT_MATH = 0,
    BITEXACT_RAW,
    BITEXACT_SPECTRAL,
    BITEXACT_MFE,
    BITEXACT_MFCC,
    BITEXACT_IMAGE,
    BITEXACT_CONV,
    BITEXACT_SOFTMAX,
    BITEXACT_COUNT
};

/** Fills hashes[BITEXACT_COUNT]; returns 0, or -1 when a block reported an error. */
int bitexact_probe(uint32_t hashes[BITEXACT_COUNT]);

#ifdef __cplusplus
}
#endif

#endif /* BITEXACT_PROBE_H */
