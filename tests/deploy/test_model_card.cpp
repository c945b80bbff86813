// Issue 17: the model card from a project built by hand (no training): where samples came from,
// figures with their sources, "not measured" until a profile exists, escaping in both formats.
#include <gtest/gtest.h>

#include "DeployTestGraphs.h"
#include "ModelCard.h"
#include "device/BoardRegistry.h"
#include "store/ProjectStore.h"

#include <QJsonArray>
#include <QTemporaryDir>

using namespace tinyml;
using namespace tinyml::deploy;

namespace {

Sample sample(const QString &label, Split split, const QString &source, const QString &device)
{
    Sample s;
    s.label = label;
    s.split = split;
    s.source = source;
    s.device = device;
    s.channels = {QStringLiteral("x")};
    s.data = Tensor::fromFloats({1.f, 2.f, 3.f}, {3, 1});
    return s;
}

struct CardProject {
    QTemporaryDir dir;
    std::unique_ptr<ProjectStore> store;
    BoardRegistry boards;
    qint64 int8Id = 0;

    CardProject()
    {
        QString error;
        ProjectSettings settings;
        settings.name = QStringLiteral("card test");
        settings.labels = {QStringLiteral("idle"), QStringLiteral("<b>&")};
        store = ProjectStore::create(dir.filePath(QStringLiteral("p.tinyml")), settings, &error);
        EXPECT_TRUE(store) << error.toStdString();
        EXPECT_TRUE(boards.loadDefault(&error)) << error.toStdString();
    }

    void addData()
    {
        QVector<Sample> samples;
        for (int i = 0; i < 3; ++i)
            samples << sample(QStringLiteral("idle"), Split::Train, QStringLiteral("device:qemu-m4"), QStringLiteral("qemu-m4"));
        samples << sample(QStringLiteral("idle"), Split::Test, QStringLiteral("device:qemu-m4"), QStringLiteral("qemu-m4"));
        for (int i = 0; i < 2; ++i)
            samples << sample(QStringLiteral("<b>&"), Split::Train, QStringLiteral("/data/b.csv"), QString());
        QString error;
        ASSERT_TRUE(store->addSamples(samples, &error)) << error.toStdString();
    }

    void addModel()
    {
        model::Graph g = tinyml::deploy::testing::chain();
        g.labels[1] = QStringLiteral("<b>&");
        QString error;
        ASSERT_TRUE(g.inferShapes(&error)) << error.toStdString();
        StoredModel m;
        m.kind = ModelKind::Int8;
        m.name = QStringLiteral("int8 of model 1");
        m.graph = g.serialize();
        m.metrics = {{QStringLiteral("float_accuracy"), 0.9},
                     {QStringLiteral("int8_accuracy"), 0.85},
                     {QStringLiteral("calibration"), QStringLiteral("minmax")},
                     {QStringLiteral("int8"), QJsonObject{{QStringLiteral("samples"), 1},
                                                          {QStringLiteral("per_class"),
                                                           QJsonArray{QJsonObject{{QStringLiteral("label"), QStringLiteral("<b>&")},
                                                                                  {QStringLiteral("precision"), 0.5},
                                                                                  {QStringLiteral("recall"), 0.25},
                                                                                  {QStringLiteral("f1"), 1.0 / 3},
                                                                                  {QStringLiteral("support"), 4}}}}}}};
        auto id = store->addModel(m, &error);
        ASSERT_TRUE(id) << error.toStdString();
        int8Id = *id;
    }
};

} // namespace

TEST(ModelCard, RefusesAProjectWithoutModelsAndAnUnknownModel)
{
    CardProject p;
    QString error;
    EXPECT_FALSE(collectModelCard(*p.store, std::nullopt, &p.boards, &error));
    EXPECT_TRUE(error.contains(QStringLiteral("has no models"))) << error.toStdString();
    p.addModel();
    error.clear();
    EXPECT_FALSE(collectModelCard(*p.store, 42, &p.boards, &error));
    EXPECT_TRUE(error.endsWith(QStringLiteral("no model 42 (models: %1)").arg(p.int8Id))) << error.toStdString();
}

TEST(ModelCard, FiguresCarryTheirSourceAndMissingOnesSaySo)
{
    CardProject p;
    p.addData();
    p.addModel();
    QString error;
    auto card = collectModelCard(*p.store, std::nullopt, &p.boards, &error);
    ASSERT_TRUE(card) << error.toStdString();
    EXPECT_EQ(card->modelId, p.int8Id);

    // Counts are the store's; the virtual board's samples are simulated, the file's unknown.
    ASSERT_EQ(card->labels.size(), 2);
    for (const CardLabelRow &r : card->labels) {
        if (r.label == QLatin1String("idle")) {
            EXPECT_EQ(r.train, 3);
            EXPECT_EQ(r.test, 1);
        } else {
            EXPECT_EQ(r.label, QStringLiteral("<b>&"));
            EXPECT_EQ(r.train, 2);
            EXPECT_EQ(r.test, 0);
        }
    }
    ASSERT_EQ(card->sources.size(), 2);
    for (const CardSourceRow &s : card->sources) {
        if (s.kind == QLatin1String("simulated")) {
            EXPECT_EQ(s.samples, 4);
            EXPECT_TRUE(s.origin.contains(QStringLiteral("virtual board qemu-m4")));
        } else {
            EXPECT_EQ(s.kind, QStringLiteral("imported file"));
            EXPECT_EQ(s.samples, 2);
            EXPECT_TRUE(s.origin.contains(QStringLiteral("device not recorded")));
        }
    }

    ASSERT_TRUE(card->floatAccuracy.value && card->int8Accuracy.value);
    EXPECT_EQ(*card->floatAccuracy.value, 0.9);
    EXPECT_EQ(*card->int8Accuracy.value, 0.85);
    EXPECT_TRUE(card->int8Accuracy.source.contains(QStringLiteral("Int8Executor")));
    EXPECT_FALSE(card->deviceAccuracy.value);
    EXPECT_TRUE(card->deviceAccuracy.missing.startsWith(QStringLiteral("not measured")));
    EXPECT_FALSE(card->profile);
    const QString limits = card->limits.join(QLatin1Char('\n'));
    EXPECT_TRUE(limits.contains(QStringLiteral("int8 quantization costs 5.00 percentage points"))) << limits.toStdString();
    EXPECT_TRUE(limits.contains(QStringLiteral("Label \"<b>&\" has no test samples"))) << limits.toStdString();
    EXPECT_TRUE(limits.contains(QStringLiteral("Label \"idle\" has few samples"))) << limits.toStdString();
    EXPECT_TRUE(limits.contains(QStringLiteral("The model's label \"shake\" has no samples"))) << limits.toStdString();
    EXPECT_TRUE(limits.contains(QStringLiteral("Not measured on any device"))) << limits.toStdString();

    const QString md = card->toMarkdown();
    EXPECT_TRUE(md.contains(QStringLiteral("| \\<b\\>\\& | 2 | 0 | 0 |"))) << md.toStdString();
    EXPECT_TRUE(md.contains(QStringLiteral("Latency: not measured")));
    EXPECT_TRUE(md.contains(QStringLiteral("- **int8 accuracy:** 85.00 % (host int8 evaluation")));
    EXPECT_TRUE(md.contains(QStringLiteral("fully_connected x 1")));
    EXPECT_FALSE(md.contains(QStringLiteral("<b>")));
    const QString html = card->toHtml();
    EXPECT_TRUE(html.contains(QStringLiteral("<td>&lt;b&gt;&amp;</td><td>2</td><td>0</td><td>0</td>"))) << html.toStdString();
    EXPECT_FALSE(html.contains(QStringLiteral("<b>&")));
    EXPECT_TRUE(card->toJson()[QStringLiteral("profile")].isNull());

    // A profile on the virtual Cortex-M4: instruction counts, estimated energy, not silicon.
    StoredProfile sp;
    sp.modelId = p.int8Id;
    sp.boardId = QStringLiteral("qemu-m4");
    sp.json = {{QStringLiteral("board"), QStringLiteral("qemu-m4")},
               {QStringLiteral("board_name"), QStringLiteral("Virtual Cortex-M4")},
               {QStringLiteral("clock_hz"), 25000000.0},
               {QStringLiteral("counter"), QStringLiteral("instructions")},
               {QStringLiteral("method"), QStringLiteral("INVOKE x 3 after 1 warm-up")},
               {QStringLiteral("created_utc"), QStringLiteral("2026-12-05T10:00:00Z")},
               {QStringLiteral("runs"), 3},
               {QStringLiteral("latency_ms"), QJsonObject{{QStringLiteral("min"), 1.5}, {QStringLiteral("median"), 1.75},
                                                          {QStringLiteral("max"), 2.0}}},
               {QStringLiteral("arena_bytes"), 384.0},
               {QStringLiteral("package_bytes"), 2000.0},
               {QStringLiteral("flash_bytes"), 2000.0},
               {QStringLiteral("runtime_bytes"), 0.0},
               {QStringLiteral("runtime_source"), QStringLiteral("not measured: no agent image")},
               {QStringLiteral("energy_uj"), 12.5},
               {QStringLiteral("energy_estimated"), true},
               {QStringLiteral("energy_source"), QStringLiteral("estimated: qemu-m4 power model")},
               {QStringLiteral("device_accuracy"), 1.0},
               {QStringLiteral("host_int8_accuracy"), 1.0},
               {QStringLiteral("outputs_compared"), 1},
               {QStringLiteral("bitexact_outputs"), 1}};
    ASSERT_TRUE(p.store->addProfile(sp, &error)) << error.toStdString();
    card = collectModelCard(*p.store, p.int8Id, &p.boards, &error);
    ASSERT_TRUE(card) << error.toStdString();
    ASSERT_TRUE(card->profile);
    EXPECT_TRUE(card->profile->virtualBoard);
    EXPECT_TRUE(card->profile->timing.startsWith(QStringLiteral("QEMU instruction counts"))) << card->profile->timing.toStdString();
    ASSERT_TRUE(card->deviceAccuracy.value);
    EXPECT_EQ(*card->deviceAccuracy.value, 1.0);
    EXPECT_TRUE(card->deviceAccuracy.source.contains(QStringLiteral("profile %1 on qemu-m4 at 2026-12-05T10:00:00Z").arg(sp.id)));
    const QString after = card->toMarkdown();
    EXPECT_TRUE(after.contains(QStringLiteral("1.75 ms median (1.5 ms .. 2 ms) over 3 runs; QEMU instruction counts"))) << after.toStdString();
    EXPECT_TRUE(after.contains(QStringLiteral("12.5 µJ (estimated: qemu-m4 power model)"))) << after.toStdString();
    EXPECT_TRUE(after.contains(QStringLiteral("package 2000 B; runtime not measured: no agent image"))) << after.toStdString();
    EXPECT_TRUE(card->limits.join(QLatin1Char('\n')).contains(QStringLiteral("Not measured on silicon")));
}

TEST(ModelCard, UserTextIsKeptInTheSettings)
{
    CardProject p;
    p.addModel();
    ProjectSettings s = p.store->settings();
    setIntendedUse(s, QStringLiteral("  Wrist gestures <i>only</i>  "));
    setKnownLimitsText(s, QStringLiteral("Right hand only."));
    QString error;
    ASSERT_TRUE(p.store->setSettings(s, &error)) << error.toStdString();
    auto card = collectModelCard(*p.store, std::nullopt, nullptr, &error);
    ASSERT_TRUE(card) << error.toStdString();
    EXPECT_EQ(card->intendedUse, QStringLiteral("Wrist gestures <i>only</i>"));
    EXPECT_TRUE(card->toHtml().contains(QStringLiteral("<p>Wrist gestures &lt;i&gt;only&lt;/i&gt;</p>")));
    EXPECT_TRUE(card->toMarkdown().contains(QStringLiteral("- Stated by the user: Right hand only.")));
    setIntendedUse(s, QString());
    EXPECT_TRUE(intendedUse(s).isEmpty());
    EXPECT_EQ(knownLimitsText(s), QStringLiteral("Right hand only."));
}
