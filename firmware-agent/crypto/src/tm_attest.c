/* The attestation statement (tm_attest.h): encoding on the device, parsing and checking on
 * both ends. */
#include "tm_attest.h"

#include <string.h>

#include "tm_signed_package.h"

static void put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; ++i)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static int all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; ++i)
        acc |= p[i];
    return acc == 0;
}

void tm_attest_encode(const tm_attest_t *in, uint8_t out[TM_ATTEST_STATEMENT_BYTES])
{
    memset(out, 0, TM_ATTEST_STATEMENT_BYTES);
    put_u32(out, TM_ATTEST_MAGIC);
    put_u16(out + 4, TM_ATTEST_VERSION);
    put_u16(out + 6, TM_ATTEST_STATEMENT_BYTES);
    memcpy(out + 8, in->nonce, TM_ATTEST_NONCE_BYTES);
    memcpy(out + 40, in->device_public_key, TM_ED25519_PUBLIC_KEY_BYTES);
    memcpy(out + 72, in->device_id, TM_ATTEST_ID_BYTES);
    memcpy(out + 80, in->firmware_hash, 64);
    memcpy(out + 144, in->package_hash, 64);
    put_u32(out + 208, in->package_size);
    put_u32(out + 212, in->package_version);
    put_u32(out + 216, in->counter);
    put_u32(out + 220, in->flags);
    memcpy(out + 224, in->project_key_id, TM_ATTEST_ID_BYTES);
    put_u32(out + 232, in->frames_dropped);
    put_u32(out + 236, in->error_replies);
    put_u32(out + 240, (uint32_t)in->uptime_ticks);
    put_u32(out + 244, (uint32_t)(in->uptime_ticks >> 32));
    out[248] = in->active_slot;
}

tm_attest_status_t tm_attest_parse(const uint8_t *r, size_t len, tm_attest_t *out)
{
    if (r == NULL || out == NULL)
        return TM_ATTEST_BAD_ARGUMENT;
    if (len != TM_ATTEST_REPLY_BYTES)
        return TM_ATTEST_BAD_LENGTH;
    if (get_u32(r) != TM_ATTEST_MAGIC)
        return TM_ATTEST_BAD_MAGIC;
    if (get_u16(r + 4) != TM_ATTEST_VERSION || get_u16(r + 6) != TM_ATTEST_STATEMENT_BYTES)
        return TM_ATTEST_BAD_VERSION;
    const uint32_t flags = get_u32(r + 220);
    const uint32_t package_size = get_u32(r + 208);
    const int has_package = (flags & TM_ATTEST_FLAG_PACKAGE) != 0;
    if ((flags & ~TM_ATTEST_FLAGS_KNOWN) != 0 || !all_zero(r + 249, 7) ||
        (!(flags & TM_ATTEST_FLAG_FIRMWARE_HASH) && !all_zero(r + 80, 64)) ||
        (!has_package && (!all_zero(r + 144, 64) || package_size != 0 || get_u32(r + 212) != 0 ||
                          r[248] != 0xFFu)) ||
        (has_package && (package_size == 0 || r[248] == 0xFFu)) ||
        (!(flags & TM_ATTEST_FLAG_PROVISIONED) && !all_zero(r + 224, TM_ATTEST_ID_BYTES)))
        return TM_ATTEST_BAD_FIELD;
    memcpy(out->nonce, r + 8, TM_ATTEST_NONCE_BYTES);
    memcpy(out->device_public_key, r + 40, TM_ED25519_PUBLIC_KEY_BYTES);
    memcpy(out->device_id, r + 72, TM_ATTEST_ID_BYTES);
    memcpy(out->firmware_hash, r + 80, 64);
    memcpy(out->package_hash, r + 144, 64);
    out->package_size = package_size;
    out->package_version = get_u32(r + 212);
    out->counter = get_u32(r + 216);
    out->flags = flags;
    memcpy(out->project_key_id, r + 224, TM_ATTEST_ID_BYTES);
    out->frames_dropped = get_u32(r + 232);
    out->error_replies = get_u32(r + 236);
    out->uptime_ticks = (uint64_t)get_u32(r + 240) | ((uint64_t)get_u32(r + 244) << 32);
    out->active_slot = r[248];
    memcpy(out->signature, r + TM_ATTEST_STATEMENT_BYTES, TM_ED25519_SIGNATURE_BYTES);
    return TM_ATTEST_OK;
}

tm_attest_status_t tm_attest_verify(const uint8_t *r, size_t len, tm_attest_t *out)
{
    tm_attest_status_t st = tm_attest_parse(r, len, out);
    if (st != TM_ATTEST_OK)
        return st;
    uint8_t id[TM_SIGNED_KEY_ID_BYTES];
    tm_signed_key_id(out->device_public_key, id);
    if (memcmp(id, out->device_id, TM_ATTEST_ID_BYTES) != 0)
        return TM_ATTEST_BAD_DEVICE_ID;
    if (tm_ed25519_verify(out->signature, out->device_public_key, r, TM_ATTEST_STATEMENT_BYTES) !=
        TM_ED25519_OK)
        return TM_ATTEST_BAD_SIGNATURE;
    return TM_ATTEST_OK;
}

const char *tm_attest_status_name(tm_attest_status_t status)
{
    switch (status) {
    case TM_ATTEST_OK: return "attestation valid";
    case TM_ATTEST_BAD_LENGTH: return "attestation has the wrong length (320 bytes expected)";
    case TM_ATTEST_BAD_MAGIC: return "attestation does not start with \"TMAT\"";
    case TM_ATTEST_BAD_VERSION: return "attestation version or statement size unknown";
    case TM_ATTEST_BAD_FIELD: return "attestation field inconsistent (flags, reserved bytes)";
    case TM_ATTEST_BAD_DEVICE_ID: return "attestation device id is not the id of its key";
    case TM_ATTEST_BAD_SIGNATURE: return "attestation signature does not verify with the device key";
    case TM_ATTEST_BAD_ARGUMENT: return "missing argument";
    }
    return "unknown status";
}
