/*
 * tm_dsp_status.h — the result type of every DSP function, and its scratch buffer.
 */
#ifndef TM_DSP_STATUS_H
#define TM_DSP_STATUS_H

#include <stddef.h>

/** Append-only: values may be reported over the agent protocol. */
typedef enum {
    TM_DSP_OK = 0,
    TM_DSP_ARG_ERROR = 1,     /**< null pointer, inconsistent size or parameter out of range */
    TM_DSP_BUFFER_ERROR = 2,  /**< scratch missing, misaligned or smaller than needed */
} tm_dsp_status_t;

/** Caller-owned scratch memory: buf 4-byte aligned, size in bytes. */
typedef struct {
    void *buf;
    size_t size;
} tm_dsp_buffer_t;

#endif /* TM_DSP_STATUS_H */
