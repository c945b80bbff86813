#include "DeviceTestSupport.h"

// Registered before main() (gtest_main) runs the tests.
static ::testing::Environment *const kQtEnvironment =
    ::testing::AddGlobalTestEnvironment(new tinyml::test::QtApplicationEnvironment);
