/* The signature block of a signed model package: layout checks, key id, verification.
 * Layout and rules: ../include/tm_signed_package.h. */
#include "tm_signed_package.h"

#include <string.h>

static uint32_t rd_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t rd_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

tm_signed_status_t tm_signed_package_parse(const uint8_t *bytes, size_t size,
                                           tm_signed_info_t *info)
{
    if (!bytes || !info)
        return TM_SIGNED_BAD_ARGUMENT;
    memset(info, 0, sizeof *info);
    if (size < TM_SIGNED_PACKAGE_HEADER_MIN || memcmp(bytes, "TMPK", 4) != 0)
        return TM_SIGNED_MALFORMED;
    const uint32_t total = rd_u32(bytes + 8);
    if ((size_t)total == size) {
        info->package_size = total;
        return TM_SIGNED_UNSIGNED;
    }
    /* total + 96 == size, written so that it cannot overflow */
    if (size < TM_SIGNED_PACKAGE_HEADER_MIN + TM_SIGNED_BLOCK_BYTES
        || (size_t)total != size - TM_SIGNED_BLOCK_BYTES || total < TM_SIGNED_PACKAGE_HEADER_MIN
        || total % 4u != 0u)
        return TM_SIGNED_MALFORMED;
    const uint8_t *b = bytes + total;
    if (rd_u32(b) != TM_SIGNED_BLOCK_MAGIC || rd_u16(b + 4) != TM_SIGNED_BLOCK_VERSION
        || rd_u16(b + 6) != TM_SIGNED_BLOCK_BYTES || rd_u32(b + 12) != 0u)
        return TM_SIGNED_MALFORMED;
    for (unsigned i = 24; i < 32; ++i) {
        if (b[i] != 0)
            return TM_SIGNED_MALFORMED;
    }
    const uint32_t version = rd_u32(b + 8);
    if (version == 0u)
        return TM_SIGNED_MALFORMED;
    info->package_size = total;
    info->package_version = version;
    memcpy(info->key_id, b + 16, TM_SIGNED_KEY_ID_BYTES);
    info->signature = b + TM_SIGNED_SIGNED_HEAD_BYTES;
    return TM_SIGNED_OK;
}

void tm_signed_key_id(const uint8_t public_key[TM_ED25519_PUBLIC_KEY_BYTES],
                      uint8_t key_id[TM_SIGNED_KEY_ID_BYTES])
{
    static const char hex[] = "0123456789abcdef";
    char text[2u * TM_ED25519_PUBLIC_KEY_BYTES];
    for (unsigned i = 0; i < TM_ED25519_PUBLIC_KEY_BYTES; ++i) {
        text[2u * i] = hex[public_key[i] >> 4];
        text[2u * i + 1u] = hex[public_key[i] & 0xFu];
    }
    uint8_t digest[TM_SHA512_DIGEST_BYTES];
    tm_sha512(text, sizeof text, digest);
    memcpy(key_id, digest, TM_SIGNED_KEY_ID_BYTES);
}

tm_signed_status_t tm_signed_package_verify(const uint8_t *bytes, size_t size,
                                            const uint8_t public_key[TM_ED25519_PUBLIC_KEY_BYTES],
                                            tm_signed_info_t *info)
{
    if (!public_key)
        return TM_SIGNED_BAD_ARGUMENT;
    const tm_signed_status_t parsed = tm_signed_package_parse(bytes, size, info);
    if (parsed != TM_SIGNED_OK)
        return parsed;
    uint8_t expected[TM_SIGNED_KEY_ID_BYTES];
    tm_signed_key_id(public_key, expected);
    if (memcmp(expected, info->key_id, TM_SIGNED_KEY_ID_BYTES) != 0)
        return TM_SIGNED_WRONG_KEY;
    tm_ed25519_verify_ctx_t v;
    if (tm_ed25519_verify_start(&v, info->signature, public_key) != TM_ED25519_OK)
        return TM_SIGNED_BAD_ARGUMENT;
    tm_ed25519_verify_update(&v, bytes, info->package_size);
    tm_ed25519_verify_update(&v, bytes + info->package_size, TM_SIGNED_SIGNED_HEAD_BYTES);
    switch (tm_ed25519_verify_finish(&v)) {
    case TM_ED25519_OK:
        return TM_SIGNED_OK;
    case TM_ED25519_BAD_PUBLIC_KEY:
        return TM_SIGNED_BAD_PUBLIC_KEY;
    case TM_ED25519_BAD_ARGUMENT:
        return TM_SIGNED_BAD_ARGUMENT;
    default:
        return TM_SIGNED_BAD_SIGNATURE;
    }
}

const char *tm_signed_status_name(tm_signed_status_t status)
{
    switch (status) {
    case TM_SIGNED_OK:
        return "signature valid";
    case TM_SIGNED_UNSIGNED:
        return "package is not signed";
    case TM_SIGNED_MALFORMED:
        return "malformed signature block";
    case TM_SIGNED_WRONG_KEY:
        return "signed by another key";
    case TM_SIGNED_BAD_SIGNATURE:
        return "signature does not match the package";
    case TM_SIGNED_BAD_PUBLIC_KEY:
        return "provisioned public key is invalid";
    case TM_SIGNED_BAD_ARGUMENT:
        return "bad argument";
    }
    return "unknown status";
}
