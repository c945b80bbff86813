#pragma once
// The fixture of the signed-package CLI tests (issue 17): a project holding the int8 test
// chain, a key folder and a virtual-boards folder of the test's own, and the `tinyml` CLI run
// with both (TINYML_KEY_DIR, TINYML_VIRTUAL_BOARDS_DIR), so every board starts unprovisioned.
// Parameterised by the virtual board: "host" (the agent as a POSIX program) or "qemu-m4".

#include "CliRunner.h"
#include "../deploy/DeployTestGraphs.h"

#include "store/ProjectStore.h"

#include <QProcess>
#include <QProcessEnvironment>
#include <QStandardPaths>
#include <QTemporaryDir>

#include <gtest/gtest.h>

namespace tinyml::e2e {

class SignedCliFixture : public ::testing::TestWithParam<const char *> {
protected:
    /// What a test does on a machine without qemu-system-arm for the qemu-m4 board.
    enum class WithoutQemu { Skip, Fail };

    SignedCliFixture(const char *projectFile, WithoutQemu withoutQemu)
        : m_projectFile(QString::fromLatin1(projectFile)), m_withoutQemu(withoutQemu)
    {
    }

    void SetUp() override
    {
        if (board() == QLatin1String("qemu-m4") &&
            QStandardPaths::findExecutable(QStringLiteral("qemu-system-arm")).isEmpty()) {
            if (m_withoutQemu == WithoutQemu::Skip)
                GTEST_SKIP() << "qemu-system-arm is not installed";
            FAIL() << "qemu-system-arm is required for the qemu-m4 board";
        }
        ASSERT_TRUE(tmp.isValid());
        keyDir = tmp.filePath(QStringLiteral("keys"));
        boards = tmp.filePath(QStringLiteral("boards"));
        project = tmp.filePath(m_projectFile);
        QString error;
        auto store = ProjectStore::create(project, ProjectSettings{}, &error);
        ASSERT_TRUE(store) << error.toStdString();
        StoredModel q;
        q.kind = ModelKind::Int8;
        q.name = QStringLiteral("int8 chain");
        q.graph = deploy::testing::chain().serialize();
        ASSERT_TRUE(store->addModel(q, &error)) << error.toStdString();
    }

    /// The CLI with this test's key folder and virtual boards.
    CliRun run(const QStringList &args) const
    {
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("TINYML_KEY_DIR"), keyDir);
        env.insert(QStringLiteral("TINYML_VIRTUAL_BOARDS_DIR"), boards);
        p.setProcessEnvironment(env);
        p.start(QStringLiteral(TINYML_CLI), args);
        p.waitForFinished(600000);
        CliRun r;
        r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
        r.out = QString::fromUtf8(p.readAllStandardOutput());
        r.err = QString::fromUtf8(p.readAllStandardError());
        return r;
    }
    QString board() const { return QString::fromLatin1(GetParam()); }
    QString file(const char *name) const { return tmp.filePath(QString::fromLatin1(name)); }

    QTemporaryDir tmp;
    QString keyDir, boards, project;

private:
    QString m_projectFile;
    WithoutQemu m_withoutQemu;
};

/// The test names of the two boards: host, qemu_m4.
inline std::string signedCliBoardName(const ::testing::TestParamInfo<const char *> &info)
{
    return std::string(info.param) == "host" ? "host" : "qemu_m4";
}

} // namespace tinyml::e2e
