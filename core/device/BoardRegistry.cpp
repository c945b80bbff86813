#include "device/BoardRegistry.h"

#include "data/ResourceDirectory.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace tinyml {

double BoardPowerModel::activePowerMw(double clockHz) const
{
    if (activeMw > 0)
        return activeMw;
    return uaPerMhz * (clockHz / 1e6) * volts / 1000.0;
}

namespace {

/// Collects "<file>: field \"x.y\": problem" messages while reading one object.
class FieldReader
{
public:
    FieldReader(QString file, QStringList *problems) : m_file(std::move(file)), m_problems(problems) {}

    void problem(const QString &field, const QString &what)
    {
        *m_problems << QStringLiteral("%1: field \"%2\": %3").arg(m_file, field, what);
    }

    QJsonValue require(const QJsonObject &o, const QString &prefix, const QString &key)
    {
        if (!o.contains(key)) {
            problem(prefix + key, QStringLiteral("missing"));
            return {};
        }
        return o.value(key);
    }
    QString string(const QJsonObject &o, const QString &prefix, const QString &key, bool required = true)
    {
        if (!required && !o.contains(key))
            return {};
        const QJsonValue v = require(o, prefix, key);
        if (v.isUndefined())
            return {};
        if (!v.isString() || v.toString().trimmed().isEmpty()) {
            problem(prefix + key, QStringLiteral("must be a non-empty string"));
            return {};
        }
        return v.toString();
    }
    bool boolean(const QJsonObject &o, const QString &prefix, const QString &key, bool required = true)
    {
        if (!required && !o.contains(key))
            return false;
        const QJsonValue v = require(o, prefix, key);
        if (v.isUndefined())
            return false;
        if (!v.isBool()) {
            problem(prefix + key, QStringLiteral("must be true or false"));
            return false;
        }
        return v.toBool();
    }
    double positive(const QJsonObject &o, const QString &prefix, const QString &key, bool required = true)
    {
        if (!required && !o.contains(key))
            return 0;
        const QJsonValue v = require(o, prefix, key);
        if (v.isUndefined())
            return 0;
        if (!v.isDouble() || !(v.toDouble() > 0)) {
            problem(prefix + key, QStringLiteral("must be a positive number"));
            return 0;
        }
        return v.toDouble();
    }
    QJsonObject object(const QJsonObject &o, const QString &prefix, const QString &key, bool required = true)
    {
        if (!required && !o.contains(key))
            return {};
        const QJsonValue v = require(o, prefix, key);
        if (v.isUndefined())
            return {};
        if (!v.isObject()) {
            problem(prefix + key, QStringLiteral("must be an object"));
            return {};
        }
        return v.toObject();
    }
    QStringList strings(const QJsonObject &o, const QString &prefix, const QString &key)
    {
        QStringList out;
        if (!o.contains(key))
            return out;
        const QJsonValue v = o.value(key);
        if (!v.isArray()) {
            problem(prefix + key, QStringLiteral("must be an array of strings"));
            return out;
        }
        for (const QJsonValue &e : v.toArray()) {
            if (!e.isString()) {
                problem(prefix + key, QStringLiteral("must be an array of strings"));
                return {};
            }
            out << e.toString();
        }
        return out;
    }

private:
    QString m_file;
    QStringList *m_problems;
};

std::optional<quint16> parseHex16(const QJsonValue &v)
{
    if (!v.isString())
        return std::nullopt;
    QString s = v.toString();
    if (s.startsWith(QLatin1String("0x"), Qt::CaseInsensitive))
        s = s.mid(2);
    bool ok = false;
    const uint n = s.toUInt(&ok, 16);
    if (!ok || n > 0xFFFF || s.isEmpty())
        return std::nullopt;
    return quint16(n);
}

} // namespace

std::optional<BoardDefinition> BoardRegistry::parseBoard(const QByteArray &json, const QString &fileName,
                                                         QString *error)
{
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        if (error)
            *error = QStringLiteral("%1: not valid JSON at offset %2: %3")
                         .arg(fileName).arg(parseError.offset).arg(parseError.errorString());
        return std::nullopt;
    }
    if (!doc.isObject()) {
        if (error)
            *error = QStringLiteral("%1: the top level must be a JSON object").arg(fileName);
        return std::nullopt;
    }
    const QJsonObject o = doc.object();
    QStringList problems;
    FieldReader r(fileName, &problems);
    BoardDefinition b;
    b.id = r.string(o, {}, QStringLiteral("id"));
    b.name = r.string(o, {}, QStringLiteral("name"));
    b.vendor = r.string(o, {}, QStringLiteral("vendor"));
    b.cpu = r.string(o, {}, QStringLiteral("cpu"));
    b.clockHz = quint64(r.positive(o, {}, QStringLiteral("clock_hz")));
    b.ramBytes = quint64(r.positive(o, {}, QStringLiteral("ram_bytes")));
    b.flashBytes = quint64(r.positive(o, {}, QStringLiteral("flash_bytes")));
    b.isVirtual = r.boolean(o, {}, QStringLiteral("virtual"));
    b.verifiedOnHardware = r.boolean(o, {}, QStringLiteral("verified_on_hardware"));
    if (!b.id.isEmpty() && QFileInfo(fileName).fileName() != b.id + QStringLiteral(".json"))
        r.problem(QStringLiteral("id"), QStringLiteral("\"%1\" does not match the file name (expected %1.json)").arg(b.id));
    if (b.isVirtual && b.verifiedOnHardware)
        r.problem(QStringLiteral("verified_on_hardware"), QStringLiteral("a virtual board cannot be verified on hardware"));

    const QJsonObject agent = r.object(o, {}, QStringLiteral("agent"));
    if (!agent.isEmpty()) {
        b.agentPort = r.string(agent, QStringLiteral("agent."), QStringLiteral("port"));
        b.agentImage = r.string(agent, QStringLiteral("agent."), QStringLiteral("image"), false);
        b.agentExecutable = r.string(agent, QStringLiteral("agent."), QStringLiteral("executable"), false);
        if (b.agentImage.isEmpty() && b.agentExecutable.isEmpty())
            r.problem(QStringLiteral("agent.image"), QStringLiteral("missing (or agent.executable for the host agent)"));
        if (QDir::isAbsolutePath(b.agentImage))
            r.problem(QStringLiteral("agent.image"), QStringLiteral("must be relative to the agent directory"));
    }

    b.launcher = r.string(o, {}, QStringLiteral("launcher"), b.isVirtual);
    if (b.isVirtual && !b.launcher.isEmpty() && b.launcher != QLatin1String("qemu")
        && b.launcher != QLatin1String("host"))
        r.problem(QStringLiteral("launcher"), QStringLiteral("must be \"qemu\" or \"host\", not \"%1\"").arg(b.launcher));
    if (!b.isVirtual && o.contains(QStringLiteral("launcher")))
        r.problem(QStringLiteral("launcher"), QStringLiteral("only virtual boards have a launcher"));
    if (b.launcher == QLatin1String("qemu")) {
        const QJsonObject qemu = r.object(o, {}, QStringLiteral("qemu"));
        if (!qemu.isEmpty()) {
            b.qemuMachine = r.string(qemu, QStringLiteral("qemu."), QStringLiteral("machine"));
            b.qemuExtraArgs = r.strings(qemu, QStringLiteral("qemu."), QStringLiteral("extra_args"));
        }
        if (b.agentImage.isEmpty() && !agent.isEmpty())
            r.problem(QStringLiteral("agent.image"), QStringLiteral("missing: a QEMU board boots an agent image"));
    }
    if (b.launcher == QLatin1String("host") && b.agentExecutable.isEmpty() && !agent.isEmpty())
        r.problem(QStringLiteral("agent.executable"), QStringLiteral("missing: the host board runs the host agent program"));

    if (!b.isVirtual) {
        const QJsonObject flasher = r.object(o, {}, QStringLiteral("flasher"));
        if (!flasher.isEmpty()) {
            b.flasherTool = r.string(flasher, QStringLiteral("flasher."), QStringLiteral("tool"));
            b.flasherArgs = r.strings(flasher, QStringLiteral("flasher."), QStringLiteral("args"));
            b.flasherInstallHint = r.string(flasher, QStringLiteral("flasher."), QStringLiteral("install"));
            b.alternativeFlashers = r.strings(flasher, QStringLiteral("flasher."), QStringLiteral("alternatives"));
            const QJsonValue tools = flasher.value(QStringLiteral("alternative_tools"));
            if (!tools.isUndefined() && !tools.isArray())
                r.problem(QStringLiteral("flasher.alternative_tools"),
                          QStringLiteral("must be an array of {tool, args, install}"));
            const QJsonArray toolArray = tools.toArray();
            for (int i = 0; i < toolArray.size(); ++i) {
                const QString prefix = QStringLiteral("flasher.alternative_tools[%1].").arg(i);
                const QJsonObject t = toolArray.at(i).toObject();
                FlasherCommand c;
                c.tool = r.string(t, prefix, QStringLiteral("tool"));
                c.args = r.strings(t, prefix, QStringLiteral("args"));
                c.installHint = r.string(t, prefix, QStringLiteral("install"));
                b.alternativeFlasherCommands.push_back(c);
                // the readable list keeps naming every way to flash the board
                b.alternativeFlashers << (QStringList{c.tool} + c.args).join(QLatin1Char(' '));
            }
        }
    }

    const QJsonObject serial = r.object(o, {}, QStringLiteral("serial"));
    if (!serial.isEmpty()) {
        b.baud = int(r.positive(serial, QStringLiteral("serial."), QStringLiteral("baud")));
        const QJsonValue usb = serial.value(QStringLiteral("usb"));
        if (!usb.isUndefined() && !usb.isArray())
            r.problem(QStringLiteral("serial.usb"), QStringLiteral("must be an array of {vid, pid, protocol}"));
        const QJsonArray usbArray = usb.toArray();
        for (int i = 0; i < usbArray.size(); ++i) {
            const QString field = QStringLiteral("serial.usb[%1]").arg(i);
            const QJsonObject e = usbArray.at(i).toObject();
            const auto vid = parseHex16(e.value(QStringLiteral("vid")));
            const auto pid = parseHex16(e.value(QStringLiteral("pid")));
            if (!vid || !pid) {
                r.problem(field, QStringLiteral("vid and pid must be hex strings like \"0x2341\""));
                continue;
            }
            b.usbIds.push_back({*vid, *pid, e.value(QStringLiteral("protocol")).toString(QStringLiteral("agent"))});
        }
    }

    const QJsonObject power = r.object(o, {}, QStringLiteral("power"));
    if (!power.isEmpty()) {
        b.power.activeMw = r.positive(power, QStringLiteral("power."), QStringLiteral("active_mw"), false);
        b.power.uaPerMhz = r.positive(power, QStringLiteral("power."), QStringLiteral("ua_per_mhz"), false);
        b.power.volts = r.positive(power, QStringLiteral("power."), QStringLiteral("volts"), false);
        if (b.power.activeMw <= 0 && (b.power.uaPerMhz <= 0 || b.power.volts <= 0))
            r.problem(QStringLiteral("power"), QStringLiteral("needs active_mw, or ua_per_mhz and volts"));
        b.power.source = r.string(power, QStringLiteral("power."), QStringLiteral("source"));
        b.power.estimated = r.boolean(power, QStringLiteral("power."), QStringLiteral("estimated"));
        b.power.sleepUaPerMhz = r.positive(power, QStringLiteral("power."), QStringLiteral("sleep_ua_per_mhz"), false);
        if (b.power.sleepUaPerMhz > 0)
            b.power.sleepSource = r.string(power, QStringLiteral("power."), QStringLiteral("sleep_source"));
    }

    const QJsonObject cycles = r.object(o, {}, QStringLiteral("cycle_model"), false);
    if (o.contains(QStringLiteral("cycle_model"))) {
        const QString prefix = QStringLiteral("cycle_model.");
        const QString core = r.string(cycles, prefix, QStringLiteral("core")).trimmed().toLower();
        if (core == QLatin1String("m4") || core == QLatin1String("m7"))
            b.cycleModel.core = core;
        else if (!core.isEmpty())
            r.problem(prefix + QStringLiteral("core"),
                      QStringLiteral("must be \"m4\" or \"m7\" (the cores the cycle plugin models), not \"%1\"").arg(core));
        const QJsonValue ws = cycles.value(QStringLiteral("wait_states"));
        if (!ws.isUndefined()) {
            const double n = ws.toDouble(-1);
            if (!ws.isDouble() || n < 0 || n > 15 || n != double(int(n)))
                r.problem(prefix + QStringLiteral("wait_states"), QStringLiteral("must be an integer from 0 to 15"));
            else
                b.cycleModel.waitStates = int(n);
        }
        b.cycleModel.part = r.string(cycles, prefix, QStringLiteral("part"), !b.isVirtual);
        b.cycleModel.source = r.string(cycles, prefix, QStringLiteral("source"));
        if (b.isVirtual && b.launcher != QLatin1String("qemu"))
            r.problem(QStringLiteral("cycle_model"), QStringLiteral("only QEMU boards run the cycle model"));
        if (b.clockHz == 0 && !b.isVirtual)
            r.problem(QStringLiteral("cycle_model"), QStringLiteral("a target part needs clock_hz"));
    }

    const QJsonValue sensors = o.value(QStringLiteral("sensors"));
    if (!sensors.isUndefined() && !sensors.isArray())
        r.problem(QStringLiteral("sensors"), QStringLiteral("must be an array"));
    const QJsonArray sensorArray = sensors.toArray();
    for (int i = 0; i < sensorArray.size(); ++i) {
        const QString prefix = QStringLiteral("sensors[%1].").arg(i);
        const QJsonObject s = sensorArray.at(i).toObject();
        BoardSensorSpec spec;
        spec.name = r.string(s, prefix, QStringLiteral("name"));
        spec.kind = r.string(s, prefix, QStringLiteral("kind"));
        spec.channels = r.strings(s, prefix, QStringLiteral("channels"));
        spec.units = r.strings(s, prefix, QStringLiteral("units"));
        spec.defaultRateHz = r.positive(s, prefix, QStringLiteral("default_rate_hz"));
        spec.maxRateHz = r.positive(s, prefix, QStringLiteral("max_rate_hz"), false);
        if (spec.channels.isEmpty())
            r.problem(prefix + QStringLiteral("channels"), QStringLiteral("needs at least one channel"));
        if (!spec.units.isEmpty() && spec.units.size() != spec.channels.size())
            r.problem(prefix + QStringLiteral("units"), QStringLiteral("needs one unit per channel"));
        b.sensors.push_back(spec);
    }

    if (!problems.isEmpty()) {
        if (error)
            *error = problems.join(QLatin1Char('\n'));
        return std::nullopt;
    }
    b.filePath = fileName;
    return b;
}

std::optional<BoardDefinition> BoardRegistry::loadFile(const QString &path, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        if (error)
            *error = QStringLiteral("%1: cannot read: %2").arg(path, file.errorString());
        return std::nullopt;
    }
    return parseBoard(file.readAll(), path, error);
}

bool BoardRegistry::loadDirectory(const QString &dirPath, QString *error)
{
    QDir dir(dirPath);
    if (!dir.exists()) {
        if (error)
            *error = QStringLiteral("board directory %1 does not exist").arg(dirPath);
        return false;
    }
    QVector<BoardDefinition> boards;
    QStringList problems;
    const auto files = dir.entryInfoList({QStringLiteral("*.json")}, QDir::Files, QDir::Name);
    for (const QFileInfo &fi : files) {
        QString e;
        auto b = loadFile(fi.absoluteFilePath(), &e);
        if (!b) {
            problems << e;
            continue;
        }
        boards.push_back(*b);
    }
    if (boards.isEmpty() && problems.isEmpty())
        problems << QStringLiteral("board directory %1 holds no *.json board definitions").arg(dirPath);
    if (!problems.isEmpty()) {
        if (error)
            *error = problems.join(QLatin1Char('\n'));
        return false;
    }
    m_boards = boards;
    m_dir = dir.absolutePath();
    return true;
}

QString BoardRegistry::defaultBoardsDirectory(QString *error)
{
#ifdef TINYML_BOARDS_SOURCE_DIR
    const QString source = QStringLiteral(TINYML_BOARDS_SOURCE_DIR);
#else
    const QString source;
#endif
    return findResourceDirectory("TINYML_BOARDS_DIR", QStringLiteral("boards"), source,
                                 QStringLiteral("board directory"), error);
}

bool BoardRegistry::loadDefault(QString *error)
{
    const QString dir = defaultBoardsDirectory(error);
    return !dir.isEmpty() && loadDirectory(dir, error);
}

const BoardDefinition *BoardRegistry::board(const QString &id) const
{
    for (const BoardDefinition &b : m_boards)
        if (b.id == id)
            return &b;
    return nullptr;
}

const BoardDefinition *BoardRegistry::boardForAgentId(const QString &boardId) const
{
    if (const BoardDefinition *b = board(boardId))
        return b;
    for (const BoardDefinition &b : m_boards)
        if (b.agentPort == boardId)
            return &b;
    return nullptr;
}

const BoardDefinition *BoardRegistry::boardForUsb(quint16 vid, quint16 pid, QString *protocol) const
{
    for (const BoardDefinition &b : m_boards)
        for (const UsbId &u : b.usbIds)
            if (u.vid == vid && u.pid == pid) {
                if (protocol)
                    *protocol = u.protocol;
                return &b;
            }
    return nullptr;
}

QVector<BoardDefinition> BoardRegistry::virtualBoards() const
{
    QVector<BoardDefinition> out;
    for (const BoardDefinition &b : m_boards)
        if (b.isVirtual)
            out.push_back(b);
    return out;
}

} // namespace tinyml
