// The shipped board definitions validate; broken ones fail with the file and the field.

#include "DeviceTestSupport.h"

#include "device/BoardRegistry.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>

using namespace tinyml;

namespace {

QByteArray shippedJson(const QString &id)
{
    QFile f(QStringLiteral(TINYML_SOURCE_DIR "/resources/boards/%1.json").arg(id));
    EXPECT_TRUE(f.open(QIODevice::ReadOnly)) << id.toStdString();
    return f.readAll();
}

QByteArray without(const QByteArray &json, const QString &object, const QString &key)
{
    QJsonObject o = QJsonDocument::fromJson(json).object();
    if (object.isEmpty()) {
        o.remove(key);
    } else {
        QJsonObject inner = o.value(object).toObject();
        inner.remove(key);
        o.insert(object, inner);
    }
    return QJsonDocument(o).toJson();
}

} // namespace

TEST(BoardRegistryTest, ShippedBoardsValidate)
{
    BoardRegistry registry;
    QString error;
    ASSERT_TRUE(registry.loadDirectory(QStringLiteral(TINYML_SOURCE_DIR "/resources/boards"), &error))
        << error.toStdString();
    for (const char *id : {"qemu-m4", "qemu-m7", "host", "arduino-nano-33-ble-sense", "rpi-pico", "nucleo-l4r5zi"})
        EXPECT_TRUE(registry.board(QString::fromLatin1(id))) << id;

    const BoardDefinition *m4 = registry.board(QStringLiteral("qemu-m4"));
    ASSERT_TRUE(m4);
    EXPECT_TRUE(m4->isVirtual);
    EXPECT_EQ(m4->launcher, QStringLiteral("qemu"));
    EXPECT_EQ(m4->qemuMachine, QStringLiteral("mps2-an386"));
    EXPECT_EQ(m4->agentImage, QStringLiteral("qemu-mps2-an386/tinyml-agent.elf"));
    EXPECT_EQ(m4->clockHz, 25000000u);
    EXPECT_TRUE(m4->power.estimated);
    EXPECT_GT(m4->power.activePowerMw(double(m4->clockHz)), 0.0);
    EXPECT_TRUE(m4->power.source.contains(QStringLiteral("STM32L4R5")));
    EXPECT_EQ(registry.board(QStringLiteral("qemu-m7"))->qemuMachine, QStringLiteral("mps2-an500"));
    EXPECT_EQ(registry.board(QStringLiteral("host"))->launcher, QStringLiteral("host"));

    const BoardDefinition *nano = registry.board(QStringLiteral("arduino-nano-33-ble-sense"));
    EXPECT_FALSE(nano->isVirtual);
    EXPECT_FALSE(nano->verifiedOnHardware);
    EXPECT_EQ(nano->flasherTool, QStringLiteral("bossac"));
    EXPECT_EQ(nano->ramBytes, 256u * 1024);
    QString protocol;
    EXPECT_EQ(registry.boardForUsb(0x2341, 0x805a, &protocol), nano);
    EXPECT_EQ(protocol, QStringLiteral("agent"));
    EXPECT_EQ(registry.board(QStringLiteral("rpi-pico"))->flasherTool, QStringLiteral("picotool"));
    EXPECT_EQ(registry.board(QStringLiteral("nucleo-l4r5zi"))->clockHz, 120000000u);
    EXPECT_EQ(registry.virtualBoards().size(), 3);
}

TEST(BoardRegistryTest, DefaultDirectoryFindsTheSourceTreeAndHonoursTheEnvironment)
{
    QString error;
    const QString dir = BoardRegistry::defaultBoardsDirectory(&error);
    ASSERT_FALSE(dir.isEmpty()) << error.toStdString();
    QTemporaryDir tmp;
    qputenv("TINYML_BOARDS_DIR", tmp.path().toLocal8Bit());
    EXPECT_EQ(BoardRegistry::defaultBoardsDirectory(), QDir(tmp.path()).absolutePath());
    qunsetenv("TINYML_BOARDS_DIR");
}

TEST(BoardRegistryTest, BadJsonNamesTheFile)
{
    QString error;
    EXPECT_FALSE(BoardRegistry::parseBoard("{ \"id\": ", QStringLiteral("/x/broken.json"), &error));
    EXPECT_TRUE(error.contains(QStringLiteral("/x/broken.json"))) << error.toStdString();
    EXPECT_TRUE(error.contains(QStringLiteral("not valid JSON"))) << error.toStdString();
}

TEST(BoardRegistryTest, MissingFieldsNameFileAndField)
{
    const QByteArray m4 = shippedJson(QStringLiteral("qemu-m4"));
    QString error;
    EXPECT_FALSE(BoardRegistry::parseBoard(without(m4, {}, QStringLiteral("clock_hz")), QStringLiteral("qemu-m4.json"), &error));
    EXPECT_TRUE(error.contains(QStringLiteral("qemu-m4.json: field \"clock_hz\": missing"))) << error.toStdString();

    EXPECT_FALSE(BoardRegistry::parseBoard(without(m4, QStringLiteral("qemu"), QStringLiteral("machine")), QStringLiteral("qemu-m4.json"), &error));
    EXPECT_TRUE(error.contains(QStringLiteral("field \"qemu.machine\""))) << error.toStdString();

    EXPECT_FALSE(BoardRegistry::parseBoard(without(m4, QStringLiteral("power"), QStringLiteral("source")), QStringLiteral("qemu-m4.json"), &error));
    EXPECT_TRUE(error.contains(QStringLiteral("field \"power.source\""))) << error.toStdString();

    const QByteArray pico = shippedJson(QStringLiteral("rpi-pico"));
    EXPECT_FALSE(BoardRegistry::parseBoard(without(pico, {}, QStringLiteral("flasher")), QStringLiteral("rpi-pico.json"), &error));
    EXPECT_TRUE(error.contains(QStringLiteral("rpi-pico.json: field \"flasher\": missing"))) << error.toStdString();

    // The id must match the file name, so boards are found by file.
    EXPECT_FALSE(BoardRegistry::parseBoard(pico, QStringLiteral("pico.json"), &error));
    EXPECT_TRUE(error.contains(QStringLiteral("field \"id\""))) << error.toStdString();
}

TEST(BoardRegistryTest, DirectoryLoadReportsEveryBrokenFile)
{
    QTemporaryDir tmp;
    QFile good(tmp.filePath(QStringLiteral("qemu-m4.json")));
    ASSERT_TRUE(good.open(QIODevice::WriteOnly));
    good.write(shippedJson(QStringLiteral("qemu-m4")));
    good.close();
    QFile bad(tmp.filePath(QStringLiteral("wrong.json")));
    ASSERT_TRUE(bad.open(QIODevice::WriteOnly));
    bad.write("[]");
    bad.close();
    BoardRegistry registry;
    QString error;
    EXPECT_FALSE(registry.loadDirectory(tmp.path(), &error));
    EXPECT_TRUE(error.contains(QStringLiteral("wrong.json"))) << error.toStdString();
}

// Issue 15: "cycle_model" says which timing model of the QEMU cycle plugin describes a board;
// on a real part it makes the board a target (part, core, wait states, clock_hz).
TEST(BoardRegistryTest, CycleModelsOfVirtualBoardsAndTargetParts)
{
    BoardRegistry registry;
    QString error;
    ASSERT_TRUE(registry.loadDirectory(QStringLiteral(TINYML_SOURCE_DIR "/resources/boards"), &error))
        << error.toStdString();
    const BoardDefinition *m4 = registry.board(QStringLiteral("qemu-m4"));
    ASSERT_TRUE(m4);
    EXPECT_EQ(m4->cycleModel.core, QStringLiteral("m4"));
    EXPECT_EQ(m4->cycleModel.waitStates, 0);
    EXPECT_TRUE(m4->cycleModel.part.isEmpty());
    EXPECT_EQ(registry.board(QStringLiteral("qemu-m7"))->cycleModel.core, QStringLiteral("m7"));
    EXPECT_FALSE(registry.board(QStringLiteral("host"))->cycleModel.isSet());
    EXPECT_FALSE(registry.board(QStringLiteral("rpi-pico"))->cycleModel.isSet()) << "Cortex-M0+ is not modelled";

    const BoardDefinition *nucleo = registry.board(QStringLiteral("nucleo-l4r5zi"));
    ASSERT_TRUE(nucleo);
    EXPECT_EQ(nucleo->cycleModel.part, QStringLiteral("STM32L4R5ZI"));
    EXPECT_EQ(nucleo->cycleModel.core, QStringLiteral("m4"));
    EXPECT_EQ(nucleo->clockHz, 120000000u);
    EXPECT_TRUE(nucleo->cycleModel.source.contains(QStringLiteral("RM0432"))) << "the wait-state caveat cites its manual";
    const BoardDefinition *nano = registry.board(QStringLiteral("arduino-nano-33-ble-sense"));
    ASSERT_TRUE(nano);
    EXPECT_EQ(nano->cycleModel.part, QStringLiteral("nRF52840"));
    EXPECT_EQ(nano->clockHz, 64000000u);
}

TEST(BoardRegistryTest, BadCycleModelsNameTheField)
{
    const auto withCycleModel = [](const QString &id, const QJsonValue &model) {
        QJsonObject o = QJsonDocument::fromJson(shippedJson(id)).object();
        o.insert(QStringLiteral("cycle_model"), model);
        return QJsonDocument(o).toJson();
    };
    const struct {
        QString id;
        QJsonValue model;
        const char *expect;
    } cases[] = {
        {QStringLiteral("qemu-m4"), QJsonObject{{"core", "m0plus"}, {"source", "x"}},
         "field \"cycle_model.core\": must be \"m4\" or \"m7\""},
        {QStringLiteral("qemu-m4"), QJsonObject{{"core", "m4"}, {"wait_states", 16}, {"source", "x"}},
         "field \"cycle_model.wait_states\": must be an integer from 0 to 15"},
        {QStringLiteral("qemu-m4"), QJsonObject{{"core", "m4"}, {"wait_states", 1.5}, {"source", "x"}},
         "field \"cycle_model.wait_states\""},
        {QStringLiteral("qemu-m4"), QJsonObject{{"core", "m4"}}, "field \"cycle_model.source\": missing"},
        {QStringLiteral("qemu-m4"), QJsonValue(QStringLiteral("m4")), "field \"cycle_model\": must be an object"},
        {QStringLiteral("nucleo-l4r5zi"), QJsonObject{{"core", "m4"}, {"source", "x"}},
         "field \"cycle_model.part\": missing"},
        {QStringLiteral("host"), QJsonObject{{"core", "m4"}, {"source", "x"}},
         "field \"cycle_model\": only QEMU boards run the cycle model"},
    };
    for (const auto &c : cases) {
        QString error;
        EXPECT_FALSE(BoardRegistry::parseBoard(withCycleModel(c.id, c.model), c.id + QStringLiteral(".json"), &error));
        EXPECT_TRUE(error.contains(QLatin1String(c.expect))) << c.expect << "\n" << error.toStdString();
        EXPECT_TRUE(error.startsWith(c.id + QStringLiteral(".json: "))) << error.toStdString();
    }
}
