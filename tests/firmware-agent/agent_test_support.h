// Test support for the firmware agent: a fake port that captures output, frame helpers
// and INFO parsing. Header-only; shared by the agent's test suites.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tm_agent.h"
#include "tm_flash_image.h"
#include "tm_frame.h"

namespace tmtest {

using Bytes = std::vector<uint8_t>;

inline Bytes encodeFrame(uint8_t seq, uint8_t op, const Bytes &payload)
{
    Bytes out(TM_MAX_ENCODED_FRAME);
    size_t n = tm_frame_encode(seq, op, payload.data(), payload.size(), out.data(), out.size());
    out.resize(n);
    return out;
}

struct Frame {
    uint8_t seq = 0;
    uint8_t op = 0;
    Bytes payload;
    uint16_t errorCode() const { return payload.size() >= 3 ? tm_get_u16(&payload[1]) : 0; }
    std::string errorMessage() const
    {
        return payload.size() > 3 ? std::string(payload.begin() + 3, payload.end()) : std::string();
    }
};

/// Splits captured device output into frames (and counts what is not a valid frame).
struct Capture {
    Bytes bytes;
    std::vector<Frame> frames;
    int badFrames = 0;
    std::string text; // non-frame printable output (MLPerf replies)

    void parse()
    {
        frames.clear();
        badFrames = 0;
        text.clear();
        Bytes chunk;
        for (uint8_t b : bytes) {
            if (b != 0) {
                chunk.push_back(b);
                continue;
            }
            if (chunk.empty())
                continue;
            Bytes dec(chunk.size());
            size_t n = tm_cobs_decode(chunk.data(), chunk.size(), dec.data(), dec.size());
            bool ok = n != size_t(-1) && n >= TM_FRAME_OVERHEAD &&
                      tm_crc32(0, dec.data(), n - 4) == tm_get_u32(&dec[n - 4]);
            if (ok) {
                Frame f;
                f.seq = dec[0];
                f.op = dec[1];
                f.payload.assign(dec.begin() + 2, dec.begin() + long(n) - 4);
                frames.push_back(f);
            } else {
                badFrames++;
                bool printable = true;
                for (uint8_t c : chunk)
                    printable &= (c >= 0x20 && c < 0x7F) || c == '\r' || c == '\n';
                if (printable)
                    text.append(chunk.begin(), chunk.end());
            }
            chunk.clear();
        }
        // trailing text without a delimiter
        text.append(chunk.begin(), chunk.end());
    }
};

/// A port in memory: output captured, time set by the test, slots in vectors.
struct FakePort {
    static constexpr uint32_t kSlotSize = 64 * 1024;
    tm_port_t port{};
    Capture out;
    uint64_t nowUs = 0;
    bool txReady = true;
    int resets = 0;
    bool persistent = false;
    // the "flash" that survives a restart of the agent
    std::vector<uint8_t> slots[TM_MODEL_SLOTS];
    tm_slot_table_t persisted{};
    bool hasPersisted = false;
    tm_sim_sensor_t accel{}, mic{};
    std::vector<uint32_t> arena = std::vector<uint32_t>(64 * 1024); ///< 256 KiB tensor arena
    struct ReplayFiles *replay = nullptr; ///< set by withReplay()
    /// The provisioning record that survives a restart (enableProvisioning()); empty: none.
    std::vector<uint8_t> record;
    /// The device identity record (enableIdentity()) and the firmware hash the port reports.
    std::vector<uint8_t> identity;
    std::vector<uint8_t> firmware;

    FakePort()
    {
        for (auto &s : slots)
            s.assign(kSlotSize, 0xEE);
        tm_sim_accel_init(&accel, 0);
        tm_sim_mic_init(&mic, 1);
        port.ctx = this;
        port.board.board_id = "fake-board";
        port.board.cpu = "cortex-m4f";
        port.board.clock_hz = 25000000;
        port.board.ram_bytes = 4u << 20;
        port.board.flash_bytes = 4u << 20;
        port.board.ram_free = 1u << 20;
        port.board.counter_kind = TM_COUNTER_MICROSECONDS;
        port.board.counter_resolution = 1;
        port.board.counter_hz = 1000000;
        port.write = [](void *c, const uint8_t *d, size_t n) {
            auto *self = static_cast<FakePort *>(c);
            self->out.bytes.insert(self->out.bytes.end(), d, d + n);
        };
        port.tx_ready = [](void *c) { return static_cast<FakePort *>(c)->txReady ? 1 : 0; };
        port.now = [](void *c) { return static_cast<FakePort *>(c)->nowUs; };
        port.paced = 1;
        port.reset = [](void *c) { static_cast<FakePort *>(c)->resets++; };
        port.slot_size = kSlotSize;
        port.slot_write = [](void *c, uint8_t s, uint32_t off, const uint8_t *d, uint32_t n) {
            auto *self = static_cast<FakePort *>(c);
            if (s >= TM_MODEL_SLOTS || off + n > kSlotSize)
                return TM_ERR_BAD_ARGUMENT;
            std::memcpy(self->slots[s].data() + off, d, n);
            return TM_OK;
        };
        port.slot_data = [](void *c, uint8_t s) -> const uint8_t * {
            return static_cast<FakePort *>(c)->slots[s].data();
        };
        port.slot_persist = [](void *c, const tm_slot_table_t *t, uint8_t) {
            auto *self = static_cast<FakePort *>(c);
            self->persisted = *t;
            self->hasPersisted = true;
            return TM_OK;
        };
        port.slot_load = [](void *c, tm_slot_table_t *t) {
            auto *self = static_cast<FakePort *>(c);
            if (!self->hasPersisted)
                return 0;
            *t = self->persisted;
            return 1;
        };
        port.sensors[0] = &accel.base;
        port.sensors[1] = &mic.base;
        port.sensor_count = 2;
        port.arena = reinterpret_cast<uint8_t *>(arena.data());
        port.arena_size = uint32_t(arena.size() * sizeof(uint32_t));
    }

    /// PROVISION support: the record kept in `record` (call before tm_agent_init).
    void enableProvisioning()
    {
        port.provision_persist = [](void *c, const uint8_t *r) {
            static_cast<FakePort *>(c)->record.assign(r, r + TM_PROVISION_RECORD_BYTES);
            return TM_OK;
        };
        port.provision_load = [](void *c, uint8_t *r) {
            auto *self = static_cast<FakePort *>(c);
            if (self->record.size() != TM_PROVISION_RECORD_BYTES)
                return 0;
            std::memcpy(r, self->record.data(), TM_PROVISION_RECORD_BYTES);
            return 1;
        };
    }

    /// Device identity support (ATTEST): the record kept in `identity` (call before
    /// tm_agent_init); firmware_hash answers `firmware` when it is 64 bytes.
    void enableIdentity()
    {
        port.identity_persist = [](void *c, const uint8_t *r) {
            static_cast<FakePort *>(c)->identity.assign(r, r + TM_IDENTITY_RECORD_BYTES);
            return TM_OK;
        };
        port.identity_load = [](void *c, uint8_t *r) {
            auto *self = static_cast<FakePort *>(c);
            if (self->identity.size() != TM_IDENTITY_RECORD_BYTES)
                return 0;
            std::memcpy(r, self->identity.data(), TM_IDENTITY_RECORD_BYTES);
            return 1;
        };
        port.firmware_hash = [](void *c, uint8_t *out) {
            auto *self = static_cast<FakePort *>(c);
            if (self->firmware.size() != 64)
                return 0;
            std::memcpy(out, self->firmware.data(), 64);
            return 1;
        };
    }
};

/// In-memory replay files for a FakePort (SENSOR_REPLAY without a file system).
struct ReplayFiles {
    std::map<std::string, Bytes> files;
    const Bytes *open = nullptr;
    int opens = 0;

    void attach(tm_port_t &port)
    {
        port.replay_open = [](void *c, const char *path, size_t len, uint32_t *bytes) {
            auto *self = static_cast<FakePort *>(c)->replay;
            self->open = nullptr;
            auto it = self->files.find(std::string(path, len));
            if (it == self->files.end())
                return -1;
            self->open = &it->second;
            self->opens++;
            *bytes = uint32_t(it->second.size());
            return 0;
        };
        port.replay_read = [](void *c, uint32_t off, uint8_t *out, uint32_t n) {
            auto *self = static_cast<FakePort *>(c)->replay;
            if (!self->open || size_t(off) + n > self->open->size())
                return -1;
            std::memcpy(out, self->open->data() + off, n);
            return 0;
        };
        port.replay_close = [](void *c) { static_cast<FakePort *>(c)->replay->open = nullptr; };
    }
};

/// An agent on a fake port, with request helpers.
struct AgentHarness {
    FakePort fake;
    std::unique_ptr<tm_agent_t> agent = std::make_unique<tm_agent_t>();
    uint8_t seq = 1;
    ReplayFiles replayFiles;

    AgentHarness() { tm_agent_init(agent.get(), &fake.port); }

    /// Give the port in-memory replay files (before any request).
    void withReplay()
    {
        fake.replay = &replayFiles;
        replayFiles.attach(fake.port);
    }

    void feed(const Bytes &b) { tm_agent_feed(agent.get(), b.data(), b.size()); }
    void feedText(const std::string &s)
    {
        tm_agent_feed(agent.get(), reinterpret_cast<const uint8_t *>(s.data()), s.size());
    }

    /// Send one request; returns the frames the agent sent in response (cleared first).
    std::vector<Frame> exchange(uint8_t op, const Bytes &payload = {})
    {
        fake.out.bytes.clear();
        feed(encodeFrame(seq++, op, payload));
        fake.out.parse();
        return fake.out.frames;
    }

    /// The reply (or ERROR) to one request; an empty Frame with op 0 if none came.
    Frame request(uint8_t op, const Bytes &payload = {})
    {
        uint8_t s = seq;
        for (const Frame &f : exchange(op, payload))
            if (f.seq == s && (f.op == (op | TM_OP_REPLY) || f.op == TM_OP_ERROR))
                return f;
        return {};
    }
};

inline Bytes u16le(uint16_t v) { return {uint8_t(v), uint8_t(v >> 8)}; }
inline Bytes u32le(uint32_t v)
{
    return {uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16), uint8_t(v >> 24)};
}
inline Bytes cat(std::initializer_list<Bytes> parts)
{
    Bytes out;
    for (const Bytes &p : parts)
        out.insert(out.end(), p.begin(), p.end());
    return out;
}

/// INFO TLVs: tag -> list of values (SENSOR and SCENARIOS repeat).
inline std::multimap<uint8_t, Bytes> parseInfo(const Bytes &p, bool *ok = nullptr)
{
    std::multimap<uint8_t, Bytes> out;
    size_t i = 0;
    bool good = true;
    while (i < p.size()) {
        if (i + 2 > p.size() || i + 2 + p[i + 1] > p.size()) {
            good = false;
            break;
        }
        out.emplace(p[i], Bytes(p.begin() + long(i) + 2, p.begin() + long(i) + 2 + p[i + 1]));
        i += 2u + p[i + 1];
    }
    if (ok)
        *ok = good;
    return out;
}

inline std::string str(const Bytes &b) { return std::string(b.begin(), b.end()); }

} // namespace tmtest
