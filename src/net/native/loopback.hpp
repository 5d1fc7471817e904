#pragma once
// The loopback plugin in-process (plugins/main/loopback, v1.1.1): ADD sets
// the pod's lo up and passes the previous result on untouched (or, first in
// a list, gives lo with 127.0.0.1/8 and ::1/128); DEL sets it down unless
// the namespace is gone; CHECK wants it up.

#include <string>

#include "base/error.hpp"
#include "net/cni/attachment.hpp"
#include "reactor/task.hpp"

namespace ringcri::net::native {

reactor::task<result<std::string>> loopback_add(const std::string& cni_version,
                                                const cni::attachment& pod,
                                                const std::string& prev_result);
reactor::task<result<void>> loopback_del(const cni::attachment& pod);
reactor::task<result<void>> loopback_check(const cni::attachment& pod);

}  // namespace ringcri::net::native
