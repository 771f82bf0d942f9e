#include "base/stop_signals.h"

#include <pthread.h>

#include <csignal>

namespace corral {

StopSignals::StopSignals() {
  sigemptyset(&set_);
  sigaddset(&set_, SIGTERM);
  sigaddset(&set_, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

const char* StopSignals::wait() {
  int sig = 0;
  sigwait(&set_, &sig);
  return sig == SIGTERM ? "SIGTERM" : "SIGINT";
}

}  // namespace corral
