// Bad input is refused before any arithmetic, with one line naming the tensor and index.
#include "test_util.hpp"

using namespace gdn;
using namespace gdn::test;

namespace {

struct Problem {
  Config c;
  Inputs in;
};

Problem good(Layout layout = Layout::KV) {
  Problem p;
  p.c = small_config(2, 4, 8, 6, layout);
  GenerateOptions o;
  o.config = p.c;
  o.N = 3;
  o.T = 2;
  o.state_indices = true;
  o.extra_slots = 2;
  o.seed = 1;
  p.in = generate_inputs(o);
  return p;
}

// Runs the reference and returns the error message ("" if it did not throw InputError).
std::string error_of(const Problem& p) {
  try {
    reference(p.c, p.in);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("valid input runs", "[validate]") { CHECK(error_of(good()) == ""); }

TEST_CASE("each bad input names the tensor and the problem", "[validate]") {
  struct Bad {
    const char* what;
    std::function<void(Problem&)> spoil;
    std::vector<std::string> expect;  // substrings of the message
  };
  const std::vector<Bad> cases = {
      {"q shape", [](Problem& p) { p.in.q.shape[2] = 7; }, {"q: shape", "[6, 2, 7]", "[6, 2, 8]"}},
      {"v missing", [](Problem& p) { p.in.v = Tensor(); }, {"v: missing"}},
      {"HV % H", [](Problem& p) { p.c.H = 3; }, {"HV % H != 0", "HV=4", "H=3"}},
      {"layout mismatch", [](Problem& p) { p.c.layout = Layout::VK; }, {"state: shape", "VK layout", "that is the KV layout"}},
      {"index out of range", [](Problem& p) { p.in.state_indices[1] = 99; }, {"state_indices[1] = 99", "outside the pool"}},
      {"repeated index", [](Problem& p) { p.in.state_indices[2] = p.in.state_indices[0]; }, {"state_indices[2]", "repeats state_indices[0]"}},
      {"cu_seqlens not increasing", [](Problem& p) { p.in.cu_seqlens[2] = p.in.cu_seqlens[1]; }, {"cu_seqlens[2]", "must increase"}},
      {"cu_seqlens start", [](Problem& p) { p.in.cu_seqlens[0] = 1; }, {"cu_seqlens[0] = 1"}},
      {"cu_seqlens total", [](Problem& p) { p.in.cu_seqlens[3] = 7; }, {"cu_seqlens[3] = 7", "6 tokens of q"}},
      {"NaN in k", [](Problem& p) { p.in.k[1 * 16 + 8 + 5] = std::nan(""); }, {"k[1, 1, 5] is NaN"}},
      {"Inf in state", [](Problem& p) { p.in.state[3] = INFINITY; }, {"state[0, 0, 0, 3] is Inf"}},
      {"gate form mismatch", [](Problem& p) { p.in.g = Tensor({6, 4}); }, {"g: given", "gate form is raw"}},
      {"num_accepted without spec", [](Problem& p) { p.in.num_accepted = IndexTensor({3}, 1); }, {"num_accepted"}},
      {"negative scale", [](Problem& p) { p.c.scale = -1; }, {"scale"}},
  };
  for (const Bad& b : cases) {
    Problem p = good();
    b.spoil(p);
    const std::string msg = error_of(p);
    INFO(b.what << ": \"" << msg << "\"");
    CHECK(!msg.empty());
    CHECK(msg.find('\n') == std::string::npos);
    for (const std::string& s : b.expect) CHECK(msg.find(s) != std::string::npos);
  }
}

TEST_CASE("speculative decode inputs are checked", "[validate]") {
  Problem p;
  p.c = small_config();
  GenerateOptions o;
  o.config = p.c;
  o.N = 2;
  o.T = 3;
  o.speculative = true;
  p.in = generate_inputs(o);
  CHECK(error_of(p) == "");
  Problem q = p;
  q.in.num_accepted[1] = 4;
  CHECK(error_of(q).find("num_accepted[1] = 4 is outside [1, 3]") != std::string::npos);
  q = p;
  q.in.num_accepted = IndexTensor();
  CHECK(error_of(q).find("num_accepted: missing") != std::string::npos);
}

TEST_CASE("non-finite inputs propagate when allowed", "[validate]") {
  Problem p = good();
  p.in.v[0] = std::nan("");  // token 0, head 0, element 0 of sequence 0
  p.c.allow_nonfinite = true;
  const Outputs out = reference(p.c, p.in);
  CHECK(std::isnan(out.o[0]));          // o[0, 0, 0] reads the poisoned column
  CHECK(std::isfinite(out.o[1]));       // other columns are independent
  CHECK(std::isfinite(out.o[p.c.V]));   // and so is head 1
}
