// One QApplication for every test of the executable (gtest_main provides main()).
#include <gtest/gtest.h>

#include <QApplication>
#include <QStandardPaths>
#include <QTemporaryDir>

#include <memory>

namespace {

class QtApplicationEnvironment : public ::testing::Environment
{
public:
    void SetUp() override
    {
        qputenv("QT_QPA_PLATFORM", qgetenv("QT_QPA_PLATFORM").isEmpty() ? "offscreen" : qgetenv("QT_QPA_PLATFORM"));
        // Keep QSettings (recent projects, geometry) away from the user's own.
        QStandardPaths::setTestModeEnabled(true);
        // Each test process its own virtual boards: a board is locked by its user, and the
        // tests of several executables run at once (test mode would share ~/.qttest/share).
        qputenv("TINYML_VIRTUAL_BOARDS_DIR", m_boards.path().toUtf8());
        QApplication::setOrganizationName(QStringLiteral("TinyML Workbench Tests"));
        QApplication::setApplicationName(QStringLiteral("tinyml-workbench-tests"));
        m_app = std::make_unique<QApplication>(m_argc, m_argv);
    }
    void TearDown() override { m_app.reset(); }

private:
    int m_argc = 1;
    char m_name[16] = "tinyml-ui-test";
    char *m_argv[2] = {m_name, nullptr};
    std::unique_ptr<QApplication> m_app;
    QTemporaryDir m_boards;
};

const auto *const kEnvironment = ::testing::AddGlobalTestEnvironment(new QtApplicationEnvironment);

} // namespace
