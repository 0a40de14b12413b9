// The cases on which the branch-free float reciprocal, division and square root of
// cuda/numeric.hpp are held to IEEE, on the host (emulation_test, CI) and on the device
// (device_numerics_test): every significand of the binades at both ends of each domain and in
// its middle, with five dividends, and random quotients across the domain. The seeds and every
// Newton step scale exactly with a power of two (4 for the square root: hence two binades of
// each exponent parity), so one binade stands for every binade of the domain; at the ends an
// intermediate leaves the normal range first.
#pragma once
#include <cmath>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>

#include "reference/rounding.hpp"

namespace gdn::test {

// f(a, b) for every case: b the operand of the reciprocal and the square root and the
// divisor, a the dividend.
template <class F>
void for_each_branch_free_case(uint64_t seed, F f) {
  auto at = [](uint32_t significand, int exponent) { return std::ldexp(bits_float(0x3f800000u | significand), exponent); };
  const float dividends[] = {1.0f, 0.0883883476f, -0.3f, 0x1p-24f, 0.0f};
  for (int e : {-126, -100, 0, 1, 125, 126})
    for (uint32_t m = 0; m < (1u << 23); ++m)
      for (uint32_t k = 0; k < 5; ++k)
        if (e == 0 || k == m % 5) f(dividends[k], at(m, e));  // every dividend in the middle binade
  std::mt19937 rng(static_cast<std::mt19937::result_type>(seed));
  std::uniform_int_distribution<uint32_t> significand(0, 0x7fffffu);
  std::uniform_int_distribution<int> exponent_a(-100, 125), exponent_b(-126, 125);
  for (int i = 0; i < (1 << 24); ++i) {
    const float a = (i & 1 ? -1.0f : 1.0f) * at(significand(rng), exponent_a(rng));
    f(a, at(significand(rng), exponent_b(rng)));
  }
}

// The results of one case against IEEE's, inside each function's domain (numeric.hpp):
// reciprocal and divisor b < 2^126; a quotient of 0 or of magnitude in [2^-125, 2^126];
// square root of b >= 2^-100.
struct IeeeComparison {
  int64_t checked = 0, differences = 0;
  std::string first;  // the first few differences

  void operator()(float a, float b, float reciprocal, float quotient, float root) {
    if (b < 0x1p126f) expect(reciprocal, 1.0f / b, "reciprocal", 1.0f, b);
    const float q = a / b;
    if (b < 0x1p126f && (q == 0.0f || (std::fabs(q) >= 0x1p-125f && std::fabs(q) <= 0x1p126f)))
      expect(quotient, q, "div", a, b);
    if (b >= 0x1p-100f) expect(root, std::sqrt(b), "sqrt", b, 0.0f);
  }

 private:
  void expect(float got, float ieee, const char* what, float x, float y) {
    ++checked;
    if (float_bits(got) == float_bits(ieee)) return;
    if (++differences <= 5) {
      std::ostringstream s;
      s << what << "(" << x << ", " << y << ") = " << got << ", IEEE " << ieee << "; ";
      first += s.str();
    }
  }
};

}  // namespace gdn::test
