#pragma once
// How a stored pod sandbox is shown through the CRI.

#include <string>

#include "api.pb.h"
#include "records.pb.h"

namespace ringcri::cri {

::runtime::v1::PodSandbox pod_sandbox_of(const records::pod_sandbox& pod);
::runtime::v1::PodSandboxStatus pod_sandbox_status_of(const records::pod_sandbox& pod);
// The verbose "info" of PodSandboxStatus: the record and its config as JSON.
std::string pod_sandbox_info(const records::pod_sandbox& pod);

}  // namespace ringcri::cri
