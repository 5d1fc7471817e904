#pragma once
// The container's process from the CRI config and the image config: its
// argv, its environment and its working directory, by kubelet's and
// containerd's rules.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "api.pb.h"
#include "base/error.hpp"

namespace ringcri::cri::spec {

// The PATH a process gets when neither the image nor the request sets one
// (containerd's and Docker's default).
inline constexpr std::string_view default_path_env =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// argv: command + args, where an empty command means the image's Entrypoint
// and, only then, empty args mean the image's Cmd (a request that names a
// command never gets the image's Cmd). An Entrypoint of [""] counts as none.
// Nothing at all: INVALID_ARGUMENT "no command specified".
result<std::vector<std::string>> process_args(const runtime::v1::ContainerConfig& config,
                                              const nlohmann::json& image_config);

// The environment: PATH's default, then HOSTNAME=<hostname>, then the
// image's Env, then the request's envs. A later KEY=value replaces an
// earlier one of the same key where it stands; a bare "KEY" removes it.
result<std::vector<std::string>> process_env(const runtime::v1::ContainerConfig& config,
                                             const nlohmann::json& image_config,
                                             std::string_view hostname);

// The request's working_dir, else the image's WorkingDir, else "/".
result<std::string> process_cwd(const runtime::v1::ContainerConfig& config,
                                const nlohmann::json& image_config);

// Applies `overrides` onto `env` as containerd's oci.WithEnv does.
void replace_or_append_env(std::vector<std::string>& env,
                           const std::vector<std::string>& overrides);

// The image config's "config"."User" ("" when not set).
result<std::string> image_user(const nlohmann::json& image_config);

}  // namespace ringcri::cri::spec
