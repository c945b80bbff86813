#include "pages/AnomalyPage.h"

#include "plots/PlotStyle.h"
#include "plots/QCustomPlotInclude.h"
#include "window/CountText.h"
#include "window/PageHeader.h"
#include "window/ProjectSession.h"

#include "AnomalyPipeline.h"
#include "ImpulseSpec.h"
#include "StreamWindows.h"
#include "store/ProjectStore.h"
#include "store/ProjectTask.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QLabel>
#include <QListWidget>
#include <QMap>
#include <QProgressBar>
#include <QSet>
#include <QPushButton>
#include <QSlider>
#include <QSpinBox>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace tinyml::ui {

using training::AnomalyModelKind;

namespace {

const QColor kNormal(0x25, 0x63, 0xeb);      // blue
const QColor kAnomalous(0xdc, 0x26, 0x26);   // red
const QColor kPoint(0x11, 0x18, 0x27);

QString percent(double fraction)
{
    return QStringLiteral("%1 %").arg(fraction * 100, 0, 'f', 1);
}

QString optionalPercent(const QJsonValue &v)
{
    return v.isDouble() ? percent(v.toDouble()) : QStringLiteral("–");
}

QString optionalNumber(const QJsonValue &v, int decimals = 3)
{
    return v.isDouble() ? QString::number(v.toDouble(), 'f', decimals) : QStringLiteral("–");
}

/// A score in a short form: scores run from 1e-3 (reconstruction errors) to 1e3 (NLL).
QString scoreText(double s)
{
    return QString::number(s, 'g', 4);
}

QCustomPlot *makePlot(QWidget *parent, const QString &xLabel, const QString &yLabel)
{
    auto *plot = new QCustomPlot(parent);
    applyPlotStyle(plot);
    plot->xAxis->setLabel(xLabel);
    plot->yAxis->setLabel(yLabel);
    plot->setMinimumHeight(200);
    return plot;
}

/// Hidden plots (another page is shown) catch up in showEvent; drawing them now would paint
/// into a zero-sized buffer.
void replotIfVisible(QCustomPlot *plot)
{
    if (plot->isVisible())
        plot->replot(QCustomPlot::rpQueuedReplot);
}

/// Windows per hour of the project's stream for a model: the impulse it would be deployed in
/// (deploy::impulseSpecFor with the project's stride choice) scores a window every stride frames.
std::optional<training::StreamWindowRate> projectStreamRate(const ProjectSettings &settings, const model::Graph &graph,
                                                            QString *why)
{
    auto w = deploy::streamWindowsPerHour(settings, graph, why);
    if (!w)
        return std::nullopt;
    return training::StreamWindowRate{w->windowsPerHour, w->basis};
}

/// Alarms per hour: whole numbers from 100 up (no exponent), three significant digits below.
QString perHourText(double v)
{
    return v >= 100 ? QString::number(v, 'f', 0) : QString::number(v, 'g', 3);
}

QTableWidgetItem *cell(const QString &text, bool numeric = true)
{
    auto *item = new QTableWidgetItem(text);
    item->setTextAlignment(numeric ? (Qt::AlignRight | Qt::AlignVCenter) : (Qt::AlignLeft | Qt::AlignVCenter));
    return item;
}

} // namespace

AnomalyPage::AnomalyPage(QWidget *parent)
    : QWidget(parent), m_task(new ProjectTask(this)), m_summary(new QLabel(this)), m_normal(new QListWidget(this)),
      m_model(new QComboBox(this)), m_clusters(new QSpinBox(this)), m_maxFpr(new QDoubleSpinBox(this)),
      m_maxPerHour(new QDoubleSpinBox(this)), m_budgetMode(new QComboBox(this)), m_budgetLabel(new QLabel(this)),
      m_epochs(new QSpinBox(this)), m_seed(new QSpinBox(this)), m_train(new QPushButton(tr("Train"), this)),
      m_cancel(new QPushButton(tr("Cancel"), this)), m_progress(new QProgressBar(this)), m_status(new QLabel(this)),
      m_lossPlot(makePlot(this, tr("epoch"), tr("reconstruction loss (MSE)"))),
      m_rocPlot(makePlot(this, tr("false-positive rate (normal flagged)"), tr("true-positive rate (anomalies flagged)"))),
      m_histPlot(makePlot(this, tr("anomaly score (bigger = more anomalous)"), tr("test samples"))),
      m_slider(new QSlider(Qt::Horizontal, this)), m_pointLabel(new QLabel(this)),
      m_save(new QPushButton(tr("Save threshold"), this)), m_resultSummary(new QLabel(this)),
      m_perLabel(new QTableWidget(0, 5, this))
{
    auto *layout = new QVBoxLayout(this);
    setPageMargins(layout);
    layout->setSpacing(10);
    layout->addLayout(makePageHeader(this, tr("Anomaly detection"), m_summary));

    // --- left: normal labels, model, run --------------------------------------------------------
    auto *normalBox = new QGroupBox(tr("Normal labels"), this);
    auto *normalLayout = new QVBoxLayout(normalBox);
    auto *normalHint = new QLabel(tr("The model learns the ticked labels' train samples only; every other label "
                                     "evaluates it on the test split."),
                                  this);
    normalHint->setObjectName(QStringLiteral("hint"));
    normalHint->setWordWrap(true);
    normalLayout->addWidget(normalHint);
    m_normal->setMaximumHeight(130);
    normalLayout->addWidget(m_normal);

    auto *modelBox = new QGroupBox(tr("Model"), this);
    auto *form = new QFormLayout(modelBox);
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    m_model->addItem(tr("K-means (distance to the nearest centroid)"), int(AnomalyModelKind::KMeans));
    m_model->addItem(tr("Gaussian mixture (negative log-likelihood)"), int(AnomalyModelKind::Gmm));
    m_model->addItem(tr("Autoencoder (reconstruction error)"), int(AnomalyModelKind::Autoencoder));
    m_model->addItem(tr("1-D conv. autoencoder (reconstruction error)"), int(AnomalyModelKind::ConvAutoencoder));
    m_clusters->setRange(0, training::kMaxAnomalyClusters);
    m_clusters->setSpecialValueText(tr("automatic"));
    m_clusters->setToolTip(tr("K-means clusters or mixture components; automatic: elbow rule (K-means) or BIC "
                              "(mixture) over 1..%1")
                               .arg(training::kAutoClustersMax));
    m_maxFpr->setRange(0, 50);
    m_maxFpr->setDecimals(1);
    m_maxFpr->setSingleStep(0.5);
    m_maxFpr->setSuffix(QStringLiteral(" %"));
    m_maxFpr->setValue(1.0);
    m_maxFpr->setToolTip(tr("False-alarm budget: the trained threshold flags at most this share of the normal "
                            "test samples"));
    m_maxPerHour->setRange(0, 1e6);
    m_maxPerHour->setDecimals(2);
    m_maxPerHour->setValue(1.0);
    m_maxPerHour->setSuffix(tr(" / hour"));
    m_maxPerHour->setToolTip(tr("False-alarm budget per hour of normal stream: the rate budget is this / the "
                                "impulse's windows per hour (3600 x sample rate / stride), assuming one alarm "
                                "per window scored above the threshold"));
    m_maxPerHour->hide();
    auto *budgetField = new QHBoxLayout;
    budgetField->setContentsMargins(0, 0, 0, 0);
    budgetField->addWidget(m_maxFpr);
    budgetField->addWidget(m_maxPerHour);
    const training::TrainOptions defaults;
    m_epochs->setRange(1, 1000);
    m_epochs->setValue(defaults.epochs);
    m_epochs->setToolTip(tr("Autoencoder: most epochs (early stopping on the held-out normal samples)"));
    m_seed->setRange(0, INT_MAX);
    m_seed->setValue(int(defaults.seed));
    form->addRow(tr("Kind:"), m_model);
    form->addRow(tr("Clusters:"), m_clusters);
    form->addRow(tr("Max. false alarms:"), budgetField);
    form->addRow(tr("Epochs:"), m_epochs);
    form->addRow(tr("Seed:"), m_seed);
    m_model->setMinimumContentsLength(12);
    m_model->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);

    auto *runBox = new QGroupBox(tr("Run"), this);
    auto *runLayout = new QVBoxLayout(runBox);
    auto *runRow = new QHBoxLayout;
    m_train->setObjectName(QStringLiteral("primaryButton"));
    m_train->setIcon(QIcon(QStringLiteral(":/icons/training.svg")));
    runRow->addWidget(m_train, 1);
    runRow->addWidget(m_cancel);
    runLayout->addLayout(runRow);
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    runLayout->addWidget(m_progress);
    m_status->setWordWrap(true);
    m_status->setObjectName(QStringLiteral("hint"));
    m_status->setTextFormat(Qt::RichText);
    runLayout->addWidget(m_status);

    auto *left = new QVBoxLayout;
    left->setContentsMargins(0, 0, 0, 0);
    left->addWidget(normalBox);
    left->addWidget(modelBox);
    left->addWidget(runBox);
    left->addStretch(1);
    auto *leftWidget = new QWidget(this);
    leftWidget->setLayout(left);
    leftWidget->setFixedWidth(320);

    // --- right: curves, threshold, per-label table ----------------------------------------------
    auto *rocBox = new QGroupBox(tr("ROC curve (test split)"), this);
    (new QVBoxLayout(rocBox))->addWidget(m_rocPlot);
    m_rocPlot->xAxis->setRange(0, 1);
    m_rocPlot->yAxis->setRange(0, 1);
    m_rocPlot->legend->setVisible(true);
    m_rocPlot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignBottom | Qt::AlignRight);
    auto *histBox = new QGroupBox(tr("Score histograms"), this);
    (new QVBoxLayout(histBox))->addWidget(m_histPlot);
    m_histPlot->legend->setVisible(true);
    // Scores often span decades (a fault far out, the normal ones near 0): drag and wheel-zoom
    // the score axis to look at the normal end.
    m_histPlot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    m_histPlot->axisRect()->setRangeDrag(Qt::Horizontal);
    m_histPlot->axisRect()->setRangeZoom(Qt::Horizontal);
    m_histPlot->setToolTip(tr("Drag or scroll to zoom the score axis"));
    m_histPlot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
    auto *lossBox = new QGroupBox(tr("Autoencoder loss"), this);
    (new QVBoxLayout(lossBox))->addWidget(m_lossPlot);
    m_lossPlot->legend->setVisible(true);
    for (const auto &[name, colour] : {std::pair{tr("training"), kNormal}, std::pair{tr("validation"), kAnomalous}}) {
        QCPGraph *g = m_lossPlot->addGraph();
        g->setName(name);
        g->setPen(QPen(colour, 2));
    }
    m_lossMessage = new QCPItemText(m_lossPlot);
    m_lossMessage->position->setType(QCPItemPosition::ptAxisRectRatio);
    m_lossMessage->position->setCoords(0.5, 0.5);
    m_lossMessage->setColor(QColor(0x6b, 0x72, 0x80));
    m_lossMessage->setText(tr("No epochs: K-means and\nmixtures are fitted directly"));

    auto *thresholdBox = new QGroupBox(tr("Threshold (alarm when score > threshold)"), this);
    auto *thresholdColumn = new QVBoxLayout(thresholdBox);
    auto *thresholdLayout = new QHBoxLayout;
    thresholdColumn->addLayout(thresholdLayout);
    m_slider->setToolTip(tr("Steps through the test split's operating points"));
    m_budgetMode->addItem(tr("FPR %"), int(BudgetMode::Fpr));
    m_budgetMode->addItem(tr("false alarms / hour"), int(BudgetMode::FalseAlarmsPerHour));
    m_budgetMode->setToolTip(tr("Read the budget and the operating point as a false-positive rate on the test "
                                "split, or as false alarms per hour of normal stream = FPR x the impulse's windows "
                                "per hour (one alarm per window above the threshold, no suppression)"));
    m_budgetLabel->setText(tr("Budget in:"));
    thresholdLayout->addWidget(m_budgetLabel);
    thresholdLayout->addWidget(m_budgetMode);
    thresholdLayout->addWidget(m_slider, 1);
    m_pointLabel->setWordWrap(true);
    thresholdColumn->addWidget(m_pointLabel);
    m_save->setToolTip(tr("Store this threshold with the model"));
    thresholdLayout->addWidget(m_save);

    m_perLabel->setHorizontalHeaderLabels({tr("Anomalous label"), tr("Samples"), tr("AUC"), tr("PR AUC"),
                                           tr("TPR")});
    m_perLabel->verticalHeader()->hide();
    m_perLabel->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_perLabel->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_perLabel->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_perLabel->setSelectionMode(QAbstractItemView::NoSelection);
    m_perLabel->setFocusPolicy(Qt::NoFocus);
    m_perLabel->setAlternatingRowColors(true);
    m_resultSummary->setWordWrap(true);

    auto *plots = new QHBoxLayout;
    plots->addWidget(rocBox, 1);
    plots->addWidget(histBox, 1);
    auto *bottom = new QHBoxLayout;
    auto *tableColumn = new QVBoxLayout;
    tableColumn->addWidget(m_resultSummary);
    tableColumn->addWidget(m_perLabel, 1);
    bottom->addLayout(tableColumn, 1);
    bottom->addWidget(lossBox, 1);
    auto *right = new QVBoxLayout;
    right->addLayout(plots, 5);
    right->addWidget(thresholdBox);
    right->addLayout(bottom, 3);

    auto *columns = new QHBoxLayout;
    columns->setSpacing(14);
    columns->addWidget(leftWidget);
    columns->addLayout(right, 1);
    layout->addLayout(columns, 1);

    connect(m_train, &QPushButton::clicked, this, &AnomalyPage::startTraining);
    connect(m_cancel, &QPushButton::clicked, this, &AnomalyPage::cancel);
    connect(m_save, &QPushButton::clicked, this, &AnomalyPage::saveThreshold);
    connect(m_slider, &QSlider::valueChanged, this, &AnomalyPage::showPoint);
    connect(m_budgetMode, &QComboBox::currentIndexChanged, this, [this] {
        const bool perHour = budgetMode() == BudgetMode::FalseAlarmsPerHour;
        m_maxFpr->setVisible(!perHour);
        m_maxPerHour->setVisible(perHour);
        showPoint();
    });
    connect(m_model, &QComboBox::currentIndexChanged, this, &AnomalyPage::updateButtons);
    connect(m_normal, &QListWidget::itemChanged, this, &AnomalyPage::updateButtons);
    clearResults();
    updateButtons();
}

AnomalyPage::~AnomalyPage()
{
    m_task->cancelAndWait();
}

void AnomalyPage::setSession(ProjectSession *session)
{
    m_task->cancelAndWait();
    if (m_session)
        disconnect(m_session, nullptr, this, nullptr);
    m_session = session;
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    m_progress->setFormat(QString());
    setStatus(QString());
    if (m_session) {
        connect(m_session, &ProjectSession::settingsChanged, this, &AnomalyPage::fillLabels);
        connect(m_session, &ProjectSession::samplesChanged, this, &AnomalyPage::fillLabels);
    }
    fillLabels();
    loadLatest();
}

bool AnomalyPage::isRunning() const
{
    return m_task->isRunning();
}

void AnomalyPage::setStatus(const QString &text, bool error)
{
    m_status->setText(error ? QStringLiteral("<span style='color:#b91c1c'>%1</span>").arg(text.toHtmlEscaped())
                            : text.toHtmlEscaped());
}

void AnomalyPage::fillLabels()
{
    // Keep the user's ticks across a refresh; a fresh project starts with "normal" ticked when
    // it has such a label (the tabular and vibration templates do).
    QSet<QString> ticked;
    for (int i = 0; i < m_normal->count(); ++i)
        if (m_normal->item(i)->checkState() == Qt::Checked)
            ticked.insert(m_normal->item(i)->data(Qt::UserRole).toString());
    const bool fresh = m_normal->count() == 0;
    const QSignalBlocker block(m_normal);
    m_normal->clear();
    if (m_session) {
        QMap<QString, int> train, test;
        QStringList labels = m_session->store().settings().labels;
        for (const SampleInfo &s : m_session->store().sampleInfos()) {
            if (!labels.contains(s.label))
                labels.append(s.label);
            (s.split == Split::Train ? train : test)[s.label]++;
        }
        for (const QString &l : labels) {
            auto *item = new QListWidgetItem(tr("%1  (%2 train, %3 test)").arg(l).arg(train.value(l)).arg(test.value(l)),
                                             m_normal);
            item->setData(Qt::UserRole, l);
            item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsUserCheckable);
            const bool on = fresh ? l.compare(QLatin1String("normal"), Qt::CaseInsensitive) == 0 : ticked.contains(l);
            item->setCheckState(on ? Qt::Checked : Qt::Unchecked);
        }
        m_summary->setText(tr("Models trained on normal data only: ROC, score histograms and the alarm threshold"));
    } else {
        m_summary->clear();
    }
    updateButtons();
}

void AnomalyPage::updateButtons()
{
    const bool open = m_session != nullptr;
    const bool running = isRunning();
    bool anyNormal = false;
    for (int i = 0; i < m_normal->count(); ++i)
        anyNormal = anyNormal || m_normal->item(i)->checkState() == Qt::Checked;
    const auto kind = AnomalyModelKind(m_model->currentData().toInt());
    m_normal->setEnabled(open && !running);
    m_model->setEnabled(open && !running);
    m_clusters->setEnabled(open && !running && !training::isAutoencoderKind(kind));
    m_epochs->setEnabled(open && !running && training::isAutoencoderKind(kind));
    m_maxFpr->setEnabled(open && !running);
    m_maxPerHour->setEnabled(open && !running);
    m_seed->setEnabled(open && !running);
    m_train->setEnabled(open && !running && anyNormal);
    m_train->setToolTip(anyNormal ? QString() : tr("Tick at least one normal label"));
    m_cancel->setEnabled(running);
    m_slider->setEnabled(!running && !m_points.isEmpty());
    m_save->setEnabled(open && !running && !m_points.isEmpty() && m_outcome.value(QStringLiteral("model_id")).toInt() > 0);
}

void AnomalyPage::clearResults()
{
    m_outcome = QJsonObject();
    m_points.clear();
    m_rocPlot->clearGraphs();
    m_rocPlot->clearItems();
    m_histPlot->clearPlottables();
    m_histPlot->clearItems();
    for (int i = 0; i < m_lossPlot->graphCount(); ++i)
        m_lossPlot->graph(i)->data()->clear();
    m_lossMessage->setVisible(false);
    replotIfVisible(m_rocPlot);
    replotIfVisible(m_histPlot);
    replotIfVisible(m_lossPlot);
    {
        const QSignalBlocker block(m_slider);
        m_slider->setRange(0, 0);
    }
    m_pointLabel->setText(tr("No anomaly model yet"));
    m_resultSummary->clear();
    m_perLabel->setRowCount(0);
    updateButtons();
}

void AnomalyPage::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    for (QCustomPlot *plot : {m_rocPlot, m_histPlot, m_lossPlot})
        plot->replot(QCustomPlot::rpQueuedReplot);
}

void AnomalyPage::addLossPoint(int epoch, double loss, double valLoss)
{
    m_lossPlot->graph(0)->addData(epoch, loss);
    if (std::isfinite(valLoss) && valLoss > 0)
        m_lossPlot->graph(1)->addData(epoch, valLoss);
    m_lossPlot->rescaleAxes();
    m_lossPlot->xAxis->setRangeLower(0);
    m_lossPlot->yAxis->setRangeLower(0);
    replotIfVisible(m_lossPlot);
}

std::optional<AnomalyPage::OperatingPoint> AnomalyPage::ratesAt(const QJsonObject &evaluation, double threshold)
{
    const QJsonArray roc = evaluation.value(QStringLiteral("roc")).toArray();
    if (roc.size() < 2)
        return std::nullopt;
    // Point k >= 1 holds the alarms for thresholds in [its threshold, the previous point's), the
    // first point (+inf, nothing flagged) those at or above the highest score (the histogram's
    // top), the last (-inf) those below the lowest.
    const double highest = evaluation.value(QStringLiteral("histogram")).toObject().value(QStringLiteral("hi")).toDouble();
    auto at = [&](int i) {
        const QJsonArray p = roc[i].toArray();
        return OperatingPoint{threshold, p.at(0).toDouble(), p.at(1).toDouble()};
    };
    if (threshold >= highest)
        return at(0);
    for (int i = 1; i < roc.size(); ++i) {
        const QJsonValue t = roc[i].toArray().at(2);
        if (!t.isDouble() || t.toDouble() <= threshold)   // null after the first: -inf
            return at(i);
    }
    return at(int(roc.size()) - 1);
}

AnomalyPage::BudgetMode AnomalyPage::budgetMode() const
{
    return BudgetMode(m_budgetMode->currentData().toInt());
}

void AnomalyPage::setBudgetMode(BudgetMode mode)
{
    m_budgetMode->setCurrentIndex(m_budgetMode->findData(int(mode)));
}

std::optional<double> AnomalyPage::windowsPerHour() const
{
    const QJsonValue w = m_outcome.value(QStringLiteral("stream")).toObject().value(QStringLiteral("windows_per_hour"));
    return w.isDouble() && w.toDouble() > 0 ? std::optional<double>(w.toDouble()) : std::nullopt;
}

std::optional<AnomalyPage::OperatingPoint> AnomalyPage::currentPoint() const
{
    const int i = m_slider->value();
    if (i < 0 || i >= m_points.size())
        return std::nullopt;
    return m_points[i];
}

void AnomalyPage::showOutcome(const QJsonObject &outcome, std::optional<double> savedThreshold)
{
    clearResults();
    m_outcome = outcome;
    const QJsonObject evaluation = outcome.value(QStringLiteral("evaluation")).toObject();
    const QJsonArray roc = evaluation.value(QStringLiteral("roc")).toArray();
    const QJsonValue auc = outcome.value(QStringLiteral("auc"));

    // ROC: the curve, the chance diagonal and the slider's point.
    QCPGraph *curve = m_rocPlot->addGraph();
    QCPGraph *chance = m_rocPlot->addGraph();
    QCPGraph *point = m_rocPlot->addGraph();
    curve->setPen(QPen(kNormal, 2.5));
    curve->setName(auc.isDouble() ? tr("ROC, AUC = %1").arg(auc.toDouble(), 0, 'f', 3) : tr("ROC (AUC undefined)"));
    chance->setPen(QPen(QColor(0x9c, 0xa3, 0xaf), 1, Qt::DashLine));
    chance->setName(tr("chance"));
    chance->setData({0, 1}, {0, 1});
    point->setLineStyle(QCPGraph::lsNone);
    point->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(kAnomalous, 2.5), Qt::NoBrush, 12));
    point->setName(tr("threshold"));
    // The slider's steps: every point with a finite threshold, and the first one (nothing
    // flagged) at the highest score; the last point (everything flagged) has no finite threshold.
    const double highest = evaluation.value(QStringLiteral("histogram")).toObject().value(QStringLiteral("hi")).toDouble();
    QVector<double> xs, ys;
    for (int i = 0; i < roc.size(); ++i) {
        const QJsonArray p = roc[i].toArray();
        xs.append(p.at(0).toDouble());
        ys.append(p.at(1).toDouble());
        if (p.at(2).isDouble() || i == 0)
            m_points.append({i == 0 ? highest : p.at(2).toDouble(), p.at(0).toDouble(), p.at(1).toDouble()});
    }
    curve->setData(xs, ys, true);
    std::reverse(m_points.begin(), m_points.end());   // ascending threshold: the slider's left = most alarms
    if (roc.isEmpty()) {
        auto *message = new QCPItemText(m_rocPlot);
        message->position->setType(QCPItemPosition::ptAxisRectRatio);
        message->position->setCoords(0.5, 0.5);
        message->setColor(QColor(0x6b, 0x72, 0x80));
        message->setText(tr("No ROC: the test split needs normal and anomalous samples"));
    }
    m_rocPlot->xAxis->setRange(-0.01, 1.01);
    m_rocPlot->yAxis->setRange(-0.01, 1.01);

    // Histograms of normal and anomalous test scores over the same bins.
    const QJsonObject hist = evaluation.value(QStringLiteral("histogram")).toObject();
    const double lo = hist.value(QStringLiteral("lo")).toDouble(), hi = hist.value(QStringLiteral("hi")).toDouble();
    const QJsonArray normalCounts = hist.value(QStringLiteral("normal")).toArray();
    const QJsonArray anomalousCounts = hist.value(QStringLiteral("anomalous")).toArray();
    const int bins = int(normalCounts.size());
    if (bins > 0) {
        const double width = hi > lo ? (hi - lo) / bins : 1.0;
        int top = 1;
        for (const auto &[counts, colour, name] :
             {std::tuple{normalCounts, kNormal, tr("normal (%1)").arg(evaluation.value(QStringLiteral("normal")).toInt())},
              std::tuple{anomalousCounts, kAnomalous,
                         tr("anomalous (%1)").arg(evaluation.value(QStringLiteral("anomalous")).toInt())}}) {
            auto *bars = new QCPBars(m_histPlot->xAxis, m_histPlot->yAxis);
            bars->setName(name);
            bars->setWidth(width / 2);
            QColor fill = colour;
            fill.setAlpha(170);
            bars->setBrush(fill);
            bars->setPen(Qt::NoPen);
            // the two classes side by side in each bin: normal left, anomalous right
            const double offset = colour == kNormal ? 0.25 : 0.75;
            QVector<double> keys, values;
            for (int b = 0; b < counts.size(); ++b) {
                keys.append(lo + (b + offset) * width);
                values.append(counts[b].toInt());
                top = std::max(top, counts[b].toInt());
            }
            bars->setData(keys, values, true);
        }
        m_histPlot->xAxis->setRange(lo - width, hi + width);
        m_histPlot->yAxis->setRange(0, top * 1.15);
    }
    auto *line = new QCPItemStraightLine(m_histPlot);
    line->setPen(QPen(kPoint, 1.5, Qt::DashLine));
    line->setObjectName(QStringLiteral("thresholdLine"));
    line->point1->setCoords(outcome.value(QStringLiteral("threshold")).toDouble(), 0);
    line->point2->setCoords(outcome.value(QStringLiteral("threshold")).toDouble(), 1);

    // The autoencoder's stored loss curve.
    const QJsonObject history = outcome.value(QStringLiteral("history")).toObject();
    const QJsonArray loss = history.value(QStringLiteral("loss")).toArray();
    const QJsonArray valLoss = history.value(QStringLiteral("val_loss")).toArray();
    for (int e = 0; e < loss.size(); ++e)
        addLossPoint(e + 1, loss[e].toDouble(), e < valLoss.size() ? valLoss[e].toDouble() : 0.0);
    m_lossMessage->setVisible(loss.isEmpty());

    // The controls follow the run shown, so Train repeats it unless the user changes them.
    const int kindIndex = m_model->findData(int(training::anomalyModelFromName(outcome.value(QStringLiteral("model")).toString())
                                                    .value_or(AnomalyModelKind::KMeans)));
    if (kindIndex >= 0)
        m_model->setCurrentIndex(kindIndex);
    const QJsonValue perHourBudget = outcome.value(QStringLiteral("max_false_alarms_per_hour"));
    if (perHourBudget.isDouble()) {
        m_maxPerHour->setValue(perHourBudget.toDouble());
        setBudgetMode(BudgetMode::FalseAlarmsPerHour);
    }
    const QStringList normalLabels = outcome.value(QStringLiteral("normal_labels")).toVariant().toStringList();
    {
        const QSignalBlocker block(m_normal);
        for (int i = 0; i < m_normal->count(); ++i)
            m_normal->item(i)->setCheckState(normalLabels.contains(m_normal->item(i)->data(Qt::UserRole).toString())
                                                 ? Qt::Checked
                                                 : Qt::Unchecked);
    }

    // Summary and per-label table.
    const QString model = outcome.value(QStringLiteral("model")).toString();
    const QJsonValue clusters = outcome.value(QStringLiteral("clusters"));
    QString text = tr("<b>%1</b> model #%2").arg(model).arg(outcome.value(QStringLiteral("model_id")).toInt());
    if (clusters.isDouble())
        text += tr(", %1").arg(countText(clusters.toInt(), "%1 cluster", "%1 clusters"));
    text += tr(" · normal: %1 · test split: %2 normal, %3 anomalous · AUC %4, PR AUC %5 · trained threshold %6 "
               "(%7): TPR %8, FPR %9")
                .arg(outcome.value(QStringLiteral("normal_labels")).toVariant().toStringList().join(QStringLiteral(", ")))
                .arg(outcome.value(QStringLiteral("test_normal")).toInt())
                .arg(outcome.value(QStringLiteral("test_anomalous")).toInt())
                .arg(optionalNumber(auc), optionalNumber(outcome.value(QStringLiteral("pr_auc"))),
                     scoreText(outcome.value(QStringLiteral("threshold")).toDouble()),
                     outcome.value(QStringLiteral("threshold_rule")).toString().toHtmlEscaped(),
                     optionalPercent(outcome.value(QStringLiteral("tpr"))),
                     optionalPercent(outcome.value(QStringLiteral("fpr"))));
    const QJsonValue perHour = outcome.value(QStringLiteral("false_alarms_per_hour"));
    if (perHour.isDouble())
        text += tr(", %1 false alarms per hour of normal stream").arg(perHourText(perHour.toDouble()));
    for (const QJsonValue &w : outcome.value(QStringLiteral("warnings")).toArray())
        text += QStringLiteral("<br><span style='color:#b45309'>%1</span>").arg(w.toString().toHtmlEscaped());
    m_resultSummary->setText(text);
    const QJsonArray perLabel = outcome.value(QStringLiteral("per_label")).toArray();
    m_perLabel->setRowCount(int(perLabel.size()));
    for (int i = 0; i < perLabel.size(); ++i) {
        const QJsonObject l = perLabel[i].toObject();
        m_perLabel->setItem(i, 0, cell(l.value(QStringLiteral("label")).toString(), false));
        m_perLabel->setItem(i, 1, cell(QString::number(l.value(QStringLiteral("anomalous")).toInt())));
        m_perLabel->setItem(i, 2, cell(optionalNumber(l.value(QStringLiteral("auc")))));
        m_perLabel->setItem(i, 3, cell(optionalNumber(l.value(QStringLiteral("pr_auc")))));
        m_perLabel->setItem(i, 4, cell(optionalPercent(l.value(QStringLiteral("tpr")))));
    }

    // The slider starts at the saved threshold, else at the trained one.
    const double start = savedThreshold.value_or(outcome.value(QStringLiteral("threshold")).toDouble());
    int index = 0;
    for (int i = 0; i < m_points.size(); ++i)
        if (m_points[i].threshold <= start)
            index = i;   // the largest threshold <= start: the same alarms as `start`
    {
        const QSignalBlocker block(m_slider);
        m_slider->setRange(0, std::max<int>(0, int(m_points.size()) - 1));
        m_slider->setValue(index);
    }
    showPoint();
    updateButtons();
    replotIfVisible(m_rocPlot);
    replotIfVisible(m_histPlot);
}

void AnomalyPage::showPoint()
{
    const std::optional<OperatingPoint> p = currentPoint();
    if (!p) {
        if (!m_outcome.isEmpty())
            m_pointLabel->setText(tr("threshold %1 · TPR / FPR undefined without both classes in the test split")
                                      .arg(scoreText(m_outcome.value(QStringLiteral("threshold")).toDouble())));
        return;
    }
    // Both numbers always; the mode's one in bold.
    const bool perHourMode = budgetMode() == BudgetMode::FalseAlarmsPerHour;
    const std::optional<double> windows = windowsPerHour();
    QString perHour;
    if (windows)
        perHour = tr("%1 false alarms/h").arg(perHourText(training::falseAlarmsPerHour(p->fpr, *windows)));
    else
        perHour = tr("false alarms/h: no stream");
    const QString fpr = tr("FPR %1").arg(percent(p->fpr));
    const QJsonObject stream = m_outcome.value(QStringLiteral("stream")).toObject();
    QString text = tr("threshold %1 · TPR <b>%2</b> · %3 · %4")
                       .arg(scoreText(p->threshold), percent(p->tpr),
                            perHourMode ? fpr : QStringLiteral("<b>%1</b>").arg(fpr),
                            perHourMode ? QStringLiteral("<b>%1</b>").arg(perHour) : perHour);
    // How the per-hour number is made, in view (not only in a tooltip) while it is the budget's unit.
    if (perHourMode && windows)
        text += QStringLiteral("<br><span style='color:#6b7280'>%1</span>")
                    .arg(tr("false alarms/h = FPR x %1; one alarm per normal window above the threshold, no "
                            "suppression")
                             .arg(stream.value(QStringLiteral("basis")).toString())
                             .toHtmlEscaped());
    m_pointLabel->setText(text);
    m_pointLabel->setToolTip(windows ? tr("false alarms per hour = FPR x %1; assumes each normal window above the "
                                          "threshold is one alarm (no averaging or suppression)")
                                           .arg(stream.value(QStringLiteral("basis")).toString())
                                     : tr("No windows per hour: %1")
                                           .arg(stream.value(QStringLiteral("none")).toString(tr("a model trained before "
                                                                                                  "stream metrics"))));
    if (m_rocPlot->graphCount() >= 3)
        m_rocPlot->graph(2)->setData({p->fpr}, {p->tpr});
    for (int i = 0; i < m_histPlot->itemCount(); ++i)
        if (auto *line = qobject_cast<QCPItemStraightLine *>(m_histPlot->item(i))) {
            line->point1->setCoords(p->threshold, 0);
            line->point2->setCoords(p->threshold, 1);
        }
    replotIfVisible(m_rocPlot);
    replotIfVisible(m_histPlot);
}

void AnomalyPage::loadLatest()
{
    clearResults();
    if (!m_session)
        return;
    const QVector<TrainingRun> runs = m_session->store().trainingRuns();
    for (auto it = runs.crbegin(); it != runs.crend(); ++it) {
        if (it->status != TrainingStatus::Finished
            || it->metrics.value(QStringLiteral("task")).toString() != QLatin1String("anomaly"))
            continue;
        std::optional<double> saved;
        const qint64 modelId = it->metrics.value(QStringLiteral("model_id")).toInteger();
        const QVector<StoredModel> models = m_session->store().models();
        const auto model = std::find_if(models.begin(), models.end(), [&](const StoredModel &m) { return m.id == modelId; });
        if (model != models.end() && model->metrics.value(QStringLiteral("threshold_source")) == QLatin1String("user"))
            saved = model->metrics.value(QStringLiteral("threshold")).toDouble();
        showOutcome(it->metrics, saved);
        return;
    }
}

bool AnomalyPage::startTraining()
{
    if (!m_session || isRunning())
        return false;
    training::AnomalyTrainOptions options;
    for (int i = 0; i < m_normal->count(); ++i)
        if (m_normal->item(i)->checkState() == Qt::Checked)
            options.normalLabels.append(m_normal->item(i)->data(Qt::UserRole).toString());
    if (options.normalLabels.isEmpty()) {
        setStatus(tr("Tick at least one normal label."), true);
        return false;
    }
    options.kind = AnomalyModelKind(m_model->currentData().toInt());
    options.clusters = m_clusters->value();
    options.maxFpr = m_maxFpr->value() / 100.0;
    if (budgetMode() == BudgetMode::FalseAlarmsPerHour)
        options.maxFalseAlarmsPerHour = m_maxPerHour->value();
    options.train.epochs = m_epochs->value();
    options.train.seed = std::uint64_t(m_seed->value());
    const bool autoencoder = training::isAutoencoderKind(options.kind);
    ProjectTask *task = m_task;
    const bool started = m_task->start(m_session->path(), [=](ProjectStore &store, QString *error) mutable {
        options.train.cancel = task->cancelFlag();
        options.streamRate = [settings = store.settings()](const model::Graph &graph, QString *why) {
            return projectStreamRate(settings, graph, why);
        };
        options.train.onEpoch = [this, task](const training::EpochProgress &p) {
            task->post([this, p] {
                m_progress->setRange(0, p.epochs);
                m_progress->setValue(p.epoch);
                addLossPoint(p.epoch, p.loss, p.valLoss);
                setStatus(tr("Epoch %1 of %2 · loss %3 · validation loss %4")
                              .arg(p.epoch)
                              .arg(p.epochs)
                              .arg(p.loss, 0, 'g', 4)
                              .arg(p.valLoss, 0, 'g', 4));
            });
        };
        return training::trainAnomalyProject(store, options, error).has_value();
    });
    if (!started)
        return false;
    clearResults();
    if (autoencoder) {
        m_progress->setRange(0, options.train.epochs);
        m_progress->setFormat(tr("epoch %v / %m"));
        m_lossPlot->xAxis->setRange(0, options.train.epochs);
    } else {
        m_progress->setRange(0, 0);   // K-means and EM report no progress: a busy bar
        m_progress->setFormat(QString());
    }
    m_progress->setValue(0);
    setStatus(tr("Computing features and fitting on %1…").arg(options.normalLabels.join(QStringLiteral(", "))));
    updateButtons();
    disconnect(m_task, &ProjectTask::finished, this, nullptr);
    connect(m_task, &ProjectTask::finished, this, [this](bool ok, bool cancelled, const QString &error) {
        disconnect(m_task, &ProjectTask::finished, this, nullptr);
        m_progress->setRange(0, 1);
        m_progress->setValue(ok ? 1 : 0);
        m_progress->setFormat(ok ? tr("done") : QString());
        if (ok) {
            loadLatest();
            const QJsonValue auc = m_outcome.value(QStringLiteral("auc"));
            setStatus(auc.isDouble() ? tr("Trained: AUC %1 on the test split.").arg(auc.toDouble(), 0, 'f', 3)
                                     : tr("Trained; the test split has no anomalous samples, so AUC is undefined."));
        } else if (cancelled) {
            setStatus(tr("Cancelled; the project keeps its previous models."));
        } else {
            setStatus(tr("Training failed: %1").arg(error), true);
        }
        updateButtons();
        Q_EMIT runFinished(ok);
    });
    return true;
}

void AnomalyPage::cancel()
{
    if (!isRunning())
        return;
    m_task->cancel();
    setStatus(tr("Cancelling after the current batch…"));
}

bool AnomalyPage::saveThreshold()
{
    const std::optional<OperatingPoint> p = currentPoint();
    const qint64 modelId = m_outcome.value(QStringLiteral("model_id")).toInteger();
    if (!m_session || isRunning() || !p || modelId <= 0) {
        setStatus(tr("Nothing to save: train a model whose test split has normal and anomalous samples."), true);
        return false;
    }
    QString error;
    const std::optional<StoredModel> model = m_session->store().model(modelId, &error);
    if (!model) {
        setStatus(tr("Cannot save the threshold: %1").arg(error), true);
        return false;
    }
    // The trained threshold stays next to the chosen one, so the choice can be undone by hand
    // and a report can say which rule set the alarm.
    QJsonObject metrics = model->metrics;
    if (!metrics.contains(QStringLiteral("trained_threshold")))
        metrics.insert(QStringLiteral("trained_threshold"), metrics.value(QStringLiteral("threshold")));
    metrics.insert(QStringLiteral("threshold"), p->threshold);
    metrics.insert(QStringLiteral("threshold_source"), QStringLiteral("user"));
    const std::optional<double> windows = windowsPerHour();
    const bool perHourMode = budgetMode() == BudgetMode::FalseAlarmsPerHour && windows;
    QString rule = QStringLiteral("chosen in the workbench by %1: TPR %2, FPR %3 on the test split")
                       .arg(perHourMode ? QStringLiteral("false alarms per hour") : QStringLiteral("FPR"))
                       .arg(p->tpr, 0, 'f', 4)
                       .arg(p->fpr, 0, 'f', 4);
    if (windows)
        rule += QStringLiteral(", %1 false alarms per hour at %2 windows per hour")
                    .arg(training::falseAlarmsPerHour(p->fpr, *windows), 0, 'g', 4)
                    .arg(*windows, 0, 'g', 6);
    metrics.insert(QStringLiteral("threshold_rule"), rule);
    metrics.insert(QStringLiteral("threshold_mode"), perHourMode ? QStringLiteral("false_alarms_per_hour")
                                                                 : QStringLiteral("fpr"));
    metrics.insert(QStringLiteral("tpr"), p->tpr);
    metrics.insert(QStringLiteral("fpr"), p->fpr);
    metrics.insert(QStringLiteral("false_alarms_per_hour"),
                   windows ? QJsonValue(training::falseAlarmsPerHour(p->fpr, *windows)) : QJsonValue(QJsonValue::Null));
    metrics.insert(QStringLiteral("windows_per_hour"), windows ? QJsonValue(*windows) : QJsonValue(QJsonValue::Null));
    if (!m_session->store().updateModelMetrics(modelId, metrics, &error)) {
        setStatus(tr("Cannot save the threshold: %1").arg(error), true);
        return false;
    }
    setStatus(tr("Threshold %1 saved with model #%2 (TPR %3, FPR %4 on the test split%5).")
                  .arg(scoreText(p->threshold))
                  .arg(modelId)
                  .arg(percent(p->tpr), percent(p->fpr),
                       windows ? tr(", %1 false alarms per hour").arg(perHourText(training::falseAlarmsPerHour(p->fpr, *windows)))
                               : QString()));
    return true;
}

} // namespace tinyml::ui
