// Launch table built from instantiations.hpp; the launch functions are instantiated in the
// recurrent_<group>.cu files.
#include "dispatch.hpp"
#include "instantiations.hpp"
#include "kernel_traits.hpp"
#include "launch.hpp"

namespace gdn::kernels {
namespace {

template <class T>
constexpr Elem elem_of() {
  return std::is_same_v<T, bf16> ? Elem::BF16 : std::is_same_v<T, float> ? Elem::F32 : Elem::F64;
}

struct LaunchEntry {
  KernelKey key;
  LaunchFn fn;
};

#define GDN_LAUNCH_ENTRY(group, kIsVK, StateT, InputT, kBV, kThreads, kMinBlocks, kStochastic)                                   \
  LaunchEntry{KernelKey{kIsVK, elem_of<StateT>(), elem_of<InputT>(), kBV, kThreads,                   \
                        RecurrentTraits<StateT, InputT, kIsVK, kBV, kThreads, kMinBlocks, kStochastic>::kK, kMinBlocks, kStochastic},                    \
              &launch_recurrent<RecurrentTraits<StateT, InputT, kIsVK, kBV, kThreads, kMinBlocks, kStochastic>>},
const LaunchEntry kLaunches[] = {GDN_RECURRENT_INSTANTIATIONS(GDN_LAUNCH_ENTRY)};
#undef GDN_LAUNCH_ENTRY

}  // namespace

const std::vector<KernelKey>& compiled_kernels() {
  static const std::vector<KernelKey> keys = [] {
    std::vector<KernelKey> k;
    for (const LaunchEntry& e : kLaunches) k.push_back(e.key);
    return k;
  }();
  return keys;
}

LaunchFn find_launch(const KernelKey& key) {
  for (const LaunchEntry& e : kLaunches)
    if (e.key == key) return e.fn;
  return nullptr;
}

}  // namespace gdn::kernels
