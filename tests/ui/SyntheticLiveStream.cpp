#include "SyntheticLiveStream.h"

#include "live/LiveClassificationView.h"

#include <QtMath>

#include <algorithm>
#include <cmath>
#include <random>

namespace tinyml::ui::test {

SyntheticLiveStream syntheticLiveStream()
{
    SyntheticLiveStream s;
    s.labels = {QStringLiteral("idle"), QStringLiteral("shake"), QStringLiteral("circle"), QStringLiteral("updown")};
    const double seconds = 60;
    const int frames = int(seconds * s.rateHz);
    std::mt19937 rng(7);
    std::normal_distribution<float> noise(0.0f, 0.04f);

    // Truth: 10 gestures of 1.5 s, shake / circle / updown in turn.
    for (int k = 0; k < 10; ++k) {
        const double start = 3.0 + 5.5 * k;
        s.truth.push_back({start, start + 1.5, 1 + k % 3});
    }
    auto eventAt = [&](double t) -> int {
        for (int k = 0; k < s.truth.size(); ++k)
            if (t >= s.truth[k].start_s && t < s.truth[k].end_s)
                return k;
        return -1;
    };

    s.signal.resize(frames * s.channels);
    for (int f = 0; f < frames; ++f) {
        const double t = f / s.rateHz;
        float x = noise(rng), y = noise(rng), z = 1.0f + noise(rng);   // gravity on z at rest
        const int e = eventAt(t);
        if (e >= 0) {
            switch (s.truth[e].label) {
            case 1: x += 1.6f * float(qSin(2 * M_PI * 8 * t)); y += 0.6f * float(qSin(2 * M_PI * 8 * t + 1)); break;
            case 2: x += 0.9f * float(qSin(2 * M_PI * 1.3 * t)); y += 0.9f * float(qCos(2 * M_PI * 1.3 * t)); break;
            default: z += 0.8f * float(qSin(2 * M_PI * 1.5 * t)); break;
            }
        }
        s.signal[f * 3] = x;
        s.signal[f * 3 + 1] = y;
        s.signal[f * 3 + 2] = z;
    }

    // Windows every 250 ms. A gesture's class score rises 0.3 s after its start; event 6 is
    // weak (missed), and a spike at 45.2 s is a false activation.
    std::uniform_real_distribution<float> jitter(0.0f, 0.06f);
    std::normal_distribution<double> cost(0.0, 1.0);
    QVector<bool> detected(s.truth.size(), false);
    double lastDetection = -100;
    int previousDecision = -1;
    for (int i = 0; i < 240; ++i) {
        WindowRow w;
        w.t_s = 0.25 * (i + 1);
        w.scores.resize(4);
        for (float &v : w.scores)
            v = jitter(rng);
        const int e = eventAt(w.t_s - 0.3);
        int cls = -1;
        float peak = 0;
        if (e >= 0) {
            cls = s.truth[e].label;
            peak = e == 6 ? 0.5f : 0.92f;
        } else if (w.t_s >= 45.2 && w.t_s < 45.6) {
            cls = 2;
            peak = 0.85f;
        }
        if (e == 2 && w.t_s - 0.3 >= s.truth[2].start_s + 0.5 && w.t_s - 0.3 < s.truth[2].start_s + 0.75)
            peak = 0.3f;   // a dip: the decision drops for one window and comes back
        if (cls > 0)
            w.scores[cls] = peak - jitter(rng);
        float rest = 0;
        for (int c = 1; c < 4; ++c)
            rest += w.scores[c];
        w.scores[0] = qMax(0.0f, 1.0f - rest);
        int best = 0;
        for (int c = 1; c < 4; ++c)
            if (w.scores[c] > w.scores[best])
                best = c;
        w.decision = w.scores[best] >= 0.6f ? best : -1;
        // An event fires where a class decision begins; within 1 s of the last one it is
        // suppressed.
        if (w.decision > 0 && w.decision != previousDecision) {
            if (w.t_s - lastDetection > 1.0) {
                w.detection = true;
                lastDetection = w.t_s;
                ++s.detections;
                if (e >= 0)
                    detected[e] = true;
            } else {
                w.suppressed = true;
                ++s.suppressed;
            }
        }
        previousDecision = w.decision;
        w.dspMs = 1.8 + 0.05 * cost(rng);
        w.modelMs = 6.2 + 0.1 * cost(rng);
        w.postMs = 0.05;
        s.windows << w;
    }

    MetricsRow &m = s.metrics;
    m.windows = s.windows.size();
    m.overruns = 0;
    m.streamSeconds = seconds;
    m.eventsTotal = s.truth.size();
    m.eventsDetected = int(std::count(detected.cbegin(), detected.cend(), true));
    m.recall = double(m.eventsDetected) / m.eventsTotal;
    m.classRecall = {std::nullopt, 1.0, 2.0 / 3.0, 1.0};   // event 6 is a circle
    m.falseActivations = 1;
    m.falseActivationsPerHour = 1 / (seconds / 3600.0);
    m.delayMedianMs = 320;
    m.delayP90Ms = 480;
    m.hostEqualWindows = 240;
    m.hostComparedWindows = 240;

    // Sweep: threshold x averaging x suppression.
    for (int ti = 0; ti < 10; ++ti)
        for (int avg = 1; avg <= 3; ++avg)
            for (double sup : {500.0, 1000.0}) {
                CalibrationRow r;
                r.threshold = 0.5 + 0.05 * ti;
                r.averageWindows = avg;
                r.suppressionMs = sup;
                const double fa = 240.0 * qExp(-12.0 * (r.threshold - 0.5)) / qPow(avg, 0.9) * (sup < 800 ? 1.4 : 1.0);
                r.faPerHour = fa < 0.8 ? 0.0 : std::round(fa * 10) / 10;
                r.frr = 0.015 + 1.1 * qPow(r.threshold - 0.45, 2) + 0.025 * (avg - 1) + (sup < 800 ? 0.0 : 0.01);
                s.calibration << r;
            }
    for (CalibrationRow &a : s.calibration) {
        a.onFront = true;
        for (const CalibrationRow &b : std::as_const(s.calibration))
            if (b.faPerHour <= a.faPerHour && b.frr <= a.frr && (b.faPerHour < a.faPerHour || b.frr < a.frr)) {
                a.onFront = false;
                break;
            }
    }
    for (int i = 0; i < s.calibration.size(); ++i) {
        const CalibrationRow &r = s.calibration[i];
        if (r.onFront && r.faPerHour <= 2.0 && (s.chosen < 0 || r.frr < s.calibration[s.chosen].frr))
            s.chosen = i;
    }
    return s;
}

void feedLiveView(LiveClassificationView &view, const SyntheticLiveStream &s)
{
    const int framesPerWindow = int(0.25 * s.rateHz);
    for (int i = 0; i < s.windows.size(); ++i) {
        const qint64 first = qint64(i) * framesPerWindow;
        view.appendSignal(first, s.rateHz, s.signal.mid(int(first) * s.channels, framesPerWindow * s.channels),
                          s.channels);
        view.addWindow(s.windows[i]);
    }
    view.setTruth(s.truth);
    view.setMetrics(s.metrics);
}

} // namespace tinyml::ui::test
