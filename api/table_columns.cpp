#include "api/table_columns.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "api/json.h"
#include "api/kinds.h"
#include "api/types.h"
#include "api/units.h"
#include "base/clock.h"

namespace corral {

namespace {

const char* const kNone = "<none>";
// Availability shows up to six nines; more than that is noise in Rᵢ anyway.
constexpr int kAvailabilityDecimals = 6;
constexpr double kAvailabilityScale = 1e6;

std::string at(const Json& object, const char* path) { return field_value(object, path); }
std::string or_zero(std::string s) { return s.empty() ? "0" : s; }

double number_at(const Json& object, const char* path) {
  const Json* cur = &object;
  std::string p = path;
  size_t start = 0;
  while (true) {
    size_t dot = p.find('.', start);
    std::string key = p.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!cur->is_object() || !cur->contains(key)) return 0;
    cur = &(*cur)[key];
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return cur->is_number() ? cur->get<double>() : 0;
}

std::string age_at(const Json& object, const char* path, std::chrono::system_clock::time_point now) {
  return age_since(at(object, path), now);
}

// "cpu/memory" of a ResourceList at `path`: "6c/70.6Gi", cores with a `c` and
// memory in binary units, however the controller wrote them (it writes sums
// as plain numbers of bytes).
std::string cpu_mem(const Json& object, const std::string& path) {
  auto cpu = milli_at(object, path + ".cpu");
  auto memory = milli_at(object, path + ".memory");
  return (cpu ? format_cores(*cpu) : "0") + "c/" + (memory ? format_bytes(*memory) : "0");
}

// LEASE-AGE of a Node. The controller renews leases in memory at every beat
// (1 s) and persists the heartbeat time only every ~10 s, so the stored time
// would make a healthy node read up to 10 s. What the stored object does say
// exactly: a Ready node's lease is younger than its grace (the lifecycle
// judges it every 250 ms), hence "<2s". A node that is not Ready stopped
// renewing about one grace before it was judged, or at its last stored beat
// if that is later.
std::string lease_age(const Json& node, std::chrono::system_clock::time_point now) {
  std::string heartbeat = at(node, "status.lastHeartbeatTime");
  if (heartbeat.empty()) heartbeat = at(node, "status.lease.renewTime");
  const auto grace = std::chrono::seconds(static_cast<int64_t>(number_at(node, "status.lease.durationSeconds")));
  if (grace.count() <= 0 || heartbeat.empty()) return age_since(heartbeat, now);
  if (at(node, "status.phase") == "Ready") return "<" + format_age(grace);
  std::chrono::system_clock::time_point last, judged;
  if (!parse_time(heartbeat, &last)) return age_since(heartbeat, now);
  const Json& conditions = node.contains("status") && node["status"].is_object()
                               ? node["status"].value("conditions", Json::array())
                               : Json::array();
  for (const Json& c : conditions) {
    if (!c.is_object() || c.value("type", "") != condition_type::kReady) continue;
    if (parse_time(c.value("lastTransitionTime", ""), &judged)) last = std::max(last, judged - grace);
  }
  return format_age(now - last);
}

}  // namespace

std::string or_none(const std::string& value) { return value.empty() ? kNone : value; }

// The quantity at `path` in `format` ("24683584Ki" → "23.5Gi"), as `get
// nodes -o wide` prints the node's; as written when it is no quantity.
std::string quantity_or_none(const Json& o, const char* path, std::string (*format)(int64_t)) {
  auto milli = milli_at(o, path);
  return milli && *milli >= 0 ? format(*milli) : or_none(at(o, path));
}

std::string age_since(const std::string& timestamp, std::chrono::system_clock::time_point now) {
  std::chrono::system_clock::time_point t;
  if (timestamp.empty() || !parse_time(timestamp, &t)) return "<unknown>";
  return format_age(now - t);
}

std::string format_percent(double fraction, int decimals) {
  if (!std::isfinite(fraction)) return "<unknown>";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, fraction * 100.0);
  std::string s = buf;
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s + "%";
}

std::string format_ratio(double ratio) {
  if (!std::isfinite(ratio) || ratio <= 0) ratio = 1;  // the default overcommit
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", ratio);
  std::string s = buf;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

std::string format_availability(double r) {
  if (!std::isfinite(r)) return "<unknown>";
  r = std::clamp(r, 0.0, 1.0);
  // Rounded down, so that 0.9999999 never reads as a perfect 1; the epsilon
  // keeps 0.999 (0.99899999… in binary) from reading 0.998999.
  double scaled = std::floor(r * kAvailabilityScale + 1e-6) / kAvailabilityScale;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", kAvailabilityDecimals, scaled);
  std::string s = buf;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

std::vector<std::string> table_headers(const KindInfo& kind, bool wide) {
  std::vector<std::string> h;
  if (kind.kind == "Node") {
    h = {"NAME", "STATUS", "AGE", "VERSION"};
    if (wide) h.insert(h.end(), {"LEASE-AGE", "CPU", "MEMORY", "AVAILABILITY", "ADDRESS", "DRIVER"});
  } else if (kind.kind == "Pool") {
    h = {"NAME", "READY", "CAPACITY", "ALLOCATED", "USED", "LOAD", "SPREAD", "TOLERATES", "AGE"};
    // CAPACITY is V = Σ Pᵢ; SCHEDULABLE is V × the pool's overcommit.
    if (wide) h.insert(h.end(), {"SCHEDULABLE", "OVERCOMMIT", "PLACEMENT"});
  } else if (kind.kind == "VMSet") {
    h = {"NAME", "POOL", "DESIRED", "CURRENT", "RUNNING", "READY", "AVAILABILITY", "AGE"};
    if (wide) h.insert(h.end(), {"SCHEDULED"});
  } else if (kind.kind == "VM") {
    h = {"NAME", "PHASE", "NODE", "EPOCH", "RESTARTS", "ADDRESS", "AGE"};
    if (wide) h.insert(h.end(), {"PID", "CPU", "MEMORY", "LAST-ERROR", "MESSAGE"});
  } else if (kind.kind == "Balancer") {
    h = {"NAME", "LISTEN", "MODE", "ALGORITHM", "ENDPOINTS", "LOAD", "SPREAD", "AGE"};
    if (wide) h.insert(h.end(), {"DRAINING", "REPORTED"});
  } else if (kind.kind == "Secret") {
    h = {"NAME", "TYPE", "DATA", "AGE"};  // DATA: how many keys, as kubectl
  } else if (kind.kind == "Event") {
    h = {"LAST-SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"};
  } else {
    h = {"NAME", "AGE"};
  }
  return h;
}

TableRow table_row(const KindInfo& kind, const Json& o, bool wide, std::chrono::system_clock::time_point now,
              const std::string& name_prefix) {
  std::string name = name_prefix + field_value(o, "metadata.name");
  std::string age = age_at(o, "metadata.creationTimestamp", now);
  if (kind.kind == "Node") {
    std::string status = at(o, "status.phase");
    if (status.empty()) status = condition_status::kUnknown;
    if (at(o, "spec.unschedulable") == "true") status += ",SchedulingDisabled";
    TableRow r = {name, status, age, or_none(at(o, "status.agentVersion"))};
    if (wide) {
      std::string cpu =
          used_of(milli_at(o, "status.usage.cpu"), milli_at(o, "status.allocatable.cpu"), format_cpu);
      std::string memory =
          used_of(milli_at(o, "status.usage.memory"), milli_at(o, "status.allocatable.memory"), format_bytes);
      std::string availability = at(o, "status.availability").empty()
                                     ? kNone
                                     : format_availability(number_at(o, "status.availability"));
      r.insert(r.end(), {lease_age(o, now), cpu, memory, availability,
                         or_none(at(o, "status.address")), or_none(at(o, "status.driver"))});
    }
    return r;
  }
  if (kind.kind == "Pool") {
    TableRow r = {name,
             or_zero(at(o, "status.readyNodes")) + "/" + or_zero(at(o, "status.totalNodes")),
             cpu_mem(o, "status.capacity"),
             cpu_mem(o, "status.allocated"),
             cpu_mem(o, "status.used"),
             format_percent(number_at(o, "status.meanLoad")),
             format_percent(number_at(o, "status.loadSpread")),
             or_zero(at(o, "status.tolerableFailures")),
             age};
    if (wide) {
      r.insert(r.end(), {cpu_mem(o, "status.schedulable"),
                         format_ratio(number_at(o, "spec.overcommit.cpu")) + "x/" +
                             format_ratio(number_at(o, "spec.overcommit.memory")) + "x",
                         or_none(at(o, "spec.placement"))});
    }
    return r;
  }
  if (kind.kind == "VMSet") {
    TableRow r = {name,
             or_none(at(o, "spec.pool")),
             or_zero(at(o, "spec.replicas")),
             or_zero(at(o, "status.replicas")),
             or_zero(at(o, "status.running")),
             or_zero(at(o, "status.ready")),
             format_availability(number_at(o, "status.availability")),
             age};
    if (wide) r.push_back(or_zero(at(o, "status.scheduled")));
    return r;
  }
  if (kind.kind == "VM") {
    std::string phase = at(o, "status.phase");
    std::string node = at(o, "spec.nodeName");
    if (node.empty()) node = at(o, "status.nodeName");
    // Starting again after it ended, waiting out its restart back-off: the
    // agent keeps the phase Starting (a Failed VM would be replaced), and
    // restarts and lastError say it crash-loops — shown as Kubernetes does,
    // with why.
    const std::string last_error = at(o, "status.lastError");
    if (phase == vm_phase::kStarting && !last_error.empty() &&
        std::atoi(at(o, "status.restarts").c_str()) > 0) {
      constexpr size_t kMaxReason = 40;
      phase = "CrashLoopBackOff (" +
              (last_error.size() > kMaxReason ? last_error.substr(0, kMaxReason - 3) + "..." : last_error) +
              ")";
    }
    TableRow r = {name,
             phase.empty() ? std::string(vm_phase::kPending) : phase,
             or_none(node),
             or_zero(at(o, "spec.epoch")),
             or_zero(at(o, "status.restarts")),
             or_none(at(o, "status.address")),
             age};
    if (wide) {
      // PID: the VM's process on its node, as its agent reports it (process driver).
      const std::string pid = at(o, "status.pid");
      r.insert(r.end(), {pid.empty() || pid == "0" ? kNone : pid, quantity_or_none(o, "spec.resources.cpu", format_cpu),
                         quantity_or_none(o, "spec.resources.memory", format_bytes),
                         or_none(at(o, "status.lastError")), or_none(at(o, "status.message"))});
    }
    return r;
  }
  if (kind.kind == "Balancer") {
    // ENDPOINTS is healthy/total as the data plane last reported health.
    size_t total = 0, healthy = 0, draining = 0;
    const Json* endpoints = nullptr;
    if (o.contains("status") && o["status"].is_object() && o["status"].contains("endpoints"))
      endpoints = &o["status"]["endpoints"];
    if (endpoints && endpoints->is_array()) {
      for (const auto& e : *endpoints) {
        ++total;
        if (!e.is_object()) continue;
        if (e.value("health", "") == endpoint_health::kHealthy) ++healthy;
        if (e.value("draining", false)) ++draining;
      }
    }
    TableRow r = {name,
             or_none(at(o, "spec.listen")),
             or_none(at(o, "spec.mode")),
             or_none(at(o, "spec.algorithm")),
             std::to_string(healthy) + "/" + std::to_string(total),
             format_percent(number_at(o, "status.meanLoad")),
             format_percent(number_at(o, "status.loadSpread")),
             age};
    if (wide) {
      const std::string reported = at(o, "status.lastReportTime");
      r.insert(r.end(), {std::to_string(draining), reported.empty() ? kNone : age_since(reported, now)});
    }
    return r;
  }
  if (kind.kind == "Secret") {
    const Json* data = o.contains("data") ? &o["data"] : nullptr;
    size_t keys = data && data->is_object() ? data->size() : 0;
    return {name, or_none(at(o, "type")), std::to_string(keys), age};
  }
  if (kind.kind == "Event") {
    std::string last = at(o, "lastTimestamp");
    if (last.empty()) last = at(o, "metadata.creationTimestamp");
    std::string involved_kind = at(o, "involvedObject.kind");
    const KindInfo* ik = find_kind(involved_kind);
    std::string object = (ik ? ik->singular : involved_kind) + "/" + at(o, "involvedObject.name");
    return {age_since(last, now), or_none(at(o, "type")), or_none(at(o, "reason")), object, at(o, "message")};
  }
  return {name, age};
}

}  // namespace corral
