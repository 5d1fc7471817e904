#pragma once
// host-local's allocation, step for step (host-local's main.go and
// backend/allocator/allocator.go): one address from each range set, under
// the store's lock, round robin from the set's last reserved address (the
// next one after it, across the set's ranges, skipping each range's
// gateway, wrapping once), so an address just freed is the last to be
// handed out again. A container that already holds an address of a set is
// refused, as the CNI spec asks. If a later set fails, the container's
// earlier addresses are released. Release removes every file of the
// container on the interface.
//
// allocate() and release() block (flock, file I/O): the coroutine forms
// run them on the blocking pool.

#include <string>
#include <vector>

#include "base/error.hpp"
#include "net/ip/address.hpp"
#include "net/ipam/config.hpp"
#include "reactor/task.hpp"

namespace ringcri::net::ipam {

struct allocation {
  ip::prefix address;  // the address with its subnet's prefix length
  ip::address gateway;
  std::size_t range_set_index = 0;
};

// One allocation per range set, in order. A set with no address left
// fails with resource_exhausted naming the set's ranges and the network.
result<std::vector<allocation>> allocate(const ipam_config& config, const std::string& container_id,
                                         const std::string& ifname);
// Succeeds when the container held nothing (DEL is idempotent).
result<void> release(const ipam_config& config, const std::string& container_id,
                     const std::string& ifname);

reactor::task<result<std::vector<allocation>>> allocate_async(const ipam_config& config,
                                                              std::string container_id,
                                                              std::string ifname);
reactor::task<result<void>> release_async(const ipam_config& config, std::string container_id,
                                          std::string ifname);

}  // namespace ringcri::net::ipam
