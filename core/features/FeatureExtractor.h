#pragma once
// Turns one sample into a float feature tensor through the firmware's DSP blocks
// (firmware-agent/dsp, tm_dsp_*), so training sees exactly what the device computes.
//
// Threading: a FeatureExtractor holds scratch memory; use one per thread.

#include "features/FeatureParams.h"

#include <QString>
#include <QVector>

#include <optional>

namespace tinyml::features {

class FeatureExtractor
{
public:
    explicit FeatureExtractor(FeatureParams params);
    const FeatureParams &params() const { return m_params; }

    /// Shape of the features of a sample with `frames` frames of `channels` axes (a time
    /// series; frames matters only for a raw block with windowFrames = 0; images ignore both).
    /// Errors for parameters the DSP block rejects.
    std::optional<QVector<qint64>> outputShape(qint64 frames, int channels, QString *error) const;

    /// Sample data of rank 1 ([F], a tabular row) is taken as one frame of F channels; rank 2
    /// is [frames, channels]; images are [H, W, C]. mfe/mfcc read the first channel only and
    /// refuse samples whose rate differs from the block's (no resampling).

    /// Float32 tensor of outputShape(). The sample is windowed first (see FeatureParams.h).
    std::optional<Tensor> extract(const Sample &sample, QString *error);

private:
    FeatureParams m_params;
    QVector<float> m_scratch;   ///< 4-byte aligned DSP scratch, grown on demand
    QVector<float> m_window;
};

} // namespace tinyml::features
