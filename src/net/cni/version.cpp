// The CNI spec versions this client speaks (see version.hpp).

#include "net/cni/version.hpp"

namespace ringcri::net::cni {

bool is_supported_version(std::string_view cni_version) {
  return cni_version == "1.0.0" || cni_version == "0.4.0" || cni_version == "0.3.1" ||
         cni_version == "0.3.0";
}

bool version_has_check(std::string_view cni_version) {
  return cni_version == "1.0.0" || cni_version == "0.4.0";
}

}  // namespace ringcri::net::cni
