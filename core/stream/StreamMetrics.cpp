#include "stream/StreamMetrics.h"

#include <QJsonArray>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace tinyml::stream {

namespace {

const QString kMissed = QStringLiteral("missed");

QJsonValue optionalJson(const std::optional<double> &v)
{
    return v ? QJsonValue(*v) : QJsonValue(QJsonValue::Null);
}

} // namespace

std::optional<double> nearestRankPercentile(QVector<double> values, double p)
{
    if (values.isEmpty())
        return std::nullopt;
    std::sort(values.begin(), values.end());
    const qsizetype n = values.size();
    qsizetype rank = qsizetype(std::ceil(p / 100.0 * double(n)));
    rank = std::clamp<qsizetype>(rank, 1, n);
    return values[rank - 1];
}

StreamMetricsResult computeStreamMetrics(const QVector<TruthEvent> &eventsIn,
                                         const QVector<Detection> &detectionsIn, double totalS,
                                         double toleranceS)
{
    StreamMetricsResult r;
    r.totalS = totalS;
    r.toleranceS = std::max(0.0, toleranceS);
    const double tol = r.toleranceS;

    QVector<TruthEvent> events = eventsIn;
    std::stable_sort(events.begin(), events.end(),
                     [](const TruthEvent &a, const TruthEvent &b) { return a.startS < b.startS; });
    QVector<int> order(detectionsIn.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int b) { return detectionsIn[a].tS < detectionsIn[b].tS; });

    r.events = int(events.size());
    r.detections = int(detectionsIn.size());
    r.outcomes.resize(events.size());
    double eventSeconds = 0;
    for (int i = 0; i < events.size(); ++i) {
        r.outcomes[i].event = events[i];
        r.outcomes[i].firstLabel = kMissed;
        ++r.perClass[events[i].label].events;
        eventSeconds += events[i].durationS();
    }
    auto inside = [tol](const TruthEvent &e, double t) { return t > e.startS && t <= e.endS + tol; };

    QVector<double> delays;
    for (int k : order) {
        const Detection &d = detectionsIn[k];
        int target = -1;
        bool matchedDetected = false;
        for (int i = 0; i < events.size(); ++i) {
            const TruthEvent &e = events[i];
            if (e.startS >= d.tS)
                break; // sorted by start: no later event can contain t
            if (!inside(e, d.tS))
                continue;
            EventOutcome &o = r.outcomes[i];
            if (o.firstLabel == kMissed)
                o.firstLabel = d.label;
            if (e.label != d.label)
                continue;
            if (o.detected)
                matchedDetected = true;
            else if (target < 0)
                target = i;
        }
        if (target >= 0) {
            EventOutcome &o = r.outcomes[target];
            o.detected = true;
            o.delayMs = (d.tS - o.event.startS) * 1000.0;
            delays.push_back(*o.delayMs);
            ++r.detectedEvents;
            ++r.perClass[d.label].detected;
        } else if (matchedDetected) {
            ++r.duplicates;
        } else {
            ++r.falseActivations;
            ++r.perClass[d.label].falseActivations;
        }
    }

    if (r.events > 0)
        r.recall = double(r.detectedEvents) / r.events;
    r.nonEventS = totalS - eventSeconds;
    if (r.nonEventS > 0)
        r.falseActivationsPerHour = r.falseActivations / (r.nonEventS / 3600.0);
    r.delayMedianMs = nearestRankPercentile(delays, 50);
    r.delayP90Ms = nearestRankPercentile(delays, 90);
    for (const EventOutcome &o : r.outcomes)
        ++r.confusion[o.event.label][o.firstLabel];
    return r;
}

QJsonObject StreamMetricsResult::toJson() const
{
    QJsonObject perClassRecall, eventsPerClass, falsePerClass;
    for (auto it = perClass.cbegin(); it != perClass.cend(); ++it) {
        if (it->events > 0) {
            perClassRecall.insert(it.key(), optionalJson(it->recall()));
            eventsPerClass.insert(it.key(), it->events);
        }
        if (it->falseActivations > 0)
            falsePerClass.insert(it.key(), it->falseActivations);
    }
    QJsonObject confusionJson;
    for (auto it = confusion.cbegin(); it != confusion.cend(); ++it) {
        QJsonObject row;
        for (auto jt = it->cbegin(); jt != it->cend(); ++jt)
            row.insert(jt.key(), jt.value());
        confusionJson.insert(it.key(), row);
    }
    QJsonArray eventResults;
    for (const EventOutcome &o : outcomes) {
        QJsonObject e;
        e.insert(QStringLiteral("start_s"), o.event.startS);
        e.insert(QStringLiteral("end_s"), o.event.endS);
        e.insert(QStringLiteral("label"), o.event.label);
        e.insert(QStringLiteral("detected"), o.detected);
        e.insert(QStringLiteral("first_label"), o.firstLabel);
        e.insert(QStringLiteral("delay_ms"), optionalJson(o.delayMs));
        eventResults.append(e);
    }
    QJsonObject json;
    json.insert(QStringLiteral("event_recall"),
                QJsonObject{{QStringLiteral("overall"), optionalJson(recall)},
                            {QStringLiteral("per_class"), perClassRecall}});
    json.insert(QStringLiteral("events"), events);
    json.insert(QStringLiteral("events_per_class"), eventsPerClass);
    json.insert(QStringLiteral("detected_events"), detectedEvents);
    json.insert(QStringLiteral("detections"), detections);
    json.insert(QStringLiteral("duplicates"), duplicates);
    json.insert(QStringLiteral("false_activations"), falseActivations);
    json.insert(QStringLiteral("false_activations_per_class"), falsePerClass);
    json.insert(QStringLiteral("false_activations_per_hour"), optionalJson(falseActivationsPerHour));
    json.insert(QStringLiteral("non_event_s"), nonEventS);
    json.insert(QStringLiteral("total_s"), totalS);
    json.insert(QStringLiteral("tolerance_s"), toleranceS);
    json.insert(QStringLiteral("detection_delay_ms"),
                QJsonObject{{QStringLiteral("median"), optionalJson(delayMedianMs)},
                            {QStringLiteral("p90"), optionalJson(delayP90Ms)}});
    json.insert(QStringLiteral("confusion"), confusionJson);
    json.insert(QStringLiteral("event_results"), eventResults);
    return json;
}

} // namespace tinyml::stream
