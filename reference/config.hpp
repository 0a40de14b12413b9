// Every convention of SPEC.md that is a choice: layout, gating form, q/k normalisation,
// scale, pad sentinel. One Config describes one call of the recurrence.
#pragma once
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace gdn {

// KV: state [P, HV, K, V] (FLA default). VK: state [P, HV, V, K] (vLLM since #33291,
// FlashInfer pretranspose). The same function; only the storage order differs.
enum class Layout { KV, VK };
// Raw: g and beta computed from a, b, A_log, dt_bias (Qwen3-Next / vLLM decode).
// Precomputed: g (log-space decay, <= 0) and beta given.
enum class GateForm { Raw, Precomputed };
// L2Eps: x / sqrt(sum x^2 + 1e-6) (FLA and vLLM in-kernel). FNormalize: x / max(||x||, 1e-12)
// (torch.nn.functional.normalize). None: no normalisation.
enum class QkNorm { L2Eps, FNormalize, None };
// MinusOne: index -1 is padding (older vLLM, FLA). NonPositive: any index <= 0 is padding,
// slot 0 being a reserved null block (vLLM after #35431).
enum class PadSentinel { MinusOne, NonPositive };

constexpr double kL2NormEps = 1e-6;
constexpr double kFNormalizeEps = 1e-12;
constexpr double kSoftplusThreshold = 20.0;  // torch.nn.functional.softplus default

struct Config {
  int64_t H = 0;   // query/key heads
  int64_t HV = 0;  // value heads, HV % H == 0
  int64_t K = 0;   // key head dim
  int64_t V = 0;   // value head dim
  Layout layout = Layout::VK;
  GateForm gate_form = GateForm::Raw;
  QkNorm qk_norm = QkNorm::L2Eps;
  double scale = 0.0;  // 0 selects the default K^-1/2
  PadSentinel pad_sentinel = PadSentinel::MinusOne;
  bool allow_nonfinite = false;  // propagate NaN/Inf instead of rejecting them

  double effective_scale() const { return scale != 0.0 ? scale : 1.0 / std::sqrt(static_cast<double>(K)); }
  // Value head hv reads query/key head hv / (HV / H): contiguous groups.
  int64_t head_of(int64_t hv) const { return hv / (HV / H); }
  bool is_pad(int64_t index) const {
    return pad_sentinel == PadSentinel::MinusOne ? index == -1 : index <= 0;
  }
  // Lowest slot index that is not padding.
  int64_t first_slot() const { return pad_sentinel == PadSentinel::MinusOne ? 0 : 1; }
};

std::string to_string(Layout);
std::string to_string(GateForm);
std::string to_string(QkNorm);
std::string to_string(PadSentinel);
// Parsers accept exactly the names to_string produces and throw InputError otherwise.
Layout parse_layout(const std::string&);
GateForm parse_gate_form(const std::string&);
QkNorm parse_qk_norm(const std::string&);
PadSentinel parse_pad_sentinel(const std::string&);

}  // namespace gdn
