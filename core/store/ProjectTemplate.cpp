#include "ProjectTemplate.h"

#include <QCoreApplication>

namespace tinyml {

const QVector<ProjectTemplate> &ProjectTemplate::all()
{
    // Motion: 100 Hz windows of 2 s (Edge Impulse's gesture examples use 62.5-100 Hz);
    // audio: 1 s keyword clips at 16 kHz, the Speech Commands convention; vibration: 1 s at
    // 6.4 kHz, the lowest of the usual sensor rates that shows a bearing's resonance (near
    // 2.2 kHz on the simulated machine), and 25 turns of a 1500 rpm shaft per sample.
    static const QVector<ProjectTemplate> templates = {
        {QStringLiteral("motion"), QCoreApplication::translate("ProjectTemplate", "Motion / gesture"),
         QCoreApplication::translate("ProjectTemplate",
             "Classify movements from a 3-axis accelerometer: gestures, vibration, activity."),
         QStringLiteral("motion"), QStringLiteral("accel"), 100.0, 2.0,
         {QStringLiteral("idle"), QStringLiteral("shake"), QStringLiteral("circle"), QStringLiteral("updown")}},
        {QStringLiteral("audio"), QCoreApplication::translate("ProjectTemplate", "Audio / keyword spotting"),
         QCoreApplication::translate("ProjectTemplate",
             "Recognise short spoken words or sounds from a 16 kHz microphone."),
         QStringLiteral("audio"), QStringLiteral("mic"), 16000.0, 1.0,
         {QStringLiteral("noise"), QStringLiteral("unknown"), QStringLiteral("yes"), QStringLiteral("no")}},
        {QStringLiteral("image"), QCoreApplication::translate("ProjectTemplate", "Image classification"),
         QCoreApplication::translate("ProjectTemplate",
             "Classify small camera pictures; images are imported from files."),
         QStringLiteral("image"), QString(), 0.0, 0.0,
         {QStringLiteral("background"), QStringLiteral("object")}},
        {QStringLiteral("tabular"), QCoreApplication::translate("ProjectTemplate", "Tabular / sensor fusion"),
         QCoreApplication::translate("ProjectTemplate",
             "Classify rows of features (CSV), e.g. readings of several slow sensors."),
         QStringLiteral("tabular"), QString(), 0.0, 0.0,
         {QStringLiteral("normal"), QStringLiteral("anomaly")}},
        {QStringLiteral("vibration"), QCoreApplication::translate("ProjectTemplate", "Machine vibration"),
         QCoreApplication::translate("ProjectTemplate",
             "Detect faults of a motor, pump or fan from a 3-axis vibration sensor; the virtual "
             "boards simulate a rotating machine."),
         QStringLiteral("motion"), QStringLiteral("vib"), 6400.0, 1.0,
         {QStringLiteral("normal"), QStringLiteral("imbalance"), QStringLiteral("misalignment"),
          QStringLiteral("looseness"), QStringLiteral("bearing")}},
    };
    return templates;
}

const ProjectTemplate *ProjectTemplate::find(const QString &id)
{
    for (const ProjectTemplate &t : all())
        if (t.id == id)
            return &t;
    return nullptr;
}

const ProjectTemplate &ProjectTemplate::byId(const QString &id)
{
    const ProjectTemplate *t = find(id);
    return t ? *t : all().first();
}

QString ProjectTemplate::idList()
{
    QStringList ids;
    for (const ProjectTemplate &t : all())
        ids << t.id;
    return ids.join(QStringLiteral(", "));
}

} // namespace tinyml
