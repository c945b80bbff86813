#include "io/MlperfImport.h"

#include "features/FeatureExtractor.h"
#include "io/MlperfDataset.h"
#include "model/QuantizationMath.h"

#include <QDateTime>
#include <QDir>

namespace tinyml::io {

namespace {

const QString kFormat = QStringLiteral("mlperf");

QString inputShapeText(const QVector<int> &shape)
{
    QStringList dims;
    for (int d : shape)
        dims << QString::number(d);
    return QStringLiteral("[%1]").arg(dims.join(QLatin1Char(',')));
}

} // namespace

std::optional<MlperfImportTarget> MlperfImportTarget::forGraph(const model::Graph &graph, const ProjectSettings &settings,
                                                               const QString &modelName, QString *error)
{
    auto failWith = [&](const QString &message) -> std::optional<MlperfImportTarget> {
        if (error)
            *error = QStringLiteral("%1: %2").arg(modelName, message);
        return std::nullopt;
    };
    MlperfImportTarget t;
    t.modelName = modelName;
    QString why;
    auto spec = ModelInputSpec::forGraph(graph, settings, &why);
    if (!spec)
        return failWith(why);
    if (!spec->int8)
        return failWith(QStringLiteral("a float model; MLPerf Tiny inputs are int8 bytes read with an int8 model's "
                                       "input scale and zero point (import or quantize an int8 model, or pick one "
                                       "with --model)"));
    t.input = *spec;
    const int out = graph.outputIndex();
    if (out < 0 || out >= graph.tensors.size() || graph.tensors[out].elementCount() <= 0)
        return failWith(QStringLiteral("the model has no output tensor"));
    t.outputs = int(graph.tensors[out].elementCount());
    t.modelHasLabelNames = graph.labels.size() == t.outputs;
    t.classNames = t.modelHasLabelNames ? graph.labels : mlperfClassNames(t.outputs);
    return t;
}

QStringList mlperfClassNames(int classes)
{
    const int width = std::max(2, int(QString::number(std::max(0, classes - 1)).size()));
    QStringList names;
    for (int c = 0; c < classes; ++c)
        names << QStringLiteral("class_%1").arg(c, width, 10, QLatin1Char('0'));
    return names;
}

FileImportResult importMlperfFolder(const QString &dir, const MlperfImportTarget &target, const ImportOptions &options)
{
    const QString labelsPath = QDir(dir).filePath(QLatin1String(MlperfDataset::kLabelsFile));
    auto refuse = [&](const ImportError &e) {
        FileImportResult r;
        r.file = dir;
        r.format = kFormat;
        r.error = e;
        return r;
    };
    auto refuseRow = [&](int line, const QString &field, const QString &message) {
        return refuse(ImportError{labelsPath, line, field, message});
    };
    ImportError openError;
    // Sizes are checked below, with the model named in the message.
    auto dataset = MlperfDataset::open(dir, 0, &openError);
    if (!dataset)
        return refuse(openError);

    const ModelInputSpec &spec = target.input;
    const model::QuantParams quant{spec.scale, spec.zeroPoint};
    const bool normalised = spec.normMean.size() == spec.elements && spec.normStd.size() == spec.elements;
    QStringList channels;
    for (qint64 k = 0; k < spec.elements; ++k)
        channels << QStringLiteral("input_%1").arg(k);
    features::FeatureExtractor extractor(spec.features);
    const QDateTime now = QDateTime::currentDateTimeUtc();

    QVector<Sample> samples;
    for (int i = 0; i < dataset->size(); ++i) {
        const MlperfSample &row = dataset->samples().at(i);
        if (row.bytesToSend > 0)
            return refuseRow(row.line, QStringLiteral("bytes_to_send"),
                             QStringLiteral("windowed rows (bytes_to_send, stride: ad01) are not supported by import "
                                            "yet; use tinyml mlperf --dataset"));
        if (row.classes != target.outputs)
            return refuseRow(row.line, QStringLiteral("classes"),
                             QStringLiteral("%1 classes, but %2 has %3 outputs")
                                 .arg(row.classes).arg(target.modelName).arg(target.outputs));
        if (row.label < 0 || row.label >= target.classNames.size())
            return refuseRow(row.line, QStringLiteral("class"),
                             QStringLiteral("%1 is not a class index from 0 to %2")
                                 .arg(row.label).arg(target.classNames.size() - 1));
        ImportError readError;
        auto inputs = dataset->inputs(i, &readError);
        if (!inputs)
            return refuse(readError);
        const QByteArray bytes = inputs->first();
        if (bytes.size() != spec.elements)
            return refuseRow(row.line, QStringLiteral("file"),
                             QStringLiteral("'%1' has %2 bytes, but the input of %3 (%4 int8) has %5 bytes")
                                 .arg(row.file).arg(bytes.size()).arg(target.modelName, inputShapeText(spec.shape))
                                 .arg(spec.elements));
        QVector<float> values(bytes.size());
        for (int k = 0; k < bytes.size(); ++k) {
            float v = model::dequantizeValue(qint8(bytes[k]), quant);
            if (normalised)
                v = v * spec.normStd[k] + spec.normMean[k];
            values[k] = v;
        }
        Sample s;
        s.label = target.classNames.at(row.label);
        s.split = options.split.value_or(Split::Train);
        s.source = QDir(dir).filePath(row.file);
        s.created = now;
        s.channels = channels;
        s.data = Tensor::fromFloats(values, {spec.elements});

        // The chain the profiler runs (feature block, normalisation, quantizeInput) must give the
        // file's bytes back.
        QString why;
        auto features = extractor.extract(s, &why);
        if (!features)
            return refuseRow(row.line, QStringLiteral("file"),
                             QStringLiteral("'%1': the project's feature block refuses it: %2").arg(row.file, why));
        if (features->elementCount() != spec.elements)
            return refuseRow(row.line, QStringLiteral("file"),
                             QStringLiteral("'%1': the project's feature block (%2) gives %3 values for %4 input bytes; "
                                            "MLPerf inputs need the raw block without windowing")
                                 .arg(row.file, features::blockKindName(spec.features.kind))
                                 .arg(features->elementCount()).arg(spec.elements));
        const float *f = features->floatData();
        for (int k = 0; k < bytes.size(); ++k) {
            float x = f[k];
            if (normalised)
                x = (x - spec.normMean[k]) / spec.normStd[k];
            const qint8 back = model::quantizeValue(x, quant);
            if (back != qint8(bytes[k]))
                return refuseRow(row.line, QStringLiteral("file"),
                                 QStringLiteral("'%1': byte %2 (%3) would reach the device as %4 through the project's "
                                                "feature block (%5) and %6's input quantization; MLPerf inputs need "
                                                "the raw block with scale 1 and no mean removal")
                                     .arg(row.file).arg(k).arg(int(qint8(bytes[k]))).arg(int(back))
                                     .arg(features::blockKindName(spec.features.kind), target.modelName));
        }
        samples.append(std::move(s));
    }
    FileImportResult r;
    r.file = dir;
    r.format = kFormat;
    r.samples = std::move(samples);
    return r;
}

std::optional<QStringList> mlperfProjectLabels(const QStringList &projectLabels, const MlperfImportTarget &target,
                                               QString *error)
{
    const QStringList &names = target.classNames;
    if (target.modelHasLabelNames) {
        QStringList out = projectLabels;
        for (const QString &n : names)
            if (!out.contains(n))
                out << n;
        return out;
    }
    const int common = int(std::min(projectLabels.size(), names.size()));
    for (int i = 0; i < common; ++i) {
        if (projectLabels[i] != names[i]) {
            if (error)
                *error = QStringLiteral(
                             "%1 has no label names, so the profiler scores it by label index, but the project's "
                             "label %2 is '%3', not '%4' (class %2): import into a project without labels, or "
                             "create the project with --labels in the model's class order before import-model")
                             .arg(target.modelName).arg(i).arg(projectLabels[i], names[i]);
            return std::nullopt;
        }
    }
    QStringList out = names;
    for (int i = int(names.size()); i < projectLabels.size(); ++i)
        out << projectLabels[i];
    return out;
}

} // namespace tinyml::io
