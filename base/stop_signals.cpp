#include "base/stop_signals.h"

#include <pthread.h>

#include <csignal>

namespace corral {

StopSignals::StopSignals() {
  sigemptyset(&set_);
  sigaddset(&set_, SIGTERM);
  sigaddset(&set_, SIGINT);
  sigaddset(&set_, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

const char* StopSignals::wait(const std::function<void()>& on_hangup) {
  for (;;) {
    int sig = 0;
    sigwait(&set_, &sig);
    if (sig != SIGHUP) return sig == SIGTERM ? "SIGTERM" : "SIGINT";
    if (on_hangup) on_hangup();
  }
}

}  // namespace corral
