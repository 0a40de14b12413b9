// The chunked (WY / UT-transform) form of the same function, as chunked prefill kernels
// compute it, in float64. Within a chunk of n tokens with cumulative log decay
// G_t = g_1 + ... + g_t and Gamma_t = exp(G_t):
//
//     (I + A) U = diag(beta) (Vc - diag(Gamma) Kc S0),  A_ti = beta_t e^{G_t - G_i} k_t.k_i  (i < t)
//     O  = diag(Gamma) Qc S0 + (M o Qc Kc^T) U,          M_ti = e^{G_t - G_i}               (i <= t)
//     S  = Gamma_n S0 + Kc^T diag(e^{G_n - G_i}) U
//
// where the rows of Kc, Qc, Vc, U, O are k^_t, q~_t, v_t, u_t, o_t. It equals the recurrent
// form within 1e-12 relative (tests/chunked_test.cpp). Speculative decode (per-token state
// slots) has no chunked form and is refused.
#pragma once
#include "config.hpp"
#include "problem.hpp"

namespace gdn {

constexpr int64_t kDefaultChunkSize = 64;  // FLA's chunk size for gated delta rule prefill

Outputs reference_chunked(const Config& config, const Inputs& inputs, int64_t chunk_size = kDefaultChunkSize);

}  // namespace gdn
