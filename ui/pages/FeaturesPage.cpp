#include "pages/FeaturesPage.h"

#include "models/FeatureProjection.h"
#include "pages/FeatureParamsForm.h"
#include "plots/FeatureScatterPlot.h"
#include "plots/SampleFeaturesPlot.h"
#include "window/CountText.h"
#include "window/PageHeader.h"
#include "window/ProjectSession.h"

#include "features/FeatureExtractor.h"
#include "store/ProjectStore.h"
#include "store/ProjectTask.h"

#include <QComboBox>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalBlocker>
#include <QVBoxLayout>

#include <memory>

namespace tinyml::ui {

using features::BlockKind;

namespace {

/// Blocks that make sense for a kind of project; the template's default comes first.
QVector<BlockKind> blocksForTemplate(const QString &templateName)
{
    if (templateName == QLatin1String("motion"))
        return {BlockKind::Spectral, BlockKind::Raw};
    if (templateName == QLatin1String("audio"))
        return {BlockKind::Mfcc, BlockKind::Mfe, BlockKind::Raw};
    if (templateName == QLatin1String("image"))
        return {BlockKind::Image};
    if (templateName == QLatin1String("tabular"))
        return {BlockKind::Raw};
    return {BlockKind::Raw, BlockKind::Spectral, BlockKind::Mfe, BlockKind::Mfcc, BlockKind::Image};
}

QLabel *statValue(QWidget *parent)
{
    auto *l = new QLabel(QStringLiteral("–"), parent);
    l->setObjectName(QStringLiteral("statValue"));
    return l;
}

QLabel *statCaption(const QString &text, QWidget *parent)
{
    auto *l = new QLabel(text, parent);
    l->setObjectName(QStringLiteral("hint"));
    return l;
}

/// What the worker hands back.
struct FeatureRun {
    std::optional<features::FeatureSet> set;
    FeatureProjection projection;
    bool notCached = false;   ///< load mode: the cache does not cover every sample
};

} // namespace

FeaturesPage::FeaturesPage(QWidget *parent)
    : QWidget(parent), m_task(new ProjectTask(this)), m_summary(new QLabel(this)), m_form(new FeatureParamsForm(this)),
      m_outputShape(new QLabel(this)), m_defaults(new QPushButton(tr("Defaults"), this)),
      m_save(new QPushButton(tr("Save"), this)), m_generate(new QPushButton(tr("Generate features"), this)),
      m_cancel(new QPushButton(tr("Cancel"), this)), m_progress(new QProgressBar(this)), m_status(new QLabel(this)),
      m_skipped(new QLabel(this)), m_statShape(statValue(this)), m_statCount(statValue(this)), m_statSplit(statValue(this)),
      m_scatter(new FeatureScatterPlot(this)), m_sampleCombo(new QComboBox(this)),
      m_sampleFeatures(new SampleFeaturesPlot(this))
{
    auto *layout = new QVBoxLayout(this);
    setPageMargins(layout);
    layout->setSpacing(10);
    layout->addLayout(makePageHeader(this, tr("Features"), m_summary));

    // --- left: block and generation -----------------------------------------------------
    auto *blockBox = new QGroupBox(tr("Processing block"), this);
    auto *blockLayout = new QVBoxLayout(blockBox);
    blockLayout->addWidget(m_form);
    m_outputShape->setObjectName(QStringLiteral("hint"));
    m_outputShape->setWordWrap(true);
    blockLayout->addWidget(m_outputShape);
    auto *saveRow = new QHBoxLayout;
    m_defaults->setToolTip(tr("The parameters this kind of project starts with"));
    m_save->setToolTip(tr("Store the parameters in the project"));
    saveRow->addWidget(m_defaults);
    saveRow->addStretch(1);
    saveRow->addWidget(m_save);
    blockLayout->addLayout(saveRow);

    auto *runBox = new QGroupBox(tr("Generate"), this);
    auto *runLayout = new QVBoxLayout(runBox);
    auto *runRow = new QHBoxLayout;
    m_generate->setObjectName(QStringLiteral("primaryButton"));
    m_generate->setIcon(QIcon(QStringLiteral(":/icons/features.svg")));
    m_generate->setToolTip(tr("Compute the features of every sample (cached rows are reused)"));
    runRow->addWidget(m_generate, 1);
    runRow->addWidget(m_cancel);
    runLayout->addLayout(runRow);
    m_progress->setTextVisible(true);
    m_progress->setFormat(tr("%v / %m samples"));
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    runLayout->addWidget(m_progress);
    m_status->setWordWrap(true);
    m_status->setObjectName(QStringLiteral("hint"));
    runLayout->addWidget(m_status);
    // Samples left out of the set are named, never dropped silently (issue 18, item 7).
    m_skipped->setWordWrap(true);
    m_skipped->setObjectName(QStringLiteral("featuresSkipped"));
    m_skipped->setTextFormat(Qt::RichText);
    m_skipped->setVisible(false);
    runLayout->addWidget(m_skipped);
    auto *stats = new QGridLayout;
    stats->addWidget(m_statCount, 0, 0);
    stats->addWidget(m_statShape, 0, 1);
    stats->addWidget(m_statSplit, 0, 2);
    stats->addWidget(statCaption(tr("samples"), runBox), 1, 0);
    stats->addWidget(statCaption(tr("feature shape"), runBox), 1, 1);
    stats->addWidget(statCaption(tr("train / test"), runBox), 1, 2);
    stats->setHorizontalSpacing(18);
    for (int c = 0; c < 3; ++c)
        stats->setColumnStretch(c, 1);
    runLayout->addLayout(stats);

    auto *left = new QVBoxLayout;
    left->addWidget(blockBox);
    left->addWidget(runBox);
    left->addStretch(1);
    auto *leftWidget = new QWidget(this);
    leftWidget->setLayout(left);
    left->setContentsMargins(0, 0, 0, 0);
    leftWidget->setFixedWidth(340);

    // --- right: explorer -------------------------------------------------------------------
    auto *explorerBox = new QGroupBox(tr("Feature explorer"), this);
    auto *explorerLayout = new QVBoxLayout(explorerBox);
    auto *explorerHint = new QLabel(tr("One dot per sample: the standardised features projected on their two "
                                       "principal axes. Labels that form separate clusters are easy to learn. "
                                       "Click a dot to inspect that sample."),
                                    explorerBox);
    explorerHint->setObjectName(QStringLiteral("hint"));
    explorerHint->setWordWrap(true);
    explorerLayout->addWidget(explorerHint);
    explorerLayout->addWidget(m_scatter, 1);

    auto *sampleBox = new QGroupBox(tr("Features of one sample"), this);
    auto *sampleLayout = new QVBoxLayout(sampleBox);
    auto *sampleRow = new QHBoxLayout;
    sampleRow->addWidget(new QLabel(tr("Sample:"), sampleBox));
    m_sampleCombo->setMinimumWidth(220);
    sampleRow->addWidget(m_sampleCombo);
    sampleRow->addStretch(1);
    sampleLayout->addLayout(sampleRow);
    sampleLayout->addWidget(m_sampleFeatures, 1);

    auto *right = new QVBoxLayout;
    right->addWidget(explorerBox, 3);
    right->addWidget(sampleBox, 2);

    auto *columns = new QHBoxLayout;
    columns->setSpacing(14);
    columns->addWidget(leftWidget);
    columns->addLayout(right, 1);
    layout->addLayout(columns, 1);

    connect(m_form, &FeatureParamsForm::changed, this, [this] {
        updateOutputShape();
        updateButtons();
    });
    connect(m_defaults, &QPushButton::clicked, this, [this] {
        if (m_session)
            m_form->setParams(features::FeatureParams::defaultsFor(m_session->settings()));
        updateOutputShape();
        updateButtons();
    });
    connect(m_save, &QPushButton::clicked, this, &FeaturesPage::saveParams);
    connect(m_generate, &QPushButton::clicked, this, &FeaturesPage::generate);
    connect(m_cancel, &QPushButton::clicked, this, &FeaturesPage::cancel);
    connect(m_task, &ProjectTask::progressed, this, [this](int done, int total) {
        m_progress->setRange(0, total);
        m_progress->setValue(done);
    });
    connect(m_scatter, &FeatureScatterPlot::rowClicked, this, &FeaturesPage::selectRow);
    connect(m_sampleCombo, &QComboBox::currentIndexChanged, this, [this](int i) { selectRow(i); });
    setSession(nullptr);
}

FeaturesPage::~FeaturesPage()
{
    m_task->cancelAndWait();
}

void FeaturesPage::setSession(ProjectSession *session)
{
    m_task->cancelAndWait();
    if (m_session)
        disconnect(m_session, nullptr, this, nullptr);
    m_session = session;
    m_set.reset();
    m_scatter->clear(tr("Generate features to see how the labels separate."));
    m_sampleFeatures->clear(tr("Click a dot to see that sample's features."));
    {
        const QSignalBlocker blocker(m_sampleCombo);
        m_sampleCombo->clear();
    }
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    m_status->clear();
    m_skipped->clear();
    m_skipped->setVisible(false);
    for (QLabel *l : {m_statShape, m_statCount, m_statSplit})
        l->setText(QStringLiteral("–"));
    if (m_session) {
        connect(m_session, &ProjectSession::settingsChanged, this, [this] {
            if (!isRunning())
                loadFromSession();
        });
        connect(m_session, &ProjectSession::samplesChanged, this, &FeaturesPage::updateButtons);
        loadFromSession();
        start(Mode::LoadCache);
    }
    updateButtons();
}

void FeaturesPage::loadFromSession()
{
    const ProjectSettings settings = m_session->settings();
    m_form->setAvailableKinds(blocksForTemplate(settings.templateName));
    m_form->setParams(features::featureParams(settings));
    m_summary->setText(tr("%1 project · turns every sample into the input the model learns from")
                           .arg(settings.templateName.isEmpty() ? tr("A") : settings.templateName.left(1).toUpper()
                                                                                 + settings.templateName.mid(1)));
    updateOutputShape();
    updateButtons();
}

void FeaturesPage::updateOutputShape()
{
    if (!m_session) {
        m_outputShape->clear();
        return;
    }
    QString error;
    const auto params = m_form->params(&error);
    if (!params) {
        m_outputShape->setText(QStringLiteral("<span style='color:#b91c1c'>%1</span>").arg(error.toHtmlEscaped()));
        return;
    }
    // The shape a typical sample of this project gets: the first finished one.
    qint64 frames = 0;
    int channels = 0;
    for (const SampleInfo &s : m_session->store().sampleInfos())
        if (s.complete) {
            frames = s.frames;
            channels = int(qMax<qsizetype>(1, s.channels.size()));
            break;
        }
    if (frames == 0) {
        m_outputShape->setText(tr("Output shape: known once the project has samples."));
        return;
    }
    features::FeatureExtractor extractor(*params);
    const auto shape = extractor.outputShape(frames, channels, &error);
    if (!shape) {
        m_outputShape->setText(QStringLiteral("<span style='color:#b91c1c'>%1</span>").arg(error.toHtmlEscaped()));
        return;
    }
    qint64 n = 1;
    for (qint64 s : *shape)
        n *= s;
    m_outputShape->setText(tr("Output per sample: %1 = %2").arg(shapeText(*shape), countText(n, "%1 value", "%1 values")));
}

QString FeaturesPage::shapeText(const QVector<qint64> &shape) const
{
    QStringList parts;
    for (qint64 s : shape)
        parts << QString::number(s);
    return QStringLiteral("[%1]").arg(parts.join(QStringLiteral(", ")));
}

void FeaturesPage::updateButtons()
{
    const bool open = m_session != nullptr;
    const bool running = isRunning();
    QString error;
    const auto edited = open ? m_form->params(&error) : std::nullopt;
    const bool dirty = open && edited && edited->hash() != features::featureParams(m_session->settings()).hash();
    m_form->setEnabled(open && !running);
    m_defaults->setEnabled(open && !running);
    m_save->setEnabled(open && !running && dirty);
    m_save->setText(dirty ? tr("Save") : tr("Saved"));
    m_generate->setEnabled(open && !running && edited.has_value());
    m_cancel->setEnabled(running);
}

bool FeaturesPage::isRunning() const
{
    return m_task->isRunning();
}

bool FeaturesPage::saveParams()
{
    if (!m_session)
        return false;
    QString error;
    const auto params = m_form->params(&error);
    if (!params) {
        QMessageBox::warning(this, tr("Feature parameters"), error);
        return false;
    }
    ProjectSettings settings = m_session->settings();
    if (features::featureParams(settings).hash() == params->hash() && settings.extra.contains(QStringLiteral("features")))
        return true;
    features::setFeatureParams(settings, *params);
    if (!m_session->store().setSettings(settings, &error)) {
        m_session->reportError(error);
        return false;
    }
    m_session->notifySettingsChanged();
    updateButtons();
    return true;
}

bool FeaturesPage::generate()
{
    if (!m_session || isRunning() || !saveParams())
        return false;
    start(Mode::Generate);
    return true;
}

void FeaturesPage::cancel()
{
    m_task->cancel();
    m_status->setText(tr("Cancelling…"));
}

void FeaturesPage::start(Mode mode)
{
    if (!m_session)
        return;
    const features::FeatureParams params = features::featureParams(m_session->settings());
    auto run = std::make_shared<FeatureRun>();
    ProjectTask *task = m_task;
    const bool generateMode = mode == Mode::Generate;
    const bool started = m_task->start(m_session->path(), [=](ProjectStore &store, QString *error) {
        if (!generateMode) {
            // Show what the cache already holds, without computing anything the user did not ask for.
            const QHash<qint64, CachedFeature> cached = store.cachedFeatures(params.hash());
            for (const SampleInfo &s : store.sampleInfos())
                if (s.complete) {
                    auto it = cached.constFind(s.id);
                    if (it == cached.constEnd() || it->sampleChecksum != s.checksum) {
                        run->notCached = true;
                        return true;
                    }
                }
        }
        run->set = features::computeFeatures(
            store, params,
            [task](int done, int total) {
                task->post([task, done, total] { Q_EMIT task->progressed(done, total); });
                return !task->isCancelled();
            },
            error);
        if (!run->set)
            return false;
        run->projection = projectStandardized(*run->set);
        return true;
    });
    if (!started)
        return;
    if (generateMode) {
        m_progress->setRange(0, 0);
        m_status->setText(tr("Computing features…"));
    }
    updateButtons();
    disconnect(m_task, &ProjectTask::finished, this, nullptr);
    connect(m_task, &ProjectTask::finished, this, [this, run, generateMode](bool ok, bool cancelled, const QString &error) {
        disconnect(m_task, &ProjectTask::finished, this, nullptr);
        if (ok && run->set) {
            m_set = std::move(run->set);
            m_fraction1 = run->projection.fraction1;
            m_fraction2 = run->projection.fraction2;
            m_x.clear();
            m_y.clear();
            for (const auto &p : run->projection.pca.points) {
                m_x << p.x;
                m_y << p.y;
            }
            showSet();
            m_progress->setRange(0, qMax(1, m_set->size()));
            m_progress->setValue(m_set->size());
            if (generateMode)
                m_status->setText(tr("%1 computed, %2 from the cache.")
                                      .arg(countText(m_set->computed, "%1 row", "%1 rows"))
                                      .arg(m_set->size() - m_set->computed));
            else
                m_status->setText(tr("Loaded from the project's feature cache."));
        } else if (ok && run->notCached) {
            m_status->setText(tr("Features have not been generated for these parameters yet."));
        } else if (cancelled) {
            m_progress->setRange(0, 1);
            m_progress->setValue(0);
            m_status->setText(tr("Cancelled. Rows computed so far were not kept."));
        } else {
            m_progress->setRange(0, 1);
            m_progress->setValue(0);
            m_status->setText(QStringLiteral("<span style='color:#b91c1c'>%1</span>")
                                  .arg(tr("Could not compute features: %1").arg(error).toHtmlEscaped()));
        }
        updateButtons();
        Q_EMIT featuresUpdated();
    });
}

void FeaturesPage::showSet()
{
    const features::FeatureSet &set = *m_set;
    m_scatter->setPoints(m_x, m_y, set.labels, set.labelNames, m_fraction1, m_fraction2);
    int train = 0, test = 0;
    for (Split s : set.splits)
        (s == Split::Test ? test : train)++;
    m_statCount->setText(QString::number(set.size()));
    // Leading and trailing 1s (batch, channels) are in the block's output line above.
    QStringList dims;
    for (int i = 0; i < set.featureShape.size(); ++i)
        if (set.featureShape[i] != 1 || (dims.isEmpty() && i == set.featureShape.size() - 1))
            dims << QString::number(set.featureShape[i]);
    m_statShape->setText(dims.join(QStringLiteral(" × ")));
    m_statShape->setToolTip(shapeText(set.featureShape));
    m_statSplit->setText(QStringLiteral("%1 / %2").arg(train).arg(test));
    showSkipped();
    {
        const QSignalBlocker blocker(m_sampleCombo);
        m_sampleCombo->clear();
        for (int i = 0; i < set.size(); ++i)
            m_sampleCombo->addItem(QStringLiteral("#%1  %2  (%3)")
                                       .arg(set.sampleIds[i])
                                       .arg(set.labelNames.value(set.labels[i]),
                                            set.splits[i] == Split::Test ? tr("test") : tr("train")));
    }
    selectRow(set.size() > 0 ? 0 : -1);
}

void FeaturesPage::showSkipped()
{
    const QVector<features::FeatureSet::Skipped> skipped = m_set ? m_set->skipped : QVector<features::FeatureSet::Skipped>{};
    m_skipped->setVisible(!skipped.isEmpty());
    if (skipped.isEmpty()) {
        m_skipped->clear();
        m_skipped->setToolTip(QString());
        return;
    }
    // The first few inline, every one in the tooltip: a project with hundreds of cut-off
    // captures must not push the page's controls off screen.
    constexpr int kShown = 5;
    QStringList lines, all;
    for (int i = 0; i < skipped.size(); ++i) {
        const QString line = tr("#%1: %2").arg(skipped[i].sampleId).arg(skipped[i].reason);
        all << line;
        if (i < kShown)
            lines << line.toHtmlEscaped();
    }
    if (skipped.size() > kShown)
        lines << tr("… and %1 more (hover for the list)").arg(skipped.size() - kShown);
    m_skipped->setText(QStringLiteral("<span style='color:#b45309'>%1</span><br>%2")
                           .arg(tr("%1 left out of the features (see the Dataset page):")
                                    .arg(countText(skipped.size(), "%1 sample", "%1 samples"))
                                    .toHtmlEscaped(),
                                lines.join(QStringLiteral("<br>"))));
    m_skipped->setToolTip(all.join(QLatin1Char('\n')));
}

void FeaturesPage::selectRow(int row)
{
    if (!m_set || row < 0 || row >= m_set->size()) {
        m_scatter->highlightRow(-1);
        return;
    }
    {
        const QSignalBlocker blocker(m_sampleCombo);
        m_sampleCombo->setCurrentIndex(row);
    }
    m_scatter->highlightRow(row);
    m_sampleFeatures->setFeatures(m_set->featureShape, m_set->row(row), m_set->params);
}

} // namespace tinyml::ui
