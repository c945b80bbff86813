#pragma once
#include <string>

namespace tinyml::training {
/// Versions of the libraries the trainer was built against, e.g. "libtorch 1.13.0, ONNX IR 8".
std::string backendVersions();
}
