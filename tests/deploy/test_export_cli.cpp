// `tinyml export PROJECT --c-library / --arduino` through the real CLI binary, on a project
// holding a small int8 model.
#include "CLibraryExporter.h"
#include "DeployTestGraphs.h"

#include "../e2e/CliRunner.h"

#include "store/ProjectStore.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QTemporaryDir>

#include <gtest/gtest.h>

using namespace tinyml;
using namespace tinyml::deploy;
using namespace tinyml::deploy::testing;
using tinyml::e2e::tinymlRun;

namespace
{

class ExportCli : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        if (!QCoreApplication::instance()) {
            static int argc = 1;
            static char name[] = "test_export_cli";
            static char *argv[] = {name, nullptr};
            new QCoreApplication(argc, argv);
        }
        ASSERT_TRUE(tmp.isValid());
        project = tmp.filePath(QStringLiteral("p.tinyml"));
        QString error;
        auto store = ProjectStore::create(project, ProjectSettings{}, &error);
        ASSERT_TRUE(store) << error.toStdString();
        StoredModel f, q;
        f.kind = ModelKind::Float;
        f.name = QStringLiteral("float");
        Graph fg = chain();
        fg.quantized = false;
        f.graph = fg.serialize();
        q.kind = ModelKind::Int8;
        q.name = QStringLiteral("int8 of model 1");
        q.graph = chain().serialize();
        auto fid = store->addModel(f, &error);
        auto qid = store->addModel(q, &error);
        ASSERT_TRUE(fid && qid) << error.toStdString();
        floatId = *fid;
        int8Id = *qid;
    }
    QTemporaryDir tmp;
    QString project;
    qint64 floatId = 0, int8Id = 0;
};

TEST_F(ExportCli, WritesCAndArduinoLibraries)
{
    const QString zip = tmp.filePath(QStringLiteral("lib.zip"));
    auto r = tinymlRun({QStringLiteral("export"), project, QStringLiteral("--c-library"), zip,
                        QStringLiteral("--json")});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    const QJsonObject j = r.json();
    EXPECT_EQ(j.value(QStringLiteral("model_id")).toInteger(), int8Id);
    EXPECT_EQ(j.value(QStringLiteral("layout")).toString(), QStringLiteral("c-library"));
    EXPECT_EQ(j.value(QStringLiteral("output_size")).toInt(), 10);
    EXPECT_GT(j.value(QStringLiteral("arena_bytes")).toInt(), 0);
    // No samples in this project: the example falls back to a fixed pattern and says so.
    EXPECT_TRUE(j.value(QStringLiteral("example_input"))
                    .toString()
                    .contains(QLatin1String("not a real sample")));
    QString error;
    auto files = CLibraryExporter::readZip(zip, &error);
    ASSERT_TRUE(files) << error.toStdString();
    EXPECT_EQ(files->size(), j.value(QStringLiteral("files")).toArray().size());
    QStringList names;
    for (const ExportedFile &f : *files)
        names << f.path;
    EXPECT_TRUE(names.contains(QStringLiteral("tinyml_model/CMakeLists.txt")));
    EXPECT_TRUE(names.contains(QStringLiteral("tinyml_model/include/tinyml_model.h")));

    const QString ino = tmp.filePath(QStringLiteral("ino.zip"));
    r = tinymlRun({QStringLiteral("export"), project, QStringLiteral("--arduino"), ino,
                   QStringLiteral("--model"), QString::number(int8Id), QStringLiteral("--name"),
                   QStringLiteral("Gestures")});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_TRUE(r.out.startsWith(
        QStringLiteral("Wrote an Arduino library for int8 model %1 to ").arg(int8Id)))
        << r.out.toStdString();
    files = CLibraryExporter::readZip(ino, &error);
    ASSERT_TRUE(files) << error.toStdString();
    names.clear();
    for (const ExportedFile &f : *files)
        names << f.path;
    EXPECT_TRUE(names.contains(QStringLiteral("Gestures/library.properties")));
    EXPECT_TRUE(
        names.contains(QStringLiteral("Gestures/examples/GesturesExample/GesturesExample.ino")));
}

TEST_F(ExportCli, BadRequestsFailWithAClearMessage)
{
    const QString zip = tmp.filePath(QStringLiteral("x.zip"));
    auto r = tinymlRun({QStringLiteral("export"), project, QStringLiteral("--c-library"), zip,
                        QStringLiteral("--model"), QStringLiteral("999")});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains(QLatin1String("tinyml: error: model 999"))) << r.err.toStdString();

    r = tinymlRun({QStringLiteral("export"), project, QStringLiteral("--c-library"), zip,
                   QStringLiteral("--model"), QString::number(floatId)});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains(QLatin1String("float model"))) << r.err.toStdString();

    const QString nowhere = tmp.filePath(QStringLiteral("missing-dir/x.zip"));
    r = tinymlRun({QStringLiteral("export"), project, QStringLiteral("--arduino"), nowhere});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains(nowhere) && r.err.contains(QLatin1String("does not exist")))
        << r.err.toStdString();

    r = tinymlRun({QStringLiteral("export"), project, QStringLiteral("--c-library"), zip,
                   QStringLiteral("--onnx"), tmp.filePath(QStringLiteral("m.onnx"))});
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_TRUE(r.err.contains(QLatin1String("give one of"))) << r.err.toStdString();

    r = tinymlRun({QStringLiteral("export"), project, QStringLiteral("--c-library"), zip,
                   QStringLiteral("--model"), QStringLiteral("abc")});
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_FALSE(QFileInfo::exists(zip));
}

/// PATH holds only dir while alive: a real openocd on the machine is not found.
struct OnlyOnPath {
    explicit OnlyOnPath(const QString &dir) : saved(qgetenv("PATH"))
    {
        qputenv("PATH", dir.toLocal8Bit());
    }
    ~OnlyOnPath() { qputenv("PATH", saved); }
    QByteArray saved;
};

void writeTool(const QString &path, const QByteArray &body)
{
    QFile f(path);
    ASSERT_TRUE(f.open(QIODevice::WriteOnly));
    f.write("#!/bin/sh\n" + body);
    f.close();
    f.setPermissions(f.permissions() | QFile::ExeOwner);
}

TEST_F(ExportCli, FlashFirmwareRunsTheBoardsToolAndExplainsFailures)
{
    const QString bin = tmp.filePath(QStringLiteral("bin"));
    QDir().mkpath(bin);
    const QString image = tmp.filePath(QStringLiteral("agent.elf"));
    tinyml::e2e::writeFile(image, "not really an ELF");
    OnlyOnPath path(bin);

    auto r = tinymlRun({QStringLiteral("flash-firmware"), QStringLiteral("--board"),
                        QStringLiteral("nucleo-l4r5zi"), QStringLiteral("--image"), image});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains(
        QLatin1String("openocd not found on PATH; install it with: sudo apt-get install openocd")))
        << r.err.toStdString();

    writeTool(bin + QStringLiteral("/openocd"), "echo \"stand-in got: $4\"\nexit 0\n");
    r = tinymlRun({QStringLiteral("flash-firmware"), QStringLiteral("--board"),
                   QStringLiteral("nucleo-l4r5zi"), QStringLiteral("--image"), image,
                   QStringLiteral("--json")});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    const QJsonObject j = r.json();
    EXPECT_EQ(j.value(QStringLiteral("tool")).toString(), QStringLiteral("openocd"));
    EXPECT_TRUE(j.value(QStringLiteral("ok")).toBool());
    const QString program = QStringLiteral("program %1 verify reset exit").arg(image);
    EXPECT_EQ(j.value(QStringLiteral("arguments")).toArray().at(3).toString(), program);
    EXPECT_TRUE(r.err.contains(QStringLiteral("stand-in got: ") + program)) << r.err.toStdString();
    EXPECT_TRUE(r.err.contains(QLatin1String("$ openocd -f board/st_nucleo_l4.cfg")))
        << r.err.toStdString();

    writeTool(bin + QStringLiteral("/openocd"), "echo 'Error: libusb_open() failed' >&2\nexit 2\n");
    r = tinymlRun({QStringLiteral("flash-firmware"), QStringLiteral("--board"),
                   QStringLiteral("nucleo-l4r5zi"), QStringLiteral("--image"), image});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains(QLatin1String(
        "openocd exited with status 2. Its last output: Error: libusb_open() failed")))
        << r.err.toStdString();
    EXPECT_TRUE(r.err.contains(QLatin1String("udev rules"))) << r.err.toStdString();

    r = tinymlRun(
        {QStringLiteral("flash-firmware"), QStringLiteral("--board"), QStringLiteral("qemu-m4")});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains(QLatin1String("virtual board"))) << r.err.toStdString();
    r = tinymlRun({QStringLiteral("flash-firmware"), QStringLiteral("--board"),
                   QStringLiteral("no-such-board")});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains(QLatin1String("unknown board \"no-such-board\"; known boards:")))
        << r.err.toStdString();
}

} // namespace
