#include "pages/DeploymentPage.h"

#include "commands/DeleteProfileCommand.h"
#include "models/BoardCatalog.h"
#include "pages/ProfileReport.h"
#include "SignedPackages.h"
#include "plots/ProfileCharts.h"
#include "window/CountText.h"
#include "window/PageHeader.h"
#include "window/ProjectSession.h"

#include "device/AgentLink.h"
#include "device/VirtualBoard.h"
#include "CLibraryExporter.h"
#include "CycleSideChannel.h"
#include "store/ProjectStore.h"

#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QKeySequence>
#include <QLabel>
#include <QLocale>
#include <QMetaMethod>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QShortcut>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QSplitter>
#include <QStyle>
#include <QTabWidget>
#include <QTableWidget>
#include <QTimer>
#include <QUndoStack>
#include <QVBoxLayout>

namespace tinyml::ui {

namespace {

const QString kRunsKey = QStringLiteral("deployment/runs");
const QString kWarmupKey = QStringLiteral("deployment/warmup");
const QString kAccuracyKey = QStringLiteral("deployment/accuracy");
const QString kTargetKey = QStringLiteral("deployment/target");

/// "STM32L4R5ZI at 120 MHz".
QString targetText(const QString &part, quint64 clockHz)
{
    return QObject::tr("%1 at %2").arg(part, clockText(clockHz));
}

/// The report's rows plus the cycle model's estimate, right after the measured counter
/// (ProfileReport's rows know nothing of estimates; the estimate must stand next to the
/// measured count it is derived alongside, labelled with its model).
QVector<ProfileRow> rowsWithEstimate(const deploy::ProfileResult &r, const BoardDefinition *board)
{
    QVector<ProfileRow> rows = profileRows(r, board);
    QVector<ProfileRow> extra;
    const QLocale locale;
    if (r.hasCycleEstimate) {
        // Units stay short (the unit column sizes to its contents); the model's full label
        // gets its own row.
        const QString cycles = QObject::tr("cycles");
        extra << ProfileRow{QObject::tr("Estimated cycles median"), locale.toString(qlonglong(r.cyclesMedian)), cycles,
                            double(r.cyclesMedian)};
        extra << ProfileRow{QObject::tr("Estimated cycles min … max"),
                            QObject::tr("%1 … %2").arg(locale.toString(qlonglong(r.cyclesMin)),
                                                       locale.toString(qlonglong(r.cyclesMax))),
                            cycles, std::nullopt};
        extra << ProfileRow{QObject::tr("Estimated cycles per instruction"), locale.toString(r.cyclesPerInstruction, 'f', 2),
                            QObject::tr("cycles/instr."), r.cyclesPerInstruction};
        if (r.onTarget)
            extra << ProfileRow{QObject::tr("Estimated on %1").arg(targetText(r.onTarget->part, r.onTarget->clockHz)),
                                locale.toString(r.onTarget->medianMs, 'f', 4), QObject::tr("ms"), r.onTarget->medianMs};
        extra << ProfileRow{QObject::tr("Cycle model"),
                            QObject::tr("%1, %2").arg(deploy::cycleModelLabel(r.cycleModel.core, r.cycleModel.waitStates),
                                                      r.cycleModel.model),
                            QString(), std::nullopt};
    } else if (!r.cyclesUnavailable.isEmpty()) {
        extra << ProfileRow{QObject::tr("Estimated cycles"), QObject::tr("unavailable: %1").arg(r.cyclesUnavailable),
                            QString(), std::nullopt};
    }
    // After the measured counter's rows ("Latency median (counter)", "Counter per MAC").
    int at = 0;
    for (int i = 0; i < rows.size(); ++i)
        if (rows[i].metric.startsWith(QObject::tr("Latency median")) || rows[i].metric.startsWith(QObject::tr("Counter per MAC")))
            at = i + 1;
    for (int i = 0; i < extra.size(); ++i)
        rows.insert(at + i, extra[i]);
    return rows;
}

/// Ctrl+R records on the Data acquisition page (a window-wide shortcut); profiling gets
/// its own chord so the two never collide.
const QKeySequence kProfileKeys(Qt::CTRL | Qt::SHIFT | Qt::Key_R);

QTableWidget *makeTable(const QStringList &headers, QWidget *parent)
{
    auto *t = new QTableWidget(0, int(headers.size()), parent);
    t->setHorizontalHeaderLabels(headers);
    t->verticalHeader()->hide();
    t->verticalHeader()->setDefaultSectionSize(22);
    t->horizontalHeader()->setHighlightSections(false);
    t->setEditTriggers(QAbstractItemView::NoEditTriggers);
    t->setShowGrid(false);
    t->setAlternatingRowColors(true);
    t->setWordWrap(false);
    return t;
}

QTableWidgetItem *cell(const QString &text, bool numeric)
{
    auto *item = new QTableWidgetItem(text);
    item->setTextAlignment(numeric ? (Qt::AlignRight | Qt::AlignVCenter) : (Qt::AlignLeft | Qt::AlignVCenter));
    item->setToolTip(text);
    return item;
}

QString modelText(const StoredModel &m)
{
    const QJsonValue acc = m.metrics.value(QStringLiteral("int8_accuracy"));
    const QString when = m.created.toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm"));
    QString text = QStringLiteral("#%1 %2").arg(m.id).arg(m.name.isEmpty() ? QStringLiteral("int8") : m.name);
    if (acc.isDouble())
        text += QObject::tr(" · int8 accuracy %1 %").arg(acc.toDouble() * 100, 0, 'f', 1);
    return text + QStringLiteral(" · ") + when;
}

QString profileName(qint64 id, const deploy::ProfileResult &r)
{
    return QStringLiteral("#%1 %2").arg(id).arg(r.board);
}

} // namespace

DeploymentPage::DeploymentPage(QWidget *parent)
    : QWidget(parent), m_profiler(new deploy::Profiler(this)), m_summary(new QLabel(this)), m_banner(new QLabel(this)),
      m_model(new QComboBox(this)), m_board(new QLabel(this)), m_connect(new QPushButton(tr("Connect"), this)),
      m_runs(new QSpinBox(this)), m_warmup(new QSpinBox(this)),
      m_accuracy(new QCheckBox(tr("On-device accuracy (test split)"), this)), m_target(new QComboBox(this)),
      m_profile(new QPushButton(tr("Flash && Profile"), this)), m_cancel(new QPushButton(tr("Cancel"), this)),
      m_progress(new QProgressBar(this)), m_status(new QLabel(this)), m_charts(new ProfileCharts(this)),
      m_tabs(new QTabWidget(this)),
      m_about(new QLabel(this)), m_results(makeTable({tr("Metric"), tr("Value"), tr("Unit")}, this)), m_copy(new QPushButton(tr("Copy"), this)),
      m_profiles(makeTable({tr("#"), tr("Board"), tr("Clock"), tr("Date (UTC)"), tr("Median"), tr("Agent build")}, this)),
      m_comparison(makeTable({tr("Metric"), tr("A"), tr("B"), tr("B / A"), tr("Unit")}, this)),
      m_delete(new QPushButton(tr("Delete"), this)), m_profileShortcut(new QShortcut(kProfileKeys, this))
{
    auto *layout = new QVBoxLayout(this);
    setPageMargins(layout, 12);
    layout->setSpacing(8);
    // Long model and board names must not widen the window: the label clips, its tooltip does not.
    m_summary->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    QHBoxLayout *header = makePageHeader(this, tr("Deployment & profiling"), m_summary);
    layout->addLayout(header);

    m_banner->setObjectName(QStringLiteral("warningBanner"));
    m_banner->setWordWrap(true);
    m_banner->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_banner->setVisible(false);
    layout->addWidget(m_banner);

    // --- what, where, how ---------------------------------------------------------------------
    auto *runBox = new QGroupBox(tr("Flash and profile on the board"), this);
    auto *runLayout = new QVBoxLayout(runBox);
    runLayout->setSpacing(6);
    auto *row1 = new QHBoxLayout;
    row1->addWidget(new QLabel(tr("Model:"), runBox));
    m_model->setMinimumWidth(260);
    m_model->setMaximumWidth(420);
    m_model->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_model->setToolTip(tr("The project's int8 models (quantize one on the Training page)"));
    row1->addWidget(m_model);
    row1->addSpacing(12);
    m_board->setTextFormat(Qt::RichText);
    m_board->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_board->setMinimumWidth(200);
    m_board->setToolTip(tr("The board the window is connected to (Data acquisition page); virtual boards start "
                           "by themselves"));
    row1->addWidget(m_board, 1);
    m_connect->setIcon(QIcon(QStringLiteral(":/icons/connect.svg")));
    m_connect->setToolTip(tr("Start or connect the project's board"));
    row1->addWidget(m_connect);
    runLayout->addLayout(row1);
    m_exportC = new QPushButton(QIcon(QStringLiteral(":/icons/export.svg")), tr("C library…"), this);
    m_exportC->setToolTip(tr("Export the model as a C library zip: the package as a C array, the firmware's runtime, "
                             "tinyml_model.h (init / invoke / label), a CMake file and an example main that builds "
                             "with arm-none-eabi-gcc or the host compiler"));
    header->addWidget(new QLabel(tr("Export:"), this), 0, Qt::AlignBottom);
    header->addWidget(m_exportC, 0, Qt::AlignBottom);
    m_exportArduino = new QPushButton(QIcon(QStringLiteral(":/icons/export.svg")), tr("Arduino library…"), this);
    m_exportArduino->setToolTip(tr("Export the model as an Arduino library zip (library.properties, src/, examples/); "
                                   "Sketch > Include Library > Add .ZIP Library installs it"));
    header->addWidget(m_exportArduino, 0, Qt::AlignBottom);

    auto *row2 = new QHBoxLayout;
    const deploy::ProfileOptions defaults;
    row2->addWidget(new QLabel(tr("Runs:"), runBox));
    m_runs->setRange(1, 10000);
    m_runs->setValue(defaults.runs);
    m_runs->setToolTip(tr("Measured inferences; latency min/median/max are taken over these"));
    row2->addWidget(m_runs);
    row2->addSpacing(8);
    row2->addWidget(new QLabel(tr("Warm-up:"), runBox));
    m_warmup->setRange(0, 1000);
    m_warmup->setValue(defaults.warmup);
    m_warmup->setToolTip(tr("Inferences run first and not measured (caches, first-call effects)"));
    row2->addWidget(m_warmup);
    row2->addSpacing(8);
    m_accuracy->setChecked(defaults.accuracy);
    m_accuracy->setToolTip(tr("Streams the test split's features through the device and compares every output with "
                              "the host int8 reference, bit for bit"));
    row2->addWidget(m_accuracy);
    row2->addSpacing(8);
    row2->addWidget(new QLabel(tr("Target:"), runBox));
    m_target->addItem(tr("No target"), QString());
    for (const BoardDefinition &b : BoardCatalog::orderedBoards())
        if (!b.isVirtual && b.cycleModel.isSet() && !b.cycleModel.part.isEmpty() && b.clockHz)
            m_target->addItem(tr("%1 (%2)").arg(targetText(b.cycleModel.part, b.clockHz), b.name), b.id);
    m_target->setToolTip(tr("A real part to convert the virtual board's estimated cycles for: its clock and core "
                            "(resources/boards). The estimate comes from the cycle model of the virtual board, "
                            "never from silicon; its core must be the one the virtual board models"));
    // Part names are long: the combo does not widen the page (the window fits 1280 px).
    m_target->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_target->setMinimumContentsLength(14);
    row2->addWidget(m_target);
    row2->addStretch(1);
    m_profile->setObjectName(QStringLiteral("primaryButton"));
    m_profile->setIcon(QIcon(QStringLiteral(":/icons/deploy.svg")));
    m_profile->setToolTip(tr("Upload the model if the board runs a different one, then measure latency, memory, "
                             "energy and on-device accuracy (%1)")
                              .arg(kProfileKeys.toString(QKeySequence::NativeText)));
    m_profile->setMinimumWidth(170);
    row2->addWidget(m_profile);
    m_cancel->setToolTip(tr("Stop after the request in flight; the board keeps the model it had committed"));
    row2->addWidget(m_cancel);
    runLayout->addLayout(row2);

    auto *row3 = new QHBoxLayout;
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    m_progress->setTextVisible(true);
    m_progress->setFormat(tr("Idle"));
    row3->addWidget(m_progress, 2);
    m_status->setObjectName(QStringLiteral("hint"));
    m_status->setWordWrap(true);
    row3->addWidget(m_status, 3);
    runLayout->addLayout(row3);
    layout->addWidget(runBox);

    // --- charts | results and stored profiles ---------------------------------------------------
    auto *resultsTab = new QWidget(this);
    auto *resultsLayout = new QVBoxLayout(resultsTab);
    resultsLayout->setContentsMargins(6, 6, 6, 6);
    m_results->horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    m_results->horizontalHeader()->setSectionResizeMode(1, QHeaderView::Stretch);
    m_results->horizontalHeader()->setSectionResizeMode(2, QHeaderView::ResizeToContents);
    m_results->setTextElideMode(Qt::ElideRight);
    m_results->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_results->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_about->setObjectName(QStringLiteral("hint"));
    m_about->setWordWrap(true);
    m_about->setTextInteractionFlags(Qt::TextSelectableByMouse);
    resultsLayout->addWidget(m_about);
    resultsLayout->addWidget(m_results, 1);
    auto *copyRow = new QHBoxLayout;
    auto *copyHint = new QLabel(tr("Ctrl+C copies the table as tab-separated text."), resultsTab);
    copyHint->setObjectName(QStringLiteral("hint"));
    copyRow->addWidget(copyHint, 1);
    m_copy->setToolTip(tr("Copy every row as tab-separated text (Ctrl+C)"));
    copyRow->addWidget(m_copy);
    resultsLayout->addLayout(copyRow);
    m_tabs->addTab(resultsTab, tr("Results"));

    auto *storedTab = new QWidget(this);
    auto *storedLayout = new QVBoxLayout(storedTab);
    storedLayout->setContentsMargins(6, 6, 6, 6);
    auto *storedSplit = new QSplitter(Qt::Vertical, storedTab);
    m_profiles->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_profiles->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_profiles->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_profiles->horizontalHeader()->setStretchLastSection(true);
    m_profiles->setTextElideMode(Qt::ElideRight);
    m_profiles->setToolTip(tr("Select one profile to show it, two to compare them side by side"));
    storedSplit->addWidget(m_profiles);
    m_comparison->horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    m_comparison->horizontalHeader()->setSectionResizeMode(1, QHeaderView::Stretch);
    m_comparison->horizontalHeader()->setSectionResizeMode(2, QHeaderView::Stretch);
    m_comparison->horizontalHeader()->setSectionResizeMode(3, QHeaderView::ResizeToContents);
    m_comparison->horizontalHeader()->setSectionResizeMode(4, QHeaderView::ResizeToContents);
    m_comparison->setTextElideMode(Qt::ElideRight);
    m_comparison->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_comparison->setSelectionMode(QAbstractItemView::NoSelection);
    storedSplit->addWidget(m_comparison);
    storedSplit->setStretchFactor(0, 1);
    storedSplit->setStretchFactor(1, 3);
    storedLayout->addWidget(storedSplit, 1);
    auto *storedRow = new QHBoxLayout;
    auto *storedHint = new QLabel(tr("Select two to compare · Delete is undoable (Ctrl+Z)"), storedTab);
    storedHint->setObjectName(QStringLiteral("hint"));
    storedRow->addWidget(storedHint, 1);
    m_delete->setIcon(QIcon(QStringLiteral(":/icons/delete.svg")));
    m_delete->setToolTip(tr("Delete the selected profiles (Del); Edit > Undo brings them back"));
    storedRow->addWidget(m_delete);
    storedLayout->addLayout(storedRow);
    m_tabs->addTab(storedTab, tr("Stored profiles"));

    auto *split = new QSplitter(Qt::Horizontal, this);
    split->addWidget(m_charts);
    split->addWidget(m_tabs);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    split->setChildrenCollapsible(false);
    layout->addWidget(split, 1);

    // --- wiring ---------------------------------------------------------------------------------
    connect(m_profile, &QPushButton::clicked, this, &DeploymentPage::startProfile);
    connect(m_profileShortcut, &QShortcut::activated, this, &DeploymentPage::startProfile);
    m_profileShortcut->setContext(Qt::WidgetWithChildrenShortcut);
    connect(m_cancel, &QPushButton::clicked, this, &DeploymentPage::cancel);
    connect(m_connect, &QPushButton::clicked, this, &DeploymentPage::connectRequested);
    connect(m_copy, &QPushButton::clicked, this, &DeploymentPage::copyResults);
    auto *copyShortcut = new QShortcut(QKeySequence::Copy, m_results, nullptr, nullptr, Qt::WidgetWithChildrenShortcut);
    connect(copyShortcut, &QShortcut::activated, this, &DeploymentPage::copyResults);
    connect(m_delete, &QPushButton::clicked, this, &DeploymentPage::deleteSelectedProfiles);
    connect(m_exportC, &QPushButton::clicked, this, [this] { chooseExportFile(false); });
    connect(m_exportArduino, &QPushButton::clicked, this, [this] { chooseExportFile(true); });
    auto *deleteShortcut = new QShortcut(QKeySequence::Delete, m_profiles, nullptr, nullptr, Qt::WidgetShortcut);
    connect(deleteShortcut, &QShortcut::activated, this, &DeploymentPage::deleteSelectedProfiles);
    connect(m_profiles, &QTableWidget::itemSelectionChanged, this, &DeploymentPage::onProfileSelectionChanged);
    connect(m_model, &QComboBox::currentIndexChanged, this, [this] { updateControls(); });
    for (QSpinBox *s : {m_runs, m_warmup})
        connect(s, &QSpinBox::valueChanged, this, [this] { storeSettings(); });
    connect(m_accuracy, &QCheckBox::toggled, this, [this] { storeSettings(); });
    connect(m_target, &QComboBox::currentIndexChanged, this, [this] { storeSettings(); });

    connect(m_profiler, &deploy::Profiler::stageChanged, this, &DeploymentPage::onStage);
    connect(m_profiler, &deploy::Profiler::uploadProgress, this, &DeploymentPage::onUploadProgress);
    connect(m_profiler, &deploy::Profiler::runMeasured, this, &DeploymentPage::onRun);
    connect(m_profiler, &deploy::Profiler::layersMeasured, this, &DeploymentPage::onLayers);
    connect(m_profiler, &deploy::Profiler::accuracyProgress, this, &DeploymentPage::onAccuracy);
    connect(m_profiler, &deploy::Profiler::energyEstimated, this, &DeploymentPage::onEnergy);
    connect(m_profiler, &deploy::Profiler::finished, this, &DeploymentPage::onFinished);
    connect(m_profiler, &deploy::Profiler::failed, this, &DeploymentPage::onFailed);
    connect(m_profiler, &deploy::Profiler::cancelled, this, &DeploymentPage::onCancelled);

    restoreSettings();
    setSession(nullptr);
}

DeploymentPage::~DeploymentPage()
{
    if (m_profiler->isRunning())
        m_profiler->cancel();
    disconnect(m_profiler, nullptr, this, nullptr);
}

void DeploymentPage::restoreSettings()
{
    // Each change stores all three options: restoring one must not overwrite the others.
    const QSignalBlocker b1(m_runs), b2(m_warmup), b3(m_accuracy), b4(m_target);
    QSettings s;
    m_runs->setValue(s.value(kRunsKey, m_runs->value()).toInt());
    m_warmup->setValue(s.value(kWarmupKey, m_warmup->value()).toInt());
    m_accuracy->setChecked(s.value(kAccuracyKey, m_accuracy->isChecked()).toBool());
    // A remembered target that is no longer a board file falls back to none.
    m_target->setCurrentIndex(qMax(0, m_target->findData(s.value(kTargetKey).toString())));
}

void DeploymentPage::storeSettings() const
{
    QSettings s;
    s.setValue(kRunsKey, m_runs->value());
    s.setValue(kWarmupKey, m_warmup->value());
    s.setValue(kAccuracyKey, m_accuracy->isChecked());
    s.setValue(kTargetKey, m_target->currentData().toString());
}

// --- project and board ----------------------------------------------------------------------------

void DeploymentPage::setSession(ProjectSession *session)
{
    if (isRunning())
        m_profiler->cancel();
    m_waitingForBoard = false;
    m_waitingForStream = false;
    if (m_session) {
        disconnect(m_session, nullptr, this, nullptr);
        disconnect(m_session->undoStack(), nullptr, this, nullptr);
    }
    m_session = session;
    m_result.reset();
    m_shownProfileId.reset();
    hideBanner();
    setStatus(QString());
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    m_progress->setFormat(tr("Idle"));
    m_results->setRowCount(0);
    m_about->setText(tr("Flash & Profile measures the chosen model on the connected board; every profile is kept "
                        "in the project."));
    m_comparison->setRowCount(0);
    m_charts->clear(tr("Press Flash & Profile"));
    if (m_session) {
        // Training adds int8 models through its own store; look again when the page shows.
        connect(m_session, &ProjectSession::settingsChanged, this, &DeploymentPage::updateBoard);
    }
    reloadModels();
    reloadProfiles();
    // The newest stored profile of the chosen model, as the page was left.
    if (m_profiles->rowCount() > 0)
        selectProfiles({m_profiles->item(m_profiles->rowCount() - 1, 0)->data(Qt::UserRole).toLongLong()});
    updateBoard();
}

void DeploymentPage::setDevice(DeviceLink *link, VirtualBoard *virtualBoard)
{
    if (m_link == link && m_virtual == virtualBoard) {
        updateBoard();
        return;
    }
    if (m_link)
        disconnect(m_link, nullptr, this, nullptr);
    const bool wasRunning = isRunning() || m_waitingForStream;
    m_link = link;
    m_virtual = virtualBoard;
    if (wasRunning) {
        // The board went away under a run: the Profiler's requests fail with it.
        m_linkLost = true;
        m_waitingForStream = false;
        if (m_profiler->isRunning())
            m_profiler->cancel();
        else
            endRun();
        showBanner(tr("The board was lost during profiling. Nothing was stored; a model upload that did not "
                      "finish leaves the previous model on the board. Reconnect and press Flash & Profile again."));
    }
    if (m_link) {
        connect(m_link, &DeviceLink::connectionLost, this, [this](const QString &message) {
            if (isRunning() || m_waitingForStream) {
                m_linkLost = true;
                showBanner(tr("The board was lost during profiling: %1. Nothing was stored; a model upload that "
                              "did not finish leaves the previous model on the board.")
                               .arg(message));
            }
        });
    }
    updateBoard();
}

AgentLink *DeploymentPage::agentLink() const
{
    if (!m_link || !m_link->isOpen())
        return nullptr;
    return qobject_cast<AgentLink *>(m_link.data());
}

const BoardDefinition *DeploymentPage::currentBoard() const
{
    if (m_virtual)
        return BoardCatalog::board(m_virtual->board().id);
    if (AgentLink *agent = agentLink()) {
        if (agent->hasInfo())
            if (const BoardDefinition *b = BoardCatalog::registry().boardForAgentId(agent->info().boardId))
                return b;
    }
    return nullptr;
}

void DeploymentPage::updateBoard()
{
    const QString projectBoard = m_session ? m_session->boardId() : QString();
    const BoardDefinition *board = currentBoard();
    QString text;
    if (agentLink()) {
        const QString name = board ? board->name : agentLink()->portName();
        text = tr("Board: <b>%1</b> · <span style='color:#16a34a'>connected</span>%2")
                   .arg(name.toHtmlEscaped(),
                        board && board->clockHz ? QStringLiteral(" · ") + clockText(board->clockHz) : QString());
        if (board && !projectBoard.isEmpty() && board->id != projectBoard)
            text += tr(" · <span style='color:#9a3412'>project board: %1</span>").arg(projectBoard.toHtmlEscaped());
    } else if (m_link) {
        text = tr("Board: <b>%1</b> · does not speak the agent protocol").arg(m_link->portName().toHtmlEscaped());
    } else if (!projectBoard.isEmpty()) {
        text = tr("Board: <b>%1</b> (the project's) · not connected")
                   .arg(BoardCatalog::displayName(projectBoard).toHtmlEscaped());
    } else {
        text = tr("Board: not connected");
    }
    m_board->setText(text);
    m_board->setToolTip(board ? tr("%1 · %2 · %3").arg(board->id, board->cpu, BoardCatalog::memoryText(*board))
                              : tr("The board the window is connected to (Data acquisition page); virtual boards "
                                   "start by themselves"));
    if (m_session) {
        QString model = m_model->currentIndex() >= 0 ? m_model->currentText().section(QStringLiteral(" · "), 0, 0)
                                                     : tr("no int8 model");
        m_summary->setText(tr("%1 · %2").arg(model, board ? board->id : projectBoard));
        m_summary->setToolTip(tr("%1 on %2").arg(m_model->currentText(),
                                                 board ? board->name : BoardCatalog::displayName(projectBoard)));
    } else {
        m_summary->clear();
    }
    updateControls();
}

void DeploymentPage::updateControls()
{
    const bool open = m_session != nullptr;
    const bool running = isRunning() || m_waitingForStream || m_waitingForBoard;
    const bool hasModel = m_model->count() > 0;
    m_model->setEnabled(open && !running && hasModel);
    for (QWidget *w : std::initializer_list<QWidget *>{m_runs, m_warmup, m_accuracy, m_target})
        w->setEnabled(open && !running);
    m_profile->setEnabled(open && !running && hasModel);
    m_profileShortcut->setEnabled(m_profile->isEnabled());
    m_cancel->setEnabled(isRunning() || m_waitingForBoard);
    m_connect->setVisible(open && !agentLink());
    m_connect->setEnabled(!running);
    m_copy->setEnabled(m_result.has_value() && !running);
    m_delete->setEnabled(open && !selectedProfileIds().isEmpty());
    if (m_exportC)
        m_exportC->setEnabled(open && hasModel && !running);
    if (m_exportArduino)
        m_exportArduino->setEnabled(open && hasModel && !running);
}

void DeploymentPage::reloadModels()
{
    const qint64 previous = m_model->currentData().toLongLong();
    m_model->blockSignals(true);
    m_model->clear();
    if (m_session) {
        QVector<StoredModel> models = m_session->store().models();
        for (auto it = models.crbegin(); it != models.crend(); ++it)
            if (it->kind == ModelKind::Int8)
                m_model->addItem(modelText(*it), it->id);
    }
    const int keep = m_model->findData(previous);
    m_model->setCurrentIndex(keep >= 0 ? keep : (m_model->count() > 0 ? 0 : -1));
    m_model->blockSignals(false);
    if (m_session && m_model->count() == 0)
        m_model->setPlaceholderText(tr("No int8 model yet: quantize one on the Training page"));
    updateControls();
}

double DeploymentPage::hostInt8AccuracyOf(qint64 modelId) const
{
    if (!m_session)
        return -1;
    const auto m = m_session->store().model(modelId);
    if (!m)
        return -1;
    const QJsonValue v = m->metrics.value(QStringLiteral("int8_accuracy"));
    return v.isDouble() ? v.toDouble() : -1;
}

int DeploymentPage::testSampleCount() const
{
    if (!m_session)
        return 0;
    int n = 0;
    for (const auto &row : m_session->store().counts().perLabel)
        n += row.test;
    return n;
}

// --- running ----------------------------------------------------------------------------------------

bool DeploymentPage::isRunning() const
{
    return m_profiler->isRunning();
}

bool DeploymentPage::startProfile()
{
    if (!m_session || isRunning() || m_waitingForStream || m_waitingForBoard)
        return false;
    hideBanner();
    m_linkLost = false;
    if (m_model->currentIndex() < 0) {
        showBanner(tr("The project has no int8 model. Train a model and quantize it on the Training page first."));
        return false;
    }
    if (!m_link) {
        const BoardDefinition *projectBoard = BoardCatalog::board(m_session->boardId());
        if (projectBoard && projectBoard->isVirtual) {
            // One button: a virtual board starts by itself. The window starts it through the
            // Data acquisition page; the boot runs in the event loop and boardStartFinished()
            // continues from here (at once when the board was there already).
            m_waitingForBoard = true;
            m_boardStartMessage.clear();
            setStatus(tr("Starting the virtual board %1…").arg(projectBoard->name));
            updateControls();
            m_requestingBoard = true;
            if (isSignalConnected(QMetaMethod::fromSignal(&DeploymentPage::connectRequested)))
                Q_EMIT connectRequested();
            else
                m_waitingForBoard = false; // nobody can start it
            m_requestingBoard = false;
            if (m_waitingForBoard)
                return true; // booting; Cancel ends the wait
            updateControls();
            if (!agentLink()) {
                showBanner(m_boardStartMessage.isEmpty()
                               ? tr("No board is connected and %1 did not start. The Data acquisition page says why.")
                                     .arg(projectBoard->name)
                               : tr("No board is connected and %1 did not start: %2")
                                     .arg(projectBoard->name, m_boardStartMessage));
                setStatus(QString());
                return false;
            }
        } else {
            showBanner(tr("No board is connected. Connect %1 on the Data acquisition page (it must run the TinyML "
                          "agent), then press Flash & Profile again.")
                           .arg(m_session->boardId().isEmpty() ? tr("a board")
                                                               : BoardCatalog::displayName(m_session->boardId())));
            return false;
        }
    }
    if (!agentLink()) {
        showBanner(tr("%1 does not speak the TinyML agent protocol, so it cannot be flashed or profiled from here. "
                      "Flash the agent firmware onto it first.")
                       .arg(m_link->portName()));
        return false;
    }
    if (!currentBoard()) {
        showBanner(tr("The connected board (%1) is not in the board registry, so its clock, memory and power model "
                      "are unknown.")
                       .arg(agentLink()->hasInfo() ? agentLink()->info().boardId : m_link->portName()));
        return false;
    }
    storeSettings();
    // The acquisition page keeps a live preview streaming; profiling needs the link quiet.
    if (m_link->isStreaming()) {
        m_waitingForStream = true;
        m_stoppedPreview = true;
        setStatus(tr("Stopping the live preview…"));
        updateControls();
        auto proceed = std::make_shared<bool>(false);
        auto go = [this, proceed] {
            if (*proceed || !m_waitingForStream)
                return;
            *proceed = true;
            m_waitingForStream = false;
            beginProfile();
        };
        connect(m_link, &DeviceLink::streamEnded, this, go, Qt::SingleShotConnection);
        QTimer::singleShot(2000, this, go);
        m_link->stopStream();
        return true;
    }
    beginProfile();
    return isRunning();
}

void DeploymentPage::beginProfile()
{
    AgentLink *link = agentLink();
    const BoardDefinition *board = currentBoard();
    if (!link || !board) {
        showBanner(tr("The board went away before profiling started. Reconnect and try again."));
        updateControls();
        releasePreview();
        return;
    }
    deploy::ProfileOptions options;
    options.runs = m_runs->value();
    options.warmup = m_warmup->value();
    options.accuracy = m_accuracy->isChecked();
    // A provisioned board takes signed packages only: the newest of this model's in signed/.
    options.signedPackages = deploy::signedPackagesBeside(m_session->store().path());
    if (m_virtual) {
        options.cycleChannel = m_virtual->cycleChannelPath();
        options.cycleUnavailable = m_virtual->cycleModelUnavailableReason();
    }
    // The target converts a virtual board's estimate; a real board's counter is its own.
    const QString targetId = m_target->currentData().toString();
    if (!targetId.isEmpty() && m_virtual && board->cycleModel.isSet()) {
        if (const BoardDefinition *target = BoardCatalog::board(targetId)) {
            QString why;
            options.target = deploy::Profiler::targetFromBoard(*target, &why);
            if (!options.target) {
                showBanner(tr("Not started: %1").arg(why));
                updateControls();
                releasePreview();
                return;
            }
        }
    }
    const qint64 modelId = m_model->currentData().toLongLong();

    ProfileCharts::Setup setup;
    setup.runs = options.runs;
    setup.counter = link->info().counterKindName();
    setup.clockHz = board->clockHz;
    setup.hostInt8Accuracy = hostInt8AccuracyOf(modelId);
    setup.accuracySamples = options.accuracy ? testSampleCount() : 0;
    m_plannedRuns = options.runs;
    m_charts->reset(setup);
    m_live = deploy::ProfileResult();
    m_live.board = board->id;
    m_live.boardName = board->name;
    m_live.clockHz = board->clockHz;
    m_live.counter = setup.counter;
    m_live.agentVersion = link->info().agentVersion;
    m_live.modelId = modelId;
    if (const auto stored = m_session->store().model(modelId))
        m_live.modelName = stored->name;
    m_live.warmup = options.warmup;
    m_live.hostInt8Accuracy = qMax(0.0, setup.hostInt8Accuracy);
    m_liveMs.clear();

    QString error;
    if (!m_profiler->start(&m_session->store(), modelId, link, *board, options, &error)) {
        showBanner(tr("Not started: %1").arg(error));
        setStatus(QString());
        m_progress->setRange(0, 1);
        m_progress->setValue(0);
        m_progress->setFormat(tr("Idle"));
        if (m_result)
            m_charts->showResult(*m_result);
        else
            m_charts->clear(tr("Press Flash & Profile"));
        updateControls();
        releasePreview();
        return;
    }
    m_result.reset();
    m_shownProfileId.reset();
    m_results->setRowCount(0);
    m_tabs->setCurrentIndex(0);
    m_progress->setRange(0, 0);
    m_progress->setFormat(tr("Starting…"));
    setStatus(tr("Profiling model #%1 on %2…").arg(modelId).arg(board->name));
    updateControls();
    Q_EMIT runningChanged(true);
}

void DeploymentPage::boardStartFinished(bool ok, const QString &message)
{
    if (!m_waitingForBoard)
        return;
    m_waitingForBoard = false;
    m_boardStartMessage = message;
    if (m_requestingBoard)
        return; // known before connectRequested returned: startProfile() goes on itself
    updateControls();
    if (ok && agentLink()) {
        // Queued: the acquisition page finishes connecting (and starts its preview) first.
        QTimer::singleShot(0, this, [this] { startProfile(); });
        return;
    }
    setStatus(QString());
    const BoardDefinition *projectBoard = m_session ? BoardCatalog::board(m_session->boardId()) : nullptr;
    showBanner(tr("No board is connected and %1 did not start: %2")
                   .arg(projectBoard ? projectBoard->name : tr("the virtual board"), message));
}

void DeploymentPage::cancel()
{
    if (m_waitingForBoard) {
        // The board's start is cancelled on the Data acquisition page; boardStartFinished()
        // then reports it.
        Q_EMIT cancelConnectRequested();
        return;
    }
    if (m_waitingForStream) {
        m_waitingForStream = false;
        setStatus(tr("Cancelled."));
        updateControls();
        releasePreview();
        return;
    }
    if (!isRunning())
        return;
    m_profiler->cancel();
    setStatus(tr("Cancelling after the request in flight…"));
}

void DeploymentPage::onStage(const QString &stage)
{
    m_stage = stage;
    if (stage.startsWith(QLatin1String("Warm"))) {
        m_progress->setRange(0, 0);
        m_progress->setFormat(stage);
    } else if (stage.contains(QLatin1String("layer"), Qt::CaseInsensitive)) {
        m_progress->setRange(0, 0);
        m_progress->setFormat(tr("Layers"));
    } else if (stage.startsWith(QLatin1String("Run")) || stage.startsWith(QLatin1String("Measur"))) {
        m_progress->setFormat(tr("Run 0/%1").arg(m_plannedRuns));
        m_progress->setRange(0, qMax(1, m_plannedRuns));
        m_progress->setValue(0);
    } else {
        m_progress->setRange(0, 0);
        m_progress->setFormat(stage);
    }
    setStatus(stage);
}

void DeploymentPage::onUploadProgress(qint64 sent, qint64 total)
{
    // The progress bar is an int: count in bytes up to 2 GB, far beyond any model slot.
    m_progress->setFormat(tr("Flashing %1 / %2 KB").arg(sent / 1024.0, 0, 'f', 1).arg(total / 1024.0, 0, 'f', 1));
    m_progress->setRange(0, int(qMax<qint64>(1, total)));
    m_progress->setValue(int(qBound<qint64>(0, sent, total)));
}

void DeploymentPage::onRun(int index, quint64 counter, double ms)
{
    m_charts->addRun(index, counter, ms);
    m_live.runCounters << counter;
    m_liveMs << ms;
    m_live.runs = int(m_liveMs.size());
    QVector<double> sorted = m_liveMs;
    std::sort(sorted.begin(), sorted.end());
    m_live.latencyMinMs = sorted.first();
    m_live.latencyMaxMs = sorted.last();
    const int n = int(sorted.size());
    m_live.latencyMedianMs = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    fillTable(m_live, true);
    m_progress->setFormat(tr("Run %1/%2").arg(index + 1).arg(m_plannedRuns));
    m_progress->setRange(0, qMax(1, m_plannedRuns));
    m_progress->setValue(qMin(index + 1, m_plannedRuns));
}

void DeploymentPage::onLayers(const QVector<deploy::LayerProfile> &layers)
{
    m_charts->setLayers(layers);
    m_progress->setFormat(tr("Layers"));
    m_live.layers = layers;
    m_live.macs = 0;
    for (const deploy::LayerProfile &l : layers)
        m_live.macs += l.macs;
    fillTable(m_live, true);
}

void DeploymentPage::onAccuracy(int done, int total, int correct, int bitexact)
{
    m_charts->setAccuracyProgress(done, total, correct, bitexact);
    m_live.outputsCompared = done;
    m_live.bitexactOutputs = bitexact;
    m_live.deviceAccuracy = done > 0 ? double(correct) / done : 0.0;
    fillTable(m_live, true);
    m_progress->setFormat(tr("Accuracy %1/%2").arg(done).arg(total));
    m_progress->setRange(0, qMax(1, total));
    m_progress->setValue(done);
}

void DeploymentPage::onEnergy(double microjoules, bool estimated, const QString &source)
{
    m_charts->setEnergy({ProfileCharts::EnergyBar{tr("this profile"), microjoules, estimated}}, source);
    m_live.energyUj = microjoules;
    m_live.energyEstimated = estimated;
    m_live.energySource = source;
    fillTable(m_live, true);
}

void DeploymentPage::onFinished(const deploy::ProfileResult &result)
{
    // The Profiler has stored the profile in the project (profileId).
    const qint64 storedId = result.profileId;
    endRun();
    m_progress->setRange(0, 1);
    m_progress->setValue(1);
    m_progress->setFormat(tr("Done"));
    m_result = result;
    reloadProfiles();
    if (storedId > 0) {
        selectProfiles({storedId});   // shows it (table, charts, energy context)
        setStatus(tr("Profile #%1 stored: median %2 ms on %3.")
                      .arg(storedId)
                      .arg(result.latencyMedianMs, 0, 'f', 3)
                      .arg(result.boardName.isEmpty() ? result.board : result.boardName));
    } else {
        showResult(result);
    }
    m_tabs->setCurrentIndex(0);
    Q_EMIT profileFinished(storedId > 0);
}

void DeploymentPage::onFailed(const QString &error)
{
    // A closing port fails the request in flight before the link reports connectionLost:
    // decide whether the board was lost once that report has had its turn.
    QTimer::singleShot(0, this, [this, error] { reportFailure(error); });
}

void DeploymentPage::reportFailure(const QString &error)
{
    if (!m_link || !m_link->isOpen())
        m_linkLost = true;
    endRun();
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    m_progress->setFormat(tr("Failed"));
    if (m_linkLost)
        showBanner(tr("The board was lost during profiling (%1). Nothing was stored; a model upload that did not "
                      "finish leaves the previous model on the board.")
                       .arg(error));
    else
        showBanner(tr("Profiling failed: %1").arg(error));
    setStatus(QString());
    Q_EMIT profileFinished(false);
}

void DeploymentPage::onCancelled()
{
    endRun();
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    m_progress->setFormat(m_linkLost ? tr("Board lost") : tr("Cancelled"));
    if (!m_linkLost)
        setStatus(tr("Cancelled; nothing was stored. The board keeps the model it had committed."));
    Q_EMIT profileFinished(false);
}

void DeploymentPage::endRun()
{
    m_stage.clear();
    updateControls();
    Q_EMIT runningChanged(false);
    releasePreview();
}

void DeploymentPage::releasePreview()
{
    if (!m_stoppedPreview)
        return;
    m_stoppedPreview = false;
    Q_EMIT previewReleased();
}

// --- results ------------------------------------------------------------------------------------

void DeploymentPage::fillTable(const deploy::ProfileResult &result, bool live)
{
    const BoardDefinition *board = BoardCatalog::board(result.board);
    QVector<ProfileRow> rows = rowsWithEstimate(result, board);
    if (live) {
        // Mid-run: only what has been measured so far (memory and energy come at the end).
        rows.erase(std::remove_if(rows.begin(), rows.end(),
                                  [](const ProfileRow &r) {
                                      return (r.number && *r.number == 0) || (!r.number && r.value.isEmpty()) ||
                                             r.value == QCoreApplication::translate("ProfileReport", "not measured");
                                  }),
                   rows.end());
    }
    m_results->setRowCount(int(rows.size()));
    for (int i = 0; i < rows.size(); ++i) {
        const ProfileRow &r = rows[i];
        auto *metric = cell(r.metric, false);
        auto *value = cell(r.value, r.number.has_value());
        if (r.number)
            value->setData(Qt::UserRole, *r.number);
        m_results->setItem(i, 0, metric);
        m_results->setItem(i, 1, value);
        m_results->setItem(i, 2, cell(r.unit, false));
    }
    // Bit-exactness is the point of the comparison: flag a mismatch.
    for (int i = 0; i < rows.size(); ++i)
        if (rows[i].metric.startsWith(tr("Bit-exact")) && result.bitexactOutputs != result.outputsCompared)
            m_results->item(i, 1)->setForeground(QColor(0xb9, 0x1c, 0x1c));
    m_copy->setEnabled(!live && !rows.isEmpty());
    // Provenance in one sentence above the numbers (the same facts close the table).
    QString about = tr("%1 at %2 · timing: %3").arg(result.boardName.isEmpty() ? result.board : result.boardName,
                                                    clockText(result.clockHz), counterUnitText(result.counter));
    if (!result.agentVersion.isEmpty())
        about += tr(", agent %1").arg(result.agentVersion);
    if (!result.method.isEmpty())
        about += QStringLiteral(" · ") + result.method;
    if (!result.createdUtc.isEmpty())
        about += QStringLiteral(" · ") + QDateTime::fromString(result.createdUtc, Qt::ISODateWithMs)
                                               .toUTC()
                                               .toString(QStringLiteral("yyyy-MM-dd HH:mm 'UTC'"));
    // The estimate on the user's part leads: it is the number they compare with published ones.
    if (result.hasCycleEstimate && result.onTarget)
        about = tr("Estimated on %1: %2 ms (%3 timing model) · ")
                    .arg(targetText(result.onTarget->part, result.onTarget->clockHz))
                    .arg(result.onTarget->medianMs, 0, 'f', 4)
                    .arg(deploy::cycleCoreDisplayName(result.cycleModel.core))
                + about;
    m_about->setText(live ? tr("Measuring on %1…").arg(about) : about);
}

void DeploymentPage::showResult(const deploy::ProfileResult &result)
{
    m_result = result;
    fillTable(result, false);

    QVector<ProfileCharts::EnergyBar> context;
    if (m_session) {
        const QVector<StoredProfile> earlier = m_session->store().profiles(result.modelId);
        for (auto it = earlier.crbegin(); it != earlier.crend() && context.size() < 3; ++it) {
            if (m_shownProfileId && it->id == *m_shownProfileId)
                continue;
            const auto r = deploy::ProfileResult::fromJson(it->json);
            if (r.createdUtc == result.createdUtc && r.board == result.board)
                continue;
            context << ProfileCharts::EnergyBar{profileName(it->id, r), r.energyUj, r.energyEstimated};
        }
    }
    m_charts->showResult(result, context);
    updateControls();
}

QString DeploymentPage::resultsText() const
{
    if (!m_result)
        return {};
    return profileRowsTsv(rowsWithEstimate(*m_result, BoardCatalog::board(m_result->board)));
}

void DeploymentPage::copyResults()
{
    const QString text = resultsText();
    if (text.isEmpty())
        return;
    QApplication::clipboard()->setText(text);
    setStatus(tr("Copied %1 as tab-separated text.").arg(countText(m_results->rowCount(), "%1 row", "%1 rows")));
}

// --- stored profiles ------------------------------------------------------------------------------

void DeploymentPage::reloadProfiles()
{
    const QVector<qint64> keep = selectedProfileIds();
    m_profiles->blockSignals(true);
    m_profiles->clearSelection();
    m_profiles->setRowCount(0);
    if (m_session) {
        const QVector<StoredProfile> profiles = m_session->store().profiles();
        m_profiles->setRowCount(int(profiles.size()));
        for (int i = 0; i < profiles.size(); ++i) {
            const StoredProfile &p = profiles[i];
            const deploy::ProfileResult r = deploy::ProfileResult::fromJson(p.json);
            auto *id = cell(QString::number(p.id), true);
            id->setData(Qt::UserRole, p.id);
            m_profiles->setItem(i, 0, id);
            m_profiles->setItem(i, 1, cell(r.board.isEmpty() ? p.boardId : r.board, false));
            m_profiles->setItem(i, 2, cell(clockText(r.clockHz), true));
            m_profiles->setItem(i, 3, cell(p.created.toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm")), false));
            m_profiles->setItem(i, 4, cell(tr("%1 ms").arg(r.latencyMedianMs, 0, 'f', 3), true));
            m_profiles->setItem(i, 5, cell(r.agentBuild.isEmpty() ? r.agentVersion : r.agentBuild, false));
            // The whole record, for the row's tooltip: what ran, where, and how it was measured.
            const QString about = tr("Profile #%1 of model #%2\n%3 at %4, agent %5\n%6")
                                      .arg(p.id)
                                      .arg(p.modelId)
                                      .arg(r.boardName.isEmpty() ? r.board : r.boardName, clockText(r.clockHz),
                                           r.agentVersion + (r.agentBuild.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(r.agentBuild)),
                                           r.method);
            for (int c = 0; c < m_profiles->columnCount(); ++c)
                m_profiles->item(i, c)->setToolTip(about);
        }
    }
    m_profiles->blockSignals(false);
    m_tabs->setTabText(1, m_profiles->rowCount() ? tr("Stored profiles (%1)").arg(m_profiles->rowCount())
                                                 : tr("Stored profiles"));
    if (!keep.isEmpty())
        selectProfiles(keep);
    else
        onProfileSelectionChanged();
}

void DeploymentPage::selectProfiles(const QVector<qint64> &ids)
{
    m_profiles->blockSignals(true);
    m_profiles->clearSelection();
    for (int row = 0; row < m_profiles->rowCount(); ++row)
        if (ids.contains(m_profiles->item(row, 0)->data(Qt::UserRole).toLongLong()))
            for (int c = 0; c < m_profiles->columnCount(); ++c)
                m_profiles->item(row, c)->setSelected(true);
    m_profiles->blockSignals(false);
    onProfileSelectionChanged();
}

QVector<qint64> DeploymentPage::selectedProfileIds() const
{
    QVector<qint64> ids;
    for (QTableWidgetItem *item : m_profiles->selectedItems())
        if (item->column() == 0)
            ids << item->data(Qt::UserRole).toLongLong();
    std::sort(ids.begin(), ids.end());
    return ids;
}

void DeploymentPage::onProfileSelectionChanged()
{
    const QVector<qint64> ids = selectedProfileIds();
    updateControls();
    if (!m_session || isRunning())
        return;
    if (ids.size() == 1) {
        if (auto p = m_session->store().profile(ids[0])) {
            m_shownProfileId = p->id;
            showResult(deploy::ProfileResult::fromJson(p->json));
        }
        m_comparison->setRowCount(0);
    } else if (ids.size() == 2) {
        const auto a = m_session->store().profile(ids[0]);
        const auto b = m_session->store().profile(ids[1]);
        if (a && b)
            showComparison(deploy::ProfileResult::fromJson(a->json), a->id, deploy::ProfileResult::fromJson(b->json),
                           b->id);
    } else {
        m_comparison->setRowCount(0);
    }
}

void DeploymentPage::showComparison(const deploy::ProfileResult &a, qint64 idA, const deploy::ProfileResult &b,
                                    qint64 idB)
{
    const QVector<ProfileComparisonRow> rows = compareProfiles(a, b);
    m_comparison->setHorizontalHeaderLabels(
        {tr("Metric"), QStringLiteral("#%1").arg(idA), QStringLiteral("#%1").arg(idB), tr("B / A"), tr("Unit")});
    m_comparison->horizontalHeaderItem(1)->setToolTip(tr("A: %1").arg(profileName(idA, a)));
    m_comparison->horizontalHeaderItem(2)->setToolTip(tr("B: %1").arg(profileName(idB, b)));
    m_comparison->setRowCount(int(rows.size()));
    for (int i = 0; i < rows.size(); ++i) {
        const ProfileComparisonRow &r = rows[i];
        m_comparison->setItem(i, 0, cell(r.metric, false));
        m_comparison->setItem(i, 1, cell(r.a, r.ratio.has_value()));
        m_comparison->setItem(i, 2, cell(r.b, r.ratio.has_value()));
        auto *ratio = cell(r.ratio ? QStringLiteral("%1×").arg(*r.ratio, 0, 'f', 2) : QString(), true);
        if (r.ratio)
            ratio->setData(Qt::UserRole, *r.ratio);
        m_comparison->setItem(i, 3, ratio);
        m_comparison->setItem(i, 4, cell(r.unit, false));
    }
    m_tabs->setCurrentIndex(1);
}

bool DeploymentPage::deleteSelectedProfiles()
{
    if (!m_session)
        return false;
    const QVector<qint64> ids = selectedProfileIds();
    if (ids.isEmpty())
        return false;
    QPointer<DeploymentPage> self(this);
    auto changed = [self] {
        if (self)
            self->reloadProfiles();
    };
    QUndoStack *stack = m_session->undoStack();
    if (ids.size() > 1)
        stack->beginMacro(tr("Delete %1").arg(countText(ids.size(), "%1 profile", "%1 profiles")));
    bool ok = true;
    QString error;
    for (qint64 id : ids) {
        auto p = m_session->store().profile(id, &error);
        if (!p || !DeleteProfileCommand::execute(m_session, *p, changed, &error)) {
            ok = false;
            break;
        }
    }
    if (ids.size() > 1)
        stack->endMacro();
    if (m_shownProfileId && ids.contains(*m_shownProfileId))
        m_shownProfileId.reset();
    m_profiles->clearSelection();
    reloadProfiles();
    if (!ok)
        showBanner(tr("Could not delete the profile: %1").arg(error));
    else
        setStatus(tr("Deleted %1 · Edit > Undo (Ctrl+Z) brings it back.")
                      .arg(countText(ids.size(), "%1 profile", "%1 profiles")));
    return ok;
}

void DeploymentPage::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    // Training quantizes through its own store: new int8 models appear when the page shows.
    if (!isRunning())
        reloadModels();
    updateBoard();
}

// --- export ----------------------------------------------------------------------------------------

void DeploymentPage::chooseExportFile(bool arduino)
{
    if (!m_session || m_model->currentIndex() < 0)
        return;
    const qint64 modelId = m_model->currentData().toLongLong();
    const QFileInfo project(m_session->path());
    const QString suggested = project.absoluteDir().filePath(
        QStringLiteral("%1-model%2-%3.zip")
            .arg(project.completeBaseName())
            .arg(modelId)
            .arg(arduino ? QStringLiteral("arduino") : QStringLiteral("c-library")));
    const QString path = QFileDialog::getSaveFileName(this, arduino ? tr("Export Arduino library") : tr("Export C library"),
                                                      suggested, tr("Zip archives (*.zip)"));
    if (!path.isEmpty())
        exportLibrary(arduino, path);
}

bool DeploymentPage::exportLibrary(bool arduino, const QString &zipPath)
{
    if (!m_session || m_model->currentIndex() < 0) {
        showBanner(tr("The project has no int8 model to export. Quantize one on the Training page first."));
        return false;
    }
    hideBanner();
    const qint64 modelId = m_model->currentData().toLongLong();
    deploy::LibraryExportOptions options;
    options.layout = arduino ? deploy::LibraryLayout::Arduino : deploy::LibraryLayout::CLibrary;
    options.modelDescription = tr("%1, model #%2").arg(m_session->displayName()).arg(modelId);
    QString error;
    QApplication::setOverrideCursor(Qt::BusyCursor);
    const auto exported = deploy::CLibraryExporter::exportProject(m_session->store(), modelId, zipPath, options, &error);
    QApplication::restoreOverrideCursor();
    if (!exported) {
        showBanner(tr("Export failed: %1").arg(error));
        return false;
    }
    setStatus(tr("Wrote %1: %2, package %3, arena %4.")
                  .arg(QDir::toNativeSeparators(zipPath), countText(exported->files.size(), "%1 file", "%1 files"),
                       byteSizeText(exported->packageBytes), byteSizeText(exported->arenaBytes)));
    return true;
}

// --- messages -------------------------------------------------------------------------------------

void DeploymentPage::showBanner(const QString &text)
{
    m_banner->setText(text);
    m_banner->setVisible(true);
}

void DeploymentPage::hideBanner()
{
    m_banner->clear();
    m_banner->setVisible(false);
}

void DeploymentPage::setStatus(const QString &text)
{
    m_status->setText(text);
}

} // namespace tinyml::ui
