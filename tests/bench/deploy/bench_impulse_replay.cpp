// Host replay speed: the whole impulse (int16 -> MFCC 49 x 10 from 1 s at 16 kHz, 40 filters ->
// normalisation -> DS-CNN int8 -> post-processing) over a long synthetic recording, with the
// device's C code (deploy::ImpulseReplay). Issue #13 asks one hour of 16 kHz audio in at most
// 120 s on a 2-core machine. Prints a table: windows/s, seconds of audio per second of wall
// time, and the ratio against the 1-thread baseline measured in the same run.
//
//   bench_impulse_replay [audio_seconds=3600] [baseline_seconds=600]

#include "DeployTestGraphs.h"
#include "ImpulseReplay.h"
#include "ImpulseSpec.h"
#include "ModelPackageWriter.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QJsonArray>

#include <cmath>
#include <cstdio>
#include <thread>

using namespace tinyml;
using namespace tinyml::deploy;

namespace {

QVector<qint16> audio(qint64 frames)
{
    QVector<qint16> v(frames);
    uint32_t rng = 0x9e3779b9u;
    for (qint64 t = 0; t < frames; ++t) {
        rng ^= rng << 13; rng ^= rng >> 17; rng ^= rng << 5;
        const double tone = (t / 16000) % 4 == 1 ? 6000.0 * std::sin(2 * M_PI * (300.0 + (t % 16000) * 0.1) * t / 16000.0) : 0.0;
        v[t] = qint16(std::lround(tone + double(int(rng % 3001) - 1500)));
    }
    return v;
}

struct Row {
    const char *name;
    int threads;
    double seconds;
    qint64 windows;
    double audioSeconds;
};

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const double audioSeconds = argc > 1 ? std::atof(argv[1]) : 3600.0;
    const double baselineSeconds = argc > 2 ? std::atof(argv[2]) : 600.0;

    features::FeatureParams mfcc;
    mfcc.kind = features::BlockKind::Mfcc;
    mfcc.mfcc.mfe.windowFrames = 16000;
    mfcc.mfcc.mfe.sampleRateHz = 16000;
    mfcc.mfcc.mfe.frameLength = 640;
    mfcc.mfcc.mfe.frameStride = 320;
    mfcc.mfcc.mfe.nFilters = 40;
    mfcc.mfcc.nCoeffs = 10;
    model::Graph g = deploy::testing::dsCnnKeyword();
    g.meta.insert(QStringLiteral("features"), mfcc.toJson());
    QJsonArray mean, std;
    for (int k = 0; k < 490; ++k) {
        mean.append(-2.0);
        std.append(4.0);
    }
    g.meta.insert(QStringLiteral("input_normalization"), QJsonObject{{QStringLiteral("mean"), mean}, {QStringLiteral("std"), std}});
    ProjectSettings settings;
    settings.templateName = QStringLiteral("audio");
    settings.sampleRateHz = 16000;
    QString error;
    auto spec = impulseSpecFor(g, settings, {}, {}, &error);
    if (!spec) {
        std::fprintf(stderr, "impulse: %s\n", qPrintable(error));
        return 1;
    }
    ModelPackageWriter writer;
    writer.setImpulse(spec);
    auto package = writer.write(g, &error);
    ImpulseReplay replay;
    if (!package || !replay.load(*package, &error)) {
        std::fprintf(stderr, "package: %s\n", qPrintable(error));
        return 1;
    }
    const QVector<qint16> rec = audio(qint64(std::max(audioSeconds, baselineSeconds) * 16000));

    auto measure = [&](const char *name, int threads, double seconds) -> Row {
        const qint64 frames = qint64(seconds * 16000);
        ReplayOptions o;
        o.threads = threads;
        QElapsedTimer t;
        t.start();
        auto r = replay.run(rec.constData(), frames, 1, o, &error);
        const double wall = double(t.nsecsElapsed()) / 1e9;
        if (!r) {
            std::fprintf(stderr, "%s: %s\n", name, qPrintable(error));
            std::exit(1);
        }
        return {name, threads, wall, r->scores.windows(), seconds};
    };
    std::printf("Impulse host replay: MFCC %d x %d (window %u frames = 1 s at 16 kHz, stride %u = %.0f ms, %d filters)\n"
                "  + DS-CNN int8 (12 classes, %lld-byte package, arena %lld bytes, work %lld bytes); host: %u hardware threads\n\n",
                49, 10, spec->windowFrames, spec->strideFrames, spec->strideFrames / 16.0, 40,
                qlonglong(package->size()), qlonglong(replay.arenaBytes()), qlonglong(replay.workBytes()),
                std::thread::hardware_concurrency());
    const Row base = measure("1 thread (baseline)", 1, baselineSeconds);
    const Row two = measure("2 threads, same audio", 2, baselineSeconds);
    const Row hour = measure("2 threads, full recording", 2, audioSeconds);
    std::printf("%-28s %8s %10s %9s %12s %14s %10s\n", "run", "threads", "audio s", "windows", "wall s",
                "windows/s", "audio s/s");
    double baseRate = double(base.windows) / base.seconds;
    for (const Row &r : {base, two, hour}) {
        const double rate = double(r.windows) / r.seconds;
        std::printf("%-28s %8d %10.0f %9lld %12.2f %14.1f %10.1f   x%.2f vs baseline\n", r.name, r.threads,
                    r.audioSeconds, qlonglong(r.windows), r.seconds, rate, r.audioSeconds / r.seconds, rate / baseRate);
    }
    const double hourSeconds = hour.seconds * 3600.0 / hour.audioSeconds;
    std::printf("\nOne hour of 16 kHz audio: %.1f s (target <= 120 s): %s\n", hourSeconds, hourSeconds <= 120.0 ? "met" : "NOT met");
    return 0;
}
