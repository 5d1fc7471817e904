#include "net/native/chain.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <optional>

#include "net/cni/network.hpp"
#include "net/cni/plugin_config.hpp"
#include "net/cni/version.hpp"
#include "net/native/bandwidth.hpp"
#include "net/native/bridge.hpp"
#include "net/native/flannel.hpp"
#include "net/native/loopback.hpp"
#include "net/native/nat_owner.hpp"
#include "net/native/portmap.hpp"
#include "net/native/tuning.hpp"
#include "net/nft/nat_table.hpp"
#include "reactor/blocking.hpp"

namespace ringcri::net::native {

namespace {

using nlohmann::json;

// Which way plugin `index` runs, and for a native bridge, flannel,
// portmap or tuning its config.
struct choice {
  plugin_run run;
  std::optional<bridge_config> bridge;
  std::optional<flannel_config> flannel;
  std::optional<portmap_config> portmap;
  std::optional<tuning_config> tuning;
};

choice choose(const cni::network_list& list, std::size_t index, const cni::attachment& pod,
              const chain_options& options) {
  choice c;
  c.run.type = cni::plugin_type(list, index);
  if (c.run.type != "bridge" && c.run.type != "loopback" && c.run.type != "portmap" &&
      c.run.type != "flannel" && c.run.type != "bandwidth" && c.run.type != "tuning")
    return c;
  if (options.mode == native_mode::off) {
    c.run.exec_reason = "native path off";
    return c;
  }
  if (!cni::is_supported_version(list.cni_version)) {
    c.run.exec_reason = "CNI version " + list.cni_version;
    return c;
  }
  if (c.run.type == "loopback") {
    c.run.native = true;
    return c;
  }
  auto conf = cni::plugin_stdin(list, index, {}, pod.port_mappings, pod.bandwidth);
  json parsed = conf ? json::parse(*conf, nullptr, false) : json();
  if (!parsed.is_object()) {
    c.run.exec_reason = "config not understood";
    return c;
  }
  // The config the plugin's own choice gives, or why it is exec'd.
  auto take = [&c](auto picked, auto& slot) {
    c.run.native = picked.config.has_value();
    if (!c.run.native) c.run.exec_reason = std::move(picked.exec_reason);
    slot = std::move(picked.config);
    return c;
  };
  if (c.run.type == "portmap") {
    // Native after a native bridge (or flannel's): the interface's host
    // side is then the daemon's to map.
    std::optional<std::size_t> maker;
    for (std::size_t i = 0; i < index; ++i)
      if (auto t = cni::plugin_type(list, i); t == "bridge" || t == "flannel") maker = i;
    if (!maker || !choose(list, *maker, pod, options).run.native) {
      c.run.exec_reason = "the interface is not made by a native bridge";
      return c;
    }
    return take(choose_portmap(parsed), c.portmap);
  }
  if (c.run.type == "flannel") return take(choose_flannel(parsed), c.flannel);
  if (c.run.type == "tuning") return take(choose_tuning(parsed, pod), c.tuning);
  if (c.run.type == "bandwidth") {
    c.run.exec_reason = bandwidth_exec_reason(parsed);
    c.run.native = c.run.exec_reason.empty();
    return c;
  }
  return take(choose_bridge(parsed), c.bridge);
}

// DEL and CHECK take the way ADD took for each plugin, when it is known,
// whatever the native mode is now: a pod ADDed by the plugins keeps their
// iptables chains until their DEL, one ADDed natively its nftables elements.
choice choose_as_added(const cni::network_list& list, std::size_t index,
                       const cni::attachment& pod, const chain_options& options) {
  if (options.added.size() != list.plugins.size() ||
      options.added[index].type != cni::plugin_type(list, index))
    return choose(list, index, pod, options);
  chain_options as_added = options;
  as_added.mode = options.added[index].native ? native_mode::automatic : native_mode::off;
  return choose(list, index, pod, as_added);
}

error in_plugin(error e, const plugin_run& run) {
  return std::move(e).context(fmt::format("plugin {} (native)", run.type));
}

reactor::task<result<std::string>> run_one(cni::command cmd, const cni::network_list& list,
                                           std::size_t index, const cni::attachment& pod,
                                           const std::string& prev, const chain_options& options,
                                           const choice& c) {
  if (!c.run.native) {
    co_return co_await reactor::run_blocking([&] {
      return cni::run_plugin(cmd, list, index, pod, prev, options.plugin_dirs, options.timeout);
    });
  }
  result<std::string> out = std::string();
  if (c.run.type == "loopback") {
    switch (cmd) {
      case cni::command::add:
        out = co_await loopback_add(list.cni_version, pod, prev);
        break;
      case cni::command::del:
        if (auto r = co_await loopback_del(pod); !r) out = tl::unexpected(std::move(r.error()));
        break;
      default:
        if (auto r = co_await loopback_check(pod); !r) out = tl::unexpected(std::move(r.error()));
        break;
    }
  } else if (c.run.type == "tuning") {
    // Sysctls only: nothing saved, nothing to restore at DEL.
    if (cmd == cni::command::add) {
      out = co_await tuning_add(*c.tuning, pod, prev);
    } else if (cmd == cni::command::check) {
      if (auto r = co_await tuning_check(*c.tuning, pod); !r)
        out = tl::unexpected(std::move(r.error()));
    }
  } else if (c.run.type == "bandwidth") {
    // No limit: ADD gives the previous result, DEL and CHECK have nothing
    // to look at.
    if (cmd == cni::command::add) {
      if (prev.empty())
        co_return tl::unexpected(in_plugin(
            error(error_kind::invalid_argument, "must be called as chained plugin"), c.run));
      out = prev;
    }
  } else if (c.run.type == "flannel") {
    delegate_options delegate{options.plugin_dirs, options.timeout, options.host_netns_fd};
    switch (cmd) {
      case cni::command::add:
        out = co_await flannel_add(*c.flannel, pod, delegate);
        break;
      case cni::command::del:
        if (auto r = co_await flannel_del(*c.flannel, pod, delegate); !r)
          out = tl::unexpected(std::move(r.error()));
        break;
      default:
        break;  // the plugin checks nothing
    }
  } else if (c.run.type == "portmap") {
    switch (cmd) {
      case cni::command::add:
        out = co_await portmap_add(*c.portmap, pod, prev, options.host_netns_fd);
        break;
      case cni::command::del:
        break;  // the chain deletes the pod's nftables elements at the end
      default:
        if (auto r = co_await portmap_check(*c.portmap, pod, prev, options.host_netns_fd); !r)
          out = tl::unexpected(std::move(r.error()));
        break;
    }
  } else {
    switch (cmd) {
      case cni::command::add:
        out = co_await bridge_add(*c.bridge, list.cni_version, pod, options.host_netns_fd);
        break;
      case cni::command::del:
        if (auto r = co_await bridge_del(*c.bridge, pod, options.host_netns_fd); !r)
          out = tl::unexpected(std::move(r.error()));
        break;
      default:
        if (auto r = co_await bridge_check(*c.bridge, pod, prev, options.host_netns_fd); !r)
          out = tl::unexpected(std::move(r.error()));
        break;
    }
  }
  if (!out) co_return tl::unexpected(in_plugin(std::move(out.error()), c.run));
  co_return out;
}

std::string context_of(cni::command cmd, const cni::network_list& list) {
  return fmt::format("CNI {} network \"{}\"", cni::to_string(cmd), list.name);
}

// A DEL is told no namespace when the pod's is gone, as cni::del does.
reactor::task<cni::attachment> for_del(const cni::attachment& pod) {
  cni::attachment a = pod;
  if (!a.netns_path.empty()) {
    bool is_netns =
        co_await reactor::run_blocking([&] { return cni::is_netns_file(a.netns_path); });
    if (!is_netns) a.netns_path.clear();
  }
  co_return a;
}

reactor::task<result<void>> del_all(const cni::network_list& list, const cni::attachment& pod,
                                    std::string prev, const chain_options& options) {
  if (!cni::version_has_check(list.cni_version)) prev.clear();
  cni::attachment a = co_await for_del(pod);
  std::optional<error> first;
  bool has_nat = false;
  for (std::size_t i = list.plugins.size(); i-- > 0;) {
    choice c = choose_as_added(list, i, a, options);
    has_nat |= c.portmap || (c.bridge && c.bridge->ip_masq);
    auto done = co_await run_one(cni::command::del, list, i, a, prev, options, c);
    if (!done && !first) first = std::move(done.error());
  }
  // The native bridge's masquerade and portmap's host ports: the pod's
  // elements of the nftables table, in one transaction.
  if (has_nat) {
    const std::string owner = nat_owner(a);
    auto nf = co_await nft::open(options.host_netns_fd);
    result<void> gone = tl::unexpected(error(error_kind::internal, ""));
    if (nf)
      gone = co_await nft::remove(*nf, owner, nft::share::all);
    else
      gone = tl::unexpected(std::move(nf.error()));
    if (!gone && !first) first = std::move(gone.error()).context("delete the pod's nftables elements");
  }
  if (first) co_return tl::unexpected(std::move(*first));
  co_return result<void>{};
}

}  // namespace

std::vector<plugin_run> parse_runs(std::string_view described) {
  std::vector<plugin_run> runs;
  int depth = 0;
  std::size_t start = 0;
  auto take = [&](std::string_view word) {
    auto eq = word.find('=');
    if (eq == std::string_view::npos) return;
    std::string_view way = word.substr(eq + 1);
    if (way != "native" && way != "exec") return;
    plugin_run r;
    r.type = std::string(word.substr(0, eq));
    r.native = way == "native";
    runs.push_back(std::move(r));
  };
  for (std::size_t i = 0; i <= described.size(); ++i) {
    char ch = i < described.size() ? described[i] : ' ';
    if (ch == '(') ++depth;
    if (ch == ')' && depth > 0) --depth;
    if (ch == ' ') {
      if (depth == 0 && i > start) take(described.substr(start, i - start));
      start = i + 1;
    }
  }
  return runs;
}

std::string describe(const std::vector<plugin_run>& runs) {
  std::string out;
  for (const auto& r : runs) {
    if (!out.empty()) out += ' ';
    out += fmt::format("{}={}", r.type, r.native ? "native" : "exec");
    if (!r.native && !r.exec_reason.empty()) out += fmt::format(" ({})", r.exec_reason);
  }
  return out;
}

reactor::task<result<chain_add_result>> add(const cni::network_list& list,
                                            const cni::attachment& pod,
                                            const chain_options& options) {
  chain_add_result done;
  std::string prev;
  std::optional<error> failed;
  for (std::size_t i = 0; i < list.plugins.size() && !failed; ++i) {
    choice c = choose(list, i, pod, options);
    done.runs.push_back(c.run);
    auto out = co_await run_one(cni::command::add, list, i, pod, prev, options, c);
    if (!out) {
      failed = std::move(out.error());
      break;
    }
    auto doc = json::parse(*out, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
      failed =
          error(error_kind::internal, fmt::format("plugin {}: ADD printed no result", c.run.type));
      break;
    }
    prev = std::move(*out);
  }
  if (!failed) {
    auto ips = cni::parse_pod_ips(prev, pod.netns_path);
    if (ips) {
      done.ips = std::move(*ips);
      done.result_json = std::move(prev);
      co_return done;
    }
    failed = std::move(ips.error());
  }
  // Undo what the plugins that ran (and the one that failed) may have
  // made; the ADD error is the caller's concern, not the DEL's.
  (void)co_await del_all(list, pod, prev, options);
  co_return tl::unexpected(std::move(*failed).context(context_of(cni::command::add, list)));
}

reactor::task<result<void>> del(const cni::network_list& list, const cni::attachment& pod,
                                const std::string& prev_result, const chain_options& options) {
  auto done = co_await del_all(list, pod, prev_result, options);
  if (!done)
    co_return tl::unexpected(std::move(done.error()).context(context_of(cni::command::del, list)));
  co_return result<void>{};
}

reactor::task<result<void>> check(const cni::network_list& list, const cni::attachment& pod,
                                  const std::string& prev_result, const chain_options& options) {
  if (list.disable_check || !cni::version_has_check(list.cni_version)) co_return result<void>{};
  if (prev_result.empty())
    co_return fail(
        error_kind::failed_precondition,
        fmt::format("{}: no ADD result to check against", context_of(cni::command::check, list)));
  for (std::size_t i = 0; i < list.plugins.size(); ++i) {
    choice c = choose_as_added(list, i, pod, options);
    auto done = co_await run_one(cni::command::check, list, i, pod, prev_result, options, c);
    if (!done)
      co_return tl::unexpected(
          std::move(done.error()).context(context_of(cni::command::check, list)));
  }
  co_return result<void>{};
}

}  // namespace ringcri::net::native
