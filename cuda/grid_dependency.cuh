// Programmatic dependent launch (sm_90+): a kernel launched with the
// ProgrammaticStreamSerialization attribute may start while the previous kernel of its
// stream is still finishing. Each block says when the next kernel may start
// (allow_dependent_launch) and waits for the previous one to complete, its writes visible,
// before it touches what that kernel may write (wait_for_previous_grid). Both are no-ops for
// a kernel launched without the attribute and on GPUs older than sm_90.
#pragma once
#include <cuda_runtime.h>

namespace gdn::kernels {

__device__ __forceinline__ void allow_dependent_launch() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

__device__ __forceinline__ void wait_for_previous_grid() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}

// The decode kernel's order: wait for the previous grid, then let the next one launch. A
// next launch allowed at entry instead starts at once, and so does the one after it: the
// launches of a graph then run far ahead of the one that executes (up to ~170 launches on
// an H100 at B = 1), their blocks waiting on the SMs, and batches up to 4 took up to 1.5
// times as long (experiments/bv_tile, v12 -> v13). Allowed after the wait, one launch at a time can read
// its state ahead, under the previous launch's remaining work.
__device__ __forceinline__ void wait_then_allow_next_grid() {
  wait_for_previous_grid();
  allow_dependent_launch();
}

// Launches kernel<<<grid, block, 0, stream>>>(args...), as a programmatic dependent launch
// when `programmatic`, in clusters of `cluster` consecutive blocks along x when it is above 1
// (sm_90+: cluster.cuh).
template <class... KernelArgs, class... Args>
cudaError_t launch_kernel(void (*kernel)(KernelArgs...), dim3 grid, dim3 block, unsigned cluster, cudaStream_t stream,
                          bool programmatic, Args&&... args) {
  cudaLaunchConfig_t config{};
  config.gridDim = grid;
  config.blockDim = block;
  config.dynamicSmemBytes = 0;
  config.stream = stream;
  cudaLaunchAttribute attributes[2]{};
  unsigned n = 0;
  if (programmatic) {
    attributes[n].id = cudaLaunchAttributeProgrammaticStreamSerialization;
    attributes[n].val.programmaticStreamSerializationAllowed = 1;
    ++n;
  }
  if (cluster > 1) {
    attributes[n].id = cudaLaunchAttributeClusterDimension;
    attributes[n].val.clusterDim.x = cluster;
    attributes[n].val.clusterDim.y = 1;
    attributes[n].val.clusterDim.z = 1;
    ++n;
  }
  config.attrs = attributes;
  config.numAttrs = n;
  return cudaLaunchKernelEx(&config, kernel, std::forward<Args>(args)...);
}

}  // namespace gdn::kernels
