#pragma once
// Feature block parameters: which tm_dsp_* block turns a sample into model input, and how.
// Kept in the project as JSON under ProjectSettings::extra["features"]; hash() keys the
// feature cache in the project store, so any change of a parameter recomputes features.

#include "store/ProjectStore.h"

#include <QJsonObject>
#include <QString>
#include <QVector>

#include <optional>

namespace tinyml::features {

/// Persisted by name ("raw", "spectral", "mfe", "mfcc", "image"); append-only.
enum class BlockKind : int { Raw = 0, Spectral = 1, Mfe = 2, Mfcc = 3, Image = 4 };
QString blockKindName(BlockKind kind);
std::optional<BlockKind> blockKindFromName(const QString &name);

// Windowing (every time-series block): a sample longer than windowFrames is cut to its first
// windowFrames frames; a shorter one is zero-padded at the end. windowFrames = 0 takes each
// sample as it is (all samples must then have the same shape).

/// tm_dsp_raw. Output [1, T * C] (flat, dense models and tabular rows) or, with
/// asSequence, [1, 1, T, C] (a 1-D CNN over time: H = 1, W = time).
/// Tabular rows (data shape [F]) are treated as one frame of F channels.
struct RawParams {
    int windowFrames = 0;
    bool removeMean = false;
    float scale = 1.0f;
    bool asSequence = false;
};

/// tm_dsp_spectral (motion). Output [1, C * (3 + nBands + 2 * nPeaks)]: per axis RMS, mean,
/// std, band powers, (frequency, power) of the top nPeaks peaks.
struct SpectralParams {
    int windowFrames = 0;          ///< 0: the whole sample (defaultsFor sets the project's length)
    float sampleRateHz = 0;        ///< 0: the sample's own rate
    int nBands = 4;
    QVector<float> bandEdgesHz;    ///< empty: nBands equal-width bands 0..fs/2; else nBands+1
    int nPeaks = 3;
};

/// tm_dsp_mfe (audio, first channel). Output [1, frames, nFilters, 1],
/// frames = 1 + (windowFrames - frameLength) / frameStride.
struct MfeParams {
    int windowFrames = 16000;      ///< samples of audio fed to the block (1 s at 16 kHz)
    float sampleRateHz = 16000;
    int frameLength = 640;         ///< 40 ms
    int frameStride = 320;         ///< 20 ms -> 49 frames per second
    int nFilters = 40;
    float lowHz = 20;
    float highHz = 0;              ///< 0: Nyquist
    float preEmphasis = 0.97f;
    float logFloor = 1e-10f;
};

/// tm_dsp_mfcc. Output [1, frames, nCoeffs, 1].
struct MfccParams {
    MfeParams mfe;
    int nCoeffs = 10;
    int lifter = 0;
};

/// tm_dsp_image. Input samples [H, W, C] uint8 (float samples are taken as 0..255).
/// Output [1, height, width, channels], values in [0, 1].
struct ImageParams {
    int width = 32;
    int height = 32;
    int channels = 1;              ///< 1 grey, 3 RGB
    bool bilinear = true;          ///< false: nearest neighbour
};

struct FeatureParams {
    BlockKind kind = BlockKind::Raw;
    RawParams raw;
    SpectralParams spectral;
    MfeParams mfe;
    MfccParams mfcc;
    ImageParams image;

    /// {"block": "<name>", "<name>": {...}} with only the active block's parameters.
    QJsonObject toJson() const;
    static std::optional<FeatureParams> fromJson(const QJsonObject &json, QString *error);
    /// Hex SHA-256 of the canonical JSON of the active block (and a feature code version):
    /// the cache key.
    QString hash() const;

    /// Defaults per project template: motion -> spectral, audio -> mfcc (49 x 10 from 1 s
    /// at 16 kHz), image -> 32 x 32 grey, tabular (and anything else) -> raw as given.
    /// Sample rate and window length come from the settings when they are set.
    static FeatureParams defaultsFor(const ProjectSettings &settings);
};

/// The project's feature parameters: extra["features"] when present and valid, else
/// FeatureParams::defaultsFor(settings).
FeatureParams featureParams(const ProjectSettings &settings);
/// Writes params.toJson() to settings.extra["features"] (store it with setSettings()).
void setFeatureParams(ProjectSettings &settings, const FeatureParams &params);

} // namespace tinyml::features
