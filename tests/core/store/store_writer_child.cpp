// Streams one sample into an existing project until killed:
//   store_writer_child <project.tinyml>
// After each committed appendFrames() it prints the number of committed chunks on its own
// line and flushes, so the parent knows a lower bound of what must survive a SIGKILL.
// Chunk k holds 100 frames x 3 channels of float32 with element e = k * 1000 + e, which
// lets the parent check every surviving byte.

#include "store/ProjectStore.h"

#include <QCoreApplication>
#include <QElapsedTimer>

#include <cstdio>

using namespace tinyml;

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    if (argc < 2) {
        std::fprintf(stderr, "usage: store_writer_child <project.tinyml>\n");
        return 2;
    }
    QString error;
    auto store = ProjectStore::open(QString::fromLocal8Bit(argv[1]), &error);
    if (!store) {
        std::fprintf(stderr, "%s\n", qPrintable(error));
        return 1;
    }
    constexpr qint64 kFrames = 100, kChannels = 3;
    Sample meta;
    meta.label = QStringLiteral("crash");
    meta.sensor = QStringLiteral("accel");
    meta.sampleRateHz = 100;
    meta.channels = {QStringLiteral("x"), QStringLiteral("y"), QStringLiteral("z")};
    meta.data.dtype = DType::Float32;
    meta.data.shape = {0, kChannels};
    const auto id = store->beginSample(meta, &error);
    if (!id) {
        std::fprintf(stderr, "%s\n", qPrintable(error));
        return 1;
    }

    // Bounded so that an orphaned child cannot run forever if the test itself dies.
    QElapsedTimer clock;
    clock.start();
    QVector<float> values(kFrames * kChannels);
    for (qint64 k = 0; k < 100000 && clock.elapsed() < 60000; ++k) {
        for (int e = 0; e < values.size(); ++e)
            values[e] = float(k * 1000 + e);
        if (!store->appendFrames(*id, Tensor::fromFloats(values, {kFrames, kChannels}), &error)) {
            std::fprintf(stderr, "%s\n", qPrintable(error));
            return 1;
        }
        std::printf("%lld\n", static_cast<long long>(k + 1));
        std::fflush(stdout);
    }
    return 0;
}
