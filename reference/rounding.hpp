// Rounding to storage formats, done on the bit patterns so that it is exact and portable.
//
// bf16 round-to-nearest-even equals CUDA's __float2bfloat16_rn bit for bit: NaN of either
// sign becomes the canonical 0x7FFF, infinities stay, subnormals round like normals (bf16
// shares float's exponent range), overflow past the largest bf16 rounds to infinity.
// A double is rounded without double rounding: first to float with round-to-odd, which is
// exact for any later rounding to 11 or fewer significant bits (Boldo & Melquiond 2008),
// then to the target format (CUDA's __double2bfloat16 uses the same construction).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#include <Eigen/Core>

namespace gdn {

inline uint32_t float_bits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}
inline float bits_float(uint32_t u) {
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

inline uint16_t bf16_bits_rne(float x) {
  const uint32_t u = float_bits(x);
  if ((u & 0x7fffffffu) > 0x7f800000u) return 0x7fffu;  // NaN
  const uint32_t lsb = (u >> 16) & 1u;
  return static_cast<uint16_t>((u + 0x7fffu + lsb) >> 16);
}
inline float bf16_bits_to_float(uint16_t b) { return bits_float(static_cast<uint32_t>(b) << 16); }
inline float round_bf16(float x) { return bf16_bits_to_float(bf16_bits_rne(x)); }

// Round a double to float, rounding toward zero and setting the last bit when inexact.
inline float round_to_odd_float(double x) {
  float f = static_cast<float>(x);
  if (std::isnan(x) || static_cast<double>(f) == x) return f;
  uint32_t u = float_bits(f);
  const double d = static_cast<double>(f);
  if ((x > 0.0 && d > x) || (x < 0.0 && d < x)) --u;  // step toward zero
  return bits_float(u | 1u);
}
inline double round_bf16(double x) { return round_bf16(round_to_odd_float(x)); }

// IEEE binary16 round-to-nearest-even (Eigen's conversion).
inline float round_fp16(float x) { return static_cast<float>(Eigen::half(x)); }
inline double round_fp16(double x) { return round_fp16(round_to_odd_float(x)); }

// Counter-based random bits for stochastic rounding: the same (seed, counter) always gives
// the same bits, on any thread and on the GPU. SplitMix64 finaliser (Steele et al. 2014).
inline uint64_t splitmix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
inline uint32_t random16(uint64_t seed, uint64_t counter) {
  return static_cast<uint32_t>(splitmix64(seed ^ splitmix64(counter)) >> 48);
}

// bf16 stochastic rounding: rounds up in magnitude with probability equal to the dropped
// fraction of an ulp, so the rounding is unbiased. NaN and infinities behave as in RNE.
inline float round_bf16_stochastic(float x, uint32_t r16) {
  const uint32_t u = float_bits(x);
  if ((u & 0x7fffffffu) > 0x7f800000u) return bf16_bits_to_float(0x7fffu);
  if ((u & 0x7fffffffu) == 0x7f800000u) return x;
  return bf16_bits_to_float(static_cast<uint16_t>((u + (r16 & 0xffffu)) >> 16));
}
inline double round_bf16_stochastic(double x, uint32_t r16) {
  return round_bf16_stochastic(round_to_odd_float(x), r16);
}

}  // namespace gdn
