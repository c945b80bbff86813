// Time-series and table CSV parsers. The first byte picks the parser and options.
#include "FuzzInvariants.h"

#include "io/CsvTableReader.h"
#include "io/CsvTimeSeriesReader.h"
#include "io/FloatText.h"

#include <cmath>
#include <cstring>

using namespace tinyml;
using namespace tinyml::io;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t mode = data[0];
    const QByteArray bytes(reinterpret_cast<const char *>(data + 1), qsizetype(size - 1));
    ImportOptions options;
    options.label = (mode & 2) ? QString() : QStringLiteral("x");
    options.labelColumn = (mode & 4) ? QStringLiteral("y") : QStringLiteral("label");
    options.sampleRateHz = (mode & 8) ? 100 : 0;
    const QString name = QStringLiteral("fuzz.1.csv");
    const FileImportResult r = (mode & 1) ? parseTableCsv(bytes, name, options)
                                          : parseTimeSeriesCsv(bytes, name, options);
    fuzzio::checkResult(r, name);
    for (const Sample &s : r.samples) {
        fuzzio::require(s.data.dtype == DType::Float32, "CSV gives float32");
        fuzzio::require(s.data.shape.size() == ((mode & 1) ? 1 : 2), "CSV shape rank");
        // What the exporter would write reads back to the same bits.
        const float *v = s.data.floatData();
        for (qint64 i = 0; i < s.data.elementCount(); ++i) {
            if (std::isnan(v[i]))
                continue;
            const auto back = parseFloat32(formatFloat32(v[i]).toStdString());
            fuzzio::require(back.has_value() && std::memcmp(&*back, &v[i], 4) == 0, "float text round trip");
        }
    }
    return 0;
}
