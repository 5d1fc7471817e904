#include "image/registry/registry_client.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>
#include <optional>

#include "base/sys/sha256.hpp"
#include "image/registry/content_digest.hpp"
#include "image/registry/manifest.hpp"
#include "image/registry/media_types.hpp"
#include "image/registry/url.hpp"
#include "reactor/ops.hpp"

namespace ringcri::image {

namespace io = ringcri::reactor;
using registry_detail::is_sha256_digest;

struct registry_client::endpoint_failure {
  error err;
  bool try_next;    // the endpoint's fault: the next one may do better
  try_failure why;  // whether this endpoint is worth another try first
};

// Where a blob download stands, across attempts and endpoints.
struct registry_client::blob_progress {
  std::uint64_t position = 0;                            // offset of the next byte the sink expects
  std::optional<sys::sha256> hasher;                     // when fetched from 0
};

namespace {

std::string describe(const reference& ref) {
  std::string s = ref.registry + "/" + ref.repository;
  if (!ref.tag.empty()) s += ":" + ref.tag;
  if (!ref.digest.empty()) s += "@" + ref.digest;
  return s;
}

std::string endpoint_url(const registry_endpoint& ep, const reference& ref, std::string_view kind,
                         std::string_view object) {
  std::string url = fmt::format("{}/{}/{}/{}", ep.base_url(), ref.repository, kind, object);
  if (ep.is_mirror) url = registry_detail::with_query(std::move(url), "ns", ref.registry);
  return url;
}

// "MANIFEST_UNKNOWN: manifest unknown" from a registry's error body.
std::string registry_error_detail(std::string_view body) {
  auto doc = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return {};
  auto errors = doc.find("errors");
  if (errors == doc.end() || !errors->is_array() || errors->empty()) return {};
  const auto& first = (*errors)[0];
  if (!first.is_object()) return {};
  std::string code = first.value("code", std::string());
  std::string message = first.value("message", std::string());
  if (code.empty()) return message;
  return message.empty() ? code : code + ": " + message;
}

error status_error(const http_response& resp, std::string_view what) {
  error e = http_status_error(resp, what);
  std::string detail = registry_error_detail(resp.body);
  if (detail.empty()) return e;
  return error(e.kind(), e.message() + ": " + detail);
}

// The start of "bytes <start>-<end>/<total>".
std::optional<std::uint64_t> content_range_start(std::string_view v) {
  if (!v.starts_with("bytes ")) return std::nullopt;
  v.remove_prefix(6);
  std::uint64_t start = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), start);
  if (ec != std::errc() || end == v.data() || end == v.data() + v.size() || *end != '-') {
    return std::nullopt;
  }
  return start;
}

// `e` with `note` (" (3 tries)") after its message.
error with_note(error e, std::string_view note) {
  if (note.empty()) return e;
  return error(e.kind(), e.message() + std::string(note), e.sys_errno());
}

// A failure of the auth steps of a request: the token request has had its
// own tries (registry_auth), so it is not the request's to try again.
error settled(error e) { return error(e.kind(), e.message()); }

// The last failure, naming the others tried before it.
error all_failed(const std::vector<error>& failures) {
  const error& last = failures.back();
  if (failures.size() == 1) return last;
  std::vector<std::string> others;
  for (std::size_t i = 0; i + 1 < failures.size(); ++i) others.push_back(failures[i].message());
  return error(last.kind(),
               fmt::format("{} (also tried: {})", last.message(), fmt::join(others, "; ")));
}

result<std::vector<registry_endpoint>> usable(const endpoint_lookup& lookup, const reference& ref,
                                              bool resolving) {
  auto all = lookup(ref.registry);
  if (!all) return tl::unexpected(all.error());
  std::vector<registry_endpoint> out;
  for (auto& ep : *all) {
    if (resolving ? ep.can_resolve : ep.can_pull) out.push_back(std::move(ep));
  }
  if (out.empty()) {
    return fail(error_kind::failed_precondition,
                fmt::format("no endpoint of registry {} has the {} capability", ref.registry,
                            resolving ? "resolve" : "pull"));
  }
  return out;
}

}  // namespace

tls_options tls_for(const registry_endpoint& ep) {
  tls_options tls;
  tls.skip_verify = ep.skip_verify;
  tls.ca_files = ep.ca_files;
  if (!ep.client_certs.empty()) tls.client_cert = ep.client_certs.front();
  return tls;
}

registry_client::registry_client(http_client& http, endpoint_lookup endpoints,
                                 registry_options options)
    : http_(http),
      endpoints_(std::move(endpoints)),
      options_(options),
      auth_(http, options.retry) {}

io::task<result<http_response>> registry_client::send(const registry_endpoint& ep,
                                                      const reference& ref,
                                                      const credentials& creds, http_request req) {
  auth_target target{
      .registry = ref.registry,
      .origin = ep.scheme + "://" + ep.host,
      .repository = ref.repository,
      // A pull's credentials are the registry's: never shown to a mirror.
      .creds = (ep.is_mirror || creds.empty()) ? nullptr : &creds,
      .tls = tls_for(ep),
      .cancel = req.cancel,
  };
  req.tls = target.tls;
  auto sent = co_await auth_.authorization(target);
  if (!sent) co_return tl::unexpected(settled(std::move(sent.error())));
  http_request first = req;  // copies the headers and the sink's std::function: small
  if (!sent->empty()) first.headers.push_back("Authorization: " + *sent);
  auto resp = co_await http_.request(std::move(first));
  if (!resp || resp->status != 401) co_return resp;

  auto answer = co_await auth_.answer(target, *resp, *sent);
  if (!answer) co_return tl::unexpected(settled(std::move(answer.error())));
  req.headers.push_back("Authorization: " + *answer);
  auto again = co_await http_.request(std::move(req));
  if (again && again->status == 401) co_return tl::unexpected(access_refused(target, *again));
  co_return again;
}

// --- manifests -------------------------------------------------------------------

io::task<registry_client::attempt<fetched_manifest>> registry_client::manifest_from(
    const registry_endpoint& ep, const reference& ref, std::string object,
    std::string expected_digest, const credentials& creds, io::cancellation* cancel) {
  std::string what =
      fmt::format("get manifest {} of {} from {}", object, ref.repository, ep.base_url());
  http_request req;
  req.url = endpoint_url(ep, ref, "manifests", object);
  req.headers.push_back(fmt::format("Accept: {}", media_types::manifest_accept));
  req.max_body = options_.max_manifest_bytes;
  req.timeout = options_.manifest_timeout;
  req.cancel = cancel;
  result<http_response> resp;
  for (unsigned tries = 1;; ++tries) {
    resp = co_await send(ep, ref, creds, req);  // a copy per try: small
    std::optional<error> failed;
    try_failure why;
    if (!resp) {
      if (resp.error().kind() == error_kind::cancelled)
        co_return tl::unexpected(endpoint_failure{std::move(resp.error()), false, {}});
      why = classify(resp.error());
      failed = std::move(resp.error());
    } else if (resp->status != 200) {
      why = classify(*resp);
      failed = status_error(*resp, what);
    } else {
      break;
    }
    auto next = decide_retry(options_.retry, tries, why);
    if (!next.wait)
      co_return tl::unexpected(
          endpoint_failure{with_note(std::move(*failed), next.note), true, why});
    auto slept = co_await sleep_before_retry(*next.wait, cancel, what);
    if (!slept) co_return tl::unexpected(endpoint_failure{std::move(slept.error()), false, {}});
  }

  auto media_type = manifest_media_type(resp->header("content-type").value_or(""), resp->body);
  if (!media_type) {
    co_return tl::unexpected(
        endpoint_failure{std::move(media_type.error()).context(what), true, {}});
  }
  std::string digest = registry_detail::sha256_digest_of(resp->body);
  if (!expected_digest.empty() && digest != expected_digest) {
    co_return tl::unexpected(
        endpoint_failure{error(error_kind::failed_precondition,
                               fmt::format("{}: the content hashes to {}", what, digest)),
                         true,
                         {}});
  }
  if (auto said = resp->header("docker-content-digest");
      said && is_sha256_digest(*said) && *said != digest) {
    co_return tl::unexpected(
        endpoint_failure{error(error_kind::failed_precondition,
                               fmt::format("{}: the content hashes to {} but the registry says {}",
                                           what, digest, *said)),
                         true,
                         {}});
  }
  co_return fetched_manifest{std::move(*media_type), std::move(digest), std::move(resp->body)};
}

io::task<result<fetched_manifest>> registry_client::manifest_anywhere(
    const reference& ref, std::string object, std::string expected_digest, bool resolving,
    const credentials& creds, io::cancellation* cancel) {
  auto endpoints = usable(endpoints_, ref, resolving);
  if (!endpoints) co_return tl::unexpected(endpoints.error());
  std::vector<error> failures;
  for (const auto& ep : *endpoints) {
    auto got = co_await manifest_from(ep, ref, object, expected_digest, creds, cancel);
    if (got) co_return std::move(*got);
    if (!got.error().try_next) co_return tl::unexpected(std::move(got.error().err));
    failures.push_back(std::move(got.error().err));
  }
  co_return tl::unexpected(all_failed(failures));
}

io::task<result<fetched_manifest>> registry_client::resolve(const reference& ref,
                                                            const credentials& creds,
                                                            io::cancellation* cancel) {
  std::string what = "resolve " + describe(ref);
  if (!ref.digest.empty()) {
    if (!is_sha256_digest(ref.digest)) {
      co_return fail(error_kind::invalid_argument,
                     fmt::format("{}: {} is not a sha256 digest", what, ref.digest));
    }
    // By digest: any endpoint that serves content may answer; the bytes
    // are checked against the digest.
    auto got = co_await manifest_anywhere(ref, ref.digest, ref.digest, false, creds, cancel);
    if (!got) co_return tl::unexpected(std::move(got.error()).context(what));
    co_return got;
  }
  std::string tag = ref.tag.empty() ? "latest" : ref.tag;
  auto got = co_await manifest_anywhere(ref, tag, "", true, creds, cancel);
  if (!got) co_return tl::unexpected(std::move(got.error()).context(what));
  co_return got;
}

io::task<result<fetched_manifest>> registry_client::fetch_manifest(const reference& ref,
                                                                   std::string_view digest,
                                                                   const credentials& creds,
                                                                   io::cancellation* cancel) {
  std::string what =
      fmt::format("fetch manifest {} of {}/{}", digest, ref.registry, ref.repository);
  if (!is_sha256_digest(digest)) {
    co_return fail(error_kind::invalid_argument, what + ": not a sha256 digest");
  }
  auto got = co_await manifest_anywhere(ref, std::string(digest), std::string(digest), false, creds,
                                        cancel);
  if (!got) co_return tl::unexpected(std::move(got.error()).context(what));
  co_return got;
}

// --- blobs -----------------------------------------------------------------------

io::task<registry_client::attempt<void>> registry_client::blob_from(const registry_endpoint& ep,
                                                                    const reference& ref,
                                                                    const credentials& creds,
                                                                    const blob_fetch& blob,
                                                                    blob_progress& progress) {
  std::string what =
      fmt::format("get blob {} of {} from {}", blob.digest, ref.repository, ep.base_url());
  const std::uint64_t start = progress.position;
  std::uint64_t skip = 0;    // bytes of a 200 answer to a ranged request already delivered
  bool sink_failed = false;  // the caller's sink failed, or the blob overflowed: no retry

  http_request req;
  req.url = endpoint_url(ep, ref, "blobs", blob.digest);
  if (start > 0) req.headers.push_back(fmt::format("Range: bytes={}-", start));
  req.flow = blob.flow;
  req.cancel = blob.cancel;
  req.on_response = [&](const http_response& r) -> result<void> {
    if (r.status == 206) {
      auto range = r.header("content-range");
      auto from = range ? content_range_start(*range) : std::nullopt;
      if (!from || *from != start) {
        return fail(error_kind::failed_precondition,
                    fmt::format("asked for bytes from {} and got \"{}\"", start,
                                range.value_or("no Content-Range")));
      }
      skip = 0;
    } else {
      skip = start;  // Range ignored: the blob from its first byte
    }
    return {};
  };
  req.sink = [&](std::span<const std::byte> bytes) -> result<sink_flow> {
    if (skip > 0) {
      std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(skip, bytes.size()));
      skip -= n;
      bytes = bytes.subspan(n);
      if (bytes.empty()) return sink_flow::more;
    }
    if (blob.size >= 0 &&
        progress.position + bytes.size() > static_cast<std::uint64_t>(blob.size)) {
      sink_failed = true;
      return fail(error_kind::failed_precondition,
                  fmt::format("more than the {} bytes its descriptor says", blob.size));
    }
    if (progress.hasher) progress.hasher->update(bytes);
    progress.position += bytes.size();
    auto taken = blob.sink(bytes);
    if (!taken) sink_failed = true;
    return taken;
  };

  auto resp = co_await send(ep, ref, creds, std::move(req));
  if (!resp) {
    bool fatal = sink_failed || resp.error().kind() == error_kind::cancelled;
    try_failure why = fatal ? try_failure{} : classify(resp.error());
    co_return tl::unexpected(endpoint_failure{std::move(resp.error()), !fatal, why});
  }
  if (!resp->ok())
    co_return tl::unexpected(endpoint_failure{status_error(*resp, what), true, classify(*resp)});
  co_return attempt<void>{};
}

io::task<result<std::uint64_t>> registry_client::fetch_blob(const reference& ref,
                                                            const credentials& creds,
                                                            blob_fetch blob) {
  std::string what =
      fmt::format("fetch blob {} of {}/{}", blob.digest, ref.registry, ref.repository);
  if (!is_sha256_digest(blob.digest)) {
    co_return fail(error_kind::invalid_argument, what + ": not a sha256 digest");
  }
  if (blob.size >= 0 && blob.offset > static_cast<std::uint64_t>(blob.size)) {
    co_return fail(error_kind::invalid_argument,
                   fmt::format("{}: offset {} is past its size {}", what, blob.offset, blob.size));
  }
  if (blob.size > 0 && blob.offset == static_cast<std::uint64_t>(blob.size)) co_return 0;
  auto endpoints = usable(endpoints_, ref, false);
  if (!endpoints) co_return tl::unexpected(std::move(endpoints.error()).context(what));

  blob_progress progress;
  progress.position = blob.offset;
  if (blob.offset == 0 && blob.verify) progress.hasher.emplace();
  auto complete = [&] {
    return blob.size > 0 && progress.position == static_cast<std::uint64_t>(blob.size);
  };

  std::vector<error> failures;
  std::string served_by;
  for (const auto& ep : *endpoints) {
    for (unsigned tries = 1;; ++tries) {
      // A break right at the end leaves nothing to ask for.
      if (complete() && blob.offset < progress.position) {
        served_by = ep.base_url();
        break;
      }
      auto got = co_await blob_from(ep, ref, creds, blob, progress);
      if (got) {
        served_by = ep.base_url();
        break;
      }
      if (!got.error().try_next) co_return tl::unexpected(std::move(got.error().err).context(what));
      // An outage: this endpoint again, from the byte where it broke.
      auto next = decide_retry(options_.retry, tries, got.error().why);
      if (next.wait) {
        auto slept = co_await sleep_before_retry(*next.wait, blob.cancel, what);
        if (!slept) co_return tl::unexpected(std::move(slept.error()));
        continue;
      }
      failures.push_back(with_note(std::move(got.error().err), next.note));
      break;
    }
    if (!served_by.empty()) break;
  }
  if (served_by.empty()) co_return tl::unexpected(all_failed(failures).context(what));
  if (blob.served_by) *blob.served_by = served_by;

  if (blob.size >= 0 && progress.position != static_cast<std::uint64_t>(blob.size)) {
    co_return fail(error_kind::failed_precondition,
                   fmt::format("{}: {} sent {} bytes, its descriptor says {}", what, served_by,
                               progress.position, blob.size));
  }
  if (progress.hasher) {
    std::string got = "sha256:" + progress.hasher->finish();
    if (got != blob.digest) {
      co_return fail(error_kind::failed_precondition,
                     fmt::format("{}: the content {} sent hashes to {}", what, served_by, got));
    }
  }
  co_return progress.position - blob.offset;
}

}  // namespace ringcri::image
