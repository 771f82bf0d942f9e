// Helpers every end-to-end test needs: polling with a deadline, the process
// table (to find and kill a "host's" VM processes by the marker in their
// argv), reading an object's phase through the API, and reading the daemons'
// /metrics — the positive signals a test waits for instead of sleeping.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "client/client.h"

namespace corral::testing {

// Polls `done` every `poll` until it holds or `timeout` passes; the result of
// a last call at the deadline. Deadlines are generous (tens of seconds): the
// wait ends as soon as the condition holds, so only a failing test pays them.
// A shorter `poll` for tests and benchmarks that time what they wait for.
bool wait_for(const std::function<bool()>& done, std::chrono::milliseconds timeout,
              std::chrono::milliseconds poll = std::chrono::milliseconds(50));

// The whole of a /proc file (cmdline, environ, stat...), read with read(2):
// "" when it cannot be read (the process is gone).
std::string read_proc_file(const std::string& path);

// argv of every process (NULs as spaces), by pid; processes that vanish while
// read are skipped, and zombies (empty cmdline) are left out.
std::map<int, std::string> process_table();

// SIGKILLs every process whose argv contains all of `needles`; returns how many.
int kill_processes_matching(const std::vector<std::string>& needles);

// status.phase of a Node (or "" when it cannot be read).
std::string node_phase(ApiClient& api, const std::string& node);

// The value of `series` — a metric's name and labels exactly as exposed, e.g.
// `corral_agent_heartbeats_total` or `x_total{kind="a"}` — in a Prometheus
// text exposition; nullopt when it is not there.
std::optional<double> metric_value(const std::string& exposition, const std::string& series);

// GETs `url`/metrics of a daemon ("http://host:port": a controller, an
// agent's local endpoint, a balancer's admin address) and reads `series`;
// nullopt when the daemon does not answer or does not expose it.
std::optional<double> scrape_metric(const std::string& url, const std::string& series);

// Node-lifecycle passes the controller at `url` has run since it started
// (corral_controller_loop_pass_seconds_count{loop="node-lifecycle"}); nullopt
// when it cannot be read. The loop runs one pass per node monitor period
// (250 ms) of the controller's own clock, so N passes more mean that its
// loops have run, and judged nodes, for at least N−1 periods: a clock of the
// controller's progress, which a loaded machine slows down together with it.
std::optional<double> controller_lifecycle_passes(const std::string& url);

// Waits until the controller at `url` has run `passes` more node-lifecycle
// passes than when called. False when they did not come within `timeout`.
bool wait_for_controller_passes(const std::string& url, int passes,
                                std::chrono::milliseconds timeout);

// Waits until the agent whose local endpoint is `url` has had `beats` more
// heartbeats answered (corral_agent_heartbeats_total) than when called: it
// has heard the controller that often, and acted on each answer (an agent
// converges on an answer in the round that got it).
bool wait_for_agent_heartbeats(const std::string& url, int beats,
                               std::chrono::milliseconds timeout);

}  // namespace corral::testing
