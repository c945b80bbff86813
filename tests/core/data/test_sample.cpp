#include <gtest/gtest.h>

#include "data/Sample.h"

using namespace tinyml;

TEST(Tensor, FloatRoundTripKeepsBitsAndShape)
{
    QVector<float> v = {1.5f, -0.0f, 3.25e-7f, 1e30f, -2.f, 7.f};
    Tensor t = Tensor::fromFloats(v, {3, 2});
    EXPECT_EQ(t.elementCount(), 6);
    EXPECT_TRUE(t.isConsistent());
    EXPECT_EQ(t.bytes.size(), 24);
    QVector<float> back = t.toFloats();
    ASSERT_EQ(back.size(), 6);
    EXPECT_EQ(std::memcmp(back.constData(), v.constData(), 24), 0);
}

TEST(Tensor, InconsistentShapeIsDetected)
{
    Tensor t = Tensor::fromFloats({1, 2, 3}, {2, 2});
    EXPECT_FALSE(t.isConsistent());
    EXPECT_TRUE(t.toFloats().isEmpty());
}

TEST(Names, DtypeAndSplitNamesRoundTrip)
{
    for (DType d : {DType::Float32, DType::Int16, DType::UInt8, DType::Int8, DType::Int32})
        EXPECT_EQ(dtypeFromName(dtypeName(d)), d);
    EXPECT_FALSE(dtypeFromName("float64").has_value());
    EXPECT_EQ(splitFromName("test"), Split::Test);
    EXPECT_FALSE(splitFromName("validation").has_value());
}

TEST(Checksum, IsTheSha256OfTheBytes)
{
    // SHA-256("abc") from FIPS 180-2, appendix B.1.
    EXPECT_EQ(sha256Hex("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
