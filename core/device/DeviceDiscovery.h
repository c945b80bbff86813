#pragma once
// Device discovery: serial ports with a guessed protocol, plus the registry's virtual
// boards. A guess from a known USB VID/PID costs nothing; probe() talks to the port and
// is slower (up to a few seconds), so callers run it on demand.

#include "device/BoardRegistry.h"

#include <QString>
#include <QVector>

namespace tinyml {

enum class LinkProtocol { Unknown, Agent, Lines, Mlperf };
QString linkProtocolName(LinkProtocol p); ///< "unknown", "agent", "lines", "mlperf"

struct DiscoveredDevice {
    QString portName;             ///< "/dev/ttyACM0"; empty for a virtual board (not running)
    QString systemLocation;
    QString description;          ///< what the OS / the registry calls it
    bool hasUsbId = false;
    quint16 vid = 0;
    quint16 pid = 0;
    QString serialNumber;
    LinkProtocol protocol = LinkProtocol::Unknown;
    QString boardId;              ///< from the USB id, the registry or a probe; may be empty
    bool isVirtual = false;
    bool isBootloader = false;    ///< the USB id is the board's bootloader, not its firmware
};

struct ProbeResult {
    LinkProtocol protocol = LinkProtocol::Unknown;
    QString boardId;              ///< agent INFO board id, or MLPerf DUT name
    QString detail;               ///< e.g. "3 channels at ~100 Hz"
};

class DeviceDiscovery
{
public:
    /// Serial ports (QSerialPortInfo) with a guess from the board JSONs' USB ids.
    static QVector<DiscoveredDevice> serialPorts(const BoardRegistry &registry);
    /// The registry's virtual boards (started on demand by VirtualBoard).
    static QVector<DiscoveredDevice> virtualBoards(const BoardRegistry &registry);
    static QVector<DiscoveredDevice> all(const BoardRegistry &registry);

    /// Talks to a port: HELLO on the agent protocol, else MLPerf `name%`, else watches
    /// for numeric lines for lineWindowMs. Returns Unknown when nothing answered.
    static ProbeResult probe(const QString &portName, int baud = 115200, int lineWindowMs = 1500);
};

} // namespace tinyml
