// Signed packages on the agent core (issue 17), on a fake port: PROVISION, the refusals of
// MODEL_COMMIT on a provisioned board with their codes, the anti-rollback counter across a
// restart, and the flash image's header counter and provisioning record.
#include "signed_package_scenario.h"

using namespace tmtest;

namespace {

AgentClient clientOf(AgentHarness &h)
{
    AgentClient c;
    c.request = [&h](uint8_t op, const Bytes &payload) { return h.request(op, payload); };
    c.restart = [&h] { tm_agent_init(h.agent.get(), &h.fake.port); };
    return c;
}

} // namespace

TEST(AgentSigned, ProvisionedBoardRefusesUnsignedForeignModifiedAndOlder)
{
    AgentHarness h;
    h.fake.enableProvisioning();
    tm_agent_init(h.agent.get(), &h.fake.port);
    AgentClient c = clientOf(h);
    TestKey ours;
    runSignedPackageScenario(c, 4000, ours);
    EXPECT_EQ(h.fake.persisted.min_version, 5u);
}

TEST(AgentSigned, TheInterpreterGetsThePackageWithoutItsBlock)
{
    // a signed package's slot holds package + block; the loader is given total_size bytes, so
    // it sees exactly what it would see for the bare package (here: a header it refuses for
    // its content, not for a size that includes the block)
    AgentHarness bare, signedBoard;
    signedBoard.fake.enableProvisioning();
    tm_agent_init(signedBoard.agent.get(), &signedBoard.fake.port);
    TestKey key;
    AgentClient a = clientOf(bare), b = clientOf(signedBoard);
    const Bytes pkg = fakePackage(1024, 7);
    ASSERT_EQ(a.upload(pkg).op, TM_OP_MODEL_COMMIT | TM_OP_REPLY);
    ASSERT_EQ(b.request(TM_OP_PROVISION, key.publicKey()).op, TM_OP_PROVISION | TM_OP_REPLY);
    ASSERT_EQ(b.upload(signPackage(pkg, 1, key)).op, TM_OP_MODEL_COMMIT | TM_OP_REPLY);
    EXPECT_NE(bare.agent->model_status, TM_MODEL_ERR_TOTAL_SIZE);
    EXPECT_EQ(signedBoard.agent->model_status, bare.agent->model_status);
    // MODEL_INFO describes the bytes uploaded (the host compares them with its file)
    EXPECT_EQ(b.activeCrc(), crcOf(signPackage(pkg, 1, key))); // Ed25519 signing is deterministic
}

TEST(AgentSigned, BoardWithoutKeyStorageRefusesProvision)
{
    AgentHarness h; // no provision_persist: the port cannot keep a key
    Frame f = h.request(TM_OP_PROVISION, Bytes(32, 9));
    EXPECT_TRUE(isError(f, TM_ERR_NOT_SUPPORTED));
    bool ok = false;
    auto info = parseInfo(h.request(TM_OP_GET_INFO).payload, &ok);
    ASSERT_TRUE(ok);
    EXPECT_EQ(info.count(TM_INFO_SECURITY), 0u);
    EXPECT_FALSE(tm_get_u32(info.find(TM_INFO_CAPABILITIES)->second.data()) & TM_CAP_SIGNED_PACKAGES);
    // and commits plain packages as before
    AgentClient c = clientOf(h);
    EXPECT_EQ(c.upload(fakePackage(512, 3)).op, TM_OP_MODEL_COMMIT | TM_OP_REPLY);
}

TEST(FlashImage, CounterInTheHeaderAndTheProvisioningRecord)
{
    tm_slot_table_t t{};
    t.active = 1;
    t.slot[1].valid = 1;
    t.slot[1].size = 100;
    t.slot[1].crc = 0x12345678u;
    t.min_version = 0xA1B2C3D4u;
    uint8_t hd[TM_FLASH_HEADER_BYTES];
    tm_flash_header_encode(&t, 4096, hd);
    EXPECT_EQ(tm_get_u32(hd + 56), 0xA1B2C3D4u);
    tm_slot_table_t back{};
    ASSERT_EQ(tm_flash_header_decode(hd, 4096, &back), TM_OK);
    EXPECT_EQ(back.min_version, 0xA1B2C3D4u);
    hd[57] ^= 1; // the counter is covered by the header CRC
    EXPECT_EQ(tm_flash_header_decode(hd, 4096, &back), TM_ERR_BAD_ARGUMENT);

    uint8_t key[TM_PROVISION_KEY_BYTES];
    for (unsigned i = 0; i < sizeof key; ++i)
        key[i] = uint8_t(i * 3 + 1);
    uint8_t rec[TM_PROVISION_RECORD_BYTES];
    tm_provision_record_encode(key, rec);
    uint8_t out[TM_PROVISION_KEY_BYTES] = {};
    ASSERT_EQ(tm_provision_record_decode(rec, out), TM_OK);
    EXPECT_EQ(std::memcmp(out, key, sizeof key), 0);
    EXPECT_EQ(tm_flash_provision_offset(1u << 20), 64u + 2u * (1u << 20));
    // any modified byte: not a record (not provisioned)
    for (unsigned i = 0; i < TM_PROVISION_RECORD_BYTES; ++i) {
        uint8_t bad[TM_PROVISION_RECORD_BYTES];
        std::memcpy(bad, rec, sizeof bad);
        bad[i] ^= 0x40;
        EXPECT_EQ(tm_provision_record_decode(bad, out), TM_ERR_BAD_ARGUMENT) << "byte " << i;
    }
}
