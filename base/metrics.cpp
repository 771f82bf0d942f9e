#include "base/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <variant>

namespace corral::metrics {

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  std::sort(bounds_.begin(), bounds_.end());
  counts_ = std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1);
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0);
}

void Histogram::observe(double v) {
  // Buckets are few (≈15): a linear scan beats a binary search here.
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::cumulative() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  uint64_t total = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    total += counts_[i].load(std::memory_order_relaxed);
    out[i] = total;
  }
  return out;
}

const std::vector<double>& default_latency_buckets() {
  static const std::vector<double> buckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                              0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  return buckets;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  if (ec != std::errc()) return "NaN";
  return std::string(buf, end);
}

std::string escape_label_value(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

struct Registry::Entry {
  std::variant<std::unique_ptr<CounterFamily>, std::unique_ptr<GaugeFamily>,
               std::unique_ptr<HistogramFamily>>
      family;
  const std::string& name() const {
    return std::visit([](const auto& f) -> const std::string& { return f->name(); }, family);
  }
};

Registry::Registry() = default;
Registry::~Registry() = default;

namespace {

std::string label_set(const std::vector<std::string>& names, const LabelValues& values,
                      const std::string& extra_name = "", const std::string& extra_value = "") {
  if (names.empty() && extra_name.empty()) return "";
  std::string out = "{";
  bool first = true;
  for (size_t i = 0; i < names.size(); ++i) {
    if (!first) out += ',';
    first = false;
    out += names[i] + "=\"" + escape_label_value(values[i]) + "\"";
  }
  if (!extra_name.empty()) {
    if (!first) out += ',';
    out += extra_name + "=\"" + escape_label_value(extra_value) + "\"";
  }
  out += '}';
  return out;
}

void header(std::string& out, const std::string& name, const std::string& help, const char* type) {
  out += "# HELP " + name + " ";
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  out += "\n# TYPE " + name + " " + type + "\n";
}

void render_family(std::string& out, const CounterFamily& f) {
  header(out, f.name(), f.help(), "counter");
  f.for_each([&](const LabelValues& values, const Counter& c) {
    out += f.name() + label_set(f.label_names(), values) + " " + format_value(c.value()) + "\n";
  });
}

void render_family(std::string& out, const GaugeFamily& f) {
  header(out, f.name(), f.help(), "gauge");
  f.for_each([&](const LabelValues& values, const Gauge& g) {
    out += f.name() + label_set(f.label_names(), values) + " " + format_value(g.value()) + "\n";
  });
}

void render_family(std::string& out, const HistogramFamily& f) {
  header(out, f.name(), f.help(), "histogram");
  f.for_each([&](const LabelValues& values, const Histogram& h) {
    // Read the buckets once: _count is the +Inf bucket, so the two always agree.
    auto cum = h.cumulative();
    const auto& bounds = h.bounds();
    for (size_t i = 0; i < bounds.size(); ++i) {
      out += f.name() + "_bucket" +
             label_set(f.label_names(), values, "le", format_value(bounds[i])) + " " +
             std::to_string(cum[i]) + "\n";
    }
    out += f.name() + "_bucket" + label_set(f.label_names(), values, "le", "+Inf") + " " +
           std::to_string(cum.back()) + "\n";
    out +=
        f.name() + "_sum" + label_set(f.label_names(), values) + " " + format_value(h.sum()) + "\n";
    out += f.name() + "_count" + label_set(f.label_names(), values) + " " +
           std::to_string(cum.back()) + "\n";
  });
}

}  // namespace

template <class F, class Make>
F& Registry::get_or_add(const std::string& name, Make make) {
  std::lock_guard lock(mu_);
  for (auto& e : entries_) {
    if (e->name() != name) continue;
    if (auto* f = std::get_if<std::unique_ptr<F>>(&e->family)) return **f;
    break;  // same name, other type: a programming error; keep the first, hand out a detached one
  }
  auto entry = std::make_unique<Registry::Entry>();
  auto family = make();
  F& ref = *family;
  entry->family = std::move(family);
  // A name clash with another type still renders once: the later entry is skipped in render().
  entries_.push_back(std::move(entry));
  return ref;
}

CounterFamily& Registry::counter(const std::string& name, const std::string& help,
                                 std::vector<std::string> label_names) {
  return get_or_add<CounterFamily>(name, [&] {
    return std::make_unique<CounterFamily>(name, help, std::move(label_names),
                                           [] { return std::make_unique<Counter>(); });
  });
}

GaugeFamily& Registry::gauge(const std::string& name, const std::string& help,
                             std::vector<std::string> label_names) {
  return get_or_add<GaugeFamily>(name, [&] {
    return std::make_unique<GaugeFamily>(name, help, std::move(label_names),
                                         [] { return std::make_unique<Gauge>(); });
  });
}

HistogramFamily& Registry::histogram(const std::string& name, const std::string& help,
                                     std::vector<std::string> label_names,
                                     std::vector<double> buckets) {
  return get_or_add<HistogramFamily>(name, [&] {
    return std::make_unique<HistogramFamily>(
        name, help, std::move(label_names),
        [buckets = std::move(buckets)] { return std::make_unique<Histogram>(buckets); });
  });
}

void Registry::on_collect(std::function<void()> fn) {
  std::lock_guard lock(mu_);
  collectors_.push_back(std::move(fn));
}

std::string Registry::render() const {
  std::vector<std::function<void()>> collectors;
  {
    std::lock_guard lock(mu_);
    collectors = collectors_;
  }
  // Collectors run unlocked: they may touch families of this registry.
  for (const auto& fn : collectors) fn();
  std::string out;
  std::lock_guard lock(mu_);
  std::vector<std::string> seen;
  for (const auto& e : entries_) {
    if (std::find(seen.begin(), seen.end(), e->name()) != seen.end()) continue;
    seen.push_back(e->name());
    std::visit([&](const auto& f) { render_family(out, *f); }, e->family);
  }
  return out;
}

}  // namespace corral::metrics
