#pragma once
// Credentials for one registry, from a PullImageRequest's AuthConfig or
// from the config file.

#include <string>
#include <string_view>

#include "base/error.hpp"

namespace ringcri::image {

struct credentials {
  std::string username;
  std::string password;
  std::string identity_token;  // an OAuth2 refresh token for the token endpoint
  std::string registry_token;  // a bearer token sent as is

  bool empty() const {
    return username.empty() && password.empty() && identity_token.empty() && registry_token.empty();
  }
};

// From CRI AuthConfig fields: `auth` is base64("user:password") and, when
// set, gives username and password. INVALID_ARGUMENT if `auth` does not
// decode or has no ':'.
result<credentials> credentials_from(std::string_view username, std::string_view password,
                                     std::string_view auth, std::string_view identity_token,
                                     std::string_view registry_token);

}  // namespace ringcri::image
