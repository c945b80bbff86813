#pragma once
// Editor of a project's feature block: the block kind and the fields of its parameter
// struct (features/FeatureParams.h), with units and ranges. Plain editing only: the page
// decides when to store the result.

#include "features/FeatureParams.h"

#include <QWidget>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QFormLayout;
class QLabel;
class QLineEdit;
class QSpinBox;
class QStackedWidget;

namespace tinyml::ui {

class FeatureParamsForm : public QWidget
{
    Q_OBJECT
public:
    explicit FeatureParamsForm(QWidget *parent = nullptr);

    /// The kinds offered (a motion project gets raw and spectral, audio mfe/mfcc/raw, ...).
    void setAvailableKinds(const QVector<features::BlockKind> &kinds);
    void setParams(const features::FeatureParams &params);
    /// The edited parameters; nullopt with *error when a field is inconsistent (band edges).
    std::optional<features::FeatureParams> params(QString *error = nullptr) const;

    QComboBox *kindCombo() const { return m_kind; }
    static QString kindTitle(features::BlockKind kind);
    static QString kindDescription(features::BlockKind kind);

Q_SIGNALS:
    void changed();

private:
    void showKind();
    QSpinBox *spin(int lo, int hi, const QString &suffix, const QString &tip);
    QDoubleSpinBox *doubleSpin(double lo, double hi, int decimals, const QString &suffix, const QString &tip);
    QCheckBox *check(const QString &text, const QString &tip);

    features::FeatureParams m_base;   ///< fields the form does not show keep these values
    QComboBox *m_kind;
    QLabel *m_description;
    QStackedWidget *m_pages;
    QWidget *m_rawPage, *m_spectralPage, *m_audioPage, *m_imagePage;
    // raw
    QSpinBox *m_rawWindow;
    QCheckBox *m_rawRemoveMean;
    QDoubleSpinBox *m_rawScale;
    QCheckBox *m_rawSequence;
    // spectral
    QSpinBox *m_specWindow;
    QDoubleSpinBox *m_specRate;
    QSpinBox *m_specBands;
    QLineEdit *m_specEdges;
    QSpinBox *m_specPeaks;
    // mfe / mfcc
    QFormLayout *m_audioForm;
    QSpinBox *m_audioWindow;
    QDoubleSpinBox *m_audioRate;
    QSpinBox *m_frameLength;
    QSpinBox *m_frameStride;
    QSpinBox *m_filters;
    QDoubleSpinBox *m_lowHz;
    QDoubleSpinBox *m_highHz;
    QDoubleSpinBox *m_preEmphasis;
    QSpinBox *m_coeffs;
    QSpinBox *m_lifter;
    // image
    QSpinBox *m_imageWidth;
    QSpinBox *m_imageHeight;
    QComboBox *m_imageChannels;
    QCheckBox *m_bilinear;
};

} // namespace tinyml::ui
