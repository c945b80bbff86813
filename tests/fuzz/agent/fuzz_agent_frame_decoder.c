/* Feeds arbitrary bytes to the shared frame decoder; every accepted frame must re-encode
 * to a frame that decodes to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tm_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t buf[TM_MAX_ENCODED_FRAME];
    static uint8_t enc[TM_MAX_ENCODED_FRAME];
    static uint8_t buf2[TM_MAX_ENCODED_FRAME];
    tm_frame_decoder_t dec;
    tm_frame_decoder_init(&dec, buf, sizeof buf);
    for (size_t i = 0; i < size; ++i) {
        tm_frame_t f;
        if (tm_frame_decoder_push(&dec, data[i], &f) != TM_FRAME_READY)
            continue;
        if (f.payload_len > TM_MAX_PAYLOAD)
            abort();
        size_t n = tm_frame_encode(f.seq, f.op, f.payload, f.payload_len, enc, sizeof enc);
        if (n == 0)
            abort();
        tm_frame_decoder_t dec2;
        tm_frame_decoder_init(&dec2, buf2, sizeof buf2);
        tm_frame_t g;
        int got = 0;
        for (size_t k = 0; k < n; ++k)
            if (tm_frame_decoder_push(&dec2, enc[k], &g) == TM_FRAME_READY)
                got = 1;
        if (!got || g.payload_len != f.payload_len || g.op != f.op || g.seq != f.seq ||
            memcmp(g.payload, f.payload, f.payload_len) != 0)
            abort();
    }
    return 0;
}
