#include <gtest/gtest.h>

#include <fstream>

#include "agent/metrics/ewma.h"
#include "agent/metrics/metrics_source.h"
#include "tests/support/temp_dir.h"

namespace corral::agent {
namespace agent_metrics_test {

using std::chrono::milliseconds;
using std::chrono::seconds;

// A /proc-like tree in a temp dir.
class FakeProc {
 public:
  void write(const std::string& rel, const std::string& text) {
    auto path = dir_.path() / "proc" / rel;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << text;
  }
  MetricsSource source() const { return MetricsSource(dir_.path()); }
  std::string path(const std::string& rel) const { return (dir_.path() / "proc" / rel).string(); }

 private:
  corral::testing::TempDir dir_;
};

constexpr const char* kMeminfo =
    "MemTotal:       16000000 kB\n"
    "MemFree:         1000000 kB\n"
    "MemAvailable:    4000000 kB\n"
    "Buffers:          100000 kB\n";

std::string stat_text(uint64_t user, uint64_t system, uint64_t idle, int cores) {
  std::string text = "cpu  " + std::to_string(user) + " 0 " + std::to_string(system) + " " +
                     std::to_string(idle) + " 0 0 0 0 0 0\n";
  for (int i = 0; i < cores; ++i) text += "cpu" + std::to_string(i) + " 1 0 1 1 0 0 0 0 0 0\n";
  return text + "intr 12345\nctxt 999\n";
}

// /proc/PID/stat with a command name holding spaces and a ')' to trip naive parsers.
std::string pid_stat(uint64_t utime, uint64_t stime, uint64_t start_time) {
  std::string text = "42 (my (weird) vm) S 1 42 42 0 -1 4194560 100 0 0 0 ";
  text += std::to_string(utime) + " " + std::to_string(stime) + " 0 0 20 0 1 0 ";
  text += std::to_string(start_time) + " 1000000 250 18446744073709551615\n";
  return text;
}

TEST(MetricsSource, HostCpuInUseFromStatDeltas) {
  FakeProc proc;
  proc.write("stat", stat_text(100, 100, 800, 4));
  auto before = proc.source().host_cpu();
  ASSERT_TRUE(before.ok()) << before.error().message;
  // 300 of the next 400 ticks busy: 75 % of 4 cores = 3 cores.
  proc.write("stat", stat_text(300, 200, 900, 4));
  auto after = proc.source().host_cpu();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(host_cpu_milli(*before, *after, 4000), 3000);
  EXPECT_EQ(host_cpu_milli(*after, *after, 4000), 0) << "no ticks passed";
  EXPECT_EQ(host_cpu_milli(*after, *before, 4000), 0) << "counters went backwards";
}

TEST(MetricsSource, HostMemoryUsedIsTotalLessAvailable) {
  FakeProc proc;
  proc.write("meminfo", kMeminfo);
  auto mem = proc.source().host_memory();
  ASSERT_TRUE(mem.ok()) << mem.error().message;
  EXPECT_EQ(mem->total_bytes, int64_t{16000000} * 1024);
  EXPECT_EQ(mem->available_bytes, int64_t{4000000} * 1024);
  EXPECT_EQ(mem->used_bytes, int64_t{12000000} * 1024);
}

TEST(MetricsSource, CapacityCountsCpuLines) {
  FakeProc proc;
  proc.write("stat", stat_text(1, 1, 1, 6));
  proc.write("meminfo", kMeminfo);
  auto cap = proc.source().host_capacity();
  ASSERT_TRUE(cap.ok()) << cap.error().message;
  EXPECT_EQ(cap->cpu_milli, 6000);
  EXPECT_EQ(cap->memory_bytes, int64_t{16000000} * 1024);
}

TEST(MetricsSource, CapacityFallsBackToCpuinfo) {
  FakeProc proc;
  proc.write("stat", stat_text(1, 1, 1, 0));
  proc.write("cpuinfo", "processor\t: 0\nmodel name\t: x\n\nprocessor\t: 1\nmodel name\t: x\n");
  proc.write("meminfo", kMeminfo);
  auto cap = proc.source().host_capacity();
  ASSERT_TRUE(cap.ok()) << cap.error().message;
  EXPECT_EQ(cap->cpu_milli, 2000);
}

TEST(MetricsSource, ProcessCpuAndStartTime) {
  FakeProc proc;
  proc.write("42/stat", pid_stat(150, 50, 777));
  auto s = proc.source().process(42);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->cpu_ticks, 200u);
  EXPECT_EQ(s->start_time, 777u);
  EXPECT_EQ(s->state, 'S');
  // 100 ticks at 100 Hz over 2 s: half a core.
  EXPECT_EQ(process_cpu_milli(200, 300, seconds(2), 100), 500);
  EXPECT_EQ(process_cpu_milli(200, 300, seconds(0), 100), 0);
}

TEST(MetricsSource, ProcessRss) {
  FakeProc proc;
  proc.write("42/status", "Name:\tvm\nVmPeak:\t  9000 kB\nVmRSS:\t    2048 kB\nThreads:\t1\n");
  auto rss = proc.source().process_rss_bytes(42);
  ASSERT_TRUE(rss.ok()) << rss.error().message;
  EXPECT_EQ(*rss, 2048 * 1024);
  proc.write("43/status", "Name:\tkthread\nState:\tS\n");
  auto none = proc.source().process_rss_bytes(43);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, 0) << "no VmRSS line (kernel thread) reads as 0";
}

TEST(MetricsSource, MissingFileIsAnErrorNamingIt) {
  FakeProc proc;
  auto cpu = proc.source().host_cpu();
  ASSERT_FALSE(cpu.ok());
  EXPECT_NE(cpu.error().message.find(proc.path("stat")), std::string::npos) << cpu.error().message;
  auto p = proc.source().process(99);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find(proc.path("99/stat")), std::string::npos);
}

TEST(MetricsSource, MalformedFilesAreErrorsNotCrashes) {
  FakeProc proc;
  proc.write("stat", "cpu  12 x 3 4\n");
  auto cpu = proc.source().host_cpu();
  ASSERT_FALSE(cpu.ok());
  EXPECT_NE(cpu.error().message.find("not a number"), std::string::npos) << cpu.error().message;

  proc.write("meminfo", "MemTotal: lots kB\nMemAvailable: 1 kB\n");
  auto mem = proc.source().host_memory();
  ASSERT_FALSE(mem.ok());
  EXPECT_NE(mem.error().message.find("meminfo"), std::string::npos);
  EXPECT_NE(mem.error().message.find("MemTotal"), std::string::npos) << mem.error().message;

  proc.write("meminfo", "MemTotal: 100 kB\n");
  auto no_avail = proc.source().host_memory();
  ASSERT_FALSE(no_avail.ok());
  EXPECT_NE(no_avail.error().message.find("no MemAvailable"), std::string::npos);

  proc.write("7/stat", "7 (truncated) S 1 7");
  auto truncated = proc.source().process(7);
  ASSERT_FALSE(truncated.ok());
  EXPECT_NE(truncated.error().message.find("fields"), std::string::npos)
      << truncated.error().message;

  proc.write("8/stat", "garbage without parens");
  EXPECT_FALSE(proc.source().process(8).ok());
  proc.write("9/stat", "");
  EXPECT_FALSE(proc.source().process(9).ok());
}

TEST(MetricsSource, ReadsTheRealProc) {
  MetricsSource real("/");
  auto cap = real.host_capacity();
  ASSERT_TRUE(cap.ok()) << cap.error().message;
  EXPECT_GE(cap->cpu_milli, 1000);
  EXPECT_GT(cap->memory_bytes, 0);
  auto self = real.process(getpid());
  ASSERT_TRUE(self.ok()) << self.error().message;
  EXPECT_GT(self->start_time, 0u);
}

TEST(Ewma, FirstSampleIsTakenAsIs) {
  Ewma e;
  EXPECT_FALSE(e.has_value());
  EXPECT_EQ(e.value(), 0.0);
  e.add(10, std::chrono::steady_clock::time_point{} + seconds(1));
  EXPECT_EQ(e.value(), 10.0);
}

TEST(Ewma, SampleOneIntervalLaterWeighsAlpha) {
  Ewma e(Ewma::Options{.alpha = 0.5, .interval = milliseconds(1000)});
  auto t = std::chrono::steady_clock::time_point{};
  e.add(0, t);
  e.add(100, t + seconds(1));
  EXPECT_DOUBLE_EQ(e.value(), 50.0);
  e.add(100, t + seconds(2));
  EXPECT_DOUBLE_EQ(e.value(), 75.0);
}

TEST(Ewma, LongGapWeighsNewSampleMore) {
  Ewma::Options opts{.alpha = 0.5, .interval = milliseconds(1000)};
  auto t = std::chrono::steady_clock::time_point{};
  Ewma e(opts);
  e.add(0, t);
  e.add(100, t + seconds(2));  // two intervals: weight 1 − 0.5² = 0.75
  EXPECT_DOUBLE_EQ(e.value(), 75.0);
}

TEST(Ewma, IgnoresSamplesNotLaterThanTheLast) {
  Ewma e;
  auto t = std::chrono::steady_clock::time_point{} + seconds(5);
  e.add(10, t);
  e.add(1000, t);
  e.add(1000, t - seconds(1));
  EXPECT_EQ(e.value(), 10.0);
}

}  // namespace agent_metrics_test
}  // namespace corral::agent
