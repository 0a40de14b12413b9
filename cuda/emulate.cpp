// Emulation table built from instantiations.hpp (host compiler, contraction off).
#include "emulate.hpp"

#include "dispatch.hpp"
#include "instantiations.hpp"

namespace gdn::kernels {
namespace {

struct EmulateEntry {
  KernelKey key;
  EmulateFn fn;
};

#define GDN_EMULATE_ENTRY(group, ...) \
  EmulateEntry{key_of<GDN_RECURRENT_TRAITS(__VA_ARGS__)>(), &emulate_recurrent<GDN_RECURRENT_TRAITS(__VA_ARGS__)>},
const EmulateEntry kEmulations[] = {GDN_RECURRENT_INSTANTIATIONS(GDN_EMULATE_ENTRY)};
#undef GDN_EMULATE_ENTRY

}  // namespace

EmulateFn find_emulation(const KernelKey& key) {
  for (const EmulateEntry& e : kEmulations)
    if (e.key == key) return e.fn;
  return nullptr;
}

}  // namespace gdn::kernels
