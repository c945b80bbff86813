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
        uint8_t *id = out + TM_FLASH_BENCHMARK_ID_OFFSET + TM_BENCHMARK_ID_MAX * s;
        for (unsigned i = 0; i < TM_BENCHMARK_ID_MAX && t->slot[s].benchmark_id[i]; ++i)
            id[i] = (uint8_t)t->slot[s].benchmark_id[i];
    }
    tm_put_u32(out + 56, t->min_version);
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
    t->min_version = tm_get_u32(in + 56);
    t->trial = TM_TRIAL_NONE; /* the trial record says otherwise (tm_flash_trial_decode) */
    t->trial_min_version = 0;
    for (unsigned s = 0; s < TM_MODEL_SLOTS; ++s) {
        t->slot[s].valid = in[16 + 12 * s];
        t->slot[s].size = tm_get_u32(in + 20 + 12 * s);
        t->slot[s].crc = tm_get_u32(in + 24 + 12 * s);
        if (t->slot[s].size > slot_size)
            t->slot[s].valid = 0;
        /* an id other than allowed characters followed by zeros is dropped, not trusted */
        const uint8_t *id = in + TM_FLASH_BENCHMARK_ID_OFFSET + TM_BENCHMARK_ID_MAX * s;
        unsigned n = 0;
        while (n < TM_BENCHMARK_ID_MAX && tm_benchmark_id_char_ok(id[n]))
            ++n;
        for (unsigned i = n; i < TM_BENCHMARK_ID_MAX; ++i)
            if (id[i] != 0)
                n = 0;
        memcpy(t->slot[s].benchmark_id, id, n);
        t->slot[s].benchmark_id[n] = '\0';
    }
    return TM_OK;
}

void tm_provision_record_encode(const uint8_t public_key[TM_PROVISION_KEY_BYTES],
                                uint8_t out[TM_PROVISION_RECORD_BYTES])
{
    memset(out, 0, TM_PROVISION_RECORD_BYTES);
    tm_put_u32(out, TM_PROVISION_MAGIC);
    tm_put_u16(out + 4, TM_PROVISION_VERSION);
    tm_put_u16(out + 6, TM_PROVISION_RECORD_BYTES);
    tm_put_u32(out + 8, TM_PROVISION_LOCKED);
    memcpy(out + 12, public_key, TM_PROVISION_KEY_BYTES);
    tm_put_u32(out + TM_PROVISION_RECORD_BYTES - 4,
               tm_crc32(0, out, TM_PROVISION_RECORD_BYTES - 4));
}

tm_error_t tm_provision_record_decode(const uint8_t in[TM_PROVISION_RECORD_BYTES],
                                      uint8_t public_key[TM_PROVISION_KEY_BYTES])
{
    if (tm_get_u32(in) != TM_PROVISION_MAGIC || tm_get_u16(in + 4) != TM_PROVISION_VERSION ||
        tm_get_u16(in + 6) != TM_PROVISION_RECORD_BYTES ||
        tm_get_u32(in + 8) != TM_PROVISION_LOCKED ||
        tm_crc32(0, in, TM_PROVISION_RECORD_BYTES - 4) !=
            tm_get_u32(in + TM_PROVISION_RECORD_BYTES - 4))
        return TM_ERR_BAD_ARGUMENT;
    memcpy(public_key, in + 12, TM_PROVISION_KEY_BYTES);
    return TM_OK;
}

void tm_identity_record_encode(const uint8_t seed[TM_IDENTITY_SEED_BYTES],
                               const uint8_t public_key[TM_PROVISION_KEY_BYTES],
                               uint8_t out[TM_IDENTITY_RECORD_BYTES])
{
    memset(out, 0, TM_IDENTITY_RECORD_BYTES);
    tm_put_u32(out, TM_IDENTITY_MAGIC);
    tm_put_u16(out + 4, TM_IDENTITY_VERSION);
    tm_put_u16(out + 6, TM_IDENTITY_RECORD_BYTES);
    memcpy(out + 12, seed, TM_IDENTITY_SEED_BYTES);
    memcpy(out + 44, public_key, TM_PROVISION_KEY_BYTES);
    tm_put_u32(out + TM_IDENTITY_RECORD_BYTES - 4, tm_crc32(0, out, TM_IDENTITY_RECORD_BYTES - 4));
}

tm_error_t tm_identity_record_decode(const uint8_t in[TM_IDENTITY_RECORD_BYTES],
                                     uint8_t seed[TM_IDENTITY_SEED_BYTES],
                                     uint8_t public_key[TM_PROVISION_KEY_BYTES])
{
    if (tm_get_u32(in) != TM_IDENTITY_MAGIC || tm_get_u16(in + 4) != TM_IDENTITY_VERSION ||
        tm_get_u16(in + 6) != TM_IDENTITY_RECORD_BYTES || tm_get_u32(in + 8) != 0 ||
        tm_crc32(0, in, TM_IDENTITY_RECORD_BYTES - 4) != tm_get_u32(in + TM_IDENTITY_RECORD_BYTES - 4))
        return TM_ERR_BAD_ARGUMENT;
    memcpy(seed, in + 12, TM_IDENTITY_SEED_BYTES);
    memcpy(public_key, in + 44, TM_PROVISION_KEY_BYTES);
    return TM_OK;
}

void tm_flash_trial_encode(const tm_slot_table_t *t, const uint8_t header[TM_FLASH_HEADER_BYTES],
                           uint8_t out[TM_FLASH_TRIAL_RECORD_BYTES])
{
    memset(out, 0, TM_FLASH_TRIAL_RECORD_BYTES);
    tm_put_u32(out, TM_FLASH_TRIAL_MAGIC);
    tm_put_u16(out + 4, TM_FLASH_TRIAL_VERSION);
    tm_put_u16(out + 6, TM_FLASH_TRIAL_RECORD_BYTES);
    tm_put_u32(out + 8, tm_get_u32(header + TM_FLASH_HEADER_BYTES - 4));
    out[12] = t->trial;
    tm_put_u32(out + 16, t->trial_min_version);
    tm_put_u32(out + TM_FLASH_TRIAL_RECORD_BYTES - 4, tm_crc32(0, out, TM_FLASH_TRIAL_RECORD_BYTES - 4));
}

void tm_flash_trial_decode(const uint8_t *in, const uint8_t header[TM_FLASH_HEADER_BYTES],
                           tm_slot_table_t *t)
{
    t->trial = TM_TRIAL_NONE;
    t->trial_min_version = 0;
    if (in == NULL || tm_get_u32(in) != TM_FLASH_TRIAL_MAGIC ||
        tm_get_u16(in + 4) != TM_FLASH_TRIAL_VERSION ||
        tm_get_u16(in + 6) != TM_FLASH_TRIAL_RECORD_BYTES ||
        tm_get_u32(in + 8) != tm_get_u32(header + TM_FLASH_HEADER_BYTES - 4) ||
        in[13] != 0 || in[14] != 0 || in[15] != 0 ||
        tm_crc32(0, in, TM_FLASH_TRIAL_RECORD_BYTES - 4) !=
            tm_get_u32(in + TM_FLASH_TRIAL_RECORD_BYTES - 4))
        return;
    t->trial = in[12];
    t->trial_min_version = tm_get_u32(in + 16);
}
