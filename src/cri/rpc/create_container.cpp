#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/crash_point.hpp"
#include "cri/cgroup_names.hpp"
#include "cri/container_process.hpp"
#include "cri/events.hpp"
#include "cri/image_lookup.hpp"
#include "cri/intents.hpp"
#include "cri/keeper_link.hpp"
#include "cri/mount_point_layer.hpp"
#include "cri/paths.hpp"
#include "cri/records_io.hpp"
#include "cri/rpc/handlers.hpp"
#include "cri/spec/container_spec.hpp"
#include "cri/spec/devices.hpp"
#include "cri/spec/mounts.hpp"
#include "cri/spec/resources.hpp"
#include "cri/spec/stop_signal.hpp"
#include "cri/spec/user_namespace.hpp"
#include "exec/spawn/spawn.hpp"
#include "exec/spec_json.hpp"
#include "image/digest.hpp"
#include "reactor/blocking.hpp"
#include "reactor/when_all.hpp"

namespace ringcri::cri::rpc {

namespace {

// The image's layer dirs, top first (overlayfs's lowerdir order), under
// the mount point layer where it fits (mount_point_layer.hpp). Blocking.
result<std::vector<std::string>> layer_dirs_of(context& ctx, const records::image& image) {
  std::vector<std::string> dirs;
  for (auto it = image.diff_ids().rbegin(); it != image.diff_ids().rend(); ++it) {
    auto d = image::digest::parse(*it);
    if (!d) return tl::unexpected(d.error());
    auto path = ctx.layers.path_of(*d);
    if (!path) return tl::unexpected(path.error().context(fmt::format("layer {} of image {}", *it, image.id())));
    dirs.push_back(path->string());
  }
  if (!ctx.mount_point_layer.empty() && mount_point_layer_fits(dirs))
    dirs.insert(dirs.begin(), ctx.mount_point_layer.string());
  return dirs;
}

// The container's own dirs: its overlay's upper and work dirs and the
// rootfs it is mounted on, in a dir that is the daemon's alone (see
// make_private in main). In a user namespace the writable layer belongs to
// the mapped root: overlayfs cannot idmap an upper dir, so the container's
// own (empty) upper and work dirs are chowned; the image's layers never are.
result<void> make_container_dirs(const std::filesystem::path& dir,
                                 const std::optional<spec::pod_user_namespace>& userns) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return fail_errno(errno, fmt::format("create \"{}\"", dir.string()));
  if (::chmod(dir.c_str(), 0700) != 0) return fail_errno(errno, fmt::format("chmod \"{}\"", dir.string()));
  for (const char* sub : {"upper", "work", "rootfs"}) {
    const auto path = dir / sub;
    if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST)
      return fail_errno(errno, fmt::format("create \"{}\"", path.string()));
  }
  if (userns)
    for (const char* sub : {"upper", "work"}) {
      const auto path = dir / sub;
      if (::chown(path.c_str(), sys::host_id_of(userns->uids, 0), sys::host_id_of(userns->gids, 0)) != 0)
        return fail_errno(errno, fmt::format("chown \"{}\" to the pod's root", path.string()));
    }
  return {};
}

// The container's overlay, made here rather than in its child (see
// exec::make_detached_overlay); an empty fd leaves it to the child: with
// idmapped layers, or where this kernel cannot make one (the child then
// mounts it, or says why it cannot).
result<unique_fd> make_rootfs_ahead(context& ctx, const records::image& image,
                                    const std::filesystem::path& dir,
                                    const std::optional<spec::pod_user_namespace>& userns) {
  if (userns) return unique_fd();
  auto layers = layer_dirs_of(ctx, image);
  if (!layers) return tl::unexpected(layers.error());
  exec::rootfs_spec rootfs;
  rootfs.lowers = std::move(*layers);
  rootfs.upper = (dir / "upper").string();
  rootfs.work = (dir / "work").string();
  rootfs.target = (dir / "rootfs").string();
  auto made = exec::make_detached_overlay(rootfs);
  if (!made) {
    spdlog::debug("msg=\"overlay left to the container's process\" dir={} error=\"{}\"", dir.string(),
                  made.error().message());
    return unique_fd();
  }
  return made;
}

// The pod's held user namespace (exec/sandbox/namespaces.hpp), there when
// its config asks for one (userns_options mode POD).
std::string user_ns_path_of(const records::pod_sandbox& pod) {
  return (std::filesystem::path(pod.pod_dir()) / "ns" / "user").string();
}

std::string log_path_of(const v1::PodSandboxConfig& pod, const v1::ContainerConfig& c) {
  if (pod.log_directory().empty() || c.log_path().empty()) return {};
  return (std::filesystem::path(pod.log_directory()) / c.log_path()).string();
}

}  // namespace

// Everything is prepared here (dirs, cgroup, the spec, the process set up
// and waiting in the keeper), so StartContainer only lets it exec.
task<result<void>> create_container(context& ctx, const v1::CreateContainerRequest& req,
                                    v1::CreateContainerResponse& resp) {
  const auto& config = req.config();
  auto pod_id = ctx.state.resolve_pod(req.pod_sandbox_id());
  if (!pod_id) co_return tl::unexpected(pod_id.error());
  auto pod = ctx.state.get_pod(*pod_id);
  if (!pod) co_return fail(error_kind::not_found, fmt::format("pod sandbox \"{}\" not found", req.pod_sandbox_id()));
  if (pod->state() != v1::SANDBOX_READY)
    co_return fail(error_kind::failed_precondition,
                   fmt::format("pod sandbox \"{}\" is not ready", pod_id->value));
  if (config.metadata().name().empty())
    co_return fail(error_kind::invalid_argument, "CreateContainer: config.metadata.name is empty");
  const std::string what = fmt::format("create container \"{}\"", config.metadata().name());
  const auto& pod_ns = pod->config().linux().security_context().namespace_options();
  if (auto same = spec::check_container_user_namespace(
          config.linux().security_context().namespace_options(), pod_ns);
      !same)
    co_return tl::unexpected(std::move(same.error()).context(what));
  // The pod's maps are in its config as RunPodSandbox took it (a record
  // made before user namespaces has no userns_options: the host's).
  auto userns = spec::user_namespace_of(pod_ns);
  if (!userns) co_return tl::unexpected(std::move(userns.error()).context(what));

  auto image = find_image(ctx, config.image().image());
  if (!image)
    co_return fail(error_kind::not_found,
                   fmt::format("{}: image \"{}\" not found", what, config.image().image()));
  auto image_config = nlohmann::json::parse(image->config(), nullptr, false);
  if (image_config.is_discarded())
    co_return fail(error_kind::internal, fmt::format("{}: the config of image {} does not parse", what, image->id()));

  records::container record;
  record.set_id(state::new_id());
  record.set_pod_sandbox_id(pod->id());
  *record.mutable_config() = config;
  record.set_state(v1::CONTAINER_CREATED);
  record.set_created_at(now_ns());
  record.set_image_ref(config.image().image());
  record.set_image_id(image->id());
  record.set_log_path(log_path_of(pod->config(), config));
  auto cgroup = container_cgroup_of(ctx.cfg.cgroup_driver, pod->cgroup_path(), record.id());
  if (!cgroup) co_return tl::unexpected(cgroup.error().context(what));
  record.set_cgroup_path(*cgroup);
  record.set_stop_signal(spec::stop_signal_of(image_config));

  // Reserve the name before the work; undone on any failure below.
  if (auto added = ctx.state.add_container(record); !added) co_return tl::unexpected(added.error());
  // And note what is about to be made (intents.hpp).
  if (auto noted = co_await note_intent(ctx, record); !noted) {
    ctx.state.remove_container(container_id{record.id()});
    co_return tl::unexpected(noted.error().context(what));
  }
  crash_point(point("create_container.after_intent"));

  std::filesystem::path dir = container_dir_of(ctx.cfg, record.id());
  auto t0 = std::chrono::steady_clock::now();
  // Its file system and its cgroups at once, on two threads of the
  // blocking pool: both mostly wait on the kernel (inode writes for the
  // one; cgroup locks and the device program for the other).
  auto rootfs_made = [&]() -> task<result<unique_fd>> {
    co_return co_await reactor::run_blocking([&]() -> result<unique_fd> {
      if (auto made = make_container_dirs(dir, *userns); !made) return tl::unexpected(made.error());
      return make_rootfs_ahead(ctx, *image, dir, *userns);
    });
  };
  auto spec_built = [&]() -> task<result<exec::container_spec>> {
    co_return co_await reactor::run_blocking([&]() -> result<exec::container_spec> {
      auto layers = layer_dirs_of(ctx, *image);
      if (!layers) return tl::unexpected(layers.error());
      auto limits = spec::container_resources(config.linux().resources(), ctx.cfg.pids_limit);
      if (!limits) return tl::unexpected(limits.error());
      const bool with_cpuset = !limits->cpuset_cpus.empty() || !limits->cpuset_mems.empty();
      auto procs = ctx.cgroups->create(record.cgroup_path(), with_cpuset);
      if (!procs) return tl::unexpected(procs.error().context("create container cgroup"));
      if (auto applied = ctx.cgroups->apply(record.cgroup_path(), *limits); !applied)
        return tl::unexpected(applied.error().context("set the container's resources"));
      spec::container_inputs in{config, req.sandbox_config(), image_config};
      in.container_id = record.id();
      in.layers = std::move(*layers);
      in.upper = (dir / "upper").string();
      in.work = (dir / "work").string();
      in.rootfs_target = (dir / "rootfs").string();
      in.pod.hosts = pod->hosts_path();
      in.pod.resolv_conf = pod->resolv_conf_path();
      in.pod.hostname = pod->hostname_path();
      in.pod.net_ns = pod->netns_path();
      in.pod.ipc_ns = pod->ipc_ns_path();
      in.pod.uts_ns = pod->uts_ns_path();
      if (*userns) in.pod.user_ns = user_ns_path_of(*pod);
      in.userns = *userns;
      if (pod->init_pid() > 0) in.pod.pid_ns = fmt::format("/proc/{}/ns/pid", pod->init_pid());
      const auto& target = config.linux().security_context().namespace_options().target_id();
      if (!target.empty()) {
        auto t = ctx.state.resolve_container(target);
        auto tc = t ? ctx.state.get_container(*t) : std::nullopt;
        if (tc && tc->pid() > 0) in.target_pid_ns = fmt::format("/proc/{}/ns/pid", tc->pid());
      }
      in.cgroup_procs = std::move(*procs);
      in.cgroup_hierarchies = spec::cgroup_tree(ctx.cgroups->mounts());
      in.cgroup_path = record.cgroup_path();
      in.log_path = record.log_path();
      in.exit_path = exit_path_of(ctx.cfg, record.id()).string();
      // A handler dropped from the config since the pod started: the default's.
      const auto* handler = ctx.cfg.runtime_handler(pod->runtime_handler());
      if (!handler) handler = ctx.cfg.runtime_handler("");
      in.unset_seccomp_profile = handler->seccomp_profile;
      auto built = spec::build_container_spec(in);
      if (!built) return built;
      // Only its own devices, unless privileged (the cgroup then keeps its
      // parent's: every device).
      if (!config.linux().security_context().privileged()) {
        auto limited = ctx.cgroups->limit_devices(record.cgroup_path(), spec::device_rules(built->devices));
        if (!limited) return tl::unexpected(limited.error().context("set the container's device rules"));
      }
      return built;
    });
  };
  auto [rootfs, prepared] = co_await reactor::when_all(rootfs_made(), spec_built());
  if (prepared && !rootfs) prepared = tl::unexpected(rootfs.error());

  auto undo = [&]() -> task<void> {
    auto removed = co_await remove_container_resources(ctx, record);
    ctx.state.remove_container(container_id{record.id()});
    // What could not be removed stays noted, for the sweep at start.
    if (removed) co_await drop_container_intent(ctx, record.id());
  };
  if (!prepared) {
    co_await undo();
    co_return tl::unexpected(prepared.error().context(what));
  }
  record.set_spec_json(nlohmann::json(*prepared).dump());
  {
    const auto& user = prepared->process.user;
    auto* linux_user = record.mutable_user();
    linux_user->set_uid(user.uid);
    linux_user->set_gid(user.gid);
    // additional_gids holds the primary gid too, as setgroups gets it.
    for (auto g : user.additional_gids) linux_user->add_supplemental_groups(g);
  }
  crash_point(point("create_container.after_cgroup"));

  auto t1 = std::chrono::steady_clock::now();
  auto created = co_await ctx.keeper->create(*prepared, rootfs->get());
  rootfs->reset();
  if (!created) {
    co_await undo();
    co_return tl::unexpected(created.error().context(what));
  }
  crash_point(point("create_container.after_keeper_create"));
  record.set_pid(created->pid);
  ctx.processes.put(record.id(), std::move(created->pidfd));
  auto amended = ctx.state.amend_container(container_id{record.id()}, [&](records::container& r) {
    r.set_pid(record.pid());
    r.set_spec_json(record.spec_json());
    *r.mutable_user() = record.user();
  });
  if (!amended) co_return tl::unexpected(amended.error());
  auto t2 = std::chrono::steady_clock::now();
  if (auto saved = co_await persist(ctx, *amended); !saved) {
    co_await undo();
    co_return tl::unexpected(saved.error().context(what));
  }
  crash_point(point("create_container.after_record"));
  co_await drop_container_intent(ctx, record.id());
  auto us = [](auto d) { return std::chrono::duration_cast<std::chrono::microseconds>(d).count(); };
  spdlog::info("msg=\"container created\" id={} name={} pod={} pid={} prepare_us={} spawn_us={} save_us={}",
               record.id(), config.metadata().name(), pod->id(), record.pid(), us(t1 - t0), us(t2 - t1),
               us(std::chrono::steady_clock::now() - t2));
  publish_container_event(ctx, *amended, v1::CONTAINER_CREATED_EVENT);
  resp.set_container_id(record.id());
  co_return result<void>{};
}

}  // namespace ringcri::cri::rpc
