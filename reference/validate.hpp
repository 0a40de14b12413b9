// Checks a call before any arithmetic: shapes against the config, indices against the pool,
// cu_seqlens ordering, finiteness. Each failure throws InputError with one line naming the
// tensor and the offending index.
#pragma once
#include "config.hpp"
#include "problem.hpp"

namespace gdn {

void validate(const Config& config, const Inputs& inputs);

// Expected shape of the state pool with P slots in the config's layout.
Shape state_shape(const Config& config, int64_t P);

}  // namespace gdn
