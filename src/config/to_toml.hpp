#pragma once
// The effective config written back as TOML, for `ringcri config`: every
// key, in the file's names and layout, each with where its value came from.
//
//   root = "/srv/ringcri"  # from flag --root
//   cores = 2  # from /etc/ringcri/ringcri.toml:3
//   [image]
//   layer_store = "auto"  # from default
//
// parse() reads the text back to the same values, but for the secrets of
// [registry.auths] (password, auth, identity_token): those are never
// written, a comment says whether one is set.

#include <map>
#include <string>

#include "config/config.hpp"

namespace ringcri::config {

// Where each value came from, by key path (key_path()): "flag --root",
// "/etc/ringcri/ringcri.toml:3". A key not listed came from the defaults.
using key_origins = std::map<std::string, std::string, std::less<>>;

std::string to_toml(const config& c, const key_origins& origins);

}  // namespace ringcri::config
