// The chunked (WY / UT) form against the recurrent form.
#include "reference/chunked.hpp"
#include "test_util.hpp"

using namespace gdn;
using namespace gdn::test;

TEST_CASE("chunked form equals the recurrent form within 1e-12 relative", "[chunked]") {
  const int64_t chunk = GENERATE(1, 7, 16, 64);
  const Layout layout = GENERATE(Layout::KV, Layout::VK);
  Config c = small_config(2, 4, 32, 16, layout);
  GenerateOptions o;
  o.config = c;
  o.seq_lens = {1, 50, 130, 64};
  o.input_dtype = o.params_dtype = Dtype::BF16;
  o.state_indices = true;
  o.seed = seed_for("chunked", static_cast<uint64_t>(chunk));
  const Inputs in = generate_inputs(o);
  const Outputs rec = reference(c, in), chk = reference_chunked(c, in, chunk);
  const double eo = rel_diff(chk.o, rec.o), es = rel_diff(chk.state, rec.state);
  std::printf("chunked (chunk %lld, %s): relative difference output %.2e state %.2e\n", static_cast<long long>(chunk),
              to_string(layout).c_str(), eo, es);
  CHECK(eo < 1e-12);
  CHECK(es < 1e-12);
}

TEST_CASE("chunked form on slow-decay heads over 2048 tokens", "[chunked]") {
  Config c = small_config(1, 2, 64, 32);
  GenerateOptions o;
  o.config = c;
  o.T = 2048;
  o.stress = Stress::SlowDecay;
  o.seed = seed_for("chunked-slow");
  const Inputs in = generate_inputs(o);
  const Outputs rec = reference(c, in), chk = reference_chunked(c, in);
  const double eo = rel_diff(chk.o, rec.o), es = rel_diff(chk.state, rec.state);
  std::printf("chunked slow decay T=2048: relative difference output %.2e state %.2e\n", eo, es);
  CHECK(eo < 1e-12);
  CHECK(es < 1e-12);
}

TEST_CASE("chunked form refuses per-token slots", "[chunked]") {
  Config c = small_config();
  GenerateOptions o;
  o.config = c;
  o.N = 2;
  o.T = 3;
  o.speculative = true;
  const Inputs in = generate_inputs(o);
  CHECK_THROWS_AS(reference_chunked(c, in), InputError);
}
