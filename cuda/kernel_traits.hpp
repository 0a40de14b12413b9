// Compile-time configuration of the recurrent kernel: types, tile, threads, vector width,
// and the map from a thread to the state elements it keeps in registers. The map is shared
// by the device kernel and its CPU emulation, so both reduce over K in the same order.
//
// A block owns one (sequence, value head, BV-wide tile of value columns): K x BV state
// elements, kRows x kCols per thread. Each reduction over K (k . s and q . s, per column)
// runs in three fixed stages: a sequential fma chain over the thread's kRows elements, an
// xor butterfly over the kLanesK lanes of a warp that share the column, then (KV with
// several warps along K) a sequential sum over the kWarpsK warps through shared memory.
//
// VK ([.., V, K], K contiguous): a column is K contiguous elements. kLanesK = K / 8 lanes
// each hold 8 of them (kVecsK 16-byte vectors, interleaved so that every load instruction
// of a warp is contiguous); lanes with the same lane_k hold the same kCols adjacent
// columns (so that their v and o are contiguous). The K reduction never leaves a warp; the
// norms of q and k reduce the same way over the thread's own 8 elements (no second load).
// KV ([.., K, V], V contiguous): a row of the tile is BV contiguous elements. kLanesV
// lanes each hold one 16-byte vector of kVec columns; the other lanes (and warps) split K,
// kRows contiguous rows per thread (so its q and k elements are one contiguous run). With
// kWarpsV > 1 the warps split the columns instead, BV / kWarpsV each, and (kWarpsV = all
// the warps) every column's sums over K stay within one warp, as in VK. The norms reduce
// over one warp, lane l holding K/32 contiguous elements.
#pragma once
#include <stdexcept>
#include <string>
#include <type_traits>

#include "numeric.hpp"

namespace gdn::kernels {

template <class StateT_, class InputT_, bool kIsVK_, int kBV_, int kThreads_, int kMinBlocks_ = 1,
          bool kStochastic_ = false, bool kSharedTile_ = false, int kSplitK_ = 1, int kWarpsV_ = 1, int kV_ = 0,
          int kK_ = 128, int kVecBytes_ = 16>
struct RecurrentTraits {
  using StateT = StateT_;
  using InputT = InputT_;
  using OutputT = InputT_;
  using ComputeT = compute_t<StateT_>;
  static constexpr bool kIsVK = kIsVK_;
  static constexpr int kBV = kBV_;
  static constexpr int kThreads = kThreads_;
  static constexpr int kMinBlocks = kMinBlocks_;  // __launch_bounds__ occupancy hint: caps registers
  // bf16 stochastic rounding of the state: a build of its own, because its per-element RNG
  // costs registers that the round-to-nearest path would otherwise pay for too.
  static constexpr bool kStochastic = kStochastic_;
  // Where the tile lives between the passes of a token: shared memory (state_tile.cuh,
  // SharedTile) or registers.
  static constexpr bool kSharedTile = kSharedTile_;
  // KV only: the K rows of a tile split over a cluster of kSplitK blocks (sm_90+), each
  // holding K / kSplitK whole rows, so that a block reads one contiguous run of rows (BV 128:
  // a 256-byte bf16 row each) however many blocks share a pair. The sums over K cross the
  // cluster through distributed shared memory (recurrent_kernel.cuh, sum_cluster_warps), in the
  // order of a block with kSplitK times the warps along K: the thread map below numbers the
  // positions along K over the whole cluster.
  static constexpr int kSplitK = kSplitK_;
  // KV only: the warps of a block split its BV columns into kWarpsV groups of whole vectors
  // (the rest of them split K). kWarpsV = kThreads / 32 keeps each reduction over K within a
  // warp (reduce_scatter: no shared memory, no block barrier), at the price of shorter pieces
  // of each row per warp load (BV / kWarpsV columns instead of BV).
  static constexpr int kWarpsV = kWarpsV_;
  // The value head dimension the build is compiled for, or 0: any multiple of BV, read from
  // the call. With V fixed, every state vector's offset in a head is a compile-time constant,
  // so its loads and stores take immediate offsets from one address; with V a run-time value
  // each KV store computes its own 64-bit address (row x V) into the same registers, which
  // the previous store still holds until it has issued (the stores go one at a time:
  // experiments/bv_tile, v21). VK's offsets need K only, which every build fixes.
  static constexpr int kV = kV_;
  // Where a token's output comes from: the sums over the state before its update, beside
  // k . s (step.hpp, output_from_sums: one reduction over K per token, the output before the
  // update pass), or a second pass and reduction over the updated state (o = q~ . s_t as
  // written). VK with a bf16 state takes the first, the rest the second, as measured on an
  // H100 (experiments/bv_tile, v10 -> v11): VK bf16 B=8 4.68 -> 4.14 us; KV bf16 B=8 3.68 ->
  // 4.15; VK fp32 no faster, and its uncapped tiles took 164 -> 189 registers (12 -> 10
  // resident warps), slower with programmatic launches.
  // A K split takes the first too: one exchange between the cluster's blocks per token
  // instead of two.
  static constexpr bool kOutputFromSums = (kIsVK && sizeof(StateT_) == 2) || kSplitK_ > 1;
  static constexpr int kK = kK_;
  static constexpr int kVecBytes = kVecBytes_;
  static constexpr int kWarpSize = 32;
  static constexpr int kWarps = kThreads / kWarpSize;

  static_assert(std::is_same_v<ComputeT, compute_t<InputT>>, "state and inputs must share the compute type");
  static_assert(kBV == 8 || kBV == 16 || kBV == 32 || kBV == 64 || kBV == 128, "BV tile must be 8, 16, 32, 64 or 128");
  static_assert(kThreads % kWarpSize == 0 && kThreads >= kWarpSize && kThreads <= 1024,
                "threads per block: a multiple of 32, at most 1024");
  static_assert(kMinBlocks >= 1 && kMinBlocks * kThreads <= 2048, "at most 2048 resident threads per SM");
  static_assert(kVecBytes == 8 || kVecBytes == 16, "vector width: 8 or 16 bytes");
  static_assert(!kStochastic || std::is_same_v<StateT, bf16>, "stochastic rounding is a rounding to bf16");
  static_assert(kVecBytes % sizeof(StateT) == 0, "a vector holds whole state elements");
  static constexpr int kVec = kVecBytes / static_cast<int>(sizeof(StateT));  // state elements per vector

  // ---- VK ----
  static constexpr int kElemsKVK = 8;  // K elements per thread per column
  static constexpr int kLanesKVK = kK / kElemsKVK;
  static constexpr int kColGroupsVK = kThreads / kLanesKVK;

  // ---- KV ----
  static constexpr int kBVWarp = kBV / kWarpsV;                            // the columns of one warp
  static constexpr int kLanesVKV = kBVWarp / kVec < 1 ? 1 : kBVWarp / kVec;  // lanes along V in a warp
  static constexpr int kKBlock = kK / kSplitK;                              // the rows of one block

  // ---- the map, per layout ----
  static constexpr int kVecsK = kIsVK ? kElemsKVK / kVec : 1;          // vectors along K per column (VK)
  static constexpr int kLanesK = kIsVK ? kLanesKVK : kWarpSize / kLanesVKV;  // lanes sharing a column in a warp
  static constexpr int kLaneStrideK = kIsVK ? 1 : kLanesVKV;           // lane distance between them
  static constexpr int kWarpsK = kIsVK ? 1 : kWarps / kWarpsV;         // warps of a block sharing a column
  static constexpr int kThreadsK = kLanesK * kWarpsK;                  // threads of a block sharing a column
  static constexpr int kClusterWarpsK = kWarpsK * kSplitK;             // warps of the cluster sharing a column
  // The sums over K stay within a warp (reduce_scatter) only without a second warp or block.
  static constexpr bool kReduceInWarp = kClusterWarpsK == 1;
  static constexpr int kRows = kIsVK ? kElemsKVK : kKBlock / kThreadsK;  // K elements per thread
  static constexpr int kCols = kIsVK ? kBV / (kColGroupsVK > 0 ? kColGroupsVK : 1) : kVec;  // columns per thread
  // Norm reduction: kNormLanes lanes (lane distance 1), kNormPerLane elements each.
  static constexpr int kNormLanes = kIsVK ? kLanesKVK : kWarpSize;
  static constexpr int kNormPerLane = kK / kNormLanes;
  // The thread's rows come in kRowRuns contiguous runs of kRowRun K indices.
  static constexpr int kRowRun = kIsVK ? kVec : kRows;
  static constexpr int kRowRuns = kRows / kRowRun;
  // The thread's elements as kVectors memory vectors of kVec elements.
  static constexpr int kVectors = kRows * kCols / kVec;

  static_assert(kK % kWarpSize == 0, "K must be a multiple of 32 (norm reduction over one warp)");
  static_assert(!kIsVK || (kElemsKVK % kVec == 0 && kK % kElemsKVK == 0), "VK: 8 K-elements per thread in whole vectors");
  static_assert(!kIsVK || (kWarpSize % kLanesKVK == 0), "VK: a column's lanes must fit in one warp (K <= 256)");
  static_assert(!kIsVK || (kColGroupsVK >= 1 && kBV % kColGroupsVK == 0),
                "VK: threads / (K / 8) column groups must divide BV (too many threads for this BV)");
  static_assert(kIsVK || (kBV % kVec == 0), "KV: BV must hold whole vectors");
  static_assert(kWarpsV == 1 || (!kIsVK && kSplitK == 1 && kWarps % kWarpsV == 0 && kBVWarp % kVec == 0),
                "warps along V: KV without a K split, whole vectors per warp, a divisor of the warps");
  static_assert(kIsVK || (kLanesVKV <= kWarpSize && kThreads % kLanesVKV == 0), "KV: BV / vector lanes must fit a warp");
  static_assert(kIsVK || (kThreadsK >= 1 && kKBlock % kThreadsK == 0 && kRows >= 1),
                "KV: threads along K must divide K / kSplitK (too many threads for this BV)");
  static_assert(kSplitK == 1 || kSplitK == 2 || kSplitK == 4 || kSplitK == 8, "K split: a cluster of 1, 2, 4 or 8 blocks");
  static_assert(kSplitK == 1 || !kIsVK, "K split: KV only (a VK column's K elements lie within one warp)");
  static_assert(kK % kSplitK == 0, "K split: whole rows per block");
  static_assert(kV >= 0 && kV % kBV == 0, "a compiled V must be a multiple of the tile BV (0: V from the call)");
  static_assert(kRows * kCols * kThreads * kSplitK == kK * kBV, "every tile element belongs to exactly one thread");
  static_assert(!kSharedTile || kKBlock * kBV * sizeof(StateT) <= 48 * 1024,
                "a shared tile must fit 48 KB of static shared memory");

  // The value head dimension of a call with V columns: the compiled one where there is one
  // (the host refuses a call with another V).
  GDN_HD static constexpr int columns(int V) { return kV > 0 ? kV : V; }

  // Thread tid's position along K (0 .. kThreadsK * kSplitK - 1) in block `rank` of its
  // cluster (0 without a K split), and its column group.
  // KV: warp w of the block is warp w / kWarpsV along K and w % kWarpsV along V.
  GDN_HD static constexpr int warp_k(int tid) { return tid / kWarpSize / kWarpsV; }
  GDN_HD static constexpr int thread_k(int tid, int rank = 0) {
    return kIsVK ? tid % kLanesKVK : rank * kThreadsK + warp_k(tid) * kLanesK + (tid % kWarpSize) / kLanesVKV;
  }
  GDN_HD static constexpr int thread_col_group(int tid) {
    return kIsVK ? tid / kLanesKVK : (tid / kWarpSize % kWarpsV) * kLanesVKV + tid % kLanesVKV;
  }
  // K index of element r (0 .. kRows-1) of a thread at position tk along K.
  GDN_HD static constexpr int row_of(int tk, int r) {
    return kIsVK ? (tk + kLanesKVK * (r / kVec)) * kVec + r % kVec : tk * kRows + r;
  }
  // K index of element e of lane l in the norm reduction (VK: the lane's own rows).
  GDN_HD static constexpr int norm_row(int l, int e) { return kIsVK ? row_of(l, e) : l * kNormPerLane + e; }
  // Register (r, c) of element e of memory vector vi (VK: c * kVecsK + vv; KV: r).
  GDN_HD static constexpr int vec_r(int vi, int e) { return kIsVK ? (vi % kVecsK) * kVec + e : vi; }
  GDN_HD static constexpr int vec_c(int vi, int e) { return kIsVK ? vi / kVecsK : e; }
  // Column (within the tile) of element c (0 .. kCols-1) of a thread in column group cg.
  GDN_HD static constexpr int col_of(int cg, int c) { return cg * kCols + c; }
};

// Refuses a launch (device or emulation) of a build compiled for another V than the call's:
// its state offsets would run past the call's heads. The host API refuses such a call
// earlier, with the variant's name (runner.cpp, check_launchable).
template <class Tr>
void require_columns(int V) {
  if (Tr::kV > 0 && V != Tr::kV)
    throw std::invalid_argument("the recurrent kernel was compiled for V=" + std::to_string(Tr::kV) +
                                ", the call has V=" + std::to_string(V));
}

}  // namespace gdn::kernels
