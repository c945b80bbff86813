// Feature blocks on synthetic signals whose answer is known independently.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "tm_dsp.h"

namespace {

// Scratch sized by the block's own _get_buffer_size(), as the agent does.
struct Scratch {
    explicit Scratch(size_t bytes) : words(bytes / sizeof(float) + 1), buf{words.data(), bytes} {}
    std::vector<float> words;
    tm_dsp_buffer_t buf;
};

// ---------------------------------------------------------------------------------------
// raw
// ---------------------------------------------------------------------------------------

TEST(DspRaw, RemovesPerAxisMeanAndScales)
{
    const float in[6] = {1.0f, 10.0f, 2.0f, 20.0f, 3.0f, 30.0f};  // [3 samples, 2 axes]
    tm_dsp_raw_params_t p{3, 2, 0.5f, 1};
    ASSERT_EQ(tm_dsp_raw_output_size(&p), 6u);
    EXPECT_EQ(tm_dsp_raw_get_buffer_size(&p), 0u);
    float out[6];
    ASSERT_EQ(tm_dsp_raw(&p, in, out, nullptr), TM_DSP_OK);
    const float want[6] = {-0.5f, -5.0f, 0.0f, 0.0f, 0.5f, 5.0f};
    for (int i = 0; i < 6; ++i) {
        EXPECT_FLOAT_EQ(out[i], want[i]) << i;
    }
    p.remove_mean = 0;
    p.scale = 2.0f;
    ASSERT_EQ(tm_dsp_raw(&p, in, out, nullptr), TM_DSP_OK);
    EXPECT_EQ(out[5], 60.0f);
    p.n_axes = 0;
    EXPECT_EQ(tm_dsp_raw_output_size(&p), 0u);
    EXPECT_EQ(tm_dsp_raw(&p, in, out, nullptr), TM_DSP_ARG_ERROR);
}

// ---------------------------------------------------------------------------------------
// spectral
// ---------------------------------------------------------------------------------------

TEST(DspSpectral, PeakOfA5HzSineAt100HzIs5Hz)
{
    // Three axes: 5 Hz, 12 Hz and 31.5 Hz sines (amplitudes 1, 2, 0.5) on offsets.
    const uint32_t n = 200, axes = 3;
    const double freq[3] = {5.0, 12.0, 31.5}, amp[3] = {1.0, 2.0, 0.5}, dc[3] = {0.0, 9.81, -1.0};
    std::vector<float> in(n * axes);
    for (uint32_t t = 0; t < n; ++t) {
        for (uint32_t a = 0; a < axes; ++a) {
            in[t * axes + a] =
                static_cast<float>(dc[a] + amp[a] * std::sin(2.0 * M_PI * freq[a] * t / 100.0));
        }
    }
    tm_dsp_spectral_params_t p{};
    p.n_samples = n;
    p.n_axes = axes;
    p.sample_rate_hz = 100.0f;
    p.n_bands = 5;  // 10 Hz each
    p.n_peaks = 2;
    const size_t per_axis = 3 + 5 + 4;
    ASSERT_EQ(tm_dsp_spectral_output_size(&p), axes * per_axis);
    Scratch s(tm_dsp_spectral_get_buffer_size(&p));
    std::vector<float> out(tm_dsp_spectral_output_size(&p));
    ASSERT_EQ(tm_dsp_spectral(&p, in.data(), out.data(), &s.buf), TM_DSP_OK);

    for (uint32_t a = 0; a < axes; ++a) {
        const float *o = &out[a * per_axis];
        // Statistics computed here in double.
        double sum = 0.0, sum_sq = 0.0;
        for (uint32_t t = 0; t < n; ++t) {
            sum += in[t * axes + a];
            sum_sq += double(in[t * axes + a]) * in[t * axes + a];
        }
        const double mean = sum / n;
        EXPECT_NEAR(o[0], std::sqrt(sum_sq / n), 1e-4) << "rms axis " << a;
        EXPECT_NEAR(o[1], mean, 1e-4) << "mean axis " << a;
        EXPECT_NEAR(o[2], std::sqrt(sum_sq / n - mean * mean), 1e-3) << "std axis " << a;

        // Band powers add up to the sine's power A^2/2 and peak in the tone's band.
        const float *bands = o + 3;
        double total = 0.0;
        for (int b = 0; b < 5; ++b) {
            total += bands[b];
        }
        EXPECT_NEAR(total, amp[a] * amp[a] / 2.0, 0.05 * amp[a] * amp[a]) << "axis " << a;
        const int want_band = static_cast<int>(freq[a] / 10.0);
        EXPECT_EQ(std::max_element(bands, bands + 5) - bands, want_band) << "axis " << a;

        const float *peaks = bands + 5;
        EXPECT_NEAR(peaks[0], freq[a], 0.1) << "axis " << a;
        EXPECT_GT(peaks[1], 0.0f);
        EXPECT_LT(peaks[3], peaks[1] * 0.1f) << "second peak is leakage";
    }
}

TEST(DspSpectral, CustomBandEdgesAndMissingPeaks)
{
    const uint32_t n = 128;
    std::vector<float> in(n, 3.0f);  // constant: no spectrum at all after mean removal
    const float edges[3] = {0.0f, 1.0f, 50.0f};
    tm_dsp_spectral_params_t p{};
    p.n_samples = n;
    p.n_axes = 1;
    p.sample_rate_hz = 100.0f;
    p.n_bands = 2;
    p.band_edges_hz = edges;
    p.n_peaks = 3;
    Scratch s(tm_dsp_spectral_get_buffer_size(&p));
    std::vector<float> out(tm_dsp_spectral_output_size(&p));
    ASSERT_EQ(out.size(), 3u + 2u + 6u);
    ASSERT_EQ(tm_dsp_spectral(&p, in.data(), out.data(), &s.buf), TM_DSP_OK);
    EXPECT_FLOAT_EQ(out[0], 3.0f);
    EXPECT_FLOAT_EQ(out[1], 3.0f);
    EXPECT_EQ(out[2], 0.0f);
    for (size_t i = 3; i < out.size(); ++i) {
        EXPECT_EQ(out[i], 0.0f) << i;
    }

    const float bad_edges[3] = {0.0f, 30.0f, 20.0f};
    p.band_edges_hz = bad_edges;
    EXPECT_EQ(tm_dsp_spectral_output_size(&p), 0u);
    EXPECT_EQ(tm_dsp_spectral(&p, in.data(), out.data(), &s.buf), TM_DSP_ARG_ERROR);
}

TEST(DspSpectral, ScratchIsChecked)
{
    std::vector<float> in(64, 0.0f), out(3);
    tm_dsp_spectral_params_t p{};
    p.n_samples = 64;
    p.n_axes = 1;
    p.sample_rate_hz = 50.0f;
    const size_t need = tm_dsp_spectral_get_buffer_size(&p);
    EXPECT_EQ(need, (2 * 64 + 64) * sizeof(float));
    Scratch s(need);
    tm_dsp_buffer_t small{s.buf.buf, need - 4};
    EXPECT_EQ(tm_dsp_spectral(&p, in.data(), out.data(), &small), TM_DSP_BUFFER_ERROR);
    EXPECT_EQ(tm_dsp_spectral(&p, in.data(), out.data(), nullptr), TM_DSP_BUFFER_ERROR);
    tm_dsp_buffer_t misaligned{reinterpret_cast<char *>(s.buf.buf) + 1, need};
    EXPECT_EQ(tm_dsp_spectral(&p, in.data(), out.data(), &misaligned), TM_DSP_BUFFER_ERROR);
    EXPECT_EQ(tm_dsp_spectral(&p, in.data(), out.data(), &s.buf), TM_DSP_OK);
}

// ---------------------------------------------------------------------------------------
// MFE / MFCC
// ---------------------------------------------------------------------------------------

double hz_to_mel(double hz) { return 2595.0 * std::log10(1.0 + hz / 700.0); }
double mel_to_hz(double mel) { return 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0); }

// Centre frequency of HTK mel filter j, computed here independently of the block.
double filter_centre(int j, int n_filters, double lo, double hi)
{
    const double m_lo = hz_to_mel(lo), m_hi = hz_to_mel(hi);
    return mel_to_hz(m_lo + (m_hi - m_lo) * (j + 1) / (n_filters + 1));
}

std::vector<float> tone(uint32_t n, double hz, double fs)
{
    std::vector<float> x(n);
    for (uint32_t t = 0; t < n; ++t) {
        x[t] = static_cast<float>(0.5 * std::sin(2.0 * M_PI * hz * t / fs));
    }
    return x;
}

tm_dsp_mfe_params_t speech_mfe(uint32_t n_samples)
{
    tm_dsp_mfe_params_t p{};
    p.n_samples = n_samples;
    p.sample_rate_hz = 16000.0f;
    p.frame_length = 400;  // 25 ms -> fft 512
    p.frame_stride = 160;  // 10 ms
    p.n_filters = 32;
    p.low_hz = 20.0f;
    p.high_hz = 0.0f;      // 8 kHz
    p.pre_emphasis = 0.0f;
    p.log_floor = 1e-12f;
    return p;
}

TEST(DspMfe, ToneEnergyPeaksInItsMelBand)
{
    for (int band : {3, 10, 17, 25}) {
        const double f0 = filter_centre(band, 32, 20.0, 8000.0);
        const auto x = tone(4000, f0, 16000.0);
        const auto p = speech_mfe(4000);
        const size_t frames = 1 + (4000 - 400) / 160;
        ASSERT_EQ(tm_dsp_mfe_output_size(&p), frames * 32);
        Scratch s(tm_dsp_mfe_get_buffer_size(&p));
        std::vector<float> out(tm_dsp_mfe_output_size(&p));
        ASSERT_EQ(tm_dsp_mfe(&p, x.data(), out.data(), &s.buf), TM_DSP_OK);
        for (size_t f = 0; f < frames; ++f) {
            const float *row = &out[f * 32];
            ASSERT_EQ(std::max_element(row, row + 32) - row, band)
                << "frame " << f << " tone " << f0 << " Hz";
        }
    }
}

TEST(DspMfe, SilenceHitsTheLogFloorAndPreEmphasisKeepsShape)
{
    auto p = speech_mfe(800);
    std::vector<float> silence(800, 0.0f), out(tm_dsp_mfe_output_size(&p));
    Scratch s(tm_dsp_mfe_get_buffer_size(&p));
    ASSERT_EQ(tm_dsp_mfe(&p, silence.data(), out.data(), &s.buf), TM_DSP_OK);
    for (float v : out) {
        EXPECT_FLOAT_EQ(v, std::log(1e-12f));
    }
    // Pre-emphasis tilts the spectrum but a tone still peaks in its band.
    p.pre_emphasis = 0.97f;
    const double f0 = filter_centre(20, 32, 20.0, 8000.0);
    const auto x = tone(800, f0, 16000.0);
    ASSERT_EQ(tm_dsp_mfe(&p, x.data(), out.data(), &s.buf), TM_DSP_OK);
    EXPECT_EQ(std::max_element(out.begin(), out.begin() + 32) - out.begin(), 20);
}

TEST(DspMfe, RejectsBadParameters)
{
    auto p = speech_mfe(300);  // shorter than one frame
    EXPECT_EQ(tm_dsp_mfe_output_size(&p), 0u);
    std::vector<float> x(400), out(32);
    EXPECT_EQ(tm_dsp_mfe(&p, x.data(), out.data(), nullptr), TM_DSP_ARG_ERROR);
    p = speech_mfe(400);
    p.high_hz = 9000.0f;  // above Nyquist
    EXPECT_EQ(tm_dsp_mfe(&p, x.data(), out.data(), nullptr), TM_DSP_ARG_ERROR);
    p = speech_mfe(400);
    p.log_floor = 0.0f;
    EXPECT_EQ(tm_dsp_mfe(&p, x.data(), out.data(), nullptr), TM_DSP_ARG_ERROR);
    p = speech_mfe(400);
    EXPECT_EQ(tm_dsp_mfe(&p, x.data(), out.data(), nullptr), TM_DSP_BUFFER_ERROR);
}

TEST(DspMfcc, IsTheOrthonormalDctOfTheMfe)
{
    const double f0 = filter_centre(12, 32, 20.0, 8000.0);
    const auto x = tone(2000, f0, 16000.0);
    tm_dsp_mfcc_params_t p{};
    p.mfe = speech_mfe(2000);
    p.n_coeffs = 32;  // all of them: the DCT is then invertible
    p.lifter = 0;
    const size_t frames = 1 + (2000 - 400) / 160;
    ASSERT_EQ(tm_dsp_mfcc_output_size(&p), frames * 32);
    Scratch s(tm_dsp_mfcc_get_buffer_size(&p));
    std::vector<float> cep(tm_dsp_mfcc_output_size(&p));
    ASSERT_EQ(tm_dsp_mfcc(&p, x.data(), cep.data(), &s.buf), TM_DSP_OK);

    Scratch s2(tm_dsp_mfe_get_buffer_size(&p.mfe));
    std::vector<float> mfe(tm_dsp_mfe_output_size(&p.mfe));
    ASSERT_EQ(tm_dsp_mfe(&p.mfe, x.data(), mfe.data(), &s2.buf), TM_DSP_OK);

    const int nf = 32;
    for (size_t f = 0; f < frames; ++f) {
        const float *e = &mfe[f * nf];
        const float *c = &cep[f * nf];
        double scale = 0.0;
        for (int j = 0; j < nf; ++j) {
            scale = std::max(scale, std::fabs(double(e[j])));
        }
        for (int i = 0; i < nf; ++i) {
            double acc = 0.0;
            for (int j = 0; j < nf; ++j) {
                acc += e[j] * std::cos(M_PI * i * (2 * j + 1) / (2.0 * nf));
            }
            acc *= i == 0 ? std::sqrt(1.0 / nf) : std::sqrt(2.0 / nf);
            ASSERT_NEAR(c[i], acc, 2e-6 * scale * nf) << "frame " << f << " coeff " << i;
        }
        // Inverse DCT (DCT-III, orthonormal) of the cepstrum peaks in the tone's band.
        std::vector<double> back(nf);
        for (int j = 0; j < nf; ++j) {
            for (int i = 0; i < nf; ++i) {
                back[j] += (i == 0 ? std::sqrt(1.0 / nf) : std::sqrt(2.0 / nf)) * c[i] *
                           std::cos(M_PI * i * (2 * j + 1) / (2.0 * nf));
            }
        }
        EXPECT_EQ(std::max_element(back.begin(), back.end()) - back.begin(), 12) << f;
    }
}

TEST(DspMfcc, LifteringWeightsCoefficients)
{
    const auto x = tone(800, 1000.0, 16000.0);
    tm_dsp_mfcc_params_t p{};
    p.mfe = speech_mfe(800);
    p.n_coeffs = 13;
    p.lifter = 0;
    std::vector<float> plain(tm_dsp_mfcc_output_size(&p)), lifted(plain.size());
    Scratch s(tm_dsp_mfcc_get_buffer_size(&p));
    ASSERT_EQ(tm_dsp_mfcc(&p, x.data(), plain.data(), &s.buf), TM_DSP_OK);
    p.lifter = 22;
    Scratch s2(tm_dsp_mfcc_get_buffer_size(&p));
    ASSERT_EQ(tm_dsp_mfcc(&p, x.data(), lifted.data(), &s2.buf), TM_DSP_OK);
    for (int i = 0; i < 13; ++i) {
        const double w = 1.0 + 11.0 * std::sin(M_PI * i / 22.0);
        EXPECT_NEAR(lifted[i], plain[i] * w, 1e-5 * std::fabs(plain[i] * w) + 1e-5) << i;
    }
    p.n_coeffs = 33;  // more than n_filters
    EXPECT_EQ(tm_dsp_mfcc_output_size(&p), 0u);
}

// ---------------------------------------------------------------------------------------
// image
// ---------------------------------------------------------------------------------------

TEST(DspImage, NearestDownscalePicksPixelCentres)
{
    // 4x4 grey pattern, value = 10 * y + x; 2x2 output samples source (1, 1), (1, 3), ...
    uint8_t in[16];
    for (int y = 0; y < 4; ++y)
        for (int x = 0; x < 4; ++x) {
            in[y * 4 + x] = static_cast<uint8_t>(10 * y + x);
        }
    tm_dsp_image_params_t p{4, 4, 1, 2, 2, 1, TM_DSP_RESIZE_NEAREST};
    ASSERT_EQ(tm_dsp_image_output_size(&p), 4u);
    int8_t out[4];
    ASSERT_EQ(tm_dsp_image_s8(&p, in, out, nullptr), TM_DSP_OK);
    EXPECT_EQ(out[0], 11 - 128);
    EXPECT_EQ(out[1], 13 - 128);
    EXPECT_EQ(out[2], 31 - 128);
    EXPECT_EQ(out[3], 33 - 128);
}

TEST(DspImage, BilinearDownscaleAveragesBlocks)
{
    // Halving with centred pixels samples between two source pixels per axis: each output
    // is the mean of a 2x2 block.
    uint8_t in[16];
    for (int i = 0; i < 16; ++i) {
        in[i] = static_cast<uint8_t>(i * 16);
    }
    tm_dsp_image_params_t p{4, 4, 1, 2, 2, 1, TM_DSP_RESIZE_BILINEAR};
    float out[4];
    ASSERT_EQ(tm_dsp_image(&p, in, out, nullptr), TM_DSP_OK);
    const float want[4] = {(0 + 16 + 64 + 80) / 4.0f, (32 + 48 + 96 + 112) / 4.0f,
                           (128 + 144 + 192 + 208) / 4.0f, (160 + 176 + 224 + 240) / 4.0f};
    for (int i = 0; i < 4; ++i) {
        EXPECT_FLOAT_EQ(out[i] * 255.0f, want[i]) << i;
    }
}

TEST(DspImage, BilinearUpscaleInterpolatesAndClampsBorders)
{
    const uint8_t in[2] = {0, 200};  // 1 row, 2 columns
    tm_dsp_image_params_t p{2, 1, 1, 4, 1, 1, TM_DSP_RESIZE_BILINEAR};
    float out[4];
    ASSERT_EQ(tm_dsp_image(&p, in, out, nullptr), TM_DSP_OK);
    // Source x = -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1).
    const float want[4] = {0.0f, 50.0f, 150.0f, 200.0f};
    for (int i = 0; i < 4; ++i) {
        EXPECT_NEAR(out[i] * 255.0f, want[i], 1e-4f) << i;
    }
}

TEST(DspImage, GreyConversionAndInt8Scaling)
{
    // One pixel each of red, green, blue, white, black.
    const uint8_t rgb[15] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0};
    tm_dsp_image_params_t p{5, 1, 3, 5, 1, 1, TM_DSP_RESIZE_NEAREST};
    int8_t s8[5];
    float f[5];
    ASSERT_EQ(tm_dsp_image_s8(&p, rgb, s8, nullptr), TM_DSP_OK);
    ASSERT_EQ(tm_dsp_image(&p, rgb, f, nullptr), TM_DSP_OK);
    EXPECT_EQ(s8[0], 76 - 128);   // 0.299 * 255 = 76.2
    EXPECT_EQ(s8[1], 150 - 128);  // 0.587 * 255 = 149.7
    EXPECT_EQ(s8[2], 29 - 128);   // 0.114 * 255 = 29.1
    EXPECT_EQ(s8[3], 127);
    EXPECT_EQ(s8[4], -128);
    EXPECT_NEAR(f[0], 0.299f, 1e-6f);
    EXPECT_NEAR(f[3], 1.0f, 1e-6f);
    EXPECT_EQ(f[4], 0.0f);

    // RGB kept as RGB, grey replicated to RGB.
    tm_dsp_image_params_t keep{5, 1, 3, 5, 1, 3, TM_DSP_RESIZE_NEAREST};
    int8_t rgb_out[15];
    ASSERT_EQ(tm_dsp_image_s8(&keep, rgb, rgb_out, nullptr), TM_DSP_OK);
    for (int i = 0; i < 15; ++i) {
        EXPECT_EQ(rgb_out[i], rgb[i] - 128) << i;
    }
    const uint8_t grey[1] = {77};
    tm_dsp_image_params_t rep{1, 1, 1, 1, 1, 3, TM_DSP_RESIZE_BILINEAR};
    int8_t rep_out[3];
    ASSERT_EQ(tm_dsp_image_s8(&rep, grey, rep_out, nullptr), TM_DSP_OK);
    EXPECT_EQ(rep_out[0], 77 - 128);
    EXPECT_EQ(rep_out[2], 77 - 128);
}

TEST(DspImage, RejectsBadParameters)
{
    const uint8_t in[4] = {};
    float out[4];
    tm_dsp_image_params_t p{2, 2, 2, 2, 2, 1, TM_DSP_RESIZE_NEAREST};  // 2 channels
    EXPECT_EQ(tm_dsp_image_output_size(&p), 0u);
    EXPECT_EQ(tm_dsp_image(&p, in, out, nullptr), TM_DSP_ARG_ERROR);
    p = {2, 2, 1, 0, 2, 1, TM_DSP_RESIZE_NEAREST};
    EXPECT_EQ(tm_dsp_image(&p, in, out, nullptr), TM_DSP_ARG_ERROR);
    p = {2, 2, 1, 2, 2, 1, static_cast<tm_dsp_resize_t>(7)};
    EXPECT_EQ(tm_dsp_image(&p, in, out, nullptr), TM_DSP_ARG_ERROR);
}

}  // namespace
