#include "image/pull/puller.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>

#include "image/registry/blob_pipe.hpp"
#include "image/registry/http_client.hpp"
#include "image/registry/manifest.hpp"
#include "image/registry/media_types.hpp"
#include "image/registry/registry_client.hpp"
#include "image/digest.hpp"
#include "metrics/daemon_metrics.hpp"
#include "image/unpack/layer_unpacker.hpp"
#include "reactor/blocking.hpp"
#include "reactor/when_all.hpp"

namespace ringcri::image {

using reactor::task;

// The network side lives on one reactor thread (curl's multi handle is
// single-threaded): each reactor that runs pulls gets its own client.
struct puller::per_thread {
  // The hosts of a registry are looked up at each pull, with the settings
  // of the moment (a reload may change them).
  per_thread(const swappable<registry_settings>& settings, const pull_options& options)
      : http(http_for(options)),
        registry(http, [&settings](std::string_view host) { return endpoints_for(*settings.get(), host); },
                 registry_for(options)) {}

  static http_options http_for(const pull_options& options) {
    http_options o;
    // Any byte is progress: only a transfer that stalls is given up.
    o.low_speed_bytes = options.progress_timeout.count() > 0 ? 1 : 0;
    o.low_speed_time = options.progress_timeout;
    return o;
  }
  static registry_options registry_for(const pull_options& options) {
    registry_options o;
    o.retry = options.retry;
    return o;
  }

  http_client http;
  registry_client registry;
};

puller::puller(registry_settings settings, layer_store& layers, pull_options options)
    : settings_(std::move(settings)), options_(options), layers_(layers) {}

puller::~puller() = default;

void puller::set_settings(registry_settings settings) { settings_.set(std::move(settings)); }

puller::per_thread& puller::here() {
  // One per thread for the process's life: pulls are rare, connections
  // are worth keeping.
  thread_local std::unique_ptr<per_thread> net;
  if (!net) net = std::make_unique<per_thread>(settings_, options_);
  return *net;
}

namespace {

constexpr std::size_t max_config_bytes = 8u << 20;

std::string repo_digest_of(const reference& ref, const std::string& digest) { return ref.name() + "@" + digest; }

// `e` with `note` after its message.
error noted(error e, std::string_view note) {
  return error(e.kind(), e.message() + std::string(note), e.sys_errno());
}

// The unpacker's errors start with "layer <digest>" already.
error name_layer(error e, const std::string& what) {
  if (e.message().starts_with(what)) return e;
  return std::move(e).context(what);
}

// The bytes of a small blob (the config), collected whole.
task<result<std::string>> fetch_small_blob(registry_client& reg, const reference& ref,
                                           const credentials& creds, std::string digest, std::int64_t size) {
  auto bytes = std::make_shared<std::string>();
  blob_fetch fetch;
  fetch.digest = digest;
  fetch.size = size;
  fetch.sink = [bytes](std::span<const std::byte> piece) -> result<sink_flow> {
    if (bytes->size() + piece.size() > max_config_bytes)
      return fail(error_kind::invalid_argument, fmt::format("config blob is larger than {} bytes", max_config_bytes));
    bytes->append(reinterpret_cast<const char*>(piece.data()), piece.size());
    return sink_flow::more;
  };
  auto got = co_await reg.fetch_blob(ref, creds, std::move(fetch));
  if (!got) co_return tl::unexpected(std::move(got.error()).context("fetch config " + digest));
  co_return std::move(*bytes);
}

}  // namespace

task<result<pulled_image>> puller::pull(const reference& ref, const credentials& creds) {
  auto started = std::chrono::steady_clock::now();
  per_thread& net = here();
  const std::string what = ref.string();

  // The reference -> the top manifest or index -> this platform's manifest.
  auto top = co_await net.registry.resolve(ref, creds);
  if (!top) co_return tl::unexpected(std::move(top.error()).context("resolve " + what));
  pulled_image out;
  out.ref = ref;
  out.repo_digest = repo_digest_of(ref, top->digest);

  auto kind = manifest_media_type(top->media_type, top->bytes);
  if (!kind) co_return tl::unexpected(std::move(kind.error()).context(what));
  fetched_manifest chosen = std::move(*top);
  if (media_types::is_index(*kind)) {
    auto index = parse_index(chosen.bytes, *kind);
    if (!index) co_return tl::unexpected(std::move(index.error()).context(what));
    auto entry = choose_manifest(*index);
    if (!entry) co_return tl::unexpected(std::move(entry.error()).context(what));
    auto m = co_await net.registry.fetch_manifest(ref, entry->digest, creds);
    if (!m) co_return tl::unexpected(std::move(m.error()).context(what));
    chosen = std::move(*m);
    kind = manifest_media_type(chosen.media_type, chosen.bytes);
    if (!kind) co_return tl::unexpected(std::move(kind.error()).context(what));
  }
  auto manifest = parse_manifest(chosen.bytes, *kind);
  if (!manifest) co_return tl::unexpected(std::move(manifest.error()).context(what));

  // The config: the image id, and the diff ids the layers must unpack to.
  auto config_json = co_await fetch_small_blob(net.registry, ref, creds, manifest->config.digest,
                                               manifest->config.size);
  if (!config_json) co_return tl::unexpected(std::move(config_json.error()).context(what));
  auto config = parse_image_config(*config_json);
  if (!config) co_return tl::unexpected(std::move(config.error()).context(what + ": config"));
  metrics::image_pull_phase().with({"resolve"}).observe(std::chrono::steady_clock::now() - started);
  if (config->diff_ids.size() != manifest->layers.size())
    co_return fail(error_kind::invalid_argument,
                   fmt::format("{}: the manifest has {} layers but the config lists {} diff ids", what,
                               manifest->layers.size(), config->diff_ids.size()));
  out.id = manifest->config.digest;
  out.config_json = std::move(*config_json);
  out.config = std::move(*config);
  out.size = static_cast<std::uint64_t>(std::max<std::int64_t>(manifest->config.size, 0));
  for (const auto& l : manifest->layers) out.size += static_cast<std::uint64_t>(std::max<std::int64_t>(l.size, 0));

  // Every layer at once, at most max_concurrent_downloads in flight.
  const auto& layers = manifest->layers;
  std::atomic<std::size_t> next{0};
  std::vector<result<void>> outcomes(layers.size());
  unsigned present = 0;
  bool failed = false;  // a layer failed: start no other
  auto worker = [&]() -> task<void> {
    for (std::size_t i; !failed && (i = next.fetch_add(1)) < layers.size();) {
      const auto& l = layers[i];
      auto have = co_await reactor::run_blocking([&] {
        auto d = digest::parse(out.config.diff_ids[i]);
        return d ? layers_.has(*d) : tl::unexpected(d.error());
      });
      if (have && *have) {
        ++present;
        continue;
      }
      outcomes[i] = co_await ensure_layer(net, ref, creds, l.digest, l.media_type, l.size, out.config.diff_ids[i]);
      if (!outcomes[i]) failed = true;
    }
  };
  std::vector<task<void>> workers;
  unsigned n = std::max(1u, std::min<unsigned>(settings_.get()->max_concurrent_downloads,
                                               static_cast<unsigned>(layers.size())));
  for (unsigned w = 0; w < n; ++w) workers.push_back(worker());
  co_await reactor::when_all(std::move(workers));
  for (auto& o : outcomes)
    if (!o) co_return tl::unexpected(std::move(o.error()).context(what));

  out.layers_present = present;
  out.layers_fetched = static_cast<unsigned>(layers.size()) - present;
  out.elapsed = std::chrono::steady_clock::now() - started;
  spdlog::info("msg=\"pulled\" image={} id={} layers={} fetched={} ms={}", what, out.id, layers.size(),
               out.layers_fetched, std::chrono::duration_cast<std::chrono::milliseconds>(out.elapsed).count());
  co_return out;
}

task<result<void>> puller::ensure_layer(per_thread& net, const reference& ref, const credentials& creds,
                                        std::string digest, std::string media_type, std::int64_t size,
                                        std::string diff_id) {
  auto turn = co_await fetches_.join(diff_id);
  if (!turn.leads) co_return std::move(turn.outcome);
  auto r = co_await fetch_layer(net, ref, creds, digest, media_type, size, diff_id);
  fetches_.done(diff_id, r);
  co_return r;
}

// Streams one blob into `unpacker`: the download on this reactor, the
// unpacking on the blocking pool, a bounded pipe between them.
task<result<void>> puller::unpack_into(per_thread& net, const reference& ref, const credentials& creds,
                                       const std::string& layer_digest, std::int64_t size,
                                       const std::string& diff_id, layer_writer&, layer_unpacker& unpacker,
                                       std::optional<layer_unpack_result>& out) {
  blob_pipe pipe;
  std::string served_by;  // the endpoint, once the whole blob came
  auto download = [&]() -> task<result<std::uint64_t>> {
    blob_fetch fetch;
    fetch.digest = layer_digest;
    fetch.size = size;
    fetch.sink = pipe.sink();
    fetch.flow = pipe.flow();
    fetch.served_by = &served_by;
    fetch.verify = false;  // the unpacker hashes the same bytes and checks digest and size
    auto got = co_await net.registry.fetch_blob(ref, creds, std::move(fetch));
    pipe.close(got ? result<void>{} : tl::unexpected(got.error()));
    co_return got;
  };
  auto unpack = [&]() -> task<result<layer_unpack_result>> {
    co_return co_await reactor::run_blocking([&]() -> result<layer_unpack_result> {
      std::vector<std::byte> buf(256 * 1024);  // one buffer per layer in flight
      for (;;) {
        auto n = pipe.read(buf);
        if (!n) return tl::unexpected(n.error());
        if (*n == 0) break;
        if (auto fed = unpacker.feed(std::span(buf).first(*n)); !fed) {
          pipe.abandon(fed.error());  // stops the download
          return tl::unexpected(fed.error());
        }
      }
      return unpacker.finish();
    });
  };
  auto [got, unpacked] = co_await reactor::when_all(download(), unpack());
  // The unpacker's error says what was wrong with the bytes; the download's
  // error is then only "aborted".
  if (!unpacked) {
    error e = std::move(unpacked.error());
    bool blames_bytes =
        e.kind() == error_kind::failed_precondition || e.kind() == error_kind::invalid_argument;
    if (got && !served_by.empty() && blames_bytes) {
      // Bytes that came whole and were wrong: say who sent them.
      e = noted(std::move(e), " (blob from " + served_by + ")");
    } else if (!got && e.kind() == error_kind::deadline_exceeded &&
               options_.progress_timeout.count() > 0) {
      e = noted(std::move(e), " (image.pull_progress_timeout)");
    }
    co_return tl::unexpected(std::move(e));
  }
  if (!got) co_return tl::unexpected(got.error());
  if (unpacked->diff_id.string() != diff_id)
    co_return fail(error_kind::invalid_argument,
                   fmt::format("unpacks to {}, but the image config says {}", unpacked->diff_id.string(), diff_id));
  out.emplace(std::move(*unpacked));
  co_return result<void>{};
}

// One layer: written into a fresh layer of the store, committed only when
// its digest, size and diff id all check out.
task<result<void>> puller::fetch_layer(per_thread& net, const reference& ref, const credentials& creds,
                                       std::string layer_digest, std::string media_type, std::int64_t size,
                                       std::string diff_id) {
  const std::string what = "layer " + layer_digest;
  auto want = digest::parse(diff_id);
  if (!want) co_return tl::unexpected(want.error());
  auto blob = digest::parse(layer_digest);
  if (!blob) co_return tl::unexpected(blob.error());
  if (size < 0) co_return fail(error_kind::invalid_argument, what + ": no size in the manifest");

  auto writer = co_await reactor::run_blocking([&] { return layers_.begin(*want); });
  if (!writer) co_return tl::unexpected(std::move(writer.error()).context(what));
  auto unpacker = layer_unpacker::create(*blob, static_cast<std::uint64_t>(size), media_type,
                                         (*writer)->sink(), options_.limits);
  if (!unpacker) {
    co_await reactor::run_blocking([&] { writer->reset(); });
    co_return tl::unexpected(std::move(unpacker.error()).context(what));
  }

  // An uncommitted writer deletes its partial tree when it goes: blocking
  // work, so it goes on the blocking pool, whatever happened.
  std::optional<layer_unpack_result> unpacked;
  const auto started = std::chrono::steady_clock::now();
  auto done = co_await unpack_into(net, ref, creds, layer_digest, size, diff_id, **writer, **unpacker, unpacked);
  const auto streamed = std::chrono::steady_clock::now();
  if (done) done = co_await reactor::run_blocking([&] { return layers_.commit(std::move(*writer)); });
  if (*writer) co_await reactor::run_blocking([&] { writer->reset(); });
  if (!done) co_return tl::unexpected(name_layer(std::move(done.error()), what));
  const auto committed = std::chrono::steady_clock::now();
  auto& phase = metrics::image_pull_phase();
  phase.with({"fetch"}).observe(streamed - started);
  phase.with({"digest"}).observe(unpacked->digest_time);
  phase.with({"decompress"}).observe(unpacked->decompress_time);
  phase.with({"write"}).observe(unpacked->extract_time);
  phase.with({"commit"}).observe(committed - streamed);
  metrics::image_pull_bytes().with({}).add(unpacked->compressed_size);
  auto ms = [](auto d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
  // Per layer: the bytes that came and where the time went. fetch_ms is
  // the transfer's wall time, the three stages below it overlap it on the
  // blocking pool; commit_ms makes the layer durable.
  spdlog::info("msg=\"layer unpacked\" digest={} bytes={} unpacked_bytes={} files={} fetch_ms={} "
               "digest_ms={} decompress_ms={} write_ms={} commit_ms={}",
               layer_digest, unpacked->compressed_size, unpacked->uncompressed_size,
               unpacked->counts.files, ms(streamed - started), ms(unpacked->digest_time),
               ms(unpacked->decompress_time), ms(unpacked->extract_time),
               ms(committed - streamed));
  co_return result<void>{};
}

}  // namespace ringcri::image
