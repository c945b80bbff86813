#include "window/WelcomePage.h"

#include <QDir>
#include <QFileInfo>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QVBoxLayout>

namespace tinyml::ui {

WelcomePage::WelcomePage(QWidget *parent) : QWidget(parent), m_recent(new QListWidget(this)), m_noRecent(new QLabel(this))
{
    auto *outer = new QHBoxLayout(this);
    outer->addStretch(1);
    auto *column = new QVBoxLayout;
    column->setSpacing(14);
    outer->addLayout(column, 3);
    outer->addStretch(1);

    column->addStretch(2);
    auto *logoRow = new QHBoxLayout;
    auto *logo = new QLabel(this);
    logo->setPixmap(QIcon(QStringLiteral(":/icons/app.svg")).pixmap(56, 56));
    logoRow->addWidget(logo);
    auto *titles = new QVBoxLayout;
    auto *title = new QLabel(tr("TinyML Workbench"), this);
    title->setObjectName(QStringLiteral("welcomeTitle"));
    auto *tagline = new QLabel(tr("Capture sensor data, train a tiny model, and measure it on a microcontroller — "
                                  "all on this machine."), this);
    tagline->setObjectName(QStringLiteral("pageSubtitle"));
    tagline->setWordWrap(true);
    titles->addWidget(title);
    titles->addWidget(tagline);
    logoRow->addLayout(titles, 1);
    column->addLayout(logoRow);
    column->addSpacing(10);

    auto *buttons = new QHBoxLayout;
    auto *newButton = new QPushButton(QIcon(QStringLiteral(":/icons/new.svg")), tr("New project…"), this);
    newButton->setObjectName(QStringLiteral("primaryButton"));
    newButton->setIconSize(QSize(20, 20));
    auto *openButton = new QPushButton(QIcon(QStringLiteral(":/icons/open.svg")), tr("Open project…"), this);
    openButton->setIconSize(QSize(20, 20));
    auto *exampleButton = new QPushButton(QIcon(QStringLiteral(":/icons/motion.svg")), tr("Open example…"), this);
    exampleButton->setObjectName(QStringLiteral("openExampleButton"));
    exampleButton->setIconSize(QSize(20, 20));
    exampleButton->setToolTip(tr("A motion-gesture project with recorded accelerometer data, ready to train. "
                                 "It is copied into a new project file of yours."));
    newButton->setMinimumHeight(38);
    openButton->setMinimumHeight(38);
    exampleButton->setMinimumHeight(38);
    buttons->addWidget(newButton);
    buttons->addWidget(openButton);
    buttons->addWidget(exampleButton);
    buttons->addStretch(1);
    column->addLayout(buttons);
    column->addSpacing(10);

    auto *recentTitle = new QLabel(tr("Recent projects"), this);
    recentTitle->setObjectName(QStringLiteral("sectionTitle"));
    column->addWidget(recentTitle);
    m_recent->setObjectName(QStringLiteral("recentList"));
    m_recent->setIconSize(QSize(20, 20));
    m_recent->setMinimumHeight(200);
    column->addWidget(m_recent, 3);
    m_noRecent->setText(tr("No recent projects. Create one to start: the wizard sets up labels, sample "
                           "length and the board, and a virtual board lets you record right away. Or open "
                           "the example, a motion project with recorded data that is ready to train."));
    m_noRecent->setWordWrap(true);
    m_noRecent->setObjectName(QStringLiteral("hint"));
    column->addWidget(m_noRecent);
    column->addStretch(3);

    connect(newButton, &QPushButton::clicked, this, &WelcomePage::newProjectRequested);
    connect(openButton, &QPushButton::clicked, this, &WelcomePage::openProjectRequested);
    connect(exampleButton, &QPushButton::clicked, this, &WelcomePage::openExampleRequested);
    connect(m_recent, &QListWidget::itemActivated, this, [this](QListWidgetItem *item) {
        Q_EMIT recentProjectRequested(item->data(Qt::UserRole).toString());
    });
}

void WelcomePage::setRecentProjects(const QStringList &paths)
{
    m_recent->clear();
    for (const QString &p : paths) {
        const QFileInfo fi(p);
        auto *item = new QListWidgetItem(QIcon(QStringLiteral(":/icons/dataset.svg")),
                                         QStringLiteral("%1\n%2").arg(fi.completeBaseName(), QDir::toNativeSeparators(fi.absolutePath())),
                                         m_recent);
        item->setData(Qt::UserRole, p);
        item->setToolTip(QDir::toNativeSeparators(p));
        item->setSizeHint(QSize(0, 46));
    }
    m_recent->setVisible(!paths.isEmpty());
    m_noRecent->setVisible(paths.isEmpty());
}

} // namespace tinyml::ui
