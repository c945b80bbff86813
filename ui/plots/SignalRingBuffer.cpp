#include "plots/SignalRingBuffer.h"

#include <algorithm>
#include <cstring>

namespace tinyml::ui {

void SignalRingBuffer::reset(int channels, qint64 capacityFrames)
{
    m_channels = qMax(0, channels);
    m_capacity = qMax<qint64>(1, capacityFrames);
    m_data.fill(0.0f, m_channels * m_capacity);
    clear();
}

void SignalRingBuffer::clear()
{
    m_size = 0;
    m_head = 0;
    m_total = 0;
}

void SignalRingBuffer::append(const float *interleaved, qint64 frames)
{
    if (m_channels == 0 || frames <= 0)
        return;
    m_total += frames;
    // Only the newest capacity frames can survive.
    if (frames > m_capacity) {
        interleaved += (frames - m_capacity) * m_channels;
        frames = m_capacity;
    }
    while (frames > 0) {
        const qint64 n = qMin(frames, m_capacity - m_head);
        std::memcpy(m_data.data() + m_head * m_channels, interleaved, size_t(n * m_channels) * sizeof(float));
        interleaved += n * m_channels;
        frames -= n;
        m_head = (m_head + n) % m_capacity;
        m_size = qMin(m_capacity, m_size + n);
    }
}

float SignalRingBuffer::at(qint64 i, int channel) const
{
    const qint64 oldest = (m_head - m_size + m_capacity) % m_capacity;
    return m_data[((oldest + i) % m_capacity) * m_channels + channel];
}

void SignalRingBuffer::decimateMinMax(int channel, int columns, QVector<double> &keys, QVector<double> &values) const
{
    keys.clear();
    values.clear();
    if (channel < 0 || channel >= m_channels || m_size == 0 || columns <= 0)
        return;
    const qint64 first = m_total - m_size;
    if (m_size <= 2 * qint64(columns)) {
        keys.reserve(m_size);
        values.reserve(m_size);
        for (qint64 i = 0; i < m_size; ++i) {
            keys << double(first + i);
            values << at(i, channel);
        }
        return;
    }
    keys.reserve(2 * columns);
    values.reserve(2 * columns);
    for (int c = 0; c < columns; ++c) {
        const qint64 b = m_size * c / columns, e = m_size * (c + 1) / columns;
        if (b >= e)
            continue;
        float lo = at(b, channel), hi = lo;
        qint64 loAt = b, hiAt = b;
        for (qint64 i = b + 1; i < e; ++i) {
            const float v = at(i, channel);
            if (v < lo) { lo = v; loAt = i; }
            if (v > hi) { hi = v; hiAt = i; }
        }
        // Keep the order in time so the line goes through both extremes the way the signal did.
        if (loAt <= hiAt) {
            keys << double(first + loAt) << double(first + hiAt);
            values << lo << hi;
        } else {
            keys << double(first + hiAt) << double(first + loAt);
            values << hi << lo;
        }
    }
}

bool SignalRingBuffer::valueRange(double *lo, double *hi) const
{
    if (m_size == 0 || m_channels == 0)
        return false;
    float mn = at(0, 0), mx = mn;
    for (qint64 i = 0; i < m_size; ++i)
        for (int c = 0; c < m_channels; ++c) {
            const float v = at(i, c);
            mn = std::min(mn, v);
            mx = std::max(mx, v);
        }
    *lo = mn;
    *hi = mx;
    return true;
}

} // namespace tinyml::ui
