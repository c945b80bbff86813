/*
 * tm_attest.h — the device attestation statement (issue 17, ATTEST): what a provisioned
 * board says about itself, signed with its own identity key, in answer to a host's fresh
 * nonce. The agent encodes it (tm_attest_encode, then tm_ed25519_sign over the statement);
 * the host parses and verifies it with this same code (core/crypto/Attestation), so both
 * ends read the same bytes the same way.
 *
 * ATTEST reply, TM_ATTEST_REPLY_BYTES (320), little-endian:
 *
 *     at  type     field
 *      0  char[4]  magic "TMAT"
 *      4  u16      statement version, 1
 *      6  u16      statement size, 256 (the signature follows it)
 *      8  u8[32]   nonce: the host's ATTEST payload, echoed
 *     40  u8[32]   device identity public key (Ed25519)
 *     72  u8[8]    device id: tm_signed_key_id() of that key
 *     80  u8[64]   firmware hash: SHA-512 of the agent image as the board runs it, measured
 *                  by the agent itself (QEMU boards: the loaded image, code address 0 up to
 *                  the end of .data's load image = `objcopy -O binary` of the ELF; host
 *                  agent: its executable file); zeros when the port cannot say (flag bit 0)
 *    144  u8[64]   package hash: SHA-512 of the active slot's bytes as uploaded (a signed
 *                  package with its block: the file the host flashed); zeros without one
 *    208  u32      package size in bytes (0: no active package)
 *    212  u32      package version (its signature block's; 0: unsigned or none)
 *    216  u32      anti-rollback counter
 *    220  u32      flags: bit 0 firmware hash present, bit 1 active package present,
 *                  bit 2 project key provisioned (signed packages only); others 0
 *    224  u8[8]    project key id (zeros when bit 2 is clear)
 *    232  u32      frames the agent dropped since boot (CRC, COBS, length)
 *    236  u32      ERROR replies the agent sent since boot
 *    240  u64      the agent's counter when it answered (INFO COUNTER ticks; it starts
 *                  near 0 at power-on on real boards, from QEMU's virtual clock on the
 *                  virtual ones)
 *    248  u8       active slot (0xFF none)
 *    249  u8[7]    reserved, 0
 *    256  u8[64]   Ed25519 signature of bytes [0, 256) with the device identity key
 *
 * What it proves: the statement was signed by the holder of the identity key written at
 * provisioning, after the host chose the nonce. The firmware hash is the agent's own
 * measurement: it shows which image answers, not that the image is honest (a real board
 * needs a boot ROM that measures the image for that).
 */
#ifndef TM_ATTEST_H
#define TM_ATTEST_H

#include <stddef.h>
#include <stdint.h>

#include "tm_ed25519.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TM_ATTEST_MAGIC 0x54414D54u /* "TMAT" */
#define TM_ATTEST_VERSION 1u
#define TM_ATTEST_NONCE_BYTES 32u
#define TM_ATTEST_STATEMENT_BYTES 256u
#define TM_ATTEST_REPLY_BYTES (TM_ATTEST_STATEMENT_BYTES + TM_ED25519_SIGNATURE_BYTES)
#define TM_ATTEST_ID_BYTES 8u

#define TM_ATTEST_FLAG_FIRMWARE_HASH 0x1u
#define TM_ATTEST_FLAG_PACKAGE 0x2u
#define TM_ATTEST_FLAG_PROVISIONED 0x4u
#define TM_ATTEST_FLAGS_KNOWN 0x7u

/** The statement's fields (plain data). */
typedef struct {
    uint8_t nonce[TM_ATTEST_NONCE_BYTES];
    uint8_t device_public_key[TM_ED25519_PUBLIC_KEY_BYTES];
    uint8_t device_id[TM_ATTEST_ID_BYTES];
    uint8_t firmware_hash[64];
    uint8_t package_hash[64];
    uint32_t package_size;
    uint32_t package_version;
    uint32_t counter;        /**< anti-rollback counter */
    uint32_t flags;          /**< TM_ATTEST_FLAG_* */
    uint8_t project_key_id[TM_ATTEST_ID_BYTES];
    uint32_t frames_dropped;
    uint32_t error_replies;
    uint64_t uptime_ticks;
    uint8_t active_slot;
    uint8_t signature[TM_ED25519_SIGNATURE_BYTES]; /**< parse fills it; encode ignores it */
} tm_attest_t;

/** Parse / verify result. Append only. */
typedef enum {
    TM_ATTEST_OK = 0,
    TM_ATTEST_BAD_LENGTH = 1,    /**< not exactly TM_ATTEST_REPLY_BYTES */
    TM_ATTEST_BAD_MAGIC = 2,
    TM_ATTEST_BAD_VERSION = 3,   /**< version or statement size not 1 / 256 */
    TM_ATTEST_BAD_FIELD = 4,     /**< unknown flag, reserved byte set, or a field that
                                      contradicts its flag (hash without the flag, ...) */
    TM_ATTEST_BAD_DEVICE_ID = 5, /**< device id is not the key id of the device key */
    TM_ATTEST_BAD_SIGNATURE = 6, /**< the signature does not verify with the device key */
    TM_ATTEST_BAD_ARGUMENT = 7   /**< NULL pointer */
} tm_attest_status_t;

/** The statement bytes [0, 256) of in (its signature is not written). */
void tm_attest_encode(const tm_attest_t *in, uint8_t out[TM_ATTEST_STATEMENT_BYTES]);

/** Layout checks only (no cryptography): fills *out on TM_ATTEST_OK. */
tm_attest_status_t tm_attest_parse(const uint8_t *reply, size_t len, tm_attest_t *out);

/** tm_attest_parse, then the device id against the key and the signature over the exact
 *  statement bytes with the key the statement carries (the host then compares that key with
 *  the one it recorded at provisioning, and the nonce with the one it sent). */
tm_attest_status_t tm_attest_verify(const uint8_t *reply, size_t len, tm_attest_t *out);

const char *tm_attest_status_name(tm_attest_status_t status);

#ifdef __cplusplus
}
#endif

#endif /* TM_ATTEST_H */
