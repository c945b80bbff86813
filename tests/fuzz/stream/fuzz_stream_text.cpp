// Truth CSV (GroundTruth::parseCsv) and scenario script (ScenarioScript::parse). The first
// byte picks the parser and whether a label / scenario list is given. Invariants on what
// they accept: events sorted, finite, non-negative, non-empty and non-overlapping; known
// labels only; steps within the agent's limits; the text forms read back to the same
// values; the derived ground truth is itself a valid truth.
#include "stream/GroundTruth.h"
#include "stream/ScenarioScript.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

using namespace tinyml;
using namespace tinyml::stream;

namespace {

void require(bool condition, const char *what)
{
    if (!condition) {
        std::fprintf(stderr, "invariant violated: %s\n", what);
        std::abort();
    }
}

void checkTruth(const GroundTruth &t, const QStringList &labels)
{
    double latestEnd = 0;
    for (const TruthEvent &e : t.events()) {
        require(std::isfinite(e.startS) && std::isfinite(e.endS), "finite times");
        require(e.startS >= 0 && e.endS > e.startS, "ordered times");
        require(e.startS >= latestEnd, "no overlap, sorted");
        require(!e.label.isEmpty(), "non-empty label");
        require(labels.isEmpty() || labels.contains(e.label), "known label");
        latestEnd = e.endS;
    }
}

void checkError(const io::ImportError &e, const QString &file)
{
    require(e.file == file, "error names the file");
    require(!e.message.isEmpty(), "error has a message");
    require(e.line >= 0, "line is not negative");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t mode = data[0];
    const QByteArray bytes(reinterpret_cast<const char *>(data + 1), qsizetype(size - 1));
    const QStringList names = {QStringLiteral("idle"), QStringLiteral("shake"), QStringLiteral("circle")};
    io::ImportError error;
    if (mode & 1) {
        const QString file = QStringLiteral("fuzz.script");
        auto s = ScenarioScript::parse(bytes, file, names, &error);
        if (!s) {
            checkError(error, file);
            return 0;
        }
        require(!s->steps().isEmpty() && s->steps().size() <= ScenarioScript::kMaxSteps, "step count");
        for (const ScriptStep &step : s->steps()) {
            require(step.durationMs > 0, "positive duration");
            require(step.scenario >= 0 && step.scenario < names.size() && names[step.scenario] == step.name,
                    "scenario index");
        }
        auto back = ScenarioScript::parse(s->toText(), file, names, &error);
        require(back && back->steps().size() == s->steps().size(), "script text round trip");
        for (int i = 0; i < s->steps().size(); ++i)
            require(back->steps()[i].durationMs == s->steps()[i].durationMs
                        && back->steps()[i].scenario == s->steps()[i].scenario,
                    "script step round trip");
        const quint32 rate = (mode & 2) ? 16000 : 100;
        const GroundTruth t = s->groundTruth(rate);
        checkTruth(t, {});
        require(t.events().isEmpty() || t.events().last().endS <= s->totalSeconds(rate), "events inside the script");
        require(!sensorScriptPayload(0, s->wireSteps()).isEmpty(), "wire payload fits");
    } else {
        const QString file = QStringLiteral("fuzz.csv");
        const QStringList labels = (mode & 2) ? names : QStringList();
        auto t = GroundTruth::parseCsv(bytes, file, labels, &error);
        if (!t) {
            checkError(error, file);
            return 0;
        }
        checkTruth(*t, labels);
        auto back = GroundTruth::parseCsv(t->toCsv(), file, labels, &error);
        require(back && back->events().size() == t->events().size(), "truth CSV round trip");
        for (int i = 0; i < t->events().size(); ++i)
            require(back->events()[i].startS == t->events()[i].startS && back->events()[i].endS == t->events()[i].endS
                        && back->events()[i].label == t->events()[i].label,
                    "truth event round trip");
    }
    return 0;
}
