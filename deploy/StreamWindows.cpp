#include "StreamWindows.h"

#include "ImpulseSpec.h"

namespace tinyml::deploy {

std::optional<StreamWindows> streamWindowsPerHour(const ProjectSettings &settings, const model::Graph &graph,
                                                  QString *why)
{
    auto options = impulseOptions(settings, why);
    if (!options)
        return std::nullopt;
    auto spec = impulseSpecFor(graph, settings, ImpulseSensor{}, *options, why);
    if (!spec)
        return std::nullopt;
    StreamWindows r;
    r.windowsPerHour = 3600.0 * spec->sampleRateHz / spec->strideFrames;
    r.basis = QStringLiteral("3600 s x %1 Hz / stride %2 frames (%3) = %4 windows per hour")
                  .arg(spec->sampleRateHz)
                  .arg(spec->strideFrames)
                  .arg(options->strideFrames ? QStringLiteral("the project's impulse stride")
                                             : QStringLiteral("the default stride, window %1 / %2")
                                                   .arg(spec->windowFrames)
                                                   .arg(spec->windowFrames / spec->strideFrames))
                  .arg(r.windowsPerHour, 0, 'g', 8);
    return r;
}

} // namespace tinyml::deploy
