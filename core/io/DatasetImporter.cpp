#include "io/DatasetImporter.h"

#include "data/SplitAssigner.h"

#include "io/CsvRecordReader.h"
#include "io/CsvTableReader.h"
#include "io/CsvTimeSeriesReader.h"
#include "io/EdgeImpulseCodec.h"
#include "io/ImageReader.h"
#include "io/WavReader.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>

namespace tinyml::io {

namespace {

bool startsWithCborMap(const QByteArray &head)
{
    if (head.isEmpty())
        return false;
    const auto b = static_cast<unsigned char>(head[0]);
    return b >= 0xA0 && b <= 0xBF; // major type 5 (map), any length encoding
}

bool startsWithJsonObject(const QByteArray &head)
{
    for (char c : head) {
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        return c == '{';
    }
    return false;
}

QString csvKind(const QByteArray &bytes, const ImportOptions &options)
{
    const QStringList header = CsvRecordReader::headerOf(bytes);
    const QString labelColumn = options.labelColumn.isEmpty() ? QStringLiteral("label") : options.labelColumn;
    const bool hasLabel = std::any_of(header.begin(), header.end(), [&](const QString &h) {
        return h.compare(labelColumn, Qt::CaseInsensitive) == 0;
    });
    const bool hasTime = !header.isEmpty() && isTimestampColumnName(splitChannelHeader(header.first()).first);
    return hasLabel && !hasTime ? QStringLiteral("csv-table") : QStringLiteral("csv-timeseries");
}

} // namespace

QStringList importableExtensions()
{
    return {QStringLiteral("csv"), QStringLiteral("txt"), QStringLiteral("wav"), QStringLiteral("json"),
            QStringLiteral("cbor"), QStringLiteral("png"), QStringLiteral("jpg"), QStringLiteral("jpeg")};
}

QString detectFormat(const QString &path, const QByteArray &head, const ImportOptions &options)
{
    const QString forced = options.format.toLower();
    if (forced == QLatin1String("csv"))
        return csvKind(head, options);
    if (!forced.isEmpty() && forced != QLatin1String("auto"))
        return forced;

    const QString ext = QFileInfo(path).suffix().toLower();
    if (ext == QLatin1String("wav"))
        return QStringLiteral("wav");
    if (ext == QLatin1String("png") || ext == QLatin1String("jpg") || ext == QLatin1String("jpeg"))
        return QStringLiteral("image");
    if (ext == QLatin1String("json"))
        return startsWithCborMap(head) ? QStringLiteral("ei-cbor") : QStringLiteral("ei-json");
    if (ext == QLatin1String("cbor"))
        return startsWithJsonObject(head) ? QStringLiteral("ei-json") : QStringLiteral("ei-cbor");
    if (ext == QLatin1String("csv") || ext == QLatin1String("txt"))
        return csvKind(head, options);

    if (head.size() >= 12 && head.startsWith("RIFF") && head.mid(8, 4) == "WAVE")
        return QStringLiteral("wav");
    if (head.startsWith("\x89PNG\r\n\x1a\n") || head.startsWith("\xFF\xD8\xFF"))
        return QStringLiteral("image");
    if (startsWithCborMap(head))
        return QStringLiteral("ei-cbor");
    if (startsWithJsonObject(head))
        return QStringLiteral("ei-json");
    return {};
}

FileImportResult parseBytes(const QByteArray &bytes, const QString &fileName, const ImportOptions &options)
{
    const QString format = detectFormat(fileName, bytes, options);
    if (format == QLatin1String("csv-timeseries"))
        return parseTimeSeriesCsv(bytes, fileName, options);
    if (format == QLatin1String("csv-table"))
        return parseTableCsv(bytes, fileName, options);
    if (format == QLatin1String("wav"))
        return parseWav(bytes, fileName, options);
    if (format == QLatin1String("ei-json"))
        return parseEdgeImpulseJson(bytes, fileName, options);
    if (format == QLatin1String("ei-cbor"))
        return parseEdgeImpulseCbor(bytes, fileName, options);
    if (format == QLatin1String("image"))
        return parseImage(bytes, fileName, options);
    if (format.isEmpty())
        return importFailure(fileName, format, 0, {}, QStringLiteral("unrecognised file type"));
    return importFailure(fileName, format, 0, QStringLiteral("format"),
                         QStringLiteral("unknown format '%1'").arg(format));
}

FileImportResult importFile(const QString &path, const ImportOptions &options)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return importFailure(path, {}, 0, {}, QStringLiteral("cannot read: %1").arg(file.errorString()));
    return parseBytes(file.readAll(), path, options);
}

QVector<FileImportResult> importPaths(const QStringList &paths, const ImportOptions &options,
                                      const std::function<bool(int done, int total)> &progress)
{
    QVector<FileImportResult> results;
    QStringList files;
    const QStringList extensions = importableExtensions();
    for (const QString &path : paths) {
        const QFileInfo info(path);
        if (info.isDir()) {
            QStringList found;
            QDirIterator it(path, QDir::Files | QDir::NoDotAndDotDot, QDirIterator::Subdirectories);
            while (it.hasNext()) {
                const QString file = it.next();
                const QFileInfo fi(file);
                if (!fi.fileName().startsWith(QLatin1Char('.')) && extensions.contains(fi.suffix().toLower()))
                    found << file;
            }
            if (found.isEmpty())
                results.append(importFailure(path, {}, 0, {}, QStringLiteral("no importable files in this folder")));
            found.sort();
            files += found;
        } else if (info.exists()) {
            files << path;
        } else {
            results.append(importFailure(path, {}, 0, {}, QStringLiteral("no such file or folder")));
        }
    }
    const int total = int(files.size());
    if (progress && !progress(0, total))
        return results;
    for (int i = 0; i < total; ++i) {
        results.append(importFile(files[i], options));
        if (progress && !progress(i + 1, total))
            break;
    }
    return results;
}

void assignAutoSplits(QVector<FileImportResult> &results, double testFraction)
{
    QVector<Sample *> toSplit;
    QVector<QString> labels, checksums;
    for (auto &r : results) {
        if (r.splitFromFile)
            continue;
        for (Sample &s : r.samples) {
            toSplit << &s;
            labels << s.label;
            checksums << sha256Hex(s.data.bytes);
        }
    }
    const QVector<Split> splits = assignStratifiedSplits(labels, checksums, testFraction);
    for (int i = 0; i < toSplit.size(); ++i)
        toSplit[i]->split = splits[i];
}

} // namespace tinyml::io
