// The agent programs over a real pty, as the workbench reaches them: tinyml-agent-host
// and the QEMU images. A missing QEMU or image fails the test; nothing is skipped.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "agent_test_support.h"
#include "child_process.h"

using namespace tmtest;
namespace fs = std::filesystem;

namespace {

/// The host side of a pty link in raw mode.
class PtyLink {
public:
    explicit PtyLink(const std::string &path)
    {
        fd_ = open(path.c_str(), O_RDWR | O_NOCTTY);
        if (fd_ < 0)
            return;
        termios t{};
        tcgetattr(fd_, &t);
        cfmakeraw(&t);
        tcsetattr(fd_, TCSANOW, &t);
    }
    ~PtyLink()
    {
        if (fd_ >= 0)
            close(fd_);
    }
    bool ok() const { return fd_ >= 0; }
    void send(const Bytes &b)
    {
        size_t off = 0;
        while (off < b.size()) {
            ssize_t n = write(fd_, b.data() + off, b.size() - off);
            if (n > 0)
                off += size_t(n);
        }
    }
    /// Next valid frame within timeout; op 0 on timeout.
    Frame next(int timeoutMs)
    {
        auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
        for (;;) {
            cap_.parse();
            if (consumed_ < cap_.frames.size())
                return cap_.frames[consumed_++];
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                end - std::chrono::steady_clock::now()).count();
            if (left <= 0)
                return {};
            pollfd p{fd_, POLLIN, 0};
            if (poll(&p, 1, int(std::min<long long>(left, 100))) > 0) {
                uint8_t tmp[4096];
                ssize_t n = read(fd_, tmp, sizeof tmp);
                if (n > 0)
                    cap_.bytes.insert(cap_.bytes.end(), tmp, tmp + n);
            }
        }
    }
    Frame request(uint8_t op, const Bytes &payload = {}, int timeoutMs = 3000)
    {
        uint8_t s = seq_++;
        Bytes f{0};
        Bytes enc = encodeFrame(s, op, payload);
        f.insert(f.end(), enc.begin(), enc.end());
        send(f);
        for (;;) {
            Frame r = next(timeoutMs);
            if (r.op == 0 || (r.seq == s && (r.op == (op | TM_OP_REPLY) || r.op == TM_OP_ERROR)))
                return r;
        }
    }

private:
    int fd_ = -1;
    uint8_t seq_ = 1;
    Capture cap_;
    size_t consumed_ = 0;
};

std::multimap<uint8_t, Bytes> hello(PtyLink &link)
{
    Frame r = link.request(TM_OP_HELLO, u16le(TM_PROTOCOL_VERSION));
    EXPECT_EQ(r.op, TM_OP_HELLO | TM_OP_REPLY);
    bool ok = false;
    auto info = parseInfo(r.payload, &ok);
    EXPECT_TRUE(ok);
    return info;
}

fs::path tempDir(const std::string &name)
{
    fs::path d = fs::temp_directory_path() / (name + "-" + std::to_string(getpid()));
    fs::remove_all(d);
    fs::create_directories(d);
    return d;
}

const std::regex kHostLine("^tinyml-agent-host: pty (\\S+)$");

TEST(AgentHostProgram, ServesHelloAndPersistsTheModel)
{
    fs::path dir = tempDir("tinyml-agent-host-test");
    std::string flash = (dir / "flash.bin").string();
    Bytes pkg(3000);
    for (size_t i = 0; i < pkg.size(); ++i)
        pkg[i] = uint8_t(i ^ (i >> 8));
    const uint32_t crc = tm_crc32(0, pkg.data(), pkg.size());
    {
        Child agent({TINYML_AGENT_HOST, "--board-id", "host-test", "--flash", flash, "--fast"});
        std::string pty = agent.waitFor(kHostLine);
        ASSERT_FALSE(pty.empty());
        {
            PtyLink link(pty);
            ASSERT_TRUE(link.ok());
            auto info = hello(link);
            EXPECT_EQ(str(info.find(TM_INFO_BOARD_ID)->second), "host-test");
            EXPECT_EQ(info.find(TM_INFO_COUNTER)->second[0], TM_COUNTER_MICROSECONDS);
            EXPECT_TRUE(tm_get_u32(info.find(TM_INFO_CAPABILITIES)->second.data()) &
                        TM_CAP_PERSISTENT_SLOTS);
            ASSERT_EQ(link.request(TM_OP_MODEL_BEGIN, cat({u32le(uint32_t(pkg.size())), u32le(crc)})).op,
                      TM_OP_MODEL_BEGIN | TM_OP_REPLY);
            for (size_t off = 0; off < pkg.size(); off += 2000) {
                Bytes chunk(pkg.begin() + long(off),
                            pkg.begin() + long(std::min(pkg.size(), off + 2000)));
                ASSERT_EQ(link.request(TM_OP_MODEL_CHUNK, cat({u32le(uint32_t(off)), chunk})).op,
                          TM_OP_MODEL_CHUNK | TM_OP_REPLY);
            }
            ASSERT_EQ(link.request(TM_OP_MODEL_COMMIT).op, TM_OP_MODEL_COMMIT | TM_OP_REPLY);
        }
        // the host closes the port and opens it again: the agent still serves
        PtyLink again(pty);
        EXPECT_EQ(again.request(TM_OP_PING, {4, 5}).payload, (Bytes{4, 5}));
        // a fast stream of 10000 samples arrives complete
        Frame st = again.request(TM_OP_STREAM_START, cat({{1}, u32le(16000), u32le(10000), u16le(0)}));
        ASSERT_EQ(st.op, TM_OP_STREAM_START | TM_OP_REPLY);
        uint32_t expect = 0;
        for (;;) {
            Frame f = again.next(5000);
            ASSERT_NE(f.op, 0);
            if (f.op == TM_OP_STREAM_END) {
                EXPECT_EQ(f.payload[5], TM_STREAM_END_COMPLETE);
                break;
            }
            ASSERT_EQ(f.op, TM_OP_STREAM_DATA);
            ASSERT_EQ(tm_get_u32(&f.payload[1]), expect);
            expect += tm_get_u16(&f.payload[5]);
        }
        EXPECT_EQ(expect, 10000u);
        int st2 = agent.terminate();
        EXPECT_TRUE(WIFEXITED(st2) && WEXITSTATUS(st2) == 0) << st2;
    }
    // a new process on the same flash file has the model
    Child agent({TINYML_AGENT_HOST, "--flash", flash});
    std::string pty = agent.waitFor(kHostLine);
    ASSERT_FALSE(pty.empty());
    PtyLink link(pty);
    auto info = hello(link);
    EXPECT_EQ(str(info.find(TM_INFO_BOARD_ID)->second), "host");
    Frame mi = link.request(TM_OP_MODEL_INFO);
    ASSERT_EQ(mi.payload.size(), 10u);
    EXPECT_EQ(mi.payload[1], 1);
    EXPECT_EQ(tm_get_u32(&mi.payload[6]), crc);
    fs::remove_all(dir);
}

#ifdef TINYML_QEMU_SYSTEM_ARM

struct QemuBoard {
    const char *id;        ///< the port, and the image folder
    const char *boardId;   ///< what INFO reports: the registry id (resources/boards)
    const char *machine;
    const char *cpu;
};

void PrintTo(const QemuBoard &b, std::ostream *os) { *os << b.id; }

class AgentQemu : public ::testing::TestWithParam<QemuBoard> {};

TEST_P(AgentQemu, HelloOverTheSerialPty)
{
    const QemuBoard b = GetParam();
    std::string image = std::string(TINYML_AGENT_IMAGE_DIR) + "/" + b.id + "/tinyml-agent.elf";
    ASSERT_TRUE(fs::exists(TINYML_QEMU_SYSTEM_ARM)) << "qemu-system-arm is required";
    ASSERT_TRUE(fs::exists(image)) << image;
    fs::path dir = tempDir(std::string("tinyml-qemu-") + b.id);
    Child qemu({TINYML_QEMU_SYSTEM_ARM, "-M", b.machine, "-nographic", "-monitor", "none",
                "-icount", "shift=0,sleep=off", "-serial", "pty",
                "-semihosting-config", "enable=on,target=native", "-kernel", image},
               dir.string());
    std::string pty = qemu.waitFor(std::regex("char device redirected to (\\S+)"));
    ASSERT_FALSE(pty.empty()) << "QEMU did not report its serial pty";
    PtyLink link(pty);
    ASSERT_TRUE(link.ok());
    auto info = hello(link);
    EXPECT_EQ(str(info.find(TM_INFO_BOARD_ID)->second), b.boardId);
    EXPECT_EQ(str(info.find(TM_INFO_CPU)->second), b.cpu);
    const Bytes &counter = info.find(TM_INFO_COUNTER)->second;
    ASSERT_EQ(counter.size(), 5u);
    EXPECT_EQ(counter[0], TM_COUNTER_INSTRUCTIONS);
    EXPECT_EQ(tm_get_u32(&counter[1]), 40u);
    EXPECT_EQ(tm_get_u32(info.find(TM_INFO_CLOCK_HZ)->second.data()), 25000000u);
    EXPECT_TRUE(tm_get_u32(info.find(TM_INFO_CAPABILITIES)->second.data()) &
                TM_CAP_PERSISTENT_SLOTS);
    EXPECT_EQ(info.count(TM_INFO_SENSOR), 3u); // accel, mic, vib (the simulated machine)

    // a short accelerometer stream: contiguous and complete
    Frame st = link.request(TM_OP_STREAM_START, cat({{0}, u32le(1000), u32le(500), u16le(0)}));
    ASSERT_EQ(st.op, TM_OP_STREAM_START | TM_OP_REPLY);
    uint32_t expect = 0;
    for (;;) {
        Frame f = link.next(10000);
        ASSERT_NE(f.op, 0);
        if (f.op == TM_OP_STREAM_END) {
            EXPECT_EQ(f.payload[5], TM_STREAM_END_COMPLETE);
            break;
        }
        ASSERT_EQ(f.op, TM_OP_STREAM_DATA);
        ASSERT_EQ(tm_get_u32(&f.payload[1]), expect);
        expect += tm_get_u16(&f.payload[5]);
    }
    EXPECT_EQ(expect, 500u);
    fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Boards, AgentQemu,
                         ::testing::Values(QemuBoard{"qemu-mps2-an386", "qemu-m4", "mps2-an386", "cortex-m4f"},
                                           QemuBoard{"qemu-mps2-an500", "qemu-m7", "mps2-an500", "cortex-m7"}),
                         [](const auto &info) {
                             std::string n = info.param.id;
                             return n.substr(n.size() - 5);
                         });

#endif

} // namespace
