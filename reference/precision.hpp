// Precision policies: what a kernel under test claims to compute (SPEC.md, precision
// profiles), as data the simulator executes and the error model reads.
#pragma once
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "rounding.hpp"

namespace gdn {

enum class Dtype { F64, F32, BF16, F16 };

// Unit roundoff u of round-to-nearest: half the spacing of numbers in [1, 2).
constexpr double unit_roundoff(Dtype d) {
  switch (d) {
    case Dtype::F64: return 0x1p-53;
    case Dtype::F32: return 0x1p-24;
    case Dtype::BF16: return 0x1p-8;
    case Dtype::F16: return 0x1p-11;
  }
  return 0.0;
}

// How the state is stored between tokens. Arith keeps the arithmetic type.
enum class StateStorage { Arith, F32, BF16, BF16Stochastic, F16 };

struct PrecisionSpec {
  Dtype arith = Dtype::F64;          // F64 or F32: the type every operation rounds to
  Dtype input = Dtype::F64;          // q, k, v, a, b and beta as the kernel receives them
  Dtype params = Dtype::F64;         // A_log, dt_bias and precomputed g
  StateStorage state = StateStorage::Arith;
  bool beta_bf16 = false;            // beta rounded to bf16 before use (vLLM packed decode)
  bool decay_bf16 = false;           // exp(g) rounded to bf16 before use
  Dtype output = Dtype::F64;
  uint64_t stochastic_seed = 0;      // for StateStorage::BF16Stochastic
};

// The dtype the state is stored in between tokens under the policy.
Dtype state_dtype(const PrecisionSpec&);

// Worst-case relative error of one storage rounding of the state (stochastic rounding
// can move a value by up to one whole ulp, twice the round-to-nearest bound).
double state_storage_roundoff(const PrecisionSpec&);

enum class Profile { Fp64, Fp32, Bf16Fp32State, Bf16Bf16State };

PrecisionSpec profile_spec(Profile);
std::string to_string(Profile);
std::string to_string(Dtype);
std::string to_string(StateStorage);
Profile parse_profile(const std::string&);  // throws InputError naming the valid profiles
Dtype parse_dtype(const std::string&);
const std::vector<Profile>& all_profiles();

namespace detail {
template <class T>
T round_to_slow(Dtype d, T x) {
  switch (d) {
    case Dtype::F64: return static_cast<T>(static_cast<double>(x));
    case Dtype::F32: return static_cast<T>(static_cast<float>(x));
    case Dtype::BF16: return static_cast<T>(round_bf16(static_cast<double>(x)));
    case Dtype::F16: return static_cast<T>(round_fp16(static_cast<double>(x)));
  }
  return x;
}
}  // namespace detail

// x rounded to dtype d; a no-op where d holds every value of T. The no-op test is inlined
// (the float64 oracle calls this for every input element of every token).
template <class T>
inline T round_to(Dtype d, T x) {
  if ((d == Dtype::F64 && std::numeric_limits<T>::digits <= 53) || (d == Dtype::F32 && std::is_same_v<T, float>)) return x;
  return detail::round_to_slow(d, x);
}

// Flat index of the first finite value of t that dtype d cannot hold exactly, or -1.
template <class Values>
int64_t first_off_grid(const Values& t, Dtype d) {
  for (int64_t i = 0; i < static_cast<int64_t>(t.data.size()); ++i) {
    const double x = t.data[static_cast<size_t>(i)];
    if (std::isfinite(x) && round_to(d, x) != x) return i;
  }
  return -1;
}

}  // namespace gdn
