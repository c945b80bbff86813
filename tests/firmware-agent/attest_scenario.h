// Device attestation on the agent (issue 17, ATTEST): one scenario run against the agent on a
// fake port, the host program over a pty and the QEMU image, so every port answers the same
// way. The answers are judged here as the host judges them: the device's statement parser
// (tm_attest_verify: layout, device id, signature with the agent's verifier), libsodium's
// crypto_sign_verify_detached over the exact bytes, the nonce sent, the recorded device key.
#pragma once

#include "signed_package_scenario.h"
#include "tm_attest.h"

namespace tmtest {

/// A fresh device identity as `tinyml provision` makes one: seed and libsodium's public key.
struct TestIdentity {
    Bytes seed = Bytes(32);
    Bytes pk = Bytes(32);
    TestIdentity()
    {
        EXPECT_GE(sodium_init(), 0);
        randombytes_buf(seed.data(), seed.size());
        uint8_t sk[crypto_sign_SECRETKEYBYTES];
        crypto_sign_seed_keypair(pk.data(), sk, seed.data());
    }
};

inline Bytes randomNonce()
{
    Bytes n(TM_ATTEST_NONCE_BYTES);
    randombytes_buf(n.data(), n.size());
    return n;
}

/// The host's verdict on an ATTEST answer: "" when verified, else why not.
inline std::string judge(const Bytes &reply, const Bytes &nonce, const Bytes &devicePk, tm_attest_t *out = nullptr)
{
    tm_attest_t st;
    const tm_attest_status_t v = tm_attest_verify(reply.data(), reply.size(), &st);
    if (v != TM_ATTEST_OK)
        return tm_attest_status_name(v);
    if (crypto_sign_verify_detached(st.signature, reply.data(), TM_ATTEST_STATEMENT_BYTES, st.device_public_key) != 0)
        return "libsodium refuses the signature";
    if (Bytes(st.nonce, st.nonce + 32) != nonce)
        return "nonce mismatch (replay)";
    if (Bytes(st.device_public_key, st.device_public_key + 32) != devicePk)
        return "device key is not the provisioned one";
    if (out)
        *out = st;
    return "";
}

inline Bytes sha512Of(const Bytes &b)
{
    Bytes h(64);
    crypto_hash_sha512(h.data(), b.data(), b.size());
    return h;
}

/// Unprovisioned -> NOT_PROVISIONED; provision with an identity; attest verified with the
/// package hash, version and counter; any modified byte and an old answer to a new nonce
/// refused; the identity written once and kept across a restart. Returns the last good
/// statement (for port-specific checks such as the firmware hash).
inline tm_attest_t runAttestScenario(AgentClient &c, const TestKey &project)
{
    tm_attest_t last{};
    const Bytes nonce0 = randomNonce();
    // --- a board without an identity cannot attest, whatever the nonce
    EXPECT_TRUE(isError(c.request(TM_OP_ATTEST, nonce0), TM_ERR_NOT_PROVISIONED));
    EXPECT_TRUE(isError(c.request(TM_OP_ATTEST, Bytes(31, 1)), TM_ERR_BAD_LENGTH));
    // --- PROVISION with an identity: key id then the device public key
    TestIdentity id;
    EXPECT_TRUE(isError(c.request(TM_OP_PROVISION, cat({project.publicKey(), Bytes(32, 0)})), TM_ERR_BAD_ARGUMENT));
    EXPECT_TRUE(isError(c.request(TM_OP_PROVISION, cat({project.publicKey(), Bytes(31, 1)})), TM_ERR_BAD_LENGTH));
    Frame pr = c.request(TM_OP_PROVISION, cat({project.publicKey(), id.seed}));
    EXPECT_EQ(pr.op, TM_OP_PROVISION | TM_OP_REPLY) << pr.errorMessage();
    EXPECT_EQ(pr.payload, cat({project.keyId(), id.pk})) << "the device key must be libsodium's for the seed";

    // --- attest: verified; the package the board runs is named by its hash
    const Bytes pkg = signPackage(fakePackage(3000, 5), 7, project);
    Frame up = c.upload(pkg);
    EXPECT_EQ(up.op, TM_OP_MODEL_COMMIT | TM_OP_REPLY) << up.errorMessage();
    const Bytes nonce1 = randomNonce();
    Frame a1 = c.request(TM_OP_ATTEST, nonce1);
    EXPECT_EQ(a1.op, TM_OP_ATTEST | TM_OP_REPLY) << a1.errorMessage();
    EXPECT_EQ(a1.payload.size(), size_t(TM_ATTEST_REPLY_BYTES));
    tm_attest_t st{};
    EXPECT_EQ(judge(a1.payload, nonce1, id.pk, &st), "");
    EXPECT_EQ(Bytes(st.package_hash, st.package_hash + 64), sha512Of(pkg));
    EXPECT_EQ(st.package_size, pkg.size());
    EXPECT_EQ(st.package_version, 7u);
    EXPECT_EQ(st.counter, 7u);
    EXPECT_TRUE(st.flags & TM_ATTEST_FLAG_PACKAGE);
    EXPECT_TRUE(st.flags & TM_ATTEST_FLAG_PROVISIONED);
    EXPECT_EQ(Bytes(st.project_key_id, st.project_key_id + 8), project.keyId());

    // --- every modified byte of the answer fails (signature, layout or id)
    int refused = 0;
    for (size_t i = 0; i < a1.payload.size(); ++i) {
        Bytes bad = a1.payload;
        bad[i] ^= 0x20;
        refused += judge(bad, nonce1, id.pk).empty() ? 0 : 1;
    }
    EXPECT_EQ(refused, int(TM_ATTEST_REPLY_BYTES)) << "a modified answer passed";
    // --- the old answer offered for a new request: refused for its nonce
    const Bytes nonce2 = randomNonce();
    EXPECT_EQ(judge(a1.payload, nonce2, id.pk), "nonce mismatch (replay)");
    Frame a2 = c.request(TM_OP_ATTEST, nonce2);
    EXPECT_EQ(judge(a2.payload, nonce2, id.pk), "");
    EXPECT_NE(a1.payload, a2.payload);
    // --- another key claiming to be the device: refused
    TestIdentity other;
    EXPECT_EQ(judge(a2.payload, nonce2, other.pk), "device key is not the provisioned one");

    // --- the identity is written once: a second provisioning keeps it (and says which)
    Frame again = c.request(TM_OP_PROVISION, cat({project.publicKey(), other.seed}));
    EXPECT_EQ(again.op, TM_OP_PROVISION | TM_OP_REPLY) << again.errorMessage();
    EXPECT_EQ(again.payload, cat({project.keyId(), id.pk}));
    // --- and survives a restart
    c.restart();
    const Bytes nonce3 = randomNonce();
    Frame a3 = c.request(TM_OP_ATTEST, nonce3);
    EXPECT_EQ(judge(a3.payload, nonce3, id.pk, &last), "") << a3.errorMessage();
    EXPECT_EQ(Bytes(last.package_hash, last.package_hash + 64), sha512Of(pkg));
    return last;
}

} // namespace tmtest
