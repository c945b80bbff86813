#include "pages/FleetPage.h"

#include "plots/QCustomPlotInclude.h"
#include "window/PageHeader.h"
#include "window/ProjectSession.h"

#include "ModelPackageWriter.h"
#include "SignedPackages.h"
#include "crypto/SigningKeyStore.h"
#include "device/BoardRegistry.h"
#include "fleet/Fleet.h"
#include "fleet/Rollout.h"
#include "model/Graph.h"
#include "store/ProjectStore.h"

#include <QComboBox>
#include <QDateTime>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFile>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPointer>
#include <QPushButton>
#include <QRadioButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QThread>
#include <QTimer>
#include <QVBoxLayout>

#include <iterator>
#include <memory>

namespace tinyml::ui {

using deploy::fleet::Fleet;
using deploy::fleet::FleetMember;

namespace {

/// Thrown from the rollout's log callback when the user stops a rollout: the log is called
/// between steps, after Rollout saved the state, so unwinding there leaves the rollout exactly
/// as a kill between two steps would — unfinished and resumable (Rollout.h, crash safety).
struct StopRequested {};

QColor phaseColour(const QString &phase)
{
    if (phase == QLatin1String("confirmed") || phase == QLatin1String("updated"))
        return QColor(0xdc, 0xfc, 0xe7);
    if (phase == QLatin1String("flashing") || phase == QLatin1String("reverting"))
        return QColor(0xfe, 0xf3, 0xc7);
    if (phase == QLatin1String("reverted"))
        return QColor(0xe0, 0xe7, 0xff);
    if (phase == QLatin1String("revert_failed"))
        return QColor(0xfe, 0xe2, 0xe2);
    return QColor();
}

std::optional<Fleet> loadFleet(const ProjectStore &store, const QString &name, QString *error)
{
    const auto json = store.fleet(name, error);
    if (!json) {
        if (error->isEmpty())
            *error = QStringLiteral("no fleet named \"%1\" in %2").arg(name, store.path());
        return std::nullopt;
    }
    return Fleet::fromJson(name, *json, error);
}

/// The signed package file of an int8 model in signed/ beside the project, if any.
std::optional<deploy::SignedPackageFile> signedPackageOfModel(const ProjectStore &store, qint64 modelId,
                                                              const QVector<deploy::SignedPackageFile> &files)
{
    QString error;
    const auto full = store.model(modelId, &error);
    if (!full)
        return std::nullopt;
    auto graph = model::Graph::deserialize(full->graph, &error);
    if (!graph)
        return std::nullopt;
    deploy::ModelPackageWriter writer;
    const auto package = writer.write(*graph, &error);
    if (!package)
        return std::nullopt;
    for (const deploy::SignedPackageFile &f : files)
        if (deploy::signedPackageOf(*package, {f.bytes}))
            return f;
    return std::nullopt;
}

QPushButton *button(const QString &text, const QString &tip, QWidget *parent)
{
    auto *b = new QPushButton(text, parent);
    b->setToolTip(tip);
    return b;
}

} // namespace

FleetPage::FleetPage(QWidget *parent)
    : QWidget(parent), m_fleetCombo(new QComboBox(this)), m_newFleet(new QPushButton(tr("New fleet…"), this)),
      m_members(new QTableWidget(0, ColumnCount, this)),
      m_provision(button(tr("Provision all"), tr("PROVISION every member with the project's signing key "
                                                 "(and a device identity where the agent keeps one)"), this)),
      m_attest(button(tr("Attest all"), tr("ATTEST every member with a fresh nonce and check the statement"), this)),
      m_rollout(button(tr("Roll out…"), tr("Ship a signed int8 package to the fleet in stages, with health gates"), this)),
      m_stop(button(tr("Stop"), tr("Stops after the member step in progress (an upload or a gate round finishes "
                                  "first); an unfinished rollout can be resumed or aborted later"), this)),
      m_resume(button(tr("Resume"), tr("Carry on the unfinished rollout from its stored state"), this)),
      m_abort(button(tr("Abort rollout"), tr("Roll back every member the unfinished rollout updated"), this)),
      m_rollBack(button(tr("Roll back selected…"), tr("MODEL_REVERT on the selected member: it runs its previous slot again"), this)),
      m_rolloutTitle(new QLabel(this)), m_stageRow(new QHBoxLayout), m_thresholds(new QLabel(this)),
      m_reason(new QLabel(this)), m_drift(new QCustomPlot(this)), m_driftStatus(new QLabel(this)),
      m_log(new QPlainTextEdit(this)), m_timer(new QTimer(this))
{
    auto *layout = new QVBoxLayout(this);
    setPageMargins(layout);
    m_subtitle = new QLabel(this);
    layout->addLayout(makePageHeader(this, tr("Fleet"), m_subtitle));

    auto *top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("Fleet:"), this));
    m_fleetCombo->setMinimumWidth(140);
    top->addWidget(m_fleetCombo);
    top->addWidget(m_newFleet);
    top->addStretch(1);
    for (QPushButton *b : {m_provision, m_attest, m_rollout, m_stop, m_resume, m_abort, m_rollBack})
        top->addWidget(b);
    layout->addLayout(top);

    auto *split = new QSplitter(Qt::Vertical, this);
    auto *membersBox = new QGroupBox(tr("Members"), this);
    auto *ml = new QVBoxLayout(membersBox);
    ml->addWidget(m_members);
    m_members->setHorizontalHeaderLabels(
        {tr("Member"), tr("Board / port"), tr("Last rollout phase"), tr("Package version"), tr("Attested")});
    m_members->horizontalHeader()->setStretchLastSection(true);
    m_members->verticalHeader()->hide();
    m_members->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_members->setSelectionMode(QAbstractItemView::SingleSelection);
    m_members->setEditTriggers(QAbstractItemView::NoEditTriggers);
    split->addWidget(membersBox);

    auto *rolloutBox = new QGroupBox(tr("Rollout"), this);
    auto *rl = new QVBoxLayout(rolloutBox);
    m_rolloutTitle->setWordWrap(true);
    m_rolloutTitle->setTextInteractionFlags(Qt::TextSelectableByMouse);
    rl->addWidget(m_rolloutTitle);
    rl->addLayout(m_stageRow);
    m_thresholds->setWordWrap(true);
    rl->addWidget(m_thresholds);
    m_reason->setWordWrap(true);
    m_reason->setStyleSheet(QStringLiteral("color:#b91c1c"));
    m_reason->setTextInteractionFlags(Qt::TextSelectableByMouse);
    rl->addWidget(m_reason);
    split->addWidget(rolloutBox);

    auto *bottom = new QSplitter(Qt::Horizontal, this);
    auto *driftBox = new QGroupBox(tr("Drift"), this);
    auto *dl = new QVBoxLayout(driftBox);
    dl->addWidget(m_driftStatus);
    m_drift->setMinimumHeight(160);
    m_drift->xAxis->setLabel(tr("time (UTC)"));
    m_drift->yAxis->setLabel(tr("drift (PSI)"));
    auto ticker = QSharedPointer<QCPAxisTickerDateTime>::create();
    ticker->setDateTimeFormat(QStringLiteral("MM-dd\nhh:mm"));
    ticker->setDateTimeSpec(Qt::UTC);
    m_drift->xAxis->setTicker(ticker);
    m_drift->legend->setVisible(true);
    // readings usually grow with time: the legend keeps clear of the newest ones
    m_drift->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignLeft);
    // members side by side (three to a row), so six or more do not run over the axis
    m_drift->legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
    m_drift->legend->setWrap(3);
    dl->addWidget(m_drift, 1);
    bottom->addWidget(driftBox);
    auto *logBox = new QGroupBox(tr("Log"), this);
    auto *ll = new QVBoxLayout(logBox);
    ll->addWidget(m_log);
    m_log->setReadOnly(true);
    m_log->setMaximumBlockCount(2000);
    m_log->setPlaceholderText(tr("Board work and rollout steps appear here (times in UTC)."));
    bottom->addWidget(logBox);
    split->addWidget(bottom);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 1);
    split->setStretchFactor(2, 2);
    layout->addWidget(split, 1);

    connect(m_fleetCombo, &QComboBox::currentTextChanged, this, [this] {
        m_rolloutShown.clear();
        m_attested.clear();   // member names repeat across fleets
        fillMembers();
        fillRollout();
        fillDrift();
    });
    m_resume->setObjectName(QStringLiteral("resumeRollout"));
    m_abort->setObjectName(QStringLiteral("abortRollout"));
    m_stop->setObjectName(QStringLiteral("stopFleetJob"));
    connect(m_newFleet, &QPushButton::clicked, this, &FleetPage::newFleetDialog);
    connect(m_provision, &QPushButton::clicked, this, &FleetPage::provisionAll);
    connect(m_attest, &QPushButton::clicked, this, &FleetPage::attestAll);
    connect(m_rollout, &QPushButton::clicked, this, &FleetPage::rolloutDialog);
    connect(m_stop, &QPushButton::clicked, this, &FleetPage::stop);
    connect(m_resume, &QPushButton::clicked, this, &FleetPage::resumeRollout);
    connect(m_abort, &QPushButton::clicked, this, [this] {
        if (QMessageBox::question(this, tr("Abort rollout"),
                                  tr("Roll back every member of fleet %1 that the unfinished rollout updated?")
                                      .arg(currentFleet())) == QMessageBox::Yes)
            abortRollout();
    });
    connect(m_rollBack, &QPushButton::clicked, this, &FleetPage::rollBackSelected);
    connect(m_members, &QTableWidget::itemSelectionChanged, this, &FleetPage::updateButtons);
    m_timer->setInterval(1000);
    connect(m_timer, &QTimer::timeout, this, [this] {
        if (m_session && isVisible())
            fillRollout();
    });
    m_timer->start();
    updateButtons();
}

FleetPage::~FleetPage()
{
    setSession(nullptr);
}

void FleetPage::setSession(ProjectSession *session)
{
    if (m_thread) {
        // A member step cannot be cut short safely; it finishes, then the job stops.
        m_stopRequested = true;
        m_thread->wait();
        delete m_thread;
        m_thread = nullptr;
    }
    m_session = session;
    m_attested.clear();
    m_log->clear();
    refresh();
}

QString FleetPage::currentFleet() const { return m_fleetCombo->currentText(); }

void FleetPage::selectFleet(const QString &name) { m_fleetCombo->setCurrentText(name); }

void FleetPage::refresh()
{
    const QString keep = currentFleet();
    {
        const QSignalBlocker block(m_fleetCombo);
        m_fleetCombo->clear();
        if (m_session)
            m_fleetCombo->addItems(m_session->store().fleetNames());
        const int i = m_fleetCombo->findText(keep);
        m_fleetCombo->setCurrentIndex(i >= 0 ? i : (m_fleetCombo->count() ? 0 : -1));
    }
    m_rolloutShown.clear();
    fillMembers();
    fillRollout();
    fillDrift();
}

bool FleetPage::isRunning() const { return m_thread != nullptr; }

void FleetPage::appendLog(const QString &line)
{
    m_log->appendPlainText(QStringLiteral("%1  %2").arg(QDateTime::currentDateTimeUtc().toString(QStringLiteral("hh:mm:ss")), line));
}

void FleetPage::updateButtons()
{
    const bool project = m_session != nullptr;
    const bool fleet = project && !currentFleet().isEmpty();
    const bool idle = !isRunning();
    std::optional<StoredRollout> last;
    if (fleet) {
        const auto all = m_session->store().rollouts(currentFleet());
        if (!all.isEmpty())
            last = all.last();
    }
    const bool unfinished = last && (last->status == QLatin1String("running") || last->status == QLatin1String("rolling_back"));
    m_newFleet->setEnabled(project && idle);
    m_fleetCombo->setEnabled(idle);
    m_provision->setEnabled(fleet && idle);
    m_attest->setEnabled(fleet && idle);
    m_rollout->setEnabled(fleet && idle && !unfinished);
    m_stop->setEnabled(!idle);
    m_resume->setEnabled(fleet && idle && unfinished);
    m_abort->setEnabled(fleet && idle && unfinished);
    m_rollBack->setEnabled(fleet && idle && !unfinished && m_members->currentRow() >= 0);
}

// --- table, rollout view, drift ---------------------------------------------------------------

void FleetPage::fillMembers()
{
    m_subtitle->setText(m_session ? tr("%n fleet(s) in this project", nullptr, m_fleetCombo->count()) : QString());
    const int selectedRow = m_members->currentRow();
    const QString selected = selectedRow >= 0 && m_members->item(selectedRow, MemberColumn)
                                 ? m_members->item(selectedRow, MemberColumn)->text()
                                 : QString();
    m_members->setRowCount(0);
    if (!m_session || currentFleet().isEmpty())
        return;
    QString error;
    const auto f = loadFleet(m_session->store(), currentFleet(), &error);
    if (!f) {
        appendLog(error);
        return;
    }
    // what the rollouts left on each member: the newest rollout that touched it
    QHash<QString, QJsonObject> known;
    for (const StoredRollout &r : m_session->store().rollouts(f->name)) {
        for (const QJsonValue v : r.state.value(QStringLiteral("members")).toArray()) {
            const QJsonObject m = v.toObject();
            const QString phase = m.value(QStringLiteral("phase")).toString();
            if (phase == QLatin1String("pending"))
                continue;
            const double version = phase == QLatin1String("reverted")
                                       ? m.value(QStringLiteral("before")).toObject().value(QStringLiteral("package_version")).toDouble()
                                       : r.state.value(QStringLiteral("package_version")).toDouble();
            known.insert(m.value(QStringLiteral("name")).toString(),
                         QJsonObject{{QStringLiteral("phase"), phase},
                                     {QStringLiteral("rollout"), double(r.id)},
                                     {QStringLiteral("note"), m.value(QStringLiteral("note"))},
                                     {QStringLiteral("version"), version}});
        }
    }
    m_members->setRowCount(f->members.size());
    for (int row = 0; row < f->members.size(); ++row) {
        const FleetMember &m = f->members.at(row);
        auto set = [&](int col, const QString &text, const QString &tip = {}) {
            auto *item = new QTableWidgetItem(text);
            item->setToolTip(tip.isEmpty() ? text : tip);
            m_members->setItem(row, col, item);
            return item;
        };
        set(MemberColumn, m.name);
        set(BoardColumn, m.isVirtual() ? tr("%1 (virtual)").arg(m.board) : QStringLiteral("%1 @ %2").arg(m.board, m.port),
            m.isVirtual() ? m.stateDirectory : QString());
        const QJsonObject k = known.value(m.name);
        if (k.isEmpty()) {
            set(PhaseColumn, tr("no rollout yet"));
            set(VersionColumn, QStringLiteral("–"));
        } else {
            const QString phase = k.value(QStringLiteral("phase")).toString();
            QTableWidgetItem *p = set(PhaseColumn, tr("%1 (rollout %2)").arg(phase).arg(k.value(QStringLiteral("rollout")).toInteger()),
                                      k.value(QStringLiteral("note")).toString());
            if (phaseColour(phase).isValid())
                p->setBackground(phaseColour(phase));
            set(VersionColumn, QString::number(k.value(QStringLiteral("version")).toInteger()));
        }
        const auto a = m_attested.find(m.name);
        if (a == m_attested.end()) {
            set(AttestedColumn, tr("not checked"), tr("Attest all asks every member"));
        } else {
            QTableWidgetItem *item = set(AttestedColumn, a->text, a->tooltip);
            item->setForeground(a->ok ? QColor(0x15, 0x80, 0x3d) : QColor(0xb9, 0x1c, 0x1c));
            if (a->ok)
                set(VersionColumn, tr("%1 (attested)").arg(a->version));
        }
    }
    // the last column stretches and elides its long reasons (the tooltip has them whole)
    for (int c = MemberColumn; c < AttestedColumn; ++c)
        m_members->resizeColumnToContents(c);
    for (int row = 0; row < m_members->rowCount() && !selected.isEmpty(); ++row)
        if (m_members->item(row, MemberColumn)->text() == selected)
            m_members->selectRow(row);
    updateButtons();
}

void FleetPage::fillRollout()
{
    std::optional<StoredRollout> last;
    if (m_session && !currentFleet().isEmpty()) {
        const auto all = m_session->store().rollouts(currentFleet());
        if (!all.isEmpty())
            last = all.last();
    }
    const QString key = last ? QStringLiteral("%1 %2 %3 %4")
                                   .arg(last->id)
                                   .arg(last->status)
                                   .arg(last->state.value(QStringLiteral("stage")).toInt())
                                   .arg(last->state.value(QStringLiteral("events")).toArray().size())
                             : QString();
    if (key == m_rolloutShown && !key.isEmpty())
        return;
    m_rolloutShown = key;
    while (QLayoutItem *item = m_stageRow->takeAt(0)) {
        delete item->widget();
        delete item;
    }
    m_thresholds->clear();
    m_reason->clear();
    if (!last) {
        m_rolloutTitle->setText(currentFleet().isEmpty() ? tr("No fleet: create one with New fleet…")
                                                         : tr("No rollout to this fleet yet."));
        updateButtons();
        return;
    }
    const QJsonObject &st = last->state;
    const QString status = last->status;
    const bool unfinished = status == QLatin1String("running") || status == QLatin1String("rolling_back");
    QString title = tr("<b>Rollout %1</b>: %2 — model %3, package version %4 (%5), started %6 UTC")
                        .arg(last->id)
                        .arg(status.toHtmlEscaped())
                        .arg(st.value(QStringLiteral("model_id")).toInteger())
                        .arg(st.value(QStringLiteral("package_version")).toInteger())
                        .arg(QFileInfo(st.value(QStringLiteral("package_file")).toString()).fileName().toHtmlEscaped())
                        .arg(last->created.toUTC().toString(QStringLiteral("yyyy-MM-dd hh:mm")));
    if (unfinished && !isRunning())
        // Rollout keeps no lock: a `tinyml rollout` in another process looks the same as one
        // that was killed, so the page says both and leaves the choice to the user
        title += tr("<br><span style='color:#b45309'>This rollout has not finished: it may still run in another "
                    "process (`tinyml rollout`). If nothing runs it any more, Resume carries it on and Abort "
                    "rollout rolls its updated members back.</span>");
    m_rolloutTitle->setText(title);

    const QJsonArray stages = st.value(QStringLiteral("stages")).toArray();
    const QJsonArray sizes = st.value(QStringLiteral("stage_sizes")).toArray();
    const int current = st.value(QStringLiteral("stage")).toInt();
    const bool unfinishedOrRunning = unfinished || isRunning();
    const bool failed = status == QLatin1String("rolled_back") || status == QLatin1String("failed") ||
                        status == QLatin1String("rolling_back");
    for (int s = 0; s < sizes.size(); ++s) {
        QString state, colour;
        if (status == QLatin1String("completed") || s < current) {
            state = tr("done");
            colour = QStringLiteral("#dcfce7;border:1px solid #16a34a");
        } else if (s == current && failed) {
            state = tr("gate failed");
            colour = QStringLiteral("#fee2e2;border:1px solid #dc2626");
        } else if (s == current) {
            state = tr("current");
            colour = QStringLiteral("#fef3c7;border:1px solid #d97706");
        } else {
            state = unfinishedOrRunning ? tr("pending") : tr("not reached");
            colour = QStringLiteral("#f3f4f6;border:1px solid #9ca3af");
        }
        // a stage that would add nobody is merged into the next (Rollout.h), so boxes follow
        // stage_sizes, not the percentages given
        const int from = s > 0 ? sizes.at(s - 1).toInt() : 0;
        const int to = sizes.at(s).toInt();
        auto *box = new QLabel(tr("Stage %1\nmembers %2–%3 of %4\n%5")
                                   .arg(s + 1)
                                   .arg(from + 1)
                                   .arg(to)
                                   .arg(sizes.last().toInt())
                                   .arg(state),
                               this);
        box->setObjectName(QStringLiteral("stageBox"));
        box->setAlignment(Qt::AlignCenter);
        box->setStyleSheet(QStringLiteral("QLabel{background:%1;border-radius:4px;padding:6px}").arg(colour));
        box->setToolTip(tr("stages given: %1 %").arg([&] {
            QStringList p;
            for (const QJsonValue v : stages)
                p << QString::number(v.toInt());
            return p.join(QStringLiteral(", "));
        }()));
        m_stageRow->addWidget(box);
    }
    m_stageRow->addStretch(1);

    const QJsonObject t = st.value(QStringLiteral("thresholds")).toObject();
    const QJsonObject gate = st.value(QStringLiteral("gate")).toObject();
    QStringList lines;
    lines << tr("Gates: watch %1 min per stage, %2 held-out sample(s) per member and round; outputs equal to the host's int8 reference")
                 .arg(gate.value(QStringLiteral("gate_seconds")).toDouble() / 60.0, 0, 'g', 3)
                 .arg(gate.value(QStringLiteral("samples")).toInt());
    if (t.contains(QStringLiteral("min_accuracy")))
        lines << tr("accuracy ≥ %1 % (%2)")
                     .arg(t.value(QStringLiteral("min_accuracy")).toDouble() * 100, 0, 'f', 1)
                     .arg(t.value(QStringLiteral("min_accuracy_source")).toString());
    if (t.contains(QStringLiteral("max_latency_ms")))
        lines << tr("median latency ≤ %1 ms (%2)")
                     .arg(t.value(QStringLiteral("max_latency_ms")).toDouble(), 0, 'f', 3)
                     .arg(t.value(QStringLiteral("max_latency_source")).toString());
    const QJsonObject measured = st.value(QStringLiteral("measured")).toObject();
    if (!measured.isEmpty())
        lines << tr("measured so far: lowest accuracy %1 %, slowest median %2 ms")
                     .arg(measured.value(QStringLiteral("min_device_accuracy")).toDouble() * 100, 0, 'f', 1)
                     .arg(measured.value(QStringLiteral("max_latency_median_ms")).toDouble(), 0, 'f', 3);
    m_thresholds->setText(lines.join(QLatin1Char('\n')));
    const QString reason = st.value(QStringLiteral("reason")).toString();
    if (!reason.isEmpty())
        m_reason->setText(tr("Reason: %1").arg(reason));

    // the member phases live in the table; the stored events fill an empty log
    fillMembers();
    if (m_log->document()->isEmpty()) {
        for (const QJsonValue v : st.value(QStringLiteral("events")).toArray()) {
            const QJsonObject e = v.toObject();
            const QDateTime utc = QDateTime::fromString(e.value(QStringLiteral("utc")).toString(), Qt::ISODateWithMs);
            m_log->appendPlainText(QStringLiteral("%1  %2").arg(utc.toUTC().toString(QStringLiteral("hh:mm:ss")),
                                                                e.value(QStringLiteral("text")).toString()));
        }
    }
    updateButtons();
}

void FleetPage::fillDrift()
{
    m_drift->clearGraphs();
    int readings = 0;
    if (m_session && !currentFleet().isEmpty()) {
        QHash<QString, QCPGraph *> graphs;
        static const QColor palette[] = {QColor(0x25, 0x63, 0xeb), QColor(0xdc, 0x26, 0x26), QColor(0x16, 0xa3, 0x4a),
                                         QColor(0xd9, 0x77, 0x06), QColor(0x7c, 0x3a, 0xed), QColor(0x08, 0x91, 0xb2)};
        for (const StoredTelemetry &t : m_session->store().telemetry(currentFleet())) {
            if (!t.json.contains(QStringLiteral("psi")))
                continue;
            QCPGraph *&g = graphs[t.member];
            if (!g) {
                g = m_drift->addGraph();
                g->setName(t.member);
                QPen pen(palette[(graphs.size() - 1) % int(std::size(palette))]);
                pen.setWidthF(1.5);
                g->setPen(pen);
                g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 5));
            }
            g->addData(double(t.created.toSecsSinceEpoch()), t.json.value(QStringLiteral("psi")).toDouble());
            ++readings;
        }
    }
    m_drift->legend->setVisible(readings > 0);
    if (readings) {
        m_drift->rescaleAxes();
        // room around the first and last readings, and from zero up
        const QCPRange x = m_drift->xAxis->range();
        const double pad = qMax(60.0, x.size() * 0.05);
        m_drift->xAxis->setRange(x.lower - pad, x.upper + pad);
        m_drift->yAxis->setRange(0, qMax(0.1, m_drift->yAxis->range().upper * 1.15));
        m_driftStatus->setText(tr("Drift per member over time: %1 reading(s) (the \"psi\" of each telemetry row)")
                                   .arg(readings));
    } else {
        m_driftStatus->setText(tr("Drift per member over time: no drift readings yet"));
        m_drift->xAxis->setRange(QDateTime::currentSecsSinceEpoch() - 86400, QDateTime::currentSecsSinceEpoch());
        m_drift->yAxis->setRange(0, 0.3);
    }
    if (m_drift->isVisible())   // a hidden plot has no paint buffer; showing it replots
        m_drift->replot();
}

// --- the worker ----------------------------------------------------------------------------------

bool FleetPage::runJob(const QString &title, Job job)
{
    if (!m_session || currentFleet().isEmpty()) {
        appendLog(tr("%1: open a project and choose a fleet first").arg(title));
        return false;
    }
    if (m_thread) {
        appendLog(tr("%1: another fleet job is running").arg(title));
        return false;
    }
    m_stopRequested = false;
    appendLog(title);
    const QString path = m_session->path();
    QPointer<FleetPage> self(this);
    m_thread = QThread::create([self, path, job = std::move(job)] {
        auto post = [self](std::function<void(FleetPage *)> f) {
            QMetaObject::invokeMethod(self.data(), [self, f] {
                if (self)
                    f(self);
            }, Qt::QueuedConnection);
        };
        QString error;
        auto store = ProjectStore::open(path, &error);
        BoardRegistry registry;
        if (store && registry.loadDefault(&error)) {
            try {
                job(*store, registry);
            } catch (const StopRequested &) {
                post([](FleetPage *p) { p->appendLog(tr("stopped after the step in progress")); });
            }
        } else {
            post([error](FleetPage *p) { p->appendLog(error); });
        }
    });
    connect(m_thread, &QThread::finished, this, [this] {
        if (!m_thread)
            return;
        m_thread->deleteLater();
        m_thread = nullptr;
        m_rolloutShown.clear();
        fillMembers();
        fillRollout();
        fillDrift();
        updateButtons();
        Q_EMIT runningChanged(false);
        Q_EMIT jobFinished();
    });
    m_thread->start();
    updateButtons();
    Q_EMIT runningChanged(true);
    return true;
}

void FleetPage::stop()
{
    if (m_thread) {
        m_stopRequested = true;
        appendLog(tr("stopping after the member step in progress…"));
    }
}

void FleetPage::setAttested(const QString &member, const QString &text, const QString &tooltip, bool ok, quint32 version)
{
    m_attested.insert(member, Attested{text, tooltip, ok, version});
    fillMembers();
}

bool FleetPage::attestAll()
{
    const QString fleet = currentFleet();
    QPointer<FleetPage> self(this);
    return runJob(tr("Attesting every member of %1…").arg(fleet), [self, fleet, this](ProjectStore &store,
                                                                                    const BoardRegistry &registry) {
        auto post = [self](std::function<void(FleetPage *)> f) {
            QMetaObject::invokeMethod(self.data(), [self, f] { if (self) f(self); }, Qt::QueuedConnection);
        };
        QString error;
        const auto f = loadFleet(store, fleet, &error);
        if (!f) {
            post([error](FleetPage *p) { p->appendLog(error); });
            return;
        }
        const QString keysDir = crypto::SigningKeyStore::defaultDirectory();
        for (const FleetMember &m : f->members) {
            if (m_stopRequested)
                throw StopRequested{};
            deploy::fleet::MemberConnection c;
            std::optional<deploy::fleet::AttestedState> a;
            error.clear();
            if (c.open(m, registry, &error))
                a = deploy::fleet::attestLink(c.link(), m.identityLabel(fleet), keysDir, {}, &error);
            QString text, tip, line;
            bool ok = false;
            quint32 version = 0;
            if (!a) {
                text = tr("no: %1").arg(error);
                tip = error;
                line = tr("%1: not attested: %2").arg(m.name, error);
            } else if (!a->verified) {
                text = tr("no: %1").arg(a->reason);
                tip = a->reason;
                line = tr("%1: attestation does not verify: %2").arg(m.name, a->reason);
            } else {
                ok = true;
                version = a->packageVersion;
                text = tr("yes");
                tip = tr("device %1, package version %2, SHA-512 %3…, counter %4")
                          .arg(a->deviceId)
                          .arg(a->packageVersion)
                          .arg(a->packageSha512.left(16))
                          .arg(a->counter);
                line = tr("%1: attested: %2").arg(m.name, tip);
            }
            post([=](FleetPage *p) {
                p->appendLog(line);
                p->setAttested(m.name, text, tip, ok, version);
            });
        }
    });
}

bool FleetPage::provisionAll()
{
    if (!m_session || currentFleet().isEmpty())
        return false;
    crypto::SigningKeyStore keys(crypto::SigningKeyStore::defaultDirectory());
    QString error;
    const auto all = keys.list(&error);
    if (!all) {
        appendLog(error);
        return false;
    }
    QList<crypto::SigningKeyInfo> withSecret;
    for (const auto &k : *all)
        if (k.hasSecretKey)
            withSecret << k;
    if (withSecret.isEmpty()) {
        appendLog(tr("Provision: no signing key in %1: create one with `tinyml keys new`").arg(keys.directory()));
        return false;
    }
    crypto::SigningKeyInfo key = withSecret.first();
    if (withSecret.size() > 1) {
        QStringList ids;
        for (const auto &k : withSecret)
            ids << (k.name.isEmpty() ? k.id : QStringLiteral("%1 (%2)").arg(k.id, k.name));
        bool ok = false;
        const QString chosen = QInputDialog::getItem(this, tr("Provision"), tr("Signing key:"), ids, 0, false, &ok);
        if (!ok)
            return false;
        key = withSecret.at(ids.indexOf(chosen));
    }
    const QString fleet = currentFleet();
    const QString keysDir = keys.directory();
    QPointer<FleetPage> self(this);
    return runJob(tr("Provisioning every member of %1 with key %2…").arg(fleet, key.id),
                  [self, fleet, key, keysDir, this](ProjectStore &store, const BoardRegistry &registry) {
                      auto log = [self](const QString &line) {
                          QMetaObject::invokeMethod(self.data(), [self, line] { if (self) self->appendLog(line); },
                                                    Qt::QueuedConnection);
                      };
                      QString error;
                      const auto f = loadFleet(store, fleet, &error);
                      if (!f)
                          return log(error);
                      for (const FleetMember &m : f->members) {
                          if (m_stopRequested)
                              throw StopRequested{};
                          deploy::fleet::MemberConnection c;
                          std::optional<deploy::fleet::ProvisionOutcome> o;
                          error.clear();
                          if (c.open(m, registry, &error))
                              o = deploy::fleet::provisionLink(c.link(), m.identityLabel(fleet), key.publicKey, key.id,
                                                               keysDir, &error);
                          if (!o)
                              log(tr("%1: not provisioned: %2").arg(m.name, error));
                          else
                              log(tr("%1: %2 with key %3%4")
                                      .arg(m.name, o->alreadyProvisioned ? tr("already provisioned") : tr("provisioned"), o->keyId,
                                           o->deviceId.isEmpty() ? tr(" (no device identity)")
                                                                 : tr(", device %1").arg(o->deviceId)));
                      }
                  });
}

bool FleetPage::runRolloutJob(const QString &title, const QString &failure, RolloutAction act)
{
    const QString fleet = currentFleet();
    QPointer<FleetPage> self(this);
    return runJob(title, [self, fleet, failure, act, this](ProjectStore &store, const BoardRegistry &registry) {
        auto post = [self](const QString &line) {
            QMetaObject::invokeMethod(self.data(), [self, line] { if (self) self->appendLog(line); }, Qt::QueuedConnection);
        };
        QString error;
        const auto f = loadFleet(store, fleet, &error);
        std::optional<deploy::fleet::RolloutOutcome> o;
        if (f) {
            deploy::fleet::Rollout r(&store, *f, registry, crypto::SigningKeyStore::defaultDirectory(), post);
            r.setStopRequest([this] { return bool(m_stopRequested); });
            o = act(r, fleet, &error);
        }
        post(o ? tr("Rollout %1: %2%3").arg(o->rolloutId).arg(o->status,
                                          o->reason.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(o->reason))
               : QStringLiteral("%1: %2").arg(failure, error));
    });
}

bool FleetPage::startRollout(qint64 modelId, const QString &packageFile, const QVector<int> &stages, double gateMinutes,
                             int samples)
{
    QFile file(packageFile);
    if (!file.open(QIODevice::ReadOnly)) {
        appendLog(tr("%1: cannot read: %2").arg(packageFile, file.errorString()));
        return false;
    }
    deploy::fleet::RolloutRequest req;
    req.modelId = modelId;
    req.signedPackage = file.readAll();
    req.packageFile = QFileInfo(packageFile).absoluteFilePath();
    req.stages = stages;
    req.gate.gateSeconds = gateMinutes * 60;
    req.gate.samples = samples;
    return runRolloutJob(tr("Rolling out model %1 (%2) to %3…").arg(modelId).arg(QFileInfo(packageFile).fileName(), currentFleet()),
                         tr("Rollout"), [req](deploy::fleet::Rollout &r, const QString &, QString *error) {
                             return r.start(req, error);
                         });
}

bool FleetPage::resumeRollout()
{
    return runRolloutJob(tr("Resuming the unfinished rollout of %1…").arg(currentFleet()), tr("Resume"),
                         [](deploy::fleet::Rollout &r, const QString &fleet, QString *error)
                             -> std::optional<deploy::fleet::RolloutOutcome> {
                             if (const auto open = r.unfinished(error))
                                 return r.resume(open->id, error);
                             *error = tr("fleet %1 has no unfinished rollout").arg(fleet);
                             return std::nullopt;
                         });
}

bool FleetPage::abortRollout()
{
    return runRolloutJob(tr("Aborting the unfinished rollout of %1…").arg(currentFleet()), tr("Abort"),
                         [](deploy::fleet::Rollout &r, const QString &fleet, QString *error)
                             -> std::optional<deploy::fleet::RolloutOutcome> {
                             if (const auto open = r.unfinished(error))
                                 return r.abort(open->id, error);
                             *error = tr("fleet %1 has no unfinished rollout to abort").arg(fleet);
                             return std::nullopt;
                         });
}

bool FleetPage::rollBackMember(const QString &member)
{
    const QString fleet = currentFleet();
    QPointer<FleetPage> self(this);
    return runJob(tr("Rolling back %1 of %2 by hand…").arg(member, fleet),
                  [self, fleet, member](ProjectStore &store, const BoardRegistry &registry) {
                      auto log = [self](const QString &line) {
                          QMetaObject::invokeMethod(self.data(), [self, line] { if (self) self->appendLog(line); },
                                                    Qt::QueuedConnection);
                      };
                      QString error;
                      const auto f = loadFleet(store, fleet, &error);
                      const FleetMember *m = f ? f->member(member) : nullptr;
                      if (!m)
                          return log(f ? tr("fleet %1 has no member %2").arg(fleet, member) : error);
                      deploy::fleet::MemberConnection c;
                      if (!c.open(*m, registry, &error))
                          return log(tr("%1: %2").arg(member, error));
                      if (!c.link()->revertModel(&error))
                          return log(tr("%1: rollback refused: %2").arg(member, error));
                      const auto info = c.link()->modelInfo(&error);
                      log(info ? tr("%1: rolled back; it now runs slot %2 (%3 bytes, CRC %4)")
                                     .arg(member)
                                     .arg(info->activeSlot)
                                     .arg(info->size)
                                     .arg(info->crc, 8, 16, QLatin1Char('0'))
                               : tr("%1: rolled back, but MODEL_INFO failed: %2").arg(member, error));
                  });
}

void FleetPage::rollBackSelected()
{
    const int row = m_members->currentRow();
    if (row < 0 || !m_members->item(row, MemberColumn))
        return;
    const QString member = m_members->item(row, MemberColumn)->text();
    if (QMessageBox::question(this, tr("Roll back %1").arg(member),
                              tr("Switch %1 back to the model in its previous slot (MODEL_REVERT)?\n"
                                 "The package it runs now stays in the other slot.")
                                  .arg(member)) != QMessageBox::Yes)
        return;
    rollBackMember(member);
}

// --- dialogs -----------------------------------------------------------------------------------

void FleetPage::newFleetDialog()
{
    if (!m_session)
        return;
    BoardRegistry registry;
    QString error;
    if (!registry.loadDefault(&error)) {
        QMessageBox::warning(this, tr("New fleet"), error);
        return;
    }
    QDialog d(this);
    d.setWindowTitle(tr("New fleet"));
    auto *form = new QFormLayout(&d);
    auto *name = new QLineEdit(&d);
    name->setPlaceholderText(QStringLiteral("lab"));
    form->addRow(tr("Name:"), name);
    auto *virtualRadio = new QRadioButton(tr("Virtual boards"), &d);
    virtualRadio->setChecked(true);
    auto *count = new QSpinBox(&d);
    count->setRange(1, 64);
    count->setValue(3);
    auto *kind = new QComboBox(&d);
    for (const BoardDefinition &b : registry.virtualBoards())
        kind->addItem(QStringLiteral("%1 — %2").arg(b.id, b.name), b.id);
    auto *vrow = new QHBoxLayout;
    vrow->addWidget(count);
    vrow->addWidget(kind, 1);
    form->addRow(virtualRadio, vrow);
    auto *portRadio = new QRadioButton(tr("A board on a serial port"), &d);
    auto *port = new QLineEdit(&d);
    port->setPlaceholderText(QStringLiteral("/dev/ttyACM0"));
    auto *portKind = new QComboBox(&d);
    for (const BoardDefinition &b : registry.boards())
        if (!b.isVirtual)
            portKind->addItem(QStringLiteral("%1 — %2").arg(b.id, b.name), b.id);
    port->setMinimumWidth(180);
    auto *prow = new QHBoxLayout;
    prow->addWidget(port, 2);
    prow->addWidget(portKind, 1);
    form->addRow(portRadio, prow);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, &d);
    form->addRow(buttons);
    connect(buttons, &QDialogButtonBox::accepted, &d, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, &d, &QDialog::reject);
    while (d.exec() == QDialog::Accepted) {
        const QString fleetName = name->text().trimmed();
        QString why = deploy::fleet::checkName(QStringLiteral("fleet"), fleetName);
        if (why.isEmpty() && m_session->store().fleetNames().contains(fleetName))
            why = tr("a fleet named %1 exists already").arg(fleetName);
        Fleet f;
        f.name = fleetName;
        if (virtualRadio->isChecked()) {
            const QString board = kind->currentData().toString();
            for (int i = 1; i <= count->value(); ++i) {
                FleetMember m;
                m.board = board;
                m.name = QStringLiteral("%1-%2").arg(board).arg(i);
                m.stateDirectory = deploy::fleet::virtualMemberStateDirectory(fleetName, m.name);
                f.members.append(m);
            }
        } else {
            FleetMember m;
            m.port = port->text().trimmed();
            m.board = portKind->currentData().toString();
            m.name = QFileInfo(m.port).fileName();
            if (why.isEmpty() && m.port.isEmpty())
                why = tr("give the serial port");
            if (why.isEmpty())
                why = deploy::fleet::checkName(QStringLiteral("member"), m.name);
            f.members.append(m);
        }
        if (why.isEmpty() && !m_session->store().saveFleet(fleetName, f.toJson(), &why) && why.isEmpty())
            why = tr("the project file refused the fleet");
        if (why.isEmpty()) {
            appendLog(tr("Fleet %1 created with %2 member(s)").arg(fleetName).arg(f.members.size()));
            refresh();
            selectFleet(fleetName);
            return;
        }
        QMessageBox::warning(&d, tr("New fleet"), why);
    }
}

void FleetPage::rolloutDialog()
{
    if (!m_session)
        return;
    const ProjectStore &store = m_session->store();
    const auto files = deploy::readSignedPackages(deploy::signedPackagesFolder(store.path()));
    QDialog d(this);
    d.setWindowTitle(tr("Roll out to %1").arg(currentFleet()));
    auto *form = new QFormLayout(&d);
    auto *model = new QComboBox(&d);
    const auto models = store.models();
    for (auto it = models.rbegin(); it != models.rend(); ++it) {
        if (it->kind != ModelKind::Int8)
            continue;
        if (const auto f = signedPackageOfModel(store, it->id, files))
            model->addItem(tr("#%1 %2 — %3 (version %4)").arg(it->id).arg(it->name, QFileInfo(f->path).fileName()).arg(f->version),
                           QVariantList{double(it->id), f->path});
    }
    if (model->count() == 0) {
        QMessageBox::information(this, tr("Roll out"),
                                 tr("No int8 model of this project has a signed package in %1: a rollout ships "
                                    "signed packages only. Sign one with `tinyml sign %2 --model ID`.")
                                     .arg(deploy::signedPackagesFolder(store.path()), store.path()));
        return;
    }
    form->addRow(tr("Model:"), model);
    auto *stages = new QLineEdit(QStringLiteral("10,50,100"), &d);
    stages->setToolTip(tr("Percentages of the fleet, growing, the last one 100"));
    form->addRow(tr("Stages (%):"), stages);
    auto *minutes = new QDoubleSpinBox(&d);
    minutes->setRange(0, 24 * 60);
    minutes->setDecimals(1);
    minutes->setValue(1);
    minutes->setSuffix(tr(" min"));
    form->addRow(tr("Watch each stage:"), minutes);
    auto *samples = new QSpinBox(&d);
    samples->setRange(0, 100000);
    samples->setValue(50);
    samples->setSpecialValueText(tr("whole test split"));
    form->addRow(tr("Held-out samples per round:"), samples);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, &d);
    buttons->button(QDialogButtonBox::Ok)->setText(tr("Roll out"));
    form->addRow(buttons);
    connect(buttons, &QDialogButtonBox::accepted, &d, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, &d, &QDialog::reject);
    while (d.exec() == QDialog::Accepted) {
        QVector<int> pct;
        QString why;
        for (const QString &s : stages->text().split(QLatin1Char(','))) {
            bool ok = false;
            pct.append(s.trimmed().toInt(&ok));
            if (!ok)
                why = tr("stages: \"%1\" is not a whole percentage").arg(s);
        }
        if (why.isEmpty())
            deploy::fleet::stageSizes(pct, qMax(1, m_members->rowCount()), &why);
        if (!why.isEmpty()) {
            QMessageBox::warning(&d, tr("Roll out"), why);
            continue;
        }
        const QVariantList data = model->currentData().toList();
        startRollout(qint64(data.value(0).toDouble()), data.value(1).toString(), pct, minutes->value(), samples->value());
        return;
    }
}

} // namespace tinyml::ui
