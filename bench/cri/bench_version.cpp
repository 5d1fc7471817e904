// bench_version: the floor under every CRI call. Starts a ringcri on a
// temporary socket (or uses --socket PATH, e.g. containerd's, to compare)
// and times Version round trips from one synchronous client: p50/p99.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/cri_client.hpp"
#include "support/ringcri_process.hpp"

using namespace ringcri::testing;
using clock_type = std::chrono::steady_clock;

int main(int argc, char** argv) {
  std::string socket;
  int calls = 20'000;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--socket") && i + 1 < argc) socket = argv[++i];
    else if (!std::strcmp(argv[i], "--calls") && i + 1 < argc) calls = std::stoi(argv[++i]);
  }
  std::optional<ringcri_process> daemon;
  if (socket.empty()) {
    daemon.emplace();
    socket = daemon->socket().string();
  }

  cri_client client(socket);
  runtime::v1::VersionRequest req;
  runtime::v1::VersionResponse resp;
  for (int i = 0; i < 500; ++i) client.runtime_call(&runtime::v1::RuntimeService::Stub::Version, req, &resp);

  auto time_calls = [&](auto&& one_call) {
    std::vector<double> us;
    us.reserve(calls);
    for (int i = 0; i < calls; ++i) {
      auto t = clock_type::now();
      grpc::Status st = one_call();
      us.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - t).count());
      if (!st.ok()) {
        std::fprintf(stderr, "call failed: %s\n", st.error_message().c_str());
        std::exit(1);
      }
    }
    std::sort(us.begin(), us.end());
    return us;
  };
  auto pct = [](const std::vector<double>& us, double p) {
    return us[std::min(us.size() - 1, static_cast<std::size_t>(p * us.size()))];
  };
  // Both run on a reactor (gRPC thread -> post -> reactor -> Finish);
  // ListImages also reads the image index.
  auto version = time_calls([&] { return client.runtime_call(&runtime::v1::RuntimeService::Stub::Version, req, &resp); });
  runtime::v1::ListImagesResponse images;
  auto inline_call = time_calls([&] {
    return client.image_call(&runtime::v1::ImageService::Stub::ListImages, runtime::v1::ListImagesRequest{}, &images);
  });
  std::printf("%-44s %14s\n", "measure", "value");
  std::printf("%-44s %14s\n", "--------------------------------------------", "--------------");
  std::printf("%-44s %14s\n", "runtime", resp.runtime_name().c_str());
  std::printf("%-44s %14.1f\n", "Version round trip p50 (us)", pct(version, 0.50));
  std::printf("%-44s %14.1f\n", "Version round trip p99 (us)", pct(version, 0.99));
  std::printf("%-44s %14.1f\n", "ListImages (no images) round trip p50 (us)", pct(inline_call, 0.50));
  std::printf("%-44s %14.1f\n", "ListImages (no images) round trip p99 (us)", pct(inline_call, 0.99));
  return 0;
}
