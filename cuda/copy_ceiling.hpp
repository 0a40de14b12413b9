// The copy ceiling of ../shared/PERF.md: the device-to-device copy bandwidth that `gdn bench`
// reports its kernels against, measured in the same process.
#pragma once
#include <cstdint>

namespace gdn::gpu {

// GB/s, bytes read + written, of a cudaMemcpy of `bytes` between two buffers allocated for
// it: the median of 20 copies after 3 warm-up ones. Where the driver places the two buffers
// can move the figure by 14% on an H100 (experiments/slot_order).
double copy_ceiling_gbps(int64_t bytes);

}  // namespace gdn::gpu
