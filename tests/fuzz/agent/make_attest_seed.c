/* Writes the seed of fuzz_attestation to stdout: an ATTEST answer as the agent makes it
 * (tm_attest_encode, then tm_ed25519_sign with RFC 8032 TEST 1's secret seed as the device
 * identity), with a package, a firmware hash and a provisioned project key, so every flag is
 * set. Deterministic: Ed25519 signatures are. */
#include <stdio.h>
#include <string.h>

#include "tm_attest.h"
#include "tm_signed_package.h"

int main(void)
{
    static const uint8_t seed[32] = {0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a,
                                     0xf4, 0x92, 0xec, 0x2c, 0xc4, 0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32,
                                     0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60};
    tm_attest_t st;
    memset(&st, 0, sizeof st);
    for (unsigned i = 0; i < 32; ++i)
        st.nonce[i] = (uint8_t)(i * 7u + 1u);
    tm_ed25519_public_key(st.device_public_key, seed);
    tm_signed_key_id(st.device_public_key, st.device_id);
    memset(st.firmware_hash, 0x11, 64);
    memset(st.package_hash, 0x22, 64);
    st.package_size = 4096;
    st.package_version = 3;
    st.counter = 3;
    st.flags = TM_ATTEST_FLAG_FIRMWARE_HASH | TM_ATTEST_FLAG_PACKAGE | TM_ATTEST_FLAG_PROVISIONED;
    memset(st.project_key_id, 0x33, 8);
    st.frames_dropped = 2;
    st.error_replies = 1;
    st.uptime_ticks = 123456789u;
    st.active_slot = 1;
    uint8_t reply[TM_ATTEST_REPLY_BYTES];
    tm_attest_encode(&st, reply);
    tm_ed25519_sign(reply + TM_ATTEST_STATEMENT_BYTES, reply, TM_ATTEST_STATEMENT_BYTES, seed,
                    st.device_public_key);
    if (tm_attest_verify(reply, sizeof reply, &st) != TM_ATTEST_OK)
        return 1;
    return fwrite(reply, 1, sizeof reply, stdout) == sizeof reply ? 0 : 1;
}
