#pragma once
// Classification metrics: accuracy, per-class precision / recall / F1, confusion matrix.

#include <QJsonObject>
#include <QStringList>
#include <QVector>

namespace tinyml::training {

struct ClassificationMetrics {
    QStringList labels;
    int samples = 0;
    double accuracy = 0;
    double loss = 0;                         ///< mean cross-entropy when known, else 0
    QVector<double> precision, recall, f1;   ///< per class; 0 when undefined
    double macroF1 = 0;
    QVector<QVector<int>> confusion;         ///< confusion[true][predicted]

    /// {"accuracy", "samples", "macro_f1", "per_class": [{label, precision, recall, f1,
    ///  support}], "confusion_matrix": [[...]], "labels": [...]}
    QJsonObject toJson() const;
};

/// predicted and truth are class indices of the same length.
ClassificationMetrics computeMetrics(const QVector<int> &truth, const QVector<int> &predicted,
                                     const QStringList &labels);

/// Row-wise argmax of rows x classes scores.
QVector<int> argmaxRows(const QVector<float> &scores, int classes);

} // namespace tinyml::training
