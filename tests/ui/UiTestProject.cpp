#include "UiTestProject.h"

#include <QtMath>

#include <random>

namespace tinyml::ui::test {

Sample motionSample(const QString &label, qint64 frames, double rateHz, double phase)
{
    Sample s;
    s.label = label;
    s.source = QStringLiteral("device:test");
    s.device = QStringLiteral("test-board");
    s.sensor = QStringLiteral("accel");
    s.created = QDateTime::currentDateTimeUtc();
    s.sampleRateHz = rateHz;
    s.channels = {QStringLiteral("x"), QStringLiteral("y"), QStringLiteral("z")};
    s.units = {QStringLiteral("m/s2"), QStringLiteral("m/s2"), QStringLiteral("m/s2")};
    const double f = label == QLatin1String("shake") ? 6.0 : label == QLatin1String("circle") ? 1.0 : 2.0;
    const double a = label == QLatin1String("idle") ? 0.2 : 4.0;
    QVector<float> v;
    v.reserve(frames * 3);
    for (qint64 i = 0; i < frames; ++i) {
        const double t = double(i) / rateHz;
        v << float(a * qSin(2 * M_PI * f * t + phase)) << float(a * qCos(2 * M_PI * f * t + phase))
          << float(9.81 + 0.5 * a * qSin(4 * M_PI * f * t));
    }
    s.data = Tensor::fromFloats(v, {frames, 3});
    return s;
}

Sample audioSample(const QString &label, qint64 frames, double rateHz, double pitch, unsigned seed)
{
    Sample s;
    s.label = label;
    s.source = QStringLiteral("device:test");
    s.device = QStringLiteral("test-board");
    s.sensor = QStringLiteral("mic");
    s.created = QDateTime::currentDateTimeUtc();
    s.sampleRateHz = rateHz;
    s.channels = {QStringLiteral("audio")};
    s.units = {QStringLiteral("1")};
    std::mt19937 rng(seed);
    std::normal_distribution<float> noise(0.0f, 0.02f);
    QVector<float> v;
    v.reserve(frames);
    double phase = 0;
    for (qint64 i = 0; i < frames; ++i) {
        const double t = double(i) / double(frames);
        phase += 2 * M_PI * pitch * (300.0 + 2500.0 * t) / rateHz;
        const double envelope = qSin(M_PI * t);
        v << float(0.6 * envelope * qSin(phase)) + noise(rng);
    }
    s.data = Tensor::fromFloats(v, {frames, 1});
    return s;
}

std::unique_ptr<ProjectStore> createMotionProject(const QString &path, int perLabel, QString *error)
{
    ProjectSettings settings;
    settings.name = QStringLiteral("gesture-wand");
    settings.templateName = QStringLiteral("motion");
    settings.boardId = QStringLiteral("host");
    settings.labels = {QStringLiteral("idle"), QStringLiteral("shake"), QStringLiteral("circle"), QStringLiteral("updown")};
    settings.sensor = QStringLiteral("accel");
    settings.sampleRateHz = 100;
    settings.sampleLengthS = 2;
    auto store = ProjectStore::create(path, settings, error);
    if (!store)
        return nullptr;
    QVector<Sample> samples;
    int n = 0;
    for (const QString &label : settings.labels)
        for (int i = 0; i < perLabel; ++i) {
            Sample s = motionSample(label, 200, 100.0, 0.3 * i);
            s.split = (n++ % 5 == 4) ? Split::Test : Split::Train;
            s.created = QDateTime(QDate(2026, 7, 14), QTime(9, 30).addSecs(n * 37), Qt::UTC);
            samples << s;
        }
    if (!store->addSamples(samples, error))
        return nullptr;
    return store;
}

} // namespace tinyml::ui::test
