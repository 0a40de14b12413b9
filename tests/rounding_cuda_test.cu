// reference/rounding.hpp's bf16 round-to-nearest-even against CUDA's own conversion: the
// host implementation of __float2bfloat16_rn in cuda_bf16.h, on edge cases and a strided
// sweep of every float bit pattern class. (The device instruction is compared on every
// pattern in tests/gpu/device_numerics_test.cu.)
#include <cuda_bf16.h>

#include <cstdio>

#include "catch.hpp"
#include "reference/rounding.hpp"

namespace {

uint16_t cuda_host_bf16(float x) { return __bfloat16_as_ushort(__float2bfloat16_rn(x)); }

}  // namespace

TEST_CASE("bf16_bits_rne equals cuda_bf16.h __float2bfloat16_rn on edge cases", "[rounding][cuda]") {
  const uint32_t cases[] = {
      0x00000000u, 0x80000000u,                            // signed zeros
      0x00000001u, 0x00008000u, 0x00008001u, 0x00018000u,  // subnormals: tiny, tie to even 0, above tie, tie to odd
      0x007fffffu, 0x00800000u,                            // largest subnormal, smallest normal
      0x3f800000u, 0x3f808000u, 0x3f818000u, 0x3f808001u, 0x3f807fffu, 0xbf818000u,  // ties and neighbours
      0x7f7f7fffu, 0x7f7f8000u, 0x7f7fffffu, 0xff7fffffu,  // overflow to infinity past the largest bf16
      0x7f800000u, 0xff800000u,                            // infinities
      0x7f800001u, 0x7fc00000u, 0x7fffffffu, 0xff800001u, 0xffc00000u, 0xffffffffu,  // NaNs of both signs, quiet and signalling
  };
  for (uint32_t u : cases) {
    const float x = gdn::bits_float(u);
    INFO("float bits 0x" << std::hex << u << ": reference 0x" << gdn::bf16_bits_rne(x) << ", cuda_bf16.h 0x"
                         << cuda_host_bf16(x));
    CHECK(gdn::bf16_bits_rne(x) == cuda_host_bf16(x));
  }
}

TEST_CASE("bf16_bits_rne equals cuda_bf16.h __float2bfloat16_rn on a strided sweep of all floats", "[rounding][cuda]") {
  // Stride 97 (odd, so every residue of the low 16 bits, hence every rounding case, recurs):
  // 44M patterns covering every exponent of both signs.
  int64_t mismatches = 0, checked = 0;
  for (uint64_t u = 0; u < (uint64_t(1) << 32); u += 97) {
    const float x = gdn::bits_float(static_cast<uint32_t>(u));
    mismatches += gdn::bf16_bits_rne(x) != cuda_host_bf16(x);
    ++checked;
  }
  std::printf("bf16_bits_rne vs cuda_bf16.h host: %lld patterns, %lld mismatches\n", static_cast<long long>(checked),
              static_cast<long long>(mismatches));
  CHECK(mismatches == 0);
}
