#include "pages/AcquisitionPage.h"

#include "models/BoardCatalog.h"
#include "plots/LivePlot.h"
#include "window/CountText.h"
#include "window/PageHeader.h"
#include "window/ProjectSession.h"

#include "device/AgentLink.h"
#include "device/CaptureSession.h"
#include "device/DeviceDiscovery.h"
#include "device/LineLink.h"
#include "device/VirtualBoard.h"

#include <QApplication>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QLocale>
#include <QProgressBar>
#include <QPushButton>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

namespace tinyml::ui {

namespace {

constexpr char kVirtualKey[] = "virtual";
constexpr char kIdKey[] = "id";
constexpr char kProtocolKey[] = "protocol";

QString bytesText(quint64 bytes)
{
    return QLocale::c().formattedDataSize(qint64(bytes), 0, QLocale::DataSizeTraditionalFormat);
}

} // namespace

AcquisitionPage::AcquisitionPage(QWidget *parent)
    : QWidget(parent), m_device(new QComboBox(this)), m_refresh(new QToolButton(this)), m_baud(new QComboBox(this)),
      m_connect(new QPushButton(this)), m_connectionState(new QLabel(this)), m_infoForm(new QFormLayout),
      m_infoPlaceholder(new QLabel(this)), m_label(new QComboBox(this)), m_sensor(new QComboBox(this)),
      m_rate(new QDoubleSpinBox(this)), m_length(new QDoubleSpinBox(this)), m_scenario(new QComboBox(this)),
      m_record(new QPushButton(this)), m_countdown(new QLabel(this)), m_progress(new QProgressBar(this)),
      m_recordHint(new QLabel(this)), m_linkStats(new QLabel(this)),
      m_banner(new QLabel(this)), m_plot(new LivePlot(this)), m_recent(new QListWidget(this)),
      m_countdownTimer(new QTimer(this)), m_startProgress(new QProgressBar(this))
{
    qRegisterMetaType<tinyml::StreamChunk>();
    qRegisterMetaType<tinyml::StreamFormat>();

    auto *outer = new QHBoxLayout(this);
    setPageMargins(outer);
    outer->setSpacing(16);

    // --- left column: device and its info ------------------------------------------------
    auto *left = new QVBoxLayout;
    left->setSpacing(10);
    left->addLayout(makePageHeader(this, tr("Data acquisition")));

    auto *deviceBox = new QGroupBox(tr("Device"), this);
    auto *deviceLayout = new QGridLayout(deviceBox);
    deviceLayout->setHorizontalSpacing(8);
    m_device->setMinimumContentsLength(18);
    m_device->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_refresh->setIcon(QIcon(QStringLiteral(":/icons/refresh.svg")));
    m_refresh->setToolTip(tr("Look for serial ports again"));
    deviceLayout->addWidget(m_device, 0, 0, 1, 2);
    deviceLayout->addWidget(m_refresh, 0, 2);
    deviceLayout->addWidget(new QLabel(tr("Baud rate:"), deviceBox), 1, 0);
    for (int baud : {9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600})
        m_baud->addItem(QString::number(baud), baud);
    m_baud->setCurrentText(QStringLiteral("115200"));
    deviceLayout->addWidget(m_baud, 1, 1, 1, 2);
    m_connect->setObjectName(QStringLiteral("primaryButton"));
    m_connect->setMinimumHeight(32);
    deviceLayout->addWidget(m_connect, 2, 0, 1, 3);
    m_connectionState->setObjectName(QStringLiteral("hint"));
    m_connectionState->setWordWrap(true);
    deviceLayout->addWidget(m_connectionState, 3, 0, 1, 3);
    m_startProgress->setRange(0, 0); // busy: a boot reports no progress of its own
    m_startProgress->setTextVisible(false);
    m_startProgress->setMaximumHeight(6);
    m_startProgress->setVisible(false);
    deviceLayout->addWidget(m_startProgress, 4, 0, 1, 3);
    deviceLayout->setColumnStretch(1, 1);
    left->addWidget(deviceBox);

    auto *infoBox = new QGroupBox(tr("Board information"), this);
    auto *infoLayout = new QVBoxLayout(infoBox);
    m_infoForm->setLabelAlignment(Qt::AlignLeft);
    m_infoForm->setHorizontalSpacing(12);
    m_infoForm->setVerticalSpacing(5);
    infoLayout->addLayout(m_infoForm);
    m_infoPlaceholder->setObjectName(QStringLiteral("hint"));
    m_infoPlaceholder->setWordWrap(true);
    infoLayout->addWidget(m_infoPlaceholder);
    infoLayout->addStretch(1);
    // Link health: what a flaky cable or a wrong baud rate looks like, in numbers.
    m_linkStats->setObjectName(QStringLiteral("hint"));
    m_linkStats->setWordWrap(true);
    infoLayout->addWidget(m_linkStats);
    auto *statsTimer = new QTimer(this);
    statsTimer->setInterval(1000);
    connect(statsTimer, &QTimer::timeout, this, &AcquisitionPage::updateLinkStatistics);
    statsTimer->start();
    left->addWidget(infoBox, 1);

    auto *leftWidget = new QWidget(this);
    leftWidget->setLayout(left);
    leftWidget->setFixedWidth(300);
    left->setContentsMargins(0, 0, 0, 0);
    outer->addWidget(leftWidget);

    // --- right: recording controls, banner, live plot, recent recordings -----------------
    auto *right = new QVBoxLayout;
    right->setSpacing(10);
    m_banner->setWordWrap(true);
    m_banner->setVisible(false);
    right->addWidget(m_banner);

    auto *recordBox = new QGroupBox(tr("Recording"), this);
    auto *grid = new QGridLayout(recordBox);
    grid->setHorizontalSpacing(10);
    grid->setVerticalSpacing(6);
    m_label->setEditable(true);
    m_label->setInsertPolicy(QComboBox::NoInsert);
    m_label->setMinimumWidth(120);
    m_label->setToolTip(tr("Label of the next recording (Ctrl+L: next label). Type to add a new one."));
    m_rate->setRange(1, 96000);
    m_rate->setDecimals(0);
    m_rate->setSuffix(tr(" Hz"));
    m_length->setRange(0.1, 600);
    m_length->setDecimals(1);
    m_length->setSingleStep(0.5);
    m_length->setSuffix(tr(" s"));
    grid->addWidget(new QLabel(tr("Label"), recordBox), 0, 0);
    grid->addWidget(new QLabel(tr("Sensor"), recordBox), 0, 1);
    grid->addWidget(new QLabel(tr("Rate"), recordBox), 0, 2);
    grid->addWidget(new QLabel(tr("Length"), recordBox), 0, 3);
    grid->addWidget(new QLabel(tr("Scenario"), recordBox), 0, 4);
    grid->addWidget(m_label, 1, 0);
    grid->addWidget(m_sensor, 1, 1);
    grid->addWidget(m_rate, 1, 2);
    grid->addWidget(m_length, 1, 3);
    grid->addWidget(m_scenario, 1, 4);
    m_scenario->setToolTip(tr("What the virtual board's simulated sensor does"));
    m_record->setObjectName(QStringLiteral("recordButton"));
    m_record->setIcon(QIcon(QStringLiteral(":/icons/record.svg")));
    m_record->setMinimumSize(170, 36);
    auto *recordRow = new QHBoxLayout;
    recordRow->setSpacing(12);
    recordRow->addWidget(m_record);
    m_countdown->setObjectName(QStringLiteral("countdown"));
    m_countdown->setMinimumWidth(36);
    m_countdown->setAlignment(Qt::AlignCenter);
    recordRow->addWidget(m_countdown);
    m_progress->setTextVisible(true);
    m_progress->setMaximumHeight(18);
    recordRow->addWidget(m_progress, 1);
    m_recordHint->setObjectName(QStringLiteral("hint"));
    m_recordHint->setWordWrap(true);
    recordRow->addWidget(m_recordHint, 1);
    grid->addLayout(recordRow, 2, 0, 1, 5);
    grid->setColumnStretch(0, 3);
    grid->setColumnStretch(1, 3);
    grid->setColumnStretch(2, 2);
    grid->setColumnStretch(3, 2);
    grid->setColumnStretch(4, 3);
    right->addWidget(recordBox);

    auto *plotBox = new QGroupBox(tr("Live signal"), this);
    auto *plotLayout = new QVBoxLayout(plotBox);
    plotLayout->addWidget(m_plot);
    right->addWidget(plotBox, 1);

    auto *recentBox = new QGroupBox(tr("Recorded in this session"), this);
    auto *recentLayout = new QVBoxLayout(recentBox);
    m_recent->setMaximumHeight(84);
    m_recent->setIconSize(QSize(16, 16));
    recentLayout->addWidget(m_recent);
    right->addWidget(recentBox);
    outer->addLayout(right, 1);

    m_countdownTimer->setInterval(1000);
    connect(m_countdownTimer, &QTimer::timeout, this, [this] {
        if (--m_countdownLeft > 0) {
            m_countdown->setText(QString::number(m_countdownLeft));
            return;
        }
        m_countdownTimer->stop();
        m_countdown->clear();
        beginCapture();
    });
    connect(m_connect, &QPushButton::clicked, this, [this] {
        if (isConnected())
            disconnectDevice();
        else if (isStartingBoard())
            cancelConnect();
        else
            connectDevice();
    });
    connect(m_refresh, &QToolButton::clicked, this, &AcquisitionPage::refreshDevices);
    connect(m_device, &QComboBox::currentIndexChanged, this, [this] {
        m_baud->setEnabled(!m_device->currentData().toMap().value(QLatin1String(kVirtualKey)).toBool());
        updateControls();
    });
    connect(m_record, &QPushButton::clicked, this, [this] {
        if (isRecording())
            stopRecording();
        else
            startRecording();
    });
    connect(m_sensor, &QComboBox::currentIndexChanged, this, &AcquisitionPage::applySensorChoice);
    connect(m_rate, &QDoubleSpinBox::editingFinished, this, [this] {
        if (m_previewing) {
            stopPreview();
            QTimer::singleShot(100, this, &AcquisitionPage::startPreview);
        }
    });
    connect(m_length, &QDoubleSpinBox::valueChanged, this, [this] { updateControls(); });
    connect(m_scenario, &QComboBox::textActivated, this, [this](const QString &scenario) {
        QString error;
        if (m_agent && !m_agent->setScenario(m_sensor->currentText(), scenario, &error))
            showBanner(tr("Could not set the scenario: %1").arg(error), true);
    });
    connect(m_label->lineEdit(), &QLineEdit::textChanged, this, [this] { updateControls(); });
    // The virtual board simulates a scenario per gesture: follow the label when one matches,
    // so what is recorded as "shake" is a shake.
    connect(m_label, &QComboBox::currentTextChanged, this, [this](const QString &label) {
        const int i = m_scenario->findText(label.trimmed(), Qt::MatchFixedString);
        if (i < 0 || i == m_scenario->currentIndex() || !m_agent)
            return;
        m_scenario->setCurrentIndex(i);
        QString error;
        if (!m_agent->setScenario(m_sensor->currentText(), m_scenario->currentText(), &error))
            showBanner(tr("Could not set the scenario: %1").arg(error), true);
    });

    m_plot->setMessage(tr("Connect a device to see its signal"));
    addRecentPlaceholder();
    refreshDevices();
    clearDeviceInfo();
    setState(State::Disconnected);
}

AcquisitionPage::~AcquisitionPage()
{
    // The capture refers to the link and the store: end it first.
    m_capture.reset();
    teardownLink();
}

void AcquisitionPage::setSession(ProjectSession *session)
{
    if (m_session && m_session != session) {
        disconnectDevice();
        disconnect(m_session, nullptr, this, nullptr);
        m_recent->clear();
        addRecentPlaceholder();
    }
    m_session = session;
    if (m_session) {
        connect(m_session, &ProjectSession::settingsChanged, this, &AcquisitionPage::reloadLabels);
        m_length->setValue(m_session->defaultLengthS() > 0 ? m_session->defaultLengthS() : 2.0);
        selectDevice(m_session->boardId());
    }
    reloadLabels();
    hideBanner();
    updateControls();
}

void AcquisitionPage::addRecentPlaceholder()
{
    auto *hint = new QListWidgetItem(tr("Each recording appears here as soon as it ends; the Dataset page lists "
                                        "every sample of the project."), m_recent);
    hint->setFlags(Qt::NoItemFlags);
}

void AcquisitionPage::reloadLabels()
{
    const QString current = m_label->currentText();
    m_label->clear();
    if (m_session)
        m_label->addItems(m_session->labels());
    if (!current.isEmpty())
        setLabel(current);
}

// --- devices ---------------------------------------------------------------------------

void AcquisitionPage::refreshDevices()
{
    const QVariant current = m_device->currentData();
    m_device->clear();
    const BoardRegistry &registry = BoardCatalog::registry();
    for (const BoardDefinition &b : BoardCatalog::orderedBoards()) {
        if (!b.isVirtual)
            continue;
        m_device->addItem(QIcon(QStringLiteral(":/icons/board.svg")), tr("Virtual: %1").arg(b.name),
                          QVariantMap{{QLatin1String(kVirtualKey), true}, {QLatin1String(kIdKey), b.id}});
        m_device->setItemData(m_device->count() - 1, b.name, Qt::ToolTipRole);
    }
    const QVector<DiscoveredDevice> ports = DeviceDiscovery::serialPorts(registry);
    if (!ports.isEmpty())
        m_device->insertSeparator(m_device->count());
    for (const DiscoveredDevice &d : ports) {
        QString guess = d.protocol == LinkProtocol::Unknown ? tr("protocol unknown")
                                                            : tr("%1 protocol").arg(linkProtocolName(d.protocol));
        if (!d.boardId.isEmpty())
            guess = BoardCatalog::displayName(d.boardId) + QStringLiteral(", ") + guess;
        if (d.isBootloader)
            guess += tr(", bootloader");
        m_device->addItem(QIcon(QStringLiteral(":/icons/connect.svg")),
                          QStringLiteral("%1 — %2").arg(d.portName, d.description.isEmpty() ? guess : d.description),
                          QVariantMap{{QLatin1String(kVirtualKey), false},
                                      {QLatin1String(kIdKey), d.portName},
                                      {QLatin1String(kProtocolKey), int(d.protocol)}});
        m_device->setItemData(m_device->count() - 1, guess, Qt::ToolTipRole);
    }
    const int again = m_device->findData(current);
    if (again >= 0)
        m_device->setCurrentIndex(again);
}

bool AcquisitionPage::selectDevice(const QString &boardIdOrPort)
{
    for (int i = 0; i < m_device->count(); ++i)
        if (m_device->itemData(i).toMap().value(QLatin1String(kIdKey)).toString() == boardIdOrPort) {
            m_device->setCurrentIndex(i);
            return true;
        }
    return false;
}

bool AcquisitionPage::isConnected() const
{
    return m_link && m_link->isOpen() && m_state != State::Disconnected && m_state != State::Connecting;
}

bool AcquisitionPage::isStartingBoard() const
{
    return m_state == State::Connecting && m_virtual && m_virtual->isStarting();
}

bool AcquisitionPage::failConnect(const QString &message, QString *errorOut)
{
    teardownLink();
    setState(State::Disconnected);
    showBanner(message, true);
    if (errorOut)
        *errorOut = message;
    Q_EMIT connectFinished(false, message);
    return false;
}

bool AcquisitionPage::connectDevice(QString *errorOut)
{
    // A second click (or the wizard and the Deployment page both asking) while a board
    // boots must not start another one.
    if (isStartingBoard())
        return true;
    if (m_link)
        disconnectDevice();
    hideBanner();
    const QVariantMap choice = m_device->currentData().toMap();
    const QString id = choice.value(QLatin1String(kIdKey)).toString();
    QString error;
    if (id.isEmpty())
        return failConnect(tr("Choose a device first."), errorOut);

    setState(State::Connecting);
    if (choice.value(QLatin1String(kVirtualKey)).toBool()) {
        const BoardDefinition *def = BoardCatalog::board(id);
        if (!def)
            return failConnect(tr("Unknown board %1.").arg(id), errorOut);
        VirtualBoard::Options options;
        options.realtime = m_realtime;
        m_virtual = std::make_unique<VirtualBoard>(*def, options);
        const QString name = def->name;
        connect(m_virtual.get(), &VirtualBoard::started, this, [this] {
            m_link = m_virtual->link();
            m_agent = m_virtual->link();
            connect(m_virtual.get(), &VirtualBoard::processDied, this, &AcquisitionPage::onConnectionLost);
            attachLink();
        });
        connect(m_virtual.get(), &VirtualBoard::failed, this, [this, name](const QString &message) {
            failConnect(tr("Could not start %1: %2").arg(name, message), nullptr);
        });
        m_virtual->startAsync();
        m_connectionState->setText(tr("Starting %1…").arg(name));
        m_plot->setMessage(tr("Starting the virtual board…"));
        setState(State::Connecting); // again: the status bar now says a board is starting
        return true;
    }
    const auto protocol = LinkProtocol(choice.value(QLatin1String(kProtocolKey)).toInt());
    if (protocol == LinkProtocol::Mlperf)
        return failConnect(tr("%1 speaks the MLPerf Tiny protocol: it is profiled on the Deployment page, "
                              "it does not stream sensor data.").arg(id), errorOut);
    if (protocol == LinkProtocol::Lines) {
        m_ownedLink = std::make_unique<LineLink>();
    } else {
        auto agent = std::make_unique<AgentLink>();
        m_agent = agent.get();
        m_ownedLink = std::move(agent);
    }
    m_ownedLink->setPortName(id);
    m_ownedLink->setBaudRate(m_baud->currentData().toInt());
    m_link = m_ownedLink.get();
    m_connectionState->setText(tr("Opening %1…").arg(id));
    if (!m_link->open(&error))
        return failConnect(tr("Could not open %1: %2").arg(id, error), errorOut);
    if (m_agent && !m_agent->handshake(8, 300, &error))
        return failConnect(tr("%1 did not answer the agent handshake (%2). If the board prints lines of "
                              "numbers instead, pick it again after Refresh, or check the baud rate.").arg(id, error),
                           errorOut);
    attachLink();
    return true;
}

void AcquisitionPage::cancelConnect()
{
    if (!isStartingBoard())
        return;
    const QString message = tr("Start of the virtual board cancelled.");
    disconnectDevice(); // stops the board; its "cancelled" failure no longer reaches this page
    m_connectionState->setText(message);
    Q_EMIT connectFinished(false, message);
}

void AcquisitionPage::attachLink()
{
    connect(m_link, &DeviceLink::streamStarted, this, &AcquisitionPage::onStreamStarted);
    connect(m_link, &DeviceLink::streamChunk, this, &AcquisitionPage::onChunk);
    connect(m_link, &DeviceLink::connectionLost, this, &AcquisitionPage::onConnectionLost);
    connect(m_link, &DeviceLink::streamEnded, this, [this] {
        m_previewing = false;
        if (m_captureWaitsForStop) {
            m_captureWaitsForStop = false;
            QTimer::singleShot(0, this, &AcquisitionPage::beginCapture);
        }
    });
    onConnected();
    Q_EMIT connectFinished(true, QString());
}

void AcquisitionPage::onConnected()
{
    setState(State::Connected);
    fillDeviceInfo();
    m_sensor->blockSignals(true);
    m_sensor->clear();
    if (m_agent) {
        for (const DeviceSensorInfo &s : m_agent->info().sensors)
            m_sensor->addItem(s.name);
    } else {
        m_sensor->addItem(QStringLiteral("lines"));
    }
    m_sensor->setCurrentIndex(qMax(0, projectSensorIndex()));
    m_sensor->blockSignals(false);
    applySensorChoice();
}

int AcquisitionPage::projectSensorIndex() const
{
    if (!m_session)
        return -1;
    const QString wanted = m_session->defaultSensor();
    const int exact = m_sensor->findText(wanted);
    if (exact >= 0 || !m_agent)
        return exact;
    // Projects name sensors by role ("accel", "mic"); a device may spell them out.
    int kind = -1;
    if (wanted.startsWith(QLatin1String("acc")) || m_session->templateName() == QLatin1String("motion"))
        kind = 0;
    if (wanted.startsWith(QLatin1String("mic")) || m_session->templateName() == QLatin1String("audio"))
        kind = 1;
    const auto &sensors = m_agent->info().sensors;
    for (int i = 0; i < sensors.size(); ++i)
        if (sensors[i].kind == kind)
            return i;
    return -1;
}

void AcquisitionPage::applySensorChoice()
{
    if (!m_link)
        return;
    const QString sensor = m_sensor->currentText();
    m_scenario->clear();
    if (m_agent) {
        if (const DeviceSensorInfo *s = m_agent->info().sensorByName(sensor)) {
            m_rate->setRange(qMax<double>(1, s->minRateHz), qMax<double>(1, s->maxRateHz));
            const double projectRate = m_session ? m_session->defaultRateHz() : 0;
            const bool projectSensor = m_sensor->currentIndex() == projectSensorIndex();
            m_rate->setValue(projectSensor && projectRate > 0 ? projectRate : s->defaultRateHz);
            m_scenario->addItems(s->scenarios);
            const int matching = m_scenario->findText(label(), Qt::MatchFixedString);
            if (matching >= 0)
                m_scenario->setCurrentIndex(matching);
        }
    }
    m_scenario->setEnabled(m_scenario->count() > 0);
    m_rate->setEnabled(m_agent != nullptr);
    if (m_scenario->count() > 0 && m_agent) {
        QString error;
        m_agent->setScenario(sensor, m_scenario->currentText(), &error);
    }
    if (m_previewing) {
        stopPreview();
        QTimer::singleShot(100, this, &AcquisitionPage::startPreview);
    } else {
        startPreview();
    }
}

void AcquisitionPage::fillDeviceInfo()
{
    while (m_infoForm->rowCount() > 0)
        m_infoForm->removeRow(0);
    auto row = [this](const QString &k, const QString &v) {
        auto *value = new QLabel(v, this);
        value->setWordWrap(true);
        value->setTextInteractionFlags(Qt::TextSelectableByMouse);
        auto *key = new QLabel(k, this);
        key->setObjectName(QStringLiteral("hint"));
        m_infoForm->addRow(key, value);
    };
    if (m_agent && m_agent->hasInfo()) {
        const DeviceInfo &i = m_agent->info();
        row(tr("Board"), BoardCatalog::displayName(i.boardId));
        row(tr("Agent"), tr("%1 (protocol v%2)").arg(i.agentVersion).arg(i.protocolVersion));
        row(tr("CPU"), i.clockHz ? tr("%1 at %2 MHz").arg(i.cpu).arg(i.clockHz / 1e6, 0, 'f', 0) : i.cpu);
        row(tr("Memory"), tr("%1 RAM (%2 free), %3 flash").arg(bytesText(i.ramBytes), bytesText(i.ramFree),
                                                               bytesText(i.flashBytes)));
        if (i.counterKind >= 0)
            row(tr("Counter"), tr("%1, %2 per tick").arg(i.counterKindName()).arg(i.counterResolution));
        QStringList sensors;
        for (const DeviceSensorInfo &s : i.sensors)
            sensors << tr("%1: %2 at %3 Hz").arg(s.name, s.channels.join(QStringLiteral("/"))).arg(s.defaultRateHz);
        row(tr("Sensors"), sensors.isEmpty() ? tr("none") : sensors.join(QStringLiteral("\n")));
        if (!i.simulator.isEmpty())
            row(tr("Simulated"), i.simulator);
        if (m_virtual)
            row(tr("Port"), m_virtual->ptyPath());
        else
            row(tr("Port"), m_link->portName());
    } else if (m_link) {
        row(tr("Port"), m_link->portName());
        row(tr("Protocol"), tr("numeric text lines (data forwarder)"));
        row(tr("Rate"), tr("detected from the lines"));
    }
    m_infoPlaceholder->setVisible(false);
}

void AcquisitionPage::updateLinkStatistics()
{
    if (!m_link || !m_link->isOpen()) {
        m_linkStats->clear();
        return;
    }
    const LinkStatistics st = m_link->statistics();
    const QLocale c = QLocale::c();
    m_linkStats->setText(tr("Link: %1 received, %2 frames · %3 lost · %4 decoder errors · %5 timeouts")
                             .arg(c.formattedDataSize(st.bytesReceived, 1, QLocale::DataSizeTraditionalFormat))
                             .arg(st.framesReceived)
                             .arg(st.samplesLost)
                             .arg(st.decoderErrors())
                             .arg(st.timeouts));
}

void AcquisitionPage::clearDeviceInfo()
{
    while (m_infoForm->rowCount() > 0)
        m_infoForm->removeRow(0);
    m_infoPlaceholder->setText(tr("Connect a device to see what it reports: board, agent version, CPU and clock, "
                                  "memory, counter and sensors."));
    m_infoPlaceholder->setVisible(true);
}

void AcquisitionPage::disconnectDevice()
{
    m_countdownTimer->stop();
    m_countdown->clear();
    if (m_capture) {
        m_capture->cancel();
        m_capture.reset();
    }
    stopPreview();
    teardownLink();
    setState(State::Disconnected);
}

void AcquisitionPage::teardownLink()
{
    if (m_link)
        disconnect(m_link, nullptr, this, nullptr);
    m_previewing = false;
    m_captureWaitsForStop = false;
    m_agent = nullptr;
    m_link = nullptr;
    if (m_virtual) {
        disconnect(m_virtual.get(), nullptr, this, nullptr);
        m_virtual->stop();
        m_virtual.reset();
    }
    if (m_ownedLink) {
        m_ownedLink->close();
        m_ownedLink.reset();
    }
    clearDeviceInfo();
    m_plot->clear();
    m_plot->setMessage(tr("Connect a device to see its signal"));
}

void AcquisitionPage::onConnectionLost(const QString &message)
{
    const bool wasRecording = m_state == State::Recording;
    showBanner(wasRecording ? tr("The board was lost during the recording (%1). What was received is kept "
                                 "and marked as cut short.").arg(message)
                            : tr("The board was lost: %1. Reconnect to continue.").arg(message),
               true);
    if (m_capture)
        return;   // CaptureSession stores what arrived and reports finished(); teardown follows
    // Not inside the link's own signal: destroy it from the event loop.
    QTimer::singleShot(0, this, [this] {
        teardownLink();
        setState(State::Disconnected);
    });
}

// --- streaming ---------------------------------------------------------------------------

void AcquisitionPage::startPreview()
{
    if (!m_link || !m_link->isOpen() || m_capture || m_link->isStreaming() || m_previewHeld)
        return;
    StreamRequest request;
    request.sensor = m_sensor->currentText() == QLatin1String("lines") ? QString() : m_sensor->currentText();
    request.rateHz = m_agent ? m_rate->value() : 0;
    request.frames = 0;
    QString error;
    if (!m_link->startStream(request, &error)) {
        m_plot->setMessage(tr("No live preview: %1").arg(error));
        return;
    }
    m_previewing = true;
}

void AcquisitionPage::resumePreview()
{
    if (m_state == State::Connected)
        startPreview();
}

void AcquisitionPage::stopPreview()
{
    if (m_link && m_previewing && m_link->isStreaming())
        m_link->stopStream();
}

void AcquisitionPage::onStreamStarted(const StreamFormat &format)
{
    m_streamFrames = 0;
    const double window = qMax(3.0, m_length->value() + 1.0);
    m_plot->setFormat(format.channels, format.units, format.rateHz, window);
    if (format.sensor == QLatin1String("mic"))
        m_plot->setFixedValueRange(-1.0, 1.0);
    else
        m_plot->setAutoValueRange();
    m_plot->setMessage(QString());
    if (m_state == State::Recording)
        m_plot->setRecordingFrom(0);
}

void AcquisitionPage::onChunk(const StreamChunk &chunk)
{
    if (chunk.data.dtype != DType::Float32 || !chunk.data.isConsistent())
        return;
    m_plot->append(chunk.data.floatData(), chunk.frames());
    m_streamFrames += chunk.frames();
}

// --- recording ---------------------------------------------------------------------------

void AcquisitionPage::setLabel(const QString &label)
{
    const int i = m_label->findText(label);
    if (i >= 0)
        m_label->setCurrentIndex(i);
    else
        m_label->setEditText(label);
}

QString AcquisitionPage::label() const
{
    return m_label->currentText().trimmed();
}

void AcquisitionPage::setSampleLength(double seconds)
{
    m_length->setValue(seconds);
}

void AcquisitionPage::nextLabel()
{
    if (m_label->count() == 0 || isRecording())
        return;
    const int i = m_label->findText(label());
    m_label->setCurrentIndex((i + 1) % m_label->count());
}

void AcquisitionPage::startRecording()
{
    if (!isConnected() || isRecording() || !m_session || label().isEmpty())
        return;
    hideBanner();
    if (m_countdownSeconds <= 0) {
        setState(State::Countdown);
        beginCapture();
        return;
    }
    m_countdownLeft = m_countdownSeconds;
    m_countdown->setText(QString::number(m_countdownLeft));
    setState(State::Countdown);
    m_countdownTimer->start();
}

void AcquisitionPage::beginCapture()
{
    if (m_state != State::Countdown || !m_link)
        return;
    // The preview stream must end before the capture starts its own.
    if (m_link->isStreaming()) {
        if (!m_captureWaitsForStop) {
            m_captureWaitsForStop = true;
            stopPreview();
            m_link->stopStream();
            // A device that never confirms the stop must not leave the button stuck.
            QTimer::singleShot(2000, this, [this] {
                if (m_captureWaitsForStop) {
                    m_captureWaitsForStop = false;
                    beginCapture();
                }
            });
        }
        return;
    }
    CaptureOptions options;
    options.label = label();
    options.sensor = m_sensor->currentText() == QLatin1String("lines") ? QString() : m_sensor->currentText();
    options.rateHz = m_agent ? m_rate->value() : 0;
    options.durationS = m_length->value();
    options.count = 1;
    m_capture = std::make_unique<CaptureSession>(m_link, &m_session->store(), options);
    connect(m_capture.get(), &CaptureSession::finished, this, &AcquisitionPage::onCaptureFinished);
    connect(m_capture.get(), &CaptureSession::progress, this, [this](qint64 done, qint64 total) {
        m_progress->setMaximum(int(qMax<qint64>(1, total)));
        m_progress->setValue(int(qMin(done, total)));
        m_progress->setFormat(tr("%1 / %2 s").arg(done / qMax(1.0, m_rate->value()), 0, 'f', 1)
                                  .arg(total / qMax(1.0, m_rate->value()), 0, 'f', 1));
    });
    setState(State::Recording);
    QString error;
    if (!m_capture->start(&error)) {
        m_capture.reset();
        setState(State::Connected);
        showBanner(tr("Could not start recording: %1").arg(error), true);
        startPreview();
        return;
    }
    m_plot->setRecordingFrom(0);
    if (!options.label.isEmpty() && m_label->findText(options.label) < 0)
        m_label->addItem(options.label);
}

void AcquisitionPage::stopRecording()
{
    if (m_state == State::Countdown) {
        m_countdownTimer->stop();
        m_countdown->clear();
        m_captureWaitsForStop = false;
        setState(State::Connected);
        startPreview();
    } else if (m_state == State::Recording && m_capture) {
        m_capture->cancel();
    }
}

void AcquisitionPage::onCaptureFinished(const CaptureResult &result)
{
    // Finished is emitted from inside the capture: let it return before it is destroyed.
    if (m_capture)
        m_capture.release()->deleteLater();
    m_plot->clearRecordingMark();
    m_progress->setValue(0);
    m_progress->setFormat(QString());
    const QString label = this->label();
    const double rate = qMax(1.0, m_rate->value());
    for (qint64 id : result.sampleIds) {
        auto *item = new QListWidgetItem(QIcon(QStringLiteral(":/icons/acquisition.svg")),
                                         tr("#%1  %2  ·  %3 s%4")
                                             .arg(id)
                                             .arg(label)
                                             .arg(double(result.framesReceived) / rate / qMax<qsizetype>(1, result.sampleIds.size()), 0, 'f', 2)
                                             .arg(result.complete ? QString() : tr("  ·  cut short")));
        if (m_recent->count() == 1 && !(m_recent->item(0)->flags() & Qt::ItemIsEnabled))
            delete m_recent->takeItem(0);
        m_recent->insertItem(0, item);
    }
    if (m_session)
        m_session->notifySamplesChanged();
    const bool linkAlive = m_link && m_link->isOpen();
    if (!result.complete) {
        if (result.sampleIds.isEmpty())
            showBanner(tr("Nothing was recorded: %1").arg(result.error), true);
        else
            showBanner(tr("Recording ended early (%1). Kept %2 as sample #%3, marked as cut short.")
                           .arg(result.error.isEmpty() ? tr("stopped") : result.error,
                                countText(result.framesReceived, "%1 frame", "%1 frames"))
                           .arg(result.sampleIds.last()),
                       true);
    }
    Q_EMIT recordingFinished(result.sampleIds, result.complete);
    if (linkAlive) {
        setState(State::Connected);
        QTimer::singleShot(50, this, &AcquisitionPage::startPreview);
    } else {
        teardownLink();
        setState(State::Disconnected);
    }
}

// --- presentation --------------------------------------------------------------------------

void AcquisitionPage::showBanner(const QString &text, bool warning)
{
    m_banner->setObjectName(warning ? QStringLiteral("warningBanner") : QStringLiteral("banner"));
    m_banner->style()->unpolish(m_banner);
    m_banner->style()->polish(m_banner);
    m_banner->setText(text);
    m_banner->setVisible(true);
}

void AcquisitionPage::hideBanner()
{
    m_banner->setVisible(false);
}

QString AcquisitionPage::boardStatusText() const
{
    QString name;
    if (m_agent && m_agent->hasInfo())
        name = BoardCatalog::displayName(m_agent->info().boardId);
    else if (m_link)
        name = m_link->portName();
    switch (m_state) {
    case State::Disconnected: return tr("No board connected");
    case State::Connecting: return m_virtual ? tr("Starting the virtual board…") : tr("Connecting…");
    case State::Connected: return tr("%1 · connected").arg(name);
    case State::Countdown: return tr("%1 · about to record").arg(name);
    case State::Recording: return tr("%1 · recording").arg(name);
    }
    return {};
}

void AcquisitionPage::setState(State state)
{
    m_state = state;
    updateControls();
    Q_EMIT boardStatusChanged(boardStatusText(), isConnected());
}

void AcquisitionPage::updateControls()
{
    const bool connected = isConnected();
    const bool busy = m_state == State::Connecting;
    const bool recording = isRecording();
    m_device->setEnabled(!connected && !busy);
    m_refresh->setEnabled(!connected && !busy);
    m_baud->setEnabled(!connected && !busy && !m_device->currentData().toMap().value(QLatin1String(kVirtualKey)).toBool());
    const bool starting = isStartingBoard();
    m_connect->setEnabled((!busy || starting) && m_device->count() > 0);
    m_connect->setText(connected ? tr("Disconnect") : starting ? tr("Cancel") : tr("Connect"));
    m_startProgress->setVisible(starting);
    m_connect->setIcon(QIcon(connected  ? QStringLiteral(":/icons/disconnect.svg")
                             : starting ? QStringLiteral(":/icons/stop.svg")
                                        : QStringLiteral(":/icons/connect.svg")));
    m_label->setEnabled(!recording && m_session);
    m_sensor->setEnabled(connected && !recording && m_sensor->count() > 1);
    m_rate->setEnabled(connected && !recording && m_agent);
    m_length->setEnabled(!recording);
    m_scenario->setEnabled(connected && m_scenario->count() > 0);
    m_record->setEnabled((connected && m_session && !label().isEmpty()) || recording);
    m_record->setText(recording ? tr("Stop  (Esc)") : tr("Record  (Ctrl+R)"));
    m_record->setIcon(QIcon(recording ? QStringLiteral(":/icons/stop.svg") : QStringLiteral(":/icons/record.svg")));
    m_progress->setVisible(m_state == State::Recording);
    m_recordHint->setVisible(m_state != State::Recording);
    if (!connected)
        m_recordHint->setText(tr("Connect a device to record."));
    else if (m_state == State::Countdown)
        m_recordHint->setText(tr("Get ready…"));
    else
        m_recordHint->setText(tr("Records %1 s of \"%2\". Ctrl+L picks the next label.")
                                  .arg(m_length->value(), 0, 'f', 1).arg(label()));
    switch (m_state) {
    case State::Disconnected:
        m_connectionState->setText(m_device->count() ? tr("Not connected.") : tr("No devices found."));
        break;
    case State::Connecting:
        break;
    default:
        m_connectionState->setText(m_virtual ? tr("Running on this computer (%1).")
                                                   .arg(m_realtime ? tr("real-time pacing") : tr("batch speed"))
                                             : tr("Connected to %1.").arg(m_link ? m_link->portName() : QString()));
    }
}

} // namespace tinyml::ui
