#include "precision.hpp"

#include "tensor.hpp"

namespace gdn {

double state_storage_roundoff(const PrecisionSpec& p) {
  switch (p.state) {
    case StateStorage::Arith: return unit_roundoff(p.arith);
    case StateStorage::F32: return unit_roundoff(Dtype::F32);
    case StateStorage::BF16: return unit_roundoff(Dtype::BF16);
    case StateStorage::BF16Stochastic: return 2.0 * unit_roundoff(Dtype::BF16);
    case StateStorage::F16: return unit_roundoff(Dtype::F16);
  }
  return 0.0;
}

Dtype state_dtype(const PrecisionSpec& p) {
  switch (p.state) {
    case StateStorage::Arith: return p.arith;
    case StateStorage::F32: return Dtype::F32;
    case StateStorage::BF16:
    case StateStorage::BF16Stochastic: return Dtype::BF16;
    case StateStorage::F16: return Dtype::F16;
  }
  return p.arith;
}

PrecisionSpec profile_spec(Profile p) {
  PrecisionSpec s;
  switch (p) {
    case Profile::Fp64: break;
    case Profile::Fp32:
      s.arith = s.input = s.params = s.output = Dtype::F32;
      break;
    case Profile::Bf16Fp32State:
      s.arith = s.params = Dtype::F32;
      s.input = s.output = Dtype::BF16;
      break;
    case Profile::Bf16Bf16State:
      s.arith = s.params = Dtype::F32;
      s.input = s.output = Dtype::BF16;
      s.state = StateStorage::BF16;
      break;
  }
  return s;
}

std::string to_string(Profile p) {
  switch (p) {
    case Profile::Fp64: return "fp64";
    case Profile::Fp32: return "fp32";
    case Profile::Bf16Fp32State: return "bf16-fp32state";
    case Profile::Bf16Bf16State: return "bf16-bf16state";
  }
  return "?";
}

std::string to_string(Dtype d) {
  switch (d) {
    case Dtype::F64: return "float64";
    case Dtype::F32: return "float32";
    case Dtype::BF16: return "bfloat16";
    case Dtype::F16: return "float16";
  }
  return "?";
}

std::string to_string(StateStorage s) {
  switch (s) {
    case StateStorage::Arith: return "arith";
    case StateStorage::F32: return "float32";
    case StateStorage::BF16: return "bfloat16";
    case StateStorage::BF16Stochastic: return "bfloat16-stochastic";
    case StateStorage::F16: return "float16";
  }
  return "?";
}

const std::vector<Profile>& all_profiles() {
  static const std::vector<Profile> all = {Profile::Fp64, Profile::Fp32, Profile::Bf16Fp32State,
                                           Profile::Bf16Bf16State};
  return all;
}

Profile parse_profile(const std::string& s) {
  std::string names;
  for (Profile p : all_profiles()) {
    if (to_string(p) == s) return p;
    names += (names.empty() ? "" : ", ") + to_string(p);
  }
  throw InputError("profile: unknown value '" + s + "' (expected one of: " + names + ")");
}

Dtype parse_dtype(const std::string& s) {
  for (Dtype d : {Dtype::F64, Dtype::F32, Dtype::BF16, Dtype::F16})
    if (to_string(d) == s) return d;
  throw InputError("dtype: unknown value '" + s + "' (expected float64, float32, bfloat16 or float16)");
}

}  // namespace gdn
