#pragma once
// The Training stage: model choice and hyper-parameters (remembered in QSettings), training
// on a worker thread with live loss / accuracy curves and Cancel, the test split's
// confusion matrix and per-class precision / recall / F1, and int8 quantization with the
// float vs int8 comparison and per-layer SQNR. The latest run's results load with the
// project. Everything is computed by training/TrainingPipeline.h; this page only shows it.

#include "pages/TrainingReport.h"

#include <QWidget>

#include <optional>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableWidget;
class QTabWidget;

namespace tinyml {
class ProjectTask;
}

namespace tinyml::ui {

class ConfusionMatrixPlot;
class ProjectSession;
class SqnrBarsPlot;
class TrainingCurvesPlot;

class TrainingPage : public QWidget
{
    Q_OBJECT
public:
    explicit TrainingPage(QWidget *parent = nullptr);
    ~TrainingPage() override;

    void setSession(ProjectSession *session);   ///< nullptr: no project (cancels a run)

    bool startTraining();
    bool startQuantization();
    void cancel();
    bool isRunning() const;
    /// Shows the newest finished run of the project and its int8 model, if any.
    void loadLatest();

    const std::optional<TrainingReport> &report() const { return m_report; }
    const std::optional<QuantizeReport> &quantization() const { return m_quant; }

    QComboBox *architectureCombo() const { return m_architecture; }
    QSpinBox *epochsSpin() const { return m_epochs; }
    QDoubleSpinBox *learningRateSpin() const { return m_learningRate; }
    QSpinBox *batchSizeSpin() const { return m_batchSize; }
    QSpinBox *seedSpin() const { return m_seed; }
    QSpinBox *threadsSpin() const { return m_threads; }
    QCheckBox *qatCheck() const { return m_qat; }
    QPushButton *startButton() const { return m_start; }
    QPushButton *cancelButton() const { return m_cancel; }
    QPushButton *quantizeButton() const { return m_quantize; }
    TrainingCurvesPlot *curves() const { return m_curves; }
    ConfusionMatrixPlot *confusionMatrix() const { return m_confusion; }
    QTableWidget *classTable() const { return m_classTable; }
    QTableWidget *quantTable() const { return m_quantTable; }
    SqnrBarsPlot *sqnrPlot() const { return m_sqnr; }
    QTabWidget *resultTabs() const { return m_tabs; }
    QLabel *statusLabel() const { return m_status; }

Q_SIGNALS:
    /// A training or quantization run ended (ok, failed or cancelled).
    void runFinished(bool ok);

private:
    void restoreSettings();
    void storeSettings() const;
    void updateButtons();
    void showReport();
    void showQuantization();
    void clearResults();
    void setStatus(const QString &text, bool error = false);

    ProjectSession *m_session = nullptr;
    ProjectTask *m_task;
    std::optional<TrainingReport> m_report;
    std::optional<QuantizeReport> m_quant;
    bool m_quantizing = false;

    QLabel *m_summary;
    QComboBox *m_architecture;
    QLabel *m_modelInfo;
    QSpinBox *m_epochs;
    QDoubleSpinBox *m_learningRate;
    QSpinBox *m_batchSize;
    QSpinBox *m_seed;
    QSpinBox *m_threads;
    QCheckBox *m_qat;
    QPushButton *m_start;
    QPushButton *m_cancel;
    QPushButton *m_quantize;
    QProgressBar *m_progress;
    QLabel *m_status;
    TrainingCurvesPlot *m_curves;
    QTabWidget *m_tabs;
    ConfusionMatrixPlot *m_confusion;
    QLabel *m_testSummary;
    QTableWidget *m_classTable;
    QTableWidget *m_quantTable;
    QLabel *m_quantSummary;
    SqnrBarsPlot *m_sqnr;
};

} // namespace tinyml::ui
