// The churn soak of issue 17 §4: an hour of VMSets applied, scaled and
// deleted every few seconds on 5 process agents and 50 sim agents, a real
// agent killed (-9) every 30 s and restarted, the controller killed (-9)
// every 10 minutes and restarted on the same SQLite file and port; an
// invariant checker every second; the controller's RSS, fds, threads and
// database size sampled every 5 s. The soak itself is tests/support/soak.h
// (shared with the 5-minute e2e test, tests/e2e/soak_test.cpp).
//
//   build/bench/soak [--minutes 60] [--sim-agents 50] [--real-agents 5]
//                    [--agent-kill-seconds 30] [--controller-restart-minutes 10]
//                    [--churn-ms 3000] [--seed 17]
//                    [--seconds N --controller-restart-seconds M]  (short runs)
//                    [--event-ttl-minutes T]  (the controller's --event-ttl; default its 1 h)
//
// Prints the report (bench/run-all.sh parses its lines): invariant violations
// (0 expected), placements checked and the largest placement latency (target
// 5 s, the controller's outages excluded), restarts, kills, and each
// resource's growth after the warm-up (the first 10 % of the run): the median
// of the first 10 % of the later samples against the median of the last 10 %
// (target < 5 %). Exit status 1 when a violation or a flagged growth was seen.
#include <cstdio>
#include <thread>

#include "bench/bench_util.h"
#include "tests/support/soak.h"

namespace {

// The machine's load average: the soak shares it with whatever else runs.
void print_load(const char* when) {
  double load[3] = {-1, -1, -1};
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3) load[0] = -1;
    std::fclose(f);
  }
  std::printf("load average %s: %.2f %.2f %.2f\n", when, load[0], load[1], load[2]);
}

}  // namespace

int main(int argc, char** argv) {
  using corral::bench::int_flag;
  corral::testing::SoakOptions o;
  o.duration = std::chrono::minutes(int_flag(argc, argv, "--minutes", 60));
  // --seconds (wins over --minutes) and --controller-restart-seconds: short
  // runs that check the program (bench/run-all.sh --quick).
  o.duration = std::chrono::seconds(int_flag(argc, argv, "--seconds", static_cast<int>(o.duration.count())));
  o.sim_agents = int_flag(argc, argv, "--sim-agents", o.sim_agents);
  o.real_agents = int_flag(argc, argv, "--real-agents", o.real_agents);
  o.agent_kill_period = std::chrono::seconds(int_flag(argc, argv, "--agent-kill-seconds", 30));
  o.controller_restart_period =
      std::chrono::minutes(int_flag(argc, argv, "--controller-restart-minutes", 10));
  o.controller_restart_period = std::chrono::seconds(int_flag(
      argc, argv, "--controller-restart-seconds", static_cast<int>(o.controller_restart_period.count())));
  o.churn_period = std::chrono::milliseconds(int_flag(argc, argv, "--churn-ms", 3000));
  o.seed = static_cast<uint64_t>(int_flag(argc, argv, "--seed", 17));
  // Events live for --event-ttl (1 h): within the first hour the store grows
  // with them by design. A TTL shorter than the warm-up (6 min of 60) leaves
  // the growth figures to leaks alone.
  if (const int ttl = int_flag(argc, argv, "--event-ttl-minutes", 0); ttl > 0)
    o.controller_args = {"--event-ttl", std::to_string(ttl) + "m"};
  o.log = [](const std::string& line) {
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  };
  std::printf("soak: %ld s, %d process agents + %d sim agents, an agent killed every %ld s, "
              "the controller every %ld s, a VMSet write every %ld ms; machine: %u cores\n",
              static_cast<long>(o.duration.count()), o.real_agents, o.sim_agents,
              static_cast<long>(o.agent_kill_period.count()),
              static_cast<long>(o.controller_restart_period.count()),
              static_cast<long>(o.churn_period.count()), std::thread::hardware_concurrency());
  std::printf("controller flags: %s\n", o.controller_args.empty() ? "(defaults: --event-ttl 1h)"
                                                                   : (o.controller_args[0] + " " + o.controller_args[1]).c_str());
  print_load("before");
  const corral::testing::SoakReport report = corral::testing::run_soak(o);
  print_load("after");
  std::printf("\n%s", report.format(o.growth_limit_percent).c_str());
  return report.ok() ? 0 : 1;
}
