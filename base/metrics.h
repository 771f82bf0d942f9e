// A small Prometheus registry shared by the controller, the agent and the
// balancer: counter, gauge and histogram families with label sets, rendered
// in the Prometheus text exposition format (version 0.0.4).
//
// Usage:
//   Registry reg;
//   auto& requests = reg.counter("corral_api_requests_total", "API requests.",
//                                {"verb", "resource", "code"});
//   requests.with({"get", "vms", "200"}).inc();
//   std::string text = reg.render();
//
// Thread-safe: families and children may be used from any thread. A child
// returned by with() lives as long as its Registry, so callers may cache the
// reference on hot paths and skip the family's lookup (and its mutex).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace corral::metrics {

using LabelValues = std::vector<std::string>;

// A monotonically increasing value.
class Counter {
 public:
  void inc(double by = 1.0) { value_.fetch_add(by, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// A value that goes up and down.
class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void inc(double by = 1.0) { value_.fetch_add(by, std::memory_order_relaxed); }
  void dec(double by = 1.0) { value_.fetch_sub(by, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// Observations counted into fixed buckets (upper bounds, ascending; +Inf is
// implicit), with their sum and count.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double v);
  // Cumulative counts per bound, then +Inf (== count).
  std::vector<uint64_t> cumulative() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // bounds_.size() + 1 slots
  std::atomic<double> sum_{0.0};
};

// Default latency buckets, in seconds: 0.5 ms … 10 s.
const std::vector<double>& default_latency_buckets();

// One metric name with its children, one per label value set.
template <class T>
class Family {
 public:
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::function<std::unique_ptr<T>()> make)
      : name_(std::move(name)),
        help_(std::move(help)),
        label_names_(std::move(label_names)),
        make_(std::move(make)) {}

  // The child for these label values (created on first use). `values` must
  // have one entry per label name; missing ones read as "".
  T& with(LabelValues values) { return *share(std::move(values)); }

  // The same child, held: for families whose label values come and go (a
  // balancer's endpoints), whose children prune_unused() may drop once no
  // one holds them any more.
  std::shared_ptr<T> share(LabelValues values) {
    values.resize(label_names_.size());
    std::lock_guard lock(mu_);
    auto& slot = children_[values];
    if (!slot) slot = std::shared_ptr<T>(make_());
    return slot;
  }

  // Drops the children no one holds but the family. Only for a family whose
  // children are all taken with share(): one taken with with() is held by no
  // one and would go at once.
  void prune_unused() {
    std::lock_guard lock(mu_);
    std::erase_if(children_, [](const auto& child) { return child.second.use_count() == 1; });
  }

  // Drops every child: for gauges set afresh at each collection, so that a
  // label value gone since the last one (a removed endpoint) stops showing.
  void clear() {
    std::lock_guard lock(mu_);
    children_.clear();
  }

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

  // Calls fn(values, child) for each child, in label order.
  template <class Fn>
  void for_each(Fn&& fn) const {
    std::lock_guard lock(mu_);
    for (const auto& [values, child] : children_) fn(values, *child);
  }

 private:
  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
  const std::function<std::unique_ptr<T>()> make_;
  mutable std::mutex mu_;
  std::map<LabelValues, std::shared_ptr<T>> children_;  // guarded by mu_
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Registering a name twice returns the first family (its help, labels and
  // buckets win), so that independent components may ask for the same metric.
  CounterFamily& counter(const std::string& name, const std::string& help,
                         std::vector<std::string> label_names = {});
  GaugeFamily& gauge(const std::string& name, const std::string& help,
                     std::vector<std::string> label_names = {});
  HistogramFamily& histogram(const std::string& name, const std::string& help,
                             std::vector<std::string> label_names = {},
                             std::vector<double> buckets = default_latency_buckets());

  // Runs before every render(): the place to set gauges that are read from
  // elsewhere (store revision, open watches) instead of kept up to date.
  void on_collect(std::function<void()> fn);

  // Text exposition format: # HELP / # TYPE, one line per child; histograms
  // as _bucket{le="..."}, _sum and _count. Families in registration order.
  std::string render() const;

 private:
  struct Entry;
  template <class F, class Make>
  F& get_or_add(const std::string& name, Make make);

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Entry>> entries_;    // guarded by mu_
  std::vector<std::function<void()>> collectors_;  // guarded by mu_
};

// Prometheus number formatting: shortest round-trip, "+Inf", "-Inf", "NaN".
std::string format_value(double v);
// Escapes a label value (backslash, double quote, newline).
std::string escape_label_value(const std::string& v);

}  // namespace corral::metrics
