#include "metrics/instrument.hpp"

#include <algorithm>
#include <mutex>

namespace ringcri::metrics {

histogram::histogram(std::span<const double> bounds) : bounds_(bounds), counts_(bounds.size() + 1) {}

void histogram::observe(std::chrono::nanoseconds d) {
  auto ns = std::max<std::int64_t>(d.count(), 0);
  double seconds = static_cast<double>(ns) / 1e9;
  // The first bucket whose bound is >= the value ("le"), or the last.
  auto i = std::lower_bound(bounds_.begin(), bounds_.end(), seconds) - bounds_.begin();
  counts_[static_cast<std::size_t>(i)].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(static_cast<std::uint64_t>(ns), std::memory_order_relaxed);
}

histogram_reading histogram::read() const {
  histogram_reading r;
  r.bounds = bounds_;
  r.counts.reserve(counts_.size());
  for (const auto& c : counts_) r.counts.push_back(c.load(std::memory_order_relaxed));
  r.sum = static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9;
  return r;
}

template <class Instrument>
instrument_family<Instrument>::instrument_family(std::string name, std::string help, std::string unit,
                                                 metric_type type, std::vector<std::string> label_names,
                                                 registry& r)
    : name_(std::move(name)),
      help_(std::move(help)),
      unit_(std::move(unit)),
      type_(type),
      label_names_(std::move(label_names)) {
  r.add([this](std::vector<family>& out) { collect(out); });
}

template <class Instrument>
Instrument& instrument_family<Instrument>::with(std::span<const std::string_view> values) {
  std::string key;
  for (auto v : values) {
    key.append(v);
    key.push_back('\0');
  }
  {
    std::shared_lock lock(mutex_);
    if (auto it = series_.find(key); it != series_.end()) return *it->second.second;
  }
  std::unique_lock lock(mutex_);
  auto& slot = series_[key];
  if (!slot.second) {
    slot.first.assign(values.begin(), values.end());
    slot.second = make();
  }
  return *slot.second;
}

template <class Instrument>
void instrument_family<Instrument>::collect(std::vector<family>& out) const {
  family f{name_, help_, unit_, type_, {}};
  std::shared_lock lock(mutex_);
  for (const auto& [key, entry] : series_) {
    series s;
    for (std::size_t i = 0; i < label_names_.size() && i < entry.first.size(); ++i)
      s.labels.emplace_back(label_names_[i], entry.first[i]);
    read(*entry.second, s);
    f.series.push_back(std::move(s));
  }
  out.push_back(std::move(f));
}

template class instrument_family<counter>;
template class instrument_family<histogram>;

}  // namespace ringcri::metrics
