// Parsers of the model and inference replies (MODEL_INFO, INVOKE, LAYER_PROFILE) and the
// INFO MODEL_FORMAT record: exact layouts from PROTOCOL.md, every malformed length refused.
#include "device/AgentProtocol.h"

#include "tm_protocol.h"

#include <gtest/gtest.h>

using namespace tinyml;

namespace {

QByteArray bytes(std::initializer_list<int> v)
{
    QByteArray b;
    for (int x : v)
        b.append(char(x));
    return b;
}

} // namespace

TEST(AgentReplies, ModelInfo)
{
    QString error;
    auto m = parseModelInfoReply(bytes({1, 1, 0x10, 0x27, 0, 0, 0x78, 0x56, 0x34, 0x12}), &error);
    ASSERT_TRUE(m) << error.toStdString();
    EXPECT_EQ(m->activeSlot, 1);
    EXPECT_TRUE(m->valid);
    EXPECT_EQ(m->size, 10000u);
    EXPECT_EQ(m->crc, 0x12345678u);

    auto none = parseModelInfoReply(bytes({0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0}), &error);
    ASSERT_TRUE(none);
    EXPECT_EQ(none->activeSlot, -1);
    EXPECT_FALSE(none->valid);

    EXPECT_FALSE(parseModelInfoReply(bytes({0xFF, 1, 0, 0, 0, 0, 0, 0, 0, 0}), &error));
    EXPECT_FALSE(parseModelInfoReply(bytes({1, 1, 0, 0, 0, 0, 0, 0, 0}), &error));
    EXPECT_TRUE(error.contains(QStringLiteral("9 bytes"))) << error.toStdString();
}

TEST(AgentReplies, InvokeCounterIsU64)
{
    QString error;
    auto t = parseInvokeReply(bytes({0x01, 0, 0, 0, 0x02, 0, 0, 0}), &error);
    ASSERT_TRUE(t);
    EXPECT_EQ(*t, (quint64(2) << 32) | 1u);
    EXPECT_FALSE(parseInvokeReply(bytes({1, 2, 3, 4}), &error));
}

TEST(AgentReplies, LayerProfilePages)
{
    QString error;
    QByteArray ok = bytes({5, 0, 3, 0, 2, 0});
    ok += bytes({100, 0, 0, 0, 0, 0, 0, 0});
    ok += bytes({0, 1, 0, 0, 1, 0, 0, 0});
    auto p = parseLayerProfileReply(ok, &error);
    ASSERT_TRUE(p) << error.toStdString();
    EXPECT_EQ(p->layerCount, 5);
    EXPECT_EQ(p->firstLayer, 3);
    EXPECT_EQ(p->counters, (QVector<quint64>{100, (quint64(1) << 32) | 256u}));

    EXPECT_FALSE(parseLayerProfileReply(ok.left(5), &error));
    EXPECT_FALSE(parseLayerProfileReply(ok.left(ok.size() - 1), &error));
    EXPECT_TRUE(error.contains(QStringLiteral("2 layers"))) << error.toStdString();
    QByteArray pastEnd = ok;
    pastEnd[0] = 4;   // layers 3..4 of a 4-layer model
    EXPECT_FALSE(parseLayerProfileReply(pastEnd, &error));
    EXPECT_TRUE(parseLayerProfileReply(bytes({0, 0, 0, 0, 0, 0}), &error)) << "a model without ops";
    EXPECT_FALSE(parseLayerProfileReply(bytes({2, 0, 0, 0, 0, 0}), &error)) << "no progress on a 2-layer model";
    EXPECT_EQ(layerProfilePayload(8, 255), bytes({8, 0, 0, 0, 0xFF, 0}));
}

TEST(AgentReplies, InfoModelFormatRoundTrips)
{
    DeviceInfo info;
    info.protocolVersion = 1;
    info.boardId = QStringLiteral("x");
    info.modelFormatVersion = 1;
    info.supportedOps = {0, 1, 2, 13};
    QString error;
    auto back = parseDeviceInfo(encodeDeviceInfo(info), &error);
    ASSERT_TRUE(back) << error.toStdString();
    EXPECT_EQ(back->modelFormatVersion, 1);
    EXPECT_EQ(back->supportedOps, info.supportedOps);
    EXPECT_EQ(back->unknownTags, 0);
    // A MODEL_FORMAT record too short for its version is an error naming the tag.
    EXPECT_FALSE(parseDeviceInfo(bytes({TM_INFO_MODEL_FORMAT, 1, 1}), &error));
    EXPECT_TRUE(error.contains(QStringLiteral("MODEL_FORMAT"))) << error.toStdString();
}
