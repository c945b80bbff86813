#include "Dataset.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace tinyml::training {

int TrainingData::inputSize() const
{
    int n = 1;
    for (int d : inputShape)
        n *= d;
    return inputShape.isEmpty() ? 0 : n;
}

TrainingData TrainingData::subset(const QVector<int> &rows) const
{
    TrainingData out;
    out.inputShape = inputShape;
    out.labels = labels;
    out.timeSeries = timeSeries;
    const int n = inputSize();
    out.x.resize(qint64(rows.size()) * n);
    out.y.reserve(rows.size());
    float *dst = out.x.data();
    for (int r : rows) {
        std::copy(sample(r), sample(r) + n, dst);
        dst += n;
        out.y.append(y[r]);
    }
    return out;
}

QVector<int> TrainingData::classCounts() const
{
    QVector<int> counts(classCount(), 0);
    for (int c : y)
        if (c >= 0 && c < counts.size())
            ++counts[c];
    return counts;
}

bool TrainingData::isValid(QString *error) const
{
    auto bad = [&](const QString &m) {
        if (error)
            *error = m;
        return false;
    };
    if (inputShape.isEmpty() || inputSize() <= 0)
        return bad(QStringLiteral("training data has no input shape"));
    if (x.size() != qint64(y.size()) * inputSize())
        return bad(QStringLiteral("training data holds %1 floats for %2 samples of %3")
                       .arg(x.size()).arg(y.size()).arg(inputSize()));
    if (labels.size() < 2)
        return bad(QStringLiteral("training needs at least two labels, got %1").arg(labels.size()));
    for (int c : y)
        if (c < 0 || c >= labels.size())
            return bad(QStringLiteral("class index %1 outside the %2 labels").arg(c).arg(labels.size()));
    return true;
}

void stratifiedSplit(const TrainingData &data, double fraction, std::uint64_t seed,
                     QVector<int> *first, QVector<int> *second)
{
    first->clear();
    second->clear();
    std::mt19937_64 rng(seed);
    for (int c = 0; c < data.classCount(); ++c) {
        QVector<int> rows;
        for (int i = 0; i < data.count(); ++i)
            if (data.y[i] == c)
                rows.append(i);
        std::shuffle(rows.begin(), rows.end(), rng);
        int k = int(rows.size() * fraction + 0.5);
        if (k == 0 && rows.size() >= 2 && fraction > 0)
            k = 1;
        for (int i = 0; i < rows.size(); ++i)
            (i < k ? second : first)->append(rows[i]);
    }
    std::sort(first->begin(), first->end());
    std::sort(second->begin(), second->end());
}

void elementStats(const TrainingData &data, QVector<float> *mean, QVector<float> *std)
{
    const int n = data.inputSize();
    QVector<double> s(n, 0.0), s2(n, 0.0);
    for (int i = 0; i < data.count(); ++i) {
        const float *x = data.sample(i);
        for (int k = 0; k < n; ++k) {
            s[k] += x[k];
            s2[k] += double(x[k]) * x[k];
        }
    }
    mean->resize(n);
    std->resize(n);
    const double c = std::max(1, data.count());
    for (int k = 0; k < n; ++k) {
        const double m = s[k] / c;
        const double v = std::max(0.0, s2[k] / c - m * m);
        (*mean)[k] = float(m);
        (*std)[k] = v > 1e-12 ? float(std::sqrt(v)) : 1.0f;
    }
}

void normalizeElements(TrainingData &data, const QVector<float> &mean, const QVector<float> &std)
{
    const int n = data.inputSize();
    if (mean.size() != n || std.size() != n)
        return;
    for (qint64 i = 0; i < data.x.size(); ++i) {
        const int k = int(i % n);
        data.x[i] = (data.x[i] - mean[k]) / std[k];
    }
}

QVector<int> representativeRows(const TrainingData &data, int n, std::uint64_t seed)
{
    if (n >= data.count()) {
        QVector<int> all(data.count());
        std::iota(all.begin(), all.end(), 0);
        return all;
    }
    QVector<int> rest, picked;
    stratifiedSplit(data, double(n) / data.count(), seed, &rest, &picked);
    return picked;
}

} // namespace tinyml::training
