// RIFF/WAVE reader.
#include "FuzzInvariants.h"

#include "io/WavReader.h"

#include <cmath>

using namespace tinyml;
using namespace tinyml::io;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray bytes = QByteArray::fromRawData(reinterpret_cast<const char *>(data), qsizetype(size));
    ImportOptions options;
    options.label = QStringLiteral("x");
    const QString name = QStringLiteral("fuzz.1.wav");
    const FileImportResult r = parseWav(bytes, name, options);
    fuzzio::checkResult(r, name);
    for (const Sample &s : r.samples) {
        fuzzio::require(s.data.shape.size() == 2, "WAV shape is [frames, channels]");
        fuzzio::require(s.sampleRateHz > 0, "WAV has a rate");
        fuzzio::require(s.data.bytes.size() <= qsizetype(size) * 4, "at most 4 output bytes per input byte");
    }
    return 0;
}
