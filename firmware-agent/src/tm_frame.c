#include "tm_frame.h"

#include <string.h>

/* Nibble-wise table: 16 words instead of 256 keeps flash small on the device while
 * staying fast enough for UART rates. */
static const uint32_t crc_nibble[16] = {
    0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u,
    0x4DB26158u, 0x5005713Cu, 0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
    0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu};

uint32_t tm_crc32(uint32_t crc, const uint8_t *data, size_t len)
{
    crc = ~crc;
    for (size_t i = 0; i < len; ++i) {
        crc ^= data[i];
        crc = (crc >> 4) ^ crc_nibble[crc & 0x0Fu];
        crc = (crc >> 4) ^ crc_nibble[crc & 0x0Fu];
    }
    return ~crc;
}

size_t tm_cobs_encode(const uint8_t *src, size_t len, uint8_t *dst, size_t dst_cap)
{
    if (dst_cap < len + len / 254u + 1u)
        return 0;
    size_t code_pos = 0;
    size_t out = 1;
    uint8_t code = 1;
    for (size_t i = 0; i < len; ++i) {
        if (src[i] == 0) {
            dst[code_pos] = code;
            code_pos = out++;
            code = 1;
        } else {
            dst[out++] = src[i];
            if (++code == 0xFF) {
                dst[code_pos] = code;
                code_pos = out++;
                code = 1;
            }
        }
    }
    dst[code_pos] = code;
    return out;
}

size_t tm_cobs_decode(const uint8_t *src, size_t len, uint8_t *dst, size_t dst_cap)
{
    size_t in = 0;
    size_t out = 0;
    while (in < len) {
        uint8_t code = src[in++];
        if (code == 0)
            return (size_t)-1;
        size_t run = (size_t)code - 1u;
        if (run > len - in || out + run > dst_cap)
            return (size_t)-1;
        /* memmove: in-place decoding has dst <= src */
        memmove(dst + out, src + in, run);
        in += run;
        out += run;
        if (code != 0xFF && in < len) {
            if (out >= dst_cap)
                return (size_t)-1;
            dst[out++] = 0;
        }
    }
    return out;
}

size_t tm_frame_encode(uint8_t seq, uint8_t op, const uint8_t *payload, size_t payload_len,
                       uint8_t *out, size_t out_cap)
{
    if (payload_len > TM_MAX_PAYLOAD || (payload_len > 0 && payload == NULL))
        return 0;
    uint8_t raw[TM_MAX_DECODED_FRAME];
    raw[0] = seq;
    raw[1] = op;
    if (payload_len)
        memcpy(raw + 2, payload, payload_len);
    uint32_t crc = tm_crc32(0, raw, payload_len + 2u);
    tm_put_u32(raw + 2 + payload_len, crc);
    size_t raw_len = payload_len + TM_FRAME_OVERHEAD;
    if (out_cap < 1u)
        return 0;
    size_t n = tm_cobs_encode(raw, raw_len, out, out_cap - 1u);
    if (n == 0)
        return 0;
    out[n] = 0;
    return n + 1u;
}

void tm_frame_decoder_init(tm_frame_decoder_t *dec, uint8_t *buf, size_t cap)
{
    memset(dec, 0, sizeof *dec);
    dec->buf = buf;
    dec->cap = cap;
}

tm_frame_status_t tm_frame_decoder_push(tm_frame_decoder_t *dec, uint8_t byte, tm_frame_t *out)
{
    if (byte != 0) {
        if (dec->overflowed)
            return TM_FRAME_NONE;
        if (dec->len >= dec->cap) {
            dec->overflowed = 1;
            dec->len = 0;
            dec->overflows++;
            return TM_FRAME_ERR_OVERFLOW;
        }
        dec->buf[dec->len++] = byte;
        return TM_FRAME_NONE;
    }

    /* delimiter */
    if (dec->overflowed) {
        dec->overflowed = 0;
        dec->len = 0;
        return TM_FRAME_NONE;
    }
    size_t enc_len = dec->len;
    dec->len = 0;
    if (enc_len == 0)
        return TM_FRAME_NONE;
    size_t n = tm_cobs_decode(dec->buf, enc_len, dec->buf, dec->cap);
    if (n == (size_t)-1) {
        dec->cobs_errors++;
        return TM_FRAME_ERR_COBS;
    }
    if (n < TM_FRAME_OVERHEAD || n > TM_MAX_DECODED_FRAME) {
        dec->short_frames++;
        return TM_FRAME_ERR_SHORT;
    }
    uint32_t want = tm_get_u32(dec->buf + n - 4u);
    if (tm_crc32(0, dec->buf, n - 4u) != want) {
        dec->crc_errors++;
        return TM_FRAME_ERR_CRC;
    }
    dec->frames_ok++;
    out->seq = dec->buf[0];
    out->op = dec->buf[1];
    out->payload_len = (uint16_t)(n - TM_FRAME_OVERHEAD);
    out->payload = dec->buf + 2;
    return TM_FRAME_READY;
}
