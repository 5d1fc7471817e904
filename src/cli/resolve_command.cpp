// ringcri resolve IMAGE: where a pull of IMAGE goes, as the puller decides
// it (image/source/registry_hosts: the hosts.toml, the hosts in order,
// their TLS settings) and whose credentials it brings ([registry.auths],
// as rpc/pull_image.cpp takes them when the request has none). Secrets are
// never printed. With --probe, each host is asked for /v2/ with the
// puller's HTTP client and TLS settings, anonymously.

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "image/registry/http_client.hpp"
#include "image/registry/registry_client.hpp"
#include "image/source/credentials.hpp"
#include "image/source/reference.hpp"
#include "image/source/registry_hosts.hpp"
#include "reactor/reactor.hpp"

namespace ringcri::cli {

namespace {

std::string capabilities_of(const image::registry_endpoint& ep) {
  if (ep.can_pull && ep.can_resolve) return "pull, resolve";
  if (ep.can_pull) return "pull";
  if (ep.can_resolve) return "resolve";
  return "none (never used)";
}

std::string tls_of(const image::registry_endpoint& ep) {
  if (ep.scheme == "http") return "none (plain HTTP)";
  std::string out = ep.skip_verify ? "server certificate not verified (skip_verify)"
                                   : "server certificate verified against the system's CAs";
  for (const auto& ca : ep.ca_files) out += (ep.skip_verify ? "; ca " : " and ") + ca.string();
  if (!ep.client_certs.empty()) {
    const auto& [cert, key] = ep.client_certs.front();
    out += "; client certificate " + cert.string() +
           (key.empty() ? " (with its key)" : ", key " + key.string());
  }
  return out;
}

// What a probe of one host found.
struct probe_outcome {
  std::string text;
  bool answered = false;  // an HTTP answer a registry gives: 200, or 401 asking for credentials
};

reactor::task<std::vector<probe_outcome>> probe_hosts(
    image::http_client& http, const std::vector<image::registry_endpoint>& endpoints) {
  std::vector<probe_outcome> out;
  for (const auto& ep : endpoints) {
    image::http_request req;
    req.url = ep.base_url() + "/";
    req.tls = image::tls_for(ep);
    req.timeout = std::chrono::seconds(10);
    req.max_body = 64 << 10;
    auto resp = co_await http.request(std::move(req));
    probe_outcome o;
    if (!resp) {
      o.text = "no answer: " + resp.error().message();
    } else {
      o.text = fmt::format("HTTP {} {}", resp->status, resp->reason);
      if (auto challenge = resp->header("www-authenticate"); challenge && resp->status == 401)
        o.text += fmt::format(" (asks for credentials: {})", *challenge);
      o.answered = resp->status == 200 || resp->status == 401;
    }
    out.push_back(std::move(o));
  }
  co_return out;
}

}  // namespace

int resolve_command(const effective_config& effective, const std::string& image, bool probe) {
  const auto& cfg = effective.cfg;
  auto ref = image::parse_reference(image);
  if (!ref) {
    std::fprintf(stderr, "ringcri: %s\n", ref.error().message().c_str());
    return 2;
  }
  auto hosts = image::hosts_for({.config_path = cfg.registry.config_path,
                                 .max_concurrent_downloads = cfg.registry.max_concurrent_downloads},
                                ref->registry);
  if (!hosts) {
    std::fprintf(stderr, "ringcri: %s\n", hosts.error().message().c_str());
    return 2;
  }

  std::printf("image       %s\n", ref->string().c_str());
  std::printf("registry    %s\n", ref->registry.c_str());
  if (!hosts->file.empty()) {
    std::printf("hosts.toml  %s\n", hosts->file.c_str());
  } else {
    const auto dir = cfg.registry.config_path;
    std::printf(
        "hosts.toml  none (neither %s nor %s exists): the registry itself is the only host\n",
        (dir / ref->registry / "hosts.toml").c_str(), (dir / "_default" / "hosts.toml").c_str());
  }

  std::printf("hosts, in the order a pull tries them:\n");
  int n = 0;
  for (const auto& ep : hosts->endpoints) {
    std::printf("  %d. %-8s %s\n", ++n, ep.is_mirror ? "mirror" : "registry",
                ep.base_url().c_str());
    std::printf("     capabilities  %s\n", capabilities_of(ep).c_str());
    std::printf("     tls           %s\n", tls_of(ep).c_str());
    if (!ep.headers.empty()) {
      std::string names;
      for (const auto& [name, values] : ep.headers) names += (names.empty() ? "" : ", ") + name;
      std::printf("     headers       %s (values not shown)\n", names.c_str());
    }
  }

  // As rpc/pull_image.cpp: the request's own AuthConfig first, else the
  // config's entry for the registry, else anonymous.
  int status = 0;
  const std::string entry = config::key_path("registry.auths", ref->registry);
  if (auto it = cfg.registry.auths.find(ref->registry); it == cfg.registry.auths.end()) {
    std::printf(
        "credentials none in the config ([%s] is not set): anonymous, unless the PullImage request "
        "brings its own\n",
        entry.c_str());
  } else {
    const auto& a = it->second;
    auto origin = effective.origins.find(entry);
    const std::string where = origin == effective.origins.end() ? "" : " from " + origin->second;
    auto creds = image::credentials_from(a.username, a.password, a.auth, a.identity_token, "");
    if (!creds) {
      std::printf("credentials [%s]%s, which a pull refuses: %s\n", entry.c_str(), where.c_str(),
                  creds.error().message().c_str());
      status = 1;
    } else {
      std::string what =
          creds->username.empty() ? "no username" : fmt::format("username \"{}\"", creds->username);
      if (!creds->password.empty()) what += ", a password";
      if (!creds->identity_token.empty()) what += ", an identity token";
      std::printf(
          "credentials [%s]%s: %s (not shown), unless the PullImage request brings its own; sent "
          "to "
          "the registry only, mirrors are asked anonymously\n",
          entry.c_str(), where.c_str(), what.c_str());
    }
  }

  if (!probe) return status;
  std::printf("probe, GET /v2/ on each host without credentials:\n");
  reactor::reactor r;
  image::http_client http({.connect_timeout = std::chrono::seconds(10)});
  auto outcomes = r.block_on(probe_hosts(http, hosts->endpoints));
  bool usable = false;
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    const auto& ep = hosts->endpoints[i];
    std::printf("  %zu. %s  %s\n", i + 1, ep.base_url().c_str(), outcomes[i].text.c_str());
    usable = usable || (outcomes[i].answered && (ep.can_pull || ep.can_resolve));
  }
  if (!usable) {
    std::printf("no host a pull would use answered as a registry does\n");
    status = 1;
  }
  return status;
}

}  // namespace ringcri::cli
