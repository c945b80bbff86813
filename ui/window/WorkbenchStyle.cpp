#include "window/WorkbenchStyle.h"

#include <QApplication>
#include <QFile>
#include <QIcon>
#include <QPalette>
#include <QStyle>
#include <QStyleFactory>

namespace tinyml::ui {

void applyWorkbenchStyle(QApplication &app)
{
    QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
    QPalette palette = QApplication::style()->standardPalette();
    palette.setColor(QPalette::Window, QColor(0xf6, 0xf7, 0xf9));
    palette.setColor(QPalette::Highlight, QColor(0x25, 0x63, 0xeb));
    palette.setColor(QPalette::Link, QColor(0x1d, 0x4e, 0xd8));
    QApplication::setPalette(palette);
    QApplication::setWindowIcon(QIcon(QStringLiteral(":/icons/app.svg")));
    QFile qss(QStringLiteral(":/style/Workbench.qss"));
    if (qss.open(QIODevice::ReadOnly))
        app.setStyleSheet(QString::fromUtf8(qss.readAll()));
}

} // namespace tinyml::ui
