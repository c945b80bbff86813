// Signed packages on the agent (issue 17): one scenario run against the agent on a fake port,
// the host program over a pty and the QEMU images, so that every port answers the same way.
// Packages are signed here with libsodium (the host's signer), checked by the agent's C code.
#pragma once

#include <gtest/gtest.h>
#include <sodium.h>

#include <cstdio>
#include <functional>
#include <string>

#include "agent_test_support.h"
#include "tm_flash_image.h"
#include "tm_signed_package.h"

namespace tmtest {

struct TestKey {
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    uint8_t sk[crypto_sign_SECRETKEYBYTES];
    TestKey()
    {
        EXPECT_EQ(sodium_init() < 0, false);
        crypto_sign_keypair(pk, sk);
    }
    Bytes publicKey() const { return Bytes(pk, pk + sizeof pk); }
    Bytes keyId() const
    {
        Bytes id(TM_SIGNED_KEY_ID_BYTES);
        tm_signed_key_id(pk, id.data());
        return id;
    }
};

/// Bytes that pass for a package in a slot: "TMPK", total_size at 8, the rest varied by seed.
/// (The slots are format-agnostic; the interpreter is not what these tests are about.)
inline Bytes fakePackage(uint32_t size, uint32_t seed)
{
    Bytes p(size);
    for (uint32_t i = 0; i < size; ++i)
        p[i] = uint8_t((i * 131u + seed * 7u) ^ (i >> 7));
    std::memcpy(p.data(), "TMPK", 4);
    tm_put_u32(&p[8], size);
    return p;
}

/// package + the 96-byte block, signed with key (tm_signed_package.h's layout).
inline Bytes signPackage(const Bytes &package, uint32_t version, const TestKey &key)
{
    Bytes out = package;
    Bytes block(TM_SIGNED_BLOCK_BYTES, 0);
    tm_put_u32(&block[0], TM_SIGNED_BLOCK_MAGIC);
    tm_put_u16(&block[4], TM_SIGNED_BLOCK_VERSION);
    tm_put_u16(&block[6], TM_SIGNED_BLOCK_BYTES);
    tm_put_u32(&block[8], version);
    Bytes id = key.keyId();
    std::memcpy(&block[16], id.data(), id.size());
    Bytes message = package;
    message.insert(message.end(), block.begin(), block.begin() + TM_SIGNED_SIGNED_HEAD_BYTES);
    crypto_sign_detached(&block[32], nullptr, message.data(), message.size(), key.sk);
    out.insert(out.end(), block.begin(), block.end());
    return out;
}

/// INFO SECURITY decoded.
struct Security {
    bool present = false;
    bool provisioned = false;
    Bytes keyId;
    uint32_t counter = 0;
    uint32_t activeVersion = 0;
    uint32_t checkTicks = 0;
};

/// The requests a scenario needs, on whichever transport.
struct AgentClient {
    std::function<Frame(uint8_t op, const Bytes &payload)> request;
    /// The board restarts (reset, or a new process on the same flash) and is ready again.
    std::function<void()> restart;
    int chunk = 2000;

    Frame upload(const Bytes &bytes)
    {
        const uint32_t crc = tm_crc32(0, bytes.data(), bytes.size());
        Frame b = request(TM_OP_MODEL_BEGIN, cat({u32le(uint32_t(bytes.size())), u32le(crc)}));
        if (b.op != (TM_OP_MODEL_BEGIN | TM_OP_REPLY))
            return b;
        for (size_t off = 0; off < bytes.size(); off += size_t(chunk)) {
            Bytes c(bytes.begin() + long(off), bytes.begin() + long(std::min(bytes.size(), off + size_t(chunk))));
            Frame f = request(TM_OP_MODEL_CHUNK, cat({u32le(uint32_t(off)), c}));
            if (f.op != (TM_OP_MODEL_CHUNK | TM_OP_REPLY))
                return f;
        }
        return request(TM_OP_MODEL_COMMIT, {});
    }
    /// The active slot's CRC (MODEL_INFO); 0 without a model.
    uint32_t activeCrc()
    {
        Frame mi = request(TM_OP_MODEL_INFO, {});
        if (mi.payload.size() < 10 || mi.payload[1] != 1)
            return 0;
        return tm_get_u32(&mi.payload[6]);
    }
    Security security()
    {
        Security s;
        Frame f = request(TM_OP_GET_INFO, {});
        bool ok = false;
        auto info = parseInfo(f.payload, &ok);
        auto it = info.find(TM_INFO_SECURITY);
        if (!ok || it == info.end() || it->second.size() < 21)
            return s;
        const Bytes &v = it->second;
        s.present = true;
        s.provisioned = v[0] == 1;
        s.keyId.assign(v.begin() + 1, v.begin() + 9);
        s.counter = tm_get_u32(&v[9]);
        s.activeVersion = tm_get_u32(&v[13]);
        s.checkTicks = tm_get_u32(&v[17]);
        return s;
    }
};

inline uint32_t crcOf(const Bytes &b) { return tm_crc32(0, b.data(), b.size()); }

inline ::testing::AssertionResult isError(const Frame &f, uint16_t code)
{
    if (f.op == TM_OP_ERROR && f.errorCode() == code)
        return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "expected error " << code << ", got op 0x" << std::hex << int(f.op)
                                         << std::dec << " code " << f.errorCode() << " \"" << f.errorMessage()
                                         << "\"";
}

/// The whole story of issue 17's acceptance on one board, provisioned with `ours`; ends with
/// version 5 active and the counter at 5. Returns the counter ticks of the signature check of
/// a packageBytes package (INFO SECURITY), for the cost report.
inline uint32_t runSignedPackageScenario(AgentClient &c, uint32_t packageBytes, const TestKey &ours)
{
    TestKey theirs;
    const Bytes pkgA = fakePackage(packageBytes, 1), pkgB = fakePackage(packageBytes, 2);

    // --- not provisioned: plain packages as before, signed ones too (block not checked)
    Security s = c.security();
    EXPECT_TRUE(s.present);
    EXPECT_FALSE(s.provisioned);
    EXPECT_EQ(c.upload(pkgA).op, TM_OP_MODEL_COMMIT | TM_OP_REPLY);
    EXPECT_EQ(c.activeCrc(), crcOf(pkgA));
    const Bytes foreign = signPackage(pkgB, 9, theirs);
    EXPECT_EQ(c.upload(foreign).op, TM_OP_MODEL_COMMIT | TM_OP_REPLY);
    s = c.security();
    EXPECT_EQ(s.counter, 0u) << "an unprovisioned board must not move the counter";
    EXPECT_EQ(s.activeVersion, 9u);

    // --- PROVISION: length, a key that is no point, then ours; again the same; another refused
    EXPECT_TRUE(isError(c.request(TM_OP_PROVISION, Bytes(31, 1)), TM_ERR_BAD_LENGTH));
    EXPECT_TRUE(isError(c.request(TM_OP_PROVISION, Bytes(32, 0)), TM_ERR_BAD_ARGUMENT));
    Frame pr = c.request(TM_OP_PROVISION, ours.publicKey());
    EXPECT_EQ(pr.op, TM_OP_PROVISION | TM_OP_REPLY) << pr.errorMessage();
    EXPECT_EQ(pr.payload, ours.keyId());
    EXPECT_EQ(c.request(TM_OP_PROVISION, ours.publicKey()).op, TM_OP_PROVISION | TM_OP_REPLY);
    Frame again = c.request(TM_OP_PROVISION, theirs.publicKey());
    EXPECT_TRUE(isError(again, TM_ERR_ALREADY_PROVISIONED));
    s = c.security();
    EXPECT_TRUE(s.provisioned);
    EXPECT_EQ(s.keyId, ours.keyId());

    // --- every refusal leaves the previous model (foreign, committed above) active
    const uint32_t before = crcOf(foreign);
    EXPECT_TRUE(isError(c.upload(pkgA), TM_ERR_UNSIGNED));
    EXPECT_EQ(c.activeCrc(), before);
    Frame wrong = c.upload(signPackage(pkgA, 3, theirs));
    EXPECT_TRUE(isError(wrong, TM_ERR_WRONG_KEY));
    EXPECT_NE(wrong.errorMessage().find("the board trusts key"), std::string::npos) << wrong.errorMessage();
    EXPECT_EQ(c.activeCrc(), before);
    const Bytes good3 = signPackage(pkgA, 3, ours);
    // one modified byte: in the package, in the signed block head (version), in the signature
    for (size_t at : {size_t(100), size_t(packageBytes - 1), size_t(packageBytes + 8), size_t(packageBytes + 40),
                      size_t(packageBytes + 95)}) {
        Bytes bad = good3;
        bad[at] ^= 0x01;
        EXPECT_TRUE(isError(c.upload(bad), TM_ERR_BAD_SIGNATURE)) << "byte " << at;
        EXPECT_EQ(c.activeCrc(), before);
    }
    {
        Bytes bad = good3; // a reserved byte of the block: the block is malformed
        bad[packageBytes + 24] = 1;
        EXPECT_TRUE(isError(c.upload(bad), TM_ERR_SIGNED_MALFORMED));
        Bytes cut(good3.begin(), good3.end() - 4); // cut short: no block where it belongs
        EXPECT_TRUE(isError(c.upload(cut), TM_ERR_UNSIGNED));
        EXPECT_EQ(c.activeCrc(), before);
    }

    // --- the good package commits and sets the counter; older is refused, equal accepted
    EXPECT_EQ(c.upload(good3).op, TM_OP_MODEL_COMMIT | TM_OP_REPLY);
    EXPECT_EQ(c.activeCrc(), crcOf(good3));
    s = c.security();
    EXPECT_EQ(s.counter, 3u);
    EXPECT_EQ(s.activeVersion, 3u);
    const uint32_t ticks = s.checkTicks;
    Frame old = c.upload(signPackage(pkgB, 2, ours));
    EXPECT_TRUE(isError(old, TM_ERR_ROLLBACK));
    EXPECT_NE(old.errorMessage().find("version 2 is older than the board's 3"), std::string::npos)
        << old.errorMessage();
    EXPECT_EQ(c.activeCrc(), crcOf(good3));
    const Bytes same3 = signPackage(pkgB, 3, ours);
    EXPECT_EQ(c.upload(same3).op, TM_OP_MODEL_COMMIT | TM_OP_REPLY);
    EXPECT_EQ(c.activeCrc(), crcOf(same3));

    // --- after a restart: still provisioned, the counter persisted, the replay still refused
    c.restart();
    s = c.security();
    EXPECT_TRUE(s.provisioned);
    EXPECT_EQ(s.keyId, ours.keyId());
    EXPECT_EQ(s.counter, 3u);
    EXPECT_EQ(c.activeCrc(), crcOf(same3));
    EXPECT_TRUE(isError(c.upload(signPackage(pkgA, 1, ours)), TM_ERR_ROLLBACK));
    EXPECT_TRUE(isError(c.upload(pkgA), TM_ERR_UNSIGNED));
    EXPECT_TRUE(isError(c.request(TM_OP_PROVISION, theirs.publicKey()), TM_ERR_ALREADY_PROVISIONED));
    EXPECT_EQ(c.activeCrc(), crcOf(same3));
    const Bytes good5 = signPackage(pkgA, 5, ours);
    EXPECT_EQ(c.upload(good5).op, TM_OP_MODEL_COMMIT | TM_OP_REPLY);
    EXPECT_EQ(c.security().counter, 5u);
    EXPECT_EQ(c.activeCrc(), crcOf(good5));
    return ticks;
}

} // namespace tmtest
