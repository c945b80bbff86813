#include "wizard/NewProjectWizard.h"

#include "models/BoardCatalog.h"
#include "store/ProjectStore.h"
#include "store/ProjectTemplate.h"

#include <QButtonGroup>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QRadioButton>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QToolButton>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <QWizardPage>

namespace tinyml::ui {

namespace {

QLabel *hintLabel(const QString &text, QWidget *parent)
{
    auto *l = new QLabel(text, parent);
    l->setWordWrap(true);
    l->setObjectName(QStringLiteral("hint"));
    return l;
}

// --- name and location ----------------------------------------------------------------

class NameLocationPage : public QWizardPage
{
public:
    NameLocationPage()
    {
        setTitle(tr("Name and location"));
        setSubTitle(tr("A project is one file that holds the recordings, labels and settings."));
        m_name->setPlaceholderText(tr("e.g. gesture-wand"));
        m_location->setText(NewProjectWizard::defaultLocation());
        auto *browse = new QPushButton(tr("Browse…"), this);
        auto *locationRow = new QHBoxLayout;
        locationRow->addWidget(m_location, 1);
        locationRow->addWidget(browse);

        auto *form = new QFormLayout;
        form->addRow(tr("Project &name:"), m_name);
        auto *folderLabel = new QLabel(tr("&Folder:"), this);
        folderLabel->setBuddy(m_location);
        form->addRow(folderLabel, locationRow);
        form->addRow(tr("Project file:"), m_path);
        m_path->setTextInteractionFlags(Qt::TextSelectableByMouse);
        m_path->setObjectName(QStringLiteral("monospace"));
        auto *layout = new QVBoxLayout(this);
        layout->addLayout(form);
        layout->addWidget(m_problem);
        layout->addSpacing(16);
        layout->addWidget(hintLabel(tr("The project file is a single SQLite database: copy it to move or back up the "
                                       "project. Recordings are written as they stream, so a crash or an unplugged "
                                       "board loses at most the last fraction of a second."), this));
        layout->addStretch(1);
        m_problem->setObjectName(QStringLiteral("error"));
        m_problem->setWordWrap(true);

        registerField(QStringLiteral("name*"), m_name);
        registerField(QStringLiteral("location"), m_location);
        connect(m_name, &QLineEdit::textChanged, this, &NameLocationPage::revalidate);
        connect(m_location, &QLineEdit::textChanged, this, &NameLocationPage::revalidate);
        connect(browse, &QPushButton::clicked, this, [this] {
            const QString dir = QFileDialog::getExistingDirectory(this, tr("Project folder"), m_location->text());
            if (!dir.isEmpty())
                m_location->setText(QDir::toNativeSeparators(dir));
        });
        revalidate();
    }

    QString path() const
    {
        const QString name = m_name->text().trimmed();
        if (name.isEmpty())
            return {};
        return QDir(QDir::fromNativeSeparators(m_location->text().trimmed())).absoluteFilePath(name + QStringLiteral(".tinyml"));
    }

    bool isComplete() const override { return problem().isEmpty(); }
    // next() from code skips the disabled button: hold the same line there.
    bool validatePage() override { return isComplete(); }

private:
    QString problem() const
    {
        const QString name = m_name->text().trimmed();
        if (name.isEmpty())
            return tr("Give the project a name.");
        if (name.contains(QRegularExpression(QStringLiteral("[/\\\\:*?\"<>|]"))) || name.startsWith(QLatin1Char('.')))
            return tr("The name is used as a file name: leave out / \\ : * ? \" < > | and a leading dot.");
        if (m_location->text().trimmed().isEmpty())
            return tr("Choose a folder for the project.");
        const QFileInfo file(path());
        if (file.exists())
            return tr("%1 already exists: choose another name or folder.").arg(QDir::toNativeSeparators(file.filePath()));
        // The folder may not exist yet (~/TinyML on first use): its nearest existing
        // ancestor must let us create it.
        QFileInfo dir(file.absolutePath());
        while (!dir.exists() && !dir.isRoot() && dir.absoluteFilePath() != dir.absolutePath())
            dir = QFileInfo(dir.absolutePath());
        if (!dir.isDir())
            return tr("%1 is not a folder.").arg(QDir::toNativeSeparators(dir.absoluteFilePath()));
        if (!dir.isWritable())
            return tr("Cannot write to %1.").arg(QDir::toNativeSeparators(dir.absoluteFilePath()));
        return {};
    }

    void revalidate()
    {
        const QString p = path();
        m_path->setText(p.isEmpty() ? tr("—") : QDir::toNativeSeparators(p));
        const QString why = problem();
        // The empty name is the starting state, not a mistake: say nothing until typed.
        m_problem->setText(m_name->text().isEmpty() ? QString() : why);
        Q_EMIT completeChanged();
    }

    QLineEdit *m_name = new QLineEdit(this);
    QLineEdit *m_location = new QLineEdit(this);
    QLabel *m_path = new QLabel(this);
    QLabel *m_problem = new QLabel(this);
};

// --- what are you building -------------------------------------------------------------

class TemplateChoicePage : public QWizardPage
{
public:
    TemplateChoicePage()
    {
        setTitle(tr("What are you building?"));
        setSubTitle(tr("This sets the sensor, the sample length and rate, and the starting labels. "
                       "Everything can be changed later."));
        auto *layout = new QVBoxLayout(this);
        layout->setSpacing(4);
        const auto &templates = ProjectTemplate::all();
        for (int i = 0; i < templates.size(); ++i) {
            const ProjectTemplate &t = templates[i];
            auto *button = new QRadioButton(t.title, this);
            button->setIcon(QIcon(QStringLiteral(":/icons/%1.svg").arg(t.iconName)));
            button->setIconSize(QSize(22, 22));
            button->setObjectName(QStringLiteral("template-%1").arg(t.id));
            QFont f = button->font();
            f.setBold(true);
            button->setFont(f);
            m_group->addButton(button, i);
            layout->addWidget(button);
            auto *description = hintLabel(t.description, this);
            description->setContentsMargins(34, 0, 0, 8);
            layout->addWidget(description);
        }
        layout->addStretch(1);
        m_group->button(0)->setChecked(true);
        // A hidden editor carries the choice as a wizard field ("template").
        m_field->setVisible(false);
        m_field->setText(templates.first().id);
        registerField(QStringLiteral("template"), m_field);
        connect(m_group, &QButtonGroup::idClicked, this,
                [this](int id) { m_field->setText(ProjectTemplate::all().at(id).id); });
        connect(m_field, &QLineEdit::textChanged, this, [this](const QString &id) {
            const auto &all = ProjectTemplate::all();
            for (int i = 0; i < all.size(); ++i)
                if (all[i].id == id && !m_group->button(i)->isChecked())
                    m_group->button(i)->setChecked(true);
        });
    }

private:
    QButtonGroup *m_group = new QButtonGroup(this);
    QLineEdit *m_field = new QLineEdit(this);
};

// --- target board ------------------------------------------------------------------------

class BoardChoicePage : public QWizardPage
{
public:
    BoardChoicePage()
    {
        setTitle(tr("Target board"));
        setSubTitle(tr("Where the data comes from and the model will run. Virtual boards need no hardware."));
        m_tree->setRootIsDecorated(false);
        m_tree->setHeaderLabels({tr("Board"), tr("Memory"), tr("Status")});
        m_tree->setColumnCount(3);
        m_tree->header()->setStretchLastSection(true);
        m_tree->header()->setSectionResizeMode(0, QHeaderView::Stretch);
        m_tree->header()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
        m_tree->header()->setSectionResizeMode(2, QHeaderView::ResizeToContents);
        m_tree->setObjectName(QStringLiteral("boardList"));
        for (const BoardDefinition &b : BoardCatalog::orderedBoards()) {
            auto *item = new QTreeWidgetItem(m_tree);
            item->setText(0, b.name);
            item->setIcon(0, QIcon(QStringLiteral(":/icons/board.svg")));
            item->setText(1, BoardCatalog::memoryText(b));
            item->setText(2, b.isVirtual ? tr("virtual: starts automatically")
                                         : b.verifiedOnHardware ? tr("verified on hardware")
                                                                : tr("not verified on hardware"));
            if (!b.isVirtual && !b.verifiedOnHardware)
                item->setForeground(2, QColor(0xb4, 0x53, 0x09));
            item->setData(0, Qt::UserRole, b.id);
            QString description = b.isVirtual
                ? tr("%1. Runs on this computer: no hardware needed.").arg(b.name)
                : tr("%1 (%2, %3 MHz). The agent must be flashed on it; this board has not been "
                     "verified on hardware by the project yet.")
                      .arg(b.name, b.cpu).arg(b.clockHz / 1e6, 0, 'f', 0);
            item->setToolTip(0, description);
        }
        if (m_tree->topLevelItemCount() == 0)
            m_description->setText(tr("No board definitions found: %1").arg(BoardCatalog::loadError()));
        m_description->setWordWrap(true);
        auto *layout = new QVBoxLayout(this);
        layout->addWidget(m_tree, 1);
        layout->addWidget(m_description);
        m_field->setVisible(false);
        registerField(QStringLiteral("board"), m_field);
        connect(m_tree, &QTreeWidget::currentItemChanged, this, [this](QTreeWidgetItem *item) {
            if (!item)
                return;
            m_field->setText(item->data(0, Qt::UserRole).toString());
            m_description->setText(item->toolTip(0));
            Q_EMIT completeChanged();
        });
        connect(m_field, &QLineEdit::textChanged, this, [this](const QString &id) {
            for (int i = 0; i < m_tree->topLevelItemCount(); ++i)
                if (m_tree->topLevelItem(i)->data(0, Qt::UserRole).toString() == id)
                    m_tree->setCurrentItem(m_tree->topLevelItem(i));
        });
        if (m_tree->topLevelItemCount() > 0)
            m_tree->setCurrentItem(m_tree->topLevelItem(0));
    }

    bool isComplete() const override { return !m_field->text().isEmpty(); }
    bool validatePage() override { return isComplete(); }

private:
    QTreeWidget *m_tree = new QTreeWidget(this);
    QLabel *m_description = hintLabel(QString(), this);
    QLineEdit *m_field = new QLineEdit(this);
};

// --- labels -------------------------------------------------------------------------------

class LabelListPage : public QWizardPage
{
public:
    LabelListPage()
    {
        setTitle(tr("Labels"));
        setSubTitle(tr("The classes the model will tell apart. Double-click a label to rename it; "
                       "new labels can also be added while recording."));
        m_list->setObjectName(QStringLiteral("labelList"));
        auto *add = new QPushButton(tr("&Add"), this);
        auto *remove = new QPushButton(tr("&Remove"), this);
        auto *reset = new QPushButton(tr("Use &defaults"), this);
        auto *buttons = new QVBoxLayout;
        buttons->addWidget(add);
        buttons->addWidget(remove);
        buttons->addSpacing(12);
        buttons->addWidget(reset);
        buttons->addStretch(1);
        auto *row = new QHBoxLayout;
        row->addWidget(m_list, 1);
        row->addLayout(buttons);
        auto *layout = new QVBoxLayout(this);
        layout->addLayout(row, 1);
        layout->addWidget(m_problem);
        m_problem->setObjectName(QStringLiteral("error"));

        connect(add, &QPushButton::clicked, this, [this] {
            auto *item = addLabel(tr("label%1").arg(m_list->count() + 1));
            m_list->setCurrentItem(item);
            m_list->editItem(item);
        });
        connect(remove, &QPushButton::clicked, this, [this] { delete m_list->currentItem(); Q_EMIT completeChanged(); });
        connect(reset, &QPushButton::clicked, this, [this] { setLabels(ProjectTemplate::byId(m_template).labels); });
        connect(m_list, &QListWidget::itemChanged, this, [this] { Q_EMIT completeChanged(); });
    }

    void initializePage() override
    {
        const QString tpl = field(QStringLiteral("template")).toString();
        if (tpl != m_template) {
            m_template = tpl;
            setLabels(ProjectTemplate::byId(tpl).labels);
        }
    }

    QStringList labels() const
    {
        QStringList out;
        for (int i = 0; i < m_list->count(); ++i) {
            const QString l = m_list->item(i)->text().trimmed();
            if (!l.isEmpty() && !out.contains(l))
                out << l;
        }
        return out;
    }

    void setLabels(const QStringList &labels)
    {
        m_list->clear();
        for (const QString &l : labels)
            addLabel(l);
        Q_EMIT completeChanged();
    }

    bool validatePage() override { return isComplete(); }

    bool isComplete() const override
    {
        const bool ok = labels().size() >= 2;
        m_problem->setText(ok ? QString() : tr("A classifier needs at least two labels."));
        return ok;
    }

private:
    QListWidgetItem *addLabel(const QString &text)
    {
        auto *item = new QListWidgetItem(QIcon(QStringLiteral(":/icons/label.svg")), text, m_list);
        item->setFlags(item->flags() | Qt::ItemIsEditable);
        return item;
    }

    QListWidget *m_list = new QListWidget(this);
    QLabel *m_problem = new QLabel(this);
    QString m_template;
};

// --- capture defaults ----------------------------------------------------------------------

class CaptureDefaultsPage : public QWizardPage
{
public:
    CaptureDefaultsPage()
    {
        setTitle(tr("Samples"));
        setSubTitle(tr("How long one sample is and how fast the sensor is read. These are the "
                       "defaults of the Data acquisition page."));
        m_rate->setRange(1, 96000);
        m_rate->setDecimals(1);
        m_rate->setSuffix(tr(" Hz"));
        m_length->setRange(0.05, 600);
        m_length->setDecimals(2);
        m_length->setSuffix(tr(" s"));
        m_length->setSingleStep(0.5);
        auto *form = new QFormLayout;
        form->addRow(tr("&Sensor:"), m_sensor);
        form->addRow(tr("Sample &rate:"), m_rate);
        form->addRow(tr("Sample &length:"), m_length);
        form->addRow(QString(), m_frames);
        auto *layout = new QVBoxLayout(this);
        layout->addLayout(form);
        layout->addWidget(m_note);
        layout->addStretch(1);
        registerField(QStringLiteral("sensor"), m_sensor);
        registerField(QStringLiteral("rate"), m_rate, "value", SIGNAL(valueChanged(double)));
        registerField(QStringLiteral("length"), m_length, "value", SIGNAL(valueChanged(double)));
        m_frames->setObjectName(QStringLiteral("hint"));
        connect(m_rate, &QDoubleSpinBox::valueChanged, this, &CaptureDefaultsPage::updateFrames);
        connect(m_length, &QDoubleSpinBox::valueChanged, this, &CaptureDefaultsPage::updateFrames);
    }

    void initializePage() override
    {
        const QString tplId = field(QStringLiteral("template")).toString();
        const ProjectTemplate &tpl = ProjectTemplate::byId(tplId);
        if (tplId != m_template) {
            m_template = tplId;
            m_sensor->setText(tpl.sensor);
            m_rate->setValue(tpl.isStreamed() ? tpl.sampleRateHz : 100.0);
            m_length->setValue(tpl.isStreamed() ? tpl.sampleLengthS : 1.0);
        }
        const bool streamed = tpl.isStreamed();
        m_sensor->setEnabled(streamed);
        m_rate->setEnabled(streamed);
        m_length->setEnabled(streamed);
        m_note->setText(streamed ? QString()
                                 : tr("%1 projects get their data from files (File > Import data), so there "
                                      "is no capture rate to set.").arg(tpl.title));
        updateFrames();
    }

private:
    void updateFrames()
    {
        m_frames->setText(tr("= %1 readings per sample").arg(qRound64(m_rate->value() * m_length->value())));
    }

    QLineEdit *m_sensor = new QLineEdit(this);
    QDoubleSpinBox *m_rate = new QDoubleSpinBox(this);
    QDoubleSpinBox *m_length = new QDoubleSpinBox(this);
    QLabel *m_frames = new QLabel(this);
    QLabel *m_note = hintLabel(QString(), this);
    QString m_template;
};

// --- summary -------------------------------------------------------------------------------

class ProjectSummaryPage : public QWizardPage
{
public:
    ProjectSummaryPage()
    {
        setTitle(tr("Summary"));
        setSubTitle(tr("Finish creates the project file and opens Data acquisition."));
        m_text->setTextFormat(Qt::RichText);
        m_text->setWordWrap(true);
        m_text->setAlignment(Qt::AlignTop | Qt::AlignLeft);
        m_error->setObjectName(QStringLiteral("error"));
        m_error->setWordWrap(true);
        auto *layout = new QVBoxLayout(this);
        layout->addWidget(m_text);
        layout->addStretch(1);
        layout->addWidget(m_error);
        setFinalPage(true);
    }

    void initializePage() override
    {
        auto *w = static_cast<NewProjectWizard *>(wizard());
        const ProjectSettings s = w->projectSettings();
        const ProjectTemplate &tpl = ProjectTemplate::byId(s.templateName);

        QString rows;
        auto row = [&rows](const QString &k, const QString &v) {
            rows += QStringLiteral("<tr><td style='padding:3px 18px 3px 0;color:#4b5563'>%1</td><td style='padding:3px 0'>%2</td></tr>")
                        .arg(k, v);
        };
        row(tr("Project"), s.name.toHtmlEscaped());
        row(tr("File"), QDir::toNativeSeparators(w->projectPath()).toHtmlEscaped());
        row(tr("Kind"), tpl.title.toHtmlEscaped());
        row(tr("Board"), BoardCatalog::displayName(s.boardId).toHtmlEscaped());
        row(tr("Labels"), s.labels.join(QStringLiteral(", ")).toHtmlEscaped());
        if (tpl.isStreamed())
            row(tr("Samples"), tr("%1, %2 s at %3 Hz").arg(s.sensor.toHtmlEscaped()).arg(s.sampleLengthS).arg(s.sampleRateHz));
        m_text->setText(QStringLiteral("<table>%1</table>").arg(rows));
        m_error->clear();
    }

    void setError(const QString &e) { m_error->setText(e); }

private:
    QLabel *m_text = new QLabel(this);
    QLabel *m_error = new QLabel(this);
};

} // namespace

NewProjectWizard::NewProjectWizard(QWidget *parent) : QWizard(parent)
{
    setWindowTitle(tr("New project"));
    setWizardStyle(QWizard::ModernStyle);
    setOption(QWizard::NoBackButtonOnStartPage);
    setPixmap(QWizard::LogoPixmap, QIcon(QStringLiteral(":/icons/app.svg")).pixmap(40, 40));
    setPage(NamePage, new NameLocationPage);
    setPage(TemplatePage, new TemplateChoicePage);
    setPage(BoardPage, new BoardChoicePage);
    setPage(LabelsPage, new LabelListPage);
    setPage(CapturePage, new CaptureDefaultsPage);
    setPage(SummaryPage, new ProjectSummaryPage);
    resize(760, 540);
}

NewProjectWizard::~NewProjectWizard() = default;

QString NewProjectWizard::defaultLocation()
{
    return QDir::toNativeSeparators(QDir(QStandardPaths::writableLocation(QStandardPaths::HomeLocation))
                                        .absoluteFilePath(QStringLiteral("TinyML")));
}

QString NewProjectWizard::projectPath() const
{
    return static_cast<NameLocationPage *>(page(NamePage))->path();
}

ProjectSettings NewProjectWizard::projectSettings() const
{
    ProjectSettings s;
    s.name = field(QStringLiteral("name")).toString().trimmed();
    s.templateName = field(QStringLiteral("template")).toString();
    s.boardId = field(QStringLiteral("board")).toString();
    s.labels = static_cast<LabelListPage *>(page(LabelsPage))->labels();
    const ProjectTemplate &tpl = ProjectTemplate::byId(s.templateName);
    if (tpl.isStreamed()) {
        s.sensor = field(QStringLiteral("sensor")).toString().trimmed();
        s.sampleRateHz = field(QStringLiteral("rate")).toDouble();
        s.sampleLengthS = field(QStringLiteral("length")).toDouble();
    }
    // Pages not visited yet (a test that jumps ahead) still give the template's defaults.
    if (s.labels.isEmpty())
        s.labels = tpl.labels;
    if (tpl.isStreamed() && s.sampleRateHz <= 0) {
        s.sensor = tpl.sensor;
        s.sampleRateHz = tpl.sampleRateHz;
        s.sampleLengthS = tpl.sampleLengthS;
    }
    return s;
}

std::unique_ptr<ProjectStore> NewProjectWizard::takeStore()
{
    return std::move(m_store);
}

bool NewProjectWizard::validateCurrentPage()
{
    if (!QWizard::validateCurrentPage())
        return false;
    if (currentId() != SummaryPage || m_store)
        return true;
    const QString path = projectPath();
    QString error;
    if (!QDir().mkpath(QFileInfo(path).absolutePath())) {
        error = tr("Cannot create the folder %1.").arg(QDir::toNativeSeparators(QFileInfo(path).absolutePath()));
    } else {
        m_store = ProjectStore::create(path, projectSettings(), &error);
    }
    if (!m_store) {
        static_cast<ProjectSummaryPage *>(page(SummaryPage))->setError(tr("Could not create the project: %1").arg(error));
        return false;
    }
    return true;
}

} // namespace tinyml::ui
