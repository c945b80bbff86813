#pragma once
#include <QString>

namespace tinyml::deploy {
QString describe();
}
