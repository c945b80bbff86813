/*
 * tm_sha512.h — SHA-512 (FIPS 180-4) for the firmware agent: the hash inside Ed25519
 * signature verification (tm_ed25519.h), usable on its own.
 *
 * Streaming, caller-owned state, no allocation, no libc beyond memcpy/memset. The state is
 * a plain struct so it can live in .bss, on the stack or inside another context.
 *
 *     tm_sha512_ctx_t h;
 *     uint8_t digest[TM_SHA512_DIGEST_BYTES];
 *     tm_sha512_init(&h);
 *     tm_sha512_update(&h, chunk, chunk_len);    // any number of times, any lengths
 *     tm_sha512_final(&h, digest);               // h must be re-initialised before reuse
 *
 * Stack: the block function's frame is 800 bytes on a Cortex-M4 (its 640-byte message
 * schedule and saved registers; arm-none-eabi-gcc -fstack-usage).
 */
#ifndef TM_SHA512_H
#define TM_SHA512_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TM_SHA512_DIGEST_BYTES 64u
#define TM_SHA512_BLOCK_BYTES 128u

/** Running state: chaining value, the partial block, and the message length in bytes. */
typedef struct {
    uint64_t h[8];
    uint8_t block[TM_SHA512_BLOCK_BYTES];
    uint32_t fill;      /**< bytes in block, 0..127 */
    uint64_t length_lo; /**< total message length in bytes (low 64 bits) */
    uint64_t length_hi; /**< ... and the high 64 bits (the length field is 128-bit) */
} tm_sha512_ctx_t;

void tm_sha512_init(tm_sha512_ctx_t *ctx);
/** Hashes len bytes at data (data may be NULL when len is 0). */
void tm_sha512_update(tm_sha512_ctx_t *ctx, const void *data, size_t len);
/** Pads, writes the 64-byte digest and wipes nothing (the input is public here). */
void tm_sha512_final(tm_sha512_ctx_t *ctx, uint8_t digest[TM_SHA512_DIGEST_BYTES]);
/** One-shot convenience. */
void tm_sha512(const void *data, size_t len, uint8_t digest[TM_SHA512_DIGEST_BYTES]);

#ifdef __cplusplus
}
#endif

#endif /* TM_SHA512_H */
