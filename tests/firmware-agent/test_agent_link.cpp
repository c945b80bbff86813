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
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "agent_test_support.h"
#include "child_process.h"
#include "attest_scenario.h"
#include "signed_package_scenario.h"
#include "tm_model.h"

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

    /// What the official MLPerf Tiny runner's SerialDevice does for one command: writes the
    /// command and its '%' delimiter, splits what comes back into lines at '\n' (dropping
    /// '\r' and NUL), skips empty lines and stops at the first line containing "m-ready".
    /// Returns the lines, or none after timeoutMs without "m-ready".
    std::vector<std::string> runnerCommand(const std::string &command, int timeoutMs = 30000)
    {
        const std::string out = command + "%";
        send(Bytes(out.begin(), out.end()));
        std::vector<std::string> lines;
        auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
        for (;;) {
            size_t nl;
            while ((nl = textIn_.find('\n')) != std::string::npos) {
                std::string line;
                for (char c : textIn_.substr(0, nl))
                    if (c != '\r' && c != '\0')
                        line += c;
                textIn_.erase(0, nl + 1);
                if (!line.empty())
                    lines.push_back(line);
                if (line.find("m-ready") != std::string::npos)
                    return lines;
            }
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                end - std::chrono::steady_clock::now()).count();
            if (left <= 0)
                return {};
            pollfd p{fd_, POLLIN, 0};
            if (poll(&p, 1, int(std::min<long long>(left, 100))) > 0) {
                char tmp[4096];
                ssize_t n = read(fd_, tmp, sizeof tmp);
                if (n > 0)
                    textIn_.append(tmp, size_t(n));
            }
        }
    }

private:
    int fd_ = -1;
    uint8_t seq_ = 1;
    Capture cap_;
    size_t consumed_ = 0;
    std::string textIn_;
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

uint64_t u64le(const Bytes &b)
{
    EXPECT_GE(b.size(), 8u);
    return b.size() < 8 ? 0 : tm_get_u32(b.data()) | uint64_t(tm_get_u32(b.data() + 4)) << 32;
}

Bytes readFile(const fs::path &path)
{
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(in) << "cannot open " << path;
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

const fs::path kBenchModels = fs::path(TINYML_SOURCE_DIR) / "firmware-agent" / "bench" / "models";

/// MODEL_BEGIN, MODEL_CHUNKs, MODEL_COMMIT with the benchmark id as `tinyml flash` sends it.
void uploadWithId(PtyLink &link, const Bytes &pkg, const std::string &benchmarkId)
{
    const uint32_t crc = tm_crc32(0, pkg.data(), pkg.size());
    ASSERT_EQ(link.request(TM_OP_MODEL_BEGIN, cat({u32le(uint32_t(pkg.size())), u32le(crc)})).op,
              TM_OP_MODEL_BEGIN | TM_OP_REPLY);
    for (size_t off = 0; off < pkg.size(); off += 2000) {
        Bytes chunk(pkg.begin() + long(off), pkg.begin() + long(std::min(pkg.size(), off + 2000)));
        ASSERT_EQ(link.request(TM_OP_MODEL_CHUNK, cat({u32le(uint32_t(off)), chunk}), 10000).op,
                  TM_OP_MODEL_CHUNK | TM_OP_REPLY);
    }
    ASSERT_EQ(link.request(TM_OP_MODEL_COMMIT, Bytes(benchmarkId.begin(), benchmarkId.end()), 10000).op,
              TM_OP_MODEL_COMMIT | TM_OP_REPLY);
}

// The official runner's patterns (mlcommons/tiny benchmark/runner: device_under_test.py and
// script.py), in ECMAScript syntax: Python's [^]] is [^\]] here.
const std::regex kRunnerName(R"(^m-(name)-dut-\[([^\]]+)]$)");
const std::regex kRunnerProfile(R"(^m-(model|profile)-\[([^\]]+)]$)");
const std::regex kRunnerResults(R"(^m-results-\[([^\]]+)\]$)");
const std::regex kRunnerLap(R"(^m-lap-us-([0-9]+)$)");

/// One window's infer as the runner's _gather_infer_results reads it.
struct RunnerInfer {
    std::vector<double> results;
    int resultLines = 0;
    long long startUs = -1, endUs = -1;
};

RunnerInfer gatherInfer(const std::vector<std::string> &lines)
{
    RunnerInfer r;
    for (const auto &l : lines) {
        std::smatch m;
        if (std::regex_match(l, m, kRunnerResults)) {
            r.results.clear();
            std::stringstream list(m[1].str());
            for (std::string v; std::getline(list, v, ',');)
                r.results.push_back(std::stod(v)); // Python float(): throws on junk
            r.resultLines++;
        } else if (std::regex_match(l, m, kRunnerLap)) {
            (r.startUs < 0 ? r.startUs : r.endUs) = std::stoll(m[1].str());
        }
    }
    return r;
}

/// The runner's performance mode for kws01 (tests_performance.yaml: loop 5 of download,
/// infer 70 10), byte for byte, against the agent on `link` holding kws-dscnn. Checks every
/// reply with the runner's patterns; returns the windows' infer results.
std::vector<RunnerInfer> runnerPerformanceKws(PtyLink &link, const std::string &boardId,
                                              int windows, int runs, int warmups)
{
    std::vector<RunnerInfer> out;
    std::smatch m;
    const auto name = link.runnerCommand("name");
    EXPECT_EQ(name.size(), 2u);
    EXPECT_TRUE(!name.empty() && std::regex_match(name[0], m, kRunnerName) && m[2] == boardId)
        << (name.empty() ? "" : name[0]);
    std::string model, profile;
    for (const auto &l : link.runnerCommand("profile"))
        if (std::regex_match(l, m, kRunnerProfile))
            (m[1] == "model" ? model : profile) = m[2];
    EXPECT_EQ(model, "kws01"); // the runner picks test and data set from this
    EXPECT_EQ(profile, "tinyml-agent-" TM_AGENT_VERSION);

    const Bytes input = readFile(kBenchModels / "kws-dscnn.input.bin");
    EXPECT_EQ(input.size(), 490u); // 49 x 10 MFCC, the kws01 input
    for (int w = 0; w < windows; ++w) {
        SCOPED_TRACE("window " + std::to_string(w));
        const auto load = link.runnerCommand("db load " + std::to_string(input.size()));
        EXPECT_EQ(load, (std::vector<std::string>{"m-[Expecting 490 bytes]", "m-ready"}));
        std::vector<std::string> last;
        for (size_t i = 0; i < input.size(); i += 31) { // DUT._max_bytes without a power manager
            std::string cmd = "db ";
            char hex[3];
            for (size_t k = i; k < std::min(input.size(), i + 31); ++k) {
                std::snprintf(hex, sizeof hex, "%02x", input[k]);
                cmd += hex;
            }
            last = link.runnerCommand(cmd);
            EXPECT_FALSE(last.empty()) << cmd;
            for (const auto &l : last)
                EXPECT_NE(l.rfind("e-", 0), 0u) << l;
        }
        EXPECT_EQ(last, (std::vector<std::string>{"m-load-done", "m-ready"}));
        const auto infer = link.runnerCommand("infer " + std::to_string(runs) + " " +
                                              std::to_string(warmups), 120000);
        EXPECT_EQ(infer.size(), 8u);
        EXPECT_EQ(infer.back(), "m-ready");
        for (const auto &l : infer)
            EXPECT_NE(l.rfind("e-", 0), 0u) << l;
        RunnerInfer r = gatherInfer(infer);
        EXPECT_EQ(r.resultLines, 1);
        EXPECT_GE(r.startUs, 0);
        EXPECT_GT(r.endUs, r.startUs);
        out.push_back(r);
    }
    return out;
}

/// kws-dscnn's committed reference output, dequantised as m-results prints it.
std::vector<double> kwsExpected()
{
    const Bytes pkg = readFile(kBenchModels / "kws-dscnn.tmpk");
    const Bytes expected = readFile(kBenchModels / "kws-dscnn.expected.bin");
    std::vector<uint32_t> aligned((pkg.size() + 3) / 4);
    std::memcpy(aligned.data(), pkg.data(), pkg.size());
    tm_model_t model;
    EXPECT_EQ(tm_model_load(&model, reinterpret_cast<const uint8_t *>(aligned.data()),
                            uint32_t(pkg.size())),
              TM_MODEL_OK);
    float scale = 0;
    int32_t zp = 0;
    tm_model_output_quant(&model, &scale, &zp);
    std::vector<double> v;
    for (uint8_t q : expected)
        v.push_back(double((int8_t(q) - zp) * scale));
    return v;
}

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

TEST(AgentHostProgram, OfficialMlperfRunnerPerformanceSequence)
{
    fs::path dir = tempDir("tinyml-agent-host-mlperf");
    const std::string flash = (dir / "flash.bin").string();
    const Bytes pkg = readFile(kBenchModels / "kws-dscnn.tmpk");
    {
        Child agent({TINYML_AGENT_HOST, "--board-id", "host-test", "--flash", flash});
        std::string pty = agent.waitFor(kHostLine);
        ASSERT_FALSE(pty.empty());
        PtyLink link(pty);
        ASSERT_TRUE(link.ok());
        hello(link);
        uploadWithId(link, pkg, "kws01");
        agent.terminate();
    }
    // the runner meets a freshly started agent: the id came back from the flash file
    Child agent({TINYML_AGENT_HOST, "--board-id", "host-test", "--flash", flash});
    std::string pty = agent.waitFor(kHostLine);
    ASSERT_FALSE(pty.empty());
    PtyLink link(pty);
    ASSERT_TRUE(link.ok());
    const auto windows = runnerPerformanceKws(link, "host-test", 5, 70, 10);
    ASSERT_EQ(windows.size(), 5u);
    const auto expected = kwsExpected();
    for (const auto &w : windows) {
        ASSERT_EQ(w.results.size(), expected.size());
        for (size_t i = 0; i < expected.size(); ++i)
            EXPECT_NEAR(w.results[i], expected[i], 0.5e-6 + 1e-6 * std::fabs(expected[i])) << i;
    }
    // the host port's counter is the wall clock: 70 runs take about 70 single INVOKEs
    Frame inv = link.request(TM_OP_INVOKE, {}, 10000);
    ASSERT_EQ(inv.op, TM_OP_INVOKE | TM_OP_REPLY);
    const double invokeUs = double(u64le(inv.payload));
    const double lapUs = double(windows.back().endUs - windows.back().startUs) / 70.0;
    EXPECT_GT(lapUs, invokeUs / 10.0) << lapUs << " us per run vs INVOKE " << invokeUs;
    EXPECT_LT(lapUs, invokeUs * 10.0 + 1000.0) << lapUs << " us per run vs INVOKE " << invokeUs;
    fs::remove_all(dir);
}

/// A board that can be restarted: a program (tinyml-agent-host --flash, or QEMU with its
/// semihosted flash file in cwd) started anew on the same storage, and its pty link.
struct RestartableBoard {
    std::vector<std::string> argv;
    std::string cwd;
    std::regex ptyLine;
    std::unique_ptr<Child> child;
    std::unique_ptr<PtyLink> link;

    bool start()
    {
        link.reset();
        child.reset(); // SIGTERM and reap the previous process first
        child = std::make_unique<Child>(argv, cwd);
        const std::string pty = child->waitFor(ptyLine);
        if (pty.empty())
            return false;
        link = std::make_unique<PtyLink>(pty);
        return link->ok() && !hello(*link).empty();
    }
    AgentClient client()
    {
        AgentClient c;
        c.request = [this](uint8_t op, const Bytes &payload) { return link->request(op, payload, 30000); };
        c.restart = [this] { ASSERT_TRUE(start()) << "the board did not come back"; };
        return c;
    }
};

#ifdef TINYML_QEMU_SYSTEM_ARM

/// The QEMU Cortex-M4 agent image the provisioning tests boot.
std::string qemuM4Image()
{
    return std::string(TINYML_AGENT_IMAGE_DIR) + "/qemu-mps2-an386/tinyml-agent.elf";
}

/// Starts image on QEMU's mps2-an386 with its semihosted flash file in dir (kept across
/// restarts: the provisioning record and the identity live there).
void startQemuM4Board(const std::string &image, const fs::path &dir, RestartableBoard *board)
{
    ASSERT_TRUE(fs::exists(TINYML_QEMU_SYSTEM_ARM)) << "qemu-system-arm is required";
    ASSERT_TRUE(fs::exists(image)) << image;
    *board = RestartableBoard{{TINYML_QEMU_SYSTEM_ARM, "-M", "mps2-an386", "-nographic", "-monitor", "none",
                               "-icount", "shift=0,sleep=off", "-serial", "pty", "-semihosting-config",
                               "enable=on,target=native", "-kernel", image},
                              dir.string(), std::regex("char device redirected to (\\S+)"), nullptr, nullptr};
    ASSERT_TRUE(board->start());
}

#endif

// Issue 17 on the host program: the key and the counter persist in the --flash file.
TEST(AgentHostProgram, SignedPackagesAndAntiRollbackPersistInTheFlashFile)
{
    fs::path dir = tempDir("tinyml-agent-host-signed");
    RestartableBoard board{{TINYML_AGENT_HOST, "--flash", (dir / "flash.bin").string(), "--fast"},
                           dir.string(), kHostLine, nullptr, nullptr};
    ASSERT_TRUE(board.start());
    AgentClient c = board.client();
    TestKey ours;
    runSignedPackageScenario(c, 6000, ours);
    // the record sits after the two slots of the file (tm_flash_image.h)
    const Bytes file = readFile(dir / "flash.bin");
    ASSERT_GE(file.size(), size_t(tm_flash_provision_offset(1u << 20)) + TM_PROVISION_RECORD_BYTES);
    uint8_t key[TM_PROVISION_KEY_BYTES];
    ASSERT_EQ(tm_provision_record_decode(&file[tm_flash_provision_offset(1u << 20)], key), TM_OK);
    EXPECT_EQ(Bytes(key, key + sizeof key), ours.publicKey());
    EXPECT_EQ(tm_get_u32(&file[56]), 5u);
    board.link.reset();
    board.child.reset();
    fs::remove_all(dir);
}

#ifdef TINYML_QEMU_SYSTEM_ARM

// Issue 17 on the virtual Cortex-M4: the agent's own Ed25519 check before a slot is
// committed, every refusal with its code, the counter and key in tinyml-flash.bin across a
// restart of QEMU; then a real signed model runs. Prints the check's cost in instructions.
TEST(AgentQemuSigned, ProvisionedBoardRefusesAndKeepsThePreviousModel)
{
    const std::string image = qemuM4Image();
    fs::path dir = tempDir("tinyml-qemu-signed");
    RestartableBoard board;
    ASSERT_NO_FATAL_FAILURE(startQemuM4Board(image, dir, &board));
    AgentClient c = board.client();
    TestKey ours;
    const uint32_t ticks = runSignedPackageScenario(c, 4000, ours);
    const uint32_t perTick = 40; // INFO COUNTER on the MPS2 images
    std::printf("signature check of a 4000-byte package on qemu-m4: %u instructions\n", ticks * perTick);
    EXPECT_GT(ticks * perTick, 1000000u);  // an Ed25519 verification, not a shortcut
    EXPECT_LT(ticks * perTick, 2500000u);  // crypto/README.md: ~1.54 M + ~0.1 M per KiB

    // a real model, signed: committed, loaded by the interpreter without its block, and runs
    const Bytes kws = readFile(kBenchModels / "kws-dscnn.tmpk");
    const Bytes signedKws = signPackage(kws, 6, ours);
    Frame commit = c.upload(signedKws);
    ASSERT_EQ(commit.op, TM_OP_MODEL_COMMIT | TM_OP_REPLY) << commit.errorMessage();
    const Security s = c.security();
    EXPECT_EQ(s.counter, 6u);
    std::printf("signature check of kws-dscnn (%zu bytes) on qemu-m4: %u instructions\n", kws.size(),
                s.checkTicks * perTick);
    Frame inv = c.request(TM_OP_INVOKE, {});
    EXPECT_EQ(inv.op, TM_OP_INVOKE | TM_OP_REPLY) << inv.errorMessage();
    // an older signed model is refused and the kws model still runs
    EXPECT_TRUE(isError(c.upload(signPackage(kws, 4, ours)), TM_ERR_ROLLBACK));
    EXPECT_EQ(c.activeCrc(), crcOf(signedKws));
    EXPECT_EQ(c.request(TM_OP_INVOKE, {}).op, TM_OP_INVOKE | TM_OP_REPLY);
    board.link.reset();
    board.child.reset();
    fs::remove_all(dir);
}

// The runner against the QEMU Cortex-M4 board: the id survives a restart through the
// semihosted flash file, and m-lap-us is in the clock `tinyml profile` uses there
// (instructions at the board's 25 MHz), not QEMU's virtual microseconds.
TEST(AgentQemuMlperf, RunnerLapsFollowTheProfileClock)
{
    std::string image = std::string(TINYML_AGENT_IMAGE_DIR) + "/qemu-mps2-an386/tinyml-agent.elf";
    ASSERT_TRUE(fs::exists(TINYML_QEMU_SYSTEM_ARM)) << "qemu-system-arm is required";
    ASSERT_TRUE(fs::exists(image)) << image;
    fs::path dir = tempDir("tinyml-qemu-mlperf");
    const std::vector<std::string> cmd{TINYML_QEMU_SYSTEM_ARM, "-M", "mps2-an386", "-nographic",
                                       "-monitor", "none", "-icount", "shift=0,sleep=off",
                                       "-serial", "pty", "-semihosting-config",
                                       "enable=on,target=native", "-kernel", image};
    const std::regex ptyLine("char device redirected to (\\S+)");
    {
        Child qemu(cmd, dir.string());
        std::string pty = qemu.waitFor(ptyLine);
        ASSERT_FALSE(pty.empty());
        PtyLink link(pty);
        ASSERT_TRUE(link.ok());
        hello(link);
        uploadWithId(link, readFile(kBenchModels / "kws-dscnn.tmpk"), "kws01");
    }
    Child qemu(cmd, dir.string());
    std::string pty = qemu.waitFor(ptyLine);
    ASSERT_FALSE(pty.empty());
    PtyLink link(pty);
    ASSERT_TRUE(link.ok());
    const int runs = 20;
    const auto windows = runnerPerformanceKws(link, "qemu-m4", 1, runs, 2);
    ASSERT_EQ(windows.size(), 1u);
    const auto expected = kwsExpected();
    ASSERT_EQ(windows[0].results.size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i)
        EXPECT_NEAR(windows[0].results[i], expected[i], 0.5e-6 + 1e-6 * std::fabs(expected[i])) << i;

    // INVOKE on the same input: ticks of 40 instructions; profile's ms = ticks x 40 / 25 MHz
    auto info = hello(link);
    const Bytes &counter = info.find(TM_INFO_COUNTER)->second;
    const double perTick = tm_get_u32(&counter[1]);
    const double clockHz = tm_get_u32(info.find(TM_INFO_CLOCK_HZ)->second.data());
    Frame inv = link.request(TM_OP_INVOKE, {}, 30000);
    ASSERT_EQ(inv.op, TM_OP_INVOKE | TM_OP_REPLY);
    const double profileUs = double(u64le(inv.payload)) * perTick * 1e6 / clockHz;
    const double lapUs = double(windows[0].endUs - windows[0].startUs) / runs;
    std::printf("kws-dscnn on qemu-m4: %.1f us per run from m-lap-us, %.1f us from INVOKE "
                "(instructions at %.0f MHz)\n", lapUs, profileUs, clockHz / 1e6);
    // the same clock: within 2 % (the laps add the loop and input copy of each run)
    EXPECT_NEAR(lapUs, profileUs, profileUs * 0.02);
    EXPECT_GT(profileUs, 1000.0); // QEMU's virtual microseconds would be 40 times fewer
    fs::remove_all(dir);
}

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

// Attestation (issue 17) on the host program: the identity record after the key record of
// the --flash file, and the firmware hash = SHA-512 of the program's own file.
TEST(AgentHostProgram, AttestationSignedWithTheIdentityInTheFlashFile)
{
    fs::path dir = tempDir("tinyml-agent-host-attest");
    RestartableBoard board{{TINYML_AGENT_HOST, "--flash", (dir / "flash.bin").string(), "--fast"},
                           dir.string(), kHostLine, nullptr, nullptr};
    ASSERT_TRUE(board.start());
    AgentClient c = board.client();
    TestKey project;
    const tm_attest_t st = runAttestScenario(c, project);
    EXPECT_TRUE(st.flags & TM_ATTEST_FLAG_FIRMWARE_HASH);
    EXPECT_EQ(Bytes(st.firmware_hash, st.firmware_hash + 64), sha512Of(readFile(TINYML_AGENT_HOST)));
    const Bytes file = readFile(dir / "flash.bin");
    const size_t at = tm_flash_identity_offset(1u << 20);
    ASSERT_GE(file.size(), at + TM_IDENTITY_RECORD_BYTES);
    uint8_t seed[32], pk[32];
    ASSERT_EQ(tm_identity_record_decode(&file[at], seed, pk), TM_OK);
    EXPECT_EQ(Bytes(pk, pk + 32), Bytes(st.device_public_key, st.device_public_key + 32));
    EXPECT_EQ(fs::status(dir / "flash.bin").permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write)
        << "the flash file holds the identity's secret: owner only";
    board.link.reset();
    board.child.reset();
    fs::remove_all(dir);
}

#ifdef TINYML_QEMU_SYSTEM_ARM

// The bytes `objcopy -O binary` makes of a little-endian ELF32 image loaded at 0: every
// PT_LOAD segment's file bytes at its physical (load) address, gaps zero.
Bytes loadImageOf(const Bytes &elf)
{
    auto u16 = [&](size_t o) { return uint32_t(elf.at(o) | (elf.at(o + 1) << 8)); };
    auto u32 = [&](size_t o) { return tm_get_u32(&elf.at(o)); };
    const uint32_t phoff = u32(28), phentsize = u16(42), phnum = u16(44);
    Bytes image;
    for (uint32_t i = 0; i < phnum; ++i) {
        const size_t ph = phoff + size_t(i) * phentsize;
        if (u32(ph) != 1 /* PT_LOAD */ || u32(ph + 16) == 0 /* p_filesz */)
            continue;
        const uint32_t offset = u32(ph + 4), paddr = u32(ph + 12), filesz = u32(ph + 16);
        if (image.size() < size_t(paddr) + filesz)
            image.resize(size_t(paddr) + filesz, 0);
        std::memcpy(&image[paddr], &elf.at(offset), filesz);
    }
    return image;
}

// Attestation on the virtual Cortex-M4: the agent's own Ed25519 signature (libsodium accepts
// it), the identity in tinyml-flash.bin across a restart of QEMU, and the firmware hash equal
// to the SHA-512 of the ELF's load image, computed here independently.
TEST(AgentQemuAttest, VirtualCortexM4SignsItsStatement)
{
    const std::string image = qemuM4Image();
    fs::path dir = tempDir("tinyml-qemu-attest");
    RestartableBoard board;
    ASSERT_NO_FATAL_FAILURE(startQemuM4Board(image, dir, &board));
    AgentClient c = board.client();
    TestKey project;
    const auto t0 = std::chrono::steady_clock::now();
    const tm_attest_t st = runAttestScenario(c, project);
    std::printf("attestation scenario on qemu-m4: %.2f s wall\n",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    EXPECT_TRUE(st.flags & TM_ATTEST_FLAG_FIRMWARE_HASH);
    const Bytes loaded = loadImageOf(readFile(image));
    EXPECT_GT(loaded.size(), 10000u);
    EXPECT_EQ(Bytes(st.firmware_hash, st.firmware_hash + 64), sha512Of(loaded))
        << "the firmware hash is not SHA-512 of the ELF's load image (" << loaded.size() << " bytes)";
    board.link.reset();
    board.child.reset();
    fs::remove_all(dir);
}

#endif

} // namespace
