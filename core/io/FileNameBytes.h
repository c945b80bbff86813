#pragma once
// File names that are not valid UTF-8. On POSIX a name is bytes; Qt decodes it as UTF-8 and
// turns invalid bytes into U+FFFD, after which the decoded name opens nothing ("no such
// file"). The importer uses these to say what is wrong instead: the name's real bytes.

#include <QByteArray>
#include <QList>
#include <QString>

namespace tinyml::io {

/// True when `path` holds U+FFFD and no file answers to it: a name Qt could not decode.
bool isUndecodableName(const QString &path);

/// The raw names in path's folder that Qt decodes to path's file name (POSIX; empty elsewhere
/// or when the folder cannot be listed).
QList<QByteArray> rawNamesMatching(const QString &path);

/// The entries of folder `dir` (not recursive) whose names Qt cannot decode and encode back
/// to the same bytes, as raw names. QDir and QDirIterator leave such entries out altogether.
QList<QByteArray> undecodableEntries(const QString &dir);

/// A name's bytes for a message: printable ASCII as is, everything else as \xHH
/// ("bad\xFF.csv").
QString describeNameBytes(const QByteArray &name);

/// The message for such a path: its bytes when they can be found, and what to do; when no
/// entry of its folder decodes to it, "no such file or folder" saying the name is not UTF-8.
QString undecodableNameMessage(const QString &path);
/// The message for an entry found by undecodableEntries.
QString undecodableEntryMessage(const QByteArray &rawName);

} // namespace tinyml::io
