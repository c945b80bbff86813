#pragma once
// Choosing the post-processing's operating point from a calibration sweep: the DET curve
// (DetCurvePlot) with every swept setting and the Pareto front, and the chosen point's
// parameters in a table with "Save operating point".
//
// Plain data in (CalibrationRow), indices out: clicking a point (or Left/Right on the focused
// curve) emits operatingPointChosen; the button or Ctrl+S while the view has focus emits
// saveRequested. The owner does the saving.

#include "live/LiveRows.h"

#include <QVector>
#include <QWidget>

class QLabel;
class QPushButton;
class QTableWidget;

namespace tinyml::ui {

class DetCurvePlot;

class CalibrationView : public QWidget
{
    Q_OBJECT
public:
    explicit CalibrationView(QWidget *parent = nullptr);

    void setPoints(const QVector<CalibrationRow> &points);
    /// What the sweep ran on, e.g. "Swept on a replay of kw.wav with kw.truth.csv".
    void setSourceNote(const QString &text);
    QString sourceNote() const;
    /// Shows point `index` as the operating point (-1: none). Does not emit.
    void setChosen(int index);
    int chosen() const;
    const QVector<CalibrationRow> &points() const { return m_points; }

    DetCurvePlot *curve() const { return m_curve; }
    QTableWidget *table() const { return m_table; }
    QPushButton *saveButton() const { return m_save; }

Q_SIGNALS:
    void operatingPointChosen(int index);
    void saveRequested(int index);

private:
    void showChosen();
    void save();

    DetCurvePlot *m_curve;
    QTableWidget *m_table;
    QPushButton *m_save;
    QLabel *m_summary;
    QLabel *m_source;
    QVector<CalibrationRow> m_points;
};

} // namespace tinyml::ui
