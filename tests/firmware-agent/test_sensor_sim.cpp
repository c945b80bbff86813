// The simulated sensors: scenarios must differ clearly in amplitude and frequency. The
// statistics are computed here, independently of the code under test.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "tm_sensor.h"

namespace {

struct Recording {
    uint32_t rate;
    int channels;
    float scale;
    std::vector<std::vector<double>> ch; // physical units
};

Recording record(bool accel, const std::string &scenario, uint32_t rate, uint32_t n,
                 uint32_t seed = 1, int skipRecordings = 0)
{
    tm_sim_sensor_t sim;
    if (accel)
        tm_sim_accel_init(&sim, 0);
    else
        tm_sim_mic_init(&sim, 1);
    tm_sensor_t *s = &sim.base;
    s->set_seed(s, seed);
    EXPECT_EQ(s->set_scenario(s, scenario.data(), scenario.size()), TM_OK) << scenario;
    for (int i = 0; i < skipRecordings; ++i)
        s->start(s, rate);
    EXPECT_EQ(s->start(s, rate), TM_OK);
    Recording r{rate, s->desc->channels, s->desc->scale, {}};
    r.ch.resize(size_t(r.channels));
    std::vector<int16_t> buf(size_t(r.channels) * 100);
    for (uint32_t done = 0; done < n; done += 100) {
        s->read(s, buf.data(), 100); // in frame-sized pieces, as the agent reads
        for (int k = 0; k < 100; ++k)
            for (int c = 0; c < r.channels; ++c)
                r.ch[size_t(c)].push_back(buf[size_t(k * r.channels + c)] * double(r.scale));
    }
    return r;
}

double mean(const std::vector<double> &v)
{
    double s = 0;
    for (double x : v)
        s += x;
    return s / double(v.size());
}

double acRms(const std::vector<double> &v)
{
    double m = mean(v), s = 0;
    for (double x : v)
        s += (x - m) * (x - m);
    return std::sqrt(s / double(v.size()));
}

// Magnitude of the DFT at frequency f (Hz), mean removed.
double power(const std::vector<double> &v, double rate, double f, size_t from = 0, size_t len = 0)
{
    if (len == 0)
        len = v.size() - from;
    double m = 0;
    for (size_t i = from; i < from + len; ++i)
        m += v[i];
    m /= double(len);
    double re = 0, im = 0;
    for (size_t i = from; i < from + len; ++i) {
        double ph = 2 * M_PI * f * double(i - from) / rate;
        re += (v[i] - m) * std::cos(ph);
        im += (v[i] - m) * std::sin(ph);
    }
    return std::sqrt(re * re + im * im) / double(len);
}

double dominant(const std::vector<double> &v, double rate, double fmin, double fmax, double step,
                size_t from = 0, size_t len = 0)
{
    double best = fmin, bestP = -1;
    for (double f = fmin; f <= fmax; f += step) {
        double p = power(v, rate, f, from, len);
        if (p > bestP) {
            bestP = p;
            best = f;
        }
    }
    return best;
}

TEST(SensorSim, AccelerometerIdleIsGravityOnZ)
{
    Recording r = record(true, "idle", 100, 1000);
    EXPECT_NEAR(mean(r.ch[2]), 9.81, 0.15);
    EXPECT_LT(std::fabs(mean(r.ch[0])), 1.5);
    for (int c = 0; c < 3; ++c)
        EXPECT_LT(acRms(r.ch[size_t(c)]), 0.1) << c;
}

TEST(SensorSim, AccelerometerScenariosDifferInAxisAndFrequency)
{
    const double rate = 100;
    Recording shake = record(true, "shake", 100, 2000);
    Recording circle = record(true, "circle", 100, 2000);
    Recording updown = record(true, "updown", 100, 2000);

    EXPECT_GT(acRms(shake.ch[0]), 5.0);
    EXPECT_GT(acRms(shake.ch[0]), 3 * acRms(shake.ch[2]));
    EXPECT_NEAR(dominant(shake.ch[0], rate, 0.5, 20, 0.05), 5.0, 0.6);

    EXPECT_GT(acRms(circle.ch[0]), 2.0);
    EXPECT_GT(acRms(circle.ch[1]), 2.0);
    EXPECT_LT(acRms(circle.ch[2]), 0.5);
    EXPECT_NEAR(dominant(circle.ch[0], rate, 0.3, 20, 0.02), 1.2, 0.15);
    EXPECT_NEAR(dominant(circle.ch[1], rate, 0.3, 20, 0.02), 1.2, 0.15);

    EXPECT_GT(acRms(updown.ch[2]), 2.5);
    EXPECT_LT(acRms(updown.ch[0]), 0.5);
    EXPECT_NEAR(dominant(updown.ch[2], rate, 0.3, 20, 0.02), 2.0, 0.25);
    EXPECT_NEAR(mean(updown.ch[2]), 9.81, 0.5);
}

TEST(SensorSim, RecordingsVaryButAreReproducible)
{
    Recording a = record(true, "shake", 100, 500, 7);
    Recording b = record(true, "shake", 100, 500, 7);
    EXPECT_EQ(a.ch, b.ch);
    Recording c = record(true, "shake", 100, 500, 7, 1); // the next "subject"
    Recording d = record(true, "shake", 100, 500, 8);
    EXPECT_NE(a.ch, c.ch);
    EXPECT_NE(a.ch, d.ch);
    // different subjects, same scenario: amplitudes alike within the jitter range
    double ra = acRms(a.ch[0]), rc = acRms(c.ch[0]);
    EXPECT_NE(ra, rc);
    EXPECT_LT(std::max(ra, rc) / std::min(ra, rc), 1.6);
}

TEST(SensorSim, MicrophoneScenarios)
{
    const double rate = 16000;
    Recording silence = record(false, "silence", 16000, 8000);
    Recording noise = record(false, "noise", 16000, 8000);
    Recording tone = record(false, "tone", 16000, 8000);
    Recording two = record(false, "twotone", 16000, 8000);
    Recording chirp = record(false, "chirp", 16000, 16000);

    EXPECT_LT(acRms(silence.ch[0]), 0.002);
    EXPECT_GT(acRms(noise.ch[0]), 0.05);
    EXPECT_GT(acRms(tone.ch[0]), 0.1);

    EXPECT_NEAR(dominant(tone.ch[0], rate, 100, 2000, 2), 440, 12);
    // twotone: both tones stand far above the noise floor, a third frequency does not
    double p697 = power(two.ch[0], rate, dominant(two.ch[0], rate, 670, 720, 1));
    double p1209 = power(two.ch[0], rate, dominant(two.ch[0], rate, 1170, 1250, 1));
    double p1000 = power(two.ch[0], rate, 1000);
    EXPECT_GT(p697, 20 * p1000);
    EXPECT_GT(p1209, 20 * p1000);
    // white noise has no strong line: peak near the average
    double peak = power(noise.ch[0], rate, dominant(noise.ch[0], rate, 100, 4000, 50));
    EXPECT_LT(peak, 10 * power(noise.ch[0], rate, 1234));
    // chirp: the frequency rises through the second
    double early = dominant(chirp.ch[0], rate, 100, 5000, 20, 800, 800);   // ~0.05..0.1 s
    double late = dominant(chirp.ch[0], rate, 100, 5000, 20, 12000, 800);  // ~0.75..0.8 s
    EXPECT_LT(early, 800);
    EXPECT_GT(late, 2500);
}

TEST(SensorSim, UnknownScenario)
{
    tm_sim_sensor_t sim;
    tm_sim_accel_init(&sim, 0);
    EXPECT_EQ(sim.base.set_scenario(&sim.base, "tone", 4), TM_ERR_NO_SCENARIO);
    EXPECT_EQ(sim.base.set_scenario(&sim.base, "idl", 3), TM_ERR_NO_SCENARIO);
    EXPECT_EQ(sim.base.set_scenario(&sim.base, "walk", 4), TM_OK);
}

} // namespace
