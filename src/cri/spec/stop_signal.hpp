#pragma once
// The signal StopContainer sends first: the request's stop_signal when set,
// else the image's StopSignal ("SIGQUIT", "QUIT", "sigquit", "3",
// "SIGRTMIN+3"), else SIGTERM. An image StopSignal that names no signal
// falls back to SIGTERM: the container must stay stoppable.

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "api.pb.h"

namespace ringcri::cri::spec {

// A signal's number from its name or number; nullopt when it names none.
std::optional<int> parse_signal(std::string_view name);

int stop_signal_of(const nlohmann::json& image_config,
                   runtime::v1::Signal requested = runtime::v1::SIGNAL_RUNTIME_DEFAULT);

}  // namespace ringcri::cri::spec
