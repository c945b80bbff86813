#include "models/SampleFilterModel.h"

#include "models/SampleTableModel.h"

namespace tinyml::ui {

SampleFilterModel::SampleFilterModel(QObject *parent) : QSortFilterProxyModel(parent)
{
    setSortRole(SampleTableModel::SortRole);
}

void SampleFilterModel::setText(const QString &text)
{
    m_text = text.trimmed();
    invalidateFilter();
}

void SampleFilterModel::setLabel(const QString &label)
{
    m_label = label;
    invalidateFilter();
}

void SampleFilterModel::setSplit(const QString &split)
{
    m_split = split;
    invalidateFilter();
}

bool SampleFilterModel::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    const QAbstractItemModel *m = sourceModel();
    const QModelIndex first = m->index(sourceRow, 0, sourceParent);
    if (!m_label.isEmpty() && first.data(SampleTableModel::LabelRole).toString() != m_label)
        return false;
    if (!m_split.isEmpty() && first.data(SampleTableModel::SplitRole).toString() != m_split)
        return false;
    if (m_text.isEmpty())
        return true;
    for (int c = 0; c < m->columnCount(sourceParent); ++c)
        if (m->index(sourceRow, c, sourceParent).data().toString().contains(m_text, Qt::CaseInsensitive))
            return true;
    return false;
}

} // namespace tinyml::ui
