// Which state slot each sequence reads and which slots its tokens write: the pool,
// padding and speculative-decode rules of SPEC.md, resolved once per call.
#pragma once
#include <vector>

#include "config.hpp"
#include "problem.hpp"

namespace gdn {

struct SequencePlan {
  int64_t begin = 0, end = 0;  // tokens [begin, end) on the flat token axis
  bool padded = false;         // no state read, no state write, output zero
  int64_t read_slot = -1;      // slot of the initial state
  // Speculative decode: slot written after each token (-1: padding, not written).
  // Otherwise empty, and the final state goes back to read_slot.
  std::vector<int64_t> token_slots;
};

// Assumes validate(config, inputs) passed.
std::vector<SequencePlan> plan_sequences(const Config& config, const Inputs& inputs);

}  // namespace gdn
