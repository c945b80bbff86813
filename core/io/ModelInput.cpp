#include "io/ModelInput.h"

#include "features/FeatureExtractor.h"
#include "io/CsvRecordReader.h"
#include "io/CsvTimeSeriesReader.h"
#include "io/FloatText.h"
#include "model/QuantizationMath.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QRegularExpression>

#include <cmath>
#include <cstring>

namespace tinyml::io {

namespace {

ImportError makeError(const QString &file, int line, const QString &field, const QString &message)
{
    ImportError e;
    e.file = file;
    e.line = line;
    e.field = field;
    e.message = message;
    return e;
}

QString shapeText(const QVector<int> &shape)
{
    QStringList parts;
    for (int d : shape)
        parts << QString::number(d);
    return QLatin1Char('[') + parts.join(QStringLiteral(", ")) + QLatin1Char(']');
}

QString shapeText(const QVector<qint64> &shape)
{
    QStringList parts;
    for (qint64 d : shape)
        parts << QString::number(d);
    return QLatin1Char('(') + parts.join(QStringLiteral(", ")) + QLatin1Char(')');
}

// --- .npy header ------------------------------------------------------------------------

/// A cursor over the header dict text (ASCII; 3.0 allows UTF-8, which only strings could use).
class NpyDictReader
{
public:
    explicit NpyDictReader(const QByteArray &text) : m_text(text) {}

    void skipBlanks()
    {
        while (m_pos < m_text.size() && (m_text[m_pos] == ' ' || m_text[m_pos] == '\t' || m_text[m_pos] == '\n' ||
                                         m_text[m_pos] == '\r'))
            ++m_pos;
    }
    bool atEnd() const { return m_pos >= m_text.size(); }
    char peek() const { return atEnd() ? '\0' : m_text[m_pos]; }
    bool take(char c)
    {
        skipBlanks();
        if (peek() != c)
            return false;
        ++m_pos;
        return true;
    }
    /// A Python string literal in single or double quotes (no escapes: NumPy writes none).
    std::optional<QString> string()
    {
        skipBlanks();
        const char quote = peek();
        if (quote != '\'' && quote != '"')
            return std::nullopt;
        const qsizetype end = m_text.indexOf(quote, m_pos + 1);
        if (end < 0)
            return std::nullopt;
        const QByteArray body = m_text.mid(m_pos + 1, end - m_pos - 1);
        if (body.contains('\\'))
            return std::nullopt;
        m_pos = end + 1;
        return QString::fromUtf8(body);
    }
    std::optional<bool> boolean()
    {
        skipBlanks();
        for (const auto &[word, value] : {std::pair<const char *, bool>{"True", true}, {"False", false}}) {
            const qsizetype n = qsizetype(std::strlen(word));
            if (m_text.mid(m_pos, n) == word) {
                m_pos += n;
                return value;
            }
        }
        return std::nullopt;
    }
    /// A tuple of non-negative integers: (), (5,), (1, 49, 10, 1). Each at most `max`.
    std::optional<QVector<qint64>> intTuple(qint64 max, QString *why)
    {
        QVector<qint64> out;
        if (!take('(')) {
            *why = QStringLiteral("is not a tuple");
            return std::nullopt;
        }
        while (true) {
            skipBlanks();
            if (take(')'))
                return out;
            qint64 v = 0;
            int digits = 0;
            while (!atEnd() && peek() >= '0' && peek() <= '9') {
                v = v * 10 + (peek() - '0');
                ++m_pos;
                if (++digits > 18 || v > max) {
                    *why = QStringLiteral("has a dimension above %1").arg(max);
                    return std::nullopt;
                }
            }
            if (digits == 0) {
                *why = QStringLiteral("holds something that is not a non-negative integer");
                return std::nullopt;
            }
            if (out.size() >= 32) {
                *why = QStringLiteral("has more than 32 dimensions");
                return std::nullopt;
            }
            out.append(v);
            if (take(','))
                continue;
            if (take(')'))
                return out;
            *why = QStringLiteral("is not a tuple of integers");
            return std::nullopt;
        }
    }

private:
    QByteArray m_text;
    qsizetype m_pos = 0;
};

quint32 readLe(const QByteArray &bytes, qsizetype at, int n)
{
    quint32 v = 0;
    for (int i = n - 1; i >= 0; --i)
        v = (v << 8) | quint8(bytes[at + i]);
    return v;
}

// --- tensors into the model's input -------------------------------------------------------

bool allFinite(const QVector<float> &v, qsizetype *bad)
{
    for (qsizetype i = 0; i < v.size(); ++i)
        if (!std::isfinite(v[i])) {
            *bad = i;
            return false;
        }
    return true;
}

/// Float values become the model's input: kept for a float model, quantized for an int8 one.
bool finishFloats(ModelInput &in, const QString &file, const ModelInputSpec &spec, QVector<float> values,
                  ImportError *error)
{
    qsizetype bad = 0;
    if (!allFinite(values, &bad)) {
        *error = makeError(file, 0, QStringLiteral("value %1").arg(bad),
                           QStringLiteral("%1 is not a finite number").arg(double(values[bad])));
        return false;
    }
    if (spec.int8) {
        in.int8 = model::quantize(values, model::QuantParams{spec.scale, spec.zeroPoint});
        in.note += QStringLiteral("; float values quantized with the input's scale %1 and zero point %2")
                       .arg(double(spec.scale), 0, 'g', 9)
                       .arg(spec.zeroPoint);
    }
    in.values = std::move(values);
    return true;
}

bool finishInt8(ModelInput &in, const QString &file, const ModelInputSpec &spec, const QVector<qint8> &values,
                ImportError *error)
{
    if (!spec.int8) {
        *error = makeError(file, 0, QStringLiteral("dtype"),
                           QStringLiteral("int8 data, but the model is a float model: give float32 values "
                                          "(int8 needs the scale of an int8 model's input)"));
        return false;
    }
    in.int8 = values;
    in.note += QStringLiteral("; the model's int8 input as given");
    return true;
}

QString elementsText(const ModelInputSpec &spec)
{
    return QStringLiteral("%1 values (input %2)").arg(spec.elements).arg(shapeText(spec.shape));
}

std::optional<ModelInput> readRaw(const QByteArray &bytes, const QString &file, const ModelInputSpec &spec,
                                  ModelInputFormat format, ModelInput in, ImportError *error)
{
    const qint64 n = spec.elements;
    if (format == ModelInputFormat::Auto) {
        if (bytes.size() == n)
            format = ModelInputFormat::RawInt8;
        else if (bytes.size() == 4 * n)
            format = ModelInputFormat::RawFloat32;
        else {
            *error = makeError(file, 0, QStringLiteral("size"),
                               QStringLiteral("%1 bytes, but the model takes %2: %3 bytes as int8 or %4 as float32")
                                   .arg(bytes.size()).arg(elementsText(spec)).arg(n).arg(4 * n));
            return std::nullopt;
        }
    }
    if (format == ModelInputFormat::RawInt8) {
        if (bytes.size() != n) {
            *error = makeError(file, 0, QStringLiteral("size"),
                               QStringLiteral("%1 bytes, but %2 int8 values are %3 bytes")
                                   .arg(bytes.size()).arg(elementsText(spec)).arg(n));
            return std::nullopt;
        }
        in.format = QStringLiteral("raw int8");
        in.note = QStringLiteral("raw file of %1 bytes read as int8 (its size is the input's element count)").arg(n);
        QVector<qint8> v(n);
        std::memcpy(v.data(), bytes.constData(), size_t(n));
        if (!finishInt8(in, file, spec, v, error))
            return std::nullopt;
        return in;
    }
    if (bytes.size() != 4 * n) {
        *error = makeError(file, 0, QStringLiteral("size"),
                           QStringLiteral("%1 bytes, but %2 float32 values are %3 bytes")
                               .arg(bytes.size()).arg(elementsText(spec)).arg(4 * n));
        return std::nullopt;
    }
    in.format = QStringLiteral("raw float32");
    in.note = QStringLiteral("raw file of %1 bytes read as little-endian float32 (4 bytes per input value)").arg(4 * n);
    QVector<float> v(n);
    for (qint64 i = 0; i < n; ++i) {
        const quint32 bits = readLe(bytes, qsizetype(4 * i), 4);
        std::memcpy(&v[i], &bits, 4);
    }
    if (!finishFloats(in, file, spec, std::move(v), error))
        return std::nullopt;
    return in;
}

std::optional<ModelInput> readNpyInput(const QByteArray &bytes, const QString &file, const ModelInputSpec &spec,
                                       ModelInput in, ImportError *error)
{
    auto npy = readNpy(bytes, file, error);
    if (!npy)
        return std::nullopt;
    if (npy->header.elementCount != spec.elements) {
        *error = makeError(file, 0, QStringLiteral("shape"),
                           QStringLiteral("%1 holds %2 values, but the model takes %3")
                               .arg(shapeText(npy->header.shape)).arg(npy->header.elementCount).arg(elementsText(spec)));
        return std::nullopt;
    }
    in.format = QStringLiteral("npy %1").arg(npy->header.descr);
    in.note = QStringLiteral(".npy %1 %2").arg(npy->header.descr, shapeText(npy->header.shape));
    if (npy->header.kind == 'i' && npy->header.itemSize == 1) {
        if (!finishInt8(in, file, spec, npy->int8, error))
            return std::nullopt;
        return in;
    }
    if (!(npy->header.kind == 'f' && npy->header.itemSize == 4))
        in.note += QStringLiteral(" converted to float32");
    if (!finishFloats(in, file, spec, std::move(npy->floats), error))
        return std::nullopt;
    return in;
}

std::optional<ModelInput> readCsvRowInput(const QByteArray &bytes, const QString &file, int row,
                                          const ModelInputSpec &spec, ModelInput in, ImportError *error)
{
    auto r = parseCsvRow(bytes, file, row, error);
    if (!r)
        return std::nullopt;
    if (r->values.size() != spec.elements) {
        *error = makeError(file, r->line, QString(),
                           QStringLiteral("row %1 has %2 numbers, but the model takes %3")
                               .arg(r->row).arg(r->values.size()).arg(elementsText(spec)));
        return std::nullopt;
    }
    in.format = QStringLiteral("csv row %1").arg(r->row);
    in.note = QStringLiteral("CSV data row %1 (line %2) as the model's input values, no feature block")
                  .arg(r->row).arg(r->line);
    in.expectedLabel = r->label;
    if (!finishFloats(in, file, spec, std::move(r->values), error))
        return std::nullopt;
    return in;
}

std::optional<ModelInput> readSampleInput(const QByteArray &bytes, const QString &file, const ModelInputSpec &spec,
                                          ModelInput in, ImportError *error)
{
    ImportOptions options;
    const QString suffix = QFileInfo(file).suffix().toLower();
    if (suffix == QLatin1String("csv") || suffix == QLatin1String("txt"))
        options.format = QStringLiteral("csv-timeseries");
    options.sampleRateHz = spec.sampleRateHz;
    const QString fileLabel = labelFromFileName(QFileInfo(file).fileName());
    // The importers want a label; the prediction does not (a file-name label is the expected class).
    options.label = fileLabel.isEmpty() ? QStringLiteral("predict") : fileLabel;
    FileImportResult result = parseBytes(bytes, file, options);
    if (result.ok())
        checkAgainstProject(result, spec.expectation);
    if (!result.ok()) {
        *error = *result.error;
        return std::nullopt;
    }
    if (result.samples.size() != 1) {
        *error = makeError(file, 0, QString(),
                           QStringLiteral("holds %1 samples; give one sample per file").arg(result.samples.size()));
        return std::nullopt;
    }
    const Sample &sample = result.samples.first();
    features::FeatureExtractor extractor(spec.features);
    QString why;
    auto tensor = extractor.extract(sample, &why);
    const QString block = features::blockKindName(spec.features.kind);
    if (!tensor) {
        *error = makeError(file, 0, QStringLiteral("features"), QStringLiteral("the %1 block: %2").arg(block, why));
        return std::nullopt;
    }
    QVector<float> x = tensor->toFloats();
    if (x.size() != spec.elements) {
        *error = makeError(file, 0, QStringLiteral("features"),
                           QStringLiteral("the %1 block gives %2 values %3, but the model takes %4: the sample does "
                                          "not fit this model's feature block")
                               .arg(block).arg(x.size()).arg(shapeText(tensor->shape)).arg(elementsText(spec)));
        return std::nullopt;
    }
    in.format = QStringLiteral("%1 sample").arg(result.format);
    in.expectedLabel = fileLabel;
    const qint64 channels = sample.data.shape.size() == 2 ? sample.data.shape[1] : 0;
    QString what = sample.data.shape.size() == 2
                       ? QStringLiteral("%1 frames x %2 channels").arg(sample.frames()).arg(channels)
                       : QStringLiteral("data %1").arg(shapeText(sample.data.shape));
    if (sample.sampleRateHz > 0)
        what += QStringLiteral(" at %1 Hz").arg(sample.sampleRateHz);
    in.note = QStringLiteral("%1 sample, %2, through the %3 block: features %4").arg(result.format, what, block,
                                                                                       shapeText(tensor->shape));
    if (spec.normMean.size() == spec.elements && spec.normStd.size() == spec.elements) {
        for (qint64 i = 0; i < spec.elements; ++i)
            x[i] = (x[i] - spec.normMean[i]) / spec.normStd[i];
        in.note += QStringLiteral(", normalised with the model's mean and std");
    }
    if (!finishFloats(in, file, spec, std::move(x), error))
        return std::nullopt;
    return in;
}

bool startsWithSignature(const QByteArray &head, QString *format)
{
    if (head.size() >= 12 && head.startsWith("RIFF") && head.mid(8, 4) == "WAVE")
        *format = QStringLiteral("wav");
    else if (head.startsWith("\x89PNG\r\n\x1a\n") || head.startsWith("\xFF\xD8\xFF"))
        *format = QStringLiteral("image");
    else
        return false;
    return true;
}

bool hasTimeColumn(const QByteArray &bytes)
{
    const QStringList header = CsvRecordReader::headerOf(bytes.left(64 * 1024));
    return !header.isEmpty() && isTimestampColumnName(splitChannelHeader(header.first()).first);
}

} // namespace

// --- spec -------------------------------------------------------------------------------

std::optional<ModelInputSpec> ModelInputSpec::forGraph(const model::Graph &graph, const ProjectSettings &settings,
                                                       QString *error)
{
    auto failWith = [&](const QString &message) -> std::optional<ModelInputSpec> {
        if (error)
            *error = message;
        return std::nullopt;
    };
    const int index = graph.inputIndex();
    if (index < 0 || index >= graph.tensors.size())
        return failWith(QStringLiteral("the model has no input tensor"));
    const model::TensorDesc &t = graph.tensors[index];
    ModelInputSpec spec;
    spec.elements = t.elementCount();
    spec.shape = t.shape;
    if (spec.elements <= 0 || spec.elements > kMaxModelInputFileBytes / 4)
        return failWith(QStringLiteral("input %1: shape %2 has no usable element count").arg(t.name, shapeText(t.shape)));
    spec.int8 = graph.quantized;
    if (spec.int8) {
        if (t.dtype != DType::Int8 || t.scales.isEmpty() || t.zeroPoints.isEmpty() || !(t.scales.first() > 0))
            return failWith(QStringLiteral("input %1: an int8 model's input needs dtype int8, a positive scale and a "
                                           "zero point").arg(t.name));
        spec.scale = t.scales.first();
        spec.zeroPoint = t.zeroPoints.first();
    }
    spec.features = features::featureParams(settings);
    const QJsonObject fp = graph.meta.value(QStringLiteral("features")).toObject();
    if (!fp.isEmpty()) {
        QString why;
        auto p = features::FeatureParams::fromJson(fp, &why);
        if (!p)
            return failWith(QStringLiteral("meta features: %1").arg(why));
        spec.features = *p;
    }
    const QJsonObject norm = graph.meta.value(QStringLiteral("input_normalization")).toObject();
    if (!norm.isEmpty()) {
        for (const QJsonValue &v : norm.value(QStringLiteral("mean")).toArray())
            spec.normMean.append(float(v.toDouble()));
        for (const QJsonValue &v : norm.value(QStringLiteral("std")).toArray())
            spec.normStd.append(float(v.toDouble()));
        if (spec.normMean.size() != spec.elements || spec.normStd.size() != spec.elements)
            return failWith(QStringLiteral("meta input_normalization: %1 means and %2 deviations for %3 input values")
                                .arg(spec.normMean.size()).arg(spec.normStd.size()).arg(spec.elements));
        for (float s : spec.normStd)
            if (!(s > 0) || !std::isfinite(s))
                return failWith(QStringLiteral("meta input_normalization: std holds %1").arg(double(s)));
    }
    spec.sampleRateHz = settings.sampleRateHz;
    return spec;
}

std::optional<ModelInputFormat> modelInputFormatFromName(const QString &name)
{
    for (ModelInputFormat f : {ModelInputFormat::Auto, ModelInputFormat::RawInt8, ModelInputFormat::RawFloat32,
                               ModelInputFormat::Npy, ModelInputFormat::CsvRow, ModelInputFormat::Sample})
        if (modelInputFormatName(f) == name)
            return f;
    return std::nullopt;
}

QString modelInputFormatName(ModelInputFormat format)
{
    switch (format) {
    case ModelInputFormat::Auto: return QStringLiteral("auto");
    case ModelInputFormat::RawInt8: return QStringLiteral("int8");
    case ModelInputFormat::RawFloat32: return QStringLiteral("float32");
    case ModelInputFormat::Npy: return QStringLiteral("npy");
    case ModelInputFormat::CsvRow: return QStringLiteral("row");
    case ModelInputFormat::Sample: return QStringLiteral("sample");
    }
    return QStringLiteral("auto");
}

// --- reading ------------------------------------------------------------------------------

std::optional<ModelInput> readModelInput(const QString &argument, const ModelInputSpec &spec,
                                         ModelInputFormat format, ImportError *error)
{
    ImportError localError;
    if (!error)
        error = &localError;
    QString path = argument;
    int row = 0;
    if (!QFileInfo(argument).isFile()) {
        static const QRegularExpression rowSuffix(QStringLiteral("^(.+):([0-9]{1,9})$"));
        const QRegularExpressionMatch m = rowSuffix.match(argument);
        if (m.hasMatch() && QFileInfo(m.captured(1)).isFile()) {
            path = m.captured(1);
            row = m.captured(2).toInt();
            if (row < 1) {
                *error = makeError(path, 0, QStringLiteral("row"), QStringLiteral("rows are numbered from 1"));
                return std::nullopt;
            }
            if (format == ModelInputFormat::Auto)
                format = ModelInputFormat::CsvRow;
            if (format != ModelInputFormat::CsvRow) {
                *error = makeError(path, 0, QStringLiteral("row"),
                                   QStringLiteral(":%1 picks a CSV row, but the input is read as %2")
                                       .arg(row).arg(modelInputFormatName(format)));
                return std::nullopt;
            }
        }
    }
    const QFileInfo info(path);
    if (!info.exists()) {
        *error = makeError(path, 0, QString(), QStringLiteral("no such file"));
        return std::nullopt;
    }
    if (!info.isFile()) {
        *error = makeError(path, 0, QString(), QStringLiteral("not a regular file"));
        return std::nullopt;
    }
    if (info.size() > kMaxModelInputFileBytes) {
        *error = makeError(path, 0, QStringLiteral("size"),
                           QStringLiteral("%1 bytes; inputs of at most %2 bytes are read").arg(info.size())
                               .arg(kMaxModelInputFileBytes));
        return std::nullopt;
    }
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        *error = makeError(path, 0, QString(), QStringLiteral("cannot read: %1").arg(f.errorString()));
        return std::nullopt;
    }
    const QByteArray bytes = f.read(kMaxModelInputFileBytes + 1);
    if (bytes.size() > kMaxModelInputFileBytes) {
        *error = makeError(path, 0, QStringLiteral("size"), QStringLiteral("grew beyond %1 bytes while read")
                                                                .arg(kMaxModelInputFileBytes));
        return std::nullopt;
    }

    if (format == ModelInputFormat::Auto) {
        const QString suffix = info.suffix().toLower();
        QString signature;
        if (bytes.startsWith("\x93NUMPY") || suffix == QLatin1String("npy"))
            format = ModelInputFormat::Npy;
        else if (suffix == QLatin1String("csv") || suffix == QLatin1String("txt"))
            format = hasTimeColumn(bytes) ? ModelInputFormat::Sample : ModelInputFormat::CsvRow;
        else if (startsWithSignature(bytes.left(16), &signature) || suffix == QLatin1String("wav") ||
                 suffix == QLatin1String("png") || suffix == QLatin1String("jpg") || suffix == QLatin1String("jpeg") ||
                 suffix == QLatin1String("json") || suffix == QLatin1String("cbor"))
            format = ModelInputFormat::Sample;
    }

    ModelInput in;
    in.source = argument;
    switch (format) {
    case ModelInputFormat::Npy: return readNpyInput(bytes, path, spec, in, error);
    case ModelInputFormat::CsvRow: return readCsvRowInput(bytes, path, row, spec, in, error);
    case ModelInputFormat::Sample: return readSampleInput(bytes, path, spec, in, error);
    case ModelInputFormat::Auto:
    case ModelInputFormat::RawInt8:
    case ModelInputFormat::RawFloat32: return readRaw(bytes, path, spec, format, in, error);
    }
    return std::nullopt;
}

// --- .npy ---------------------------------------------------------------------------------

std::optional<NpyHeader> parseNpyHeader(const QByteArray &bytes, const QString &file, ImportError *error)
{
    auto failAt = [&](const QString &field, const QString &message) -> std::optional<NpyHeader> {
        if (error)
            *error = makeError(file, 0, field, message);
        return std::nullopt;
    };
    if (bytes.size() < 10 || !bytes.startsWith("\x93NUMPY"))
        return failAt(QStringLiteral("magic"), QStringLiteral("not a NumPy .npy file (it starts with \\x93NUMPY)"));
    NpyHeader h;
    h.major = quint8(bytes[6]);
    h.minor = quint8(bytes[7]);
    if (h.major < 1 || h.major > 3 || h.minor != 0)
        return failAt(QStringLiteral("version"),
                      QStringLiteral("format version %1.%2; 1.0, 2.0 and 3.0 are read").arg(h.major).arg(h.minor));
    const int lenBytes = h.major == 1 ? 2 : 4;
    const qint64 prefix = 8 + lenBytes;
    if (bytes.size() < prefix)
        return failAt(QStringLiteral("header_len"), QStringLiteral("the file ends inside the header length"));
    const qint64 headerLen = readLe(bytes, 8, lenBytes);
    if (headerLen > kMaxNpyHeaderBytes)
        return failAt(QStringLiteral("header_len"),
                      QStringLiteral("%1 bytes; headers of at most %2 bytes are read").arg(headerLen).arg(kMaxNpyHeaderBytes));
    if (prefix + headerLen > bytes.size())
        return failAt(QStringLiteral("header_len"),
                      QStringLiteral("the header needs %1 bytes, the file has %2 after the length field")
                          .arg(headerLen).arg(bytes.size() - prefix));
    h.dataOffset = prefix + headerLen;
    const QByteArray text = bytes.mid(prefix, headerLen);

    NpyDictReader dict(text);
    if (!dict.take('{'))
        return failAt(QStringLiteral("header"), QStringLiteral("is not a Python dict"));
    bool haveDescr = false, haveOrder = false, haveShape = false;
    while (true) {
        if (dict.take('}'))
            break;
        auto key = dict.string();
        if (!key)
            return failAt(QStringLiteral("header"), QStringLiteral("a key is not a quoted string"));
        if (!dict.take(':'))
            return failAt(QStringLiteral("header"), QStringLiteral("no ':' after '%1'").arg(messageExcerpt(*key, 40)));
        if (*key == QLatin1String("descr")) {
            auto d = dict.string();
            if (!d)
                return failAt(QStringLiteral("descr"), QStringLiteral("is not a string (structured dtypes are not read)"));
            h.descr = *d;
            haveDescr = true;
        } else if (*key == QLatin1String("fortran_order")) {
            auto b = dict.boolean();
            if (!b)
                return failAt(QStringLiteral("fortran_order"), QStringLiteral("is not True or False"));
            if (*b)
                return failAt(QStringLiteral("fortran_order"),
                              QStringLiteral("Fortran (column-major) order is not read: save the array in C order"));
            haveOrder = true;
        } else if (*key == QLatin1String("shape")) {
            QString why;
            auto s = dict.intTuple(kMaxModelInputFileBytes, &why);
            if (!s)
                return failAt(QStringLiteral("shape"), why);
            h.shape = *s;
            haveShape = true;
        } else {
            return failAt(QStringLiteral("header"), QStringLiteral("unknown key '%1'").arg(messageExcerpt(*key, 40)));
        }
        if (dict.take(','))
            continue;
        if (dict.take('}'))
            break;
        return failAt(QStringLiteral("header"), QStringLiteral("expected ',' or '}' after '%1'").arg(messageExcerpt(*key, 40)));
    }
    dict.skipBlanks();
    if (!dict.atEnd())
        return failAt(QStringLiteral("header"), QStringLiteral("text after the dict"));
    if (!haveDescr)
        return failAt(QStringLiteral("descr"), QStringLiteral("missing"));
    if (!haveOrder)
        return failAt(QStringLiteral("fortran_order"), QStringLiteral("missing"));
    if (!haveShape)
        return failAt(QStringLiteral("shape"), QStringLiteral("missing"));

    static const QRegularExpression descrRe(QStringLiteral("^([<>|=]?)([if])([1248])$"));
    const QRegularExpressionMatch m = descrRe.match(h.descr);
    const QString known = QStringLiteral("|i1, <f4, <f8 and <i2 (and big-endian >f4, >f8, >i2) are read");
    if (!m.hasMatch())
        return failAt(QStringLiteral("descr"), QStringLiteral("dtype '%1': %2").arg(messageExcerpt(h.descr, 40), known));
    h.kind = m.captured(2).at(0).toLatin1();
    h.itemSize = m.captured(3).toInt();
    h.bigEndian = m.captured(1) == QLatin1String(">");
    const bool supported = (h.kind == 'i' && (h.itemSize == 1 || h.itemSize == 2)) ||
                           (h.kind == 'f' && (h.itemSize == 4 || h.itemSize == 8));
    if (!supported)
        return failAt(QStringLiteral("descr"), QStringLiteral("dtype '%1': %2").arg(h.descr, known));

    h.elementCount = 1;
    for (qint64 d : h.shape) {
        if (d != 0 && h.elementCount > kMaxModelInputFileBytes / d)
            return failAt(QStringLiteral("shape"), QStringLiteral("%1 holds more than %2 values")
                                                       .arg(shapeText(h.shape)).arg(kMaxModelInputFileBytes));
        h.elementCount *= d;
    }
    const qint64 dataBytes = bytes.size() - h.dataOffset;
    const qint64 needed = h.elementCount * h.itemSize;
    if (dataBytes != needed)
        return failAt(QStringLiteral("data"), QStringLiteral("%1 bytes after the header, but shape %2 of %3 needs %4")
                                                  .arg(dataBytes).arg(shapeText(h.shape)).arg(h.descr).arg(needed));
    return h;
}

std::optional<NpyData> readNpy(const QByteArray &bytes, const QString &file, ImportError *error)
{
    auto header = parseNpyHeader(bytes, file, error);
    if (!header)
        return std::nullopt;
    NpyData d;
    d.header = *header;
    const qint64 n = header->elementCount;
    const int size = header->itemSize;
    d.floats.resize(n);
    if (header->kind == 'i' && size == 1)
        d.int8.resize(n);
    const char *p = bytes.constData() + header->dataOffset;
    for (qint64 i = 0; i < n; ++i) {
        unsigned char b[8];
        for (int k = 0; k < size; ++k)
            b[k] = static_cast<unsigned char>(p[i * size + (header->bigEndian ? size - 1 - k : k)]);
        // b now holds the value little-endian.
        if (header->kind == 'i' && size == 1) {
            d.int8[i] = qint8(b[0]);
            d.floats[i] = float(qint8(b[0]));
        } else if (header->kind == 'i') {
            d.floats[i] = float(qint16(quint16(b[0] | (b[1] << 8))));
        } else if (size == 4) {
            quint32 bits = 0;
            for (int k = 3; k >= 0; --k)
                bits = (bits << 8) | b[k];
            std::memcpy(&d.floats[i], &bits, 4);
        } else {
            quint64 bits = 0;
            for (int k = 7; k >= 0; --k)
                bits = (bits << 8) | b[k];
            double v = 0;
            std::memcpy(&v, &bits, 8);
            d.floats[i] = float(v);
        }
    }
    return d;
}

// --- CSV row ------------------------------------------------------------------------------

std::optional<CsvNumberRow> parseCsvRow(const QByteArray &bytes, const QString &file, int row, ImportError *error)
{
    auto failAt = [&](int line, const QString &field, const QString &message) -> std::optional<CsvNumberRow> {
        if (error)
            *error = makeError(file, line, field, message);
        return std::nullopt;
    };
    if (row <= 0)
        row = 1;
    CsvRecordReader reader(bytes);
    QStringList header;
    int labelColumn = -1;
    QVector<bool> skip;
    bool first = true;
    int dataRows = 0;
    while (true) {
        const CsvRecordReader::Status status = reader.next();
        if (status == CsvRecordReader::Status::Error)
            return failAt(reader.line(), QString(), reader.errorMessage());
        if (status == CsvRecordReader::Status::End)
            break;
        const std::vector<std::string_view> &fields = reader.fields();
        if (first) {
            first = false;
            bool allNumbers = true;
            for (std::string_view f : fields) {
                const QString text = fieldText(f);
                if (!text.isEmpty() && !parseFloat32(f))
                    allNumbers = false;
            }
            if (!allNumbers) {
                for (std::string_view f : fields)
                    header << fieldText(f);
                skip.resize(header.size());
                for (int c = 0; c < header.size(); ++c) {
                    const QString name = header[c].toLower();
                    if (name == QLatin1String("label"))
                        labelColumn = c;
                    skip[c] = name == QLatin1String("label") || name == QLatin1String("split");
                }
                continue;
            }
        }
        ++dataRows;
        if (dataRows < row)
            continue;
        if (!header.isEmpty() && int(fields.size()) != header.size())
            return failAt(reader.line(), QString(), QStringLiteral("%1 cells, but the header has %2")
                                                        .arg(fields.size()).arg(header.size()));
        CsvNumberRow out;
        out.row = row;
        out.line = reader.line();
        for (int c = 0; c < int(fields.size()); ++c) {
            const QString column = header.isEmpty() ? QStringLiteral("column %1").arg(c + 1)
                                                    : messageExcerpt(header[c], 40);
            if (!header.isEmpty() && skip[c]) {
                if (c == labelColumn)
                    out.label = fieldText(fields[size_t(c)]);
                continue;
            }
            const QString text = fieldText(fields[size_t(c)]);
            if (text.isEmpty())
                return failAt(out.line, column, QStringLiteral("empty cell"));
            const std::optional<float> v = parseFloat32(fields[size_t(c)]);
            if (!v)
                return failAt(out.line, column, QStringLiteral("'%1' is not a number").arg(messageExcerpt(text, 40)));
            if (!std::isfinite(*v))
                return failAt(out.line, column, QStringLiteral("%1 is not a finite number").arg(messageExcerpt(text, 40)));
            out.values.append(*v);
            if (!header.isEmpty())
                out.columns << header[c];
        }
        if (out.values.isEmpty())
            return failAt(out.line, QString(), QStringLiteral("the row holds no numbers"));
        return out;
    }
    if (dataRows == 0)
        return failAt(0, QStringLiteral("row"), QStringLiteral("no data rows"));
    return failAt(0, QStringLiteral("row"), QStringLiteral("row %1 asked, but the file has %2 data rows").arg(row).arg(dataRows));
}

} // namespace tinyml::io
