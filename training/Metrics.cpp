#include "Metrics.h"

#include <QJsonArray>

namespace tinyml::training {

ClassificationMetrics computeMetrics(const QVector<int> &truth, const QVector<int> &predicted,
                                     const QStringList &labels)
{
    ClassificationMetrics m;
    const int k = labels.size();
    m.labels = labels;
    m.samples = truth.size();
    m.confusion = QVector<QVector<int>>(k, QVector<int>(k, 0));
    int correct = 0;
    for (int i = 0; i < truth.size() && i < predicted.size(); ++i) {
        if (truth[i] < 0 || truth[i] >= k || predicted[i] < 0 || predicted[i] >= k)
            continue;
        ++m.confusion[truth[i]][predicted[i]];
        correct += truth[i] == predicted[i];
    }
    m.accuracy = truth.isEmpty() ? 0 : double(correct) / truth.size();
    m.precision.resize(k);
    m.recall.resize(k);
    m.f1.resize(k);
    double f1Sum = 0;
    for (int c = 0; c < k; ++c) {
        int tp = m.confusion[c][c], colSum = 0, rowSum = 0;
        for (int j = 0; j < k; ++j) {
            colSum += m.confusion[j][c];
            rowSum += m.confusion[c][j];
        }
        m.precision[c] = colSum ? double(tp) / colSum : 0;
        m.recall[c] = rowSum ? double(tp) / rowSum : 0;
        const double pr = m.precision[c] + m.recall[c];
        m.f1[c] = pr > 0 ? 2 * m.precision[c] * m.recall[c] / pr : 0;
        f1Sum += m.f1[c];
    }
    m.macroF1 = k ? f1Sum / k : 0;
    return m;
}

QVector<int> argmaxRows(const QVector<float> &scores, int classes)
{
    QVector<int> out;
    if (classes <= 0)
        return out;
    const int rows = scores.size() / classes;
    out.reserve(rows);
    for (int r = 0; r < rows; ++r) {
        const float *row = scores.constData() + qint64(r) * classes;
        int best = 0;
        for (int c = 1; c < classes; ++c)
            if (row[c] > row[best])
                best = c;
        out.append(best);
    }
    return out;
}

QJsonObject ClassificationMetrics::toJson() const
{
    QJsonArray perClass, matrix;
    for (int c = 0; c < labels.size(); ++c) {
        int support = 0;
        QJsonArray row;
        for (int j = 0; j < labels.size(); ++j) {
            support += confusion[c][j];
            row.append(confusion[c][j]);
        }
        matrix.append(row);
        perClass.append(QJsonObject{{QStringLiteral("label"), labels[c]},
                                    {QStringLiteral("precision"), precision[c]},
                                    {QStringLiteral("recall"), recall[c]},
                                    {QStringLiteral("f1"), f1[c]},
                                    {QStringLiteral("support"), support}});
    }
    return {{QStringLiteral("accuracy"), accuracy},
            {QStringLiteral("samples"), samples},
            {QStringLiteral("macro_f1"), macroF1},
            {QStringLiteral("labels"), QJsonArray::fromStringList(labels)},
            {QStringLiteral("per_class"), perClass},
            {QStringLiteral("confusion_matrix"), matrix}};
}

} // namespace tinyml::training
