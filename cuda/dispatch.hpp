// The one dispatch from runtime values to compiled instantiations (instantiations.hpp):
// device launches (dispatch.cu) and their CPU emulations (emulate.cpp).
#pragma once
#include <cuda_runtime.h>

#include <vector>

#include "numeric.hpp"
#include "params.hpp"

namespace gdn::kernels {

enum class Elem { BF16, F32, F64 };

struct KernelKey {
  bool vk = true;
  Elem state = Elem::BF16;
  Elem input = Elem::BF16;
  int bv = 32;
  int threads = 128;
  int K = 128;
  int min_blocks = 1;
  bool stochastic = false;
  bool shared_tile = false;
  int split_k = 1;
  int warps_v = 1;
  int V = 0;  // the value head dimension the build is compiled for; 0: any multiple of bv
  bool operator==(const KernelKey& o) const {
    return vk == o.vk && state == o.state && input == o.input && bv == o.bv && threads == o.threads && K == o.K &&
           min_blocks == o.min_blocks && stochastic == o.stochastic && shared_tile == o.shared_tile &&
           split_k == o.split_k && warps_v == o.warps_v && V == o.V;
  }
};

template <class T>
constexpr Elem elem_of() {
  return std::is_same_v<T, bf16> ? Elem::BF16 : std::is_same_v<T, float> ? Elem::F32 : Elem::F64;
}
// The key of the instantiation of traits Tr (kernel_traits.hpp), for both tables.
template <class Tr>
constexpr KernelKey key_of() {
  return KernelKey{Tr::kIsVK,     elem_of<typename Tr::StateT>(), elem_of<typename Tr::InputT>(), Tr::kBV, Tr::kThreads, Tr::kK,
                   Tr::kMinBlocks, Tr::kStochastic, Tr::kSharedTile, Tr::kSplitK, Tr::kWarpsV, Tr::kV};
}
// The traits of one line of instantiations.hpp.
#define GDN_RECURRENT_TRAITS(kIsVK, StateT, InputT, kBV, kThreads, kMinBlocks, kStochastic, kSharedTile, kSplitK, kWarpsV, \
                             kV)                                                                                        \
  ::gdn::kernels::RecurrentTraits<StateT, InputT, kIsVK, kBV, kThreads, kMinBlocks, kStochastic, kSharedTile, kSplitK,  \
                                  kWarpsV, kV>

using LaunchFn = void (*)(const RecurrentParams&, cudaStream_t);
using EmulateFn = void (*)(const RecurrentParams&);

// Every compiled instantiation, in the order of instantiations.hpp.
const std::vector<KernelKey>& compiled_kernels();
// nullptr when the key was not compiled.
LaunchFn find_launch(const KernelKey& key);
EmulateFn find_emulation(const KernelKey& key);

}  // namespace gdn::kernels
