#pragma once
// The impulse as plain data: what a product runs continuously on the device (sensor and
// channels, window and stride, the DSP block, normalisation, post-processing). It is written
// into a version-2 model package (deploy/MODEL_PACKAGE.md, "Version 2: the impulse") by
// ModelPackageWriter, read back by ModelPackageReader, and run by the C code of
// firmware-agent/impulse (tm_impulse.h) on the device and in ImpulseReplay on the host.
//
// The project keeps the user's choices (stride, the calibrated operating point) in
// ProjectSettings::extra["impulse"] as ImpulseOptions; impulseSpecFor() combines them with
// the model's own feature parameters and normalisation (graph meta, as the Profiler reads
// them) and the board's sensor.
//
// Threading: plain data and functions.

#include "features/FeatureParams.h"
#include "model/Graph.h"
#include "store/ProjectStore.h"

#include <QHash>
#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <QVector>

#include <optional>

namespace tinyml {
struct DeviceSensorInfo;
}

namespace tinyml::deploy {

/// INFO SENSOR kinds (tm_sensor_kind_t); persisted in the impulse section.
enum class ImpulseSensorKind : int { Accelerometer = 0, Microphone = 1 };

/// Raw sensor scale (physical = raw int16 x scale) of the agent's simulated sensors
/// (firmware-agent/include/tm_sensor.h), used when the board's agent has not told us.
constexpr float kDefaultAccelRawScale = 0.002f;
constexpr float kDefaultMicRawScale = 1.0f / 32768.0f;

/// Post-processing (tm_impulse_post_step): averaging of the int8 scores over the last
/// averageWindows windows, per-class thresholds (below: "uncertain"), suppression of a second
/// detection of a class within suppressionMs, background classes (never a detection).
struct ImpulsePost {
    int averageWindows = 1;          ///< 1..32
    quint32 suppressionMs = 0;
    QVector<float> thresholds;       ///< one per class, each in [0, 1]
    QVector<bool> background;        ///< one per class

    bool operator==(const ImpulsePost &o) const
    {
        return averageWindows == o.averageWindows && suppressionMs == o.suppressionMs &&
               thresholds == o.thresholds && background == o.background;
    }
};

/// A second model run on the same window's DSP features after the classifier: an anomaly model
/// (k-means, GMM or autoencoder score, graph meta "threshold"), carried as a version-1 package
/// inside a version-2 impulse section (MODEL_PACKAGE.md "Impulse section, version 2"). It has
/// its own normalisation (trained on the normal labels only) and input quantization; the
/// device reports its int8 score and an alarm (dequantized score > threshold) per window.
struct ImpulseAnomaly {
    QByteArray package;              ///< the anomaly model's version-1 package
    float threshold = 0;             ///< in the score's float unit (graph meta "threshold")
    QVector<float> normMean, normStd; ///< empty: none; else featureCount() each
    bool operator==(const ImpulseAnomaly &o) const
    {
        return package == o.package && threshold == o.threshold && normMean == o.normMean && normStd == o.normStd;
    }
};

struct ImpulseSpec {
    ImpulseSensorKind sensorKind = ImpulseSensorKind::Accelerometer;
    int channels = 1;                ///< 1..3
    quint32 sampleRateHz = 0;
    quint32 windowFrames = 0;        ///< frames per window (= the block's windowFrames)
    quint32 strideFrames = 0;        ///< frames between window ends, 1..windowFrames
    float rawScale = 1.0f;           ///< physical = raw int16 x rawScale
    /// The DSP block: raw, spectral, mfe or mfcc. Its windowFrames equals windowFrames and
    /// its sampleRateHz (spectral, mfe, mfcc) equals sampleRateHz.
    features::FeatureParams features;
    QVector<float> normMean, normStd; ///< empty: no normalisation; else featureCount() each
    ImpulsePost post;
    QStringList labels;              ///< the model's labels (in the package's labels section)
    /// Set: the section is impulse_version 2 and carries this anomaly model (not in toJson()).
    std::optional<ImpulseAnomaly> anomaly;

    /// Values the DSP block produces for one window (tm_dsp_*_output_size); 0 when the block
    /// refuses its parameters.
    qint64 featureCount() const;
    int classCount() const { return int(labels.size()); }
    /// Empty when the spec can go into a package whose model takes modelInputs values and
    /// gives modelOutputs scores (-1: not checked); otherwise the first problem, naming the
    /// field ("impulse.stride_frames: ..."). The rules are MODEL_PACKAGE.md's.
    QString validate(qint64 modelInputs = -1, qint64 modelOutputs = -1) const;

    /// Full round trip: {"sensor_kind", "channels", "sample_rate_hz", "window_frames",
    /// "stride_frames", "raw_scale", "features" (FeatureParams::toJson), "normalization"
    /// {"mean", "std"}, "post" {"average_windows", "suppression_ms", "thresholds",
    /// "background"}, "labels"}.
    QJsonObject toJson() const;
    static std::optional<ImpulseSpec> fromJson(const QJsonObject &json, QString *error);

    bool operator==(const ImpulseSpec &o) const;
};

/// The anomaly part for running `anomaly` (quantized) after the classifier `classifier` on the
/// same features. Refused, naming both models: a second model that is not an anomaly model
/// (its last op is no KMeansScore / GmmScore / SquaredError with one output value, or it has
/// no "threshold" in its meta), an input size other than the classifier's, or other feature
/// parameters (graph meta "features"). names: how errors call the two models ("model 3").
std::optional<ImpulseAnomaly> impulseAnomalyFor(const model::Graph &classifier, const QString &classifierName,
                                                const model::Graph &anomaly, const QString &anomalyName,
                                                QString *error);

/// True for labels that name "nothing happening": idle, noise, background, silence, unknown,
/// with an optional leading underscore ("_noise", "_unknown"), compared case-insensitively.
/// They become background classes by default: never a detection, never a false activation.
bool isBackgroundLabel(const QString &label);

/// The user's impulse choices, kept in ProjectSettings::extra["impulse"]. Every field is
/// optional: an unset field takes impulseSpecFor()'s default.
struct ImpulseOptions {
    std::optional<quint32> strideFrames;
    std::optional<int> averageWindows;
    std::optional<quint32> suppressionMs;
    std::optional<float> threshold;           ///< every class
    QHash<QString, float> classThresholds;     ///< per label, over `threshold`
    std::optional<QStringList> backgroundLabels; ///< replaces the naming rule

    /// {"stride_frames", "average_windows", "suppression_ms", "threshold",
    ///  "class_thresholds" {label: t}, "background_labels" [...]}: only the set fields.
    QJsonObject toJson() const;
    static std::optional<ImpulseOptions> fromJson(const QJsonObject &json, QString *error);
    /// Fields set in `over` replace this one's.
    ImpulseOptions mergedWith(const ImpulseOptions &over) const;
};

/// extra["impulse"] of the settings (empty options when absent; an invalid entry is an error).
std::optional<ImpulseOptions> impulseOptions(const ProjectSettings &settings, QString *error);
/// Writes options.toJson() to settings.extra["impulse"] (store it with setSettings()).
void setImpulseOptions(ProjectSettings &settings, const ImpulseOptions &options);

/// The sensor the impulse reads, as far as it is known. Unset fields are derived from the
/// model and the project (see impulseSpecFor).
struct ImpulseSensor {
    std::optional<ImpulseSensorKind> kind;
    int channels = 0;                ///< 0: from the model's input size
    double rateHz = 0;               ///< used when neither the block nor the project has one
    float rawScale = 0;              ///< 0: kDefaultAccelRawScale / kDefaultMicRawScale
    /// From the agent's INFO SENSOR record (kind, channels, default rate, scale).
    static ImpulseSensor fromDevice(const DeviceSensorInfo &sensor);
};

/// Builds the impulse of a trained model:
///  - the feature block and normalisation from the graph meta "features" and
///    "input_normalization", as the Profiler reads them (the project's feature parameters
///    when the meta has none); image blocks and a windowFrames of 0 are refused;
///  - window = the block's windowFrames; stride = options.strideFrames, else window / 4
///    (window / 2 for the audio blocks mfe and mfcc)
///    (at least 1);
///  - sample rate: the mfe/mfcc block's rate; spectral: its rate, else the project's, else
///    the sensor's; raw: the project's, else the sensor's (a whole number of Hz);
///  - sensor kind: sensor.kind, else microphone for mfe/mfcc and the audio template,
///    accelerometer otherwise; channels: mfe/mfcc read 1 channel (the sensor's first), raw
///    and spectral take the model's input size / the block's values per channel;
///  - raw scale: sensor.rawScale, else the simulated sensors' defaults;
///  - post: average options.averageWindows (1), threshold 0.6 for every class (options
///    override, per class too), suppression = the window's duration in ms (rounded), and
///    background classes = labels isBackgroundLabel() accepts (or options.backgroundLabels).
/// Errors name what is missing ("model 3: the mfcc block has windowFrames 0 ...").
std::optional<ImpulseSpec> impulseSpecFor(const model::Graph &graph, const ProjectSettings &settings,
                                          const ImpulseSensor &sensor, const ImpulseOptions &options,
                                          QString *error);

} // namespace tinyml::deploy
