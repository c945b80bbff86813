// Issue 17: `tinyml model-card` on a small trained tabular project (the cheapest trained project of
// the tests: an MLP over four features, 3 epochs). The card's counts and accuracies are checked
// against the project store itself; what was never measured must read "not measured"; a label
// "<b>&" must come out escaped in HTML and in Markdown; a profile on the host agent and a signed
// package then appear with their sources.
#include <gtest/gtest.h>

#include "CliRunner.h"
#include "store/ProjectStore.h"

#include <QJsonArray>
#include <QProcessEnvironment>
#include <QTemporaryDir>

#include <random>

using namespace tinyml;
using namespace tinyml::e2e;

namespace {

const QStringList kLabels = {"a", "<b>&", "c"};

/// Rows "f0..f3,label"; label l has its mean on feature l. c gets only 6 rows: few samples.
QByteArray tableCsv()
{
    std::mt19937_64 rng(7);
    std::normal_distribution<double> g(0, 0.3);
    QByteArray csv = "f0,f1,f2,f3,label\n";
    for (int l = 0; l < kLabels.size(); ++l)
        for (int i = 0; i < (l == 2 ? 6 : 20); ++i) {
            for (int f = 0; f < 4; ++f)
                csv += QByteArray::number(g(rng) + (f == l ? 2.0 : 0.0), 'g', 7) + ",";
            csv += kLabels[l].toUtf8() + "\n";
        }
    return csv;
}

/// The label as the Markdown card writes it (CommonMark backslash escapes).
QString mdLabel(const QString &label)
{
    QString out = label;
    out.replace("<", "\\<").replace(">", "\\>").replace("&", "\\&");
    return out;
}

QString readText(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()) : QString();
}

CliRun runWithKeys(const QStringList &args, const QString &keyDir)
{
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("TINYML_KEY_DIR", keyDir);
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(TINYML_CLI), args);
    p.waitForFinished(600000);
    CliRun r;
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

} // namespace

TEST(ModelCardCli, CardSaysWhatTheProjectKnowsAndNothingElse)
{
    QTemporaryDir tmp;
    ASSERT_TRUE(tmp.isValid());
    const QString proj = tmp.filePath("p.tinyml");
    const QString keyDir = tmp.filePath("keys");
    ASSERT_EQ(tinymlRun({"new", proj, "--template", "tabular"}).exitCode, 0);
    writeFile(tmp.filePath("t.csv"), tableCsv());
    CliRun r = tinymlRun({"import", proj, tmp.filePath("t.csv"), "--format", "csv-table"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();

    // No model yet: a clear failure, no file.
    r = tinymlRun({"model-card", proj, "--out", tmp.filePath("card.md")});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains("has no models")) << r.err.toStdString();
    EXPECT_FALSE(QFile::exists(tmp.filePath("card.md")));

    r = tinymlRun({"train", proj, "--model", "mlp", "--epochs", "3", "--seed", "1"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    r = tinymlRun({"quantize", proj});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();

    // The format comes from the extension; anything else is a usage error naming the file.
    for (const char *bad : {"card.txt", "card"}) {
        r = tinymlRun({"model-card", proj, "--out", tmp.filePath(bad)});
        EXPECT_EQ(r.exitCode, 2) << bad;
        EXPECT_TRUE(r.err.contains(QStringLiteral("--out %1: unknown card format").arg(tmp.filePath(bad))))
            << r.err.toStdString();
        EXPECT_TRUE(r.err.contains("must end in .md or .html")) << r.err.toStdString();
        EXPECT_FALSE(QFile::exists(tmp.filePath(bad)));
    }
    r = tinymlRun({"model-card", proj, "--model", "99", "--out", tmp.filePath("x.md")});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains("no model 99 (models: 1, 2)")) << r.err.toStdString();

    // Markdown card of the default model (the int8 one), with the facts as JSON.
    const QString mdPath = tmp.filePath("card.md");
    r = tinymlRun({"model-card", proj, "--out", mdPath, "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    const QJsonObject facts = r.json();
    const QString md = readText(mdPath);
    ASSERT_FALSE(md.isEmpty());
    {
        QString error;
        auto store = ProjectStore::openReadOnly(proj, &error);
        ASSERT_TRUE(store) << error.toStdString();
        const DatasetCounts counts = store->counts();
        ASSERT_EQ(counts.perLabel.size(), 3);
        for (const DatasetCounts::Row &row : counts.perLabel) {
            const QString line = QStringLiteral("| %1 | %2 | %3 | %4 |")
                                     .arg(mdLabel(row.label)).arg(row.train).arg(row.test).arg(row.incomplete);
            EXPECT_TRUE(md.contains(line)) << line.toStdString() << "\n" << md.toStdString();
        }
        EXPECT_TRUE(md.contains(QStringLiteral("%1 train, %2 test; %3 incomplete").arg(counts.train).arg(counts.test).arg(counts.incomplete)));
        auto int8 = store->latestModel(ModelKind::Int8);
        ASSERT_TRUE(int8);
        EXPECT_EQ(facts["model"].toObject()["id"].toInteger(), int8->id);
        for (const char *key : {"float_accuracy", "int8_accuracy"}) {
            const double stored = int8->metrics[key].toDouble();
            EXPECT_EQ(facts[key].toObject()["value"].toDouble(), stored) << key;
            EXPECT_TRUE(md.contains(QString::number(stored * 100, 'f', 2) + " %")) << key;
        }
        const QJsonArray perClass = facts["per_class"].toObject()["rows"].toArray();
        const QJsonArray storedPerClass = int8->metrics["int8"].toObject()["per_class"].toArray();
        ASSERT_EQ(perClass.size(), storedPerClass.size());
        for (int i = 0; i < perClass.size(); ++i)
            EXPECT_EQ(perClass[i].toObject()["f1"].toDouble(), storedPerClass[i].toObject()["f1"].toDouble());
        EXPECT_TRUE(store->profiles().isEmpty());
    }
    // Never profiled, never signed, nothing stated: said so, not invented.
    EXPECT_TRUE(md.contains("- **On-device accuracy:** not measured")) << md.toStdString();
    EXPECT_TRUE(md.contains("Latency: not measured")) << md.toStdString();
    EXPECT_TRUE(md.contains("Energy: not measured"));
    EXPECT_TRUE(facts["profile"].isNull());
    EXPECT_TRUE(facts["device_accuracy"].toObject()["value"].isNull());
    EXPECT_TRUE(md.contains("## Intended use\n\nnot stated")) << md.toStdString();
    EXPECT_TRUE(md.contains("## Signature\n\nnot recorded")) << md.toStdString();
    EXPECT_TRUE(md.contains("Label \"c\" has few samples")) << md.toStdString();
    EXPECT_TRUE(md.contains("without a recorded device")) << md.toStdString();
    EXPECT_TRUE(md.contains("Not measured on any device")) << md.toStdString();
    EXPECT_FALSE(md.contains("<b>&"));

    // HTML: the label and the user's text escaped, one page without external resources.
    const QString htmlPath = tmp.filePath("card.html");
    r = tinymlRun({"model-card", proj, "--out", htmlPath, "--intended-use", "Demo of <i>gestures</i> & \"taps\""});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    const QString html = readText(htmlPath);
    EXPECT_TRUE(html.startsWith("<!DOCTYPE html>"));
    EXPECT_TRUE(html.contains("<td>&lt;b&gt;&amp;</td>")) << html.toStdString();
    EXPECT_FALSE(html.contains("<b>&"));
    EXPECT_TRUE(html.contains("<p>Demo of &lt;i&gt;gestures&lt;/i&gt; &amp; &quot;taps&quot;</p>")) << html.toStdString();
    for (const char *external : {"<script", "src=", "href=", "http://", "https://", "@import", "url("})
        EXPECT_FALSE(html.contains(external)) << external;
    r = tinymlRun({"model-card", proj, "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_EQ(r.json()["intended_use"].toString(), "Demo of <i>gestures</i> & \"taps\"");

    // The float model's card: no int8 figure, and why.
    r = tinymlRun({"model-card", proj, "--model", "1", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_TRUE(r.json()["int8_accuracy"].toObject()["value"].isNull());
    EXPECT_TRUE(r.json()["int8_accuracy"].toObject()["missing"].toString().contains("model 1 is a float model"));

    // Profiled on the host agent: on-device accuracy from that profile, labelled as not silicon.
    r = tinymlRun({"profile", proj, "--board", "host", "--runs", "3", "--warmup", "1", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    const QJsonObject profile = r.json();
    // A key and a signed package in signed/ beside the project.
    r = runWithKeys({"keys", "new", "--json"}, keyDir);
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    const QString keyId = r.json()["id"].toString();
    r = runWithKeys({"sign", proj}, keyDir);
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();

    r = runWithKeys({"model-card", proj, "--out", mdPath, "--json"}, keyDir);
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    const QJsonObject after = r.json();
    const QString md2 = readText(mdPath);
    EXPECT_EQ(after["device_accuracy"].toObject()["value"].toDouble(), profile["device_accuracy"].toDouble());
    EXPECT_TRUE(after["device_accuracy"].toObject()["source"].toString().contains("on host"));
    const QJsonObject p = after["profile"].toObject();
    EXPECT_EQ(p["board"].toString(), "host");
    EXPECT_TRUE(p["virtual_board"].toBool());
    EXPECT_EQ(p["latency_ms"].toObject()["median"].toDouble(), profile["latency_ms"].toObject()["median"].toDouble());
    EXPECT_TRUE(p["energy_estimated"].toBool());
    EXPECT_TRUE(md2.contains("wall-clock microseconds of the host agent process")) << md2.toStdString();
    EXPECT_TRUE(md2.contains("Not measured on silicon")) << md2.toStdString();
    EXPECT_TRUE(md2.contains("Energy is estimated")) << md2.toStdString();
    EXPECT_FALSE(md2.contains("Latency: not measured"));
    const QJsonArray sigs = after["signatures"].toArray();
    ASSERT_EQ(sigs.size(), 1) << after["signature_note"].toString().toStdString();
    EXPECT_EQ(sigs[0].toObject()["key_id"].toString(), keyId);
    EXPECT_EQ(sigs[0].toObject()["version"].toInt(), 1);
    EXPECT_TRUE(sigs[0].toObject()["check"].toString().startsWith("signature verified")) << sigs[0].toObject()["check"].toString().toStdString();
    EXPECT_TRUE(md2.contains(keyId));

    // Without the key in the key folder the signature is listed but not called verified.
    r = runWithKeys({"model-card", proj, "--json"}, tmp.filePath("no-keys"));
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    ASSERT_EQ(r.json()["signatures"].toArray().size(), 1);
    EXPECT_TRUE(r.json()["signatures"].toArray()[0].toObject()["check"].toString().startsWith("signature not checked"));
}
