// Does a device-to-device copy's bandwidth depend on what was allocated and freed before its
// buffers were? `gdn bench` measured its 1 GB copy ceiling 14% lower at the end of runs that
// had allocated and freed pools of several GB (README.md, "An aside").
//
// For each size X: time the copy with fresh buffers, allocate X GB, touch and free it (or
// keep it), allocate fresh buffers again and time the copy again.
// Build and run on a GPU host: experiments/slot_order/run.sh --ceiling
#include <cuda_runtime.h>

#include <cstdio>
#include <cstdint>
#include <cstdlib>

#include "check.cuh"
#include "copy_ceiling.hpp"  // the bench's measurement (cuda/copy_ceiling.cpp)

constexpr int64_t kCopyBytes = int64_t(1) << 30;  // gdn bench's default

int main() {
  std::printf("copy ceiling, fresh process: %.1f GB/s\n", gdn::gpu::copy_ceiling_gbps(kCopyBytes));
  for (int keep = 0; keep < 2; ++keep)
    for (int gb : {1, 4, 16, 32}) {
      const double before = gdn::gpu::copy_ceiling_gbps(kCopyBytes);
      void* big;
      CHECK(cudaMalloc(&big, size_t(gb) << 30));
      CHECK(cudaMemset(big, 0, size_t(gb) << 30));
      CHECK(cudaDeviceSynchronize());
      if (!keep) CHECK(cudaFree(big));
      const double after = gdn::gpu::copy_ceiling_gbps(kCopyBytes);
      if (keep) CHECK(cudaFree(big));
      std::printf("%2d GB allocated, touched and %s: copy %.1f -> %.1f GB/s (%+.1f%%)\n", gb,
                  keep ? "kept" : "freed", before, after, 100.0 * (after / before - 1.0));
    }
  std::printf("copy ceiling at the end: %.1f GB/s\n", gdn::gpu::copy_ceiling_gbps(kCopyBytes));
  return 0;
}
