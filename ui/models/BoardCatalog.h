#pragma once
// The board registry (resources/boards/*.json, read by core/device) as the UI lists it:
// loaded once per process, virtual boards first.

#include "device/BoardRegistry.h"

#include <QString>
#include <QVector>

namespace tinyml::ui {

class BoardCatalog
{
public:
    /// The registry, loaded on first use; loadError() says why it is empty.
    static const BoardRegistry &registry();
    static QString loadError();
    /// Virtual boards first, then real boards; each group by name.
    static QVector<BoardDefinition> orderedBoards();
    static const BoardDefinition *board(const QString &id);
    /// "256 KB RAM · 1 MB flash"; empty when the definition gives neither.
    static QString memoryText(const BoardDefinition &board);
    /// The board's name, or the id when the registry does not know it.
    static QString displayName(const QString &id);
};

} // namespace tinyml::ui
