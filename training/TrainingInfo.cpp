#include "TrainingInfo.h"

#include <onnx/onnx_pb.h>
#include <torch/version.h>

namespace tinyml::training {

std::string backendVersions()
{
    return std::string("libtorch ") + TORCH_VERSION + ", ONNX IR " +
           std::to_string(static_cast<int>(onnx::IR_VERSION));
}

} // namespace tinyml::training
