// Ed25519 verification of the agent (firmware-agent/crypto/tm_ed25519.h): RFC 8032 test
// vectors, signatures made by libsodium on random keys and messages, every single-bit
// modification of message, signature and key, and the encodings a strict verifier refuses.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include <sodium.h>

#include "crypto_test_support.h"
#include "tm_ed25519.h"

namespace
{

class CryptoEd25519 : public ::testing::Test
{
  protected:
    void SetUp() override { ASSERT_GE(sodium_init(), 0); }
};

struct Signed {
    std::vector<uint8_t> pk = std::vector<uint8_t>(32);
    std::vector<uint8_t> sig = std::vector<uint8_t>(64);
    std::vector<uint8_t> msg;
};

Signed signRandom(std::mt19937 &rng, size_t msgLen)
{
    Signed s;
    std::vector<uint8_t> sk(crypto_sign_SECRETKEYBYTES);
    crypto_sign_keypair(s.pk.data(), sk.data());
    s.msg.resize(msgLen);
    for (auto &b : s.msg) {
        b = static_cast<uint8_t>(rng());
    }
    crypto_sign_detached(s.sig.data(), nullptr, s.msg.data(), s.msg.size(), sk.data());
    return s;
}

tm_ed25519_status_t verify(const Signed &s)
{
    return tm_ed25519_verify(s.sig.data(), s.pk.data(), s.msg.data(), s.msg.size());
}

// RFC 8032 section 7.1, TEST 1-3: the secret seed, the public key and signature it lists.
struct RfcVector {
    const char *seed, *pk, *msg, *sig;
};
const RfcVector kRfc[] = {
    {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b"
     "46bd25bf5f0595bbe24655141438e7a100b"},
    {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11"
     "d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc"
     "6594a7c15e9716ed28dc027beceea1ec40a"},
};

TEST_F(CryptoEd25519, Rfc8032Vectors)
{
    for (const auto &v : kRfc) {
        Signed s{fromHex(v.pk), fromHex(v.sig), fromHex(v.msg)};
        EXPECT_EQ(verify(s), TM_ED25519_OK) << v.pk;

        // libsodium derives the same key and signature from the seed (checks the test setup).
        std::vector<uint8_t> pk(32), sk(64), sig(64);
        crypto_sign_seed_keypair(pk.data(), sk.data(), fromHex(v.seed).data());
        crypto_sign_detached(sig.data(), nullptr, s.msg.data(), s.msg.size(), sk.data());
        EXPECT_EQ(pk, s.pk);
        EXPECT_EQ(sig, s.sig);

        // The message with one byte more or (when not empty) one byte less.
        Signed longer = s;
        longer.msg.push_back(0);
        EXPECT_NE(verify(longer), TM_ED25519_OK);
        if (!s.msg.empty()) {
            Signed shorter = s;
            shorter.msg.pop_back();
            EXPECT_NE(verify(shorter), TM_ED25519_OK);
        }
    }
}

TEST_F(CryptoEd25519, LibsodiumSignaturesOnRandomKeysAndMessages)
{
    std::mt19937 rng(1701);
    for (int i = 0; i < 300; ++i) {
        Signed s = signRandom(rng, rng() % 700);
        ASSERT_EQ(verify(s), TM_ED25519_OK) << "case " << i << " key " << toHex(s.pk.data(), 32);

        // Streaming in random pieces gives the same answer.
        tm_ed25519_verify_ctx_t ctx;
        ASSERT_EQ(tm_ed25519_verify_start(&ctx, s.sig.data(), s.pk.data()), TM_ED25519_OK);
        size_t at = 0;
        while (at < s.msg.size()) {
            size_t n = std::min<size_t>(s.msg.size() - at, rng() % 300);
            tm_ed25519_verify_update(&ctx, s.msg.data() + at, n);
            at += n;
        }
        ASSERT_EQ(tm_ed25519_verify_finish(&ctx), TM_ED25519_OK) << "case " << i;
    }
}

// The acceptance rule of issue 17: no modified byte anywhere passes. Every single-bit flip
// of message, signature and key, on several keys; libsodium must agree on each refusal.
TEST_F(CryptoEd25519, EverySingleBitFlipIsRefused)
{
    std::mt19937 rng(4242);
    int checked = 0;
    for (int k = 0; k < 6; ++k) {
        const Signed good = signRandom(rng, 1 + rng() % 64);
        ASSERT_EQ(verify(good), TM_ED25519_OK);
        std::vector<uint8_t> Signed::*fields[] = {&Signed::msg, &Signed::sig, &Signed::pk};
        const char *names[] = {"message", "signature", "key"};
        for (int f = 0; f < 3; ++f) {
            const size_t bits = (good.*fields[f]).size() * 8;
            for (size_t bit = 0; bit < bits; ++bit) {
                Signed bad = good;
                (bad.*fields[f])[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
                const tm_ed25519_status_t st = verify(bad);
                ASSERT_NE(st, TM_ED25519_OK) << names[f] << " bit " << bit << " of key case " << k;
                ASSERT_NE(crypto_sign_verify_detached(bad.sig.data(), bad.msg.data(),
                                                      bad.msg.size(), bad.pk.data()),
                          0);
                ++checked;
            }
        }
    }
    EXPECT_GT(checked, 6 * (8 + 512 + 256));
}

// S + L encodes "the same" S modulo L: a malleated signature. Both it and S = L itself
// must be refused as out of range, not reduced.
TEST_F(CryptoEd25519, NonCanonicalScalarIsRefused)
{
    // L, little-endian
    const std::vector<uint8_t> L =
        fromHex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
    std::mt19937 rng(99);
    for (int i = 0; i < 20; ++i) {
        Signed s = signRandom(rng, 32);
        ASSERT_EQ(verify(s), TM_ED25519_OK);
        Signed mall = s;
        unsigned carry = 0;
        for (int j = 0; j < 32; ++j) { // S += L (S < L, so this fits in 254 bits)
            unsigned v = mall.sig[32 + j] + L[j] + carry;
            mall.sig[32 + j] = static_cast<uint8_t>(v);
            carry = v >> 8;
        }
        ASSERT_EQ(carry, 0u);
        EXPECT_EQ(verify(mall), TM_ED25519_S_OUT_OF_RANGE);
        EXPECT_NE(crypto_sign_verify_detached(mall.sig.data(), mall.msg.data(), mall.msg.size(),
                                              mall.pk.data()),
                  0);
    }
    Signed s = signRandom(rng, 8);
    std::copy(L.begin(), L.end(), s.sig.begin() + 32);
    EXPECT_EQ(verify(s), TM_ED25519_S_OUT_OF_RANGE);
    std::fill(s.sig.begin() + 32, s.sig.end(), 0xff);
    EXPECT_EQ(verify(s), TM_ED25519_S_OUT_OF_RANGE);
}

// Keys that are not the canonical encoding of a point of large order.
TEST_F(CryptoEd25519, BadPublicKeyEncodingsAreRefused)
{
    std::mt19937 rng(7);
    const Signed good = signRandom(rng, 16);
    auto withKey = [&](const std::string &hex) {
        Signed s = good;
        s.pk = fromHex(hex);
        return verify(s);
    };
    // y = p and y = p + 1 (non-canonical encodings of 0 and 1), y = 2^255 - 1.
    EXPECT_EQ(withKey("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
              TM_ED25519_BAD_PUBLIC_KEY);
    EXPECT_EQ(withKey("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
              TM_ED25519_BAD_PUBLIC_KEY);
    EXPECT_EQ(withKey("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
              TM_ED25519_BAD_PUBLIC_KEY);
    // Small order: the identity (y = 1), (0, -1) of order 2 (y = p - 1), the order-4 points
    // (y = 0, either sign), and "-0" (x = 0 with the sign bit set).
    EXPECT_EQ(withKey("0100000000000000000000000000000000000000000000000000000000000000"),
              TM_ED25519_BAD_PUBLIC_KEY);
    EXPECT_EQ(withKey("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
              TM_ED25519_BAD_PUBLIC_KEY);
    EXPECT_EQ(withKey("0000000000000000000000000000000000000000000000000000000000000000"),
              TM_ED25519_BAD_PUBLIC_KEY);
    EXPECT_EQ(withKey("0000000000000000000000000000000000000000000000000000000000000080"),
              TM_ED25519_BAD_PUBLIC_KEY);
    EXPECT_EQ(withKey("0100000000000000000000000000000000000000000000000000000000000080"),
              TM_ED25519_BAD_PUBLIC_KEY);

    // y values with no point on the curve: where libsodium says "not a point", so do we.
    int offCurve = 0;
    for (unsigned y = 2; y < 200; ++y) {
        std::vector<uint8_t> pk(32, 0);
        pk[0] = static_cast<uint8_t>(y);
        Signed s = good;
        s.pk = pk;
        if (!crypto_core_ed25519_is_valid_point(pk.data())) {
            const tm_ed25519_status_t st = verify(s);
            EXPECT_NE(st, TM_ED25519_OK) << "y = " << y;
            offCurve += st == TM_ED25519_BAD_PUBLIC_KEY;
        } else {
            EXPECT_EQ(verify(s), TM_ED25519_BAD_SIGNATURE) << "y = " << y;
        }
    }
    EXPECT_GT(offCurve, 50); // about half of all y have no x
}

// R is only ever compared as bytes with a canonical encoding: garbage R values never pass.
TEST_F(CryptoEd25519, BadSignaturePointsAreRefused)
{
    std::mt19937 rng(8);
    const Signed good = signRandom(rng, 16);
    for (const char *r : {"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
                          "0100000000000000000000000000000000000000000000000000000000000080",
                          "0000000000000000000000000000000000000000000000000000000000000000"}) {
        Signed s = good;
        const std::vector<uint8_t> rb = fromHex(r);
        std::copy(rb.begin(), rb.end(), s.sig.begin());
        EXPECT_EQ(verify(s), TM_ED25519_BAD_SIGNATURE) << r;
    }
    // A signature from another key over the same message.
    Signed other = signRandom(rng, 0);
    Signed s = good;
    s.pk = other.pk;
    EXPECT_EQ(verify(s), TM_ED25519_BAD_SIGNATURE);
}

// Random bytes as signature and key: refused, and in agreement with libsodium.
TEST_F(CryptoEd25519, RandomGarbageAgreesWithLibsodium)
{
    std::mt19937 rng(31337);
    for (int i = 0; i < 500; ++i) {
        Signed s;
        for (auto &b : s.pk)
            b = static_cast<uint8_t>(rng());
        for (auto &b : s.sig)
            b = static_cast<uint8_t>(rng());
        s.sig[63] &= 0x0f; // keep S mostly below L so the point checks are reached
        s.msg.resize(rng() % 40);
        for (auto &b : s.msg)
            b = static_cast<uint8_t>(rng());
        const bool ours = verify(s) == TM_ED25519_OK;
        const bool theirs =
            crypto_sign_verify_detached(s.sig.data(), s.msg.data(), s.msg.size(), s.pk.data()) == 0;
        ASSERT_FALSE(ours);
        ASSERT_EQ(ours, theirs);
    }
}

TEST_F(CryptoEd25519, ApiMisuseIsReported)
{
    std::mt19937 rng(5);
    const Signed s = signRandom(rng, 4);
    tm_ed25519_verify_ctx_t ctx{};
    EXPECT_EQ(tm_ed25519_verify_finish(&ctx), TM_ED25519_BAD_ARGUMENT); // never started
    EXPECT_EQ(tm_ed25519_verify_start(&ctx, nullptr, s.pk.data()), TM_ED25519_BAD_ARGUMENT);
    EXPECT_EQ(tm_ed25519_verify(s.sig.data(), s.pk.data(), nullptr, 3), TM_ED25519_BAD_ARGUMENT);
    ASSERT_EQ(tm_ed25519_verify_start(&ctx, s.sig.data(), s.pk.data()), TM_ED25519_OK);
    tm_ed25519_verify_update(&ctx, s.msg.data(), s.msg.size());
    EXPECT_EQ(tm_ed25519_verify_finish(&ctx), TM_ED25519_OK);
    EXPECT_EQ(tm_ed25519_verify_finish(&ctx), TM_ED25519_BAD_ARGUMENT); // finished already
    ASSERT_EQ(tm_ed25519_verify_start(&ctx, s.sig.data(), s.pk.data()), TM_ED25519_OK);
    tm_ed25519_verify_update(&ctx, nullptr, 4); // lost bytes
    tm_ed25519_verify_update(&ctx, s.msg.data(), s.msg.size());
    EXPECT_EQ(tm_ed25519_verify_finish(&ctx), TM_ED25519_BAD_ARGUMENT);
    EXPECT_STRNE(tm_ed25519_status_name(TM_ED25519_S_OUT_OF_RANGE), "unknown status");
}

} // namespace
