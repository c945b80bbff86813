// MLPerf Tiny y_labels.csv (MlperfDataset::parseLabels) and the ad01 window cutter.
// Mode byte 0: the rest is a y_labels.csv. Mode byte 1: two bytes of window size and stride,
// then the data to cut.
#include "FuzzInvariants.h"

#include "io/MlperfDataset.h"

#include <QDir>
#include <QRegularExpression>

using namespace tinyml::io;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const QByteArray bytes = QByteArray::fromRawData(reinterpret_cast<const char *>(data + 1), qsizetype(size - 1));
    if (data[0] % 2 == 1) {
        if (bytes.size() < 2)
            return 0;
        const qint64 window = quint8(bytes[0]);
        const qint64 stride = quint8(bytes[1]);
        const QByteArray rest = bytes.mid(2);
        const QVector<QByteArray> w = MlperfDataset::windows(rest, window, stride);
        const qint64 expected = window > 0 && stride > 0 && rest.size() >= window ? (rest.size() - window) / stride + 1 : 0;
        fuzzio::require(w.size() == expected, "window count is (size - window) / stride + 1");
        for (qsizetype i = 0; i < w.size(); ++i)
            fuzzio::require(w[i] == rest.mid(i * stride, window), "window i starts at i * stride");
        return 0;
    }
    const QString source = QStringLiteral("y_labels.csv");
    ImportError error;
    const auto samples = MlperfDataset::parseLabels(bytes, source, &error);
    const int lines = int(bytes.count('\n')) + 1;
    if (!samples) {
        fuzzio::require(error.file == source, "error names the file");
        fuzzio::require(!error.message.isEmpty(), "error has a message");
        fuzzio::require(error.line >= 0 && error.line <= lines, "error line is in the file");
        return 0;
    }
    fuzzio::require(!samples->isEmpty(), "an accepted file has rows");
    int previousLine = 0;
    for (const MlperfSample &s : *samples) {
        fuzzio::require(!s.file.isEmpty(), "every row names a file");
        fuzzio::require(!QDir::isAbsolutePath(s.file)
                            && !s.file.split(QRegularExpression(QStringLiteral("[/\\\\]"))).contains(QStringLiteral("..")),
                        "no file outside the folder");
        fuzzio::require(s.classes >= 1 && s.label >= 0 && s.label < s.classes, "class is within classes");
        fuzzio::require(s.classes == samples->first().classes, "one class count");
        fuzzio::require((s.bytesToSend == 0) == (s.stride == 0), "window size and stride come together");
        fuzzio::require(s.bytesToSend >= 0 && s.bytesToSend <= MlperfDataset::kMaxInputBytes, "window size in range");
        fuzzio::require(s.line > previousLine && s.line <= lines, "rows keep their order and lines");
        previousLine = s.line;
    }
    return 0;
}
