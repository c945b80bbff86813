#include "io/ImageReader.h"

#include <QBuffer>
#include <QDir>
#include <QFileInfo>
#include <QImage>
#include <QImageReader>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdio>
#include <cstring>

namespace tinyml::io {

namespace {
const QString kFormat = QStringLiteral("image");
// Decoding allocates width x height x 4 bytes. 8192 x 8192 is far beyond any image a
// microcontroller model takes, and its 256 MiB decode is what Qt allows by default.
constexpr int kMaxSide = 8192;
constexpr qint64 kMaxPixels = qint64(kMaxSide) * kMaxSide;
constexpr int kAllocationLimitMb = int(kMaxPixels * 4 / (1024 * 1024)) + 1;

quint32 bigEndian32(const QByteArray &b, qsizetype at)
{
    const auto *p = reinterpret_cast<const uchar *>(b.constData()) + at;
    return quint32(p[0]) << 24 | quint32(p[1]) << 16 | quint32(p[2]) << 8 | quint32(p[3]);
}

/// Walks the PNG chunk list (signature, then length/type/data/CRC) up to IEND. libpng
/// refuses a cut file too, but only says "Read Error"; this names what is missing.
QString pngStructureProblem(const QByteArray &b)
{
    qsizetype at = 8; // signature, checked by the format detection
    while (at + 8 <= b.size()) {
        const quint32 length = bigEndian32(b, at);
        const QByteArray type = b.mid(at + 4, 4);
        if (length > 0x7FFFFFFFu) // PNG spec: lengths are at most 2^31 - 1
            return QStringLiteral("chunk %1 at byte %2 has an invalid length").arg(QString::fromLatin1(type)).arg(at);
        const qint64 end = qint64(at) + 12 + length;
        if (end > b.size())
            return QStringLiteral("truncated: the file ends inside the %1 chunk at byte %2 (%3 of %4 bytes present)")
                .arg(QString::fromLatin1(type)).arg(at).arg(b.size()).arg(end);
        if (type == "IEND")
            return {};
        at = qsizetype(end);
    }
    return QStringLiteral("truncated: the file ends at byte %1 without the IEND chunk").arg(b.size());
}

/// Walks the JPEG marker structure from SOI through every scan to EOI. A file cut short
/// (a partial download, a full card) still decodes in Qt: libjpeg fills the missing rows
/// with grey and only prints a warning. A cut cannot hide from this walk: inside
/// entropy-coded data every 0xFF byte is stuffed (FF 00) or a restart marker (FF D0..D7),
/// so the EOI marker FF D9 cannot appear before the real end, and a thumbnail's EOI
/// inside an APP segment is skipped with its segment. Bytes after EOI are allowed.
QString jpegStructureProblem(const QByteArray &b)
{
    const auto byte = [&](qsizetype i) { return uchar(b[i]); };
    qsizetype at = 2; // SOI, checked by the format detection
    bool inScan = false;
    while (true) {
        if (inScan) {
            // Skip entropy-coded data up to the next marker that is not a stuffed byte or RSTn.
            while (at + 1 < b.size() && !(byte(at) == 0xFF && byte(at + 1) != 0x00 &&
                                           !(byte(at + 1) >= 0xD0 && byte(at + 1) <= 0xD7) &&
                                           byte(at + 1) != 0xFF))
                ++at;
            inScan = false;
        }
        while (at < b.size() && byte(at) == 0xFF && at + 1 < b.size() && byte(at + 1) == 0xFF)
            ++at; // fill bytes before a marker
        if (at + 1 >= b.size())
            return QStringLiteral("truncated: the file ends at byte %1 without the JPEG end marker (EOI)").arg(b.size());
        if (byte(at) != 0xFF)
            return QStringLiteral("corrupt: no JPEG marker at byte %1").arg(at);
        const uchar marker = byte(at + 1);
        if (marker == 0xD9)
            return {};
        if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) { // no length field
            at += 2;
            inScan = marker != 0x01; // a restart marker sits between entropy-coded intervals
            continue;
        }
        if (at + 4 > b.size())
            return QStringLiteral("truncated: the file ends at byte %1 inside a JPEG marker").arg(b.size());
        const int length = int(byte(at + 2)) << 8 | byte(at + 3);
        if (length < 2)
            return QStringLiteral("corrupt: JPEG marker 0x%1 at byte %2 has length %3").arg(uint(marker), 2, 16, QLatin1Char('0')).arg(at).arg(length);
        if (at + 2 + length > b.size())
            return QStringLiteral("truncated: the file ends at byte %1 inside JPEG marker 0x%2 at byte %3")
                .arg(b.size()).arg(uint(marker), 2, 16, QLatin1Char('0')).arg(at);
        at += 2 + length;
        inScan = marker == 0xDA; // SOS: entropy-coded data follows its header
    }
}

// libjpeg recovers from damaged scan data ("Corrupt JPEG data: ...", "Premature end of
// JPEG file") and Qt passes its warnings to the Qt message handler; the image then holds
// grey or shifted blocks. Those warnings are the only sign, so a read listens for them.
// The handler is process-wide, imports may run on several threads, and the GUI may install
// its own handler: so ours is (re)installed around a read when it is not the current one,
// forwards everything it does not collect to the handler it replaced, and collects only
// for the thread that is reading (thread_local).
thread_local QStringList *t_decoderWarnings = nullptr;
std::atomic<QtMessageHandler> g_forwardTo{nullptr};

void collectDecoderWarnings(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    // Only libjpeg's damage warnings: others ("Invalid SOS parameters for sequential JPEG",
    // ICC profile remarks) come with files that decode fine.
    if (t_decoderWarnings && type == QtWarningMsg && context.category &&
        QByteArray(context.category).startsWith("qt.gui.imageio") &&
        (message.contains(QLatin1String("Corrupt JPEG data")) ||
         message.contains(QLatin1String("Premature end of JPEG file")))) {
        t_decoderWarnings->append(message);
        return;
    }
    if (const QtMessageHandler next = g_forwardTo.load())
        next(type, context, message);
    else // qt_message_output() would call this handler again
        std::fprintf(stderr, "%s\n", qPrintable(qFormatLogMessage(type, context, message)));
}

class DecoderWarningScope
{
public:
    explicit DecoderWarningScope(QStringList *sink)
    {
        t_decoderWarnings = sink;
        const QtMessageHandler previous = qInstallMessageHandler(collectDecoderWarnings);
        if (previous != collectDecoderWarnings)
            g_forwardTo.store(previous);
    }
    ~DecoderWarningScope() { t_decoderWarnings = nullptr; }
    DecoderWarningScope(const DecoderWarningScope &) = delete;
    DecoderWarningScope &operator=(const DecoderWarningScope &) = delete;
};

} // namespace

FileImportResult parseImage(const QByteArray &bytes, const QString &fileName, const ImportOptions &options)
{
    auto fail = [&](const QString &field, const QString &message) {
        return importFailure(fileName, kFormat, 0, field, message);
    };
    if (bytes.isEmpty())
        return fail({}, QStringLiteral("empty file"));
    QBuffer buffer;
    buffer.setData(bytes);
    buffer.open(QIODevice::ReadOnly);
    QImageReader reader(&buffer);
    const QByteArray kind = reader.format();
    if (kind != "png" && kind != "jpeg" && kind != "jpg")
        return fail({}, QStringLiteral("not a PNG or JPEG image"));
    const QString kindName = QString::fromLatin1(kind == "png" ? "PNG" : "JPEG");
    // PNG: from IHDR itself, which libpng reads only together with the chunks up to the
    // first IDAT (a header-only file would hide its size).
    const QSize size = kind == "png" && bytes.size() >= 24 && bytes.mid(12, 4) == "IHDR"
                           ? QSize(int(std::min<quint32>(bigEndian32(bytes, 16), INT_MAX)),
                                   int(std::min<quint32>(bigEndian32(bytes, 20), INT_MAX)))
                           : reader.size();
    if (size.isValid() && (size.width() > kMaxSide || size.height() > kMaxSide ||
                           qint64(size.width()) * size.height() > kMaxPixels))
        return fail(QStringLiteral("size"),
                    QStringLiteral("%1 x %2 pixels is larger than the limit of %3 x %3 (%4 pixels); "
                                   "scale the image down first")
                        .arg(size.width()).arg(size.height()).arg(kMaxSide).arg(kMaxPixels));
    const QString damage = kind == "png" ? pngStructureProblem(bytes) : jpegStructureProblem(bytes);
    if (!damage.isEmpty())
        return fail({}, QStringLiteral("cannot decode %1: the file is %2").arg(kindName, damage));
    reader.setAllocationLimit(kAllocationLimitMb);
    QImage image;
    QStringList warnings;
    bool decoded = false;
    {
        DecoderWarningScope listen(&warnings);
        decoded = reader.read(&image) && !image.isNull();
    }
    if (!decoded)
        return fail({}, QStringLiteral("cannot decode %1: %2").arg(kindName, reader.errorString()));
    if (!warnings.isEmpty())
        return fail({}, QStringLiteral("cannot decode %1: corrupt image data (the decoder says: %2)")
                            .arg(kindName, warnings.first()));

    QString label = options.label;
    if (label.isEmpty())
        label = QFileInfo(fileName).absoluteDir().dirName();
    if (label.isEmpty())
        return fail(QStringLiteral("label"), QStringLiteral("no label: put the image in a folder named after its label or give a label"));

    const bool gray = image.isGrayscale();
    image = image.convertToFormat(gray ? QImage::Format_Grayscale8 : QImage::Format_RGB888);
    const int h = image.height(), w = image.width(), c = gray ? 1 : 3;
    QByteArray pixels(qsizetype(h) * w * c, Qt::Uninitialized);
    for (int y = 0; y < h; ++y)
        std::memcpy(pixels.data() + qsizetype(y) * w * c, image.constScanLine(y), size_t(w) * c);

    Sample s;
    stampSample(s, fileName, label, options);
    s.channels = gray ? QStringList{QStringLiteral("gray")}
                      : QStringList{QStringLiteral("r"), QStringLiteral("g"), QStringLiteral("b")};
    s.data.dtype = DType::UInt8;
    s.data.shape = {h, w, c};
    s.data.bytes = pixels;

    FileImportResult r;
    r.file = fileName;
    r.format = kFormat;
    r.samples.append(std::move(s));
    return r;
}

QByteArray encodePng(const Sample &sample, QString *error)
{
    const Tensor &t = sample.data;
    if (t.dtype != DType::UInt8 || t.shape.size() != 3 || !t.isConsistent() ||
        (t.shape[2] != 1 && t.shape[2] != 3) || t.shape[0] < 1 || t.shape[1] < 1 ||
        t.shape[0] > 65535 || t.shape[1] > 65535) {
        if (error)
            *error = QStringLiteral("PNG export needs uint8 [height, width, 1 or 3] data");
        return {};
    }
    const int h = int(t.shape[0]), w = int(t.shape[1]), c = int(t.shape[2]);
    QImage image(w, h, c == 1 ? QImage::Format_Grayscale8 : QImage::Format_RGB888);
    for (int y = 0; y < h; ++y)
        std::memcpy(image.scanLine(y), t.bytes.constData() + qsizetype(y) * w * c, size_t(w) * c);
    QByteArray out;
    QBuffer buffer(&out);
    buffer.open(QIODevice::WriteOnly);
    if (!image.save(&buffer, "PNG")) {
        if (error)
            *error = QStringLiteral("PNG encoding failed");
        return {};
    }
    return out;
}

} // namespace tinyml::io
