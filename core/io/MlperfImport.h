#pragma once
// `tinyml import PROJECT DIR --format mlperf`: an MLPerf Tiny data set folder (MlperfDataset.h:
// y_labels.csv and one raw int8 input file per sample) becomes samples of a tabular project whose
// values are the chosen int8 model's input itself, so that `profile` measures on-device accuracy
// on exactly the runner's inputs.
//
// Design: a sample stores float32 values v_k = scale * (q_k - zeroPoint) (times the model's
// input_normalization std plus its mean, when it has one), for the model's input scale and zero
// point. The profiler turns a tabular row into device input by the project's feature block, the
// model's normalisation and Int8Executor::quantizeInput; for every byte q that chain gives q back
// (|v / scale| is within a few ulps of an integer, and rounding restores it). Storing the raw
// bytes as an int8 tensor instead would need a second input path through features, training,
// the profiler and the C-library export; dequantized rows reuse all of them unchanged.
// The round trip is not assumed: every value of every file is run through that same chain
// (FeatureExtractor, normalisation, quantizeValue) at import, and a row whose bytes would not
// reach the device unchanged (a feature block other than raw with scale 1, say) is refused.
//
// Labels: the model's label names (graph.labels, index = `class`) when it has one per output,
// else class_00, class_01 ... whose sorted order is the class order. A model without names is
// scored by the profiler with the project's label index as its class index, so then the project's
// labels must list the class names in class order (mlperfProjectLabels).
//
// Windowed rows (ad01's bytes_to_send, stride) are refused for now: a window is one inference,
// not one sample; `tinyml mlperf --dataset` runs them.
//
// Every error names y_labels.csv, the 1-based line and the field; a folder imports whole or not
// at all. Threading: plain functions, reentrant.

#include "io/ImportResult.h"
#include "io/ModelInput.h"
#include "model/Graph.h"
#include "store/ProjectStore.h"

#include <QString>
#include <QStringList>

#include <optional>

namespace tinyml::io {

/// The model a data set is imported for: its input and its classes.
struct MlperfImportTarget {
    QString modelName;        ///< for messages, e.g. "model 2 (kws_ref_model.tflite)"
    ModelInputSpec input;     ///< int8, with the feature block and normalisation it is read through
    int outputs = 0;          ///< element count of the graph's output
    QStringList classNames;   ///< `outputs` names, index = class
    bool modelHasLabelNames = false;

    /// Refuses float graphs (MLPerf Tiny inputs are int8 bytes) and graphs without an output.
    static std::optional<MlperfImportTarget> forGraph(const model::Graph &graph, const ProjectSettings &settings,
                                                      const QString &modelName, QString *error);
};

/// class_00 .. class_{n-1}, zero-padded to at least two digits so that sorted order is index order.
QStringList mlperfClassNames(int classes);

/// Reads dir as an MLPerf Tiny data set for target: one Sample per row, float32 [elements],
/// label target.classNames[class], split options.split (default train). format is "mlperf";
/// result.file is dir; errors name dir/y_labels.csv, the line and the field (file, classes,
/// bytes_to_send).
FileImportResult importMlperfFolder(const QString &dir, const MlperfImportTarget &target, const ImportOptions &options);

/// The project's labels after the import: projectLabels with the class names added. A model
/// with label names is scored by name, so new names are appended in class order. A model
/// without names is scored by index: label i of the project must then be class i, so the
/// project's labels must be empty or begin with the class names (a prefix of them is
/// completed); anything else is refused with the reason.
std::optional<QStringList> mlperfProjectLabels(const QStringList &projectLabels, const MlperfImportTarget &target,
                                               QString *error);

} // namespace tinyml::io
