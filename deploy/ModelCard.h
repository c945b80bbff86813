#pragma once
// Model card (issue 17): what the project knows about one stored model, collected from the
// project store into plain data and rendered as Markdown or as a self-contained HTML page.
//
// Every figure carries where it came from (host float / int8 evaluation, a stored profile on
// a named board at a date, estimated cycles with their cycle model, energy estimated from
// the board's power model). A fact the project does not hold is rendered "not measured",
// "not recorded" or "not stated" with the reason, never filled in. Timings of virtual boards
// are QEMU instruction counts or the host agent's wall clock, and the card says so.
//
// The user's own text (intended use, known limits) lives in
// ProjectSettings::extra["model_card"] = {"intended_use": "...", "known_limits": "..."}.
//
// Threading: plain data and functions; collectModelCard() reads the store on the caller's
// thread (see ProjectStore's threading contract).

#include "store/ProjectStore.h"

#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <QVector>

#include <optional>

namespace tinyml {
class BoardRegistry;
}

namespace tinyml::deploy {

/// A number with its origin. value empty: not measured, and missing says why.
struct CardFigure {
    std::optional<double> value;
    QString source;               ///< "host int8 evaluation (Int8Executor) of model 4, 12 test samples"
    QString missing;              ///< "not measured: ..."
};

struct CardLabelRow {
    QString label;
    int train = 0;
    int test = 0;
    int incomplete = 0;
};

/// Samples grouped by where they came from.
struct CardSourceRow {
    QString kind;                 ///< "simulated", "device capture", "imported file"
    QString origin;               ///< "virtual board qemu-m4", "device nucleo-l4r5zi", "file (device not recorded)"
    int samples = 0;
};

struct CardClassMetrics {
    QString label;
    double precision = 0;
    double recall = 0;
    double f1 = 0;
    int support = 0;
};

/// One stored profile of the model (the newest), as the card states it.
struct CardProfile {
    qint64 id = 0;
    QString board;
    QString boardName;
    bool virtualBoard = false;    ///< a board of the registry marked "virtual" (QEMU, host agent)
    QString created;              ///< ISO 8601 UTC
    QString counter;              ///< "instructions", "microseconds", "cycles"
    QString timing;               ///< what the counter is on this board, in words
    QString method;               ///< the profile's own method text
    double latencyMinMs = 0;
    double latencyMedianMs = 0;
    double latencyMaxMs = 0;
    int runs = 0;
    quint64 clockHz = 0;
    QString cycles;               ///< estimated cycles with their model, empty when none
    QString cyclesUnavailable;
    QString onTarget;             ///< estimated latency on a target part, empty when none
    qint64 arenaBytes = 0;
    qint64 packageBytes = 0;
    qint64 flashBytes = 0;
    qint64 runtimeBytes = 0;
    QString runtimeSource;
    double energyUj = 0;
    bool energyEstimated = true;
    QString energySource;
    int outputsCompared = 0;
    int bitexactOutputs = 0;
};

/// A signed package of the model found next to the project (filled in by the caller: the
/// card's collector does not read key folders or package files).
struct CardSignature {
    QString file;
    QString keyId;
    quint32 version = 0;
    QString check;                ///< "signature verified with the public key of the key folder", ...
};

struct ModelCard {
    QString generatedUtc;
    QString projectName;
    QString projectPath;
    QString templateName;
    QString boardId;

    qint64 modelId = 0;
    QString modelName;
    QString modelKind;            ///< "float" | "int8"
    QString modelCreated;
    qint64 trainingRunId = 0;
    qint64 floatModelId = 0;      ///< int8 models: the float model they were quantized from
    bool imported = false;
    QString task;                 ///< "classification" | "anomaly"

    QString intendedUse;          ///< the user's text; empty: not stated
    QString userLimits;           ///< the user's text; empty: none

    // data
    QVector<CardLabelRow> labels; ///< from the store's counts (complete samples per split)
    int train = 0;
    int test = 0;
    int incomplete = 0;
    QVector<CardSourceRow> sources;
    QStringList sensors;          ///< "accel: x, y, z (m/s2) at 50 Hz"
    QStringList modelLabels;      ///< the model's output labels

    // preprocessing
    QString featureBlock;         ///< "spectral", ... empty: not recorded in the model
    QStringList featureParams;    ///< "windowFrames = 100", ...
    QString normalization;
    QStringList impulse;          ///< the project's impulse settings (post-processing), key = value
    QStringList operatingPoint;   ///< anomaly models: threshold and its rule

    // architecture
    QString architecture;         ///< "mlp", "dscnn", "kmeans", ... or "not recorded"
    QString inputShape;
    int outputs = 0;
    QStringList layers;           ///< "fully_connected x 3", in first-use order
    qint64 parameters = 0;
    qint64 macs = 0;
    qint64 weightBytes = 0;
    QStringList quantization;     ///< calibration, QAT, ...

    // quality
    CardFigure floatAccuracy;
    CardFigure int8Accuracy;
    CardFigure deviceAccuracy;
    CardFigure floatAuc;          ///< anomaly models
    CardFigure int8Auc;
    CardFigure tpr;
    CardFigure fpr;
    QVector<CardClassMetrics> perClass;
    QString perClassSource;       ///< empty with perClass empty: not measured

    // performance
    std::optional<CardProfile> profile;
    int profileCount = 0;
    QString profileMissing;       ///< why there is no profile

    QStringList limits;           ///< derived from the facts above (the user's text is userLimits)

    QVector<CardSignature> signatures;
    QString signatureNote;        ///< why there is none / where it looked

    /// The facts as JSON (what `tinyml model-card --json` prints): numbers as stored.
    QJsonObject toJson() const;
    QString toMarkdown() const;
    /// One HTML page: inline style, no scripts, no external resources, every text escaped.
    QString toHtml() const;
};

/// Collects the card of model modelId (default: the newest int8 model, else the newest float
/// model). boards (may be null) tells virtual boards from real ones and names them. nullopt
/// with *error when the project has no model or modelId does not exist.
std::optional<ModelCard> collectModelCard(const ProjectStore &store, std::optional<qint64> modelId,
                                          const BoardRegistry *boards, QString *error);

/// The user's text kept in settings.extra["model_card"]; empty when none.
QString intendedUse(const ProjectSettings &settings);
void setIntendedUse(ProjectSettings &settings, const QString &text);
QString knownLimitsText(const ProjectSettings &settings);
void setKnownLimitsText(ProjectSettings &settings, const QString &text);

} // namespace tinyml::deploy
