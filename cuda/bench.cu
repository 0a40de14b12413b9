// gdn bench (see bench.hpp). Inputs are drawn on the device: q, k, v, a, b ~ N(0, 1) in
// bf16, states ~ N(0, 0.5^2) in the state dtype, A_log and dt_bias as Qwen3-Next
// initialises them (A = U(1, 16), dt = exp(U(log 1e-3, log 1e-1))), slots in random order
// per input set (state_indices, as vLLM passes them) or, asked, in ascending order, drawn
// from the set's B pool rows or from more (--slot-pool).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>
#include <cstring>
#include <stdexcept>
#include <string>

#include "api.hpp"
#include "golden/atomic_file.hpp"
#include "bench.hpp"
#include "bench_floor.hpp"
#include "copy_ceiling.hpp"
#include "cuda_check.hpp"
#include "dispatch.hpp"
#include "graph_timer.hpp"
#include "numeric.hpp"
#include "oracle.hpp"
#include "variant_key.hpp"

namespace gdn::gpu {
namespace {

using kernels::Elem;

constexpr int kK = 128, kV = 128;
constexpr int kFillBlocks = 1024, kFillThreads = 256;

size_t elem_bytes(Elem e) { return e == Elem::BF16 ? 2 : e == Elem::F32 ? 4 : 8; }

__device__ void store_elem(void* out, Elem e, int64_t i, double x) {
  switch (e) {
    case Elem::BF16: static_cast<kernels::bf16*>(out)[i] = kernels::bf16{kernels::bf16_bits_rne(static_cast<float>(x))}; break;
    case Elem::F32: static_cast<float*>(out)[i] = static_cast<float>(x); break;
    case Elem::F64: static_cast<double*>(out)[i] = x; break;
  }
}
__device__ double load_elem(const void* in, Elem e, int64_t i) {
  switch (e) {
    case Elem::BF16: return kernels::bf16_to_float(static_cast<const kernels::bf16*>(in)[i].bits);
    case Elem::F32: return static_cast<const float*>(in)[i];
    case Elem::F64: return static_cast<const double*>(in)[i];
  }
  return 0.0;
}

// Normal deviates by Box-Muller from the counter-based generator of stochastic rounding.
__global__ void fill_normal(void* out, Elem e, int64_t n, uint64_t seed, double std_dev) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const uint64_t r1 = kernels::splitmix64(seed ^ kernels::splitmix64(2 * i));
    const uint64_t r2 = kernels::splitmix64(seed ^ kernels::splitmix64(2 * i + 1));
    const double u1 = (static_cast<double>(r1 >> 11) + 1.0) * 0x1p-53;  // (0, 1]
    const double u2 = static_cast<double>(r2 >> 11) * 0x1p-53;
    store_elem(out, e, i, std_dev * sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
  }
}

__global__ void to_double(const void* in, Elem e, double* out, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    out[i] = load_elem(in, e, i);
}

// result[0] = max |x - ref| (NaN counts as infinity), result[1] = max |ref|, as the bits of
// non-negative doubles (which order like the doubles).
__global__ void max_errors(const void* x, Elem e, const double* ref, int64_t n, unsigned long long* result) {
  double err = 0.0, mag = 0.0;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const double d = fabs(load_elem(x, e, i) - ref[i]);
    err = fmax(err, d != d ? INFINITY : d);
    mag = fmax(mag, fabs(ref[i]));
  }
  atomicMax(&result[0], static_cast<unsigned long long>(__double_as_longlong(err)));
  atomicMax(&result[1], static_cast<unsigned long long>(__double_as_longlong(mag)));
}

void fill(void* out, Elem e, int64_t n, uint64_t seed, double std_dev) {
  fill_normal<<<kFillBlocks, kFillThreads>>>(out, e, n, seed, std_dev);
  GDN_CUDA_CHECK(cudaGetLastError());
}
DeviceBuffer as_double(const void* in, Elem e, int64_t n) {
  DeviceBuffer out(static_cast<size_t>(n) * sizeof(double));
  to_double<<<kFillBlocks, kFillThreads>>>(in, e, out.get<double>(), n);
  GDN_CUDA_CHECK(cudaGetLastError());
  return out;
}
struct Errors {
  double err = 0.0, mag = 0.0;
};
Errors errors(const void* x, Elem e, const double* ref, int64_t n) {
  DeviceBuffer r(2 * sizeof(unsigned long long));
  GDN_CUDA_CHECK(cudaMemset(r.get(), 0, r.bytes()));
  max_errors<<<kFillBlocks, kFillThreads>>>(x, e, ref, n, r.get<unsigned long long>());
  GDN_CUDA_CHECK(cudaGetLastError());
  unsigned long long h[2];
  GDN_CUDA_CHECK(cudaMemcpy(h, r.get(), sizeof h, cudaMemcpyDeviceToHost));
  Errors out;
  std::memcpy(&out.err, &h[0], 8);
  std::memcpy(&out.mag, &h[1], 8);
  return out;
}

struct Row {
  int tp = 0, H = 0, HV = 0;
  int64_t batch = 0;
  std::string layout, state, variant;
  int bv = 0, threads = 0;
  bool chosen = false;  // the family's choice for this shape
  kernels::GateArithmetic arithmetic = kernels::GateArithmetic::BranchFree;  // the build timed
  bool early_reads = false;  // programmatic: the slots and the state read before the wait
  bool ok = false;
  double o_err = 0, s_err = 0;  // relative to max |ref|
  double us = 0, us_min = 0, us_max = 0;
  double bytes = 0, gbps = 0, pct = 0;
  int launches = 0, sets = 0;
};

// The floors of one configuration (bench_floor.hpp), with the chosen variant's grid.
struct FloorRow {
  int tp = 0;
  int64_t batch = 0;
  std::string layout, state;
  Floors floors;
  double bytes = 0;
};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// One (TP, B, layout, state dtype): every requested tile checked, then timed.
void bench_config(const BenchOptions& opt, const DeviceInfo& dev, double copy_gbps, int tp, int64_t B,
                  const std::string& layout_name, const std::string& state_name, std::vector<Row>& rows,
                  std::vector<FloorRow>& floor_rows, int& status) {
  const int H = 16 / tp, HV = 32 / tp;
  const Layout layout = parse_layout(layout_name);
  const bool vk = layout == Layout::VK;
  const Elem se = state_name == "bf16" ? Elem::BF16 : Elem::F32;
  const std::string family = lower(layout_name) + "-" + (se == Elem::BF16 ? "bf16-bf16state" : "bf16-fp32state");
  Config cfg;
  cfg.H = H;
  cfg.HV = HV;
  cfg.K = kK;
  cfg.V = kV;
  cfg.layout = layout;
  KernelOptions launch;
  launch.programmatic_launch = opt.programmatic;
  const Variant& chosen_variant = find_variant(family, cfg, B, dev.sms, launch);
  const std::string chosen = chosen_variant.name;

  const int64_t head = int64_t(kK) * kV;
  const int64_t state_bytes = B * HV * head * static_cast<int64_t>(elem_bytes(se));
  // A programmatic launch with early reads takes its state before the previous launch has
  // finished: the two must use different sets.
  const int64_t sets = std::clamp<int64_t>((opt.rotate_bytes + state_bytes - 1) / state_bytes, opt.programmatic ? 2 : 1, 4096);
  const int64_t launches = std::max<int64_t>(sets, opt.min_launches);
  const int64_t slots = sets * B;                          // sequences over all input sets
  const int64_t pool_rows = slots * opt.slot_pool;         // state rows they are drawn from
  const int64_t set_rows = B * opt.slot_pool;              // rows of one input set

  DeviceBuffer pool(static_cast<size_t>(pool_rows * HV * head) * elem_bytes(se));
  DeviceBuffer q(static_cast<size_t>(slots * H * kK) * 2), k(static_cast<size_t>(slots * H * kK) * 2);
  DeviceBuffer v(static_cast<size_t>(slots * HV * kV) * 2), o(static_cast<size_t>(slots * HV * kV) * 2);
  DeviceBuffer a(static_cast<size_t>(slots * HV) * 2), b(static_cast<size_t>(slots * HV) * 2);
  DeviceBuffer A_log(HV * sizeof(float)), dt_bias(HV * sizeof(float)), idx(static_cast<size_t>(slots) * 4);
  uint64_t seed = opt.seed * 0x9e3779b97f4a7c15ull + static_cast<uint64_t>(B * 131 + tp * 7 + vk * 3 + (se == Elem::BF16));
  fill(pool.get(), se, pool_rows * HV * head, seed + 1, 0.5);
  fill(q.get(), Elem::BF16, slots * H * kK, seed + 2, 1.0);
  fill(k.get(), Elem::BF16, slots * H * kK, seed + 3, 1.0);
  fill(v.get(), Elem::BF16, slots * HV * kV, seed + 4, 1.0);
  fill(a.get(), Elem::BF16, slots * HV, seed + 5, 1.0);
  fill(b.get(), Elem::BF16, slots * HV, seed + 6, 1.0);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uniform;
  std::vector<float> hA(HV), hdt(HV);
  for (int h = 0; h < HV; ++h) {
    hA[h] = static_cast<float>(std::log(1.0 + 15.0 * uniform(rng)));
    const double dt = std::exp(std::log(1e-3) + (std::log(1e-1) - std::log(1e-3)) * uniform(rng));
    hdt[h] = static_cast<float>(dt + std::log(-std::expm1(-dt)));
  }
  std::vector<int32_t> hidx(static_cast<size_t>(slots));
  for (int64_t s = 0; s < sets; ++s) {
    std::vector<int32_t> rows(static_cast<size_t>(set_rows));
    std::iota(rows.begin(), rows.end(), static_cast<int32_t>(s * set_rows));
    if (opt.slot_pool > 1) {  // B distinct rows of the set's F * B
      std::shuffle(rows.begin(), rows.end(), rng);
      rows.resize(static_cast<size_t>(B));
      std::sort(rows.begin(), rows.end());
    }
    if (!opt.sequential_slots) std::shuffle(rows.begin(), rows.end(), rng);
    std::copy(rows.begin(), rows.end(), hidx.begin() + s * B);
  }
  GDN_CUDA_CHECK(cudaMemcpy(A_log.get(), hA.data(), A_log.bytes(), cudaMemcpyHostToDevice));
  GDN_CUDA_CHECK(cudaMemcpy(dt_bias.get(), hdt.data(), dt_bias.bytes(), cudaMemcpyHostToDevice));
  GDN_CUDA_CHECK(cudaMemcpy(idx.get(), hidx.data(), idx.bytes(), cudaMemcpyHostToDevice));

  kernels::GateArithmetic arithmetic = kernels::GateArithmetic::BranchFree;  // the variant's, set below
  bool early_reads = true;                                                     // the variant's, set below
  auto params_for = [&](int64_t s) {
    kernels::RecurrentParams p;
    p.N = static_cast<int>(B);
    p.H = H;
    p.HV = HV;
    p.K = kK;
    p.V = kV;
    p.tokens_per_seq = 1;
    p.q = q.get<char>() + s * B * H * kK * 2;
    p.k = k.get<char>() + s * B * H * kK * 2;
    p.v = v.get<char>() + s * B * HV * kV * 2;
    p.q_token_stride = p.k_token_stride = H * kK;
    p.q_head_stride = p.k_head_stride = kK;
    p.v_token_stride = HV * kV;
    p.v_head_stride = kV;
    p.gate_mode = kernels::GateMode::Raw;
    p.a = a.get<char>() + s * B * HV * 2;
    p.b = b.get<char>() + s * B * HV * 2;
    p.A_log = A_log.get();
    p.dt_bias = dt_bias.get();
    p.gate_token_stride = HV;
    p.gate_head_stride = 1;
    p.norm = kernels::NormMode::L2Eps;
    p.scale = 1.0 / std::sqrt(static_cast<double>(kK));
    p.state = pool.get();
    p.state_slot_stride = HV * head;
    p.state_head_stride = head;
    p.state_indices = idx.get<int32_t>() + s * B;
    p.o = o.get<char>() + s * B * HV * kV * 2;
    p.o_token_stride = HV * kV;
    p.o_head_stride = kV;
    p.state_round = se == Elem::BF16 ? kernels::StateRound::Nearest : kernels::StateRound::None;
    p.programmatic_launch = opt.programmatic;
    p.early_state_reads = opt.programmatic && early_reads;  // launch i + 1 uses other slots than launch i
    p.arithmetic = arithmetic;
    return p;
  };

  // The oracle for input set 0 (pool rows 0 .. set_rows - 1): the float64 kernel on the same
  // numbers.
  const int64_t set0 = set_rows * HV * head;
  DeviceBuffer backup(static_cast<size_t>(set0) * elem_bytes(se));
  GDN_CUDA_CHECK(cudaMemcpy(backup.get(), pool.get(), backup.bytes(), cudaMemcpyDeviceToDevice));
  DeviceBuffer ref_pool = as_double(pool.get(), se, set0);
  DeviceBuffer dq = as_double(q.get(), Elem::BF16, B * H * kK), dk = as_double(k.get(), Elem::BF16, B * H * kK);
  DeviceBuffer dv = as_double(v.get(), Elem::BF16, B * HV * kV);
  DeviceBuffer da = as_double(a.get(), Elem::BF16, B * HV), db = as_double(b.get(), Elem::BF16, B * HV);
  DeviceBuffer dA = as_double(A_log.get(), Elem::F32, HV), ddt = as_double(dt_bias.get(), Elem::F32, HV);
  DeviceBuffer ref_o(static_cast<size_t>(B * HV * kV) * sizeof(double));
  kernels::RecurrentParams rp = params_for(0);
  rp.q = dq.get();
  rp.k = dk.get();
  rp.v = dv.get();
  rp.a = da.get();
  rp.b = db.get();
  rp.A_log = dA.get();
  rp.dt_bias = ddt.get();
  rp.state = ref_pool.get();
  rp.o = ref_o.get();
  rp.state_round = kernels::StateRound::None;
  rp.programmatic_launch = rp.early_state_reads = false;
  const kernels::LaunchFn f64 = kernels::find_launch(kernels::KernelKey{vk, Elem::F64, Elem::F64, 32, 128, kK, 1, false});
  if (!f64) throw std::runtime_error("bench: the float64 kernel is not compiled");
  f64(rp, nullptr);
  GDN_CUDA_CHECK(cudaDeviceSynchronize());

  // The float64 kernel itself against gdn::reference on the first sequences of set 0.
  {
    const int64_t Nc = std::min<int64_t>(B, 2);
    std::vector<double> hq(static_cast<size_t>(B * H * kK)), hk(hq.size()), hv(static_cast<size_t>(B * HV * kV)),
        ha(static_cast<size_t>(B * HV)), hb(ha.size()), hs0(static_cast<size_t>(set0)), hs1(hs0.size()), ho(hv.size());
    DeviceBuffer init = as_double(backup.get(), se, set0);
    GDN_CUDA_CHECK(cudaMemcpy(hq.data(), dq.get(), hq.size() * 8, cudaMemcpyDeviceToHost));
    GDN_CUDA_CHECK(cudaMemcpy(hk.data(), dk.get(), hk.size() * 8, cudaMemcpyDeviceToHost));
    GDN_CUDA_CHECK(cudaMemcpy(hv.data(), dv.get(), hv.size() * 8, cudaMemcpyDeviceToHost));
    GDN_CUDA_CHECK(cudaMemcpy(ha.data(), da.get(), ha.size() * 8, cudaMemcpyDeviceToHost));
    GDN_CUDA_CHECK(cudaMemcpy(hb.data(), db.get(), hb.size() * 8, cudaMemcpyDeviceToHost));
    GDN_CUDA_CHECK(cudaMemcpy(hs0.data(), init.get(), hs0.size() * 8, cudaMemcpyDeviceToHost));
    GDN_CUDA_CHECK(cudaMemcpy(hs1.data(), ref_pool.get(), hs1.size() * 8, cudaMemcpyDeviceToHost));
    GDN_CUDA_CHECK(cudaMemcpy(ho.data(), ref_o.get(), ho.size() * 8, cudaMemcpyDeviceToHost));
    Inputs in;
    in.cu_seqlens = IndexTensor({Nc + 1});
    for (int64_t n = 0; n <= Nc; ++n) in.cu_seqlens[n] = n;
    in.q = Tensor({Nc, H, kK});
    in.k = Tensor({Nc, H, kK});
    in.v = Tensor({Nc, HV, kV});
    in.a = Tensor({Nc, HV});
    in.b = Tensor({Nc, HV});
    in.A_log = Tensor({HV});
    in.dt_bias = Tensor({HV});
    std::copy_n(hq.begin(), in.q.size(), in.q.data.begin());
    std::copy_n(hk.begin(), in.k.size(), in.k.data.begin());
    std::copy_n(hv.begin(), in.v.size(), in.v.data.begin());
    std::copy_n(ha.begin(), in.a.size(), in.a.data.begin());
    std::copy_n(hb.begin(), in.b.size(), in.b.data.begin());
    for (int h = 0; h < HV; ++h) in.A_log[h] = hA[h], in.dt_bias[h] = hdt[h];
    in.state = Tensor(vk ? Shape{Nc, HV, kV, kK} : Shape{Nc, HV, kK, kV});
    for (int64_t n = 0; n < Nc; ++n) std::copy_n(hs0.begin() + hidx[n] * HV * head, HV * head, in.state.data.begin() + n * HV * head);
    const Outputs ref = oracle(cfg, in);
    double eo = 0, mo = 0, es = 0, ms = 0;
    for (int64_t i = 0; i < ref.o.size(); ++i) eo = std::max(eo, std::abs(ref.o[i] - ho[i])), mo = std::max(mo, std::abs(ref.o[i]));
    for (int64_t n = 0; n < Nc; ++n)
      for (int64_t x = 0; x < HV * head; ++x) {
        const double r = ref.state[n * HV * head + x];
        es = std::max(es, std::abs(r - hs1[hidx[n] * HV * head + x]));
        ms = std::max(ms, std::abs(r));
      }
    constexpr double kFp64Agreement = 1e-13;  // issue 4: the float64 kernel vs the Eigen reference
    if (!(eo <= kFp64Agreement * mo && es <= kFp64Agreement * ms)) {
      std::printf("FAILED: float64 kernel vs gdn::reference: output %.3g, state %.3g relative\n", eo / mo, es / ms);
      status = 1;
      return;
    }
  }

  // One decode step from exact inputs: the kernel differs from the float64 oracle by the
  // state's storage rounding (u_s = 2^-8 for bf16, 0 for fp32), the output's rounding to
  // bf16 (2^-8) and fp32 arithmetic: dot products of K = 128 terms (gamma_128 ~ 8e-6 of
  // |k||s|, and |S|^T|q~| is ~sqrt(K) |o| for random states), gates and norms (a few ulp),
  // together far below 1e-4 of max |S| and max |o|.
  constexpr double kArith = 1e-4;
  const double tol_s = (se == Elem::BF16 ? 0x1p-8 : 0.0) + kArith, tol_o = 0x1p-8 + kArith;

  cudaStream_t stream;
  GDN_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  for (const Variant& var : variants()) {
    if (var.family != family || var.stochastic) continue;
    if (opt.chosen_only && var.name != chosen) continue;
    if (!takes_columns(var, cfg)) continue;
    if (!opt.bvs.empty() && std::find(opt.bvs.begin(), opt.bvs.end(), var.bv) == opt.bvs.end()) continue;
    if (!runs_on(var, dev)) {
      std::printf("%s: skipped, needs thread block clusters (sm_90+)\n", var.name.c_str());
      continue;
    }
    const kernels::LaunchFn launch = kernels::find_launch(key_of(var));
    Row row;
    row.tp = tp, row.H = H, row.HV = HV, row.batch = B, row.layout = layout_name, row.state = state_name;
    row.variant = var.name, row.bv = var.bv, row.threads = var.threads, row.chosen = var.name == chosen;
    arithmetic = opt.arithmetic != kernels::GateArithmetic::Auto
                     ? opt.arithmetic
                     : choose_arithmetic(var, cfg, B, dev.sms, opt.programmatic);
    early_reads = opt.state_reads == BenchOptions::StateReads::Early  ? true
                  : opt.state_reads == BenchOptions::StateReads::Late ? false
                                                                      : takes_early_reads(var, cfg, B, dev.sms);
    row.arithmetic = arithmetic;
    row.early_reads = opt.programmatic && early_reads;
    row.sets = static_cast<int>(sets), row.launches = static_cast<int>(launches);
    row.bytes = 2.0 * static_cast<double>(state_bytes);

    GDN_CUDA_CHECK(cudaMemcpy(pool.get(), backup.get(), backup.bytes(), cudaMemcpyDeviceToDevice));
    launch(params_for(0), nullptr);
    GDN_CUDA_CHECK(cudaDeviceSynchronize());
    const Errors eo = errors(o.get(), Elem::BF16, ref_o.get<double>(), B * HV * kV);
    const Errors es = errors(pool.get(), se, ref_pool.get<double>(), set0);
    row.o_err = eo.err / eo.mag;
    row.s_err = es.err / es.mag;
    row.ok = eo.err <= tol_o * eo.mag && es.err <= tol_s * es.mag;
    if (!row.ok) {
      std::printf("FAILED: %s TP=%d B=%lld: output error %.3g, state error %.3g (relative to max |ref|; bounds %.3g, %.3g)\n",
                  var.name.c_str(), tp, static_cast<long long>(B), row.o_err, row.s_err, tol_o, tol_s);
      status = 1;
      rows.push_back(row);
      continue;
    }

    const LaunchTiming timing =
        time_graph(launches, opt.replays, stream, [&](int64_t i, cudaStream_t st) { launch(params_for(i % sets), st); });
    row.us = timing.us_median;
    row.us_min = timing.us_min;
    row.us_max = timing.us_max;
    row.gbps = row.bytes / (row.us * 1e-6) * 1e-9;
    row.pct = 100.0 * row.gbps / copy_gbps;
    std::printf("TP=%d B=%5lld %s %s-state  %-24s thr %3d %s %s%s  %9.2f us [%8.2f, %8.2f]  %7.1f GB/s  %5.1f%%  err o %.2e s %.2e\n",
                tp, static_cast<long long>(B), layout_name.c_str(), state_name.c_str(), var.name.c_str(), var.threads,
                row.chosen ? "*" : " ", arithmetic == kernels::GateArithmetic::Intrinsic ? "i" : "b",
                !opt.programmatic ? " " : row.early_reads ? "E" : "L", row.us, row.us_min, row.us_max, row.gbps, row.pct,
                row.o_err, row.s_err);
    std::fflush(stdout);
    rows.push_back(row);
  }

  FloorRow fr;
  fr.tp = tp, fr.batch = B, fr.layout = layout_name, fr.state = state_name, fr.bytes = 2.0 * static_cast<double>(state_bytes);
  FloorSetup fs;
  fs.batch = B;
  fs.HV = HV;
  fs.head_bytes = head * static_cast<int64_t>(elem_bytes(se));
  fs.sets = sets;
  fs.launches = launches;
  fs.indices = idx.get<int32_t>();
  fs.pool = pool.get();
  fs.blocks = static_cast<unsigned>(B * HV * (kV / chosen_variant.bv));
  fs.threads = static_cast<unsigned>(chosen_variant.threads);
  fs.programmatic = opt.programmatic;
  fs.replays = opt.replays;
  fr.floors = measure_floors(fs, stream);
  const double floor_pct = 100.0 * fr.bytes / (fr.floors.state_round_trip.us_median * 1e-6) * 1e-9 / copy_gbps;
  std::printf("TP=%d B=%5lld %s %s-state  floors: empty kernel %.2f us [%.2f, %.2f], slot + state round trip %.2f us [%.2f, %.2f] (%.1f%%)\n",
              tp, static_cast<long long>(B), layout_name.c_str(), state_name.c_str(), fr.floors.launch.us_median,
              fr.floors.launch.us_min, fr.floors.launch.us_max, fr.floors.state_round_trip.us_median,
              fr.floors.state_round_trip.us_min, fr.floors.state_round_trip.us_max, floor_pct);
  std::fflush(stdout);
  floor_rows.push_back(fr);
  GDN_CUDA_CHECK(cudaStreamDestroy(stream));
}

// printf into a string (the JSON is built whole, then written atomically).
template <class... Args>
void appendf(std::string& out, const char* format, Args... args) {
  const int n = std::snprintf(nullptr, 0, format, args...);
  const size_t at = out.size();
  out.resize(at + static_cast<size_t>(n) + 1);
  std::snprintf(&out[at], static_cast<size_t>(n) + 1, format, args...);
  out.resize(at + static_cast<size_t>(n));
}

// `"name": [` one(item) per line, comma-separated `]`.
template <class T, class One>
void append_array(std::string& out, const char* name, const std::vector<T>& items, One one) {
  appendf(out, "  \"%s\": [\n", name);
  for (size_t i = 0; i < items.size(); ++i) {
    out += "    ";
    one(items[i]);
    out += i + 1 < items.size() ? ",\n" : "\n";
  }
  out += "  ]";
}

// The launch mode as gdn bench --launch names it.
const char* launch_name(const BenchOptions& opt) {
  if (!opt.programmatic) return "plain";
  switch (opt.state_reads) {
    case BenchOptions::StateReads::Early: return "programmatic-early";
    case BenchOptions::StateReads::Late: return "programmatic-late";
    default: return "programmatic";
  }
}

void write_json(const BenchOptions& opt, const DeviceInfo& dev, double copy_gbps, double copy_gbps_end,
                const std::vector<Row>& rows, const std::vector<FloorRow>& floor_rows) {
  std::string j;
  appendf(j, "{\n  \"benchmark\": \"gdn-decode\",\n  \"version\": \"%s\",\n  \"revision\": \"%s\",\n",
          opt.version.c_str(), opt.revision.c_str());
  appendf(j, "  \"device\": {\"name\": \"%s\", \"sm\": \"%d.%d\", \"multiprocessors\": %d, \"l2_bytes\": %lld},\n",
          dev.name.c_str(), dev.major, dev.minor, dev.sms, static_cast<long long>(dev.l2_bytes));
  appendf(j, "  \"copy_gbps\": %.1f,\n  \"copy_gbps_end\": %.1f,\n  \"replays\": %d,\n  \"launch\": \"%s\",\n",
          copy_gbps, copy_gbps_end, opt.replays, launch_name(opt));
  appendf(j, "  \"slots\": \"%s\",\n  \"slot_pool\": %d,\n  \"arithmetic\": \"%s\",\n",
          opt.sequential_slots ? "sequential" : "random", opt.slot_pool, kernels::to_string(opt.arithmetic));
  append_array(j, "floors", floor_rows, [&](const FloorRow& r) {
    appendf(j,
            "{\"tp\": %d, \"batch\": %lld, \"layout\": \"%s\", \"state\": \"%s\", \"empty_us\": %.3f, "
            "\"empty_us_min\": %.3f, \"empty_us_max\": %.3f, \"round_trip_us\": %.3f, \"round_trip_us_min\": %.3f, "
            "\"round_trip_us_max\": %.3f, \"state_bytes_moved\": %.0f}",
            r.tp, static_cast<long long>(r.batch), r.layout.c_str(), r.state.c_str(), r.floors.launch.us_median,
            r.floors.launch.us_min, r.floors.launch.us_max, r.floors.state_round_trip.us_median,
            r.floors.state_round_trip.us_min, r.floors.state_round_trip.us_max, r.bytes);
  });
  j += ",\n";
  append_array(j, "results", rows, [&](const Row& r) {
    appendf(j,
            "{\"tp\": %d, \"H\": %d, \"HV\": %d, \"K\": %d, \"V\": %d, \"batch\": %lld, \"layout\": \"%s\", "
            "\"state\": \"%s\", \"input\": \"bf16\", \"variant\": \"%s\", \"bv\": %d, \"threads\": %d, "
            "\"chosen\": %s, \"check_ok\": %s, \"o_err_rel\": %.3e, \"state_err_rel\": %.3e, \"us_median\": %.3f, "
            "\"us_min\": %.3f, \"us_max\": %.3f, \"state_bytes_moved\": %.0f, \"gbps\": %.1f, \"pct_copy\": %.2f, "
            "\"input_sets\": %d, \"launches_per_graph\": %d, \"arithmetic\": \"%s\", \"early_state_reads\": %s}",
            r.tp, r.H, r.HV, kK, kV, static_cast<long long>(r.batch), r.layout.c_str(), r.state.c_str(),
            r.variant.c_str(), r.bv, r.threads, r.chosen ? "true" : "false", r.ok ? "true" : "false", r.o_err,
            r.s_err, r.us, r.us_min, r.us_max, r.bytes, r.gbps, r.pct, r.sets, r.launches,
            kernels::to_string(r.arithmetic), r.early_reads ? "true" : "false");
  });
  j += "\n}\n";
  write_file_atomically(opt.json_path, j);
}

}  // namespace

int run_bench(const BenchOptions& opt) {
  const DeviceInfo dev = require_device();
  if (opt.replays < 10) throw InputError("bench: at least 10 replays (PERF.md)");
  if (opt.slot_pool < 1 || opt.slot_pool > 64) throw InputError("bench: --slot-pool must be 1 to 64");
  const double copy_gbps = copy_ceiling_gbps(opt.copy_bytes);
  std::printf("gdn bench: %s (sm_%d%d, %d SMs, L2 %lld MB), revision %s\n", dev.name.c_str(), dev.major, dev.minor,
              dev.sms, static_cast<long long>(dev.l2_bytes >> 20), opt.revision.c_str());
  std::printf("copy ceiling: %.1f GB/s (cudaMemcpy D2D of %lld MB, read + write, median of 20)\n", copy_gbps,
              static_cast<long long>(opt.copy_bytes >> 20));
  std::printf("time per launch: median of %d graph replays [min, max]; %% of the copy ceiling; * = the family's choice; "
              "b / i = the branch-free / intrinsic build of the gates; E / L = state read before / after the wait; "
              "%s launches; slots %s, drawn from %d pool row(s) per sequence; gate arithmetic %s\n",
              opt.replays,
              !opt.programmatic ? "plain"
              : opt.state_reads == BenchOptions::StateReads::Late
                  ? "programmatic dependent (state read after the previous launch ends)"
              : opt.state_reads == BenchOptions::StateReads::Early
                  ? "programmatic dependent (state read before the previous launch ends)"
                  : "programmatic dependent (state read before the previous launch ends unless the family's "
                    "choice reads it after: E / L)",
              opt.sequential_slots ? "in ascending order" : "in random order", opt.slot_pool,
              kernels::to_string(opt.arithmetic));
  std::vector<Row> rows;
  std::vector<FloorRow> floor_rows;
  int status = 0;
  for (int tp : opt.tp) {
    if (tp != 1 && tp != 2 && tp != 4) throw InputError("bench: TP must be 1, 2 or 4 (Qwen3-Next: 16 / 32 heads)");
    for (int64_t B : opt.batches)
      for (const std::string& layout : opt.layouts)
        for (const std::string& state : opt.states) {
          if (state != "bf16" && state != "fp32") throw InputError("bench: state must be bf16 or fp32, not " + state);
          bench_config(opt, dev, copy_gbps, tp, B, layout, state, rows, floor_rows, status);
        }
  }
  const double copy_gbps_end = copy_ceiling_gbps(opt.copy_bytes);
  std::printf("copy ceiling at the end: %.1f GB/s\n", copy_gbps_end);
  // The same copy has measured 14% slower at the end of a run that allocated and freed large
  // pools (experiments/slot_order); the percentages are then against a ceiling that moved.
  constexpr double kCeilingDrift = 0.03;
  if (std::abs(copy_gbps_end / copy_gbps - 1.0) > kCeilingDrift)
    std::printf("warning: the copy ceiling moved by %+.1f%% during the run; the percentages use the first figure\n",
                100.0 * (copy_gbps_end / copy_gbps - 1.0));
  if (!opt.json_path.empty()) write_json(opt, dev, copy_gbps, copy_gbps_end, rows, floor_rows);
  return status;
}

}  // namespace gdn::gpu
