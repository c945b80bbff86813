#pragma once
// Checks shared by the io fuzz targets; a violated invariant aborts so libFuzzer keeps the input.

#include "io/ImportResult.h"

#include <cstdio>
#include <cstdlib>

namespace fuzzio {

inline void require(bool condition, const char *what)
{
    if (!condition) {
        std::fprintf(stderr, "invariant violated: %s\n", what);
        std::abort();
    }
}

inline void checkResult(const tinyml::io::FileImportResult &r, const QString &fileName)
{
    require(r.file == fileName, "result names the file");
    if (r.error) {
        require(r.samples.isEmpty(), "a failed file imports nothing");
        require(r.error->file == fileName, "error names the file");
        require(!r.error->message.isEmpty(), "error has a message");
        require(r.error->line >= 0, "line is not negative");
        return;
    }
    require(!r.samples.isEmpty(), "a good file imports something");
    for (const tinyml::Sample &s : r.samples) {
        require(s.data.isConsistent(), "tensor bytes match shape and dtype");
        require(s.data.elementCount() > 0, "no empty samples");
        require(!s.label.isEmpty(), "every sample has a label");
        require(s.source == fileName, "source is the file");
        require(s.units.isEmpty() || s.units.size() == s.channels.size(), "one unit per channel");
        if (s.data.shape.size() == 2)
            require(s.channels.size() == s.data.shape[1], "one name per channel");
        if (s.data.shape.size() == 1)
            require(s.channels.size() == s.data.shape[0], "one name per feature");
        require(s.sampleRateHz >= 0, "rate is not negative");
    }
}

} // namespace fuzzio
