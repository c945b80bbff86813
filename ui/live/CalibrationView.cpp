#include "live/CalibrationView.h"

#include "plots/DetCurvePlot.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QShortcut>
#include <QTableWidget>
#include <QVBoxLayout>

namespace tinyml::ui {

namespace {

enum Row { Threshold, AverageWindows, Suppression, FaPerHour, Frr, RowCount };

const char *const kRowNames[] = {
    QT_TRANSLATE_NOOP("CalibrationView", "Threshold"),
    QT_TRANSLATE_NOOP("CalibrationView", "Average windows"),
    QT_TRANSLATE_NOOP("CalibrationView", "Suppression"),
    QT_TRANSLATE_NOOP("CalibrationView", "False activations"),
    QT_TRANSLATE_NOOP("CalibrationView", "False rejection rate"),
};

} // namespace

CalibrationView::CalibrationView(QWidget *parent)
    : QWidget(parent), m_curve(new DetCurvePlot(this)), m_table(new QTableWidget(RowCount, 2, this)),
      m_save(new QPushButton(tr("Save operating point"), this)), m_summary(new QLabel(this)),
      m_source(new QLabel(this))
{
    auto *outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    m_source->setObjectName(QStringLiteral("warningBanner"));
    m_source->setWordWrap(true);
    outer->addWidget(m_source);
    auto *layout = new QHBoxLayout;
    outer->addLayout(layout, 1);
    layout->addWidget(m_curve, 1);

    auto *side = new QVBoxLayout;
    auto *title = new QLabel(tr("Operating point"), this);
    title->setObjectName(QStringLiteral("sectionTitle"));
    side->addWidget(title);
    m_table->setHorizontalHeaderLabels({tr("Parameter"), tr("Value")});
    m_table->verticalHeader()->setVisible(false);
    m_table->horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setAlternatingRowColors(true);
    m_table->setFocusPolicy(Qt::StrongFocus);
    m_table->setTabKeyNavigation(false);   // Tab leaves the table for the button
    for (int r = 0; r < RowCount; ++r) {
        m_table->setItem(r, 0, new QTableWidgetItem(tr(kRowNames[r])));
        m_table->setItem(r, 1, new QTableWidgetItem);
    }
    m_table->setFixedHeight(m_table->horizontalHeader()->sizeHint().height()
                            + RowCount * m_table->verticalHeader()->defaultSectionSize() + 2 * m_table->frameWidth() + 2);
    side->addWidget(m_table);
    m_summary->setWordWrap(true);
    m_summary->setObjectName(QStringLiteral("hint"));
    side->addWidget(m_summary);
    m_save->setObjectName(QStringLiteral("primaryButton"));
    m_save->setToolTip(tr("Save the chosen post-processing settings into the project (Ctrl+S)"));
    side->addWidget(m_save);
    auto *hint = new QLabel(tr("Click a point on the curve, or give the curve focus (Tab) and walk the front "
                               "with \u2190 / \u2192. Ctrl+S saves."),
                            this);
    hint->setObjectName(QStringLiteral("hint"));
    hint->setWordWrap(true);
    side->addWidget(hint);
    side->addStretch(1);
    auto *sideWidget = new QWidget(this);
    sideWidget->setLayout(side);
    side->setContentsMargins(0, 0, 0, 0);
    sideWidget->setFixedWidth(300);
    layout->addWidget(sideWidget);
    setTabOrder(m_curve, m_table);
    setTabOrder(m_table, m_save);

    connect(m_curve, &DetCurvePlot::pointPicked, this, [this](int index) {
        showChosen();
        Q_EMIT operatingPointChosen(index);
    });
    connect(m_save, &QPushButton::clicked, this, &CalibrationView::save);
    setSourceNote(QString());
    auto *shortcut = new QShortcut(QKeySequence::Save, this);
    shortcut->setContext(Qt::WidgetWithChildrenShortcut);
    connect(shortcut, &QShortcut::activated, this, &CalibrationView::save);
    showChosen();
}

void CalibrationView::setPoints(const QVector<CalibrationRow> &points)
{
    m_points = points;
    m_curve->setPoints(points);
    int front = 0;
    for (const CalibrationRow &p : points)
        front += p.onFront ? 1 : 0;
    m_summary->setText(points.isEmpty() ? tr("No sweep yet.")
                                        : tr("%1 settings swept, %2 on the Pareto front.").arg(points.size()).arg(front));
    showChosen();
}

void CalibrationView::setSourceNote(const QString &text)
{
    // Sweeps run on replays and simulations only: say so even before there is one.
    m_source->setText(text.isEmpty() ? tr("No sweep. Sweeps run on replayed or simulated streams.") : text);
}

QString CalibrationView::sourceNote() const
{
    return m_source->text();
}

void CalibrationView::setChosen(int index)
{
    m_curve->setChosen(index);
    showChosen();
}

int CalibrationView::chosen() const
{
    return m_curve->chosen();
}

void CalibrationView::showChosen()
{
    const int i = chosen();
    const bool has = i >= 0 && i < m_points.size();
    m_save->setEnabled(has);
    if (!has) {
        for (int r = 0; r < RowCount; ++r)
            m_table->item(r, 1)->setText(QStringLiteral("—"));
        return;
    }
    const CalibrationRow &p = m_points[i];
    m_table->item(Threshold, 1)->setText(QString::number(p.threshold, 'f', 2));
    m_table->item(AverageWindows, 1)->setText(QString::number(p.averageWindows));
    m_table->item(Suppression, 1)->setText(tr("%1 ms").arg(p.suppressionMs, 0, 'f', 0));
    m_table->item(FaPerHour, 1)->setText(tr("%1 / h").arg(p.faPerHour, 0, 'f', 2));
    m_table->item(Frr, 1)->setText(QStringLiteral("%1 %").arg(100.0 * p.frr, 0, 'f', 1));
}

void CalibrationView::save()
{
    const int i = chosen();
    if (i >= 0 && i < m_points.size())
        Q_EMIT saveRequested(i);
}

} // namespace tinyml::ui
