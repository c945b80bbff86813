// Edge Impulse data acquisition format, CBOR (and JSON when the first byte is odd).
// Whatever is accepted must re-encode and parse back to the same values (bit-exact).
#include "FuzzInvariants.h"

#include "io/EdgeImpulseCodec.h"

#include <cmath>
#include <cstring>

using namespace tinyml;
using namespace tinyml::io;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const bool json = data[0] & 1;
    const bool withKey = data[0] & 2;
    const QByteArray bytes(reinterpret_cast<const char *>(data + 1), qsizetype(size - 1));
    ImportOptions options;
    options.label = QStringLiteral("x");
    if (withKey)
        options.hmacKey = "fuzz-key";
    const QString name = QStringLiteral("fuzz.1.cbor");
    const FileImportResult r = json ? parseEdgeImpulseJson(bytes, name, options)
                                    : parseEdgeImpulseCbor(bytes, name, options);
    fuzzio::checkResult(r, name);
    for (const Sample &s : r.samples) {
        fuzzio::require(s.data.shape.size() == 2, "EI shape is [frames, sensors]");
        fuzzio::require(s.sampleRateHz > 0, "EI has a rate");
        for (const EdgeImpulseEncoding enc : {EdgeImpulseEncoding::Json, EdgeImpulseEncoding::Cbor}) {
            QString error;
            const QByteArray again = encodeEdgeImpulse(s, enc, options.hmacKey, &error);
            fuzzio::require(!again.isEmpty(), "an imported sample can be exported");
            const FileImportResult back = enc == EdgeImpulseEncoding::Json
                                              ? parseEdgeImpulseJson(again, name, options)
                                              : parseEdgeImpulseCbor(again, name, options);
            fuzzio::require(back.ok() && back.samples.size() == 1, "the export imports");
            fuzzio::require(back.samples[0].data.bytes == s.data.bytes, "values round-trip bit-exactly");
            fuzzio::require(back.samples[0].channels == s.channels, "sensor names round-trip");
        }
    }
    return 0;
}
