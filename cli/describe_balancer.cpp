#include "cli/describe_balancer.h"

#include <cstdio>
#include <vector>

#include "api/json.h"
#include "base/clock.h"
#include "api/kinds.h"
#include "api/selector.h"
#include "api/types.h"
#include "cli/printers.h"

namespace corral::cli {
namespace {


std::string selector_text(const LabelSelector& selector) {
  auto parsed = Selector::from(selector, "spec.selector");
  if (!parsed) return "<invalid: " + parsed.error().message + ">";
  return parsed->empty() ? std::string("<everything>") : parsed->to_string();
}

std::string fixed(double v, int decimals) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string seconds(int32_t s) { return std::to_string(s) + "s"; }

}  // namespace

std::optional<std::string> describe_balancer(const Json& object,
                                             std::chrono::system_clock::time_point now) {
  auto typed = from_json<Balancer>(object);
  if (!typed) return std::nullopt;
  const BalancerSpec& spec = typed->spec;
  const BalancerStatus& st = typed->status;
  std::string out;

  out += describe_label("Selects") +
         (spec.vmSet.empty() ? "selector " + selector_text(spec.selector) : "vmSet " + spec.vmSet) +
         "\n";
  out += describe_label("Listen") + (spec.listen.empty() ? std::string("<none>") : spec.listen) + " (" +
         spec.mode + ")\n";
  out += describe_label("Algorithm") + spec.algorithm + "\n";
  out += describe_label("Affinity") + spec.sessionAffinity + "\n";
  if (spec.rules.empty()) {
    out += describe_label("Rules") + "<none>\n";
  } else {
    std::vector<Row> rows = {{"HOST", "PATH-PREFIX", "SELECTOR"}};
    for (const BalancerRule& r : spec.rules)
      rows.push_back({r.host.empty() ? "*" : r.host, r.pathPrefix.empty() ? "/" : r.pathPrefix,
                      selector_text(r.selector)});
    out += "Rules:\n" + render_rows(rows, {}, "  ");
  }
  const HealthCheck& h = spec.healthCheck;
  const std::string type = h.type.empty() ? (spec.mode == "http" ? "http" : "tcp") : h.type;
  out += describe_label("Health Check") + type + (type == "http" ? " GET " + h.path : std::string()) +
         " every " + seconds(h.intervalSeconds) + ", timeout " + seconds(h.timeoutSeconds) +
         ", rise " + std::to_string(h.rise) + ", fall " + std::to_string(h.fall) + "\n";
  const BalancerTimeouts& t = spec.timeouts;
  out += describe_label("Timeouts") + "connect " + seconds(t.connectSeconds) + ", client " +
         seconds(t.clientSeconds) + ", request head " + seconds(t.requestHeadSeconds) +
         ", server " + seconds(t.serverSeconds) + ", drain " +
         seconds(t.drainSeconds) + "\n";
  const std::string per_client = spec.maxConnectionsPerClient > 0
                                     ? std::to_string(spec.maxConnectionsPerClient)
                                     : std::string("no cap");
  out += describe_label("Max Conns") + std::to_string(spec.maxConnections) + ", per client " +
         per_client + "\n";

  if (st.endpoints.empty()) {
    out += describe_label("Endpoints") + "<none>\n";
  } else {
    std::vector<Row> rows = {
        {"VM", "NODE", "ADDRESS", "EPOCH", "WEIGHT", "HEALTH", "DRAINING", "ACTIVE"}};
    for (const Endpoint& e : st.endpoints) {
      // DRAINING: "-", or for how long, and whether the data plane saw it empty.
      std::string draining = "-";
      if (e.draining) {
        draining = e.drainingSince.empty() ? "yes" : age_since(e.drainingSince, now);
        if (e.drained) draining += ", drained";
      }
      rows.push_back({e.vm, e.node, e.address, std::to_string(e.epoch), fixed(e.weight, 2),
                      e.health, draining, std::to_string(e.activeConnections)});
    }
    out += "Endpoints:\n" + render_rows(rows, {}, "  ");
  }
  out += describe_label("Load") + "L " + format_percent(st.meanLoad) + ", spread " +
         format_percent(st.loadSpread) + "\n";
  out += describe_label("Reported") +
         (st.lastReportTime.empty()
              ? std::string("<none>")
              : st.lastReportTime + " (" + age_since(st.lastReportTime, now) + " ago)" +
                    (st.reportedBy.empty() ? "" : " by " + st.reportedBy)) +
         "\n";
  return out;
}

}  // namespace corral::cli
