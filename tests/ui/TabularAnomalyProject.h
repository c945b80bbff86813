// A tiny tabular anomaly project for the GUI tests: four features, `normal` rows ~ N(0, 1)
// (80 train, 30 test) and 30 test rows labelled `fault`, shifted by +shift on the first
// feature and -shift on the second.
#pragma once

#include "store/ProjectStore.h"

#include <memory>
#include <random>

namespace tinyml::uitest {

inline std::unique_ptr<ProjectStore> createTabularAnomalyProject(const QString &path, const QString &name,
                                                                 unsigned seed, float shift, QString *error)
{
    ProjectSettings settings;
    settings.name = name;
    settings.templateName = QStringLiteral("tabular");
    settings.labels = {QStringLiteral("normal"), QStringLiteral("fault")};
    auto store = ProjectStore::create(path, settings, error);
    if (!store)
        return nullptr;
    std::mt19937 rng(seed);
    std::normal_distribution<float> g(0.0f, 1.0f);
    QVector<Sample> samples;
    auto row = [&](const QString &label, Split split, float s) {
        Sample sample;
        sample.label = label;
        sample.split = split;
        sample.source = QStringLiteral("test");
        sample.channels = {QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c"), QStringLiteral("d")};
        sample.data = Tensor::fromFloats({g(rng) + s, g(rng) - s, g(rng), g(rng)}, {4});
        samples.append(sample);
    };
    for (int i = 0; i < 80; ++i)
        row(QStringLiteral("normal"), Split::Train, 0.0f);
    for (int i = 0; i < 30; ++i)
        row(QStringLiteral("normal"), Split::Test, 0.0f);
    for (int i = 0; i < 30; ++i)
        row(QStringLiteral("fault"), Split::Test, shift);
    if (!store->addSamples(samples, error))
        return nullptr;
    return store;
}

} // namespace tinyml::uitest
