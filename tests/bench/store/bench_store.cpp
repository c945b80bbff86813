// Streaming capture into the project store, against the cheapest possible durable-ish
// write of the same bytes (QFile append + flush to the OS) measured in the same run:
// the ratio says what SQLite, one transaction per chunk and the chunk table cost.
// Target from the issue: >= 200,000 float samples/s for 3-channel 100-frame chunks.
//
//   bench_store --benchmark_counters_tabular=true

#include "store/ProjectStore.h"

#include <benchmark/benchmark.h>

#include <QCoreApplication>
#include <QFile>
#include <QTemporaryDir>

using namespace tinyml;

namespace {

constexpr qint64 kChannels = 3;

Tensor makeChunk(qint64 frames)
{
    QVector<float> v(frames * kChannels);
    for (int i = 0; i < v.size(); ++i)
        v[i] = 0.001f * float(i);
    return Tensor::fromFloats(v, {frames, kChannels});
}

void setRates(benchmark::State &state, qint64 frames)
{
    const double floats = double(state.iterations()) * double(frames * kChannels);
    state.SetItemsProcessed(int64_t(floats));
    state.SetBytesProcessed(int64_t(floats * sizeof(float)));
    state.counters["floats/s"] = benchmark::Counter(floats, benchmark::Counter::kIsRate);
    state.counters["chunks/s"] = benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
}

// One appendFrames() = one committed transaction (chunk row + frame count update).
void BM_StoreAppendFrames(benchmark::State &state)
{
    const qint64 frames = state.range(0);
    QTemporaryDir dir;
    QString error;
    auto store = ProjectStore::create(dir.filePath("bench.tinyml"), {}, &error);
    if (!store) {
        state.SkipWithError(qPrintable(error));
        return;
    }
    Sample meta;
    meta.label = QStringLiteral("bench");
    meta.data.shape = {0, kChannels};
    const auto id = store->beginSample(meta, &error);
    if (!id) {
        state.SkipWithError(qPrintable(error));
        return;
    }
    const Tensor chunk = makeChunk(frames);
    for (auto _ : state) {
        if (!store->appendFrames(*id, chunk, &error)) {
            state.SkipWithError(qPrintable(error));
            break;
        }
    }
    setRates(state, frames);
}
BENCHMARK(BM_StoreAppendFrames)->Arg(10)->Arg(100)->Arg(1000)->UseRealTime();

// The same bytes appended to a plain file and handed to the OS after every chunk: the
// same durability class as WAL with synchronous=NORMAL (survives an application crash).
void BM_BaselineFileAppendFlush(benchmark::State &state)
{
    const qint64 frames = state.range(0);
    QTemporaryDir dir;
    QFile f(dir.filePath("bench.raw"));
    if (!f.open(QIODevice::WriteOnly | QIODevice::Append)) {
        state.SkipWithError(qPrintable(f.errorString()));
        return;
    }
    const Tensor chunk = makeChunk(frames);
    for (auto _ : state) {
        f.write(chunk.bytes);
        f.flush();
    }
    setRates(state, frames);
}
BENCHMARK(BM_BaselineFileAppendFlush)->Arg(10)->Arg(100)->Arg(1000)->UseRealTime();

// Folding the chunks of a finished capture into the sample's blob (once per sample).
void BM_StoreFinishSample(benchmark::State &state)
{
    const qint64 chunks = state.range(0);
    QTemporaryDir dir;
    QString error;
    auto store = ProjectStore::create(dir.filePath("bench.tinyml"), {}, &error);
    if (!store) {
        state.SkipWithError(qPrintable(error));
        return;
    }
    Sample meta;
    meta.label = QStringLiteral("bench");
    meta.data.shape = {0, kChannels};
    const Tensor chunk = makeChunk(100);
    for (auto _ : state) {
        state.PauseTiming();
        const auto id = store->beginSample(meta, &error);
        for (qint64 k = 0; id && k < chunks; ++k)
            store->appendFrames(*id, chunk, &error);
        state.ResumeTiming();
        if (!id || !store->finishSample(*id, true, &error)) {
            state.SkipWithError(qPrintable(error));
            break;
        }
    }
    state.counters["floats/s"] = benchmark::Counter(
        double(state.iterations()) * double(chunks * 100 * kChannels), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_StoreFinishSample)->Arg(100)->Unit(benchmark::kMillisecond);

// Whole samples in one transaction (import): 1 s of 3-axis data at 100 Hz each.
void BM_StoreAddSamples(benchmark::State &state)
{
    const int perBatch = int(state.range(0));
    QTemporaryDir dir;
    QString error;
    auto store = ProjectStore::create(dir.filePath("bench.tinyml"), {}, &error);
    if (!store) {
        state.SkipWithError(qPrintable(error));
        return;
    }
    Sample s;
    s.label = QStringLiteral("bench");
    s.data = makeChunk(100);
    const QVector<Sample> batch(perBatch, s);
    for (auto _ : state) {
        QVector<Sample> copy = batch;
        if (!store->addSamples(copy, &error)) {
            state.SkipWithError(qPrintable(error));
            break;
        }
    }
    state.counters["samples/s"] = benchmark::Counter(double(state.iterations()) * perBatch,
                                                     benchmark::Counter::kIsRate);
    state.counters["floats/s"] = benchmark::Counter(
        double(state.iterations()) * perBatch * 100 * kChannels, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_StoreAddSamples)->Arg(100)->UseRealTime();

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv); // Qt Sql loads its driver plugin through the application
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
