// Device attestation on the agent core (issue 17, ATTEST) on a fake port: the whole scenario
// (attest_scenario.h), the capability bits, boards provisioned before attestation, boards
// without identity storage or firmware measurement, and the identity record of the flash image.
#include "attest_scenario.h"

using namespace tmtest;

namespace {

AgentClient clientOf(AgentHarness &h)
{
    AgentClient c;
    c.request = [&h](uint8_t op, const Bytes &payload) { return h.request(op, payload); };
    c.restart = [&h] { tm_agent_init(h.agent.get(), &h.fake.port); };
    return c;
}

uint32_t capabilities(AgentHarness &h)
{
    bool ok = false;
    auto info = parseInfo(h.request(TM_OP_GET_INFO).payload, &ok);
    EXPECT_TRUE(ok);
    auto it = info.find(TM_INFO_CAPABILITIES);
    return it == info.end() ? 0u : tm_get_u32(it->second.data());
}

} // namespace

TEST(AgentAttest, ProvisionAttestTamperReplayRestart)
{
    AgentHarness h;
    h.fake.enableProvisioning();
    h.fake.enableIdentity();
    h.fake.firmware = Bytes(64, 0xA5);
    tm_agent_init(h.agent.get(), &h.fake.port);
    EXPECT_TRUE(capabilities(h) & TM_CAP_ATTESTATION);
    AgentClient c = clientOf(h);
    TestKey project;
    const tm_attest_t st = runAttestScenario(c, project);
    EXPECT_TRUE(st.flags & TM_ATTEST_FLAG_FIRMWARE_HASH);
    EXPECT_EQ(Bytes(st.firmware_hash, st.firmware_hash + 64), h.fake.firmware);
    // the secret stays in the port's record only; the statement never carries it
    ASSERT_EQ(h.fake.identity.size(), size_t(TM_IDENTITY_RECORD_BYTES));
}

TEST(AgentAttest, CountersInTheStatementFollowTheLink)
{
    AgentHarness h;
    h.fake.enableProvisioning();
    h.fake.enableIdentity();
    tm_agent_init(h.agent.get(), &h.fake.port);
    TestKey project;
    TestIdentity id;
    ASSERT_EQ(h.request(TM_OP_PROVISION, cat({project.publicKey(), id.seed})).op, TM_OP_PROVISION | TM_OP_REPLY);
    EXPECT_TRUE(isError(h.request(TM_OP_STREAM_START, Bytes(2, 0)), TM_ERR_BAD_LENGTH)); // one ERROR reply
    const Bytes nonce = randomNonce();
    Frame a = h.request(TM_OP_ATTEST, nonce);
    tm_attest_t st{};
    ASSERT_EQ(judge(a.payload, nonce, id.pk, &st), "");
    EXPECT_EQ(st.error_replies, 1u);
    EXPECT_FALSE(st.flags & TM_ATTEST_FLAG_FIRMWARE_HASH) << "this port measures no firmware";
    EXPECT_EQ(Bytes(st.firmware_hash, st.firmware_hash + 64), Bytes(64, 0));
    EXPECT_FALSE(st.flags & TM_ATTEST_FLAG_PACKAGE);
    EXPECT_EQ(st.active_slot, 0xFFu);
}

TEST(AgentAttest, BoardProvisionedBeforeAttestationGetsItsIdentityLater)
{
    AgentHarness h;
    h.fake.enableProvisioning();
    h.fake.enableIdentity();
    tm_agent_init(h.agent.get(), &h.fake.port);
    TestKey project, other;
    Frame old = h.request(TM_OP_PROVISION, project.publicKey()); // a host from before ATTEST
    ASSERT_EQ(old.op, TM_OP_PROVISION | TM_OP_REPLY);
    EXPECT_EQ(old.payload, project.keyId()) << "32-byte requests keep their 8-byte reply";
    EXPECT_TRUE(isError(h.request(TM_OP_ATTEST, randomNonce()), TM_ERR_NOT_PROVISIONED));
    TestIdentity id;
    // another project key with a seed: refused as before, and no identity is written
    EXPECT_TRUE(isError(h.request(TM_OP_PROVISION, cat({other.publicKey(), id.seed})), TM_ERR_ALREADY_PROVISIONED));
    EXPECT_TRUE(h.fake.identity.empty());
    Frame up = h.request(TM_OP_PROVISION, cat({project.publicKey(), id.seed}));
    EXPECT_EQ(up.payload, cat({project.keyId(), id.pk}));
    const Bytes nonce = randomNonce();
    EXPECT_EQ(judge(h.request(TM_OP_ATTEST, nonce).payload, nonce, id.pk), "");
}

TEST(AgentAttest, BoardWithoutIdentityStorage)
{
    AgentHarness h;
    h.fake.enableProvisioning(); // a key, but nowhere to keep an identity
    tm_agent_init(h.agent.get(), &h.fake.port);
    EXPECT_FALSE(capabilities(h) & TM_CAP_ATTESTATION);
    EXPECT_TRUE(capabilities(h) & TM_CAP_SIGNED_PACKAGES);
    TestKey project;
    TestIdentity id;
    EXPECT_TRUE(isError(h.request(TM_OP_PROVISION, cat({project.publicKey(), id.seed})), TM_ERR_NOT_SUPPORTED));
    EXPECT_FALSE(h.agent->security.provisioned) << "a refused request changes nothing";
    EXPECT_TRUE(isError(h.request(TM_OP_ATTEST, randomNonce()), TM_ERR_NOT_SUPPORTED));
}

TEST(AgentAttest, IdentityRecordRoundTripAndEveryCorruptionRefused)
{
    TestIdentity id;
    uint8_t rec[TM_IDENTITY_RECORD_BYTES];
    tm_identity_record_encode(id.seed.data(), id.pk.data(), rec);
    uint8_t seed[32], pk[32];
    ASSERT_EQ(tm_identity_record_decode(rec, seed, pk), TM_OK);
    EXPECT_EQ(Bytes(seed, seed + 32), id.seed);
    EXPECT_EQ(Bytes(pk, pk + 32), id.pk);
    for (unsigned i = 0; i < TM_IDENTITY_RECORD_BYTES; ++i) {
        uint8_t bad[TM_IDENTITY_RECORD_BYTES];
        std::memcpy(bad, rec, sizeof bad);
        bad[i] ^= 0x01;
        EXPECT_EQ(tm_identity_record_decode(bad, seed, pk), TM_ERR_BAD_ARGUMENT) << "byte " << i;
    }
}
