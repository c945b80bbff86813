#include "pages/DatasetPage.h"

#include "commands/CropSampleCommand.h"
#include "commands/DeleteSamplesCommand.h"
#include "commands/MoveSamplesCommand.h"
#include "commands/RelabelSamplesCommand.h"
#include "commands/SplitIntoWindowsCommand.h"
#include "models/SampleFilterModel.h"
#include "models/SampleTableModel.h"
#include "plots/DatasetCountsChart.h"
#include "plots/SamplePreview.h"
#include "store/ProjectStore.h"
#include "window/CountText.h"
#include "window/PageHeader.h"
#include "window/ProjectSession.h"

#include <QComboBox>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QSplitter>
#include <QTableView>
#include <QToolBar>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace tinyml::ui {

DatasetPage::DatasetPage(QWidget *parent)
    : QWidget(parent), m_model(new SampleTableModel(this)), m_filter(new SampleFilterModel(this)),
      m_table(new QTableView(this)), m_counts(new DatasetCountsChart(this)), m_preview(new SamplePreview(this)),
      m_summary(new QLabel(this)), m_previewTitle(new QLabel(this)), m_filterText(new QLineEdit(this)),
      m_labelFilter(new QComboBox(this)), m_splitFilter(new QComboBox(this)), m_toolBar(new QToolBar(this)),
      m_relabelButton(new QToolButton(this)), m_labelMenu(new QMenu(this))
{
    auto *layout = new QVBoxLayout(this);
    setPageMargins(layout);
    layout->setSpacing(10);

    layout->addLayout(makePageHeader(this, tr("Dataset"), m_summary));

    // --- actions ----------------------------------------------------------------------
    m_toolBar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_toolBar->setIconSize(QSize(18, 18));
    m_relabelButton->setText(tr("Relabel"));
    m_relabelButton->setIcon(QIcon(QStringLiteral(":/icons/label.svg")));
    m_relabelButton->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_relabelButton->setPopupMode(QToolButton::InstantPopup);
    m_relabelButton->setMenu(m_labelMenu);
    m_relabelButton->setToolTip(tr("Give the selected samples another label"));
    m_toolBar->addWidget(m_relabelButton);
    m_toTrain = m_toolBar->addAction(QIcon(QStringLiteral(":/icons/train-test.svg")), tr("To train"),
                                     this, [this] { moveSelected(Split::Train); });
    m_toTest = m_toolBar->addAction(QIcon(QStringLiteral(":/icons/train-test.svg")), tr("To test"),
                                    this, [this] { moveSelected(Split::Test); });
    m_delete = m_toolBar->addAction(QIcon(QStringLiteral(":/icons/delete.svg")), tr("Delete"), this,
                                    [this] { deleteSelected(); });
    m_delete->setShortcut(QKeySequence::Delete);
    m_delete->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    m_toolBar->addSeparator();
    m_crop = m_toolBar->addAction(QIcon(QStringLiteral(":/icons/crop.svg")), tr("Crop"), this,
                                  [this] { cropPreviewSelection(); });
    m_crop->setToolTip(tr("Keep only the range selected on the preview (drag across the plot)"));
    m_split = m_toolBar->addAction(QIcon(QStringLiteral(":/icons/split.svg")), tr("Split into windows…"), this,
                                   [this] { askSplitIntoWindows(); });
    m_split->setToolTip(tr("Cut a long recording into samples of a fixed length"));
    addAction(m_delete);
    layout->addWidget(m_toolBar);

    // --- filter bar -------------------------------------------------------------------
    auto *filters = new QHBoxLayout;
    m_filterText->setPlaceholderText(tr("Filter by label, device, checksum…"));
    m_filterText->setClearButtonEnabled(true);
    filters->addWidget(m_filterText, 1);
    m_labelFilter->setMinimumWidth(140);
    filters->addWidget(m_labelFilter);
    m_splitFilter->addItem(tr("Train and test"), QString());
    m_splitFilter->addItem(tr("Train only"), QStringLiteral("train"));
    m_splitFilter->addItem(tr("Test only"), QStringLiteral("test"));
    filters->addWidget(m_splitFilter);

    // --- table ------------------------------------------------------------------------
    m_filter->setSourceModel(m_model);
    m_table->setModel(m_filter);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(SampleTableModel::Id, Qt::AscendingOrder);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_table->setAlternatingRowColors(true);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(26);
    m_table->horizontalHeader()->setHighlightSections(false);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->setShowGrid(false);
    m_table->setWordWrap(false);
    m_table->setColumnWidth(SampleTableModel::Id, 50);
    m_table->setColumnWidth(SampleTableModel::Label, 110);
    m_table->setColumnWidth(SampleTableModel::Split, 60);
    m_table->setColumnWidth(SampleTableModel::Length, 80);
    m_table->setColumnWidth(SampleTableModel::Device, 100);
    m_table->setColumnWidth(SampleTableModel::Created, 140);
    m_table->setContextMenuPolicy(Qt::ActionsContextMenu);
    m_table->addAction(m_toTrain);
    m_table->addAction(m_toTest);
    m_table->addAction(m_delete);

    auto *left = new QWidget(this);
    auto *leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 0, 0);
    leftLayout->addLayout(filters);
    leftLayout->addWidget(m_table, 1);

    // --- right: counts and preview ------------------------------------------------------
    auto *countsBox = new QGroupBox(tr("Samples per label"), this);
    auto *countsLayout = new QVBoxLayout(countsBox);
    countsLayout->addWidget(m_counts);
    auto *previewBox = new QGroupBox(tr("Preview"), this);
    auto *previewLayout = new QVBoxLayout(previewBox);
    m_previewTitle->setObjectName(QStringLiteral("hint"));
    m_previewTitle->setWordWrap(true);
    previewLayout->addWidget(m_previewTitle);
    previewLayout->addWidget(m_preview, 1);

    auto *right = new QSplitter(Qt::Vertical, this);
    right->addWidget(countsBox);
    right->addWidget(previewBox);
    right->setStretchFactor(0, 3);
    right->setStretchFactor(1, 5);
    right->setChildrenCollapsible(false);

    auto *split = new QSplitter(Qt::Horizontal, this);
    split->addWidget(left);
    split->addWidget(right);
    split->setStretchFactor(0, 11);
    split->setStretchFactor(1, 9);
    split->setChildrenCollapsible(false);
    layout->addWidget(split, 1);

    connect(m_filterText, &QLineEdit::textChanged, m_filter, &SampleFilterModel::setText);
    connect(m_labelFilter, &QComboBox::currentIndexChanged, this,
            [this] { m_filter->setLabel(m_labelFilter->currentData().toString()); });
    connect(m_splitFilter, &QComboBox::currentIndexChanged, this,
            [this] { m_filter->setSplit(m_splitFilter->currentData().toString()); });
    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this, [this] {
        updateActions();
        updatePreview();
    });
    connect(m_preview, &SamplePreview::selectionChanged, this, &DatasetPage::updateActions);
    setSession(nullptr);
}

void DatasetPage::addFileActions(QAction *importAction, QAction *exportAction)
{
    m_toolBar->addSeparator();
    m_toolBar->addAction(importAction);
    m_toolBar->addAction(exportAction);
}

void DatasetPage::setSession(ProjectSession *session)
{
    if (m_session)
        disconnect(m_session, nullptr, this, nullptr);
    m_session = session;
    if (m_session) {
        connect(m_session, &ProjectSession::samplesChanged, this, &DatasetPage::reload);
        connect(m_session, &ProjectSession::settingsChanged, this, &DatasetPage::reload);
    }
    reload();
}

void DatasetPage::reload()
{
    const QVector<qint64> selected = selectedIds();
    const qint64 previewId = m_preview->sampleId();
    const QString previewChecksum = m_preview->sample().checksum;

    m_model->setSamples(m_session ? m_session->store().sampleInfos() : QVector<SampleInfo>());
    const DatasetCounts counts = m_session ? m_session->store().counts() : DatasetCounts();
    m_counts->setCounts(counts);

    const QString currentLabel = m_labelFilter->currentData().toString();
    m_labelFilter->blockSignals(true);
    m_labelFilter->clear();
    m_labelFilter->addItem(tr("All labels"), QString());
    const QStringList labels = m_session ? m_session->labels() : QStringList();
    for (const QString &l : labels)
        m_labelFilter->addItem(l, l);
    m_labelFilter->setCurrentIndex(qMax(0, m_labelFilter->findData(currentLabel)));
    m_labelFilter->blockSignals(false);
    m_filter->setLabel(m_labelFilter->currentData().toString());
    rebuildLabelMenu();

    if (!m_session) {
        m_summary->setText(tr("No project open"));
    } else if (counts.total() == 0) {
        m_summary->setText(tr("No samples yet: record some on the Data acquisition page, or import files (Ctrl+I)."));
    } else {
        const int pct = int(std::lround(100.0 * counts.test / counts.total()));
        m_summary->setText(tr("%1 · %2 · %3 % train / %4 % test")
                               .arg(countText(counts.total(), "%1 sample", "%1 samples"),
                                    countText(counts.perLabel.size(), "%1 label", "%1 labels"))
                               .arg(100 - pct)
                               .arg(pct));
    }

    selectIds(selected);
    // Keep the preview (and its range selection) when its sample did not change.
    const SampleInfo *current = nullptr;
    const int row = m_model->rowOfId(previewId);
    if (row >= 0)
        current = m_model->sampleAt(row);
    if (!current || current->checksum != previewChecksum)
        updatePreview();
    updateActions();
}

QVector<qint64> DatasetPage::selectedIds() const
{
    QVector<qint64> ids;
    for (const QModelIndex &i : m_table->selectionModel()->selectedRows())
        ids << i.data(SampleTableModel::SampleIdRole).toLongLong();
    std::sort(ids.begin(), ids.end());
    return ids;
}

void DatasetPage::selectIds(const QVector<qint64> &ids)
{
    QItemSelection selection;
    for (qint64 id : ids) {
        const int row = m_model->rowOfId(id);
        if (row < 0)
            continue;
        const QModelIndex index = m_filter->mapFromSource(m_model->index(row, 0));
        if (index.isValid())
            selection.select(index, index.siblingAtColumn(SampleTableModel::ColumnCount - 1));
    }
    m_table->selectionModel()->select(selection, QItemSelectionModel::ClearAndSelect);
    if (!selection.isEmpty())
        m_table->scrollTo(selection.indexes().first());
}

void DatasetPage::updateActions()
{
    const QVector<qint64> ids = selectedIds();
    const bool any = m_session && !ids.isEmpty();
    m_relabelButton->setEnabled(any);
    m_toTrain->setEnabled(any);
    m_toTest->setEnabled(any);
    m_delete->setEnabled(any);
    const bool series = m_preview->kind() == SamplePreview::Kind::TimeSeries
                        || m_preview->kind() == SamplePreview::Kind::Audio;
    m_crop->setEnabled(m_session && ids.size() == 1 && series && m_preview->selectedFrames().has_value());
    m_split->setEnabled(m_session && ids.size() == 1 && series);
}

void DatasetPage::updatePreview()
{
    const QVector<qint64> ids = selectedIds();
    if (!m_session) {
        m_previewTitle->clear();
        m_preview->clear(tr("Open or create a project to see its samples."));
        return;
    }
    if (ids.size() != 1) {
        m_previewTitle->setText(ids.isEmpty() ? tr("Drag across a plot to select a range to crop.")
                                              : tr("%1 samples selected").arg(ids.size()));
        m_preview->clear(ids.isEmpty() ? tr("Select a sample to see its data.")
                                       : tr("Select a single sample to preview it."));
        return;
    }
    QString error;
    const std::optional<Sample> s = m_session->store().sample(ids.first(), &error);
    if (!s) {
        m_preview->clear(tr("Cannot read sample %1: %2").arg(ids.first()).arg(error));
        return;
    }
    QStringList parts;
    parts << tr("#%1 <b>%2</b>").arg(s->id).arg(s->label.toHtmlEscaped());
    if (s->sampleRateHz > 0)
        parts << tr("%1 Hz, %2").arg(s->sampleRateHz).arg(countText(s->frames(), "%1 frame", "%1 frames"));
    if (!s->sensor.isEmpty())
        parts << s->sensor.toHtmlEscaped();
    if (!s->complete)
        parts << tr("<span style='color:#b45309'>cut short: the board was lost</span>");
    m_previewTitle->setText(parts.join(QStringLiteral(" · ")));
    m_preview->showSample(*s);
}

void DatasetPage::rebuildLabelMenu()
{
    m_labelMenu->clear();
    if (m_session)
        for (const QString &l : m_session->labels())
            m_labelMenu->addAction(l, this, [this, l] { relabelSelected(l); });
    m_labelMenu->addSeparator();
    m_labelMenu->addAction(tr("New label…"), this, &DatasetPage::askNewLabel);
}

void DatasetPage::askNewLabel()
{
    bool ok = false;
    const QString label = QInputDialog::getText(this, tr("Relabel"), tr("New label for the selected samples:"),
                                                QLineEdit::Normal, QString(), &ok).trimmed();
    if (ok && !label.isEmpty())
        relabelSelected(label);
}

void DatasetPage::askSplitIntoWindows()
{
    if (!m_session)
        return;
    const double defaultLength = m_session->settings().sampleLengthS;
    bool ok = false;
    const double seconds = QInputDialog::getDouble(this, tr("Split into windows"),
                                                   tr("Window length (s); a shorter tail is dropped:"),
                                                   defaultLength > 0 ? defaultLength : 1.0, 0.01, 3600, 2, &ok);
    if (ok)
        splitCurrentIntoWindows(seconds);
}

bool DatasetPage::run(std::unique_ptr<DatasetCommand> command)
{
    QString error;
    if (!DatasetCommand::execute(m_session, std::move(command), &error)) {
        m_session->reportError(error);
        return false;
    }
    return true;
}

bool DatasetPage::relabelSelected(const QString &label)
{
    const QVector<qint64> ids = selectedIds();
    if (!m_session || ids.isEmpty() || label.isEmpty())
        return false;
    return run(std::make_unique<RelabelSamplesCommand>(m_session, ids, label));
}

bool DatasetPage::moveSelected(Split split)
{
    const QVector<qint64> ids = selectedIds();
    if (!m_session || ids.isEmpty())
        return false;
    return run(std::make_unique<MoveSamplesCommand>(m_session, ids, split));
}

bool DatasetPage::deleteSelected()
{
    const QVector<qint64> ids = selectedIds();
    if (!m_session || ids.isEmpty())
        return false;
    return run(std::make_unique<DeleteSamplesCommand>(m_session, ids));
}

bool DatasetPage::cropPreviewSelection()
{
    const auto range = m_preview->selectedFrames();
    if (!m_session || !range || m_preview->sampleId() == 0)
        return false;
    return run(std::make_unique<CropSampleCommand>(m_session, m_preview->sampleId(), range->first, range->second));
}

bool DatasetPage::splitCurrentIntoWindows(double windowSeconds)
{
    const QVector<qint64> ids = selectedIds();
    if (!m_session || ids.size() != 1 || m_preview->sampleId() != ids.first())
        return false;
    const double rate = m_preview->sample().sampleRateHz;
    if (rate <= 0)
        return false;
    auto command = std::make_unique<SplitIntoWindowsCommand>(m_session, ids.first(),
                                                             qint64(std::llround(windowSeconds * rate)));
    auto *raw = command.get();
    if (!run(std::move(command)))
        return false;
    selectIds(raw->windowIds().mid(0, 1));
    return true;
}

} // namespace tinyml::ui
