// Where a block keeps its K x BV tile of the state between the passes of a token: in
// registers (RegisterTile) or in shared memory (SharedTile). The thread map, the order of
// every operation and so the bits are the same in both (the CPU emulation does not know
// which); what differs is what limits how many blocks an SM holds.
//
// RegisterTile: kRows x kCols values per thread in registers. The tile costs 64 registers
// per thread (bf16 or fp32 state), so a multiprocessor holds few blocks, and each block
// waits for its slot index and then its state: few bytes in flight per SM (experiments/bv_tile).
// SharedTile: the thread's vectors in shared memory, copied there with cp.async as they are
// stored (bf16 stays bf16), read back by the same thread in each pass. Registers drop to what
// the token's inputs and sums need, so several times more blocks (and bytes in flight) fit
// on an SM; the cost is one shared-memory read per vector per pass, and the decay applied
// twice (pass 1 cannot write decayed values back into a bf16 tile; recomputing them gives
// the same bits).
//
// Interface: load(...) fills the tile from global memory; pass(f, write_back) calls
// f(vi, x) for each of the thread's memory vectors vi with x[kVec] its values in compute
// type, and keeps what f leaves in x when write_back (a RegisterTile always keeps it);
// kKeepsPass1 says whether pass 1's values (the decayed state) are what pass 2 starts from.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "kernel_traits.hpp"
#include "numeric.hpp"
#include "step.hpp"

namespace gdn::kernels {

template <class Tr>
using Raw = std::conditional_t<Tr::kVecBytes == 16, uint4, uint2>;

// kPer elements of T held in one raw vector, in compute type. bf16 pairs are unpacked from
// 32-bit words (one shift or mask each).
template <class T, int kPer, class RawT, class C>
__device__ __forceinline__ void unpack(const RawT& raw, C* out) {
  if constexpr (std::is_same_v<T, bf16>) {
    const uint32_t* w = reinterpret_cast<const uint32_t*>(&raw);
#pragma unroll
    for (int i = 0; i < kPer / 2; ++i) {
      out[2 * i] = bf16x2_lo(w[i]);
      out[2 * i + 1] = bf16x2_hi(w[i]);
    }
  } else {
    const T* e = reinterpret_cast<const T*>(&raw);
#pragma unroll
    for (int i = 0; i < kPer; ++i) out[i] = load_as_compute(e[i]);
  }
}

// The vector in the state type as memory holds it: bf16 rounded to nearest even (exact for
// values already on its grid), float and double as they are.
template <class Tr>
__device__ __forceinline__ Raw<Tr> pack_nearest(const typename Tr::ComputeT (&x)[Tr::kVec]) {
  using StateT = typename Tr::StateT;
  union {
    Raw<Tr> raw;
    uint32_t w[sizeof(Raw<Tr>) / 4];
    StateT e[Tr::kVec];
  } u;
  if constexpr (std::is_same_v<StateT, bf16>) {
#pragma unroll
    for (int i = 0; i < Tr::kVec / 2; ++i) u.w[i] = bf16x2_bits_rne(x[2 * i], x[2 * i + 1]);
  } else {
#pragma unroll
    for (int e = 0; e < Tr::kVec; ++e) u.e[e] = store_from_compute<StateT>(x[e]);
  }
  return u.raw;
}

// Offset in a head of the thread's memory vector vi (kVec elements).
template <class Tr>
__device__ __forceinline__ int64_t vector_offset(int V, int col0, int tk, int cg, int vi) {
  return state_element<Tr::kIsVK>(Tr::kK, V, Tr::row_of(tk, Tr::vec_r(vi, 0)), col0 + Tr::col_of(cg, Tr::vec_c(vi, 0)));
}

template <class Tr>
struct RegisterTile {
  using C = typename Tr::ComputeT;
  static constexpr bool kKeepsPass1 = true;
  C s[Tr::kRows][Tr::kCols];

  __device__ __forceinline__ void load(const typename Tr::StateT* head, int V, int col0, int tk, int cg, int /*tid*/) {
#pragma unroll
    for (int vi = 0; vi < Tr::kVectors; ++vi) {
      const Raw<Tr> raw = *reinterpret_cast<const Raw<Tr>*>(head + vector_offset<Tr>(V, col0, tk, cg, vi));
      C x[Tr::kVec];
      unpack<typename Tr::StateT, Tr::kVec>(raw, x);
#pragma unroll
      for (int e = 0; e < Tr::kVec; ++e) s[Tr::vec_r(vi, e)][Tr::vec_c(vi, e)] = x[e];
    }
  }
  template <class F>
  __device__ __forceinline__ void pass(F&& f, bool /*write_back*/) {
#pragma unroll
    for (int vi = 0; vi < Tr::kVectors; ++vi) {
      C x[Tr::kVec];
#pragma unroll
      for (int e = 0; e < Tr::kVec; ++e) x[e] = s[Tr::vec_r(vi, e)][Tr::vec_c(vi, e)];
      f(vi, x);
#pragma unroll
      for (int e = 0; e < Tr::kVec; ++e) s[Tr::vec_r(vi, e)][Tr::vec_c(vi, e)] = x[e];
    }
  }
};

// ---- asynchronous copies, global -> shared (cp.async, sm_80+) ----
template <int kBytes>
__device__ __forceinline__ void copy_async(void* smem, const void* gmem) {
  const unsigned dst = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  if constexpr (kBytes == 16) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(dst), "l"(gmem) : "memory");
  } else {
    asm volatile("cp.async.ca.shared.global [%0], [%1], %2;\n" ::"r"(dst), "l"(gmem), "n"(kBytes) : "memory");
  }
}
// Waits for all of this thread's cp.async copies.
__device__ __forceinline__ void copy_async_wait_all() {
  asm volatile("cp.async.commit_group;\ncp.async.wait_group 0;\n" ::: "memory");
}

// The thread's vectors, stored [vector][thread] so that a warp's accesses are contiguous.
// A thread only reads back what it copied or wrote itself: no barrier is needed.
template <class Tr>
struct SharedTileStorage {
  Raw<Tr> v[Tr::kVectors][Tr::kThreads];
};

template <class Tr>
struct SharedTile {
  using C = typename Tr::ComputeT;
  static constexpr bool kKeepsPass1 = false;
  SharedTileStorage<Tr>& st;
  int tid;

  __device__ __forceinline__ void load(const typename Tr::StateT* head, int V, int col0, int tk, int cg, int) {
#pragma unroll
    for (int vi = 0; vi < Tr::kVectors; ++vi)
      copy_async<Tr::kVecBytes>(&st.v[vi][tid], head + vector_offset<Tr>(V, col0, tk, cg, vi));
    copy_async_wait_all();
  }
  template <class F>
  __device__ __forceinline__ void pass(F&& f, bool write_back) {
    // Read the tile again in every pass: without this the compiler may keep pass 1's
    // values in registers for pass 2, which is what this tile exists to avoid.
    asm volatile("" ::: "memory");
#pragma unroll
    for (int vi = 0; vi < Tr::kVectors; ++vi) {
      C x[Tr::kVec];
      unpack<typename Tr::StateT, Tr::kVec>(st.v[vi][tid], x);
      f(vi, x);
      if (write_back) st.v[vi][tid] = pack_nearest<Tr>(x);
    }
  }
};

}  // namespace gdn::kernels
