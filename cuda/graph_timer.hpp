// Time per launch the way ../shared/PERF.md prescribes: `launches` launches captured in one
// CUDA graph, warmed up, then the graph replayed `replays` times between CUDA events; each
// replay's time divided by the launches. Used for the kernels and for their floors alike.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <functional>

namespace gdn::gpu {

struct LaunchTiming {
  double us_median = 0, us_min = 0, us_max = 0;  // per launch, over the replays
};

// enqueue(i, stream) enqueues launch i (0 .. launches-1) on stream.
LaunchTiming time_graph(int64_t launches, int replays, cudaStream_t stream,
                        const std::function<void(int64_t, cudaStream_t)>& enqueue);

}  // namespace gdn::gpu
