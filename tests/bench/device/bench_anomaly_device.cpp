// Anomaly scoring cost on the virtual Cortex-M4 (qemu-m4), issue 16: per-window cost of each
// anomaly model kind (K-means, Gaussian mixture, dense autoencoder) against a classifier
// baseline measured in the same run, with the package's flash and the arena's RAM.
//
// Everything goes through the real `tinyml` CLI as a user would: one table-CSV project with D
// features per window (default 39, the motion template's spectral block: 3 axes x (3 stats +
// 4 bands + 2 x 3 peaks)), normal rows ~ N(0, 1) and anomalous rows shifted in a quarter of the
// features; then for each model `train`, `quantize` and `profile --board qemu-m4 --json`. The
// baseline is the trainer's default classifier (MLP) on the same features, as the motion
// pipeline deploys it. The profile streams the test rows through the device as well, so every
// row of the table is also checked bit for bit against the host's int8 reference.
//
// Columns: instructions of the score op alone (LAYER_PROFILE, smallest of the profile's runs)
// and of a whole inference (INVOKE, median of --runs), ms at the board's clock, package bytes
// (flash for the model, the agent's runtime not included) and arena bytes (RAM).
// On QEMU (-icount shift=0) the counter is INSTRUCTIONS, not cycles: ms = instructions / clock,
// i.e. one instruction per cycle.
//
//   bench_anomaly_device [features=39] [clusters=4] [runs=20]

#include <QCoreApplication>
#include <QDateTime>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace {

struct Cli {
    int exitCode = -1;
    QByteArray out, err;
};

Cli tinyml(const QStringList &args)
{
    QProcess p;
    p.start(QStringLiteral(TINYML_CLI), args);
    Cli r;
    if (!p.waitForFinished(30 * 60 * 1000)) {
        p.kill();
        p.waitForFinished();
        r.err = "timed out";
        return r;
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

/// "f0..f{D-1},label,split": 300 normal train rows, 60 normal + 60 anomalous test rows. An
/// anomaly shifts every fourth feature by 2.5 standard deviations (a fixed seed: the same
/// table every run).
QByteArray tableCsv(int features)
{
    QRandomGenerator rng(16);
    const auto gauss = [&rng] {
        // Box-Muller on two uniforms in (0, 1]
        const double u1 = 1.0 - rng.generateDouble(), u2 = rng.generateDouble();
        return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
    };
    QByteArray csv;
    for (int k = 0; k < features; ++k)
        csv += "f" + QByteArray::number(k) + ",";
    csv += "label,split\n";
    const auto rows = [&](int n, bool anomalous, const char *split) {
        for (int i = 0; i < n; ++i) {
            for (int k = 0; k < features; ++k)
                csv += QByteArray::number(gauss() + (anomalous && k % 4 == 0 ? 2.5 : 0.0), 'f', 4) + ",";
            csv += anomalous ? "anomaly," : "normal,";
            csv += split;
            csv += "\n";
        }
    };
    rows(300, false, "train");
    rows(20, true, "train");   // a label the classifier baseline can learn; anomaly models ignore it
    rows(60, false, "test");
    rows(60, true, "test");
    return csv;
}

struct Row {
    QString name;
    QString scoreOp;           ///< empty: the classifier baseline
    QString error;
    QJsonObject profile;
    QJsonObject quantize;
};

double median(QVector<double> v)
{
    if (v.isEmpty())
        return 0;
    std::sort(v.begin(), v.end());
    const int n = int(v.size());
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const int features = argc > 1 ? std::atoi(argv[1]) : 39;
    const int clusters = argc > 2 ? std::atoi(argv[2]) : 4;
    const int runs = argc > 3 ? std::atoi(argv[3]) : 20;
    if (features < 4 || features > 1024 || clusters < 1 || clusters > 64 || runs < 1 || runs > 1000) {
        std::fprintf(stderr, "usage: bench_anomaly_device [features 4..1024] [clusters 1..64] [runs 1..1000]\n");
        return 2;
    }
    QTemporaryDir tmp;
    qputenv("XDG_DATA_HOME", tmp.filePath(QStringLiteral("xdg")).toUtf8());   // this run's own flash file
    const QString proj = tmp.filePath(QStringLiteral("bench.tinyml"));
    const QString csvPath = tmp.filePath(QStringLiteral("table.csv"));
    {
        QFile f(csvPath);
        if (!f.open(QIODevice::WriteOnly) || f.write(tableCsv(features)) < 0) {
            std::fprintf(stderr, "cannot write %s\n", qPrintable(csvPath));
            return 1;
        }
    }
    Cli c = tinyml({QStringLiteral("new"), proj, QStringLiteral("--template"), QStringLiteral("tabular")});
    if (c.exitCode == 0)
        c = tinyml({QStringLiteral("import"), proj, csvPath, QStringLiteral("--format"), QStringLiteral("csv-table")});
    if (c.exitCode != 0) {
        std::fprintf(stderr, "project setup failed: %s\n", c.err.constData());
        return 1;
    }

    const QString k = QString::number(clusters);
    struct Spec {
        QString name, scoreOp;
        QStringList train;
    };
    const QVector<Spec> specs{
        {QStringLiteral("baseline: MLP classifier"), {}, {QStringLiteral("--epochs"), QStringLiteral("30")}},
        {QStringLiteral("kmeans (K=%1)").arg(k), QStringLiteral("kmeans_score"),
         {QStringLiteral("--model"), QStringLiteral("kmeans"), QStringLiteral("--clusters"), k}},
        {QStringLiteral("gmm (K=%1)").arg(k), QStringLiteral("gmm_score"),
         {QStringLiteral("--model"), QStringLiteral("gmm"), QStringLiteral("--clusters"), k}},
        {QStringLiteral("autoencoder (dense)"), QStringLiteral("squared_error"),
         {QStringLiteral("--model"), QStringLiteral("autoencoder"), QStringLiteral("--epochs"), QStringLiteral("40")}},
    };
    QVector<Row> rows;
    for (const Spec &s : specs) {
        Row r;
        r.name = s.name;
        r.scoreOp = s.scoreOp;
        QStringList train{QStringLiteral("train"), proj, QStringLiteral("--seed"), QStringLiteral("3"), QStringLiteral("--json")};
        train += s.train;
        if (!s.scoreOp.isEmpty())
            train << QStringLiteral("--normal") << QStringLiteral("normal");
        std::fprintf(stderr, "%s: train, quantize, profile on qemu-m4 ...\n", qPrintable(s.name));
        c = tinyml(train);
        if (c.exitCode == 0) {
            c = tinyml({QStringLiteral("quantize"), proj, QStringLiteral("--json")});
            r.quantize = QJsonDocument::fromJson(c.out).object();
        }
        if (c.exitCode == 0) {
            c = tinyml({QStringLiteral("profile"), proj, QStringLiteral("--board"), QStringLiteral("qemu-m4"),
                        QStringLiteral("--runs"), QString::number(runs), QStringLiteral("--json")});
            r.profile = QJsonDocument::fromJson(c.out).object();
        }
        if (c.exitCode != 0)
            r.error = QString::fromUtf8(c.err).trimmed().section(QLatin1Char('\n'), -1);
        rows.append(r);
    }

    QString counter, board;
    double clockHz = 0;
    for (const Row &r : rows)
        if (!r.profile.isEmpty()) {
            counter = r.profile.value(QStringLiteral("counter")).toString();
            board = r.profile.value(QStringLiteral("board")).toString();
            clockHz = r.profile.value(QStringLiteral("clock_hz")).toDouble();
            break;
        }
    std::printf("Anomaly scoring cost per window on %s (%s, `%s`), %d features per window, %d measured runs\n",
                qPrintable(board), qPrintable(QDateTime::currentDateTime().toString(QStringLiteral("yyyy-MM-dd HH:mm"))),
                qPrintable(QCoreApplication::arguments().join(QLatin1Char(' '))), features, runs);
    std::printf("Counter: %s under QEMU -icount shift=0 (QEMU instruction counts, not cycles); "
                "ms = instructions / %.0f MHz board clock\n\n",
                qPrintable(counter), clockHz / 1e6);
    std::printf("%-26s %-14s %12s %12s %10s %9s %9s %9s %9s %9s\n", "model", "score op", "score instr", "infer instr",
                "infer ms", "x base", "flash B", "arena B", "int8 AUC", "bitexact");
    double baseInstr = 0;
    for (const Row &r : rows) {
        if (!r.error.isEmpty()) {
            std::printf("%-26s failed: %s\n", qPrintable(r.name), qPrintable(r.error));
            continue;
        }
        const QJsonObject &p = r.profile;
        QVector<double> runCounters;
        for (const QJsonValue &v : p.value(QStringLiteral("run_counters")).toArray())
            runCounters.append(v.toDouble());
        const double infer = median(runCounters);
        double score = 0;
        for (const QJsonValue &v : p.value(QStringLiteral("layers")).toArray()) {
            const QJsonObject l = v.toObject();
            if (!r.scoreOp.isEmpty() && l.value(QStringLiteral("op")).toString() == r.scoreOp)
                score += l.value(QStringLiteral("counter")).toDouble();
        }
        if (r.scoreOp.isEmpty())
            baseInstr = infer;
        const QJsonValue auc = r.quantize.value(QStringLiteral("int8_auc"));
        std::printf("%-26s %-14s %12s %12.0f %10.4f %9s %9lld %9lld %9s %5d/%-3d\n", qPrintable(r.name),
                    r.scoreOp.isEmpty() ? "-" : qPrintable(r.scoreOp),
                    r.scoreOp.isEmpty() ? "-" : qPrintable(QString::number(score, 'f', 0)), infer,
                    p.value(QStringLiteral("latency_ms")).toObject().value(QStringLiteral("median")).toDouble(),
                    baseInstr > 0 ? qPrintable(QString::number(infer / baseInstr, 'f', 2)) : "-",
                    qlonglong(p.value(QStringLiteral("package_bytes")).toDouble()),
                    qlonglong(p.value(QStringLiteral("arena_bytes")).toDouble()),
                    auc.isDouble() ? qPrintable(QString::number(auc.toDouble(), 'f', 3)) : "-",
                    p.value(QStringLiteral("bitexact_outputs")).toInt(), p.value(QStringLiteral("outputs_compared")).toInt());
    }
    std::printf("\nscore instr: the score op alone (LAYER_PROFILE, which adds its own timer reads around each layer: "
                "it can exceed a whole INVOKE of a one-op model); infer instr: the whole INVOKE, median. "
                "Both at the counter's resolution. "
                "flash B: the model package (the agent's runtime is shared by every model and not counted); "
                "arena B: the planned activation arena. bitexact: test rows whose device output equals the "
                "host int8 reference.\n");
    bool failed = false;
    for (const Row &r : rows)
        failed = failed || !r.error.isEmpty();
    return failed ? 1 : 0;
}
