#pragma once
// How a stored container is shown through the CRI.

#include <string>

#include "api.pb.h"
#include "records.pb.h"

namespace ringcri::cri {

::runtime::v1::Container container_of(const records::container& c);
::runtime::v1::ContainerStatus container_status_of(const records::container& c);
// The verbose "info" of ContainerStatus: the record (pid, sandbox id,
// config) as JSON, what people read in `crictl inspect`.
std::string container_info(const records::container& c);

}  // namespace ringcri::cri
