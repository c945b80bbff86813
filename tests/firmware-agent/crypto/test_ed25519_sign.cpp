// Ed25519 signing of the agent (tm_ed25519_sign, tm_ed25519_public_key: the device identity
// key that signs attestations): RFC 8032 section 7.1 TEST 1 and 2 byte for byte, then
// signatures of random seeds and messages checked by the agent's own verifier AND libsodium,
// and equal to libsodium's (Ed25519 is deterministic).
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include <sodium.h>

#include "crypto_test_support.h"
#include "tm_ed25519.h"

namespace
{

class CryptoEd25519Sign : public ::testing::Test
{
  protected:
    void SetUp() override { ASSERT_GE(sodium_init(), 0); }
};

struct Vector {
    const char *seed, *pk, *msg, *sig;
};
const Vector kRfc[] = {
    // TEST 1 (empty message)
    {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b"
     "46bd25bf5f0595bbe24655141438e7a100b"},
    // TEST 2 (one byte)
    {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11"
     "d8c387b2eaeb4302aeeb00d291612bb0c00"},
};

TEST_F(CryptoEd25519Sign, Rfc8032Test1And2)
{
    for (const auto &v : kRfc) {
        const auto seed = fromHex(v.seed);
        const auto msg = fromHex(v.msg);
        std::vector<uint8_t> pk(32), sig(64);
        ASSERT_EQ(tm_ed25519_public_key(pk.data(), seed.data()), TM_ED25519_OK);
        EXPECT_EQ(toHex(pk.data(), pk.size()), v.pk);
        ASSERT_EQ(tm_ed25519_sign(sig.data(), msg.data(), msg.size(), seed.data(), pk.data()), TM_ED25519_OK);
        EXPECT_EQ(toHex(sig.data(), sig.size()), v.sig);
        EXPECT_EQ(tm_ed25519_verify(sig.data(), pk.data(), msg.data(), msg.size()), TM_ED25519_OK);
        EXPECT_EQ(crypto_sign_verify_detached(sig.data(), msg.data(), msg.size(), pk.data()), 0);
    }
}

TEST_F(CryptoEd25519Sign, RandomKeysVerifiedByBothVerifiersAndEqualLibsodium)
{
    std::mt19937 rng(17);
    for (int round = 0; round < 64; ++round) {
        std::vector<uint8_t> seed(32), msg(size_t(rng() % 400));
        for (auto &b : seed)
            b = uint8_t(rng());
        for (auto &b : msg)
            b = uint8_t(rng());
        std::vector<uint8_t> pk(32), sig(64), refPk(32), refSk(64), refSig(64);
        ASSERT_EQ(tm_ed25519_public_key(pk.data(), seed.data()), TM_ED25519_OK);
        ASSERT_EQ(tm_ed25519_sign(sig.data(), msg.data(), msg.size(), seed.data(), pk.data()), TM_ED25519_OK);
        crypto_sign_seed_keypair(refPk.data(), refSk.data(), seed.data());
        crypto_sign_detached(refSig.data(), nullptr, msg.data(), msg.size(), refSk.data());
        EXPECT_EQ(pk, refPk) << "round " << round;
        EXPECT_EQ(sig, refSig) << "round " << round;
        EXPECT_EQ(tm_ed25519_verify(sig.data(), pk.data(), msg.data(), msg.size()), TM_ED25519_OK);
        EXPECT_EQ(crypto_sign_verify_detached(sig.data(), msg.data(), msg.size(), pk.data()), 0);
        // a signature of another message does not verify for this one
        if (!msg.empty()) {
            msg[rng() % msg.size()] ^= uint8_t(1u << (rng() % 8));
            EXPECT_EQ(tm_ed25519_verify(sig.data(), pk.data(), msg.data(), msg.size()),
                      TM_ED25519_BAD_SIGNATURE);
            EXPECT_NE(crypto_sign_verify_detached(sig.data(), msg.data(), msg.size(), pk.data()), 0);
        }
    }
}

TEST_F(CryptoEd25519Sign, RefusesMissingArguments)
{
    uint8_t seed[32] = {1}, pk[32], sig[64];
    ASSERT_EQ(tm_ed25519_public_key(pk, seed), TM_ED25519_OK);
    EXPECT_EQ(tm_ed25519_public_key(nullptr, seed), TM_ED25519_BAD_ARGUMENT);
    EXPECT_EQ(tm_ed25519_public_key(pk, nullptr), TM_ED25519_BAD_ARGUMENT);
    EXPECT_EQ(tm_ed25519_sign(sig, nullptr, 3, seed, pk), TM_ED25519_BAD_ARGUMENT);
    EXPECT_EQ(tm_ed25519_sign(nullptr, "", 0, seed, pk), TM_ED25519_BAD_ARGUMENT);
    EXPECT_EQ(tm_ed25519_sign(sig, "", 0, nullptr, pk), TM_ED25519_BAD_ARGUMENT);
    EXPECT_EQ(tm_ed25519_sign(sig, "", 0, seed, nullptr), TM_ED25519_BAD_ARGUMENT);
    EXPECT_EQ(tm_ed25519_sign(sig, nullptr, 0, seed, pk), TM_ED25519_OK);
}

} // namespace
