// Host results of bitexact_probe against the hashes the same probe printed on the virtual
// board (bitexact-probe.elf under qemu-system-arm -M mps2-an386, arm-none-eabi-gcc 12.2
// -O3 -mcpu=cortex-m4 -mfpu=fpv4-sp-d16 -mfloat-abi=hard -ffp-contract=off -fno-math-errno,
// newlib).
// A mismatch means host-side features no longer equal device-side ones: either a change
// broke determinism, or a deliberate numeric change needs new hashes from the device.
#include <gtest/gtest.h>

#include <cstdint>

#include "bitexact_probe.h"

namespace {

TEST(DspBitExact, HostMatchesHashesRecordedOnCortexM4F)
{
    uint32_t h[BITEXACT_COUNT] = {};
    ASSERT_EQ(bitexact_probe(h), 0);
    EXPECT_EQ(h[BITEXACT_MATH], 0xf57af293u);
    EXPECT_EQ(h[BITEXACT_RAW], 0x1d502729u);
    EXPECT_EQ(h[BITEXACT_SPECTRAL], 0xc26bfecau);
    EXPECT_EQ(h[BITEXACT_MFE], 0xed2006dau);
    EXPECT_EQ(h[BITEXACT_MFCC], 0x7827f252u);
    EXPECT_EQ(h[BITEXACT_IMAGE], 0xdf6b38ffu);
    EXPECT_EQ(h[BITEXACT_CONV], 0xd9f4cef4u);
    EXPECT_EQ(h[BITEXACT_SOFTMAX], 0x73dc733bu);
    // Appended entries, recorded from bitexact-probe.elf on both boards (an386 and an500
    // print the same hashes; test_bitexact_device.cpp checks that on every run).
    EXPECT_EQ(h[BITEXACT_IMAGE_S8], 0x6b373769u);
    EXPECT_EQ(h[BITEXACT_CONV_STRIDED], 0xeb478696u);
    EXPECT_EQ(h[BITEXACT_DEPTHWISE], 0x1bd39538u);
    EXPECT_EQ(h[BITEXACT_FULLY_CONNECTED], 0xdf6e137au);
    EXPECT_EQ(h[BITEXACT_MAX_POOL], 0x0b42062eu);
    EXPECT_EQ(h[BITEXACT_AVG_POOL], 0x011b6249u);
    EXPECT_EQ(h[BITEXACT_ADD], 0x16ba2b42u);
}

}  // namespace
