// STUB: the API of trace.hpp exists so that `gdn run` can be built against it; the HDF5
// implementation follows.
#include "golden/trace.hpp"

namespace gdn {

void write_trace(const std::string&, const Trace&) { throw InputError("trace: writing not implemented yet"); }
Trace read_trace(const std::string&, const TraceReadOptions&) { throw InputError("trace: reading not implemented yet"); }
std::string inputs_digest(const Trace&) { return ""; }
Candidate make_candidate(const Trace&, const Outputs&, const PrecisionSpec&, const std::string&, const std::string&) {
  throw InputError("candidate: not implemented yet");
}
void write_candidate(const std::string&, const Candidate&) { throw InputError("candidate: writing not implemented yet"); }
Candidate read_candidate(const std::string&) { throw InputError("candidate: reading not implemented yet"); }
std::string generator_version() { return std::string("gdn ") + GDN_VERSION; }

}  // namespace gdn
