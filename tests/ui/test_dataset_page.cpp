// Dataset curation through the window: relabel, move, delete, crop, split into windows,
// each undone and redone, with the project file checked by a second ProjectStore.
#include "models/SampleFilterModel.h"
#include "models/SampleTableModel.h"
#include "pages/DatasetPage.h"
#include "plots/SamplePreview.h"
#include "UiTestProject.h"
#include "window/MainWindow.h"
#include "window/ProjectSession.h"

#include <gtest/gtest.h>

#include <QAction>
#include <QComboBox>
#include <QLineEdit>
#include <QTemporaryDir>
#include <QUndoStack>

using namespace tinyml;
using namespace tinyml::ui;

namespace {

class DatasetPageTest : public ::testing::Test
{
protected:
    void SetUp() override
    {
        ASSERT_TRUE(m_dir.isValid());
        m_path = m_dir.filePath(QStringLiteral("wand.tinyml"));
        QString error;
        auto store = test::createMotionProject(m_path, 3, &error);
        ASSERT_TRUE(store) << error.toStdString();
        store.reset();
        m_window = std::make_unique<MainWindow>();
        ASSERT_TRUE(m_window->openProject(m_path, &error)) << error.toStdString();
        m_page = m_window->datasetPage();
    }

    /// What another process sees in the file right now.
    std::optional<SampleInfo> fromFile(qint64 id)
    {
        QString error;
        auto other = ProjectStore::open(m_path, &error);
        EXPECT_TRUE(other) << error.toStdString();
        if (!other)
            return std::nullopt;
        for (const SampleInfo &i : other->sampleInfos())
            if (i.id == id)
                return i;
        return std::nullopt;
    }

    int countInFile()
    {
        QString error;
        auto other = ProjectStore::open(m_path, &error);
        return other ? int(other->sampleInfos().size()) : -1;
    }

    QTemporaryDir m_dir;
    QString m_path;
    std::unique_ptr<MainWindow> m_window;
    DatasetPage *m_page = nullptr;
};

} // namespace

TEST_F(DatasetPageTest, ShowsEverySampleAndFilters)
{
    EXPECT_EQ(m_window->currentStage(), MainWindow::Stage::Dataset);
    EXPECT_EQ(m_page->tableModel()->rowCount(), 12);
    m_page->labelFilter()->setCurrentIndex(m_page->labelFilter()->findData(QStringLiteral("shake")));
    EXPECT_EQ(m_page->filterModel()->rowCount(), 3);
    m_page->splitFilter()->setCurrentIndex(m_page->splitFilter()->findData(QStringLiteral("test")));
    EXPECT_LE(m_page->filterModel()->rowCount(), 1);
    m_page->labelFilter()->setCurrentIndex(0);
    m_page->splitFilter()->setCurrentIndex(0);
    m_page->filterText()->setText(QStringLiteral("circ"));
    EXPECT_EQ(m_page->filterModel()->rowCount(), 3);
    m_page->filterText()->clear();
    EXPECT_EQ(m_page->filterModel()->rowCount(), 12);
}

TEST_F(DatasetPageTest, RelabelUndoRedo)
{
    m_page->selectIds({1, 2});
    ASSERT_EQ(m_page->selectedIds(), (QVector<qint64>{1, 2}));
    ASSERT_TRUE(m_page->relabelSelected(QStringLiteral("circle")));
    EXPECT_EQ(fromFile(1)->label, QStringLiteral("circle"));
    EXPECT_EQ(fromFile(2)->label, QStringLiteral("circle"));
    EXPECT_EQ(m_page->selectedIds(), (QVector<qint64>{1, 2})) << "selection survives the reload";

    ASSERT_TRUE(m_window->undoAction()->isEnabled());
    m_window->undoAction()->trigger();
    EXPECT_EQ(fromFile(1)->label, QStringLiteral("idle"));
    EXPECT_EQ(fromFile(2)->label, QStringLiteral("idle"));
    m_window->redoAction()->trigger();
    EXPECT_EQ(fromFile(1)->label, QStringLiteral("circle"));
}

TEST_F(DatasetPageTest, MoveSplitUndo)
{
    const Split before = fromFile(5)->split;
    m_page->selectIds({5});
    ASSERT_TRUE(m_page->moveSelected(before == Split::Train ? Split::Test : Split::Train));
    EXPECT_NE(fromFile(5)->split, before);
    m_window->session()->undoStack()->undo();
    EXPECT_EQ(fromFile(5)->split, before);
}

TEST_F(DatasetPageTest, DeleteAndRestoreKeepIdsAndData)
{
    const QString checksum = fromFile(3)->checksum;
    m_page->selectIds({3, 4});
    ASSERT_TRUE(m_page->deleteSelected());
    EXPECT_FALSE(fromFile(3));
    EXPECT_FALSE(fromFile(4));
    EXPECT_EQ(countInFile(), 10);
    EXPECT_EQ(m_page->tableModel()->rowCount(), 10);
    m_window->undoAction()->trigger();
    ASSERT_TRUE(fromFile(3));
    EXPECT_EQ(fromFile(3)->checksum, checksum);
    EXPECT_EQ(countInFile(), 12);
    m_window->redoAction()->trigger();
    EXPECT_EQ(countInFile(), 10);
}

TEST_F(DatasetPageTest, CropFromThePreviewSelection)
{
    m_page->selectIds({6});
    ASSERT_EQ(m_page->preview()->kind(), SamplePreview::Kind::TimeSeries);
    m_page->preview()->selectFrames(50, 150);
    ASSERT_TRUE(m_page->cropPreviewSelection());
    EXPECT_EQ(fromFile(6)->frames, 100);
    m_window->undoAction()->trigger();
    EXPECT_EQ(fromFile(6)->frames, 200);
}

TEST_F(DatasetPageTest, SplitIntoWindowsUndoRedoKeepsIds)
{
    m_page->selectIds({7});
    ASSERT_TRUE(m_page->splitCurrentIntoWindows(0.5));   // 200 frames at 100 Hz -> 4 x 50
    EXPECT_FALSE(fromFile(7));
    EXPECT_EQ(countInFile(), 15);
    QVector<qint64> windowIds;
    for (const SampleInfo &i : m_page->tableModel()->samples())
        if (i.id > 12)
            windowIds << i.id;
    ASSERT_EQ(windowIds.size(), 4);
    EXPECT_EQ(fromFile(windowIds.first())->frames, 50);
    EXPECT_EQ(fromFile(windowIds.first())->label, QStringLiteral("circle"));

    m_window->undoAction()->trigger();
    EXPECT_EQ(countInFile(), 12);
    EXPECT_EQ(fromFile(7)->frames, 200);
    m_window->redoAction()->trigger();
    EXPECT_EQ(countInFile(), 15);
    for (qint64 id : windowIds)
        EXPECT_TRUE(fromFile(id)) << "window " << id << " came back with its id";
}

TEST_F(DatasetPageTest, AudioPreviewHasASpectrogram)
{
    Sample clip = test::audioSample(QStringLiteral("yes"), 16000);
    QString error;
    ASSERT_TRUE(m_window->session()->store().addSample(clip, &error)) << error.toStdString();
    m_window->session()->notifySamplesChanged();
    m_page->selectIds({clip.id});
    EXPECT_EQ(m_page->preview()->kind(), SamplePreview::Kind::Audio);
}
