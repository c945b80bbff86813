#include "pages/LivePage.h"

#include "live/CalibrationView.h"
#include "live/LiveClassificationView.h"
#include "window/PageHeader.h"
#include "window/ProjectSession.h"

#include "store/ProjectStore.h"

#include <QComboBox>
#include <QFileDialog>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTabWidget>
#include <QToolButton>
#include <QVBoxLayout>

namespace tinyml::ui {

LivePage::LivePage(QWidget *parent)
    : QWidget(parent), m_subtitle(new QLabel(this)), m_source(new QComboBox(this)), m_path(new QLineEdit(this)),
      m_browse(new QToolButton(this)), m_truth(new QLineEdit(this)), m_browseTruth(new QToolButton(this)),
      m_start(new QPushButton(tr("Start"), this)), m_stop(new QPushButton(tr("Stop"), this)),
      m_status(new QLabel(this)), m_tabs(new QTabWidget(this)), m_live(new LiveClassificationView(this)),
      m_calibration(new CalibrationView(this))
{
    auto *layout = new QVBoxLayout(this);
    setPageMargins(layout, 8);
    m_subtitle->setText(tr("The impulse on a replayed or simulated stream"));
    layout->addLayout(makePageHeader(this, tr("Live classification"), m_subtitle));

    // Source and truth pickers, Start / Stop.
    auto *controls = new QGridLayout;
    controls->setHorizontalSpacing(8);
    controls->setVerticalSpacing(6);
    m_source->addItem(tr("Board sensor (simulated)"), int(Source::SimulatedSensor));
    m_source->addItem(tr("Replay file…"), int(Source::ReplayFile));
    m_source->addItem(tr("Scenario script…"), int(Source::ScenarioScript));
    m_source->setToolTip(tr("Where the stream comes from. Every source is a replay or a simulation."));
    m_path->setPlaceholderText(tr("Recording (.wav, .csv) or scenario script"));
    m_browse->setText(tr("…"));
    m_browse->setToolTip(tr("Choose the file"));
    m_truth->setPlaceholderText(tr("Optional: ground-truth events (.csv) for recall and false activations"));
    m_browseTruth->setText(tr("…"));
    m_browseTruth->setToolTip(tr("Choose the truth file"));
    m_start->setObjectName(QStringLiteral("primaryButton"));
    m_stop->setEnabled(false);
    auto *sourceLabel = new QLabel(tr("Source"), this);
    sourceLabel->setBuddy(m_source);
    auto *truthLabel = new QLabel(tr("Truth"), this);
    truthLabel->setBuddy(m_truth);
    controls->addWidget(sourceLabel, 0, 0);
    controls->addWidget(m_source, 0, 1);
    controls->addWidget(m_path, 0, 2);
    controls->addWidget(m_browse, 0, 3);
    controls->addWidget(m_start, 0, 4);
    controls->addWidget(truthLabel, 1, 0);
    controls->addWidget(m_truth, 1, 1, 1, 2);
    controls->addWidget(m_browseTruth, 1, 3);
    controls->addWidget(m_stop, 1, 4);
    controls->setColumnStretch(2, 1);
    layout->addLayout(controls);
    m_status->setObjectName(QStringLiteral("hint"));
    layout->addWidget(m_status);

    m_tabs->addTab(m_live, tr("Live classification"));
    m_tabs->addTab(m_calibration, tr("Calibration"));
    layout->addWidget(m_tabs, 1);

    connect(m_source, &QComboBox::currentIndexChanged, this, &LivePage::updateControls);
    connect(m_path, &QLineEdit::textChanged, this, &LivePage::updateControls);
    connect(m_browse, &QToolButton::clicked, this, &LivePage::browseSource);
    connect(m_browseTruth, &QToolButton::clicked, this, &LivePage::browseTruth);
    connect(m_start, &QPushButton::clicked, this, [this] {
        if (m_start->isEnabled())
            Q_EMIT startRequested(source(), sourcePath(), truthPath());
    });
    connect(m_stop, &QPushButton::clicked, this, &LivePage::stopRequested);
    setSession(nullptr);
}

void LivePage::setSession(ProjectSession *session)
{
    if (m_running)
        Q_EMIT stopRequested();
    m_running = false;
    m_session = session;
    m_live->clear();
    m_calibration->setPoints({});
    if (session)
        m_live->setLabels(session->store().settings().labels);
    reloadModels();
}

void LivePage::reloadModels()
{
    m_hasModel = false;
    if (m_session)
        for (const StoredModel &m : m_session->store().models())
            m_hasModel = m_hasModel || m.kind == ModelKind::Int8;
    updateControls();
}

void LivePage::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    // Training quantizes through its own store: new int8 models appear when the page shows.
    if (!m_running)
        reloadModels();
}

void LivePage::setRunning(bool running)
{
    m_running = running;
    updateControls();
}

LivePage::Source LivePage::source() const
{
    return Source(m_source->currentData().toInt());
}

void LivePage::setSource(Source source)
{
    m_source->setCurrentIndex(m_source->findData(int(source)));
}

QString LivePage::sourcePath() const
{
    return source() == Source::SimulatedSensor ? QString() : m_path->text().trimmed();
}

void LivePage::setSourcePath(const QString &path)
{
    m_path->setText(path);
}

QString LivePage::truthPath() const
{
    return m_truth->text().trimmed();
}

void LivePage::setTruthPath(const QString &path)
{
    m_truth->setText(path);
}

void LivePage::setStatus(const QString &text)
{
    m_status->setText(text);
}

void LivePage::updateControls()
{
    const bool needsFile = source() != Source::SimulatedSensor;
    m_path->setEnabled(needsFile && !m_running);
    m_browse->setEnabled(needsFile && !m_running);
    m_source->setEnabled(!m_running);
    m_truth->setEnabled(!m_running);
    m_browseTruth->setEnabled(!m_running);
    QString why;
    if (!m_session)
        why = tr("Open a project first.");
    else if (!m_hasModel)
        why = tr("No int8 model yet: quantize one on the Training page.");
    else if (needsFile && sourcePath().isEmpty())
        why = source() == Source::ReplayFile ? tr("Choose the recording to replay.") : tr("Choose the scenario script.");
    m_start->setEnabled(!m_running && why.isEmpty());
    m_start->setToolTip(why.isEmpty() ? tr("Classify the stream with the project's int8 model") : why);
    m_stop->setEnabled(m_running);
    if (!m_running)
        m_status->setText(why);
}

void LivePage::browseSource()
{
    const bool script = source() == Source::ScenarioScript;
    const QString path = QFileDialog::getOpenFileName(
        this, script ? tr("Scenario script") : tr("Recording to replay"), m_path->text(),
        script ? tr("Scenario scripts (*.json *.txt);;All files (*)") : tr("Recordings (*.wav *.csv);;All files (*)"));
    if (!path.isEmpty())
        m_path->setText(path);
}

void LivePage::browseTruth()
{
    const QString path = QFileDialog::getOpenFileName(this, tr("Ground-truth events"), m_truth->text(),
                                                      tr("Truth files (*.csv *.json);;All files (*)"));
    if (!path.isEmpty())
        m_truth->setText(path);
}

} // namespace tinyml::ui
