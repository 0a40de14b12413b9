#include "copy_ceiling.hpp"

#include <algorithm>
#include <vector>

#include "cuda_check.hpp"

namespace gdn::gpu {

double copy_ceiling_gbps(int64_t bytes) {
  DeviceBuffer a(static_cast<size_t>(bytes)), b(static_cast<size_t>(bytes));
  GDN_CUDA_CHECK(cudaMemset(a.get(), 1, a.bytes()));
  cudaEvent_t e0, e1;
  GDN_CUDA_CHECK(cudaEventCreate(&e0));
  GDN_CUDA_CHECK(cudaEventCreate(&e1));
  std::vector<double> ms;
  for (int i = 0; i < 23; ++i) {
    GDN_CUDA_CHECK(cudaEventRecord(e0));
    GDN_CUDA_CHECK(cudaMemcpy(b.get(), a.get(), a.bytes(), cudaMemcpyDeviceToDevice));
    GDN_CUDA_CHECK(cudaEventRecord(e1));
    GDN_CUDA_CHECK(cudaEventSynchronize(e1));
    float t = 0;
    GDN_CUDA_CHECK(cudaEventElapsedTime(&t, e0, e1));
    if (i >= 3) ms.push_back(t);
  }
  GDN_CUDA_CHECK(cudaEventDestroy(e0));
  GDN_CUDA_CHECK(cudaEventDestroy(e1));
  std::sort(ms.begin(), ms.end());
  return 2.0 * static_cast<double>(bytes) / (ms[ms.size() / 2] * 1e-3) * 1e-9;
}

}  // namespace gdn::gpu
