/*
 * bitexact_probe.h — FNV-1a hashes of every DSP block's and every int8 kernel's output on
 * fixed pseudo-random inputs. The same C runs on the host (test_dsp_bitexact) and on the
 * virtual boards (bitexact-probe.elf, main in bitexact_probe_mps2.c), so a hash mismatch
 * pinpoints the block that lost host/device agreement.
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
    /* Appended later: the entries above keep their inputs and their recorded hashes. */
    BITEXACT_IMAGE_S8,
    BITEXACT_CONV_STRIDED,   /* stride 2, dilation 2, bias (INT32 extremes), ReLU */
    BITEXACT_DEPTHWISE,
    BITEXACT_FULLY_CONNECTED,
    BITEXACT_MAX_POOL,
    BITEXACT_AVG_POOL,
    BITEXACT_ADD,
    /* Shapes that take the optimized kernels' fast paths (the Cortex-M builds run those). */
    BITEXACT_CONV_1X1,       /* odd channel counts */
    BITEXACT_CONV_KWS,       /* one input channel, 10x4 filter, stride 2, SAME padding */
    BITEXACT_DEPTHWISE_3X3,  /* depth multiplier 1, stride 1, padding 1 */
    BITEXACT_DEPTHWISE_3X3_S2,
    BITEXACT_FC_ODD,         /* depth and outputs not multiples of 4 */
    BITEXACT_MAX_POOL_ODD,   /* 11 channels, clamped */
    BITEXACT_DEPTHWISE_3X3_RELU, /* stride 1, whole int8 range (the two-output and requantization loops), even width */
    BITEXACT_DEPTHWISE_3X3_WIDE, /* stride 1, 5 channels (4 + 1 planes), 27 columns (pitch 32) */
    BITEXACT_FC_PASSES,      /* depth 128: the four-row passes in one assembly function, two channels in the general form */
    BITEXACT_FC_PASSES_NOBIAS, /* the same without biases */
    /* conv2d's padded-input path (input channels not a multiple of 4). */
    BITEXACT_CONV_MOTION,        /* 1x125x3, 1x5 filter, 16 outputs, SAME padding, ReLU */
    BITEXACT_CONV_FIRST_CLAMPED, /* batch 2, 3 channels, 3x3 stride 2, SAME, 7 outputs, clamped */
    BITEXACT_CONV_C2_NOBIAS,     /* 2 channels, 2x3 stride (1, 2), 9 pixels, 5 outputs, no bias */
    BITEXACT_COUNT
};

/** Fills hashes[BITEXACT_COUNT]; returns 0, or -1 when a block reported an error. */
int bitexact_probe(uint32_t hashes[BITEXACT_COUNT]);

/** Short lower-case name of entry i ("mfcc", "depthwise", ...); NULL when out of range.
 *  The device prints hashes under these names. */
const char *bitexact_probe_name(int i);

#ifdef __cplusplus
}
#endif

#endif /* BITEXACT_PROBE_H */
