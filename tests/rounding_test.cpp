// Storage roundings against IEEE 754 rules. Expected bit patterns below are derived by hand
// from round-to-nearest-even (comments give the reasoning), and a value-based rounding in
// long double is compared with the bit-twiddling one over a sweep of float bit patterns.
#include <cfloat>
#include <cmath>

#include "reference/rounding.hpp"
#include "test_util.hpp"

using namespace gdn;

namespace {

// Nearest bf16 by value: the two bf16 neighbours of x are its truncation and the next one
// up in magnitude; pick the nearer, ties to the one with an even last bit.
uint16_t bf16_by_value(float x) {
  const uint32_t u = float_bits(x);
  const uint16_t lo = static_cast<uint16_t>(u >> 16);
  const uint16_t hi = static_cast<uint16_t>(lo + 1);
  const long double dl = std::fabs(static_cast<long double>(x) - bf16_bits_to_float(lo));
  // Past the largest finite bf16 the upper neighbour is infinity, which IEEE 754 rounding
  // treats as the finite value 2^128 when measuring distance.
  const long double hv = std::isinf(bf16_bits_to_float(hi)) ? std::copysign(std::ldexp(1.0L, 128), x)
                                                             : static_cast<long double>(bf16_bits_to_float(hi));
  const long double dh = std::fabs(hv - x);
  if ((u & 0xffffu) == 0) return lo;
  if (dl < dh) return lo;
  if (dh < dl) return hi;
  return (lo & 1u) ? hi : lo;
}

}  // namespace

TEST_CASE("bf16 round-to-nearest-even on hand-derived edge cases", "[rounding]") {
  struct Case {
    uint32_t in;
    uint16_t out;
    const char* why;
  };
  const Case cases[] = {
      {0x3f800000u, 0x3f80, "1.0 is exact"},
      {0x3f808000u, 0x3f80, "1 + 2^-8: a tie, 0x3f80 is even, stays"},
      {0x3f818000u, 0x3f82, "tie above odd 0x3f81 goes up to even"},
      {0x3f808001u, 0x3f81, "just above a tie rounds up"},
      {0x3f807fffu, 0x3f80, "just below a tie rounds down"},
      {0xbf818000u, 0xbf82, "ties are symmetric in sign"},
      {0x00000000u, 0x0000, "+0"},
      {0x80000000u, 0x8000, "-0 keeps its sign"},
      {0x00000001u, 0x0000, "smallest subnormal rounds to +0"},
      {0x00008000u, 0x0000, "subnormal tie to even 0"},
      {0x00018000u, 0x0002, "subnormal tie above odd goes up"},
      {0x00008001u, 0x0001, "subnormal above tie rounds up"},
      {0x807fffffu, 0x8080, "largest negative subnormal rounds up into the normals"},
      {0x7f7f7fffu, 0x7f7f, "below the largest bf16's half ulp stays finite"},
      {0x7f7fffffu, 0x7f80, "FLT_MAX rounds to +inf"},
      {0x7f800000u, 0x7f80, "+inf"},
      {0xff800000u, 0xff80, "-inf"},
      {0x7fc00000u, 0x7fff, "quiet NaN becomes canonical 0x7fff"},
      {0x7f800001u, 0x7fff, "signalling NaN becomes canonical 0x7fff (not inf)"},
      {0xffc00001u, 0x7fff, "negative NaN becomes canonical 0x7fff"},
  };
  for (const Case& c : cases) {
    INFO(c.why << ": input 0x" << std::hex << c.in);
    CHECK(bf16_bits_rne(bits_float(c.in)) == c.out);
  }
}

TEST_CASE("bf16 bit rounding equals value-based rounding over a sweep of float patterns", "[rounding]") {
  // Every 997th pattern plus the 64 around each multiple of 2^16 (ties and neighbours).
  int64_t checked = 0, mismatches = 0;
  for (uint64_t u = 0; u <= 0xffffffffull; u += 997) {
    const uint64_t tie = (u & ~uint64_t{0xffff}) | 0x8000;
    for (uint64_t probe : {u, tie, tie - 1, tie + 1}) {
      const float x = bits_float(static_cast<uint32_t>(probe));
      if (std::isnan(x) || std::isinf(x)) continue;
      const uint16_t got = bf16_bits_rne(x), want = bf16_by_value(x);
      if (got != want) {
        if (++mismatches < 5) UNSCOPED_INFO("pattern 0x" << std::hex << probe << " got " << got << " want " << want);
      }
      ++checked;
    }
  }
  std::printf("bf16 sweep: %lld finite patterns checked, %lld mismatches\n", static_cast<long long>(checked),
              static_cast<long long>(mismatches));
  CHECK(mismatches == 0);
}

TEST_CASE("double to bf16 rounds once, without double rounding through float", "[rounding]") {
  // x = 1 + 2^-8 + 2^-40 lies just above the tie between 1 and 1 + 2^-7; going through float
  // would first give 1 + 2^-8 (a tie) and then 1.0 (even): wrong.
  const double x = 1.0 + std::ldexp(1.0, -8) + std::ldexp(1.0, -40);
  CHECK(round_bf16(x) == 1.0 + std::ldexp(1.0, -7));
  CHECK(round_bf16(-x) == -(1.0 + std::ldexp(1.0, -7)));
  const double y = 1.0 + std::ldexp(1.0, -8) - std::ldexp(1.0, -40);  // just below the tie
  CHECK(round_bf16(y) == 1.0);
  CHECK(round_bf16(1.0 + std::ldexp(1.0, -8)) == 1.0);  // an exact tie still goes to even
  CHECK(std::isinf(round_bf16(1e39)));
  CHECK(std::isnan(round_bf16(std::nan(""))));
}

TEST_CASE("fp16 round-to-nearest-even", "[rounding]") {
  CHECK(round_fp16(1.0f + std::ldexp(1.0f, -11)) == 1.0f);                                        // tie to even
  CHECK(round_fp16(1.0f + 3 * std::ldexp(1.0f, -11)) == 1.0f + std::ldexp(1.0f, -9));            // tie to even, up
  CHECK(round_fp16(65504.0f) == 65504.0f);                                                        // largest half
  CHECK(std::isinf(round_fp16(65520.0f)));                                                        // tie above it
  CHECK(round_fp16(1.0 + std::ldexp(1.0, -11) + std::ldexp(1.0, -40)) == 1.0 + std::ldexp(1.0, -10));  // no double rounding
}

TEST_CASE("bf16 stochastic rounding picks a neighbour with probability by distance", "[rounding]") {
  const float lo = 1.0f, hi = 1.0f + std::ldexp(1.0f, -7);
  const float x = lo + 0.25f * (hi - lo);  // a quarter of the way up
  const int n = 200000;
  int up = 0;
  for (int i = 0; i < n; ++i) {
    const float r = round_bf16_stochastic(x, random16(42, static_cast<uint64_t>(i)));
    REQUIRE((r == lo || r == hi));
    up += r == hi;
  }
  const double p = double(up) / n, sigma = std::sqrt(0.25 * 0.75 / n);
  std::printf("stochastic rounding: P(up) = %.4f for a quarter ulp (sigma %.4f)\n", p, sigma);
  CHECK(std::abs(p - 0.25) < 5 * sigma);
  CHECK(round_bf16_stochastic(lo, 0xffff) == lo);  // representable values never move
  CHECK(round_bf16_stochastic(-x, 0xffff) == -hi);  // symmetric in sign, by magnitude
  CHECK(std::isinf(round_bf16_stochastic(INFINITY, 0xffff)));
  CHECK(bf16_bits_rne(round_bf16_stochastic(NAN, 0)) == 0x7fff);
  CHECK(random16(7, 123) == random16(7, 123));
  CHECK(random16(7, 123) != random16(8, 123));
}
