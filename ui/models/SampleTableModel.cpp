#include "models/SampleTableModel.h"

#include "window/CountText.h"

#include <QBrush>
#include <QColor>
#include <QLocale>

namespace tinyml::ui {

SampleTableModel::SampleTableModel(QObject *parent) : QAbstractTableModel(parent) {}

void SampleTableModel::setSamples(QVector<SampleInfo> samples)
{
    beginResetModel();
    m_samples = std::move(samples);
    endResetModel();
}

const SampleInfo *SampleTableModel::sampleAt(int row) const
{
    return row >= 0 && row < m_samples.size() ? &m_samples[row] : nullptr;
}

int SampleTableModel::rowOfId(qint64 id) const
{
    for (int i = 0; i < m_samples.size(); ++i)
        if (m_samples[i].id == id)
            return i;
    return -1;
}

int SampleTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_samples.size());
}

int SampleTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QString SampleTableModel::lengthText(const SampleInfo &info)
{
    if (info.sampleRateHz > 0)
        return QStringLiteral("%1 s").arg(double(info.frames) / info.sampleRateHz, 0, 'f', 2);
    if (info.dtype == DType::UInt8 && info.channels.size() <= 4)
        return tr("%1 rows (image)").arg(info.frames);
    return countText(qMax<qint64>(info.frames, info.channels.size()), "%1 value", "%1 values");
}

QVariant SampleTableModel::data(const QModelIndex &index, int role) const
{
    const SampleInfo *s = sampleAt(index.row());
    if (!s)
        return {};
    switch (role) {
    case SampleIdRole: return s->id;
    case LabelRole: return s->label;
    case SplitRole: return splitName(s->split);
    case Qt::ToolTipRole:
        if (!s->complete)
            return tr("Capture was cut short: the board was lost after %1 frames.").arg(s->frames);
        if (index.column() == Checksum)
            return tr("SHA-256 of the sample data: %1").arg(s->checksum);
        return s->source;
    case Qt::ForegroundRole:
        if (index.column() == Label && !s->complete)
            return QBrush(QColor(0xb4, 0x53, 0x09));
        if (index.column() == Checksum || index.column() == Id)
            return QBrush(QColor(0x6b, 0x72, 0x80));
        return {};
    case Qt::TextAlignmentRole:
        if (index.column() == Id || index.column() == Length)
            return int(Qt::AlignRight | Qt::AlignVCenter);
        return int(Qt::AlignLeft | Qt::AlignVCenter);
    case SortRole:
        switch (index.column()) {
        case Id: return s->id;
        case Length: return s->sampleRateHz > 0 ? double(s->frames) / s->sampleRateHz : double(s->frames);
        case Created: return s->created;
        default: return data(index, Qt::DisplayRole).toString().toLower();
        }
    case Qt::DisplayRole:
        switch (index.column()) {
        case Id: return s->id;
        case Label: return s->complete ? s->label : tr("%1 (cut short)").arg(s->label);
        case Split: return s->split == tinyml::Split::Train ? tr("train") : tr("test");
        case Length: return lengthText(*s);
        case Device: return s->device.isEmpty() ? s->source.section(QLatin1Char('/'), -1) : s->device;
        case Created: return QLocale().toString(s->created.toLocalTime(), QStringLiteral("yyyy-MM-dd HH:mm:ss"));
        case Checksum: return s->checksum.left(12);
        }
        return {};
    default:
        return {};
    }
}

QVariant SampleTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Id: return tr("ID");
    case Label: return tr("Label");
    case Split: return tr("Split");
    case Length: return tr("Length");
    case Device: return tr("Device");
    case Created: return tr("Recorded");
    case Checksum: return tr("Checksum");
    }
    return {};
}

} // namespace tinyml::ui
