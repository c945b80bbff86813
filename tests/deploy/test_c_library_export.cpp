// The C-library and Arduino exports: unpacked, built with the host compiler through CMake and
// run (outputs compared with model::Int8Executor), cross-compiled with arm-none-eabi-gcc, and
// refused with clear errors for bad input.
#include "CLibraryExporter.h"
#include "DeployTestGraphs.h"

#include "model/Int8Executor.h"
#include "store/ProjectStore.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>

#include <gtest/gtest.h>

using namespace tinyml;
using namespace tinyml::deploy;
using namespace tinyml::deploy::testing;

namespace
{

void ensureApp()
{
    if (!QCoreApplication::instance()) {
        static int argc = 1;
        static char name[] = "test_c_library_export";
        static char *argv[] = {name, nullptr};
        new QCoreApplication(argc, argv);
    }
}

struct ProcessRun {
    int exitCode = -1;
    QString out;
};

/// Runs a program to completion; output is stdout and stderr merged.
ProcessRun run(const QString &program, const QStringList &args, const QString &workDir,
               int timeoutMs = 300000)
{
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.setWorkingDirectory(workDir);
    p.start(program, args);
    ProcessRun r;
    if (!p.waitForStarted(10000)) {
        r.out = program + QStringLiteral(": ") + p.errorString();
        return r;
    }
    p.waitForFinished(timeoutMs);
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = QString::fromLocal8Bit(p.readAll());
    return r;
}

/// Writes the zip's entries below dir; returns the top folder.
QString unpack(const QString &zip, const QString &dir)
{
    QString error;
    const auto files = CLibraryExporter::readZip(zip, &error);
    EXPECT_TRUE(files.has_value()) << error.toStdString();
    QString top;
    for (const ExportedFile &f : files.value_or(QVector<ExportedFile>{})) {
        const QString path = dir + QLatin1Char('/') + f.path;
        QDir().mkpath(QFileInfo(path).absolutePath());
        QFile out(path);
        EXPECT_TRUE(out.open(QIODevice::WriteOnly)) << path.toStdString();
        out.write(f.bytes);
        top = dir + QLatin1Char('/') + f.path.section(QLatin1Char('/'), 0, 0);
    }
    return top;
}

QVector<qint8> testInput(qint64 n, int seed)
{
    QVector<qint8> v(static_cast<int>(n));
    for (int i = 0; i < v.size(); ++i)
        v[i] = qint8((i * 53 + seed * 17) % 256 - 128);
    return v;
}

QVector<qint8> hostReference(const Graph &g, const QVector<qint8> &input)
{
    model::Int8Executor exec;
    QString error;
    EXPECT_TRUE(exec.prepare(g, &error)) << error.toStdString();
    auto out = exec.run(input, &error);
    EXPECT_TRUE(out.has_value()) << error.toStdString();
    return out.value_or(QVector<qint8>{});
}

/// "output: 1 -2 3" -> {1, -2, 3}
QVector<qint8> parseOutputLine(const QString &text)
{
    QVector<qint8> v;
    for (const QString &line : text.split(QLatin1Char('\n'))) {
        if (!line.startsWith(QLatin1String("output:")))
            continue;
        for (const QString &t : line.mid(7).split(QLatin1Char(' '), Qt::SkipEmptyParts))
            v << qint8(t.toInt());
    }
    return v;
}

qint64 inputSizeOf(const Graph &g)
{
    Graph c = g;
    c.inferShapes(nullptr);
    return c.tensors[c.inputIndex()].elementCount();
}

/// Every kernel with scratch: conv -> depthwise conv -> avg pool -> global avg pool -> fc ->
/// softmax. x[1,8,8,2] -> a[1,8,8,8] -> b[1,8,8,8] -> c[1,4,4,8] -> d[1,8] -> y[1,4] -> p[1,4]
Graph allKernels()
{
    Graph g;
    const int x = act(g, "x", {1, 8, 8, 2});
    const int w1 = weights(g, "w1", {8, 3, 3, 2}, 8), b1 = bias(g, "b1", 8);
    const int a = act(g, "a", {1, 8, 8, 8}, 0.06f, -20);
    const int w2 = weights(g, "w2", {1, 3, 3, 8}, 8), b2 = bias(g, "b2", 8);
    const int b = act(g, "b", {1, 8, 8, 8}, 0.07f, -5);
    const int c = act(g, "c", {1, 4, 4, 8}, 0.07f, -5);
    const int d = act(g, "d", {1, 8}, 0.07f, -5);
    const int w3 = weights(g, "w3", {4, 8}, 4), b3 = bias(g, "b3", 4);
    const int y = act(g, "y", {1, 4}, 0.15f, 2);
    const int p = act(g, "p", {1, 4}, 1.0f / 256.0f, -128);
    g.addNode(conv3x3("conv", {x, w1, b1}, a));
    Node dw = conv3x3("dw", {a, w2, b2}, b);
    dw.op = OpType::DepthwiseConv2D;
    dw.activation = Activation::Relu6;
    g.addNode(dw);
    Node pool = node(OpType::AvgPool2D, "pool", {b}, c);
    pool.kernelH = pool.kernelW = pool.strideH = pool.strideW = 2;
    g.addNode(pool);
    g.addNode(node(OpType::GlobalAvgPool, "gap", {c}, d));
    g.addNode(node(OpType::FullyConnected, "fc", {d, w3, b3}, y));
    g.addNode(node(OpType::Softmax, "softmax", {y}, p));
    g.inputs = {x};
    g.outputs = {p};
    g.labels = QStringList{"north", "east", "south", "west"};
    g.quantized = true;
    return g;
}

class CLibraryExport : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        ensureApp();
        ASSERT_TRUE(tmp.isValid());
        // TINYML_KEEP_TEST_FILES=1 leaves the exported and built trees for inspection.
        tmp.setAutoRemove(qEnvironmentVariableIsEmpty("TINYML_KEEP_TEST_FILES"));
    }
    QString path(const QString &name) const { return tmp.filePath(name); }
    QTemporaryDir tmp;
};

TEST_F(CLibraryExport, EmbedsTheFirmwareRuntimeVerbatim)
{
    const QStringList files = CLibraryExporter::runtimeFiles();
    const QStringList expected =
        QString::fromUtf8(TINYML_EXPORT_RUNTIME_FILES).split(QLatin1Char('|'), Qt::SkipEmptyParts);
    ASSERT_FALSE(expected.isEmpty());
    EXPECT_EQ(files.size(), expected.size());
    const QDir fw(QStringLiteral(TINYML_SOURCE_DIR "/firmware-agent"));
    for (const QString &abs : expected) {
        const QString rel = fw.relativeFilePath(abs);
        EXPECT_TRUE(files.contains(rel)) << rel.toStdString();
        QFile f(abs);
        ASSERT_TRUE(f.open(QIODevice::ReadOnly)) << abs.toStdString();
        EXPECT_EQ(CLibraryExporter::runtimeFile(rel), f.readAll())
            << rel.toStdString() << " differs from the source tree";
    }
    for (const char *must :
         {"src/tm_model.c", "src/tm_frame.c", "include/tm_model.h", "nn/include/tm_nn.h"})
        EXPECT_TRUE(files.contains(QString::fromLatin1(must))) << must;
}

/// Exports, builds with the host compiler through CMake, runs the example and compares its
/// output with model::Int8Executor. extraCFlags: e.g. the optimized kernel set.
void buildAndRunOnHost(const QTemporaryDir &tmp, const QString &extraCFlags)
{
    struct Case {
        const char *name;
        Graph graph;
    };
    for (const Case &c :
         {Case{"chain", chain()}, Case{"branch", branch()}, Case{"all-kernels", allKernels()}}) {
        SCOPED_TRACE(c.name);
        auto path = [&](const QString &name) { return tmp.filePath(name); };
        LibraryExportOptions opt;
        opt.exampleInput = testInput(inputSizeOf(c.graph), 3);
        opt.exampleInputSource = QStringLiteral("test input");
        opt.modelDescription =
            QStringLiteral("test graph %1 with a \"quote\" */ and more").arg(QLatin1String(c.name));
        const QString zip = path(QStringLiteral("%1.zip").arg(QLatin1String(c.name)));
        QString error;
        const auto exported = CLibraryExporter::exportGraph(c.graph, zip, opt, &error);
        ASSERT_TRUE(exported.has_value()) << error.toStdString();
        ASSERT_TRUE(QFileInfo(zip).isFile());

        const QString src = unpack(zip, path(QStringLiteral("%1-src").arg(QLatin1String(c.name))));
        EXPECT_TRUE(src.endsWith(QLatin1String("/tinyml_model")));
        for (const char *f :
             {"CMakeLists.txt", "README.txt", "include/tinyml_model.h", "src/model_data.c",
              "src/model_data.h", "src/tinyml_model.c", "example/main.c", "runtime/src/tm_model.c",
              "runtime/nn/include/tm_nn.h", "cmake/arm-none-eabi.cmake"})
            EXPECT_TRUE(QFileInfo::exists(src + QLatin1Char('/') + QLatin1String(f))) << f;

        const QString build = path(QStringLiteral("%1-build").arg(QLatin1String(c.name)));
        const ProcessRun configure = run(
            QStringLiteral("cmake"),
            {QStringLiteral("-S"), src, QStringLiteral("-B"), build, QStringLiteral("-G"),
             QStringLiteral("Ninja"), QStringLiteral("-DCMAKE_C_COMPILER=" TINYML_HOST_C_COMPILER),
             QStringLiteral("-DCMAKE_BUILD_TYPE=Release"),
             QStringLiteral("-DCMAKE_C_FLAGS=") + extraCFlags},
            src);
        ASSERT_EQ(configure.exitCode, 0) << configure.out.toStdString();
        const ProcessRun make =
            run(QStringLiteral("cmake"), {QStringLiteral("--build"), build}, src);
        ASSERT_EQ(make.exitCode, 0) << make.out.toStdString();
        EXPECT_FALSE(make.out.contains(QLatin1String("warning:"))) << make.out.toStdString();

        const ProcessRun example = run(build + QStringLiteral("/tinyml_model_example"), {}, build);
        EXPECT_EQ(example.exitCode, 0) << example.out.toStdString();
        const QVector<qint8> expected = hostReference(c.graph, opt.exampleInput);
        ASSERT_FALSE(expected.isEmpty());
        EXPECT_EQ(parseOutputLine(example.out), expected) << example.out.toStdString();
        EXPECT_TRUE(example.out.contains(QLatin1String("host reference: match")))
            << example.out.toStdString();
        int top = 0;
        for (int i = 1; i < expected.size(); ++i)
            if (expected[i] > expected[top])
                top = i;
        EXPECT_TRUE(
            example.out.contains(QStringLiteral("top: %1 %2 ").arg(top).arg(c.graph.labels[top])))
            << example.out.toStdString();
        EXPECT_EQ(exported->expectedOutput, expected);
        EXPECT_GT(exported->arenaBytes, 0);
    }
}

TEST_F(CLibraryExport, HostBuildOfTheExampleMatchesTheHostInt8Reference)
{
    buildAndRunOnHost(tmp, QString());
}

// A Cortex-M with the DSP extension runs the optimized kernels, whose scratch needs differ
// from the reference ones: forcing them on the host shows the exported arena fits them too
// (tinyml_init would fail otherwise) and that they give the same bytes.
TEST_F(CLibraryExport, OptimizedKernelSetFitsTheArenaAndMatches)
{
    buildAndRunOnHost(tmp, QStringLiteral("-DTM_NN_OPTIMIZED=1"));
}

TEST_F(CLibraryExport, CrossCompilesWithArmNoneEabiGcc)
{
    const QString zip = path(QStringLiteral("arm.zip"));
    QString error;
    ASSERT_TRUE(CLibraryExporter::exportGraph(allKernels(), zip, {}, &error).has_value())
        << error.toStdString();
    const QString src = unpack(zip, path(QStringLiteral("arm-src")));
    const QString build = path(QStringLiteral("arm-build"));
    const ProcessRun configure =
        run(QStringLiteral("cmake"),
            {QStringLiteral("-S"), src, QStringLiteral("-B"), build, QStringLiteral("-G"),
             QStringLiteral("Ninja"),
             QStringLiteral("-DCMAKE_TOOLCHAIN_FILE=cmake/arm-none-eabi.cmake"),
             QStringLiteral("-DCMAKE_BUILD_TYPE=MinSizeRel")},
            src);
    ASSERT_EQ(configure.exitCode, 0) << configure.out.toStdString();
    const ProcessRun make =
        run(QStringLiteral("cmake"),
            {QStringLiteral("--build"), build, QStringLiteral("--verbose")}, src);
    ASSERT_EQ(make.exitCode, 0) << make.out.toStdString();
    EXPECT_TRUE(make.out.contains(QLatin1String("arm-none-eabi-gcc"))) << make.out.toStdString();
    EXPECT_TRUE(make.out.contains(QLatin1String("-mcpu=cortex-m4 -mthumb")))
        << make.out.toStdString();
    EXPECT_TRUE(QFileInfo::exists(build + QStringLiteral("/libtinyml_model.a")));
    ASSERT_TRUE(QFileInfo::exists(build + QStringLiteral("/tinyml_model_example")));
    // An Arm Thumb executable, not a host one.
    const ProcessRun header =
        run(QStringLiteral("arm-none-eabi-readelf"),
            {QStringLiteral("-h"), build + QStringLiteral("/tinyml_model_example")}, build);
    EXPECT_EQ(header.exitCode, 0) << header.out.toStdString();
    EXPECT_TRUE(header.out.contains(QLatin1String("Machine:                           ARM")))
        << header.out.toStdString();
}

#ifdef TINYML_QEMU_SYSTEM_ARM
// The exported library on the virtual Cortex-M4F (QEMU mps2-an386): built with
// arm-none-eabi-gcc for the FPU and DSP extension, so tm_nn.h binds the optimized kernels, and
// linked with the agent's own MPS2 start-up code; the example prints over semihosting. Its
// output bytes must equal the host int8 reference.
TEST_F(CLibraryExport, ExampleRunsOnTheVirtualCortexM4)
{
    const Graph g = allKernels();
    LibraryExportOptions opt;
    opt.exampleInput = testInput(inputSizeOf(g), 11);
    const QString zip = path(QStringLiteral("m4.zip"));
    QString error;
    ASSERT_TRUE(CLibraryExporter::exportGraph(g, zip, opt, &error).has_value())
        << error.toStdString();
    const QString src = unpack(zip, path(QStringLiteral("m4-src")));
    const QString mps2 = QStringLiteral(TINYML_SOURCE_DIR "/firmware-agent/ports/qemu-mps2-common");

    // main() for the start-up code: run the example, route printf to semihosting, exit QEMU.
    QFile harness(path(QStringLiteral("harness.c")));
    ASSERT_TRUE(harness.open(QIODevice::WriteOnly));
    harness.write(R"(#include <stddef.h>
#include <stdint.h>
#include <errno.h>
int example_main(void);
static int semihost(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}
int _write(int fd, const char *p, int n)
{
    char chunk[65];
    int done = 0;
    (void)fd;
    while (done < n) {
        int k = n - done < 64 ? n - done : 64, i;
        for (i = 0; i < k; ++i)
            chunk[i] = p[done + i];
        chunk[k] = 0;
        semihost(0x04, chunk); /* SYS_WRITE0 */
        done += k;
    }
    return n;
}
static unsigned char heap[32768];
static size_t heap_used;
void *_sbrk(ptrdiff_t d)
{
    void *p = heap + heap_used;
    if (d < 0 || heap_used + (size_t)d > sizeof heap) {
        errno = ENOMEM;
        return (void *)-1;
    }
    heap_used += (size_t)d;
    return p;
}
int main(void)
{
    int rc = example_main();
    semihost(0x18, (const void *)(uintptr_t)(rc == 0 ? 0x20026 : 0x20023)); /* SYS_EXIT */
    return rc;
}
)");
    harness.close();

    const QStringList cpu = {QStringLiteral("-mcpu=cortex-m4"), QStringLiteral("-mthumb"),
                             QStringLiteral("-mfpu=fpv4-sp-d16"),
                             QStringLiteral("-mfloat-abi=hard")};
    QStringList cflags = cpu + QStringList{QStringLiteral("-std=c99"), QStringLiteral("-O2"),
                                           QStringLiteral("-ffp-contract=off"),
                                           QStringLiteral("-I") + src + QStringLiteral("/include"),
                                           QStringLiteral("-I") + src + QStringLiteral("/src")};
    for (const char *dir : {"runtime/include", "runtime/nn/include", "runtime/nn/src"})
        cflags << QStringLiteral("-I") + src + QLatin1Char('/') + QLatin1String(dir);
    QStringList objects;
    QStringList sources = {src + QStringLiteral("/example/main.c"),
                           src + QStringLiteral("/src/tinyml_model.c"),
                           src + QStringLiteral("/src/model_data.c")};
    for (const QString &rel : CLibraryExporter::runtimeFiles())
        if (rel.endsWith(QLatin1String(".c")))
            sources << src + QStringLiteral("/runtime/") + rel;
    for (int i = 0; i < sources.size(); ++i) {
        const QString obj = path(QStringLiteral("m4-%1.o").arg(i));
        const ProcessRun cc =
            run(QStringLiteral("arm-none-eabi-gcc"),
                cflags + QStringList{QStringLiteral("-Dmain=example_main"), QStringLiteral("-c"),
                                     sources[i], QStringLiteral("-o"), obj},
                src);
        ASSERT_EQ(cc.exitCode, 0) << sources[i].toStdString() << "\n" << cc.out.toStdString();
        objects << obj;
    }
    const QString elf = path(QStringLiteral("example-m4.elf"));
    const ProcessRun link = run(
        QStringLiteral("arm-none-eabi-gcc"),
        cflags +
            QStringList{QStringLiteral("-I") + mps2, harness.fileName(),
                        mps2 + QStringLiteral("/mps2_startup.c"),
                        QStringLiteral(TINYML_SOURCE_DIR
                                       "/firmware-agent/ports/cortex-m/cortexm_start.c")} +
            objects +
            QStringList{QStringLiteral("--specs=nano.specs"), QStringLiteral("--specs=nosys.specs"),
                        QStringLiteral("-nostartfiles"), QStringLiteral("-u"),
                        QStringLiteral("_printf_float"), QStringLiteral("-T"),
                        mps2 + QStringLiteral("/mps2.ld"), QStringLiteral("-Wl,--gc-sections"),
                        QStringLiteral("-lm"), QStringLiteral("-o"), elf},
        src);
    ASSERT_EQ(link.exitCode, 0) << link.out.toStdString();

    const ProcessRun qemu =
        run(QStringLiteral(TINYML_QEMU_SYSTEM_ARM),
            {QStringLiteral("-M"), QStringLiteral("mps2-an386"), QStringLiteral("-nographic"),
             QStringLiteral("-monitor"), QStringLiteral("none"), QStringLiteral("-serial"),
             QStringLiteral("null"), QStringLiteral("-icount"), QStringLiteral("shift=0,sleep=off"),
             QStringLiteral("-semihosting-config"), QStringLiteral("enable=on,target=native"),
             QStringLiteral("-kernel"), elf},
            src, 120000);
    EXPECT_EQ(qemu.exitCode, 0) << qemu.out.toStdString();
    EXPECT_EQ(parseOutputLine(qemu.out), hostReference(g, opt.exampleInput))
        << qemu.out.toStdString();
    EXPECT_TRUE(qemu.out.contains(QLatin1String("host reference: match")))
        << qemu.out.toStdString();
}
#endif

TEST_F(CLibraryExport, ArduinoLayoutIsFlatCompleteAndRuns)
{
    LibraryExportOptions opt;
    opt.layout = LibraryLayout::Arduino;
    opt.exampleInput = testInput(inputSizeOf(chain()), 9);
    const QString zip = path(QStringLiteral("arduino.zip"));
    QString error;
    const auto exported = CLibraryExporter::exportGraph(chain(), zip, opt, &error);
    ASSERT_TRUE(exported.has_value()) << error.toStdString();
    const auto files = CLibraryExporter::readZip(zip, &error);
    ASSERT_TRUE(files.has_value()) << error.toStdString();
    QStringList names;
    QByteArray properties, sketch;
    for (const ExportedFile &f : *files) {
        names << f.path;
        if (f.path == QLatin1String("TinyMLModel/library.properties"))
            properties = f.bytes;
        if (f.path ==
            QLatin1String("TinyMLModel/examples/TinyMLModelExample/TinyMLModelExample.ino"))
            sketch = f.bytes;
    }
    for (const QString &n : names) {
        EXPECT_TRUE(n.startsWith(QLatin1String("TinyMLModel/"))) << n.toStdString();
        if (n.startsWith(QLatin1String("TinyMLModel/src/")))
            EXPECT_EQ(n.count(QLatin1Char('/')), 2) << n.toStdString() << ": src/ must be flat";
    }
    for (const char *f :
         {"src/tinyml_model.h", "src/tinyml_model.c", "src/model_data.c", "src/model_data.h",
          "src/tm_model.c", "src/tm_model.h", "src/tm_nn.h", "src/tm_frame.c"})
        EXPECT_TRUE(names.contains(QStringLiteral("TinyMLModel/") + QLatin1String(f))) << f;

    // library.properties: every field of the 1.5 library format's metadata, non-empty.
    ASSERT_FALSE(properties.isEmpty());
    QMap<QString, QString> props;
    for (const QString &line :
         QString::fromUtf8(properties).split(QLatin1Char('\n'), Qt::SkipEmptyParts)) {
        ASSERT_TRUE(line.contains(QLatin1Char('='))) << line.toStdString();
        props.insert(line.section(QLatin1Char('='), 0, 0), line.section(QLatin1Char('='), 1));
    }
    for (const char *key : {"name", "version", "author", "maintainer", "sentence", "paragraph",
                            "category", "url", "architectures"})
        EXPECT_FALSE(props.value(QLatin1String(key)).trimmed().isEmpty()) << key;
    EXPECT_EQ(props.value(QStringLiteral("name")), QStringLiteral("TinyMLModel"));
    EXPECT_TRUE(QRegularExpression(QStringLiteral("^\\d+\\.\\d+\\.\\d+$"))
                    .match(props.value(QStringLiteral("version")))
                    .hasMatch());
    EXPECT_EQ(props.value(QStringLiteral("includes")), QStringLiteral("tinyml_model.h"));
    EXPECT_TRUE(sketch.contains("#include <tinyml_model.h>"));
    EXPECT_TRUE(sketch.contains("void setup()") && sketch.contains("void loop()"));

    // src/ alone (Arduino's include path) compiles and gives the host reference's output.
    const QString dir = unpack(zip, path(QStringLiteral("arduino-src")));
    QFile main(path(QStringLiteral("arduino-main.c")));
    ASSERT_TRUE(main.open(QIODevice::WriteOnly));
    main.write(
        "#include <stdio.h>\n#include \"tinyml_model.h\"\n"
        "int main(int argc, char **argv) {\n"
        "  int8_t in[TINYML_MODEL_INPUT_SIZE], out[TINYML_MODEL_OUTPUT_SIZE]; int i;\n"
        "  for (i = 0; i < TINYML_MODEL_INPUT_SIZE; ++i) in[i] = (int8_t)atoi(argv[1 + i]);\n"
        "  if (tinyml_init() != 0 || tinyml_invoke(in, out) != 0) return 1;\n"
        "  printf(\"output:\"); for (i = 0; i < TINYML_MODEL_OUTPUT_SIZE; ++i) printf(\" %d\", "
        "out[i]);\n"
        "  printf(\"\\n\"); return argc > 0 ? 0 : 1; }\n");
    main.close();
    QStringList args = {QStringLiteral("-std=c99"),
                        QStringLiteral("-O2"),
                        QStringLiteral("-ffp-contract=off"),
                        QStringLiteral("-include"),
                        QStringLiteral("stdlib.h"),
                        QStringLiteral("-I") + dir + QStringLiteral("/src"),
                        QStringLiteral("-o"),
                        path(QStringLiteral("arduino-prog")),
                        main.fileName()};
    for (const QFileInfo &c :
         QDir(dir + QStringLiteral("/src")).entryInfoList({QStringLiteral("*.c")}, QDir::Files))
        args << c.filePath();
    args << QStringLiteral("-lm");
    const ProcessRun cc = run(QStringLiteral(TINYML_HOST_C_COMPILER), args, dir);
    ASSERT_EQ(cc.exitCode, 0) << cc.out.toStdString();
    const QVector<qint8> input = testInput(inputSizeOf(chain()), 5);
    QStringList values;
    for (qint8 x : input)
        values << QString::number(int(x));
    const ProcessRun prog = run(path(QStringLiteral("arduino-prog")), values, dir);
    ASSERT_EQ(prog.exitCode, 0) << prog.out.toStdString();
    EXPECT_EQ(parseOutputLine(prog.out), hostReference(chain(), input));
}

TEST_F(CLibraryExport, RefusesAFloatModel)
{
    Graph g = chain();
    g.quantized = false;
    QString error;
    EXPECT_FALSE(
        CLibraryExporter::exportGraph(g, path(QStringLiteral("f.zip")), {}, &error).has_value());
    EXPECT_TRUE(error.contains(QLatin1String("float model"))) << error.toStdString();
    EXPECT_FALSE(QFileInfo::exists(path(QStringLiteral("f.zip"))));
}

TEST_F(CLibraryExport, RefusesUnwritableOutputPaths)
{
    QString error;
    const QString missing = path(QStringLiteral("no/such/folder/x.zip"));
    EXPECT_FALSE(CLibraryExporter::exportGraph(chain(), missing, {}, &error).has_value());
    EXPECT_TRUE(error.contains(missing) && error.contains(QLatin1String("does not exist")))
        << error.toStdString();

    QFile file(path(QStringLiteral("plain-file")));
    ASSERT_TRUE(file.open(QIODevice::WriteOnly));
    file.close();
    const QString underFile = file.fileName() + QStringLiteral("/x.zip");
    EXPECT_FALSE(CLibraryExporter::exportGraph(chain(), underFile, {}, &error).has_value());
    EXPECT_TRUE(error.contains(underFile) && error.contains(QLatin1String("cannot write")))
        << error.toStdString();

    // An existing folder as the output: the folder is kept.
    QDir().mkpath(path(QStringLiteral("a-folder.zip")));
    EXPECT_FALSE(
        CLibraryExporter::exportGraph(chain(), path(QStringLiteral("a-folder.zip")), {}, &error)
            .has_value());
    EXPECT_TRUE(error.contains(QLatin1String("a-folder.zip"))) << error.toStdString();
    EXPECT_TRUE(QFileInfo(path(QStringLiteral("a-folder.zip"))).isDir());
}

TEST_F(CLibraryExport, RefusesBadNamesAndInputSizes)
{
    LibraryExportOptions opt;
    opt.name = QStringLiteral("../evil");
    QString error;
    EXPECT_FALSE(CLibraryExporter::build(chain(), opt, &error).has_value());
    EXPECT_TRUE(error.contains(QLatin1String("../evil"))) << error.toStdString();
    opt.name.clear();
    opt.exampleInput = QVector<qint8>(5, 0);
    EXPECT_FALSE(CLibraryExporter::build(chain(), opt, &error).has_value());
    EXPECT_TRUE(error.contains(QLatin1String("has 5 values")) &&
                error.contains(QLatin1String("64")))
        << error.toStdString();
}

TEST_F(CLibraryExport, EqualExportsGiveEqualZips)
{
    QString error;
    ASSERT_TRUE(CLibraryExporter::exportGraph(branch(), path(QStringLiteral("a.zip")), {}, &error))
        << error.toStdString();
    ASSERT_TRUE(CLibraryExporter::exportGraph(branch(), path(QStringLiteral("b.zip")), {}, &error))
        << error.toStdString();
    QFile a(path(QStringLiteral("a.zip"))), b(path(QStringLiteral("b.zip")));
    ASSERT_TRUE(a.open(QIODevice::ReadOnly) && b.open(QIODevice::ReadOnly));
    EXPECT_EQ(a.readAll(), b.readAll());
}

TEST_F(CLibraryExport, ProjectExportPicksTheInt8ModelAndNamesBadIds)
{
    QString error;
    auto store = ProjectStore::create(path(QStringLiteral("p.tinyml")), ProjectSettings{}, &error);
    ASSERT_TRUE(store) << error.toStdString();

    // No int8 model yet.
    EXPECT_FALSE(
        CLibraryExporter::exportProject(*store, 0, path(QStringLiteral("x.zip")), {}, &error));
    EXPECT_TRUE(error.contains(QLatin1String("no int8 model"))) << error.toStdString();

    Graph floatGraph = chain();
    floatGraph.quantized = false;
    StoredModel fm;
    fm.kind = ModelKind::Float;
    fm.name = QStringLiteral("float one");
    fm.graph = floatGraph.serialize();
    auto floatId = store->addModel(fm, &error);
    ASSERT_TRUE(floatId) << error.toStdString();

    StoredModel older, newer;
    older.kind = newer.kind = ModelKind::Int8;
    older.name = QStringLiteral("older");
    older.graph = branch().serialize();
    newer.name = QStringLiteral("newer");
    newer.graph = chain().serialize();
    auto olderId = store->addModel(older, &error);
    auto newerId = store->addModel(newer, &error);
    ASSERT_TRUE(olderId && newerId) << error.toStdString();

    auto latest =
        CLibraryExporter::exportProject(*store, 0, path(QStringLiteral("latest.zip")), {}, &error);
    ASSERT_TRUE(latest) << error.toStdString();
    EXPECT_EQ(latest->modelId, *newerId);
    EXPECT_EQ(latest->outputSize, 10); // chain()
    auto chosen = CLibraryExporter::exportProject(*store, *olderId,
                                                  path(QStringLiteral("older.zip")), {}, &error);
    ASSERT_TRUE(chosen) << error.toStdString();
    EXPECT_EQ(chosen->modelId, *olderId);
    EXPECT_EQ(chosen->outputSize, 3); // branch()

    EXPECT_FALSE(
        CLibraryExporter::exportProject(*store, 999, path(QStringLiteral("y.zip")), {}, &error));
    EXPECT_TRUE(error.contains(QLatin1String("model 999"))) << error.toStdString();
    EXPECT_FALSE(CLibraryExporter::exportProject(*store, *floatId, path(QStringLiteral("z.zip")),
                                                 {}, &error));
    EXPECT_TRUE(error.contains(QStringLiteral("model %1").arg(*floatId)) &&
                error.contains(QLatin1String("float model")))
        << error.toStdString();
    EXPECT_FALSE(QFileInfo::exists(path(QStringLiteral("y.zip"))));
    EXPECT_FALSE(QFileInfo::exists(path(QStringLiteral("z.zip"))));
}

} // namespace
