#pragma once
// Where the workbench's shared files live (board definitions, examples): the environment
// variable when set, then the installed folder <app dir>/../share/tinyml-workbench/<subdir>,
// then the source tree compiled in. An installed program so reads its own files before the
// tree it was built from (AgentLocator::searchDirectories follows the same rule for agents).
//
// Threading: reentrant.

#include <QString>

namespace tinyml {

/// The first existing folder, absolute; empty with *error listing what was searched and
/// naming envVar. what is used in the message ("board directory").
QString findResourceDirectory(const char *envVar, const QString &shareSubdir, const QString &sourceDir,
                              const QString &what, QString *error);

} // namespace tinyml
