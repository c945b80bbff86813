#pragma once
// A profile as the Deployment page lists it: one row per number with its unit, the
// comparison of two profiles with a ratio column, and tab-separated text for the
// clipboard. Pure functions of deploy::ProfileResult, so tests can pin every cell.

#include "Profiler.h"

#include <QString>
#include <QVector>

#include <optional>

namespace tinyml {
struct BoardDefinition;
}

namespace tinyml::ui {

struct ProfileRow {
    QString metric;
    QString value;                 ///< display text (locale grouping, fixed decimals)
    QString unit;                  ///< "ms", "B", "µJ", "%", "instructions", ...
    std::optional<double> number;  ///< the plain number behind value, for copies and ratios
};

/// "instructions" -> "instruction count", "cycles" -> "cycle count", "microseconds" -> "µs".
QString counterUnitText(const QString &counter);
/// How a counter turns into milliseconds, for axis labels: "instruction count → ms at 25 MHz".
QString counterToMsText(const QString &counter, quint64 clockHz);
/// "25 MHz", "1 GHz", "120 MHz".
QString clockText(quint64 hz);
/// "12.3 KB" below a megabyte, "1.50 MB" above; plain bytes below 1 KB.
QString byteSizeText(qint64 bytes);

/// Every number of a profile with its unit. board (may be null) adds the board's RAM and
/// flash next to the arena and flash the model needs.
QVector<ProfileRow> profileRows(const deploy::ProfileResult &result, const BoardDefinition *board);

struct ProfileComparisonRow {
    QString metric;
    QString unit;
    QString a, b;                  ///< display text per profile
    std::optional<double> ratio;   ///< b / a when both are numbers and a != 0
};
/// Side by side: the board, every measured number with b / a, then what ran how (clock,
/// timing, agent, method, model, date) without a ratio.
QVector<ProfileComparisonRow> compareProfiles(const deploy::ProfileResult &a, const deploy::ProfileResult &b);

/// Header line plus one line per row, cells separated by tabs; numbers unformatted so a
/// spreadsheet reads them as numbers.
QString profileRowsTsv(const QVector<ProfileRow> &rows);
QString comparisonTsv(const QVector<ProfileComparisonRow> &rows, const QString &nameA, const QString &nameB);

} // namespace tinyml::ui
