#include "models/BoardCatalog.h"

#include <QCoreApplication>
#include <QLocale>

#include <algorithm>

namespace tinyml::ui {

namespace {

struct Loaded {
    BoardRegistry registry;
    QString error;
    Loaded()
    {
        if (!registry.loadDefault(&error) && error.isEmpty())
            error = QCoreApplication::translate("BoardCatalog", "no board definitions found");
    }
};

Loaded &loaded()
{
    static Loaded instance;
    return instance;
}

} // namespace

const BoardRegistry &BoardCatalog::registry()
{
    return loaded().registry;
}

QString BoardCatalog::loadError()
{
    return loaded().error;
}

QVector<BoardDefinition> BoardCatalog::orderedBoards()
{
    QVector<BoardDefinition> boards = registry().boards();
    std::stable_sort(boards.begin(), boards.end(), [](const BoardDefinition &a, const BoardDefinition &b) {
        if (a.isVirtual != b.isVirtual)
            return a.isVirtual;
        // The host agent is a test convenience; the emulated Cortex-M4 is the default target.
        if (a.isVirtual && (a.id == QLatin1String("qemu-m4")) != (b.id == QLatin1String("qemu-m4")))
            return a.id == QLatin1String("qemu-m4");
        return a.name.localeAwareCompare(b.name) < 0;
    });
    return boards;
}

const BoardDefinition *BoardCatalog::board(const QString &id)
{
    return registry().board(id);
}

QString BoardCatalog::memoryText(const BoardDefinition &board)
{
    const QLocale c = QLocale::c();
    QStringList parts;
    if (board.ramBytes)
        parts << QCoreApplication::translate("BoardCatalog", "%1 RAM")
                     .arg(c.formattedDataSize(qint64(board.ramBytes), 0, QLocale::DataSizeTraditionalFormat));
    if (board.flashBytes)
        parts << QCoreApplication::translate("BoardCatalog", "%1 flash")
                     .arg(c.formattedDataSize(qint64(board.flashBytes), 0, QLocale::DataSizeTraditionalFormat));
    return parts.join(QStringLiteral(" · "));
}

QString BoardCatalog::displayName(const QString &id)
{
    const BoardDefinition *b = board(id);
    return b && !b->name.isEmpty() ? b->name : id;
}

} // namespace tinyml::ui
