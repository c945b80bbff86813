#include "window/PageHeader.h"

#include <QHBoxLayout>
#include <QLabel>

namespace tinyml::ui {

void setPageMargins(QLayout *pageLayout, int bottom)
{
    pageLayout->setContentsMargins(20, 16, 20, bottom);
}

QHBoxLayout *makePageHeader(QWidget *page, const QString &title, QLabel *subtitle)
{
    auto *row = new QHBoxLayout;
    auto *titleLabel = new QLabel(title, page);
    // Workbench.qss styles the two labels by these names.
    titleLabel->setObjectName(QStringLiteral("pageTitle"));
    row->addWidget(titleLabel);
    if (subtitle) {
        row->addSpacing(12);
        subtitle->setObjectName(QStringLiteral("pageSubtitle"));
        row->addWidget(subtitle, 1, Qt::AlignBottom);
    }
    return row;
}

} // namespace tinyml::ui
