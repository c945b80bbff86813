/* The device's check of a signed model package (firmware-agent/crypto/tm_signed_package.h).
 * Input: 32 bytes of provisioned public key, then the signed package. Invariants: only reads
 * inside the buffer (ASan), a status in range, and an accepted package's block exactly at
 * its total_size with a version >= 1. Seeds: a well-formed block (key id of the key given)
 * over a small package, so the fuzzer starts past the layout checks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tm_signed_package.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < TM_ED25519_PUBLIC_KEY_BYTES)
        return 0;
    const uint8_t *key = data;
    const size_t n = size - TM_ED25519_PUBLIC_KEY_BYTES;
    /* a copy of exactly n bytes, so any read past the package is caught */
    uint8_t *bytes = (uint8_t *)malloc(n ? n : 1u);
    if (!bytes)
        return 0;
    if (n)
        memcpy(bytes, data + TM_ED25519_PUBLIC_KEY_BYTES, n);
    tm_signed_info_t info;
    const tm_signed_status_t s = tm_signed_package_verify(bytes, n, key, &info);
    if ((unsigned)s > (unsigned)TM_SIGNED_BAD_ARGUMENT)
        abort();
    if (s == TM_SIGNED_OK
        && ((size_t)info.package_size + TM_SIGNED_BLOCK_BYTES != n || info.package_version == 0u
            || info.signature != bytes + info.package_size + TM_SIGNED_SIGNED_HEAD_BYTES))
        abort();
    if (tm_signed_status_name(s)[0] == '\0')
        abort();
    free(bytes);
    return 0;
}
