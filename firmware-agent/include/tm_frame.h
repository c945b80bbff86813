/*
 * tm_frame.h — framing of the agent protocol: CRC-32, COBS and a streaming decoder.
 *
 * One C implementation compiled for the device and linked by the host (tinyml_core), so
 * both ends frame bytes identically. Nothing here allocates; the caller owns buffers.
 *
 * Usage (receive):
 *     static uint8_t buf[TM_MAX_ENCODED_FRAME];
 *     tm_frame_decoder_t dec;
 *     tm_frame_decoder_init(&dec, buf, sizeof buf);
 *     for each received byte b:
 *         tm_frame_t f;
 *         if (tm_frame_decoder_push(&dec, b, &f) == TM_FRAME_READY) handle(&f);
 *
 * Usage (send):
 *     uint8_t out[TM_MAX_ENCODED_FRAME];
 *     size_t n = tm_frame_encode(seq, op, payload, len, out, sizeof out);  // 0 on error
 *     uart_write(out, n);
 */
#ifndef TM_FRAME_H
#define TM_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "tm_protocol.h"

#ifdef __cplusplus
extern "C" {
#endif

/** CRC-32 (IEEE 802.3). Pass 0 as crc to start; feed the result back to continue. */
uint32_t tm_crc32(uint32_t crc, const uint8_t *data, size_t len);

/** COBS-encode len bytes of src into dst (no delimiter). Returns bytes written, 0 if
 *  dst_cap is too small. Needs at most len + len/254 + 1 bytes. */
size_t tm_cobs_encode(const uint8_t *src, size_t len, uint8_t *dst, size_t dst_cap);

/** COBS-decode len bytes (without the 0x00 delimiter) of src into dst; dst may equal src.
 *  Returns decoded length, or (size_t)-1 when the input is not valid COBS or dst_cap is
 *  too small. */
size_t tm_cobs_decode(const uint8_t *src, size_t len, uint8_t *dst, size_t dst_cap);

/** Build one wire frame: COBS([seq][op][payload][crc32]) followed by 0x00.
 *  Returns bytes written to out, 0 when payload_len > TM_MAX_PAYLOAD or out is too small. */
size_t tm_frame_encode(uint8_t seq, uint8_t op, const uint8_t *payload, size_t payload_len,
                       uint8_t *out, size_t out_cap);

/** A decoded frame. payload points into the decoder's buffer and is valid until the next
 *  tm_frame_decoder_push() call. */
typedef struct {
    uint8_t seq;
    uint8_t op;
    uint16_t payload_len;
    const uint8_t *payload;
} tm_frame_t;

typedef enum {
    TM_FRAME_NONE = 0,      /* byte consumed, no frame finished */
    TM_FRAME_READY = 1,     /* *out holds a valid frame */
    TM_FRAME_ERR_CRC = 2,   /* a delimited frame failed its CRC; dropped */
    TM_FRAME_ERR_COBS = 3,  /* a delimited frame was not valid COBS; dropped */
    TM_FRAME_ERR_SHORT = 4, /* a delimited frame was shorter than seq + op + crc; dropped */
    TM_FRAME_ERR_OVERFLOW = 5 /* more than a maximal frame without delimiter; bytes dropped
                                 until the next 0x00 */
} tm_frame_status_t;

/** Streaming decoder state. Counters are for link statistics. */
typedef struct {
    uint8_t *buf;
    size_t cap;
    size_t len;
    int overflowed;
    uint32_t frames_ok;
    uint32_t crc_errors;
    uint32_t cobs_errors;
    uint32_t short_frames;
    uint32_t overflows;
} tm_frame_decoder_t;

/** buf must hold at least TM_MAX_ENCODED_FRAME bytes for full-size frames. */
void tm_frame_decoder_init(tm_frame_decoder_t *dec, uint8_t *buf, size_t cap);

/** Push one received byte. Empty frames (0x00 0x00) are ignored silently, so a sender
 *  may prefix every frame with 0x00 to flush line noise. */
tm_frame_status_t tm_frame_decoder_push(tm_frame_decoder_t *dec, uint8_t byte, tm_frame_t *out);

/** Little-endian field helpers used by both ends. */
static inline void tm_put_u16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void tm_put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline uint16_t tm_get_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t tm_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

#ifdef __cplusplus
}
#endif

#endif /* TM_FRAME_H */
