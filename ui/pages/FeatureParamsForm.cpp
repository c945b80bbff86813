#include "pages/FeatureParamsForm.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QStackedWidget>
#include <QVBoxLayout>

namespace tinyml::ui {

using features::BlockKind;

QString FeatureParamsForm::kindTitle(BlockKind kind)
{
    switch (kind) {
    case BlockKind::Raw: return tr("Raw data");
    case BlockKind::Spectral: return tr("Spectral analysis");
    case BlockKind::Mfe: return tr("MFE (log-mel energies)");
    case BlockKind::Mfcc: return tr("MFCC");
    case BlockKind::Image: return tr("Image");
    }
    return {};
}

QString FeatureParamsForm::kindDescription(BlockKind kind)
{
    switch (kind) {
    case BlockKind::Raw: return tr("The window's values as they are, optionally centred and scaled.");
    case BlockKind::Spectral: return tr("Per axis: RMS, mean, standard deviation, power per frequency band and the strongest peaks.");
    case BlockKind::Mfe: return tr("Log energies of mel-spaced filters per audio frame: a spectrogram on the ear's scale.");
    case BlockKind::Mfcc: return tr("Cepstral coefficients of the mel energies per frame, as keyword spotting uses.");
    case BlockKind::Image: return tr("Resized to a fixed size, grey or RGB, values scaled to 0..1.");
    }
    return {};
}

FeatureParamsForm::FeatureParamsForm(QWidget *parent)
    : QWidget(parent), m_kind(new QComboBox(this)), m_description(new QLabel(this)), m_pages(new QStackedWidget(this))
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    auto *kindRow = new QFormLayout;
    kindRow->addRow(tr("Block:"), m_kind);
    layout->addLayout(kindRow);
    m_description->setObjectName(QStringLiteral("hint"));
    m_description->setWordWrap(true);
    layout->addWidget(m_description);

    auto makePage = [this](QFormLayout **form) {
        auto *page = new QWidget(m_pages);
        auto *f = new QFormLayout(page);
        f->setContentsMargins(0, 4, 0, 0);
        f->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
        *form = f;
        m_pages->addWidget(page);
        return page;
    };

    QFormLayout *f = nullptr;
    m_rawPage = makePage(&f);
    m_rawWindow = spin(0, 1 << 20, tr(" frames"), tr("Frames per window; 0 takes each sample whole"));
    m_rawWindow->setSpecialValueText(tr("whole sample"));
    m_rawRemoveMean = check(tr("Remove the mean per channel"), tr("Centre every channel of the window on zero"));
    m_rawScale = doubleSpin(1e-6, 1e6, 4, QString(), tr("Every value is multiplied by this"));
    m_rawSequence = check(tr("Keep the time axis"), tr("[1, 1, T, C] for a 1-D CNN instead of a flat vector"));
    f->addRow(tr("Window:"), m_rawWindow);
    f->addRow(tr("Scale:"), m_rawScale);
    f->addRow(QString(), m_rawRemoveMean);
    f->addRow(QString(), m_rawSequence);

    m_spectralPage = makePage(&f);
    m_specWindow = spin(0, 1 << 20, tr(" frames"), tr("Frames per window; 0 takes each sample whole"));
    m_specWindow->setSpecialValueText(tr("whole sample"));
    m_specRate = doubleSpin(0, 1e6, 1, tr(" Hz"), tr("Sample rate the band edges refer to; 0 uses each sample's own"));
    m_specRate->setSpecialValueText(tr("sample's rate"));
    m_specBands = spin(1, 32, tr(" bands"), tr("Frequency bands whose power is measured"));
    m_specEdges = new QLineEdit(this);
    m_specEdges->setPlaceholderText(tr("equal widths, 0 Hz … Nyquist"));
    m_specEdges->setToolTip(tr("Band edges in Hz, comma separated: one more than the number of bands"));
    connect(m_specEdges, &QLineEdit::textChanged, this, &FeatureParamsForm::changed);
    m_specPeaks = spin(0, 10, tr(" peaks"), tr("Strongest spectral peaks reported as (frequency, power)"));
    f->addRow(tr("Window:"), m_specWindow);
    f->addRow(tr("Sample rate:"), m_specRate);
    f->addRow(tr("Bands:"), m_specBands);
    f->addRow(tr("Band edges:"), m_specEdges);
    f->addRow(tr("Peaks:"), m_specPeaks);

    m_audioPage = makePage(&m_audioForm);
    m_audioWindow = spin(64, 1 << 22, tr(" samples"), tr("Audio samples fed to the block"));
    m_audioRate = doubleSpin(1000, 96000, 0, tr(" Hz"), tr("Clips of another rate are refused (no resampling)"));
    m_frameLength = spin(16, 8192, tr(" samples"), tr("Length of one analysis frame"));
    m_frameStride = spin(8, 8192, tr(" samples"), tr("Step between frames"));
    m_filters = spin(4, 128, tr(" filters"), tr("Mel filters (rows of the spectrogram)"));
    m_lowHz = doubleSpin(0, 48000, 0, tr(" Hz"), tr("Lowest filter edge"));
    m_highHz = doubleSpin(0, 48000, 0, tr(" Hz"), tr("Highest filter edge; 0 is the Nyquist frequency"));
    m_highHz->setSpecialValueText(tr("Nyquist"));
    m_preEmphasis = doubleSpin(0, 1, 2, QString(), tr("First-order high-pass y[n] = x[n] - a x[n-1]; 0 turns it off"));
    m_coeffs = spin(1, 64, tr(" coefficients"), tr("Cepstral coefficients kept per frame"));
    m_lifter = spin(0, 128, QString(), tr("Sinusoidal liftering of the coefficients; 0 turns it off"));
    m_audioForm->addRow(tr("Window:"), m_audioWindow);
    m_audioForm->addRow(tr("Sample rate:"), m_audioRate);
    m_audioForm->addRow(tr("Frame length:"), m_frameLength);
    m_audioForm->addRow(tr("Frame stride:"), m_frameStride);
    m_audioForm->addRow(tr("Filters:"), m_filters);
    m_audioForm->addRow(tr("Low edge:"), m_lowHz);
    m_audioForm->addRow(tr("High edge:"), m_highHz);
    m_audioForm->addRow(tr("Pre-emphasis:"), m_preEmphasis);
    m_audioForm->addRow(tr("Coefficients:"), m_coeffs);
    m_audioForm->addRow(tr("Lifter:"), m_lifter);

    m_imagePage = makePage(&f);
    m_imageWidth = spin(4, 512, tr(" px"), tr("Width after resizing"));
    m_imageHeight = spin(4, 512, tr(" px"), tr("Height after resizing"));
    m_imageChannels = new QComboBox(this);
    m_imageChannels->addItem(tr("Grey (1 channel)"), 1);
    m_imageChannels->addItem(tr("RGB (3 channels)"), 3);
    connect(m_imageChannels, &QComboBox::currentIndexChanged, this, &FeatureParamsForm::changed);
    m_bilinear = check(tr("Bilinear resizing"), tr("Off: nearest neighbour"));
    f->addRow(tr("Width:"), m_imageWidth);
    f->addRow(tr("Height:"), m_imageHeight);
    f->addRow(tr("Colour:"), m_imageChannels);
    f->addRow(QString(), m_bilinear);

    layout->addWidget(m_pages);
    connect(m_kind, &QComboBox::currentIndexChanged, this, [this] {
        showKind();
        Q_EMIT changed();
    });
    setAvailableKinds({BlockKind::Raw, BlockKind::Spectral, BlockKind::Mfe, BlockKind::Mfcc, BlockKind::Image});
    setParams(features::FeatureParams());
}

QSpinBox *FeatureParamsForm::spin(int lo, int hi, const QString &suffix, const QString &tip)
{
    auto *s = new QSpinBox(this);
    s->setRange(lo, hi);
    s->setSuffix(suffix);
    s->setToolTip(tip);
    s->setAccelerated(true);
    connect(s, &QSpinBox::valueChanged, this, &FeatureParamsForm::changed);
    return s;
}

QDoubleSpinBox *FeatureParamsForm::doubleSpin(double lo, double hi, int decimals, const QString &suffix,
                                              const QString &tip)
{
    auto *s = new QDoubleSpinBox(this);
    s->setDecimals(decimals);
    s->setRange(lo, hi);
    s->setSuffix(suffix);
    s->setToolTip(tip);
    connect(s, &QDoubleSpinBox::valueChanged, this, &FeatureParamsForm::changed);
    return s;
}

QCheckBox *FeatureParamsForm::check(const QString &text, const QString &tip)
{
    auto *c = new QCheckBox(text, this);
    c->setToolTip(tip);
    connect(c, &QCheckBox::toggled, this, &FeatureParamsForm::changed);
    return c;
}

void FeatureParamsForm::setAvailableKinds(const QVector<BlockKind> &kinds)
{
    const QSignalBlocker blocker(m_kind);
    const QVariant current = m_kind->currentData();
    m_kind->clear();
    for (BlockKind k : kinds)
        m_kind->addItem(kindTitle(k), int(k));
    const int i = m_kind->findData(current);
    m_kind->setCurrentIndex(i >= 0 ? i : 0);
    showKind();
}

void FeatureParamsForm::setParams(const features::FeatureParams &p)
{
    m_base = p;
    {
        const QSignalBlocker blocker(this);
        if (m_kind->findData(int(p.kind)) < 0)
            m_kind->addItem(kindTitle(p.kind), int(p.kind));
        {
            const QSignalBlocker kindBlocker(m_kind);
            m_kind->setCurrentIndex(m_kind->findData(int(p.kind)));
        }
        m_rawWindow->setValue(p.raw.windowFrames);
        m_rawRemoveMean->setChecked(p.raw.removeMean);
        m_rawScale->setValue(p.raw.scale);
        m_rawSequence->setChecked(p.raw.asSequence);

        m_specWindow->setValue(p.spectral.windowFrames);
        m_specRate->setValue(p.spectral.sampleRateHz);
        m_specBands->setValue(p.spectral.nBands);
        QStringList edges;
        for (float e : p.spectral.bandEdgesHz)
            edges << QString::number(e);
        m_specEdges->setText(edges.join(QStringLiteral(", ")));
        m_specPeaks->setValue(p.spectral.nPeaks);

        const features::MfeParams &mfe = p.kind == BlockKind::Mfcc ? p.mfcc.mfe : p.mfe;
        m_audioWindow->setValue(mfe.windowFrames);
        m_audioRate->setValue(mfe.sampleRateHz);
        m_frameLength->setValue(mfe.frameLength);
        m_frameStride->setValue(mfe.frameStride);
        m_filters->setValue(mfe.nFilters);
        m_lowHz->setValue(mfe.lowHz);
        m_highHz->setValue(mfe.highHz);
        m_preEmphasis->setValue(mfe.preEmphasis);
        m_coeffs->setValue(p.mfcc.nCoeffs);
        m_lifter->setValue(p.mfcc.lifter);

        m_imageWidth->setValue(p.image.width);
        m_imageHeight->setValue(p.image.height);
        m_imageChannels->setCurrentIndex(m_imageChannels->findData(p.image.channels));
        m_bilinear->setChecked(p.image.bilinear);
    }
    showKind();
}

std::optional<features::FeatureParams> FeatureParamsForm::params(QString *error) const
{
    features::FeatureParams p = m_base;
    p.kind = BlockKind(m_kind->currentData().toInt());
    p.raw.windowFrames = m_rawWindow->value();
    p.raw.removeMean = m_rawRemoveMean->isChecked();
    p.raw.scale = float(m_rawScale->value());
    p.raw.asSequence = m_rawSequence->isChecked();

    p.spectral.windowFrames = m_specWindow->value();
    p.spectral.sampleRateHz = float(m_specRate->value());
    p.spectral.nBands = m_specBands->value();
    p.spectral.nPeaks = m_specPeaks->value();
    p.spectral.bandEdgesHz.clear();
    const QString edgesText = m_specEdges->text().trimmed();
    if (!edgesText.isEmpty()) {
        for (const QString &part : edgesText.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
            bool ok = false;
            const float v = part.trimmed().toFloat(&ok);
            if (!ok) {
                if (error)
                    *error = tr("Band edge \"%1\" is not a number.").arg(part.trimmed());
                return std::nullopt;
            }
            p.spectral.bandEdgesHz << v;
        }
        if (p.spectral.bandEdgesHz.size() != p.spectral.nBands + 1) {
            if (error)
                *error = tr("%1 bands need %2 band edges (%3 given).")
                             .arg(p.spectral.nBands)
                             .arg(p.spectral.nBands + 1)
                             .arg(p.spectral.bandEdgesHz.size());
            return std::nullopt;
        }
    }

    features::MfeParams mfe = p.kind == BlockKind::Mfcc ? p.mfcc.mfe : p.mfe;
    mfe.windowFrames = m_audioWindow->value();
    mfe.sampleRateHz = float(m_audioRate->value());
    mfe.frameLength = m_frameLength->value();
    mfe.frameStride = m_frameStride->value();
    mfe.nFilters = m_filters->value();
    mfe.lowHz = float(m_lowHz->value());
    mfe.highHz = float(m_highHz->value());
    mfe.preEmphasis = float(m_preEmphasis->value());
    p.mfe = mfe;
    p.mfcc.mfe = mfe;
    p.mfcc.nCoeffs = m_coeffs->value();
    p.mfcc.lifter = m_lifter->value();

    p.image.width = m_imageWidth->value();
    p.image.height = m_imageHeight->value();
    p.image.channels = m_imageChannels->currentData().toInt();
    p.image.bilinear = m_bilinear->isChecked();
    return p;
}

void FeatureParamsForm::showKind()
{
    const BlockKind kind = BlockKind(m_kind->currentData().toInt());
    m_description->setText(kindDescription(kind));
    switch (kind) {
    case BlockKind::Raw: m_pages->setCurrentWidget(m_rawPage); break;
    case BlockKind::Spectral: m_pages->setCurrentWidget(m_spectralPage); break;
    case BlockKind::Mfe:
    case BlockKind::Mfcc: m_pages->setCurrentWidget(m_audioPage); break;
    case BlockKind::Image: m_pages->setCurrentWidget(m_imagePage); break;
    }
    m_audioForm->setRowVisible(m_coeffs, kind == BlockKind::Mfcc);
    m_audioForm->setRowVisible(m_lifter, kind == BlockKind::Mfcc);
    // The stack is as tall as its tallest page otherwise.
    for (int i = 0; i < m_pages->count(); ++i)
        m_pages->widget(i)->setSizePolicy(QSizePolicy::Preferred, m_pages->widget(i) == m_pages->currentWidget()
                                                                       ? QSizePolicy::Preferred
                                                                       : QSizePolicy::Ignored);
    m_pages->adjustSize();
}

} // namespace tinyml::ui
