/* Feeds arbitrary bytes to the device's model package reader (tm_model_load) and, when a
 * package loads, runs it with tm_model_invoke in a bounded arena. The package is copied to a
 * 4-byte aligned buffer of exactly its size (ASan catches any read past it); the arena is
 * exactly tm_model_arena_bytes() long, so any write outside it is caught as well.
 * The input byte 0 decides whether the CRC is recomputed (so mutations reach the checks
 * after the CRC). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tm_frame.h"
#include "tm_model.h"

#define MAX_PACKAGE (256u * 1024u)
#define MAX_ARENA (1024u * 1024u)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size - 1 > MAX_PACKAGE)
        return 0;
    const int fix_crc = data[0] & 1;
    const uint32_t n = (uint32_t)(size - 1);
    uint32_t *words = (uint32_t *)malloc(n ? n : 4u); /* malloc is 4-aligned and exact */
    if (words == NULL)
        return 0;
    uint8_t *pkg = (uint8_t *)words;
    memcpy(pkg, data + 1, n);
    if (fix_crc && n >= 64) {
        tm_put_u32(pkg + 8, n);
        tm_put_u32(pkg + 12, tm_crc32(0, pkg + 64, n - 64u));
    }
    tm_model_t m;
    const tm_model_status_t s = tm_model_load(&m, pkg, n);
    if ((unsigned)s >= TM_MODEL_ERR_COUNT_)
        abort();
    if (s == TM_MODEL_OK) {
        const uint32_t need = tm_model_arena_bytes(&m);
        if (need == 0)
            abort();
        if (need <= MAX_ARENA) {
            uint8_t *arena = (uint8_t *)malloc(need);
            if (arena) {
                uint32_t in_bytes = 0;
                int8_t *in = tm_model_input(&m, arena, &in_bytes);
                if (in == NULL || (uint8_t *)in + in_bytes > arena + need)
                    abort();
                memset(arena, 0x11, need);
                const tm_model_status_t r = tm_model_invoke(&m, arena, need, NULL, NULL);
                if (r != TM_MODEL_OK && r != TM_MODEL_ERR_KERNEL)
                    abort();
                /* too small an arena is always refused */
                if (tm_model_invoke(&m, arena, need - 1u, NULL, NULL) != TM_MODEL_ERR_ARENA)
                    abort();
                free(arena);
            }
        }
    }
    free(words);
    return 0;
}
