// RetryBackoff: per-key exponential back-off for writes that keep failing, as
// controller-runtime's rate-limited work queue (its per-item exponential
// failure rate limiter): a key's n-th consecutive failure makes it wait
// base_delay × 2^(n−1), at most max_delay; a success forgets the key. Keys are
// independent. Time is passed in (steady time), so tests use fixed instants.
//
// Which failures are worth a log line is decided here too, so that a write
// that fails for hours does not log ten warnings a second: the 1st failure of
// a key, any failure whose error text differs from the previous one, and the
// 2nd, 4th, 8th, 16th, … consecutive failure (one line per doubling of the
// failure count: logarithmically fewer as it keeps failing).
//
// Thread safety: none; one owner (a loop's thread).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>

namespace corral::loops {

class RetryBackoff {
 public:
  using SteadyTime = std::chrono::steady_clock::time_point;
  using Duration = std::chrono::steady_clock::duration;

  struct Options {
    // The wait after a key's first failure: 5 ms, as controller-runtime. Below
    // every loop's period (100 ms and up), so a write that failed once — a
    // store hiccup — is simply tried again in the next pass.
    std::chrono::milliseconds base_delay{5};
    // The longest wait: 30 s, from the 14th consecutive failure on (about
    // 40 s after the first). controller-runtime's 1000 s suits a work queue whose
    // items also come back on every change; here a write that failed because
    // the store was briefly unavailable should land within 30 s of it
    // recovering, while one that keeps failing costs one attempt per 30 s
    // instead of one per pass (ten a second at a 100 ms period).
    std::chrono::milliseconds max_delay{30'000};
  };

  // What a failure did to its key.
  struct Failure {
    int failures = 0;  // consecutive failures of the key, this one included
    Duration delay{};  // the wait before the key is due again
    SteadyTime due{};  // when it is due again: the failure's time + delay
    bool log = false;  // worth a log line (see the file comment)
  };

  RetryBackoff() : RetryBackoff(Options{}) {}
  explicit RetryBackoff(Options options);

  // True when `key` may be tried at `now`: it never failed, was forgotten, or
  // its wait is over.
  bool due(const std::string& key, SteadyTime now) const;
  // When `key` is due again; nullopt when it is not backing off.
  std::optional<SteadyTime> due_at(const std::string& key) const;
  // The earliest due time of any key; nullopt when none is backing off.
  std::optional<SteadyTime> next_due() const;
  // Consecutive failures of `key` so far (0 when none).
  int failures(const std::string& key) const;

  // Records a failure of `key` at `now` with the store's error text.
  Failure failed(const std::string& key, const std::string& error, SteadyTime now);
  // Forgets `key` (a success, or its write is no longer wanted); returns the
  // consecutive failures it had, 0 when none.
  int succeeded(const std::string& key);
  // Forgets every key for which `keep` returns false.
  void retain(const std::function<bool(const std::string& key)>& keep);
  size_t size() const { return keys_.size(); }

  // base_delay × 2^(failures − 1), at most max_delay.
  Duration delay_for(int failures) const;

 private:
  struct Key {
    int failures = 0;
    SteadyTime due{};
    std::string error;  // the last failure's text
  };
  Options options_;
  std::map<std::string, Key> keys_;
};

}  // namespace corral::loops
