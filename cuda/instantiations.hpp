// Every compiled variant of the recurrent kernel, in one place (STYLE.md: instantiations
// listed in one place). X(group, kIsVK, StateT, InputT, kBV, kThreads, kMinBlocks):
//   group    the source file that compiles it (recurrent_<group>.cu), so the build spreads
//            over cores;
//   kThreads K * BV / 32 by default: 32 state elements per thread (16 B x 4 loads in flight
//            for bf16, 8 for fp32), see experiments/bv_tile for the measurements;
//   kMinBlocks __launch_bounds__ occupancy hint (1: none), which caps registers per thread.
// bf16 and fp32 state with bf16 inputs (the serving profiles) come in every BV tile, so that
// the BV sweep of the seed PRs can be reproduced; fp32 inputs and the float64 oracle
// kernel in one tile each. Adding a line here adds the variant to the dispatch, to `gdn
// kernels`, to the emulation and to every test that sweeps the variants.
#pragma once

#define GDN_RECURRENT_INSTANTIATIONS(X)                 \
  X(vk_bf16, true, bf16, bf16, 8, 32, 1)                   \
  X(vk_bf16, true, bf16, bf16, 16, 64, 1)                  \
  X(vk_bf16, true, bf16, bf16, 32, 128, 1)                 \
  X(vk_bf16, true, bf16, bf16, 64, 256, 1)                 \
  X(vk_bf16, true, bf16, bf16, 128, 512, 1)                \
  X(kv_bf16, false, bf16, bf16, 8, 32, 1)                  \
  X(kv_bf16, false, bf16, bf16, 16, 64, 1)                 \
  X(kv_bf16, false, bf16, bf16, 32, 128, 1)                \
  X(kv_bf16, false, bf16, bf16, 64, 256, 1)                \
  X(kv_bf16, false, bf16, bf16, 128, 512, 1)               \
  X(vk_fp32, true, float, bf16, 8, 32, 1)                  \
  X(vk_fp32, true, float, bf16, 16, 64, 1)                 \
  X(vk_fp32, true, float, bf16, 32, 128, 1)                \
  X(vk_fp32, true, float, bf16, 64, 256, 1)                \
  X(vk_fp32, true, float, bf16, 128, 512, 1)               \
  X(vk_fp32, true, float, float, 32, 128, 1)               \
  X(kv_fp32, false, float, bf16, 8, 32, 1)                 \
  X(kv_fp32, false, float, bf16, 16, 64, 1)                \
  X(kv_fp32, false, float, bf16, 32, 128, 1)               \
  X(kv_fp32, false, float, bf16, 64, 256, 1)               \
  X(kv_fp32, false, float, bf16, 128, 512, 1)              \
  X(kv_fp32, false, float, float, 32, 128, 1)              \
  X(vk_bf16, true, bf16, bf16, 32, 256, 1)              \
  X(vk_bf16, true, bf16, bf16, 32, 128, 6)              \
  X(kv_bf16, false, bf16, bf16, 32, 256, 1)             \
  X(kv_bf16, false, bf16, bf16, 32, 128, 6)             \
  X(vk_fp32, true, float, bf16, 32, 256, 1)             \
  X(vk_fp32, true, float, bf16, 32, 128, 6)             \
  X(kv_fp32, false, float, bf16, 32, 256, 1)            \
  X(kv_fp32, false, float, bf16, 32, 128, 6)            \
  X(fp64, true, double, double, 32, 128, 1)                \
  X(fp64, false, double, double, 32, 128, 1)
