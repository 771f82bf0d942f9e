#include "agent/metrics/metrics_source.h"

#include <charconv>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "api/quantity.h"

namespace corral::agent {

namespace {

// /proc/stat "cpu" line: user nice system idle iowait irq softirq steal [guest guest_nice].
// guest time is already counted in user, so only the first eight are summed.
constexpr size_t kCpuFieldsSummed = 8;
constexpr size_t kCpuMinFields = 4;  // user nice system idle: what every kernel writes
constexpr size_t kIdleIndex = 3;
constexpr size_t kIowaitIndex = 4;
// /proc/PID/stat fields after "pid (comm)", numbered as in proc(5): field N is at
// index N − 3 once the first two fields are cut off.
constexpr size_t kStatFieldOffset = 3;
constexpr size_t kUtimeField = 14;
constexpr size_t kStimeField = 15;
constexpr size_t kStartTimeField = 22;

Error file_error(const std::filesystem::path& file, const std::string& what) {
  return make_error(ErrorCode::kUnavailable, file.string() + ": " + what);
}

Result<std::string> read_file(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return file_error(file, "cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return file_error(file, "read failed");
  return ss.str();
}

bool parse_u64(std::string_view text, uint64_t* out) {
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

std::vector<std::string_view> split_ws(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// Reads "Key:   123 kB" from a meminfo/status-style file. Returns false when the
// key is absent; an error when it is present but malformed.
Result<bool> find_kib(const std::filesystem::path& file, std::string_view text,
                      std::string_view key, int64_t* bytes) {
  for (std::string_view line : lines_of(text)) {
    if (line.size() <= key.size() || line.substr(0, key.size()) != key || line[key.size()] != ':')
      continue;
    auto fields = split_ws(line.substr(key.size() + 1));
    uint64_t kib = 0;
    if (fields.empty() || !parse_u64(fields[0], &kib) || (fields.size() > 1 && fields[1] != "kB"))
      return file_error(file,
                        "malformed " + std::string(key) + " line: \"" + std::string(line) + "\"");
    *bytes = static_cast<int64_t>(kib) * kBytesPerKiB;
    return true;
  }
  return false;
}

}  // namespace

MetricsSource::MetricsSource(std::filesystem::path root) : root_(std::move(root)) {}

std::filesystem::path MetricsSource::proc_file(const std::string& rel) const {
  return root_ / "proc" / rel;
}

Result<HostCpuSample> MetricsSource::host_cpu() const {
  auto file = proc_file("stat");
  auto text = read_file(file);
  if (!text) return text.take_error();
  for (std::string_view line : lines_of(*text)) {
    auto fields = split_ws(line);
    if (fields.empty() || fields[0] != "cpu") continue;
    if (fields.size() - 1 < kCpuMinFields)
      return file_error(file, "\"cpu\" line has fewer than 4 numbers");
    HostCpuSample s;
    uint64_t idle = 0;
    for (size_t i = 0; i < kCpuFieldsSummed && i + 1 < fields.size(); ++i) {
      uint64_t v = 0;
      if (!parse_u64(fields[i + 1], &v))
        return file_error(file, "\"cpu\" line field " + std::to_string(i + 1) +
                                    " is not a number: \"" + std::string(fields[i + 1]) + "\"");
      s.total_ticks += v;
      if (i == kIdleIndex || i == kIowaitIndex) idle += v;
    }
    s.busy_ticks = s.total_ticks - idle;
    return s;
  }
  return file_error(file, "no \"cpu\" line");
}

Result<HostMemory> MetricsSource::host_memory() const {
  auto file = proc_file("meminfo");
  auto text = read_file(file);
  if (!text) return text.take_error();
  HostMemory m;
  auto total = find_kib(file, *text, "MemTotal", &m.total_bytes);
  if (!total) return total.take_error();
  if (!*total) return file_error(file, "no MemTotal line");
  auto avail = find_kib(file, *text, "MemAvailable", &m.available_bytes);
  if (!avail) return avail.take_error();
  if (!*avail) return file_error(file, "no MemAvailable line");
  if (m.available_bytes > m.total_bytes)
    return file_error(file, "MemAvailable is larger than MemTotal");
  m.used_bytes = m.total_bytes - m.available_bytes;
  return m;
}

Result<HostCapacity> MetricsSource::host_capacity() const {
  HostCapacity cap;
  auto stat_file = proc_file("stat");
  auto stat = read_file(stat_file);
  if (!stat) return stat.take_error();
  int64_t cores = 0;
  for (std::string_view line : lines_of(*stat)) {
    // "cpu0 ...", "cpu1 ...": one per online core; "cpu " is the aggregate.
    if (line.size() > 3 && line.substr(0, 3) == "cpu" && line[3] >= '0' && line[3] <= '9') ++cores;
  }
  if (cores == 0) {
    auto info_file = proc_file("cpuinfo");
    auto info = read_file(info_file);
    if (!info) return file_error(stat_file, "no cpuN lines, and " + info.error().message);
    for (std::string_view line : lines_of(*info)) {
      auto fields = split_ws(line);
      if (!fields.empty() && fields[0] == "processor") ++cores;
    }
    if (cores == 0) return file_error(info_file, "no \"processor\" lines");
  }
  cap.cpu_milli = cores * kMilliPerUnit;
  auto mem = host_memory();
  if (!mem) return mem.take_error();
  cap.memory_bytes = mem->total_bytes;
  return cap;
}

Result<ProcessSample> MetricsSource::process(int pid) const {
  auto file = proc_file(std::to_string(pid) + "/stat");
  auto text = read_file(file);
  if (!text) return text.take_error();
  // comm (field 2) is in parentheses and may itself hold spaces or ')': the
  // fields that follow start after the last ')'.
  size_t close = text->rfind(')');
  if (close == std::string::npos) return file_error(file, "no \")\" closing the command name");
  auto fields = split_ws(std::string_view(*text).substr(close + 1));
  if (!fields.empty() && fields.back().ends_with('\n')) fields.back().remove_suffix(1);
  if (fields.size() < kStartTimeField - kStatFieldOffset + 1)
    return file_error(file, "has " + std::to_string(fields.size() + 2) + " fields, want at least " +
                                std::to_string(kStartTimeField));
  ProcessSample s;
  if (fields[0].size() != 1) return file_error(file, "malformed state field");
  s.state = fields[0][0];
  uint64_t utime = 0, stime = 0;
  auto field = [&](size_t n) { return fields[n - kStatFieldOffset]; };
  if (!parse_u64(field(kUtimeField), &utime) || !parse_u64(field(kStimeField), &stime) ||
      !parse_u64(field(kStartTimeField), &s.start_time))
    return file_error(file, "utime, stime or starttime is not a number");
  s.cpu_ticks = utime + stime;
  return s;
}

Result<int64_t> MetricsSource::process_rss_bytes(int pid) const {
  auto file = proc_file(std::to_string(pid) + "/status");
  auto text = read_file(file);
  if (!text) return text.take_error();
  int64_t bytes = 0;
  auto found = find_kib(file, *text, "VmRSS", &bytes);
  if (!found) return found.take_error();
  return bytes;
}

int64_t host_cpu_milli(const HostCpuSample& before, const HostCpuSample& after,
                       int64_t capacity_cpu_milli) {
  // A counter that went backwards (a fixture swapped, a wrapped counter) is
  // treated as "no information", not as negative use.
  if (after.total_ticks <= before.total_ticks || after.busy_ticks < before.busy_ticks) return 0;
  double busy = static_cast<double>(after.busy_ticks - before.busy_ticks);
  double total = static_cast<double>(after.total_ticks - before.total_ticks);
  return static_cast<int64_t>(busy / total * static_cast<double>(capacity_cpu_milli) + 0.5);
}

int64_t process_cpu_milli(uint64_t ticks_before, uint64_t ticks_after,
                          std::chrono::nanoseconds elapsed, int64_t ticks_per_second) {
  if (elapsed.count() <= 0 || ticks_per_second <= 0 || ticks_after < ticks_before) return 0;
  double cpu_seconds =
      static_cast<double>(ticks_after - ticks_before) / static_cast<double>(ticks_per_second);
  double wall_seconds = std::chrono::duration<double>(elapsed).count();
  return static_cast<int64_t>(cpu_seconds / wall_seconds * kMilliPerUnit + 0.5);
}

}  // namespace corral::agent
