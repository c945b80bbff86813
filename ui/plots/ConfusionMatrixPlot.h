#pragma once
// Confusion matrix as a heat map: true label down the left, predicted label along the
// bottom, the count written in every cell. Colour is the share of the true label's
// samples (row-normalised), so a small class with every sample wrong still shows red-hot
// off the diagonal.

#include <QStringList>
#include <QVector>
#include <QWidget>

class QCustomPlot;
class QCPColorMap;
class QCPItemText;

namespace tinyml::ui {

class ConfusionMatrixPlot : public QWidget
{
    Q_OBJECT
public:
    explicit ConfusionMatrixPlot(QWidget *parent = nullptr);

    /// confusion[true][predicted].
    void setMatrix(const QStringList &labels, const QVector<QVector<int>> &confusion);
    void clear(const QString &message);

    int total() const;                        ///< sum of every cell
    int count(int truth, int predicted) const;
    QString cellText(int truth, int predicted) const;
    QCustomPlot *plot() const { return m_plot; }

protected:
    void showEvent(QShowEvent *event) override;

private:
    void replot();

    QCustomPlot *m_plot;
    QCPColorMap *m_map;
    QCPItemText *m_message;
    QVector<QCPItemText *> m_cellTexts;
    QStringList m_labels;
    QVector<QVector<int>> m_confusion;
};

} // namespace tinyml::ui
