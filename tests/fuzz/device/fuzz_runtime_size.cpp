// Fuzzes the ELF symbol-table reader that measures the runtime's flash bytes in an agent
// image (deploy/RuntimeSize.h): any bytes, never a read out of bounds, and a measured size
// that is never negative and is zero when no symbol was counted.
#include "RuntimeSize.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    QString error;
    if (auto r = tinyml::deploy::runtimeSizeFromElf(bytes, &error))
        if (r->bytes < 0 || r->symbols < 0 || (r->symbols == 0 && r->bytes != 0))
            __builtin_trap();
    return 0;
}
