// Explicitly instantiates the launch functions of one group of instantiations.hpp. A
// recurrent_<group>.cu file defines GDN_GROUP_<group> and includes this file.
#pragma once
#include "dispatch.hpp"
#include "instantiations.hpp"
#include "launch.cuh"

#define GDN_INSTANTIATE_LAUNCH(...) \
  template void launch_recurrent<GDN_RECURRENT_TRAITS(__VA_ARGS__)>(const RecurrentParams&, cudaStream_t);
#define GDN_SKIP_LAUNCH(...)

#ifdef GDN_GROUP_vk_bf16
#define GDN_IN_GROUP_vk_bf16 GDN_INSTANTIATE_LAUNCH
#else
#define GDN_IN_GROUP_vk_bf16 GDN_SKIP_LAUNCH
#endif
#ifdef GDN_GROUP_kv_bf16
#define GDN_IN_GROUP_kv_bf16 GDN_INSTANTIATE_LAUNCH
#else
#define GDN_IN_GROUP_kv_bf16 GDN_SKIP_LAUNCH
#endif
#ifdef GDN_GROUP_vk_fp32
#define GDN_IN_GROUP_vk_fp32 GDN_INSTANTIATE_LAUNCH
#else
#define GDN_IN_GROUP_vk_fp32 GDN_SKIP_LAUNCH
#endif
#ifdef GDN_GROUP_kv_fp32
#define GDN_IN_GROUP_kv_fp32 GDN_INSTANTIATE_LAUNCH
#else
#define GDN_IN_GROUP_kv_fp32 GDN_SKIP_LAUNCH
#endif
#ifdef GDN_GROUP_fp64
#define GDN_IN_GROUP_fp64 GDN_INSTANTIATE_LAUNCH
#else
#define GDN_IN_GROUP_fp64 GDN_SKIP_LAUNCH
#endif

namespace gdn::kernels {
#define GDN_INSTANTIATE_IF_IN_GROUP(group, ...) GDN_IN_GROUP_##group(__VA_ARGS__)
GDN_RECURRENT_INSTANTIATIONS(GDN_INSTANTIATE_IF_IN_GROUP)
#undef GDN_INSTANTIATE_IF_IN_GROUP
}  // namespace gdn::kernels
