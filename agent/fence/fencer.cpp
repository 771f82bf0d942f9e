#include "agent/fence/fencer.h"

#include <vector>

#include "base/log.h"

namespace corral::agent {

namespace {

std::string delay_text(std::chrono::steady_clock::duration d) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace

Fencer::Fencer(Driver& driver, const Clock& clock, FenceLease* lease)
    : driver_(driver), clock_(clock), lease_(lease) {}

bool Fencer::renew(SteadyTime sent, std::chrono::milliseconds grace) {
  bool lifted;
  {
    std::lock_guard lock(mu_);
    if (sent_ && sent < *sent_) return false;  // an older beat's answer: no news
    sent_ = sent;
    grace_ = grace;
    lifted = fenced_;
    fenced_ = false;
    reason_.clear();
  }
  if (lease_) lease_->renew(sent + grace);
  wake();
  return lifted;
}

void Fencer::set_guarded(std::set<std::string> names) {
  {
    std::lock_guard lock(mu_);
    if (names == guarded_) return;
    guarded_ = std::move(names);
  }
  wake();
}

std::optional<Fencer::SteadyTime> Fencer::deadline() const {
  std::lock_guard lock(mu_);
  if (fenced_ || !sent_ || guarded_.empty()) return std::nullopt;
  return *sent_ + grace_;
}

bool Fencer::fenced() const {
  std::lock_guard lock(mu_);
  return fenced_;
}

std::string Fencer::reason() const {
  std::lock_guard lock(mu_);
  return reason_;
}

bool Fencer::while_lease_holds(SteadyTime now, const std::function<void()>& start) {
  std::lock_guard fence(fence_mu_);
  {
    std::lock_guard lock(mu_);
    if (fenced_ || !sent_ || now >= *sent_ + grace_) return false;
  }
  start();
  return true;
}

int Fencer::fence_if_due(SteadyTime now) {
  std::lock_guard fence(fence_mu_);
  std::set<std::string> guarded;
  std::string why;
  {
    std::lock_guard lock(mu_);
    if (fenced_ || !sent_ || guarded_.empty() || now < *sent_ + grace_) return 0;
    fenced_ = true;
    reason_ = "lease not renewed for " + delay_text(now - *sent_) + " (grace " +
              delay_text(grace_) + ")";
    why = reason_;
    guarded = guarded_;
  }
  std::vector<std::string> running;
  for (const InstanceStatus& i : driver_.list())
    if (guarded.count(i.name) && i.state == InstanceState::kRunning) running.push_back(i.name);
  for (const std::string& name : running)
    logger("agent")->warn("vm/{}: self-fencing ({}): stopping it", name, why);
  // One budget for all of them: the controller waits one, whatever the count.
  if (auto r = driver_.stop_all(running); !r)
    logger("agent")->error("self-fencing: stop: {}", r.error().message);
  for (const std::string& name : guarded) {
    if (auto r = driver_.destroy(name); !r)
      logger("agent")->error("vm/{}: destroy: {}; retried by the sync loop", name,
                             r.error().message);
  }
  logger("agent")->warn(
      "{}: self-fenced, {} selfFence VM(s) stopped in one budget; fencing none VMs keep running",
      why, running.size());
  return static_cast<int>(running.size());
}

void Fencer::wake() {
  {
    std::lock_guard lock(wake_mu_);
    ++generation_;
  }
  changed_.notify_all();
}

void Fencer::run(std::stop_token stop) {
  while (!stop.stop_requested()) {
    uint64_t seen;
    {
      std::lock_guard lock(wake_mu_);
      seen = generation_;
    }
    fence_if_due(clock_.steady_now());
    auto next = deadline();
    // Woken by a renewal or a change of the guarded set; otherwise at the
    // deadline, or after a second to look again.
    auto wait = std::chrono::steady_clock::duration(std::chrono::seconds(1));
    if (next) wait = std::min(wait, std::max(*next - clock_.steady_now(), wait.zero()));
    std::unique_lock lock(wake_mu_);
    changed_.wait_for(lock, stop, wait, [&] { return generation_ != seen; });
  }
}

}  // namespace corral::agent
