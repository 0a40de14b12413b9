// What a launch needs to know of the current GPU, asked of the driver once per device and
// thread rather than at every launch, and the one rule for thread block clusters.
#pragma once
#include <cuda_runtime.h>

namespace gdn::kernels {

// Thread block clusters (the K split's, kernel_traits.hpp kSplitK) need compute capability 9.0.
inline bool clusters_supported(int compute_major) { return compute_major >= 9; }

struct DeviceLimits {
  int sms = 0;            // multiprocessors; 0 when the query failed
  int compute_major = 0;  // 0 when the query failed
};

// The current device's limits. A failed query gives zeros (no prefetch, no clusters) and is
// asked again at the next call; the launch then reports the CUDA error itself.
inline DeviceLimits current_device_limits() {
  thread_local int cached_device = -1;
  thread_local DeviceLimits cached;
  int device = 0;
  if (cudaGetDevice(&device) != cudaSuccess) return {};
  if (device != cached_device) {
    DeviceLimits d;
    if (cudaDeviceGetAttribute(&d.sms, cudaDevAttrMultiProcessorCount, device) != cudaSuccess ||
        cudaDeviceGetAttribute(&d.compute_major, cudaDevAttrComputeCapabilityMajor, device) != cudaSuccess)
      return {};
    cached = d;
    cached_device = device;
  }
  return cached;
}

}  // namespace gdn::kernels
