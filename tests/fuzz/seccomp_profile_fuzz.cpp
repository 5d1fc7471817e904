// An OCI seccomp profile, as a pod's Localhost profile file gives it
// (cri/spec/seccomp_profile): the JSON never throws out of the parser, and
// what parses survives the trip to the keeper (spec_json.hpp) unchanged.

#include <cstdint>

#include "cri/spec/seccomp_profile.hpp"
#include "exec/spec_json.hpp"
#include "fuzz_check.hpp"

using namespace ringcri;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto profile = cri::spec::parse_seccomp_profile(fuzz::as_text(data, size));
  if (!profile) {
    FUZZ_CHECK(profile.error().kind() == error_kind::invalid_argument);
    return 0;
  }
  nlohmann::json wire = *profile;
  FUZZ_CHECK(nlohmann::json(wire.get<exec::seccomp_spec>()) == wire);
  return 0;
}
