#pragma once
// Data sets the training tests share, generated in the test (no fixtures to go stale):
//  - three overlapping Gaussian blobs in 8-D (a table-CSV-like set);
//  - motion recordings (idle / shake / circle / updown) from the firmware's own accelerometer
//    simulator (tm_sensor.h), the generator behind the virtual board's accel sensor.

#include "Dataset.h"

#include "data/Sample.h"

#include "tm_sensor.h"

#include <QVector>

#include <random>

namespace tinyml::training::testdata {

/// n samples per class of three 8-D Gaussian blobs (std 1) whose centres are 3 apart: some
/// overlap, but a good classifier reaches ~0.95+.
inline TrainingData blobs(int perClass, std::uint64_t seed)
{
    TrainingData d;
    d.inputShape = {8};
    d.labels = {QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c")};
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> noise(0.0f, 1.0f);
    const float centres[3][8] = {{0, 0, 0, 0, 0, 0, 0, 0},
                                 {3, 0, 1, 0, -1, 0, 0.5f, 0},
                                 {0, 3, 0, -1, 0, 1, 0, -0.5f}};
    for (int i = 0; i < perClass; ++i)
        for (int c = 0; c < 3; ++c) {
            for (int k = 0; k < 8; ++k)
                d.x.append(centres[c][k] + noise(rng));
            d.y.append(c);
        }
    return d;
}

inline const QStringList &motionLabels()
{
    static const QStringList l{QStringLiteral("idle"), QStringLiteral("shake"), QStringLiteral("circle"),
                               QStringLiteral("updown")};
    return l;
}

/// `perClass` recordings per scenario of `frames` samples at 100 Hz, as project samples
/// ([frames, 3] float32 in m/s^2). Each scenario's recordings follow from `seed`.
inline QVector<Sample> motionSamples(int perClass, int frames, std::uint32_t seed, Split split)
{
    QVector<Sample> out;
    for (int c = 0; c < motionLabels().size(); ++c) {
        tm_sim_sensor_t sim;
        tm_sim_accel_init(&sim, 0);
        tm_sensor_t *s = &sim.base;
        s->set_seed(s, seed * 31u + std::uint32_t(c) + 1u);
        const QByteArray name = motionLabels()[c].toLatin1();
        s->set_scenario(s, name.constData(), size_t(name.size()));
        for (int r = 0; r < perClass; ++r) {
            s->start(s, 100);
            QVector<int16_t> raw(frames * 3);
            s->read(s, raw.data(), std::uint32_t(frames));
            QVector<float> values(raw.size());
            for (int k = 0; k < raw.size(); ++k)
                values[k] = raw[k] * s->desc->scale;
            Sample smp;
            smp.label = motionLabels()[c];
            smp.split = split;
            smp.sensor = QStringLiteral("accel");
            smp.sampleRateHz = 100;
            smp.channels = {QStringLiteral("x"), QStringLiteral("y"), QStringLiteral("z")};
            smp.data = Tensor::fromFloats(values, {frames, 3});
            out.append(smp);
        }
    }
    return out;
}

/// Raw motion windows as a 1-D CNN input {1, frames, 3}.
inline TrainingData motionSequences(const QVector<Sample> &samples)
{
    TrainingData d;
    d.labels = motionLabels();
    d.timeSeries = true;
    for (const Sample &s : samples) {
        d.inputShape = {1, int(s.frames()), 3};
        d.x += s.data.toFloats();
        d.y.append(motionLabels().indexOf(s.label));
    }
    return d;
}

} // namespace tinyml::training::testdata
