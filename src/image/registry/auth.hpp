#pragma once
// The registry auth flow (Docker's token auth and plain basic auth):
//
//  1. A request goes out anonymously, or with what the same origin asked
//     for before (so a pull pays the 401 round trip once).
//  2. On 401 the caller hands the response to answer(): its
//     WWW-Authenticate challenge says Basic (send the credentials) or
//     Bearer realm="...",service="...",scope="..." (ask the realm for a
//     token: GET with basic auth when a username/password is given, or the
//     OAuth2 POST grant_type=refresh_token with an identity token).
//  3. The caller retries once with what answer() returned; a second 401 is
//     PERMISSION_DENIED naming the registry.
//
// A registry_token from the credentials is sent as the bearer token as is.
// A token request that meets an outage (see retry_policy.hpp) is tried
// again; its final failure names the realm and how many tries were made.
// Tokens are cached per (realm, service, scope, credentials) until
// expires_in (60 s when absent) runs out, less a tenth for the clock.
// One registry_auth per http_client (reactor thread); not thread-safe.

#include <map>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "image/registry/auth_challenge.hpp"
#include "image/registry/http_client.hpp"
#include "image/registry/retry_policy.hpp"
#include "image/source/credentials.hpp"
#include "reactor/op.hpp"
#include "reactor/task.hpp"

namespace ringcri::image {

// What a request is for, as far as auth goes.
struct auth_target {
  std::string registry;    // for messages: "docker.io"
  std::string origin;      // "https://registry-1.docker.io": where challenges are remembered
  std::string repository;  // "library/busybox": the scope asked for is repository:<it>:pull
  const credentials* creds = nullptr;  // nullptr: anonymous
  tls_options tls;                     // for the token realm too
  reactor::cancellation* cancel = nullptr;
};

class registry_auth {
 public:
  explicit registry_auth(http_client& http, retry_policy retry = {}) : http_(http), retry_(retry) {}

  // The Authorization header value for a request to `t` ("" for none),
  // from the challenge the origin sent before; may fetch a token.
  reactor::task<result<std::string>> authorization(const auth_target& t);

  // After `unauthorized` (a 401) for a request that carried `sent` (""
  // for none): the Authorization value to retry with. PERMISSION_DENIED
  // when the challenge cannot be answered or would be answered with the
  // same thing again.
  reactor::task<result<std::string>> answer(const auth_target& t, const http_response& unauthorized,
                                            const std::string& sent);

  // Tokens fetched from realms so far (cache misses).
  std::size_t tokens_fetched() const { return tokens_fetched_; }

 private:
  struct cached_token {
    std::string value;
    reactor::clock::time_point expires;
  };

  reactor::task<result<std::string>> bearer(const auth_target& t, const auth_challenge& c,
                                            std::vector<std::string> scopes, bool fresh);
  reactor::task<result<cached_token>> fetch_token(const auth_target& t, const auth_challenge& c,
                                                  const std::vector<std::string>& scopes);

  http_client& http_;
  retry_policy retry_;
  std::map<std::string, auth_challenge> challenges_;  // by origin
  std::map<std::string, cached_token> tokens_;
  std::size_t tokens_fetched_ = 0;
};

// "Basic <base64(user:password)>".
std::string basic_authorization(const credentials& c);

// PERMISSION_DENIED for a request still refused (401 or 403) after auth:
// names the registry, the repository and whose credentials were used.
error access_refused(const auth_target& t, const http_response& resp);

}  // namespace ringcri::image
