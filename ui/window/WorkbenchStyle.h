#pragma once

class QApplication;

namespace tinyml::ui {

/// Fusion plus the workbench's style sheet (:/style/Workbench.qss) and icon: the same
/// look on every desktop, in the app and in the screenshot tool.
void applyWorkbenchStyle(QApplication &app);

} // namespace tinyml::ui
