// The kubelet's bandwidth annotations (cri/pod_bandwidth): resource
// quantities a pod's author writes. A quantity's value does not shrink
// when a digit is appended to its number, and accepted limits are the
// kubelet's range.

#include <cstdint>
#include <string>

#include "cri/pod_bandwidth.hpp"
#include "fuzz_check.hpp"

using namespace ringcri;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(fuzz::as_text(data, size));
  auto limits = cri::bandwidth_of(&text, nullptr);
  if (limits) {
    FUZZ_CHECK(limits->has_value());
    FUZZ_CHECK((*limits)->ingress_rate >= 1000);
    FUZZ_CHECK((*limits)->ingress_rate <= 1'000'000'000'000'000ULL);
    FUZZ_CHECK((*limits)->egress_rate == 0);
  }
  auto value = cri::quantity_value(text);
  if (value && !text.empty() && text.find_first_of("eE.") == std::string::npos &&
      text[0] >= '0' && text[0] <= '9') {
    // "12M" -> "120M": ten times the value, or the ceiling.
    std::size_t digits = text.find_first_not_of("0123456789");
    std::string longer = text.substr(0, digits == std::string::npos ? text.size() : digits) + "0" +
                         (digits == std::string::npos ? "" : text.substr(digits));
    auto bigger = cri::quantity_value(longer);
    FUZZ_CHECK(bigger.has_value());
    FUZZ_CHECK(*bigger >= *value);
  }
  return 0;
}
