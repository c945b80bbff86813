// Live host/device agreement: the same probe (bitexact_probe.c) runs here on the host and,
// as bitexact-probe.elf, on each virtual board under qemu-system-arm; every hash the board
// prints must equal the host's. Built when the firmware is (TINYML_BUILD_FIRMWARE): then a
// missing QEMU or image fails the test, nothing is skipped.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <ostream>
#include <regex>
#include <sstream>
#include <string>

#include "bitexact_probe.h"
#include "child_process.h"

namespace fs = std::filesystem;

namespace {

struct ProbeBoard {
    const char *id;       ///< the port, and the image folder
    const char *machine;  ///< qemu-system-arm -M
};

void PrintTo(const ProbeBoard &b, std::ostream *os) { *os << b.id; }

/// "bitexact <name> <value>" lines of the device's output, by name.
std::map<std::string, std::string> parseProbeOutput(const std::string &out)
{
    std::map<std::string, std::string> values;
    const std::regex line("^bitexact (\\S+) (\\S+)\\s*$");
    std::istringstream in(out);
    std::string l;
    while (std::getline(in, l)) {
        std::smatch m;
        if (std::regex_match(l, m, line))
            values[m[1]] = m[2];
    }
    return values;
}

std::string hex(uint32_t v)
{
    char s[16];
    std::snprintf(s, sizeof s, "0x%08x", v);
    return s;
}

class DspBitExactDevice : public ::testing::TestWithParam<ProbeBoard> {};

TEST_P(DspBitExactDevice, BoardHashesEqualHostHashes)
{
    const ProbeBoard b = GetParam();
    const std::string image =
        std::string(TINYML_AGENT_IMAGE_DIR) + "/" + b.id + "/bitexact-probe.elf";
    ASSERT_TRUE(fs::exists(TINYML_QEMU_SYSTEM_ARM)) << "qemu-system-arm is required";
    ASSERT_TRUE(fs::exists(image)) << image;

    uint32_t host[BITEXACT_COUNT] = {};
    ASSERT_EQ(bitexact_probe(host), 0);

    // -icount: a deterministic instruction count, as the agent's benchmarks run.
    tmtest::Child qemu({TINYML_QEMU_SYSTEM_ARM, "-M", b.machine, "-nographic", "-monitor",
                        "none", "-icount", "shift=0,sleep=off", "-semihosting-config",
                        "enable=on,target=native", "-kernel", image});
    int status = 0;
    const std::string out = qemu.readToExit(60000, &status);
    ASSERT_NE(status, -1) << "the probe did not exit within 60 s; output:\n" << out;
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "QEMU exit status " << status << "; output:\n" << out;

    const auto device = parseProbeOutput(out);
    ASSERT_EQ(device.count("status"), 1u) << out;
    EXPECT_EQ(device.at("status"), "0") << "a block reported an error on the board";
    // The boards run the optimized int8 kernels, the host the reference ones: equal hashes
    // are then the device half of the optimized-vs-reference bit-exactness check.
    ASSERT_EQ(device.count("kernels"), 1u) << out;
    EXPECT_EQ(device.at("kernels"), "optimized") << "the Cortex-M image runs the reference kernels";
    for (int i = 0; i < BITEXACT_COUNT; ++i) {
        const std::string name = bitexact_probe_name(i);
        const auto it = device.find(name);
        ASSERT_NE(it, device.end()) << "the board printed no hash for " << name << ":\n" << out;
        EXPECT_EQ(it->second, hex(host[i])) << name << " differs between host and " << b.id;
        std::printf("[ %-15s ] %-16s host %s  device %s\n", b.id, name.c_str(),
                    hex(host[i]).c_str(), it->second.c_str());
    }
}

INSTANTIATE_TEST_SUITE_P(Boards, DspBitExactDevice,
                         ::testing::Values(ProbeBoard{"qemu-mps2-an386", "mps2-an386"},
                                           ProbeBoard{"qemu-mps2-an500", "mps2-an500"}),
                         [](const auto &info) {
                             std::string n = info.param.id;
                             return n.substr(n.size() - 5);
                         });

}  // namespace
