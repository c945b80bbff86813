#include "plots/Spectrogram.h"

#include <cmath>
#include <complex>
#include <vector>

namespace tinyml::ui {

namespace {

void fftInPlace(std::vector<std::complex<float>> &a)
{
    const size_t n = a.size();
    for (size_t i = 1, j = 0; i < n; ++i) {
        size_t bit = n >> 1;
        for (; j & bit; bit >>= 1)
            j ^= bit;
        j ^= bit;
        if (i < j)
            std::swap(a[i], a[j]);
    }
    for (size_t len = 2; len <= n; len <<= 1) {
        const double angle = -2.0 * M_PI / double(len);
        const std::complex<float> wlen(float(std::cos(angle)), float(std::sin(angle)));
        for (size_t i = 0; i < n; i += len) {
            std::complex<float> w(1.0f, 0.0f);
            for (size_t k = 0; k < len / 2; ++k) {
                const std::complex<float> u = a[i + k];
                const std::complex<float> v = a[i + k + len / 2] * w;
                a[i + k] = u + v;
                a[i + k + len / 2] = u - v;
                w *= wlen;
            }
        }
    }
}

} // namespace

Spectrogram computeSpectrogram(const float *samples, int count, double sampleRateHz, int fftSize, int hop)
{
    Spectrogram s;
    if (fftSize < 2 || (fftSize & (fftSize - 1)) != 0 || hop <= 0 || count < fftSize || sampleRateHz <= 0)
        return s;
    s.bins = fftSize / 2 + 1;
    s.frames = 1 + (count - fftSize) / hop;
    s.hopSeconds = hop / sampleRateHz;
    s.binHz = sampleRateHz / fftSize;
    s.powerDb.resize(s.frames * s.bins);

    std::vector<float> window(fftSize);
    for (int i = 0; i < fftSize; ++i)
        window[i] = float(0.5 - 0.5 * std::cos(2.0 * M_PI * i / (fftSize - 1)));
    std::vector<std::complex<float>> buf(fftSize);
    for (int f = 0; f < s.frames; ++f) {
        const float *x = samples + f * hop;
        for (int i = 0; i < fftSize; ++i)
            buf[i] = {x[i] * window[i], 0.0f};
        fftInPlace(buf);
        for (int b = 0; b < s.bins; ++b) {
            const float p = std::norm(buf[b]) / float(fftSize);
            s.powerDb[f * s.bins + b] = p > 1e-12f ? 10.0f * std::log10(p) : -120.0f;
        }
    }
    return s;
}

} // namespace tinyml::ui
