// Scalar numerics shared by the kernels and their CPU emulation (cuda/emulate.hpp): storage
// types, bf16 rounding, the counter-based RNG of stochastic rounding, and exp / log1p built
// from +, *, fma and exact scalings only.
//
// Why our own exp and log1p: CUDA's expf and glibc's expf are both accurate to an ulp or two
// but differ in the last bit, so a CPU emulation calling the host libm could never match
// the device bit for bit. These functions use only correctly rounded operations (IEEE
// +, *, fma, rint and power-of-two scaling, and the branch-free division and square root
// below, which equal IEEE's on their domains), which give the same bits on the host
// (x86-64, no contraction: see cuda/CMakeLists.txt) and on the device (--fmad=false, no
// fast math). Accuracy: below 1 ulp of the exact value (exp 0.89 ulp and log1p 0.87 at worst
// over every float of exp's normal range, 0.89 and 0.94 for double over 4M points;
// tests/gpu/emulation_test.cpp asserts <= 1 ulp against long double).
//
// Not reference/ code: the oracle stands alone (STYLE.md). What must agree with it (bf16
// rounding, random16) is tested against reference/rounding.hpp.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#if defined(__CUDACC__)
#include <cuda_bf16.h>
#define GDN_HD __host__ __device__ __forceinline__
#else
#define GDN_HD inline
#endif

namespace gdn::kernels {

// bf16 as stored in memory: the upper half of a float. Arithmetic never happens in it.
struct bf16 {
  uint16_t bits;
};

template <class T>
struct ComputeOf {
  using type = float;
};
template <>
struct ComputeOf<double> {
  using type = double;
};
// float for bf16 and float storage, double for double.
template <class T>
using compute_t = typename ComputeOf<T>::type;

GDN_HD uint32_t float_as_bits(float x) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(x);
#else
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
#endif
}
GDN_HD float bits_as_float(uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
#endif
}
GDN_HD uint64_t double_as_bits(double x) {
#if defined(__CUDA_ARCH__)
  return static_cast<uint64_t>(__double_as_longlong(x));
#else
  uint64_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
#endif
}
GDN_HD double bits_as_double(uint64_t u) {
#if defined(__CUDA_ARCH__)
  return __longlong_as_double(static_cast<long long>(u));
#else
  double x;
  std::memcpy(&x, &u, sizeof x);
  return x;
#endif
}

// Round to nearest even. NaN of either sign becomes the canonical 0x7FFF, infinities stay,
// overflow rounds to infinity (the semantics of __float2bfloat16_rn, tested bit for bit).
GDN_HD uint16_t bf16_bits_rne(float x) {
#if defined(__CUDA_ARCH__)
  return __bfloat16_as_ushort(__float2bfloat16_rn(x));
#else
  const uint32_t u = float_as_bits(x);
  if ((u & 0x7fffffffu) > 0x7f800000u) return 0x7fffu;
  return static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
#endif
}

// Stochastic rounding with 16 random bits: rounds up in magnitude with probability equal to
// the dropped fraction of an ulp (unbiased). NaN and infinities as in RNE.
GDN_HD uint16_t bf16_bits_stochastic(float x, uint32_t r16) {
  const uint32_t u = float_as_bits(x);
  if ((u & 0x7fffffffu) > 0x7f800000u) return 0x7fffu;
  if ((u & 0x7fffffffu) == 0x7f800000u) return static_cast<uint16_t>(u >> 16);
  return static_cast<uint16_t>((u + (r16 & 0xffffu)) >> 16);
}

GDN_HD float bf16_to_float(uint16_t b) { return bits_as_float(static_cast<uint32_t>(b) << 16); }

// Two RNE roundings packed as memory stores them (lo in the low half): one instruction on
// the device (cvt.rn.bf16x2.f32), the same bits as two bf16_bits_rne.
GDN_HD uint32_t bf16x2_bits_rne(float lo, float hi) {
#if defined(__CUDA_ARCH__)
  const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<const uint32_t*>(&v);
#else
  return static_cast<uint32_t>(bf16_bits_rne(lo)) | (static_cast<uint32_t>(bf16_bits_rne(hi)) << 16);
#endif
}
GDN_HD float bf16x2_lo(uint32_t w) { return bits_as_float(w << 16); }
GDN_HD float bf16x2_hi(uint32_t w) { return bits_as_float(w & 0xffff0000u); }
GDN_HD float round_bf16(float x) { return bf16_to_float(bf16_bits_rne(x)); }

// SplitMix64 finaliser (Steele et al. 2014) as a counter-based generator: the same
// (seed, counter) gives the same 16 bits on any thread, device or host.
GDN_HD uint64_t splitmix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
GDN_HD uint32_t random16(uint64_t seed, uint64_t counter) {
  return static_cast<uint32_t>(splitmix64(seed ^ splitmix64(counter)) >> 48);
}

// Storage <-> compute conversions. Loads are exact; stores round to nearest even.
GDN_HD float load_as_compute(bf16 x) { return bf16_to_float(x.bits); }
GDN_HD float load_as_compute(float x) { return x; }
GDN_HD double load_as_compute(double x) { return x; }

template <class T, class C>
GDN_HD T store_from_compute(C x) {
  if constexpr (std::is_same_v<T, bf16>) {
    return bf16{bf16_bits_rne(static_cast<float>(x))};
  } else {
    return static_cast<T>(x);
  }
}

// ---- correctly-rounded building blocks, identical on host and device ----

GDN_HD float fma_c(float a, float b, float c) {
#if defined(__CUDA_ARCH__)
  return __fmaf_rn(a, b, c);
#else
  return std::fma(a, b, c);
#endif
}
GDN_HD double fma_c(double a, double b, double c) {
#if defined(__CUDA_ARCH__)
  return __fma_rn(a, b, c);
#else
  return std::fma(a, b, c);
#endif
}
// cond ? a : b with both already computed, as one select instruction on the device. The
// compiler turns a conditional expression whose arm needs a computation that the other does
// not into a branch around that computation (the slow or the special case skipped), and a
// branch splits the gates and norms into basic blocks; an asm select keeps them straight-line.
GDN_HD float select_c(bool cond, float a, float b) {
#if defined(__CUDA_ARCH__)
  float r;
  asm("{\n\t.reg .pred p;\n\tsetp.ne.u32 p, %3, 0;\n\tselp.f32 %0, %1, %2, p;\n\t}"
      : "=f"(r)
      : "f"(a), "f"(b), "r"(static_cast<unsigned>(cond)));
  return r;
#else
  return cond ? a : b;
#endif
}
GDN_HD double select_c(bool cond, double a, double b) {
#if defined(__CUDA_ARCH__)
  double r;
  asm("{\n\t.reg .pred p;\n\tsetp.ne.u32 p, %3, 0;\n\tselp.f64 %0, %1, %2, p;\n\t}"
      : "=d"(r)
      : "d"(a), "d"(b), "r"(static_cast<unsigned>(cond)));
  return r;
#else
  return cond ? a : b;
#endif
}

// Division and square root. The float ones are branch-free: on the device, IEEE division and
// square root (__fdiv_rn, __fsqrt_rn) are a fast path plus a branch to a slow path for
// operands near the ends of the exponent range, and those branches cut the gates and norms
// into basic blocks that ptxas scheduled one after another, none of them beside the first
// pass over the state (experiments/bv_tile, v15). These give the IEEE result without a
// branch, from an integer seed and fmas alone, on the domains stated; the kernels' operands
// stay inside them (step.hpp). The seeds and every step scale exactly with the exponent, so
// one binade of significands stands for all: tests/gpu/emulation_test.cpp (host, CI) and
// tests/gpu/device_numerics_test.cu (device) hold them to IEEE on every significand of the
// binades at the ends of each domain and in its middle, and on random quotients. (The
// device's own approximations, rcp.approx and rsqrt.approx, as seeds give the same results
// and were 0-10% slower at B = 1: v15.)

// 1/b within about an ulp for b in [2^-126, 2^126): the seed 0x7ef311c3 - bits(b) (relative
// error <= 0.051) and two cubic Newton steps y += y (e + e^2), e = 1 - b y.
GDN_HD float approximate_reciprocal(float b) {
  float y = bits_as_float(0x7ef311c3u - float_as_bits(b));
  float e = fma_c(-b, y, 1.0f);
  y = fma_c(y, fma_c(e, e, e), y);
  e = fma_c(-b, y, 1.0f);
  return fma_c(y, fma_c(e, e, e), y);
}

// 1/b rounded to nearest for b in [2^-126, 2^126): one Newton step from the approximation,
// which rounds correctly except where the significand of b is all ones (Markstein); there
// 1/b = 2^-k-1 (1 + 2^-24 + 2^-48 ...), b = (2 - 2^-23) 2^k, rounds to 2^-k-1 (1 + 2^-23),
// whose bits follow from b's exponent alone.
GDN_HD float reciprocal_rn(float b) {
  const uint32_t u = float_as_bits(b);
  float y = approximate_reciprocal(b);
  y = fma_c(y, fma_c(-b, y, 1.0f), y);
  return select_c((u & 0x007fffffu) == 0x007fffffu, bits_as_float(0x7e800001u - (u & 0x7f800000u)), y);
}

// a / b rounded to nearest for b in [2^-126, 2^126), a = 0 or |a| >= 2^-100, |a / b| in
// [2^-125, 2^126] (the remainder a - b q is then exact and normal): q = a y corrected once
// by the remainder, y = 1/b rounded to nearest (Markstein's theorem: the correction of a
// quotient within an ulp by a correctly rounded reciprocal rounds correctly). b >= 2^126,
// +inf included, gives 0: for the callers' |a| <= 1 the quotient is subnormal or 0 there.
GDN_HD float div_c(float a, float b) {
  const float y = reciprocal_rn(b);
  const float q = a * y;
  const float r = fma_c(-b, q, a);
  return select_c(b >= 0x1p126f, 0.0f, fma_c(r, y, q));
}
GDN_HD double div_c(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __ddiv_rn(a, b);
#else
  return a / b;
#endif
}

// 1/sqrt(x) within about an ulp for x in [2^-126, 2^128): the seed 0x5f3759df - bits(x) / 2
// and two cubic Newton steps y += y (r/2 + 3 r^2 / 8), r = 1 - x y^2.
GDN_HD float approximate_rsqrt(float x) {
  float y = bits_as_float(0x5f3759dfu - (float_as_bits(x) >> 1));
  float r = fma_c(-(x * y), y, 1.0f);
  y = fma_c(y, fma_c(0.375f, r, 0.5f) * r, y);
  r = fma_c(-(x * y), y, 1.0f);
  return fma_c(y, fma_c(0.375f, r, 0.5f) * r, y);
}

// sqrt(x) rounded to nearest for x in [2^-100, 2^128) (below, x - s^2 is subnormal) and +inf:
// s = x y, y ~ 1/sqrt(x), corrected once by x - s^2.
GDN_HD float sqrt_c(float x) {
  const float y = approximate_rsqrt(x);
  const float s = x * y;
  const float d = fma_c(-s, s, x);
  return select_c(x == INFINITY, x, fma_c(d, 0.5f * y, s));
}
GDN_HD double sqrt_c(double x) {
#if defined(__CUDA_ARCH__)
  return __dsqrt_rn(x);
#else
  return std::sqrt(x);
#endif
}

// Two builds of the same arithmetic for the gates and norms (the family tables of
// cuda/runner.cpp pick one per call: params.hpp, GateArithmetic):
// - BranchFree: the division and square root above, and conditionals as selects, both arms
//   computed. Straight-line gates and norms, which ptxas interleaves with the first pass over
//   the state: faster where a launch is one latency chain (B = 1).
// - Intrinsic: the device's __fdiv_rn / __fsqrt_rn, with their branches to a slow path, and
//   conditionals as branches that compute only the arm taken (v14's gates, with the
//   registers and spills of v14's kernels). Fewer instructions and live registers: faster on
//   some tiles where many blocks share an SM, whose 128-register tiles the branch-free code
//   made spill (experiments/bv_tile, v15 and v16).
// Both give IEEE's results on the domains above (the callers stay inside them; for a divisor
// >= 2^126, where div_c gives 0 and IEEE a subnormal, sigmoid gives 0 in both builds), so the
// CPU emulation, which takes BranchFree, matches either build bit for bit.
// select(cond, a, b) takes computed values; choose(cond, fa, fb) takes callables and, in the
// Intrinsic build, calls only the one it returns.
struct BranchFree {
  static constexpr bool kStraightLine = true;
  template <class T>
  GDN_HD static T div(T a, T b) { return div_c(a, b); }
  template <class T>
  GDN_HD static T sqrt(T x) { return sqrt_c(x); }
  template <class T>
  GDN_HD static T select(bool cond, T a, T b) { return select_c(cond, a, b); }
  template <class A, class B>
  GDN_HD static auto choose(bool cond, const A& a, const B& b) { return select_c(cond, a(), b()); }
};
struct Intrinsic {
  static constexpr bool kStraightLine = false;
  GDN_HD static float div(float a, float b) {
#if defined(__CUDA_ARCH__)
    return __fdiv_rn(a, b);
#else
    return a / b;
#endif
  }
  GDN_HD static double div(double a, double b) { return div_c(a, b); }
  GDN_HD static float sqrt(float x) {
#if defined(__CUDA_ARCH__)
    return __fsqrt_rn(x);
#else
    return std::sqrt(x);
#endif
  }
  GDN_HD static double sqrt(double x) { return sqrt_c(x); }
  template <class T>
  GDN_HD static T select(bool cond, T a, T b) { return cond ? a : b; }
  template <class A, class B>
  GDN_HD static auto choose(bool cond, const A& a, const B& b) { return cond ? a() : b(); }
};

GDN_HD float rint_c(float x) {
#if defined(__CUDA_ARCH__)
  return rintf(x);
#else
  return std::nearbyint(x);
#endif
}
GDN_HD double rint_c(double x) {
#if defined(__CUDA_ARCH__)
  return rint(x);
#else
  return std::nearbyint(x);
#endif
}

// 2^e as a normal number of T, for e inside the normal exponent range.
template <class T>
GDN_HD T pow2(int e) {
  if constexpr (std::is_same_v<T, float>) {
    return bits_as_float(static_cast<uint32_t>(e + 127) << 23);
  } else {
    return bits_as_double(static_cast<uint64_t>(e + 1023) << 52);
  }
}

// The functions below are branch-free (selects, min and max instead of early returns) and
// evaluate their polynomials by Estrin's scheme where Horner's would be a long chain of
// dependent fmas: on the device they sit on the latency path of a decode launch (the gates,
// SPEC.md step 1), where every dependent instruction costs its full latency.

// q(r) = (e^r - 1 - r) / r^2 for |r| <= ln2/2, its Taylor polynomial by Estrin (truncation
// below 0.01 ulp of e^r: r^9/9! for float, r^15/15! for double); r2 = r * r.
GDN_HD float exp_tail(float r, float r2) {
  const float r4 = r2 * r2;
  const float a0 = fma_c(0x1.555556p-3f, r, 0.5f);            // 1/2 + r/3!
  const float a1 = fma_c(0x1.111112p-7f, r, 0x1.555556p-5f);  // 1/4! + r/5!
  const float a2 = fma_c(0x1.a01a02p-13f, r, 0x1.6c16c2p-10f);  // 1/6! + r/7!
  const float b0 = fma_c(a1, r2, a0);
  const float b1 = fma_c(0x1.a01a02p-16f, r2, a2);  // + r^2/8!
  return fma_c(b1, r4, b0);
}
GDN_HD double exp_tail(double r, double r2) {
  const double r4 = r2 * r2, r8 = r4 * r4;
  const double a0 = fma_c(0x1.5555555555555p-3, r, 0.5);                   // 1/2!, 1/3!
  const double a1 = fma_c(0x1.1111111111111p-7, r, 0x1.5555555555555p-5);  // 1/4!, 1/5!
  const double a2 = fma_c(0x1.a01a01a01a01ap-13, r, 0x1.6c16c16c16c17p-10);  // 1/6!, 1/7!
  const double a3 = fma_c(0x1.71de3a556c734p-19, r, 0x1.a01a01a01a01ap-16);  // 1/8!, 1/9!
  const double a4 = fma_c(0x1.ae64567f544e4p-26, r, 0x1.27e4fb7789f5cp-22);  // 1/10!, 1/11!
  const double a5 = fma_c(0x1.6124613a86d09p-33, r, 0x1.1eed8eff8d898p-29);  // 1/12!, 1/13!
  const double b0 = fma_c(a1, r2, a0), b1 = fma_c(a3, r2, a2);
  const double b2 = fma_c(0x1.93974a8c07c9dp-37, r2, a5);  // 1/12!, 1/13!, 1/14!
  const double c0 = fma_c(b1, r4, b0), c1 = fma_c(b2, r2, a4);
  return fma_c(c1, r8, c0);
}

template <class T>
struct ExpLogConstants;
template <>
struct ExpLogConstants<float> {
  static constexpr float kLog2e = 0x1.715476p+0f;
  static constexpr float kLn2Hi = 0x1.62e4p-1f;  // 17 significant bits
  static constexpr float kLn2Lo = 0x1.7f7d1cp-20f;
  static constexpr float kSqrt2 = 0x1.6a09e6p+0f;
  // exp's argument is clamped to these: the scaling by 2^n then overflows to inf above and
  // underflows to 0 below, and n stays a small int.
  static constexpr float kExpMaxArg = 100.0f;
  static constexpr float kExpMinArg = -110.0f;
};
template <>
struct ExpLogConstants<double> {
  static constexpr double kLog2e = 0x1.71547652b82fep+0;
  static constexpr double kLn2Hi = 0x1.62e42feep-1;  // fdlibm's split: 32 significant bits
  static constexpr double kLn2Lo = 0x1.a39ef35793c76p-33;
  static constexpr double kSqrt2 = 0x1.6a09e667f3bcdp+0;
  static constexpr double kExpMaxArg = 710.0;
  static constexpr double kExpMinArg = -746.0;
};

// IEEE minNum / maxNum (a NaN operand gives the other one), the same on host and device.
template <class T>
GDN_HD T fmin_c(T a, T b) {
#if defined(__CUDA_ARCH__)
  if constexpr (std::is_same_v<T, float>) return fminf(a, b);
  else return ::fmin(a, b);
#else
  return std::fmin(a, b);
#endif
}
template <class T>
GDN_HD T fmax_c(T a, T b) {
#if defined(__CUDA_ARCH__)
  if constexpr (std::is_same_v<T, float>) return fmaxf(a, b);
  else return ::fmax(a, b);
#else
  return std::fmax(a, b);
#endif
}

// exp(x): x = n ln2 + r with |r| <= ln2/2 (Cody-Waite, ln2 split so that n * kLn2Hi is
// exact), e^r = 1 + r (1 + r q(r)) as two fmas (the last one's rounding dominates), times 2^n applied as two exact power-of-two scalings so
// that a subnormal result is rounded once. NaN propagates; +-inf give inf and 0.
template <class T, class A = BranchFree>
GDN_HD T exp_c(T x) {
  using K = ExpLogConstants<T>;
  const T xc = fmin_c(fmax_c(x, K::kExpMinArg), K::kExpMaxArg);  // NaN becomes kExpMinArg here
  const T n = rint_c(xc * K::kLog2e);
  T r = fma_c(-n, K::kLn2Hi, xc);
  r = fma_c(-n, K::kLn2Lo, r);
  const int e = static_cast<int>(n);
  const int e1 = e >> 1, e2 = e - e1;
  const T y = fma_c(r, fma_c(r, exp_tail(r, r * r), T(1)), T(1)) * pow2<T>(e1) * pow2<T>(e2);
  return A::select(x == x, y, x + x);
}

// log(1 + f) for f = m - 1, m in [sqrt(1/2), sqrt(2)], as f - (f^2/2 - s (f^2/2 + R)) with
// s = f / (2 + f) and R = 2 s^2/3 + 2 s^4/5 + ... (log(1 + f) = 2 atanh(s) and f = 2s + s f):
// f is exact and the correction is below f/4, so its roundings are damped. |s| <= 0.1716;
// truncation of R: s^10 * 2/11 for float, s^20 * 2/21 for double, below 0.01 ulp; R by Estrin
// in z = s^2. `extra` is added to the correction (the caller's low-order terms).
template <class A>
GDN_HD float log1p_reduced(float f, float extra) {
  const float s = A::div(f, 2.0f + f);
  const float z = s * s, z2 = z * z;
  const float a0 = fma_c(0x1.99999ap-2f, z, 0x1.555556p-1f);  // 2/3 + z 2/5
  const float a1 = fma_c(0x1.c71c72p-3f, z, 0x1.24924ap-2f);  // 2/7 + z 2/9
  const float R = fma_c(a1, z2, a0) * z;
  const float hfsq = 0.5f * f * f;
  return f - (hfsq - (s * (hfsq + R) + extra));
}
template <class A>
GDN_HD double log1p_reduced(double f, double extra) {
  const double s = A::div(f, 2.0 + f);
  const double z = s * s, z2 = z * z, z4 = z2 * z2, z8 = z4 * z4;
  const double a0 = fma_c(0x1.999999999999ap-2, z, 0x1.5555555555555p-1);  // 2/3, 2/5
  const double a1 = fma_c(0x1.c71c71c71c71cp-3, z, 0x1.2492492492492p-2);  // 2/7, 2/9
  const double a2 = fma_c(0x1.3b13b13b13b14p-3, z, 0x1.745d1745d1746p-3);  // 2/11, 2/13
  const double a3 = fma_c(0x1.e1e1e1e1e1e1ep-4, z, 0x1.1111111111111p-3);  // 2/15, 2/17
  const double b0 = fma_c(a1, z2, a0), b1 = fma_c(a3, z2, a2);
  const double R = fma_c(0x1.af286bca1af28p-4, z8, fma_c(b1, z4, b0)) * z;  // + z^8 2/19
  const double hfsq = 0.5 * f * f;
  return f - (hfsq - (s * (hfsq + R) + extra));
}

// log1p(y) for y > -1: w = 1 + y rounded, its rounding error recovered exactly (TwoSum) as
// c / w ~ log(1 + y) - log(w); w = m 2^e with m in [sqrt(1/2), sqrt(2)); then
// log1p(y) = e ln2 + log(1 + (m - 1)) + c / w. Where 1 + y rounds to 1 this gives y itself;
// NaN and +inf come back as they are.
template <class T, class A = BranchFree>
GDN_HD T log1p_c(T y) {
  using K = ExpLogConstants<T>;
  const T w = T(1) + y;
  const T bb = w - T(1);
  const T c = A::div((T(1) - (w - bb)) + (y - bb), w);  // TwoSum: exact error of 1 + y
  int e = 0;
  T m;
  if constexpr (std::is_same_v<T, float>) {
    const uint32_t u = float_as_bits(w);  // w >= 2^-24: normal
    e = static_cast<int>(u >> 23) - 127;
    m = bits_as_float((u & 0x007fffffu) | 0x3f800000u);
  } else {
    const uint64_t u = double_as_bits(w);
    e = static_cast<int>(u >> 52) - 1023;
    m = bits_as_double((u & 0x000fffffffffffffull) | 0x3ff0000000000000ull);
  }
  const bool high = m > K::kSqrt2;
  m = high ? m * T(0.5) : m;
  const T ef = static_cast<T>(high ? e + 1 : e);
  const T l = fma_c(ef, K::kLn2Hi, log1p_reduced<A>(m - T(1), fma_c(ef, K::kLn2Lo, c)));
  return A::select(w == T(1), y, A::select(w - w != T(0), w, l));  // |y| below half an ulp of 1; NaN, +inf
}

}  // namespace gdn::kernels
