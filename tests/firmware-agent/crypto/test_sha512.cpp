// SHA-512 of the agent (firmware-agent/crypto) against the FIPS 180-4 example digests and,
// on random inputs split at random points, against libsodium's crypto_hash_sha512.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include <sodium.h>

#include "crypto_test_support.h"
#include "tm_sha512.h"

namespace
{

std::string sha512Hex(const std::string &msg)
{
    uint8_t d[TM_SHA512_DIGEST_BYTES];
    tm_sha512(msg.data(), msg.size(), d);
    return toHex(d, sizeof d);
}

TEST(CryptoSha512, FipsExamples)
{
    EXPECT_EQ(sha512Hex(""), "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
                             "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e");
    EXPECT_EQ(sha512Hex("abc"), "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                                "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
    // 896 bits: the padding needs a second block.
    EXPECT_EQ(sha512Hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
                        "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
              "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018"
              "501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909");
}

TEST(CryptoSha512, MillionTimesAInOddChunks)
{
    tm_sha512_ctx_t ctx;
    tm_sha512_init(&ctx);
    const std::string chunk(997, 'a');
    size_t left = 1000000;
    while (left > 0) {
        size_t n = std::min(left, chunk.size());
        tm_sha512_update(&ctx, chunk.data(), n);
        left -= n;
    }
    uint8_t d[TM_SHA512_DIGEST_BYTES];
    tm_sha512_final(&ctx, d);
    EXPECT_EQ(toHex(d, sizeof d),
              "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973eb"
              "de0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b");
}

// Every length around the padding boundaries (111, 112, 127, 128, ...) and random splits.
TEST(CryptoSha512, MatchesLibsodiumOnRandomSplits)
{
    ASSERT_GE(sodium_init(), 0);
    std::mt19937 rng(17);
    for (size_t len = 0; len < 600; ++len) {
        std::vector<uint8_t> msg(len);
        for (auto &b : msg) {
            b = static_cast<uint8_t>(rng());
        }
        uint8_t expect[crypto_hash_sha512_BYTES];
        crypto_hash_sha512(expect, msg.data(), msg.size());

        tm_sha512_ctx_t ctx;
        tm_sha512_init(&ctx);
        size_t at = 0;
        while (at < len) {
            size_t n = std::min<size_t>(len - at, rng() % 200);
            tm_sha512_update(&ctx, msg.data() + at, n);
            at += n;
        }
        uint8_t got[TM_SHA512_DIGEST_BYTES];
        tm_sha512_final(&ctx, got);
        ASSERT_EQ(toHex(got, sizeof got), toHex(expect, sizeof expect)) << "length " << len;
    }
}

} // namespace
