#include "tm_flash_image.h"

#include <string.h>

#include "tm_frame.h"

void tm_flash_header_encode(const tm_slot_table_t *t, uint32_t slot_size,
                            uint8_t out[TM_FLASH_HEADER_BYTES])
{
    memset(out, 0, TM_FLASH_HEADER_BYTES);
    tm_put_u32(out, TM_FLASH_MAGIC);
    tm_put_u32(out + 4, TM_FLASH_VERSION);
    tm_put_u32(out + 8, slot_size);
    out[12] = t->active;
    for (unsigned s = 0; s < TM_MODEL_SLOTS; ++s) {
        out[16 + 12 * s] = t->slot[s].valid ? 1u : 0u;
        tm_put_u32(out + 20 + 12 * s, t->slot[s].size);
        tm_put_u32(out + 24 + 12 * s, t->slot[s].crc);
    }
    tm_put_u32(out + TM_FLASH_HEADER_BYTES - 4, tm_crc32(0, out, TM_FLASH_HEADER_BYTES - 4));
}

tm_error_t tm_flash_header_decode(const uint8_t in[TM_FLASH_HEADER_BYTES], uint32_t slot_size,
                                  tm_slot_table_t *t)
{
    if (tm_get_u32(in) != TM_FLASH_MAGIC || tm_get_u32(in + 4) != TM_FLASH_VERSION ||
        tm_get_u32(in + 8) != slot_size ||
        tm_crc32(0, in, TM_FLASH_HEADER_BYTES - 4) != tm_get_u32(in + TM_FLASH_HEADER_BYTES - 4))
        return TM_ERR_BAD_ARGUMENT;
    t->active = in[12];
    for (unsigned s = 0; s < TM_MODEL_SLOTS; ++s) {
        t->slot[s].valid = in[16 + 12 * s];
        t->slot[s].size = tm_get_u32(in + 20 + 12 * s);
        t->slot[s].crc = tm_get_u32(in + 24 + 12 * s);
        if (t->slot[s].size > slot_size)
            t->slot[s].valid = 0;
    }
    return TM_OK;
}
