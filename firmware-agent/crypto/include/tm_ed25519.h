/*
 * tm_ed25519.h — Ed25519 signature verification (RFC 8032, section 5.1.7) for the firmware
 * agent: checks a signed model package before a slot is committed.
 *
 * Verification of packages (the device never holds the package signing key) and, since the
 * attestation (issue 17), signing with the device's own identity key (tm_ed25519_sign). No dynamic allocation, no libc
 * beyond memcpy/memset, fixed stack use (about 3 KB on a Cortex-M4 including the 320-byte
 * context; ../README.md). The message may be given in pieces, so a package can be checked
 * while it streams in or straight from flash.
 *
 *     tm_ed25519_verify_ctx_t v;                       // caller-owned, 320 bytes
 *     tm_ed25519_verify_start(&v, signature, public_key);
 *     tm_ed25519_verify_update(&v, part, part_len);    // any number of times
 *     if (tm_ed25519_verify_finish(&v) != TM_ED25519_OK) { refuse }
 *
 * or in one call: tm_ed25519_verify(signature, public_key, msg, msg_len).
 *
 * Accepted: exactly the signatures with S < L (canonical), a public key that decodes to a
 * curve point with a canonical y (< p) and is not of small order, and R equal to the
 * canonical encoding of [S]B - [k]A with k = SHA-512(R || A || M) mod L. This is the
 * cofactorless equation, the stricter of the two RFC 8032 allows, and it matches libsodium's
 * crypto_sign_verify_detached on every signature an honest signer produces.
 *
 * Not constant time: every input (package, signature, public key) is public.
 */
#ifndef TM_ED25519_H
#define TM_ED25519_H

#include <stddef.h>
#include <stdint.h>

#include "tm_sha512.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TM_ED25519_PUBLIC_KEY_BYTES 32u
#define TM_ED25519_SIGNATURE_BYTES 64u /**< R (32 bytes, a point) then S (32, a scalar) */

/** Verification result. Serialized in the agent's error replies: append only. */
typedef enum {
    TM_ED25519_OK = 0,
    TM_ED25519_BAD_SIGNATURE = 1,  /**< well-formed, but [S]B - [k]A does not encode to R */
    TM_ED25519_S_OUT_OF_RANGE = 2, /**< S >= L: a malleated or corrupted signature */
    TM_ED25519_BAD_PUBLIC_KEY = 3, /**< not a point, non-canonical y, or small order */
    TM_ED25519_BAD_ARGUMENT = 4    /**< NULL pointer, or finish without start */
} tm_ed25519_status_t;

/** Streaming verification state (plain data; copying it forks the verification). */
typedef struct {
    tm_sha512_ctx_t hash; /**< SHA-512(R || A || M) so far */
    uint8_t signature[TM_ED25519_SIGNATURE_BYTES];
    uint8_t public_key[TM_ED25519_PUBLIC_KEY_BYTES];
    uint32_t started; /**< set by start, cleared by finish */
} tm_ed25519_verify_ctx_t;

/** Begins checking signature (64 bytes) against public_key (32 bytes); both are copied. */
tm_ed25519_status_t tm_ed25519_verify_start(tm_ed25519_verify_ctx_t *ctx,
                                            const uint8_t signature[TM_ED25519_SIGNATURE_BYTES],
                                            const uint8_t public_key[TM_ED25519_PUBLIC_KEY_BYTES]);
/** Feeds len more message bytes (data may be NULL when len is 0; NULL with len > 0 makes
 *  finish return TM_ED25519_BAD_ARGUMENT). */
void tm_ed25519_verify_update(tm_ed25519_verify_ctx_t *ctx, const void *data, size_t len);
/** TM_ED25519_OK when the whole message fed so far carries a valid signature. */
tm_ed25519_status_t tm_ed25519_verify_finish(tm_ed25519_verify_ctx_t *ctx);

/** One-shot form of start/update/finish. */
tm_ed25519_status_t tm_ed25519_verify(const uint8_t signature[TM_ED25519_SIGNATURE_BYTES],
                                      const uint8_t public_key[TM_ED25519_PUBLIC_KEY_BYTES],
                                      const void *msg, size_t msg_len);

#define TM_ED25519_SEED_BYTES 32u /**< the secret key: RFC 8032's 32-byte private key */

/** RFC 8032 5.1.5: the public key of a 32-byte secret seed (libsodium's
 *  crypto_sign_seed_keypair gives the same). About one signature's point work. */
tm_ed25519_status_t tm_ed25519_public_key(uint8_t public_key[TM_ED25519_PUBLIC_KEY_BYTES],
                                          const uint8_t seed[TM_ED25519_SEED_BYTES]);

/** RFC 8032 5.1.6: the deterministic signature of msg with the key pair (seed, public_key);
 *  public_key must be tm_ed25519_public_key(seed) (passed in so a device that keeps it does
 *  not recompute it: a wrong one gives signatures nobody can verify). Wipes its copies of
 *  the secret scalar and nonce. NOT constant time (the scalar's signed digits choose the
 *  additions): see the README before using it where an attacker can time many signatures. */
tm_ed25519_status_t tm_ed25519_sign(uint8_t signature[TM_ED25519_SIGNATURE_BYTES], const void *msg,
                                    size_t msg_len, const uint8_t seed[TM_ED25519_SEED_BYTES],
                                    const uint8_t public_key[TM_ED25519_PUBLIC_KEY_BYTES]);

/** A short English name of a status, for logs and error replies. */
const char *tm_ed25519_status_name(tm_ed25519_status_t status);

#ifdef __cplusplus
}
#endif

#endif /* TM_ED25519_H */
