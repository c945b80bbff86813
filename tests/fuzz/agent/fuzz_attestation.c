/* The host's reading of an ATTEST answer (firmware-agent/crypto/tm_attest.h): tm_attest_parse
 * and tm_attest_verify on arbitrary bytes, the code core/crypto/Attestation runs on what a
 * board sends. Invariants: only reads inside the buffer (ASan), statuses in range, an accepted
 * layout is exactly 320 bytes and encodes back to the same statement bytes, and a verified
 * answer's device id is its key's id. Seed: a statement signed by the agent's own signer
 * (make_attest_seed.c), so the fuzzer starts past the layout checks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tm_attest.h"
#include "tm_signed_package.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *bytes = (uint8_t *)malloc(size ? size : 1u);
    if (!bytes)
        return 0;
    if (size)
        memcpy(bytes, data, size);
    tm_attest_t st;
    const tm_attest_status_t p = tm_attest_parse(bytes, size, &st);
    if ((unsigned)p > (unsigned)TM_ATTEST_BAD_ARGUMENT || tm_attest_status_name(p)[0] == '\0')
        abort();
    if (p == TM_ATTEST_OK) {
        if (size != TM_ATTEST_REPLY_BYTES)
            abort();
        uint8_t again[TM_ATTEST_STATEMENT_BYTES];
        tm_attest_encode(&st, again);
        if (memcmp(again, bytes, sizeof again) != 0)
            abort();
    }
    tm_attest_t v;
    const tm_attest_status_t s = tm_attest_verify(bytes, size, &v);
    if ((unsigned)s > (unsigned)TM_ATTEST_BAD_ARGUMENT)
        abort();
    if ((p == TM_ATTEST_OK) != (s == TM_ATTEST_OK || s == TM_ATTEST_BAD_DEVICE_ID || s == TM_ATTEST_BAD_SIGNATURE))
        abort();
    if (s == TM_ATTEST_OK) {
        uint8_t id[TM_SIGNED_KEY_ID_BYTES];
        tm_signed_key_id(v.device_public_key, id);
        if (memcmp(id, v.device_id, sizeof id) != 0)
            abort();
    }
    free(bytes);
    return 0;
}
