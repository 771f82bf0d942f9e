#include "agent/host_usage.h"

#include <algorithm>

#include "base/log.h"

namespace corral::agent {

namespace {

constexpr int64_t kMilliPerUnit = 1000;  // Quantity::milli per core or per byte

Quantity subtract_clamped(const Quantity& a, const Quantity& b, bool bytes) {
  int64_t milli = std::max<int64_t>(0, a.milli - b.milli);
  return bytes ? Quantity::from_bytes(milli / kMilliPerUnit) : Quantity::from_milli(milli);
}

}  // namespace

HostUsage::HostUsage(const MetricsSource& source, HostUsageOptions options)
    : source_(source),
      options_(std::move(options)),
      cpu_milli_(options_.smoothing),
      memory_bytes_(options_.smoothing) {}

void HostUsage::measure_capacity() {
  ResourceList cap = capacity_;
  const bool need_cpu = options_.capacity_override.cpu.empty();
  const bool need_memory = options_.capacity_override.memory.empty();
  if (need_cpu || need_memory) {
    auto measured = source_.host_capacity();
    if (measured) {
      if (need_cpu) cap.cpu = Quantity::from_milli(measured->cpu_milli);
      if (need_memory) cap.memory = Quantity::from_bytes(measured->memory_bytes);
      capacity_error_.clear();
    } else {
      capacity_error_ = measured.error().message;
      note_error("capacity", capacity_error_);
    }
  }
  if (!need_cpu) cap.cpu = options_.capacity_override.cpu;
  if (!need_memory) cap.memory = options_.capacity_override.memory;
  capacity_ = cap;
}

void HostUsage::sample(std::chrono::steady_clock::time_point now) {
  measure_capacity();
  if (auto cpu = source_.host_cpu(); cpu) {
    if (last_cpu_ && has_capacity())
      cpu_milli_.add(static_cast<double>(host_cpu_milli(*last_cpu_, *cpu, capacity_.cpu.milli)), now);
    last_cpu_ = *cpu;
  } else {
    note_error("cpu", cpu.error().message);
  }
  if (auto memory = source_.host_memory(); memory) {
    memory_bytes_.add(static_cast<double>(memory->used_bytes), now);
  } else {
    note_error("memory", memory.error().message);
  }
}

void HostUsage::sample_simulated(const ResourceList& use, std::chrono::steady_clock::time_point now) {
  measure_capacity();
  cpu_milli_.add(static_cast<double>(use.cpu.milli), now);
  memory_bytes_.add(static_cast<double>(use.memory.milli / kMilliPerUnit), now);
}

ResourceList HostUsage::allocatable() const {
  ResourceList out;
  out.cpu = subtract_clamped(capacity_.cpu, options_.reserved.cpu, false);
  out.memory = subtract_clamped(capacity_.memory, options_.reserved.memory, true);
  return out;
}

ResourceList HostUsage::usage() const {
  auto cpu = static_cast<int64_t>(cpu_milli_.value());
  auto memory = static_cast<int64_t>(memory_bytes_.value());
  if (capacity_.cpu.milli > 0) cpu = std::min(cpu, capacity_.cpu.milli);
  if (capacity_.memory.milli > 0) memory = std::min(memory, capacity_.memory.milli / kMilliPerUnit);
  ResourceList out;
  out.cpu = Quantity::from_milli(std::max<int64_t>(0, cpu));
  out.memory = Quantity::from_bytes(std::max<int64_t>(0, memory));
  return out;
}

void HostUsage::note_error(const std::string& what, const std::string& message) {
  std::string text = what + ": " + message;
  if (text == last_error_) return;
  last_error_ = text;
  logger("agent")->warn("cannot measure host {}", text);
}

}  // namespace corral::agent
