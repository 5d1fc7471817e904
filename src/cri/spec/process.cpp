#include "cri/spec/process.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

namespace ringcri::cri::spec {

namespace {

// The image's "config" object, or null when the image has none.
const nlohmann::json* image_runtime_config(const nlohmann::json& image_config) {
  if (!image_config.is_object()) return nullptr;
  auto it = image_config.find("config");
  if (it == image_config.end() || !it->is_object()) return nullptr;
  return &*it;
}

// A string list of the image config; absent or null is empty.
result<std::vector<std::string>> image_strings(const nlohmann::json& image_config,
                                               std::string_view key) {
  std::vector<std::string> out;
  const nlohmann::json* c = image_runtime_config(image_config);
  if (!c) return out;
  auto it = c->find(key);
  if (it == c->end() || it->is_null()) return out;
  if (!it->is_array())
    return fail(error_kind::invalid_argument,
                fmt::format("image config: \"{}\" is not a list of strings", key));
  for (const auto& v : *it) {
    if (!v.is_string())
      return fail(error_kind::invalid_argument,
                  fmt::format("image config: \"{}\" is not a list of strings", key));
    out.push_back(v.get<std::string>());
  }
  return out;
}

result<std::string> image_string(const nlohmann::json& image_config, std::string_view key) {
  const nlohmann::json* c = image_runtime_config(image_config);
  if (!c) return std::string();
  auto it = c->find(key);
  if (it == c->end() || it->is_null()) return std::string();
  if (!it->is_string())
    return fail(error_kind::invalid_argument,
                fmt::format("image config: \"{}\" is not a string", key));
  return it->get<std::string>();
}

std::string_view env_key(std::string_view entry) { return entry.substr(0, entry.find('=')); }

}  // namespace

result<std::vector<std::string>> process_args(const runtime::v1::ContainerConfig& config,
                                              const nlohmann::json& image_config) {
  std::vector<std::string> command(config.command().begin(), config.command().end());
  std::vector<std::string> args(config.args().begin(), config.args().end());
  if (command.empty()) {
    if (args.empty()) {
      auto cmd = image_strings(image_config, "Cmd");
      if (!cmd) return tl::unexpected(cmd.error());
      args = std::move(*cmd);
    }
    auto entrypoint = image_strings(image_config, "Entrypoint");
    if (!entrypoint) return tl::unexpected(entrypoint.error());
    // Docker writes [""] for an entrypoint reset with `ENTRYPOINT []` in some
    // versions; it means "no entrypoint", not an empty program name.
    if (!(entrypoint->size() == 1 && (*entrypoint)[0].empty())) command = std::move(*entrypoint);
  }
  if (command.empty() && args.empty())
    return fail(error_kind::invalid_argument, "no command specified");
  command.insert(command.end(), std::make_move_iterator(args.begin()),
                 std::make_move_iterator(args.end()));
  return command;
}

void replace_or_append_env(std::vector<std::string>& env,
                           const std::vector<std::string>& overrides) {
  // An unset empties its key's slot but keeps it until the end, so a later
  // KEY=value of the same key lands where KEY stood (containerd's
  // replaceOrAppendEnvValues).
  struct slot {
    std::string key;
    std::optional<std::string> entry;
  };
  std::vector<slot> slots;
  slots.reserve(env.size() + overrides.size());
  for (auto& e : env) slots.push_back({std::string(env_key(e)), std::move(e)});
  auto find = [&](std::string_view key) -> slot* {
    for (auto it = slots.rbegin(); it != slots.rend(); ++it)
      if (it->key == key) return &*it;
    return nullptr;
  };
  for (const auto& entry : overrides) {
    std::string_view key = env_key(entry);
    slot* s = find(key);
    if (entry.find('=') == std::string::npos) {
      if (s) s->entry.reset();
    } else if (s) {
      s->entry = entry;
    } else {
      slots.push_back({std::string(key), entry});
    }
  }
  env.clear();
  for (auto& s : slots)
    if (s.entry) env.push_back(std::move(*s.entry));
}

result<std::vector<std::string>> process_env(const runtime::v1::ContainerConfig& config,
                                             const nlohmann::json& image_config,
                                             std::string_view hostname) {
  std::vector<std::string> env{std::string(default_path_env)};
  replace_or_append_env(env, {fmt::format("HOSTNAME={}", hostname)});
  // The image's first, so that the request's can override them.
  auto image_env = image_strings(image_config, "Env");
  if (!image_env) return tl::unexpected(image_env.error());
  std::vector<std::string> overrides = std::move(*image_env);
  for (const auto& kv : config.envs()) {
    if (kv.key().empty())
      return fail(error_kind::invalid_argument,
                  fmt::format("env with an empty name (value \"{}\")", kv.value()));
    overrides.push_back(kv.key() + "=" + kv.value());
  }
  replace_or_append_env(env, overrides);
  return env;
}

result<std::string> process_cwd(const runtime::v1::ContainerConfig& config,
                                const nlohmann::json& image_config) {
  if (!config.working_dir().empty()) return config.working_dir();
  auto wd = image_string(image_config, "WorkingDir");
  if (!wd) return tl::unexpected(wd.error());
  if (!wd->empty()) return *wd;
  return std::string("/");
}

result<std::string> image_user(const nlohmann::json& image_config) {
  return image_string(image_config, "User");
}

}  // namespace ringcri::cri::spec
