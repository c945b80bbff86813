// Device-side throughput on the host:
//  - frame decoding: MB/s through AgentStreamParser (and through STREAM_DATA decoding to
//    float tensors), against memcpy and a plain CRC-32 pass over the same bytes;
//  - sustained capture from a virtual board at the highest rate its agent accepts:
//    qemu-m4 against the host agent as the baseline (samples/s, bytes/s, loss).
// Compare "bytes_per_second" of the decode rows with the baselines for the ratio.

#include "device/AgentProtocol.h"
#include "device/BoardRegistry.h"
#include "device/VirtualBoard.h"

#include "tm_frame.h"
#include "tm_protocol.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QTemporaryDir>

#include <benchmark/benchmark.h>

#include <cstring>

using namespace tinyml;

namespace {

DeviceInfo accelInfo()
{
    DeviceInfo info;
    DeviceSensorInfo accel;
    accel.id = 0;
    accel.dtype = TM_DTYPE_INT16;
    accel.channelCount = 3;
    accel.scale = 0.01f;
    accel.name = QStringLiteral("accel");
    info.sensors = {accel};
    return info;
}

/// 4 MB of STREAM_DATA frames as the agent sends them (64 samples x 3 int16 per frame).
const QByteArray &wireStream()
{
    static const QByteArray wire = [] {
        QByteArray out;
        quint32 index = 0;
        while (out.size() < 4 * 1024 * 1024) {
            QByteArray p(7, 0);
            auto *b = reinterpret_cast<uint8_t *>(p.data());
            tm_put_u32(b + 1, index);
            tm_put_u16(b + 5, 64);
            for (int i = 0; i < 64 * 3; ++i) {
                uint8_t t[2];
                tm_put_u16(t, uint16_t(qint16((index * 3 + i) * 37)));
                p.append(reinterpret_cast<char *>(t), 2);
            }
            out += encodeAgentFrame(quint8(index), TM_OP_STREAM_DATA, p);
            index += 64;
        }
        return out;
    }();
    return wire;
}

void BM_Baseline_Memcpy(benchmark::State &state)
{
    const QByteArray &wire = wireStream();
    QByteArray dst(wire.size(), Qt::Uninitialized);
    for (auto _ : state) {
        std::memcpy(dst.data(), wire.constData(), size_t(wire.size()));
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(state.iterations() * wire.size());
}
BENCHMARK(BM_Baseline_Memcpy);

void BM_Baseline_Crc32(benchmark::State &state)
{
    const QByteArray &wire = wireStream();
    for (auto _ : state)
        benchmark::DoNotOptimize(tm_crc32(0, reinterpret_cast<const uint8_t *>(wire.constData()), size_t(wire.size())));
    state.SetBytesProcessed(state.iterations() * wire.size());
}
BENCHMARK(BM_Baseline_Crc32);

void BM_AgentStreamParser_Frames(benchmark::State &state)
{
    const QByteArray &wire = wireStream();
    qint64 frames = 0;
    for (auto _ : state) {
        AgentStreamParser parser;
        parser.setFrameHandler([&](const AgentFrame &f) { frames += f.payload.size() > 0; });
        // 4 KB reads, as a serial port delivers them.
        for (qsizetype off = 0; off < wire.size(); off += 4096)
            parser.feed(wire.constData() + off, qMin<qsizetype>(4096, wire.size() - off));
    }
    state.SetBytesProcessed(state.iterations() * wire.size());
    state.counters["frames"] = double(frames) / double(state.iterations());
}
BENCHMARK(BM_AgentStreamParser_Frames);

void BM_AgentStreamParser_DecodeToFloat(benchmark::State &state)
{
    const QByteArray &wire = wireStream();
    const DeviceInfo info = accelInfo();
    qint64 samples = 0;
    for (auto _ : state) {
        AgentStreamParser parser;
        StreamLossCounter loss;
        parser.setFrameHandler([&](const AgentFrame &f) {
            auto d = decodeStreamData(f.payload, info, nullptr);
            if (d) {
                loss.add(d->firstIndex, d->frames);
                samples += d->frames;
                benchmark::DoNotOptimize(d->data.bytes.constData());
            }
        });
        for (qsizetype off = 0; off < wire.size(); off += 4096)
            parser.feed(wire.constData() + off, qMin<qsizetype>(4096, wire.size() - off));
    }
    state.SetBytesProcessed(state.iterations() * wire.size());
    state.counters["samples/s"] = benchmark::Counter(double(samples), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_AgentStreamParser_DecodeToFloat);

/// Streams `samples` from the board's sensor at its maximum rate; manual time = wall time.
void captureFromBoard(benchmark::State &state, const char *boardId, const char *sensorName, qint64 samples)
{
    BoardRegistry registry;
    QString error;
    if (!registry.loadDefault(&error) || !registry.board(QString::fromLatin1(boardId))) {
        state.SkipWithError(qPrintable(error));
        return;
    }
    QTemporaryDir stateDir;
    VirtualBoard::Options options;
    options.stateDirectory = stateDir.path();
    VirtualBoard board(*registry.board(QString::fromLatin1(boardId)), options);
    if (!board.start(&error)) {
        state.SkipWithError(qPrintable(error));
        return;
    }
    AgentLink *link = board.link();
    const DeviceSensorInfo *sensor = link->info().sensorByName(QString::fromLatin1(sensorName));
    if (!sensor) {
        state.SkipWithError("sensor not reported by the agent");
        return;
    }
    qint64 received = 0, lost = 0, bytes = 0;
    double seconds = 0;
    for (auto _ : state) {
        bool ended = false;
        const qint64 bytesBefore = link->statistics().bytesReceived;
        const qint64 lostBefore = link->statistics().samplesLost;
        auto c1 = QObject::connect(link, &DeviceLink::streamChunk, [&](const StreamChunk &c) { received += c.frames(); });
        auto c2 = QObject::connect(link, &DeviceLink::streamEnded, [&](StreamEndReason, qint64) { ended = true; });
        QElapsedTimer t;
        t.start();
        if (!link->startStream({QString::fromLatin1(sensorName), double(sensor->maxRateHz), samples}, &error)) {
            state.SkipWithError(qPrintable(error));
            return;
        }
        while (!ended && link->isOpen())
            QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 100);
        const double s = t.nsecsElapsed() / 1e9;
        state.SetIterationTime(s);
        seconds += s;
        bytes += link->statistics().bytesReceived - bytesBefore;
        lost += link->statistics().samplesLost - lostBefore;
        QObject::disconnect(c1);
        QObject::disconnect(c2);
    }
    state.counters["rate_hz"] = sensor->maxRateHz;
    state.counters["channels"] = sensor->channelCount;
    state.counters["samples/s"] = double(received) / seconds;
    state.counters["bytes/s"] = double(bytes) / seconds;
    state.counters["lost"] = double(lost);
    state.counters["realtime_x"] = double(received) / seconds / sensor->maxRateHz;
}

void BM_Capture_Host_Accel(benchmark::State &s) { captureFromBoard(s, "host", "accel", 400000); }
void BM_Capture_QemuM4_Accel(benchmark::State &s) { captureFromBoard(s, "qemu-m4", "accel", 400000); }
void BM_Capture_Host_Mic(benchmark::State &s) { captureFromBoard(s, "host", "mic", 1600000); }
void BM_Capture_QemuM4_Mic(benchmark::State &s) { captureFromBoard(s, "qemu-m4", "mic", 1600000); }
BENCHMARK(BM_Capture_Host_Accel)->UseManualTime()->Iterations(2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Capture_QemuM4_Accel)->UseManualTime()->Iterations(2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Capture_Host_Mic)->UseManualTime()->Iterations(2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Capture_QemuM4_Mic)->UseManualTime()->Iterations(2)->Unit(benchmark::kMillisecond);

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv); // event loop for the serial links
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
