// Where a block keeps its K x BV tile of the state between the passes of a token: in
// registers (RegisterVectors) or in shared memory (SharedVectors), in both as the thread's
// memory vectors exactly as the pool stores them (bf16 stays packed), unpacked to compute
// type in every pass. The thread map, the order of every operation and so the bits are the
// same in both (the CPU emulation does not know which); what differs is what limits how many
// blocks an SM holds.
//
// Registers: kVectors raw vectors per thread (a 64-element tile: 32 registers in bf16, 64
// in fp32); the loads are consumed at the first pass, after the gates and norms.
// Shared memory: the same vectors copied there with cp.async, read back by the same thread
// in each pass. Registers drop to what the token's inputs and sums need, so several times
// more blocks (and bytes in flight) fit on an SM; the cost is a shared-memory read per vector
// per pass.
//
// StateTile<Tr, Where>: load(enabled, ...) starts filling the tile from global memory (a
// no-op unless enabled: the kernel issues it before it knows whether the row is padded,
// predicated rather than branched around) and wait()
// waits for it (call it where the state is first needed: a no-op for registers, whose loads
// are waited for at first use); read_pass(f) calls f(vi, x) for each of the thread's memory
// vectors vi with x[kVec] its values in compute type; update_pass(f, keep) does the same
// with f returning the vector in storage form, which the tile keeps when `keep` (registers
// always keep it).
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

// Stores one memory vector with a single vector instruction (st.global.v4 / v2). A plain
// store of the Raw<Tr> value is split by the compiler into 32-bit stores (4x the store
// instructions and partial-sector writes).
template <class RawT>
__device__ __forceinline__ void store_vector(void* p, const RawT& r) {
  __stwb(reinterpret_cast<RawT*>(p), r);
}

// Offset in a head of the thread's memory vector vi (kVec elements); a compile-time
// constant beyond col0 where the build fixes V (kernel_traits.hpp, kV).
template <class Tr>
__device__ __forceinline__ int64_t vector_offset(int V, int col0, int tk, int cg, int vi) {
  return state_element<Tr::kIsVK>(Tr::kK, Tr::columns(V), Tr::row_of(tk, Tr::vec_r(vi, 0)),
                                  col0 + Tr::col_of(cg, Tr::vec_c(vi, 0)));
}

// The L2 prefetch size of the state's loads. Where a row of the tile is shorter than 256
// bytes (KV with BV * sizeof(state) < 256), the loads ask for the whole aligned 256 bytes
// (.L2::256B): the blocks of the neighbouring tiles read the rest of those rows at about the
// same time, and DRAM serves 256-byte pieces better than 64- or 128-byte ones. Measured on an
// H100 (experiments/bv_tile, v10): KV bf16 BV 32 at TP=4 B=1024 0.76x the time, KV bf16 BV
// 64 in shared memory 1-3% less at every B; on whole 256-byte rows (KV fp32 BV 64) the hint
// cost 0.6-1.1%, and VK, whose rows are K contiguous elements, did not move.
template <class Tr>
inline constexpr bool kPrefetchRow = !Tr::kIsVK && Tr::kBV * sizeof(typename Tr::StateT) < 256;

// r = *p where `enabled`, as one predicated load: a branch around the loads would make the
// code after it wait for whatever was in flight on either path (experiments/bv_tile, v8).
template <bool kPrefetch256 = false>
__device__ __forceinline__ void load_if(bool enabled, const void* p, uint4& r) {
  if constexpr (kPrefetch256) {
    asm("{\n .reg .pred e;\n setp.ne.b32 e, %5, 0;\n @e ld.global.L2::256B.v4.u32 {%0, %1, %2, %3}, [%4];\n}"
        : "+r"(r.x), "+r"(r.y), "+r"(r.z), "+r"(r.w)
        : "l"(p), "r"(static_cast<int>(enabled)));
  } else {
    asm("{\n .reg .pred e;\n setp.ne.b32 e, %5, 0;\n @e ld.global.v4.u32 {%0, %1, %2, %3}, [%4];\n}"
        : "+r"(r.x), "+r"(r.y), "+r"(r.z), "+r"(r.w)
        : "l"(p), "r"(static_cast<int>(enabled)));
  }
}
template <bool kPrefetch256 = false>
__device__ __forceinline__ void load_if(bool enabled, const void* p, uint2& r) {
  if constexpr (kPrefetch256) {
    asm("{\n .reg .pred e;\n setp.ne.b32 e, %3, 0;\n @e ld.global.L2::256B.v2.u32 {%0, %1}, [%2];\n}"
        : "+r"(r.x), "+r"(r.y)
        : "l"(p), "r"(static_cast<int>(enabled)));
  } else {
    asm("{\n .reg .pred e;\n setp.ne.b32 e, %3, 0;\n @e ld.global.v2.u32 {%0, %1}, [%2];\n}"
        : "+r"(r.x), "+r"(r.y)
        : "l"(p), "r"(static_cast<int>(enabled)));
  }
}

template <class Tr>
struct RegisterVectors {
  // Registers keep the updated vectors even after the last token: a move that costs nothing,
  // where a conditional keep would hold the old vectors live through the whole pass.
  static constexpr bool kAlwaysKeep = true;
  Raw<Tr> v[Tr::kVectors];

  __device__ __forceinline__ Raw<Tr>& at(int vi) { return v[vi]; }
  __device__ __forceinline__ void load(bool enabled, const typename Tr::StateT* head, int V, int col0, int tk, int cg) {
#pragma unroll
    for (int vi = 0; vi < Tr::kVectors; ++vi)
      load_if<kPrefetchRow<Tr>>(enabled, head + vector_offset<Tr>(V, col0, tk, cg, vi), v[vi]);
  }
  __device__ __forceinline__ void wait() {}
  // Unpack the vectors again in every pass: without this barrier the compiler keeps one
  // pass's unpacked values for the next, twice the registers (spills under the cap).
  __device__ __forceinline__ void begin_pass() {
#pragma unroll
    for (int vi = 0; vi < Tr::kVectors; ++vi) {
      uint32_t* w = reinterpret_cast<uint32_t*>(&v[vi]);
#pragma unroll
      for (int i = 0; i < Tr::kVecBytes / 4; ++i) asm volatile("" : "+r"(w[i]));
    }
  }
};

// ---- asynchronous copies, global -> shared (cp.async, sm_80+) ----
template <int kBytes, bool kPrefetch256>
__device__ __forceinline__ void copy_async(void* smem, const void* gmem) {
  const unsigned dst = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  if constexpr (kBytes == 16 && kPrefetch256) {
    asm volatile("cp.async.cg.shared.global.L2::256B [%0], [%1], 16;\n" ::"r"(dst), "l"(gmem) : "memory");
  } else if constexpr (kBytes == 16) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(dst), "l"(gmem) : "memory");
  } else if constexpr (kPrefetch256) {
    asm volatile("cp.async.ca.shared.global.L2::256B [%0], [%1], %2;\n" ::"r"(dst), "l"(gmem), "n"(kBytes) : "memory");
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
struct SharedVectors {
  static constexpr bool kAlwaysKeep = false;  // no shared-memory stores after the last token
  SharedTileStorage<Tr>& st;
  int tid;

  __device__ __forceinline__ Raw<Tr>& at(int vi) { return st.v[vi][tid]; }
  __device__ __forceinline__ void load(bool enabled, const typename Tr::StateT* head, int V, int col0, int tk, int cg) {
#pragma unroll
    for (int vi = 0; vi < Tr::kVectors; ++vi)
      if (enabled)
        copy_async<Tr::kVecBytes, kPrefetchRow<Tr>>(&st.v[vi][tid], head + vector_offset<Tr>(V, col0, tk, cg, vi));
  }
  __device__ __forceinline__ void wait() { copy_async_wait_all(); }
  // Read the tile again in every pass: without this the compiler may keep one pass's values
  // in registers for the next, which is what this storage exists to avoid.
  __device__ __forceinline__ void begin_pass() { asm volatile("" ::: "memory"); }
};

template <class Tr, class Where>
struct StateTile : Where {
  using C = typename Tr::ComputeT;

  template <class F>
  __device__ __forceinline__ void read_pass(F&& f) {
    this->begin_pass();
#pragma unroll
    for (int vi = 0; vi < Tr::kVectors; ++vi) {
      C x[Tr::kVec];
      unpack<typename Tr::StateT, Tr::kVec>(this->at(vi), x);
      f(vi, x);
    }
  }
  template <class F>
  __device__ __forceinline__ void update_pass(F&& f, bool keep) {
    this->begin_pass();
#pragma unroll
    for (int vi = 0; vi < Tr::kVectors; ++vi) {
      C x[Tr::kVec];
      unpack<typename Tr::StateT, Tr::kVec>(this->at(vi), x);
      const Raw<Tr> stored = f(vi, x);
      if (keep || Where::kAlwaysKeep) this->at(vi) = stored;
    }
  }
};

}  // namespace gdn::kernels
