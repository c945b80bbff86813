#include "stream/ScenarioScript.h"

#include "io/FloatText.h"

#include <QFile>

#include <cmath>
#include <random>

namespace tinyml::stream {

namespace {

bool fail(io::ImportError *error, const QString &file, int line, const QString &field, const QString &message)
{
    if (error)
        *error = io::ImportError{file, line, field, message};
    return false;
}

bool isBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

/// Blank-separated tokens of one line, the comment already removed.
QVector<QByteArray> tokens(const QByteArray &line)
{
    QVector<QByteArray> out;
    qsizetype i = 0;
    while (i < line.size()) {
        while (i < line.size() && isBlank(line[i]))
            ++i;
        const qsizetype start = i;
        while (i < line.size() && !isBlank(line[i]))
            ++i;
        if (i > start)
            out.push_back(line.mid(start, i - start));
    }
    return out;
}

QString shown(const QByteArray &token)
{
    QString s = QString::fromUtf8(token);
    return s.size() > 40 ? s.left(40) + QStringLiteral("...") : s;
}

} // namespace

std::optional<ScenarioScript> ScenarioScript::parse(const QByteArray &text, const QString &fileName,
                                                    const QStringList &scenarios, io::ImportError *error)
{
    ScenarioScript script;
    script.m_scenarios = scenarios;
    qsizetype pos = text.startsWith("\xEF\xBB\xBF") ? 3 : 0;
    int lineNo = 0;
    while (pos < text.size()) {
        qsizetype end = text.indexOf('\n', pos);
        if (end < 0)
            end = text.size();
        QByteArray line = text.mid(pos, end - pos);
        pos = end + 1;
        ++lineNo;
        const qsizetype hash = line.indexOf('#');
        if (hash >= 0)
            line.truncate(hash);
        const QVector<QByteArray> t = tokens(line);
        if (t.isEmpty())
            continue;
        if (t.size() != 2) {
            fail(error, fileName, lineNo, {},
                 QStringLiteral("%1 words, expected \"<scenario> <seconds>\"").arg(t.size()));
            return std::nullopt;
        }
        ScriptStep step;
        step.line = lineNo;
        step.name = QString::fromUtf8(t[0]);
        step.scenario = int(scenarios.indexOf(step.name));
        if (step.scenario < 0) {
            fail(error, fileName, lineNo, QStringLiteral("scenario"),
                 QStringLiteral("unknown scenario \"%1\" (the sensor has: %2)")
                     .arg(shown(t[0]), scenarios.join(QStringLiteral(", "))));
            return std::nullopt;
        }
        const auto seconds = io::parseFloat64(std::string_view(t[1].constData(), size_t(t[1].size())));
        if (!seconds || !std::isfinite(*seconds) || *seconds <= 0) {
            fail(error, fileName, lineNo, QStringLiteral("seconds"),
                 QStringLiteral("\"%1\" is not a number of seconds > 0").arg(shown(t[1])));
            return std::nullopt;
        }
        const double ms = std::round(*seconds * 1000.0);
        if (ms < 1 || ms > 4294967295.0) {
            fail(error, fileName, lineNo, QStringLiteral("seconds"),
                 QStringLiteral("%1 s is outside 0.001 .. 4294967.295 s (whole milliseconds)").arg(shown(t[1])));
            return std::nullopt;
        }
        step.durationMs = quint32(ms);
        if (script.m_steps.size() == kMaxSteps) {
            fail(error, fileName, lineNo, {},
                 QStringLiteral("more than %1 steps (the agent's limit)").arg(kMaxSteps));
            return std::nullopt;
        }
        script.m_steps.push_back(step);
    }
    if (script.m_steps.isEmpty()) {
        fail(error, fileName, 0, {}, QStringLiteral("no steps: one \"<scenario> <seconds>\" per line"));
        return std::nullopt;
    }
    return script;
}

std::optional<ScenarioScript> ScenarioScript::load(const QString &path, const QStringList &scenarios,
                                                   io::ImportError *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        fail(error, path, 0, {}, QStringLiteral("cannot read: %1").arg(file.errorString()));
        return std::nullopt;
    }
    return parse(file.readAll(), path, scenarios, error);
}

std::optional<ScenarioScript> ScenarioScript::randomGestures(quint32 seed, double totalS, int events,
                                                             const QStringList &gestures,
                                                             const QStringList &scenarios,
                                                             const QString &background, QString *error)
{
    auto refuse = [&](const QString &why) -> std::optional<ScenarioScript> {
        if (error)
            *error = why;
        return std::nullopt;
    };
    constexpr qint64 kGestureMs = 2000;
    constexpr qint64 kMinMeanGapMs = 1500; // gaps are drawn at 0.75..1.25 x the mean: >= ~1 s
    if (!scenarios.contains(background))
        return refuse(QStringLiteral("background scenario \"%1\" is not one of %2")
                          .arg(background, scenarios.join(QStringLiteral(", "))));
    if (events < 0 || (events > 0 && gestures.isEmpty()))
        return refuse(QStringLiteral("%1 events need at least one gesture").arg(events));
    for (const QString &g : gestures)
        if (!scenarios.contains(g))
            return refuse(QStringLiteral("gesture \"%1\" is not one of %2").arg(g, scenarios.join(QStringLiteral(", "))));
    if (2 * events + 1 > kMaxSteps)
        return refuse(QStringLiteral("%1 events need %2 steps; a script has at most %3")
                          .arg(events).arg(2 * events + 1).arg(kMaxSteps));
    if (!std::isfinite(totalS) || totalS <= 0 || totalS > 4294967.0)
        return refuse(QStringLiteral("total of %1 s is not a usable duration").arg(totalS));
    const qint64 totalMs = qint64(std::llround(totalS * 1000.0));
    const qint64 idleMs = totalMs - events * kGestureMs;
    const int gaps = events + 1;
    if (idleMs < gaps * kMinMeanGapMs)
        return refuse(QStringLiteral("%1 events of 2 s in %2 s leave %3 s of %4 per gap; at least %5 s is needed")
                          .arg(events).arg(totalS).arg(double(idleMs) / 1000.0 / gaps, 0, 'f', 2)
                          .arg(background).arg(double(kMinMeanGapMs) / 1000.0));

    // std::mt19937's raw output is specified by the standard; the distributions are not,
    // so the draws are done by hand to give one script on every platform.
    std::mt19937 rng(seed);
    auto uniform01 = [&] { return double(rng() >> 8) / double(1u << 24); };
    QVector<double> weights(gaps);
    double weightSum = 0;
    for (double &w : weights) {
        w = 0.75 + 0.5 * uniform01();
        weightSum += w;
    }
    QVector<int> gesture(events);
    for (int &g : gesture)
        g = int(rng() % quint32(gestures.size()));

    // Gap boundaries on a 100 ms grid from the cumulative weights; the last one is exactly
    // idleMs, so the total is exact and every gap is within 100 ms of its share.
    ScenarioScript script;
    script.m_scenarios = scenarios;
    const int backgroundIndex = int(scenarios.indexOf(background));
    double cumulative = 0;
    qint64 previousBoundary = 0;
    for (int i = 0; i < gaps; ++i) {
        cumulative += weights[i];
        const qint64 boundary = i == gaps - 1 ? idleMs
                                              : qint64(std::llround(double(idleMs) * cumulative / weightSum / 100.0)) * 100;
        ScriptStep idle;
        idle.scenario = backgroundIndex;
        idle.name = background;
        idle.durationMs = quint32(boundary - previousBoundary);
        previousBoundary = boundary;
        script.m_steps.push_back(idle);
        if (i < events) {
            ScriptStep g;
            g.name = gestures[gesture[i]];
            g.scenario = int(scenarios.indexOf(g.name));
            g.durationMs = quint32(kGestureMs);
            script.m_steps.push_back(g);
        }
    }
    return script;
}

QVector<SensorScriptStep> ScenarioScript::wireSteps() const
{
    QVector<SensorScriptStep> out;
    out.reserve(m_steps.size());
    for (const ScriptStep &s : m_steps)
        out.push_back(SensorScriptStep{s.scenario, s.durationMs});
    return out;
}

qint64 ScenarioScript::totalMs() const
{
    qint64 sum = 0;
    for (const ScriptStep &s : m_steps)
        sum += s.durationMs;
    return sum;
}

qint64 ScenarioScript::totalFrames(quint32 rateHz) const
{
    qint64 frames = 0;
    for (const ScriptStep &s : m_steps)
        frames += qint64(quint64(s.durationMs) * rateHz / 1000u);
    return frames;
}

double ScenarioScript::totalSeconds(quint32 rateHz) const
{
    return rateHz == 0 ? 0.0 : double(totalFrames(rateHz)) / double(rateHz);
}

GroundTruth ScenarioScript::groundTruth(quint32 rateHz, const QStringList &background) const
{
    QVector<TruthEvent> events;
    if (rateHz == 0)
        return GroundTruth();
    qint64 frame = 0;
    qint64 eventStart = -1;
    QString eventLabel;
    int eventLine = 0;
    auto close = [&](qint64 endFrame) {
        // A step shorter than one frame at this rate plays no frame: no event.
        if (eventStart >= 0 && endFrame > eventStart)
            events.push_back(TruthEvent{double(eventStart) / rateHz, double(endFrame) / rateHz, eventLabel, eventLine});
        eventStart = -1;
    };
    for (const ScriptStep &s : m_steps) {
        const bool isEvent = !background.contains(s.name);
        if (eventStart >= 0 && (!isEvent || s.name != eventLabel))
            close(frame);
        if (isEvent && eventStart < 0) {
            eventStart = frame;
            eventLabel = s.name;
            eventLine = s.line;
        }
        frame += qint64(quint64(s.durationMs) * rateHz / 1000u);
    }
    close(frame);
    return GroundTruth(std::move(events));
}

QByteArray ScenarioScript::toText() const
{
    QByteArray out;
    for (const ScriptStep &s : m_steps)
        out += s.name.toUtf8() + ' ' + io::formatFloat64(double(s.durationMs) / 1000.0) + '\n';
    return out;
}

} // namespace tinyml::stream
