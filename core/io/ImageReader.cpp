#include "io/ImageReader.h"

#include <QBuffer>
#include <QDir>
#include <QFileInfo>
#include <QImage>
#include <QImageReader>

#include <cstring>

namespace tinyml::io {

namespace {
const QString kFormat = QStringLiteral("image");
// Decoding allocates width x height x 4 bytes; refuse absurd headers before that.
constexpr qint64 kMaxPixels = qint64(1) << 28;
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
    const QSize size = reader.size();
    if (size.isValid() && qint64(size.width()) * size.height() > kMaxPixels)
        return fail(QStringLiteral("size"), QStringLiteral("%1 x %2 pixels is too large").arg(size.width()).arg(size.height()));
    QImage image;
    if (!reader.read(&image) || image.isNull())
        return fail({}, QStringLiteral("cannot decode %1: %2").arg(QString::fromLatin1(kind.toUpper()), reader.errorString()));

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
