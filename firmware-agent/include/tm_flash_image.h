/*
 * tm_flash_image.h — the file image of the two model slots, shared by the ports that
 * persist their slots in a host file (host port: --flash FILE; QEMU ports: semihosting).
 *
 * Layout (little-endian):
 *
 *     offset 0                      header, TM_FLASH_HEADER_BYTES:
 *                                     u32 magic "TMFL", u32 version 1, u32 slot size,
 *                                     u8 active slot (0xFF none), 3 reserved,
 *                                     per slot at 16 + 12 s: u8 valid, 3 reserved,
 *                                     u32 size, u32 CRC-32 of the package,
 *                                     at 40 + 8 s: slot s's MLPerf benchmark id, 8 bytes
 *                                     of printable ASCII padded with zeros (all zeros:
 *                                     none, as in images written before the ids),
 *                                     u32 anti-rollback counter at 56 (the lowest
 *                                     signed package version a provisioned board
 *                                     commits; zero in images written before it),
 *                                     u32 CRC-32 of bytes 0..59 at offset 60
 *     TM_FLASH_HEADER_BYTES + s * slot_size   slot s data
 *     TM_FLASH_HEADER_BYTES + 2 * slot_size   provisioning record, TM_PROVISION_RECORD_BYTES
 *                                     (absent, e.g. a shorter file: not provisioned):
 *                                     u32 magic "TMKY", u16 record version 1, u16 record
 *                                     size 48, u32 flags (bit 0 locked: always set),
 *                                     u8[32] Ed25519 public key, u32 CRC-32 of bytes 0..43
 *     the provisioning record's offset + 48   device identity record, TM_IDENTITY_RECORD_BYTES
 *                                     (absent: no identity, ATTEST answers NOT_PROVISIONED):
 *                                     u32 magic "TMID", u16 record version 1, u16 record
 *                                     size 80, u32 flags 0, u8[32] Ed25519 secret seed,
 *                                     u8[32] its public key, u32 CRC-32 of bytes 0..75
 *     the identity record's offset + 80       trial record, TM_FLASH_TRIAL_RECORD_BYTES (absent,
 *                                     e.g. files of agents without MODEL_REVERT: no trial):
 *                                     u32 magic "TMTR", u16 record version 1, u16 record
 *                                     size 24, u32 the header CRC (bytes 60..63) of the
 *                                     header it belongs to, u8 tm_trial_state_t, 3 reserved,
 *                                     u32 anti-rollback counter before the commit on trial,
 *                                     u32 CRC-32 of bytes 0..19
 *
 * Writers store the slot's data first and the header last, so a torn write leaves the
 * previous header (and model) in force; readers still verify every slot's CRC. The counter
 * lives in the header, which is written last and covered by its CRC: it changes atomically
 * with the active slot. The provisioning record is written once (PROVISION) and never
 * rewritten with another key; a record with a wrong magic, size or CRC reads as "not
 * provisioned" — the identity record likewise reads as "no identity". It is written once,
 * by the first PROVISION that carries a seed, and never replaced. The trial record is written
 * just before the header, whenever the header is: it counts only while the header's CRC is the
 * one it names, so a write torn between the two leaves the board without a trial (nothing to
 * revert to) rather than with a wrong one. On the file-backed virtual boards whoever edits the file owns the board
 * anyway; a real port keeps the record in write-protected flash or OTP.
 */
#ifndef TM_FLASH_IMAGE_H
#define TM_FLASH_IMAGE_H

#include <stdint.h>

#include "tm_port.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TM_FLASH_HEADER_BYTES 64u
#define TM_FLASH_MAGIC 0x4C464D54u /* "TMFL" */
#define TM_FLASH_VERSION 1u
/** Offset of slot 0's benchmark id in the header; slot s's is at + 8 s. */
#define TM_FLASH_BENCHMARK_ID_OFFSET 40u

/** A character a benchmark id may hold: A-Z a-z 0-9 . _ - (so that `m-model-[<id>]` and
 *  text commands stay unambiguous). */
static inline int tm_benchmark_id_char_ok(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
}

/** Serialise the slot table for slots of slot_size bytes. */
void tm_flash_header_encode(const tm_slot_table_t *table, uint32_t slot_size,
                            uint8_t out[TM_FLASH_HEADER_BYTES]);

/** Parse a header; returns TM_OK, or TM_ERR_BAD_ARGUMENT if magic, version, slot size or
 *  header CRC do not match (then *table is untouched). */
tm_error_t tm_flash_header_decode(const uint8_t in[TM_FLASH_HEADER_BYTES], uint32_t slot_size,
                                  tm_slot_table_t *table);

#define TM_PROVISION_RECORD_BYTES 48u
#define TM_PROVISION_MAGIC 0x594B4D54u /* "TMKY" */
#define TM_PROVISION_VERSION 1u
#define TM_PROVISION_LOCKED 0x1u
#define TM_PROVISION_KEY_BYTES 32u

/** Serialise a provisioning record (locked) for an Ed25519 public key. */
void tm_provision_record_encode(const uint8_t public_key[TM_PROVISION_KEY_BYTES],
                                uint8_t out[TM_PROVISION_RECORD_BYTES]);

/** Parse a record; TM_OK with the key, or TM_ERR_BAD_ARGUMENT if magic, version, size,
 *  flags or CRC do not match (then public_key is untouched). Reads exactly
 *  TM_PROVISION_RECORD_BYTES bytes. */
tm_error_t tm_provision_record_decode(const uint8_t in[TM_PROVISION_RECORD_BYTES],
                                      uint8_t public_key[TM_PROVISION_KEY_BYTES]);

/** File offset of the provisioning record, after the two slots. */
static inline uint32_t tm_flash_provision_offset(uint32_t slot_size)
{
    return TM_FLASH_HEADER_BYTES + (uint32_t)TM_MODEL_SLOTS * slot_size;
}

#define TM_IDENTITY_RECORD_BYTES 80u
#define TM_IDENTITY_MAGIC 0x44494D54u /* "TMID" */
#define TM_IDENTITY_VERSION 1u
#define TM_IDENTITY_SEED_BYTES 32u

/** Serialise a device identity record: the secret seed and its public key. */
void tm_identity_record_encode(const uint8_t seed[TM_IDENTITY_SEED_BYTES],
                               const uint8_t public_key[TM_PROVISION_KEY_BYTES],
                               uint8_t out[TM_IDENTITY_RECORD_BYTES]);

/** Parse an identity record; TM_OK with seed and public key, or TM_ERR_BAD_ARGUMENT if magic,
 *  version, size, flags or CRC do not match (outputs untouched). */
tm_error_t tm_identity_record_decode(const uint8_t in[TM_IDENTITY_RECORD_BYTES],
                                     uint8_t seed[TM_IDENTITY_SEED_BYTES],
                                     uint8_t public_key[TM_PROVISION_KEY_BYTES]);

/** File offset of the device identity record, after the provisioning record. */
static inline uint32_t tm_flash_identity_offset(uint32_t slot_size)
{
    return tm_flash_provision_offset(slot_size) + TM_PROVISION_RECORD_BYTES;
}

#define TM_FLASH_TRIAL_RECORD_BYTES 24u
#define TM_FLASH_TRIAL_MAGIC 0x52544D54u /* "TMTR" */
#define TM_FLASH_TRIAL_VERSION 1u

/** File offset of the trial record, after the device identity record. */
static inline uint32_t tm_flash_trial_offset(uint32_t slot_size)
{
    return tm_flash_identity_offset(slot_size) + TM_IDENTITY_RECORD_BYTES;
}

/** Serialise the table's trial state, bound to header (the encoded header it goes with). */
void tm_flash_trial_encode(const tm_slot_table_t *table, const uint8_t header[TM_FLASH_HEADER_BYTES],
                           uint8_t out[TM_FLASH_TRIAL_RECORD_BYTES]);

/** Set table->trial and trial_min_version from a trial record read next to header (the
 *  header table was decoded from). in NULL (no record), a malformed record or one bound to
 *  another header: TM_TRIAL_NONE. */
void tm_flash_trial_decode(const uint8_t *in, const uint8_t header[TM_FLASH_HEADER_BYTES],
                           tm_slot_table_t *table);

/** File offset of slot s. */
static inline uint32_t tm_flash_slot_offset(uint8_t slot, uint32_t slot_size)
{
    return TM_FLASH_HEADER_BYTES + (uint32_t)slot * slot_size;
}

#ifdef __cplusplus
}
#endif

#endif /* TM_FLASH_IMAGE_H */
