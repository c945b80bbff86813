// Flash and profile on the real agent: QEMU's Cortex-M4 (mps2-an386) and the host agent,
// over real ptys. A missing image, agent or QEMU fails the test with what to install;
// nothing is skipped.

#include "DeployTestGraphs.h"

#include "Flasher.h"
#include "ModelPackageWriter.h"
#include "Profiler.h"
#include "RuntimeSize.h"

#include "device/AgentLink.h"
#include "device/BoardRegistry.h"
#include "device/VirtualBoard.h"
#include "model/Int8Executor.h"
#include "store/ProjectStore.h"

#include "tm_frame.h"
#include "tm_protocol.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>

#include <gtest/gtest.h>

#include <cmath>
#include <csignal>
#include <functional>
#include <numeric>
#include <optional>

using namespace tinyml;
using namespace tinyml::deploy;
using namespace tinyml::deploy::testing;

namespace {

std::string str(const QString &s) { return s.toStdString(); }

/// Runs the event loop until done() or `ms` have passed; returns done().
bool processEventsUntil(const std::function<bool()> &done, int ms)
{
    QElapsedTimer t;
    t.start();
    while (!done() && t.elapsed() < ms)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
    return done();
}

/// How a Profiler's run ended, as its signals said.
struct ProfileOutcome {
    bool cancelled = false;
    bool finished = false;
    QString failure;
    QObject context;   ///< the connections end with this object

    explicit ProfileOutcome(Profiler &p)
    {
        QObject::connect(&p, &Profiler::cancelled, &context, [this] { cancelled = true; });
        QObject::connect(&p, &Profiler::finished, &context,
                         [this](const ProfileResult &) { finished = true; });
        QObject::connect(&p, &Profiler::failed, &context, [this](const QString &why) { failure = why; });
    }
    bool ended() const { return cancelled || finished || !failure.isEmpty(); }
};

class QtEnvironment : public ::testing::Environment
{
public:
    void SetUp() override
    {
        if (!QCoreApplication::instance()) {
            static int argc = 1;
            static char name[] = "test_deploy_device";
            static char *argv[] = {name, nullptr};
            new QCoreApplication(argc, argv);
        }
    }
};
const auto *const kEnv = ::testing::AddGlobalTestEnvironment(new QtEnvironment);

BoardDefinition boardDef(const QString &id)
{
    BoardRegistry registry;
    QString error;
    EXPECT_TRUE(registry.loadDefault(&error)) << str(error);
    const BoardDefinition *b = registry.board(id);
    EXPECT_TRUE(b) << "no board " << str(id);
    return b ? *b : BoardDefinition{};
}

std::unique_ptr<VirtualBoard> startBoard(const QString &id, const QString &stateDir)
{
    VirtualBoard::Options options;
    options.stateDirectory = stateDir;
    auto vb = std::make_unique<VirtualBoard>(boardDef(id), options);
    QString error;
    EXPECT_TRUE(vb->start(&error)) << str(error);
    if (!vb->isRunning())
        return nullptr;
    return vb;
}

QByteArray packageOf(const model::Graph &g)
{
    ModelPackageWriter writer;
    QString error;
    auto p = writer.write(g, &error);
    EXPECT_TRUE(p) << str(error);
    return p.value_or(QByteArray());
}

/// x[1,256] -fc-> y[1,64]: 16 KB of weights, so its upload takes several chunks.
model::Graph wideFc()
{
    model::Graph g;
    const int x = act(g, "x", {1, 256});
    const int w = weights(g, "w", {64, 256}, 64), b = bias(g, "b", 64);
    const int y = act(g, "y", {1, 64}, 0.2f, 3);
    Node fc = node(OpType::FullyConnected, "fc", {x, w, b}, y);
    fc.activation = Activation::Relu;
    g.addNode(fc);
    g.inputs = {x};
    g.outputs = {y};
    g.quantized = true;
    return g;
}

QByteArray patternInput(int n, int seed)
{
    QByteArray in(n, 0);
    for (int i = 0; i < n; ++i)
        in[i] = char(qint8(((i * 29 + seed * 13) % 251) - 125));
    return in;
}

QByteArray hostOutput(const model::Graph &g, const QByteArray &input)
{
    model::Int8Executor exec;
    QString error;
    EXPECT_TRUE(exec.prepare(g, &error)) << str(error);
    QVector<qint8> in(input.size());
    std::memcpy(in.data(), input.constData(), size_t(input.size()));
    auto out = exec.run(in, &error);
    EXPECT_TRUE(out) << str(error);
    return out ? QByteArray(reinterpret_cast<const char *>(out->constData()), out->size()) : QByteArray();
}

quint32 crcOf(const QByteArray &b)
{
    return tm_crc32(0, reinterpret_cast<const uint8_t *>(b.constData()), size_t(b.size()));
}

class DeviceInvokeTest : public ::testing::TestWithParam<const char *>
{
protected:
    QTemporaryDir state;
};

} // namespace

// Upload, run and read back on the agent: the output bytes equal the host int8 reference,
// the per-layer profile has one positive counter per layer and adds up to the whole
// inference within the counter's resolution.
TEST_P(DeviceInvokeTest, InvokeMatchesHostAndLayerProfileCoversEveryLayer)
{
    const QString id = QString::fromLatin1(GetParam());
    auto vb = startBoard(id, state.path());
    ASSERT_TRUE(vb);
    AgentLink *link = vb->link();
    const DeviceInfo &info = link->info();
    EXPECT_EQ(info.modelFormatVersion, 2);   // version 2 (the impulse) and the older version 1
    EXPECT_TRUE(info.supportedOps.contains(int(OpType::Conv2D)));
    EXPECT_FALSE(info.supportedOps.contains(int(OpType::BatchNorm)));

    model::Graph g = branch();
    const QByteArray pkg = packageOf(g);
    QString error;
    auto flashed = Flasher::flash(link, pkg, false, {}, &error);
    ASSERT_TRUE(flashed) << str(error);
    EXPECT_TRUE(flashed->uploaded);
    EXPECT_EQ(flashed->crc, crcOf(pkg));
    auto again = Flasher::flash(link, pkg, false, {}, &error);
    ASSERT_TRUE(again) << str(error);
    EXPECT_FALSE(again->uploaded) << "the same package must not be uploaded twice";
    auto slot = link->modelInfo(&error);
    ASSERT_TRUE(slot) << str(error);
    EXPECT_TRUE(slot->valid);
    EXPECT_EQ(slot->crc, crcOf(pkg));
    EXPECT_EQ(slot->size, quint32(pkg.size()));

    const int outBytes = 3;
    for (int seed = 0; seed < 3; ++seed) {
        const QByteArray input = patternInput(64, seed);
        ASSERT_TRUE(link->setInput(input, &error)) << str(error);
        ASSERT_TRUE(link->invoke(10000, &error)) << str(error);
        auto out = link->getOutput(outBytes, &error);
        ASSERT_TRUE(out) << str(error);
        EXPECT_EQ(out->toHex(), hostOutput(g, input).toHex()) << "seed " << seed;
    }

    // The smallest of four INVOKEs, as the layer profile keeps the smallest of its runs: a
    // UART interrupt landing inside one inference adds its handler's instructions to it.
    std::optional<quint64> ticks;
    for (int run = 0; run < 4; ++run) {
        auto t = link->invoke(10000, &error);
        ASSERT_TRUE(t) << str(error);
        ticks = ticks ? std::min(*ticks, *t) : *t;
    }
    auto layers = link->layerProfile(4, 20000, &error);
    ASSERT_TRUE(layers) << str(error);
    ASSERT_EQ(layers->size(), g.nodes.size());
    const quint64 sum = std::accumulate(layers->begin(), layers->end(), quint64(0));
    std::printf("[ profile  ] %s: INVOKE %llu ticks, layers sum %llu ticks\n", GetParam(),
                static_cast<unsigned long long>(*ticks), static_cast<unsigned long long>(sum));
    // Only an instruction count is repeatable enough to compare sums; the host agent's
    // counter is the wall clock in microseconds, where a descheduled run skews any sum.
    if (info.counterKind == TM_COUNTER_INSTRUCTIONS) {
        for (int i = 0; i < layers->size(); ++i)
            EXPECT_GT(layers->at(i), 0u) << "layer " << i << " (" << str(g.nodes[i].name) << ")";
        EXPECT_GT(*ticks, 0u);
        // Each layer's count is quantised to one counter tick (40 instructions on QEMU), and
        // it also holds the part of the profiling hook outside its two counter reads (the
        // return from one read, the hook's epilogue, the interpreter's call of the next hook
        // and the way into the next read: about 30 instructions in the an386 image, so less
        // than a tick), which a plain INVOKE does not run. So the layers may add up to two
        // ticks per layer more than the whole inference, never more than that; and they
        // cover the inference (no layer missed).
        const quint64 n = quint64(layers->size());
        EXPECT_LE(sum, *ticks + 2 * n);
        EXPECT_GE(sum + n, *ticks * 9 / 10);
    }

    // The layer pass leaves the output of the same input behind, like INVOKE.
    auto out = link->getOutput(outBytes, &error);
    ASSERT_TRUE(out) << str(error);
    EXPECT_EQ(out->toHex(), hostOutput(g, patternInput(64, 2)).toHex());

    // LAYER_PROFILE arguments out of range are refused by the agent.
    EXPECT_FALSE(link->request(TM_OP_LAYER_PROFILE, layerProfilePayload(0, 0), 2000, &error));
    EXPECT_TRUE(error.contains(QStringLiteral("BAD_ARGUMENT"))) << str(error);
    EXPECT_FALSE(link->request(TM_OP_LAYER_PROFILE, layerProfilePayload(1, 6), 2000, &error));
    EXPECT_TRUE(error.contains(QStringLiteral("BAD_ARGUMENT"))) << str(error);
}

INSTANTIATE_TEST_SUITE_P(Boards, DeviceInvokeTest, ::testing::Values("qemu-m4", "qemu-m7", "host"),
                         [](const ::testing::TestParamInfo<const char *> &i) {
                             return QString::fromLatin1(i.param).remove(QLatin1Char('-')).toStdString();
                         });

// Model A runs; an upload of model B is cut off halfway (link closed, then the emulator
// killed). After a restart from the same flash file, A is still the active model and still
// gives A's outputs.
TEST(DeviceFlash, InterruptedUploadKeepsThePreviousModel)
{
    QTemporaryDir state;
    const model::Graph a = chain();
    const model::Graph b = wideFc();
    const QByteArray pkgA = packageOf(a), pkgB = packageOf(b);
    ASSERT_GT(pkgB.size(), 4 * int(TM_MAX_PAYLOAD));
    const QByteArray input = patternInput(64, 7);
    const QByteArray expected = hostOutput(a, input);
    QString error;
    {
        auto vb = startBoard(QStringLiteral("qemu-m4"), state.path());
        ASSERT_TRUE(vb);
        auto flashed = Flasher::flash(vb->link(), pkgA, true, {}, &error);
        ASSERT_TRUE(flashed) << str(error);

        AgentLink *link = vb->link();
        QByteArray begin(8, 0);
        tm_put_u32(reinterpret_cast<uint8_t *>(begin.data()), quint32(pkgB.size()));
        tm_put_u32(reinterpret_cast<uint8_t *>(begin.data()) + 4, crcOf(pkgB));
        ASSERT_TRUE(link->request(TM_OP_MODEL_BEGIN, begin, 2000, &error)) << str(error);
        const int chunk = int(TM_MAX_PAYLOAD) - 4;
        for (int off = 0; off < pkgB.size() / 2; off += chunk) {
            QByteArray payload(4, 0);
            tm_put_u32(reinterpret_cast<uint8_t *>(payload.data()), quint32(off));
            payload += pkgB.mid(off, chunk);
            ASSERT_TRUE(link->request(TM_OP_MODEL_CHUNK, payload, 5000, &error)) << str(error);
        }
        link->close();
        ASSERT_GT(vb->processId(), 0);
        ::kill(pid_t(vb->processId()), SIGKILL);
        vb->stop();
    }
    auto vb = startBoard(QStringLiteral("qemu-m4"), state.path());
    ASSERT_TRUE(vb);
    AgentLink *link = vb->link();
    auto slot = link->modelInfo(&error);
    ASSERT_TRUE(slot) << str(error);
    EXPECT_TRUE(slot->valid);
    EXPECT_EQ(slot->crc, crcOf(pkgA)) << "model A must still be the active model";
    EXPECT_EQ(slot->size, quint32(pkgA.size()));
    ASSERT_TRUE(link->setInput(input, &error)) << str(error);
    ASSERT_TRUE(link->invoke(10000, &error)) << str(error);
    auto out = link->getOutput(expected.size(), &error);
    ASSERT_TRUE(out) << str(error);
    EXPECT_EQ(out->toHex(), expected.toHex());
}

// Refusals name the numbers: an unsupported op, a package larger than a slot, an arena
// larger than the RAM the board reports, and nothing is uploaded.
TEST(DeviceFlash, RefusesWhatTheBoardCannotRunWithTheReason)
{
    QTemporaryDir state;
    auto vb = startBoard(QStringLiteral("qemu-m4"), state.path());
    ASSERT_TRUE(vb);
    AgentLink *link = vb->link();
    const DeviceInfo info = link->info();
    QString error;
    auto req = packageRequirements(packageOf(chain()), &error);
    ASSERT_TRUE(req) << str(error);
    EXPECT_TRUE(checkPackageFits(info, *req, QStringLiteral("qemu-m4")).isEmpty());

    PackageRequirements bigPackage = *req;
    bigPackage.packageBytes = qint64(info.modelSlotBytes) + 1;
    const QString tooBig = checkPackageFits(info, bigPackage, QStringLiteral("qemu-m4"));
    EXPECT_TRUE(tooBig.contains(QString::number(bigPackage.packageBytes))) << str(tooBig);
    EXPECT_TRUE(tooBig.contains(QString::number(info.modelSlotBytes))) << str(tooBig);
    EXPECT_TRUE(tooBig.contains(QStringLiteral("model slot"))) << str(tooBig);

    PackageRequirements bigArena = *req;
    bigArena.arenaBytes = qint64(info.ramFree) + 16;
    const QString noRam = checkPackageFits(info, bigArena, QStringLiteral("qemu-m4"));
    EXPECT_TRUE(noRam.contains(QStringLiteral("RAM_FREE %1 bytes").arg(info.ramFree))) << str(noRam);
    EXPECT_TRUE(noRam.contains(QString::number(bigArena.arenaBytes))) << str(noRam);

    // Kernel scratch counts: a small arena whose scratch pushes it over RAM_FREE is refused.
    EXPECT_GE(req->deviceArenaBytes, (req->arenaBytes + 15) / 16 * 16);
    PackageRequirements bigScratch = *req;
    bigScratch.deviceArenaBytes = qint64(info.ramFree) + 4;
    const QString noScratchRam = checkPackageFits(info, bigScratch, QStringLiteral("qemu-m4"));
    EXPECT_TRUE(noScratchRam.contains(QStringLiteral("kernel scratch"))) << str(noScratchRam);
    EXPECT_TRUE(noScratchRam.contains(QStringLiteral("RAM_FREE %1 bytes").arg(info.ramFree))) << str(noScratchRam);

    PackageRequirements newer = *req;
    newer.formatVersion = info.modelFormatVersion + 1;
    EXPECT_TRUE(checkPackageFits(info, newer, QStringLiteral("qemu-m4"))
                    .contains(QStringLiteral("format version %1").arg(newer.formatVersion)));

    // An agent without fully connected: the real package is refused before any upload.
    DeviceInfo noFc = info;
    noFc.supportedOps.removeAll(int(OpType::FullyConnected));
    link->setInfo(noFc);
    auto before = link->modelInfo(&error);
    ASSERT_TRUE(before) << str(error);
    auto refused = Flasher::flash(link, packageOf(chain()), true, {}, &error);
    EXPECT_FALSE(refused);
    EXPECT_TRUE(error.contains(QStringLiteral("does not support op fully_connected"))) << str(error);
    auto after = link->modelInfo(&error);
    ASSERT_TRUE(after) << str(error);
    EXPECT_EQ(after->crc, before->crc);
    EXPECT_EQ(after->valid, before->valid);
    link->setInfo(info);
}

// The Profiler end to end on QEMU without a data set: latency, layers, memory, energy,
// stored in the project.
TEST(DeviceProfile, ProfilerMeasuresOnQemuAndStoresTheProfile)
{
    QTemporaryDir dir, state;
    QString error;
    auto store = ProjectStore::create(dir.filePath("p.tinyml"), ProjectSettings{}, &error);
    ASSERT_TRUE(store) << str(error);
    StoredModel m;
    m.kind = tinyml::ModelKind::Int8;
    m.name = QStringLiteral("branch");
    m.graph = branch().serialize();
    ASSERT_TRUE(store->addModel(m, &error)) << str(error);

    auto vb = startBoard(QStringLiteral("qemu-m4"), state.path());
    ASSERT_TRUE(vb);
    ProfileOptions opt;
    opt.runs = 6;
    opt.warmup = 2;
    opt.accuracy = false;
    opt.forceFlash = true;
    ProfileResult r;
    int runsSeen = 0;
    ASSERT_TRUE(Profiler::run(store.get(), m.id, vb->link(), vb->board(), opt, &r, &error,
                              [&](const QString &) {}))
        << str(error);
    (void)runsSeen;
    EXPECT_EQ(r.board, "qemu-m4");
    EXPECT_EQ(r.counter, "instructions");
    EXPECT_EQ(r.clockHz, 25000000u);
    EXPECT_EQ(r.runCounters.size(), 6);
    EXPECT_GT(r.latencyMinMs, 0.0);
    EXPECT_LE(r.latencyMinMs, r.latencyMedianMs);
    EXPECT_LE(r.latencyMedianMs, r.latencyMaxMs);
    // QEMU -icount shift=0 is deterministic up to the 40-instruction timer tick.
    EXPECT_LE(r.latencyMaxMs - r.latencyMinMs, 2 * 40.0 * 1000.0 / 25e6);
    ASSERT_EQ(r.layers.size(), 6);
    EXPECT_EQ(r.layers[0].name, "conv_a");
    EXPECT_EQ(r.layers[0].op, "conv2d");
    EXPECT_EQ(r.layers[0].macs, 8 * 8 * 4 * 9);
    for (const LayerProfile &l : r.layers)
        EXPECT_GT(l.counter, 0u) << str(l.name);
    EXPECT_GT(r.arenaBytes, 0);
    EXPECT_LE(r.arenaLowerBoundBytes, r.arenaBytes);
    EXPECT_GT(r.runtimeBytes, 1000) << str(r.runtimeSource);
    EXPECT_EQ(r.flashBytes, r.packageBytes + r.runtimeBytes);
    EXPECT_TRUE(r.energyEstimated);
    EXPECT_TRUE(r.energySource.startsWith(QStringLiteral("estimated: "))) << str(r.energySource);
    // 110 µA/MHz x 25 MHz x 3.3 V = 9.075 mW (resources/boards/qemu-m4.json).
    EXPECT_NEAR(r.energyUj, r.latencyMedianMs * 9.075, 1e-9);
    EXPECT_TRUE(r.method.contains(QStringLiteral("instruction counts"))) << str(r.method);

    auto stored = store->profile(r.profileId, &error);
    ASSERT_TRUE(stored) << str(error);
    EXPECT_EQ(stored->modelId, m.id);
    const ProfileResult back = ProfileResult::fromJson(stored->json);
    EXPECT_EQ(back.toJson(), r.toJson());
}

// cancel() stops after the request in flight: no more runs, nothing stored, and the board
// keeps answering with its model committed.
TEST(DeviceProfile, CancelStopsAfterTheRequestInFlight)
{
    QTemporaryDir dir, state;
    QString error;
    auto store = ProjectStore::create(dir.filePath("p.tinyml"), ProjectSettings{}, &error);
    ASSERT_TRUE(store) << str(error);
    StoredModel m;
    m.kind = tinyml::ModelKind::Int8;
    m.graph = chain().serialize();
    ASSERT_TRUE(store->addModel(m, &error)) << str(error);
    auto vb = startBoard(QStringLiteral("qemu-m4"), state.path());
    ASSERT_TRUE(vb);

    Profiler profiler;
    int measured = 0;
    ProfileOutcome outcome(profiler);
    QObject::connect(&profiler, &Profiler::runMeasured, [&](int, quint64, double) {
        if (++measured == 3)
            profiler.cancel();
    });
    ProfileOptions opt;
    opt.runs = 200;
    opt.warmup = 0;
    opt.accuracy = false;
    ASSERT_TRUE(profiler.start(store.get(), m.id, vb->link(), vb->board(), opt, &error)) << str(error);
    EXPECT_TRUE(profiler.isRunning());
    EXPECT_EQ(measured, 0) << "start() must not wait for the board";
    processEventsUntil([&] { return outcome.ended(); }, 60000);
    EXPECT_TRUE(outcome.cancelled) << str(outcome.failure);
    EXPECT_FALSE(outcome.finished);
    EXPECT_FALSE(profiler.isRunning());
    EXPECT_EQ(measured, 3);
    EXPECT_TRUE(store->profiles().isEmpty());
    auto slot = vb->link()->modelInfo(&error);
    ASSERT_TRUE(slot) << str(error);
    EXPECT_TRUE(slot->valid);
}

// The test split's features are computed on a worker thread: while another connection holds
// the project's write lock (the worker cannot store its feature rows), start() has returned and
// the caller's event loop runs. Cancelling there ends the profile as cancelled; a model whose
// input does not match the features fails through failed(), not by blocking start().
TEST(DeviceProfile, TestSplitFeaturesAreComputedOffTheCallersThread)
{
    QTemporaryDir dir, state;
    QString error;
    ProjectSettings settings;
    settings.templateName = QStringLiteral("motion");
    settings.labels = {QStringLiteral("idle"), QStringLiteral("shake")};
    settings.sensor = QStringLiteral("accel");
    settings.sampleRateHz = 100;
    settings.sampleLengthS = 2;
    const QString path = dir.filePath("p.tinyml");
    auto store = ProjectStore::create(path, settings, &error);
    ASSERT_TRUE(store) << str(error);
    QVector<Sample> samples;
    for (int i = 0; i < 6; ++i) {
        Sample smp;
        smp.label = settings.labels[i % 2];
        smp.sensor = settings.sensor;
        smp.sampleRateHz = 100;
        smp.channels = {QStringLiteral("x"), QStringLiteral("y"), QStringLiteral("z")};
        smp.split = i < 4 ? Split::Train : Split::Test;
        QVector<float> v;
        for (int f = 0; f < 200; ++f)
            v << float(std::sin(0.05 * f * (i + 1))) << float(i) << 9.81f;
        smp.data = Tensor::fromFloats(v, {200, 3});
        samples << smp;
    }
    ASSERT_TRUE(store->addSamples(samples, &error)) << str(error);
    StoredModel m;
    m.kind = tinyml::ModelKind::Int8;
    m.graph = chain().serialize();   // 64 inputs: not what the motion features give
    ASSERT_TRUE(store->addModel(m, &error)) << str(error);
    auto vb = startBoard(QStringLiteral("host"), state.path());
    ASSERT_TRUE(vb);

    Profiler profiler;
    QStringList stages;
    auto outcome = std::make_unique<ProfileOutcome>(profiler);
    QObject::connect(&profiler, &Profiler::stageChanged, [&](const QString &st) { stages << st; });
    ProfileOptions opt;
    opt.runs = 2;
    opt.warmup = 0;
    opt.accuracy = true;

    {
        QSqlDatabase locker = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("locker"));
        locker.setDatabaseName(path);
        ASSERT_TRUE(locker.open());
        ASSERT_TRUE(locker.exec(QStringLiteral("BEGIN IMMEDIATE")).lastError().type() == QSqlError::NoError);

        ASSERT_TRUE(profiler.start(store.get(), m.id, vb->link(), vb->board(), opt, &error)) << str(error);
        // The caller's loop runs while the worker waits for the lock.
        EXPECT_TRUE(processEventsUntil([&] { return !stages.isEmpty(); }, 2000));
        processEventsUntil([] { return false; }, 300);
        EXPECT_EQ(stages, QStringList{QStringLiteral("Computing the test split's features")});
        EXPECT_TRUE(profiler.isRunning());
        EXPECT_FALSE(outcome->ended()) << str(outcome->failure);
        profiler.cancel();
        EXPECT_TRUE(profiler.isRunning()) << "cancelled only once the worker has stopped";
        locker.exec(QStringLiteral("ROLLBACK"));
        locker.close();
    }
    QSqlDatabase::removeDatabase(QStringLiteral("locker"));
    EXPECT_TRUE(processEventsUntil([&] { return outcome->ended(); }, 30000));
    EXPECT_TRUE(outcome->cancelled) << str(outcome->failure);
    EXPECT_FALSE(outcome->finished);
    EXPECT_EQ(stages.size(), 1) << "nothing was sent to the board";

    // Unlocked, the features are computed and found not to fit the model: failed(), not a refusal.
    stages.clear();
    outcome = std::make_unique<ProfileOutcome>(profiler);
    ASSERT_TRUE(profiler.start(store.get(), m.id, vb->link(), vb->board(), opt, &error)) << str(error);
    EXPECT_TRUE(processEventsUntil([&] { return outcome->ended(); }, 30000));
    EXPECT_TRUE(outcome->failure.contains(QStringLiteral("model %1 takes 64").arg(m.id)))
        << str(outcome->failure);
    EXPECT_FALSE(profiler.isRunning());
    EXPECT_TRUE(store->profiles().isEmpty());
}

// The runtime size comes from the agent image's symbol table.
TEST(RuntimeSize, MeasuresInterpreterAndKernelsInTheQemuImage)
{
    QString error;
    const QString path = AgentLocator::findImage(boardDef(QStringLiteral("qemu-m4")).agentImage, &error);
    ASSERT_FALSE(path.isEmpty()) << str(error);
    QFile f(path);
    ASSERT_TRUE(f.open(QIODevice::ReadOnly));
    const QByteArray elf = f.readAll();
    auto size = runtimeSizeFromElf(elf, &error);
    ASSERT_TRUE(size) << str(error);
    EXPECT_GT(size->symbols, 5);
    EXPECT_GT(size->bytes, 1000);
    EXPECT_LT(size->bytes, elf.size());
    // Cut short anywhere, the reader fails cleanly or measures less; it never reads past.
    for (int cut : {0, 3, 16, 52, 200, int(elf.size() / 2), int(elf.size() - 1)}) {
        auto partial = runtimeSizeFromElf(elf.left(cut), &error);
        if (partial)
            EXPECT_LE(partial->bytes, size->bytes);
    }
    EXPECT_FALSE(runtimeSizeFromElf(QByteArray("not an elf at all"), &error));
    EXPECT_TRUE(error.contains(QStringLiteral("magic"))) << str(error);

    // Small objects whose sizes `nm -S` lists (tests/fuzz/device/seeds-elf): ELF32 Cortex-M4
    // tm_model_x 6 + tm_nn_table 16 + tm_nn_y 4; ELF64 x86-64 4 + 16 + 4.
    for (const auto &[file, bytes] : {std::pair<const char *, int>{"tm_nn_seed.o", 26},
                                      std::pair<const char *, int>{"tm_nn_seed_x86_64.o", 24}}) {
        QFile seed(QStringLiteral(TINYML_ELF_SEEDS_DIR "/") + QLatin1String(file));
        ASSERT_TRUE(seed.open(QIODevice::ReadOnly)) << file;
        auto r = runtimeSizeFromElf(seed.readAll(), &error);
        ASSERT_TRUE(r) << file << ": " << str(error);
        EXPECT_EQ(r->symbols, 3) << file;
        EXPECT_EQ(r->bytes, bytes) << file;
    }
}

// runtimeSizeFor reads a board's image once per path, modification time and size: a changed
// file with the old time and size still gives the first measurement; a new time reads it again.
TEST(RuntimeSize, ReadsTheImageAgainOnlyWhenItChanges)
{
    QTemporaryDir dir;
    ASSERT_TRUE(dir.isValid());
    const QByteArray oldAgentDir = qgetenv("TINYML_AGENT_DIR");
    qputenv("TINYML_AGENT_DIR", dir.path().toLocal8Bit());
    struct Restore {
        QByteArray value;
        ~Restore()
        {
            if (value.isEmpty())
                qunsetenv("TINYML_AGENT_DIR");
            else
                qputenv("TINYML_AGENT_DIR", value);
        }
    } restore{oldAgentDir};

    BoardDefinition board;
    board.id = QStringLiteral("cache-test");
    board.agentImage = QStringLiteral("cache-test/tinyml-agent.elf");
    ASSERT_TRUE(QDir(dir.path()).mkpath(QStringLiteral("cache-test")));
    const QString image = dir.filePath(board.agentImage);
    ASSERT_TRUE(QFile::copy(QStringLiteral(TINYML_ELF_SEEDS_DIR "/tm_nn_seed.o"), image));

    const RuntimeSize first = runtimeSizeFor(board);
    EXPECT_EQ(first.bytes, 26) << str(first.source);
    EXPECT_EQ(first.symbols, 3);

    // Same size, ELF magic broken, modification time put back: the cached figure stands.
    QFile f(image);
    ASSERT_TRUE(f.open(QIODevice::ReadWrite));
    const QDateTime modified = f.fileTime(QFileDevice::FileModificationTime);
    ASSERT_TRUE(f.seek(1));
    ASSERT_EQ(f.write("X", 1), 1);
    f.flush();
    ASSERT_TRUE(f.setFileTime(modified, QFileDevice::FileModificationTime));
    f.close();
    const RuntimeSize cached = runtimeSizeFor(board);
    EXPECT_EQ(cached.bytes, 26) << str(cached.source);
    EXPECT_EQ(cached.source, first.source);

    // A new modification time: read again, and the broken magic is reported with the path.
    ASSERT_TRUE(f.open(QIODevice::ReadWrite));
    ASSERT_TRUE(f.setFileTime(modified.addSecs(10), QFileDevice::FileModificationTime));
    f.close();
    const RuntimeSize reread = runtimeSizeFor(board);
    EXPECT_EQ(reread.bytes, 0);
    EXPECT_TRUE(reread.source.contains(QStringLiteral("magic"))) << str(reread.source);
    EXPECT_TRUE(reread.source.contains(image)) << str(reread.source);
}
