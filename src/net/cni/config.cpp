// Loading the CNI network config (see config.hpp).

#include "net/cni/config.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>

#include "base/unique_fd.hpp"
#include "net/cni/version.hpp"

namespace ringcri::net::cni {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

tl::unexpected<error> invalid(std::string_view origin, std::string_view problem) {
  return fail(error_kind::invalid_argument, fmt::format("CNI config {}: {}", origin, problem));
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool is_config_file_name(const fs::path& p) {
  auto ext = p.extension().string();
  return ext == ".conflist" || ext == ".conf" || ext == ".json";
}

result<std::string> read_text(const fs::path& path) {
  unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return fail_errno(errno, fmt::format("open {}", path.string()));
  std::string text;
  char buf[16384];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno(errno, fmt::format("read {}", path.string()));
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  return text;
}

// "disableCheck" is a bool; some configs write it as a string.
result<bool> disable_check_of(const json& doc, std::string_view origin) {
  auto it = doc.find("disableCheck");
  if (it == doc.end() || it->is_null()) return false;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_string()) {
    auto s = it->get<std::string>();
    if (s == "true") return true;
    if (s == "false") return false;
  }
  return invalid(origin, "\"disableCheck\" is not a boolean");
}

result<void> check_plugin(const json& plugin, size_t index, std::string_view origin) {
  if (!plugin.is_object()) return invalid(origin, fmt::format("plugin {} is not an object", index));
  auto type = plugin.find("type");
  if (type == plugin.end() || !type->is_string() || type->get<std::string>().empty())
    return invalid(origin, fmt::format("plugin {} has no \"type\"", index));
  return {};
}

}  // namespace

result<network_list> parse_network_list(std::string_view text, std::string_view origin) {
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded()) return invalid(origin, "not valid JSON");
  if (!doc.is_object()) return invalid(origin, "not a JSON object");

  network_list list;
  auto name = doc.find("name");
  if (name == doc.end() || !name->is_string() || name->get<std::string>().empty())
    return invalid(origin, "no \"name\"");
  list.name = name->get<std::string>();

  auto version = doc.find("cniVersion");
  if (version == doc.end() || !version->is_string()) return invalid(origin, "no \"cniVersion\"");
  list.cni_version = version->get<std::string>();
  if (!is_supported_version(list.cni_version))
    return invalid(origin, fmt::format("unsupported cniVersion \"{}\" (supported: 1.0.0, 0.4.0, "
                                       "0.3.1, 0.3.0)",
                                       list.cni_version));

  auto disable = disable_check_of(doc, origin);
  if (!disable) return tl::unexpected(std::move(disable.error()));
  list.disable_check = *disable;

  auto plugins = doc.find("plugins");
  if (plugins != doc.end()) {
    if (!plugins->is_array()) return invalid(origin, "\"plugins\" is not a list");
    if (plugins->empty()) return invalid(origin, "no plugins");
    for (size_t i = 0; i < plugins->size(); ++i) {
      if (auto ok = check_plugin((*plugins)[i], i, origin); !ok) return tl::unexpected(ok.error());
      list.plugins.push_back((*plugins)[i]);
    }
  } else if (ends_with(origin, ".conflist")) {
    return invalid(origin, "no plugins");
  } else {
    // A single plugin config: the whole document is the plugin.
    if (doc.find("type") == doc.end()) return invalid(origin, "no \"type\" and no \"plugins\"");
    if (auto ok = check_plugin(doc, 0, origin); !ok) return tl::unexpected(ok.error());
    list.plugins.push_back(doc);
  }

  list.source = fs::path(origin);
  list.raw_json = std::string(text);
  return list;
}

result<std::optional<network_list>> load_default_network(const fs::path& conf_dir) {
  std::error_code ec;
  if (!fs::exists(conf_dir, ec)) {
    if (ec && ec != std::errc::no_such_file_or_directory)
      return tl::unexpected(error::from_error_code(ec, fmt::format("stat {}", conf_dir.string())));
    return std::optional<network_list>{};
  }
  if (!fs::is_directory(conf_dir, ec))
    return fail(error_kind::invalid_argument,
                fmt::format("CNI conf dir {} is not a directory", conf_dir.string()));

  std::vector<fs::path> files;
  fs::directory_iterator it(conf_dir, ec);
  if (ec)
    return tl::unexpected(error::from_error_code(ec, fmt::format("list {}", conf_dir.string())));
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) break;
    // is_regular_file follows symlinks (config maps link their files).
    std::error_code type_ec;
    if (is_config_file_name(it->path()) && fs::is_regular_file(it->path(), type_ec))
      files.push_back(it->path());
  }
  if (ec)
    return tl::unexpected(error::from_error_code(ec, fmt::format("list {}", conf_dir.string())));
  if (files.empty()) return std::optional<network_list>{};

  std::sort(files.begin(), files.end(),
            [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });
  const fs::path& first = files.front();
  auto text = read_text(first);
  if (!text) return tl::unexpected(std::move(text.error()).context("load CNI config"));
  auto list = parse_network_list(*text, first.string());
  if (!list) return tl::unexpected(std::move(list.error()));
  return std::optional<network_list>(std::move(*list));
}

}  // namespace ringcri::net::cni
