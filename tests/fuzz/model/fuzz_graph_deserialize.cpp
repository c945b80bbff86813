// Graph::deserialize on arbitrary bytes: must fail cleanly or return a graph that validates,
// re-serializes to the same bytes and runs through the float or int8 executor without fault.
#include "model/FloatExecutor.h"
#include "model/Graph.h"
#include "model/Int8Executor.h"

#include <cstdint>
#include <cstdlib>

using namespace tinyml::model;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray bytes = QByteArray::fromRawData(reinterpret_cast<const char *>(data), qsizetype(size));
    QString error;
    auto g = Graph::deserialize(bytes, &error);
    if (!g) {
        if (error.isEmpty())
            std::abort();  // every failure explains itself
        return 0;
    }
    if (!g->validate(&error))
        std::abort();
    // The meta JSON may be re-formatted once; after that the encoding is fixed.
    const QByteArray once = g->serialize();
    const auto again = Graph::deserialize(once, &error);
    if (!again || again->serialize() != once)
        std::abort();
    (void)g->parameterCount();
    (void)g->weightBytes();
    // Running costs about macs() plus window taps; keep big graphs out of the hot loop.
    double work = double(g->macs());
    for (const Node &n : g->nodes)
        if (n.op == OpType::MaxPool2D || n.op == OpType::AvgPool2D || n.op == OpType::GlobalAvgPool)
            work += double(g->tensors[n.inputs[0]].elementCount()) * n.kernelH * n.kernelW;
    if (work > 4'000'000 || g->nodes.size() > 64)
        return 0;
    const qint64 inputs = g->tensors[g->inputs[0]].elementCount();
    if (g->quantized) {
        Int8Executor e;
        if (e.prepare(*g, &error))
            (void)e.run(QVector<qint8>(inputs, 1), &error);
    } else {
        FloatExecutor e;
        if (e.prepare(*g, &error))
            (void)e.run(QVector<float>(inputs, 0.5f), &error);
    }
    return 0;
}
