// Issue 17 acceptance through the CLI: a fleet of six virtual boards (host agents, each with its
// own state folder, key and device identity), `tinyml rollout` of a signed good model through
// all stages; then a model that fails the accuracy gate rolls back exactly the members of its
// stage, which then run the previous package (attestation and their outputs say so); then a
// rollout killed with SIGKILL mid-stage and run again finishes with every member accounted for.
#include <gtest/gtest.h>

#include "CliRunner.h"
#include "model/Graph.h"
#include "store/ProjectStore.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QProcessEnvironment>
#include <QTemporaryDir>

#include <random>

using namespace tinyml;
using namespace tinyml::e2e;

namespace {

/// Rows "f0..f3,label"; label l has its mean on feature l: an MLP learns it in a few epochs.
QByteArray tableCsv()
{
    std::mt19937_64 rng(11);
    std::normal_distribution<double> g(0, 0.25);
    QByteArray csv = "f0,f1,f2,f3,label\n";
    const char *labels[] = {"idle", "walk", "run"};
    for (int l = 0; l < 3; ++l)
        for (int i = 0; i < 40; ++i) {
            for (int f = 0; f < 4; ++f)
                csv += QByteArray::number((f == l ? 2.0 : 0.0) + g(rng), 'f', 4) + ',';
            csv += labels[l];
            csv += '\n';
        }
    return csv;
}

class RolloutCli : public ::testing::Test {
protected:
    void SetUp() override
    {
        ASSERT_TRUE(tmp.isValid());
        project = tmp.filePath("fleet.tinyml");
        env = QProcessEnvironment::systemEnvironment();
        env.insert("TINYML_KEY_DIR", tmp.filePath("keys"));
        env.insert("TINYML_VIRTUAL_BOARDS_DIR", tmp.filePath("boards"));
    }

    CliRun run(const QStringList &args) const
    {
        QProcess p;
        p.setProcessEnvironment(env);
        p.start(QStringLiteral(TINYML_CLI), args);
        p.waitForFinished(900000);
        CliRun r;
        r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
        r.out = QString::fromUtf8(p.readAllStandardOutput());
        r.err = QString::fromUtf8(p.readAllStandardError());
        return r;
    }

    /// Adds an int8 model whose last fully connected layer has its weights and bias negated:
    /// a valid package whose argmax is wrong on nearly every sample (a broken training run).
    qint64 addBrokenCopy(qint64 goodId)
    {
        QString error;
        auto store = ProjectStore::open(project, &error);
        EXPECT_TRUE(store) << error.toStdString();
        auto good = store->model(goodId, &error);
        EXPECT_TRUE(good) << error.toStdString();
        auto g = model::Graph::deserialize(good->graph, &error);
        EXPECT_TRUE(g) << error.toStdString();
        int last = -1;
        for (int i = 0; i < g->nodes.size(); ++i)
            if (g->nodes[i].op == model::OpType::FullyConnected)
                last = i;
        EXPECT_GE(last, 0);
        for (int k = 1; k < g->nodes[last].inputs.size(); ++k) {
            model::TensorDesc &t = g->tensors[g->nodes[last].inputs[k]];
            if (t.dtype == DType::Int8) {
                for (char &c : t.data)
                    c = char(qBound(-127, -int(qint8(c)), 127));
            } else if (t.dtype == DType::Int32) {
                auto *v = reinterpret_cast<qint32 *>(t.data.data());
                for (int j = 0; j < t.data.size() / 4; ++j)
                    v[j] = -v[j];
            }
        }
        StoredModel bad;
        bad.kind = ModelKind::Int8;
        bad.name = QStringLiteral("broken copy of %1").arg(goodId);
        bad.graph = g->serialize();
        bad.metrics = good->metrics;
        const auto id = store->addModel(bad, &error);
        EXPECT_TRUE(id) << error.toStdString();
        return id.value_or(0);
    }

    QJsonArray members(const CliRun &r) const { return r.json()["members"].toArray(); }

    QTemporaryDir tmp;
    QString project;
    QProcessEnvironment env;
};

} // namespace

TEST_F(RolloutCli, SixBoardsGoodRolloutGateFailureRollbackAndKillResume)
{
    ASSERT_EQ(run({"new", project, "--template", "tabular"}).exitCode, 0);
    writeFile(tmp.filePath("t.csv"), tableCsv());
    CliRun r = run({"import", project, tmp.filePath("t.csv"), "--format", "csv-table"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    r = run({"train", project, "--model", "mlp", "--epochs", "20", "--seed", "3"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    r = run({"quantize", project, "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    const qint64 good = r.json()["model_id"].toInteger();
    ASSERT_GT(good, 0) << r.out.toStdString();
    const qint64 bad = addBrokenCopy(good);
    ASSERT_GT(bad, good);

    ASSERT_EQ(run({"keys", "new", "--name", "release"}).exitCode, 0);
    for (const auto &[model, version] : {std::pair{good, "1"}, std::pair{bad, "2"}, std::pair{good, "3"}}) {
        r = run({"sign", project, "--model", QString::number(model), "--version", version, "--out",
                 tmp.filePath(QStringLiteral("v%1.tmpks").arg(version))});
        ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    }

    // the fleet: six host agents, each its own device
    r = run({"fleet", project, "add", "lab", "--board", "host", "--count", "6", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_EQ(r.json()["members"].toInt(), 6);
    r = run({"fleet", project, "add", "lab", "--board", "nucleo-l4r5zi"});
    EXPECT_EQ(r.exitCode, 2) << "a real board needs a port";
    r = run({"fleet", project, "provision", "lab", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString() << r.out.toStdString();
    QSet<QString> devices;
    for (const QJsonValue v : members(r))
        devices.insert(v.toObject()["device_id"].toString());
    EXPECT_EQ(devices.size(), 6) << "six distinct device identities";

    // an unsigned model cannot be rolled out
    r = run({"rollout", project, "--fleet", "lab", "--model", QString::number(good), "--gate-minutes", "0"});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains("has no signed package")) << r.err.toStdString();

    // 1. the good model, v1: every stage passes, every member confirms
    r = run({"rollout", project, "--fleet", "lab", "--package", tmp.filePath("v1.tmpks"), "--stages", "10,50,100",
             "--gate-minutes", "0", "--samples", "20", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString() << r.out.toStdString();
    EXPECT_EQ(r.json()["status"].toString(), "completed");
    const QJsonArray sizes = r.json()["stage_sizes"].toArray();
    ASSERT_EQ(sizes.size(), 3);
    EXPECT_EQ(sizes[0].toInt(), 1);
    EXPECT_EQ(sizes[1].toInt(), 3);
    EXPECT_EQ(sizes[2].toInt(), 6);
    for (const QJsonValue v : members(r)) {
        EXPECT_EQ(v.toObject()["phase"].toString(), "confirmed") << v.toObject()["name"].toString().toStdString();
        // the drift gate read each member's TELEMETRY summary of its own classification
        // windows: none while the rollout watched a virtual board, so not judged
        const QJsonObject drift = v.toObject()["drift"].toObject();
        EXPECT_EQ(drift["source"].toString(), "classify") << v.toObject()["name"].toString().toStdString();
        EXPECT_EQ(drift["windows"].toInt(), 0);
        EXPECT_EQ(drift["level"].toString(), "no data");
    }
    {   // and kept every reading in the project
        QString error;
        auto store = ProjectStore::open(project, &error);
        ASSERT_TRUE(store) << error.toStdString();
        EXPECT_GE(store->telemetry("lab").size(), 6);
    }
    r = run({"fleet", project, "telemetry", "lab", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString() << r.out.toStdString();
    ASSERT_EQ(members(r).size(), 6);
    for (const QJsonValue v : members(r))
        EXPECT_EQ(v.toObject()["model_id"].toInteger(), good);

    // 2. the broken model, v2: stage 1 (one member) fails the accuracy gate and is rolled back
    r = run({"rollout", project, "--fleet", "lab", "--package", tmp.filePath("v2.tmpks"), "--stages", "34,100",
             "--gate-minutes", "0", "--samples", "20", "--json"});
    EXPECT_EQ(r.exitCode, 1) << r.err.toStdString();
    EXPECT_EQ(r.json()["status"].toString(), "rolled_back") << r.out.toStdString();
    EXPECT_TRUE(r.json()["reason"].toString().contains("accuracy gate")) << r.json()["reason"].toString().toStdString();
    const QJsonArray after = members(r);
    ASSERT_EQ(after.size(), 6);
    for (int i = 0; i < 6; ++i) {
        const QJsonObject m = after[i].toObject();
        if (i < 3) {   // stage 1 = ceil(34% of 6) = 3 members
            EXPECT_EQ(m["phase"].toString(), "reverted") << i;
            const QJsonObject check = m["revert_check"].toObject();
            EXPECT_TRUE(check["attested"].toBool()) << i;
            EXPECT_EQ(check["attestation"].toObject()["package_version"].toInt(), 1) << i;
            EXPECT_EQ(check["previous_model_id"].toInteger(), good) << i;
            const QJsonObject outputs = check["outputs"].toObject();
            EXPECT_GT(outputs["outputs_compared"].toInt(), 0) << i;
            EXPECT_EQ(outputs["bitexact_outputs"].toInt(), outputs["outputs_compared"].toInt()) << i;
        } else {
            EXPECT_EQ(m["phase"].toString(), "pending") << "member " << i << " was never touched";
        }
    }
    // every member attests v1 (the good package), nobody runs the broken one
    r = run({"fleet", project, "status", "lab", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString() << r.out.toStdString();
    for (const QJsonValue v : members(r)) {
        const QJsonObject a = v.toObject()["attestation"].toObject();
        EXPECT_TRUE(v.toObject()["verified"].toBool());
        EXPECT_EQ(a["package_version"].toInt(), 1) << v.toObject()["member"].toString().toStdString();
        EXPECT_EQ(a["counter"].toInt(), 1) << "the anti-rollback counter came back with the revert";
    }

    // 3. v3 (the good model again), killed mid-rollout, then resumed
    QProcess p;
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(TINYML_CLI), {"rollout", project, "--fleet", "lab", "--package", tmp.filePath("v3.tmpks"),
                                         "--stages", "34,100", "--gate-minutes", "0.02", "--samples", "10"});
    QString seen;
    QElapsedTimer t;
    t.start();
    // SIGKILL (no handler runs) as soon as the first member of stage 2 starts its update
    const QString mark = QStringLiteral("host-4: updating to package version 3");
    while (!seen.contains(mark) && t.elapsed() < 300000 && p.state() != QProcess::NotRunning) {
        p.waitForReadyRead(20);
        seen += QString::fromUtf8(p.readAllStandardError());
    }
    p.kill();
    p.waitForFinished();
    ASSERT_TRUE(seen.contains(mark)) << seen.toStdString();
    SCOPED_TRACE(seen.toStdString());
    r = run({"fleet", project, "list", "lab", "--json"});
    ASSERT_EQ(r.exitCode, 0);
    EXPECT_EQ(r.json()["fleets"].toArray()[0].toObject()["last_rollout"].toObject()["status"].toString(), "running");
    // another package while it is unfinished: refused, naming the way out
    r = run({"rollout", project, "--fleet", "lab", "--package", tmp.filePath("v1.tmpks")});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains("did not finish")) << r.err.toStdString();
    r = run({"rollout", project, "--fleet", "lab", "--package", tmp.filePath("v3.tmpks"), "--stages", "34,100",
             "--gate-minutes", "0", "--samples", "10", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString() << r.out.toStdString();
    EXPECT_EQ(r.json()["status"].toString(), "completed");
    EXPECT_TRUE(r.err.contains("resuming rollout")) << r.err.toStdString();
    for (const QJsonValue v : members(r))
        EXPECT_EQ(v.toObject()["phase"].toString(), "confirmed") << v.toObject()["name"].toString().toStdString();
    r = run({"fleet", project, "status", "lab", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    for (const QJsonValue v : members(r))
        EXPECT_EQ(v.toObject()["attestation"].toObject()["package_version"].toInt(), 3)
            << v.toObject()["member"].toString().toStdString();
}
