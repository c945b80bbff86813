// Issue 17 on the host side of the protocol: INFO SECURITY, the PROVISION reply, and the
// plain-English sentence for each refusal code of a provisioned board.
#include <gtest/gtest.h>

#include "device/AgentProtocol.h"
#include "tm_protocol.h"

using namespace tinyml;

TEST(AgentSecurity, ErrorCodesAndOpMatchTheHeader)
{
    EXPECT_EQ(TM_OP_PROVISION, 0x17);
    EXPECT_EQ(TM_INFO_SECURITY, 19);
    EXPECT_EQ(TM_CAP_SIGNED_PACKAGES, 1u << 8);
    EXPECT_EQ(agentErrorName(TM_ERR_UNSIGNED), QStringLiteral("UNSIGNED"));
    EXPECT_EQ(agentErrorName(TM_ERR_WRONG_KEY), QStringLiteral("WRONG_KEY"));
    EXPECT_EQ(agentErrorName(TM_ERR_BAD_SIGNATURE), QStringLiteral("BAD_SIGNATURE"));
    EXPECT_EQ(agentErrorName(TM_ERR_SIGNED_MALFORMED), QStringLiteral("SIGNED_MALFORMED"));
    EXPECT_EQ(agentErrorName(TM_ERR_ROLLBACK), QStringLiteral("ROLLBACK"));
    EXPECT_EQ(agentErrorName(TM_ERR_ALREADY_PROVISIONED), QStringLiteral("ALREADY_PROVISIONED"));
    EXPECT_EQ(opName(TM_OP_PROVISION), QStringLiteral("PROVISION"));
}

TEST(AgentSecurity, InfoSecurityRoundTripsAndIsOptional)
{
    DeviceInfo info;
    info.protocolVersion = 1;
    info.boardId = QStringLiteral("x");
    DeviceSecurity sec;
    sec.provisioned = true;
    sec.keyId = QStringLiteral("0123456789abcdef");
    sec.antiRollbackCounter = 5;
    sec.activePackageVersion = 7;
    sec.lastCheckTicks = 47765;
    info.security = sec;
    QString error;
    auto back = parseDeviceInfo(encodeDeviceInfo(info), &error);
    ASSERT_TRUE(back) << error.toStdString();
    ASSERT_TRUE(back->security);
    EXPECT_TRUE(back->security->provisioned);
    EXPECT_EQ(back->security->keyId, sec.keyId);
    EXPECT_EQ(back->security->antiRollbackCounter, 5u);
    EXPECT_EQ(back->security->activePackageVersion, 7u);
    EXPECT_EQ(back->security->lastCheckTicks, 47765u);
    EXPECT_EQ(back->unknownTags, 0);

    info.security.reset(); // an older agent: no record
    back = parseDeviceInfo(encodeDeviceInfo(info), &error);
    ASSERT_TRUE(back);
    EXPECT_FALSE(back->security);

    // an unprovisioned board: no key id, zeros on the wire
    QByteArray rec(1, char(TM_INFO_SECURITY));
    rec.append(char(21));
    rec.append(QByteArray(21, '\0'));
    back = parseDeviceInfo(rec, &error);
    ASSERT_TRUE(back) << error.toStdString();
    ASSERT_TRUE(back->security);
    EXPECT_FALSE(back->security->provisioned);
    EXPECT_TRUE(back->security->keyId.isEmpty());

    // too short, or a flag other than 0/1: errors naming SECURITY
    EXPECT_FALSE(parseDeviceInfo(QByteArray::fromHex("1304000000000000"), &error));
    EXPECT_TRUE(error.contains(QStringLiteral("SECURITY"))) << error.toStdString();
    rec[2] = char(2);
    EXPECT_FALSE(parseDeviceInfo(rec, &error));
    EXPECT_TRUE(error.contains(QStringLiteral("SECURITY"))) << error.toStdString();
}

TEST(AgentSecurity, RefusalsNameTheCause)
{
    DeviceSecurity board;
    board.provisioned = true;
    board.keyId = QStringLiteral("aaaaaaaaaaaaaaaa");
    board.antiRollbackCounter = 5;
    const UploadedPackage pkg{QStringLiteral("bbbbbbbbbbbbbbbb"), 3};
    auto say = [&](int code) {
        AgentError e;
        e.requestOp = TM_OP_MODEL_COMMIT;
        e.code = code;
        e.message = QStringLiteral("agent text");
        return signedUploadRefusal(e, pkg, board);
    };
    EXPECT_TRUE(say(TM_ERR_WRONG_KEY).startsWith(
        QStringLiteral("package signed by key bbbbbbbbbbbbbbbb, the board trusts key aaaaaaaaaaaaaaaa")))
        << say(TM_ERR_WRONG_KEY).toStdString();
    EXPECT_TRUE(say(TM_ERR_ROLLBACK).startsWith(
        QStringLiteral("package version 3 is older than the board's 5 (anti-rollback)")));
    EXPECT_TRUE(say(TM_ERR_UNSIGNED).contains(QStringLiteral("refuses unsigned packages")));
    EXPECT_TRUE(say(TM_ERR_BAD_SIGNATURE).contains(QStringLiteral("modified")));
    EXPECT_TRUE(say(TM_ERR_SIGNED_MALFORMED).contains(QStringLiteral("agent text")));
    EXPECT_TRUE(say(TM_ERR_ALREADY_PROVISIONED).contains(QStringLiteral("locked to key aaaaaaaaaaaaaaaa")));
    for (int code : {TM_ERR_UNSIGNED, TM_ERR_WRONG_KEY, TM_ERR_BAD_SIGNATURE, TM_ERR_SIGNED_MALFORMED, TM_ERR_ROLLBACK})
        EXPECT_TRUE(say(code).contains(QStringLiteral("the previous model keeps running"))) << code;
    EXPECT_TRUE(say(TM_ERR_MODEL_CRC).isEmpty()); // other errors keep their own text

    EXPECT_EQ(parseProvisionReply(QByteArray::fromHex("0123456789abcdef"), nullptr), QStringLiteral("0123456789abcdef"));
    QString error;
    EXPECT_FALSE(parseProvisionReply(QByteArray(7, 'x'), &error));
    EXPECT_TRUE(error.contains(QStringLiteral("PROVISION"))) << error.toStdString();
}

// Attestation (ATTEST, PROVISION with a device identity): numbers appended, names, the
// 40-byte PROVISION reply and its malformed lengths.
TEST(AgentSecurity, AttestationOpErrorAndProvisionIdentityReply)
{
    EXPECT_EQ(TM_OP_ATTEST, 0x18);
    EXPECT_EQ(TM_ERR_NOT_PROVISIONED, 21);
    EXPECT_EQ(TM_CAP_ATTESTATION, 1u << 9);
    EXPECT_EQ(opName(TM_OP_ATTEST), QStringLiteral("ATTEST"));
    EXPECT_EQ(agentErrorName(TM_ERR_NOT_PROVISIONED), QStringLiteral("NOT_PROVISIONED"));
    AgentError e;
    e.requestOp = TM_OP_ATTEST;
    e.code = TM_ERR_NOT_PROVISIONED;
    EXPECT_TRUE(signedUploadRefusal(e, {}, std::nullopt).contains(QStringLiteral("tinyml provision")));

    QByteArray reply = QByteArray::fromHex("0102030405060708") + QByteArray(32, char(0x5A));
    QString error;
    auto parsed = parseProvisionIdentityReply(reply, &error);
    ASSERT_TRUE(parsed) << error.toStdString();
    EXPECT_EQ(parsed->keyId, QStringLiteral("0102030405060708"));
    EXPECT_EQ(parsed->devicePublicKey, QByteArray(32, char(0x5A)));
    for (int n : {0, 8, 39, 41}) {
        EXPECT_FALSE(parseProvisionIdentityReply(reply.left(n) + (n == 41 ? QByteArray(1, 0) : QByteArray()), &error))
            << n;
        EXPECT_TRUE(error.contains(QStringLiteral("device public key"))) << error.toStdString();
    }
}
