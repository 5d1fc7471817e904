#pragma once
// Counters and histograms that keep their own counts, by label values:
// `with(values)` finds (or makes, once) the series of those values, and
// the caller adds to it. Adding is a relaxed atomic increment, safe from
// any thread; finding takes a shared lock. Each registers itself with a
// registry when made, so a scrape sees it.

#include <atomic>
#include <chrono>
#include <initializer_list>
#include <map>
#include <memory>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/metrics.hpp"

namespace ringcri::metrics {

// Bucket bounds, in seconds, from 100 us to 2 min: a cached status call
// to a cold image pull.
inline constexpr double duration_buckets[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                              0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5,
                                              5,      10,      30,     60,    120};

class histogram {
 public:
  explicit histogram(std::span<const double> bounds);
  void observe(std::chrono::nanoseconds d);
  histogram_reading read() const;

 private:
  std::span<const double> bounds_;
  std::vector<std::atomic<std::uint64_t>> counts_;  // bounds_.size() + 1
  std::atomic<std::uint64_t> sum_ns_{0};
};

class counter {
 public:
  void add(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

// The series of one family, by label values.
template <class Instrument>
class instrument_family {
 public:
  Instrument& with(std::initializer_list<std::string_view> values) {
    return with(std::span<const std::string_view>(values.begin(), values.size()));
  }
  Instrument& with(std::span<const std::string_view> values);

 protected:
  instrument_family(std::string name, std::string help, std::string unit, metric_type type,
                    std::vector<std::string> label_names, registry& r);
  virtual ~instrument_family() = default;
  virtual std::unique_ptr<Instrument> make() const = 0;
  virtual void read(const Instrument& i, series& out) const = 0;

 private:
  void collect(std::vector<family>& out) const;

  std::string name_, help_, unit_;
  metric_type type_;
  std::vector<std::string> label_names_;
  mutable std::shared_mutex mutex_;
  // Keyed by the label values joined with '\0'; sorted, so a scrape lists
  // series in a stable order.
  std::map<std::string, std::pair<std::vector<std::string>, std::unique_ptr<Instrument>>, std::less<>> series_;
};

class counter_family : public instrument_family<counter> {
 public:
  // `name` without `_total`.
  counter_family(std::string name, std::string help, std::vector<std::string> label_names,
                 registry& r = default_registry())
      : instrument_family(std::move(name), std::move(help), "", metric_type::counter,
                          std::move(label_names), r) {}

 private:
  std::unique_ptr<counter> make() const override { return std::make_unique<counter>(); }
  void read(const counter& c, series& out) const override { out.value = static_cast<double>(c.value()); }
};

// Durations, in seconds.
class duration_family : public instrument_family<histogram> {
 public:
  duration_family(std::string name, std::string help, std::vector<std::string> label_names,
                  registry& r = default_registry(), std::span<const double> bounds = duration_buckets)
      : instrument_family(std::move(name), std::move(help), "seconds", metric_type::histogram,
                          std::move(label_names), r),
        bounds_(bounds) {}

 private:
  std::unique_ptr<histogram> make() const override { return std::make_unique<histogram>(bounds_); }
  void read(const histogram& h, series& out) const override { out.histogram = h.read(); }

  std::span<const double> bounds_;
};

// Measures from when it is made until stop() (or its end, if never
// stopped) into a histogram.
class timer {
 public:
  explicit timer(histogram& h) : h_(&h), start_(std::chrono::steady_clock::now()) {}
  timer(const timer&) = delete;
  timer& operator=(const timer&) = delete;
  ~timer() { stop(); }
  void stop() {
    if (h_ != nullptr) h_->observe(std::chrono::steady_clock::now() - start_);
    h_ = nullptr;
  }

 private:
  histogram* h_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace ringcri::metrics
