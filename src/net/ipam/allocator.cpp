#include "net/ipam/allocator.hpp"

#include <fmt/format.h>

#include <optional>

#include "net/ipam/store.hpp"
#include "reactor/blocking.hpp"

namespace ringcri::net::ipam {

namespace {

// host-local's RangeIter: the candidates of one range set in the order the
// plugin tries them.
class candidates {
 public:
  candidates(const range_set& set, std::optional<ip::address> last_reserved) : set_(set) {
    // Resume after the last reserved address when it is still in the set
    // (ranges may have changed since), else start at the first range.
    if (last_reserved)
      for (std::size_t i = 0; i < set_.size(); ++i)
        if (set_[i].contains(*last_reserved)) {
          index_ = i;
          current_ = *last_reserved;
          break;
        }
  }

  // The next candidate and its range, or nothing once every address of
  // the set was offered.
  std::optional<std::pair<ip::address, const range*>> next() {
    for (;;) {
      const range* r = &set_[index_];
      if (!current_) {
        current_ = r->start;
        start_ = current_;
      } else {
        if (*current_ == r->end) {
          index_ = (index_ + 1) % set_.size();
          r = &set_[index_];
          current_ = r->start;
        } else {
          current_ = current_->next();
        }
        if (!start_)
          start_ = current_;
        else if (*current_ == *start_)
          return std::nullopt;
      }
      if (*current_ != r->gateway) return std::pair{*current_, r};
    }
  }

 private:
  const range_set& set_;
  std::size_t index_ = 0;
  std::optional<ip::address> current_;
  std::optional<ip::address> start_;
};

result<allocation> allocate_from(store& s, const range_set& set, std::size_t set_index,
                                 const std::string& network, const std::string& container_id,
                                 const std::string& ifname) {
  auto locked = s.lock();
  if (!locked) return tl::unexpected(std::move(locked.error()));
  for (const ip::address& held : s.held_by(container_id, ifname))
    if (contains(set, held))
      return fail(error_kind::already_exists,
                  fmt::format("{} has been allocated to {}, duplicate allocation is not allowed",
                              held.to_string(), container_id));
  candidates order(set, s.last_reserved(set_index));
  while (auto candidate = order.next()) {
    auto reserved = s.reserve(container_id, ifname, candidate->first, set_index);
    if (!reserved) return tl::unexpected(std::move(reserved.error()));
    if (*reserved)
      return allocation{ip::prefix{candidate->first, candidate->second->subnet.length},
                        candidate->second->gateway, set_index};
  }
  return fail(error_kind::resource_exhausted,
              fmt::format("no IP addresses available in range set {} of network {}", to_string(set),
                          network));
}

}  // namespace

result<std::vector<allocation>> allocate(const ipam_config& config, const std::string& container_id,
                                         const std::string& ifname) {
  auto s = store::open(config.data_dir, config.network);
  if (!s) return tl::unexpected(std::move(s.error()));
  std::vector<allocation> got;
  for (std::size_t i = 0; i < config.ranges.size(); ++i) {
    auto one = allocate_from(*s, config.ranges[i], i, config.network, container_id, ifname);
    if (!one) {
      if (!got.empty()) {
        if (auto locked = s->lock()) (void)s->release(container_id, ifname);
      }
      return tl::unexpected(std::move(one.error())
                                .context(fmt::format("allocate for container {} from range set {}",
                                                     container_id, i)));
    }
    got.push_back(*one);
  }
  return got;
}

result<void> release(const ipam_config& config, const std::string& container_id,
                     const std::string& ifname) {
  auto s = store::open(config.data_dir, config.network);
  if (!s) return tl::unexpected(std::move(s.error()));
  auto locked = s->lock();
  if (!locked) return tl::unexpected(std::move(locked.error()));
  auto released = s->release(container_id, ifname);
  if (!released) return tl::unexpected(std::move(released.error()));
  return {};
}

reactor::task<result<std::vector<allocation>>> allocate_async(const ipam_config& config,
                                                              std::string container_id,
                                                              std::string ifname) {
  co_return co_await reactor::run_blocking([&] { return allocate(config, container_id, ifname); });
}

reactor::task<result<void>> release_async(const ipam_config& config, std::string container_id,
                                          std::string ifname) {
  co_return co_await reactor::run_blocking([&] { return release(config, container_id, ifname); });
}

}  // namespace ringcri::net::ipam
