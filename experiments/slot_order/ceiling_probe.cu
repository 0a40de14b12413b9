// Does a device-to-device copy's bandwidth depend on what was allocated and freed before its
// buffers were? `gdn bench` measured its 1 GB copy ceiling 14% lower at the end of runs that
// had allocated and freed pools of several GB (README.md, "An aside").
//
// For each size X: time the copy with fresh buffers, allocate X GB, touch and free it (or
// keep it), allocate fresh buffers again and time the copy again.
// Build and run on a GPU host: experiments/slot_order/run.sh --ceiling
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "check.cuh"

// GB/s (read + write) of a 1 GB cudaMemcpy between two fresh buffers, median of 20.
double copy_gbps() {
  const size_t n = size_t(1) << 30;
  void *a, *b;
  CHECK(cudaMalloc(&a, n));
  CHECK(cudaMalloc(&b, n));
  CHECK(cudaMemset(a, 1, n));
  cudaEvent_t e0, e1;
  CHECK(cudaEventCreate(&e0));
  CHECK(cudaEventCreate(&e1));
  std::vector<float> ms;
  for (int i = 0; i < 23; ++i) {
    CHECK(cudaEventRecord(e0));
    CHECK(cudaMemcpy(b, a, n, cudaMemcpyDeviceToDevice));
    CHECK(cudaEventRecord(e1));
    CHECK(cudaEventSynchronize(e1));
    float t;
    CHECK(cudaEventElapsedTime(&t, e0, e1));
    if (i >= 3) ms.push_back(t);
  }
  std::sort(ms.begin(), ms.end());
  CHECK(cudaFree(a));
  CHECK(cudaFree(b));
  CHECK(cudaEventDestroy(e0));
  CHECK(cudaEventDestroy(e1));
  return 2.0 * n / (ms[ms.size() / 2] * 1e-3) * 1e-9;
}

int main() {
  std::printf("copy ceiling, fresh process: %.1f GB/s\n", copy_gbps());
  for (int keep = 0; keep < 2; ++keep)
    for (int gb : {1, 4, 16, 32}) {
      const double before = copy_gbps();
      void* big;
      CHECK(cudaMalloc(&big, size_t(gb) << 30));
      CHECK(cudaMemset(big, 0, size_t(gb) << 30));
      CHECK(cudaDeviceSynchronize());
      if (!keep) CHECK(cudaFree(big));
      const double after = copy_gbps();
      if (keep) CHECK(cudaFree(big));
      std::printf("%2d GB allocated, touched and %s: copy %.1f -> %.1f GB/s (%+.1f%%)\n", gb,
                  keep ? "kept" : "freed", before, after, 100.0 * (after / before - 1.0));
    }
  std::printf("copy ceiling at the end: %.1f GB/s\n", copy_gbps());
  return 0;
}
