// The simulated sensors: scenarios must differ clearly in amplitude and frequency. The
// statistics are computed here, independently of the code under test.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <functional>
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

// ---- the vibration sensor on a simulated rotating machine --------------------------------
// Spectra are computed here with a plain DFT at chosen frequencies; the machine's constants
// (shaft 25 Hz +-10 %, a 6205 bearing's BPFO = 3.585 x shaft speed, the mode near 2.2 kHz)
// are the documented ones in tm_sensor.h.

constexpr double kBpfoOrder = 4.5 * (1.0 - 7.94 / 39.04);

Recording recordVib(const std::string &scenario, uint32_t rate, uint32_t n, uint32_t seed = 1,
                    int skipRecordings = 0)
{
    tm_sim_sensor_t sim;
    tm_sim_vibration_init(&sim, 2);
    tm_sensor_t *s = &sim.base;
    s->set_seed(s, seed);
    EXPECT_EQ(s->set_scenario(s, scenario.data(), scenario.size()), TM_OK) << scenario;
    for (int i = 0; i < skipRecordings; ++i)
        s->start(s, rate);
    EXPECT_EQ(s->start(s, rate), TM_OK);
    Recording r{rate, 3, s->desc->scale, {}};
    r.ch.resize(3);
    const uint32_t piece = 83; // what the agent reads per STREAM_DATA frame of 3 channels
    std::vector<int16_t> buf(3 * piece);
    for (uint32_t done = 0; done < n; done += piece) {
        const uint32_t k = std::min(piece, n - done);
        s->read(s, buf.data(), k);
        for (uint32_t i = 0; i < k; ++i)
            for (int c = 0; c < 3; ++c)
                r.ch[size_t(c)].push_back(buf[size_t(i * 3 + uint32_t(c))] * double(r.scale));
    }
    return r;
}

std::complex<double> dft(const std::vector<double> &v, double rate, double f)
{
    std::complex<double> acc;
    const double m = mean(v);
    for (size_t i = 0; i < v.size(); ++i)
        acc += (v[i] - m) * std::polar(1.0, -2 * M_PI * f * double(i) / rate);
    return acc / double(v.size());
}

// Energy of the spectrum over [lo, hi] (a line that wanders with the speed stays inside).
double bandEnergy(const std::vector<double> &v, double rate, double lo, double hi)
{
    const double step = rate / double(v.size()) / 2; // half a bin
    double e = 0;
    for (double f = lo; f <= hi; f += step)
        e += std::norm(dft(v, rate, f));
    return e;
}

// Energy around order k of the shaft speed f_r.
double orderEnergy(const std::vector<double> &v, double rate, double fr, double k)
{
    return bandEnergy(v, rate, 0.96 * k * fr, 1.04 * k * fr);
}

// The shaft speed: the 1x line of the imbalance recording with the same seed (speed and noise
// do not depend on the scenario).
double shaftSpeed(uint32_t rate, uint32_t n, uint32_t seed)
{
    Recording imb = recordVib("imbalance:high", rate, n, seed);
    return dominant(imb.ch[0], rate, 20.0, 30.0, 0.05);
}

// Squared first difference: the envelope of the high-frequency content (the 1x and its low
// orders are suppressed by the difference, the ringing is not).
std::vector<double> envelope(const std::vector<double> &v)
{
    std::vector<double> e(v.size() - 1);
    for (size_t i = 1; i < v.size(); ++i)
        e[i - 1] = (v[i] - v[i - 1]) * (v[i] - v[i - 1]);
    return e;
}

TEST(SensorSimVibration, DescribesItselfAsASimulatedThreeAxisSensor)
{
    tm_sim_sensor_t sim;
    tm_sim_vibration_init(&sim, 2);
    const tm_sensor_desc_t *d = sim.base.desc;
    EXPECT_EQ(sim.base.id, 2);
    EXPECT_EQ(d->kind, TM_SENSOR_VIBRATION);
    EXPECT_EQ(std::string(d->name), "vib");
    EXPECT_EQ(d->channels, 3);
    EXPECT_EQ(d->min_rate_hz, 400u);
    EXPECT_GE(d->max_rate_hz, 6400u);
    EXPECT_EQ(d->default_rate_hz, 6400u);
    EXPECT_TRUE(d->simulated);
    std::vector<std::string> names(d->scenarios, d->scenarios + d->scenario_count);
    EXPECT_EQ(names, (std::vector<std::string>{"normal", "imbalance", "misalignment", "looseness", "bearing"}));
    EXPECT_LE(d->scenario_count, TM_SENSOR_MAX_SCENARIOS);
}

TEST(SensorSimVibration, NormalMachineIsQuietAndCentred)
{
    Recording r = recordVib("normal", 6400, 12800);
    for (int c = 0; c < 3; ++c) {
        EXPECT_LT(std::fabs(mean(r.ch[size_t(c)])), 0.02) << c; // AC-coupled: no gravity
        EXPECT_GT(acRms(r.ch[size_t(c)]), 0.03) << c;
        EXPECT_LT(acRms(r.ch[size_t(c)]), 0.5) << c;
    }
}

TEST(SensorSimVibration, ShaftSpeedStaysWithinTenPercentOfTwentyFiveHertz)
{
    std::vector<double> speeds;
    for (uint32_t seed = 1; seed <= 12; ++seed)
        speeds.push_back(shaftSpeed(3200, 6400, seed));
    for (double f : speeds) {
        EXPECT_GE(f, 22.5);
        EXPECT_LE(f, 27.5);
    }
    // machines differ: not all at one speed
    auto [lo, hi] = std::minmax_element(speeds.begin(), speeds.end());
    EXPECT_GT(*hi - *lo, 1.0);
}

TEST(SensorSimVibration, ImbalanceIsAStrongRadialOneTimesLineInQuadrature)
{
    const uint32_t rate = 6400, n = 12800;
    const double fr = shaftSpeed(rate, n, 3);
    Recording normal = recordVib("normal", rate, n, 3);
    Recording imb = recordVib("imbalance:medium", rate, n, 3);
    for (int c : {0, 1})
        EXPECT_GT(orderEnergy(imb.ch[size_t(c)], rate, fr, 1), 10 * orderEnergy(normal.ch[size_t(c)], rate, fr, 1)) << c;
    // radial, not axial
    EXPECT_GT(orderEnergy(imb.ch[0], rate, fr, 1), 20 * orderEnergy(imb.ch[2], rate, fr, 1));
    // x and y a quarter turn apart: a rotating force
    const double f1 = dominant(imb.ch[0], rate, 0.9 * fr, 1.1 * fr, 0.02);
    const double dphi = std::arg(dft(imb.ch[1], rate, f1) / dft(imb.ch[0], rate, f1));
    EXPECT_NEAR(std::fabs(dphi), M_PI / 2, 0.3);
    // the line is the shaft's, not one of its orders
    EXPECT_NEAR(dominant(imb.ch[0], rate, 5, 300, 0.25), fr, 0.5);
}

TEST(SensorSimVibration, MisalignmentIsTwoTimesStrongestAxially)
{
    const uint32_t rate = 6400, n = 12800;
    const double fr = shaftSpeed(rate, n, 4);
    Recording normal = recordVib("normal", rate, n, 4);
    Recording mis = recordVib("misalignment", rate, n, 4);
    EXPECT_GT(orderEnergy(mis.ch[2], rate, fr, 2), 20 * orderEnergy(normal.ch[2], rate, fr, 2));
    EXPECT_GT(orderEnergy(mis.ch[2], rate, fr, 1), 2 * orderEnergy(normal.ch[2], rate, fr, 1));
    // axial 2x above radial 2x, and 2x above 1x on the axial channel
    EXPECT_GT(orderEnergy(mis.ch[2], rate, fr, 2), 3 * orderEnergy(mis.ch[0], rate, fr, 2));
    EXPECT_GT(orderEnergy(mis.ch[2], rate, fr, 2), orderEnergy(mis.ch[2], rate, fr, 1));
    EXPECT_NEAR(dominant(mis.ch[2], rate, 5, 300, 0.25), 2 * fr, 1.0);
}

TEST(SensorSimVibration, LoosenessHasManyHarmonicsAndSubHarmonics)
{
    const uint32_t rate = 6400, n = 12800;
    const double fr = shaftSpeed(rate, n, 5);
    Recording normal = recordVib("normal", rate, n, 5);
    Recording loose = recordVib("looseness", rate, n, 5);
    // a healthy machine has a 1x of its own; the orders above it are the looseness's
    EXPECT_GT(orderEnergy(loose.ch[1], rate, fr, 1), 2 * orderEnergy(normal.ch[1], rate, fr, 1));
    for (int k = 2; k <= 8; ++k)
        EXPECT_GT(orderEnergy(loose.ch[1], rate, fr, k), 10 * orderEnergy(normal.ch[1], rate, fr, k)) << k;
    for (double k : {0.5, 1.5, 2.5})
        EXPECT_GT(orderEnergy(loose.ch[1], rate, fr, k), 10 * orderEnergy(normal.ch[1], rate, fr, k)) << k;
    // mostly vertical
    EXPECT_GT(orderEnergy(loose.ch[1], rate, fr, 3), 4 * orderEnergy(loose.ch[0], rate, fr, 3));
    // an impacting waveform: peaks well above the RMS (a sine's crest factor is 1.41)
    const double peak = *std::max_element(loose.ch[1].begin(), loose.ch[1].end(),
                                          [](double a, double b) { return std::fabs(a) < std::fabs(b); });
    EXPECT_GT(std::fabs(peak) / acRms(loose.ch[1]), 2.5);
}

TEST(SensorSimVibration, BearingDefectRingsTheResonanceAtBpfo)
{
    const uint32_t rate = 6400, n = 12800;
    const double fr = shaftSpeed(rate, n, 6);
    const double bpfo = kBpfoOrder * fr;
    Recording normal = recordVib("normal", rate, n, 6);
    Recording bear = recordVib("bearing", rate, n, 6);
    const std::vector<double> eb = envelope(bear.ch[1]), en = envelope(normal.ch[1]);
    // the envelope spectrum's line at BPFO
    EXPECT_GT(orderEnergy(eb, rate, bpfo, 1), 20 * orderEnergy(en, rate, bpfo, 1));
    EXPECT_NEAR(dominant(eb, rate, 60, 130, 0.25) / fr, kBpfoOrder, 0.12);
    // ... and at its harmonic
    EXPECT_GT(orderEnergy(eb, rate, bpfo, 2), 10 * orderEnergy(en, rate, bpfo, 2));
    // the impacts ring the structural mode near 2.2 kHz
    EXPECT_NEAR(dominant(bear.ch[1], rate, 1000, 3150, 10), 2200, 200); // mode +-3 %, BPFO comb
    // the 1x stays a healthy machine's: the fault is in the high band only
    EXPECT_LT(orderEnergy(bear.ch[0], rate, fr, 1), 2 * orderEnergy(normal.ch[0], rate, fr, 1));
}

TEST(SensorSimVibration, SeverityScalesTheFaultMonotonically)
{
    const uint32_t rate = 6400, n = 6400, seed = 9;
    const double fr = shaftSpeed(rate, n, seed);
    struct Fault {
        const char *name;
        std::function<double(const Recording &)> signature;
    };
    const std::vector<Fault> faults = {
        {"imbalance", [&](const Recording &r) { return orderEnergy(r.ch[0], rate, fr, 1); }},
        {"misalignment", [&](const Recording &r) { return orderEnergy(r.ch[2], rate, fr, 2); }},
        {"looseness", [&](const Recording &r) { return orderEnergy(r.ch[1], rate, fr, 3); }},
        {"bearing", [&](const Recording &r) { return orderEnergy(envelope(r.ch[1]), rate, kBpfoOrder * fr, 1); }},
    };
    for (const Fault &f : faults) {
        double previous = f.signature(recordVib("normal", rate, n, seed));
        for (const char *sev : {"0.1", "low", "medium", "0.75", "high"}) {
            const double now = f.signature(recordVib(std::string(f.name) + ":" + sev, rate, n, seed));
            EXPECT_GT(now, 1.2 * previous) << f.name << ":" << sev;
            previous = now;
        }
    }
}

TEST(SensorSimVibration, SeverityZeroIsTheHealthyMachineAndNamesAgree)
{
    // Speed, load and noise do not depend on the scenario: a fault of severity 0 is the very
    // same recording as the normal machine, and the spellings of one severity agree.
    Recording normal = recordVib("normal", 6400, 3000, 11);
    for (const char *f : {"imbalance:0", "misalignment:0.0", "looseness:0", "bearing:.0"})
        EXPECT_EQ(recordVib(f, 6400, 3000, 11).ch, normal.ch) << f;
    Recording bare = recordVib("bearing", 6400, 3000, 11);
    EXPECT_EQ(recordVib("bearing:medium", 6400, 3000, 11).ch, bare.ch);
    EXPECT_EQ(recordVib("bearing:0.5", 6400, 3000, 11).ch, bare.ch);
    EXPECT_EQ(recordVib("bearing:high", 6400, 3000, 11).ch, recordVib("bearing:1.0", 6400, 3000, 11).ch);
    EXPECT_NE(bare.ch, normal.ch);
}

TEST(SensorSimVibration, SameSeedSameSamplesOtherSeedOtherMachine)
{
    Recording a = recordVib("looseness:0.3", 6400, 4000, 21);
    Recording b = recordVib("looseness:0.3", 6400, 4000, 21);
    EXPECT_EQ(a.ch, b.ch);
    EXPECT_NE(recordVib("looseness:0.3", 6400, 4000, 22).ch, a.ch);
    EXPECT_NE(recordVib("looseness:0.3", 6400, 4000, 21, 1).ch, a.ch); // the next recording
}

TEST(SensorSimVibration, ScenarioNamesAndSeverities)
{
    tm_sim_sensor_t sim;
    tm_sim_vibration_init(&sim, 2);
    tm_sensor_t *s = &sim.base;
    auto set = [&](const std::string &name) { return s->set_scenario(s, name.data(), name.size()); };
    for (const char *ok : {"normal", "imbalance", "imbalance:low", "misalignment:medium", "looseness:high",
                           "bearing:0", "bearing:1", "bearing:1.0", "bearing:0.4", "bearing:.25", "bearing:0.12345678"})
        EXPECT_EQ(set(ok), TM_OK) << ok;
    EXPECT_FLOAT_EQ(sim.severity, 0.12345678f);
    for (const char *unknown : {"bogus", "", "imbalanc", "imbalance2", ":low", "Bearing", "idle"})
        EXPECT_EQ(set(unknown), TM_ERR_NO_SCENARIO) << unknown;
    for (const char *bad : {"imbalance:", "imbalance:1.5", "imbalance:2", "imbalance:-0.1", "imbalance:0.4x",
                            "imbalance:.", "imbalance:0..4", "imbalance:HIGH", "imbalance:medium ", "normal:low",
                            "normal:0", "imbalance:0.123456789", "imbalance:4294967296", "imbalance:1.01",
                            "imbalance:low:high"})
        EXPECT_EQ(set(bad), TM_ERR_BAD_ARGUMENT) << bad;
    // a refused name leaves the scenario as it was
    EXPECT_EQ(set("imbalance:high"), TM_OK);
    EXPECT_EQ(set("bearing:7"), TM_ERR_BAD_ARGUMENT);
    EXPECT_EQ(sim.scenario, 1);
    EXPECT_FLOAT_EQ(sim.severity, 1.0f);
    EXPECT_EQ(set("normal"), TM_OK);
    EXPECT_FLOAT_EQ(sim.severity, 0.0f);
    EXPECT_EQ(set("bearing"), TM_OK);
    EXPECT_FLOAT_EQ(sim.severity, 0.5f);
    // the other sensors keep exact names: no severity suffix
    tm_sim_sensor_t acc;
    tm_sim_accel_init(&acc, 0);
    EXPECT_EQ(acc.base.set_scenario(&acc.base, "shake:high", 10), TM_ERR_NO_SCENARIO);
}

TEST(SensorSimVibration, RatesAtTheLimits)
{
    tm_sim_sensor_t sim;
    tm_sim_vibration_init(&sim, 2);
    const uint32_t lo = sim.base.desc->min_rate_hz, hi = sim.base.desc->max_rate_hz;
    for (uint32_t rate : {lo, hi}) {
        Recording r = recordVib("bearing:high", rate, 2 * rate, 13);
        for (int c = 0; c < 3; ++c) {
            ASSERT_EQ(r.ch[size_t(c)].size(), 2 * rate);
            for (double v : r.ch[size_t(c)])
                ASSERT_LT(std::fabs(v), 60.0) << "clipped at " << rate << " Hz";
        }
        Recording imb = recordVib("imbalance", rate, 2 * rate, 13);
        EXPECT_NEAR(dominant(imb.ch[0], rate, 5, std::min(300.0, 0.45 * rate), 0.25),
                    shaftSpeed(rate, 2 * rate, 13), 0.5) << rate;
    }
    // At 400 Hz the 2.2 kHz mode is beyond the anti-alias filter: a bearing defect leaves
    // the signal as the healthy machine's (as on a real sensor sampled too slowly) ...
    Recording slowBearing = recordVib("bearing:high", lo, 2 * lo, 13);
    Recording slowNormal = recordVib("normal", lo, 2 * lo, 13);
    EXPECT_EQ(slowBearing.ch, slowNormal.ch);
    // ... while at the top rate it rings near 2.2 kHz, below Nyquist.
    Recording fast = recordVib("bearing:high", hi, 2 * hi, 13);
    EXPECT_NEAR(dominant(fast.ch[1], hi, 1000, 4000, 10), 2200, 200);
}

} // namespace
