// The one table of project templates the new-project wizard and `tinyml new --template`
// share (core/store/ProjectTemplate): the defaults an engineer gets, written out here.
#include <gtest/gtest.h>

#include <QSet>

#include "store/ProjectTemplate.h"

namespace
{

using tinyml::ProjectTemplate;

TEST(ProjectTemplate, StreamedTemplatesCarryTheirSensorRateAndLength)
{
    const ProjectTemplate *motion = ProjectTemplate::find(QStringLiteral("motion"));
    ASSERT_NE(motion, nullptr);
    EXPECT_EQ(motion->sensor, QStringLiteral("accel"));
    EXPECT_DOUBLE_EQ(motion->sampleRateHz, 100.0);
    EXPECT_DOUBLE_EQ(motion->sampleLengthS, 2.0);
    EXPECT_TRUE(motion->isStreamed());

    const ProjectTemplate *audio = ProjectTemplate::find(QStringLiteral("audio"));
    ASSERT_NE(audio, nullptr);
    EXPECT_EQ(audio->sensor, QStringLiteral("mic"));
    EXPECT_DOUBLE_EQ(audio->sampleRateHz, 16000.0);
    EXPECT_DOUBLE_EQ(audio->sampleLengthS, 1.0);

    // The simulated machine's vibration sensor at the lowest rate that shows its resonance.
    const ProjectTemplate *vibration = ProjectTemplate::find(QStringLiteral("vibration"));
    ASSERT_NE(vibration, nullptr);
    EXPECT_EQ(vibration->sensor, QStringLiteral("vib"));
    EXPECT_DOUBLE_EQ(vibration->sampleRateHz, 6400.0);
    EXPECT_DOUBLE_EQ(vibration->sampleLengthS, 1.0);
    EXPECT_TRUE(vibration->labels.contains(QStringLiteral("normal")));

    for (const char *imported : {"image", "tabular"}) {
        const ProjectTemplate *t = ProjectTemplate::find(QLatin1String(imported));
        ASSERT_NE(t, nullptr) << imported;
        EXPECT_TRUE(t->sensor.isEmpty()) << imported;
        EXPECT_FALSE(t->isStreamed()) << imported;
    }
}

TEST(ProjectTemplate, UnknownIdsAreNotFoundAndTheListNamesEveryId)
{
    EXPECT_EQ(ProjectTemplate::find(QStringLiteral("radar")), nullptr);
    EXPECT_EQ(ProjectTemplate::byId(QStringLiteral("radar")).id, QStringLiteral("motion"));
    EXPECT_EQ(ProjectTemplate::idList(), QStringLiteral("motion, audio, image, tabular, vibration"));
    QSet<QString> ids;
    for (const ProjectTemplate &t : ProjectTemplate::all()) {
        EXPECT_FALSE(ids.contains(t.id)) << t.id.toStdString();
        ids.insert(t.id);
        EXPECT_FALSE(t.title.isEmpty()) << t.id.toStdString();
        EXPECT_FALSE(t.labels.isEmpty()) << t.id.toStdString();
    }
    EXPECT_EQ(ids.size(), 5);
}

} // namespace
