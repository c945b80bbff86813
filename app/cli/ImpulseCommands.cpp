// tinyml classify / calibrate: the whole impulse (DSP + int8 model + post-processing) running
// continuously on a board, measured against ground truth; and the calibration of its
// post-processing on the host replay of a recording.
#include "BoardConnection.h"
#include "CliCommands.h"

#include "Calibration.h"
#include "ImpulseReplay.h"
#include "LiveClassifier.h"
#include "SignedPackages.h"

#include "store/ProjectStore.h"
#include "stream/GroundTruth.h"
#include "stream/ReplayRecording.h"
#include "stream/StreamMetrics.h"

#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFileInfo>
#include <QJsonArray>
#include <QTextStream>
#include <QTimer>

#include <cmath>

namespace tinyml::cli {

namespace {

bool positiveNumber(const QCommandLineParser &p, const QString &name, double *value, QString *error)
{
    if (!p.isSet(name))
        return true;
    bool ok = false;
    const double v = p.value(name).toDouble(&ok);
    if (!ok || !std::isfinite(v) || v <= 0) {
        *error = QStringLiteral("--%1 must be a positive number").arg(name);
        return false;
    }
    *value = v;
    return true;
}

QString optText(const std::optional<double> &v, int decimals, const QString &unit = {})
{
    return v ? QString::number(*v, 'f', decimals) + unit : QStringLiteral("-");
}

void printClassify(const deploy::LiveClassifyReport &r)
{
    QTextStream out(stdout);
    out << "Continuous classification on " << r.board << ": " << r.source << "\n";
    out << "  " << r.windows << " windows of " << r.window << " frames every " << r.stride << " frames at " << r.rateHz
        << " Hz; ended: " << r.endReason << "; overruns " << r.overruns << ", frames lost " << r.framesLost << "\n";
    out << "  detections: " << r.detections.size() << "\n";
    for (const deploy::LiveWindow &w : r.detections)
        out << QStringLiteral("    %1 s  %2  (score %3)\n").arg(w.tS, 9, 'f', 2).arg(w.label, -12).arg(w.device.score, 0, 'f', 3);
    if (r.metrics) {
        const stream::StreamMetricsResult &m = *r.metrics;
        out << "  event recall " << optText(m.recall, 3) << " (" << m.detectedEvents << " of " << m.events << " events)";
        for (auto it = m.perClass.begin(); it != m.perClass.end(); ++it)
            if (it->events > 0)
                out << ", " << it.key() << " " << optText(it->recall(), 3);
        out << "\n  false activations " << m.falseActivations << " (" << optText(m.falseActivationsPerHour, 2)
            << " per hour of non-event time)\n";
        out << "  detection delay median " << optText(m.delayMedianMs, 0, QStringLiteral(" ms")) << ", p90 "
            << optText(m.delayP90Ms, 0, QStringLiteral(" ms")) << "\n";
    } else {
        out << "  no ground truth: pass --truth FILE.csv (or use --script) for event recall and false activations\n";
    }
    out << QStringLiteral("  per window (median, %1): DSP %2 (%3 ms), model %4 (%5 ms), post %6 (%7 ms)\n")
               .arg(r.counter)
               .arg(r.dspCounter, 0, 'f', 0).arg(r.dspMs, 0, 'f', 3)
               .arg(r.modelCounter, 0, 'f', 0).arg(r.modelMs, 0, 'f', 3)
               .arg(r.postCounter, 0, 'f', 0).arg(r.postMs, 0, 'f', 3);
    out << QStringLiteral("  CPU duty cycle %1 % at %2 MHz").arg(100.0 * r.dutyCycle, 0, 'f', 2).arg(double(r.clockHz) / 1e6, 0, 'f', 1);
    if (r.counter == QLatin1String("instructions"))
        out << " (instruction counts of the virtual board, not cycles)";
    out << "\n";
    if (r.batteryLifeDays)
        out << QStringLiteral("  battery life %1 days, estimated (average %2 mA): ").arg(*r.batteryLifeDays, 0, 'f', 1)
                   .arg(*r.averageCurrentMa, 0, 'f', 3) << r.batteryNote << "\n";
    else
        out << "  battery life: " << r.batteryNote << "\n";
    if (r.anomalyModelId) {
        out << QStringLiteral("  anomaly model %1 beside the classifier: threshold %2, %3 alarms (%4 windows), largest score %5\n")
                   .arg(*r.anomalyModelId).arg(r.anomalyThreshold, 0, 'g', 6).arg(r.alarms).arg(r.alarmWindows)
                   .arg(r.maxAnomalyScore, 0, 'g', 6);
        out << "  per window: end time, class, anomaly score\n";
        for (const deploy::LiveWindow &w : r.perWindow)
            out << QStringLiteral("    %1 s  %2  %3%4\n").arg(w.tS, 9, 'f', 2)
                       .arg(w.label.isEmpty() ? QStringLiteral("(uncertain)") : w.label, -12)
                       .arg(w.anomaly ? double(w.anomaly->score) : 0.0, 10, 'g', 5)
                       .arg(w.device.anomalyAlarm ? QStringLiteral("  ALARM") : QString());
    }
    out << "  host replay: " << r.hostReplayEqualWindows << " of " << r.windowsCompared << " windows equal bit for bit";
    if (!r.hostReplayNote.isEmpty())
        out << " (" << r.hostReplayNote << ")";
    out << "\n";
}

int cmdClassify(const QStringList &args)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Run the whole impulse (DSP block, int8 model, post-processing) continuously on the board's own\n"
        "sensor: the board's simulation, a replayed recording (--replay, virtual boards) or a scenario\n"
        "script (--script). Reports the decisions, stream metrics against ground truth (--truth, or the\n"
        "script's events), the per-window cost of each stage, the CPU duty cycle and an estimated battery\n"
        "life, and compares every window with the same C pipeline replayed on the host."));
    addBoardOptions(p);
    p.addOption({QStringLiteral("seconds"), QStringLiteral("how long to classify (needed without --replay/--script; with "
                                                           "them, at most this long)"), QStringLiteral("S")});
    p.addOption({QStringLiteral("replay"), QStringLiteral("play a recording through the board's sensor: a WAV or time-series CSV, "
                                                          "or sample:ID for a sample of the project"),
                 QStringLiteral("FILE")});
    p.addOption({QStringLiteral("script"), QStringLiteral("a scenario script for the simulated accelerometer: one `<scenario> <seconds>` per line"),
                 QStringLiteral("FILE")});
    p.addOption({QStringLiteral("truth"), QStringLiteral("ground truth CSV: start_s,end_s,label"), QStringLiteral("FILE")});
    p.addOption({QStringLiteral("battery-mah"), QStringLiteral("battery capacity for the life estimate"), QStringLiteral("MAH"),
                 QStringLiteral("225")});
    p.addOption({QStringLiteral("battery"), QStringLiteral("battery name for the report"), QStringLiteral("NAME"),
                 QStringLiteral("CR2032")});
    p.addOption({QStringLiteral("anomaly-model"), QStringLiteral("an int8 anomaly model to run beside the classifier on the same "
                                                                 "features: class and anomaly score per window"),
                 QStringLiteral("ID")});
    p.addOption({QStringLiteral("with-anomaly"), QStringLiteral("as --anomaly-model with the project's newest int8 anomaly model")});
    int code = 0;
    if (!parseOrReport(p, args, QStringLiteral("classify"), 1, &code))
        return code;
    const bool json = p.isSet(QStringLiteral("json"));
    deploy::LiveClassifyOptions opt;
    QString error;
    if (!positiveNumber(p, QStringLiteral("seconds"), &opt.seconds, &error) ||
        !positiveNumber(p, QStringLiteral("battery-mah"), &opt.batteryMah, &error))
        return usageError(QStringLiteral("classify"), error);
    opt.batteryName = p.value(QStringLiteral("battery"));
    if (p.isSet(QStringLiteral("replay")) && p.isSet(QStringLiteral("script")))
        return usageError(QStringLiteral("classify"), QStringLiteral("give at most one of --replay and --script"));
    if (p.isSet(QStringLiteral("replay"))) {
        opt.source = deploy::LiveClassifyOptions::Source::Replay;
        opt.path = p.value(QStringLiteral("replay"));
    } else if (p.isSet(QStringLiteral("script"))) {
        opt.source = deploy::LiveClassifyOptions::Source::Script;
        opt.path = p.value(QStringLiteral("script"));
    } else if (!(opt.seconds > 0)) {
        return usageError(QStringLiteral("classify"), QStringLiteral("--seconds is needed when the board's own sensor is classified"));
    }
    for (const QString &file : {opt.path, p.value(QStringLiteral("truth"))})
        if (!file.isEmpty() && !file.startsWith(QLatin1String("sample:")) && !QFileInfo(file).isFile())
            return fail(QStringLiteral("%1: no such file").arg(file));
    opt.truthPath = p.value(QStringLiteral("truth"));
    opt.forceFlash = p.isSet(QStringLiteral("force"));
    // A provisioned board takes signed packages only: the impulse's newest in signed/ (`tinyml sign`).
    opt.signedPackages = deploy::signedPackagesBeside(p.positionalArguments().first());

    auto store = ProjectStore::open(p.positionalArguments().first(), &error);
    if (!store)
        return fail(error);
    auto stored = pickModel(*store, p, &error);
    if (!stored)
        return fail(error);
    if (p.isSet(QStringLiteral("anomaly-model")) && p.isSet(QStringLiteral("with-anomaly")))
        return usageError(QStringLiteral("classify"), QStringLiteral("give at most one of --anomaly-model and --with-anomaly"));
    if (p.isSet(QStringLiteral("anomaly-model"))) {
        bool ok = false;
        const qint64 id = p.value(QStringLiteral("anomaly-model")).toLongLong(&ok);
        if (!ok || id <= 0)
            return usageError(QStringLiteral("classify"), QStringLiteral("--anomaly-model takes a model id"));
        opt.anomalyModelId = id;
    } else if (p.isSet(QStringLiteral("with-anomaly"))) {
        opt.anomalyModelId = deploy::newestAnomalyModel(*store, &error);
        if (!opt.anomalyModelId)
            return fail(error);
    }
    Connection c;
    if (!connectBoard(p, QStringLiteral("classify"), json, &c, &code))
        return code;
    if (c.board)
        opt.replayDirectory = c.board->stateDirectory();

    deploy::LiveClassifier classifier;
    std::optional<deploy::LiveClassifyReport> report;
    QString failure;
    QEventLoop loop;
    QObject::connect(&classifier, &deploy::LiveClassifier::finished, &loop, [&](const deploy::LiveClassifyReport &r) {
        report = r;
        loop.quit();
    });
    QObject::connect(&classifier, &deploy::LiveClassifier::failed, &loop, [&](const QString &m) {
        failure = m;
        loop.quit();
    });
    QObject::connect(&classifier, &deploy::LiveClassifier::stageChanged, &loop, [&](const QString &s) {
        if (!json)
            QTextStream(stderr) << s << "...\n";
    });
    int shown = 0;
    QObject::connect(&classifier, &deploy::LiveClassifier::windowReceived, &loop, [&](const deploy::LiveWindow &w) {
        if (!json && w.device.isDetection() && shown++ < 1000)
            QTextStream(stderr) << QStringLiteral("  %1 s  %2\n").arg(w.tS, 8, 'f', 2).arg(w.label);
    });
    if (!classifier.start(store.get(), stored->id, c.link, c.definition, opt, &error))
        return fail(error);
    // The board ends a replay or script by itself; a guard for a board that stops answering.
    double expectedS = opt.seconds;
    if (!(expectedS > 0))
        expectedS = 600;
    QTimer guard;
    guard.setSingleShot(true);
    QObject::connect(&guard, &QTimer::timeout, &loop, [&] {
        failure = QStringLiteral("the board sent no end of the classification within %1 s").arg(guard.interval() / 1000);
        loop.quit();
    });
    guard.start(int(std::min(3600.0, 60.0 + 10.0 * expectedS) * 1000));
    loop.exec();
    if (!report) {
        classifier.stop();
        return fail(failure.isEmpty() ? QStringLiteral("the classification did not finish") : failure);
    }
    if (json) {
        QJsonObject o = report->toJson();
        o.insert(QStringLiteral("model_name"), stored->name);
        printJson(o);
    } else {
        printClassify(*report);
    }
    return Ok;
}

int cmdCalibrate(const QStringList &args)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Calibrate the impulse's post-processing: replay a recording through the device's own C pipeline\n"
        "on the host, sweep threshold x averaged windows x suppression against the ground truth, and\n"
        "choose the operating point with the fewest missed events within the false-activation budget.\n"
        "The operating point is saved in the project, so the next flash carries it."));
    p.addPositionalArgument(QStringLiteral("PROJECT"), QStringLiteral("project file"));
    p.addOption({QStringLiteral("recording"), QStringLiteral("a long recording (WAV or time-series CSV)"), QStringLiteral("FILE")});
    p.addOption({QStringLiteral("truth"), QStringLiteral("ground truth CSV: start_s,end_s,label"), QStringLiteral("FILE")});
    p.addOption({QStringLiteral("model"), QStringLiteral("model id (default: the project's latest int8 model)"), QStringLiteral("ID")});
    p.addOption({QStringLiteral("max-far-per-hour"), QStringLiteral("false activations per hour allowed"), QStringLiteral("X"),
                 QStringLiteral("1")});
    p.addOption({QStringLiteral("no-save"), QStringLiteral("do not save the operating point in the project")});
    p.addOption({QStringLiteral("json"), QStringLiteral("print one JSON object")});
    int code = 0;
    if (!parseOrReport(p, args, QStringLiteral("calibrate"), 1, &code))
        return code;
    const bool json = p.isSet(QStringLiteral("json"));
    QString error;
    if (!p.isSet(QStringLiteral("recording")) || !p.isSet(QStringLiteral("truth")))
        return usageError(QStringLiteral("calibrate"), QStringLiteral("give --recording FILE and --truth FILE"));
    double maxFar = 1.0;
    {
        bool ok = false;
        maxFar = p.value(QStringLiteral("max-far-per-hour")).toDouble(&ok);
        if (!ok || !std::isfinite(maxFar) || maxFar < 0)
            return usageError(QStringLiteral("calibrate"), QStringLiteral("--max-far-per-hour must be 0 or more"));
    }
    auto store = ProjectStore::open(p.positionalArguments().first(), &error);
    if (!store)
        return fail(error);
    auto stored = pickModel(*store, p, &error);
    if (!stored)
        return fail(error);
    deploy::ReplayOptions ro;
    int lastPercent = -1;
    ro.progress = [&](qint64 done, qint64 total) {
        const int percent = int(100 * done / qMax<qint64>(1, total));
        if (!json && percent / 10 != lastPercent / 10)
            QTextStream(stderr) << "\rhost replay: " << percent << " %" << Qt::flush;
        lastPercent = percent;
    };
    auto cal = deploy::calibrateOnRecording(*store, stored->id, p.value(QStringLiteral("recording")),
                                            p.value(QStringLiteral("truth")), maxFar, !p.isSet(QStringLiteral("no-save")),
                                            ro, &error);
    if (!json)
        QTextStream(stderr) << "\n";
    if (!cal)
        return fail(error);
    if (!cal->clippingWarning.isEmpty() && !json)
        QTextStream(stderr) << "warning: " << cal->clippingWarning << "\n";
    if (json) {
        QJsonObject o = cal->toJson();
        o.insert(QStringLiteral("model_id"), double(stored->id));
        printJson(o);
    } else {
        QTextStream out(stdout);
        const deploy::CalibrationPoint &op = cal->result.operatingPoint;
        out << "Calibrated model " << stored->id << " on " << QFileInfo(p.value(QStringLiteral("recording"))).fileName()
            << " (" << QString::number(cal->recordingS, 'f', 1) << " s, " << cal->events << " events, "
            << cal->windows << " windows replayed in " << QString::number(cal->replayS, 'f', 1) << " s)\n";
        out << "  DET curve (false activations per hour -> false rejection rate):\n";
        for (const deploy::CalibrationPoint &pt : cal->result.curve)
            out << QStringLiteral("    %1 /h  FRR %2   threshold %3, average %4, suppression %5 ms\n")
                       .arg(pt.falseActivationsPerHour, 8, 'f', 2).arg(pt.falseRejectionRate, 5, 'f', 3)
                       .arg(pt.threshold, 0, 'f', 2).arg(pt.averageWindows).arg(pt.suppressionMs);
        out << "  operating point" << (cal->result.withinLimit ? "" : " (NOT within the limit: the fewest false activations)")
            << ": threshold " << QString::number(op.threshold, 'f', 2) << ", average " << op.averageWindows
            << " windows, suppression " << op.suppressionMs << " ms -> " << QString::number(op.falseActivationsPerHour, 'f', 2)
            << " false activations/h, false rejection rate " << QString::number(op.falseRejectionRate, 'f', 3) << "\n";
        out << (cal->saved ? "  saved in the project: the next flash carries it\n" : "  not saved (--no-save)\n");
    }
    return Ok;
}

} // namespace

QList<Command> impulseCommands()
{
    return {
        {QStringLiteral("classify"),
         QStringLiteral("classify PROJECT (--board ID | --port PATH) [--seconds S] [--replay FILE | --script FILE] "
                        "[--truth FILE.csv] [--anomaly-model ID | --with-anomaly] [--json]"),
         QStringLiteral("run the whole impulse continuously on the board; stream metrics and costs"), cmdClassify},
        {QStringLiteral("calibrate"),
         QStringLiteral("calibrate PROJECT --recording FILE --truth FILE.csv [--max-far-per-hour X] [--json]"),
         QStringLiteral("choose the post-processing operating point on a host replay"), cmdCalibrate},
    };
}

} // namespace tinyml::cli
