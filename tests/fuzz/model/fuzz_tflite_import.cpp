// importTflite on arbitrary bytes: must fail with a message naming the input, or return an int8
// graph that validates, survives the project store's serialization and runs in the int8
// executor without fault.
#include "model/Graph.h"
#include "model/Int8Executor.h"
#include "model/tflite/TfliteImporter.h"

#include <cstdint>
#include <cstdlib>

using namespace tinyml::model;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray bytes = QByteArray::fromRawData(reinterpret_cast<const char *>(data), qsizetype(size));
    QString error;
    auto g = tflite::importTflite(bytes, QStringLiteral("fuzz.tflite"), &error);
    if (!g) {
        if (!error.startsWith(QStringLiteral("fuzz.tflite: ")))
            std::abort();  // every failure explains itself and names the file
        return 0;
    }
    if (!g->quantized || !g->validate(&error))
        std::abort();
    const auto back = Graph::deserialize(g->serialize(), &error);
    if (!back)
        std::abort();
    // Running costs about macs() plus window taps; keep big graphs out of the hot loop.
    double work = double(g->macs());
    for (const Node &n : g->nodes)
        if (n.op == OpType::MaxPool2D || n.op == OpType::AvgPool2D)
            work += double(g->tensors[n.inputs[0]].elementCount()) * n.kernelH * n.kernelW;
    if (work > 4'000'000 || g->nodes.size() > 64)
        return 0;
    Int8Executor e;
    if (e.prepare(*g, &error))
        (void)e.run(QVector<qint8>(int(g->tensors[g->inputs[0]].elementCount()), 1), &error);
    return 0;
}
