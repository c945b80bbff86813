#pragma once
// Short-time Fourier transform for the audio preview (display only: no widgets here).
// A DSP front-end in core will compute the features that training uses; this is a
// picture of the sound, not a feature extractor.

#include <QVector>

namespace tinyml::ui {

struct Spectrogram {
    int frames = 0;              ///< time steps
    int bins = 0;                ///< fftSize / 2 + 1, 0 Hz .. Nyquist
    double hopSeconds = 0;       ///< time between frames
    double binHz = 0;            ///< frequency between bins
    QVector<float> powerDb;      ///< [frames][bins], 10 log10(|X|^2 / N), floor -120 dB
    float at(int frame, int bin) const { return powerDb[frame * bins + bin]; }
};

/// Hann-windowed STFT of `count` samples. fftSize must be a power of two.
Spectrogram computeSpectrogram(const float *samples, int count, double sampleRateHz,
                               int fftSize = 256, int hop = 128);

} // namespace tinyml::ui
