// main() for test binaries that use the extension: registers the Environment
// (hosted service with TEMPMAIL_API_KEY, else the embedded local server).
#include <gmock/gmock.h>

#include "tempmail/gtest/environment.hpp"

int main(int argc, char** argv) {
  ::testing::InitGoogleMock(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new tempmail::gtest::Environment);
  return RUN_ALL_TESTS();
}
