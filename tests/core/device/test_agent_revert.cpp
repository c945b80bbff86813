// MODEL_REVERT / MODEL_CONFIRM (issue 17, staged rollouts roll a stage's boards back) through
// AgentLink against the real agent programs: the host agent and the QEMU Cortex-M4 image,
// each on its own state folder (tinyml-flash.bin), restarted to show what persists.

#include "DeviceTestSupport.h"

#include "crypto/Attestation.h"
#include "crypto/SignedPackage.h"
#include "crypto/SigningKeyStore.h"
#include "device/AgentLink.h"
#include "device/BoardRegistry.h"
#include "device/VirtualBoard.h"

#include "tm_flash_image.h"
#include "tm_frame.h"
#include "tm_protocol.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

#include <cstdio>
#include <memory>

using namespace tinyml;
using namespace tinyml::test;

namespace {

const BoardDefinition &board(const QString &id)
{
    static BoardRegistry registry = [] {
        BoardRegistry r;
        QString error;
        EXPECT_TRUE(r.loadDefault(&error)) << error.toStdString();
        return r;
    }();
    static BoardDefinition missing;
    const BoardDefinition *b = registry.board(id);
    EXPECT_TRUE(b) << "no board " << id.toStdString();
    return b ? *b : missing;
}

/// Bytes that pass for a bare package: "TMPK", total_size at 8, the rest varied by seed. The
/// slots are format-agnostic; which package runs is told by MODEL_INFO's CRC and by ATTEST.
QByteArray fakePackage(int size, int seed)
{
    QByteArray p(size, 0);
    for (int i = 0; i < size; ++i)
        p[i] = char(quint8((i * 131 + seed * 7) ^ (i >> 7)));
    p.replace(0, 4, "TMPK");
    const quint32 n = quint32(size);
    for (int k = 0; k < 4; ++k)
        p[8 + k] = char(quint8(n >> (8 * k)));
    return p;
}

class AgentRevert : public ::testing::TestWithParam<const char *>
{
protected:
    /// Starts (or restarts) the board on this test's state folder.
    AgentLink *start()
    {
        m_board.reset();
        VirtualBoard::Options options;
        options.stateDirectory = m_state.path();
        m_board = std::make_unique<VirtualBoard>(board(QString::fromLatin1(GetParam())), options);
        QString error;
        EXPECT_TRUE(m_board->start(&error)) << error.toStdString();
        return m_board->isRunning() ? m_board->link() : nullptr;
    }
    int flash(AgentLink *link, const QByteArray &package)
    {
        QString error;
        const int slot = link->uploadModel(package, {}, &error);
        EXPECT_GE(slot, 0) << error.toStdString();
        return slot;
    }
    ModelSlotInfo modelInfo(AgentLink *link)
    {
        QString error;
        auto m = link->modelInfo(&error);
        EXPECT_TRUE(m) << error.toStdString();
        return m.value_or(ModelSlotInfo{});
    }
    /// The board's NO_PREVIOUS_MODEL reason, or "" when the revert went through.
    QString refusedRevert(AgentLink *link)
    {
        QString error;
        if (link->revertModel(&error))
            return {};
        EXPECT_TRUE(link->lastAgentError()) << error.toStdString();
        if (link->lastAgentError())
            EXPECT_EQ(link->lastAgentError()->code, int(TM_ERR_NO_PREVIOUS_MODEL)) << error.toStdString();
        return error;
    }

    QTemporaryDir m_state;
    std::unique_ptr<VirtualBoard> m_board;
};

TEST_P(AgentRevert, RevertReturnsToThePreviousSlotOnceAndSurvivesARestart)
{
    AgentLink *link = start();
    ASSERT_TRUE(link);
    EXPECT_TRUE(link->supportsRevert());
    const QByteArray a = fakePackage(3000, 1);
    const QByteArray b = fakePackage(5000, 2);

    // nothing committed yet, then the first model: nothing before it
    EXPECT_TRUE(refusedRevert(link).contains(QStringLiteral("no model is active"))) << refusedRevert(link).toStdString();
    const int slotA = flash(link, a);
    EXPECT_FALSE(modelInfo(link).onTrial);
    EXPECT_TRUE(refusedRevert(link).contains(QStringLiteral("no model was active before")));

    // B goes on trial; revert brings A back, with its CRC
    const int slotB = flash(link, b);
    EXPECT_NE(slotA, slotB);
    ModelSlotInfo m = modelInfo(link);
    EXPECT_TRUE(m.onTrial);
    EXPECT_EQ(m.crc, agentCrc32(b));
    QString error;
    auto reverted = link->revertModel(&error);
    ASSERT_TRUE(reverted) << error.toStdString();
    EXPECT_EQ(*reverted, slotA);
    m = modelInfo(link);
    EXPECT_EQ(m.activeSlot, slotA);
    EXPECT_EQ(m.crc, agentCrc32(a));
    EXPECT_EQ(m.size, quint32(a.size()));
    EXPECT_FALSE(m.onTrial);

    // a second revert has nothing to go back to
    const QString again = refusedRevert(link);
    EXPECT_TRUE(again.contains(QStringLiteral("nothing to revert to"))) << again.toStdString();
    EXPECT_TRUE(again.contains(QStringLiteral("a revert returned to"))) << again.toStdString();

    // the revert is in the flash file: a new board process runs A
    link = start();
    ASSERT_TRUE(link);
    m = modelInfo(link);
    EXPECT_EQ(m.activeSlot, slotA);
    EXPECT_EQ(m.crc, agentCrc32(a));

    // B again, then a restart: still on trial, and the revert works after it
    flash(link, b);
    link = start();
    ASSERT_TRUE(link);
    EXPECT_TRUE(modelInfo(link).onTrial);
    reverted = link->revertModel(&error);
    ASSERT_TRUE(reverted) << error.toStdString();
    EXPECT_EQ(modelInfo(link).crc, agentCrc32(a));
}

TEST_P(AgentRevert, ConfirmAndANewUploadEndTheTrial)
{
    AgentLink *link = start();
    ASSERT_TRUE(link);
    const QByteArray a = fakePackage(2000, 3);
    const QByteArray b = fakePackage(2500, 4);
    QString error;
    EXPECT_FALSE(link->confirmModel(&error)); // no model yet
    EXPECT_TRUE(error.contains(QStringLiteral("no model to confirm"))) << error.toStdString();

    flash(link, a);
    flash(link, b);
    ASSERT_TRUE(link->confirmModel(&error)) << error.toStdString();
    EXPECT_FALSE(modelInfo(link).onTrial);
    EXPECT_TRUE(link->confirmModel(&error)) << error.toStdString(); // again: nothing changes
    QString why = refusedRevert(link);
    EXPECT_TRUE(why.contains(QStringLiteral("was confirmed"))) << why.toStdString();
    EXPECT_EQ(modelInfo(link).crc, agentCrc32(b));

    // the confirmation persists
    link = start();
    ASSERT_TRUE(link);
    why = refusedRevert(link);
    EXPECT_TRUE(why.contains(QStringLiteral("was confirmed"))) << why.toStdString();

    // a new upload overwrites the previous slot: MODEL_BEGIN ends the trial, even unfinished
    flash(link, a);
    EXPECT_TRUE(modelInfo(link).onTrial);
    QByteArray begin(8, 0);
    begin[0] = 0x10; // 16 bytes, any CRC: never finished
    ASSERT_TRUE(link->request(TM_OP_MODEL_BEGIN, begin, 1000, &error)) << error.toStdString();
    EXPECT_FALSE(modelInfo(link).onTrial);
    why = refusedRevert(link);
    EXPECT_TRUE(why.contains(QStringLiteral("new upload began"))) << why.toStdString();
    link = start();
    ASSERT_TRUE(link);
    EXPECT_EQ(modelInfo(link).crc, agentCrc32(a));
    why = refusedRevert(link);
    EXPECT_FALSE(why.isEmpty());
}

TEST_P(AgentRevert, ProvisionedBoardRevertsTheCounterWithThePackage)
{
    QTemporaryDir keyDir;
    crypto::SigningKeyStore keys(keyDir.path());
    QString error;
    const auto key = keys.create(QStringLiteral("revert test"), &error);
    ASSERT_TRUE(key) << error.toStdString();
    const auto v1 = crypto::signPackage(fakePackage(4000, 5), 1, key->id, keys, &error);
    const auto v2 = crypto::signPackage(fakePackage(4200, 6), 2, key->id, keys, &error);
    const auto older = crypto::signPackage(fakePackage(3000, 7), 1, key->id, keys, &error);
    ASSERT_TRUE(v1 && v2 && older) << error.toStdString();

    AgentLink *link = start();
    ASSERT_TRUE(link);
    const crypto::DeviceIdentity identity = crypto::newDeviceIdentity();
    ASSERT_TRUE(link->provisionWithIdentity(key->publicKey, identity.seed, &error)) << error.toStdString();

    const auto attest = [&](AgentLink *l) {
        const QByteArray nonce = crypto::attestationNonce();
        QString err;
        const auto reply = l->attest(nonce, &err);
        EXPECT_TRUE(reply) << err.toStdString();
        return crypto::verifyAttestation(reply.value_or(QByteArray()), nonce, identity.publicKey);
    };

    const int slot1 = flash(link, *v1);
    flash(link, *v2);
    crypto::AttestationResult st = attest(link);
    ASSERT_TRUE(st.verified) << st.reason.toStdString();
    EXPECT_EQ(st.packageVersion, 2u);
    EXPECT_EQ(st.counter, 2u);

    auto reverted = link->revertModel(&error);
    ASSERT_TRUE(reverted) << error.toStdString();
    EXPECT_EQ(*reverted, slot1);
    ASSERT_TRUE(link->info().security);
    EXPECT_EQ(link->info().security->antiRollbackCounter, 1u);
    EXPECT_EQ(link->info().security->activePackageVersion, 1u);
    EXPECT_GT(link->info().security->lastCheckTicks, 0u); // the revert checked v1's signature
    std::printf("[ measure  ] %s: revert's signature check of a %lld-byte package: %u ticks of %u %s\n",
                GetParam(), qlonglong(v1->size()), link->info().security->lastCheckTicks,
                link->info().counterResolution, qPrintable(link->info().counterKindName()));
    st = attest(link);
    ASSERT_TRUE(st.verified) << st.reason.toStdString();
    EXPECT_EQ(st.packageVersion, 1u);
    EXPECT_EQ(st.counter, 1u);
    EXPECT_EQ(st.packageHash, crypto::sha512(*v1));

    // after a restart the board still runs v1 at counter 1
    link = start();
    ASSERT_TRUE(link);
    st = attest(link);
    ASSERT_TRUE(st.verified) << st.reason.toStdString();
    EXPECT_EQ(st.packageVersion, 1u);
    EXPECT_EQ(st.counter, 1u);

    // v2 is accepted again; a package below the counter is still refused
    flash(link, *v2);
    st = attest(link);
    EXPECT_EQ(st.counter, 2u);
    ASSERT_TRUE(link->confirmModel(&error)) << error.toStdString();
    EXPECT_LT(link->uploadModel(*older, {}, &error), 0);
    ASSERT_TRUE(link->lastAgentError());
    EXPECT_EQ(link->lastAgentError()->code, int(TM_ERR_ROLLBACK)) << error.toStdString();
    EXPECT_EQ(modelInfo(link).crc, agentCrc32(*v2));
}

TEST_P(AgentRevert, ProvisionedBoardDoesNotRevertToAnUnsignedPackage)
{
    QTemporaryDir keyDir;
    crypto::SigningKeyStore keys(keyDir.path());
    QString error;
    const auto key = keys.create(QStringLiteral("revert test"), &error);
    ASSERT_TRUE(key) << error.toStdString();
    const auto v1 = crypto::signPackage(fakePackage(4000, 8), 1, key->id, keys, &error);
    ASSERT_TRUE(v1) << error.toStdString();

    // a plain package committed before provisioning, then the first signed one on trial
    AgentLink *link = start();
    ASSERT_TRUE(link);
    const QByteArray plain = fakePackage(3500, 9);
    flash(link, plain);
    ASSERT_TRUE(link->provision(key->publicKey, &error)) << error.toStdString();
    flash(link, *v1);
    EXPECT_TRUE(modelInfo(link).onTrial);
    const QString why = refusedRevert(link);
    EXPECT_TRUE(why.contains(QStringLiteral("does not verify with the provisioned key"))) << why.toStdString();
    EXPECT_EQ(modelInfo(link).crc, agentCrc32(*v1));
    ASSERT_TRUE(link->refreshInfo(&error)) << error.toStdString();
    ASSERT_TRUE(link->info().security);
    EXPECT_EQ(link->info().security->antiRollbackCounter, 1u);
}

TEST_P(AgentRevert, FlashFileOfAnOlderAgentLoadsWithoutATrial)
{
    AgentLink *link = start();
    ASSERT_TRUE(link);
    const QByteArray a = fakePackage(2200, 10);
    const QByteArray b = fakePackage(2400, 11);
    flash(link, a);
    flash(link, b);
    EXPECT_TRUE(modelInfo(link).onTrial);
    m_board.reset();

    // An older agent's file ends before the trial record (tm_flash_image.h): cut it there.
    const QString path = m_state.filePath(QStringLiteral("tinyml-flash.bin"));
    const qint64 trialOffset = qint64(tm_flash_trial_offset(1024u * 1024u));
    {
        QFile f(path);
        ASSERT_TRUE(f.open(QIODevice::ReadWrite));
        ASSERT_EQ(f.size(), trialOffset + qint64(TM_FLASH_TRIAL_RECORD_BYTES));
        ASSERT_TRUE(f.resize(trialOffset));
    }
    link = start();
    ASSERT_TRUE(link);
    ModelSlotInfo m = modelInfo(link);
    EXPECT_EQ(m.crc, agentCrc32(b));
    EXPECT_FALSE(m.onTrial);
    QString why = refusedRevert(link);
    EXPECT_TRUE(why.contains(QStringLiteral("no trial recorded"))) << why.toStdString();

    // A trial record bound to another header (a write torn between the two) counts for nothing.
    flash(link, a);
    EXPECT_TRUE(modelInfo(link).onTrial);
    m_board.reset();
    {
        QFile f(path);
        ASSERT_TRUE(f.open(QIODevice::ReadWrite));
        ASSERT_TRUE(f.seek(0));
        QByteArray header = f.read(TM_FLASH_HEADER_BYTES);
        header[13] = char(0x5A); // a reserved byte: the header stays valid, its CRC changes
        tm_put_u32(reinterpret_cast<uint8_t *>(header.data()) + TM_FLASH_HEADER_BYTES - 4,
                   tm_crc32(0, reinterpret_cast<const uint8_t *>(header.constData()), TM_FLASH_HEADER_BYTES - 4));
        ASSERT_TRUE(f.seek(0));
        ASSERT_EQ(f.write(header), qint64(TM_FLASH_HEADER_BYTES));
    }
    link = start();
    ASSERT_TRUE(link);
    m = modelInfo(link);
    EXPECT_EQ(m.crc, agentCrc32(a));
    EXPECT_FALSE(m.onTrial);
    why = refusedRevert(link);
    EXPECT_TRUE(why.contains(QStringLiteral("no trial recorded"))) << why.toStdString();
}

#ifdef TINYML_CLI
/// `tinyml rollback` / `tinyml confirm` on the same state folder (TINYML_VIRTUAL_BOARDS_DIR).
TEST(AgentRevertCli, RollbackAndConfirmOnAVirtualBoard)
{
    QTemporaryDir root;
    VirtualBoard::Options options;
    options.stateDirectory = root.filePath(QStringLiteral("host"));
    const QByteArray a = fakePackage(1800, 12);
    const QByteArray b = fakePackage(1900, 13);
    {
        VirtualBoard vb(board(QStringLiteral("host")), options);
        QString error;
        ASSERT_TRUE(vb.start(&error)) << error.toStdString();
        ASSERT_GE(vb.link()->uploadModel(a, {}, &error), 0) << error.toStdString();
        ASSERT_GE(vb.link()->uploadModel(b, {}, &error), 0) << error.toStdString();
    }
    const auto run = [&](const QStringList &args, QByteArray *out, QByteArray *err) {
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("TINYML_VIRTUAL_BOARDS_DIR"), root.path());
        p.setProcessEnvironment(env);
        p.start(QStringLiteral(TINYML_CLI), args);
        EXPECT_TRUE(p.waitForFinished(60000));
        *out = p.readAllStandardOutput();
        *err = p.readAllStandardError();
        return p.exitCode();
    };
    QByteArray out, err;
    ASSERT_EQ(run({QStringLiteral("rollback"), QStringLiteral("--board"), QStringLiteral("host"), QStringLiteral("--json")},
                  &out, &err), 0) << err.toStdString();
    const QJsonObject o = QJsonDocument::fromJson(out).object();
    EXPECT_EQ(o.value(QStringLiteral("action")).toString(), QStringLiteral("reverted"));
    EXPECT_EQ(o.value(QStringLiteral("size")).toInt(), a.size());
    EXPECT_EQ(o.value(QStringLiteral("crc32")).toString(),
              QStringLiteral("%1").arg(agentCrc32(a), 8, 16, QLatin1Char('0')));
    EXPECT_FALSE(o.value(QStringLiteral("on_trial")).toBool());

    EXPECT_EQ(run({QStringLiteral("rollback"), QStringLiteral("--board"), QStringLiteral("host")}, &out, &err), 1);
    EXPECT_TRUE(err.contains("nothing to revert to: the active model is the one a revert returned to")) << err.toStdString();
    EXPECT_EQ(run({QStringLiteral("confirm"), QStringLiteral("--board"), QStringLiteral("host")}, &out, &err), 0)
        << err.toStdString();
    EXPECT_TRUE(out.startsWith("host: confirmed: slot ")) << out.toStdString();
    EXPECT_EQ(run({QStringLiteral("rollback"), QStringLiteral("--board"), QStringLiteral("host"), QStringLiteral("--port"),
                   QStringLiteral("/dev/null")},
                  &out, &err),
              2);
}
#endif

std::string boardName(const ::testing::TestParamInfo<const char *> &info)
{
    return QString::fromLatin1(info.param).remove(QLatin1Char('-')).toStdString();
}

INSTANTIATE_TEST_SUITE_P(Boards, AgentRevert, ::testing::Values("host", "qemu-m4"), boardName);

/// Host-side parsing of the new replies: old MODEL_INFO replies stay valid, trial flag checked.
TEST(AgentRevertReplies, ModelInfoTrialFlagAndRevertReply)
{
    QString error;
    const QByteArray base = QByteArray::fromHex("01011027000078563412");
    auto old = parseModelInfoReply(base, &error);
    ASSERT_TRUE(old) << error.toStdString();
    EXPECT_FALSE(old->onTrial);
    auto onTrial = parseModelInfoTrialReply(base + QByteArray(1, 1), &error);
    ASSERT_TRUE(onTrial) << error.toStdString();
    EXPECT_TRUE(onTrial->onTrial);
    EXPECT_EQ(onTrial->crc, 0x12345678u);
    EXPECT_FALSE(parseModelInfoTrialReply(base, &error));
    EXPECT_FALSE(parseModelInfoTrialReply(base + QByteArray(1, 2), &error));
    EXPECT_FALSE(parseModelInfoTrialReply(QByteArray::fromHex("FF000000000000000000") + QByteArray(1, 1), &error));
    EXPECT_EQ(parseModelRevertReply(QByteArray(1, 1), &error), 1);
    EXPECT_FALSE(parseModelRevertReply(QByteArray(1, 2), &error));
    EXPECT_FALSE(parseModelRevertReply({}, &error));
    EXPECT_EQ(agentErrorName(TM_ERR_NO_PREVIOUS_MODEL), QStringLiteral("NO_PREVIOUS_MODEL"));
    EXPECT_EQ(opName(TM_OP_MODEL_REVERT), QStringLiteral("MODEL_REVERT"));
    EXPECT_EQ(opName(TM_OP_MODEL_CONFIRM | TM_OP_REPLY), QStringLiteral("MODEL_CONFIRM reply"));
}

/// An agent without the capability is told apart before anything is sent.
TEST(AgentRevertReplies, AgentWithoutTheCapabilityIsToldToUpdate)
{
    AgentLink link;
    DeviceInfo info;
    info.boardId = QStringLiteral("old-board");
    info.capabilities = TM_CAP_MODEL_UPLOAD;
    link.setInfo(info);
    QString error;
    EXPECT_FALSE(link.revertModel(&error));
    EXPECT_TRUE(error.startsWith(QStringLiteral("this agent cannot revert (update the agent)"))) << error.toStdString();
    EXPECT_FALSE(link.confirmModel(&error));
    EXPECT_TRUE(error.startsWith(QStringLiteral("this agent cannot confirm a model (update the agent)")))
        << error.toStdString();
}

} // namespace
