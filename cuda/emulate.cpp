// Emulation table built from instantiations.hpp (host compiler, contraction off).
#include "emulate.hpp"

#include "dispatch.hpp"
#include "instantiations.hpp"

namespace gdn::kernels {
namespace {

template <class T>
constexpr Elem elem_of() {
  return std::is_same_v<T, bf16> ? Elem::BF16 : std::is_same_v<T, float> ? Elem::F32 : Elem::F64;
}

struct EmulateEntry {
  KernelKey key;
  EmulateFn fn;
};

#define GDN_EMULATE_ENTRY(group, kIsVK, StateT, InputT, kBV, kThreads, kMinBlocks, kStochastic)                                  \
  EmulateEntry{KernelKey{kIsVK, elem_of<StateT>(), elem_of<InputT>(), kBV, kThreads,                  \
                         RecurrentTraits<StateT, InputT, kIsVK, kBV, kThreads, kMinBlocks, kStochastic>::kK, kMinBlocks, kStochastic},                   \
               &emulate_recurrent<RecurrentTraits<StateT, InputT, kIsVK, kBV, kThreads, kMinBlocks, kStochastic>>},
const EmulateEntry kEmulations[] = {GDN_RECURRENT_INSTANTIATIONS(GDN_EMULATE_ENTRY)};
#undef GDN_EMULATE_ENTRY

}  // namespace

EmulateFn find_emulation(const KernelKey& key) {
  for (const EmulateEntry& e : kEmulations)
    if (e.key == key) return e.fn;
  return nullptr;
}

}  // namespace gdn::kernels
