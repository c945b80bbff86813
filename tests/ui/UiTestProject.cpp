#include "UiTestProject.h"

#include "models/BoardCatalog.h"

#include "TrainingPipeline.h"
#include "device/AgentLink.h"
#include "device/CaptureSession.h"
#include "device/VirtualBoard.h"

#include <QFile>
#include <QHash>
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

std::unique_ptr<ProjectStore> createCapturedMotionProject(const QString &path, const QString &boardId, int perLabel,
                                                          double seconds, QString *error)
{
    ProjectSettings settings;
    settings.name = QStringLiteral("gesture-wand");
    settings.templateName = QStringLiteral("motion");
    settings.boardId = boardId;
    settings.labels = {QStringLiteral("idle"), QStringLiteral("shake"), QStringLiteral("circle"), QStringLiteral("updown")};
    settings.sensor = QStringLiteral("accel");
    settings.sampleRateHz = 100;
    settings.sampleLengthS = seconds;
    auto store = ProjectStore::create(path, settings, error);
    if (!store)
        return nullptr;
    const BoardDefinition *def = BoardCatalog::board(boardId);
    if (!def) {
        *error = QStringLiteral("unknown board %1").arg(boardId);
        return nullptr;
    }
    VirtualBoard board(*def, VirtualBoard::Options{});   // batch speed
    if (!board.start(error))
        return nullptr;
    for (const QString &label : settings.labels) {
        if (!board.link()->setScenario(QStringLiteral("accel"), label, error))
            return nullptr;
        CaptureOptions options;
        options.label = label;
        options.sensor = QStringLiteral("accel");
        options.rateHz = 100;
        options.durationS = seconds;
        options.count = perLabel;
        CaptureSession capture(board.link(), store.get(), options);
        if (!capture.run(60000, error))
            return nullptr;
        QVector<qint64> test;
        const QVector<qint64> &ids = capture.result().sampleIds;
        for (int i = 4; i < ids.size(); i += 5)
            test << ids[i];
        if (!test.isEmpty() && !store->setSplit(test, Split::Test, error))
            return nullptr;
    }
    return store;
}

bool writeMotionSession(const ProjectStore &store, const QStringList &labels, const QString &csvPath,
                        const QString &truthPath, QString *error)
{
    QHash<QString, QVector<Sample>> byLabel;
    for (const Sample &s : store.samples())
        byLabel[s.label] << s;
    QHash<QString, int> used;
    QByteArray csv = "timestamp,x,y,z\n";
    QByteArray truth = "start_s,end_s,label\n";
    qint64 frame = 0;
    for (const QString &label : labels) {
        const QVector<Sample> &pool = byLabel.value(label);
        const int n = used[label]++;
        if (n >= pool.size()) {
            *error = QStringLiteral("only %1 samples labelled %2").arg(pool.size()).arg(label);
            return false;
        }
        const QVector<float> v = pool[n].data.toFloats();
        const qint64 frames = v.size() / 3;
        if (label != QLatin1String("idle"))
            truth += QByteArray::number(frame / 100.0) + ',' + QByteArray::number((frame + frames) / 100.0) + ',' +
                     label.toUtf8() + '\n';
        for (qint64 i = 0; i < frames; ++i, ++frame)
            csv += QByteArray::number(frame * 10) + ',' + QByteArray::number(v[3 * i]) + ',' +
                   QByteArray::number(v[3 * i + 1]) + ',' + QByteArray::number(v[3 * i + 2]) + '\n';
    }
    for (const auto &[path, bytes] : {std::pair{csvPath, csv}, std::pair{truthPath, truth}}) {
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly) || f.write(bytes) != bytes.size()) {
            *error = QStringLiteral("%1: %2").arg(path, f.errorString());
            return false;
        }
    }
    return true;
}

qint64 trainInt8Model(ProjectStore &store, int epochs, QString *error)
{
    training::ProjectTrainOptions train;
    train.train.epochs = epochs;
    train.train.seed = 3;
    train.train.threads = 1;
    if (!training::trainProject(store, train, error))
        return 0;
    training::ProjectQuantizeOptions quantize;
    quantize.qatThreshold = -1.0;
    quantize.train.seed = 3;
    quantize.train.threads = 1;
    const auto q = training::quantizeProject(store, quantize, error);
    return q ? q->modelId : 0;
}

} // namespace tinyml::ui::test
