#pragma once
// Host replay of an impulse: the device's own C pipeline (firmware-agent/impulse, tm_impulse.h:
// DSP block, normalisation, int8 model, post-processing) run over a recording on the host, so
// its decisions equal the device's window for window, bit for bit.
//
// Windows follow PROTOCOL.md "Continuous classification": frames are numbered from 0, the k-th
// window ends at window_end = window + k * stride (one past its last frame) and holds frames
// [window_end - window, window_end); a window is computed when window_end <= the recording's
// frame count. The windows run on several threads (each with its own arena and work buffer;
// the model and impulse are read-only); the post-processing is sequential, in window order,
// afterwards, because each decision depends on the ones before it.
//
// Calibration re-runs only the post-processing over the stored raw scores (rerunPost).
//
// Threading: load() and run() on one thread at a time per object; run() starts and joins its
// own worker threads; progress is called on the calling thread.

#include "ImpulseSpec.h"

#include <QByteArray>
#include <QString>
#include <QVector>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>

namespace tinyml::deploy {

/// flags of a decision (tm_impulse.h TM_IMPULSE_DETECTION / SUPPRESSED / BACKGROUND).
enum ImpulseDecisionFlag : quint8 {
    kDecisionDetection = 0x01,
    kDecisionSuppressed = 0x02,
    kDecisionBackground = 0x04,
};
/// decision value of a window below its class threshold (TM_IMPULSE_UNCERTAIN).
constexpr int kDecisionUncertain = 0xFF;

struct ImpulseDecision {
    int topClass = 0;            ///< argmax of the averaged scores
    int decision = kDecisionUncertain; ///< topClass, or kDecisionUncertain
    quint8 flags = 0;            ///< ImpulseDecisionFlag bits
    float score = 0;             ///< averaged, dequantized score of topClass
    bool operator==(const ImpulseDecision &o) const
    {
        return topClass == o.topClass && decision == o.decision && flags == o.flags && score == o.score;
    }
};

/// The windows' raw model outputs: windowEnds[i] and classCount int8 scores per window.
struct ReplayScores {
    int classCount = 0;
    QVector<quint64> windowEnds;
    QVector<qint8> scores;       ///< windows x classCount, window-major
    int windows() const { return int(windowEnds.size()); }
    const qint8 *window(int i) const { return scores.constData() + qint64(i) * classCount; }
};

/// What tm_impulse_post_step needs besides the scores: the post-processing parameters and the
/// model output's quantization, the rate that turns suppression ms into samples.
struct PostConfig {
    ImpulsePost post;
    float outScale = 1.0f;
    int outZeroPoint = 0;
    quint32 sampleRateHz = 1;
};

/// One decision per window of scores, by tm_impulse_post_step from a reset state.
/// Returns an empty vector (and the reason) when the parameters are invalid.
QVector<ImpulseDecision> rerunPost(const ReplayScores &scores, const PostConfig &config, QString *error = nullptr);

struct ReplayOptions {
    int threads = 2;                              ///< worker threads for the windows (>= 1)
    const std::atomic<bool> *cancel = nullptr;    ///< set: run() stops and returns nullopt
    /// Called on the calling thread about every 1 % of the windows: (done, total).
    std::function<void(qint64, qint64)> progress;
};

struct ReplayResult {
    ReplayScores scores;
    QVector<ImpulseDecision> decisions;           ///< one per window, the package's post-processing
    /// With an anomaly model in the package (impulse_version 2): its int8 score per window and
    /// the alarm (tm_impulse_anomaly_alarm); empty otherwise.
    QVector<qint8> anomalyScores;
    QVector<bool> anomalyAlarms;
};

class ImpulseReplay
{
public:
    ImpulseReplay();
    ~ImpulseReplay();
    ImpulseReplay(const ImpulseReplay &) = delete;
    ImpulseReplay &operator=(const ImpulseReplay &) = delete;

    /// Loads a version-2 package with tm_model_load + tm_impulse_load (the device's checks;
    /// a copy of the bytes is kept 16-byte aligned). Errors name the failed check.
    bool load(const QByteArray &package, QString *error);
    bool isLoaded() const;

    /// The impulse as the package says (read by ModelPackageReader).
    const ImpulseSpec &spec() const;
    /// The package's own post-processing with the model's output quantization.
    PostConfig postConfig() const;

    /// Runs every full window of an int16 recording, `channels` values per frame interleaved
    /// (channels must be the impulse's). nullopt with the reason on a C error, a channel
    /// mismatch or cancellation ("cancelled").
    std::optional<ReplayResult> run(const qint16 *samples, qint64 frames, int channels,
                                    const ReplayOptions &options, QString *error) const;
    std::optional<ReplayResult> run(const QVector<qint16> &interleaved, int channels,
                                    const ReplayOptions &options, QString *error) const
    {
        return run(interleaved.constData(), channels > 0 ? interleaved.size() / channels : 0, channels, options, error);
    }

    /// The anomaly model's int8 score dequantized with its output quantization (0 without one).
    float anomalyScore(qint8 q) const;
    /// Windows a recording of `frames` frames gives: 0 when shorter than one window, else
    /// 1 + (frames - window) / stride.
    qint64 windowCount(qint64 frames) const;
    /// tm_impulse_work_bytes(): the work buffer one window needs (0 when not loaded).
    qint64 workBytes() const;
    /// tm_impulse_arena_bytes(): arena plus kernel scratch on this build's kernels (the larger
    /// of the two models' when the package carries an anomaly model).
    qint64 arenaBytes() const;

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace tinyml::deploy
