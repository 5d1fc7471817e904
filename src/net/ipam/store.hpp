#pragma once
// host-local's on-disk store, file for file (backend/disk/backend.go and
// lock.go of containernetworking/plugins), so that the plugin and the
// daemon can take turns on one node without ever handing out an address
// twice:
//
//   <data_dir>/<network>/              mode 0755
//     lock                             flock(LOCK_EX) around every change
//     <ip>                             "<container id>\r\n<ifname>", one per address held
//     last_reserved_ip.<range set>     the address last handed out from that set
//
// <ip> is written as Go writes it ("10.22.0.5", "fd00::5"). Like the
// plugin, nothing is fsynced: the files are as durable as the plugin's.
//
// Blocking (flock waits for the plugin; directory reads): call from the
// blocking pool, as allocator.hpp's coroutines do.

#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "net/ip/address.hpp"

namespace ringcri::net::ipam {

class store {
 public:
  // Makes the directory (and its parents) when missing, and the lock file.
  static result<store> open(const std::string& data_dir, const std::string& network);

  // The store's flock, held while the guard lives.
  class guard {
   public:
    explicit guard(int fd) : fd_(fd) {}
    guard(guard&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    guard& operator=(guard&&) = delete;
    ~guard();

   private:
    int fd_;
  };
  result<guard> lock();

  // Creates <ip> for the container (O_EXCL: false when it is taken) and
  // records it as the set's last reserved address.
  result<bool> reserve(const std::string& container_id, const std::string& ifname,
                       const ip::address& a, std::size_t range_set_index);
  // The set's last reserved address, if it has one that parses.
  std::optional<ip::address> last_reserved(std::size_t range_set_index);
  // Every address held by the container on `ifname`, or, as host-local
  // also accepts for files of older versions, held by the container id alone.
  std::vector<ip::address> held_by(const std::string& container_id, const std::string& ifname);
  // Removes the container's files (the `ifname` ones; if there are none,
  // those with the id alone). True when any went.
  result<bool> release(const std::string& container_id, const std::string& ifname);

  const std::string& path() const { return path_; }

 private:
  store(std::string path, unique_fd dir, unique_fd lock)
      : path_(std::move(path)), dir_(std::move(dir)), lock_(std::move(lock)) {}
  // Reservation files whose trimmed content is `match`.
  std::vector<std::string> files_matching(const std::string& match);

  std::string path_;
  unique_fd dir_;
  unique_fd lock_;
};

}  // namespace ringcri::net::ipam
