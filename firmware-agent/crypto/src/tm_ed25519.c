/*
 * Ed25519 verification and signing, written from RFC 8032 (sections 5.1.1-5.1.7).
 *
 * Field: GF(p), p = 2^255 - 19, as eight 32-bit little-endian limbs. A field value is kept
 * below 2^256 but not fully reduced; 2^256 = 2p + 38 = 38 (mod p), so a carry out of the top
 * limb folds back in as +38 and a borrow as -38. Products use 32x32->64 multiplies, which a
 * Cortex-M4 does in one UMULL/UMLAL, and nothing wider than uint64_t.
 *
 * Curve: -x^2 + y^2 = 1 + d x^2 y^2 in extended coordinates (X:Y:Z:T), x = X/Z, y = Y/Z,
 * x*y = T/Z, with the RFC's addition and doubling formulas (complete for this curve, so the
 * identity and equal inputs need no special case).
 *
 * Not constant time, deliberately: verification handles only public data (package bytes,
 * signature, public key), and the data-dependent branches make it faster.
 *
 * Stack: no recursion, no variable-length arrays. One tm_ed25519_verify() call on the
 * Cortex-M4 (-O3) uses 2956 bytes, measured by ed25519-bench (painted stack), 320 of them its
 * own tm_ed25519_verify_ctx_t; the largest single frame is the final check's (~2 KB: the two
 * signed-digit strings and the table of odd multiples of A). README.md keeps the numbers.
 */
#include "tm_ed25519.h"

#include <string.h>

/* ---- field arithmetic mod p ------------------------------------------------------------- */

typedef struct {
    uint32_t v[8];
} fe_t;

static const fe_t FE_ZERO = {{0}};
static const fe_t FE_ONE = {{1}};
static const fe_t FE_P = {{0xffffffedu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu,
                           0xffffffffu, 0xffffffffu, 0x7fffffffu}};
/* d = -121665/121666 mod p, and 2d. */
static const fe_t FE_D = {{0x135978a3u, 0x75eb4dcau, 0x4141d8abu, 0x00700a4du, 0x7779e898u,
                           0x8cc74079u, 0x2b6ffe73u, 0x52036ceeu}};
static const fe_t FE_D2 = {{0x26b2f159u, 0xebd69b94u, 0x8283b156u, 0x00e0149au, 0xeef3d130u,
                            0x198e80f2u, 0x56dffce7u, 0x2406d9dcu}};
/* 2^((p-1)/4), a square root of -1. */
static const fe_t FE_SQRTM1 = {{0x4a0ea0b0u, 0xc4ee1b27u, 0xad2fe478u, 0x2f431806u, 0x3dfbd7a7u,
                                0x2b4d0099u, 0x4fc1df0bu, 0x2b832480u}};
/* Adds carry * 2^256 back as carry * 38 until nothing carries out any more. */
static void fe_fold_carry(fe_t *r, uint32_t carry)
{
    while (carry != 0) {
        uint64_t c = (uint64_t)carry * 38u;
        for (int i = 0; i < 8 && c != 0; ++i) {
            c += r->v[i];
            r->v[i] = (uint32_t)c;
            c >>= 32;
        }
        carry = (uint32_t)c;
    }
}

static void fe_add(fe_t *r, const fe_t *a, const fe_t *b)
{
    uint64_t c = 0;
    for (int i = 0; i < 8; ++i) {
        c += (uint64_t)a->v[i] + b->v[i];
        r->v[i] = (uint32_t)c;
        c >>= 32;
    }
    fe_fold_carry(r, (uint32_t)c);
}

/* a - b; a borrow out of the top limb means 2^256 (= 38) was added: take 38 off again. */
static void fe_sub(fe_t *r, const fe_t *a, const fe_t *b)
{
    uint32_t borrow = 0;
    for (int i = 0; i < 8; ++i) {
        uint64_t d = (uint64_t)a->v[i] - b->v[i] - borrow;
        r->v[i] = (uint32_t)d;
        borrow = (uint32_t)(d >> 63);
    }
    while (borrow != 0) {
        uint64_t d = (uint64_t)r->v[0] - 38u;
        r->v[0] = (uint32_t)d;
        borrow = (uint32_t)(d >> 63);
        for (int i = 1; i < 8 && borrow != 0; ++i) {
            d = (uint64_t)r->v[i] - borrow;
            r->v[i] = (uint32_t)d;
            borrow = (uint32_t)(d >> 63);
        }
    }
}

/* The 512-bit product t = lo + 2^256 hi = lo + 38 hi (mod p), back below 2^256. */
static void fe_reduce_wide(fe_t *r, const uint32_t t[16])
{
    uint64_t c = 0;
    for (int i = 0; i < 8; ++i) {
        c += (uint64_t)t[i] + (uint64_t)t[i + 8] * 38u;
        r->v[i] = (uint32_t)c;
        c >>= 32;
    }
    fe_fold_carry(r, (uint32_t)c);
}

/* (*hi:*lo) = a * b + *lo + *hi, at most (2^32-1)^2 + 2 (2^32-1) = 2^64 - 1: never overflows.
 * On cores with the DSP extension (Cortex-M4/M7) that is the single instruction UMAAL; the
 * C form is the reference, and the host tests and the device bench check both give the RFC
 * answers. */
static inline void mul_add2(uint32_t *lo, uint32_t *hi, uint32_t a, uint32_t b)
{
#if defined(__ARM_FEATURE_DSP) && defined(__thumb2__)
    __asm__("umaal %0, %1, %2, %3" : "+r"(*lo), "+r"(*hi) : "r"(a), "r"(b));
#else
    uint64_t r = (uint64_t)a * b + *lo + *hi;
    *lo = (uint32_t)r;
    *hi = (uint32_t)(r >> 32);
#endif
}

static void fe_mul(fe_t *r, const fe_t *a, const fe_t *b)
{
    uint32_t t[16];
    memset(t, 0, sizeof t);
    for (int i = 0; i < 8; ++i) {
        uint32_t carry = 0;
        uint32_t ai = a->v[i];
        for (int j = 0; j < 8; ++j) {
            mul_add2(&t[i + j], &carry, ai, b->v[j]);
        }
        t[i + 8] = carry;
    }
    fe_reduce_wide(r, t);
}

/* a^2 with each cross product a_i a_j (i < j) computed once and doubled: 36 limb products
 * instead of 64. */
static void fe_sq(fe_t *r, const fe_t *a)
{
    uint32_t t[16];
    memset(t, 0, sizeof t);
    for (int i = 0; i < 7; ++i) {
        uint32_t carry = 0;
        uint32_t ai = a->v[i];
        for (int j = i + 1; j < 8; ++j) {
            mul_add2(&t[i + j], &carry, ai, a->v[j]);
        }
        t[i + 8] = carry;
    }
    /* double the cross products (their sum is below 2^511), then add the squares */
    for (int i = 15; i > 0; --i) {
        t[i] = (t[i] << 1) | (t[i - 1] >> 31);
    }
    t[0] <<= 1;
    uint64_t c = 0;
    for (int i = 0; i < 8; ++i) {
        uint64_t sq = (uint64_t)a->v[i] * a->v[i];
        c += (uint64_t)t[2 * i] + (uint32_t)sq;
        t[2 * i] = (uint32_t)c;
        c >>= 32;
        c += (uint64_t)t[2 * i + 1] + (uint32_t)(sq >> 32);
        t[2 * i + 1] = (uint32_t)c;
        c >>= 32;
    }
    fe_reduce_wide(r, t);
}

/* r = a^(2^n): n squarings. */
static void fe_sq_times(fe_t *r, const fe_t *a, int n)
{
    fe_sq(r, a);
    for (int i = 1; i < n; ++i) {
        fe_sq(r, r);
    }
}

/* The two exponentiations share one addition chain: z^(2^250 - 1) from 250 squarings and
 * 11 multiplications (also returning z^11), instead of ~255 multiplications by square and
 * multiply. */
static void fe_pow_2_250_minus_1(fe_t *z250, fe_t *z11, const fe_t *z)
{
    fe_t z2, z9, a, b, c;
    fe_sq(&z2, z);           /* z^2 */
    fe_sq_times(&a, &z2, 2); /* z^8 */
    fe_mul(&z9, &a, z);      /* z^9 */
    fe_mul(z11, &z9, &z2);   /* z^11 */
    fe_sq(&a, z11);          /* z^22 */
    fe_mul(&a, &a, &z9);     /* z^31 = z^(2^5 - 1) */
    fe_sq_times(&b, &a, 5);
    fe_mul(&b, &b, &a); /* z^(2^10 - 1) */
    fe_sq_times(&c, &b, 10);
    fe_mul(&c, &c, &b); /* z^(2^20 - 1) */
    fe_sq_times(&a, &c, 20);
    fe_mul(&a, &a, &c); /* z^(2^40 - 1) */
    fe_sq_times(&a, &a, 10);
    fe_mul(&a, &a, &b); /* z^(2^50 - 1) */
    fe_sq_times(&b, &a, 50);
    fe_mul(&b, &b, &a); /* z^(2^100 - 1) */
    fe_sq_times(&c, &b, 100);
    fe_mul(&c, &c, &b); /* z^(2^200 - 1) */
    fe_sq_times(&c, &c, 50);
    fe_mul(z250, &c, &a); /* z^(2^250 - 1) */
}

/* z^(p - 2) = z^(2^255 - 21) = (z^(2^250 - 1))^(2^5) z^11: the inverse (Fermat). */
static void fe_invert(fe_t *r, const fe_t *z)
{
    fe_t z250, z11;
    fe_pow_2_250_minus_1(&z250, &z11, z);
    fe_sq_times(&z250, &z250, 5);
    fe_mul(r, &z250, &z11);
}

/* z^((p - 5) / 8) = z^(2^252 - 3) = (z^(2^250 - 1))^4 z: the square root candidate. */
static void fe_pow_p58(fe_t *r, const fe_t *z)
{
    fe_t z250, z11;
    fe_pow_2_250_minus_1(&z250, &z11, z);
    fe_sq_times(&z250, &z250, 2);
    fe_mul(r, &z250, z);
}

/* The unique representative in [0, p). Values are < 2^256 = 2p + 38, so p is subtracted at
 * most twice. */
static void fe_canonical(fe_t *r, const fe_t *a)
{
    *r = *a;
    for (int round = 0; round < 2; ++round) {
        fe_t t;
        uint32_t borrow = 0;
        for (int i = 0; i < 8; ++i) {
            uint64_t d = (uint64_t)r->v[i] - FE_P.v[i] - borrow;
            t.v[i] = (uint32_t)d;
            borrow = (uint32_t)(d >> 63);
        }
        if (borrow != 0) {
            return;
        }
        *r = t;
    }
}

static int fe_equal(const fe_t *a, const fe_t *b)
{
    fe_t x, y;
    fe_canonical(&x, a);
    fe_canonical(&y, b);
    uint32_t diff = 0;
    for (int i = 0; i < 8; ++i) {
        diff |= x.v[i] ^ y.v[i];
    }
    return diff == 0;
}

static int fe_is_zero(const fe_t *a)
{
    return fe_equal(a, &FE_ZERO);
}

/* The low bit of the canonical value: RFC 8032's "x is negative". */
static int fe_is_odd(const fe_t *a)
{
    fe_t x;
    fe_canonical(&x, a);
    return (int)(x.v[0] & 1u);
}

static void fe_neg(fe_t *r, const fe_t *a)
{
    fe_sub(r, &FE_ZERO, a);
}

static uint32_t load_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* 256 little-endian bits, unreduced. */
static void limbs_from_bytes(uint32_t v[8], const uint8_t b[32])
{
    for (int i = 0; i < 8; ++i) {
        v[i] = load_le32(b + 4 * i);
    }
}

static void fe_to_bytes(uint8_t b[32], const fe_t *a)
{
    fe_t x;
    fe_canonical(&x, a);
    for (int i = 0; i < 8; ++i) {
        b[4 * i + 0] = (uint8_t)x.v[i];
        b[4 * i + 1] = (uint8_t)(x.v[i] >> 8);
        b[4 * i + 2] = (uint8_t)(x.v[i] >> 16);
        b[4 * i + 3] = (uint8_t)(x.v[i] >> 24);
    }
}

/* a < b for 8-limb unsigned integers. */
static int limbs_less(const uint32_t a[8], const uint32_t b[8])
{
    for (int i = 7; i >= 0; --i) {
        if (a[i] != b[i]) {
            return a[i] < b[i];
        }
    }
    return 0;
}

/* ---- points ------------------------------------------------------------------------------ */

typedef struct {
    fe_t X, Y, Z, T;
} ge_t;

/* RFC 8032 5.1.4, "adding a point P = (X1, Y1, Z1, T1) to Q = (X2, Y2, Z2, T2)". */
static void ge_add(ge_t *r, const ge_t *p, const ge_t *q)
{
    fe_t a, b, c, d, e, f, g, h;
    fe_sub(&a, &p->Y, &p->X);
    fe_sub(&e, &q->Y, &q->X);
    fe_mul(&a, &a, &e);
    fe_add(&b, &p->Y, &p->X);
    fe_add(&e, &q->Y, &q->X);
    fe_mul(&b, &b, &e);
    fe_mul(&c, &p->T, &FE_D2);
    fe_mul(&c, &c, &q->T);
    fe_add(&d, &p->Z, &p->Z);
    fe_mul(&d, &d, &q->Z);
    fe_sub(&e, &b, &a);
    fe_sub(&f, &d, &c);
    fe_add(&g, &d, &c);
    fe_add(&h, &b, &a);
    fe_mul(&r->X, &e, &f);
    fe_mul(&r->Y, &g, &h);
    fe_mul(&r->T, &e, &h);
    fe_mul(&r->Z, &f, &g);
}

/* RFC 8032 5.1.4 doubling. It does not read T1, so T3 is computed only when with_t says an
 * addition comes next (saves one multiplication per doubling in a run of doublings). */
static void ge_double_t(ge_t *r, const ge_t *p, int with_t)
{
    fe_t a, b, c, e, f, g, h;
    fe_sq(&a, &p->X);
    fe_sq(&b, &p->Y);
    fe_sq(&c, &p->Z);
    fe_add(&c, &c, &c);
    fe_add(&h, &a, &b);
    fe_add(&e, &p->X, &p->Y);
    fe_sq(&e, &e);
    fe_sub(&e, &h, &e);
    fe_sub(&g, &a, &b);
    fe_add(&f, &c, &g);
    fe_mul(&r->X, &e, &f);
    fe_mul(&r->Y, &g, &h);
    if (with_t) {
        fe_mul(&r->T, &e, &h);
    }
    fe_mul(&r->Z, &f, &g);
}

static void ge_double(ge_t *r, const ge_t *p)
{
    ge_double_t(r, p, 1);
}

static void ge_identity(ge_t *r)
{
    r->X = FE_ZERO;
    r->Y = FE_ONE;
    r->Z = FE_ONE;
    r->T = FE_ZERO;
}

/* The odd multiples [1]B, [3]B, ..., [15]B of the base point B (RFC 8032 5.1: y = 4/5, x
 * even), affine (Z = 1, T = xy); computed with exact integer arithmetic from the RFC's
 * definition of B and the curve. The window-5 digits of S index it. */
static const ge_t BASE_ODD[8] = {
    /* [1]B */
    {{{0x8f25d51au, 0xc9562d60u, 0x9525a7b2u, 0x692cc760u, 0xfdd6dc5cu, 0xc0a4e231u, 0xcd6e53feu,
       0x216936d3u}},
     {{0x66666658u, 0x66666666u, 0x66666666u, 0x66666666u, 0x66666666u, 0x66666666u, 0x66666666u,
       0x66666666u}},
     {{1}},
     {{0xa5b7dda3u, 0x6dde8ab3u, 0x775152f5u, 0x20f09f80u, 0x64abe37du, 0x66ea4e8eu, 0xd78b7665u,
       0x67875f0fu}}},
    /* [3]B */
    {{{0xd3f8e25cu, 0xac62485fu, 0x81624886u, 0x63439819u, 0x3edac83au, 0x1ff4ae74u, 0x22928f49u,
       0x67ae9c4au}},
     {{0x78f5b4d4u, 0x02c36848u, 0x67240304u, 0x9f16ec17u, 0x60269ef7u, 0xa126a18eu, 0x77ee69abu,
       0x1267b1d1u}},
     {{1}},
     {{0x78b3a41au, 0xcdf908fau, 0xfb16fc4au, 0x5c27358bu, 0xadb91527u, 0xebef3783u, 0xb1dd9510u,
       0x2a4d025cu}}},
    /* [5]B */
    {{{0x322ef233u, 0x91409cc0u, 0x3e1be1a5u, 0x5c2819f9u, 0xd12da5deu, 0xfcef7cf7u, 0xade3587bu,
       0x49fda73eu}},
     {{0xd676c8edu, 0x10d21f83u, 0x89430b5du, 0x31282ecau, 0x89924666u, 0xe02c6e14u, 0x98feae6fu,
       0x5f4825b2u}},
     {{1}},
     {{0xf3e801d0u, 0x641950bcu, 0x000926bfu, 0xafb94e85u, 0x8736c7f9u, 0x3160ea50u, 0x9c593d4cu,
       0x745c562cu}}},
    /* [7]B */
    {{{0xf50e4107u, 0x5855981au, 0xbbf1ce95u, 0x83e809f3u, 0x4b1d8107u, 0xe9e3ee19u, 0xfcf4bd4eu,
       0x14568685u}},
     {{0x9f4062b8u, 0x12c4c4b5u, 0xf7abf23du, 0xf0882b46u, 0xdd36ad41u, 0x87ce6468u, 0x2b47d52fu,
       0x31c563e3u}},
     {{1}},
     {{0x5587ed1bu, 0x10bd4556u, 0x1e9aa4e4u, 0x5294632au, 0x89d5bab4u, 0x9be82dc5u, 0x1d165e1bu,
       0x119e77b1u}}},
    /* [9]B */
    {{{0x5185715cu, 0xd3e02306u, 0x2e4e0294u, 0x86d80e5cu, 0x6f9422b8u, 0x1bf336e0u, 0xc8007165u,
       0x357cc970u}},
     {{0x5522f1c0u, 0xc74e4484u, 0x236e4430u, 0x1f789013u, 0x56f2d2fdu, 0xb2befce9u, 0xc2dd0df4u,
       0x7f3d23c2u}},
     {{1}},
     {{0x88b2f465u, 0x5c3b386fu, 0xf770327eu, 0x17b3d4a0u, 0xf747cd74u, 0xdb6676adu, 0xea87cbf9u,
       0x5c70fc48u}}},
    /* [11]B */
    {{{0x207cf3cbu, 0xff2fd2c1u, 0xc593d552u, 0xd381a5b2u, 0xd6712438u, 0xb6cf078du, 0x154be417u,
       0x14e528b1u}},
     {{0x6a033713u, 0x308f2dc3u, 0x3c9c58d4u, 0x1258591cu, 0x40ff0fceu, 0x5a6f7ce3u, 0x3f21ab97u,
       0x2d908231u}},
     {{1}},
     {{0xdb5beed4u, 0xeb85cf2eu, 0xe18fc837u, 0x590001ddu, 0xf216adbfu, 0x39caa6beu, 0x800f28a2u,
       0x5ae6a565u}}},
    /* [13]B */
    {{{0xb7c05fedu, 0x3780e073u, 0x8d22b7b8u, 0x8843e3e8u, 0x282d304fu, 0xdb33adf0u, 0xd5f366ccu,
       0x107427e0u}},
     {{0xea401f80u, 0x87efe1aeu, 0x289a2723u, 0x3740cfb2u, 0xd2da89b8u, 0x78466022u, 0xed538b74u,
       0x12dbb00du}},
     {{1}},
     {{0xe8de2f53u, 0x522cdccdu, 0xeb2e8efcu, 0x5b14aa51u, 0xcd562338u, 0xc5c0dd61u, 0x17be6460u,
       0x412806b9u}}},
    /* [15]B */
    {{{0x66a18dc1u, 0x90617f3eu, 0x770189cbu, 0xd9631374u, 0x5d20419eu, 0xdc5ac6f9u, 0xec2ec435u,
       0x4f162deau}},
     {{0xad2e5cdfu, 0x946d4cc4u, 0xa19a9aa1u, 0xace5af18u, 0x64d29331u, 0x5162f701u, 0x04ff22f5u,
       0x12cbfb2du}},
     {{1}},
     {{0x5c92bf29u, 0x140d7f33u, 0xe40ae5f5u, 0xfa63b68fu, 0x41760de2u, 0xab24fd22u, 0x36b77491u,
       0x5e33f00eu}}},
};

/* RFC 8032 5.1.3 decoding; 0 when the bytes are not the canonical encoding of a point. */
static int ge_decode(ge_t *r, const uint8_t s[32])
{
    uint8_t y_bytes[32];
    memcpy(y_bytes, s, 32);
    int x_sign = y_bytes[31] >> 7;
    y_bytes[31] &= 0x7fu;

    fe_t y;
    limbs_from_bytes(y.v, y_bytes);
    if (!limbs_less(y.v, FE_P.v)) {
        return 0; /* y >= p: a second encoding of y - p */
    }

    /* x^2 = u / v with u = y^2 - 1, v = d y^2 + 1; candidate x = u v^3 (u v^7)^((p-5)/8). */
    fe_t u, v, v3, t, x, vx2;
    fe_sq(&u, &y);
    fe_mul(&v, &u, &FE_D);
    fe_sub(&u, &u, &FE_ONE);
    fe_add(&v, &v, &FE_ONE);
    fe_sq(&v3, &v);
    fe_mul(&v3, &v3, &v); /* v^3 */
    fe_sq(&t, &v3);
    fe_mul(&t, &t, &v); /* v^7 */
    fe_mul(&t, &t, &u); /* u v^7 */
    fe_pow_p58(&t, &t);
    fe_mul(&x, &u, &v3);
    fe_mul(&x, &x, &t);

    fe_sq(&vx2, &x);
    fe_mul(&vx2, &vx2, &v);
    if (!fe_equal(&vx2, &u)) {
        fe_t minus_u;
        fe_neg(&minus_u, &u);
        if (!fe_equal(&vx2, &minus_u)) {
            return 0; /* u / v is not a square: no point has this y */
        }
        fe_mul(&x, &x, &FE_SQRTM1);
    }
    if (fe_is_zero(&x) && x_sign) {
        return 0; /* "-0" */
    }
    if (fe_is_odd(&x) != x_sign) {
        fe_neg(&x, &x);
    }

    r->X = x;
    r->Y = y;
    r->Z = FE_ONE;
    fe_mul(&r->T, &x, &y);
    return 1;
}

static void ge_encode(uint8_t s[32], const ge_t *p)
{
    fe_t zinv, x, y;
    fe_invert(&zinv, &p->Z);
    fe_mul(&x, &p->X, &zinv);
    fe_mul(&y, &p->Y, &zinv);
    fe_to_bytes(s, &y);
    s[31] |= (uint8_t)(fe_is_odd(&x) << 7);
}

static void ge_neg(ge_t *r, const ge_t *p)
{
    fe_neg(&r->X, &p->X);
    r->Y = p->Y;
    r->Z = p->Z;
    fe_neg(&r->T, &p->T);
}

/* Small order (1, 2, 4 or 8): [8]P is the identity, the only point of the prime-order
 * subgroup with x = 0. */
static int ge_has_small_order(const ge_t *p)
{
    ge_t q;
    ge_double(&q, p);
    ge_double(&q, &q);
    ge_double(&q, &q);
    return fe_is_zero(&q.X);
}

/* ---- scalars mod L ------------------------------------------------------------------------ */

/* L = 2^252 + 27742317777372353535851937790883648493, the order of B. */
static const uint32_t SC_L[8] = {0x5cf5d3edu, 0x5812631au, 0xa2f79cd6u, 0x14def9deu,
                                 0x00000000u, 0x00000000u, 0x00000000u, 0x10000000u};

/* The 512-bit little-endian h mod L, one bit at a time (r < L < 2^253 throughout, so 2r + 1
 * fits in 256 bits). About 512 shift/compare/subtract rounds: small next to the point work. */
static void sc_reduce512(uint32_t r[8], const uint8_t h[64])
{
    memset(r, 0, 8 * sizeof r[0]);
    for (int bit = 511; bit >= 0; --bit) {
        uint32_t in = (uint32_t)(h[bit >> 3] >> (bit & 7)) & 1u;
        for (int i = 7; i > 0; --i) {
            r[i] = (r[i] << 1) | (r[i - 1] >> 31);
        }
        r[0] = (r[0] << 1) | in;
        if (!limbs_less(r, SC_L)) {
            uint32_t borrow = 0;
            for (int i = 0; i < 8; ++i) {
                uint64_t d = (uint64_t)r[i] - SC_L[i] - borrow;
                r[i] = (uint32_t)d;
                borrow = (uint32_t)(d >> 63);
            }
        }
    }
}

/* Width-w non-adjacent form of s < 2^253 (textbook, e.g. Hankerson, Menezes, Vanstone,
 * "Guide to Elliptic Curve Cryptography", algorithm 3.35): s = sum naf[i] 2^i with every
 * non-zero digit odd, |digit| < 2^(w-1), and at least w - 1 zeros after each one. Returns the
 * highest non-zero position, -1 for s = 0. */
static int sc_wnaf(int8_t naf[256], const uint32_t s[8], int w)
{
    uint32_t k[9];
    memcpy(k, s, 8 * sizeof k[0]);
    k[8] = 0;
    memset(naf, 0, 256);
    const int32_t full = (int32_t)1 << w;
    const int32_t half = full >> 1;
    int top = -1;
    for (int i = 0; i < 256; ++i) {
        if (k[0] & 1u) {
            int32_t digit = (int32_t)(k[0] & (uint32_t)(full - 1));
            if (digit >= half) {
                digit -= full;
            }
            naf[i] = (int8_t)digit;
            top = i;
            /* k -= digit: k is now a multiple of 2^w */
            if (digit > 0) {
                uint64_t dd = (uint64_t)k[0] - (uint32_t)digit;
                k[0] = (uint32_t)dd;
                for (int j = 1; j < 9 && (dd >> 63) != 0; ++j) {
                    dd = (uint64_t)k[j] - 1u;
                    k[j] = (uint32_t)dd;
                }
            } else {
                uint64_t c = (uint64_t)k[0] + (uint32_t)(-digit);
                k[0] = (uint32_t)c;
                for (int j = 1; j < 9 && (c >> 32) != 0; ++j) {
                    c = (uint64_t)k[j] + 1u;
                    k[j] = (uint32_t)c;
                }
            }
        }
        for (int j = 0; j < 8; ++j) {
            k[j] = (k[j] >> 1) | (k[j + 1] << 31);
        }
        k[8] >>= 1;
    }
    return top;
}

/* r += digit * table[odd multiples], digit odd or zero. */
static void ge_add_digit(ge_t *r, const ge_t *table, int digit)
{
    if (digit > 0) {
        ge_add(r, r, &table[digit / 2]);
    } else if (digit < 0) {
        ge_t neg;
        ge_neg(&neg, &table[-digit / 2]);
        ge_add(r, r, &neg);
    }
}

/* [s]B + [k]Q in one shared run of doublings (Straus), both scalars in signed windows: width
 * 5 for s over the constant table of B, width 4 for k over Q, 3Q, 5Q, 7Q built here. About
 * 253 doublings and 95 additions, where plain double-and-add needs about 190 additions. */
static void ge_double_scalar_mult(ge_t *r, const uint32_t s[8], const uint32_t k[8], const ge_t *q)
{
    int8_t naf_s[256], naf_k[256];
    int top_s = sc_wnaf(naf_s, s, 5);
    int top_k = sc_wnaf(naf_k, k, 4);

    ge_t q_odd[4], q2;
    q_odd[0] = *q;
    ge_double(&q2, q);
    for (int i = 1; i < 4; ++i) {
        ge_add(&q_odd[i], &q_odd[i - 1], &q2);
    }

    ge_identity(r);
    for (int i = top_s > top_k ? top_s : top_k; i >= 0; --i) {
        ge_double_t(r, r, naf_s[i] != 0 || naf_k[i] != 0);
        ge_add_digit(r, BASE_ODD, naf_s[i]);
        ge_add_digit(r, q_odd, naf_k[i]);
    }
}

/* ---- verification ------------------------------------------------------------------------ */

tm_ed25519_status_t tm_ed25519_verify_start(tm_ed25519_verify_ctx_t *ctx,
                                            const uint8_t signature[TM_ED25519_SIGNATURE_BYTES],
                                            const uint8_t public_key[TM_ED25519_PUBLIC_KEY_BYTES])
{
    if (ctx == NULL || signature == NULL || public_key == NULL) {
        return TM_ED25519_BAD_ARGUMENT;
    }
    memcpy(ctx->signature, signature, TM_ED25519_SIGNATURE_BYTES);
    memcpy(ctx->public_key, public_key, TM_ED25519_PUBLIC_KEY_BYTES);
    tm_sha512_init(&ctx->hash);
    tm_sha512_update(&ctx->hash, ctx->signature, 32); /* R */
    tm_sha512_update(&ctx->hash, ctx->public_key, TM_ED25519_PUBLIC_KEY_BYTES);
    ctx->started = 1;
    return TM_ED25519_OK;
}

void tm_ed25519_verify_update(tm_ed25519_verify_ctx_t *ctx, const void *data, size_t len)
{
    if (ctx == NULL || !ctx->started) {
        return; /* finish reports BAD_ARGUMENT */
    }
    if (data == NULL && len != 0) {
        ctx->started = 0; /* bytes went missing: finish reports BAD_ARGUMENT, never OK */
        return;
    }
    tm_sha512_update(&ctx->hash, data, len);
}

tm_ed25519_status_t tm_ed25519_verify_finish(tm_ed25519_verify_ctx_t *ctx)
{
    if (ctx == NULL || !ctx->started) {
        return TM_ED25519_BAD_ARGUMENT;
    }
    ctx->started = 0;

    uint32_t s[8];
    limbs_from_bytes(s, ctx->signature + 32);
    if (!limbs_less(s, SC_L)) {
        return TM_ED25519_S_OUT_OF_RANGE;
    }

    ge_t a;
    if (!ge_decode(&a, ctx->public_key) || ge_has_small_order(&a)) {
        return TM_ED25519_BAD_PUBLIC_KEY;
    }

    uint8_t h[TM_SHA512_DIGEST_BYTES];
    uint32_t k[8];
    tm_sha512_final(&ctx->hash, h);
    sc_reduce512(k, h);

    /* R' = [S]B - [k]A. Comparing its canonical encoding with the signature's R bytes also
     * refuses every R that is not a canonical point encoding, without decoding R. */
    ge_t r_check;
    ge_neg(&a, &a);
    ge_double_scalar_mult(&r_check, s, k, &a);
    uint8_t r_bytes[32];
    ge_encode(r_bytes, &r_check);
    uint8_t diff = 0;
    for (int i = 0; i < 32; ++i) {
        diff |= (uint8_t)(r_bytes[i] ^ ctx->signature[i]);
    }
    return diff == 0 ? TM_ED25519_OK : TM_ED25519_BAD_SIGNATURE;
}

tm_ed25519_status_t tm_ed25519_verify(const uint8_t signature[TM_ED25519_SIGNATURE_BYTES],
                                      const uint8_t public_key[TM_ED25519_PUBLIC_KEY_BYTES],
                                      const void *msg, size_t msg_len)
{
    if (msg == NULL && msg_len != 0) {
        return TM_ED25519_BAD_ARGUMENT;
    }
    tm_ed25519_verify_ctx_t ctx;
    tm_ed25519_status_t st = tm_ed25519_verify_start(&ctx, signature, public_key);
    if (st != TM_ED25519_OK) {
        return st;
    }
    tm_ed25519_verify_update(&ctx, msg, msg_len);
    return tm_ed25519_verify_finish(&ctx);
}

/* ---- signing (device identity, attestation) ------------------------------------------------
 *
 * RFC 8032 5.1.5 (key generation) and 5.1.6 (signing), on the verifier's field, point and
 * scalar code. The secret scalar reaches only [r]B and [a]B (signed windows over the constant
 * table of B) and the product k a mod L. Not constant time: the window digits decide which
 * table entry is added and whether an addition happens, so a device that lets an attacker time
 * many signatures with one key leaks information about it; what the agent signs is an
 * attestation a host asked for over its link, once per request. */

/* [s]B, s < 2^253: one run of doublings with width-5 signed digits over BASE_ODD. */
static void ge_scalarmult_base(ge_t *r, const uint32_t s[8])
{
    int8_t naf[256];
    const int top = sc_wnaf(naf, s, 5);
    ge_identity(r);
    for (int i = top; i >= 0; --i) {
        ge_double_t(r, r, naf[i] != 0);
        ge_add_digit(r, BASE_ODD, naf[i]);
    }
}

static void limbs_to_bytes(uint8_t b[32], const uint32_t v[8])
{
    for (int i = 0; i < 8; ++i) {
        b[4 * i + 0] = (uint8_t)v[i];
        b[4 * i + 1] = (uint8_t)(v[i] >> 8);
        b[4 * i + 2] = (uint8_t)(v[i] >> 16);
        b[4 * i + 3] = (uint8_t)(v[i] >> 24);
    }
}

/* 32 little-endian bytes mod L. */
static void sc_reduce256(uint32_t r[8], const uint8_t b[32])
{
    uint8_t wide[64];
    memcpy(wide, b, 32);
    memset(wide + 32, 0, 32);
    sc_reduce512(r, wide);
}

/* (k a + r) mod L for k, a, r < L: a 512-bit product, then the bit-serial reduction. */
static void sc_muladd(uint32_t out[8], const uint32_t k[8], const uint32_t a[8], const uint32_t r[8])
{
    uint32_t t[16];
    memset(t, 0, sizeof t);
    for (int i = 0; i < 8; ++i) {
        uint32_t carry = 0;
        for (int j = 0; j < 8; ++j) {
            mul_add2(&t[i + j], &carry, k[i], a[j]);
        }
        t[i + 8] = carry;
    }
    uint64_t c = 0;
    for (int i = 0; i < 16; ++i) {
        c += (uint64_t)t[i] + (i < 8 ? r[i] : 0u);
        t[i] = (uint32_t)c;
        c >>= 32;
    }
    uint8_t wide[64];
    for (int i = 0; i < 16; ++i) {
        wide[4 * i + 0] = (uint8_t)t[i];
        wide[4 * i + 1] = (uint8_t)(t[i] >> 8);
        wide[4 * i + 2] = (uint8_t)(t[i] >> 16);
        wide[4 * i + 3] = (uint8_t)(t[i] >> 24);
    }
    sc_reduce512(out, wide);
}

/* memset that the compiler may not drop: the secret scalar and nonce leave no copy behind. */
static void wipe(void *p, size_t n)
{
    volatile uint8_t *v = (volatile uint8_t *)p;
    while (n-- != 0) {
        *v++ = 0;
    }
}

/* SHA-512(seed) -> the secret scalar a (clamped, then reduced mod L: [a]B is unchanged since
 * B has order L) and the 32-byte nonce prefix. */
static void expand_seed(uint32_t a[8], uint8_t prefix[32], const uint8_t seed[32])
{
    uint8_t h[TM_SHA512_DIGEST_BYTES];
    tm_sha512(seed, 32, h);
    h[0] &= 248u;
    h[31] &= 127u;
    h[31] |= 64u;
    sc_reduce256(a, h);
    memcpy(prefix, h + 32, 32);
    wipe(h, sizeof h);
}

tm_ed25519_status_t tm_ed25519_public_key(uint8_t public_key[TM_ED25519_PUBLIC_KEY_BYTES],
                                          const uint8_t seed[TM_ED25519_SEED_BYTES])
{
    if (public_key == NULL || seed == NULL) {
        return TM_ED25519_BAD_ARGUMENT;
    }
    uint32_t a[8];
    uint8_t prefix[32];
    expand_seed(a, prefix, seed);
    ge_t p;
    ge_scalarmult_base(&p, a);
    ge_encode(public_key, &p);
    wipe(a, sizeof a);
    wipe(prefix, sizeof prefix);
    wipe(&p, sizeof p);
    return TM_ED25519_OK;
}

tm_ed25519_status_t tm_ed25519_sign(uint8_t signature[TM_ED25519_SIGNATURE_BYTES], const void *msg,
                                    size_t msg_len, const uint8_t seed[TM_ED25519_SEED_BYTES],
                                    const uint8_t public_key[TM_ED25519_PUBLIC_KEY_BYTES])
{
    if (signature == NULL || seed == NULL || public_key == NULL || (msg == NULL && msg_len != 0)) {
        return TM_ED25519_BAD_ARGUMENT;
    }
    uint32_t a[8], r[8], k[8], s[8];
    uint8_t prefix[32], h[TM_SHA512_DIGEST_BYTES];
    tm_sha512_ctx_t hash;
    expand_seed(a, prefix, seed);

    /* r = SHA-512(prefix || M) mod L, R = [r]B */
    tm_sha512_init(&hash);
    tm_sha512_update(&hash, prefix, sizeof prefix);
    tm_sha512_update(&hash, msg, msg_len);
    tm_sha512_final(&hash, h);
    sc_reduce512(r, h);
    ge_t rp;
    ge_scalarmult_base(&rp, r);
    uint8_t r_bytes[32];
    ge_encode(r_bytes, &rp);

    /* k = SHA-512(R || A || M) mod L, S = (r + k a) mod L */
    tm_sha512_init(&hash);
    tm_sha512_update(&hash, r_bytes, sizeof r_bytes);
    tm_sha512_update(&hash, public_key, TM_ED25519_PUBLIC_KEY_BYTES);
    tm_sha512_update(&hash, msg, msg_len);
    tm_sha512_final(&hash, h);
    sc_reduce512(k, h);
    sc_muladd(s, k, a, r);

    memcpy(signature, r_bytes, 32);
    limbs_to_bytes(signature + 32, s);
    wipe(a, sizeof a);
    wipe(r, sizeof r);
    wipe(prefix, sizeof prefix);
    wipe(&hash, sizeof hash);
    wipe(&rp, sizeof rp);
    return TM_ED25519_OK;
}

const char *tm_ed25519_status_name(tm_ed25519_status_t status)
{
    switch (status) {
    case TM_ED25519_OK:
        return "signature valid";
    case TM_ED25519_BAD_SIGNATURE:
        return "signature does not match the message and key";
    case TM_ED25519_S_OUT_OF_RANGE:
        return "signature scalar S is not below the group order (non-canonical)";
    case TM_ED25519_BAD_PUBLIC_KEY:
        return "public key is not a valid curve point of large order";
    case TM_ED25519_BAD_ARGUMENT:
        return "missing argument or verification not started";
    }
    return "unknown status";
}
