#pragma once
// The project's samples as a table (no data, only SampleInfo). Reloads from the store
// when the session says samples changed.

#include "store/ProjectStore.h"

#include <QAbstractTableModel>
#include <QVector>

namespace tinyml::ui {

class SampleTableModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column { Id, Label, Split, Length, Device, Created, Checksum, ColumnCount };
    enum Role {
        SortRole = Qt::UserRole + 1,   ///< numbers and dates as themselves, for sorting
        SampleIdRole,
        LabelRole,
        SplitRole,                    ///< "train" / "test"
    };

    explicit SampleTableModel(QObject *parent = nullptr);

    void setSamples(QVector<SampleInfo> samples);
    const QVector<SampleInfo> &samples() const { return m_samples; }
    const SampleInfo *sampleAt(int row) const;
    int rowOfId(qint64 id) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    /// "2.00 s" for time series, "96x96x1" for images, "12 features" for rows.
    static QString lengthText(const SampleInfo &info);

private:
    QVector<SampleInfo> m_samples;
};

} // namespace tinyml::ui
