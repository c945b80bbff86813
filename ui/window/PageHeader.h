#pragma once
// The top of every stage page: its outer margins and the title row (title, then a subtitle
// the page keeps up to date), so the pages line up with each other.

#include <QString>

class QHBoxLayout;
class QLabel;
class QLayout;
class QWidget;

namespace tinyml::ui {

/// Gives a stage page's outermost layout the standard margins (20 px at the sides, 16 px at
/// the top). The bottom margin is a parameter: a page whose charts need the last pixels
/// passes a smaller one.
void setPageMargins(QLayout *pageLayout, int bottom = 16);

/// The title row: `title` in the page-title style, then `subtitle` (the page's own label,
/// optional) in the subtitle style, bottom-aligned with the title and taking the spare
/// width. Returned so a page can append its own controls at the right end; add it to the
/// page's layout first.
QHBoxLayout *makePageHeader(QWidget *page, const QString &title, QLabel *subtitle = nullptr);

} // namespace tinyml::ui
