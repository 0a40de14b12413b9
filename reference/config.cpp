#include "config.hpp"

#include "tensor.hpp"

namespace gdn {
namespace {

template <class E, size_t N>
E parse_enum(const std::string& what, const std::string& s, const E (&values)[N]) {
  std::string names;
  for (E v : values) {
    if (to_string(v) == s) return v;
    names += (names.empty() ? "" : ", ") + to_string(v);
  }
  throw InputError(what + ": unknown value '" + s + "' (expected one of: " + names + ")");
}

}  // namespace

std::string to_string(Layout l) { return l == Layout::KV ? "KV" : "VK"; }
std::string to_string(GateForm g) { return g == GateForm::Raw ? "raw" : "precomputed"; }
std::string to_string(QkNorm n) {
  switch (n) {
    case QkNorm::L2Eps: return "l2eps";
    case QkNorm::FNormalize: return "fnormalize";
    case QkNorm::None: return "none";
  }
  return "?";
}
std::string to_string(PadSentinel p) { return p == PadSentinel::MinusOne ? "-1" : "<=0"; }

Layout parse_layout(const std::string& s) {
  static const Layout all[] = {Layout::KV, Layout::VK};
  return parse_enum("layout", s, all);
}
GateForm parse_gate_form(const std::string& s) {
  static const GateForm all[] = {GateForm::Raw, GateForm::Precomputed};
  return parse_enum("gate form", s, all);
}
QkNorm parse_qk_norm(const std::string& s) {
  static const QkNorm all[] = {QkNorm::L2Eps, QkNorm::FNormalize, QkNorm::None};
  return parse_enum("qk norm", s, all);
}
PadSentinel parse_pad_sentinel(const std::string& s) {
  static const PadSentinel all[] = {PadSentinel::MinusOne, PadSentinel::NonPositive};
  return parse_enum("pad sentinel", s, all);
}

}  // namespace gdn
