#pragma once
// The Features stage: the project's feature block and its parameters, "Generate features"
// on a worker thread (progress, Cancel; rows are cached in the project), and the feature
// explorer: a 2-D PCA scatter coloured by label and the selected sample's features.

#include "features/FeatureSet.h"

#include <QWidget>

#include <optional>

class QComboBox;
class QLabel;
class QProgressBar;
class QPushButton;

namespace tinyml {
class ProjectTask;
}

namespace tinyml::ui {

class FeatureParamsForm;
class FeatureScatterPlot;
class ProjectSession;
class SampleFeaturesPlot;

class FeaturesPage : public QWidget
{
    Q_OBJECT
public:
    explicit FeaturesPage(QWidget *parent = nullptr);
    ~FeaturesPage() override;

    void setSession(ProjectSession *session);   ///< nullptr: no project (cancels a run)

    /// Stores the form's parameters in the project; false (with a message) when invalid.
    bool saveParams();
    /// Saves, then computes the features of every sample on a worker thread.
    bool generate();
    void cancel();
    bool isRunning() const;
    /// Selects a row of the feature set (scatter ring, sample combo, features plot).
    void selectRow(int row);

    /// The features last generated or loaded from the cache.
    const std::optional<features::FeatureSet> &featureSet() const { return m_set; }
    FeatureParamsForm *form() const { return m_form; }
    FeatureScatterPlot *scatter() const { return m_scatter; }
    SampleFeaturesPlot *sampleFeatures() const { return m_sampleFeatures; }
    QPushButton *generateButton() const { return m_generate; }
    QPushButton *cancelButton() const { return m_cancel; }
    QPushButton *saveButton() const { return m_save; }
    QProgressBar *progressBar() const { return m_progress; }
    QLabel *statusLabel() const { return m_status; }
    /// The samples the last run left out (FeatureSet::skipped), one per line with the reason;
    /// hidden when there are none.
    QLabel *skippedLabel() const { return m_skipped; }

Q_SIGNALS:
    /// A run ended (ok, failed or cancelled) or cached features were loaded.
    void featuresUpdated();

private:
    enum class Mode { Generate, LoadCache };
    void start(Mode mode);
    void loadFromSession();
    void updateOutputShape();
    void updateButtons();
    void showSet();
    void showSkipped();
    QString shapeText(const QVector<qint64> &shape) const;

    ProjectSession *m_session = nullptr;
    ProjectTask *m_task;
    std::optional<features::FeatureSet> m_set;
    double m_fraction1 = 0, m_fraction2 = 0;
    QVector<double> m_x, m_y;

    QLabel *m_summary;
    FeatureParamsForm *m_form;
    QLabel *m_outputShape;
    QPushButton *m_defaults;
    QPushButton *m_save;
    QPushButton *m_generate;
    QPushButton *m_cancel;
    QProgressBar *m_progress;
    QLabel *m_status;
    QLabel *m_skipped;
    QLabel *m_statShape;
    QLabel *m_statCount;
    QLabel *m_statSplit;
    FeatureScatterPlot *m_scatter;
    QComboBox *m_sampleCombo;
    SampleFeaturesPlot *m_sampleFeatures;
};

} // namespace tinyml::ui
