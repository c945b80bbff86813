// The new-project wizard, driven as a user would: fields, Next, Finish. The project
// file is then checked through a separate ProjectStore.
#include "store/ProjectStore.h"
#include "wizard/NewProjectWizard.h"

#include <gtest/gtest.h>

#include <QAbstractButton>
#include <QFile>
#include <QListWidget>
#include <QTemporaryDir>

#include <unistd.h>

using namespace tinyml;
using namespace tinyml::ui;

TEST(NewProjectWizard, DefaultsPerTemplateAndCreatesTheProject)
{
    QTemporaryDir dir;
    ASSERT_TRUE(dir.isValid());
    const QString location = dir.filePath(QStringLiteral("nested/projects"));   // created on Finish

    NewProjectWizard wizard;
    wizard.show();
    EXPECT_EQ(wizard.currentId(), NewProjectWizard::NamePage);
    EXPECT_FALSE(wizard.currentPage()->isComplete()) << "no name yet";
    wizard.setField(QStringLiteral("name"), QStringLiteral("wand"));
    wizard.setField(QStringLiteral("location"), location);
    ASSERT_TRUE(wizard.currentPage()->isComplete());
    EXPECT_EQ(wizard.projectPath(), location + QStringLiteral("/wand.tinyml"));

    wizard.next();
    ASSERT_EQ(wizard.currentId(), NewProjectWizard::TemplatePage);
    EXPECT_EQ(wizard.field(QStringLiteral("template")).toString(), QStringLiteral("motion"));

    wizard.next();
    ASSERT_EQ(wizard.currentId(), NewProjectWizard::BoardPage);
    // Virtual boards come first; the emulated Cortex-M4 is the default.
    EXPECT_EQ(wizard.field(QStringLiteral("board")).toString(), QStringLiteral("qemu-m4"));
    wizard.setField(QStringLiteral("board"), QStringLiteral("host"));

    wizard.next();
    ASSERT_EQ(wizard.currentId(), NewProjectWizard::LabelsPage);
    auto *labels = wizard.currentPage()->findChild<QListWidget *>(QStringLiteral("labelList"));
    ASSERT_NE(labels, nullptr);
    ASSERT_EQ(labels->count(), 4);
    EXPECT_EQ(labels->item(0)->text(), QStringLiteral("idle"));
    EXPECT_EQ(labels->item(3)->text(), QStringLiteral("updown"));
    labels->item(3)->setText(QStringLiteral("wave"));

    wizard.next();
    ASSERT_EQ(wizard.currentId(), NewProjectWizard::CapturePage);
    EXPECT_DOUBLE_EQ(wizard.field(QStringLiteral("rate")).toDouble(), 100.0);
    EXPECT_DOUBLE_EQ(wizard.field(QStringLiteral("length")).toDouble(), 2.0);
    EXPECT_EQ(wizard.field(QStringLiteral("sensor")).toString(), QStringLiteral("accel"));
    wizard.setField(QStringLiteral("length"), 1.5);

    wizard.next();
    ASSERT_EQ(wizard.currentId(), NewProjectWizard::SummaryPage);
    wizard.button(QWizard::FinishButton)->click();
    EXPECT_EQ(wizard.result(), QDialog::Accepted);
    auto created = wizard.takeStore();
    ASSERT_TRUE(created);
    created.reset();

    QString error;
    auto store = ProjectStore::open(location + QStringLiteral("/wand.tinyml"), &error);
    ASSERT_TRUE(store) << error.toStdString();
    const ProjectSettings s = store->settings();
    EXPECT_EQ(s.name, QStringLiteral("wand"));
    EXPECT_EQ(s.templateName, QStringLiteral("motion"));
    EXPECT_EQ(s.boardId, QStringLiteral("host"));
    EXPECT_EQ(s.labels, (QStringList{QStringLiteral("idle"), QStringLiteral("shake"), QStringLiteral("circle"),
                                     QStringLiteral("wave")}));
    EXPECT_EQ(s.sensor, QStringLiteral("accel"));
    EXPECT_DOUBLE_EQ(s.sampleRateHz, 100.0);
    EXPECT_DOUBLE_EQ(s.sampleLengthS, 1.5);
}

TEST(NewProjectWizard, AudioTemplateGetsAudioDefaults)
{
    QTemporaryDir dir;
    NewProjectWizard wizard;
    wizard.show();
    wizard.setField(QStringLiteral("name"), QStringLiteral("kws"));
    wizard.setField(QStringLiteral("location"), dir.path());
    wizard.next();
    wizard.setField(QStringLiteral("template"), QStringLiteral("audio"));
    wizard.next();
    wizard.next();
    auto *labels = wizard.currentPage()->findChild<QListWidget *>(QStringLiteral("labelList"));
    ASSERT_NE(labels, nullptr);
    EXPECT_EQ(labels->item(0)->text(), QStringLiteral("noise"));
    wizard.next();
    EXPECT_DOUBLE_EQ(wizard.field(QStringLiteral("rate")).toDouble(), 16000.0);
    EXPECT_DOUBLE_EQ(wizard.field(QStringLiteral("length")).toDouble(), 1.0);
    EXPECT_EQ(wizard.field(QStringLiteral("sensor")).toString(), QStringLiteral("mic"));
}

TEST(NewProjectWizard, RefusesAnExistingFileAndBadNames)
{
    QTemporaryDir dir;
    QFile existing(dir.filePath(QStringLiteral("taken.tinyml")));
    ASSERT_TRUE(existing.open(QIODevice::WriteOnly));
    existing.close();

    NewProjectWizard wizard;
    wizard.show();
    wizard.setField(QStringLiteral("location"), dir.path());
    wizard.setField(QStringLiteral("name"), QStringLiteral("taken"));
    EXPECT_FALSE(wizard.currentPage()->isComplete());
    wizard.next();
    EXPECT_EQ(wizard.currentId(), NewProjectWizard::NamePage);

    wizard.setField(QStringLiteral("name"), QStringLiteral("a/b"));
    EXPECT_FALSE(wizard.currentPage()->isComplete());
    wizard.setField(QStringLiteral("name"), QStringLiteral("fresh"));
    EXPECT_TRUE(wizard.currentPage()->isComplete());
}

TEST(NewProjectWizard, RefusesALocationUnderAFile)
{
    // Runs as root too (root may write anywhere, but nobody can create a folder in a file).
    QTemporaryDir tmp;
    ASSERT_TRUE(tmp.isValid());
    QFile blocker(tmp.filePath(QStringLiteral("not-a-folder")));
    ASSERT_TRUE(blocker.open(QIODevice::WriteOnly));
    blocker.close();
    NewProjectWizard wizard;
    wizard.show();
    wizard.setField(QStringLiteral("location"), blocker.fileName() + QStringLiteral("/projects"));
    wizard.setField(QStringLiteral("name"), QStringLiteral("x"));
    EXPECT_FALSE(wizard.currentPage()->isComplete());
    wizard.setField(QStringLiteral("location"), tmp.path());
    EXPECT_TRUE(wizard.currentPage()->isComplete());
}

TEST(NewProjectWizard, RefusesAFolderItCannotWrite)
{
    if (::geteuid() == 0)
        GTEST_SKIP() << "root can write anywhere";
    NewProjectWizard wizard;
    wizard.show();
    wizard.setField(QStringLiteral("location"), QStringLiteral("/proc/tinyml"));
    wizard.setField(QStringLiteral("name"), QStringLiteral("x"));
    EXPECT_FALSE(wizard.currentPage()->isComplete());
}
