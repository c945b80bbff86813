// Issue 18, item 8: `tinyml quantize` refuses a model whose outputs are not the project's
// labels (a model trained on 4 labels after a 5th was imported) and names both numbers,
// instead of printing an accuracy that means nothing.
#include <gtest/gtest.h>

#include "CliRunner.h"

#include <QTemporaryDir>

#include <random>

using namespace tinyml::e2e;

namespace {

/// Rows "f0..f3,label": each label's mean sits apart from the others.
QByteArray tableCsv(const QStringList &labels, int perLabel, std::uint64_t seed)
{
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> g(0, 0.3);
    QByteArray csv = "f0,f1,f2,f3,label\n";
    for (int l = 0; l < labels.size(); ++l)
        for (int i = 0; i < perLabel; ++i) {
            for (int f = 0; f < 4; ++f)
                csv += QByteArray::number(g(rng) + (f == l % 4 ? 2.0 * (1 + l / 4) : 0.0), 'g', 7) + ",";
            csv += labels[l].toUtf8() + "\n";
        }
    return csv;
}

} // namespace

TEST(QuantizeCli, RefusesAModelWhoseOutputsAreNotTheProjectsLabels)
{
    QTemporaryDir tmp;
    const QString proj = tmp.filePath("p.tinyml");
    ASSERT_EQ(tinymlRun({"new", proj, "--template", "tabular"}).exitCode, 0);
    writeFile(tmp.filePath("four.csv"), tableCsv({"a", "b", "c", "d"}, 20, 1));
    CliRun r = tinymlRun({"import", proj, tmp.filePath("four.csv"), "--format", "csv-table"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    r = tinymlRun({"train", proj, "--model", "mlp", "--epochs", "3", "--seed", "1"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();

    // A fifth label arrives after training: the stored model still has four outputs.
    writeFile(tmp.filePath("e.csv"), [] {
        QByteArray all = tableCsv({"a", "b", "c", "d", "e"}, 20, 2), out = "f0,f1,f2,f3,label\n";
        for (const QByteArray &line : all.split('\n'))
            if (line.endsWith(",e"))
                out += line + "\n";
        return out;
    }());
    r = tinymlRun({"import", proj, tmp.filePath("e.csv"), "--format", "csv-table"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();

    r = tinymlRun({"quantize", proj, "--json"});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains(QStringLiteral("has 4 outputs but the project has 5 labels (a, b, c, d, e)")))
        << r.err.toStdString();
    EXPECT_TRUE(r.out.isEmpty()) << r.out.toStdString();

    // Trained again on all five labels, it quantizes.
    r = tinymlRun({"train", proj, "--model", "mlp", "--epochs", "3", "--seed", "1"});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    r = tinymlRun({"quantize", proj, "--json"});
    EXPECT_EQ(r.exitCode, 0) << r.err.toStdString();
}
