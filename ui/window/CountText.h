#pragma once
// "1 sample" / "3 samples". English plurals without shipping a translation file for
// Qt's %n numerus forms; translators get both forms as separate strings.

#include <QCoreApplication>
#include <QString>

namespace tinyml::ui {

inline QString countText(qint64 n, const char *one, const char *many)
{
    return QCoreApplication::translate("CountText", n == 1 ? one : many).arg(n);
}

} // namespace tinyml::ui
