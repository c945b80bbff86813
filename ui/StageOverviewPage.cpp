#include "StageOverviewPage.h"

#include "CountText.h"
#include "BoardCatalog.h"
#include "ProjectSession.h"
#include "store/ProjectStore.h"

#include <QFrame>
#include <QGridLayout>
#include <QLabel>
#include <QVBoxLayout>

#include <algorithm>
#include <climits>

namespace tinyml::ui {

namespace {

struct StageText {
    QString title;
    QString icon;
    QString summary;
    QStringList steps;
};

StageText stageText(StageOverviewPage::Stage stage)
{
    switch (stage) {
    case StageOverviewPage::Stage::Features:
        return {QObject::tr("Features"), QStringLiteral("features"),
                QObject::tr("Turns each recorded window into the compact input a small model learns from."),
                {QObject::tr("Motion: spectral power per axis and band, RMS and peaks, computed per window."),
                 QObject::tr("Audio: log-mel spectrogram or MFCC frames, as keyword-spotting models expect."),
                 QObject::tr("Images and tables: scaling and normalisation only."),
                 QObject::tr("The DSP is the agent's own C code, so features on the PC and on the board match bit for bit.")}};
    case StageOverviewPage::Stage::Training:
        return {QObject::tr("Training"), QStringLiteral("training"),
                QObject::tr("Trains a small network on the features and makes it fit the microcontroller."),
                {QObject::tr("Model zoo sized for the board: dense, 1-D CNN, DS-CNN for keywords."),
                 QObject::tr("Accuracy and confusion matrix on the test split, per epoch."),
                 QObject::tr("int8 post-training quantization, float vs int8 accuracy and per-layer error; "
                             "quantization-aware training when int8 accuracy drops."),
                 QObject::tr("Export as ONNX (float and QDQ int8).")}};
    case StageOverviewPage::Stage::Deployment:
        return {QObject::tr("Deployment & profiling"), QStringLiteral("deploy"),
                QObject::tr("Puts the int8 model on the board and measures it there."),
                {QObject::tr("Exact tensor-arena size computed ahead of time; every operator checked before flashing."),
                 QObject::tr("Flash over the agent link, or export a C library for your firmware."),
                 QObject::tr("Latency, RAM and flash, energy (measured with a power monitor, otherwise estimated "
                             "and marked so) and on-device accuracy, as live charts."),
                 QObject::tr("Every profile records board, clock, build and method, so numbers can be reproduced.")}};
    }
    return {};
}

} // namespace

StageOverviewPage::StageOverviewPage(Stage stage, QWidget *parent)
    : QWidget(parent), m_stage(stage), m_checklist(new QVBoxLayout), m_stats(new QGridLayout), m_status(new QLabel(this))
{
    const StageText text = stageText(stage);
    auto *outer = new QVBoxLayout(this);
    outer->setContentsMargins(32, 24, 32, 24);
    outer->setSpacing(14);

    auto *header = new QHBoxLayout;
    auto *icon = new QLabel(this);
    icon->setPixmap(QIcon(QStringLiteral(":/icons/%1.svg").arg(text.icon)).pixmap(40, 40));
    header->addWidget(icon);
    auto *titles = new QVBoxLayout;
    auto *title = new QLabel(text.title, this);
    title->setObjectName(QStringLiteral("pageTitle"));
    auto *summary = new QLabel(text.summary, this);
    summary->setObjectName(QStringLiteral("pageSubtitle"));
    summary->setWordWrap(true);
    titles->addWidget(title);
    titles->addWidget(summary);
    header->addLayout(titles, 1);
    outer->addLayout(header);

    m_status->setObjectName(QStringLiteral("banner"));
    m_status->setWordWrap(true);
    m_status->setText(tr("This stage is not part of this build yet. Below is what it will do, and what your "
                         "project needs before it can start."));
    outer->addWidget(m_status);

    auto *columns = new QHBoxLayout;
    columns->setSpacing(18);
    auto *doesCard = new QFrame(this);
    doesCard->setObjectName(QStringLiteral("card"));
    auto *doesLayout = new QVBoxLayout(doesCard);
    auto *doesTitle = new QLabel(tr("What this stage will do"), doesCard);
    doesTitle->setObjectName(QStringLiteral("sectionTitle"));
    doesLayout->addWidget(doesTitle);
    for (const QString &step : text.steps) {
        auto *l = new QLabel(QStringLiteral("•  ") + step, doesCard);
        l->setWordWrap(true);
        doesLayout->addWidget(l);
    }
    doesLayout->addStretch(1);
    columns->addWidget(doesCard, 1);

    auto *needsCard = new QFrame(this);
    needsCard->setObjectName(QStringLiteral("card"));
    auto *needsLayout = new QVBoxLayout(needsCard);
    auto *needsTitle = new QLabel(tr("What it needs first"), needsCard);
    needsTitle->setObjectName(QStringLiteral("sectionTitle"));
    needsLayout->addWidget(needsTitle);
    needsLayout->addLayout(m_checklist);
    needsLayout->addStretch(1);
    columns->addWidget(needsCard, 1);
    outer->addLayout(columns);

    auto *statsCard = new QFrame(this);
    statsCard->setObjectName(QStringLiteral("card"));
    auto *statsLayout = new QVBoxLayout(statsCard);
    auto *statsTitle = new QLabel(tr("Your project now"), statsCard);
    statsTitle->setObjectName(QStringLiteral("sectionTitle"));
    statsLayout->addWidget(statsTitle);
    statsLayout->addLayout(m_stats);
    outer->addWidget(statsCard);
    outer->addStretch(1);
    refresh();
}

void StageOverviewPage::setSession(ProjectSession *session)
{
    if (m_session)
        disconnect(m_session, nullptr, this, nullptr);
    m_session = session;
    if (m_session) {
        connect(m_session, &ProjectSession::samplesChanged, this, &StageOverviewPage::refresh);
        connect(m_session, &ProjectSession::settingsChanged, this, &StageOverviewPage::refresh);
    }
    refresh();
}

QVector<StageOverviewPage::Requirement> StageOverviewPage::requirements() const
{
    QVector<Requirement> out;
    if (!m_session) {
        out.append({tr("An open project"), false});
        return out;
    }
    const DatasetCounts counts = m_session->store().counts();
    int labelsWithData = 0, minPerLabel = INT_MAX;
    for (const auto &row : counts.perLabel) {
        if (row.train + row.test > 0)
            ++labelsWithData;
        minPerLabel = std::min(minPerLabel, row.train + row.test);
    }
    if (counts.perLabel.isEmpty())
        minPerLabel = 0;
    const int recommended = 10;
    switch (m_stage) {
    case Stage::Features:
        out.append({tr("Samples for at least two labels (now %1)").arg(labelsWithData), labelsWithData >= 2});
        out.append({tr("At least %1 samples for every label (fewest now: %2)").arg(recommended).arg(minPerLabel),
                    minPerLabel >= recommended});
        break;
    case Stage::Training:
        out.append({tr("Samples for at least two labels (now %1)").arg(labelsWithData), labelsWithData >= 2});
        out.append({tr("A test split to measure accuracy on (now %1)").arg(countText(counts.test, "%1 sample", "%1 samples")), counts.test > 0});
        out.append({tr("Features configured on the Features page"), false});
        break;
    case Stage::Deployment: {
        const BoardDefinition *board = BoardCatalog::board(m_session->boardId());
        const QString boardText = BoardCatalog::displayName(m_session->boardId());
        const QString memory = board ? BoardCatalog::memoryText(*board) : QString();
        out.append({memory.isEmpty() ? tr("Target board: %1").arg(boardText)
                                     : tr("Target board: %1 (%2)").arg(boardText, memory),
                    !m_session->boardId().isEmpty()});
        out.append({tr("A trained int8 model (Training page)"), false});
        break;
    }
    }
    return out;
}

void StageOverviewPage::refresh()
{
    while (QLayoutItem *item = m_checklist->takeAt(0)) {
        delete item->widget();
        delete item;
    }
    for (const Requirement &r : requirements()) {
        auto *l = new QLabel(this);
        l->setWordWrap(true);
        l->setTextFormat(Qt::RichText);
        l->setText(QStringLiteral("<span style='color:%1;font-weight:bold'>%2</span>&nbsp;&nbsp;%3")
                       .arg(r.met ? QStringLiteral("#15803d") : QStringLiteral("#9ca3af"),
                            r.met ? QStringLiteral("&#10003;") : QStringLiteral("&#9675;"), r.text.toHtmlEscaped()));
        m_checklist->addWidget(l);
    }

    while (QLayoutItem *item = m_stats->takeAt(0)) {
        delete item->widget();
        delete item;
    }
    const DatasetCounts counts = m_session ? m_session->store().counts() : DatasetCounts();
    double seconds = 0;
    if (m_session)
        for (const SampleInfo &s : m_session->store().sampleInfos())
            if (s.sampleRateHz > 0)
                seconds += double(s.frames) / s.sampleRateHz;
    const QList<QPair<QString, QString>> stats = {
        {QString::number(counts.total()), tr("samples")},
        {QString::number(counts.perLabel.size()), tr("labels")},
        {QString::number(counts.train), tr("train")},
        {QString::number(counts.test), tr("test")},
        {seconds >= 120 ? tr("%1 min").arg(seconds / 60, 0, 'f', 1) : tr("%1 s").arg(seconds, 0, 'f', 1), tr("recorded")},
    };
    for (int i = 0; i < stats.size(); ++i) {
        auto *value = new QLabel(stats[i].first, this);
        value->setObjectName(QStringLiteral("statValue"));
        auto *caption = new QLabel(stats[i].second, this);
        caption->setObjectName(QStringLiteral("hint"));
        m_stats->addWidget(value, 0, i);
        m_stats->addWidget(caption, 1, i);
    }
}

} // namespace tinyml::ui
