#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "tm_frame.h"

namespace {

std::vector<uint8_t> encode(uint8_t seq, uint8_t op, const std::vector<uint8_t> &payload)
{
    std::vector<uint8_t> out(TM_MAX_ENCODED_FRAME);
    size_t n = tm_frame_encode(seq, op, payload.data(), payload.size(), out.data(), out.size());
    out.resize(n);
    return out;
}

struct Decoded {
    std::vector<tm_frame_status_t> statuses;
    std::vector<std::vector<uint8_t>> payloads;
    std::vector<uint8_t> ops;
};

Decoded decodeAll(const std::vector<uint8_t> &bytes)
{
    static uint8_t buf[TM_MAX_ENCODED_FRAME];
    tm_frame_decoder_t dec;
    tm_frame_decoder_init(&dec, buf, sizeof buf);
    Decoded d;
    for (uint8_t b : bytes) {
        tm_frame_t f;
        tm_frame_status_t s = tm_frame_decoder_push(&dec, b, &f);
        if (s == TM_FRAME_NONE)
            continue;
        d.statuses.push_back(s);
        if (s == TM_FRAME_READY) {
            d.payloads.emplace_back(f.payload, f.payload + f.payload_len);
            d.ops.push_back(f.op);
        }
    }
    return d;
}

} // namespace

TEST(Crc32, MatchesTheIeeeCheckValue)
{
    // The catalogued check value of CRC-32/ISO-HDLC for "123456789".
    const char *s = "123456789";
    EXPECT_EQ(tm_crc32(0, reinterpret_cast<const uint8_t *>(s), 9), 0xCBF43926u);
}

TEST(Crc32, CanBeComputedIncrementally)
{
    const char *s = "123456789";
    uint32_t c = tm_crc32(0, reinterpret_cast<const uint8_t *>(s), 4);
    c = tm_crc32(c, reinterpret_cast<const uint8_t *>(s) + 4, 5);
    EXPECT_EQ(c, 0xCBF43926u);
}

TEST(Cobs, EncodesTheTextbookExamples)
{
    // Examples from the COBS paper (Cheshire & Baker): 00 -> 01 01; 11 22 00 33 -> 03 11 22 02 33
    uint8_t out[16];
    const uint8_t a[] = {0x00};
    ASSERT_EQ(tm_cobs_encode(a, 1, out, sizeof out), 2u);
    EXPECT_EQ(out[0], 0x01);
    EXPECT_EQ(out[1], 0x01);
    const uint8_t b[] = {0x11, 0x22, 0x00, 0x33};
    ASSERT_EQ(tm_cobs_encode(b, 4, out, sizeof out), 5u);
    const uint8_t want[] = {0x03, 0x11, 0x22, 0x02, 0x33};
    EXPECT_EQ(std::memcmp(out, want, 5), 0);
}

TEST(Cobs, RoundTripsLongRunsWithoutZeros)
{
    std::vector<uint8_t> src(1000);
    for (size_t i = 0; i < src.size(); ++i)
        src[i] = static_cast<uint8_t>(i % 255 + 1);
    std::vector<uint8_t> enc(src.size() + src.size() / 254 + 1);
    size_t n = tm_cobs_encode(src.data(), src.size(), enc.data(), enc.size());
    ASSERT_GT(n, 0u);
    for (size_t i = 0; i < n; ++i)
        ASSERT_NE(enc[i], 0) << "at " << i;
    std::vector<uint8_t> dec(src.size());
    ASSERT_EQ(tm_cobs_decode(enc.data(), n, dec.data(), dec.size()), src.size());
    EXPECT_EQ(dec, src);
}

TEST(Frame, RoundTripsThroughTheStreamingDecoder)
{
    std::vector<uint8_t> payload = {0, 1, 2, 0, 0, 255, 7};
    auto wire = encode(42, TM_OP_PING, payload);
    auto d = decodeAll(wire);
    ASSERT_EQ(d.statuses.size(), 1u);
    EXPECT_EQ(d.statuses[0], TM_FRAME_READY);
    EXPECT_EQ(d.ops[0], TM_OP_PING);
    EXPECT_EQ(d.payloads[0], payload);
}

TEST(Frame, MaximumPayloadFitsAndOneMoreIsRefused)
{
    std::vector<uint8_t> payload(TM_MAX_PAYLOAD, 0x5A);
    auto wire = encode(1, TM_OP_STREAM_DATA, payload);
    ASSERT_FALSE(wire.empty());
    auto d = decodeAll(wire);
    ASSERT_EQ(d.payloads.size(), 1u);
    EXPECT_EQ(d.payloads[0], payload);

    std::vector<uint8_t> tooBig(TM_MAX_PAYLOAD + 1, 0x5A);
    std::vector<uint8_t> out(2 * TM_MAX_ENCODED_FRAME);
    EXPECT_EQ(tm_frame_encode(1, 1, tooBig.data(), tooBig.size(), out.data(), out.size()), 0u);
}

TEST(Frame, ResynchronisesAfterGarbageAndCorruption)
{
    std::vector<uint8_t> wire = {0x13, 0x37, 0xFF, 0x42, 0x00}; // garbage, then a delimiter
    auto good1 = encode(1, TM_OP_PING, {1, 2, 3});
    auto bad = encode(2, TM_OP_PING, {4, 5, 6});
    bad[3] ^= 0x10; // flip a bit inside the frame: CRC must catch it
    auto good2 = encode(3, TM_OP_PING, {7, 8, 9});
    wire.insert(wire.end(), good1.begin(), good1.end());
    wire.insert(wire.end(), bad.begin(), bad.end());
    wire.insert(wire.end(), good2.begin(), good2.end());

    auto d = decodeAll(wire);
    ASSERT_EQ(d.payloads.size(), 2u);
    EXPECT_EQ(d.payloads[0], (std::vector<uint8_t>{1, 2, 3}));
    EXPECT_EQ(d.payloads[1], (std::vector<uint8_t>{7, 8, 9}));
    int errors = 0;
    for (auto s : d.statuses)
        errors += (s != TM_FRAME_READY);
    EXPECT_EQ(errors, 2); // the garbage and the flipped frame
}

TEST(Frame, OverlongRunWithoutDelimiterIsDroppedUntilTheNextZero)
{
    std::vector<uint8_t> wire(TM_MAX_ENCODED_FRAME + 100, 0x55);
    wire.push_back(0);
    auto good = encode(9, TM_OP_PING, {1});
    wire.insert(wire.end(), good.begin(), good.end());
    auto d = decodeAll(wire);
    ASSERT_EQ(d.payloads.size(), 1u);
    EXPECT_EQ(d.statuses.front(), TM_FRAME_ERR_OVERFLOW);
}
