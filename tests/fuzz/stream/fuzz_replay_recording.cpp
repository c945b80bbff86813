// ReplayRecording::fromBytes: the WAV or time-series CSV a user replays into the virtual
// board's sensor. The first byte picks the format and the target (16 kHz microphone or
// 100 Hz 3-axis accelerometer). Invariants on what it accepts: the target's rate and channel
// count, a raw buffer of whole frames, samples() and rawValue() agreeing with it.
#include "stream/ReplayRecording.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

using namespace tinyml;
using namespace tinyml::stream;

namespace {
void require(bool condition, const char *what)
{
    if (!condition) {
        std::fprintf(stderr, "invariant violated: %s\n", what);
        std::abort();
    }
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t mode = data[0];
    const QByteArray bytes(reinterpret_cast<const char *>(data + 1), qsizetype(size - 1));
    const ReplayTarget target = (mode & 2) ? ReplayTarget{100, 3, 0.01f, QStringLiteral("accel")}
                                           : ReplayTarget{16000, 1, 1.0f / 32768, QStringLiteral("mic")};
    const QString file = (mode & 1) ? QStringLiteral("fuzz.1.csv") : QStringLiteral("fuzz.1.wav");
    io::ImportError error;
    const auto rec = ReplayRecording::fromBytes(bytes, file, target, &error);
    if (!rec) {
        require(error.file == file, "error names the file");
        require(!error.message.isEmpty(), "error has a message");
        return 0;
    }
    require(rec->channels() == target.channels, "channel count of the target");
    require(std::fabs(rec->rateHz() - target.rateHz) <= 0.001 * target.rateHz, "rate of the target");
    require(rec->rawBytes().size() % (2 * rec->channels()) == 0, "whole frames");
    require(rec->clippedValues() >= 0 && rec->clippedValues() <= rec->frames() * rec->channels(), "clip count");
    const QVector<qint16> all = rec->samples();
    require(all.size() == rec->frames() * rec->channels(), "samples() size");
    for (qint64 f = 0; f < rec->frames(); f += 1 + rec->frames() / 64)
        for (int c = 0; c < rec->channels(); ++c)
            require(rec->rawValue(f, c) == all[int(f * rec->channels() + c)], "rawValue matches samples()");
    require(std::memcmp(all.constData(), rec->rawBytes().constData(), size_t(rec->rawBytes().size())) == 0,
            "samples() is the raw file");
    return 0;
}
