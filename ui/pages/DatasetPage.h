#pragma once
// Dataset curation: the sample table with filters, per-label counts, a preview, and the
// undoable edits (relabel, move split, delete, crop, split into windows).

#include "data/Sample.h"

#include <QVector>
#include <QWidget>

class QAction;
class QComboBox;
class QLabel;
class QLineEdit;
class QTableView;
class QToolBar;
class QToolButton;
class QMenu;

namespace tinyml::ui {

class DatasetCountsChart;
class ProjectSession;
class SampleFilterModel;
class SamplePreview;
class SampleTableModel;

class DatasetPage : public QWidget
{
    Q_OBJECT
public:
    explicit DatasetPage(QWidget *parent = nullptr);

    void setSession(ProjectSession *session);   ///< nullptr: no project
    /// The window's Import / Export actions, shown in the page's tool bar too.
    void addFileActions(QAction *importAction, QAction *exportAction);

    QVector<qint64> selectedIds() const;
    void selectIds(const QVector<qint64> &ids);

    // The edits, on the selection (also what the buttons do). False with a message
    // in the session's errorOccurred when the store refuses.
    bool relabelSelected(const QString &label);
    bool moveSelected(Split split);
    bool deleteSelected();
    bool cropPreviewSelection();
    bool splitCurrentIntoWindows(double windowSeconds);

    SampleTableModel *tableModel() const { return m_model; }
    SampleFilterModel *filterModel() const { return m_filter; }
    QTableView *table() const { return m_table; }
    SamplePreview *preview() const { return m_preview; }
    DatasetCountsChart *countsChart() const { return m_counts; }
    QLineEdit *filterText() const { return m_filterText; }
    QComboBox *labelFilter() const { return m_labelFilter; }
    QComboBox *splitFilter() const { return m_splitFilter; }

public Q_SLOTS:
    void reload();

private:
    void updateActions();
    void updatePreview();
    void rebuildLabelMenu();
    void askNewLabel();
    void askSplitIntoWindows();
    bool run(std::unique_ptr<class DatasetCommand> command);

    ProjectSession *m_session = nullptr;
    SampleTableModel *m_model;
    SampleFilterModel *m_filter;
    QTableView *m_table;
    DatasetCountsChart *m_counts;
    SamplePreview *m_preview;
    QLabel *m_summary;
    QLabel *m_previewTitle;
    QLineEdit *m_filterText;
    QComboBox *m_labelFilter;
    QComboBox *m_splitFilter;
    QToolBar *m_toolBar;
    QToolButton *m_relabelButton;
    QMenu *m_labelMenu;
    QAction *m_toTrain;
    QAction *m_toTest;
    QAction *m_delete;
    QAction *m_crop;
    QAction *m_split;
    QAction *m_fileSeparator = nullptr;
};

} // namespace tinyml::ui
