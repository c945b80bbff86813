// The trainer's packages that kernel-bench embeds (firmware-agent/bench/models, made by its
// regenerate.sh) still load with the device's reader and still run, on the host with the
// interpreter and the reference kernels, to the bytes model::Int8Executor gave at export:
// a package-format or kernel change that breaks them fails here, not only on the next
// benchmark run.

#include "tm_model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

const fs::path kBenchDir = fs::path(TINYML_SOURCE_DIR) / "firmware-agent" / "bench";

std::vector<uint8_t> readFile(const fs::path &path)
{
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(in) << "cannot open " << path;
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// TINYML_BENCH_MODELS of model_rows.cmake: the stems the bench image embeds.
std::vector<std::string> benchModels()
{
    std::ifstream in(kBenchDir / "model_rows.cmake");
    std::stringstream text;
    text << in.rdbuf();
    const std::string s = text.str();
    std::smatch m;
    if (!std::regex_search(s, m, std::regex(R"(set\(TINYML_BENCH_MODELS([^)]*)\))")))
        return {};
    std::istringstream names(m[1].str());
    std::vector<std::string> out;
    for (std::string n; names >> n;)
        out.push_back(n);
    return out;
}

TEST(BenchModels, EveryCommittedPackageIsEmbedded)
{
    const auto listed = benchModels();
    ASSERT_FALSE(listed.empty()) << "no TINYML_BENCH_MODELS in model_rows.cmake";
    std::set<std::string> files;
    for (const auto &e : fs::directory_iterator(kBenchDir / "models"))
        if (e.path().extension() == ".tmpk")
            files.insert(e.path().stem().string());
    EXPECT_EQ(files, std::set<std::string>(listed.begin(), listed.end()));
}

TEST(BenchModels, LoadAndRunToTheHostReference)
{
    const auto listed = benchModels();
    ASSERT_GE(listed.size(), 3u);
    for (const auto &name : listed) {
        SCOPED_TRACE(name);
        const fs::path dir = kBenchDir / "models";
        const auto bytes = readFile(dir / (name + ".tmpk"));
        const auto input = readFile(dir / (name + ".input.bin"));
        const auto expected = readFile(dir / (name + ".expected.bin"));
        ASSERT_GE(bytes.size(), 64u);
        // in place, as on the device: 16-byte aligned
        std::vector<uint32_t> pkg((bytes.size() + 3) / 4);
        std::memcpy(pkg.data(), bytes.data(), bytes.size());
        const auto *p = reinterpret_cast<const uint8_t *>(pkg.data());

        tm_model_t m;
        const tm_model_status_t s = tm_model_load(&m, p, uint32_t(bytes.size()));
        ASSERT_EQ(s, TM_MODEL_OK) << tm_model_status_name(s);
        std::vector<uint32_t> arena((tm_model_arena_bytes(&m) + 3) / 4 + 4);
        auto *a = reinterpret_cast<uint8_t *>(arena.data());
        uint32_t inBytes = 0, outBytes = 0;
        int8_t *x = tm_model_input(&m, a, &inBytes);
        ASSERT_EQ(inBytes, input.size());
        std::memcpy(x, input.data(), inBytes);
        ASSERT_EQ(tm_model_invoke(&m, a, uint32_t(arena.size() * 4), nullptr, nullptr),
                  TM_MODEL_OK);
        const int8_t *y = tm_model_output(&m, a, &outBytes);
        ASSERT_EQ(outBytes, expected.size());
        EXPECT_TRUE(
            std::equal(expected.begin(), expected.end(), reinterpret_cast<const uint8_t *>(y)));

        // the loader really checks these bytes: one flipped data byte fails the CRC
        std::vector<uint32_t> bad = pkg;
        reinterpret_cast<uint8_t *>(bad.data())[bytes.size() - 1] ^= 0x01;
        EXPECT_EQ(tm_model_load(&m, reinterpret_cast<const uint8_t *>(bad.data()),
                                uint32_t(bytes.size())),
                  TM_MODEL_ERR_CRC);
    }
}

} // namespace
