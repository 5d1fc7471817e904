#include "image/registry/auth.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "base/base64.hpp"
#include "image/registry/content_digest.hpp"
#include "image/registry/url.hpp"

namespace ringcri::image {

namespace io = ringcri::reactor;
using namespace std::chrono_literals;
using registry_detail::percent_encode;

namespace {

constexpr std::int64_t default_token_seconds = 60;


// Keeps tokens of different credentials apart without keeping secrets in
// the key.
std::string fingerprint(const credentials* c) {
  if (!c) return "anonymous";
  std::string all = c->username;
  all.push_back('\0');
  all += c->password;
  all.push_back('\0');
  all += c->identity_token;
  return registry_detail::sha256_digest_of(all);
}

std::string pull_scope(const std::string& repository) {
  return "repository:" + repository + ":pull";
}

std::vector<std::string> split_scopes(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    auto sp = s.find(' ');
    auto part = s.substr(0, sp);
    if (!part.empty()) out.emplace_back(part);
    if (sp == std::string_view::npos) break;
    s.remove_prefix(sp + 1);
  }
  return out;
}

std::string who(const auth_target& t) {
  if (!t.creds || t.creds->empty()) return "anonymously";
  if (!t.creds->username.empty()) return fmt::format("as {}", t.creds->username);
  if (!t.creds->identity_token.empty()) return "with an identity token";
  return "with a registry token";
}

tl::unexpected<error> denied(std::string message) {
  return fail(error_kind::permission_denied, std::move(message));
}

}  // namespace

std::string basic_authorization(const credentials& c) {
  return "Basic " + base64_encode(c.username + ":" + c.password);
}

error access_refused(const auth_target& t, const http_response& resp) {
  return error(error_kind::permission_denied,
               fmt::format("registry {} refused access to {} {} (HTTP {} after authenticating)",
                           t.registry, t.repository, who(t), resp.status));
}

io::task<result<std::string>> registry_auth::authorization(const auth_target& t) {
  if (t.creds && !t.creds->registry_token.empty()) co_return "Bearer " + t.creds->registry_token;
  auto it = challenges_.find(t.origin);
  if (it == challenges_.end()) co_return std::string();
  auth_challenge c = it->second;  // a copy: the map may change while this awaits
  if (c.scheme == "basic") {
    if (t.creds && !t.creds->username.empty()) co_return basic_authorization(*t.creds);
    co_return std::string();
  }
  if (c.scheme == "bearer") {
    std::vector<std::string> scopes;  // not a braced list: g++ 12 mis-compiles those in coroutines
    scopes.push_back(pull_scope(t.repository));
    co_return co_await bearer(t, c, std::move(scopes), false);
  }
  co_return std::string();
}

io::task<result<std::string>> registry_auth::answer(const auth_target& t,
                                                    const http_response& unauthorized,
                                                    const std::string& sent) {
  if (t.creds && !t.creds->registry_token.empty()) {
    co_return denied(fmt::format("registry {} refused the registry token for {} (HTTP {})",
                                 t.registry, t.repository, unauthorized.status));
  }
  std::vector<auth_challenge> all;
  for (auto value : unauthorized.headers_named("www-authenticate")) {
    for (auto& c : parse_www_authenticate(value)) all.push_back(std::move(c));
  }
  auto pick = [&](std::string_view scheme) -> const auth_challenge* {
    for (const auto& c : all)
      if (c.scheme == scheme) return &c;
    return nullptr;
  };
  const auth_challenge* chosen = pick("bearer");
  if (!chosen) chosen = pick("basic");
  if (!chosen) {
    co_return denied(
        fmt::format("registry {} answered HTTP {} for {} without a Basic or Bearer challenge",
                    t.registry, unauthorized.status, t.repository));
  }
  auth_challenge c = *chosen;
  challenges_[t.origin] = c;

  if (c.scheme == "basic") {
    if (!t.creds || t.creds->username.empty()) {
      co_return denied(fmt::format("registry {} requires a username and password for {}",
                                   t.registry, t.repository));
    }
    std::string value = basic_authorization(*t.creds);
    if (value == sent) co_return tl::unexpected(access_refused(t, unauthorized));
    co_return value;
  }

  std::vector<std::string> scopes = split_scopes(c.param("scope"));
  scopes.push_back(pull_scope(t.repository));
  auto value = co_await bearer(t, c, std::move(scopes), false);
  if (value && *value == sent) {
    // The token we sent was refused while still fresh here: ask again once.
    value = co_await bearer(t, c, split_scopes(c.param("scope") + " " + pull_scope(t.repository)),
                            true);
    if (value && *value == sent) co_return tl::unexpected(access_refused(t, unauthorized));
  }
  co_return value;
}

io::task<result<std::string>> registry_auth::bearer(const auth_target& t, const auth_challenge& c,
                                                    std::vector<std::string> scopes, bool fresh) {
  std::sort(scopes.begin(), scopes.end());
  scopes.erase(std::unique(scopes.begin(), scopes.end()), scopes.end());
  std::string key = fmt::format("{}\n{}\n{}\n{}", c.param("realm"), c.param("service"),
                                fmt::join(scopes, " "), fingerprint(t.creds));
  if (!fresh) {
    auto it = tokens_.find(key);
    if (it != tokens_.end() && io::clock::now() < it->second.expires) {
      co_return "Bearer " + it->second.value;
    }
  }
  auto token = co_await fetch_token(t, c, scopes);
  if (!token) co_return tl::unexpected(token.error());
  ++tokens_fetched_;
  std::string value = "Bearer " + token->value;
  tokens_[key] = std::move(*token);
  co_return value;
}

io::task<result<registry_auth::cached_token>> registry_auth::fetch_token(
    const auth_target& t, const auth_challenge& c, const std::vector<std::string>& scopes) {
  std::string realm = c.param("realm");
  std::string service = c.param("service");
  if (realm.empty()) {
    co_return denied(
        fmt::format("registry {} sent a Bearer challenge without a realm", t.registry));
  }
  std::string what = fmt::format("get a token for {} from {}", t.registry, realm);
  http_request req;
  req.tls = t.tls;
  req.cancel = t.cancel;
  req.timeout = 60s;
  req.max_body = 1u << 20;
  if (t.creds && !t.creds->identity_token.empty()) {
    // OAuth2 refresh-token grant, as Docker's token spec has it.
    req.method = http_method::post;
    req.url = realm;
    req.headers.push_back("Content-Type: application/x-www-form-urlencoded");
    req.body = fmt::format(
        "grant_type=refresh_token&refresh_token={}&service={}&scope={}"
        "&client_id=ringcri",
        percent_encode(t.creds->identity_token), percent_encode(service),
        percent_encode(fmt::format("{}", fmt::join(scopes, " "))));
  } else {
    req.url = realm;
    if (!service.empty()) req.url = registry_detail::with_query(req.url, "service", service);
    for (const auto& s : scopes) req.url = registry_detail::with_query(req.url, "scope", s);
    if (t.creds && !t.creds->username.empty()) {
      req.headers.push_back("Authorization: " + basic_authorization(*t.creds));
    }
  }
  result<http_response> resp;
  for (unsigned tries = 1;; ++tries) {
    resp = co_await http_.request(req);  // a copy per try: small
    try_failure why;
    if (!resp) {
      if (resp.error().kind() == error_kind::cancelled)
        co_return tl::unexpected(std::move(resp.error()));
      why = classify(resp.error());
    } else if (resp->status == 401 || resp->status == 403) {
      co_return denied(fmt::format("{}: refused {} (HTTP {})", what, who(t), resp->status));
    } else if (resp->ok()) {
      break;
    } else {
      why = classify(*resp);
    }
    auto next = decide_retry(retry_, tries, why);
    if (!next.wait) {
      error e = resp ? http_status_error(*resp, what) : std::move(resp.error()).context(what);
      co_return tl::unexpected(error(e.kind(), e.message() + next.note, e.sys_errno()));
    }
    auto slept = co_await sleep_before_retry(*next.wait, t.cancel, what);
    if (!slept) co_return tl::unexpected(std::move(slept.error()));
  }

  auto doc = nlohmann::json::parse(resp->body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    co_return fail(error_kind::unavailable, what + ": the answer is not JSON");
  }
  cached_token tok;
  for (const char* field : {"token", "access_token"}) {
    auto it = doc.find(field);
    if (it != doc.end() && it->is_string() && !it->get<std::string>().empty()) {
      tok.value = it->get<std::string>();
      break;
    }
  }
  if (tok.value.empty())
    co_return fail(error_kind::unavailable, what + ": the answer has no token");
  std::int64_t seconds = default_token_seconds;
  if (auto it = doc.find("expires_in");
      it != doc.end() && it->is_number() && it->get<double>() > 0) {
    seconds = static_cast<std::int64_t>(it->get<double>());
    if (seconds <= 0) seconds = 1;
  }
  // A tenth off for the time the token spent on the way and clock skew.
  tok.expires = io::clock::now() + std::chrono::milliseconds(seconds * 900);
  co_return tok;
}

}  // namespace ringcri::image
