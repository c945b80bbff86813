#include "pages/TrainingPage.h"

#include "plots/ConfusionMatrixPlot.h"
#include "plots/SqnrBarsPlot.h"
#include "plots/TrainingCurvesPlot.h"
#include "window/CountText.h"
#include "window/PageHeader.h"
#include "window/ProjectSession.h"

#include "TrainingPipeline.h"
#include "store/ProjectStore.h"
#include "store/ProjectTask.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QTabWidget>
#include <QTableWidget>
#include <QThread>
#include <QVBoxLayout>

#include <climits>
#include <cmath>
#include <memory>

namespace tinyml::ui {

using training::Architecture;

namespace {

const QString kArchitectureKey = QStringLiteral("training/architecture");
const QString kEpochsKey = QStringLiteral("training/epochs");
const QString kLearningRateKey = QStringLiteral("training/learningRate");
const QString kBatchSizeKey = QStringLiteral("training/batchSize");
const QString kSeedKey = QStringLiteral("training/seed");
const QString kThreadsKey = QStringLiteral("training/threads");
const QString kQatKey = QStringLiteral("training/qat");

QString bytesText(qint64 bytes)
{
    if (bytes < 1024)
        return QObject::tr("%1 B").arg(bytes);
    return QObject::tr("%1 KB").arg(bytes / 1024.0, 0, 'f', 1);
}

QString percent(double fraction)
{
    return QStringLiteral("%1 %").arg(fraction * 100, 0, 'f', 1);
}

QTableWidget *makeTable(const QStringList &headers, QWidget *parent)
{
    auto *t = new QTableWidget(0, int(headers.size()), parent);
    t->setHorizontalHeaderLabels(headers);
    t->verticalHeader()->hide();
    t->verticalHeader()->setDefaultSectionSize(24);
    t->horizontalHeader()->setHighlightSections(false);
    t->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    t->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    t->setEditTriggers(QAbstractItemView::NoEditTriggers);
    t->setSelectionMode(QAbstractItemView::NoSelection);
    t->setFocusPolicy(Qt::NoFocus);
    t->setShowGrid(false);
    t->setAlternatingRowColors(true);
    return t;
}

QTableWidgetItem *cell(const QString &text, bool numeric = true)
{
    auto *item = new QTableWidgetItem(text);
    item->setTextAlignment(numeric ? (Qt::AlignRight | Qt::AlignVCenter) : (Qt::AlignLeft | Qt::AlignVCenter));
    return item;
}

} // namespace

TrainingPage::TrainingPage(QWidget *parent)
    : QWidget(parent), m_task(new ProjectTask(this)), m_summary(new QLabel(this)), m_architecture(new QComboBox(this)),
      m_modelInfo(new QLabel(this)), m_epochs(new QSpinBox(this)), m_learningRate(new QDoubleSpinBox(this)),
      m_batchSize(new QSpinBox(this)), m_seed(new QSpinBox(this)), m_threads(new QSpinBox(this)),
      m_qat(new QCheckBox(tr("Fine-tune (QAT) if int8 loses > 1 point"), this)),
      m_start(new QPushButton(tr("Start training"), this)), m_cancel(new QPushButton(tr("Cancel"), this)),
      m_quantize(new QPushButton(tr("Quantize to int8"), this)), m_progress(new QProgressBar(this)),
      m_status(new QLabel(this)), m_curves(new TrainingCurvesPlot(this)), m_tabs(new QTabWidget(this)),
      m_confusion(new ConfusionMatrixPlot(this)), m_testSummary(new QLabel(this)),
      m_classTable(makeTable({tr("Label"), tr("Precision"), tr("Recall"), tr("F1"), tr("Support")}, this)),
      m_quantTable(makeTable({tr("Metric (test split)"), tr("Float"), tr("int8")}, this)), m_quantSummary(new QLabel(this)),
      m_sqnr(new SqnrBarsPlot(this))
{
    auto *layout = new QVBoxLayout(this);
    setPageMargins(layout);
    layout->setSpacing(10);
    layout->addLayout(makePageHeader(this, tr("Training"), m_summary));

    // --- left: model, hyper-parameters, run --------------------------------------------------
    const training::TrainOptions defaults;
    auto *modelBox = new QGroupBox(tr("Model"), this);
    auto *modelLayout = new QVBoxLayout(modelBox);
    m_architecture->addItem(tr("Automatic (fits the input)"), int(Architecture::Auto));
    m_architecture->addItem(tr("Dense network (MLP)"), int(Architecture::Mlp));
    m_architecture->addItem(tr("1-D CNN (time series)"), int(Architecture::Cnn1d));
    m_architecture->addItem(tr("2-D CNN (images)"), int(Architecture::Cnn2d));
    m_architecture->addItem(tr("DS-CNN (keywords)"), int(Architecture::DsCnn));
    m_architecture->setToolTip(tr("Zoo models are scaled down until they fit the project's board"));
    modelLayout->addWidget(m_architecture);
    m_modelInfo->setObjectName(QStringLiteral("hint"));
    m_modelInfo->setWordWrap(true);
    modelLayout->addWidget(m_modelInfo);

    auto *hyperBox = new QGroupBox(tr("Hyper-parameters"), this);
    auto *form = new QFormLayout(hyperBox);
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    m_epochs->setRange(1, 1000);
    m_epochs->setValue(defaults.epochs);
    m_epochs->setToolTip(tr("Most; training stops early when the validation loss stops improving for %1 epochs")
                             .arg(defaults.patience));
    m_learningRate->setDecimals(5);
    m_learningRate->setRange(1e-5, 1.0);
    m_learningRate->setSingleStep(1e-4);
    m_learningRate->setValue(defaults.learningRate);
    m_learningRate->setToolTip(tr("Initial Adam learning rate, lowered along a cosine schedule"));
    m_batchSize->setRange(1, 4096);
    m_batchSize->setValue(defaults.batchSize);
    m_batchSize->setToolTip(tr("Samples per optimizer step; small data sets use a tenth of the training samples "
                               "(at least 8) so that an epoch still takes about ten steps"));
    m_seed->setRange(0, INT_MAX);
    m_seed->setValue(int(defaults.seed));
    m_seed->setToolTip(tr("The same seed, data and settings give the same model, bit for bit"));
    m_threads->setRange(1, qMax(1, QThread::idealThreadCount()));
    m_threads->setValue(qMin(defaults.threads, m_threads->maximum()));
    m_threads->setToolTip(tr("CPU threads for training"));
    form->addRow(tr("Epochs:"), m_epochs);
    form->addRow(tr("Learning rate:"), m_learningRate);
    form->addRow(tr("Batch size:"), m_batchSize);
    form->addRow(tr("Seed:"), m_seed);
    form->addRow(tr("Threads:"), m_threads);

    auto *runBox = new QGroupBox(tr("Run"), this);
    auto *runLayout = new QVBoxLayout(runBox);
    auto *runRow = new QHBoxLayout;
    m_start->setObjectName(QStringLiteral("primaryButton"));
    m_start->setIcon(QIcon(QStringLiteral(":/icons/training.svg")));
    runRow->addWidget(m_start, 1);
    runRow->addWidget(m_cancel);
    runLayout->addLayout(runRow);
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    m_progress->setTextVisible(true);
    runLayout->addWidget(m_progress);
    m_quantize->setToolTip(tr("Post-training int8 quantization of the latest model, evaluated with the firmware's "
                              "int8 kernels"));
    runLayout->addWidget(m_quantize);
    m_qat->setChecked(true);
    m_qat->setToolTip(tr("Quantization-aware training: a few epochs with simulated int8 arithmetic when the "
                         "int8 model is more than one accuracy point worse than the float one"));
    runLayout->addWidget(m_qat);
    m_status->setWordWrap(true);
    m_status->setObjectName(QStringLiteral("hint"));
    m_status->setTextFormat(Qt::RichText);
    runLayout->addWidget(m_status);

    auto *left = new QVBoxLayout;
    left->setContentsMargins(0, 0, 0, 0);
    left->addWidget(modelBox);
    left->addWidget(hyperBox);
    left->addWidget(runBox);
    left->addStretch(1);
    auto *leftWidget = new QWidget(this);
    leftWidget->setLayout(left);
    leftWidget->setFixedWidth(300);

    // --- right: curves and results ------------------------------------------------------------
    auto *curvesBox = new QGroupBox(tr("Learning curves"), this);
    auto *curvesLayout = new QVBoxLayout(curvesBox);
    curvesLayout->addWidget(m_curves);

    auto *testTab = new QWidget(this);
    auto *testLayout = new QHBoxLayout(testTab);
    testLayout->addWidget(m_confusion, 1);
    auto *testRight = new QVBoxLayout;
    m_testSummary->setWordWrap(true);
    testRight->addWidget(m_testSummary);
    testRight->addWidget(m_classTable, 1);
    testLayout->addLayout(testRight, 1);
    m_tabs->addTab(testTab, tr("Test split"));

    auto *quantTab = new QWidget(this);
    auto *quantLayout = new QHBoxLayout(quantTab);
    auto *quantLeft = new QVBoxLayout;
    m_quantSummary->setWordWrap(true);
    quantLeft->addWidget(m_quantSummary);
    quantLeft->addWidget(m_quantTable, 1);
    quantLayout->addLayout(quantLeft, 1);
    quantLayout->addWidget(m_sqnr, 1);
    m_tabs->addTab(quantTab, tr("Float vs int8"));

    auto *right = new QVBoxLayout;
    right->addWidget(curvesBox, 4);
    right->addWidget(m_tabs, 5);

    auto *columns = new QHBoxLayout;
    columns->setSpacing(14);
    columns->addWidget(leftWidget);
    columns->addLayout(right, 1);
    layout->addLayout(columns, 1);

    connect(m_start, &QPushButton::clicked, this, &TrainingPage::startTraining);
    connect(m_cancel, &QPushButton::clicked, this, &TrainingPage::cancel);
    connect(m_quantize, &QPushButton::clicked, this, &TrainingPage::startQuantization);
    restoreSettings();
    setSession(nullptr);
}

TrainingPage::~TrainingPage()
{
    m_task->cancelAndWait();
}

void TrainingPage::restoreSettings()
{
    QSettings s;
    const int arch = m_architecture->findData(s.value(kArchitectureKey, int(Architecture::Auto)).toInt());
    m_architecture->setCurrentIndex(qMax(0, arch));
    m_epochs->setValue(s.value(kEpochsKey, m_epochs->value()).toInt());
    m_learningRate->setValue(s.value(kLearningRateKey, m_learningRate->value()).toDouble());
    m_batchSize->setValue(s.value(kBatchSizeKey, m_batchSize->value()).toInt());
    m_seed->setValue(s.value(kSeedKey, m_seed->value()).toInt());
    m_threads->setValue(s.value(kThreadsKey, m_threads->value()).toInt());
    m_qat->setChecked(s.value(kQatKey, true).toBool());
}

void TrainingPage::storeSettings() const
{
    QSettings s;
    s.setValue(kArchitectureKey, m_architecture->currentData().toInt());
    s.setValue(kEpochsKey, m_epochs->value());
    s.setValue(kLearningRateKey, m_learningRate->value());
    s.setValue(kBatchSizeKey, m_batchSize->value());
    s.setValue(kSeedKey, m_seed->value());
    s.setValue(kThreadsKey, m_threads->value());
    s.setValue(kQatKey, m_qat->isChecked());
}

void TrainingPage::setSession(ProjectSession *session)
{
    m_task->cancelAndWait();
    if (m_session)
        disconnect(m_session, nullptr, this, nullptr);
    m_session = session;
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    setStatus(QString());
    if (m_session) {
        connect(m_session, &ProjectSession::settingsChanged, this, &TrainingPage::updateButtons);
        connect(m_session, &ProjectSession::samplesChanged, this, &TrainingPage::updateButtons);
    }
    loadLatest();
}

bool TrainingPage::isRunning() const
{
    return m_task->isRunning();
}

void TrainingPage::setStatus(const QString &text, bool error)
{
    m_status->setText(error ? QStringLiteral("<span style='color:#b91c1c'>%1</span>").arg(text.toHtmlEscaped())
                            : text.toHtmlEscaped());
}

void TrainingPage::updateButtons()
{
    const bool open = m_session != nullptr;
    const bool running = isRunning();
    bool hasFloatModel = false;
    if (open)
        for (const StoredModel &m : m_session->store().models())
            hasFloatModel = hasFloatModel || m.kind == ModelKind::Float;
    for (QWidget *w : std::initializer_list<QWidget *>{m_architecture, m_epochs, m_learningRate, m_batchSize, m_seed,
                                                       m_threads, m_qat})
        w->setEnabled(open && !running);
    m_start->setEnabled(open && !running);
    m_quantize->setEnabled(open && !running && hasFloatModel);
    m_cancel->setEnabled(running && !m_quantizing);   // quantization has no cancel point
}

void TrainingPage::clearResults()
{
    m_report.reset();
    m_quant.reset();
    m_curves->reset(m_epochs->value());
    showReport();
    showQuantization();
}

void TrainingPage::loadLatest()
{
    m_report.reset();
    m_quant.reset();
    if (m_session) {
        const QVector<TrainingRun> runs = m_session->store().trainingRuns();
        // Anomaly runs have scores, not classes: the Anomaly page shows them.
        for (auto it = runs.crbegin(); it != runs.crend(); ++it)
            if (it->status == TrainingStatus::Finished &&
                it->config.value(QStringLiteral("task")).toString() != QLatin1String("anomaly")) {
                m_report = trainingReport(*it);
                break;
            }
        if (m_report) {
            if (auto int8 = m_session->store().latestModel(ModelKind::Int8))
                if (int8->trainingRunId == m_report->runId)
                    m_quant = quantizeReport(int8->metrics, int8->id);
        }
    }
    if (m_report)
        m_curves->setHistory(m_report->history, m_report->bestEpoch);
    else
        m_curves->reset(m_epochs->value());
    showReport();
    showQuantization();
    updateButtons();
}

void TrainingPage::showReport()
{
    if (!m_session) {
        m_summary->clear();
        m_modelInfo->setText(tr("The model is chosen from the feature shape and sized for the board."));
    } else if (!m_report) {
        m_summary->setText(tr("No model trained yet · features come from the Features page"));
        m_modelInfo->setText(tr("The model is chosen from the feature shape and sized for the board."));
    } else {
        const TrainingReport &r = *m_report;
        const QLocale locale;
        m_summary->setText(tr("Run %1 · %2 · test accuracy %3")
                               .arg(r.runId)
                               .arg(r.modelKind, r.test.labels.isEmpty() ? tr("no test split") : percent(r.test.accuracy)));
        m_modelInfo->setText(tr("<b>%1</b> · %2 parameters · %3 MACs<br>int8: %4 weights, %5 activations<br>"
                                "%6 epochs (best %7), %8 per epoch")
                                 .arg(r.modelKind, locale.toString(r.parameters), locale.toString(r.macs),
                                      bytesText(r.int8WeightBytes), bytesText(r.int8ActivationBytes))
                                 .arg(r.epochsRun)
                                 .arg(r.bestEpoch)
                                 .arg(r.secondsPerEpoch >= 1 ? tr("%1 s").arg(r.secondsPerEpoch, 0, 'f', 1)
                                                             : tr("%1 ms").arg(qMax(1.0, r.secondsPerEpoch * 1000), 0, 'f', 0)));
    }

    m_classTable->setRowCount(0);
    if (!m_report || m_report->test.labels.isEmpty()) {
        m_confusion->clear(m_report ? tr("The project has no test samples.") : tr("Train a model to see its test results."));
        m_testSummary->setText(tr("Precision, recall and F1 per label on the test split appear here after training."));
        return;
    }
    const training::ClassificationMetrics &t = m_report->test;
    m_confusion->setMatrix(t.labels, t.confusion);
    m_testSummary->setText(tr("<b>%1</b> accuracy on %2 · macro F1 %3")
                               .arg(percent(t.accuracy), countText(t.samples, "%1 test sample", "%1 test samples"))
                               .arg(t.macroF1, 0, 'f', 3));
    m_classTable->setRowCount(int(t.labels.size()));
    for (int c = 0; c < t.labels.size(); ++c) {
        int support = 0;
        for (int n : t.confusion.value(c))
            support += n;
        m_classTable->setItem(c, 0, cell(t.labels[c], false));
        m_classTable->setItem(c, 1, cell(QString::number(t.precision.value(c), 'f', 3)));
        m_classTable->setItem(c, 2, cell(QString::number(t.recall.value(c), 'f', 3)));
        m_classTable->setItem(c, 3, cell(QString::number(t.f1.value(c), 'f', 3)));
        m_classTable->setItem(c, 4, cell(QString::number(support)));
    }
}

void TrainingPage::showQuantization()
{
    m_quantTable->setRowCount(0);
    if (!m_quant) {
        m_quantSummary->setText(m_report ? tr("Quantize the model to compare it with its int8 version, as the board runs it.")
                                         : tr("Train a model first, then quantize it to int8."));
        m_sqnr->clear(tr("Quantize the model to see the error per layer."));
        return;
    }
    const QuantizeReport &q = *m_quant;
    struct Row {
        QString name, floatText, int8Text;
    };
    const QVector<Row> rows = {
        {tr("Accuracy"), percent(q.floatAccuracy), percent(q.int8Accuracy)},
        {tr("Weight bytes"), bytesText(q.floatWeightBytes), bytesText(q.int8WeightBytes)},
        {tr("Accuracy drop"), QStringLiteral("–"),
         tr("%1 points").arg(q.accuracyDrop * 100, 0, 'f', 1)},
        {tr("QAT applied"), QStringLiteral("–"),
         q.qatApplied ? tr("yes (PTQ alone: %1)").arg(percent(q.ptqAccuracy)) : tr("no")},
        {tr("Calibration"), QStringLiteral("–"), q.calibration.isEmpty() ? QStringLiteral("–") : q.calibration},
    };
    m_quantTable->setRowCount(int(rows.size()));
    for (int i = 0; i < rows.size(); ++i) {
        m_quantTable->setItem(i, 0, cell(rows[i].name, false));
        m_quantTable->setItem(i, 1, cell(rows[i].floatText));
        m_quantTable->setItem(i, 2, cell(rows[i].int8Text));
    }
    const double ratio = q.int8WeightBytes > 0 ? double(q.floatWeightBytes) / q.int8WeightBytes : 0;
    m_quantSummary->setText(tr("int8 model #%1 is <b>%2×</b> smaller and runs with the firmware's integer kernels.")
                                .arg(q.modelId)
                                .arg(ratio, 0, 'f', 1));
    m_sqnr->setLayers(q.layers);
}

bool TrainingPage::startTraining()
{
    if (!m_session || isRunning())
        return false;
    storeSettings();
    training::ProjectTrainOptions options;
    options.kind = Architecture(m_architecture->currentData().toInt());
    options.train.epochs = m_epochs->value();
    options.train.learningRate = m_learningRate->value();
    options.train.batchSize = m_batchSize->value();
    options.train.seed = std::uint64_t(m_seed->value());
    options.train.threads = m_threads->value();
    ProjectTask *task = m_task;
    const int epochs = options.train.epochs;
    m_quantizing = false;
    const bool started = m_task->start(m_session->path(), [=](ProjectStore &store, QString *error) mutable {
        options.train.cancel = task->cancelFlag();
        options.train.onEpoch = [this, task](const training::EpochProgress &p) {
            task->post([this, p] {
                m_progress->setRange(0, p.epochs);
                m_progress->setValue(p.epoch);
                m_curves->addEpoch(p.epoch, p.loss, p.accuracy, p.valLoss, p.valAccuracy);
                setStatus(tr("Epoch %1 of %2 · loss %3 · validation accuracy %4")
                              .arg(p.epoch)
                              .arg(p.epochs)
                              .arg(p.loss, 0, 'f', 3)
                              .arg(percent(p.valAccuracy)));
            });
        };
        return training::trainProject(store, options, error).has_value();
    });
    if (!started)
        return false;
    clearResults();
    m_curves->reset(epochs);
    m_progress->setRange(0, epochs);
    m_progress->setValue(0);
    m_progress->setFormat(tr("epoch %v / %m"));
    setStatus(tr("Computing features and building the model…"));
    m_tabs->setCurrentIndex(0);
    updateButtons();
    disconnect(m_task, &ProjectTask::finished, this, nullptr);
    connect(m_task, &ProjectTask::finished, this, [this](bool ok, bool cancelled, const QString &error) {
        disconnect(m_task, &ProjectTask::finished, this, nullptr);
        if (ok) {
            const int epochs = m_curves->epochCount();
            loadLatest();
            setStatus(tr("Trained for %1.").arg(countText(epochs, "%1 epoch", "%1 epochs")));
        } else if (cancelled) {
            setStatus(tr("Cancelled after %1; the project keeps its previous model.")
                          .arg(countText(m_curves->epochCount(), "%1 epoch", "%1 epochs")));
        } else {
            setStatus(tr("Training failed: %1").arg(error), true);
        }
        updateButtons();
        Q_EMIT runFinished(ok);
    });
    return true;
}

bool TrainingPage::startQuantization()
{
    if (!m_session || isRunning())
        return false;
    storeSettings();
    training::ProjectQuantizeOptions options;
    options.qatThreshold = m_qat->isChecked() ? 0.01 : -1.0;
    options.train.seed = std::uint64_t(m_seed->value());
    options.train.threads = m_threads->value();
    options.train.batchSize = m_batchSize->value();
    options.quant.seed = std::uint64_t(m_seed->value());
    const bool started = m_task->start(m_session->path(), [options](ProjectStore &store, QString *error) {
        return training::quantizeProject(store, options, error).has_value();
    });
    if (!started)
        return false;
    m_quantizing = true;
    m_progress->setRange(0, 0);
    m_progress->setFormat(QString());
    setStatus(m_qat->isChecked() ? tr("Calibrating, quantizing and evaluating the int8 model (fine-tuning it when it "
                                      "loses accuracy)…")
                                 : tr("Calibrating, quantizing and evaluating the int8 model…"));
    m_tabs->setCurrentIndex(1);
    updateButtons();
    disconnect(m_task, &ProjectTask::finished, this, nullptr);
    connect(m_task, &ProjectTask::finished, this, [this](bool ok, bool, const QString &error) {
        disconnect(m_task, &ProjectTask::finished, this, nullptr);
        m_quantizing = false;
        m_progress->setRange(0, 1);
        m_progress->setValue(ok ? 1 : 0);
        m_progress->setFormat(ok ? tr("done") : QString());
        if (ok) {
            loadLatest();
            m_tabs->setCurrentIndex(1);
            setStatus(m_quant ? tr("int8 accuracy %1 (float %2).").arg(percent(m_quant->int8Accuracy),
                                                                      percent(m_quant->floatAccuracy))
                              : tr("Quantized."));
        } else {
            setStatus(tr("Quantization failed: %1").arg(error), true);
        }
        updateButtons();
        Q_EMIT runFinished(ok);
    });
    return true;
}

void TrainingPage::cancel()
{
    if (!isRunning() || m_quantizing)
        return;
    m_task->cancel();
    setStatus(tr("Cancelling after the current batch…"));
}

} // namespace tinyml::ui
