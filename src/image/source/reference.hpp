#pragma once
// Image references as users write them ("busybox", "host:5000/a/b:tag",
// "name@sha256:..."), normalised as Docker does: default registry
// docker.io, "library/" for single-name Docker Hub repositories, tag
// "latest" when neither tag nor digest is given.

#include <string>
#include <string_view>

#include "base/error.hpp"

namespace ringcri::image {

struct reference {
  std::string registry;    // "docker.io", "localhost:5000", "[::1]:5000"
  std::string repository;  // "library/busybox", "a/b"
  std::string tag;         // "latest"; may be set together with digest
  std::string digest;      // "sha256:<64 hex>", or empty

  // "docker.io/library/busybox:latest", "...@sha256:..." or
  // "...:tag@sha256:..." (the fully normalised form).
  std::string string() const;
  // "docker.io/library/busybox" (no tag or digest).
  std::string name() const;
  // The host the registry API is served on ("registry-1.docker.io" for
  // docker.io, otherwise `registry`).
  std::string api_host() const;
  // The registry is on this machine: localhost, 127.0.0.0/8 or ::1.
  bool is_loopback() const;

  friend bool operator==(const reference&, const reference&) = default;
};

// INVALID_ARGUMENT naming the reference and what is wrong with it.
result<reference> parse_reference(std::string_view text);

}  // namespace ringcri::image
