// The device's own arithmetic against the host: __float2bfloat16_rn (the cvt instruction)
// against reference/rounding.hpp's bf16_bits_rne for every float bit pattern; stochastic
// rounding and random16 against the reference; exp_c, log1p_c and the gates bit for bit
// against the same functions compiled for the host (the premise of the CPU emulation).
// Exits 77 (skipped) without a GPU.
#include <cuda_bf16.h>

#include <cmath>
#include <thread>
#include <vector>

#include "catch.hpp"
#include "cuda/cuda_check.hpp"
#include "cuda/numeric.hpp"
#include "cuda/step.hpp"
#include "gpu/branch_free_cases.hpp"
#include "reference/rounding.hpp"

namespace {

__global__ void bf16_of_patterns(uint64_t first, uint16_t* out, int64_t n) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) out[i] = __bfloat16_as_ushort(__float2bfloat16_rn(__uint_as_float(static_cast<uint32_t>(first + i))));
}

__global__ void stochastic_and_random(const uint32_t* x, uint16_t* sr, uint32_t* rnd, int64_t n) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) {
    const uint32_t r = gdn::kernels::random16(0xfeedull, static_cast<uint64_t>(i) * 7919u);
    rnd[i] = r;
    sr[i] = gdn::kernels::bf16_bits_stochastic(__uint_as_float(x[i]), r);
  }
}

// The functions in arithmetic build A (numeric.hpp); the host's are always BranchFree.
template <class T, class A>
__global__ void functions(const T* x, T* out, int64_t n) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) {
    out[4 * i + 0] = gdn::kernels::exp_c<T, A>(x[i]);
    out[4 * i + 1] = gdn::kernels::softplus<T, A>(x[i]);
    out[4 * i + 2] = gdn::kernels::sigmoid<T, A>(x[i]);
    const gdn::kernels::Gates<T> g =
        gdn::kernels::token_gates<T, A>(gdn::kernels::GateMode::Raw, T(0.7), T(-3.5), x[i], -x[i], false, false);
    out[4 * i + 3] = g.decay * T(3) + g.beta;
  }
}

__global__ void branch_free(const float* a, const float* b, float* out, int64_t n) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) {
    out[3 * i + 0] = gdn::kernels::reciprocal_rn(b[i]);
    out[3 * i + 1] = gdn::kernels::div_c(a[i], b[i]);
    out[3 * i + 2] = gdn::kernels::sqrt_c(b[i]);
  }
}

constexpr int kThreads = 256;
unsigned blocks_for(int64_t n) { return static_cast<unsigned>((n + kThreads - 1) / kThreads); }

template <class T, class A>
void check_functions_on_device(const char* type_name, T lo, T hi) {
  constexpr int64_t n = 1 << 20;
  std::vector<T> x(n), dev(4 * n);
  for (int64_t i = 0; i < n; ++i) x[i] = lo + (hi - lo) * static_cast<T>(i) / static_cast<T>(n - 1);
  gdn::gpu::DeviceBuffer dx(n * sizeof(T)), dout(4 * n * sizeof(T));
  GDN_CUDA_CHECK(cudaMemcpy(dx.get(), x.data(), dx.bytes(), cudaMemcpyHostToDevice));
  functions<T, A><<<blocks_for(n), kThreads>>>(dx.get<T>(), dout.get<T>(), n);
  GDN_CUDA_CHECK(cudaGetLastError());
  GDN_CUDA_CHECK(cudaMemcpy(dev.data(), dout.get(), dout.bytes(), cudaMemcpyDeviceToHost));
  int64_t mismatches = 0;
  for (int64_t i = 0; i < n; ++i) {
    const T host[4] = {gdn::kernels::exp_c(x[i]), gdn::kernels::softplus(x[i]), gdn::kernels::sigmoid(x[i]),
                       [&] {
                         const auto g = gdn::kernels::token_gates(gdn::kernels::GateMode::Raw, T(0.7), T(-3.5), x[i],
                                                                  -x[i], false, false);
                         return g.decay * T(3) + g.beta;
                       }()};
    for (int f = 0; f < 4; ++f)
      if (std::memcmp(&host[f], &dev[4 * i + f], sizeof(T)) != 0) ++mismatches;
  }
  std::printf("%s exp/softplus/sigmoid/gates: %lld values, %lld device != host\n", type_name,
              static_cast<long long>(4 * n), static_cast<long long>(mismatches));
  CHECK(mismatches == 0);
}

}  // namespace

TEST_CASE("device __float2bfloat16_rn equals reference bf16_bits_rne on every float", "[gpu][rounding]") {
  constexpr int64_t kChunk = int64_t(1) << 28;
  gdn::gpu::DeviceBuffer out(kChunk * sizeof(uint16_t));
  std::vector<uint16_t> host(kChunk);
  int64_t mismatches = 0;
  uint32_t first_bad = 0;
  for (uint64_t first = 0; first < (uint64_t(1) << 32); first += kChunk) {
    bf16_of_patterns<<<blocks_for(kChunk), kThreads>>>(first, out.get<uint16_t>(), kChunk);
    GDN_CUDA_CHECK(cudaGetLastError());
    GDN_CUDA_CHECK(cudaMemcpy(host.data(), out.get(), out.bytes(), cudaMemcpyDeviceToHost));
    const unsigned workers = std::max(1u, std::thread::hardware_concurrency());
    std::vector<int64_t> bad(workers, 0);
    std::vector<uint32_t> where(workers, 0);
    std::vector<std::thread> pool;
    for (unsigned w = 0; w < workers; ++w)
      pool.emplace_back([&, w] {
        for (int64_t i = w; i < kChunk; i += workers) {
          const uint32_t u = static_cast<uint32_t>(first + i);
          if (host[i] != gdn::bf16_bits_rne(gdn::bits_float(u)) && bad[w]++ == 0) where[w] = u;
        }
      });
    for (auto& t : pool) t.join();
    for (unsigned w = 0; w < workers; ++w) {
      if (bad[w] && !mismatches) first_bad = where[w];
      mismatches += bad[w];
    }
  }
  std::printf("__float2bfloat16_rn on the device vs reference: 2^32 patterns, %lld mismatches\n",
              static_cast<long long>(mismatches));
  INFO("first mismatch at float bits 0x" << std::hex << first_bad);
  CHECK(mismatches == 0);
}

TEST_CASE("device stochastic rounding and random16 equal the reference", "[gpu][rounding]") {
  constexpr int64_t n = 1 << 24;
  std::vector<uint32_t> x(n);
  for (int64_t i = 0; i < n; ++i) x[i] = static_cast<uint32_t>(i * 256 + (i % 251));  // strided over all patterns
  gdn::gpu::DeviceBuffer dx(n * 4), dsr(n * 2), drnd(n * 4);
  GDN_CUDA_CHECK(cudaMemcpy(dx.get(), x.data(), dx.bytes(), cudaMemcpyHostToDevice));
  stochastic_and_random<<<blocks_for(n), kThreads>>>(dx.get<uint32_t>(), dsr.get<uint16_t>(), drnd.get<uint32_t>(), n);
  GDN_CUDA_CHECK(cudaGetLastError());
  std::vector<uint16_t> sr(n);
  std::vector<uint32_t> rnd(n);
  GDN_CUDA_CHECK(cudaMemcpy(sr.data(), dsr.get(), dsr.bytes(), cudaMemcpyDeviceToHost));
  GDN_CUDA_CHECK(cudaMemcpy(rnd.data(), drnd.get(), drnd.bytes(), cudaMemcpyDeviceToHost));
  int64_t mismatches = 0;
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t r = gdn::random16(0xfeedull, static_cast<uint64_t>(i) * 7919u);
    if (rnd[i] != r) ++mismatches;
    const float ref = gdn::round_bf16_stochastic(gdn::bits_float(x[i]), r);
    const float dev = gdn::bf16_bits_to_float(sr[i]);
    if (gdn::float_bits(ref) != gdn::float_bits(dev) && !(std::isnan(ref) && std::isnan(dev))) ++mismatches;
  }
  std::printf("stochastic rounding + random16 on the device vs reference: %lld values, %lld mismatches\n",
              static_cast<long long>(n), static_cast<long long>(mismatches));
  CHECK(mismatches == 0);
}

TEST_CASE("exp_c, softplus, sigmoid and gates: device equals host bit for bit, both arithmetic builds",
          "[gpu][numerics]") {
  using gdn::kernels::BranchFree;
  using gdn::kernels::Intrinsic;
  check_functions_on_device<float, BranchFree>("float", -110.0f, 110.0f);
  check_functions_on_device<float, BranchFree>("float near 0", -1e-3f, 1e-3f);
  check_functions_on_device<double, BranchFree>("double", -750.0, 750.0);
  check_functions_on_device<double, BranchFree>("double near 0", -1e-6, 1e-6);
  check_functions_on_device<float, Intrinsic>("float, intrinsic build", -110.0f, 110.0f);
  check_functions_on_device<float, Intrinsic>("float near 0, intrinsic build", -1e-3f, 1e-3f);
  check_functions_on_device<double, Intrinsic>("double, intrinsic build", -750.0, 750.0);
}

// The device's branch-free reciprocal, division and square root (numeric.hpp), the same code
// as the host's (emulation_test), against IEEE on the cases of branch_free_cases.hpp.
TEST_CASE("device branch-free reciprocal, division and square root equal IEEE on their domains", "[gpu][numerics]") {
  std::vector<float> a, b;
  gdn::test::for_each_branch_free_case(7, [&](float x, float y) {
    a.push_back(x);
    b.push_back(y);
  });
  const int64_t n = static_cast<int64_t>(b.size());
  gdn::gpu::DeviceBuffer da(n * 4), db(n * 4), dout(3 * n * 4);
  GDN_CUDA_CHECK(cudaMemcpy(da.get(), a.data(), da.bytes(), cudaMemcpyHostToDevice));
  GDN_CUDA_CHECK(cudaMemcpy(db.get(), b.data(), db.bytes(), cudaMemcpyHostToDevice));
  branch_free<<<blocks_for(n), kThreads>>>(da.get<float>(), db.get<float>(), dout.get<float>(), n);
  GDN_CUDA_CHECK(cudaGetLastError());
  std::vector<float> out(3 * n);
  GDN_CUDA_CHECK(cudaMemcpy(out.data(), dout.get(), dout.bytes(), cudaMemcpyDeviceToHost));
  gdn::test::IeeeComparison compare;
  for (int64_t i = 0; i < n; ++i) compare(a[i], b[i], out[3 * i], out[3 * i + 1], out[3 * i + 2]);
  std::printf("device branch-free reciprocal, division, sqrt: %lld of %lld differ from IEEE\n",
              static_cast<long long>(compare.differences), static_cast<long long>(compare.checked));
  INFO(compare.first);
  CHECK(compare.differences == 0);
}
