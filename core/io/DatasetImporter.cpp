#include "io/DatasetImporter.h"

#include "data/SplitAssigner.h"

#include "io/CsvRecordReader.h"
#include "io/CsvTableReader.h"
#include "io/CsvTimeSeriesReader.h"
#include "io/EdgeImpulseCodec.h"
#include "io/FileNameBytes.h"
#include "io/ImageReader.h"
#include "io/WavReader.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QHash>

#include <cmath>

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
            // QDirIterator leaves out names that are not UTF-8 altogether: list them per folder
            // so that none is skipped without a word (see FileNameBytes.h).
            int undecodable = 0;
            QStringList folders{path};
            QDirIterator dirs(path, QDir::Dirs | QDir::NoDotAndDotDot, QDirIterator::Subdirectories);
            while (dirs.hasNext())
                folders << dirs.next();
            for (const QString &folder : folders) {
                for (const QByteArray &raw : undecodableEntries(folder)) {
                    if (raw.startsWith('.'))
                        continue;
                    const QString file = QDir(folder).filePath(QFile::decodeName(raw));
                    results.append(importFailure(file, {}, 0, {}, undecodableEntryMessage(raw)));
                    ++undecodable;
                }
            }
            if (found.isEmpty() && undecodable == 0)
                results.append(importFailure(path, {}, 0, {}, QStringLiteral("no importable files in this folder")));
            found.sort();
            files += found;
        } else if (info.exists()) {
            files << path;
        } else if (isUndecodableName(path)) {
            results.append(importFailure(path, {}, 0, {}, undecodableNameMessage(path)));
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

SampleExpectation expectationFor(const ProjectSettings &settings, const QVector<SampleInfo> &samples)
{
    SampleExpectation e;
    e.templateName = settings.templateName;
    if (e.templateName == QLatin1String("image"))
        return e; // the image block converts sizes and colour itself
    QHash<int, int> votes;
    for (const SampleInfo &i : samples)
        if (i.complete && !i.checksum.isEmpty() && !i.channels.isEmpty())
            ++votes[int(i.channels.size())];
    for (auto it = votes.cbegin(); it != votes.cend(); ++it)
        if (it.value() > votes.value(e.channels) || (it.value() == votes.value(e.channels) && it.key() < e.channels))
            e.channels = it.key();
    if (e.channels > 0) {
        e.channelsFrom = QStringLiteral("the project's samples");
    } else if (e.templateName == QLatin1String("motion") && settings.sensor == QLatin1String("accel")) {
        e.channels = 3;
        e.channelsFrom = QStringLiteral("the project's 3-axis accelerometer");
    } else if (e.templateName == QLatin1String("audio") && settings.sensor == QLatin1String("mic")) {
        e.channels = 1;
        e.channelsFrom = QStringLiteral("the project's microphone");
    }
    if (e.templateName == QLatin1String("motion") || e.templateName == QLatin1String("audio"))
        e.sampleRateHz = settings.sampleRateHz;
    return e;
}

void checkAgainstProject(FileImportResult &result, const SampleExpectation &expect)
{
    if (!result.ok() || expect.templateName.isEmpty())
        return;
    const QString project = QStringLiteral("this is %1 %2 project")
                                .arg(expect.templateName.startsWith(QLatin1Char('a')) || expect.templateName.startsWith(QLatin1Char('i'))
                                         ? QStringLiteral("an") : QStringLiteral("a"), expect.templateName);
    auto refuse = [&](const QString &field, const QString &message) {
        const QString file = result.file, format = result.format;
        result = importFailure(file, format, 0, field, message);
    };
    const bool image = result.format == QLatin1String("image");
    // An MLPerf data set's samples are rows of the model's input values (io/MlperfImport.h).
    const bool table = result.format == QLatin1String("csv-table") || result.format == QLatin1String("mlperf");
    const bool audio = result.format == QLatin1String("wav");
    const QString t = expect.templateName;
    if (t == QLatin1String("image")) {
        if (!image)
            refuse(QStringLiteral("format"), QStringLiteral("%1 data, but %2: it takes PNG or JPEG images")
                                                 .arg(result.format, project));
        return;
    }
    if (image)
        return refuse(QStringLiteral("format"), QStringLiteral("an image, but %1").arg(project));
    if (t == QLatin1String("tabular") && !table)
        return refuse(QStringLiteral("format"), QStringLiteral("%1 data, but %2: it takes table CSV rows "
                                                               "(--format csv-table)").arg(result.format, project));
    if ((t == QLatin1String("motion") || t == QLatin1String("audio")) && table)
        return refuse(QStringLiteral("format"), QStringLiteral("table rows, but %1: it takes one recording per file").arg(project));
    if (t == QLatin1String("motion") && audio)
        return refuse(QStringLiteral("format"), QStringLiteral("a WAV (audio) recording, but %1").arg(project));
    for (const Sample &s : result.samples) {
        const int channels = s.data.shape.size() == 1 ? int(s.data.shape[0])
                             : s.data.shape.size() >= 2 ? int(s.data.shape.last()) : 0;
        if (expect.channels > 0 && channels != expect.channels) {
            const QString what = table ? QStringLiteral("feature columns") : QStringLiteral("channels");
            return refuse(QStringLiteral("channels"),
                          QStringLiteral("%1 %2, but this %3 project takes %4 %2 (%5)")
                              .arg(channels).arg(what, t).arg(expect.channels).arg(expect.channelsFrom));
        }
        if (expect.sampleRateHz > 0 && s.sampleRateHz > 0 &&
            std::fabs(s.sampleRateHz - expect.sampleRateHz) > 0.02 * expect.sampleRateHz)
            return refuse(QStringLiteral("sample_rate_hz"),
                          QStringLiteral("recorded at %1 Hz, but this %2 project samples at %3 Hz (the feature "
                                         "block and the device use one rate; resample the file first)")
                              .arg(s.sampleRateHz).arg(t).arg(expect.sampleRateHz));
    }
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
