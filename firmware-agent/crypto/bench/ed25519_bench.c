/*
 * ed25519_bench.c — the cost of Ed25519 verification on the virtual Cortex-M4
 * (ed25519-bench.elf, qemu-mps2-an386), and a device-side check that it gives the right
 * answers there too.
 *
 * Counting, as in kernel-bench: under qemu-system-arm -icount shift=0 one guest instruction
 * is 1 ns of virtual time and CMSDK TIMER0 (25 MHz) ticks once per 40 instructions. One
 * verification is millions of instructions, so the 40-instruction resolution does not
 * matter; the timer reads' own cost (an empty interval) is subtracted. Every timer read is
 * preceded by tm_cycle_mark_user(): under the cycle-model plugin (firmware-agent/qemu-plugin)
 * the "mark kind=user" lines give estimated Cortex-M4 cycles of the same intervals; each row
 * names its two marks.
 *
 * Output over semihosting, last line "ed25519-bench: all checks passed" or
 * "ed25519-bench: FAILED"; the exit status says the same (ctest firmware_agent_crypto_qemu).
 */
#include <stdint.h>
#include <string.h>

#include "mps2.h"
#include "tm_ed25519.h"
#include "tm_sha512.h"

enum { SYS_WRITE0 = 0x04, SYS_EXIT = 0x18 };
enum { ADP_STOPPED_APPLICATION_EXIT = 0x20026, ADP_STOPPED_RUN_TIME_ERROR = 0x20023 };

static int semihost(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static char line[200];
static int pos;

static void put(const char *s)
{
    while (*s != '\0' && pos < (int)sizeof line - 2) {
        line[pos++] = *s++;
    }
}

static void put_u(uint32_t v)
{
    char d[12];
    int n = 0;
    do {
        d[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0);
    while (n > 0 && pos < (int)sizeof line - 2) {
        line[pos++] = d[--n];
    }
}

static void flush(void)
{
    line[pos++] = '\n';
    line[pos] = '\0';
    semihost(SYS_WRITE0, line);
    pos = 0;
}

/* ---- timing ------------------------------------------------------------------------------ */

/* Distinct from every other function (the plugin finds it by name), never inlined. */
__attribute__((noinline, used)) void tm_cycle_mark_user(void)
{
    __asm__ volatile("" : : "i"(7) : "memory");
}

static uint32_t marks_so_far;

static uint32_t ticks(uint32_t *mark)
{
    *mark = marks_so_far++;
    tm_cycle_mark_user();
    return 0xFFFFFFFFu - MPS2_TIMER0->VALUE;
}

/* ---- RFC 8032 section 7.1 test vectors 1-3 ------------------------------------------------- */

typedef struct vector_s {
    const char *name;
    uint8_t public_key[32];
    uint8_t signature[64];
    uint8_t msg[2];
    uint32_t msg_len;
} vector_t;

static const vector_t vectors[3] = {
    {"rfc8032-1",
     {0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe,
      0xd3, 0xc9, 0x64, 0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6,
      0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a},
     {0xe5, 0x56, 0x43, 0x00, 0xc3, 0x60, 0xac, 0x72, 0x90, 0x86, 0xe2, 0xcc, 0x80,
      0x6e, 0x82, 0x8a, 0x84, 0x87, 0x7f, 0x1e, 0xb8, 0xe5, 0xd9, 0x74, 0xd8, 0x73,
      0xe0, 0x65, 0x22, 0x49, 0x01, 0x55, 0x5f, 0xb8, 0x82, 0x15, 0x90, 0xa3, 0x3b,
      0xac, 0xc6, 0x1e, 0x39, 0x70, 0x1c, 0xf9, 0xb4, 0x6b, 0xd2, 0x5b, 0xf5, 0xf0,
      0x59, 0x5b, 0xbe, 0x24, 0x65, 0x51, 0x41, 0x43, 0x8e, 0x7a, 0x10, 0x0b},
     {0},
     0},
    {"rfc8032-2",
     {0x3d, 0x40, 0x17, 0xc3, 0xe8, 0x43, 0x89, 0x5a, 0x92, 0xb7, 0x0a,
      0xa7, 0x4d, 0x1b, 0x7e, 0xbc, 0x9c, 0x98, 0x2c, 0xcf, 0x2e, 0xc4,
      0x96, 0x8c, 0xc0, 0xcd, 0x55, 0xf1, 0x2a, 0xf4, 0x66, 0x0c},
     {0x92, 0xa0, 0x09, 0xa9, 0xf0, 0xd4, 0xca, 0xb8, 0x72, 0x0e, 0x82, 0x0b, 0x5f,
      0x64, 0x25, 0x40, 0xa2, 0xb2, 0x7b, 0x54, 0x16, 0x50, 0x3f, 0x8f, 0xb3, 0x76,
      0x22, 0x23, 0xeb, 0xdb, 0x69, 0xda, 0x08, 0x5a, 0xc1, 0xe4, 0x3e, 0x15, 0x99,
      0x6e, 0x45, 0x8f, 0x36, 0x13, 0xd0, 0xf1, 0x1d, 0x8c, 0x38, 0x7b, 0x2e, 0xae,
      0xb4, 0x30, 0x2a, 0xee, 0xb0, 0x0d, 0x29, 0x16, 0x12, 0xbb, 0x0c, 0x00},
     {0x72},
     1},
    {"rfc8032-3",
     {0xfc, 0x51, 0xcd, 0x8e, 0x62, 0x18, 0xa1, 0xa3, 0x8d, 0xa4, 0x7e,
      0xd0, 0x02, 0x30, 0xf0, 0x58, 0x08, 0x16, 0xed, 0x13, 0xba, 0x33,
      0x03, 0xac, 0x5d, 0xeb, 0x91, 0x15, 0x48, 0x90, 0x80, 0x25},
     {0x62, 0x91, 0xd6, 0x57, 0xde, 0xec, 0x24, 0x02, 0x48, 0x27, 0xe6, 0x9c, 0x3a,
      0xbe, 0x01, 0xa3, 0x0c, 0xe5, 0x48, 0xa2, 0x84, 0x74, 0x3a, 0x44, 0x5e, 0x36,
      0x80, 0xd7, 0xdb, 0x5a, 0xc3, 0xac, 0x18, 0xff, 0x9b, 0x53, 0x8d, 0x16, 0xf2,
      0x90, 0xae, 0x67, 0xf7, 0x60, 0x98, 0x4d, 0xc6, 0x59, 0x4a, 0x7c, 0x15, 0xe9,
      0x71, 0x6e, 0xd2, 0x8d, 0xc0, 0x27, 0xbe, 0xce, 0xea, 0x1e, 0xc4, 0x0a},
     {0xaf, 0x82},
     2},
};

/* The secret seeds of RFC 8032 TEST 1 and 2: signing them must give vectors[0..1] exactly. */
static const uint8_t seeds[2][32] = {
    {0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c, 0xc4,
     0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60},
    {0x4c, 0xcd, 0x08, 0x9b, 0x28, 0xff, 0x96, 0xda, 0x9d, 0xb6, 0xc3, 0x46, 0xec, 0x11, 0x4e, 0x0f,
     0x5b, 0x8a, 0x31, 0x9f, 0x35, 0xab, 0xa6, 0x24, 0xda, 0x8c, 0xf6, 0xed, 0x4f, 0xb8, 0xa6, 0xfb},
};

static uint8_t message[1024];

/* Stack high-water mark of one call: paints the 8 KB below the current stack pointer, runs
 * the call (from a frame of its own), and finds the deepest byte that changed. */
#define STACK_PAINT_BYTES 8192u
#define STACK_PAINT 0xA5u

static __attribute__((noinline)) tm_ed25519_status_t verify_vector(const void *v_)
{
    const struct vector_s *v = (const struct vector_s *)v_;
    return tm_ed25519_verify(v->signature, v->public_key, v->msg, v->msg_len);
}

static __attribute__((noinline)) tm_ed25519_status_t sign_vector(const void *v_)
{
    const struct vector_s *v = (const struct vector_s *)v_;
    uint8_t sig[64];
    return tm_ed25519_sign(sig, v->msg, v->msg_len, seeds[v - vectors], v->public_key);
}

static uint32_t stack_used_by(tm_ed25519_status_t (*fn)(const void *), const void *arg)
{
    uint8_t *sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    volatile uint8_t *low = sp - STACK_PAINT_BYTES;
    for (uint32_t i = 0; i < STACK_PAINT_BYTES - 64u; ++i) {
        low[i] = STACK_PAINT;
    }
    (void)fn(arg);
    uint32_t i = 0;
    while (i < STACK_PAINT_BYTES - 64u && low[i] == STACK_PAINT) {
        ++i;
    }
    return STACK_PAINT_BYTES - i; /* bytes below this function's stack pointer */
}

int main(void)
{
    MPS2_TIMER0->CTRL = 0;
    MPS2_TIMER0->RELOAD = 0xFFFFFFFFu;
    MPS2_TIMER0->VALUE = 0xFFFFFFFFu;
    MPS2_TIMER0->CTRL = TIMER_CTRL_EN;

    int failures = 0;
    uint32_t m0, m1;

    put("ed25519-bench qemu-mps2-an386 (Cortex-M4F): instructions under -icount shift=0 "
        "(TIMER0, 40 per tick), [marks] for the cycle model");
    flush();

    uint32_t t0 = ticks(&m0);
    uint32_t t1 = ticks(&m1);
    uint32_t overhead = (t1 - t0) * 40u;
    put("timer read overhead ");
    put_u(overhead);
    put(" [");
    put_u(m0);
    put(" ");
    put_u(m1);
    put("]");
    flush();

    for (int i = 0; i < 3; ++i) {
        const vector_t *v = &vectors[i];
        t0 = ticks(&m0);
        tm_ed25519_status_t st = tm_ed25519_verify(v->signature, v->public_key, v->msg, v->msg_len);
        t1 = ticks(&m1);
        put("verify ");
        put(v->name);
        put(" (");
        put_u(v->msg_len);
        put(" B message): ");
        put_u((t1 - t0) * 40u - overhead);
        put(" instructions [");
        put_u(m0);
        put(" ");
        put_u(m1);
        put("] ");
        put(st == TM_ED25519_OK ? "accepted" : "REFUSED");
        flush();
        failures += st != TM_ED25519_OK;

        /* One flipped bit each in R, S and the key, and an extra message byte: all refused. */
        uint8_t sig[64], pk[32];
        for (int which = 0; which < 4; ++which) {
            memcpy(sig, v->signature, 64);
            memcpy(pk, v->public_key, 32);
            uint32_t len = v->msg_len;
            if (which == 0) {
                sig[3] ^= 0x10u;
            } else if (which == 1) {
                sig[40] ^= 0x01u;
            } else if (which == 2) {
                pk[7] ^= 0x80u;
            } else {
                len = v->msg_len + 1u; /* the message with one more byte */
            }
            uint8_t msg[3] = {0, 0, 0};
            memcpy(msg, v->msg, v->msg_len);
            if (tm_ed25519_verify(sig, pk, msg, len) == TM_ED25519_OK) {
                put("  modified input ");
                put_u((uint32_t)which);
                put(" ACCEPTED");
                flush();
                ++failures;
            }
        }
    }

    put("stack: ");
    put_u(stack_used_by(verify_vector, &vectors[0]));
    put(" bytes for one tm_ed25519_verify() call, measured (painted stack, high-water mark)");
    flush();

    /* Signing (the device identity key of ATTEST): RFC 8032 TEST 1 and 2 byte for byte, the
     * public key from the seed, and each signature accepted by the verifier above. */
    for (int i = 0; i < 2; ++i) {
        const vector_t *v = &vectors[i];
        uint8_t pk[32], sig[64];
        t0 = ticks(&m0);
        tm_ed25519_public_key(pk, seeds[i]);
        t1 = ticks(&m1);
        const uint32_t pk_cost = (t1 - t0) * 40u - overhead;
        uint32_t m2, m3;
        t0 = ticks(&m2);
        tm_ed25519_sign(sig, v->msg, v->msg_len, seeds[i], pk);
        t1 = ticks(&m3);
        put("public key from seed ");
        put(v->name);
        put(": ");
        put_u(pk_cost);
        put(" instructions [");
        put_u(m0);
        put(" ");
        put_u(m1);
        put("]");
        flush();
        put("sign ");
        put(v->name);
        put(" (");
        put_u(v->msg_len);
        put(" B message): ");
        put_u((t1 - t0) * 40u - overhead);
        put(" instructions [");
        put_u(m2);
        put(" ");
        put_u(m3);
        put("] ");
        const int ok = memcmp(pk, v->public_key, 32) == 0 && memcmp(sig, v->signature, 64) == 0 &&
                       tm_ed25519_verify(sig, pk, v->msg, v->msg_len) == TM_ED25519_OK;
        put(ok ? "matches RFC 8032" : "WRONG");
        flush();
        failures += !ok;
    }
    put("stack: ");
    put_u(stack_used_by(sign_vector, &vectors[0]));
    put(" bytes for one tm_ed25519_sign() call, measured (painted stack, high-water mark)");
    flush();

    for (uint32_t i = 0; i < sizeof message; ++i) {
        message[i] = (uint8_t)(i * 131u + 7u);
    }
    uint8_t digest[TM_SHA512_DIGEST_BYTES];
    t0 = ticks(&m0);
    tm_sha512(message, sizeof message, digest);
    t1 = ticks(&m1);
    uint32_t sha = (t1 - t0) * 40u - overhead;
    put("sha512 1024 B: ");
    put_u(sha);
    put(" instructions (");
    put_u((sha + 512u) / 1024u);
    put(" per byte of package) [");
    put_u(m0);
    put(" ");
    put_u(m1);
    put("]");
    flush();
    /* SHA-512 of those 1024 bytes, computed on the host (Python hashlib). */
    static const uint8_t expect_prefix[8] = {0x96, 0xd1, 0x32, 0x07, 0x83, 0x08, 0x78, 0x34};
    if (memcmp(digest, expect_prefix, sizeof expect_prefix) != 0) {
        put("  sha512 digest WRONG");
        flush();
        ++failures;
    }

    put(failures == 0 ? "ed25519-bench: all checks passed" : "ed25519-bench: FAILED");
    flush();
    semihost(SYS_EXIT, (const void *)(uintptr_t)(failures == 0 ? ADP_STOPPED_APPLICATION_EXIT
                                                               : ADP_STOPPED_RUN_TIME_ERROR));
    for (;;) {
    }
}
