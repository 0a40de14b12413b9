// Every compiled variant of the recurrent kernel, in one place (STYLE.md: instantiations
// listed in one place). X(group, kIsVK, StateT, InputT, kBV, kThreads, kMinBlocks, kStochastic,
// kSharedTile, kSplitK, kWarpsV, kV):
//   group       the source file that compiles it (recurrent_<group>.cu), so the build spreads
//               over cores;
//   kThreads    the default shape gives each thread 64 state elements (K * BV / 64 threads,
//               at least one warp; 32 elements for the float64 kernel): the fixed cost per
//               thread and token (gates, norms, reductions) is what limits decode, so more
//               elements per thread move more bytes per instruction;
//   kMinBlocks  __launch_bounds__ occupancy hint, which caps registers per thread: by default
//               128 registers for VK with a bf16 state (65536 / (128 * threads) blocks), 168
//               for KV (whose shared-memory reduction and warp-wide norms need more; 128
//               spills there), none for VK with an fp32 state (twice the bytes per block,
//               it needs fewer resident warps and runs faster without the cap);
//   kStochastic the bf16 stochastic-rounding build of a tile (the drift kernel's option; 168
//               registers, its per-element RNG spills under 128);
//   kSharedTile the tile kept in shared memory between the passes of a token instead of in
//               registers (cuda/state_tile.cuh), with registers capped at 64 (VK) or 96 (KV):
//               more resident blocks, so more bytes in flight per SM. KV at large batch
//               takes them: bf16 the BV 128 tile over 128 threads (a pair's whole 32 KB
//               state, one contiguous read per block: v12), fp32 the BV 64 tile over 64
//               threads capped at 170 registers (six 32 KB blocks per SM, 128 elements per
//               thread: v19). The VK shared tiles are measured, not chosen.
//   kSplitK     KV: a tile's K rows over a cluster of kSplitK blocks (sm_90+), each reading
//               K / kSplitK whole rows, the sums over K exchanged through distributed shared
//               memory (kernel_traits.hpp); the default shape counts the block's rows.
//   kWarpsV     KV: the block's warps split its columns into this many groups
//               (kernel_traits.hpp); with one group per warp the sums over K never leave a
//               warp ("-wv<n>"). Measured slower than the same tile with warps along K (v19),
//               kept so that the result can be reproduced.
//   kV          0, or the one value head dimension the build takes ("-v<V>"): a twin of a KV
//               tile compiled for Qwen3-Next's V = 128, whose state vectors then sit at
//               compile-time offsets (kernel_traits.hpp). Compiled where the twin measured
//               faster than the tile on an H100 (experiments/bv_tile, v22): KV bf16's whole-state
//               shared tile and KV fp32's small-batch register tiles; KV bf16 BV 32 -o8, whose
//               scoreboard waits moved, lost 8-10% (v21). A family takes a twin where its band
//               table names it and the call's V matches, the tile itself otherwise.
// The measurements behind these choices: experiments/bv_tile/README.md.
// bf16 and fp32 state with bf16 inputs (the serving profiles) come in every BV tile, so that
// the BV sweep of the seed PRs can be reproduced, plus tuning candidates (another register
// cap, -o<kMinBlocks>; another number of elements per thread, -t<threads>); fp32 inputs and
// the float64 oracle kernel in one tile each. Adding a line here adds the variant to the
// dispatch, to `gdn kernels`, to the emulation and to every test that sweeps the variants.
#pragma once

#define GDN_RECURRENT_INSTANTIATIONS(X)                                  \
  X(vk_bf16, true, bf16, bf16, 8, 32, 16, false, false, 1, 1, 0)         \
  X(vk_bf16, true, bf16, bf16, 16, 32, 16, false, false, 1, 1, 0)        \
  X(vk_bf16, true, bf16, bf16, 32, 64, 8, false, false, 1, 1, 0)         \
  X(vk_bf16, true, bf16, bf16, 64, 128, 4, false, false, 1, 1, 0)        \
  X(vk_bf16, true, bf16, bf16, 128, 256, 2, false, false, 1, 1, 0)       \
  X(vk_bf16, true, bf16, bf16, 32, 64, 1, false, false, 1, 1, 0)         \
  X(vk_bf16, true, bf16, bf16, 32, 128, 6, false, false, 1, 1, 0)        \
  X(vk_bf16, true, bf16, bf16, 32, 64, 6, true, false, 1, 1, 0)          \
  X(vk_bf16, true, bf16, bf16, 16, 32, 32, false, true, 1, 1, 0)         \
  X(vk_bf16, true, bf16, bf16, 32, 64, 16, false, true, 1, 1, 0)         \
  X(kv_bf16, false, bf16, bf16, 8, 32, 12, false, false, 1, 1, 0)        \
  X(kv_bf16, false, bf16, bf16, 16, 32, 12, false, false, 1, 1, 0)       \
  X(kv_bf16, false, bf16, bf16, 32, 64, 6, false, false, 1, 1, 0)        \
  X(kv_bf16, false, bf16, bf16, 64, 128, 3, false, false, 1, 1, 0)       \
  X(kv_bf16, false, bf16, bf16, 128, 256, 1, false, false, 1, 1, 0)      \
  X(kv_bf16, false, bf16, bf16, 32, 64, 8, false, false, 1, 1, 0)        \
  X(kv_bf16, false, bf16, bf16, 32, 64, 6, true, false, 1, 1, 0)         \
  X(kv_bf16, false, bf16, bf16, 32, 64, 10, false, true, 1, 1, 0)        \
  X(kv_bf16, false, bf16, bf16, 64, 128, 5, false, true, 1, 1, 0)        \
  X(kv_bf16, false, bf16, bf16, 128, 128, 5, false, true, 1, 1, 0)       \
  X(kv_bf16, false, bf16, bf16, 128, 128, 5, false, true, 1, 1, 128)     \
  X(kv_bf16, false, bf16, bf16, 64, 64, 6, false, false, 2, 1, 0)        \
  X(kv_bf16, false, bf16, bf16, 128, 128, 5, false, true, 2, 1, 0)       \
  X(kv_bf16, false, bf16, bf16, 128, 128, 5, false, true, 1, 4, 0)       \
  X(vk_fp32, true, float, bf16, 8, 32, 1, false, false, 1, 1, 0)         \
  X(vk_fp32, true, float, bf16, 16, 32, 1, false, false, 1, 1, 0)        \
  X(vk_fp32, true, float, bf16, 32, 64, 1, false, false, 1, 1, 0)        \
  X(vk_fp32, true, float, bf16, 64, 128, 1, false, false, 1, 1, 0)       \
  X(vk_fp32, true, float, bf16, 128, 256, 1, false, false, 1, 1, 0)      \
  X(vk_fp32, true, float, bf16, 32, 64, 8, false, false, 1, 1, 0)        \
  X(vk_fp32, true, float, float, 32, 64, 1, false, false, 1, 1, 0)       \
  X(kv_fp32, false, float, bf16, 8, 32, 12, false, false, 1, 1, 0)       \
  X(kv_fp32, false, float, bf16, 8, 32, 12, false, false, 1, 1, 128)     \
  X(kv_fp32, false, float, bf16, 16, 32, 12, false, false, 1, 1, 0)      \
  X(kv_fp32, false, float, bf16, 32, 64, 6, false, false, 1, 1, 0)       \
  X(kv_fp32, false, float, bf16, 32, 64, 6, false, false, 1, 1, 128)     \
  X(kv_fp32, false, float, bf16, 64, 128, 3, false, false, 1, 1, 0)      \
  X(kv_fp32, false, float, bf16, 128, 256, 1, false, false, 1, 1, 0)     \
  X(kv_fp32, false, float, bf16, 128, 256, 1, false, false, 1, 1, 128)   \
  X(kv_fp32, false, float, bf16, 32, 64, 8, false, false, 1, 1, 0)       \
  X(kv_fp32, false, float, bf16, 128, 256, 2, false, false, 1, 1, 0)     \
  X(kv_fp32, false, float, bf16, 64, 64, 6, false, false, 2, 1, 0)       \
  X(kv_fp32, false, float, bf16, 64, 128, 3, false, false, 1, 4, 0)      \
  X(kv_fp32, false, float, bf16, 64, 64, 6, false, true, 1, 1, 0)        \
  X(kv_fp32, false, float, float, 32, 64, 6, false, false, 1, 1, 0)      \
  X(fp64, true, double, double, 32, 128, 1, false, false, 1, 1, 0)       \
  X(fp64, false, double, double, 32, 128, 1, false, false, 1, 1, 0)
