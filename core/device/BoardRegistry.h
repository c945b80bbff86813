#pragma once
// The board registry: resources/boards/<id>.json, one file per board.
//
// Where the files are found (first that exists): env TINYML_BOARDS_DIR, the installed
// folder <app dir>/../share/tinyml-workbench/boards, then the source tree (compiled in).
// Agent images: env TINYML_AGENT_DIR, the installed <app dir>/../lib/tinyml-workbench/agent
// (only that one when it exists), else the build tree; see AgentLocator in VirtualBoard.h.

#include <QString>
#include <QStringList>
#include <QVector>

#include <optional>

namespace tinyml {

/// Energy per inference = cycles / f_clk x P_active until a power monitor is attached.
struct BoardPowerModel {
    double activeMw = 0;          ///< given directly, or
    double uaPerMhz = 0;          ///< derived: uaPerMhz x MHz x volts
    double volts = 0;
    QString source;               ///< datasheet name and section the figure comes from
    bool estimated = true;
    /// Current while the CPU waits between windows of a continuous impulse (Sleep mode with the
    /// sensor's clocks and DMA running); 0: the board file gives none, battery life unknown.
    double sleepUaPerMhz = 0;
    QString sleepSource;
    double activePowerMw(double clockHz) const;
};

/// "cycle_model": which Cortex-M timing model of the QEMU cycle plugin
/// (firmware-agent/qemu-plugin) describes the board. On a QEMU board it is the model the
/// plugin runs with; on a real part it makes the board a target that estimated cycles are
/// converted for (part name, core, wait states, and the board's clock_hz). Estimates only:
/// nothing here is measured on silicon.
struct BoardCycleModel {
    QString core;                 ///< "m4" or "m7" (the plugin's cores); empty: no cycle model
    int waitStates = 0;           ///< flash wait states the estimate charges (0..15)
    QString part;                 ///< the microcontroller: "STM32L4R5ZI"; empty on virtual boards
    QString source;               ///< the documents core, clock and wait states come from
    bool isSet() const { return !core.isEmpty(); }
};

struct BoardSensorSpec {
    QString name;                 ///< "accel", "mic"
    QString kind;                 ///< "accelerometer", "microphone", ...
    QStringList channels;
    QStringList units;
    double defaultRateHz = 0;
    double maxRateHz = 0;
};

struct UsbId {
    quint16 vid = 0;
    quint16 pid = 0;
    QString protocol;             ///< "agent", "lines", "mlperf", "bootloader"
};

/// One way to flash a board: a program on PATH and its arguments ("{image}" and "{port}"
/// are substituted), and the Debian package (or instructions) that provides it.
struct FlasherCommand {
    QString tool;
    QStringList args;
    QString installHint;
};

struct BoardDefinition {
    QString id;
    QString name;
    QString vendor;
    QString cpu;
    quint64 clockHz = 0;
    quint64 ramBytes = 0;
    quint64 flashBytes = 0;
    bool isVirtual = false;
    bool verifiedOnHardware = false;

    QString agentPort;            ///< firmware-agent/ports/<port>
    QString agentImage;           ///< relative: "qemu-mps2-an386/tinyml-agent.elf"
    QString agentExecutable;      ///< host agent program name, for launcher "host"
    QString launcher;             ///< "qemu", "host", or empty for a real board

    QString qemuMachine;          ///< "mps2-an386"
    QStringList qemuExtraArgs;

    QString flasherTool;          ///< "bossac", "picotool", "openocd"
    QStringList flasherArgs;      ///< "{image}" and "{port}" are substituted
    QString flasherInstallHint;   ///< Debian package providing the tool
    QStringList alternativeFlashers;
    /// flasher.alternative_tools: tried in order when flasherTool is not on PATH.
    QVector<FlasherCommand> alternativeFlasherCommands;

    int baud = 115200;
    QVector<UsbId> usbIds;
    BoardPowerModel power;
    BoardCycleModel cycleModel;
    QVector<BoardSensorSpec> sensors;
    QString filePath;             ///< the JSON it was read from
};

class BoardRegistry
{
public:
    /// Reads every *.json in dir. Any invalid file fails the load; *error names each
    /// file and field (one line per problem).
    bool loadDirectory(const QString &dir, QString *error);
    /// Loads from defaultBoardsDirectory().
    bool loadDefault(QString *error);

    /// Validates one definition; fileName is used in messages and must be "<id>.json".
    static std::optional<BoardDefinition> parseBoard(const QByteArray &json, const QString &fileName,
                                                     QString *error);
    static std::optional<BoardDefinition> loadFile(const QString &path, QString *error);

    /// The first existing directory of the lookup order; empty with *error listing the
    /// places searched when none exists.
    static QString defaultBoardsDirectory(QString *error = nullptr);

    const QVector<BoardDefinition> &boards() const { return m_boards; }
    const BoardDefinition *board(const QString &id) const;
    /// The board an agent's INFO BOARD_ID names: a registry id, or the agent port name
    /// ("qemu-mps2-an386") that a port may report instead.
    const BoardDefinition *boardForAgentId(const QString &boardId) const;
    const BoardDefinition *boardForUsb(quint16 vid, quint16 pid, QString *protocol = nullptr) const;
    QVector<BoardDefinition> virtualBoards() const;
    QString directory() const { return m_dir; }

private:
    QVector<BoardDefinition> m_boards;
    QString m_dir;
};

} // namespace tinyml
