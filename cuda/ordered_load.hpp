// Global loads that the compiler issues in program order (volatile: ptxas keeps volatile
// accesses in the order written, where it moves plain loads freely), for the loads before a
// decode block's state load. The kernel writes them in the order it wants them issued: the
// token's inputs and the head's gate weights, then the slot lookup, whose result alone the
// state loads wait for. With plain loads ptxas issued the slot lookup first and put the
// inputs behind its wait, one DRAM latency late (experiments/bv_tile, v8). On the host (the
// CPU emulation) a plain load. T: 2, 4, 8 or 16 bytes.
#pragma once
#include <cstdint>
#include <type_traits>

#include "numeric.hpp"  // GDN_HD

namespace gdn::kernels {

template <class T>
GDN_HD T load_in_order(const T* p) {
#if defined(__CUDA_ARCH__)
  static_assert(std::is_trivially_copyable_v<T>, "raw bits only");
  union {
    T value;
    uint32_t w[sizeof(T) >= 4 ? sizeof(T) / 4 : 1];
    unsigned short h;
  } u;
  if constexpr (sizeof(T) == 16) {
    asm volatile("ld.volatile.global.v4.u32 {%0, %1, %2, %3}, [%4];"
                 : "=r"(u.w[0]), "=r"(u.w[1]), "=r"(u.w[2]), "=r"(u.w[3])
                 : "l"(p));
  } else if constexpr (sizeof(T) == 8) {
    asm volatile("ld.volatile.global.v2.u32 {%0, %1}, [%2];" : "=r"(u.w[0]), "=r"(u.w[1]) : "l"(p));
  } else if constexpr (sizeof(T) == 4) {
    asm volatile("ld.volatile.global.u32 %0, [%1];" : "=r"(u.w[0]) : "l"(p));
  } else {
    static_assert(sizeof(T) == 2, "2, 4, 8 or 16 bytes");
    asm volatile("ld.volatile.global.u16 %0, [%1];" : "=h"(u.h) : "l"(p));
  }
  return u.value;
#else
  return *p;
#endif
}

}  // namespace gdn::kernels
