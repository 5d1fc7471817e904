#pragma once
// The kubelet's traffic shaping annotations of a pod,
// kubernetes.io/ingress-bandwidth and kubernetes.io/egress-bandwidth:
// Kubernetes resource quantities in bits per second ("10M", "1Gi",
// "2.5e6"), checked as the kubelet checks them (from 1k to 1P), and given
// to CNI plugins with the "bandwidth" capability as containerd gives them:
// the rate, and a burst of 2^32-1 bits.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "net/cni/attachment.hpp"

namespace ringcri::cri {

inline constexpr const char* ingress_bandwidth_annotation = "kubernetes.io/ingress-bandwidth";
inline constexpr const char* egress_bandwidth_annotation = "kubernetes.io/egress-bandwidth";

// A resource quantity's value rounded up to a whole number, as
// resource.Quantity.Value() gives it; negative values are 0, values past
// 2^64-1 are 2^64-1. INVALID_ARGUMENT for what resource.ParseQuantity
// refuses.
result<std::uint64_t> quantity_value(std::string_view text);

// The limits for the annotations' values (null: the annotation is not
// there); none when neither is. INVALID_ARGUMENT naming the annotation.
result<std::optional<net::cni::bandwidth_limits>> bandwidth_of(const std::string* ingress,
                                                               const std::string* egress);

}  // namespace ringcri::cri
