#include "graph_timer.hpp"

#include <algorithm>
#include <vector>

#include "cuda_check.hpp"

namespace gdn::gpu {

LaunchTiming time_graph(int64_t launches, int replays, cudaStream_t stream,
                        const std::function<void(int64_t, cudaStream_t)>& enqueue) {
  cudaGraph_t graph;
  cudaGraphExec_t exec;
  GDN_CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
  for (int64_t i = 0; i < launches; ++i) enqueue(i, stream);
  GDN_CUDA_CHECK(cudaStreamEndCapture(stream, &graph));
  GDN_CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
  cudaEvent_t e0, e1;
  GDN_CUDA_CHECK(cudaEventCreate(&e0));
  GDN_CUDA_CHECK(cudaEventCreate(&e1));
  for (int w = 0; w < 3; ++w) GDN_CUDA_CHECK(cudaGraphLaunch(exec, stream));
  std::vector<double> us;
  for (int r = 0; r < replays; ++r) {
    GDN_CUDA_CHECK(cudaEventRecord(e0, stream));
    GDN_CUDA_CHECK(cudaGraphLaunch(exec, stream));
    GDN_CUDA_CHECK(cudaEventRecord(e1, stream));
    GDN_CUDA_CHECK(cudaEventSynchronize(e1));
    float ms = 0;
    GDN_CUDA_CHECK(cudaEventElapsedTime(&ms, e0, e1));
    us.push_back(1e3 * ms / static_cast<double>(launches));
  }
  GDN_CUDA_CHECK(cudaEventDestroy(e0));
  GDN_CUDA_CHECK(cudaEventDestroy(e1));
  GDN_CUDA_CHECK(cudaGraphExecDestroy(exec));
  GDN_CUDA_CHECK(cudaGraphDestroy(graph));
  std::sort(us.begin(), us.end());
  return LaunchTiming{us[us.size() / 2], us.front(), us.back()};
}

}  // namespace gdn::gpu
