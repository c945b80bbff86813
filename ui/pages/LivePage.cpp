#include "pages/LivePage.h"

#include "live/CalibrationView.h"
#include "live/LiveClassificationView.h"
#include "plots/PlotStyle.h"
#include "plots/QCustomPlotInclude.h"
#include "window/PageHeader.h"
#include "window/ProjectSession.h"

#include "LiveClassifier.h"
#include "model/Graph.h"
#include "store/ProjectStore.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QTabWidget>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace tinyml::ui {

namespace {

const QColor kScore(0x25, 0x63, 0xeb);       // blue, as the Anomaly page's normal scores
const QColor kAlarm(0xdc, 0x26, 0x26);       // red, as its anomalous scores

/// The threshold of an anomaly graph, nullopt for a classifier (or a graph that cannot be read).
std::optional<double> anomalyThresholdOf(const StoredModel &m)
{
    QString ignored;
    auto g = model::Graph::deserialize(m.graph, &ignored);
    if (!g || g->meta.value(QStringLiteral("task")).toString() != QLatin1String("anomaly"))
        return std::nullopt;
    const QJsonValue t = g->meta.value(QStringLiteral("threshold"));
    return t.isDouble() ? std::optional<double>(t.toDouble()) : std::nullopt;
}

} // namespace

LivePage::LivePage(QWidget *parent)
    : QWidget(parent), m_subtitle(new QLabel(this)), m_source(new QComboBox(this)), m_path(new QLineEdit(this)),
      m_browse(new QToolButton(this)), m_truth(new QLineEdit(this)), m_browseTruth(new QToolButton(this)),
      m_start(new QPushButton(tr("Start"), this)), m_stop(new QPushButton(tr("Stop"), this)),
      m_secondsLabel(new QLabel(tr("Duration"), this)), m_seconds(new QSpinBox(this)), m_status(new QLabel(this)),
      m_maxFar(new QDoubleSpinBox(this)), m_calibrate(new QPushButton(tr("Run calibration"), this)),
      m_cancelCalibration(new QPushButton(tr("Cancel"), this)), m_calibrationProgress(new QProgressBar(this)),
      m_calibrationStatus(new QLabel(this)), m_tabs(new QTabWidget(this)), m_live(new LiveClassificationView(this)),
      m_calibration(new CalibrationView(this)), m_anomalyPanel(new QWidget(this)),
      m_anomalyPlot(new QCustomPlot(m_anomalyPanel)), m_alarmLabel(new QLabel(m_anomalyPanel))
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
    // The board's own sensor streams until stopped: the run needs an end. Replays and scripts
    // end with their file.
    m_seconds->setRange(1, 24 * 3600);
    m_seconds->setValue(30);
    m_seconds->setSuffix(tr(" s"));
    m_seconds->setToolTip(tr("How long the board's own sensor is classified"));
    m_secondsLabel->setBuddy(m_seconds);
    controls->addWidget(sourceLabel, 0, 0);
    controls->addWidget(m_source, 0, 1);
    controls->addWidget(m_path, 0, 2);
    controls->addWidget(m_browse, 0, 3);
    controls->addWidget(m_secondsLabel, 0, 4);
    controls->addWidget(m_seconds, 0, 5);
    controls->addWidget(m_start, 0, 6);
    controls->addWidget(truthLabel, 1, 0);
    controls->addWidget(m_truth, 1, 1, 1, 2);
    controls->addWidget(m_browseTruth, 1, 3);
    controls->addWidget(m_stop, 1, 6);
    controls->setColumnStretch(2, 1);
    layout->addLayout(controls);
    m_status->setObjectName(QStringLiteral("hint"));
    layout->addWidget(m_status);

    // Calibration tab: the sweep's controls above the DET curve.
    auto *calibrationTab = new QWidget(this);
    auto *calibrationLayout = new QVBoxLayout(calibrationTab);
    calibrationLayout->setContentsMargins(0, 6, 0, 0);
    auto *sweepRow = new QHBoxLayout;
    auto *maxFarLabel = new QLabel(tr("Max false activations"), calibrationTab);
    maxFarLabel->setBuddy(m_maxFar);
    m_maxFar->setRange(0, 10000);
    m_maxFar->setDecimals(1);
    m_maxFar->setValue(1.0);
    m_maxFar->setSuffix(tr(" / h"));
    m_maxFar->setToolTip(tr("The operating point misses the fewest events with at most this many false activations "
                            "per hour of non-event time"));
    m_calibrate->setToolTip(tr("Replay the recording through the device's C pipeline on this computer and sweep "
                               "threshold, averaging and suppression against the truth file"));
    m_cancelCalibration->setEnabled(false);
    m_calibrationProgress->setRange(0, 1);
    m_calibrationProgress->setValue(0);
    m_calibrationProgress->setFormat(tr("Idle"));
    m_calibrationProgress->setMaximumWidth(220);
    sweepRow->addWidget(maxFarLabel);
    sweepRow->addWidget(m_maxFar);
    sweepRow->addWidget(m_calibrate);
    sweepRow->addWidget(m_cancelCalibration);
    sweepRow->addWidget(m_calibrationProgress);
    sweepRow->addStretch(1);
    calibrationLayout->addLayout(sweepRow);
    m_calibrationStatus->setObjectName(QStringLiteral("hint"));
    m_calibrationStatus->setWordWrap(true);
    calibrationLayout->addWidget(m_calibrationStatus);
    calibrationLayout->addWidget(m_calibration, 1);

    // Anomaly score panel: score per window, the threshold line, alarm onsets.
    auto *anomalyLayout = new QVBoxLayout(m_anomalyPanel);
    anomalyLayout->setContentsMargins(0, 4, 0, 4);
    auto *anomalyTitle = new QLabel(tr("<b>Anomaly score</b> per window (the device's int8 score; alarm when above "
                                       "the threshold)"),
                                    m_anomalyPanel);
    m_alarmLabel->setObjectName(QStringLiteral("hint"));
    auto *anomalyHeader = new QHBoxLayout;
    anomalyHeader->addWidget(anomalyTitle);
    anomalyHeader->addStretch(1);
    anomalyHeader->addWidget(m_alarmLabel);
    anomalyLayout->addLayout(anomalyHeader);
    applyPlotStyle(m_anomalyPlot);
    m_anomalyPlot->xAxis->setLabel(tr("time (s)"));
    m_anomalyPlot->yAxis->setLabel(tr("anomaly score"));
    m_anomalyPlot->setMinimumHeight(170);
    QCPGraph *score = m_anomalyPlot->addGraph();
    score->setName(tr("score"));
    score->setPen(QPen(kScore, 1.8));
    score->setLineStyle(QCPGraph::lsLine);   // one point per window, at its end
    score->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 3));
    QCPGraph *threshold = m_anomalyPlot->addGraph();
    threshold->setName(tr("threshold"));
    threshold->setPen(QPen(kAlarm, 1.5, Qt::DashLine));
    QCPGraph *onsets = m_anomalyPlot->addGraph();
    onsets->setName(tr("alarm"));
    onsets->setLineStyle(QCPGraph::lsNone);
    onsets->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssTriangle, kAlarm, kAlarm, 9));
    m_anomalyPlot->legend->setVisible(true);
    placeLegendAbove(m_anomalyPlot);
    anomalyLayout->addWidget(m_anomalyPlot, 1);
    m_anomalyPanel->setVisible(false);
    layout->addWidget(m_anomalyPanel, 1);

    m_tabs->addTab(m_live, tr("Live classification"));
    m_tabs->addTab(calibrationTab, tr("Calibration"));
    layout->addWidget(m_tabs, 1);

    connect(m_source, &QComboBox::currentIndexChanged, this, &LivePage::updateControls);
    connect(m_path, &QLineEdit::textChanged, this, &LivePage::updateControls);
    connect(m_truth, &QLineEdit::textChanged, this, &LivePage::updateControls);
    connect(m_calibrate, &QPushButton::clicked, this, [this] {
        if (m_calibrate->isEnabled())
            Q_EMIT calibrateRequested(sourcePath(), truthPath(), m_maxFar->value());
    });
    connect(m_cancelCalibration, &QPushButton::clicked, this, &LivePage::cancelCalibrationRequested);
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
    if (m_calibrating)
        Q_EMIT cancelCalibrationRequested();
    m_running = false;
    m_calibrating = false;
    m_session = session;
    m_live->clear();
    m_live->setSourceNote(QString());
    m_calibration->setPoints({});
    m_calibration->setSourceNote(QString());
    m_calibrationNote.clear();
    m_statusNote.clear();
    setCalibrationProgress(0, 0);
    if (session)
        m_live->setLabels(session->store().settings().labels);
    clearAnomalyScores();
    reloadModels();
}

void LivePage::reloadModels()
{
    m_hasModel = false;
    // The Live controller runs the newest int8 model: the panel follows its kind. The listing
    // leaves the graphs out; only the newest one is read.
    qint64 newest = 0;
    if (m_session)
        for (const StoredModel &m : m_session->store().models())
            if (m.kind == ModelKind::Int8)
                newest = std::max(newest, m.id);
    m_hasModel = newest > 0;
    std::optional<StoredModel> model;
    if (newest > 0)
        model = m_session->store().model(newest);
    setAnomalyThreshold(model ? anomalyThresholdOf(*model) : std::nullopt);
    updateControls();
}

void LivePage::setAnomalyThreshold(std::optional<double> threshold)
{
    m_anomalyThreshold = threshold;
    m_anomalyPanel->setVisible(threshold.has_value());
    updateAnomalyPlot();
}

void LivePage::clearAnomalyScores()
{
    m_scoreT.clear();
    m_score.clear();
    m_alarmT.clear();
    m_alarmScore.clear();
    m_alarms = m_alarmWindows = 0;
    m_lastClass.clear();
    updateAnomalyPlot();
}

void LivePage::addLiveWindow(const deploy::LiveWindow &w)
{
    if (!w.anomaly)
        return;
    if (!m_anomalyThreshold || *m_anomalyThreshold != w.anomaly->threshold)
        setAnomalyThreshold(w.anomaly->threshold);
    // A classifier with an anomaly model beside it: its class goes next to the score.
    if (w.device.hasAnomaly)
        m_lastClass = w.label.isEmpty() ? tr("uncertain") : w.label;
    m_scoreT << w.tS;
    m_score << double(w.anomaly->score);
    m_alarmWindows += w.anomaly->alarm ? 1 : 0;
    if (w.anomaly->alarmOnset) {
        ++m_alarms;
        m_alarmT << w.tS;
        m_alarmScore << double(w.anomaly->score);
    }
    updateAnomalyPlot();
}

void LivePage::updateAnomalyPlot()
{
    QCPGraph *score = m_anomalyPlot->graph(0), *line = m_anomalyPlot->graph(1), *onsets = m_anomalyPlot->graph(2);
    score->setData(m_scoreT, m_score, true);
    onsets->setData(m_alarmT, m_alarmScore, true);
    const double t0 = 0, t1 = std::max(10.0, m_scoreT.isEmpty() ? 0.0 : m_scoreT.last());
    if (m_anomalyThreshold)
        line->setData(QVector<double>{t0, t1}, QVector<double>{*m_anomalyThreshold, *m_anomalyThreshold}, true);
    else
        line->data()->clear();
    m_anomalyPlot->xAxis->setRange(t0, t1);
    // The threshold always in view, with room above it for the alarms.
    double top = m_anomalyThreshold ? 1.5 * std::abs(*m_anomalyThreshold) : 1.0;
    double bottom = 0;
    for (double v : m_score) {
        top = std::max(top, v);
        bottom = std::min(bottom, v);
    }
    m_anomalyPlot->yAxis->setRange(bottom, top * 1.08 + 1e-9);
    m_alarmLabel->setText(m_anomalyThreshold
                              ? tr("threshold %1 · %2 windows · %3 alarms (%4 windows above)")
                                    .arg(QString::number(*m_anomalyThreshold, 'g', 4))
                                    .arg(m_scoreT.size())
                                    .arg(m_alarms)
                                    .arg(m_alarmWindows)
                                    + (m_lastClass.isEmpty() ? QString() : tr(" · class %1").arg(m_lastClass))
                              : QString());
    if (m_anomalyPlot->isVisible())
        m_anomalyPlot->replot(QCustomPlot::rpQueuedReplot);
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
    if (running && !m_running)
        clearAnomalyScores();
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
    m_statusNote = text;
    updateControls();
}

QString LivePage::status() const
{
    return m_status->text();
}

int LivePage::seconds() const
{
    return m_seconds->value();
}

void LivePage::setSeconds(int seconds)
{
    m_seconds->setValue(seconds);
}

void LivePage::setCalibrating(bool calibrating)
{
    m_calibrating = calibrating;
    if (calibrating) {
        m_calibrationProgress->setRange(0, 0);
        m_calibrationProgress->setFormat(tr("Replaying…"));
    } else {
        setCalibrationProgress(0, 0);
    }
    updateControls();
}

void LivePage::setCalibrationProgress(qint64 done, qint64 total)
{
    if (total <= 0) {
        m_calibrationProgress->setRange(0, 1);
        m_calibrationProgress->setValue(0);
        m_calibrationProgress->setFormat(m_calibrating ? tr("Replaying…") : tr("Idle"));
        return;
    }
    m_calibrationProgress->setRange(0, 1000);
    m_calibrationProgress->setValue(int(1000 * done / total));
    m_calibrationProgress->setFormat(tr("Host replay %p%"));
}

void LivePage::setCalibrationStatus(const QString &text)
{
    m_calibrationNote = text;
    updateControls();
}

QString LivePage::calibrationStatus() const
{
    return m_calibrationStatus->text();
}

double LivePage::maxFalseActivationsPerHour() const
{
    return m_maxFar->value();
}

void LivePage::setMaxFalseActivationsPerHour(double perHour)
{
    m_maxFar->setValue(perHour);
}

void LivePage::updateControls()
{
    const bool needsFile = source() != Source::SimulatedSensor;
    m_path->setEnabled(needsFile && !m_running);
    m_browse->setEnabled(needsFile && !m_running);
    m_source->setEnabled(!m_running);
    m_truth->setEnabled(!m_running && !m_calibrating);
    m_browseTruth->setEnabled(!m_running && !m_calibrating);
    const bool sensor = source() == Source::SimulatedSensor;
    m_seconds->setEnabled(sensor && !m_running);
    m_seconds->setVisible(sensor);
    m_secondsLabel->setVisible(sensor);
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
    // Why Start is disabled comes first; otherwise what the last run said stays.
    m_status->setText(!m_running && !why.isEmpty() ? why : m_statusNote);

    QString calibrationWhy;
    if (!m_session)
        calibrationWhy = tr("Open a project first.");
    else if (!m_hasModel)
        calibrationWhy = tr("No int8 model yet: quantize one on the Training page.");
    else if (source() != Source::ReplayFile || sourcePath().isEmpty() || truthPath().isEmpty())
        calibrationWhy = tr("Choose a recording (Source: Replay file) and its truth file above.");
    m_calibrate->setEnabled(!m_calibrating && calibrationWhy.isEmpty());
    m_calibrate->setToolTip(calibrationWhy.isEmpty()
                                ? tr("Replay the recording through the device's C pipeline on this computer and sweep "
                                     "threshold, averaging and suppression against the truth file")
                                : calibrationWhy);
    m_cancelCalibration->setEnabled(m_calibrating);
    m_maxFar->setEnabled(!m_calibrating);
    m_path->setEnabled(needsFile && !m_running && !m_calibrating);
    m_browse->setEnabled(needsFile && !m_running && !m_calibrating);
    m_source->setEnabled(!m_running && !m_calibrating);
    // What the last sweep said stays; before any, why Run calibration is disabled.
    m_calibrationStatus->setText(m_calibrationNote.isEmpty() ? calibrationWhy : m_calibrationNote);
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
