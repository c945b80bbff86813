#include "device/DeviceDiscovery.h"

#include "device/AgentLink.h"
#include "device/LineLink.h"
#include "device/MlperfLink.h"

#include <QEventLoop>
#include <QSerialPortInfo>
#include <QTimer>

namespace tinyml {

QString linkProtocolName(LinkProtocol p)
{
    switch (p) {
    case LinkProtocol::Unknown: return QStringLiteral("unknown");
    case LinkProtocol::Agent: return QStringLiteral("agent");
    case LinkProtocol::Lines: return QStringLiteral("lines");
    case LinkProtocol::Mlperf: return QStringLiteral("mlperf");
    }
    return {};
}

QVector<DiscoveredDevice> DeviceDiscovery::serialPorts(const BoardRegistry &registry)
{
    QVector<DiscoveredDevice> out;
    const auto ports = QSerialPortInfo::availablePorts();
    for (const QSerialPortInfo &info : ports) {
        DiscoveredDevice d;
        d.portName = info.portName();
        d.systemLocation = info.systemLocation();
        d.description = info.description();
        d.serialNumber = info.serialNumber();
        d.hasUsbId = info.hasVendorIdentifier() && info.hasProductIdentifier();
        if (d.hasUsbId) {
            d.vid = info.vendorIdentifier();
            d.pid = info.productIdentifier();
            QString protocol;
            if (const BoardDefinition *b = registry.boardForUsb(d.vid, d.pid, &protocol)) {
                d.boardId = b->id;
                d.description = b->name;
                d.isBootloader = protocol == QLatin1String("bootloader");
                if (protocol == QLatin1String("agent"))
                    d.protocol = LinkProtocol::Agent;
                else if (protocol == QLatin1String("lines"))
                    d.protocol = LinkProtocol::Lines;
                else if (protocol == QLatin1String("mlperf"))
                    d.protocol = LinkProtocol::Mlperf;
            }
        }
        out.push_back(d);
    }
    return out;
}

QVector<DiscoveredDevice> DeviceDiscovery::virtualBoards(const BoardRegistry &registry)
{
    QVector<DiscoveredDevice> out;
    for (const BoardDefinition &b : registry.virtualBoards()) {
        DiscoveredDevice d;
        d.description = b.name;
        d.boardId = b.id;
        d.isVirtual = true;
        d.protocol = LinkProtocol::Agent;
        out.push_back(d);
    }
    return out;
}

QVector<DiscoveredDevice> DeviceDiscovery::all(const BoardRegistry &registry)
{
    return serialPorts(registry) + virtualBoards(registry);
}

ProbeResult DeviceDiscovery::probe(const QString &portName, int baud, int lineWindowMs)
{
    ProbeResult result;
    QString error;
    {
        AgentLink agent;
        agent.setPortName(portName);
        agent.setBaudRate(baud);
        if (!agent.open(&error))
            return result;
        if (agent.handshake(3, 300, &error)) {
            result.protocol = LinkProtocol::Agent;
            result.boardId = agent.info().boardId;
            result.detail = QStringLiteral("agent %1, protocol %2")
                                .arg(agent.info().agentVersion).arg(agent.info().protocolVersion);
            return result;
        }
    }
    {
        MlperfLink mlperf;
        mlperf.setPortName(portName);
        mlperf.setBaudRate(baud);
        if (mlperf.open(&error)) {
            if (auto name = mlperf.name(&error)) {
                result.protocol = LinkProtocol::Mlperf;
                result.boardId = *name;
                result.detail = QStringLiteral("MLPerf Tiny DUT %1").arg(*name);
                return result;
            }
        }
    }
    LineLink lines;
    lines.setPortName(portName);
    lines.setBaudRate(baud);
    if (!lines.open(&error) || !lines.startStream({}, &error))
        return result;
    QEventLoop loop;
    QTimer::singleShot(lineWindowMs, &loop, &QEventLoop::quit);
    QObject::connect(&lines, &DeviceLink::streamStarted, &loop, &QEventLoop::quit);
    loop.exec();
    if (lines.parser().detected() && lines.parser().channelCount() > 0) {
        result.protocol = LinkProtocol::Lines;
        result.detail = QStringLiteral("%1 channel(s) at ~%2 Hz")
                            .arg(lines.parser().channelCount()).arg(lines.parser().rateHz());
    }
    return result;
}

} // namespace tinyml
