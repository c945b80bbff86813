// Host results of bitexact_probe against the hashes the same probe printed on the virtual
// board (qemu-system-arm -M mps2-an386, arm-none-eabi-gcc 12.2 -O3 -mcpu=cortex-m4
// -mfpu=fpv4-sp-d16 -mfloat-abi=hard -ffp-contract=off -fno-math-errno, newlib).
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
}

}  // namespace
