#pragma once
// The Anomaly stage: the user ticks the normal label(s), picks the model (K-means, Gaussian
// mixture, dense or 1-D convolutional autoencoder; clusters, false-positive budget) and trains on a worker thread
// with a live loss curve for the autoencoder and Cancel. Then the test split's ROC curve with its
// AUC, the score histograms of normal vs anomalous samples, and a threshold slider that steps
// through the ROC's operating points showing TPR / FPR and false alarms per hour of normal stream
// as it moves (a mode switch beside it picks which one the budget and the point are read in:
// FPR % or false alarms per hour = FPR x the impulse's windows per hour); Save stores the chosen
// operating point with the model. Everything is computed by training/AnomalyPipeline.h; this page
// reads the run's outcome JSON (AnomalyOutcome::toJson) and only shows it.

#include <QJsonArray>
#include <QJsonObject>
#include <QVector>
#include <QWidget>

#include <optional>

class QComboBox;
class QCPItemText;
class QCustomPlot;
class QDoubleSpinBox;
class QLabel;
class QListWidget;
class QProgressBar;
class QPushButton;
class QSlider;
class QSpinBox;
class QTableWidget;

namespace tinyml {
class ProjectTask;
}

namespace tinyml::ui {

class ProjectSession;

class AnomalyPage : public QWidget
{
    Q_OBJECT
public:
    /// One operating point of the ROC: alarm when score > threshold.
    struct OperatingPoint {
        double threshold = 0;
        double fpr = 0, tpr = 0;
    };
    /// How the false-alarm budget is given and the operating point read (the switch's data).
    enum class BudgetMode { Fpr = 0, FalseAlarmsPerHour = 1 };

    explicit AnomalyPage(QWidget *parent = nullptr);
    ~AnomalyPage() override;

    void setSession(ProjectSession *session);   ///< nullptr: no project (cancels a run)

    /// Trains with the page's choices on a worker; false when it cannot start (status says why).
    bool startTraining();
    void cancel();
    bool isRunning() const;
    /// Shows the newest finished anomaly run of the project, if any.
    void loadLatest();
    /// Stores the slider's threshold (and its TPR / FPR on the test split) in the model's
    /// metrics; false with the reason in the status line.
    bool saveThreshold();

    /// Outcome JSON of the run shown (AnomalyOutcome::toJson); empty when none.
    const QJsonObject &outcome() const { return m_outcome; }
    /// The ROC's operating points with a finite threshold, ascending threshold (the slider's steps).
    const QVector<OperatingPoint> &operatingPoints() const { return m_points; }
    /// The slider's point; nullopt when the run has no ROC (a class missing in the test split).
    std::optional<OperatingPoint> currentPoint() const;

    /// The rates at a threshold from an evaluation's JSON (AnomalyEvaluation::toJson: "roc"
    /// [[fpr, tpr, threshold]...] where each point's threshold is the next lower score, from
    /// +inf (null) down to -inf (null), and "histogram" whose "hi" is the highest score). Alarms
    /// are score > threshold. nullopt without a curve (a class missing in the test split).
    static std::optional<OperatingPoint> ratesAt(const QJsonObject &evaluation, double threshold);

    QListWidget *normalLabelList() const { return m_normal; }
    QComboBox *modelCombo() const { return m_model; }
    QSpinBox *clustersSpin() const { return m_clusters; }
    QDoubleSpinBox *maxFprSpin() const { return m_maxFpr; }
    /// Budget in false alarms per hour (shown in that mode instead of maxFprSpin).
    QDoubleSpinBox *maxFalseAlarmsPerHourSpin() const { return m_maxPerHour; }
    /// FPR % / false alarms per hour, beside the threshold slider.
    QComboBox *budgetModeCombo() const { return m_budgetMode; }
    BudgetMode budgetMode() const;
    void setBudgetMode(BudgetMode mode);
    /// Windows per hour of the shown model's stream (outcome "stream"); nullopt without a stream.
    std::optional<double> windowsPerHour() const;
    QSpinBox *epochsSpin() const { return m_epochs; }
    QSpinBox *seedSpin() const { return m_seed; }
    QPushButton *trainButton() const { return m_train; }
    QPushButton *cancelButton() const { return m_cancel; }
    QProgressBar *progressBar() const { return m_progress; }
    QLabel *statusLabel() const { return m_status; }
    QCustomPlot *lossPlot() const { return m_lossPlot; }
    QCustomPlot *rocPlot() const { return m_rocPlot; }
    QCustomPlot *histogramPlot() const { return m_histPlot; }
    QSlider *thresholdSlider() const { return m_slider; }
    QLabel *operatingPointLabel() const { return m_pointLabel; }
    QPushButton *saveButton() const { return m_save; }
    QTableWidget *perLabelTable() const { return m_perLabel; }

Q_SIGNALS:
    /// A training run ended (ok, failed or cancelled).
    void runFinished(bool ok);

protected:
    void showEvent(QShowEvent *event) override;

private:
    void fillLabels();
    void updateButtons();
    void clearResults();
    void showOutcome(const QJsonObject &outcome, std::optional<double> savedThreshold);
    void showPoint();
    void addLossPoint(int epoch, double loss, double valLoss);
    void setStatus(const QString &text, bool error = false);

    ProjectSession *m_session = nullptr;
    ProjectTask *m_task;
    QJsonObject m_outcome;
    QVector<OperatingPoint> m_points;

    QLabel *m_summary;
    QListWidget *m_normal;
    QComboBox *m_model;
    QSpinBox *m_clusters;
    QDoubleSpinBox *m_maxFpr;
    QDoubleSpinBox *m_maxPerHour;
    QComboBox *m_budgetMode;
    QLabel *m_budgetLabel;
    QSpinBox *m_epochs;
    QSpinBox *m_seed;
    QPushButton *m_train;
    QPushButton *m_cancel;
    QProgressBar *m_progress;
    QLabel *m_status;
    QCustomPlot *m_lossPlot;
    QCPItemText *m_lossMessage;
    QCustomPlot *m_rocPlot;
    QCustomPlot *m_histPlot;
    QSlider *m_slider;
    QLabel *m_pointLabel;
    QPushButton *m_save;
    QLabel *m_resultSummary;
    QTableWidget *m_perLabel;
};

} // namespace tinyml::ui
