#pragma once
// WWW-Authenticate challenges (RFC 7235): a scheme and its parameters,
// several challenges to a header, parameter values as tokens or quoted
// strings with backslash escapes.
//
//   Bearer realm="https://auth.docker.io/token",service="registry.docker.io",
//          scope="repository:library/busybox:pull"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ringcri::image {

struct auth_challenge {
  std::string scheme;                         // lower case: "bearer", "basic"
  std::map<std::string, std::string> params;  // names in lower case

  std::string param(const std::string& name) const {
    auto it = params.find(name);
    return it == params.end() ? std::string() : it->second;
  }
};

// Every challenge the header value holds, in order. Malformed parts are
// skipped; a token68 credential after a scheme is ignored.
std::vector<auth_challenge> parse_www_authenticate(std::string_view header);

}  // namespace ringcri::image
