// Thread block clusters (sm_90+), as the K-split kernels use them (kernel_traits.hpp,
// kSplitK): the cluster-wide barrier, split into its arrive and wait halves, and loads from
// another block's shared memory (distributed shared memory), through CUDA's cooperative
// groups. Compiled for older GPUs, where clusters do not exist, they trap: the host refuses
// to launch a K-split variant there (launch.cuh).
#pragma once
#include <cooperative_groups.h>
#include <cuda_runtime.h>

namespace gdn::kernels {

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
#define GDN_HAS_CLUSTERS 1
#else
#define GDN_HAS_CLUSTERS 0
#endif

// Every thread of every block of the cluster arrives (release: its earlier shared-memory
// writes and reads are ordered before) ...
__device__ __forceinline__ void cluster_arrive() {
#if GDN_HAS_CLUSTERS
  cooperative_groups::this_cluster().barrier_arrive();
#else
  __trap();
#endif
}
// ... and waits until all have arrived (acquire: their writes are visible after).
__device__ __forceinline__ void cluster_wait() {
#if GDN_HAS_CLUSTERS
  cooperative_groups::this_cluster().barrier_wait();
#else
  __trap();
#endif
}

// The same object in the shared memory of block `rank` of the cluster.
template <class T>
__device__ __forceinline__ const T* cluster_shared(const T* local, unsigned rank) {
#if GDN_HAS_CLUSTERS
  return cooperative_groups::this_cluster().map_shared_rank(const_cast<T*>(local), rank);
#else
  __trap();
  return local;
#endif
}

}  // namespace gdn::kernels
