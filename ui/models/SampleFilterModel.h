#pragma once
// Filters the sample table by free text, label and split, and sorts by SortRole.

#include <QSortFilterProxyModel>

namespace tinyml::ui {

class SampleFilterModel : public QSortFilterProxyModel
{
    Q_OBJECT
public:
    explicit SampleFilterModel(QObject *parent = nullptr);

    void setText(const QString &text);
    void setLabel(const QString &label);   ///< empty: every label
    void setSplit(const QString &split);   ///< "train", "test"; empty: both

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    QString m_text;
    QString m_label;
    QString m_split;
};

} // namespace tinyml::ui
