// Launch table built from instantiations.hpp; the launch functions are instantiated in the
// recurrent_<group>.cu files.
#include "dispatch.hpp"
#include "instantiations.hpp"
#include "kernel_traits.hpp"
#include "launch.hpp"

namespace gdn::kernels {
namespace {

struct LaunchEntry {
  KernelKey key;
  LaunchFn fn;
};

#define GDN_LAUNCH_ENTRY(group, ...) \
  LaunchEntry{key_of<GDN_RECURRENT_TRAITS(__VA_ARGS__)>(), &launch_recurrent<GDN_RECURRENT_TRAITS(__VA_ARGS__)>},
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
