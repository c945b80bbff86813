// Fuzzes the host's reading of a TELEMETRY reply (parseTelemetryReply) and, for every reply it
// accepts, the drift comparison against a reference of the same shape (deploy/fleet/Drift.h):
// no crash, no read past the payload, the parser's totals hold, and PSI is finite and >= 0.
// Seeds (seeds-telemetry): a classification summary, an anomaly summary, an empty one.
// Run longer by hand: fuzz_telemetry_reply -max_total_time=600 corpus/

#include "device/AgentProtocol.h"
#include "fleet/Drift.h"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

using namespace tinyml;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray payload(reinterpret_cast<const char *>(data), int(size));
    QString error;
    const auto t = parseTelemetryReply(payload, &error);
    if (!t) {
        if (error.isEmpty())
            std::abort();
        return 0;
    }
    quint64 total = 0;
    for (quint32 c : t->classHistogram)
        total += c;
    if (total > t->windows || t->uncertain > t->windows || t->featureSum.size() != t->featureSumSq.size())
        std::abort();

    deploy::fleet::DriftReference ref;
    ref.inputCount = int(t->inputCount);
    ref.stride = t->featureStride;
    for (int k = 0; k < t->featureSum.size(); ++k) {
        ref.elements.append(k * t->featureStride);
        ref.mean.append(double(k % 7) - 3.0);
        ref.std.append(double(k % 5));
    }
    for (int c = 0; c < t->classHistogram.size(); ++c) {
        ref.labels.append(QString::number(c));
        ref.classShare.append(1.0 / t->classHistogram.size());
    }
    const auto r = deploy::fleet::compareDrift(ref, *t, &error);
    if (!r)
        return 0;
    if (!std::isfinite(r->psi) || r->psi < 0.0 || !std::isfinite(r->meanFeaturePsi))
        std::abort();
    r->toJson();
    return 0;
}
