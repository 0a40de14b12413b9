#include "plan.hpp"

namespace gdn {

std::vector<SequencePlan> plan_sequences(const Config& c, const Inputs& in) {
  const int64_t N = in.num_sequences();
  std::vector<SequencePlan> plans(static_cast<size_t>(N));
  for (int64_t n = 0; n < N; ++n) {
    SequencePlan& p = plans[static_cast<size_t>(n)];
    p.begin = in.cu_seqlens[n];
    p.end = in.cu_seqlens[n + 1];
    if (!in.state_indices.present()) {
      p.read_slot = n;
    } else if (!in.speculative()) {
      p.read_slot = in.state_indices[n];
    } else {
      const int64_t Tmax = in.state_indices.dim(1);
      p.read_slot = in.state_indices[n * Tmax + in.num_accepted[n] - 1];
      for (int64_t t = 0; t < p.end - p.begin; ++t) {
        const int64_t s = in.state_indices[n * Tmax + t];
        p.token_slots.push_back(c.is_pad(s) ? -1 : s);
      }
    }
    p.padded = in.state_indices.present() && c.is_pad(p.read_slot);
    if (p.padded) p.token_slots.assign(p.token_slots.size(), -1);
  }
  return plans;
}

}  // namespace gdn
