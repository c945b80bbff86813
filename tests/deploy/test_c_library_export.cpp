// The C-library and Arduino exports: unpacked, built with the host compiler through CMake and
// run (outputs compared with model::Int8Executor), cross-compiled with arm-none-eabi-gcc, and
// refused with clear errors for bad input.
#include "CLibraryExporter.h"
#include "DeployTestGraphs.h"
#include "ImpulseReplay.h"
#include "ImpulseSpec.h"
#include "LiveClassifier.h"

#include "model/Int8Executor.h"
#include "store/ProjectStore.h"

#include <QCoreApplication>
#include <QDir>
#include <QDirIterator>
#include <QJsonArray>
#include <QSet>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

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
         {"src/tm_model.c", "src/tm_frame.c", "include/tm_model.h", "nn/include/tm_nn.h",
          "impulse/src/tm_impulse.c", "impulse/include/tm_impulse.h", "dsp/src/tm_dsp_spectral.c",
          "dsp/src/tm_dsp_internal.h"})
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
/// Builds an unpacked C library's example for the virtual Cortex-M4F (QEMU mps2-an386) with
/// arm-none-eabi-gcc for the FPU and DSP extension, so tm_nn.h binds the optimized kernels,
/// linked with the agent's own MPS2 start-up code and a harness that routes stdio to
/// semihosting (printf out, fopen/fread of host files in); runs it with argv {"example",
/// args...} and returns QEMU's exit code (0 when main returned 0) and output.
ProcessRun runExampleOnM4(const QTemporaryDir &tmp, const QString &src, const QString &tag,
                          const QStringList &args)
{
    auto path = [&](const QString &name) { return tmp.filePath(tag + QLatin1Char('-') + name); };
    const QString mps2 = QStringLiteral(TINYML_SOURCE_DIR "/firmware-agent/ports/qemu-mps2-common");
    ProcessRun failed;

    QString argvInit = QStringLiteral("\"example\"");
    for (const QString &a : args)
        argvInit += QStringLiteral(", \"%1\"").arg(a);
    QFile harness(path(QStringLiteral("harness.c")));
    if (!harness.open(QIODevice::WriteOnly)) {
        failed.out = QStringLiteral("cannot write the harness");
        return failed;
    }
    harness.write(R"(#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <sys/stat.h>
int example_main(int argc, char **argv);
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
int _open(const char *name, int flags, int mode)
{
    uintptr_t a[3];
    int fd;
    (void)mode;
    a[0] = (uintptr_t)name;
    a[1] = (flags & 3) == 0 ? 1u : 5u; /* O_RDONLY (newlib adds O_BINARY): "rb", else "wb" */
    a[2] = strlen(name);
    fd = semihost(0x01, a); /* SYS_OPEN */
    if (fd < 0)
        errno = ENOENT;
    return fd;
}
int _read(int fd, char *p, int n)
{
    uintptr_t a[3] = {(uintptr_t)fd, (uintptr_t)p, (uintptr_t)n};
    return n - semihost(0x06, a); /* SYS_READ returns the bytes not read */
}
int _close(int fd)
{
    uintptr_t a[1] = {(uintptr_t)fd};
    return semihost(0x02, a);
}
int _fstat(int fd, struct stat *st)
{
    (void)fd;
    memset(st, 0, sizeof *st);
    st->st_mode = S_IFREG;
    return 0;
}
int _isatty(int fd) { return fd < 3; }
int _lseek(int fd, int off, int whence)
{
    (void)fd; (void)off; (void)whence;
    errno = ESPIPE;
    return -1;
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
    static char *argv[] = {)" + argvInit.toUtf8() + R"(, NULL};
    int rc = example_main((int)(sizeof argv / sizeof argv[0]) - 1, argv);
    semihost(0x18, (const void *)(uintptr_t)(rc == 0 ? 0x20026 : 0x20023)); /* SYS_EXIT */
    return rc;
}
)");
    harness.close();

    // Every include folder and every .c file of the unpacked tree: the model runtime, and the
    // impulse and DSP when the export has them.
    const QStringList cpu = {QStringLiteral("-mcpu=cortex-m4"), QStringLiteral("-mthumb"),
                             QStringLiteral("-mfpu=fpv4-sp-d16"),
                             QStringLiteral("-mfloat-abi=hard")};
    QStringList cflags = cpu + QStringList{QStringLiteral("-std=c99"), QStringLiteral("-O2"),
                                           QStringLiteral("-ffp-contract=off"),
                                           QStringLiteral("-fno-math-errno"),
                                           QStringLiteral("-I") + src + QStringLiteral("/include"),
                                           QStringLiteral("-I") + src + QStringLiteral("/src")};
    QStringList sources = {src + QStringLiteral("/example/main.c"),
                           src + QStringLiteral("/src/tinyml_model.c"),
                           src + QStringLiteral("/src/model_data.c")};
    QSet<QString> includeDirs;
    QDirIterator it(src + QStringLiteral("/runtime"), {QStringLiteral("*.c"), QStringLiteral("*.h")},
                    QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString f = it.next();
        if (f.endsWith(QLatin1String(".c")))
            sources << f;
        else
            includeDirs.insert(QFileInfo(f).absolutePath());
    }
    QStringList dirs(includeDirs.begin(), includeDirs.end());
    dirs.sort();
    for (const QString &d : dirs)
        cflags << QStringLiteral("-I") + d;
    QStringList objects;
    for (int i = 0; i < sources.size(); ++i) {
        const QString obj = path(QStringLiteral("%1.o").arg(i));
        const ProcessRun cc =
            run(QStringLiteral("arm-none-eabi-gcc"),
                cflags + QStringList{QStringLiteral("-Dmain=example_main"), QStringLiteral("-c"),
                                     sources[i], QStringLiteral("-o"), obj},
                src);
        if (cc.exitCode != 0) {
            failed.out = sources[i] + QStringLiteral("\n") + cc.out;
            return failed;
        }
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
    if (link.exitCode != 0) {
        failed.out = QStringLiteral("link: ") + link.out;
        return failed;
    }
    return run(QStringLiteral(TINYML_QEMU_SYSTEM_ARM),
               {QStringLiteral("-M"), QStringLiteral("mps2-an386"), QStringLiteral("-nographic"),
                QStringLiteral("-monitor"), QStringLiteral("none"), QStringLiteral("-serial"),
                QStringLiteral("null"), QStringLiteral("-icount"),
                QStringLiteral("shift=0,sleep=off"), QStringLiteral("-semihosting-config"),
                QStringLiteral("enable=on,target=native"), QStringLiteral("-kernel"), elf},
               src, 300000);
}

// The exported library on the virtual Cortex-M4F: its output bytes must equal the host int8
// reference.
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
    const ProcessRun qemu = runExampleOnM4(tmp, src, QStringLiteral("m4"), {});
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

// ---- the impulse -------------------------------------------------------------------------

/// A motion model: 2-axis accelerometer at 100 Hz, spectral block (2 channels x (3 + 4 bands +
/// 2 x 2 peaks) = 22 values, window 64 frames), normalisation, fc 22 -> 3, softmax. Weights
/// set by hand on axis 0's features (rms, mean, std, bands 0-5, 5-10, 10-20, 20-50 Hz, two
/// peaks): idle = 1.5 - 3 std, shake = -1 + band(5-10) + band(10-20), circle = -1 + 2 band(0-5).
Graph motionGraph()
{
    Graph g;
    const int x = act(g, "x", {1, 22}, 0.05f, 0);
    QVector<float> real(3 * 22, 0.0f);
    real[0 * 22 + 2] = -3.0f;
    real[1 * 22 + 4] = 1.0f;
    real[1 * 22 + 5] = 1.0f;
    real[2 * 22 + 3] = 2.0f;
    const float biasReal[3] = {1.5f, -1.0f, -1.0f};
    QVector<qint8> q(3 * 22);
    QVector<float> wScales(3);
    QVector<qint32> bq(3);
    QVector<float> bScales(3);
    for (int c = 0; c < 3; ++c) {
        float mx = 0;
        for (int k = 0; k < 22; ++k)
            mx = std::max(mx, std::fabs(real[c * 22 + k]));
        wScales[c] = mx / 127.0f;
        for (int k = 0; k < 22; ++k)
            q[c * 22 + k] = qint8(std::lround(real[c * 22 + k] / wScales[c]));
        bScales[c] = 0.05f * wScales[c];
        bq[c] = qint32(std::lround(biasReal[c] / bScales[c]));
    }
    const int w = g.addTensor(TensorDesc::constantInt8(QStringLiteral("w"), {3, 22}, q, wScales));
    const int b = g.addTensor(TensorDesc::constantInt32(QStringLiteral("b"), {3}, bq, bScales));
    const int y = act(g, "y", {1, 3}, 0.05f, 0);
    const int p = act(g, "p", {1, 3}, 1.0f / 256.0f, -128);
    g.addNode(node(OpType::FullyConnected, "fc", {x, w, b}, y));
    g.addNode(node(OpType::Softmax, "softmax", {y}, p));
    g.inputs = {x};
    g.outputs = {p};
    g.labels = QStringList{"idle", "shake", "circle"};
    g.quantized = true;
    features::FeatureParams sp;
    sp.kind = features::BlockKind::Spectral;
    sp.spectral.windowFrames = 64;
    sp.spectral.nBands = 4;
    sp.spectral.nPeaks = 2;
    sp.spectral.bandEdgesHz = {0, 5, 10, 20, 50};
    g.meta.insert(QStringLiteral("features"), sp.toJson());
    QJsonArray mean, sd;
    for (int k = 0; k < 22; ++k) {
        mean.append(k == 2 ? 0.01 : 0.0); // mean and std per feature: the identity, nearly
        sd.append(k == 21 ? 1.5 : 1.0);
    }
    g.meta.insert(QStringLiteral("input_normalization"),
                  QJsonObject{{QStringLiteral("mean"), mean}, {QStringLiteral("std"), sd}});
    return g;
}

/// Idle, shaking (9-14 Hz) and circling (1.5 Hz) in turns of 350 frames, with noise;
/// deterministic, 2 channels interleaved.
QVector<qint16> motionRecording(int frames)
{
    QVector<qint16> v(frames * 2);
    quint32 rng = 0x1234567u;
    for (int t = 0; t < frames; ++t) {
        const int phase = (t / 350) % 3;
        for (int c = 0; c < 2; ++c) {
            rng ^= rng << 13;
            rng ^= rng >> 17;
            rng ^= rng << 5;
            const double noise = double(int(rng % 121) - 60);
            double x = 0;
            if (phase == 1)
                x = 1600.0 * std::sin(2 * M_PI * (9.0 + 5.0 * (t % 350) / 350.0) * t / 100.0 + c);
            else if (phase == 2)
                x = 900.0 * (c == 0 ? std::sin(2 * M_PI * 1.5 * t / 100.0)
                                    : std::cos(2 * M_PI * 1.5 * t / 100.0));
            v[t * 2 + c] = qint16(std::lround(x + noise + (c == 1 ? 500 : 0)));
        }
    }
    return v;
}

bool writeRaw(const QString &file, const QVector<qint16> &samples)
{
    QFile f(file);
    if (!f.open(QIODevice::WriteOnly))
        return false;
    QByteArray b(samples.size() * 2, 0);
    for (int i = 0; i < samples.size(); ++i) {
        b[2 * i] = char(quint16(samples[i]) & 0xff);
        b[2 * i + 1] = char(quint16(samples[i]) >> 8);
    }
    return f.write(b) == b.size();
}

/// A project at 100 Hz holding motionGraph() as its int8 model, with impulse options that
/// exercise every post-processing step (averaging, thresholds, suppression, background).
std::unique_ptr<ProjectStore> motionProject(const QString &file, qint64 *modelId)
{
    ProjectSettings settings;
    settings.sampleRateHz = 100;
    ImpulseOptions o;
    o.strideFrames = 16;
    o.averageWindows = 2;
    o.suppressionMs = 600;
    o.threshold = 0.5f;
    o.classThresholds.insert(QStringLiteral("circle"), 0.45f);
    setImpulseOptions(settings, o);
    QString error;
    auto store = ProjectStore::create(file, settings, &error);
    EXPECT_TRUE(store) << error.toStdString();
    if (!store)
        return nullptr;
    StoredModel m;
    m.kind = ModelKind::Int8;
    m.name = QStringLiteral("motion int8");
    m.graph = motionGraph().serialize();
    auto id = store->addModel(m, &error);
    EXPECT_TRUE(id) << error.toStdString();
    *modelId = id.value_or(0);
    return store;
}

struct WindowLine {
    quint64 windowEnd = 0;
    int top = -1, decision = -1, flags = -1;
    quint32 scoreBits = 0;
    QVector<qint8> scores;
};

/// The example's "window ..." lines (see kImpulseExampleMain).
QVector<WindowLine> parseWindowLines(const QString &text, int classes)
{
    QVector<WindowLine> out;
    static const QRegularExpression re(QStringLiteral(
        "^window (\\d+) top (\\d+) decision (\\d+|uncertain) flags (\\d+) score \\S+ "
        "bits ([0-9a-f]{8}) scores((?: -?\\d+)+)"));
    for (const QString &line : text.split(QLatin1Char('\n'))) {
        const auto m = re.match(line.trimmed());
        if (!m.hasMatch())
            continue;
        WindowLine w;
        w.windowEnd = m.captured(1).toULongLong();
        w.top = m.captured(2).toInt();
        w.decision = m.captured(3) == QLatin1String("uncertain") ? kDecisionUncertain
                                                                 : m.captured(3).toInt();
        w.flags = m.captured(4).toInt();
        w.scoreBits = m.captured(5).toUInt(nullptr, 16);
        for (const QString &t : m.captured(6).split(QLatin1Char(' '), Qt::SkipEmptyParts))
            w.scores << qint8(t.toInt());
        if (w.scores.size() != classes)
            continue;
        out << w;
    }
    return out;
}

/// Every window line equals the host replay's window: end, raw scores, decision, flags, score.
void expectEqualsReplay(const QVector<WindowLine> &lines, const ReplayResult &replay)
{
    ASSERT_EQ(lines.size(), replay.scores.windows());
    for (int i = 0; i < lines.size(); ++i) {
        SCOPED_TRACE(i);
        const WindowLine &l = lines[i];
        const ImpulseDecision &d = replay.decisions[i];
        quint32 bits = 0;
        std::memcpy(&bits, &d.score, sizeof bits);
        EXPECT_EQ(l.windowEnd, replay.scores.windowEnds[i]);
        EXPECT_EQ(l.scores, QVector<qint8>(replay.scores.window(i),
                                           replay.scores.window(i) + replay.scores.classCount));
        EXPECT_EQ(l.top, d.topClass);
        EXPECT_EQ(l.decision, d.decision);
        EXPECT_EQ(l.flags, int(d.flags));
        EXPECT_EQ(l.scoreBits, bits);
        if (::testing::Test::HasFailure())
            return; // one window's report is enough
    }
}

/// The host replay of the exported package on the samples; also checks the test is worth its
/// salt: every kind of decision occurs.
ReplayResult hostReplay(const QByteArray &package, const QVector<qint16> &samples)
{
    ImpulseReplay replay;
    QString error;
    EXPECT_TRUE(replay.load(package, &error)) << error.toStdString();
    auto r = replay.run(samples, 2, ReplayOptions{}, &error);
    EXPECT_TRUE(r) << error.toStdString();
    if (!r)
        return {};
    QSet<int> decisions;
    int detections = 0, suppressed = 0, background = 0;
    for (const ImpulseDecision &d : r->decisions) {
        decisions.insert(d.decision);
        detections += (d.flags & kDecisionDetection) != 0;
        suppressed += (d.flags & kDecisionSuppressed) != 0;
        background += (d.flags & kDecisionBackground) != 0;
    }
    EXPECT_GE(decisions.size(), 3) << "the recording should give several decisions";
    EXPECT_GT(detections, 2);
    EXPECT_GT(suppressed, 0);
    EXPECT_GT(background, 0);
    return *r;
}

constexpr int kRecordingFrames = 64 + 16 * 299 + 9; // 300 windows and a partial one

class CLibraryImpulseExport : public CLibraryExport
{
  protected:
    void SetUp() override
    {
        CLibraryExport::SetUp();
        store = motionProject(path(QStringLiteral("motion.tinyml")), &modelId);
        ASSERT_TRUE(store);
        samples = motionRecording(kRecordingFrames);
        recordingFile = path(QStringLiteral("motion.raw"));
        ASSERT_TRUE(writeRaw(recordingFile, samples));
    }
    /// Exports the project's model and unpacks it; returns the folder.
    QString exportAndUnpack(const QString &tag, LibraryLayout layout = LibraryLayout::CLibrary)
    {
        LibraryExportOptions opt;
        opt.layout = layout;
        QString error;
        const QString zip = path(tag + QStringLiteral(".zip"));
        exported = CLibraryExporter::exportProject(*store, modelId, zip, opt, &error);
        EXPECT_TRUE(exported) << error.toStdString();
        if (!exported)
            return {};
        return unpack(zip, path(tag + QStringLiteral("-src")));
    }
    std::unique_ptr<ProjectStore> store;
    qint64 modelId = 0;
    QVector<qint16> samples;
    QString recordingFile;
    std::optional<LibraryExport> exported;
};

TEST_F(CLibraryImpulseExport, CarriesTheProjectsImpulseAsAVersion2Package)
{
    const QString src = exportAndUnpack(QStringLiteral("v2"));
    ASSERT_TRUE(exported && exported->impulse);
    QString error;
    const auto expected = buildImpulsePackage(*store, modelId, nullptr, &error);
    ASSERT_TRUE(expected) << error.toStdString();
    EXPECT_EQ(exported->package, expected->package);
    EXPECT_TRUE(*exported->impulse == expected->spec);
    EXPECT_EQ(quint8(exported->package[4]), 2); // format version (little-endian u16)
    EXPECT_GT(exported->impulseWorkBytes, 0);
    EXPECT_EQ(exported->ringBytes, (64 + 16) * 2 * 2);
    for (const char *f : {"runtime/impulse/src/tm_impulse.c", "runtime/impulse/include/tm_impulse.h",
                          "runtime/dsp/src/tm_dsp_spectral.c", "runtime/dsp/src/tm_dsp_fft.c",
                          "runtime/dsp/include/tm_dsp.h"})
        EXPECT_TRUE(QFileInfo::exists(src + QLatin1Char('/') + QLatin1String(f))) << f;

    QFile h(src + QStringLiteral("/include/tinyml_model.h"));
    ASSERT_TRUE(h.open(QIODevice::ReadOnly));
    const QByteArray header = h.readAll();
    for (const char *must :
         {"#define TINYML_HAS_IMPULSE 1", "#define TINYML_WINDOW_FRAMES 64u",
          "#define TINYML_STRIDE_FRAMES 16u", "#define TINYML_SAMPLE_RATE_HZ 100u",
          "#define TINYML_CHANNELS 2", "#define TINYML_CLASS_COUNT 3",
          "int tinyml_impulse_push(const int16_t *samples, uint32_t frames);",
          "int tinyml_impulse_run_window(const int16_t *window, tinyml_decision_t *out);",
          "void tinyml_impulse_set_callback(tinyml_decision_cb cb, void *user);",
          "int tinyml_invoke(const int8_t *input, int8_t *output);"})
        EXPECT_TRUE(header.contains(must)) << must;
    EXPECT_TRUE(header.contains(QByteArrayLiteral("#define TINYML_IMPULSE_WORK_BYTES ") +
                                QByteArray::number(exported->impulseWorkBytes)));
    QFile cm(src + QStringLiteral("/CMakeLists.txt"));
    ASSERT_TRUE(cm.open(QIODevice::ReadOnly));
    const QByteArray cmake = cm.readAll();
    EXPECT_TRUE(cmake.contains("-ffp-contract=off -fno-math-errno")) << cmake.toStdString();
    EXPECT_TRUE(cmake.contains("runtime/impulse/src/tm_impulse.c"));

    // The model-only export of the same model stays version 1, without the impulse API.
    LibraryExportOptions only;
    only.modelOnly = true;
    const auto v1 = CLibraryExporter::exportProject(*store, modelId, path(QStringLiteral("v1.zip")),
                                                    only, &error);
    ASSERT_TRUE(v1) << error.toStdString();
    EXPECT_FALSE(v1->impulse);
    EXPECT_EQ(quint8(v1->package[4]), 1);
    const QString v1src = unpack(path(QStringLiteral("v1.zip")), path(QStringLiteral("v1-src")));
    EXPECT_FALSE(QFileInfo::exists(v1src + QStringLiteral("/runtime/impulse/src/tm_impulse.c")));
    QFile h1(v1src + QStringLiteral("/include/tinyml_model.h"));
    ASSERT_TRUE(h1.open(QIODevice::ReadOnly));
    const QByteArray header1 = h1.readAll();
    EXPECT_TRUE(header1.contains("#define TINYML_HAS_IMPULSE 0"));
    EXPECT_FALSE(header1.contains("tinyml_impulse_push"));
}

// The streaming example built with the host compiler: a recording pushed in chunks of 1 to
// 1000 frames gives, window for window, ImpulseReplay::run's decisions bit for bit.
TEST_F(CLibraryImpulseExport, HostBuildOfTheStreamingExampleEqualsTheHostReplay)
{
    const QString src = exportAndUnpack(QStringLiteral("host"));
    ASSERT_TRUE(exported && exported->impulse);
    const QString build = path(QStringLiteral("host-build"));
    const ProcessRun configure =
        run(QStringLiteral("cmake"),
            {QStringLiteral("-S"), src, QStringLiteral("-B"), build, QStringLiteral("-G"),
             QStringLiteral("Ninja"), QStringLiteral("-DCMAKE_C_COMPILER=" TINYML_HOST_C_COMPILER),
             QStringLiteral("-DCMAKE_BUILD_TYPE=Release")},
            src);
    ASSERT_EQ(configure.exitCode, 0) << configure.out.toStdString();
    const ProcessRun make = run(QStringLiteral("cmake"), {QStringLiteral("--build"), build}, src);
    ASSERT_EQ(make.exitCode, 0) << make.out.toStdString();
    EXPECT_FALSE(make.out.contains(QLatin1String("warning:"))) << make.out.toStdString();

    const ProcessRun example =
        run(build + QStringLiteral("/tinyml_model_example"), {recordingFile}, build);
    ASSERT_EQ(example.exitCode, 0) << example.out.toStdString();
    const ReplayResult replay = hostReplay(exported->package, samples);
    EXPECT_EQ(replay.scores.windows(), 300);
    expectEqualsReplay(parseWindowLines(example.out, 3), replay);
    EXPECT_TRUE(example.out.contains(QLatin1String("windows: 300 "))) << example.out.toStdString();

    // Without a recording: the synthetic signal, 65 windows.
    const ProcessRun synthetic = run(build + QStringLiteral("/tinyml_model_example"), {}, build);
    EXPECT_EQ(synthetic.exitCode, 0) << synthetic.out.toStdString();
    EXPECT_EQ(parseWindowLines(synthetic.out, 3).size(), 65) << synthetic.out.toStdString();
    // A missing file is reported, not read as silence.
    const ProcessRun missing = run(build + QStringLiteral("/tinyml_model_example"),
                                   {path(QStringLiteral("no-such.raw"))}, build);
    EXPECT_EQ(missing.exitCode, 1);
    EXPECT_TRUE(missing.out.contains(QLatin1String("cannot open"))) << missing.out.toStdString();
}

#ifdef TINYML_QEMU_SYSTEM_ARM
// The same example on the virtual Cortex-M4F, reading the recording over semihosting: its
// decisions equal the host replay's too (the DSP, the optimized kernels and the
// post-processing are bit-exact across the two machines).
TEST_F(CLibraryImpulseExport, StreamingExampleOnTheVirtualCortexM4EqualsTheHostReplay)
{
    const QString src = exportAndUnpack(QStringLiteral("m4i"));
    ASSERT_TRUE(exported && exported->impulse);
    const ProcessRun qemu = runExampleOnM4(tmp, src, QStringLiteral("m4i"),
                                           {QFileInfo(recordingFile).absoluteFilePath()});
    ASSERT_EQ(qemu.exitCode, 0) << qemu.out.toStdString();
    expectEqualsReplay(parseWindowLines(qemu.out, 3), hostReplay(exported->package, samples));
}
#endif

// The Arduino layout carries the same header and API, flat; its src/ alone compiles, and
// tinyml_impulse_run_window over consecutive windows gives the host replay's decisions.
TEST_F(CLibraryImpulseExport, ArduinoLayoutCarriesTheImpulse)
{
    const QString dir = exportAndUnpack(QStringLiteral("ino"), LibraryLayout::Arduino);
    ASSERT_TRUE(exported && exported->impulse);
    for (const char *f : {"src/tinyml_model.h", "src/tinyml_model.c", "src/model_data.c",
                          "src/tm_impulse.c", "src/tm_impulse.h", "src/tm_dsp_spectral.c",
                          "src/tm_dsp_internal.h", "src/tm_model.c"})
        EXPECT_TRUE(QFileInfo::exists(dir + QLatin1Char('/') + QLatin1String(f))) << f;
    const QStringList all = QDir(dir + QStringLiteral("/src")).entryList(QDir::AllEntries | QDir::NoDotAndDotDot);
    for (const QString &n : all)
        EXPECT_TRUE(QFileInfo(dir + QStringLiteral("/src/") + n).isFile()) << n.toStdString();
    QFile sketch(dir + QStringLiteral("/examples/TinyMLModelExample/TinyMLModelExample.ino"));
    ASSERT_TRUE(sketch.open(QIODevice::ReadOnly));
    const QByteArray ino = sketch.readAll();
    EXPECT_TRUE(ino.contains("tinyml_impulse_init()") && ino.contains("tinyml_impulse_push(") &&
                ino.contains("void setup()") && ino.contains("void loop()"));

    QFile main(path(QStringLiteral("ino-main.c")));
    ASSERT_TRUE(main.open(QIODevice::WriteOnly));
    main.write(R"(#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tinyml_model.h"
/* argv[1]: raw int16 recording; runs consecutive windows with tinyml_impulse_run_window */
static int16_t all[200000];
int main(int argc, char **argv)
{
    FILE *f = fopen(argv[1], "rb");
    size_t n, start;
    int rc = tinyml_impulse_init();
    if (argc < 2 || f == NULL || rc != 0)
        return 1;
    n = fread(all, 2 * TINYML_CHANNELS, sizeof all / (2 * TINYML_CHANNELS), f) ;
    fclose(f);
    for (start = 0; start + TINYML_WINDOW_FRAMES <= n; start += TINYML_STRIDE_FRAMES) {
        tinyml_decision_t d;
        uint32_t bits;
        int i;
        if (tinyml_impulse_run_window(all + start * TINYML_CHANNELS, &d) != 0)
            return 2;
        memcpy(&bits, &d.score, 4);
        printf("window %lu top %u decision ", (unsigned long)d.window_end, (unsigned)d.top_class);
        if (d.decision == TINYML_UNCERTAIN) printf("uncertain"); else printf("%u", (unsigned)d.decision);
        printf(" flags %u score %f bits %08lx scores", (unsigned)d.flags, (double)d.score, (unsigned long)bits);
        for (i = 0; i < TINYML_CLASS_COUNT; ++i) printf(" %d", d.scores[i]);
        printf("\n");
    }
    return 0;
}
)");
    main.close();
    QStringList args = {QStringLiteral("-std=c99"), QStringLiteral("-O2"),
                        QStringLiteral("-ffp-contract=off"), QStringLiteral("-fno-math-errno"),
                        QStringLiteral("-I") + dir + QStringLiteral("/src"), QStringLiteral("-o"),
                        path(QStringLiteral("ino-prog")), main.fileName()};
    for (const QFileInfo &c :
         QDir(dir + QStringLiteral("/src")).entryInfoList({QStringLiteral("*.c")}, QDir::Files))
        args << c.filePath();
    args << QStringLiteral("-lm");
    const ProcessRun cc = run(QStringLiteral(TINYML_HOST_C_COMPILER), args, dir);
    ASSERT_EQ(cc.exitCode, 0) << cc.out.toStdString();
    const ProcessRun prog = run(path(QStringLiteral("ino-prog")), {recordingFile}, dir);
    ASSERT_EQ(prog.exitCode, 0) << prog.out.toStdString();
    expectEqualsReplay(parseWindowLines(prog.out, 3), hostReplay(exported->package, samples));
}

TEST_F(CLibraryImpulseExport, ImageModelsKeepTheModelOnlyExport)
{
    Graph g = chain();
    features::FeatureParams img;
    img.kind = features::BlockKind::Image;
    g.meta.insert(QStringLiteral("features"), img.toJson());
    StoredModel m;
    m.kind = ModelKind::Int8;
    m.name = QStringLiteral("image");
    m.graph = g.serialize();
    QString error;
    auto id = store->addModel(m, &error);
    ASSERT_TRUE(id) << error.toStdString();
    auto out = CLibraryExporter::exportProject(*store, *id, path(QStringLiteral("img.zip")), {}, &error);
    ASSERT_TRUE(out) << error.toStdString();
    EXPECT_FALSE(out->impulse);
    EXPECT_EQ(quint8(out->package[4]), 1);
}

} // namespace
