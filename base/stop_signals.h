// How the daemons stop: SIGTERM and SIGINT are blocked before any thread
// starts, so that every thread inherits the mask and only the main thread,
// waiting in wait(), receives them; SIGPIPE is ignored (a peer that hangs up
// is an error on that socket, not the end of the process). SIGHUP is taken
// the same way: it runs wait()'s `on_hangup` on the main thread (the
// controller reloads its tokens) and never ends the process.
#pragma once

#include <signal.h>

#include <functional>

namespace corral {

class StopSignals {
 public:
  // Call first in main(), before any thread exists.
  StopSignals();
  // Blocks until SIGTERM or SIGINT; returns its name. Each SIGHUP meanwhile
  // runs `on_hangup` (when given) and goes on waiting.
  const char* wait(const std::function<void()>& on_hangup = {});

 private:
  sigset_t set_;
};

}  // namespace corral
