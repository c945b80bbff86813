#include "DeployInfo.h"

namespace tinyml::deploy {

QString describe()
{
    return QStringLiteral("deploy: model-package compiler and profiler (not yet built)");
}

} // namespace tinyml::deploy
