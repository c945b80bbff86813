/*
 * tm_signed_package.h — the signature block of a signed model package (issue 17) and its
 * check on the device, before a slot is committed.
 *
 * A signed package is a model package (deploy/MODEL_PACKAGE.md, "TMPK", any version)
 * followed directly by one 96-byte signature block; the package itself is unchanged, so a
 * reader that knows nothing of signing still finds the whole package at offset 0.
 *
 *     at  type     field
 *      0  char[4]  magic "TMSG"
 *      4  u16      block version, 1
 *      6  u16      block size, 96
 *      8  u32      package version: the anti-rollback counter's value for this package, >= 1
 *     12  u32      flags, 0
 *     16  u8[8]    key id: first 8 bytes of SHA-512 over the signer's public key as 64
 *                  lowercase hex digits (what `tinyml keys list` shows)
 *     24  u8[8]    reserved, 0
 *     32  u8[64]   Ed25519 signature over package bytes [0, total_size) then block bytes
 *                  [0, 32): the version and key id are signed with the package
 *
 * Everything little-endian. The package's total_size (u32 at offset 8 of its header) must be
 * exactly the signed file's size minus 96, and a multiple of 4 (every package's is).
 * No dynamic allocation; the message is hashed straight from the caller's buffer (flash).
 */
#ifndef TM_SIGNED_PACKAGE_H
#define TM_SIGNED_PACKAGE_H

#include <stddef.h>
#include <stdint.h>

#include "tm_ed25519.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TM_SIGNED_BLOCK_BYTES 96u
#define TM_SIGNED_BLOCK_MAGIC 0x47534D54u /* "TMSG" */
#define TM_SIGNED_BLOCK_VERSION 1u
#define TM_SIGNED_KEY_ID_BYTES 8u
#define TM_SIGNED_SIGNED_HEAD_BYTES 32u /**< block bytes covered by the signature */
#define TM_SIGNED_PACKAGE_HEADER_MIN 64u /**< a package header's size */

/** Result of a check. Serialized in the agent's error replies: append only. */
typedef enum {
    TM_SIGNED_OK = 0,
    TM_SIGNED_UNSIGNED = 1,       /**< a package without a signature block (size == total_size) */
    TM_SIGNED_MALFORMED = 2,      /**< sizes, magic, block version/size, flags or reserved wrong */
    TM_SIGNED_WRONG_KEY = 3,      /**< the block names another key than the provisioned one */
    TM_SIGNED_BAD_SIGNATURE = 4,  /**< the signature does not verify (any modified byte) */
    TM_SIGNED_BAD_PUBLIC_KEY = 5, /**< the provisioned key is not a valid Ed25519 key */
    TM_SIGNED_BAD_ARGUMENT = 6    /**< NULL pointer */
} tm_signed_status_t;

/** What the block says (valid after TM_SIGNED_OK from parse or verify). */
typedef struct {
    uint32_t package_size;    /**< bytes of the package without its block: its total_size */
    uint32_t package_version; /**< the anti-rollback value */
    uint8_t key_id[TM_SIGNED_KEY_ID_BYTES];
    const uint8_t *signature; /**< TM_ED25519_SIGNATURE_BYTES inside the caller's buffer */
} tm_signed_info_t;

/** Checks the layout only (no cryptography): TM_SIGNED_OK with *info filled,
 *  TM_SIGNED_UNSIGNED for a bare package (then info->package_size = size), or
 *  TM_SIGNED_MALFORMED. Reads only inside [bytes, bytes + size). */
tm_signed_status_t tm_signed_package_parse(const uint8_t *bytes, size_t size,
                                           tm_signed_info_t *info);

/** The key id of a public key (see the layout above). */
void tm_signed_key_id(const uint8_t public_key[TM_ED25519_PUBLIC_KEY_BYTES],
                      uint8_t key_id[TM_SIGNED_KEY_ID_BYTES]);

/** parse, then the key id against public_key's, then the signature. The anti-rollback
 *  comparison of info->package_version is the caller's (it owns the counter). */
tm_signed_status_t tm_signed_package_verify(const uint8_t *bytes, size_t size,
                                            const uint8_t public_key[TM_ED25519_PUBLIC_KEY_BYTES],
                                            tm_signed_info_t *info);

/** A short English name of a status, for logs and error replies. */
const char *tm_signed_status_name(tm_signed_status_t status);

#ifdef __cplusplus
}
#endif

#endif /* TM_SIGNED_PACKAGE_H */
