#include "suite.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <tuple>

#include "bench_support.hpp"
#include "interrupt.hpp"
#include "support/stream_client.hpp"

namespace ringcri::bench {

namespace v1 = ::runtime::v1;
using S = v1::RuntimeService::Stub;
using I = v1::ImageService::Stub;

namespace {

std::string image_ref(const suite_config& config, const std::string& name) {
  return config.registry + "/" + name + ":1";
}

// Pulls `ref`; returns the image id the runtime gives it.
std::string pull(testing::cri_client& client, const std::string& ref) {
  v1::PullImageRequest req;
  req.mutable_image()->set_image(ref);
  v1::PullImageResponse resp;
  check(client.image_call(&I::PullImage, req, &resp), ("PullImage " + ref).c_str());
  return resp.image_ref();
}

void remove_image(testing::cri_client& client, const std::string& ref) {
  v1::RemoveImageRequest req;
  req.mutable_image()->set_image(ref);
  v1::RemoveImageResponse resp;
  check(client.image_call(&I::RemoveImage, req, &resp), ("RemoveImage " + ref).c_str());
}

struct started_pod {
  std::string pod_id, container_id;
  double run_ms = 0, create_ms = 0, start_ms = 0, total_ms = 0;
};

// RunPodSandbox, CreateContainer (busybox sleep), StartContainer, as the
// kubelet sends them for a pod of one container.
started_pod start_pod(testing::cri_client& client, const suite_config& config,
                      const std::string& name, bool host_network) {
  v1::PodSandboxConfig pod;
  pod.mutable_metadata()->set_name(name);
  pod.mutable_metadata()->set_namespace_("bench");
  pod.mutable_metadata()->set_uid(name + "-uid");
  if (!host_network) pod.set_hostname(name);  // as the kubelet: a host-network pod keeps the node's
  pod.set_log_directory(config.log_dir);
  auto* ns = pod.mutable_linux()->mutable_security_context()->mutable_namespace_options();
  ns->set_network(host_network ? v1::NODE : v1::POD);
  ns->set_pid(v1::CONTAINER);

  started_pod p;
  auto t0 = clock_type::now();
  v1::RunPodSandboxRequest run;
  *run.mutable_config() = pod;
  v1::RunPodSandboxResponse ran;
  check(client.runtime_call(&S::RunPodSandbox, run, &ran), "RunPodSandbox");
  p.pod_id = ran.pod_sandbox_id();
  p.run_ms = ms_since(t0);

  auto t1 = clock_type::now();
  v1::CreateContainerRequest create;
  create.set_pod_sandbox_id(p.pod_id);
  *create.mutable_sandbox_config() = pod;
  auto* c = create.mutable_config();
  c->mutable_metadata()->set_name("sleep");
  c->mutable_image()->set_image(image_ref(config, "busybox"));
  c->add_command("sleep");
  c->add_command("3600");
  c->set_log_path(name + ".log");
  *c->mutable_linux()->mutable_security_context()->mutable_namespace_options() = *ns;
  v1::CreateContainerResponse created;
  check(client.runtime_call(&S::CreateContainer, create, &created), "CreateContainer");
  p.container_id = created.container_id();
  p.create_ms = ms_since(t1);

  auto t2 = clock_type::now();
  v1::StartContainerRequest start;
  start.set_container_id(p.container_id);
  v1::StartContainerResponse started;
  check(client.runtime_call(&S::StartContainer, start, &started), "StartContainer");
  p.start_ms = ms_since(t2);
  p.total_ms = ms_since(t0);
  return p;
}

// Cold pulls: each image `runs` times, removed in between: the first, and
// the median of the others.
void pulls(testing::cri_client& client, const suite_config& config, suite_results& out) {
  for (const char* name : {"busybox", "big", "bigzstd"}) {
    std::vector<double> secs;
    for (int run = 0; run < config.pull_runs; ++run) {
      auto t = clock_type::now();
      auto id = pull(client, image_ref(config, name));
      secs.push_back(ms_since(t) / 1000);
      remove_image(client, id);
    }
    out.pull_first_s[name] = secs.front();
    if (secs.size() > 1)
      out.pull_repeat_s[name] = percentile(std::vector<double>(secs.begin() + 1, secs.end()), 0.5);
  }
}

// ExecSync `true`, as an exec probe runs; and `echo x` through the
// streaming server (SPDY, as crictl and kubectl exec), request to exit status.
void execs(testing::cri_client& client, const std::vector<started_pod>& pods, suite_results& out) {
  for (std::size_t i = 0; i < 100; ++i) {
    v1::ExecSyncRequest exec;
    exec.set_container_id(pods[i % pods.size()].container_id);
    exec.add_cmd("true");
    exec.set_timeout(10);
    v1::ExecSyncResponse done;
    auto t = clock_type::now();
    check(client.runtime_call(&S::ExecSync, exec, &done), "ExecSync");
    if (done.exit_code() != 0)
      throw std::runtime_error("ExecSync true exited " + std::to_string(done.exit_code()));
    out.steps["ExecSync true"].push_back(ms_since(t));
  }
  for (std::size_t i = 0; i < 100; ++i) {
    auto t = clock_type::now();
    v1::ExecRequest exec;
    exec.set_container_id(pods[i % pods.size()].container_id);
    exec.add_cmd("echo");
    exec.add_cmd("x");
    exec.set_stdout(true);
    exec.set_stderr(true);
    v1::ExecResponse url;
    check(client.runtime_call(&S::Exec, exec, &url), "Exec");
    testing::spdy_client c(url.url(), {"v4.channel.k8s.io"});
    if (!c.connected()) throw std::runtime_error("streaming upgrade refused by " + url.url());
    auto error = c.open_stream({{"streamtype", "error"}});
    auto stdout_id = c.open_stream({{"streamtype", "stdout"}});
    c.open_stream({{"streamtype", "stderr"}});
    // The status: the error stream's end (ringcri) or the connection's
    // (containerd closes it instead); a failure would be written there.
    bool done = c.wait(
        [&] { return (c.finished.count(error) > 0 || c.eof) && c.data[stdout_id] == "x\n"; });
    if (!done || c.data[error].find("Failure") != std::string::npos)
      throw std::runtime_error("streaming exec: stdout \"" + c.data[stdout_id] + "\", status \"" +
                               c.data[error] + "\"" + (c.eof ? ", connection closed" : ""));
    out.steps["Exec echo (SPDY)"].push_back(ms_since(t));
  }
}

// N pods one after another on one network, timed step by step, then torn
// down one by one.
void sequential_pods(testing::cri_client& client, const suite_config& config,
                     const std::string& network, suite_results& out) {
  const bool host = network == "host";
  std::vector<started_pod> pods;
  for (int i = 0; i < config.pods; ++i) {
    auto p = start_pod(client, config, network + "-" + std::to_string(i), host);
    out.steps[network + "/RunPodSandbox"].push_back(p.run_ms);
    out.steps[network + "/CreateContainer"].push_back(p.create_ms);
    out.steps[network + "/StartContainer"].push_back(p.start_ms);
    out.steps[network + "/end to end"].push_back(p.total_ms);
    pods.push_back(p);
  }
  if (host) execs(client, pods, out);
  for (const auto& p : pods) {
    auto t = clock_type::now();
    stop_and_remove_pod(client, p.pod_id);
    out.steps[network + "/Stop+Remove"].push_back(ms_since(t));
  }
}

// Runs `work(i)` for i in [0, n) on `concurrency` threads; rethrows the
// first failure once all are done. With `stop_at_failure` no work starts
// after a failure; nor does any once the run is interrupted.
template <class Work>
void in_parallel(int n, int concurrency, Work work, bool stop_at_failure = false) {
  std::atomic<int> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr failure;
  std::mutex mutex;
  std::vector<std::thread> threads;
  for (int t = 0; t < concurrency; ++t)
    threads.emplace_back([&] {
      for (int i; (i = next++) < n;) {
        if ((stop_at_failure && failed) || interrupted()) break;
        try {
          work(i);
        } catch (...) {
          failed = true;
          std::lock_guard lock(mutex);
          if (!failure) failure = std::current_exception();
        }
      }
    });
  for (auto& t : threads) t.join();
  if (failure) std::rethrow_exception(failure);
  throw_if_interrupted();
}

// The node performance benchmark's density run: 105 pods, 10 at a time.
void density(testing::cri_client& client, const suite_config& config, process_meter& meter,
             suite_results& out) {
  std::vector<std::string> ids(static_cast<std::size_t>(config.density_pods));
  meter.start_sampling();
  auto t = clock_type::now();
  try {
    in_parallel(config.density_pods, config.density_concurrency, [&](int i) {
      ids[static_cast<std::size_t>(i)] =
          start_pod(client, config, "density-" + std::to_string(i), !config.cni).pod_id;
    });
  } catch (...) {
    meter.stop_sampling();
    for (const auto& id : ids)
      if (!id.empty()) stop_and_remove_pod(client, id);
    throw;
  }
  out.density_wall_s = ms_since(t) / 1000;
  meter.stop_sampling();
  out.density_cpu_s = meter.cpu_since_start();
  // Settled: what the runtime keeps for as long as the pods run.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  out.density_running = meter.now();
  out.density_peak = meter.peak();
  if (out.density_running.rss_kib > out.density_peak.rss_kib)
    out.density_peak = out.density_running;

  auto t2 = clock_type::now();
  in_parallel(config.density_pods, config.density_concurrency,
              [&](int i) { stop_and_remove_pod(client, ids[static_cast<std::size_t>(i)]); });
  out.density_teardown_s = ms_since(t2) / 1000;
}

// How many pods named `prefix`* the runtime lists READY, and how many of
// their containers RUNNING.
std::pair<int, int> count_running(testing::cri_client& client, const std::string& prefix) {
  v1::ListPodSandboxRequest list;
  v1::ListPodSandboxResponse pods;
  check(client.runtime_call(&S::ListPodSandbox, list, &pods), "ListPodSandbox");
  std::set<std::string> ready;
  for (const auto& p : pods.items())
    if (p.metadata().name().rfind(prefix, 0) == 0 && p.state() == v1::SANDBOX_READY)
      ready.insert(p.id());
  v1::ListContainersRequest clist;
  v1::ListContainersResponse containers;
  check(client.runtime_call(&S::ListContainers, clist, &containers), "ListContainers");
  int running = 0;
  for (const auto& c : containers.containers())
    if (ready.contains(c.pod_sandbox_id()) && c.state() == v1::CONTAINER_RUNNING) ++running;
  return {static_cast<int>(ready.size()), running};
}

// Stops and removes every pod the runtime lists, `concurrency` at a time,
// ignoring errors (after a failure).
void remove_all_pods(testing::cri_client& client, int concurrency) {
  v1::ListPodSandboxRequest list;
  v1::ListPodSandboxResponse pods;
  if (!client.runtime_call(&S::ListPodSandbox, list, &pods).ok()) return;
  std::vector<std::string> ids;
  for (const auto& p : pods.items()) ids.push_back(p.id());
  in_parallel(static_cast<int>(ids.size()), concurrency, [&](int i) {
    try {
      stop_and_remove_pod(client, ids[static_cast<std::size_t>(i)]);
    } catch (const std::exception&) {
    }
  });
}

// The density run at scale on one network: config.scale_pods pods,
// config.scale_concurrency at a time; each pod checked Running, then all
// torn down. A failure ends the run where it is (recorded) and removes the
// pods; an interrupt goes on up.
scale_result density_at_scale(testing::cri_client& client, const suite_config& config,
                              process_meter& meter, const std::string& network) {
  const int n = config.scale_pods;
  const std::string prefix = "scale-" + network + "-";
  std::printf("  density at scale: %d pods, %d at a time, %s network\n", n,
              config.scale_concurrency, network == "host" ? "host" : "CNI");
  std::fflush(stdout);
  scale_result r;
  r.ran = true;
  std::vector<std::string> ids(static_cast<std::size_t>(n));
  std::atomic<int> started{0};
  r.stage = "start";
  ::sync();
  meter.start_sampling();
  auto t = clock_type::now();
  try {
    in_parallel(
        n, config.scale_concurrency,
        [&](int i) {
          ids[static_cast<std::size_t>(i)] =
              start_pod(client, config, prefix + std::to_string(i), network == "host").pod_id;
          ++started;
        },
        true);
    r.wall_s = ms_since(t) / 1000;
    r.elapsed_s = r.wall_s;
    meter.stop_sampling();
    r.cpu_s = meter.cpu_since_start();
    r.pods_started = started;
    r.stage = "check";
    std::this_thread::sleep_for(std::chrono::seconds(2));
    r.running = meter.now();
    r.peak = meter.peak();
    if (r.running.rss_kib > r.peak.rss_kib) r.peak = r.running;
    std::tie(r.pods_ready, r.containers_running) = count_running(client, prefix);
    if (r.pods_ready != n || r.containers_running != n)
      throw std::runtime_error("after " + std::to_string(n) + " pods started, " +
                               std::to_string(r.pods_ready) + " are listed READY and " +
                               std::to_string(r.containers_running) + " containers RUNNING");
    r.all_running = true;
    r.stage = "teardown";
    auto t2 = clock_type::now();
    in_parallel(
        n, config.scale_concurrency,
        [&](int i) { stop_and_remove_pod(client, ids[static_cast<std::size_t>(i)]); }, true);
    r.teardown_s = ms_since(t2) / 1000;
    r.completed = true;
    r.stage.clear();
  } catch (const std::exception& e) {
    meter.stop_sampling();
    if (interrupted()) throw;
    r.error = e.what();
    if (r.stage == "start") {
      r.elapsed_s = ms_since(t) / 1000;
      r.pods_started = started;
      try {
        std::tie(r.pods_ready, r.containers_running) = count_running(client, prefix);
      } catch (const std::exception&) {
        r.pods_ready = r.containers_running = -1;  // the runtime no longer answers
      }
    }
    std::printf("  stopped (%s): %s\n", r.stage.c_str(), r.error.c_str());
    std::fflush(stdout);
    remove_all_pods(client, config.scale_concurrency);
  }
  return r;
}

void scale_runs(testing::cri_client& client, const suite_config& config, process_meter& meter,
                suite_results& out) {
  std::vector<std::string> networks{"host"};
  if (config.cni) networks.push_back("cni");
  bool runtime_answers = true;
  for (const auto& network : networks) {
    if (!runtime_answers) {
      scale_result skipped;
      skipped.error = "not run: the runtime no longer answered after the previous run failed";
      out.scale[network] = skipped;
      continue;
    }
    out.scale[network] = density_at_scale(client, config, meter, network);
    v1::VersionRequest req;
    v1::VersionResponse resp;
    runtime_answers = client.runtime_call(&S::Version, req, &resp).ok();
  }
}

// Throws unless the runtime lists no pod, container or image.
void check_empty(testing::cri_client& client) {
  v1::ListPodSandboxRequest list;
  v1::ListPodSandboxResponse pods;
  check(client.runtime_call(&S::ListPodSandbox, list, &pods), "ListPodSandbox");
  v1::ListContainersRequest clist;
  v1::ListContainersResponse containers;
  check(client.runtime_call(&S::ListContainers, clist, &containers), "ListContainers");
  v1::ListImagesRequest ilist;
  v1::ListImagesResponse images;
  check(client.image_call(&I::ListImages, ilist, &images), "ListImages");
  if (pods.items_size() || containers.containers_size() || images.images_size())
    throw std::runtime_error("left behind: " + std::to_string(pods.items_size()) + " pods, " +
                             std::to_string(containers.containers_size()) + " containers, " +
                             std::to_string(images.images_size()) + " images");
}

}  // namespace

void remove_everything(testing::cri_client& client) {
  v1::ListPodSandboxRequest list;
  v1::ListPodSandboxResponse pods;
  if (client.runtime_call(&S::ListPodSandbox, list, &pods).ok())
    for (const auto& p : pods.items()) {
      try {
        stop_and_remove_pod(client, p.id());
      } catch (const std::exception&) {
      }
    }
  v1::ListImagesRequest images_req;
  v1::ListImagesResponse images;
  if (client.image_call(&I::ListImages, images_req, &images).ok())
    for (const auto& image : images.images()) {
      v1::RemoveImageRequest rm;
      rm.mutable_image()->set_image(image.id());
      v1::RemoveImageResponse done;
      (void)client.image_call(&I::RemoveImage, rm, &done);
    }
}

suite_results run_suite(testing::cri_client& client, const suite_config& config,
                        process_meter& meter) {
  suite_results out;
  out.workload = config;
  pulls(client, config, out);
  pull(client, image_ref(config, "busybox"));
  if (!config.sandbox_image.empty()) pull(client, config.sandbox_image);
  // The pulls leave hundreds of MB to write back; flushed now, they do not
  // land on the pods' fsyncs (every journal commit would wait for them).
  ::sync();
  // Warm-up, untimed: binaries and images in the page cache on both runtimes.
  for (int i = 0; i < 3; ++i)
    stop_and_remove_pod(client,
                        start_pod(client, config, "warm-" + std::to_string(i), true).pod_id);

  sequential_pods(client, config, "host", out);
  if (config.cni) sequential_pods(client, config, "cni", out);
  ::sync();
  density(client, config, meter, out);
  if (config.scale_pods > 0) scale_runs(client, config, meter, out);

  try {
    remove_image(client, image_ref(config, "busybox"));
    if (!config.sandbox_image.empty()) remove_image(client, config.sandbox_image);
    check_empty(client);
  } catch (const std::exception& e) {
    // A scale run that failed may have left the runtime unable to clean up
    // (or dead): the other figures stand, the runtime's owner removes what
    // is left.
    bool scale_failed = std::any_of(out.scale.begin(), out.scale.end(),
                                    [](const auto& s) { return !s.second.completed; });
    if (!scale_failed || interrupted()) throw;
    out.scale_cleanup_error = e.what();
    remove_everything(client);
  }
  return out;
}

nlohmann::json suite_results::to_json() const {
  auto usage = [](const process_usage& u) {
    return nlohmann::json{
        {"rss_mib", u.rss_kib / 1024.0}, {"cpu_s", u.cpu_s}, {"processes", u.processes}};
  };
  nlohmann::json out{{"workload",
                      {{"pods", workload.pods},
                       {"density_pods", workload.density_pods},
                       {"density_concurrency", workload.density_concurrency},
                       {"pull_runs", workload.pull_runs},
                       {"cni", workload.cni},
                       {"scale_pods", workload.scale_pods},
                       {"scale_concurrency", workload.scale_concurrency}}},
                     {"pull_first_s", pull_first_s},
                     {"pull_repeat_s", pull_repeat_s},
                     {"steps_ms", steps},
                     {"density",
                      {{"wall_s", density_wall_s},
                       {"cpu_s", density_cpu_s},
                       {"teardown_s", density_teardown_s},
                       {"peak", usage(density_peak)},
                       {"running", usage(density_running)}}}};
  if (workload.scale_pods > 0) {
    out["scale"] = nlohmann::json::object();
    for (const auto& [network, result] : scale) out["scale"][network] = result.to_json();
    if (!scale_cleanup_error.empty()) out["scale_cleanup_error"] = scale_cleanup_error;
  }
  return out;
}

nlohmann::json scale_result::to_json() const {
  auto usage = [](const process_usage& u) {
    return nlohmann::json{
        {"rss_mib", u.rss_kib / 1024.0}, {"cpu_s", u.cpu_s}, {"processes", u.processes}};
  };
  nlohmann::json out{{"ran", ran},
                     {"all_running", all_running},
                     {"completed", completed},
                     {"pods_started", pods_started},
                     {"pods_ready", pods_ready},
                     {"containers_running", containers_running},
                     {"elapsed_s", elapsed_s}};
  if (all_running) {
    out["wall_s"] = wall_s;
    out["cpu_s"] = cpu_s;
    out["peak"] = usage(peak);
    out["running"] = usage(running);
  }
  if (completed) out["teardown_s"] = teardown_s;
  if (!error.empty()) {
    out["stage"] = stage;
    out["error"] = error;
  }
  return out;
}

}  // namespace ringcri::bench
