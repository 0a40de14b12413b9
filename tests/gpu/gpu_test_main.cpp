// main() of the GPU tests: exit 77 (GDN_SKIP_RETURN_CODE, CTest "skipped") when no usable
// GPU is present, except when Catch is only asked to list or describe the tests.
#include <cstdio>
#include <string>

// v2 first, as tests/catch.hpp decides.
#if __has_include(<catch2/catch.hpp>)
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#else
#include <catch2/catch_session.hpp>
#endif

#include "cuda/api.hpp"

namespace {
constexpr int kSkipReturnCode = 77;
}

int main(int argc, char** argv) {
  bool listing = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--list", 0) == 0 || a == "-l" || a == "-h" || a == "--help" || a == "-?") listing = true;
  }
  if (!listing) {
    try {
      const gdn::gpu::DeviceInfo d = gdn::gpu::require_device();
      std::printf("GPU: %s (sm_%d%d, %d SMs)\n", d.name.c_str(), d.major, d.minor, d.sms);
    } catch (const std::exception& e) {
      std::printf("skipped: %s\n", e.what());
      return kSkipReturnCode;
    }
  }
  return Catch::Session().run(argc, argv);
}
