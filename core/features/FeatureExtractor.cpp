#include "features/FeatureExtractor.h"

#include "tm_dsp.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace tinyml::features {
namespace {

bool fail(QString *error, const QString &message)
{
    if (error)
        *error = message;
    return false;
}

tm_dsp_mfe_params_t dspMfe(const MfeParams &m, int windowFrames)
{
    tm_dsp_mfe_params_t p{};
    p.n_samples = uint32_t(windowFrames);
    p.sample_rate_hz = m.sampleRateHz;
    p.frame_length = uint32_t(std::max(0, m.frameLength));
    p.frame_stride = uint32_t(std::max(0, m.frameStride));
    p.n_filters = uint32_t(std::max(0, m.nFilters));
    p.low_hz = m.lowHz;
    p.high_hz = m.highHz;
    p.pre_emphasis = m.preEmphasis;
    p.log_floor = m.logFloor;
    return p;
}

tm_dsp_mfcc_params_t dspMfcc(const MfccParams &m, int windowFrames)
{
    tm_dsp_mfcc_params_t p{};
    p.mfe = dspMfe(m.mfe, windowFrames);
    p.n_coeffs = uint32_t(std::max(0, m.nCoeffs));
    p.lifter = uint32_t(std::max(0, m.lifter));
    return p;
}

/// Frames and channels of time-series data ([F] is one frame of F channels).
std::pair<qint64, int> framesAndChannels(const Tensor &t)
{
    if (t.shape.size() == 1)
        return {1, int(t.shape[0])};
    if (t.shape.size() == 2)
        return {t.shape[0], int(t.shape[1])};
    return {0, 0};
}

QString rateText(double hz) { return QString::number(hz, 'g', 6); }

} // namespace

FeatureExtractor::FeatureExtractor(FeatureParams params) : m_params(std::move(params)) {}

std::optional<QVector<qint64>> FeatureExtractor::outputShape(qint64 frames, int channels, QString *error) const
{
    const FeatureParams &p = m_params;
    auto bad = [&](const QString &m) {
        fail(error, QStringLiteral("%1 feature block: %2").arg(blockKindName(p.kind), m));
        return std::nullopt;
    };
    if (p.kind != BlockKind::Image && channels < 1)
        return bad(QStringLiteral("the sample has no channels"));
    switch (p.kind) {
    case BlockKind::Raw: {
        const qint64 t = p.raw.windowFrames > 0 ? p.raw.windowFrames : frames;
        if (t < 1)
            return bad(QStringLiteral("the window is empty"));
        if (p.raw.asSequence)
            return QVector<qint64>{1, 1, t, channels};
        return QVector<qint64>{1, t * channels};
    }
    case BlockKind::Spectral: {
        const qint64 window = p.spectral.windowFrames > 0 ? p.spectral.windowFrames : std::max<qint64>(frames, 0);
        if (window < 4)
            return bad(QStringLiteral("the window has %1 frames, at least 4 are needed").arg(window));
        const QVector<float> &edges = p.spectral.bandEdgesHz;
        if (!edges.isEmpty() && edges.size() != qsizetype(p.spectral.nBands) + 1)
            return bad(QStringLiteral("bandEdgesHz has %1 edges, nBands %2 needs %3")
                           .arg(edges.size()).arg(p.spectral.nBands).arg(p.spectral.nBands + 1));
        // sampleRateHz 0 means each sample's own rate, unknown here: the edges are checked
        // against it when features are computed. The output size does not depend on the rate.
        const bool rateKnown = p.spectral.sampleRateHz > 0;
        tm_dsp_spectral_params_t s{};
        s.n_samples = uint32_t(std::min<qint64>(window, UINT32_MAX));
        s.n_axes = uint32_t(channels);
        s.sample_rate_hz = rateKnown ? p.spectral.sampleRateHz : 1.0f;
        s.n_bands = uint32_t(std::max(0, p.spectral.nBands));
        s.band_edges_hz = edges.isEmpty() || !rateKnown ? nullptr : edges.constData();
        s.n_peaks = uint32_t(std::max(0, p.spectral.nPeaks));
        const size_t n = tm_dsp_spectral_output_size(&s);
        if (n == 0 && s.band_edges_hz)
            return bad(QStringLiteral("bandEdgesHz must ascend within 0..%1 Hz (half of sampleRateHz %2)")
                           .arg(rateText(p.spectral.sampleRateHz / 2), rateText(p.spectral.sampleRateHz)));
        if (n == 0)
            return bad(QStringLiteral("parameters rejected (window %1 frames, %2 bands, %3 peaks)")
                           .arg(window).arg(p.spectral.nBands).arg(p.spectral.nPeaks));
        return QVector<qint64>{1, qint64(n)};
    }
    case BlockKind::Mfe:
    case BlockKind::Mfcc: {
        const MfeParams &m = p.kind == BlockKind::Mfe ? p.mfe : p.mfcc.mfe;
        const int window = m.windowFrames > 0 ? m.windowFrames : int(std::min<qint64>(frames, 1 << 24));
        const tm_dsp_mfe_params_t mp = dspMfe(m, window);
        const tm_dsp_mfcc_params_t cp = dspMfcc(p.mfcc, window);
        const size_t n = p.kind == BlockKind::Mfe ? tm_dsp_mfe_output_size(&mp) : tm_dsp_mfcc_output_size(&cp);
        if (n == 0)
            return bad(QStringLiteral("parameters rejected (window %1, frame %2, stride %3, %4 filters%5)")
                           .arg(window).arg(m.frameLength).arg(m.frameStride).arg(m.nFilters)
                           .arg(p.kind == BlockKind::Mfcc ? QStringLiteral(", %1 coefficients").arg(p.mfcc.nCoeffs)
                                                          : QString()));
        const qint64 per = p.kind == BlockKind::Mfe ? m.nFilters : p.mfcc.nCoeffs;
        return QVector<qint64>{1, qint64(n) / per, per, 1};
    }
    case BlockKind::Image:
        if (p.image.width < 1 || p.image.height < 1 || (p.image.channels != 1 && p.image.channels != 3))
            return bad(QStringLiteral("size %1x%2x%3 invalid").arg(p.image.width).arg(p.image.height).arg(p.image.channels));
        return QVector<qint64>{1, p.image.height, p.image.width, p.image.channels};
    }
    return bad(QStringLiteral("unknown block"));
}

std::optional<Tensor> FeatureExtractor::extract(const Sample &sample, QString *error)
{
    const FeatureParams &p = m_params;
    const QString where = QStringLiteral("sample %1").arg(sample.id);
    auto bad = [&](const QString &m) {
        fail(error, QStringLiteral("%1: %2").arg(where, m));
        return std::nullopt;
    };
    if (!sample.data.isConsistent() || sample.data.shape.isEmpty())
        return bad(QStringLiteral("data does not match its shape"));

    auto scratchFor = [&](size_t bytes) {
        const qsizetype floats = qsizetype((bytes + 3) / 4);
        if (m_scratch.size() < floats)
            m_scratch.resize(floats);
        return tm_dsp_buffer_t{m_scratch.isEmpty() ? nullptr : m_scratch.data(), size_t(m_scratch.size()) * 4};
    };

    if (p.kind == BlockKind::Image) {
        const auto shape = outputShape(0, 0, error);
        if (!shape)
            return std::nullopt;
        const Tensor &d = sample.data;
        if (d.shape.size() != 3 || (d.shape[2] != 1 && d.shape[2] != 3) || d.shape[0] < 1 || d.shape[1] < 1
            || d.shape[0] > 65535 || d.shape[1] > 65535)
            return bad(QStringLiteral("an image must be [H, W, 1 or 3]"));
        QByteArray pixels;
        if (d.dtype == DType::UInt8) {
            pixels = d.bytes;
        } else {
            // Float (or other) images are taken as 0..255 values.
            const QVector<float> v = d.toFloats();
            pixels.resize(v.size());
            for (int i = 0; i < v.size(); ++i)
                pixels[i] = char(quint8(std::clamp(std::lround(v[i]), 0L, 255L)));
        }
        tm_dsp_image_params_t ip{};
        ip.in_height = uint32_t(d.shape[0]);
        ip.in_width = uint32_t(d.shape[1]);
        ip.in_channels = uint32_t(d.shape[2]);
        ip.out_height = uint32_t(p.image.height);
        ip.out_width = uint32_t(p.image.width);
        ip.out_channels = uint32_t(p.image.channels);
        ip.resize = p.image.bilinear ? TM_DSP_RESIZE_BILINEAR : TM_DSP_RESIZE_NEAREST;
        QVector<float> out(qsizetype(tm_dsp_image_output_size(&ip)));
        const tm_dsp_buffer_t buf = scratchFor(tm_dsp_image_get_buffer_size(&ip));
        if (tm_dsp_image(&ip, reinterpret_cast<const uint8_t *>(pixels.constData()), out.data(), &buf) != TM_DSP_OK)
            return bad(QStringLiteral("the image block refused the input"));
        return Tensor::fromFloats(out, *shape);
    }

    const auto framing = framesAndChannels(sample.data);
    const qint64 frames = framing.first;
    const int channels = framing.second;
    if (channels < 1)
        return bad(QStringLiteral("time-series data must be [frames, channels] or [features]"));
    const auto shape = outputShape(frames, channels, error);
    if (!shape)
        return std::nullopt;
    const QVector<float> data = sample.data.toFloats();

    // Windowing: the first `window` frames; shorter samples are zero-padded at the end.
    auto windowed = [&](qint64 window, int axes, int firstAxisOnly) {
        m_window.fill(0.0f, qsizetype(window * axes));
        const qint64 n = std::min(window, frames);
        for (qint64 t = 0; t < n; ++t)
            for (int a = 0; a < axes; ++a)
                m_window[t * axes + a] = data[t * channels + (firstAxisOnly ? 0 : a)];
        return m_window.constData();
    };

    QVector<float> out;
    switch (p.kind) {
    case BlockKind::Raw: {
        const qint64 window = p.raw.windowFrames > 0 ? p.raw.windowFrames : frames;
        tm_dsp_raw_params_t rp{};
        rp.n_samples = uint32_t(window);
        rp.n_axes = uint32_t(channels);
        rp.scale = p.raw.scale;
        rp.remove_mean = p.raw.removeMean ? 1 : 0;
        out.resize(qsizetype(tm_dsp_raw_output_size(&rp)));
        const float *in = windowed(window, channels, false);
        const tm_dsp_buffer_t buf = scratchFor(tm_dsp_raw_get_buffer_size(&rp));
        if (tm_dsp_raw(&rp, in, out.data(), &buf) != TM_DSP_OK)
            return bad(QStringLiteral("the raw block refused the input"));
        break;
    }
    case BlockKind::Spectral: {
        const float rate = p.spectral.sampleRateHz > 0 ? p.spectral.sampleRateHz : float(sample.sampleRateHz);
        if (!(rate > 0))
            return bad(QStringLiteral("no sample rate: spectral.sampleRateHz is 0 (use the sample's) and the sample "
                                      "has none; set the block's rate"));
        if (!p.spectral.bandEdgesHz.isEmpty() && p.spectral.bandEdgesHz.size() != qsizetype(p.spectral.nBands) + 1)
            return bad(QStringLiteral("bandEdgesHz has %1 edges, nBands %2 needs %3")
                           .arg(p.spectral.bandEdgesHz.size()).arg(p.spectral.nBands).arg(p.spectral.nBands + 1));
        const qint64 window = p.spectral.windowFrames > 0 ? p.spectral.windowFrames : frames;
        tm_dsp_spectral_params_t sp{};
        sp.n_samples = uint32_t(window);
        sp.n_axes = uint32_t(channels);
        sp.sample_rate_hz = rate;
        sp.n_bands = uint32_t(p.spectral.nBands);
        sp.band_edges_hz = p.spectral.bandEdgesHz.isEmpty() ? nullptr : p.spectral.bandEdgesHz.constData();
        sp.n_peaks = uint32_t(p.spectral.nPeaks);
        out.resize(qsizetype(tm_dsp_spectral_output_size(&sp)));
        const float *in = windowed(window, channels, false);
        const tm_dsp_buffer_t buf = scratchFor(tm_dsp_spectral_get_buffer_size(&sp));
        if (tm_dsp_spectral(&sp, in, out.data(), &buf) != TM_DSP_OK)
            return bad(QStringLiteral("the spectral block refused the parameters (bandEdgesHz must ascend "
                                      "within 0..%1 Hz, half of the %2 Hz sample rate%3)")
                           .arg(rateText(rate / 2), rateText(rate),
                                p.spectral.sampleRateHz > 0 ? QString() : QStringLiteral(" of the sample")));
        break;
    }
    case BlockKind::Mfe:
    case BlockKind::Mfcc: {
        const MfeParams &m = p.kind == BlockKind::Mfe ? p.mfe : p.mfcc.mfe;
        if (sample.sampleRateHz > 0 && std::fabs(sample.sampleRateHz - double(m.sampleRateHz)) > 1e-3)
            return bad(QStringLiteral("recorded at %1 Hz, the %2 block expects %3 Hz (no resampling)")
                           .arg(rateText(sample.sampleRateHz), blockKindName(p.kind), rateText(m.sampleRateHz)));
        const qint64 window = m.windowFrames > 0 ? m.windowFrames : frames;
        const float *in = windowed(window, 1, true);
        tm_dsp_status_t s;
        if (p.kind == BlockKind::Mfe) {
            const tm_dsp_mfe_params_t mp = dspMfe(m, int(window));
            out.resize(qsizetype(tm_dsp_mfe_output_size(&mp)));
            const tm_dsp_buffer_t buf = scratchFor(tm_dsp_mfe_get_buffer_size(&mp));
            s = tm_dsp_mfe(&mp, in, out.data(), &buf);
        } else {
            const tm_dsp_mfcc_params_t cp = dspMfcc(p.mfcc, int(window));
            out.resize(qsizetype(tm_dsp_mfcc_output_size(&cp)));
            const tm_dsp_buffer_t buf = scratchFor(tm_dsp_mfcc_get_buffer_size(&cp));
            s = tm_dsp_mfcc(&cp, in, out.data(), &buf);
        }
        if (s != TM_DSP_OK)
            return bad(QStringLiteral("the %1 block refused the parameters").arg(blockKindName(p.kind)));
        break;
    }
    case BlockKind::Image:
        break;
    }
    qint64 expected = 1;
    for (qint64 dim : *shape)
        expected *= dim;
    if (out.size() != expected)
        return bad(QStringLiteral("block wrote %1 values, expected %2").arg(out.size()).arg(expected));
    return Tensor::fromFloats(out, *shape);
}

} // namespace tinyml::features
