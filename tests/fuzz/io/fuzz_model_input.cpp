// The readers of `tinyml predict` inputs (io/ModelInput.h): the .npy header parser and data
// reader, and the CSV-row reader. Mode byte even: the rest is a .npy file. Mode byte odd: the
// next byte picks the data row (0..7, 0 = the first), the rest is CSV text.
#include "FuzzInvariants.h"

#include "io/ModelInput.h"

#include <cmath>

using namespace tinyml::io;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const QByteArray bytes = QByteArray::fromRawData(reinterpret_cast<const char *>(data + 1), qsizetype(size - 1));
    if (data[0] % 2 == 0) {
        const QString file = QStringLiteral("x.npy");
        ImportError error;
        const auto npy = readNpy(bytes, file, &error);
        if (!npy) {
            fuzzio::require(error.file == file, "error names the file");
            fuzzio::require(!error.message.isEmpty() && !error.field.isEmpty(), "error names a field and says why");
            fuzzio::require(error.line == 0, "a binary file has no lines");
            return 0;
        }
        const NpyHeader &h = npy->header;
        qint64 product = 1;
        for (qint64 d : h.shape) {
            fuzzio::require(d >= 0, "dimensions are not negative");
            product *= d;
        }
        fuzzio::require(product == h.elementCount, "element count is the shape's product");
        fuzzio::require(h.elementCount <= kMaxModelInputFileBytes, "element count is bounded");
        fuzzio::require(h.dataOffset >= 10 && h.dataOffset <= bytes.size(), "data starts inside the file");
        fuzzio::require(h.dataOffset + h.elementCount * h.itemSize == bytes.size(), "data fills the rest exactly");
        fuzzio::require(npy->floats.size() == h.elementCount, "one float per element");
        fuzzio::require(npy->int8.size() == ((h.kind == 'i' && h.itemSize == 1) ? h.elementCount : 0),
                        "int8 values only for |i1");
        for (qsizetype i = 0; i < npy->int8.size(); ++i)
            fuzzio::require(npy->floats[i] == float(npy->int8[i]), "int8 and float views agree");
        // The header parser alone accepts exactly what the reader accepts.
        ImportError again;
        fuzzio::require(parseNpyHeader(bytes, file, &again).has_value(), "header parse agrees");
        return 0;
    }
    if (bytes.isEmpty())
        return 0;
    const int row = quint8(bytes[0]) % 8;
    const QByteArray text = bytes.mid(1);
    const QString file = QStringLiteral("x.csv");
    const int lines = int(text.count('\n')) + 1;
    ImportError error;
    const auto r = parseCsvRow(text, file, row, &error);
    if (!r) {
        fuzzio::require(error.file == file, "error names the file");
        fuzzio::require(!error.message.isEmpty(), "error says why");
        fuzzio::require(error.line >= 0 && error.line <= lines, "error line is in the file");
        return 0;
    }
    fuzzio::require(r->row == (row == 0 ? 1 : row), "the asked row is returned");
    fuzzio::require(r->line >= r->row && r->line <= lines, "its line is in the file, at or after its row number");
    fuzzio::require(!r->values.isEmpty(), "a row has numbers");
    fuzzio::require(r->columns.isEmpty() || r->columns.size() == r->values.size(), "one header name per value");
    for (float v : r->values)
        fuzzio::require(std::isfinite(v), "values are finite");
    return 0;
}
