#include "validate.hpp"

#include <cmath>
#include <unordered_map>

namespace gdn {
namespace {

[[noreturn]] void fail(const std::string& msg) { throw InputError(msg); }

void expect_shape(const char* name, const Tensor& t, const Shape& want, const char* meaning) {
  if (!t.present()) fail(std::string(name) + ": missing (expected shape " + shape_str(want) + " " + meaning + ")");
  if (t.shape != want)
    fail(std::string(name) + ": shape " + shape_str(t.shape) + " does not match " + shape_str(want) + " " + meaning);
  if (t.size() != numel(want)) fail(std::string(name) + ": holds " + std::to_string(t.size()) + " values for shape " + shape_str(want));
}

void expect_absent(const char* name, const Tensor& t, const std::string& why) {
  if (t.present()) fail(std::string(name) + ": given, but " + why);
}

void expect_finite(const char* name, const Tensor& t) {
  for (int64_t i = 0; i < t.size(); ++i) {
    if (!std::isfinite(t[i]))
      fail(std::string(name) + index_str(t.shape, i) + " is " + (std::isnan(t[i]) ? "NaN" : "Inf") +
           " (non-finite inputs are rejected unless allowed)");
  }
}

}  // namespace

Shape state_shape(const Config& c, int64_t P) {
  return c.layout == Layout::KV ? Shape{P, c.HV, c.K, c.V} : Shape{P, c.HV, c.V, c.K};
}

void validate(const Config& c, const Inputs& in) {
  if (c.H <= 0 || c.HV <= 0 || c.K <= 0 || c.V <= 0)
    fail("config: H, HV, K, V must be positive (got H=" + std::to_string(c.H) + " HV=" + std::to_string(c.HV) +
         " K=" + std::to_string(c.K) + " V=" + std::to_string(c.V) + ")");
  if (c.HV % c.H != 0)
    fail("config: HV % H != 0 (HV=" + std::to_string(c.HV) + ", H=" + std::to_string(c.H) + ")");
  if (!(c.scale >= 0.0) || !std::isfinite(c.scale)) fail("config: scale must be finite and >= 0 (0 selects K^-1/2)");

  // cu_seqlens
  const IndexTensor& cu = in.cu_seqlens;
  if (cu.shape.size() != 1 || cu.size() < 2) fail("cu_seqlens: expected shape [N + 1] with N >= 1, got " + shape_str(cu.shape));
  if (cu[0] != 0) fail("cu_seqlens[0] = " + std::to_string(cu[0]) + ", expected 0");
  for (int64_t i = 1; i < cu.size(); ++i)
    if (cu[i] <= cu[i - 1])
      fail("cu_seqlens[" + std::to_string(i) + "] = " + std::to_string(cu[i]) + " is not greater than cu_seqlens[" +
           std::to_string(i - 1) + "] = " + std::to_string(cu[i - 1]) + " (cu_seqlens must increase)");
  const int64_t N = in.num_sequences();
  const int64_t Tt = in.num_tokens();
  int64_t max_len = 0;
  for (int64_t n = 0; n < N; ++n) max_len = std::max(max_len, cu[n + 1] - cu[n]);

  if (in.q.present() && in.q.shape.size() == 3 && in.q.dim(0) != Tt)
    fail("cu_seqlens[" + std::to_string(N) + "] = " + std::to_string(Tt) + " does not equal the " +
         std::to_string(in.q.dim(0)) + " tokens of q");
  expect_shape("q", in.q, {Tt, c.H, c.K}, "[Ttot, H, K]");
  expect_shape("k", in.k, {Tt, c.H, c.K}, "[Ttot, H, K]");
  expect_shape("v", in.v, {Tt, c.HV, c.V}, "[Ttot, HV, V]");
  if (c.gate_form == GateForm::Raw) {
    expect_shape("a", in.a, {Tt, c.HV}, "[Ttot, HV]");
    expect_shape("b", in.b, {Tt, c.HV}, "[Ttot, HV]");
    expect_shape("A_log", in.A_log, {c.HV}, "[HV]");
    expect_shape("dt_bias", in.dt_bias, {c.HV}, "[HV]");
    expect_absent("g", in.g, "gate form is raw (g is computed from a, A_log, dt_bias)");
    expect_absent("beta", in.beta, "gate form is raw (beta = sigmoid(b))");
  } else {
    expect_shape("g", in.g, {Tt, c.HV}, "[Ttot, HV]");
    expect_shape("beta", in.beta, {Tt, c.HV}, "[Ttot, HV]");
    for (const char* name : {"a", "b", "A_log", "dt_bias"}) {
      const Tensor& t = name[0] == 'a' ? in.a : name[0] == 'b' ? in.b : name[0] == 'A' ? in.A_log : in.dt_bias;
      expect_absent(name, t, "gate form is precomputed (g and beta are given)");
    }
  }

  // State pool: the layout must match, and the message says so when the other layout does.
  if (!in.state.present() || in.state.shape.size() != 4)
    fail("state: expected shape " + shape_str(state_shape(c, 1)).replace(1, 1, "P") + " (" + to_string(c.layout) +
         " layout), got " + (in.state.present() ? shape_str(in.state.shape) : std::string("nothing")));
  const int64_t P = in.state.dim(0);
  if (in.state.shape != state_shape(c, P)) {
    Config other = c;
    other.layout = c.layout == Layout::KV ? Layout::VK : Layout::KV;
    std::string hint = in.state.shape == state_shape(other, P) ? " (that is the " + to_string(other.layout) + " layout)" : "";
    fail("state: shape " + shape_str(in.state.shape) + " does not match " + shape_str(state_shape(c, P)) + " for the " +
         to_string(c.layout) + " layout" + hint);
  }
  if (in.state.size() != numel(in.state.shape)) fail("state: holds " + std::to_string(in.state.size()) + " values for shape " + shape_str(in.state.shape));

  // Slots: in range, and no slot written twice in one call.
  const IndexTensor& idx = in.state_indices;
  if (!idx.present()) {
    if (P < N) fail("state: pool has " + std::to_string(P) + " slots for " + std::to_string(N) + " sequences and no state_indices");
    if (in.num_accepted.present()) fail("num_accepted: given without per-token state_indices [N, Tmax]");
  } else {
    if (idx.shape.size() == 1) {
      if (idx.dim(0) != N) fail("state_indices: shape " + shape_str(idx.shape) + " does not match [N=" + std::to_string(N) + "]");
      if (in.num_accepted.present()) fail("num_accepted: given, but state_indices is [N] (speculative decode needs [N, Tmax])");
    } else if (idx.shape.size() == 2) {
      if (idx.dim(0) != N || idx.dim(1) < max_len)
        fail("state_indices: shape " + shape_str(idx.shape) + " does not match [N=" + std::to_string(N) +
             ", Tmax>=" + std::to_string(max_len) + "]");
      const IndexTensor& na = in.num_accepted;
      if (!na.present()) fail("num_accepted: missing (per-token state_indices [N, Tmax] need num_accepted [N])");
      if (na.shape != Shape{N}) fail("num_accepted: shape " + shape_str(na.shape) + " does not match [N=" + std::to_string(N) + "]");
      for (int64_t n = 0; n < N; ++n) {
        const int64_t len = cu[n + 1] - cu[n];
        if (na[n] < 1 || na[n] > std::min(len, idx.dim(1)))
          fail("num_accepted[" + std::to_string(n) + "] = " + std::to_string(na[n]) + " is outside [1, " +
               std::to_string(std::min(len, idx.dim(1))) + "]");
      }
    } else {
      fail("state_indices: expected shape [N] or [N, Tmax], got " + shape_str(idx.shape));
    }
    std::unordered_map<int64_t, int64_t> seen;
    for (int64_t i = 0; i < idx.size(); ++i) {
      const int64_t s = idx[i];
      if (c.is_pad(s)) continue;
      if (s < c.first_slot() || s >= P)
        fail("state_indices" + index_str(idx.shape, i) + " = " + std::to_string(s) + " is outside the pool [" +
             std::to_string(c.first_slot()) + ", " + std::to_string(P) + ") and is not the pad sentinel " +
             to_string(c.pad_sentinel));
      auto [it, fresh] = seen.emplace(s, i);
      if (!fresh)
        fail("state_indices" + index_str(idx.shape, i) + " = " + std::to_string(s) + " repeats state_indices" +
             index_str(idx.shape, it->second) + " (each slot may be used once per call)");
    }
  }

  if (!c.allow_nonfinite) {
    expect_finite("q", in.q);
    expect_finite("k", in.k);
    expect_finite("v", in.v);
    if (c.gate_form == GateForm::Raw) {
      expect_finite("a", in.a);
      expect_finite("b", in.b);
      expect_finite("A_log", in.A_log);
      expect_finite("dt_bias", in.dt_bias);
    } else {
      expect_finite("g", in.g);
      expect_finite("beta", in.beta);
    }
    expect_finite("state", in.state);
  }
}

}  // namespace gdn
