// gdn::gpu: variants, checks, staging of gdn::Inputs into the kernels' dtypes, and one call
// on the device or on the emulation.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>

#include "api.hpp"
#include "cuda_check.hpp"
#include "device_limits.hpp"
#include "dispatch.hpp"
#include "numeric.hpp"
#include "reference/validate.hpp"
#include "variant_key.hpp"

namespace gdn::gpu {
namespace {

using kernels::Elem;

Dtype dtype_of(Elem e) { return e == Elem::BF16 ? Dtype::BF16 : e == Elem::F32 ? Dtype::F32 : Dtype::F64; }
Elem elem_of(Dtype d) {
  switch (d) {
    case Dtype::BF16: return Elem::BF16;
    case Dtype::F32: return Elem::F32;
    case Dtype::F64: return Elem::F64;
    default: break;
  }
  throw InputError("kernels: no kernel takes " + to_string(d));
}
size_t elem_bytes(Elem e) { return e == Elem::BF16 ? 2 : e == Elem::F32 ? 4 : 8; }

Profile profile_of(Elem state, Elem input) {
  if (state == Elem::F64) return Profile::Fp64;
  if (input == Elem::F32) return Profile::Fp32;
  return state == Elem::BF16 ? Profile::Bf16Bf16State : Profile::Bf16Fp32State;
}

// ---- conversion between double and the kernels' storage types ----

// Encodes x into `out` as element type e; false when x is not exactly representable.
bool encode(Elem e, double x, unsigned char* out) {
  switch (e) {
    case Elem::F64: std::memcpy(out, &x, 8); return true;
    case Elem::F32: {
      const float f = static_cast<float>(x);
      std::memcpy(out, &f, 4);
      return std::isnan(x) || static_cast<double>(f) == x;
    }
    case Elem::BF16: {
      const float f = static_cast<float>(x);
      const uint16_t b = kernels::bf16_bits_rne(f);
      std::memcpy(out, &b, 2);
      return std::isnan(x) || static_cast<double>(kernels::bf16_to_float(b)) == x;
    }
  }
  return false;
}
double decode(Elem e, const unsigned char* in) {
  switch (e) {
    case Elem::F64: {
      double x;
      std::memcpy(&x, in, 8);
      return x;
    }
    case Elem::F32: {
      float f;
      std::memcpy(&f, in, 4);
      return f;
    }
    case Elem::BF16: {
      uint16_t b;
      std::memcpy(&b, in, 2);
      return kernels::bf16_to_float(b);
    }
  }
  return 0.0;
}

// Writes tensor t (all of it, row-major) as element type e into buf at element offsets
// dst(i); refuses values off the dtype's grid.
template <class Dst>
void put(std::vector<unsigned char>& buf, Elem e, const Tensor& t, const char* name, const Variant& v, Dst&& dst) {
  const size_t w = elem_bytes(e);
  for (int64_t i = 0; i < t.size(); ++i)
    if (!encode(e, t[i], &buf[static_cast<size_t>(dst(i)) * w])) {
      std::ostringstream msg;
      msg.precision(17);
      msg << name << index_str(t.shape, i) << " = " << t[i] << " is not representable in " << to_string(dtype_of(e))
          << ", the dtype in which kernel " << v.name << " takes it";
      throw InputError(msg.str());
    }
}
std::vector<unsigned char> encoded(Elem e, const Tensor& t, const char* name, const Variant& v) {
  std::vector<unsigned char> buf(static_cast<size_t>(t.size()) * elem_bytes(e));
  put(buf, e, t, name, v, [](int64_t i) { return i; });
  return buf;
}
Tensor decoded(Elem e, const std::vector<unsigned char>& buf, Shape shape) {
  Tensor t(std::move(shape));
  const size_t w = elem_bytes(e);
  for (int64_t i = 0; i < t.size(); ++i) t[i] = decode(e, &buf[static_cast<size_t>(i) * w]);
  return t;
}
// A NaN in every element, so that an element the kernel fails to write cannot pass a check.
std::vector<unsigned char> poisoned(Elem e, int64_t count) {
  std::vector<unsigned char> buf(static_cast<size_t>(count) * elem_bytes(e));
  for (int64_t i = 0; i < count; ++i) encode(e, std::numeric_limits<double>::quiet_NaN(), &buf[static_cast<size_t>(i) * elem_bytes(e)]);
  return buf;
}
std::vector<int32_t> narrowed(const IndexTensor& t) {
  std::vector<int32_t> out(t.data.size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<int32_t>(t.data[i]);
  return out;
}

// The call's tensors in the kernel's dtypes, on the host, and the launch parameters
// (pointers bound later to host or device copies).
struct Staged {
  enum Slot { kQ, kK, kV, kQKV, kA, kB, kALog, kDtBias, kG, kBeta, kState, kO, kSlots };
  std::vector<unsigned char> bytes[kSlots];
  std::vector<int32_t> cu_seqlens, state_indices, num_accepted;
  kernels::RecurrentParams p;
  Elem state_elem = Elem::BF16, input_elem = Elem::BF16;
};

Staged stage(const Variant& v, const Config& c, const Inputs& in, const KernelOptions& opt) {
  Staged s;
  kernels::RecurrentParams& p = s.p;
  const Elem se = elem_of(v.state), ie = elem_of(v.input);
  const Elem ce = se == Elem::F64 ? Elem::F64 : Elem::F32;  // compute type: A_log, dt_bias, g
  s.state_elem = se;
  s.input_elem = ie;
  const int64_t Tt = in.num_tokens(), N = in.num_sequences();
  p.N = static_cast<int>(N);
  p.H = static_cast<int>(c.H);
  p.HV = static_cast<int>(c.HV);
  p.K = static_cast<int>(c.K);
  p.V = static_cast<int>(c.V);
  s.cu_seqlens = narrowed(in.cu_seqlens);

  if (opt.packed_qkv) {
    const int64_t row = 2 * c.H * c.K + c.HV * c.V + opt.packed_row_pad;
    std::vector<unsigned char>& buf = s.bytes[Staged::kQKV];
    buf = poisoned(ie, Tt * row);
    const int64_t HK = c.H * c.K, HVV = c.HV * c.V;
    put(buf, ie, in.q, "q", v, [&](int64_t i) { return (i / HK) * row + i % HK; });
    put(buf, ie, in.k, "k", v, [&](int64_t i) { return (i / HK) * row + HK + i % HK; });
    put(buf, ie, in.v, "v", v, [&](int64_t i) { return (i / HVV) * row + 2 * HK + i % HVV; });
    p.q_token_stride = p.k_token_stride = p.v_token_stride = row;
  } else {
    s.bytes[Staged::kQ] = encoded(ie, in.q, "q", v);
    s.bytes[Staged::kK] = encoded(ie, in.k, "k", v);
    s.bytes[Staged::kV] = encoded(ie, in.v, "v", v);
    p.q_token_stride = p.k_token_stride = c.H * c.K;
    p.v_token_stride = c.HV * c.V;
  }
  p.q_head_stride = p.k_head_stride = c.K;
  p.v_head_stride = c.V;

  if (c.gate_form == GateForm::Raw) {
    p.gate_mode = kernels::GateMode::Raw;
    s.bytes[Staged::kA] = encoded(ie, in.a, "a", v);
    s.bytes[Staged::kB] = encoded(ie, in.b, "b", v);
    s.bytes[Staged::kALog] = encoded(ce, in.A_log, "A_log", v);
    s.bytes[Staged::kDtBias] = encoded(ce, in.dt_bias, "dt_bias", v);
  } else {
    p.gate_mode = kernels::GateMode::Precomputed;
    s.bytes[Staged::kG] = encoded(ce, in.g, "g", v);
    s.bytes[Staged::kBeta] = encoded(ie, in.beta, "beta", v);
  }
  p.gate_token_stride = c.HV;
  p.gate_head_stride = 1;
  p.norm = c.qk_norm == QkNorm::L2Eps ? kernels::NormMode::L2Eps
           : c.qk_norm == QkNorm::FNormalize ? kernels::NormMode::FNormalize
                                             : kernels::NormMode::None;
  p.scale = c.effective_scale();

  s.bytes[Staged::kState] = encoded(se, in.state, "state", v);
  p.state_head_stride = c.K * c.V;
  p.state_slot_stride = c.HV * c.K * c.V;
  if (in.state_indices.present()) {
    s.state_indices = narrowed(in.state_indices);
    p.state_indices_stride = in.speculative() ? in.state_indices.dim(1) : 1;
    if (in.speculative()) s.num_accepted = narrowed(in.num_accepted);
  }
  p.pad = c.pad_sentinel == PadSentinel::MinusOne ? kernels::PadMode::MinusOne : kernels::PadMode::NonPositive;

  s.bytes[Staged::kO] = poisoned(ie, Tt * c.HV * c.V);
  p.o_token_stride = c.HV * c.V;
  p.o_head_stride = c.V;

  p.state_round = se != Elem::BF16            ? kernels::StateRound::None
                  : opt.stochastic_rounding ? kernels::StateRound::Stochastic
                                            : kernels::StateRound::Nearest;
  p.seed = opt.seed;
  p.beta_bf16 = opt.beta_bf16;
  p.decay_bf16 = opt.decay_bf16;
  return s;
}

// Points p at the staged tensors' copies: base[slot] for each byte buffer.
void bind(Staged& s, void* const (&base)[Staged::kSlots], const int32_t* cu, const int32_t* idx, const int32_t* acc,
          const KernelOptions& opt, int64_t H, int64_t K) {
  kernels::RecurrentParams& p = s.p;
  p.cu_seqlens = cu;
  p.state_indices = s.state_indices.empty() ? nullptr : idx;
  p.num_accepted = s.num_accepted.empty() ? nullptr : acc;
  const size_t w = elem_bytes(s.input_elem);
  if (opt.packed_qkv) {
    auto* qkv = static_cast<unsigned char*>(base[Staged::kQKV]);
    p.q = qkv;
    p.k = qkv + static_cast<size_t>(H * K) * w;
    p.v = qkv + static_cast<size_t>(2 * H * K) * w;
  } else {
    p.q = base[Staged::kQ];
    p.k = base[Staged::kK];
    p.v = base[Staged::kV];
  }
  p.a = base[Staged::kA];
  p.b = base[Staged::kB];
  p.A_log = base[Staged::kALog];
  p.dt_bias = base[Staged::kDtBias];
  p.g = base[Staged::kG];
  p.beta = base[Staged::kBeta];
  p.state = base[Staged::kState];
  p.o = base[Staged::kO];
}

// The launch of token t of a call of T tokens per sequence (sequence n's token t is token
// n T + t): every sequence's token t, one token per sequence, by pointer offsets and token
// strides T times longer; no copy. Inputs and o are in the input type, g in the compute type.
kernels::RecurrentParams token_launch(kernels::RecurrentParams p, int64_t T, int64_t t, size_t input_bytes,
                                      size_t compute_bytes) {
  auto at = [&](const void* base, int64_t stride, size_t elem) -> const void* {
    return base ? static_cast<const unsigned char*>(base) + static_cast<size_t>(t * stride) * elem : nullptr;
  };
  p.cu_seqlens = nullptr;
  p.tokens_per_seq = 1;
  p.q = at(p.q, p.q_token_stride, input_bytes);
  p.k = at(p.k, p.k_token_stride, input_bytes);
  p.v = at(p.v, p.v_token_stride, input_bytes);
  p.a = at(p.a, p.gate_token_stride, input_bytes);
  p.b = at(p.b, p.gate_token_stride, input_bytes);
  p.beta = at(p.beta, p.gate_token_stride, input_bytes);
  p.g = at(p.g, p.gate_token_stride, compute_bytes);
  p.o = const_cast<void*>(at(p.o, p.o_token_stride, input_bytes));
  p.q_token_stride *= T;
  p.k_token_stride *= T;
  p.v_token_stride *= T;
  p.gate_token_stride *= T;
  p.o_token_stride *= T;
  return p;
}

Outputs collect(const Staged& s, const Config& c, const Inputs& in) {
  Outputs out;
  out.o = decoded(s.input_elem, s.bytes[Staged::kO], {in.num_tokens(), c.HV, c.V});
  out.state = decoded(s.state_elem, s.bytes[Staged::kState], in.state.shape);
  return out;
}

// The default launch shape of a tile (instantiations.hpp): 64 state elements per thread,
// 32 for the float64 kernel, at least one warp (a block of a K split holds K / split_k
// rows); registers capped at 128 (VK, bf16 state) or
// 168 (KV), not at all for VK with an fp32 state or the float64 kernel; a tile in shared
// memory at 64 (VK) or 96 (KV).
int default_threads_for(Dtype state, int K, int bv, int split_k) {
  const int per_thread = state == Dtype::F64 ? 32 : 64;
  return std::max(32, K / split_k * bv / per_thread);
}
int default_min_blocks_for(Layout layout, Dtype state, int threads, bool shared_tile) {
  if (state == Dtype::F64 || (!shared_tile && layout == Layout::VK && state == Dtype::F32)) return 1;
  constexpr int kRegistersPerSM = 65536;
  // A shared tile leaves registers to the token's inputs and sums: 64 (VK) or 96 (KV,
  // whose warp-wide norms and shared-memory reduction need more; 64 spills there).
  const int cap = shared_tile ? (layout == Layout::VK ? 64 : 96) : layout == Layout::VK ? 128 : 168;
  return std::max(1, kRegistersPerSM / (cap * threads));
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return s;
}

}  // namespace

kernels::KernelKey key_of(const Variant& v) {
  return kernels::KernelKey{v.layout == Layout::VK, elem_of(v.state), elem_of(v.input), v.bv, v.threads, v.K, v.min_blocks,
                            v.stochastic, v.shared_tile, v.split_k, v.warps_v, v.V};
}

const std::vector<Variant>& variants() {
  static const std::vector<Variant> all = [] {
    std::vector<Variant> out;
    for (const kernels::KernelKey& k : kernels::compiled_kernels()) {
      Variant v;
      v.layout = k.vk ? Layout::VK : Layout::KV;
      v.state = dtype_of(k.state);
      v.input = dtype_of(k.input);
      v.profile = profile_of(k.state, k.input);
      v.bv = k.bv;
      v.threads = k.threads;
      v.K = k.K;
      v.min_blocks = k.min_blocks;
      v.stochastic = k.stochastic;
      v.shared_tile = k.shared_tile;
      v.split_k = k.split_k;
      v.warps_v = k.warps_v;
      v.V = k.V;
      const int default_threads = default_threads_for(v.state, v.K, v.bv, v.split_k);
      const int default_min_blocks = default_min_blocks_for(v.layout, v.state, v.threads, v.shared_tile);
      v.tuning = v.threads != default_threads || v.min_blocks != default_min_blocks || v.stochastic;
      v.family = lower(to_string(v.layout)) + "-" + to_string(v.profile);
      v.name = v.family + "-bv" + std::to_string(v.bv);
      if (v.threads != default_threads) v.name += "-t" + std::to_string(v.threads);
      if (v.min_blocks != default_min_blocks) v.name += "-o" + std::to_string(v.min_blocks);
      if (v.shared_tile) v.name += "-sh";
      if (v.split_k > 1) v.name += "-ks" + std::to_string(v.split_k);
      if (v.warps_v > 1) v.name += "-wv" + std::to_string(v.warps_v);
      if (v.V > 0) v.name += "-v" + std::to_string(v.V);
      if (v.stochastic) v.name += "-sr";
      out.push_back(v);
    }
    return out;
  }();
  return all;
}

bool takes_columns(const Variant& v, const Config& c) { return c.V % v.bv == 0 && (v.V == 0 || c.V == v.V); }

std::vector<std::string> family_names() {
  std::vector<std::string> names;
  for (const Variant& v : variants())
    if (std::find(names.begin(), names.end(), v.family) == names.end()) names.push_back(v.family);
  return names;
}

namespace {

// Each family's fastest variant, and the build of its gate and norm arithmetic
// (cuda/numeric.hpp), by how many (sequence, value head) pairs there are per multiprocessor:
// fitted to the H100 grids of experiments/bv_tile v16 (KV fp32 from 2.7 pairs per SM: v19; KV
// fp32 programmatic from 1.4 to 2.7: v20; both launch kinds, both builds, every variant; the
// band edges halfway, geometrically, between the grid's pairs per SM). The tiles follow the
// pattern of the earlier fits (v9 .. v15): few pairs are latency-bound and take few state
// elements per thread (BV 8); around one to three pairs per SM, BV 32 tiles register-capped
// (-o8) where the cap lets one wave hold the grid; many pairs are bound by the bytes in flight
// per SM: the default register tiles, KV bf16 with the whole state of a pair in one block's
// shared memory (BV 128 over 128 threads), whose contiguous 32 KB reads cost 5% less than a
// narrower tile's pieces of every row with the slots in random order, and KV fp32 with half a
// pair's state in shared memory over 64 threads (six 32 KB blocks per SM where the register
// tile holds three; 128 state elements per thread: fewer instructions per byte), 1.2-3.1%
// faster than the register tile from 3.9 pairs per SM with programmatic launches and from 15.5
// with plain ones (experiments/bv_tile, v19). KV fp32 with programmatic launches takes a pair's
// whole state in registers (BV 128 over 256 threads, capped at 128 registers so that two blocks
// fit an SM: -o2) from 1.4 to 2.7 pairs per SM, 3% faster there than the BV 32 -o8 tile
// (experiments/bv_tile, v20). Programmatic launches read the state under the previous launch
// and, below 8 pairs per SM, prefetch the inputs (launch.cuh), so less latency is left to
// hide and wider tiles pay earlier. Where a band names a build for V = 128 ("-v128", its state
// offsets compile-time constants: kernel_traits.hpp), Qwen3-Next's calls take it and others
// the same tile built for any V (band_variant): KV bf16's whole-state shared tile 0.973-1.000
// of the time of the tile for any V, KV fp32's BV 8, 32 and 128 register tiles 0.96-0.993
// in their bands (experiments/bv_tile, v22). The branch-free build is the faster at B = 1
// (1.07-1.18x with the intrinsic one); from about one pair per SM the intrinsic build, which
// keeps fewer registers live (v14's code), is up to 4% faster on some tiles and the
// branch-free one on others.
//
// With programmatic launches that may read the state early (KernelOptions::early_state_reads),
// VK bf16 state reads it after the wait from 11 pairs per SM, where both GPUs measured late
// reads as fast or faster: the H100 0.984-1.001 of the early reads' time, the H200
// 0.964-1.006. Elsewhere the H100 lost with them: up to 18% from B = 32 for the other
// families (experiments/bv_tile, v18; the tables follow the H100). KV fp32's register tile
// read late from 2.7 to 22 pairs per SM (v18); its shared tile, which replaced it there,
// is 1-5% faster early (v19).
using kernels::GateArithmetic;
enum class StateReads {
  AsAllowed,  // before the wait where the call allows it (early_state_reads), else after
  AfterWait,  // after the wait even where early reads are allowed
};
struct Band {
  double below_pairs_per_sm;  // this band holds N HV < below_pairs_per_sm * sms
  const char* variant;        // the name after "<family>-"
  GateArithmetic arithmetic = GateArithmetic::BranchFree;
  StateReads reads = StateReads::AsAllowed;  // programmatic bands only
};
struct FamilyBands {
  const char* family;
  Band plain[8];         // in increasing order; the last one holds the rest
  Band programmatic[8];  // the same for programmatic dependent launches; none: as plain
};
constexpr double kRest = 1e300;
constexpr StateReads kAfterWait = StateReads::AfterWait;
constexpr GateArithmetic kIntrinsic = GateArithmetic::Intrinsic;
const FamilyBands kFamilyBands[] = {
    {"vk-bf16-bf16state",  //
     {{0.68, "bv8"}, {kRest, "bv64"}},
     {{0.24, "bv8"}, {1.4, "bv64"}, {11.0, "bv64", kIntrinsic}, {kRest, "bv64", kIntrinsic, kAfterWait}}},
    {"kv-bf16-bf16state",  //
     {{0.24, "bv8"}, {2.7, "bv32-o8", kIntrinsic}, {kRest, "bv128-t128-sh-v128", kIntrinsic}},
     {{0.085, "bv8"},
      {0.68, "bv64"},
      {2.7, "bv32-o8", kIntrinsic},
      {5.5, "bv128-t128-sh-v128", kIntrinsic},
      {kRest, "bv128-t128-sh-v128"}}},
    {"vk-bf16-fp32state",  //
     {{0.68, "bv8"}, {1.4, "bv32"}, {5.5, "bv32-o8"}, {kRest, "bv16"}},
     {{0.24, "bv8"}, {0.68, "bv32-o8", kIntrinsic}, {1.4, "bv128"}, {5.5, "bv32-o8"}, {kRest, "bv64", kIntrinsic}}},
    {"kv-bf16-fp32state",
     {{0.68, "bv8-v128"}, {2.7, "bv32-o8", kIntrinsic}, {11.0, "bv64"}, {kRest, "bv64-t64-o6-sh"}},
     {{0.085, "bv8-v128"},
      {0.24, "bv32-v128"},
      {0.68, "bv16", kIntrinsic},
      {1.4, "bv128-v128"},
      {2.7, "bv128-o2", kIntrinsic},
      {kRest, "bv64-t64-o6-sh"}}},
};

// The band of the family's table that holds N sequences of this config, or nullptr (a family
// without a table).
const Band* band_for(const std::string& family, const Config& c, int64_t N, int sms, bool programmatic_launch) {
  const double pairs = static_cast<double>(N) * c.HV;
  for (const FamilyBands& fb : kFamilyBands) {
    if (family != fb.family) continue;
    const bool own_programmatic = fb.programmatic[0].variant != nullptr;
    for (const Band& band : programmatic_launch && own_programmatic ? fb.programmatic : fb.plain)
      if (band.variant != nullptr && pairs < band.below_pairs_per_sm * sms) return &band;
  }
  return nullptr;
}

// The compiled variant of this name, or nullptr.
const Variant* variant_named(const std::string& name) {
  for (const Variant& v : variants())
    if (v.name == name) return &v;
  return nullptr;
}

// The variant a band stands for in a call of this config: the one it names where that takes
// the call's V; where the named one is a build for another V ("-v<V>"), the same tile for
// any V; nullptr where neither takes it (or the named variant was not compiled).
const Variant* band_variant(const std::string& family, const Band& band, const Config& c) {
  const Variant* named = variant_named(family + "-" + band.variant);
  if (named == nullptr || takes_columns(*named, c)) return named;
  if (named->V == 0) return nullptr;
  kernels::KernelKey any_v = key_of(*named);
  any_v.V = 0;
  for (const Variant& v : variants())
    if (key_of(v) == any_v && takes_columns(v, c)) return &v;
  return nullptr;
}

// The band whose choice v is for N sequences of this config, or nullptr: v is not the
// family's choice there.
const Band* band_choosing(const Variant& v, const Config& c, int64_t N, int sms, bool programmatic_launch) {
  const Band* band = band_for(v.family, c, N, sms, programmatic_launch);
  return band != nullptr && band_variant(v.family, *band, c) == &v ? band : nullptr;
}

}  // namespace

const Variant* choose_variant(const std::string& family, const Config& c, int64_t N, int sms, bool programmatic_launch) {
  if (const Band* band = band_for(family, c, N, sms, programmatic_launch))
    if (const Variant* v = band_variant(family, *band, c)) return v;
  // Otherwise (a family without a table, a variant not compiled, or V not a multiple of its
  // BV): the largest default register tile up to 32 that divides V, a build for any V.
  auto better = [](const Variant* a, const Variant& b) {
    if (a == nullptr) return true;
    if ((a->bv <= 32) != (b.bv <= 32)) return b.bv <= 32;
    return b.bv <= 32 ? b.bv > a->bv : b.bv < a->bv;
  };
  const Variant* best = nullptr;
  for (const Variant& v : variants())
    if (v.family == family && !v.tuning && !v.shared_tile && v.split_k == 1 && v.warps_v == 1 && v.V == 0 &&
        takes_columns(v, c) && better(best, v))
      best = &v;
  return best;
}

kernels::GateArithmetic choose_arithmetic(const Variant& v, const Config& c, int64_t N, int sms,
                                          bool programmatic_launch) {
  const Band* band = band_choosing(v, c, N, sms, programmatic_launch);
  return band != nullptr ? band->arithmetic : GateArithmetic::BranchFree;
}

bool takes_early_reads(const Variant& v, const Config& c, int64_t N, int sms) {
  const Band* band = band_choosing(v, c, N, sms, true);  // early reads exist only with programmatic launches
  return band == nullptr || band->reads == StateReads::AsAllowed;
}

const Variant& find_variant(const std::string& name, const Config& c, int64_t N, int sms, const KernelOptions& o) {
  if (const Variant* v = variant_named(name)) return *v;
  if (o.stochastic_rounding) {  // the family's stochastic-rounding build, whatever the batch
    for (const Variant& v : variants())
      if (v.family == name && v.stochastic && takes_columns(v, c)) return v;
  }
  if (const Variant* v = choose_variant(name, c, N, sms, o.programmatic_launch)) return *v;
  const std::vector<std::string> families = family_names();
  std::string names;
  for (const std::string& f : families) names += (names.empty() ? "" : ", ") + f;
  if (std::find(families.begin(), families.end(), name) == families.end())
    throw InputError("kernel: unknown name '" + name + "' (families: " + names + "; `gdn kernels` lists every variant)");
  throw InputError("kernel " + name + ": no tile divides V=" + std::to_string(c.V));
}

// The build that runs a call: the variant, or its stochastic-rounding twin.
const Variant& build_for(const Variant& v, const KernelOptions& o) {
  if (o.stochastic_rounding == v.stochastic) return v;
  if (!o.stochastic_rounding)
    throw InputError("kernel " + v.name + " is the stochastic-rounding build: pass a seed (--stochastic-rounding SEED)");
  std::string names;
  for (const Variant& w : variants()) {
    if (!w.stochastic) continue;
    // Its own register cap: the per-element RNG needs more registers than the variant's.
    if (w.layout == v.layout && w.state == v.state && w.input == v.input && w.bv == v.bv && w.threads == v.threads &&
        w.K == v.K)
      return w;
    names += (names.empty() ? "" : ", ") + w.name.substr(0, w.name.size() - 3);
  }
  throw InputError("kernel " + v.name + ": stochastic rounding is compiled for " +
                   (names.empty() ? std::string("no variant") : names) + " only");
}

PrecisionSpec precision_of(const Variant& v, const KernelOptions& o) {
  PrecisionSpec s = profile_spec(v.profile);
  if (o.stochastic_rounding) {
    s.state = StateStorage::BF16Stochastic;
    s.stochastic_seed = o.seed;
  }
  s.beta_bf16 = o.beta_bf16;
  s.decay_bf16 = o.decay_bf16;
  return s;
}

std::string describe_precision(const Variant& v, const KernelOptions& o) {
  std::string s = to_string(v.profile);
  if (o.stochastic_rounding) s += " + stochastic rounding (seed " + std::to_string(o.seed) + ")";
  if (o.beta_bf16) s += " + beta bf16";
  if (o.decay_bf16) s += " + decay bf16";
  return s;
}

void check_launchable(const Variant& v, const Config& c, const Inputs& in, const KernelOptions& o) {
  validate(c, in);
  const std::string who = "kernel " + v.name + ": ";
  if (c.layout != v.layout)
    throw InputError(who + "takes the " + to_string(v.layout) + " layout, the call is " + to_string(c.layout));
  if (c.K != v.K) throw InputError(who + "compiled for K=" + std::to_string(v.K) + ", the call has K=" + std::to_string(c.K));
  if (v.V > 0 && c.V != v.V)
    throw InputError(who + "compiled for V=" + std::to_string(v.V) + ", the call has V=" + std::to_string(c.V));
  if (c.V % v.bv != 0)
    throw InputError(who + "V=" + std::to_string(c.V) + " is not a multiple of its tile BV=" + std::to_string(v.bv));
  constexpr int64_t kMax = std::numeric_limits<int32_t>::max();
  const int64_t blocks = in.num_sequences() * c.HV * (c.V / v.bv) * v.split_k;
  if (blocks > kMax) throw InputError(who + std::to_string(blocks) + " blocks exceed the grid limit 2^31-1");
  if (in.num_tokens() > kMax) throw InputError(who + "more than 2^31-1 tokens in one call");
  if (in.state.dim(0) > kMax) throw InputError(who + "more than 2^31-1 pool slots");
  if (o.stochastic_rounding && v.state != Dtype::BF16)
    throw InputError(who + "stochastic rounding needs a bf16 state (the state is " + to_string(v.state) + ")");
  if ((o.beta_bf16 || o.decay_bf16) && v.state == Dtype::F64)
    throw InputError(who + "beta/decay bf16 rounding is an option of the float kernels, not of the float64 oracle kernel");
  if (o.packed_row_pad < 0) throw InputError(who + "packed row padding must be >= 0");
  if (o.early_state_reads && !o.programmatic_launch)
    throw InputError(who + "early state reads are an option of programmatic launches");
  if (o.early_state_reads && o.launch_per_token)
    throw InputError(who + "early state reads with one launch per token would read a state the previous launch has not written");
  if (o.launch_per_token) {
    if (in.speculative()) throw InputError(who + "one launch per token takes no speculative slots (num_accepted)");
    const int64_t T = in.num_sequences() > 0 ? in.cu_seqlens[1] - in.cu_seqlens[0] : 0;
    for (int64_t n = 0; n < in.num_sequences(); ++n)
      if (in.cu_seqlens[n + 1] - in.cu_seqlens[n] != T)
        throw InputError(who + "one launch per token needs the same number of tokens in every sequence (sequence " +
                         std::to_string(n) + " has " + std::to_string(in.cu_seqlens[n + 1] - in.cu_seqlens[n]) +
                         ", sequence 0 has " + std::to_string(T) + ")");
  }
  const Variant& b = build_for(v, o);
  if (!kernels::find_launch(key_of(b)) || !kernels::find_emulation(key_of(b))) throw InputError(who + "not compiled");
}

Outputs run_emulation(const Variant& v, const Config& c, const Inputs& in, const KernelOptions& o) {
  check_launchable(v, c, in, o);
  Staged s = stage(v, c, in, o);
  void* base[Staged::kSlots];
  for (int i = 0; i < Staged::kSlots; ++i) base[i] = s.bytes[i].empty() ? nullptr : s.bytes[i].data();
  bind(s, base, s.cu_seqlens.data(), s.state_indices.data(), s.num_accepted.data(), o, c.H, c.K);
  kernels::find_emulation(key_of(build_for(v, o)))(s.p);
  return collect(s, c, in);
}

Outputs run_device(const Variant& v, const Config& c, const Inputs& in, const KernelOptions& o) {
  check_launchable(v, c, in, o);
  const int sms = require_device().sms;
  Staged s = stage(v, c, in, o);
  DeviceBuffer dev[Staged::kSlots];
  void* base[Staged::kSlots];
  for (int i = 0; i < Staged::kSlots; ++i) {
    dev[i] = DeviceBuffer(s.bytes[i].size());
    base[i] = dev[i].get();
    if (!s.bytes[i].empty())
      GDN_CUDA_CHECK(cudaMemcpy(dev[i].get(), s.bytes[i].data(), s.bytes[i].size(), cudaMemcpyHostToDevice));
  }
  auto upload = [](const std::vector<int32_t>& h) {
    DeviceBuffer d(h.size() * sizeof(int32_t));
    if (!h.empty()) GDN_CUDA_CHECK(cudaMemcpy(d.get(), h.data(), d.bytes(), cudaMemcpyHostToDevice));
    return d;
  };
  const DeviceBuffer cu = upload(s.cu_seqlens), idx = upload(s.state_indices), acc = upload(s.num_accepted);
  bind(s, base, cu.get<int32_t>(), idx.get<int32_t>(), acc.get<int32_t>(), o, c.H, c.K);
  s.p.programmatic_launch = o.programmatic_launch;
  s.p.early_state_reads = o.early_state_reads && takes_early_reads(v, c, in.num_sequences(), sms);
  s.p.arithmetic = o.arithmetic != kernels::GateArithmetic::Auto
                       ? o.arithmetic
                       : choose_arithmetic(v, c, in.num_sequences(), sms, o.programmatic_launch);
  const kernels::LaunchFn launch = kernels::find_launch(key_of(build_for(v, o)));
  cudaStream_t stream;
  GDN_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  if (o.launch_per_token) {
    const int64_t N = in.num_sequences(), T = N > 0 ? in.num_tokens() / N : 0;
    for (int64_t t = 0; t < T; ++t) launch(token_launch(s.p, T, t, elem_bytes(s.input_elem), s.state_elem == Elem::F64 ? 8 : 4), stream);
  } else {
    launch(s.p, stream);
  }
  GDN_CUDA_CHECK(cudaStreamSynchronize(stream));
  GDN_CUDA_CHECK(cudaStreamDestroy(stream));
  for (int slot : {Staged::kO, Staged::kState})
    GDN_CUDA_CHECK(cudaMemcpy(s.bytes[slot].data(), dev[slot].get(), s.bytes[slot].size(), cudaMemcpyDeviceToHost));
  return collect(s, c, in);
}

bool runs_on(const Variant& v, const DeviceInfo& d) { return v.split_k == 1 || kernels::clusters_supported(d.major); }

DeviceInfo require_device() {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess || count == 0)
    throw std::runtime_error(std::string("no usable CUDA GPU: ") +
                             (err != cudaSuccess ? cudaGetErrorString(err) : "cudaGetDeviceCount found none"));
  int dev = 0;
  GDN_CUDA_CHECK(cudaGetDevice(&dev));
  cudaDeviceProp prop;
  GDN_CUDA_CHECK(cudaGetDeviceProperties(&prop, dev));
  DeviceInfo info{prop.name, prop.major, prop.minor, prop.multiProcessorCount, prop.l2CacheSize,
                  static_cast<int64_t>(prop.totalGlobalMem)};
  if (prop.major < 8)
    throw std::runtime_error("GPU " + info.name + " has compute capability " + std::to_string(prop.major) + "." +
                             std::to_string(prop.minor) + "; the kernels need 8.0 or newer (built for sm_80 and sm_90a)");
  return info;
}

bool device_available() {
  try {
    require_device();
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace gdn::gpu
