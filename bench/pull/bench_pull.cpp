// bench_pull: cold pulls of the big fixture images (>= 100 MB of tar in 8
// layers, gzip and zstd) from a loopback registry through the CRI socket.
// Each pull starts from an empty layer store (the image is removed in
// between); median of 3. The per-stage split (time summed over layers:
// digest, decompress, extract) comes from the daemon's debug log.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <regex>
#include <string>
#include <vector>

#include "support/cri_client.hpp"
#include "support/registry_fixture.hpp"
#include "support/ringcri_process.hpp"

using namespace ringcri::testing;
namespace v1 = runtime::v1;

namespace {

struct stage_ms {
  double digest = 0, decompress = 0, extract = 0;
};

stage_ms stages_in(const std::string& log, std::size_t from) {
  static const std::regex line(R"(digest_ms=(\d+) decompress_ms=(\d+) extract_ms=(\d+))");
  stage_ms s;
  for (auto it = std::sregex_iterator(log.begin() + static_cast<long>(from), log.end(), line);
       it != std::sregex_iterator(); ++it) {
    s.digest += std::stod((*it)[1]);
    s.decompress += std::stod((*it)[2]);
    s.extract += std::stod((*it)[3]);
  }
  return s;
}

}  // namespace

int main() {
  if (auto why = registry_fixture::unavailable_reason(); !why.empty()) {
    std::printf("skipped: %s\n", why.c_str());
    return 77;
  }
  ::setenv("BIG", "1", 1);
  registry_fixture reg("plain", "big,bigzstd");
  ringcri_process d({"--log-level", "debug"});
  cri_client c(d.socket(), std::chrono::minutes(10));

  std::printf("%-14s %12s %12s %10s %12s %14s %12s\n", "image", "tar MB", "pull s", "MB/s", "digest s*",
              "decompress s*", "extract s*");
  for (const char* name : {"big:1", "bigzstd:1"}) {
    const auto& img = reg.image(name);
    double tar_mb = 0;
    for (const auto& l : img.at("layers")) tar_mb += l.at("uncompressed_size").get<double>() / 1e6;
    std::vector<double> secs;
    stage_ms last;
    for (int run = 0; run < 3; ++run) {
      std::size_t mark = d.log().size();
      v1::PullImageRequest req;
      req.mutable_image()->set_image(img.at("reference"));
      v1::PullImageResponse resp;
      auto t = std::chrono::steady_clock::now();
      auto st = c.image_call(&v1::ImageService::Stub::PullImage, req, &resp);
      secs.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count());
      if (!st.ok()) {
        std::fprintf(stderr, "pull %s failed: %s\n", name, st.error_message().c_str());
        return 1;
      }
      d.wait_for_log("msg=\"pulled\"", std::chrono::seconds(5), mark);
      last = stages_in(d.log(), mark);
      v1::RemoveImageRequest rm;
      rm.mutable_image()->set_image(resp.image_ref());
      v1::RemoveImageResponse rm_resp;
      c.image_call(&v1::ImageService::Stub::RemoveImage, rm, &rm_resp);
    }
    std::sort(secs.begin(), secs.end());
    double median = secs[1];
    std::printf("%-14s %12.1f %12.2f %10.1f %12.2f %14.2f %12.2f\n", name, tar_mb, median, tar_mb / median,
                last.digest / 1000, last.decompress / 1000, last.extract / 1000);
  }
  std::printf("* summed over layers, which run in parallel on the blocking pool\n");
  return 0;
}
