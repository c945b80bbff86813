// tinyml boards / devices / capture
#include "BoardConnection.h"
#include "CliCommands.h"

#include "data/SplitAssigner.h"
#include "device/AgentLink.h"
#include "device/BoardRegistry.h"
#include "device/CaptureSession.h"
#include "device/DeviceDiscovery.h"
#include "device/LineLink.h"
#include "device/VirtualBoard.h"
#include "store/ProjectStore.h"

#include <QCommandLineParser>
#include <QJsonArray>
#include <QRandomGenerator>
#include <QTextStream>

#include <memory>
#include <optional>

#include <cmath>

namespace tinyml::cli {

namespace {

bool loadRegistry(BoardRegistry *registry, QString *error)
{
    return registry->loadDefault(error);
}

QString sizeText(quint64 bytes)
{
    if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0)
        return QStringLiteral("%1 MB").arg(bytes / (1024 * 1024));
    return QStringLiteral("%1 KB").arg(bytes / 1024);
}

int cmdBoards(const QStringList &args)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral("List the boards the workbench knows (resources/boards)."));
    p.addOption({QStringLiteral("json"), QStringLiteral("print one JSON object")});
    int code = 0;
    if (!parseOrReport(p, args, QStringLiteral("boards"), 0, &code))
        return code;
    BoardRegistry registry;
    QString error;
    if (!loadRegistry(&registry, &error))
        return fail(error);
    if (p.isSet(QStringLiteral("json"))) {
        QJsonArray boards;
        for (const BoardDefinition &b : registry.boards()) {
            QJsonObject o{
                {QStringLiteral("id"), b.id}, {QStringLiteral("name"), b.name},
                {QStringLiteral("cpu"), b.cpu}, {QStringLiteral("clock_hz"), double(b.clockHz)},
                {QStringLiteral("ram_bytes"), double(b.ramBytes)},
                {QStringLiteral("flash_bytes"), double(b.flashBytes)},
                {QStringLiteral("virtual"), b.isVirtual},
                {QStringLiteral("verified_on_hardware"), b.verifiedOnHardware},
                {QStringLiteral("flasher"), b.flasherTool}};
            // Which timing model estimates its cycles; with a part, a `profile --target`.
            if (b.cycleModel.isSet())
                o.insert(QStringLiteral("cycle_model"),
                         QJsonObject{{QStringLiteral("core"), b.cycleModel.core},
                                     {QStringLiteral("wait_states"), b.cycleModel.waitStates},
                                     {QStringLiteral("part"), b.cycleModel.part}});
            boards.append(o);
        }
        printJson({{QStringLiteral("boards"), boards}, {QStringLiteral("directory"), registry.directory()}});
        return Ok;
    }
    QTextStream out(stdout);
    out << QStringLiteral("%1 %2 %3 %4 %5  %6\n")
               .arg(QStringLiteral("ID"), -28).arg(QStringLiteral("CPU"), -14)
               .arg(QStringLiteral("CLOCK"), 8).arg(QStringLiteral("RAM"), 8)
               .arg(QStringLiteral("FLASH"), 8).arg(QStringLiteral("NOTE"));
    for (const BoardDefinition &b : registry.boards()) {
        const QString note = b.isVirtual ? QStringLiteral("virtual")
                             : b.verifiedOnHardware ? QString()
                                                    : QStringLiteral("not verified on hardware");
        out << QStringLiteral("%1 %2 %3 %4 %5  %6\n")
                   .arg(b.id, -28).arg(b.cpu, -14)
                   .arg(b.clockHz ? QStringLiteral("%1 MHz").arg(b.clockHz / 1e6) : QStringLiteral("-"), 8)
                   .arg(sizeText(b.ramBytes), 8).arg(sizeText(b.flashBytes), 8).arg(note);
    }
    return Ok;
}

int cmdDevices(const QStringList &args)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral("List serial ports (with a protocol guess) and virtual boards."));
    p.addOption({QStringLiteral("probe"), QStringLiteral("talk to each serial port to find its protocol (slow)")});
    p.addOption({QStringLiteral("json"), QStringLiteral("print one JSON object")});
    int code = 0;
    if (!parseOrReport(p, args, QStringLiteral("devices"), 0, &code))
        return code;
    BoardRegistry registry;
    QString error;
    if (!loadRegistry(&registry, &error))
        return fail(error);
    QVector<DiscoveredDevice> devices = DeviceDiscovery::all(registry);
    if (p.isSet(QStringLiteral("probe"))) {
        for (DiscoveredDevice &d : devices) {
            if (d.isVirtual || d.portName.isEmpty())
                continue;
            ProbeResult r = DeviceDiscovery::probe(d.portName);
            d.protocol = r.protocol;
            if (!r.boardId.isEmpty())
                d.boardId = r.boardId;
        }
    }
    if (p.isSet(QStringLiteral("json"))) {
        QJsonArray list;
        for (const DiscoveredDevice &d : devices)
            list.append(QJsonObject{{QStringLiteral("port"), d.portName},
                                    {QStringLiteral("description"), d.description},
                                    {QStringLiteral("protocol"), linkProtocolName(d.protocol)},
                                    {QStringLiteral("board"), d.boardId},
                                    {QStringLiteral("virtual"), d.isVirtual}});
        printJson({{QStringLiteral("devices"), list}});
        return Ok;
    }
    QTextStream out(stdout);
    for (const DiscoveredDevice &d : devices) {
        if (d.isVirtual)
            out << "virtual  " << d.boardId.leftJustified(28) << d.description << "\n";
        else
            out << "serial   " << d.portName.leftJustified(28) << linkProtocolName(d.protocol).leftJustified(9)
                << d.description << (d.boardId.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(d.boardId)) << "\n";
    }
    return Ok;
}

int cmdCapture(const QStringList &args)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Record labelled samples from a board into a project. Samples are committed as they\n"
        "stream; a board lost mid-capture keeps what was received (marked incomplete)."));
    p.addPositionalArgument(QStringLiteral("PROJECT"), QStringLiteral("project file"));
    p.addOption({QStringLiteral("board"), QStringLiteral("board id; virtual boards are started automatically"), QStringLiteral("ID")});
    p.addOption({QStringLiteral("port"), QStringLiteral("serial port of a real board"), QStringLiteral("PATH")});
    p.addOption({QStringLiteral("protocol"), QStringLiteral("agent | lines (a board printing numbers per line)"), QStringLiteral("P"), QStringLiteral("agent")});
    p.addOption({QStringLiteral("baud"), QStringLiteral("baud rate"), QStringLiteral("N"), QStringLiteral("115200")});
    p.addOption({QStringLiteral("sensor"), QStringLiteral("sensor name (accel, mic, vib; default: the project's)"), QStringLiteral("NAME")});
    p.addOption({QStringLiteral("label"), QStringLiteral("label of the recorded samples"), QStringLiteral("L")});
    p.addOption({QStringLiteral("seconds"), QStringLiteral("length of each sample (default: the project's)"), QStringLiteral("S")});
    p.addOption({QStringLiteral("rate"), QStringLiteral("sample rate (default: the project's, else the sensor's)"), QStringLiteral("HZ")});
    p.addOption({QStringLiteral("scenario"), QStringLiteral("virtual board: what the simulated sensor does (accel: idle, shake, circle, updown, walk; "
                                                 "mic: silence, noise, tone, chirp, twotone; vib, a simulated rotating machine: "
                                                 "normal, imbalance, misalignment, looseness, bearing, a fault optionally with "
                                                 ":low, :medium (default), :high or :0..1, e.g. bearing:high)"), QStringLiteral("NAME")});
    p.addOption({QStringLiteral("seed"), QStringLiteral("virtual board: seed of the simulated sensor's variation (default: a fresh random "
                                                        "seed per capture, so two captures of one scenario differ; give one to repeat a capture)"),
                 QStringLiteral("N")});
    p.addOption({QStringLiteral("count"), QStringLiteral("number of consecutive samples"), QStringLiteral("K"), QStringLiteral("1")});
    p.addOption({QStringLiteral("split"), QStringLiteral("train | test | auto (tops each label up to 20 % test, deterministic; samples already stored keep their split)"), QStringLiteral("SPLIT"), QStringLiteral("auto")});
    p.addOption({QStringLiteral("realtime"), QStringLiteral("virtual board: pace the sensor by the wall clock (default: as fast as the emulator runs)")});
    p.addOption({QStringLiteral("json"), QStringLiteral("print frames received/lost, bytes, seconds and sample ids as JSON")});
    int code = 0;
    if (!parseOrReport(p, args, QStringLiteral("capture"), 1, &code))
        return code;

    const bool json = p.isSet(QStringLiteral("json"));
    if (p.isSet(QStringLiteral("board")) == p.isSet(QStringLiteral("port")))
        return usageError(QStringLiteral("capture"), QStringLiteral("give exactly one of --board or --port"));
    if (!p.isSet(QStringLiteral("label")))
        return usageError(QStringLiteral("capture"), QStringLiteral("--label is required"));

    QString error;
    auto store = ProjectStore::open(p.positionalArguments().first(), &error);
    if (!store)
        return fail(error);
    // Sensor, rate and length default to the project's settings (the wizard's choices).
    const ProjectSettings defaults = store->settings();

    CaptureOptions opt;
    opt.label = p.value(QStringLiteral("label")).trimmed();
    opt.sensor = p.isSet(QStringLiteral("sensor")) ? p.value(QStringLiteral("sensor")) : defaults.sensor;
    bool ok = true;
    opt.durationS = p.isSet(QStringLiteral("seconds")) ? p.value(QStringLiteral("seconds")).toDouble(&ok)
                                                       : defaults.sampleLengthS;
    if (!ok || !std::isfinite(opt.durationS) || opt.durationS <= 0)
        return usageError(QStringLiteral("capture"), QStringLiteral("--seconds must be a positive number (the project sets no default length)"));
    if (p.isSet(QStringLiteral("rate"))) {
        opt.rateHz = p.value(QStringLiteral("rate")).toDouble(&ok);
        if (!ok || !std::isfinite(opt.rateHz) || opt.rateHz <= 0 || opt.rateHz > 1e7)
            return usageError(QStringLiteral("capture"), QStringLiteral("--rate must be a positive number of Hz (at most 10 MHz)"));
    } else {
        opt.rateHz = defaults.sampleRateHz;
    }
    opt.count = p.value(QStringLiteral("count")).toInt(&ok);
    if (!ok || opt.count < 1)
        return usageError(QStringLiteral("capture"), QStringLiteral("--count must be a positive integer"));
    const bool autoSplit = p.value(QStringLiteral("split")) == QLatin1String("auto");
    auto split = splitFromName(p.value(QStringLiteral("split")));
    if (!split && !autoSplit)
        return usageError(QStringLiteral("capture"), QStringLiteral("--split must be train, test or auto"));
    opt.split = split.value_or(Split::Train);
    if (opt.label.isEmpty())
        return usageError(QStringLiteral("capture"), QStringLiteral("--label must not be empty"));
    std::optional<quint32> seed;
    if (p.isSet(QStringLiteral("seed"))) {
        const uint v = p.value(QStringLiteral("seed")).toUInt(&ok);
        if (!ok)
            return usageError(QStringLiteral("capture"),
                              QStringLiteral("--seed must be an integer from 0 to 4294967295, not %1").arg(p.value(QStringLiteral("seed"))));
        seed = quint32(v);
    }

    BoardRegistry registry;
    std::unique_ptr<VirtualBoard> board;
    std::unique_ptr<StopHandler> boardStop;   // before the capture: stop the board, exit
    std::unique_ptr<DeviceLink> ownedLink;
    DeviceLink *link = nullptr;
    AgentLink *agent = nullptr;

    if (p.isSet(QStringLiteral("board"))) {
        if (!loadRegistry(&registry, &error))
            return fail(error);
        const BoardDefinition *def = registry.board(p.value(QStringLiteral("board")));
        if (!def) {
            boardExists(p.value(QStringLiteral("board")), &error);
            return fail(error);
        }
        if (!def->isVirtual)
            return fail(QStringLiteral("%1 is a real board: connect it and pass --port (see `tinyml devices`)").arg(def->id));
        VirtualBoard::Options vopt;
        vopt.realtime = p.isSet(QStringLiteral("realtime"));
        board = std::make_unique<VirtualBoard>(*def, vopt);
        boardStop = stopBoardOnSignal(board.get());
        if (!json)
            QTextStream(stderr) << "Starting virtual board " << def->id << "...\n";
        if (!board->start(&error))
            return fail(error);
        agent = board->link();
        link = agent;
    } else {
        const QString protocol = p.value(QStringLiteral("protocol"));
        if (protocol == QLatin1String("agent")) {
            auto a = std::make_unique<AgentLink>();
            agent = a.get();
            ownedLink = std::move(a);
        } else if (protocol == QLatin1String("lines")) {
            ownedLink = std::make_unique<LineLink>();
        } else if (protocol == QLatin1String("mlperf")) {
            return fail(QStringLiteral("an MLPerf Tiny DUT does not stream sensor data; use --protocol agent or lines"));
        } else {
            return usageError(QStringLiteral("capture"), QStringLiteral("--protocol must be agent, lines or mlperf"));
        }
        link = ownedLink.get();
        link->setPortName(p.value(QStringLiteral("port")));
        link->setBaudRate(p.value(QStringLiteral("baud")).toInt());
        if (!link->open(&error))
            return fail(error);
        if (agent && !agent->handshake(10, 500, &error))
            return fail(QStringLiteral("%1: no answer to HELLO from the agent: %2").arg(link->portName(), error));
    }

    if (p.isSet(QStringLiteral("scenario"))) {
        if (!agent)
            return fail(QStringLiteral("--scenario needs a board running the TinyML agent"));
        if (!agent->setScenario(opt.sensor, p.value(QStringLiteral("scenario")), &error))
            return fail(error);
    }
    // The simulated sensor varies its subject (speed, load, amplitudes) by a seed: without a
    // fresh one every capture of a scenario would be the same signal, a data set of copies.
    std::optional<quint32> seedSent;
    if (p.isSet(QStringLiteral("scenario")) || seed) {
        if (!agent)
            return fail(QStringLiteral("--seed needs a board running the TinyML agent"));
        const quint32 s = seed ? *seed : QRandomGenerator::system()->generate();
        if (!agent->setSensorSeed(opt.sensor, s, &error))
            return fail(QStringLiteral("setting the seed of sensor %1: %2").arg(opt.sensor, error));
        seedSent = s;
        if (!json)
            QTextStream(stderr) << "Sensor seed " << s << (seed ? "" : " (random; --seed repeats it)") << "\n";
    }

    CaptureSession capture(link, store.get(), opt);
    if (!json) {
        QObject::connect(&capture, &CaptureSession::sampleStored, [&](qint64 id, bool complete) {
            QTextStream(stderr) << "  stored sample " << id << (complete ? "" : " (incomplete)") << "\n";
        });
    }
    // Generous: a virtual board in real time takes `seconds` per sample, plus start-up.
    const int timeoutMs = int(opt.durationS * opt.count * 3000.0) + 30000;
    int stoppedBy = 0;
    {
        // Ctrl+C / SIGTERM / SIGHUP during the capture: close the sample being recorded as
        // incomplete (it keeps its frames), then stop the board on the way out.
        StopHandler onStop([&](int sig) {
            stoppedBy = sig;
            capture.cancel();
        });
        capture.run(timeoutMs, &error);
    }
    const CaptureResult &r = capture.result();
    if (stoppedBy) {
        const qint64 lastId = r.sampleIds.isEmpty() ? 0 : r.sampleIds.last();
        QTextStream(stderr) << "tinyml: capture stopped by " << signalName(stoppedBy) << ": kept "
                            << r.framesReceived << " frames, marked incomplete"
                            << (lastId ? QStringLiteral(" (sample %1)").arg(lastId) : QString()) << "\n";
    }

    if (autoSplit && !r.sampleIds.isEmpty()) {
        int train = 0, test = 0;
        QVector<qint64> fresh;
        QVector<QString> checksums;
        for (const SampleInfo &info : store->sampleInfos()) {
            if (info.label != opt.label)
                continue;
            if (r.sampleIds.contains(info.id)) {
                fresh << info.id;
                checksums << info.checksum;
            } else {
                (info.split == Split::Test ? test : train)++;
            }
        }
        const QVector<Split> splits = assignSplitsForNewSamples(train, test, checksums);
        QVector<qint64> toTest;
        for (int i = 0; i < fresh.size(); ++i)
            if (splits[i] == Split::Test)
                toTest << fresh[i];
        QString e2;
        if (!toTest.isEmpty() && !store->setSplit(toTest, Split::Test, &e2))
            return fail(e2);
    }

    // Labels seen in captures become project labels.
    ProjectSettings settings = store->settings();
    if (!r.sampleIds.isEmpty() && !settings.labels.contains(opt.label)) {
        settings.labels << opt.label;
        QString e2;
        store->setSettings(settings, &e2);
    }

    if (json) {
        QJsonArray ids;
        for (qint64 id : r.sampleIds)
            ids.append(id);
        QJsonObject o{{QStringLiteral("frames_received"), double(r.framesReceived)},
                      {QStringLiteral("frames_lost"), double(r.framesLost)},
                      {QStringLiteral("bytes"), double(r.bytesReceived)},
                      {QStringLiteral("seconds"), r.seconds},
                      {QStringLiteral("sample_ids"), ids},
                      {QStringLiteral("complete"), r.complete},
                      {QStringLiteral("label"), opt.label},
                      {QStringLiteral("device"), link->deviceId()}};
        if (seedSent)
            o.insert(QStringLiteral("sensor_seed"), double(*seedSent));
        if (!r.error.isEmpty())
            o.insert(QStringLiteral("error"), r.error);
        printJson(o);
    } else {
        QTextStream(stdout) << "Captured " << r.sampleIds.size() << " sample(s) labelled '" << opt.label
                            << "': " << r.framesReceived << " frames, " << r.framesLost << " lost, "
                            << r.bytesReceived << " bytes in " << QString::number(r.seconds, 'f', 2) << " s\n";
    }
    if (stoppedBy) {
        if (board)
            board->stop();
        return 128 + stoppedBy;
    }
    if (!r.complete)
        return fail(r.error.isEmpty() ? QStringLiteral("capture did not complete") : r.error);
    return Ok;
}

// --- tinyml rollback / confirm: the staged-rollout trial on one board (MODEL_REVERT / CONFIRM)

void addTrialOptions(QCommandLineParser &p)
{
    p.addOption({QStringLiteral("board"), QStringLiteral("board id; virtual boards are started automatically"), QStringLiteral("ID")});
    p.addOption({QStringLiteral("port"), QStringLiteral("serial port of a board running the TinyML agent"), QStringLiteral("PATH")});
    p.addOption({QStringLiteral("baud"), QStringLiteral("baud rate"), QStringLiteral("N"), QStringLiteral("115200")});
    p.addOption({QStringLiteral("json"), QStringLiteral("print one JSON object")});
}

/// What the board runs now (MODEL_INFO, INFO SECURITY), as JSON and as one line of text.
int reportActiveModel(Connection &c, const QString &what, bool json)
{
    QString error;
    const auto m = c.link->modelInfo(&error);
    if (!m)
        return fail(QStringLiteral("%1: %2").arg(c.definition.id, error));
    const std::optional<DeviceSecurity> &sec = c.link->info().security;
    if (json) {
        QJsonObject o{{QStringLiteral("board"), c.definition.id},
                      {QStringLiteral("action"), what},
                      {QStringLiteral("active_slot"), m->activeSlot},
                      {QStringLiteral("size"), double(m->size)},
                      {QStringLiteral("crc32"), QStringLiteral("%1").arg(m->crc, 8, 16, QLatin1Char('0'))},
                      {QStringLiteral("on_trial"), m->onTrial}};
        if (sec) {
            o.insert(QStringLiteral("package_version"), double(sec->activePackageVersion));
            o.insert(QStringLiteral("anti_rollback_counter"), double(sec->antiRollbackCounter));
        }
        printJson(o);
        return Ok;
    }
    QTextStream out(stdout);
    out << c.definition.id << ": " << what << ": slot " << m->activeSlot << " runs the package of " << m->size
        << " bytes, CRC-32 " << QStringLiteral("%1").arg(m->crc, 8, 16, QLatin1Char('0'));
    if (sec)
        out << ", version " << sec->activePackageVersion << ", anti-rollback counter " << sec->antiRollbackCounter;
    out << (m->onTrial ? ", on trial\n" : "\n");
    return Ok;
}

int cmdRollback(const QStringList &args)
{
    const QString command = QStringLiteral("rollback");
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Return a board to the model it ran before the last flash (MODEL_REVERT). Possible while that\n"
        "flash is on trial: not confirmed (`tinyml confirm`) and no upload since. The board also returns\n"
        "to the anti-rollback counter it had then, so it runs and attests the previous package and\n"
        "version; the change is stored on the board before it answers. Exit status 1 when there is\n"
        "nothing to revert to, with the board's reason."));
    addTrialOptions(p);
    int code = 0;
    if (!parseOrReport(p, args, command, 0, &code))
        return code;
    const bool json = p.isSet(QStringLiteral("json"));
    Connection c;
    if (!connectBoard(p, command, json, &c, &code))
        return code;
    QString error;
    if (!c.link->revertModel(&error))
        return fail(error);
    return reportActiveModel(c, QStringLiteral("reverted"), json);
}

int cmdConfirm(const QStringList &args)
{
    const QString command = QStringLiteral("confirm");
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Keep the model a board runs (MODEL_CONFIRM): ends the trial that began with its flash, so\n"
        "`tinyml rollback` can no longer return to the model before it. A model not on trial stays as\n"
        "it is."));
    addTrialOptions(p);
    int code = 0;
    if (!parseOrReport(p, args, command, 0, &code))
        return code;
    const bool json = p.isSet(QStringLiteral("json"));
    Connection c;
    if (!connectBoard(p, command, json, &c, &code))
        return code;
    QString error;
    if (!c.link->confirmModel(&error))
        return fail(QStringLiteral("%1: %2").arg(c.definition.id, error));
    return reportActiveModel(c, QStringLiteral("confirmed"), json);
}

} // namespace

bool boardExists(const QString &id, QString *error)
{
    BoardRegistry registry;
    if (!registry.loadDefault(error))
        return false;
    if (registry.board(id))
        return true;
    QStringList ids;
    for (const BoardDefinition &b : registry.boards())
        ids << b.id;
    *error = QStringLiteral("unknown board '%1' (known: %2)").arg(id, ids.join(QStringLiteral(", ")));
    return false;
}

QList<Command> deviceCommands()
{
    return {
        {QStringLiteral("boards"), QStringLiteral("boards [--json]"), QStringLiteral("list known boards"), cmdBoards},
        {QStringLiteral("devices"), QStringLiteral("devices [--probe] [--json]"),
         QStringLiteral("list serial ports and virtual boards"), cmdDevices},
        {QStringLiteral("capture"),
         QStringLiteral("capture PROJECT (--board ID | --port PATH) --label L [--seconds S] [...]"),
         QStringLiteral("record labelled samples from a board"), cmdCapture},
        {QStringLiteral("rollback"), QStringLiteral("rollback (--board ID | --port PATH) [--json]"),
         QStringLiteral("return a board to the model before its last flash (while on trial)"), cmdRollback},
        {QStringLiteral("confirm"), QStringLiteral("confirm (--board ID | --port PATH) [--json]"),
         QStringLiteral("keep a board's model: end its trial (no rollback after)"), cmdConfirm},
    };
}

} // namespace tinyml::cli
